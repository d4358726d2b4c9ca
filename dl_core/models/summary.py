"""A model's layer table, as data the UI can show and MLflow can store."""

from __future__ import annotations

from typing import Any


def layer_table(model: Any) -> list[dict[str, Any]]:
    """One row per layer: name, type, output shape and parameter count."""
    rows = []
    for layer in model.layers:
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):
            shape = "?"
        rows.append({
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": shape.replace("None", "batch"),
            "parameters": int(layer.count_params()),
        })
    return rows


def parameter_count(model: Any) -> dict[str, int]:
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    total = int(model.count_params())
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}
