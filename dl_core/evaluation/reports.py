"""Evaluation reports: plain JSON-serialisable dicts of a model's test-split results.

A report is logged to MLflow as an artifact and read back by other pages, possibly in another
process; :mod:`dl_core.evaluation.figures` and :mod:`dl_core.evaluation.png` draw FROM it, so a
stored run's plots can be re-drawn without the model or the data. No plotting library here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from dl_core.evaluation.common import (
    MAX_CURVE_POINTS,
    MAX_SCATTER_POINTS,
    as_proba,
    check_classification,
    check_regression,
    downsample_curve,
    float_or_none,
    rounded,
    subsample_indices,
)
from dl_core.evaluation.metrics import (
    classification_metrics,
    forecast_metrics,
    predict_labels,
    regression_metrics,
)

__all__ = [
    "BASELINE_TITLES",
    "MAX_CURVE_POINTS",
    "MAX_MISCLASSIFIED",
    "MAX_SCATTER_POINTS",
    "classification_report_data",
    "forecast_report_data",
    "forecast_table",
    "misclassified_images_data",
    "regression_report_data",
    "report_metrics",
]


def _roc_entry(label: str, positives: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    fpr, tpr, thr = skm.roc_curve(positives, scores)
    keep = downsample_curve(fpr, tpr)
    return {
        "label": label,
        "fpr": rounded(fpr[keep]),
        "tpr": rounded(tpr[keep]),
        # The first ROC threshold is +inf ("predict nothing positive"): stored as None.
        "thresholds": [float_or_none(round(float(t), 6)) for t in thr[keep]],
        "auc": float_or_none(skm.roc_auc_score(positives, scores)),
    }


def _pr_entry(label: str, positives: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    precision, recall, thr = skm.precision_recall_curve(positives, scores)
    # The last PR point (recall 0, precision 1) has no threshold.
    thr_full = np.append(thr, np.nan)
    keep = downsample_curve(recall, precision)
    return {
        "label": label,
        "precision": rounded(precision[keep]),
        "recall": rounded(recall[keep]),
        "thresholds": [float_or_none(round(float(t), 6)) for t in thr_full[keep]],
        "average_precision": float_or_none(skm.average_precision_score(positives, scores)),
        "prevalence": float(positives.mean()),
    }


def classification_report_data(
    y_true: np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    threshold: float = 0.5,
) -> dict[str, Any]:
    """A JSON-serialisable evaluation report of a classifier.

    Args:
        y_true: ``(n,)`` class indices ``0..k-1``.
        proba: ``(n, k)`` predicted probabilities, columns aligned with ``classes``.
        classes: The ``k`` class names, in column order.
        threshold: Binary decision threshold (stored as given; ignored for multiclass).

    Returns:
        ``{"task": "binary" | "multiclass", "classes", "threshold", "metrics"`` (see
        :func:`classification_metrics`), ``"confusion_matrix"`` (``k x k`` counts, rows = true
        class, columns = predicted), ``"per_class"`` (``class, precision, recall, f1, support``),
        ``"roc"`` (``label, fpr, tpr, thresholds, auc``: binary one curve for the positive class,
        multiclass one-vs-rest per class) and ``"pr"`` (``label, precision, recall, thresholds,
        average_precision, prevalence``)``}``. Curves hold at most :data:`MAX_CURVE_POINTS`
        points; a class absent from ``y_true`` (or, for binary, a split with one class) has no
        curve, since ROC and PR are undefined for it.

    Raises:
        ValueError: If the shapes of ``y_true``, ``proba`` and ``classes`` do not agree.
    """
    y, p, names = check_classification(y_true, proba, classes)
    k = len(names)
    y_pred = predict_labels(p, threshold)
    labels = np.arange(k)
    cm = skm.confusion_matrix(y, y_pred, labels=labels)
    prec, rec, f1, support = skm.precision_recall_fscore_support(
        y, y_pred, labels=labels, average=None, zero_division=0
    )
    per_class = [
        {
            "class": names[i],
            "precision": float(prec[i]),
            "recall": float(rec[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i in range(k)
    ]
    # Binary: one curve for the positive class. Multiclass: one-vs-rest per class.
    curve_classes = [1] if k == 2 else list(range(k))
    roc, pr = [], []
    for i in curve_classes:
        positives = (y == i).astype(np.int64)
        if 0 < positives.sum() < len(positives):
            roc.append(_roc_entry(names[i], positives, p[:, i]))
            pr.append(_pr_entry(names[i], positives, p[:, i]))
    return {
        "task": "binary" if k == 2 else "multiclass",
        "classes": names,
        "threshold": float(threshold),
        "n_samples": len(y),
        "metrics": classification_metrics(y, p, names, threshold),
        "confusion_matrix": cm.astype(int).tolist(),
        "per_class": per_class,
        "roc": roc,
        "pr": pr,
    }


def regression_report_data(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """A JSON-serialisable evaluation report of a regressor.

    Args:
        y_true: ``(n,)`` targets.
        y_pred: ``(n,)`` or ``(n, 1)`` predictions.

    Returns:
        ``{"task": "regression", "n_samples", "metrics"`` (see :func:`regression_metrics`; an
        undefined value is None), ``"y_true"``, ``"y_pred"`` (at most
        :data:`MAX_SCATTER_POINTS` pairs, a seeded random subsample in original order),
        ``"residual_summary": {"mean", "std"}`` (of ``y_true - y_pred`` over all samples)``}``.

    Raises:
        ValueError: If the lengths differ or the split is empty.
    """
    yt, yp = check_regression(y_true, y_pred)
    residuals = yt - yp
    keep = subsample_indices(yt.size, MAX_SCATTER_POINTS)
    return {
        "task": "regression",
        "n_samples": int(yt.size),
        "metrics": {k: float_or_none(v) for k, v in regression_metrics(yt, yp).items()},
        "y_true": yt[keep].tolist(),
        "y_pred": yp[keep].tolist(),
        "residual_summary": {
            "mean": float(residuals.mean()),
            "std": float(residuals.std()),
        },
    }


def report_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """The flat metrics of a report, e.g. to log as MLflow ``test_`` metrics.

    Args:
        report: A dict from :func:`classification_report_data` or :func:`regression_report_data`
            (or its JSON round-trip).

    Returns:
        ``{name: float}`` without the undefined (None) metrics, which MLflow cannot store.

    Raises:
        ValueError: If ``report`` has no ``"metrics"`` mapping.
    """
    values = report.get("metrics") if isinstance(report, Mapping) else None
    if not isinstance(values, Mapping):
        raise ValueError("not an evaluation report: it has no 'metrics' mapping.")
    return {str(k): float(v) for k, v in values.items() if float_or_none(v) is not None}


BASELINE_TITLES = {"last_value": "Last value (naive)", "seasonal_last_value": "Seasonal last value"}


def _padded(values: Sequence[float], offset: int, length: int) -> list[float | None]:
    out: list[float | None] = [None] * length
    for i, v in enumerate(values):
        if 0 <= offset + i < length:
            out[offset + i] = round(float(v), 6)
    return out


def forecast_report_data(
    y_true: Any,
    y_pred: Any,
    *,
    baselines: Mapping[str, Any],
    period_time: Sequence[str],
    period_actual: Sequence[float],
    history: Mapping[str, Sequence] | None = None,
    season_length: int = 0,
) -> dict[str, Any]:
    """A JSON-serialisable report of a forecaster on the test period, with naive baselines.

    Args:
        y_true: ``(n_windows, horizon)`` actual values; window ``i`` forecasts the test
            period's points ``i .. i + horizon - 1``.
        y_pred: The model's ``(n_windows, horizon)`` forecasts.
        baselines: Forecasts of the same shape by name (``last_value``,
            ``seasonal_last_value``).
        period_time: Time labels of the whole test period.
        period_actual: Its actual values.
        history: ``{"time", "value"}`` of points before the test period (plot context).
        season_length: The season used by the seasonal baseline (0 = none).

    Returns:
        ``{"task": "forecast", "n_samples", "horizon", "season_length", "metrics",
        "baselines": {name: metrics}, "per_step_rmse": {name: [...]}, "series": {"time",
        "actual", "model_step_1", "model_step_h", "<baseline>_step_1"}, "history"}``; series
        values are aligned with ``time`` (None where a forecast does not reach).
    """
    yt = np.asarray(y_true, dtype=np.float64)
    yp = np.asarray(y_pred, dtype=np.float64).reshape(yt.shape)
    n, horizon = yt.shape
    length = len(period_time)

    def per_step(pred: np.ndarray) -> list[float | None]:
        errors = [(yt[:, h] - pred[:, h])[~np.isnan(yt[:, h])] for h in range(horizon)]
        return [round(float(np.sqrt(np.mean(e ** 2))), 6) if e.size else None for e in errors]

    series: dict[str, Any] = {
        "time": list(period_time),
        "actual": [None if np.isnan(v) else round(float(v), 6) for v in period_actual],
        "model_step_1": _padded(yp[:, 0], 0, length),
    }
    if horizon > 1:
        series["model_step_h"] = _padded(yp[:, -1], horizon - 1, length)
    base_metrics, steps = {}, {"model": per_step(yp)}
    for name, pred in baselines.items():
        pred = np.asarray(pred, dtype=np.float64).reshape(yt.shape)
        base_metrics[name] = forecast_metrics(yt, pred)
        steps[name] = per_step(pred)
        series[f"{name}_step_1"] = _padded(pred[:, 0], 0, length)
    return {
        "task": "forecast",
        "n_samples": int(n),
        "horizon": int(horizon),
        "season_length": int(season_length or 0),
        "metrics": forecast_metrics(yt, yp),
        "baselines": base_metrics,
        "per_step_rmse": steps,
        "series": series,
        "history": {"time": list((history or {}).get("time", [])),
                    "value": [round(float(v), 6) for v in (history or {}).get("value", [])]},
    }


def forecast_table(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per forecaster (the model, then each baseline) with its test metrics."""
    rows = [{"forecaster": "Model", **report["metrics"]}]
    for name, values in report.get("baselines", {}).items():
        title = BASELINE_TITLES.get(name, name)
        if name == "seasonal_last_value" and report.get("season_length"):
            title += f" (season {report['season_length']})"
        rows.append({"forecaster": title, **values})
    return rows


MAX_MISCLASSIFIED = 36


def misclassified_images_data(
    images: Any, y_true: Any, proba: Any, classes: Sequence[str], limit: int = MAX_MISCLASSIFIED
) -> dict[str, Any]:
    """Up to ``limit`` misclassified test images (the most confident mistakes first), as data.

    Args:
        images: ``(n, H, W, C)`` pixels scaled to 0..1.
        y_true: ``(n,)`` class indices.
        proba: ``(n, k)`` probabilities.
        classes: Class names.

    Returns:
        ``{"shape": [H, W, C], "n_test", "n_misclassified", "images": [{"pixels": 0..255 ints
        (row-major), "true", "predicted", "confidence"}]}``.
    """
    x = np.asarray(images, dtype=np.float64)
    y = np.asarray(y_true, dtype=int).reshape(-1)
    p = as_proba(proba, len(classes))
    pred = p.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-p[wrong, pred[wrong]], kind="stable")][:limit]
    return {
        "shape": [int(d) for d in x.shape[1:]],
        "n_test": int(len(y)),
        "n_misclassified": int((pred != y).sum()),
        "images": [
            {
                "pixels": np.clip(np.round(x[i] * 255), 0, 255).astype(int).reshape(-1).tolist(),
                "true": str(classes[y[i]]),
                "predicted": str(classes[pred[i]]),
                "confidence": round(float(p[i, pred[i]]), 4),
            }
            for i in wrong
        ],
    }
