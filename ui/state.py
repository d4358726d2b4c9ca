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
RUNS_SWEEP = "runs_sweep"    # the sweep (parent run id) the Runs page focuses on (its widget)
RUNS_FOCUS_SWEEP = "runs_focus_sweep"  # a sweep another page asks the Runs page to select
GEN_TARGET = "gen_target"    # a generator's target: None = the Data page's, "" = none
GEN_TRAIN_CONFIG = "gen_train_config"  # dict of GenerativeTrainConfig fields
GEN_RUN = "gen_run"          # the Generate page's generator picker (its widget)
GEN_RUN_OFFERED = "gen_run_offered"  # the job whose finished generator was put in that picker

#: ``persist_state`` of a widget whose choice should outlive the page: Streamlit drops a widget's
#: value as soon as a run does not draw it (another page, a hidden branch), and the filters,
#: sort and requests came back at their defaults.
KEEP = "session"

_DEFAULTS: dict[str, Any] = {
    DATASET: None, TARGET: None, TASK: None, EXCLUDE: [], ARCH: "fnn",
    MODEL_CONFIG: {}, TRAIN_CONFIG: {}, JOB_ID: None, RUN_ID: None, SWEEP_JOB_ID: None,
    DATA_KIND: None, DATA_OPTIONS: {}, GEN_TARGET: None, GEN_TRAIN_CONFIG: {},
}


def init_defaults() -> None:
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, (list, dict)) else value


def get(key: str) -> Any:
    return st.session_state.get(key, _DEFAULTS.get(key))


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def set_dataset(name: str, path: str, rows: int, cols: int) -> None:
    """Make a saved table the session's dataset; each call is a new load (a fresh token), so
    the data-dependent widgets take the new data's values (see :func:`seed_widget`)."""
    import uuid

    put(DATASET, {"name": name, "path": path, "rows": rows, "cols": cols,
                  "token": uuid.uuid4().hex[:12]})


def seed_widget(key: str, value: Any) -> None:
    """Give the widget ``key`` the value ``value`` when it has none or the data was loaded anew
    since it was given one; otherwise leave the user's choice alone.

    Popping a widget's key is not enough: its browser side keeps (and shows, and sends back)
    the old file's value under the same key. A value set through session state reaches the
    browser. Call it just before drawing the widget, and draw it without a default of its own.
    """
    ds = get(DATASET)
    token = ds.get("token") if ds else None
    seeded = st.session_state.setdefault("_seeded_for", {})
    if key not in st.session_state or seeded.get(key) != token:
        st.session_state[key] = value
        seeded[key] = token
