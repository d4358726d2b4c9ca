"""Session-state keys and defaults, in one place so pages agree on names."""

from __future__ import annotations

from typing import Any

import streamlit as st

DATASET = "dataset"          # ui.data.LoadedDataset of the current session
TARGET = "target"
TASK = "task"
EXCLUDE = "exclude"
ARCH = "arch"
MODEL_CONFIG = "model_config"  # dict of the chosen architecture's config fields
TRAIN_CONFIG = "train_config"  # dict of TrainConfig fields
DATA_KIND = "data_kind"      # tabular | image | sequence | timeseries (None = not chosen yet)
DATA_OPTIONS = "data_options"  # kind-specific JobSpec fields: image_shape, time_column, ...
JOB_ID = "job_id"            # the latest job this session submitted
RUN_ID = "run_id"            # the run the Evaluate page shows
SWEEP_JOB_ID = "sweep_job_id"  # the latest sweep this session started
RUNS_SWEEP = "runs_sweep"    # the sweep (parent run id) the Runs page focuses on

_DEFAULTS: dict[str, Any] = {
    DATASET: None, TARGET: None, TASK: None, EXCLUDE: [], ARCH: "fnn",
    MODEL_CONFIG: {}, TRAIN_CONFIG: {}, JOB_ID: None, RUN_ID: None, SWEEP_JOB_ID: None,
    DATA_KIND: None, DATA_OPTIONS: {},
}


def init_defaults() -> None:
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, (list, dict)) else value


def get(key: str) -> Any:
    return st.session_state.get(key, _DEFAULTS.get(key))


def put(key: str, value: Any) -> None:
    st.session_state[key] = value
