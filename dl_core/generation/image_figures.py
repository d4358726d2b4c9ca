"""Plotly figures and PNGs of image generators: sample grids with their row labels, the latent
map, the decoded latent plane and interpolation strips.

Pure functions of arrays and of the latent explorer's answers
(:mod:`dl_core.generation.latent`); the Train and Generate pages show them, nothing here imports
streamlit or TensorFlow. Images are zoomed by whole numbers before the browser sees them, so 8x8
digits stay crisp instead of being smoothed.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from dl_core.generation.image_export import upscale_for
from dl_core.generation.images import BLANK, png_bytes, tile
from dl_core.generation.latent import unpack

#: Most pixels a sample grid is zoomed to (whole-number zoom), high and, by default, wide
#: (ten classes of 8x8 digits: 4 times, 364 pixels).
GRID_MAX_PX = 400
GRID_MAX_WIDTH_PX = 720
#: Plotly's options for a grid chart: no toolbar (it covered the top row, and a grid of whole
#: pixels has nothing to zoom).
GRID_CHART_CONFIG = {"displayModeBar": False}
#: The map's class colours, ten distinct hues first (Streamlit's own palette starts with a dark
#: and a light blue: two classes were hard to tell apart).
CLASS_COLOURS = tuple(px.colors.qualitative.D3 + px.colors.qualitative.Dark24)
#: Room beside a grid for its rows' classes: the axis title and a character of a label.
LABEL_TITLE_PX, LABEL_CHAR_PX = 45, 8


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def decode_png(png: bytes | str) -> np.ndarray:
    """A PNG (bytes, or base64 text as an ``image_grid`` event carries it) as a uint8 array."""
    from PIL import Image

    if isinstance(png, str):
        png = base64.b64decode(png)
    return np.asarray(Image.open(io.BytesIO(png)))


def grid_figure(image: np.ndarray, row_labels: Sequence[Any] = (), *,
                label_title: str = "class", max_width: int = GRID_MAX_WIDTH_PX) -> go.Figure:
    """A tiled grid (a uint8 image from :func:`~dl_core.generation.images.tile`) with each row's
    class written beside it.

    Zoomed by the largest whole number that keeps it within :data:`GRID_MAX_PX` high and
    ``max_width`` wide (labels included; shrunk to fit when even one is too wide), and the
    figure sized to it: shown with ``width="content"`` it has no blank bands (a wide grid of
    two classes, stretched to a column of fixed height, was a thin strip between two empty
    ones).
    """
    image = np.asarray(image, dtype=np.uint8)
    labelled = [lab for lab in row_labels if lab is not None]
    labels_px = (LABEL_TITLE_PX + LABEL_CHAR_PX * max(len(str(lab)) for lab in labelled)
                 if labelled else 0)
    h, w = image.shape[:2]
    room = max_width - labels_px - 20
    zoom = max(1, min(GRID_MAX_PX // h, room // w))
    height, width = h * zoom, w * zoom
    # Wider than the room even unzoomed: the browser draws it smaller, keeping its shape.
    shown_h, shown_w = (height, width) if width <= room else (round(h * room / w), room)
    fig = go.Figure(go.Image(source=_data_uri(png_bytes(image, upscale=zoom)), hoverinfo="skip"))
    if labelled:
        rows = len(row_labels)
        fig.update_yaxes(tickvals=[(i + 0.5) * height / rows for i in range(rows)],
                         ticktext=[str(lab) for lab in row_labels], title=label_title,
                         showgrid=False, automargin=False)
    else:
        fig.update_yaxes(visible=False)
    fig.update_xaxes(visible=False)
    fig.update_layout(width=shown_w + labels_px + 20, height=shown_h + 20, autosize=False,
                      margin={"l": labels_px + 10, "r": 10, "t": 10, "b": 10})
    return fig


def map_figure(answer: dict[str, Any], picked: tuple[int | None, ...] = ()) -> go.Figure:
    """The latent map: one point per training image, coloured by class; the ``picked`` row
    positions (A, B) are marked and joined (the interpolation's path: a straight line in the
    latent space stays straight under a linear projection)."""
    labels = answer["labels"]
    x, y, index = (np.asarray(answer[k]) for k in ("x", "y", "index"))
    fig = go.Figure()
    groups = [(None, np.ones(len(x), dtype=bool))] if labels is None else [
        (c, np.array([lab == c for lab in labels])) for c in _ordered(labels)]
    for i, (value, mask) in enumerate(groups):
        fig.add_trace(go.Scatter(
            x=x[mask], y=y[mask], mode="markers", name="images" if value is None else str(value),
            customdata=index[mask],
            marker={"size": 6, "opacity": 0.75, "color": CLASS_COLOURS[i % len(CLASS_COLOURS)]},
            hovertemplate="image #%{customdata}" + ("" if value is None else f" · {value}")
                          + "<extra></extra>"))
    where = {int(i): k for k, i in enumerate(index)}
    ends = [(name, where[p]) for name, p in zip("AB", picked, strict=False)
            if p is not None and p in where]
    if ends:
        fig.add_trace(go.Scatter(
            x=[x[k] for _, k in ends], y=[y[k] for _, k in ends], mode="lines+markers+text",
            text=[name for name, _ in ends], textposition="top center", name="A → B",
            line={"color": "black", "dash": "dot"},
            marker={"size": 14, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "black"}},
            hoverinfo="skip"))
    fig.update_layout(xaxis_title=answer["axes"][0], yaxis_title=answer["axes"][1],
                      legend_title="class" if labels is not None else None, height=480,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, clickmode="event+select")
    return fig


def _ordered(labels: list[Any]) -> list[Any]:
    seen = list(dict.fromkeys(labels))
    try:
        return sorted(seen)
    except TypeError:
        return seen


def plane_figure(answer: dict[str, Any], pad: int = 1) -> go.Figure:
    """The decoded plane as one image whose axes read the latent coordinates."""
    images = unpack(answer["images"])
    side_h, side_w, h, w = images.shape[:4]
    zoom = upscale_for(images.shape[2:])
    source = _data_uri(png_bytes(tile(images, pad=pad), upscale=zoom))
    cell_h, cell_w = (h + pad) * zoom, (w + pad) * zoom

    def ticks(count: int, cell: int, values: list[float]) -> dict[str, Any]:
        every = max(1, count // 5)
        keep = range(0, count, every)
        return {"tickvals": [pad * zoom + cell * i + cell / 2 for i in keep],
                "ticktext": [f"{values[i]:.2f}" for i in keep]}

    fig = go.Figure(go.Image(source=source, hoverinfo="skip"))
    fig.update_xaxes(title="z1", **ticks(side_w, cell_w, answer["z1"]))
    fig.update_yaxes(title="z2", **ticks(side_h, cell_h, answer["z2"]))
    title = "" if answer.get("label") is None else f"decoded as class {answer['label']}"
    fig.update_layout(title=title, height=560, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def strip_image(answer: dict[str, Any]) -> np.ndarray:
    """The interpolation as one tiled uint8 image: a row per decoded class, the real images A
    and B at the two ends of the first row (grey cells below them)."""
    images, ends = unpack(answer["images"]), unpack(answer["ends"])
    rows = images.shape[0]
    blank = np.full(images.shape[2:], BLANK, dtype=np.float32)
    grid = np.stack([np.stack([ends[0] if r == 0 else blank, *images[r],
                               ends[1] if r == 0 else blank]) for r in range(rows)])
    return tile(grid, pad=1)
