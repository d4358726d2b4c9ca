"""One job-spec builder for the CLI, the Model page, sweeps and re-runs (issue 7, C10)."""

from __future__ import annotations

import pytest

from dl_core.errors import ConfigError
from dl_core.jobspec import build_job_spec, job_spec_from_params, kind_options

BASE = {"dataset_path": "d.parquet", "dataset_name": "d", "target": "y", "arch": "fnn"}
ALL_OPTIONS = {"image_shape": [8, 8, 1], "time_column": "t", "lookback": "12", "horizon": 3,
               "season_length": None, "sequence_id": "sid", "step_column": "k"}


@pytest.mark.parametrize(("kind", "expected"), [
    ("tabular", {}),
    ("image", {"image_shape": (8, 8, 1)}),
    ("timeseries", {"time_column": "t", "lookback": 12, "horizon": 3, "season_length": 0}),
    ("sequence", {"sequence_id": "sid", "step_column": "k"}),
])
def test_each_kind_keeps_its_own_options_and_reads_back_from_logged_params(kind, expected):
    # A session that switched kinds holds every kind's options: each spec takes its own.
    spec = build_job_spec(**BASE, task="binary", data_kind=kind, options=ALL_OPTIONS)
    assert spec.data_kind == kind and kind_options(spec) == expected
    assert spec.task == ("regression" if kind == "timeseries" else "binary")
    # What a run logs (strings) gives the same job back: a re-run keeps the kind and options.
    params = {"arch": "fnn", "task": spec.task, "target": "y", "exclude": "a,b",
              **spec.data_params(), "learning_rate": "0.003"}
    again = job_spec_from_params(params, dataset_path="d.parquet", dataset_name="d")
    assert again.data_kind == kind and kind_options(again) == kind_options(spec)
    assert again.exclude == ("a", "b") and again.train_config["learning_rate"] == 0.003


def test_bad_options_are_explained():
    with pytest.raises(ConfigError, match=r"Unknown data option\(s\) \['window'\]"):
        build_job_spec(**BASE, task="binary", options={"window": 3})
    with pytest.raises(ConfigError, match="lookback expects a whole number; got 'many'"):
        build_job_spec(**BASE, task=None, data_kind="timeseries",
                       options={"time_column": "t", "lookback": "many"})
    with pytest.raises(ConfigError, match="Image shape must be HxW or HxWxC"):
        build_job_spec(**BASE, task="multiclass", data_kind="image", options={"image_shape": "8"})
