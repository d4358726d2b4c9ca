"""Images stored as CSV rows: detect pixel columns, infer and validate the shape, prepare.

A pixel CSV holds a label column plus ``H x W`` (or ``H x W x C``) numeric pixel columns in
row-major order, named like ``pixel0..pixel783``, ``px_3_4``, ``1x1..28x28``, or simply many
numeric columns whose count is a square. Values are 0-255 (8-bit), 0-1, or whole numbers
0-16 (4-bit, like scikit-learn's digits).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dl_core.data.preprocessing import PreparedData, TargetEncoding, split_rows
from dl_core.data.profile import DataProfile, profile_dataframe
from dl_core.data.task import check_target
from dl_core.data.transformers import PixelScaler
from dl_core.errors import ConfigError, DataError

MIN_PIXELS = 16
LABEL_NAMES = ("label", "labels", "target", "class", "y", "digit", "category")
_ONE = re.compile(r"^(?:pixel|pix|px|p)?[_\-]?(\d+)$", re.IGNORECASE)
_TWO = re.compile(r"^(?:pixel|pix|px|p)?[_\-]?(\d+)[_x\-](\d+)$", re.IGNORECASE)
_THREE = re.compile(r"^(?:pixel|pix|px|p)?[_\-]?(\d+)[_x\-](\d+)[_x\-](\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class PixelLayout:
    """Where the pixels of a pixel CSV are and what shape they make.

    Attributes:
        label: The label column (None when none could be told apart).
        pixel_columns: Pixel columns in row-major ``H, W, C`` order.
        shape: ``(height, width, channels)`` inferred from names or count; None when the count
            fits no square (the user must give it).
        scale: 255 for 8-bit pixels, 1 for values already in 0..1.
    """

    label: str | None
    pixel_columns: tuple[str, ...]
    shape: tuple[int, int, int] | None
    scale: float


def parse_image_shape(text: str | tuple | list | None) -> tuple[int, int, int] | None:
    """``"28x28"``, ``"28x28x1"`` or ``(28, 28, 1)`` as ``(H, W, C)``; None passes through.

    Raises:
        ConfigError: if the text is not two or three positive whole numbers.
    """
    if text is None or text == "" or text == ():
        return None
    if isinstance(text, (tuple, list)):
        parts = [str(p) for p in text]
    else:
        parts = [p for p in re.split(r"\s*[x×,*]\s*", str(text).strip().lower()) if p]
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        dims = []
    if len(dims) not in (2, 3) or min(dims) < 1:
        raise ConfigError(
            f"Image shape must be HxW or HxWxC with positive whole numbers, e.g. 28x28x1; "
            f"got {text!r}."
        )
    return (dims[0], dims[1], dims[2] if len(dims) == 3 else 1)


def format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def _indexed(columns: list[str]) -> tuple[list[str], list[tuple[int, ...]]] | None:
    """The columns named by one index pattern (the largest group), with their indices."""
    best: tuple[list[str], list[tuple[int, ...]]] | None = None
    for pattern in (_THREE, _TWO, _ONE):
        names, idx = [], []
        for c in columns:
            m = pattern.match(str(c))
            if m:
                names.append(c)
                idx.append(tuple(int(g) for g in m.groups()))
        if len(names) >= MIN_PIXELS and (best is None or len(names) > len(best[0])):
            best = (names, idx)
    return best


def _square_shape(n: int) -> tuple[int, int, int] | None:
    side = math.isqrt(n)
    if side * side == n:
        return (side, side, 1)
    if n % 3 == 0 and math.isqrt(n // 3) ** 2 == n // 3:
        side = math.isqrt(n // 3)
        return (side, side, 3)
    return None


def _order_and_shape(names: list[str], idx: list[tuple[int, ...]]):
    order = sorted(range(len(names)), key=lambda i: idx[i])
    ordered = tuple(names[i] for i in order)
    width = len(idx[0])
    if width == 1:
        return ordered, _square_shape(len(names))
    dims = [len({t[d] for t in idx}) for d in range(width)]
    shape = (dims[0], dims[1], dims[2] if width == 3 else 1)
    return ordered, shape if math.prod(shape) == len(names) else None


def _pick_label(candidates: list[str]) -> str | None:
    for name in LABEL_NAMES:
        for c in candidates:
            if str(c).strip().lower() == name:
                return c
    return candidates[0] if len(candidates) == 1 else None


def _numeric_columns(df: pd.DataFrame, columns) -> list[str]:
    return [c for c in columns if pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])]


def _scale_of(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() < 0 or finite.max() > 255:
        return None
    if finite.max() <= 1:
        return 1.0
    # Whole numbers up to 16: 4-bit intensities (scikit-learn's and UCI's digits, 0..16). Read
    # as 0..255 they were near-black and a generator learnt black images.
    if finite.max() <= 16 and np.all(finite == np.round(finite)):
        return 16.0
    return 255.0


def detect_pixel_layout(df: pd.DataFrame, target: str | None = None) -> PixelLayout | None:
    """A :class:`PixelLayout` if ``df`` looks like a pixel CSV, else None.

    Pixel columns are found by name first (``pixel12``, ``px_3_4``, ``3x4``), else as all
    numeric columns but one when their count is a square (or 3 squares) of at least 16 and
    their values lie in 0..255. The label is ``target`` when given.
    """
    columns = [c for c in df.columns if c != target]
    found = _indexed(columns)
    if found is not None:
        pixels, shape = _order_and_shape(*found)
    else:
        numeric = _numeric_columns(df, columns)
        others = [c for c in columns if c not in numeric]
        if target is None and not others:
            label = _pick_label(numeric) or (numeric[0] if numeric else None)
            numeric = [c for c in numeric if c != label]
        if len(numeric) < MIN_PIXELS or _square_shape(len(numeric)) is None:
            return None
        pixels, shape = tuple(numeric), _square_shape(len(numeric))
    values = df[list(pixels)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    scale = _scale_of(values)
    if scale is None:
        return None
    if target is None:
        rest = [c for c in df.columns if c not in set(pixels)]
        target = _pick_label(rest)
    return PixelLayout(label=target, pixel_columns=tuple(pixels), shape=shape, scale=scale)


def pixel_columns(df: pd.DataFrame, target: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """The pixel columns of ``df`` in row-major order (named ones, else every numeric column).

    Raises:
        DataError: if there are fewer than 16 candidate columns.
    """
    columns = [c for c in df.columns if c != target and c not in exclude]
    found = _indexed(columns)
    pixels = list(_order_and_shape(*found)[0]) if found else _numeric_columns(df, columns)
    if len(pixels) < MIN_PIXELS:
        raise DataError(
            f"An image CSV needs at least {MIN_PIXELS} pixel columns (e.g. pixel0..pixel63 for "
            f"8x8 images); found {len(pixels)} numeric column(s) besides the label '{target}'. "
            "Choose the data kind 'tabular' for this file."
        )
    return pixels


def resolve_shape(pixels: list[str], shape: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """The image shape for these pixel columns: ``shape`` checked, or inferred.

    Raises:
        DataError: if ``shape`` does not multiply to the pixel count, or none was given and the
            count is not a square (grey) or three squares (RGB).
    """
    n = len(pixels)
    if shape is None:
        found = _indexed(pixels)
        inferred = _order_and_shape(*found)[1] if found else _square_shape(n)
        if inferred is None:
            side = math.isqrt(n)
            raise DataError(
                f"Cannot infer the image shape: {n} pixel columns is neither a square "
                f"(e.g. {side}x{side} = {side * side}) nor three squares (RGB). Give the shape "
                "as HxWxC (in the app, or --image-shape on the command line), or check for "
                "missing or extra pixel columns."
            )
        return inferred
    if math.prod(shape) != n:
        raise DataError(
            f"The image shape {format_shape(shape)} needs {math.prod(shape)} pixel columns; the "
            f"data has {n}. Fix the shape (height x width x channels = {n}) or the pixel columns."
        )
    return shape


def pixel_matrix(df: pd.DataFrame, pixels: list[str]) -> tuple[np.ndarray, float]:
    """The pixels as a float array and their scale (255, 16 or 1).

    Raises:
        DataError: for non-numeric, missing or out-of-range (below 0, above 255) pixels.
    """
    frame = df[pixels]
    text = [c for c in pixels if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        bad = frame[text[0]][pd.to_numeric(frame[text[0]], errors="coerce").isna()
                             & frame[text[0]].notna()]
        example = f" (e.g. {bad.iloc[0]!r})" if len(bad) else ""
        raise DataError(
            f"Pixel column(s) {text[:5]} hold non-numeric values{example}; pixels must be numbers "
            "from 0 to 255 or 0 to 1. Fix or remove those rows."
        )
    values = frame.to_numpy(dtype=float)
    missing = int(np.isnan(values).sum())
    if missing:
        rows = int(np.isnan(values).any(axis=1).sum())
        raise DataError(
            f"{missing} pixel value(s) are missing in {rows} row(s); every pixel needs a value. "
            "Fill them (e.g. with 0) or remove those rows."
        )
    scale = _scale_of(values)
    if scale is None:
        raise DataError(
            f"Pixel values range from {values.min():g} to {values.max():g}; expected 0 to 255 "
            "(8-bit) or 0 to 1. Rescale the pixels."
        )
    return values, scale


def prepare_images(
    df: pd.DataFrame, target: str, task: str, *, image_shape: tuple[int, int, int] | None = None,
    test_size: float = 0.2, val_size: float = 0.1, seed: int = 42, exclude: tuple[str, ...] = (),
    profile: DataProfile | None = None,
) -> PreparedData:
    """Split rows (stratified), scale pixels and reshape them to ``(n, H, W, C)``.

    Raises:
        DataError: for a bad target, too few pixel columns, a shape that does not fit or bad
            pixel values.
    """
    check_target(df, target, task, test_size=test_size, val_size=val_size)
    pixels = pixel_columns(df, target, exclude)
    shape = resolve_shape(pixels, image_shape)
    values, scale = pixel_matrix(df, pixels)
    profile = profile or profile_dataframe(df)
    known = df[df[target].notna()]
    notes = []
    if len(known) < len(df):
        notes.append(f"{len(df) - len(known)} rows without a label were left out.")
    train, val, test = split_rows(known, target, task, test_size=test_size, val_size=val_size,
                                  seed=seed)
    scaler = PixelScaler(shape=shape, scale=scale).fit(train[pixels])
    encoding = TargetEncoding.fit(train[target], task)
    dropped = {c: "not a pixel column" for c in df.columns if c != target and c not in pixels}
    dropped.update({c: "excluded by you" for c in exclude if c in df.columns and c != target})
    del values  # validated above; each split is transformed from its own rows
    return PreparedData(
        x_train=scaler.transform(train[pixels]), y_train=encoding.encode(train[target]),
        x_val=scaler.transform(val[pixels]), y_val=encoding.encode(val[target]),
        x_test=scaler.transform(test[pixels]), y_test=encoding.encode(test[target]),
        raw_test=test, preprocessor=scaler, target=encoding, feature_columns=pixels,
        dropped=dropped, profile=profile, notes=notes, data_kind="image",
        layout={"image_shape": list(shape), "scale": scale},
    )


def sample_images(df: pd.DataFrame, layout: PixelLayout, shape: tuple[int, int, int],
                  n: int = 24, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Up to ``n`` images ``(n, H, W, C)`` in 0..1 and their labels, for a preview grid (a
    missing or non-numeric pixel is NaN, drawn grey: the data check says what is wrong)."""
    rows = df.sample(min(n, len(df)), random_state=seed) if len(df) > n else df
    pixels = rows[list(layout.pixel_columns)].apply(pd.to_numeric, errors="coerce")
    values = pixels.to_numpy(dtype=float) / layout.scale
    has_label = layout.label in df.columns
    labels = [str(v) for v in rows[layout.label]] if has_label else [""] * len(rows)
    return np.clip(values, 0, 1).reshape(-1, *shape), labels
