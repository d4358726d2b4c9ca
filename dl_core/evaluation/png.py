"""PNG snapshots of an evaluation report (MLflow image artifacts); used by the worker.

matplotlib's object-oriented API only (no pyplot: no global figure state, nothing shared
between threads). The web server never imports this module (it has no matplotlib).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dl_core.evaluation.common import (
    MAX_ANNOTATED_CLASSES,
    binary_prevalence,
    check_regression,
    fmt,
)


def _mpl_confusion_matrix(report: Mapping[str, Any], path: Path) -> None:
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
    if k <= MAX_ANNOTATED_CLASSES:
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
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    drawstyle = "steps-post" if x_key == "recall" else "default"
    for curve in curves:
        ax.plot(
            curve[x_key], curve[y_key], drawstyle=drawstyle,
            label=f"{curve['label']} ({score_name} = {fmt(curve.get(score_key))})",
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
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(yt, yp, s=8, alpha=0.5)
    lo, hi = float(min(yt.min(), yp.min())), float(max(yt.max(), yp.max()))
    ax.plot([lo, hi], [lo, hi], linestyle="--", color="gray", label="Perfect (y = x)")
    ax.set(xlabel="Actual", ylabel="Predicted", title=f"Predicted vs actual (R² = {fmt(r2)})")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=100)


def _mpl_residuals(yt: np.ndarray, yp: np.ndarray, path: Path) -> None:
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
        yt, yp = check_regression(report["y_true"], report["y_pred"])
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
    prevalence = binary_prevalence(report)
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


def _mpl_forecast(report: Mapping[str, Any], path: Path) -> None:
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
