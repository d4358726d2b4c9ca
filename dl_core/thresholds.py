"""A binary classifier's decision threshold: picked on the validation split, saved with the run.

Training logs the validation predictions (``evaluation/val_predictions.json``) beside the test
ones and saves the model with the threshold 0.5, the cut its cross-entropy loss is calibrated
for. The Evaluate page tunes the threshold on the validation predictions only (by hand, "maximise
F1" or "precision at least P"); :func:`save_threshold` then stores it with the run and scores the
test split once at that value. The test split never takes part in the choice.

Where a saved threshold lives (every write goes through the MLflow client, so a remote tracking
server works the same):

* ``meta.json`` inside the logged model: the pyfunc model, the Predict page, the worker and the
  CLI all predict through it, so ``mlflow.pyfunc.load_model("runs:/<id>/model")`` follows it.
* the run tag ``dlx.threshold`` (cheap to read; the server sends it with each prediction so a
  model the worker keeps loaded follows it too) and the metric ``threshold``;
* ``evaluation/report.json`` and the ``test_*`` / ``val_*`` metrics, re-computed at it;
  ``evaluation/threshold.json`` records how it was picked.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from dl_core.errors import ConfigError

VAL_PREDICTIONS = "evaluation/val_predictions.json"
TEST_PREDICTIONS = "evaluation/predictions.json"
RECORD = "evaluation/threshold.json"
#: The thresholds the pickers try (the Evaluate slider's steps).
GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
RULES = ("manual", "max_f1", "min_precision")


def _scores(y_true: Sequence[int], proba: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(proba, dtype=np.float64)
    p = p[:, 1] if p.ndim == 2 else p.reshape(-1)
    if y.shape != p.shape or y.size == 0:
        raise ConfigError(f"Validation labels and probabilities differ in size: {y.shape} vs "
                          f"{p.shape}.")
    return y, p


def _counts(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """True and false positives at every grid threshold (positive when ``p >= t``)."""
    predicted = p[None, :] >= GRID[:, None]
    tp = (predicted & (y[None, :] == 1)).sum(axis=1)
    fp = (predicted & (y[None, :] == 0)).sum(axis=1)
    return tp, fp, int((y == 1).sum())


def _closest_to_half(candidates: np.ndarray) -> float:
    return float(GRID[candidates][np.argmin(np.abs(GRID[candidates] - 0.5))])


def max_f1_threshold(y_true: Sequence[int], proba: Any) -> float:
    """The grid threshold with the highest F1 of the positive class on these (validation) rows.

    Ties go to the threshold closest to 0.5.
    """
    y, p = _scores(y_true, proba)
    tp, fp, pos = _counts(y, p)
    f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + (pos - tp), 1), 0.0)
    return _closest_to_half(np.flatnonzero(np.isclose(f1, f1.max())))


def min_precision_threshold(y_true: Sequence[int], proba: Any, precision: float) -> float:
    """The grid threshold with the highest recall among those whose precision (on these
    validation rows) is at least ``precision``.

    Raises:
        ConfigError: if ``precision`` is not in (0, 1] or no threshold reaches it.
    """
    if not 0 < precision <= 1:
        raise ConfigError(f"The precision to reach must be in (0, 1]; got {precision}.")
    y, p = _scores(y_true, proba)
    tp, fp, pos = _counts(y, p)
    prec = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
    ok = np.flatnonzero((prec >= precision) & (tp > 0))
    if ok.size == 0:
        raise ConfigError(
            f"No threshold reaches a precision of {precision:.2f} on the validation split "
            f"(the best is {prec.max():.2f}); ask for less."
        )
    recall = tp[ok] / max(pos, 1)
    return _closest_to_half(ok[np.isclose(recall, recall.max())])


def metrics_at(predictions: dict[str, Any], threshold: float) -> dict[str, float | None]:
    """Classification metrics of logged predictions (``{classes, y_true, proba}``) at a
    threshold."""
    from dl_core.evaluation.metrics import classification_metrics

    return classification_metrics(predictions["y_true"], predictions["proba"],
                                             predictions["classes"], threshold)


def _check(threshold: float) -> float:
    t = float(threshold)
    if not 0 < t < 1:
        raise ConfigError(f"A decision threshold is between 0 and 1 (exclusive); got {threshold}.")
    return round(t, 6)


def save_threshold(run_id: str, threshold: float, rule: str = "manual",
                   detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Store a binary run's decision threshold (picked on validation) and report the test split
    at it, once.

    Args:
        run_id: A FINISHED or KILLED binary training run with logged validation predictions.
        threshold: The threshold, in (0, 1).
        rule: How it was picked: ``manual``, ``max_f1`` or ``min_precision``.
        detail: Extra facts about the pick (e.g. ``{"min_precision": 0.9}``).

    Returns:
        ``{"threshold", "rule", "val": metrics, "test": metrics}``.

    Raises:
        ConfigError: for a threshold outside (0, 1), an unknown rule or a run that is not a
            binary classifier with validation predictions.
        TrackingError: if the run or its model cannot be read.
    """
    from dl_core import tracking
    from dl_core.evaluation.reports import classification_report_data, report_metrics

    t = _check(threshold)
    if rule not in RULES:
        raise ConfigError(f"Unknown threshold rule {rule!r}; expected one of {list(RULES)}.")
    val = tracking.load_json(run_id, VAL_PREDICTIONS)
    test = tracking.load_json(run_id, TEST_PREDICTIONS)
    if not val or not test or len(val.get("classes", [])) != 2:
        raise ConfigError(
            f"Run {run_id[:8]} has no validation predictions of a binary classifier (only binary "
            "runs trained by this version log them); its threshold stays 0.5."
        )
    tracking.update_model_meta(run_id, {"threshold": t})
    report = classification_report_data(test["y_true"], test["proba"], test["classes"], t)
    test_metrics = report_metrics(report)
    val_metrics = {k: v for k, v in metrics_at(val, t).items() if v is not None}
    tracking.log_dict(run_id, report, "evaluation/report.json")
    tracking.log_metrics(run_id, {"threshold": t, **{f"test_{k}": v for k, v in
                                                     test_metrics.items()}})
    # The validation figures at the new threshold become the latest values: logged at the last
    # step (as training logged its end-of-training ones), later in time; the curves keep each
    # step's first value (tracking.metric_history).
    history = tracking.client().get_metric_history(run_id, "val_accuracy")
    step = max((m.step for m in history), default=0)
    tracking.log_metrics(run_id, {f"val_{k}": v for k, v in val_metrics.items()}, step=step)
    record = {"threshold": t, "rule": rule, "chosen_on": "validation", **(detail or {}),
              "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "val_metrics": val_metrics, "test_metrics": test_metrics}
    tracking.log_dict(run_id, record, RECORD)
    tracking.set_tags(run_id, {tracking.TAG_THRESHOLD: t})
    return {"threshold": t, "rule": rule, "val": val_metrics, "test": test_metrics}
