"""The background executor: a warm worker process, live progress, a Stop that stops."""

from __future__ import annotations

import os
import signal
import time

import pytest

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.jobs import LocalExecutor
from dl_core.training import JobSpec


@pytest.fixture(scope="module")
def executor():
    ex = LocalExecutor()
    yield ex
    ex.shutdown()


def spec(df, epochs: int, **train) -> JobSpec:
    return JobSpec(dataset_path=str(store_dataset(df)), dataset_name="jobs", target="label",
                   task="binary", train_config={"epochs": str(epochs), "patience": "0", **train})


def wait_for(predicate, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_job_reports_epochs_and_finishes(executor, tiny_binary):
    job_id = executor.submit(spec(tiny_binary, 3))
    state = executor.wait(job_id, timeout=180)
    assert state.status == "finished", state.error
    assert state.epoch == 3 and len(state.history["loss"]) == 3
    assert "val_loss" in state.history and state.metrics["accuracy"] >= 0
    assert tracking.get_run(state.run_id).info.status == "FINISHED"


def test_stop_ends_the_job_as_killed(executor, tiny_binary):
    job_id = executor.submit(spec(tiny_binary, 2000, batch_size="8"))
    wait_for(lambda: executor.progress(job_id).epoch >= 1)
    executor.stop(job_id)
    state = executor.wait(job_id, timeout=60)
    assert state.status == "killed"
    assert state.epoch < 2000
    assert tracking.get_run(state.run_id).info.status == "KILLED"


def test_bad_data_fails_with_a_message_and_worker_survives(executor, tiny_binary):
    job_id = executor.submit(spec(tiny_binary.assign(label="one"), 2))
    state = executor.wait(job_id, timeout=60)
    assert state.status == "failed" and "single class" in state.error
    ok = executor.wait(executor.submit(spec(tiny_binary, 1)), timeout=120)
    assert ok.status == "finished"


def logged_curve(run_id: str, key: str = "loss") -> list[tuple[int, float]]:
    """The run's ``key`` history in MLflow as (step, value), every value logged (duplicates too)."""
    return sorted((m.step, m.value) for m in tracking.client().get_metric_history(run_id, key))


def test_orphaned_running_run_is_marked_failed():
    run_id = tracking.start_run("orphans", run_name="orphan", params={},
                                tags={tracking.TAG_WORKER_PID: "999999999"})
    assert run_id in tracking.fail_orphaned_runs()
    assert tracking.get_run(run_id).info.status == "FAILED"


def test_predictions_run_in_the_worker(executor, tiny_binary):
    from dl_core.errors import DataError

    state = executor.wait(executor.submit(spec(tiny_binary, 2)), timeout=180)
    rows = tiny_binary.drop(columns=["label"]).head(7).assign(extra=1)
    predictions, notes = executor.predict(state.run_id, rows)
    assert list(predictions.index) == list(rows.index)
    assert list(predictions.columns) == ["prediction", "proba_no", "proba_yes"]
    assert any("extra" in n for n in notes)
    with pytest.raises(DataError, match=r"lacks 1 column\(s\) the model was trained on: \['x2'\]"):
        executor.predict(state.run_id, rows.drop(columns=["x2"]))


def test_worker_summarises_a_model(executor):
    from dl_core.errors import DataError

    summary = executor.summary("fnn", {"hidden_units": (16, 8), "dropout": 0.0}, (5,), 3,
                               "multiclass")
    # 5*16+16 + 16*8+8 + 8*3+3 weights and biases.
    assert summary["params"] == {"total": 259, "trainable": 259, "non_trainable": 0}
    assert [(r["layer"], r["parameters"]) for r in summary["layers"]] == [
        ("features", 0), ("dense_1", 96), ("relu_1", 0), ("dense_2", 136), ("relu_2", 0),
        ("output", 27)]
    assert summary["layers"][-1]["output shape"] == "(batch, 3)"
    assert "dense_1 (Dense)" in summary["dot"]
    with pytest.raises(DataError, match="at least one layer"):
        executor.summary("fnn", {"hidden_units": ()}, (5,), 1, "binary")


def test_summary_is_answered_while_a_job_trains(executor, tiny_binary):
    job_id = executor.submit(spec(tiny_binary, 2000, batch_size="8"))
    wait_for(lambda: executor.progress(job_id).epoch >= 1)
    sizes = [executor.summary("fnn", {"hidden_units": (units,)}, (4,), 1, "binary")
             for units in (4, 8)]
    # Answered beside the queue: the job had not ended (nor been stopped) when they came back.
    assert executor.progress(job_id).status == "running"
    assert [s["params"]["total"] for s in sizes] == [4 * 4 + 4 + 5, 4 * 8 + 8 + 9]
    executor.stop(job_id)
    assert executor.wait(job_id, timeout=60).status == "killed"


def test_a_summary_does_not_change_a_seeded_job(executor, tiny_binary):
    """Model builds draw Keras' default seeds from Python's global generator: a summary built
    while a job starts must not shift the job's initial weights (identical histories)."""
    import threading

    def keep_summarising():
        while not done.is_set():
            executor.summary("fnn", {"hidden_units": (64, 64)}, (6,), 1, "binary")

    histories = []
    for hammer in (False, True):
        done = threading.Event()
        summaries = threading.Thread(target=keep_summarising, daemon=True)
        if hammer:
            summaries.start()
        try:
            state = executor.wait(executor.submit(spec(tiny_binary, 2)), timeout=180)
        finally:
            done.set()
            if hammer:
                summaries.join(timeout=60)
        assert state.status == "finished", state.error
        histories.append(state.history)
    assert histories[0] == histories[1]


def test_worker_predictions_follow_a_threshold_saved_after_loading(executor, tiny_binary):
    from dl_core import thresholds

    state = executor.wait(executor.submit(spec(tiny_binary, 2, learning_rate="0.03")), timeout=180)
    rows = tiny_binary.drop(columns=["label"])
    before, _ = executor.predict(state.run_id, rows)  # the worker now keeps this model loaded
    t = float(round(before["proba_yes"].median(), 2))
    assert ((before["proba_yes"] >= t) != (before["prediction"] == "yes")).any()
    thresholds.save_threshold(state.run_id, t)
    after, _ = executor.predict(state.run_id, rows)
    assert ((after["proba_yes"] >= t) == (after["prediction"] == "yes")).all()


def test_worker_crash_fails_the_job_keeps_its_curves_and_a_new_worker_runs_the_next(executor,
                                                                                 tiny_binary):
    ex = executor  # the fresh worker it starts serves the tests after this one
    job_id = ex.submit(spec(tiny_binary, 2000, batch_size="8"))
    # Five epochs come well within the worker's batched-write interval (METRIC_FLUSH_S):
    # none of them has reached MLflow from the worker yet.
    wait_for(lambda: ex.progress(job_id).epoch >= 5)
    dead = ex._proc.pid
    os.kill(dead, signal.SIGKILL)
    state = ex.wait(job_id, timeout=10)
    assert state.status == "failed" and "stopped unexpectedly" in state.error
    wait_for(lambda: tracking.get_run(state.run_id).info.status == "FAILED", timeout=10)
    # What the user saw is the record: every epoch the page showed, once each.
    seen = state.history["loss"]
    assert len(seen) >= 5
    assert logged_curve(state.run_id) == list(enumerate(seen, start=1))
    assert tracking.metric_history(state.run_id, ["val_loss"])["val_loss"] == \
        state.history["val_loss"]
    # A fresh worker is started at once, and the next job runs on it.
    wait_for(lambda: ex._proc is not None and ex._proc.pid != dead, timeout=10)
    ok = ex.wait(ex.submit(spec(tiny_binary, 1)), timeout=120)
    assert ok.status == "finished", ok.error


def test_shutdown_ends_running_runs_killed_with_every_epoch_seen(executor, tiny_binary):
    """What the app server does on SIGTERM (at exit): its runs end KILLED, curves kept.

    Last in this module: it shuts the module's executor down.
    """
    ex = executor
    job_id = ex.submit(spec(tiny_binary, 2000, batch_size="8"))
    wait_for(lambda: ex.progress(job_id).epoch >= 5)
    ex.shutdown()
    state = ex.progress(job_id)
    assert state.status == "killed"
    run = tracking.get_run(state.run_id)
    assert run.info.status == "KILLED"
    assert "app stopped" in run.data.tags[tracking.TAG_ERROR]
    assert logged_curve(state.run_id) == list(enumerate(state.history["loss"], start=1))


