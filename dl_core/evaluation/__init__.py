"""Evaluation of a model's test-split predictions, by layer.

* :mod:`~dl_core.evaluation.metrics`: metrics from :mod:`sklearn.metrics`.
* :mod:`~dl_core.evaluation.reports`: the JSON reports logged with a run (no plotting library).
* :mod:`~dl_core.evaluation.figures`: plotly figures re-drawn from a report; web server only.
* :mod:`~dl_core.evaluation.png`: matplotlib PNG snapshots of a report; worker only.

The training worker needs metrics, reports and PNGs; the web server needs reports and figures.
So that neither imports the other's plotting library, this package imports no layer itself:
``evaluation.roc_figure`` (and every other public name) loads its layer on first use (PEP 562).
Import the layer directly (``from dl_core.evaluation.reports import ...``) in new code.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAYERS = {
    "metrics": (
        "classification_metrics", "forecast_metrics", "lower_is_better", "predict_labels",
        "regression_metrics", "threshold_sweep",
    ),
    "reports": (
        "BASELINE_TITLES", "MAX_CURVE_POINTS", "MAX_MISCLASSIFIED", "MAX_SCATTER_POINTS",
        "classification_report_data", "forecast_report_data", "forecast_table",
        "misclassified_images_data", "regression_report_data", "report_metrics",
    ),
    "figures": (
        "confusion_matrix_figure", "forecast_figure", "image_grid_figure",
        "learning_curves_figure", "misclassified_figure", "pr_figure",
        "predicted_vs_actual_figure", "residuals_figure", "roc_figure", "series_figure",
        "threshold_figure",
    ),
    "png": ("save_report_images",),
}
_WHERE = {name: layer for layer, names in _LAYERS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _LAYERS:
        return importlib.import_module(f"{__name__}.{name}")
    layer = _WHERE.get(name)
    if layer is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{layer}"), name)


def __dir__() -> list[str]:
    return sorted([*__all__, *_LAYERS])
