"""Metrics of test-split predictions, from :mod:`sklearn.metrics` (no plotting library).

See :mod:`dl_core.evaluation.common` for the conventions on ``y_true``, ``proba`` and
thresholds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from dl_core.evaluation.common import (
    as_class_indices,
    as_proba,
    check_classification,
    check_regression,
    check_threshold,
    float_or_none,
)

# Metric names containing one of these are better when smaller (losses, errors, durations).
_LOWER_IS_BETTER = ("loss", "mae", "mse", "rmse", "error", "mape", "time", "_s")


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better (losses and errors)."""
    name = metric.removeprefix("metrics.").lower()
    return any(part in name for part in _LOWER_IS_BETTER)


def predict_labels(proba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Turns class probabilities into predicted class indices.

    Args:
        proba: ``(n, k)`` class probabilities, columns aligned with the classes. For binary
            tasks ``(n,)`` or ``(n, 1)`` positive-class probabilities are accepted too.
        threshold: Binary only: class 1 is predicted when ``proba[:, 1] >= threshold``.
            Ignored for multiclass (argmax).

    Returns:
        ``(n,)`` int64 array of class indices.

    Raises:
        ValueError: If ``proba`` is not a 2-D probability array or ``threshold`` is outside [0, 1].
    """
    p = as_proba(proba)
    if p.shape[1] == 2:
        return (p[:, 1] >= check_threshold(threshold)).astype(np.int64)
    return p.argmax(axis=1).astype(np.int64)


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC: binary on ``p[:, 1]``; multiclass one-vs-rest macro. None when undefined.

    With a multiclass test split that lacks some class, that class's one-vs-rest AUC is
    undefined; the macro average is taken over the classes where it is defined (it equals
    scikit-learn's ``multi_class="ovr"`` macro whenever every class is present).
    """
    if np.unique(y).size < 2:
        return None
    if p.shape[1] == 2:
        return float_or_none(skm.roc_auc_score(y, p[:, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        per_class = skm.roc_auc_score(
            y, p, multi_class="ovr", average=None, labels=np.arange(p.shape[1])
        )
    per_class = np.asarray(per_class, dtype=np.float64)
    defined = per_class[np.isfinite(per_class)]
    return float_or_none(defined.mean()) if defined.size else None


def classification_metrics(
    y_true: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    threshold: float = 0.5,
) -> dict[str, float | None]:
    """Test-split metrics of a classifier.

    Args:
        y_true: ``(n,)`` class indices ``0..k-1`` (one-hot ``(n, k)`` is accepted too).
        proba: ``(n, k)`` predicted probabilities, columns aligned with ``classes``.
        classes: The ``k`` class names, in column order.
        threshold: Decision threshold on ``proba[:, 1]`` for binary tasks (ignored otherwise).

    Returns:
        ``accuracy``; ``precision``, ``recall``, ``f1`` (binary: of the positive class
        ``classes[1]``; multiclass: macro average); ``precision_macro``, ``recall_macro``,
        ``f1_macro``; ``roc_auc`` (binary: on ``proba[:, 1]``; multiclass: one-vs-rest macro;
        ``None`` when ``y_true`` holds fewer than two classes); ``log_loss``. Plain floats;
        ``zero_division=0`` throughout.

    Raises:
        ValueError: If the shapes of ``y_true``, ``proba`` and ``classes`` do not agree.
    """
    y, p, names = check_classification(y_true, proba, classes)
    y_pred = predict_labels(p, threshold)
    macro = skm.precision_recall_fscore_support(y, y_pred, average="macro", zero_division=0)
    if len(names) == 2:
        main = skm.precision_recall_fscore_support(
            y, y_pred, average="binary", pos_label=1, labels=[0, 1], zero_division=0
        )
    else:
        main = macro
    return {
        "accuracy": float(skm.accuracy_score(y, y_pred)),
        "precision": float(main[0]),
        "recall": float(main[1]),
        "f1": float(main[2]),
        "precision_macro": float(macro[0]),
        "recall_macro": float(macro[1]),
        "f1_macro": float(macro[2]),
        "roc_auc": _roc_auc(y, p),
        "log_loss": float_or_none(skm.log_loss(y, p, labels=np.arange(len(names)))),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Test-split metrics of a regressor.

    Args:
        y_true: ``(n,)`` targets.
        y_pred: ``(n,)`` or ``(n, 1)`` predictions.

    Returns:
        ``mse``, ``rmse``, ``mae`` and ``r2`` as plain floats (``r2`` is NaN for a single sample).

    Raises:
        ValueError: If the lengths differ or the split is empty.
    """
    yt, yp = check_regression(y_true, y_pred)
    mse = float(skm.mean_squared_error(yt, yp))
    with warnings.catch_warnings():
        # R² of a single sample is undefined; sklearn warns and returns NaN, which we keep.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        r2 = float(skm.r2_score(yt, yp)) if yt.size > 1 else float("nan")
    return {
        "mse": mse,
        "rmse": math.sqrt(mse),
        "mae": float(skm.mean_absolute_error(yt, yp)),
        "r2": r2,
    }


def forecast_metrics(y_true: Any, y_pred: Any) -> dict[str, float | None]:
    """MAE, RMSE, MSE, R² and MAPE (in percent; None when an actual value is 0) over every
    window and horizon step; NaN actuals (values never observed) are left out."""
    yt = np.asarray(y_true, dtype=np.float64).reshape(-1)
    yp = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if yt.shape != yp.shape or yt.size == 0:
        raise ValueError(f"y_true and y_pred differ in size or are empty: {yt.shape} vs {yp.shape}")
    observed = ~np.isnan(yt)
    yt, yp = yt[observed], yp[observed]
    if yt.size == 0:
        return {k: None for k in ("mae", "rmse", "mse", "r2", "mape")}
    out = {k: float_or_none(v) for k, v in regression_metrics(yt, yp).items()}
    out["mape"] = (
        float(np.mean(np.abs((yt - yp) / yt)) * 100.0) if np.all(yt != 0) else None
    )
    return out


def threshold_sweep(
    y_true: np.ndarray, proba: np.ndarray, thresholds: Sequence[float] | None = None
) -> dict[str, list[float]]:
    """Precision, recall and F1 of the positive class at many thresholds (binary only).

    Args:
        y_true: ``(n,)`` class indices 0/1.
        proba: ``(n, 2)`` probabilities, or ``(n,)`` / ``(n, 1)`` of the positive class.
        thresholds: Thresholds to evaluate; default ``0.01, 0.02, ..., 0.99``.

    Returns:
        ``{"thresholds", "precision", "recall", "f1"}`` lists of equal length (JSON-ready), with
        ``zero_division=0`` like :func:`classification_metrics`, whose values they match.

    Raises:
        ValueError: If ``proba`` is not binary or the lengths differ.
    """
    p = as_proba(proba)
    if p.shape[1] != 2:
        raise ValueError(
            f"threshold_sweep is for binary classification; proba has {p.shape[1]} classes."
        )
    y = as_class_indices(y_true, 2)
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} samples but proba has {len(p)} rows.")
    t = (
        np.round(np.arange(1, 100) / 100.0, 2)
        if thresholds is None
        else np.asarray(thresholds, dtype=np.float64).ravel()
    )
    score = p[:, 1]
    pos = np.sort(score[y == 1])
    neg = np.sort(score[y == 0])
    # Predicted positive means score >= t: count the scores at or above each threshold.
    tp = len(pos) - np.searchsorted(pos, t, side="left")
    fp = len(neg) - np.searchsorted(neg, t, side="left")
    fn = len(pos) - tp
    precision = np.divide(tp, tp + fp, out=np.zeros(len(t)), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros(len(t)), where=(tp + fn) > 0)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(len(t)), where=denom > 0)
    return {
        "thresholds": t.tolist(),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
    }
