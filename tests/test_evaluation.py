"""Tests of dl_core.evaluation: metrics vs scikit-learn, JSON reports, figures and PNGs."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from sklearn import metrics as skm

from dl_core import evaluation as ev


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def binary_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p1 = np.clip(0.35 * y + 0.65 * rng.random(300), 0.0, 1.0)
    return y, np.column_stack([1.0 - p1, p1])


@pytest.fixture
def multiclass_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), y] += 1.5
    return y, _softmax(logits)


@pytest.fixture
def regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    y = rng.normal(size=200)
    return y, y + rng.normal(scale=0.3, size=200)


def _roundtrip(report: dict) -> dict:
    return json.loads(json.dumps(report, allow_nan=False))


def _trace_lengths(fig: go.Figure) -> list[int]:
    return [len(t.x) if t.x is not None else len(t.z) for t in fig.data]


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


def test_predict_labels_binary_threshold_and_multiclass_argmax():
    proba = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    assert ev.predict_labels(proba).tolist() == [0, 0, 1]
    assert ev.predict_labels(proba, threshold=0.3).tolist() == [0, 1, 1]
    assert ev.predict_labels(np.array([0.2, 0.5]), threshold=0.5).tolist() == [0, 1]  # sigmoid
    multi = np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    assert ev.predict_labels(multi, threshold=0.9).tolist() == [2, 0]


def test_perfect_classifier_scores_one():
    y = np.array([0, 1, 1, 0, 1])
    proba = np.eye(2)[y] * 0.98 + 0.01
    m = ev.classification_metrics(y, proba, ["no", "yes"])
    for key in ("accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc"):
        assert m[key] == 1.0
    assert m["log_loss"] == pytest.approx(-np.log(0.99))
    assert all(type(v) is float for v in m.values())


def test_known_confusion_matrix_and_binary_metrics():
    # TN=2, FP=1, FN=1, TP=3 at threshold 0.5.
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    p1 = np.array([0.1, 0.2, 0.6, 0.4, 0.7, 0.8, 0.9])
    report = ev.classification_report_data(y, np.column_stack([1 - p1, p1]), ["neg", "pos"])
    assert report["confusion_matrix"] == [[2, 1], [1, 3]]
    m = report["metrics"]
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p1))
    assert report["per_class"][1] == {
        "class": "pos", "precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 4,
    }


def test_binary_metrics_agree_with_sklearn(binary_data):
    y, proba = binary_data
    pred = (proba[:, 1] >= 0.5).astype(int)
    m = ev.classification_metrics(y, proba, ["a", "b"])
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_threshold_changes_binary_predictions_and_metrics(binary_data):
    y, proba = binary_data
    low = ev.classification_metrics(y, proba, ["a", "b"], threshold=0.2)
    high = ev.classification_metrics(y, proba, ["a", "b"], threshold=0.8)
    assert low["recall"] > high["recall"]
    assert low["precision"] < high["precision"]
    # Ranking metrics do not depend on the threshold.
    assert low["roc_auc"] == high["roc_auc"] and low["log_loss"] == high["log_loss"]
    report = ev.classification_report_data(y, proba, ["a", "b"], threshold=0.8)
    assert report["threshold"] == 0.8
    assert report["metrics"] == high


def test_multiclass_macro_agrees_with_sklearn(multiclass_data):
    y, proba = multiclass_data
    pred = proba.argmax(axis=1)
    m = ev.classification_metrics(y, proba, ["x", "y", "z"])
    assert m["precision"] == m["precision_macro"]
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_roc_auc_none_with_one_class_in_y_true():
    y = np.zeros(4, dtype=int)
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.7, 0.3]])
    report = ev.classification_report_data(y, proba, ["no", "yes"])
    assert report["metrics"]["roc_auc"] is None
    assert report["roc"] == [] and report["pr"] == []
    assert "roc_auc" not in ev.report_metrics(report)
    assert np.isfinite(report["metrics"]["log_loss"])
    # The figures explain instead of failing.
    assert ev.roc_figure(report).layout.annotations
    assert ev.pr_figure(_roundtrip(report)).layout.annotations


def test_multiclass_with_missing_class_still_reports(multiclass_data):
    y, proba = multiclass_data
    keep = y != 2
    report = ev.classification_report_data(y[keep], proba[keep], ["x", "y", "z"])
    assert [c["label"] for c in report["roc"]] == ["x", "y"]
    assert report["per_class"][2]["support"] == 0
    assert report["metrics"]["roc_auc"] is not None


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="3 columns but 2 classes"):
        ev.classification_metrics([0, 1], np.full((2, 3), 1 / 3), ["a", "b"])
    with pytest.raises(ValueError, match="outside 0..1"):
        ev.classification_metrics([0, 2], np.full((2, 2), 0.5), ["a", "b"])
    with pytest.raises(ValueError, match="class indices"):
        ev.classification_metrics(["a", "b"], np.full((2, 2), 0.5), ["a", "b"])
    with pytest.raises(ValueError, match="3 values but y_pred has 2"):
        ev.regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0])


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    perfect = ev.regression_metrics(y, y.reshape(-1, 1))
    assert perfect == {"mse": 0.0, "rmse": 0.0, "mae": 0.0, "r2": 1.0}
    m = ev.regression_metrics(y, y + np.array([1.0, -1.0, 1.0, -1.0]))
    assert m["mse"] == 1.0 and m["rmse"] == 1.0 and m["mae"] == 1.0
    assert m["r2"] == pytest.approx(skm.r2_score(y, y + np.array([1.0, -1.0, 1.0, -1.0])))


# ---------------------------------------------------------------------------------------------
# Reports and figures
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["binary", "multiclass"])
def test_classification_report_roundtrips_to_same_figures(which, binary_data, multiclass_data):
    y, proba = binary_data if which == "binary" else multiclass_data
    classes = [f"c{i}" for i in range(proba.shape[1])]
    report = ev.classification_report_data(y, proba, classes)
    stored = _roundtrip(report)
    assert stored == report
    assert report["task"] == which
    assert len(report["roc"]) == (1 if which == "binary" else 3)
    for build in (ev.roc_figure, ev.pr_figure):
        assert _trace_lengths(build(stored)) == _trace_lengths(build(report))
    roc = ev.roc_figure(stored)
    assert len(roc.data) == len(report["roc"]) + 1  # plus the chance diagonal
    assert "AUC = " in roc.data[0].name
    pr = ev.pr_figure(stored)
    assert "AP = " in pr.data[0].name
    # Binary adds the prevalence baseline.
    assert len(pr.data) == len(report["pr"]) + (which == "binary")
    cm = ev.confusion_matrix_figure(stored["confusion_matrix"], stored["classes"])
    assert np.asarray(cm.data[0].z).sum() == len(y)


def test_normalised_confusion_rows_sum_to_one():
    cm = [[5, 5, 0], [0, 0, 0], [1, 2, 7]]
    fig = ev.confusion_matrix_figure(cm, ["a", "b", "c"], normalize=True)
    z = np.asarray(fig.data[0].z)
    assert z[0].sum() == pytest.approx(1.0) and z[2].sum() == pytest.approx(1.0)
    assert z[1].sum() == 0.0  # no samples of class b: zeros, not NaN
    assert fig.data[0].text[0][0] == "50.0%"
    assert fig.layout.yaxis.autorange == "reversed"
    assert list(fig.data[0].y) == ["a", "b", "c"]
    counts = ev.confusion_matrix_figure(cm, ["a", "b", "c"])
    assert counts.data[0].text[2][2] == "7"
    with pytest.raises(ValueError, match="expected \\(2, 2\\)"):
        ev.confusion_matrix_figure(cm, ["a", "b"])


def test_curves_are_downsampled_for_large_test_sets():
    rng = np.random.default_rng(3)
    n = 20_000
    y = rng.integers(0, 2, n)
    p1 = np.clip(0.2 * y + 0.8 * rng.random(n), 0.0, 1.0)
    report = ev.classification_report_data(y, np.column_stack([1 - p1, p1]), ["a", "b"])
    roc, pr = report["roc"][0], report["pr"][0]
    assert 10 < len(roc["fpr"]) <= ev.MAX_CURVE_POINTS
    assert len(roc["fpr"]) == len(roc["tpr"]) == len(roc["thresholds"])
    assert len(pr["recall"]) <= ev.MAX_CURVE_POINTS
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    # AUC is computed from the full curve, and the thinned curve stays close to it.
    assert roc["auc"] == pytest.approx(skm.roc_auc_score(y, p1))
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(roc["auc"], abs=0.01)
    assert len(json.dumps(report)) < 30_000


def test_regression_report_subsamples_and_roundtrips(regression_data):
    y, pred = regression_data
    report = ev.regression_report_data(y, pred)
    assert _roundtrip(report) == report
    assert report["task"] == "regression"
    assert report["metrics"] == pytest.approx(ev.regression_metrics(y, pred))
    assert report["residual_summary"]["mean"] == pytest.approx(np.mean(y - pred))
    assert ev.report_metrics(report).keys() == {"mse", "rmse", "mae", "r2"}

    big = np.arange(12_000, dtype=float)
    big_report = ev.regression_report_data(big, big)
    assert len(big_report["y_true"]) == ev.MAX_SCATTER_POINTS
    assert big_report["y_true"] == big_report["y_pred"]
    assert ev.regression_report_data(big, big)["y_true"] == big_report["y_true"]  # seeded


def test_regression_figures(regression_data):
    y, pred = regression_data
    stored = _roundtrip(ev.regression_report_data(y, pred))
    fig = ev.predicted_vs_actual_figure(stored["y_true"], stored["y_pred"])
    assert len(fig.data[0].x) == len(y)
    assert "R² = " in fig.layout.title.text
    perfect = ev.predicted_vs_actual_figure(y, y)
    assert "R² = 1.000" in perfect.layout.title.text
    res = ev.residuals_figure(stored["y_true"], stored["y_pred"])
    assert [t.type for t in res.data] == ["scatter", "histogram"]
    assert np.allclose(res.data[0].y, y - pred)


def test_learning_curves_train_and_val_per_metric():
    history = {
        "accuracy": [0.5, 0.6, 0.7],
        "loss": [1.0, 0.7, 0.5],
        "val_loss": [1.1, 0.8, 0.6],
        "val_accuracy": [0.45, 0.55, 0.65],
    }
    fig = ev.learning_curves_figure(history)
    names = [(t.name, t.line.dash, t.yaxis) for t in fig.data]
    # Loss first (its own subplot), train solid and validation dashed.
    assert names == [
        ("train", "solid", "y"), ("validation", "dash", "y"),
        ("train", "solid", "y2"), ("validation", "dash", "y2"),
    ]
    assert list(fig.data[0].x) == [1, 2, 3]
    assert [a.text for a in fig.layout.annotations] == ["Loss", "Accuracy"]
    # Named once, above each panel: a second name up the right panel's axis sat in the gap
    # between the panels and touched the left one when the chart was narrow.
    assert [fig.layout[ax].title.text for ax in ("yaxis", "yaxis2")] == [None, None]


def test_regression_learning_curves_name_their_units():
    history = {"loss": [1.0, 0.5], "mae": [900.0, 450.0], "rmse": [1200.0, 600.0]}
    titles = [a.text for a in ev.learning_curves_figure(history).layout.annotations]
    assert titles == ["Loss (MSE of the standardised target)", "MAE (data units)",
                      "RMSE (data units)"]


def test_a_second_row_of_curves_leaves_room_for_the_first_rows_axis_title():
    # A VAE's loss, reconstruction and KL: two rows. At 0.15 of the height between them the
    # first row's "Epoch" sat on the "KL" title below it.
    fig = ev.learning_curves_figure({"loss": [3.0, 2.0], "reconstruction": [2.5, 1.8],
                                     "kl": [0.5, 0.2]}, per_row=2)
    top, bottom = fig.layout.yaxis.domain, fig.layout.yaxis3.domain
    margin = fig.layout.margin.t or 100, fig.layout.margin.b or 80  # plotly's defaults
    plot_px = fig.layout.height - sum(margin)
    assert (top[0] - bottom[1]) * plot_px >= 100


def test_learning_curves_fill_their_rows_evenly():
    def grid(history, **kw):  # (rows, columns) of the panels, from their axes' domains
        fig = ev.learning_curves_figure(history, **kw)
        axes = [fig.layout[k] for k in fig.layout if k.startswith("xaxis")]
        return (len({tuple(fig.layout[f"yaxis{a.anchor[1:]}"].domain) for a in axes}),
                len({tuple(a.domain) for a in axes}))

    vae = {"loss": [3.0, 2.0], "reconstruction": [2.5, 1.8], "kl": [0.5, 0.2]}
    # A VAE's three curves across the page in one row: two a row left the second half empty.
    assert grid(vae) == (1, 3)
    assert grid(vae, per_row=2) == (2, 2)  # beside a sample grid
    four = {"loss": [1.0], "accuracy": [0.5], "auc": [0.6], "precision": [0.5]}
    assert grid(four) == (2, 2)  # two rows of two, not three and one


def test_learning_curves_partial_and_empty_history():
    partial = ev.learning_curves_figure({"loss": [0.9, 0.8], "val_loss": [1.0]})
    assert [len(t.x) for t in partial.data] == [2, 1]
    nan_loss = ev.learning_curves_figure({"loss": [0.9, float("nan")]})
    assert nan_loss.data[0].y[1] is None
    empty = ev.learning_curves_figure({})
    assert len(empty.data) == 0 and "No epochs yet" in empty.layout.annotations[0].text
    assert len(ev.learning_curves_figure({"loss": []}).data) == 0


def test_threshold_sweep_matches_metrics(binary_data):
    y, proba = binary_data
    sweep = ev.threshold_sweep(y, proba)
    assert len(sweep["thresholds"]) == 99
    assert sweep["thresholds"][0] == 0.01 and sweep["thresholds"][-1] == 0.99
    i = sweep["thresholds"].index(0.3)
    m = ev.classification_metrics(y, proba, ["a", "b"], threshold=0.3)
    for key in ("precision", "recall", "f1"):
        assert sweep[key][i] == pytest.approx(m[key])
    assert sweep["recall"] == sorted(sweep["recall"], reverse=True)
    json.dumps(sweep)
    fig = ev.threshold_figure(sweep, 0.3)
    assert len(fig.data) == 3 and fig.layout.shapes[0].x0 == 0.3
    with pytest.raises(ValueError, match="binary"):
        ev.threshold_sweep([0, 1, 2], np.full((3, 3), 1 / 3))


def test_report_metrics_rejects_non_reports():
    with pytest.raises(ValueError, match="no 'metrics'"):
        ev.report_metrics({"task": "binary"})


# ---------------------------------------------------------------------------------------------
# PNG images
# ---------------------------------------------------------------------------------------------


def test_save_report_images_classification(tmp_path, multiclass_data):
    y, proba = multiclass_data
    report = _roundtrip(ev.classification_report_data(y, proba, ["x", "y", "z"]))
    paths = ev.save_report_images(report, tmp_path / "images")
    assert [p.name for p in paths] == ["confusion_matrix.png", "roc_curve.png", "pr_curve.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5_000


def test_save_report_images_regression_and_single_class(tmp_path, regression_data):
    y, pred = regression_data
    paths = ev.save_report_images(ev.regression_report_data(y, pred), tmp_path)
    assert [p.name for p in paths] == ["predicted_vs_actual.png", "residuals.png"]
    assert all(p.stat().st_size > 5_000 for p in paths)
    one_class = ev.classification_report_data([0, 0, 0], np.full((3, 2), 0.5), ["a", "b"])
    assert all(p.stat().st_size > 0 for p in ev.save_report_images(one_class, tmp_path / "c"))
    with pytest.raises(ValueError, match="unknown task"):
        ev.save_report_images({"task": "clustering"}, tmp_path)
