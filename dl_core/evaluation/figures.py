"""Plotly figures drawn from evaluation reports (or plain data); for the web server's pages.

Every figure is a pure function of JSON-ready data, so the Evaluate and Runs pages re-draw a
stored run without its model. The worker never imports this module (it has no plotly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dl_core.evaluation.common import (
    MAX_ANNOTATED_CLASSES,
    MAX_SCATTER_POINTS,
    binary_prevalence,
    check_regression,
    float_or_none,
    fmt,
    subsample_indices,
)
from dl_core.evaluation.metrics import regression_metrics
from dl_core.evaluation.reports import BASELINE_TITLES

_TEMPLATE = "plotly_white"
_TRAIN_COLOR = "#1f77b4"
_VAL_COLOR = "#ff7f0e"
_CHANCE_LINE = {"color": "gray", "dash": "dash", "width": 1}


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
        texttemplate="%{text}" if k <= MAX_ANNOTATED_CLASSES else None,
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
                name=f"{curve['label']} (AUC = {fmt(curve.get('auc'))})",
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
                name=f"{curve['label']} (AP = {fmt(curve.get('average_precision'))})",
                text=_threshold_text(curve.get("thresholds"), len(curve["recall"])),
                hovertemplate=(
                    f"{curve['label']}<br>Recall %{{x:.3f}}<br>Precision %{{y:.3f}}"
                    + ("<br>%{text}" if curve.get("thresholds") is not None else "")
                    + "<extra></extra>"
                ),
            )
        )
    prevalence = binary_prevalence(report)
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
    keep = subsample_indices(yt.size, MAX_SCATTER_POINTS)
    return yt[keep], yp[keep]


def predicted_vs_actual_figure(y_true: Sequence[float], y_pred: Sequence[float]) -> go.Figure:
    """Predicted vs actual scatter with the ``y = x`` line, R² in the title.

    Args:
        y_true: Targets (e.g. ``report["y_true"]``).
        y_pred: Predictions, same length.

    Returns:
        The figure; at most :data:`MAX_SCATTER_POINTS` points are drawn, R² uses all of them.
    """
    yt, yp = check_regression(y_true, y_pred)
    r2 = float_or_none(regression_metrics(yt, yp)["r2"])
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
        title={"text": f"Predicted vs actual (R² = {fmt(r2)})"},
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
    yt, yp = check_regression(y_true, y_pred)
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


#: Metric-name words written in capitals (``kl`` is TVAE's KL divergence, not "Kl").
_ACRONYMS = {"kl": "KL", "auc": "AUC", "roc": "ROC", "mae": "MAE", "mse": "MSE",
             "rmse": "RMSE", "mape": "MAPE", "r2": "R²", "f1": "F1", "tstr": "TSTR",
             "trtr": "TRTR", "dcr": "DCR"}


def pretty_metric(name: str) -> str:
    """A metric's name as a title: ``"kl"`` -> ``"KL"``, ``"gradient_penalty"`` ->
    ``"Gradient penalty"``, ``"roc_auc"`` -> ``"ROC AUC"``."""
    words = str(name).split("_")
    out = [_ACRONYMS.get(w.lower(), w) for w in words]
    if out and out[0] == words[0]:
        out[0] = out[0].capitalize()
    return " ".join(out)


def _history_groups(history: Mapping[str, Sequence[float]]) -> list[str]:
    """Metric names (without ``val_``), loss first, then in the history's order."""
    names: list[str] = []
    for key in history:
        base = key.removeprefix("val_")
        if base not in names:
            names.append(base)
    return sorted(names, key=lambda n: n != "loss")  # stable: keeps the others' order


def _clean_series(values: Sequence[float]) -> list[float | None]:
    return [float_or_none(v) for v in values]


#: Height of a row of learning curves, and the gap between rows (axis title, next title).
CURVE_ROW_PX, CURVE_ROW_GAP_PX = 340, 140


def learning_curves_figure(history: Mapping[str, Sequence[float]],
                           per_row: int = 3) -> go.Figure:
    """Training curves from a Keras-style history, one subplot per metric.

    Args:
        history: Like ``keras.callbacks.History.history``: ``{"loss": [...], "val_loss": [...],
            "accuracy": [...], ...}``. Series may have different lengths (a live, partial
            history); NaN values are drawn as gaps.
        per_row: The most panels a row (rows are filled evenly: four make two rows of two).
            Three in a row for a full-width chart: two a row left a VAE's third row half
            empty.

    Returns:
        Subplots with loss first; training solid, validation dashed, x = epoch (1-based). An
        empty history gives an empty figure with a note.
    """
    history = history or {}
    groups = _history_groups(history)
    if not groups or not any(len(v) for v in history.values()):
        return _note_figure("Learning curves", "No epochs yet: curves appear as training runs.")
    rows = math.ceil(len(groups) / per_row)
    cols = math.ceil(len(groups) / rows)
    titles = {g: pretty_metric(g) for g in groups}
    if "rmse" in groups:  # regression runs log mae/rmse in the data's units (training.py)
        titles.update(loss="Loss (MSE of the standardised target)", mae="MAE (data units)",
                      rmse="RMSE (data units)")
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[titles[g] for g in groups],
        # About 100 pixels between rows: a row's "Epoch" and the next one's title overlapped
        # at 0.15 of the height (a VAE's three curves).
        horizontal_spacing=0.1, vertical_spacing=CURVE_ROW_GAP_PX / (CURVE_ROW_PX * rows),
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
        # The subplot's title names the metric: a y-axis title as well, in the gap between two
        # panels, ran into the left panel when the curves were narrow (beside a sample grid).
        fig.update_xaxes(title_text="Epoch", tickformat="d", row=row + 1, col=col + 1)
    fig.update_layout(
        template=_TEMPLATE,
        title={"text": "Learning curves"},
        height=max(350, CURVE_ROW_PX * rows),
        hovermode="x unified",
    )
    return fig


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


def image_grid_figure(images: Any, titles: Sequence[str], columns: int = 8,
                      title: str = "") -> go.Figure:
    """Images ``(n, H, W, C)`` (0..1 or 0..255) in a grid, each with its title."""
    arr = np.asarray(images, dtype=np.float64)
    if arr.size == 0:
        return _note_figure(title or "Images", "No images to show.")
    if np.nanmax(arr, initial=0.0) <= 1.0:  # a missing pixel (NaN) must not hide the scale
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
            trace = go.Image(z=np.nan_to_num(img, nan=128.0).astype(np.uint8))
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
