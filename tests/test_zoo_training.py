"""Images, time series and sequences trained end to end: same run shape, raw-row predictions."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from dl_core import tracking
from dl_core.data.samples import load_sample
from dl_core.data.storage import store_dataset
from dl_core.errors import ConfigError
from dl_core.training import JobSpec, run_training

FAST = {"epochs": "2", "batch_size": "32", "patience": "0"}


def spec_for(df, target, task, **kw):
    return JobSpec(dataset_path=str(store_dataset(df)), dataset_name="zoo", target=target,
                   task=task, train_config={**FAST, **kw.pop("train", {})}, **kw)


def test_image_run_logs_misclassified_images_and_predicts_pixels():
    df = load_sample("digits").head(400)
    result = run_training(spec_for(df, "label", "multiclass", arch="cnn", data_kind="image",
                                   model_config={"filters": "8", "kernel_sizes": "3",
                                                 "dense_units": "16"}))
    assert result.status == "FINISHED" and "accuracy" in result.metrics
    run = tracking.get_run(result.run_id)
    assert run.data.params["data_kind"] == "image" and run.data.tags["data_kind"] == "image"
    wrong = tracking.load_json(result.run_id, "evaluation/misclassified.json")
    assert wrong["shape"] == [8, 8, 1] and len(wrong["images"]) <= 36
    assert all(len(w["pixels"]) == 64 and w["true"] != w["predicted"] for w in wrong["images"])
    report = tracking.load_json(result.run_id, "evaluation/report.json")
    assert len(report["confusion_matrix"]) == 10
    pred = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(
        df.drop(columns=["label"]).head(4))
    assert list(pred.columns)[:2] == ["prediction", "proba_0"] and len(pred) == 4


def seasonal(n=240, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({
        "t": t, "y": 5 + 2 * np.sin(2 * np.pi * t / 12) + 0.02 * t + rng.normal(0, 0.1, n),
    })


def test_forecast_run_reports_baselines_and_forecasts_after_the_last_row():
    df = seasonal()
    result = run_training(spec_for(df, "y", "regression", arch="lstm", data_kind="timeseries",
                                   time_column="t", lookback=12, horizon=3,
                                   model_config={"units": "8"}))
    assert set(result.metrics) == {"mse", "rmse", "mae", "r2", "mape"}
    assert set(result.baselines) == {"last_value", "seasonal_last_value"}
    run = tracking.get_run(result.run_id)
    assert run.data.params["lookback"] == "12" and run.data.params["season_length"] == "0"
    assert "baseline_last_value_rmse" in run.data.metrics
    report = tracking.load_json(result.run_id, "evaluation/report.json")
    assert report["task"] == "forecast" and report["season_length"] == 12
    assert len(report["series"]["time"]) == len(report["series"]["model_step_1"])
    model = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model")
    history = df.tail(20)
    pred = model.predict(history)
    assert list(pred.columns) == ["t", "step_1", "step_2", "step_3"]
    assert len(pred) == 20 - 12 + 1 and pred.index[-1] == history.index[-1]
    assert pred["t"].iloc[-1] == str(df["t"].iloc[-1])
    with pytest.raises(Exception, match=r"at least 12 rows of history"):
        model.predict(df.tail(5))


@pytest.mark.parametrize("arch", ["gru", "cnn1d"])
def test_wide_sequence_classification(arch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 10))
    df = pd.DataFrame(x, columns=[f"t{i}" for i in range(10)])
    df["label"] = np.where(x[:, :5].sum(axis=1) > 0, "up", "down")
    result = run_training(spec_for(df, "label", "binary", arch=arch, data_kind="sequence"))
    assert "roc_auc" in result.metrics
    pred = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(df.head(3))
    assert list(pred.columns) == ["prediction", "proba_down", "proba_up"]


def test_long_sequence_regression_predicts_one_row_per_sequence():
    rng = np.random.default_rng(1)
    rows = [{"seq": s, "step": k, "v": rng.normal(), "w": rng.normal()} for s in range(80)
            for k in range(6)]
    df = pd.DataFrame(rows)
    df["target"] = df.groupby("seq")["v"].transform("sum")
    result = run_training(spec_for(df, "target", "regression", arch="rnn", data_kind="sequence",
                                   sequence_id="seq", step_column="step"))
    assert "rmse" in result.metrics
    pred = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(
        df[df["seq"].isin([3, 7])].drop(columns=["target"]))
    assert list(pred.index) == [3, 7] and list(pred.columns) == ["prediction"]


def test_architecture_must_fit_the_data_kind(tiny_binary):
    with pytest.raises(ConfigError, match=r"Architecture 'cnn' is for \['image'\] data, not "
                                          r"'tabular'; choose one of \['fnn'\]"):
        run_training(spec_for(tiny_binary, "label", "binary", arch="cnn"))


def test_forecasting_needs_a_time_column():
    with pytest.raises(ConfigError, match="Forecasting needs a time column"):
        JobSpec(dataset_path="x", dataset_name="x", target="y", task="regression",
                data_kind="timeseries")
