"""The generative trainer and generation on pixel tables: an image generator trains end to end,
conditioned on the label, with a fixed-noise grid every few epochs; its run is scored with the
image report and stores samples shaped like the training CSV and their grid; generation takes
per-class counts; the CLI trains image_kde and generates with the image figures."""

from __future__ import annotations

import base64
import io
import json
import math

import pandas as pd
import pytest

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.errors import DataError
from dl_core.models import register_model, unregister_model
from dl_core.training import JobSpec, run_training
from tests.generation.images import MeanConfig, MeanImages, digits_table, stripes_table


@pytest.fixture(scope="module")
def meanimg():
    register_model("meanimg", config=MeanConfig, kinds={"image"}, family="generative",
                   title="Class means", description="A test image generator.")(
        lambda cfg: MeanImages(cfg))
    yield "meanimg"
    unregister_model("meanimg")


def image_spec(df: pd.DataFrame, target: str = "label", **train) -> JobSpec:
    return JobSpec(dataset_path=str(store_dataset(df)), dataset_name="digits", target=target,
                   task="generation", arch="meanimg", data_kind="image",
                   train_config={k: str(v) for k, v in {"epochs": 3, **train}.items()})


@pytest.fixture(scope="module")
def image_run(meanimg):
    events: list[dict] = []
    result = run_training(image_spec(digits_table(150), holdout_size=0.3), report=events.append)
    return result, events


def test_an_image_generator_trains_conditioned_on_the_label(image_run):
    result, _ = image_run
    assert result.status == "FINISHED" and result.epochs_run == 3
    run = tracking.get_run(result.run_id)
    assert run.data.params["condition_columns"] == "label"
    assert run.data.tags["data_kind"] == "image"
    samples = pd.read_csv(io.BytesIO(tracking.artifact_bytes(result.run_id,
                                                             "generation/samples.csv")))
    assert list(samples.columns) == list(digits_table(5).columns)
    assert set(samples["label"]) <= set(range(10)) and samples["label"].nunique() > 5
    # Scored as images: the image report's figures are the run's metrics.
    report = tracking.load_json(result.run_id, "generation/report.json")
    assert report["kind"] == "image" and report["n_train"] == 105 and report["n_holdout"] == 45
    for key in ("agreement", "frechet_distance", "frechet_floor", "frechet_ratio", "precision",
                "recall", "copies", "memorisation_ratio"):
        assert run.data.metrics[key] == pytest.approx(report[key]), key
    assert report["agreement"] > 0.8 and report["copies"] == 0
    grid = png_image(tracking.artifact_bytes(result.run_id, "generation/grid.png"))
    assert grid.shape[0] > 8 * 10  # ten rows of 8x8 digits


def png_image(data: bytes):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def test_a_fixed_noise_grid_every_few_epochs(image_run):
    _, events = image_run
    grids = [e for e in events if e["type"] == "image_grid"]
    assert [e["epoch"] for e in grids] == [1, 2, 3]
    assert grids[0]["row_labels"] == list(range(10))
    images = [png_image(base64.b64decode(e["png"])) for e in grids]
    # The generator is unchanged after fitting, and the noise is fixed: the grids are equal.
    assert images[0].shape[0] > 10 * 8 and (images[0] == images[2]).all()
    assert not [e for e in events if e["type"] == "samples" and e["epoch"] < 3]


def test_generation_takes_per_class_counts_and_conditions(image_run):
    from dl_core.errors import ConfigError
    from dl_core.generation.generate import generate

    run_id = image_run[0].run_id
    rows, report = generate(run_id, 0, seed=1, counts={3: 4, "5": 2})
    assert list(rows["label"]) == [3, 3, 3, 3, 5, 5] and report["kind"] == "image"
    assert report["counts"] == {"3": 4, "5": 2}
    recorded = tracking.get_run(report["run_id"])
    assert recorded.data.params["counts"] == "3=4,5=2"
    assert "generation/grid.png" in tracking.artifact_paths(report["run_id"])
    rows, report = generate(run_id, 30, seed=2, condition={"label": "7"}, record=False)
    assert set(rows["label"]) == {7} and report["notes"][0].startswith("Real images narrowed")
    # Narrowed, so nothing says it could not be (a newcomer read both notes, one after the other).
    assert not any(note.startswith("Too few real") for note in report["notes"])
    # The reference classifier still knows every class: agreement is measured.
    assert report["agreement"] > 0.8
    with pytest.raises(ConfigError, match="add up to 6 images, not 5"):
        generate(run_id, 5, counts={3: 4, 5: 2})
    with pytest.raises(DataError, match="Unknown class 12 of 'label'"):
        generate(run_id, 0, counts={12: 1})


def test_every_draw_of_a_run_is_scored_by_the_reference_the_train_page_used(image_run):
    from dl_core.generation.generate import generate

    result, _ = image_run
    trained = tracking.load_json(result.run_id, "generation/report.json")
    # Another seed than training's 42, as many images: the floor is the Train page's, to the
    # last digit (it was measured with a classifier seeded by the draw's seed, and differed).
    _, report = generate(result.run_id, trained["n_synthetic"], seed=7, record=False)
    assert report["seed"] == 7
    assert report["frechet_floor"] == trained["frechet_floor"]
    assert report["reference_accuracy"] == trained["reference_accuracy"]


def test_a_stopped_image_run_ends_with_the_grid_of_its_last_epoch(meanimg):
    import threading

    stop, events = threading.Event(), []

    def report(event):
        events.append(event)
        if event["type"] == "epoch" and event["epoch"] == 13:
            stop.set()

    result = run_training(image_spec(digits_table(60), epochs=100), report=report, stop=stop)
    grids = [e["epoch"] for e in events if e["type"] == "image_grid"]
    assert result.status == "KILLED" and grids == [1, 10, 13]


def test_a_table_that_is_not_images_records_no_image_run(meanimg):
    df = pd.DataFrame({"a": range(40), "label": ["x", "y"] * 20})
    with pytest.raises(DataError, match="at least 16 pixel columns"):
        run_training(image_spec(df))


def test_cli_trains_image_kde_and_generates_with_the_image_figures(tmp_path, capsys):
    from dl_core.cli import main

    def run(*args: str) -> dict:
        # In process (a fresh interpreter costs seconds on 2 cores; tests/test_cli.py covers it).
        assert main(list(args)) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    data = tmp_path / "digits.csv"
    digits_table(200).to_csv(data, index=False)
    trained = run("train", str(data), "--target", "label", "--arch", "image_kde", "--quiet")
    assert trained["data_kind"] == "image" and trained["status"] == "FINISHED"
    assert trained["metrics"]["agreement"] > 0.8 and trained["metrics"]["copies"] == 0
    out = tmp_path / "more.csv"
    # Labels drawn with the training mix (the run has a target: no utility figure for images).
    result = run("generate", trained["run_id"], "--n", "40", "--out", str(out))
    assert {"agreement", "frechet_distance", "frechet_floor", "precision", "recall", "copies",
            "memorisation_ratio"} <= set(result) and result["rows"] == 40
    assert "tstr_ratio" not in result and result["agreement"] > 0.8
    rows = pd.read_csv(out)
    assert list(rows.columns) == list(digits_table(1).columns) and rows["label"].nunique() > 4


def test_cli_trains_and_generates_colour_images_in_the_shape_given(tmp_path, capsys):
    """45 pixels are no square: the run needs --image-shape, and its images keep it."""
    import zipfile

    from PIL import Image

    from dl_core.cli import main

    def run(*args: str) -> dict:
        assert main(list(args)) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    data = tmp_path / "stripes.csv"
    stripes_table(60, (3, 5, 3)).to_csv(data, index=False)
    trained = run("train", str(data), "--target", "label", "--arch", "image_kde",
                  "--image-shape", "3x5x3", "--quiet")
    assert trained["status"] == "FINISHED" and trained["metrics"]["agreement"] > 0.9
    out = tmp_path / "more.zip"
    run("generate", trained["run_id"], "--n", "4", "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        images = [Image.open(io.BytesIO(archive.read(n))) for n in archive.namelist()]
    assert {(im.size, im.mode) for im in images} == {((5, 3), "RGB")}  # (width, height)
    out = tmp_path / "more.csv"
    run("generate", trained["run_id"], "--n", "4", "--out", str(out))
    assert list(pd.read_csv(out).columns) == list(stripes_table(1, (3, 5, 3)).columns)


def test_a_network_learns_4x16_images_as_4x16_not_8x8():
    """64 pixels read as 8x8 unless the shape given reaches the fit."""
    df = stripes_table(80, (4, 16, 1))
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="stripes", target="label",
                   task="generation", arch="conv_vae", data_kind="image", image_shape=(4, 16, 1),
                   model_config={"filters": "8,16", "dense_units": "16", "latent_dim": "2"},
                   train_config={"epochs": "1", "batch_size": "32"})
    events: list[dict] = []
    result = run_training(spec, report=events.append)
    assert result.status == "FINISHED"
    samples = pd.read_csv(io.BytesIO(tracking.artifact_bytes(result.run_id,
                                                             "generation/samples.csv")))
    assert list(samples.columns) == list(df.columns)
    # Two rows (classes) of 8 images of 4x16 pixels, 1-pixel padding, zoomed 2x (8x8 images
    # would make a 76x292 grid).
    grid = png_image(tracking.artifact_bytes(result.run_id, "generation/grid.png"))
    assert grid.shape[:2] == (2 * (2 * 5 + 1), 2 * (8 * 17 + 1))
    live = png_image(base64.b64decode([e for e in events if e["type"] == "image_grid"][-1]["png"]))
    assert live.shape == grid.shape


def test_a_diverging_generator_stops_and_fails_with_advice():
    """As a supervised run does: the epoch the loss became NaN is the last, and the run is
    FAILED with what to change, not a model of NaN images scored and stored."""
    from dl_core.errors import TrainingError

    spec = JobSpec(dataset_path=str(store_dataset(digits_table(64))), dataset_name="digits",
                   target="label", task="generation", arch="conv_vae", data_kind="image",
                   model_config={"filters": "8,16", "dense_units": "16", "latent_dim": "2",
                                 "learning_rate": "1.0"},
                   train_config={"epochs": "20", "batch_size": "32"})
    events: list[dict] = []
    with pytest.raises(TrainingError, match=r"The training loss became (nan|inf) in epoch \d+.* "
                                            r"Lower the learning rate \(it was 1; try 0\.1\) "
                                            r"and train again\."):
        run_training(spec, report=events.append)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert len(epochs) < 20 and not math.isfinite(epochs[-1]["logs"]["loss"])
    assert all(math.isfinite(e["logs"]["loss"]) for e in epochs[:-1])
    assert not [e for e in events if e["type"] == "evaluating"]
    run_id = next(e["run_id"] for e in events if e["type"] == "started")
    run = tracking.get_run(run_id)
    assert run.info.status == "FAILED"
    assert "Lower the learning rate" in run.data.tags[tracking.TAG_ERROR]
    assert not [p for p in tracking.artifact_paths(run_id) if p.startswith("synthesizer")]
