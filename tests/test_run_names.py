"""Run names are unique within an experiment, whoever starts the run (issue 7, C9)."""

from __future__ import annotations

import threading

import pytest

from dl_core import tracking
from dl_core.errors import TrackingError

TAGS = {"arch": "fnn", "dataset": "churn", tracking.TAG_KIND: "training"}


def started(experiment: str, run_name: str | None = None, **tags: str) -> str:
    run_id = tracking.start_run(experiment, run_name=run_name, params={}, tags={**TAGS, **tags})
    tracking.end_run(run_id, "FINISHED")
    return tracking.get_run(run_id).info.run_name


def test_default_names_read_what_the_run_is_and_count_up_per_experiment():
    assert [started("names-a") for _ in range(3)] == ["fnn-churn-1", "fnn-churn-2", "fnn-churn-3"]
    assert started("names-a", **{tracking.TAG_KIND: "sweep"}) == "sweep-fnn-churn-1"
    assert started("names-a", arch="lstm") == "lstm-churn-1"
    assert started("names-b") == "fnn-churn-1"  # another experiment counts on its own


def test_a_taken_name_gets_a_suffix_and_cannot_be_renamed_to():
    assert [started("names-c", "baseline") for _ in range(3)] == [
        "baseline", "baseline-2", "baseline-3"]
    other = tracking.start_run("names-c", run_name="other", params={}, tags=TAGS)
    with pytest.raises(TrackingError, match="already called 'baseline'"):
        tracking.rename_run(other, "baseline")
    tracking.rename_run(other, "candidate")
    assert tracking.get_run(other).info.run_name == "candidate"
    tracking.end_run(other, "FINISHED")


def test_runs_started_at_the_same_time_get_different_names():
    names: list[str] = []
    threads = [threading.Thread(target=lambda: names.append(started("names-d")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(names) == 8 and len(set(names)) == 8, sorted(names)
    assert all(n.startswith("fnn-churn-") for n in names)
