"""`python -m dl_core generate` for an image generator: --out .png (a grid), .zip (one PNG per
image) or .csv (the training pixel columns); the image report in the JSON line last."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest
from PIL import Image

from dl_core import tracking
from dl_core.cli import main
from dl_core.data.samples import build_sample

FIGURES = {"agreement", "frechet_distance", "frechet_floor", "frechet_ratio", "precision",
           "recall", "copies", "memorisation_ratio"}


def generate(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(["generate", *args])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return code, json.loads(lines[-1]) if code == 0 else None, err


def test_png_is_a_grid_of_the_images_with_the_report_last(image_generator_run, tmp_path, capsys):
    out = tmp_path / "grid.png"
    code, result, err = generate(capsys, image_generator_run, "--n", "12", "--seed", "4",
                                 "--out", str(out))
    assert code == 0, err
    assert result["rows"] == 12 and result["source_run_id"] == image_generator_run
    assert FIGURES <= set(result) and result["out"] == str(out.resolve())
    # The printed figures are the recorded generation's.
    recorded = tracking.get_run(result["run_id"]).data.metrics
    for key in ("precision", "recall", "frechet_distance", "memorisation_ratio"):
        assert result[key] == pytest.approx(recorded[key]), key
    image = Image.open(out)
    # 12 images: 4 columns x 3 rows of 8x8 cells, 1-pixel padding, zoomed 4x.
    assert image.format == "PNG" and image.size == ((4 * 9 + 1) * 4, (3 * 9 + 1) * 4)


def test_zip_holds_n_pngs_of_the_class_asked_for(image_generator_run, tmp_path, capsys):
    out = tmp_path / "threes.zip"
    code, result, err = generate(capsys, image_generator_run, "--n", "9", "--condition",
                                 "label=3", "--out", str(out))
    assert code == 0, err
    assert result["rows"] == 9
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        sizes = {Image.open(io.BytesIO(archive.read(n))).size for n in names}
    assert len(names) == 9 and all(n.endswith("_3.png") for n in names) and sizes == {(8, 8)}


def test_csv_has_the_training_columns_and_labels_like_the_training_mix(image_generator_run,
                                                                        tmp_path, capsys):
    out = tmp_path / "digits.csv"
    code, result, err = generate(capsys, image_generator_run, "--n", "60", "--out", str(out))
    assert code == 0, err
    rows = pd.read_csv(out)
    assert list(rows.columns) == list(build_sample("digits").columns)
    assert len(rows) == 60 and rows["label"].nunique() >= 5  # drawn with the training mix
    pixels = rows.drop(columns="label")
    # On the training file's 0..255 scale: written as 0..1 or as 4-bit, no pixel would pass 16.
    assert (pixels.dtypes == "int64").all() and pixels.min().min() >= 0
    assert 16 < pixels.max().max() <= 255


def test_another_file_kind_is_refused_before_generating(image_generator_run, tmp_path, capsys):
    code, _, err = generate(capsys, image_generator_run, "--n", "5",
                            "--out", str(tmp_path / "x.jpg"))
    assert code == 2
    assert err.startswith("error: --out for images ends in .csv (pixel CSV), .png (grid) or .zip")
    assert not (tmp_path / "x.jpg").exists()
