"""The generative trainer on pixel tables: an image generator trains end to end, conditioned on
the label, and its run stores samples shaped like the training CSV."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.errors import DataError
from dl_core.models import register_model, unregister_model
from dl_core.training import JobSpec, run_training
from tests.generation.images import MeanConfig, MeanImages, digits_table


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


def test_a_table_that_is_not_images_records_no_image_run(meanimg):
    df = pd.DataFrame({"a": range(40), "label": ["x", "y"] * 20})
    with pytest.raises(DataError, match="at least 16 pixel columns"):
        run_training(image_spec(df))
