"""Evaluation: metrics, JSON reports and figures for a model's test-split predictions.

Everything here is a pure function. Metrics come from :mod:`sklearn.metrics`; a *report* is a
plain JSON-serialisable dict (logged to MLflow as an artifact and read back by other pages,
possibly in another process), and the plotly figures are drawn FROM that dict, so a stored run's
plots can be re-drawn without the model or the data. :func:`save_report_images` renders the main
plots as PNGs with matplotlib's object-oriented API (no pyplot, so no global figure state and
nothing shared between threads).

Conventions:
    * ``y_true`` for classification holds class indices ``0..k-1``; ``proba`` is ``(n, k)`` with
      columns aligned with ``classes``. For binary tasks ``(n,)`` or ``(n, 1)`` probabilities of
      the positive class (a sigmoid output) are accepted too.
    * Binary: the positive class is ``classes[1]``; a sample is predicted positive when
      ``proba[:, 1] >= threshold``. Multiclass: argmax (the threshold is ignored).
    * Metric values are plain python floats; a metric that is undefined (ROC AUC with one class
      in the test split) is ``None``, never ``NaN``, so reports stay strict JSON.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

__all__ = [
    "MAX_CURVE_POINTS",
    "forecast_figure",
    "forecast_metrics",
    "forecast_report_data",
    "forecast_table",
    "image_grid_figure",
    "misclassified_figure",
    "misclassified_images_data",
    "series_figure",
    "MAX_SCATTER_POINTS",
    "classification_metrics",
    "classification_report_data",
    "confusion_matrix_figure",
    "learning_curves_figure",
    "pr_figure",
    "predict_labels",
    "predicted_vs_actual_figure",
    "regression_metrics",
    "regression_report_data",
    "report_metrics",
    "residuals_figure",
    "roc_figure",
    "save_report_images",
    "threshold_figure",
    "threshold_sweep",
]

MAX_CURVE_POINTS = 200
"""Most points stored per ROC/PR curve, so reports stay small for 100k-row test sets."""

MAX_SCATTER_POINTS = 5_000
"""Most (y_true, y_pred) points stored in a regression report or drawn in a scatter."""

_SEED = 0
_TEMPLATE = "plotly_white"
_TRAIN_COLOR = "#1f77b4"
_VAL_COLOR = "#ff7f0e"
_CHANCE_LINE = {"color": "gray", "dash": "dash", "width": 1}
# Above this many classes the per-cell numbers of a confusion matrix become unreadable.
_MAX_ANNOTATED_CLASSES = 25


# --------------------------------------------------------------------------------------------
# Input checks (programmer errors: ValueError)
# --------------------------------------------------------------------------------------------


def _as_proba(proba: Any, n_classes: int | None = None) -> np.ndarray:
    """``proba`` as a float64 ``(n, k)`` array; binary 1-D or 1-column input becomes 2 columns."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim == 1 and (n_classes is None or n_classes == 2):
        p = np.column_stack([1.0 - p, p])
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"proba has shape {np.shape(proba)}; expected (n_samples, n_classes) class "
            "probabilities with at least two columns."
        )
    if n_classes is not None and p.shape[1] != n_classes:
        raise ValueError(
            f"proba has {p.shape[1]} columns but {n_classes} classes were given; the columns "
            "must be aligned with `classes` (one column per class, in the same order)."
        )
    if not np.all(np.isfinite(p)):
        raise ValueError("proba holds NaN or infinite values; the model's outputs diverged.")
    return p


def _as_class_indices(y_true: Any, n_classes: int) -> np.ndarray:
    """Returns ``y_true`` as int class indices; one-hot ``(n, k)`` labels are accepted too."""
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == n_classes and n_classes > 1:
        y = y.argmax(axis=1)
    y = y.ravel()
    if y.dtype.kind not in "iub":
        try:
            as_float = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"y_true must hold class indices 0..{n_classes - 1}; got values like "
                f"{y[:3].tolist()!r}. Encode labels as their position in `classes`."
            ) from None
        if not np.all(np.isfinite(as_float)) or np.any(as_float != np.round(as_float)):
            raise ValueError(f"y_true must hold integer class indices 0..{n_classes - 1}.")
        y = as_float
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"y_true holds class indices in [{y.min()}, {y.max()}], outside 0..{n_classes - 1} "
            f"for {n_classes} classes."
        )
    return y


def _check_classification(
    y_true: Any, proba: Any, classes: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = [str(c) for c in classes]
    if len(names) < 2:
        raise ValueError(f"classification needs at least two classes; got {names!r}.")
    p = _as_proba(proba, len(names))
    y = _as_class_indices(y_true, len(names))
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} samples but proba has {len(p)} rows.")
    if len(y) == 0:
        raise ValueError("cannot evaluate on an empty test split.")
    return y, p, names


def _check_regression(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(y_true, dtype=np.float64).ravel()
    yp = np.asarray(y_pred, dtype=np.float64).ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true has {yt.size} values but y_pred has {yp.size}.")
    if yt.size == 0:
        raise ValueError("cannot evaluate on an empty test split.")
    return yt, yp


def _check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}.")
    return t


def _float_or_none(value: Any) -> float | None:
    """A plain python float, or None for None/NaN/inf (strict JSON has no NaN)."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _rounded(values: np.ndarray, decimals: int = 6) -> list[float]:
    return np.round(np.asarray(values, dtype=np.float64), decimals).tolist()


def _subsample_indices(n: int, max_points: int, seed: int = _SEED) -> np.ndarray:
    """Sorted random indices (seeded, so a report is reproducible), all of them when n is small."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def _downsample_curve(
    x: np.ndarray, y: np.ndarray, max_points: int = MAX_CURVE_POINTS
) -> np.ndarray:
    """Indices of at most ``max_points`` points that keep a curve's shape.

    Points are spaced evenly along the curve's length (not its index), and both ends of every
    chosen segment are kept, so the long straight steps of a ROC curve built from tied scores
    survive exactly while dense stretches are thinned. The first and last points are always kept.
    """
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    if cum[-1] == 0.0:
        return np.array([0, n - 1])
    half = max(1, (max_points - 2) // 2)
    ends = np.searchsorted(cum, np.linspace(0.0, cum[-1], half), side="left").clip(0, n - 1)
    idx = np.unique(np.concatenate([ends, (ends - 1).clip(0), [0, n - 1]]))
    return idx[:max_points] if len(idx) > max_points else idx


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


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
    p = _as_proba(proba)
    if p.shape[1] == 2:
        return (p[:, 1] >= _check_threshold(threshold)).astype(np.int64)
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
        return _float_or_none(skm.roc_auc_score(y, p[:, 1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        per_class = skm.roc_auc_score(
            y, p, multi_class="ovr", average=None, labels=np.arange(p.shape[1])
        )
    per_class = np.asarray(per_class, dtype=np.float64)
    defined = per_class[np.isfinite(per_class)]
    return _float_or_none(defined.mean()) if defined.size else None


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
    y, p, names = _check_classification(y_true, proba, classes)
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
        "log_loss": _float_or_none(skm.log_loss(y, p, labels=np.arange(len(names)))),
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
    yt, yp = _check_regression(y_true, y_pred)
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


# --------------------------------------------------------------------------------------------
# Reports (JSON-serialisable)
# --------------------------------------------------------------------------------------------


def _roc_entry(label: str, positives: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    fpr, tpr, thr = skm.roc_curve(positives, scores)
    keep = _downsample_curve(fpr, tpr)
    return {
        "label": label,
        "fpr": _rounded(fpr[keep]),
        "tpr": _rounded(tpr[keep]),
        # The first ROC threshold is +inf ("predict nothing positive"): stored as None.
        "thresholds": [_float_or_none(round(float(t), 6)) for t in thr[keep]],
        "auc": _float_or_none(skm.roc_auc_score(positives, scores)),
    }


def _pr_entry(label: str, positives: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    precision, recall, thr = skm.precision_recall_curve(positives, scores)
    # The last PR point (recall 0, precision 1) has no threshold.
    thr_full = np.append(thr, np.nan)
    keep = _downsample_curve(recall, precision)
    return {
        "label": label,
        "precision": _rounded(precision[keep]),
        "recall": _rounded(recall[keep]),
        "thresholds": [_float_or_none(round(float(t), 6)) for t in thr_full[keep]],
        "average_precision": _float_or_none(skm.average_precision_score(positives, scores)),
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
    y, p, names = _check_classification(y_true, proba, classes)
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
    yt, yp = _check_regression(y_true, y_pred)
    residuals = yt - yp
    keep = _subsample_indices(yt.size, MAX_SCATTER_POINTS)
    return {
        "task": "regression",
        "n_samples": int(yt.size),
        "metrics": {k: _float_or_none(v) for k, v in regression_metrics(yt, yp).items()},
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
    return {str(k): float(v) for k, v in values.items() if _float_or_none(v) is not None}


# --------------------------------------------------------------------------------------------
# Plotly figures (drawn from report dicts / plain data)
# --------------------------------------------------------------------------------------------


def _note_figure(title: str, note: str) -> go.Figure:
    """An empty figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(
        text=note, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14}
    )
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": title},
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _threshold_text(thresholds: Sequence[float | None] | None, n: int) -> list[str] | None:
    if thresholds is None or len(thresholds) != n:
        return None
    return [
        f"threshold {t:.3f}" if t is not None else "threshold: none (no positive predictions)"
        for t in thresholds
    ]


def confusion_matrix_figure(
    cm: Sequence[Sequence[int]], classes: Sequence[str], normalize: bool = False
) -> go.Figure:
    """A confusion-matrix heatmap.

    Args:
        cm: ``k x k`` counts, rows = true class, columns = predicted class.
        classes: The ``k`` class names.
        normalize: Show row-normalised shares (recall per true class) instead of counts.

    Returns:
        A heatmap with x = predicted, y = true (first class at the top) and annotated cells.

    Raises:
        ValueError: If ``cm`` is not ``k x k`` for ``k = len(classes)``.
    """
    counts = np.asarray(cm, dtype=np.float64)
    names = [str(c) for c in classes]
    k = len(names)
    if counts.shape != (k, k):
        raise ValueError(f"cm has shape {counts.shape}; expected ({k}, {k}) for {k} classes.")
    row_sums = counts.sum(axis=1, keepdims=True)
    # A class absent from the test split has an all-zero row: show 0 %, not NaN.
    shares = np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)
    z = shares if normalize else counts
    text = (
        [[f"{v:.1%}" for v in row] for row in shares]
        if normalize
        else [[f"{int(v):,}" for v in row] for row in counts]
    )
    heatmap = go.Heatmap(
        z=z.tolist(),
        x=names,
        y=names,
        text=text,
        texttemplate="%{text}" if k <= _MAX_ANNOTATED_CLASSES else None,
        customdata=np.dstack([counts, shares]).tolist(),
        hovertemplate=(
            "True: %{y}<br>Predicted: %{x}<br>Count: %{customdata[0]:,}"
            "<br>Share of true class: %{customdata[1]:.1%}<extra></extra>"
        ),
        colorscale="Blues",
        zmin=0,
        zmax=1 if normalize else None,
        colorbar={"title": {"text": "Share" if normalize else "Count"}},
    )
    fig = go.Figure(heatmap)
    title = "Confusion matrix"
    if normalize:
        title += " (row-normalised: recall per true class)"
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": title},
        # Categorical axes: class names like "0"/"1" must not become a numeric axis.
        xaxis={"title": {"text": "Predicted"}, "type": "category", "side": "bottom"},
        yaxis={"title": {"text": "True"}, "type": "category", "autorange": "reversed"},
    )
    return fig


def _is_report(report: Any, *keys: str) -> bool:
    return isinstance(report, Mapping) and all(k in report for k in keys)


def roc_figure(report: Mapping[str, Any]) -> go.Figure:
    """ROC curves of a classification report, with the chance diagonal and AUC in the legend.

    Args:
        report: From :func:`classification_report_data` (or its JSON round-trip).

    Returns:
        One curve per entry of ``report["roc"]`` plus the diagonal; a note when there is none.
    """
    if not _is_report(report, "roc"):
        raise ValueError("not a classification report: it has no 'roc' curves.")
    title = "ROC curve" if report.get("task") == "binary" else "ROC curves (one-vs-rest)"
    if not report["roc"]:
        return _note_figure(title, "ROC is undefined: the test split holds a single class.")
    fig = go.Figure()
    for curve in report["roc"]:
        fig.add_trace(
            go.Scatter(
                x=curve["fpr"],
                y=curve["tpr"],
                mode="lines",
                name=f"{curve['label']} (AUC = {_fmt(curve.get('auc'))})",
                text=_threshold_text(curve.get("thresholds"), len(curve["fpr"])),
                hovertemplate=(
                    f"{curve['label']}<br>FPR %{{x:.3f}}<br>TPR %{{y:.3f}}"
                    + ("<br>%{text}" if curve.get("thresholds") is not None else "")
                    + "<extra></extra>"
                ),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", line=_CHANCE_LINE, name="Chance (AUC = 0.5)",
            hoverinfo="skip",
        )
    )
    macro = (report.get("metrics") or {}).get("roc_auc")
    if report.get("task") == "multiclass" and macro is not None:
        title += f", macro AUC = {macro:.3f}"
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": title},
        xaxis={"title": {"text": "False positive rate"}, "range": [0, 1], "constrain": "domain"},
        yaxis={"title": {"text": "True positive rate"}, "range": [0, 1.02], "scaleanchor": "x"},
        legend={"x": 0.98, "y": 0.02, "xanchor": "right", "yanchor": "bottom"},
    )
    return fig


def _binary_prevalence(report: Mapping[str, Any]) -> float | None:
    if report.get("task") != "binary":
        return None
    if report["pr"] and report["pr"][0].get("prevalence") is not None:
        return float(report["pr"][0]["prevalence"])
    per_class = report.get("per_class") or []
    total = sum(c.get("support", 0) for c in per_class)
    return per_class[1]["support"] / total if len(per_class) == 2 and total else None


def pr_figure(report: Mapping[str, Any]) -> go.Figure:
    """Precision-recall curves of a classification report, AP in the legend.

    Args:
        report: From :func:`classification_report_data` (or its JSON round-trip).

    Returns:
        One curve per entry of ``report["pr"]``, plus (binary) the prevalence baseline, which
        is what a classifier without skill scores; a note when there is no curve.
    """
    if not _is_report(report, "pr"):
        raise ValueError("not a classification report: it has no 'pr' curves.")
    title = (
        "Precision-recall curve"
        if report.get("task") == "binary"
        else "Precision-recall curves (one-vs-rest)"
    )
    if not report["pr"]:
        return _note_figure(
            title, "Precision-recall is undefined: the test split holds a single class."
        )
    fig = go.Figure()
    for curve in report["pr"]:
        fig.add_trace(
            go.Scatter(
                x=curve["recall"],
                y=curve["precision"],
                mode="lines",
                line={"shape": "hv"},
                name=f"{curve['label']} (AP = {_fmt(curve.get('average_precision'))})",
                text=_threshold_text(curve.get("thresholds"), len(curve["recall"])),
                hovertemplate=(
                    f"{curve['label']}<br>Recall %{{x:.3f}}<br>Precision %{{y:.3f}}"
                    + ("<br>%{text}" if curve.get("thresholds") is not None else "")
                    + "<extra></extra>"
                ),
            )
        )
    prevalence = _binary_prevalence(report)
    if prevalence is not None:
        fig.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[prevalence, prevalence],
                mode="lines",
                line=_CHANCE_LINE,
                name=f"Chance (prevalence = {prevalence:.3f})",
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": title},
        xaxis={"title": {"text": "Recall"}, "range": [0, 1]},
        yaxis={"title": {"text": "Precision"}, "range": [0, 1.02]},
        legend={"x": 0.02, "y": 0.02, "xanchor": "left", "yanchor": "bottom"},
    )
    return fig


def _scatter_sample(yt: np.ndarray, yp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = _subsample_indices(yt.size, MAX_SCATTER_POINTS)
    return yt[keep], yp[keep]


def predicted_vs_actual_figure(y_true: Sequence[float], y_pred: Sequence[float]) -> go.Figure:
    """Predicted vs actual scatter with the ``y = x`` line, R² in the title.

    Args:
        y_true: Targets (e.g. ``report["y_true"]``).
        y_pred: Predictions, same length.

    Returns:
        The figure; at most :data:`MAX_SCATTER_POINTS` points are drawn, R² uses all of them.
    """
    yt, yp = _check_regression(y_true, y_pred)
    r2 = _float_or_none(regression_metrics(yt, yp)["r2"])
    xs, ys = _scatter_sample(yt, yp)
    lo = float(min(yt.min(), yp.min()))
    hi = float(max(yt.max(), yp.max()))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs, y=ys, mode="markers", name="Test samples",
            marker={"size": 5, "opacity": 0.6},
            hovertemplate="Actual %{x:.4g}<br>Predicted %{y:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[lo, hi], y=[lo, hi], mode="lines", line=_CHANCE_LINE, name="Perfect (y = x)",
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": f"Predicted vs actual (R² = {_fmt(r2)})"},
        xaxis={"title": {"text": "Actual"}},
        yaxis={"title": {"text": "Predicted"}},
    )
    return fig


def residuals_figure(y_true: Sequence[float], y_pred: Sequence[float]) -> go.Figure:
    """Residuals (actual - predicted) vs predicted, and their histogram, side by side.

    Args:
        y_true: Targets (e.g. ``report["y_true"]``).
        y_pred: Predictions, same length.

    Returns:
        A two-panel figure; a good model shows a structureless band around the zero line.
    """
    yt, yp = _check_regression(y_true, y_pred)
    xs, ys = _scatter_sample(yt, yp)
    residuals = xs - ys
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.6, 0.4],
        subplot_titles=("Residual vs predicted", "Distribution of residuals"),
    )
    fig.add_trace(
        go.Scatter(
            x=ys, y=residuals, mode="markers", name="Residual",
            marker={"size": 5, "opacity": 0.6}, showlegend=False,
            hovertemplate="Predicted %{x:.4g}<br>Residual %{y:.4g}<extra></extra>",
        ),
        row=1, col=1,
    )
    fig.add_hline(y=0, line=_CHANCE_LINE, row=1, col=1)
    fig.add_trace(
        go.Histogram(
            x=residuals, name="Residuals", showlegend=False,
            hovertemplate="Residual %{x}<br>Count %{y}<extra></extra>",
        ),
        row=1, col=2,
    )
    fig.add_vline(x=0, line=_CHANCE_LINE, row=1, col=2)
    fig.update_xaxes(title_text="Predicted", row=1, col=1)
    fig.update_yaxes(title_text="Residual (actual - predicted)", row=1, col=1)
    fig.update_xaxes(title_text="Residual", row=1, col=2)
    fig.update_yaxes(title_text="Count", row=1, col=2)
    fig.update_layout(template=_TEMPLATE, title={"text": "Residuals"})
    return fig


def _pretty_metric(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _history_groups(history: Mapping[str, Sequence[float]]) -> list[str]:
    """Metric names (without ``val_``), loss first, then in the history's order."""
    names: list[str] = []
    for key in history:
        base = key.removeprefix("val_")
        if base not in names:
            names.append(base)
    return sorted(names, key=lambda n: n != "loss")  # stable: keeps the others' order


def _clean_series(values: Sequence[float]) -> list[float | None]:
    return [_float_or_none(v) for v in values]


def learning_curves_figure(history: Mapping[str, Sequence[float]]) -> go.Figure:
    """Training curves from a Keras-style history, one subplot per metric.

    Args:
        history: Like ``keras.callbacks.History.history``: ``{"loss": [...], "val_loss": [...],
            "accuracy": [...], ...}``. Series may have different lengths (a live, partial
            history); NaN values are drawn as gaps.

    Returns:
        Subplots with loss first; training solid, validation dashed, x = epoch (1-based). An
        empty history gives an empty figure with a note.
    """
    history = history or {}
    groups = _history_groups(history)
    if not groups or not any(len(v) for v in history.values()):
        return _note_figure("Learning curves", "No epochs yet: curves appear as training runs.")
    cols = min(len(groups), 2)
    rows = math.ceil(len(groups) / cols)
    titles = {g: _pretty_metric(g) for g in groups}
    if "rmse" in groups:  # regression runs log mae/rmse in the data's units (training.py)
        titles.update(loss="Loss (MSE of the standardised target)", mae="MAE (data units)",
                      rmse="RMSE (data units)")
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[titles[g] for g in groups],
        horizontal_spacing=0.1, vertical_spacing=0.15 if rows > 1 else 0.1,
    )
    shown: set[str] = set()
    for i, name in enumerate(groups):
        row, col = divmod(i, cols)
        for key, split, color, dash in (
            (name, "train", _TRAIN_COLOR, "solid"),
            (f"val_{name}", "validation", _VAL_COLOR, "dash"),
        ):
            values = history.get(key)
            if values is None:
                continue
            y = _clean_series(values)
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(y) + 1)),
                    y=y,
                    mode="lines+markers" if len(y) < 30 else "lines",
                    name=split,
                    legendgroup=split,
                    showlegend=split not in shown,
                    line={"color": color, "dash": dash},
                    marker={"size": 5},
                    hovertemplate=f"{split} {name}<br>epoch %{{x}}: %{{y:.4g}}<extra></extra>",
                ),
                row=row + 1, col=col + 1,
            )
            shown.add(split)
        fig.update_xaxes(title_text="Epoch", tickformat="d", row=row + 1, col=col + 1)
        fig.update_yaxes(title_text=titles[name], row=row + 1, col=col + 1)
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": "Learning curves"},
        height=max(350, 320 * rows),
        hovermode="x unified",
    )
    return fig


# --------------------------------------------------------------------------------------------
# Threshold explanation (binary)
# --------------------------------------------------------------------------------------------


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
    p = _as_proba(proba)
    if p.shape[1] != 2:
        raise ValueError(
            f"threshold_sweep is for binary classification; proba has {p.shape[1]} classes."
        )
    y = _as_class_indices(y_true, 2)
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


def threshold_figure(sweep: Mapping[str, Sequence[float]], threshold: float) -> go.Figure:
    """Precision, recall and F1 vs threshold, with a vertical line at the current threshold.

    Args:
        sweep: From :func:`threshold_sweep`.
        threshold: The threshold in use (e.g. a slider's value).

    Returns:
        The figure; the line's label gives the three values at the nearest swept threshold.
    """
    t = np.asarray(sweep["thresholds"], dtype=np.float64)
    fig = go.Figure()
    for key, color in (("precision", "#1f77b4"), ("recall", "#2ca02c"), ("f1", "#d62728")):
        fig.add_trace(
            go.Scatter(
                x=t, y=list(sweep[key]), mode="lines", name=key if key != "f1" else "F1",
                line={"color": color},
                hovertemplate=f"threshold %{{x:.2f}}<br>{key} %{{y:.3f}}<extra></extra>",
            )
        )
    label = f"threshold = {threshold:.2f}"
    if t.size:
        i = int(np.abs(t - threshold).argmin())
        label += (
            f"<br>precision {sweep['precision'][i]:.2f}, recall {sweep['recall'][i]:.2f},"
            f" F1 {sweep['f1'][i]:.2f}"
        )
    fig.add_vline(
        x=float(threshold), line={"color": "black", "dash": "dot", "width": 1.5},
        annotation_text=label, annotation_position="top right" if threshold < 0.6 else "top left",
    )
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": "Precision, recall and F1 by decision threshold"},
        xaxis={"title": {"text": "Threshold on the positive-class probability"}, "range": [0, 1]},
        yaxis={"title": {"text": "Score"}, "range": [0, 1.05]},
        hovermode="x unified",
    )
    return fig


# --------------------------------------------------------------------------------------------
# PNG images (matplotlib object-oriented API, for MLflow image artifacts)
# --------------------------------------------------------------------------------------------


def _mpl_confusion_matrix(report: Mapping[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    cm = np.asarray(report["confusion_matrix"], dtype=np.float64)
    names = [str(c) for c in report["classes"]]
    k = len(names)
    size = min(4.0 + 0.4 * k, 14.0)
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(cm, cmap="Blues")
    fig.colorbar(image, ax=ax, label="Count")
    ax.set(
        xticks=range(k), yticks=range(k), xticklabels=names, yticklabels=names,
        xlabel="Predicted", ylabel="True", title="Confusion matrix",
    )
    ax.tick_params(axis="x", labelrotation=45 if k > 4 else 0)
    if k <= _MAX_ANNOTATED_CLASSES:
        middle = cm.max() / 2.0 if cm.size else 0.0
        for (i, j), v in np.ndenumerate(cm):
            ax.text(
                j, i, f"{int(v):,}", ha="center", va="center",
                color="white" if v > middle else "black", fontsize=9,
            )
    fig.savefig(path, dpi=100)


def _mpl_curves(
    curves: Sequence[Mapping[str, Any]],
    x_key: str,
    y_key: str,
    score_key: str,
    score_name: str,
    title: str,
    labels: tuple[str, str],
    baseline: tuple[list[float], list[float], str] | None,
    path: Path,
) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    drawstyle = "steps-post" if x_key == "recall" else "default"
    for curve in curves:
        ax.plot(
            curve[x_key], curve[y_key], drawstyle=drawstyle,
            label=f"{curve['label']} ({score_name} = {_fmt(curve.get(score_key))})",
        )
    if baseline is not None:
        ax.plot(baseline[0], baseline[1], linestyle="--", color="gray", label=baseline[2])
    if not curves:
        ax.text(0.5, 0.5, "Undefined: the test split holds a single class.", ha="center")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=labels[0], ylabel=labels[1], title=title)
    ax.grid(alpha=0.3)
    if curves or baseline is not None:
        ax.legend(loc="lower right" if x_key == "fpr" else "lower left", fontsize=8)
    fig.savefig(path, dpi=100)


def _mpl_predicted_vs_actual(yt: np.ndarray, yp: np.ndarray, r2: float | None, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(yt, yp, s=8, alpha=0.5)
    lo, hi = float(min(yt.min(), yp.min())), float(max(yt.max(), yp.max()))
    ax.plot([lo, hi], [lo, hi], linestyle="--", color="gray", label="Perfect (y = x)")
    ax.set(xlabel="Actual", ylabel="Predicted", title=f"Predicted vs actual (R² = {_fmt(r2)})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=100)


def _mpl_residuals(yt: np.ndarray, yp: np.ndarray, path: Path) -> None:
    from matplotlib.figure import Figure

    residuals = yt - yp
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    left.scatter(yp, residuals, s=8, alpha=0.5)
    left.axhline(0.0, linestyle="--", color="gray")
    left.set(
        xlabel="Predicted", ylabel="Residual (actual - predicted)", title="Residual vs predicted"
    )
    left.grid(alpha=0.3)
    right.hist(residuals, bins=min(50, max(5, int(np.sqrt(residuals.size)))))
    right.axvline(0.0, linestyle="--", color="gray")
    right.set(xlabel="Residual", ylabel="Count", title="Distribution of residuals")
    fig.savefig(path, dpi=100)


def save_report_images(report: Mapping[str, Any], folder: Path) -> list[Path]:
    """Renders a report's main plots as PNG files (e.g. for MLflow image artifacts).

    Args:
        report: From :func:`classification_report_data` or :func:`regression_report_data`
            (or its JSON round-trip).
        folder: Where to write; created if missing. Existing files of the same names are
            overwritten.

    Returns:
        The written paths: ``confusion_matrix.png``, ``roc_curve.png``, ``pr_curve.png`` for
        classification; ``predicted_vs_actual.png``, ``residuals.png`` for regression;
        ``forecast.png`` for forecasting.

    Raises:
        ValueError: If ``report`` is not an evaluation report.
    """
    task = report.get("task") if isinstance(report, Mapping) else None
    if task not in ("binary", "multiclass", "regression", "forecast"):
        raise ValueError(f"not an evaluation report: unknown task {task!r}.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if task == "forecast":
        path = folder / "forecast.png"
        _mpl_forecast(report, path)
        return [path]
    if task == "regression":
        yt, yp = _check_regression(report["y_true"], report["y_pred"])
        paths = [folder / "predicted_vs_actual.png", folder / "residuals.png"]
        _mpl_predicted_vs_actual(yt, yp, report["metrics"].get("r2"), paths[0])
        _mpl_residuals(yt, yp, paths[1])
        return paths

    paths = [folder / "confusion_matrix.png", folder / "roc_curve.png", folder / "pr_curve.png"]
    _mpl_confusion_matrix(report, paths[0])
    roc_title = "ROC curve" if task == "binary" else "ROC curves (one-vs-rest)"
    _mpl_curves(
        report["roc"], "fpr", "tpr", "auc", "AUC", roc_title,
        ("False positive rate", "True positive rate"),
        ([0.0, 1.0], [0.0, 1.0], "Chance (AUC = 0.5)"), paths[1],
    )
    prevalence = _binary_prevalence(report)
    pr_baseline = (
        ([0.0, 1.0], [prevalence, prevalence], f"Chance (prevalence = {prevalence:.3f})")
        if prevalence is not None
        else None
    )
    pr_title = (
        "Precision-recall curve" if task == "binary" else "Precision-recall curves (one-vs-rest)"
    )
    _mpl_curves(
        report["pr"], "recall", "precision", "average_precision", "AP", pr_title,
        ("Recall", "Precision"), pr_baseline, paths[2],
    )
    return paths


# --------------------------------------------------------------------------------------------
# Forecasting: metrics, naive baselines, forecast-vs-actual
# --------------------------------------------------------------------------------------------

BASELINE_TITLES = {"last_value": "Last value (naive)", "seasonal_last_value": "Seasonal last value"}


def forecast_metrics(y_true: Any, y_pred: Any) -> dict[str, float | None]:
    """MAE, RMSE, MSE, R² and MAPE (in percent; None when an actual value is 0) over every
    window and horizon step."""
    yt = np.asarray(y_true, dtype=np.float64).reshape(-1)
    yp = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if yt.shape != yp.shape or yt.size == 0:
        raise ValueError(f"y_true and y_pred differ in size or are empty: {yt.shape} vs {yp.shape}")
    out = {k: _float_or_none(v) for k, v in regression_metrics(yt, yp).items()}
    out["mape"] = (
        float(np.mean(np.abs((yt - yp) / yt)) * 100.0) if np.all(yt != 0) else None
    )
    return out


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

    def per_step(pred: np.ndarray) -> list[float]:
        return [round(float(np.sqrt(np.mean((yt[:, h] - pred[:, h]) ** 2))), 6)
                for h in range(horizon)]

    series: dict[str, Any] = {
        "time": list(period_time),
        "actual": [round(float(v), 6) for v in period_actual],
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


def forecast_figure(report: Mapping[str, Any]) -> go.Figure:
    """Forecast vs actual over the test period (with the history before it, faded)."""
    if not _is_report(report, "series", "horizon"):
        return _note_figure("Forecast vs actual", "Not a forecast report.")
    s, horizon = report["series"], report["horizon"]
    fig = go.Figure()
    hist = report.get("history") or {}
    if hist.get("time"):
        fig.add_scatter(x=hist["time"], y=hist["value"], name="History (train/validation)",
                        line={"color": "lightgray"})
    fig.add_scatter(x=s["time"], y=s["actual"], name="Actual", line={"color": "black"})
    fig.add_scatter(x=s["time"], y=s["model_step_1"], name="Model, 1 step ahead",
                    line={"color": _TRAIN_COLOR})
    if "model_step_h" in s:
        fig.add_scatter(x=s["time"], y=s["model_step_h"], name=f"Model, {horizon} steps ahead",
                        line={"color": _VAL_COLOR})
    for name in report.get("baselines", {}):
        key = f"{name}_step_1"
        if key in s:
            title = BASELINE_TITLES.get(name, name)
            fig.add_scatter(x=s["time"], y=s[key], name=f"{title}, 1 step",
                            line={"dash": "dot", "width": 1}, visible="legendonly")
    fig.update_layout(
        template=_TEMPLATE, title={"text": "Forecast vs actual over the test period"},
        xaxis={"title": {"text": "Time"}}, yaxis={"title": {"text": "Value"}},
        hovermode="x unified", legend={"orientation": "h", "y": -0.2},
    )
    return fig


def series_figure(time: Sequence, values: Mapping[str, Sequence[float]], title: str) -> go.Figure:
    """A line per series against time (the Data page's preview of a time series)."""
    fig = go.Figure()
    for name, ys in values.items():
        fig.add_scatter(x=list(time), y=list(ys), name=str(name))
    fig.update_layout(template=_TEMPLATE, title={"text": title}, hovermode="x unified",
                      xaxis={"title": {"text": "Time"}})
    return fig


# --------------------------------------------------------------------------------------------
# Images: preview grids and the misclassified test images
# --------------------------------------------------------------------------------------------

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
    p = _as_proba(proba, len(classes))
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


def image_grid_figure(images: Any, titles: Sequence[str], columns: int = 8,
                      title: str = "") -> go.Figure:
    """Images ``(n, H, W, C)`` (0..1 or 0..255) in a grid, each with its title."""
    arr = np.asarray(images, dtype=np.float64)
    if arr.size == 0:
        return _note_figure(title or "Images", "No images to show.")
    if arr.max() <= 1.0:
        arr = arr * 255.0
    n = arr.shape[0]
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[str(t) for t in titles],
                        horizontal_spacing=0.01, vertical_spacing=0.3 / rows if rows > 1 else 0.1)
    for i in range(n):
        r, c = divmod(i, columns)
        img = arr[i]
        if img.shape[-1] == 3:
            trace = go.Image(z=img.astype(np.uint8))
        else:
            trace = go.Heatmap(z=img[..., 0][::-1], colorscale="gray", zmin=0, zmax=255,
                               showscale=False, hovertemplate="value %{z:.0f}<extra></extra>")
        fig.add_trace(trace, row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", constrain="domain")
    fig.update_annotations(font_size=11)
    fig.update_layout(template=_TEMPLATE, title={"text": title} if title else None,
                      height=max(220, 110 * rows + 60), margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def misclassified_figure(data: Mapping[str, Any], columns: int = 9) -> go.Figure:
    """The grid of :func:`misclassified_images_data`, titled ``true → predicted``."""
    items = data.get("images", []) if isinstance(data, Mapping) else []
    if not items:
        return _note_figure("Misclassified test images", "No misclassified test images.")
    shape = data["shape"]
    images = np.asarray([it["pixels"] for it in items], dtype=np.float64).reshape(-1, *shape)
    titles = [f"{it['true']} → {it['predicted']}" for it in items]
    return image_grid_figure(images / 255.0, titles, columns=columns,
                             title=f"Misclassified test images (true → predicted): "
                                   f"{data['n_misclassified']} of {data['n_test']}")


def _mpl_forecast(report: Mapping[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    s = report["series"]
    x = np.arange(len(s["time"]))
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(x, s["actual"], color="black", label="Actual")

    def line(key: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in s[key]], dtype=float)

    ax.plot(x, line("model_step_1"), label="Model, 1 step ahead")
    if "model_step_h" in s:
        ax.plot(x, line("model_step_h"), label=f"Model, {report['horizon']} steps ahead")
    ax.set(xlabel="Test-period step", ylabel="Value", title="Forecast vs actual (test period)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(path, dpi=100)
