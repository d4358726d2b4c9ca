"""Input checks and small helpers shared by the evaluation layers (numpy only).

Conventions for every layer:
    * ``y_true`` for classification holds class indices ``0..k-1``; ``proba`` is ``(n, k)`` with
      columns aligned with ``classes``. For binary tasks ``(n,)`` or ``(n, 1)`` probabilities of
      the positive class (a sigmoid output) are accepted too.
    * Binary: the positive class is ``classes[1]``; a sample is predicted positive when
      ``proba[:, 1] >= threshold``. Multiclass: argmax (the threshold is ignored).
    * Metric values are plain python floats; a metric that is undefined (ROC AUC with one class
      in the test split) is ``None``, never ``NaN``, so reports stay strict JSON.

Bad arguments are programmer errors here: they raise ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

MAX_CURVE_POINTS = 200
"""Most points stored per ROC/PR curve, so reports stay small for 100k-row test sets."""

MAX_SCATTER_POINTS = 5_000
"""Most (y_true, y_pred) points stored in a regression report or drawn in a scatter."""

MAX_ANNOTATED_CLASSES = 25
"""Above this many classes the per-cell numbers of a confusion matrix become unreadable."""

SEED = 0
"""Seed of every subsample, so a report is reproducible."""


def as_proba(proba: Any, n_classes: int | None = None) -> np.ndarray:
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


def as_class_indices(y_true: Any, n_classes: int) -> np.ndarray:
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


def check_classification(
    y_true: Any, proba: Any, classes: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = [str(c) for c in classes]
    if len(names) < 2:
        raise ValueError(f"classification needs at least two classes; got {names!r}.")
    p = as_proba(proba, len(names))
    y = as_class_indices(y_true, len(names))
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} samples but proba has {len(p)} rows.")
    if len(y) == 0:
        raise ValueError("cannot evaluate on an empty test split.")
    return y, p, names


def check_regression(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(y_true, dtype=np.float64).ravel()
    yp = np.asarray(y_pred, dtype=np.float64).ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true has {yt.size} values but y_pred has {yp.size}.")
    if yt.size == 0:
        raise ValueError("cannot evaluate on an empty test split.")
    return yt, yp


def check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}.")
    return t


def float_or_none(value: Any) -> float | None:
    """A plain python float, or None for None/NaN/inf (strict JSON has no NaN)."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def rounded(values: np.ndarray, decimals: int = 6) -> list[float]:
    return np.round(np.asarray(values, dtype=np.float64), decimals).tolist()


def subsample_indices(n: int, max_points: int, seed: int = SEED) -> np.ndarray:
    """Sorted random indices (seeded, so a report is reproducible), all of them when n is small."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def downsample_curve(
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


def fmt(value: float | None, spec: str = ".3f") -> str:
    """A metric for a title or legend: ``n/a`` when undefined."""
    return "n/a" if value is None else format(value, spec)


def binary_prevalence(report: Mapping[str, Any]) -> float | None:
    """The share of positives of a binary report (the PR curve's chance level); None otherwise."""
    if report.get("task") != "binary":
        return None
    if report["pr"] and report["pr"][0].get("prevalence") is not None:
        return float(report["pr"][0]["prevalence"])
    per_class = report.get("per_class") or []
    total = sum(c.get("support", 0) for c in per_class)
    return per_class[1]["support"] / total if len(per_class) == 2 and total else None
