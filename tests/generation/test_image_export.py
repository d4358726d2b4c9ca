"""Generated images as files: the PNG grid (grouped by class, crisp zoom), the ZIP of PNGs at
their own size, the pixel CSV (training columns, formulas neutralised)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dl_core.errors import ConfigError
from dl_core.generation import image_export
from dl_core.generation.images import ImageTable
from tests.generation.images import digits_table


@pytest.fixture(scope="module")
def digits() -> pd.DataFrame:
    return digits_table(30, seed=1)


@pytest.fixture(scope="module")
def table(digits) -> ImageTable:
    return ImageTable.from_frame(digits, "label")


def png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_the_contact_sheet_groups_by_class_in_a_near_square_grid_zoomed_crisply(digits, table):
    x, y = table.arrays(digits)
    image = png(image_export.contact_sheet_png(x, y))
    # 30 images: 6 columns x 5 rows of 8x8 cells, 1 pixel of padding, zoomed 4x (32 px cells).
    assert image.shape == ((5 * 9 + 1) * 4, (6 * 9 + 1) * 4)
    first = x[np.argsort(y, kind="stable")[0], :, :, 0]
    # The first cell is the first image of the smallest class, each pixel a 4x4 block.
    np.testing.assert_array_equal(image[4:36:4, 4:36:4], np.round(first * 255).astype(np.uint8))
    assert (image[4:8, 4:8] == image[4, 4]).all()


def test_the_zip_holds_one_png_per_image_named_by_class_at_its_own_size(digits, table):
    x, y = table.arrays(digits)
    with zipfile.ZipFile(io.BytesIO(image_export.zip_pngs(x, y, table.classes))) as archive:
        names = archive.namelist()
        assert len(names) == 30
        assert names[0] == f"00001_{digits['label'][0]}.png"
        third = png(archive.read(names[2]))
    assert third.shape == (8, 8)
    np.testing.assert_array_equal(third, digits.drop(columns="label").iloc[2].to_numpy()
                                  .reshape(8, 8).astype(np.uint8))


def test_the_pixel_csv_has_the_training_columns_and_neutralises_formula_labels(digits):
    df = digits.copy()
    df["label"] = np.where(df["label"] % 2 == 0, "=HYPERLINK(\"x\")", "odd")
    table = ImageTable.from_frame(df, "label")
    x, y = table.arrays(df)
    rows = table.frame(x, y)
    back = pd.read_csv(io.BytesIO(image_export.image_file(rows, table, ".csv")))
    assert list(back.columns) == list(df.columns)
    assert set(back["label"]) == {"'=HYPERLINK(\"x\")", "odd"}
    np.testing.assert_array_equal(back.drop(columns="label").to_numpy(),
                                  df.drop(columns="label").to_numpy())


def test_an_unknown_file_kind_is_refused_with_the_kinds_offered(digits, table):
    with pytest.raises(ConfigError, match=r"\.csv, \.png, \.zip .*got '\.jpg'"):
        image_export.image_file(digits, table, ".jpg")
