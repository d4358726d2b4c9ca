"""Choices read validation data; the test split is reported, never optimised (issue 7, A2).

Best trials, best runs, the Runs page's star, ``predict best:EXP`` and the decision threshold
are chosen on validation figures; what decides the fit (class weights) reads training rows only.
"""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from dl_core import cli, compare, thresholds, tracking
from dl_core.data.storage import store_dataset
from dl_core.errors import ConfigError
from dl_core.sweeps import SweepSpec, run_sweep, trial_params
from dl_core.training import (JobSpec, TrainingResult, resolve_class_weight, run_training,
                              suggest_train_config)


def _base(df: pd.DataFrame, experiment: str, **train) -> JobSpec:
    return JobSpec(dataset_path=str(store_dataset(df)), dataset_name=experiment, target="label",
                   task="binary", model_config={"hidden_units": (8,)}, experiment=experiment,
                   train_config={"epochs": 3, "patience": 0, "learning_rate": 0.03, **train})


# -- sweeps ---------------------------------------------------------------------------------------
def test_a_sweep_on_a_test_metric_is_refused(tiny_binary, csv_path, capsys):
    spec = SweepSpec(base=_base(tiny_binary, "refused"), space={"learning_rate": [0.01]},
                     metric="test_accuracy")
    with pytest.raises(ConfigError, match=r"test split.*never used to choose.*val_accuracy"):
        trial_params(spec)
    code = cli.main(["sweep", str(csv_path(tiny_binary)), "--target", "label",
                     "--grid", "learning_rate=0.01", "--metric", "test_accuracy"])
    err = capsys.readouterr().err
    assert code == 2 and "test split" in err and "best_val_loss or val_accuracy" in err


def test_sweep_best_trial_is_the_best_on_validation_not_on_test(tiny_binary, monkeypatch):
    """Trial 1 is best on validation, trial 2 on test (and in its last epoch's val_accuracy,
    which early stopping discarded): the sweep must pick trial 1 and report its test figure."""
    import dl_core.training

    figures = {0.01: {"val": 0.9, "last_epoch_val": 0.5, "test": 0.6},
               0.02: {"val": 0.7, "last_epoch_val": 0.8, "test": 0.95}}

    def fake_training(spec, report=None, stop=None):
        f = figures[float(spec.train_config["learning_rate"])]
        run_id = tracking.start_run(spec.experiment, run_name=spec.run_name, params={},
                                    tags={}, parent_run_id=spec.parent_run_id)
        tracking.end_run(run_id, "FINISHED")
        return TrainingResult(run_id, "FINISHED", "binary", {"accuracy": f["test"]},
                              {"val_loss": [0.5], "val_accuracy": [f["last_epoch_val"]]}, 1,
                              val_metrics={"accuracy": f["val"]})

    monkeypatch.setattr(dl_core.training, "run_training", fake_training)
    result = run_sweep(SweepSpec(base=_base(tiny_binary, "sweep-val"),
                                 space={"learning_rate": [0.01, 0.02]}, metric="val_accuracy"))
    assert result.best["trial"] == 1 and result.best["value"] == 0.9
    assert result.best_test == {"accuracy": 0.6}
    parent = tracking.get_run(result.run_id).data.metrics
    assert parent["best_val_accuracy"] == 0.9
    assert parent["best_trial_test_accuracy"] == 0.6  # reported only
    assert not any(k.startswith("best_test") for k in parent)


# -- best run of an experiment ----------------------------------------------------------------------
def _logged_run(experiment: str, name: str, metrics: dict[str, float]) -> str:
    run_id = tracking.start_run(experiment, run_name=name, params={},
                                tags={tracking.TAG_KIND: "training"})
    tracking.log_metrics(run_id, metrics)
    tracking.end_run(run_id, "FINISHED")
    return run_id


def test_best_run_is_picked_on_validation(capsys):
    on_val = _logged_run("pick-val", "good-on-val",
                         {"val_accuracy": 0.9, "best_val_loss": 0.2, "test_accuracy": 0.6})
    on_test = _logged_run("pick-val", "good-on-test",
                          {"val_accuracy": 0.7, "best_val_loss": 0.4, "test_accuracy": 0.95})
    assert compare.find_best_run("pick-val", "val_accuracy") == on_val
    assert compare.find_best_run("pick-val") == on_val  # best_val_loss by default
    with pytest.raises(ConfigError, match="test split"):
        compare.find_best_run("pick-val", "test_accuracy")
    df = compare.runs_frame(tracking.search_run_records())
    df = df[df["experiment"] == "pick-val"]
    # The Runs page's star and the Predict page's picker offer validation metrics only.
    assert compare.selection_metrics(df) == ["best_val_loss", "val_accuracy"]
    assert compare.best_run_id(df, "val_accuracy") == on_val
    with pytest.raises(ConfigError, match="test split"):
        compare.best_run_id(df, "test_accuracy")
    code = cli.main(["predict", "best:pick-val", "nowhere.csv", "--metric", "test_accuracy"])
    assert code == 2 and "test split" in capsys.readouterr().err
    assert on_test != on_val


# -- the decision threshold ---------------------------------------------------------------------
@pytest.fixture
def binary_run(tiny_binary) -> TrainingResult:
    return run_training(_base(tiny_binary, "threshold"))


def test_training_logs_validation_figures_of_the_kept_model(binary_run):
    run = tracking.get_run(binary_run.run_id)
    val = tracking.load_json(binary_run.run_id, thresholds.VAL_PREDICTIONS)
    expected = thresholds.metrics_at(val, 0.5)
    assert len(val["y_true"]) == 20  # the validation rows (10% of 200)
    for name in ("accuracy", "f1", "roc_auc"):
        assert run.data.metrics[f"val_{name}"] == pytest.approx(expected[name])
        assert binary_run.val_metrics[name] == pytest.approx(expected[name])
    # The per-epoch validation curve keeps one value per epoch.
    curve = tracking.metric_history(binary_run.run_id, ["val_accuracy"])["val_accuracy"]
    assert curve == pytest.approx(binary_run.history["val_accuracy"])


def test_saved_threshold_is_used_by_the_predictor_the_pyfunc_and_the_cli(
        binary_run, tiny_binary, csv_path, tmp_path, capsys):
    run_id = binary_run.run_id
    rows = tiny_binary.drop(columns=["label"])
    before = tracking.load_model(f"runs:/{run_id}/model").predict(rows)
    assert (before["prediction"] == np.where(before["proba_yes"] >= 0.5, "yes", "no")).all()
    # A threshold that flips some rows: the median probability, on the slider's grid.
    t = float(np.round(np.median(before["proba_yes"]), 2))
    assert ((before["proba_yes"] >= t) != (before["proba_yes"] >= 0.5)).any()

    saved = thresholds.save_threshold(run_id, t)
    expected = np.where(before["proba_yes"] >= t, "yes", "no")
    pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    assert (pyfunc.predict(rows)["prediction"].to_numpy() == expected).all()
    overridden = pyfunc.predict(rows, params={"threshold": 0.5})["prediction"].to_numpy()
    assert (overridden == before["prediction"].to_numpy()).all()
    predictor = tracking.load_predictor(run_id)
    assert predictor.threshold == t
    assert (predictor.predict(rows)["prediction"].to_numpy() == expected).all()
    out = tmp_path / "p.csv"
    assert cli.main(["predict", run_id, str(csv_path(rows, "rows.csv")), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["threshold"] == t
    assert (pd.read_csv(out)["prediction"].to_numpy() == expected).all()

    # The test split is reported once, at the saved threshold.
    test = tracking.load_json(run_id, thresholds.TEST_PREDICTIONS)
    at_t = thresholds.metrics_at(test, t)
    report = tracking.load_json(run_id, "evaluation/report.json")
    assert report["threshold"] == t and report["metrics"]["recall"] == pytest.approx(at_t["recall"])
    run = tracking.get_run(run_id)
    assert run.data.metrics["test_recall"] == pytest.approx(at_t["recall"])
    assert run.data.tags[tracking.TAG_THRESHOLD] == str(t)
    assert saved["val"]["recall"] == pytest.approx(
        thresholds.metrics_at(tracking.load_json(run_id, thresholds.VAL_PREDICTIONS), t)["recall"])


def test_threshold_pickers_read_the_given_rows():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.25, 0.62, 0.35, 0.65, 0.8, 0.9])
    # F1 peaks (8/9) for thresholds 0.26..0.35; ties go to the one nearest 0.5.
    assert thresholds.max_f1_threshold(y, p) == pytest.approx(0.35)
    # Precision 1 first holds above 0.62: the best recall there is 3/4.
    assert thresholds.min_precision_threshold(y, p, 1.0) == pytest.approx(0.63)
    with pytest.raises(ConfigError, match="No threshold reaches a precision"):
        thresholds.min_precision_threshold(np.array([0, 1]), np.array([0.9, 0.1]), 1.0)
    with pytest.raises(ConfigError, match="between 0 and 1"):
        thresholds.save_threshold("any", 1.5)


# -- what decides the fit reads training rows ----------------------------------------------------
@pytest.mark.parametrize(("n_major", "n_minor", "applied"), [
    (30, 8, "balanced"),  # 3.75x on the whole table, 21/5 = 4.2x on the training rows
    (28, 7, "none"),      # 4.0x on the whole table, 19/5 = 3.8x on the training rows
])
def test_class_weights_are_decided_on_training_rows(n_major, n_minor, applied):
    rng = np.random.default_rng(0)
    n = n_major + n_minor
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                       "label": ["no"] * n_major + ["yes"] * n_minor})
    train = suggest_train_config(len(df), "binary")
    assert "class_weight" not in train  # nothing measured on the whole table
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="imbalance",
                   target="label", task="binary", model_config={"hidden_units": (4,)},
                   train_config={**train, "epochs": 1, "patience": 0})
    result = run_training(spec)
    assert tracking.get_run(result.run_id).data.params["class_weight_applied"] == applied


def test_auto_class_weight_resolution():
    y = np.array([0] * 20 + [1] * 5)
    assert resolve_class_weight("auto", "binary", y, 2) == {0: 25 / 40, 1: 25 / 10}  # 4x
    assert resolve_class_weight("auto", "binary", y[:-1], 2) is not None  # 5x
    assert resolve_class_weight("auto", "binary", np.array([0] * 20 + [1] * 6), 2) is None
    assert resolve_class_weight("none", "binary", y, 2) is None
    assert resolve_class_weight("balanced", "binary", np.array([0, 1]), 2) == {0: 1.0, 1: 1.0}


def test_regression_runs_log_validation_figures_in_the_data_units(tiny_regression):
    spec = JobSpec(dataset_path=str(store_dataset(tiny_regression)), dataset_name="val-reg",
                   target="y", task="regression", model_config={"hidden_units": (8,)},
                   train_config={"epochs": 3, "patience": 0, "learning_rate": 0.03})
    result = run_training(spec)
    metrics = tracking.get_run(result.run_id).data.metrics
    # No early stopping: the kept model is the last epoch's, whose Keras validation RMSE (in the
    # data's units) the end-of-training figure must match.
    assert metrics["val_rmse"] == pytest.approx(result.history["val_rmse"][-1], rel=1e-4)
    assert metrics["val_rmse"] == pytest.approx(result.val_metrics["rmse"])
    assert set(result.val_metrics) == {"mse", "rmse", "mae", "r2"}
