"""Image generators: pixel tables as image arrays and back, and the base every one builds on.

An image generator is a :class:`~dl_core.generation.synthesizer.Synthesizer` like the table
ones: it fits on the rows of a pixel CSV and samples rows with the same pixel columns, scale and
label column, so the generative trainer, :func:`~dl_core.generation.generate.generate`, MLflow
recording and CSV download work unchanged. What it learnt of the table (pixel columns in
row-major order, image shape, scale, whether pixels are whole numbers, the label and its
classes) is an :class:`ImageTable`; :class:`ImageSynthesizer` turns frames into arrays with it,
so a subclass only implements :meth:`~ImageSynthesizer.fit_arrays` and
:meth:`~ImageSynthesizer.sample_arrays` on ``(N, H, W, C)`` arrays in ``[0, 1]``.

:func:`tile` and :func:`png_bytes` make the grids people judge a generator by (the keras-io
"GAN monitor"); they need only numpy and Pillow, so they work in the web server and the worker.
"""

from __future__ import annotations

import abc
import io
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dl_core.errors import DataError
from dl_core.generation.spread import proportional_labels
from dl_core.generation.synthesizer import Synthesizer

#: The file :meth:`ImageSynthesizer.save_table` writes.
TABLE_FILE = "image_table.json"
#: Most rows of a preview grid (one per class).
MAX_PREVIEW_ROWS = 10


def _native(value: Any) -> Any:
    """A label value as a JSON-able Python value of the same kind (numpy scalars unwrapped)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _sorted_classes(values: Sequence[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed kinds: a stable order all the same
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


@dataclass(frozen=True)
class ImageTable:
    """What an image generator learnt of its pixel table; JSON round-trip (to_dict/from_dict).

    Attributes:
        pixel_columns: Pixel columns in row-major ``H, W, C`` order, as in the training CSV.
        columns: The columns sampled frames have, in training order: the pixels and the label.
        shape: ``(H, W, C)``.
        scale: 255.0 (8-bit), 16.0 (4-bit digits) or 1.0.
        integer_pixels: Pixels are written back as whole numbers (they were in training).
        label: The label column (the condition), None when unconditional.
        classes: Label values (JSON-able, original type) in index order.
        class_freq: Training frequency of each class.
    """

    pixel_columns: tuple[str, ...]
    columns: tuple[str, ...]
    shape: tuple[int, int, int]
    scale: float
    integer_pixels: bool
    label: str | None
    classes: tuple = ()
    class_freq: tuple[float, ...] = ()

    @classmethod
    def from_frame(cls, df: pd.DataFrame, label: str | None,
                   shape: tuple[int, int, int] | None = None) -> ImageTable:
        """Learn the layout of the pixel table ``df``.

        Args:
            df: Training rows of a pixel CSV.
            label: The label column to condition on (None: unconditional; a label column the
                table may have is then not generated).
            shape: ``(H, W, C)`` when the pixel count is not a square (default: inferred).

        Raises:
            DataError: if ``df`` is not a pixel table (too few pixel columns, a shape that does
                not fit, non-numeric, missing or out-of-range pixels) or ``label`` is missing.
        """
        from dl_core.data.images import (
            detect_pixel_layout,
            pixel_columns,
            pixel_matrix,
            resolve_shape,
        )

        if label is not None and label not in df.columns:
            raise DataError(f"There is no label column '{label}' in the image table; columns: "
                            f"{', '.join(map(str, df.columns[:30]))}.")
        layout = detect_pixel_layout(df, label)
        pixels = list(layout.pixel_columns) if layout is not None else pixel_columns(df, label)
        shape = resolve_shape(pixels, shape)
        values, scale = pixel_matrix(df, pixels)
        classes: list[Any] = []
        freq: list[float] = []
        if label is not None:
            known = df[label].dropna()
            if known.empty:
                raise DataError(f"The label column '{label}' has no values; give a label "
                                "column with at least one class, or train without one.")
            counts = known.map(_native).value_counts()
            classes = _sorted_classes([_native(c) for c in counts.index])
            by_class = {_native(c): int(v) for c, v in counts.items()}
            freq = [by_class[c] / len(known) for c in classes]
        keep = set(pixels) | ({label} if label is not None else set())
        return cls(
            pixel_columns=tuple(str(c) for c in pixels),
            columns=tuple(str(c) for c in df.columns if c in keep),
            shape=tuple(int(d) for d in shape),
            scale=float(scale),
            integer_pixels=bool(np.all(values == np.round(values))),
            label=label,
            classes=tuple(classes),
            class_freq=tuple(freq),
        )

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def arrays(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """The images of ``df`` as float32 ``(N, H, W, C)`` in ``[0, 1]`` and their class
        indices (``-1`` for a missing label or a class not seen in training; None when
        unconditional).

        Raises:
            DataError: if pixel columns are missing.
        """
        missing = [c for c in self.pixel_columns if c not in df.columns]
        if missing:
            raise DataError(f"The table lacks {len(missing)} pixel column(s) the generator was "
                            f"trained on (e.g. {missing[:5]}).")
        values = df[list(self.pixel_columns)].to_numpy(dtype=np.float64) / self.scale
        x = np.clip(values, 0.0, 1.0).astype(np.float32).reshape(-1, *self.shape)
        if self.label is None:
            return x, None
        if self.label not in df.columns:
            raise DataError(f"The table lacks the label column '{self.label}'.")
        index = {c: i for i, c in enumerate(self.classes)}
        y = np.array([index.get(_native(v), -1) if pd.notna(v) else -1 for v in df[self.label]],
                     dtype=np.int64)
        return x, y

    def frame(self, x: np.ndarray, y: np.ndarray | None) -> pd.DataFrame:
        """Images ``(N, H, W, C)`` in ``[0, 1]`` (clipped) and class indices as rows with the
        training columns, scale and label (pixels rounded when they were whole numbers)."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if x.shape[1] != len(self.pixel_columns):
            raise DataError(f"Images of {x.shape[1]} values do not fit the {self.shape} images "
                            f"({len(self.pixel_columns)} pixels) of this table.")
        values = np.clip(x, 0.0, 1.0) * self.scale
        if self.integer_pixels:
            values = np.round(values).astype(np.int64)
        data: dict[str, Any] = dict(zip(self.pixel_columns, values.T))
        if self.label is not None:
            if y is None:
                raise DataError(f"Images of a conditional generator need their labels "
                                f"('{self.label}').")
            y = np.asarray(y, dtype=np.int64)
            if len(y) != len(x) or (len(y) and (y.min() < 0 or y.max() >= self.n_classes)):
                raise DataError(f"Labels must be {len(x)} class indices in 0..{self.n_classes - 1}.")
            data[self.label] = pd.Series([self.classes[i] for i in y])
        return pd.DataFrame(data, index=pd.RangeIndex(len(x)))[list(self.columns)]

    def label_index(self, value: Any) -> int:
        """The class index of the label ``value`` (text finds numbers: ``"3"`` finds ``3``).

        Raises:
            DataError: when there is no label or no such class (the message lists the classes).
        """
        if self.label is None:
            raise DataError("This generator was trained without a label column; it cannot be "
                            "conditioned on a class.")
        value = _native(value)
        for i, c in enumerate(self.classes):
            if type(c) is type(value) and c == value:
                return i
        text = str(value).strip()
        for i, c in enumerate(self.classes):
            if str(c) == text or (isinstance(c, (int, float)) and not isinstance(c, bool)
                                  and _as_number(text) == c):
                return i
        shown = ", ".join(map(str, self.classes[:30]))
        more = f" (and {self.n_classes - 30} more)" if self.n_classes > 30 else ""
        raise DataError(f"Unknown class {value!r} of '{self.label}'; the classes are: "
                        f"{shown}{more}.")

    def to_dict(self) -> dict[str, Any]:
        return {"pixel_columns": list(self.pixel_columns), "columns": list(self.columns),
                "shape": list(self.shape), "scale": self.scale,
                "integer_pixels": self.integer_pixels, "label": self.label,
                "classes": list(self.classes), "class_freq": list(self.class_freq)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ImageTable:
        return cls(pixel_columns=tuple(d["pixel_columns"]), columns=tuple(d["columns"]),
                   shape=tuple(int(v) for v in d["shape"]), scale=float(d["scale"]),
                   integer_pixels=bool(d["integer_pixels"]), label=d.get("label"),
                   classes=tuple(d.get("classes") or ()),
                   class_freq=tuple(float(v) for v in d.get("class_freq") or ()))


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class ImageSynthesizer(Synthesizer):
    """Base of every image generator: :meth:`fit` and :meth:`sample` on frames, built on the
    array hooks :meth:`fit_arrays` and :meth:`sample_arrays` a subclass implements.

    ``fit`` learns the :class:`ImageTable` (the label is ``condition_columns[0]``), leaves out
    rows without a label, and hands ``(N, H, W, C)`` images in ``[0, 1]`` and class indices to
    ``fit_arrays``. ``sample`` gives the classes their training shares (rounded) unless a
    condition fixes one. A subclass's ``save``/``load`` write its own state (``.keras``
    networks) plus :meth:`save_table` / :meth:`load_table` (JSON, never pickle).
    """

    #: True for generators with an encoder (the latent explorer): conv_vae.
    has_latent: ClassVar[bool] = False
    #: The width of the latent space (has_latent only).
    latent_dim: int = 0

    def __init__(self, cfg: Any = None) -> None:
        self.cfg = cfg
        self.table: ImageTable | None = None

    # --- the hooks a subclass implements -------------------------------------------------------

    @abc.abstractmethod
    def fit_arrays(self, x: np.ndarray, y: np.ndarray | None, *, epochs: int, batch_size: int,
                   seed: int, on_epoch: Callable[[int, dict[str, float]], None] | None,
                   stop: threading.Event | None) -> dict[str, list[float]]:
        """Fit on images ``x`` ``(N, H, W, C)`` in ``[0, 1]`` and class indices ``y`` ``(N,)``
        (None: unconditional); ``self.table`` is set. Arguments and return as
        :meth:`Synthesizer.fit`."""

    @abc.abstractmethod
    def sample_arrays(self, labels: np.ndarray | None, n: int, seed: int | None) -> np.ndarray:
        """``n`` images ``(n, H, W, C)`` in ``[0, 1]``; ``labels`` is an int array of length
        ``n`` (None: unconditional). The same seed gives the same images."""

    def encode_arrays(self, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """Posterior means ``(N, latent_dim)`` of images ``x`` (generators with a latent)."""
        raise DataError(f"{type(self).__name__} has no latent space to encode into.")

    def decode_arrays(self, z: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """Images ``(N, H, W, C)`` in ``[0, 1]`` decoded from latent codes ``z``."""
        raise DataError(f"{type(self).__name__} has no latent space to decode from.")

    # --- frames --------------------------------------------------------------------------------

    def fit(self, df: pd.DataFrame, *, condition_columns: Sequence[str] = (), epochs: int = 1,
            batch_size: int = 64, seed: int = 0,
            on_epoch: Callable[[int, dict[str, float]], None] | None = None,
            stop: threading.Event | None = None,
            shape: tuple[int, int, int] | None = None) -> dict[str, list[float]]:
        """:meth:`Synthesizer.fit`; ``shape`` is the ``(H, W, C)`` the user gave (needed when
        the pixel count is not a square, and a 4x16 table must not be read as 8x8; default:
        inferred, see :meth:`ImageTable.from_frame`)."""
        if len(condition_columns) > 1:
            raise DataError(f"An image generator is conditioned on one label column; got "
                            f"{list(condition_columns)}.")
        label = condition_columns[0] if condition_columns else None
        self.table = ImageTable.from_frame(df, label, shape)
        x, y = self.table.arrays(df)
        if y is not None:  # rows without a label cannot teach a class
            keep = y >= 0
            x, y = x[keep], y[keep]
        return self.fit_arrays(x, y, epochs=int(epochs), batch_size=int(batch_size),
                               seed=int(seed), on_epoch=on_epoch, stop=stop)

    def _fitted_table(self) -> ImageTable:
        if self.table is None:
            raise DataError(f"The {type(self).__name__} is not fitted yet; fit it on the training "
                            "images first.")
        return self.table

    def sample(self, n: int, *, seed: int | None = None,
               condition: Mapping[str, Any] | None = None) -> pd.DataFrame:
        table = self._fitted_table()
        n = int(n)
        labels = None
        if condition:
            unknown = [c for c in condition if c != table.label]
            if unknown:
                known = f"'{table.label}'" if table.label else "none (trained without a label)"
                raise DataError(f"An image generator can only be conditioned on its label "
                                f"column, {known}; got {unknown}.")
            labels = np.full(n, table.label_index(condition[table.label]), dtype=np.int64)
        elif table.label is not None:
            rng = np.random.default_rng(None if seed is None else [int(seed), 7])
            labels = proportional_labels(np.asarray(table.class_freq), n, rng)
        return self._frame(labels, n, seed)

    def sample_counts(self, counts: Mapping[Any, int], seed: int | None = None) -> pd.DataFrame:
        """``counts[class]`` images of each class (rows grouped by class, in the order given).

        Raises:
            DataError: for an unknown class, a negative count or no images at all.
        """
        table = self._fitted_table()
        parts = []
        for value, count in counts.items():
            index = table.label_index(value)
            if int(count) < 0:
                raise DataError(f"The count of class {value!r} must be 0 or more; got {count}.")
            parts.append(np.full(int(count), index, dtype=np.int64))
        labels = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        if len(labels) == 0:
            raise DataError("Ask for at least one image (all class counts are 0).")
        return self._frame(labels, len(labels), seed)

    def _frame(self, labels: np.ndarray | None, n: int, seed: int | None) -> pd.DataFrame:
        x = self.sample_arrays(labels, n, seed)
        return self._fitted_table().frame(x, labels)

    def preview_labels(self) -> list[Any]:
        """The class of each row of :meth:`preview_grid` (``[None]`` when unconditional)."""
        table = self._fitted_table()
        return list(table.classes[:MAX_PREVIEW_ROWS]) if table.label is not None else [None]

    def preview_grid(self, seed: int, per_row: int = 8) -> np.ndarray:
        """``(rows, per_row, H, W, C)`` images in ``[0, 1]`` from the same seed every call (fixed
        noise: successive grids show the generator learning): one row per class (at most
        :data:`MAX_PREVIEW_ROWS`), or one row when unconditional."""
        table = self._fitted_table()
        if table.label is None:
            rows, labels = 1, None
        else:
            rows = min(table.n_classes, MAX_PREVIEW_ROWS)
            labels = np.repeat(np.arange(rows, dtype=np.int64), per_row)
        x = np.asarray(self.sample_arrays(labels, rows * per_row, seed), dtype=np.float32)
        return np.clip(x, 0.0, 1.0).reshape(rows, per_row, *table.shape)

    # --- stored form ---------------------------------------------------------------------------

    def save_table(self, folder: Path) -> None:
        """Write the :class:`ImageTable` as JSON into ``folder``."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / TABLE_FILE).write_text(json.dumps(self._fitted_table().to_dict()),
                                               encoding="utf-8")

    def load_table(self, folder: Path) -> ImageTable:
        """Read the table :meth:`save_table` wrote (and set ``self.table``)."""
        path = Path(folder) / TABLE_FILE
        try:
            self.table = ImageTable.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"{folder} holds no saved image table ({TABLE_FILE}): {exc}.") from None
        return self.table


def tile(grid: np.ndarray, pad: int = 1) -> np.ndarray:
    """A grid of images ``(rows, cols, H, W, C)`` in ``[0, 1]`` as one uint8 image: ``(h, w)``
    for grey images, ``(h, w, C)`` for colour, with ``pad`` grey pixels between images."""
    grid = np.asarray(grid, dtype=np.float32)
    if grid.ndim == 4:  # (rows, cols, H, W): grey without a channel axis
        grid = grid[..., None]
    rows, cols, h, w, c = grid.shape
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 0.5, dtype=np.float32)
    for r in range(rows):
        for k in range(cols):
            top, left = pad + r * (h + pad), pad + k * (w + pad)
            out[top:top + h, left:left + w] = grid[r, k]
    # A diverged network's NaN pixels show as the padding's grey, not as whatever a cast makes.
    out = np.nan_to_num(out, nan=0.5)
    image = np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)
    return image[..., 0] if c == 1 else image


def png_bytes(image: np.ndarray, upscale: int = 1) -> bytes:
    """A uint8 image ``(h, w)`` or ``(h, w, 3|4)`` as PNG bytes, each pixel ``upscale`` times
    larger (nearest neighbour: 8x8 digits stay crisp)."""
    from PIL import Image

    image = np.asarray(image, dtype=np.uint8)
    if upscale > 1:
        image = image.repeat(upscale, axis=0).repeat(upscale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def grid_side(n: int) -> int:
    """Columns of a near-square grid of ``n`` images."""
    return max(1, math.ceil(math.sqrt(n)))


def grid_png(grid: np.ndarray, *, target_width: int = 320) -> bytes:
    """PNG of :func:`tile` of ``grid``, scaled up (nearest neighbour, at most 8 times) towards
    ``target_width`` pixels so small images stay crisp where a browser would blur them."""
    image = tile(grid)
    return png_bytes(image, upscale=max(1, min(8, target_width // image.shape[1])))


#: The value of an empty cell of a grid (the padding's grey).
BLANK = 0.5


def sample_grid(table: ImageTable, df: pd.DataFrame,
                per_row: int = 8) -> tuple[np.ndarray, list[Any]]:
    """A grid of the images in ``df`` and the class of each row: the first ``per_row`` images of
    each class (at most :data:`MAX_PREVIEW_ROWS` classes; mid grey, like the padding, where a
    class has fewer: black would pass for a dark image), or
    ``per_row`` rows of ``per_row`` when unconditional."""
    x, y = table.arrays(df)
    if y is None:
        rows = max(1, min(per_row, math.ceil(len(x) / per_row)))
        grid = np.full((rows * per_row, *table.shape), BLANK, dtype=np.float32)
        take = min(len(x), len(grid))
        grid[:take] = x[:take]
        return grid.reshape(rows, per_row, *table.shape), [None] * rows
    present = [k for k in range(table.n_classes) if (y == k).any()][:MAX_PREVIEW_ROWS]
    grid = np.full((max(1, len(present)), per_row, *table.shape), BLANK, dtype=np.float32)
    for r, k in enumerate(present):
        images = x[y == k][:per_row]
        grid[r, :len(images)] = images
    return grid, [table.classes[k] for k in present]
