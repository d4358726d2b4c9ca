"""Synthetic images as files people keep: a PNG grid (a contact sheet of every image, grouped by
class), a ZIP of PNGs, a pixel CSV.

The pixel CSV has the training table's columns, scale and label column (the generator samples
them so), so it can be uploaded again as images (augmentation); it goes through
:func:`~dl_core.export.to_safe_csv` like every CSV download. The grid and the PNGs are
drawn with :func:`~dl_core.generation.images.tile` and
:func:`~dl_core.generation.images.png_bytes` (numpy and Pillow only: the web server and the CLI
use them without TensorFlow).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_core.errors import ConfigError

#: Most images one generation on the Generate page asks for (each is scored and zipped).
MAX_IMAGES = 10_000
#: Most images one grid PNG shows (the first ones, grouped by class); the ZIP and CSV hold all.
MAX_GRID_IMAGES = 1024
#: Smallest side, in screen pixels, of an image in a grid PNG (8x8 digits are drawn 4x).
CELL_PX = 32
#: The file kinds :func:`write_images` writes, by suffix.
SUFFIXES = (".csv", ".png", ".zip")


def class_order(y: np.ndarray | None) -> np.ndarray:
    """Positions of the images grouped by class (stable: within a class, as drawn)."""
    if y is None:
        return np.arange(0)
    return np.argsort(np.asarray(y), kind="stable")


def upscale_for(shape: tuple[int, ...]) -> int:
    """The whole-number zoom that draws an ``(H, W, C)`` image at least :data:`CELL_PX` wide."""
    return max(1, math.ceil(CELL_PX / max(1, min(shape[0], shape[1]))))


def grid_of(x: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Images ``(N, H, W, C)`` as a near-square grid ``(rows, columns, H, W, C)``, row-major;
    the cells after the last image are mid grey, like the padding between images."""
    from dl_core.generation.images import BLANK, grid_side

    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    columns = columns or grid_side(n)
    rows = max(1, math.ceil(n / columns))
    cells = np.full((rows * columns, *x.shape[1:]), BLANK, dtype=np.float32)
    cells[:n] = x
    return cells.reshape(rows, columns, *x.shape[1:])


def contact_sheet_png(x: np.ndarray, y: np.ndarray | None = None, *,
                      max_images: int = MAX_GRID_IMAGES) -> bytes:
    """A contact sheet: up to ``max_images`` images, grouped by class, in a near-square grid,
    each image zoomed to at least :data:`CELL_PX` pixels (nearest neighbour: pixels stay
    crisp)."""
    from dl_core.generation.images import png_bytes, tile

    x = np.asarray(x)
    if y is not None:
        x = x[class_order(y)]
    x = x[:max_images]
    return png_bytes(tile(grid_of(x)), upscale=upscale_for(x.shape[1:]))


def _safe_name(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-.")[:40] or "x"


def zip_pngs(x: np.ndarray, y: np.ndarray | None = None, classes: tuple = ()) -> bytes:
    """A ZIP of one PNG per image, at the images' own size: ``00001_<class>.png`` (numbered in
    the order drawn; ``00001.png`` when unconditional)."""
    from dl_core.generation.images import png_bytes, tile

    x = np.asarray(x, dtype=np.float32)
    width = max(5, len(str(len(x))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i, image in enumerate(x):
            name = f"{i + 1:0{width}d}"
            if y is not None:
                label = classes[int(y[i])] if 0 <= int(y[i]) < len(classes) else y[i]
                name += f"_{_safe_name(label)}"
            archive.writestr(f"{name}.png", png_bytes(tile(image[None, None], pad=0)))
    return buffer.getvalue()


def image_file(rows: pd.DataFrame, table: Any, suffix: str) -> bytes:
    """The generated ``rows`` as a ``.csv`` (pixel CSV), ``.png`` (grid) or ``.zip`` (PNGs);
    ``table`` is the generator's :class:`~dl_core.generation.images.ImageTable`.

    Raises:
        ConfigError: for another suffix.
    """
    from dl_core.export import to_safe_csv

    suffix = suffix.lower()
    if suffix == ".csv":
        return to_safe_csv(rows)
    if suffix not in SUFFIXES:
        raise ConfigError(f"Images are written as {', '.join(SUFFIXES)} (pixel CSV, PNG grid or "
                          f"ZIP of PNGs); got {suffix or 'no suffix'!r}.")
    x, y = table.arrays(rows)
    return contact_sheet_png(x, y) if suffix == ".png" else zip_pngs(x, y, table.classes)


def run_table(run_id: str) -> Any:
    """The :class:`~dl_core.generation.images.ImageTable` of an image generator run, learnt
    again from the training rows it stored (the layout and classes it learnt itself).

    Raises:
        DataError: if the run stored no rows or they are not images.
    """
    from dl_core import tracking
    from dl_core.data.images import parse_image_shape
    from dl_core.generation.generate import load_rows
    from dl_core.generation.images import ImageTable

    run = tracking.get_run(run_id)
    train, _ = load_rows(run_id)
    return ImageTable.from_frame(train, run.data.tags.get("target") or None,
                                 parse_image_shape(run.data.params.get("image_shape") or None))


def write_images(rows: pd.DataFrame, table: Any, path: Path) -> Path:
    """Write ``rows`` to ``path`` in the kind its suffix names (see :func:`image_file`)."""
    path = Path(path)
    path.write_bytes(image_file(rows, table, path.suffix))
    return path
