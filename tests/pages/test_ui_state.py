"""The app's state across pages (issue 7, C9-C11), driven with AppTest against real runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.pages.apptest import load_sample, open_app
from tests.pages.test_runs_pages import runs_page, select_rows
from ui import state


@pytest.fixture(scope="module")
def series_run() -> dict:
    """A tiny logged forecasting run whose dataset is in the app's store."""
    from dl_core.data.storage import store_dataset
    from dl_core.jobspec import build_job_spec
    from dl_core.training import run_training

    rng = np.random.default_rng(4)
    n = 160
    df = pd.DataFrame({
        "day": pd.date_range("2023-01-01", periods=n).strftime("%Y-%m-%d"),
        "demand": np.round(30 + 8 * np.sin(np.arange(n) / 3.5) + rng.normal(size=n), 3),
        "note": [f"n{i}" for i in range(n)],
    })
    spec = build_job_spec(
        dataset_path=str(store_dataset(df)), dataset_name="demand", target="demand",
        task=None, arch="lstm", data_kind="timeseries", experiment="ui-state-series",
        options={"time_column": "day", "lookback": 12, "horizon": 2, "season_length": 7},
        model_config={"units": (4,), "dense_units": ()},
        train_config={"epochs": 1, "patience": 0},
    )
    result = run_training(spec)
    assert result.status == "FINISHED"
    return {"run_id": result.run_id, "data": df}


def test_rerun_of_a_logged_series_restores_its_kind_and_options(series_run):
    at = runs_page("ui-state-series")  # a fresh session: nothing chosen yet
    assert at.session_state[state.DATA_KIND] is None
    name = at.dataframe(key="runs_table").value["run"].iloc[0]
    select_rows(at, [name])
    at.button(key="rerun").click().run()
    assert not at.exception
    assert at.title[0].value.endswith("Model")
    assert at.session_state[state.DATA_KIND] == "timeseries"
    assert at.session_state[state.DATA_OPTIONS] == {
        "time_column": "day", "lookback": 12, "horizon": 2, "season_length": 7}
    assert at.session_state[state.ARCH] == "lstm"
    assert at.session_state[state.MODEL_CONFIG]["units"] == (4,)

    # The Data page shows the run's choices, and the job it describes is the run's.
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    assert at.selectbox(key="kind_choice").value == "timeseries"
    assert at.selectbox(key="target_choice").value == "demand"
    assert at.selectbox(key="time_column").value == "day"
    assert (at.number_input(key="lookback").value, at.number_input(key="horizon").value,
            at.number_input(key="season_length").value) == (12, 2, 7)
    assert any("windows of 12 × 1" in s.value and "2 step(s) ahead" in s.value
               for s in at.success)


def test_forecast_predictions_come_first_and_keep_every_input(series_run):
    run_id, df = series_run["run_id"], series_run["data"]
    at = open_app("app_pages/predict.py")
    at.selectbox(key="predict_run").select(run_id).run()
    history = df.tail(40).sample(frac=1.0, random_state=0)  # rows in any order
    at.file_uploader(key="predict_upload").set_value(
        ("history.csv", history.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    preview = at.dataframe[-1].value
    assert list(preview.columns) == ["step_1", "step_2", "day", "demand", "note"]
    # Every input row keeps its values, in the order given; the 11 rows with less than a
    # lookback of history before them have no forecast.
    for column in ("day", "demand", "note"):
        assert preview[column].tolist() == history[column].tolist()
    assert int(preview["step_1"].isna().sum()) == 11


def test_learning_rate_moves_on_a_log_scale():
    at = open_app("app_pages/data.py")
    load_sample(at, "wine")
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    rate = at.select_slider(key="train.learning_rate")
    assert rate.value == 0.001
    i = rate.options.index("0.001")
    assert rate.options[i - 1: i + 2] == ["0.0005", "0.001", "0.002"]
    assert {"1e-05", "0.1", "1"} <= set(rate.options)
    rate.set_value(0.0002).run()
    assert not at.exception
    assert at.session_state[state.TRAIN_CONFIG]["learning_rate"] == 0.0002
    l2 = at.select_slider(key="model.fnn.l2")  # also a log field, with 0 (none) allowed
    assert l2.value == 0.0001 and l2.options[:2] == ["0", "1e-06"]


def test_pickers_and_the_delete_confirmation_show_name_and_short_id(series_run):
    run_id = series_run["run_id"]
    at = open_app("app_pages/predict.py")
    labels = at.selectbox(key="predict_run").options
    assert any(label.startswith(f"lstm-demand-1 ({run_id[:8]}) · demand") for label in labels)

    at = runs_page("ui-state-series")
    select_rows(at, ["lstm-demand-1"])
    at.button(key="delete_run").click().run()
    assert any(f"lstm-demand-1** (`{run_id[:8]}`)" in w.value for w in at.warning)
    at.button(key="delete_no").click().run()
    assert not at.exception
