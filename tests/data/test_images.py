"""Pixel CSVs: detection, shape inference and validation, the prepared image tensors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.data.images import (
    detect_pixel_layout,
    parse_image_shape,
    pixel_columns,
    prepare_images,
    resolve_shape,
)
from dl_core.data.sequences import detect_data_kind
from dl_core.errors import ConfigError, DataError


def pixel_frame(names, n=60, high=255, seed=0, label="label"):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.integers(0, high + 1, size=(n, len(names))), columns=names)
    frame.insert(0, label, rng.integers(0, 3, size=n))
    return frame


@pytest.mark.parametrize(
    ("names", "shape"),
    [
        ([f"pixel{i}" for i in range(64)], (8, 8, 1)),
        ([f"px_{r}_{c}" for r in range(4) for c in range(6)], (4, 6, 1)),
        ([f"{r}x{c}" for r in range(1, 6) for c in range(1, 6)], (5, 5, 1)),
        ([f"p{i}" for i in range(48)], (4, 4, 3)),
        ([f"f{i}" for i in range(36)], (6, 6, 1)),  # plain numeric columns, square count
    ],
    ids=["pixelN", "px_r_c", "RxC", "rgb", "square-count"],
)
def test_detects_pixel_csvs_and_infers_shape(names, shape):
    df = pixel_frame(names)
    layout = detect_pixel_layout(df)
    assert layout is not None and layout.label == "label" and layout.shape == shape
    assert layout.scale == 255.0
    assert detect_data_kind(df) == "image"


def test_pixel_order_is_row_major_whatever_the_column_order():
    names = [f"px_{r}_{c}" for r in range(4) for c in range(4)]
    df = pixel_frame(list(reversed(names)))
    assert pixel_columns(df, "label") == names


def test_unit_range_pixels_and_tables_are_told_apart(tiny_binary):
    df = pixel_frame([f"pixel{i}" for i in range(16)])
    df[df.columns[1:]] = df[df.columns[1:]] / 255.0
    assert detect_pixel_layout(df).scale == 1.0
    assert detect_pixel_layout(tiny_binary) is None


def test_prepared_images_are_scaled_and_shaped():
    df = pixel_frame([f"pixel{i}" for i in range(64)], n=90)
    data = prepare_images(df, "label", "multiclass", seed=0)
    assert data.input_shape == (8, 8, 1) and data.x_train.max() <= 1.0
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 90
    np.testing.assert_allclose(
        data.x_test[0].reshape(-1), df.loc[data.raw_test.index[0], data.feature_columns] / 255.0,
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("text", "shape"), [("28x28", (28, 28, 1)), ("32X32x3", (32, 32, 3)), ("8,8,1", (8, 8, 1))]
)
def test_parse_image_shape(text, shape):
    assert parse_image_shape(text) == shape


def test_bad_image_shape_text():
    with pytest.raises(ConfigError, match=r"HxW or HxWxC.*got '28by28'"):
        parse_image_shape("28by28")


def test_pixel_count_that_is_no_shape_is_explained():
    df = pixel_frame([f"pixel{i}" for i in range(50)])
    with pytest.raises(DataError, match=r"Cannot infer the image shape: 50 pixel columns is "
                                        r"neither a square \(e.g. 7x7 = 49\)"):
        prepare_images(df, "label", "multiclass")
    with pytest.raises(DataError, match=r"shape 8x8x1 needs 64 pixel columns; the data has 50"):
        resolve_shape(pixel_columns(df, "label"), (8, 8, 1))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.assign(pixel3=d["pixel3"].astype(object).where(d.index != 4, "dark")),
         r"non-numeric values \(e.g. 'dark'\)"),
        (lambda d: d.assign(pixel3=d["pixel3"].where(d.index != 4)),
         r"1 pixel value\(s\) are missing"),
        (lambda d: d.assign(pixel3=d["pixel3"] * 10), r"expected 0 to 255 \(8-bit\) or 0 to 1"),
    ],
    ids=["text", "missing", "range"],
)
def test_bad_pixel_values_are_explained(change, match):
    df = change(pixel_frame([f"pixel{i}" for i in range(16)]))
    with pytest.raises(DataError, match=match):
        prepare_images(df, "label", "multiclass")


def test_too_few_pixel_columns():
    df = pixel_frame([f"pixel{i}" for i in range(4)])
    with pytest.raises(DataError, match=r"at least 16 pixel columns"):
        prepare_images(df, "label", "multiclass")
