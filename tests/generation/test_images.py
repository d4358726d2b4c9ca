"""Pixel tables as image arrays and back, and the image generator base (sampling, conditions,
per-class counts, the fixed-noise preview grid, PNG tiles)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from dl_core.errors import DataError
from dl_core.generation.images import ImageTable, png_bytes, tile
from tests.generation.images import MeanImages, digits_table


@pytest.fixture(scope="module")
def digits() -> pd.DataFrame:
    return digits_table(120)


@pytest.fixture(scope="module")
def fitted(digits) -> MeanImages:
    synth = MeanImages()
    synth.fit(digits, condition_columns=("label",), epochs=2, batch_size=16, seed=0)
    return synth


def test_an_8bit_pixel_frame_round_trips_exactly(digits):
    table = ImageTable.from_frame(digits, "label")
    assert table.shape == (8, 8, 1) and table.scale == 255.0 and table.integer_pixels
    assert table.classes == tuple(range(10)) and sum(table.class_freq) == pytest.approx(1.0)
    assert table.class_freq[0] == pytest.approx((digits["label"] == 0).mean())
    x, y = table.arrays(digits)
    assert x.shape == (120, 8, 8, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(y, digits["label"].to_numpy())
    # Columns, order (label first), integer pixels and labels all come back as they were.
    pd.testing.assert_frame_equal(table.frame(x, y), digits)
    assert ImageTable.from_dict(json.loads(json.dumps(table.to_dict()))) == table


def test_scikit_learns_0_to_16_digits_read_as_4_bit_not_near_black():
    """sklearn's digits saved as they come (0..16): read as 0..255 they were near-black and a
    conv_vae learnt black images; as 4-bit they fill 0..1 and come back as written."""
    from sklearn.datasets import load_digits

    from dl_core.data.images import detect_pixel_layout

    bunch = load_digits()
    df = pd.DataFrame(bunch.data[:60].astype(int), columns=[f"px{i}" for i in range(64)])
    df.insert(0, "label", bunch.target[:60])
    assert detect_pixel_layout(df, "label").scale == 16.0
    table = ImageTable.from_frame(df, "label")
    x, y = table.arrays(df)
    assert table.scale == 16.0 and x.max() == 1.0 and table.integer_pixels
    pd.testing.assert_frame_equal(table.frame(x, y), df)


def test_a_unit_scale_frame_with_text_labels_round_trips(digits):
    df = digits.drop(columns="label") / 255.0
    df["kind"] = np.where(digits["label"] % 2 == 0, "even", "odd")
    df.insert(0, "id", np.arange(len(df)))  # not a pixel and not the label: not generated
    table = ImageTable.from_frame(df, "kind")
    assert table.scale == 1.0 and not table.integer_pixels
    assert table.classes == ("even", "odd") and table.columns[-1] == "kind"
    x, y = table.arrays(df)
    back = table.frame(x, y)
    assert list(back.columns) == [c for c in df.columns if c != "id"]
    assert list(back["kind"]) == list(df["kind"])
    np.testing.assert_allclose(back.drop(columns="kind").to_numpy(),
                               df.drop(columns=["id", "kind"]).to_numpy(), atol=1e-6)
    unconditional = ImageTable.from_frame(df.drop(columns="id"), None)
    assert unconditional.label is None and "kind" not in unconditional.columns
    assert unconditional.arrays(df)[1] is None


def test_a_table_that_is_not_images_is_refused():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(DataError, match="at least 16 pixel columns"):
        ImageTable.from_frame(df, "b")
    with pytest.raises(DataError, match="no label column 'digit'"):
        ImageTable.from_frame(digits_table(10), "digit")


def test_samples_have_the_training_columns_and_the_class_mix(digits, fitted):
    rows = fitted.sample(400, seed=1)
    assert list(rows.columns) == list(digits.columns)
    assert rows.drop(columns="label").dtypes.eq(np.int64).all()
    assert rows.drop(columns="label").to_numpy().max() <= 255
    # Each class its training share of the 400, rounded up or down (never a multinomial's luck).
    counts = rows["label"].value_counts().sort_index().to_numpy()
    quotas = 400 * np.asarray(fitted.table.class_freq)
    assert ((counts == np.floor(quotas)) | (counts == np.ceil(quotas))).all()
    assert counts.sum() == 400
    pd.testing.assert_frame_equal(fitted.sample(30, seed=1), fitted.sample(30, seed=1))


def test_a_few_images_round_each_share_up_as_often_as_its_fraction(fitted):
    """7 images of 10 classes cannot match the mix; over many seeds each class still gets its
    share on average (the sevens, 12.5% of the training images: 0.875 of an image)."""
    seen = np.zeros(fitted.table.n_classes)
    for seed in range(300):
        labels = fitted.sample(7, seed=seed)["label"]
        seen += np.bincount([fitted.table.label_index(v) for v in labels],
                            minlength=fitted.table.n_classes)
    np.testing.assert_allclose(seen / 300, 7 * np.asarray(fitted.table.class_freq), atol=0.12)


def test_conditions_and_per_class_counts(fitted):
    assert set(fitted.sample(6, seed=0, condition={"label": "3"})["label"]) == {3}
    with pytest.raises(DataError, match=r"Unknown class 11 of 'label'; the classes are: "
                                        r"0, 1, 2, 3, 4, 5, 6, 7, 8, 9\."):
        fitted.sample(5, condition={"label": 11})
    with pytest.raises(DataError, match=r"only be conditioned on its label column, 'label'"):
        fitted.sample(5, condition={"pixel3": 0})
    rows = fitted.sample_counts({0: 2, "7": 3, 5: 0}, seed=0)
    assert list(rows["label"]) == [0, 0, 7, 7, 7]
    with pytest.raises(DataError, match="at least one image"):
        fitted.sample_counts({1: 0})


def test_preview_grid_is_fixed_noise_one_row_per_class(fitted):
    grid = fitted.preview_grid(seed=5, per_row=4)
    assert grid.shape == (10, 4, 8, 8, 1)
    np.testing.assert_array_equal(grid, fitted.preview_grid(seed=5, per_row=4))
    # Row k shows class k: each image is nearest to its own class's mean.
    nearest = np.argmin([[np.abs(img - m).sum() for m in fitted.means] for img in grid[:, 0]],
                        axis=1)
    np.testing.assert_array_equal(nearest, np.arange(10))
    assert fitted.preview_labels() == list(range(10))


def test_tile_and_png(fitted):
    from PIL import Image

    grid = fitted.preview_grid(seed=0, per_row=3)
    image = tile(grid, pad=1)
    assert image.shape == (10 * 9 + 1, 3 * 9 + 1) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[1:9, 1:9], np.round(grid[0, 0, ..., 0] * 255))
    data = png_bytes(image, upscale=2)
    back = np.asarray(Image.open(io.BytesIO(data)))
    assert back.shape == (2 * image.shape[0], 2 * image.shape[1])
    np.testing.assert_array_equal(back[::2, ::2], image)
    rgb = tile(np.ones((1, 2, 4, 4, 3)) * [1.0, 0.0, 0.0])
    assert rgb.shape == (6, 11, 3) and tuple(rgb[1, 1]) == (255, 0, 0)


def test_a_diverged_networks_nan_pixels_tile_as_grey():
    """A grid drawn in the epoch a network diverged (NaN pixels) shows grey, like the padding."""
    grid = np.zeros((1, 2, 3, 3))
    grid[0, 1] = np.nan
    with np.errstate(invalid="raise"):
        image = tile(grid)
    assert (image[1:4, 5:8] == 128).all() and (image[1:4, 1:4] == 0).all()


def test_saved_generator_samples_the_same(fitted, tmp_path):
    fitted.save(tmp_path)
    again = MeanImages.load(tmp_path)
    assert again.table == fitted.table
    pd.testing.assert_frame_equal(again.sample(20, seed=4), fitted.sample(20, seed=4))
