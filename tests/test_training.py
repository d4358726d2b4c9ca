"""A training job end to end: metrics, the MLflow run, the logged model on raw rows."""

from __future__ import annotations

import os
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from dl_core import tracking
from dl_core.config import config_from_dict
from dl_core.data.loading import read_csv
from dl_core.data.preprocessing import split_rows
from dl_core.data.storage import store_dataset
from dl_core.errors import DataError, TrackingError, TrainingError
from dl_core.training import JobSpec, TrainConfig, run_training

FAST = {"epochs": "4", "batch_size": "32", "patience": "0"}


def spec_for(df: pd.DataFrame, target: str, task: str, **kw) -> JobSpec:
    return JobSpec(dataset_path=str(store_dataset(df)), dataset_name="tiny", target=target,
                   task=task, train_config={**FAST, **kw.pop("train", {})}, **kw)


def test_binary_run_is_recorded_and_its_model_predicts_raw_rows(tiny_binary):
    events = []
    result = run_training(spec_for(tiny_binary, "label", "binary", train={"epochs": "15"}),
                          report=events.append)
    assert result.status == "FINISHED"
    assert set(result.metrics) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert result.metrics["roc_auc"] > 0.8  # a learnable target, so the model must learn it
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 16))
    # The ETA runs at the pace of the epochs after the first (which traces and compiles).
    pace = (epochs[2]["elapsed_s"] - epochs[0]["elapsed_s"]) / 2
    assert epochs[2]["eta_s"] == pytest.approx(pace * 12)
    assert epochs[-1]["eta_s"] == 0

    run = tracking.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["arch"] == "fnn" and run.data.params["hidden_units"] == "32"
    assert run.data.tags["task"] == "binary" and run.data.tags["rows"] == "200"
    assert len(run.data.tags["dataset_hash"]) == 16
    assert run.data.metrics["test_accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert len(tracking.metric_history(result.run_id, ["loss"])["loss"]) == 15
    files = {f.path for f in tracking.client().list_artifacts(result.run_id, "plots")}
    assert {"plots/confusion_matrix.png", "plots/roc_curve.png"} <= files
    assert tracking.load_json(result.run_id, "evaluation/report.json")["task"] == "binary"

    model = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model")
    raw = tiny_binary.drop(columns=["label"]).head(10)
    pred = model.predict(raw)
    assert list(pred.columns) == ["prediction", "proba_no", "proba_yes"]
    assert set(pred["prediction"]) <= {"no", "yes"}
    assert ((pred["proba_no"] + pred["proba_yes"] - 1).abs() < 1e-5).all()


def test_regression_run_reports_regression_metrics(tiny_regression):
    result = run_training(spec_for(tiny_regression, "y", "regression", train={"epochs": "30"}))
    assert set(result.metrics) == {"mse", "rmse", "mae", "r2"}
    assert result.metrics["r2"] > 0.5
    pred = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(
        tiny_regression.drop(columns=["y"]).head(5))
    assert list(pred.columns) == ["prediction"]


def test_same_seed_gives_same_metrics(tiny_binary):
    a = run_training(spec_for(tiny_binary, "label", "binary"))
    b = run_training(spec_for(tiny_binary, "label", "binary"))
    assert a.metrics == b.metrics
    assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-6)


def test_stop_records_killed_run_with_model(tiny_binary):
    stop = threading.Event()

    def report(event):
        if event["type"] == "epoch" and event["epoch"] == 2:
            stop.set()

    events = []
    result = run_training(spec_for(tiny_binary, "label", "binary", train={"epochs": "50"}),
                          report=lambda e: (events.append(e), report(e)), stop=stop)
    # Stop came after epoch 2: epoch 3 ended after its first batch, and is not shown as an
    # epoch (one batch's average made the curves plunge).
    assert result.status == "KILLED" and result.epochs_run == 2
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2]
    assert len(result.history["loss"]) == 2
    assert len(tracking.metric_history(result.run_id, ["loss"])["loss"]) == 2
    assert tracking.get_run(result.run_id).info.status == "KILLED"
    assert "accuracy" in result.metrics
    assert mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model") is not None


def test_failure_marks_run_failed_with_the_error(tiny_binary, monkeypatch):
    from dl_core.evaluation import reports as evaluation

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(evaluation, "classification_report_data", broken)
    with pytest.raises(TrainingError, match="disk full"):
        run_training(spec_for(tiny_binary, "label", "binary", train={"epochs": "1"}))
    failed = tracking.search_run_records(filter_string="attributes.status = 'FAILED'")
    run = next(r for r in failed if "disk full" in r.get(f"tags.{tracking.TAG_ERROR}", ""))
    # The error in full, with where it happened, as an artifact of the run.
    text = tracking.artifact_bytes(run["run_id"], tracking.ERROR_FILE).decode()
    assert text.startswith("RuntimeError: disk full\n")
    assert "Traceback (most recent call last)" in text and "in broken" in text


def test_a_diverging_loss_stops_at_once_and_fails_with_advice(tiny_regression):
    events = []
    spec = spec_for(tiny_regression, "y", "regression",
                    train={"epochs": "20", "optimizer": "sgd", "learning_rate": "1.0"})
    with pytest.raises(TrainingError, match=r"loss became (nan|inf) in epoch 2 .*Lower the "
                                            r"learning rate \(it was 1; try 0\.1\)"):
        run_training(spec, report=events.append)
    # TerminateOnNaN stopped the fit in the epoch it diverged, not 18 epochs later.
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2]
    run_id = next(e["run_id"] for e in events if e["type"] == "started")
    run = tracking.get_run(run_id)
    assert run.info.status == "FAILED"
    assert "Lower the learning rate" in run.data.tags[tracking.TAG_ERROR]
    assert len(tracking.metric_history(run_id, ["loss"])["loss"]) >= 1  # the epochs before it


def test_a_diverged_gan_is_told_which_loss_and_both_learning_rates():
    """The generator networks fail through the same check, naming their own losses and rates
    (their optimizer is always Adam: no advice to switch to it)."""
    from dl_core.generation.neural import check_finite_losses
    from dl_core.models.dcgan import DCGANConfig

    history = {"generator": [1.5, 2.5, float("nan")], "critic": [0.5, float("inf"), 1.0]}
    cfg = DCGANConfig(generator_lr=0.5, critic_lr=1.0)
    with pytest.raises(TrainingError, match=(
            r"^The critic loss became inf in epoch 2 \(it was 0\.5 after epoch 1\), so training "
            r"was stopped: the weights diverged\. Lower the learning rates \(they were "
            r"generator_lr = 0\.5, critic_lr = 1; try generator_lr = 0\.05, critic_lr = 0\.1\) "
            r"and train again\.$")):
        check_finite_losses(history, ("generator", "critic"), cfg)
    check_finite_losses({"generator": [1.0], "critic": [2.0]}, ("generator", "critic"), cfg)


def test_bad_target_is_a_data_error_and_records_nothing(tiny_binary):
    before = len(tracking.search_run_records())
    df = tiny_binary.assign(label="same")
    with pytest.raises(DataError, match="single class"):
        run_training(spec_for(df, "label", "binary"))
    assert len(tracking.search_run_records()) == before


def test_a_thousands_separated_column_is_learned_not_dropped():
    # The only signal sits in a quoted "57,689.59"-style column; read as text it was an "ID".
    rng = np.random.default_rng(0)
    amount = rng.uniform(1_000, 100_000, 300)
    rows = [f'"{a:,.2f}",{rng.normal():.4f},{"high" if a > 50_000 else "low"}' for a in amount]
    df = read_csv(("amount,noise,level\n" + "\n".join(rows) + "\n").encode())
    result = run_training(spec_for(df, "level", "binary", train={"epochs": "40"}))
    assert result.metrics["accuracy"] > 0.9
    features = tracking.load_json(result.run_id, "data/features.json")["feature_columns"]
    assert features == ["amount", "noise"]


def test_regression_curves_are_in_the_data_units_of_the_test_errors(tiny_regression):
    df = tiny_regression.assign(y=tiny_regression["y"] * 1000 + 5000)  # units far from scaled
    result = run_training(spec_for(df, "y", "regression", train={"epochs": "5"}))
    _, val, _ = split_rows(df, "y", "regression", test_size=0.2, val_size=0.1, seed=42)
    pred = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(
        val.drop(columns=["y"]))["prediction"].to_numpy()
    error = val["y"].to_numpy() - pred
    logged = tracking.metric_history(result.run_id, ["val_mae", "val_rmse"])
    for curve in (result.history, logged):
        assert curve["val_mae"][-1] == pytest.approx(np.abs(error).mean(), rel=1e-4)
        assert curve["val_rmse"][-1] == pytest.approx(np.sqrt((error**2).mean()), rel=1e-4)
    assert tracking.load_json(result.run_id, "evaluation/history.json") == result.history


def test_split_by_time_is_logged_and_read_back_for_a_rerun(weather_log):
    result = run_training(spec_for(weather_log, "weather", "multiclass",
                                   train={"epochs": "2", "split": "time"}))
    params = tracking.get_run(result.run_id).data.params
    assert (params["split"], params["split_used"], params["split_column"]) == (
        "time", "time", "date")
    assert config_from_dict(TrainConfig, params, strict=False).split == "time"  # as Re-run does
    split = tracking.load_json(result.run_id, "data/features.json")["split"]
    assert split["test"] == ["2012-08-28", "2012-10-26"] and split["n_test"] == 60


@contextmanager
def read_only(folder: Path):
    """``folder`` cannot be written in, by root too (root ignores permission bits: the
    immutable attribute binds it)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def test_a_read_only_artifact_folder_stops_the_run_before_it_starts(tiny_binary, capsys,
                                                                   tmp_path):
    from urllib.parse import urlparse

    from dl_core import cli

    exp = tracking.experiment_id("read-only")
    folder = Path(urlparse(tracking.client().get_experiment(exp).artifact_location).path)
    folder.mkdir(parents=True, exist_ok=True)
    spec = spec_for(tiny_binary, "label", "binary", experiment="read-only")
    with read_only(folder):
        with pytest.raises(TrackingError, match=r"Cannot start the run: the MLflow store at .* is "
                                                r"read-only \(.*\)\. Make mlruns/ writable"):
            run_training(spec)
        # The CLI says the same in one line, without a traceback.
        tiny_binary.to_csv(tmp_path / "tiny.csv", index=False)
        code = cli.main(["train", str(tmp_path / "tiny.csv"), "--target", "label",
                         "--experiment", "read-only", "--epochs", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: Cannot start the run: the MLflow store at ")
    assert f"{folder})" in err and "Traceback" not in err
    # No half-written run: nothing was recorded.
    assert tracking.search_run_records([exp]) == []


def test_a_full_disk_mid_run_fails_the_run_with_a_clear_message(tiny_binary, monkeypatch):
    import errno

    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/mlruns/model.keras")

    # The disk fills up after the fit, as the model is written.
    monkeypatch.setattr(LocalArtifactRepository, "log_artifacts", full)
    events = []
    with pytest.raises(TrackingError, match=r"there is no space left on the disk of the MLflow "
                                            r"store .*Free some space"):
        run_training(spec_for(tiny_binary, "label", "binary", train={"epochs": "2"}),
                     report=events.append)
    run = tracking.get_run(next(e["run_id"] for e in events if e["type"] == "started"))
    assert run.info.status == "FAILED"
    assert "no space left" in run.data.tags[tracking.TAG_ERROR]
