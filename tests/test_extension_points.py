"""A new data kind and a new model family plug in without touching the dispatch code.

Both are registered here, in the test module only: ``run_training``, the Predictor, the logged
pyfunc model and the MLflow run pick them up through the registries.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
import pytest

from dl_core import tracking
from dl_core.data.preprocessing import prepare_tabular
from dl_core.data.storage import store_dataset
from dl_core.errors import ConfigError
from dl_core.kinds import DataKind, register_kind, unregister_kind
from dl_core.models import register_model, unregister_model
from dl_core.models.fnn import FNNConfig, build as build_fnn
from dl_core.training import (
    JobSpec,
    Trainer,
    TrainingResult,
    register_trainer,
    run_training,
    unregister_trainer,
)


class WordsKind(DataKind):
    """Sentences in a ``text`` column; the network sees each sentence's word count."""

    name = "words"
    title = "Sentences (one per row)"
    default_arch = "words_fnn"
    target_label = "Label of each sentence"

    def describe_inputs(self, shape):
        return "word counts"

    @staticmethod
    def counts(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"n_words": df["text"].str.split().str.len()}, index=df.index)

    def prepare(self, spec, df, train_cfg):
        table = self.counts(df).assign(**{spec.target: df[spec.target]})
        data = prepare_tabular(table, spec.target, spec.task, test_size=train_cfg.test_size,
                               val_size=train_cfg.val_size, seed=train_cfg.seed)
        data.raw_test = df.loc[data.raw_test.index]
        data.feature_columns, data.data_kind = ["text"], self.name
        return data

    def model_inputs(self, predictor, df):
        x = predictor.preprocessor.transform(self.counts(df)).astype(np.float32)
        return x, df.index, {"n_words": self.counts(df)["n_words"].tolist()}


def sentences(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, n)
    text = [" ".join(["word"] * int(k)) for k in lengths]
    return pd.DataFrame({"text": text, "long": np.where(lengths > 6, "yes", "no")})


@pytest.fixture
def words_kind():
    register_kind(WordsKind())
    register_model("words_fnn", config=FNNConfig, kinds={"words"}, title="FNN on word counts",
                   description="A test model.")(build_fnn)
    yield
    unregister_model("words_fnn")
    unregister_kind("words")


def test_a_new_data_kind_trains_and_predicts_through_the_registries(words_kind):
    df = sentences(240)
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="sentences", target="long",
                   task="binary", arch="words_fnn", data_kind="words",
                   train_config={"epochs": "60", "patience": "0", "learning_rate": "0.03"})
    result = run_training(spec)
    assert result.status == "FINISHED"
    assert result.metrics["accuracy"] >= 0.9  # the count separates the classes exactly
    run = tracking.get_run(result.run_id)
    assert run.data.params["data_kind"] == "words" and run.data.tags["family"] == "supervised"

    fresh = pd.DataFrame({"text": ["word " * 2, "word " * 10]})
    pred = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/model").predict(fresh)
    assert list(pred.columns) == ["n_words", "prediction", "proba_no", "proba_yes"]
    assert pred["n_words"].tolist() == [2, 10]
    assert pred["prediction"].tolist() == ["no", "yes"]


@dataclass(frozen=True)
class MeanConfig:
    """No hyperparameters: the model is the training rows' mean."""


@dataclass(frozen=True)
class MeanTrainConfig:
    test_size: float = 0.25


class MeanTrainer(Trainer):
    """A family without Keras, a target-free fit and its own training options."""

    family = "mean"
    config_cls = MeanTrainConfig

    def prepare(self, job):
        numbers = job.df.select_dtypes("number")
        cut = int(len(numbers) * (1 - job.train_cfg.test_size))
        return numbers.iloc[:cut], numbers.iloc[cut:]

    def run_tags(self, job, data):
        return {"n_train": len(data[0])}

    def train(self, job, data):
        train, test = data
        mean = train.mean()
        error = float(((test - mean) ** 2).mean().mean())
        tracking.log_metrics(job.run_id, {"test_mse": error})
        job.report({"type": "evaluating"})
        return TrainingResult(job.run_id, "FINISHED", job.spec.task, {"mse": error}, {}, 0)


@pytest.fixture
def mean_family():
    register_trainer(MeanTrainer())
    register_model("column_means", config=MeanConfig, kinds={"tabular"}, family="mean",
                   title="Column means", description="A test family.")(lambda *a: None)
    yield
    unregister_model("column_means")
    unregister_trainer("mean")


def test_a_new_model_family_runs_through_run_training(mean_family):
    df = pd.DataFrame({"a": np.arange(8.0), "b": np.ones(8)})
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="means", target="a",
                   task="regression", arch="column_means", train_config={"test_size": "0.25"})
    events = []
    result = run_training(spec, report=events.append)
    # Train rows a = 0..5 (mean 2.5), test rows 6, 7: squared errors 12.25, 20.25; b is exact.
    assert result.metrics == {"mse": pytest.approx((12.25 + 20.25) / 4)}
    assert [e["type"] for e in events] == ["started", "evaluating", "finished"]
    run = tracking.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["family"] == "mean" and run.data.tags["n_train"] == "6"
    assert run.data.params["test_size"] == "0.25"


def test_an_entry_of_an_unknown_family_is_refused_before_any_run(mean_family):
    unregister_trainer("mean")
    df = pd.DataFrame({"a": np.arange(8.0)})
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="means", target="a",
                   task="regression", arch="column_means")
    before = len(tracking.search_run_records())
    with pytest.raises(ConfigError, match="No trainer for the model family 'mean'"):
        run_training(spec)
    assert len(tracking.search_run_records()) == before
