"""A model's layer table, as data the UI can show and MLflow can store.

:func:`summarize` builds the model, so it runs where Keras lives: in the training worker (the
Model page asks it through ``Executor.summary``), never in the web server.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def summarize(arch: str, model_config: dict[str, Any], input_shape: tuple[int, ...],
              n_outputs: int, task: str) -> dict[str, Any]:
    """Build ``arch`` for the data's shapes; its layer table, parameter counts and diagram.

    Returns:
        ``{"layers": [rows], "params": {"total", "trainable", "non_trainable"}, "dot": str}``,
        plain JSON data.

    Raises:
        ConfigError: when ``model_config`` is not valid for ``arch``.
    """
    from dl_core.backend import build_lock
    from dl_core.config import config_from_dict
    from dl_core.models import get_model
    from dl_core.training import output_head

    entry = get_model(arch)
    cfg = config_from_dict(entry.config_cls, model_config)
    with build_lock():
        model = entry.build(cfg, tuple(input_shape), int(n_outputs), output_head(task)[0])
    layers = layer_table(model)
    return {"layers": layers, "params": parameter_count(model), "dot": layer_diagram(layers)}


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
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    total = int(model.count_params())
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


def layer_diagram(rows: list[dict[str, Any]]) -> str:
    """The layer stack as a Graphviz DOT graph (top to bottom), from :func:`layer_table` rows."""
    lines = [
        "digraph model {",
        '  graph [rankdir=TB, nodesep=0.2, ranksep=0.25];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef4fb", fontname="Helvetica", '
        "fontsize=10];",
    ]
    for i, row in enumerate(rows):
        params = f"\\n{row['parameters']:,} params" if row["parameters"] else ""
        label = f"{row['layer']} ({row['type']})\\n{row['output shape']}{params}"
        lines.append(f'  n{i} [label="{label}"];')
        if i:
            lines.append(f"  n{i - 1} -> n{i};")
    lines.append("}")
    return "\n".join(lines)
