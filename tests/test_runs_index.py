"""The Runs page's index: after one full read it reads only the runs that changed, and its
frame stays equal to a full read (new, running, ended, deleted runs, renamed experiments)."""

from __future__ import annotations

import pandas as pd
import pytest

from dl_core import compare, tracking
from dl_core.runs_index import RunsIndex


def full_read() -> pd.DataFrame:
    return compare.runs_frame(tracking.search_run_records())


def same_as_full_read(frame: pd.DataFrame) -> None:
    full = full_read()
    assert list(frame["run_id"]) == list(full["run_id"])  # same runs, same order
    assert set(frame.columns) == set(full.columns)
    pd.testing.assert_frame_equal(frame[full.columns].reset_index(drop=True), full,
                                  check_dtype=False)


@pytest.fixture
def reads(monkeypatch):
    """The run ids each search returned (what a read costs)."""
    counts: list[set[str]] = []
    search = tracking.search_run_records_any

    def counted(*args, **kwargs):
        out = search(*args, **kwargs)
        counts.append({r["run_id"] for r in out})
        return out

    monkeypatch.setattr(tracking, "search_run_records_any", counted)
    return counts


def new_run(experiment: str, name: str, end: str | None = "FINISHED") -> str:
    run_id = tracking.start_run(experiment, run_name=name, params={"arch": "fnn", "lr": "0.1"},
                                tags={"dlx.kind": "training", "dataset": "d"})
    tracking.log_metrics(run_id, {"loss": 1.0}, step=0)
    if end:
        tracking.end_run(run_id, end)
    return run_id


def test_later_reads_fetch_only_changed_runs_and_match_a_full_read(reads):
    old = [new_run("index-a", f"old-{i}") for i in range(6)]
    running = new_run("index-a", "running", end=None)
    index = RunsIndex()
    first = index.frame()
    assert index.last_read == "full" and set(old + [running]) <= set(first["run_id"])
    total = len(first)

    reads.clear()
    index._since_ms = tracking.get_run(old[-1]).info.end_time + 1  # as if read a while later
    fresh = new_run("index-a", "fresh")
    tracking.log_metrics(running, {"loss": 0.25}, step=1)
    tracking.delete_run(old[0])
    frame = index.frame()
    assert index.last_read == "changes"
    # Read: the new run and the running one, not the runs that did not change.
    assert reads == [{fresh, running}], reads
    assert fresh in set(frame["run_id"]) and old[0] not in set(frame["run_id"])
    assert len(frame) == total  # one in, one out
    assert frame.loc[frame["run_id"] == running, "metrics.loss"].item() == 0.25
    same_as_full_read(frame)

    tracking.end_run(running, "KILLED")
    frame = index.frame()
    assert frame.loc[frame["run_id"] == running, "status"].item() == "KILLED"
    same_as_full_read(frame)


def test_edits_after_the_end_show_when_marked_and_experiments_follow(reads):
    run = new_run("index-c", "edited")
    other = new_run("index-d", "gone-with-experiment")
    index = RunsIndex()
    index.frame()
    index._since_ms = tracking.get_run(other).info.end_time + 1
    tracking.update_tags(run, {"team": "vision"})
    index.mark_changed([run])  # what the Runs page does after its own edit
    c = tracking.client()
    c.rename_experiment(tracking.experiment_id("index-c"), "index-c2")
    c.delete_experiment(tracking.experiment_id("index-d"))
    restored = new_run("index-e", "in-a-restored-experiment")
    exp_e = tracking.experiment_id("index-e")
    c.delete_experiment(exp_e)
    index.frame()
    index._since_ms = tracking.get_run(restored).info.end_time + 1
    c.restore_experiment(exp_e)
    frame = index.frame()
    assert index.last_read == "changes"
    row = frame.loc[frame["run_id"] == run]
    assert row["tags.team"].item() == "vision" and row["experiment"].item() == "index-c2"
    assert other not in set(frame["run_id"]) and restored in set(frame["run_id"])
    same_as_full_read(frame)


def test_reload_and_age_make_a_full_read():
    index = RunsIndex(full_every_s=3600)
    index.frame()
    index.frame()
    assert index.last_read == "changes"
    index.reload()
    index.frame()
    assert index.last_read == "full"
    index._full_at -= 3601
    index.frame()
    assert index.last_read == "full"
