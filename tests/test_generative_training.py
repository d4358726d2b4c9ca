"""The generative trainer: live losses, sample previews, Stop, the report and what is stored;
generation in the worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.errors import DataError
from dl_core.generation.synthesizer import CopulaSynthesizer
from dl_core.models import register_model, unregister_model
from dl_core.training import JobSpec, run_training


def table(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=n),
                         "group": rng.choice(["a", "b", "c"], n)})


@dataclass(frozen=True)
class StepConfig:
    pass


class StepSynthesizer(CopulaSynthesizer):
    """A copula that pretends to train for many epochs, one loss falling, honouring Stop."""

    iterative = True

    def fit(self, df, *, condition_columns=(), epochs, batch_size, seed, on_epoch=None,
            stop=None):
        super().fit(df, seed=seed)
        history = {"loss": []}
        for epoch in range(1, epochs + 1):
            if stop is not None and stop.is_set():
                break
            history["loss"].append(1.0 / epoch)
            on_epoch(epoch, {"loss": 1.0 / epoch})
        return history


@pytest.fixture
def stepgen():
    register_model("stepgen", config=StepConfig, kinds={"tabular"}, family="generative",
                   title="Steps", description="A test generator.")(
        lambda cfg: StepSynthesizer())
    yield
    unregister_model("stepgen")


def gen_spec(df, arch="copula", target="group", **train) -> JobSpec:
    return JobSpec(dataset_path=str(store_dataset(df)), dataset_name="gen", target=target,
                   task="generation", arch=arch, train_config={k: str(v) for k, v in train.items()})


def test_live_losses_previews_and_stop(stepgen):
    stop, events = threading.Event(), []

    def report(event):
        events.append(event)
        if event["type"] == "epoch" and event["epoch"] == 25:
            stop.set()

    result = run_training(gen_spec(table(), "stepgen", epochs=100), report=report, stop=stop)
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == list(range(1, 26))
    assert epochs[-1]["logs"] == {"loss": pytest.approx(1 / 25)} and epochs[-1]["epochs"] == 100
    # A preview at the first epoch, every tenth of the epochs, and of the final sample.
    previews = [e for e in events if e["type"] == "samples"]
    assert [e["epoch"] for e in previews] == [1, 10, 20, 25]
    assert len(previews[0]["rows"]) == 5 and set(previews[0]["rows"][0]) == {"x", "y", "group"}
    assert result.status == "KILLED" and result.epochs_run == 25
    run = tracking.get_run(result.run_id)
    assert run.info.status == "KILLED"
    assert [m.value for m in tracking.client().get_metric_history(result.run_id, "loss")][:3] == \
        pytest.approx([1.0, 0.5, 1 / 3])
    # Stopped early, it is still sampled and reported.
    assert run.data.metrics["quality"] == pytest.approx(result.metrics["quality"])
    assert run.data.tags["family"] == "generative" and run.data.tags[tracking.TAG_KIND] == "training"


def test_report_split_and_artifacts_of_a_copula_run():
    df = table(200)
    result = run_training(gen_spec(df, holdout_size=0.25, sample_size=150, seed=7))
    run = tracking.get_run(result.run_id)
    for key in ("quality", "column_shapes", "column_pairs", "diagnostic", "tstr_ratio",
                "copies", "dcr_closer_to_train", "fit_seconds"):
        assert run.data.metrics[key] == pytest.approx(result.metrics[key]), key
    assert run.data.tags["n_train"] == "150" and run.data.tags["n_holdout"] == "50"
    assert run.data.params["holdout_size"] == "0.25" and run.data.params["condition_columns"] == "group"
    report = tracking.load_json(result.run_id, "generation/report.json")
    assert report["n_synthetic"] == 150 and report["n_train"] == 150
    from dl_core.generation.generate import load_rows

    train, holdout = load_rows(result.run_id)
    # The split is a partition of the table: no held-out row is a training row.
    assert len(train) + len(holdout) == len(df)
    assert not set(train["x"]) & set(holdout["x"])
    assert {"synthesizer/copula.json", "synthesizer/synthesizer.json",
            "generation/samples.csv"} <= set(tracking.artifact_paths(result.run_id))


def test_generator_without_target_has_no_utility_figure():
    result = run_training(gen_spec(table(), target=""))
    assert "tstr_ratio" not in result.metrics and result.metrics["copies"] == 0
    assert tracking.get_run(result.run_id).data.params["condition_columns"] == ""


def test_too_few_rows_for_a_generator_is_explained():
    with pytest.raises(DataError, match="at least 10 training rows and 2 held-out rows; the table "
                                        "has 8 rows"):
        run_training(gen_spec(table(8)))


def test_generation_runs_in_the_worker(tiny_binary):
    from dl_core.jobs import LocalExecutor

    ex = LocalExecutor()
    try:
        state = ex.wait(ex.submit(gen_spec(tiny_binary, target="label")), timeout=180)
        assert state.status == "finished", state.error
        assert state.samples and set(state.samples[0]) == set(tiny_binary.columns)
        assert state.metrics["quality"] > 0.5
        rows, report = ex.generate(state.run_id, 40, seed=2, condition={"color": "red"})
        assert len(rows) == 40 and set(rows["color"]) == {"red"}
        assert report["source_run_id"] == state.run_id
        assert tracking.get_run(report["run_id"]).data.tags[tracking.TAG_KIND] == "generation"
        supervised = ex.wait(ex.submit(JobSpec(
            dataset_path=str(store_dataset(tiny_binary)), dataset_name="jobs", target="label",
            task="binary", train_config={"epochs": "1"})), timeout=180)
        with pytest.raises(DataError, match="is not a generator's training run"):
            ex.generate(supervised.run_id, 5)
    finally:
        ex.shutdown()


def test_a_one_pass_copula_reports_one_epoch_of_one():
    events = []
    result = run_training(gen_spec(table(), epochs=300), report=events.append)
    started = next(e for e in events if e["type"] == "started")
    epochs = [e for e in events if e["type"] == "epoch"]
    assert started["epochs"] == 1 and [(e["epoch"], e["epochs"]) for e in epochs] == [(1, 1)]
    assert epochs[0]["eta_s"] == 0
    # Nor does its run record epochs or a batch it never had.
    params = tracking.get_run(result.run_id).data.params
    assert "epochs" not in params and "batch_size" not in params
    assert params["holdout_size"] == "0.3"


def iris_frame() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame  # target: integers 0, 1, 2


@pytest.mark.parametrize("arch", ["copula", "tvae"])
def test_an_integer_class_target_is_a_condition_and_stays_integer(arch):
    from dl_core.generation.generate import generate

    result = run_training(gen_spec(iris_frame(), arch=arch, target="target", epochs=2))
    run = tracking.get_run(result.run_id)
    # iris' 0/1/2 are classes, as a supervised model reads them: the generator is fitted on them.
    assert run.data.params["condition_columns"] == "target"
    rows, report = generate(result.run_id, 60, seed=1, condition={"target": "2"})
    assert rows["target"].tolist() == [2] * 60 and rows["target"].dtype == np.int64
    # Fixed to 2 in every row, real and synthetic: left out of the figures (a free 1.0).
    assert "target" not in {d["column"] for d in report["details"]["column_shapes"]}
    assert report["utility"] is None  # one class left after the condition: nothing to predict
    # The copula's rows of one class drift towards other classes: it says so, and what to train.
    advice = [note for note in report["notes"] if "train tvae or ctgan" in note]
    assert len(advice) == (arch == "copula"), report["notes"]
    _, mixed = generate(result.run_id, 90, seed=1)
    # Scored as classes: the column's shape is a category comparison, and utility a classifier's.
    shape = next(d for d in mixed["details"]["column_shapes"] if d["column"] == "target")
    assert shape["metric"] == "TVComplement"
    assert mixed["utility"]["metric"] != "r2"


def test_a_numeric_target_is_predicted_but_not_a_condition():
    from sklearn.datasets import load_diabetes

    df = load_diabetes(as_frame=True).frame
    result = run_training(gen_spec(df, target="target"))
    run = tracking.get_run(result.run_id)
    assert run.data.params["condition_columns"] == ""
    assert tracking.load_json(result.run_id, "generation/report.json")["utility"]["metric"] == "r2"
