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
