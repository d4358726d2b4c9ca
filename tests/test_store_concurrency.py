"""Several processes starting together on one embedded store: none fails, nothing is lost.

MLflow creates and migrates a new SQLite schema from whichever process opens it first, with no
lock; four CLI runs started at once on a new store used to fail with "table ... already exists"
and leave a store that could not be read. ``tracking`` now initialises the store once, under a
file lock, and retries briefly on "database is locked".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dl_core import tracking
from dl_core.errors import TrackingError

ROOT = Path(__file__).resolve().parent.parent
N_PROCESSES = 4


def _start_trainings(csv: Path, db: Path) -> list[subprocess.Popen]:
    # The copula generator trains without TensorFlow: the processes reach the store within
    # a second of each other, the harshest case for the schema race (and the cheapest).
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{db}"}
    return [
        subprocess.Popen([sys.executable, "-m", "dl_core", "train", str(csv), "--arch", "copula",
                          "--quiet", "--experiment", "together"],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for _ in range(N_PROCESSES)
    ]


def _finish(procs: list[subprocess.Popen]) -> list[dict]:
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=240)
        assert proc.returncode == 0, stderr[-3000:]
        assert "Traceback" not in stderr and "already exists" not in stderr, stderr[-3000:]
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outs


def _runs_in(db: Path, monkeypatch) -> list[dict]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    return tracking.search_run_records()


@pytest.fixture(scope="module")
def together(tmp_path_factory):
    """Four CLI trainings started at once against a NEW store; their outputs and the store."""
    folder = tmp_path_factory.mktemp("together")
    rng = np.random.default_rng(0)
    csv = folder / "tiny.csv"
    pd.DataFrame({"x1": rng.normal(size=60), "x2": rng.normal(size=60),
                  "kind": rng.choice(["a", "b"], size=60)}).to_csv(csv, index=False)
    db = folder / "store" / "mlflow.db"
    assert not db.exists()
    return {"csv": csv, "db": db, "outs": _finish(_start_trainings(csv, db))}


def test_four_trainings_at_once_on_a_new_store_all_finish(together, monkeypatch):
    runs = _runs_in(together["db"], monkeypatch)
    assert sorted(r["run_id"] for r in runs) == sorted(o["run_id"] for o in together["outs"])
    assert [r["status"] for r in runs] == ["FINISHED"] * N_PROCESSES
    # Unique names although all four asked for one at the same moment.
    assert len({r["run_name"] for r in runs}) == N_PROCESSES


def test_four_trainings_at_once_on_an_existing_store_all_finish(together, monkeypatch):
    outs = _finish(_start_trainings(together["csv"], together["db"]))
    runs = _runs_in(together["db"], monkeypatch)
    assert len(runs) == 2 * N_PROCESSES
    assert {o["run_id"] for o in outs} <= {r["run_id"] for r in runs}
    assert {r["status"] for r in runs} == {"FINISHED"}


class _Locked(Exception):
    """What SQLAlchemy raises (wrapped by MLflow) when another process holds the write lock."""


def test_a_locked_store_is_retried_then_explained(monkeypatch):
    calls = []

    def busy_twice():
        calls.append(1)
        if len(calls) < 3:
            try:
                raise _Locked("(sqlite3.OperationalError) database is locked")
            except _Locked as inner:
                raise RuntimeError("INTERNAL_ERROR") from inner  # MLflow's wrapping
        return "written"

    assert tracking.retry_locked(busy_twice) == "written" and len(calls) == 3

    monkeypatch.setattr(tracking, "LOCKED_RETRY_S", 0.2)

    def always_busy():
        raise _Locked("database is locked")

    with pytest.raises(TrackingError, match="stayed busy .*try again"):
        tracking.retry_locked(always_busy)

    def other_error():
        raise ValueError("no such run")

    with pytest.raises(ValueError):  # only "locked" is retried
        tracking.retry_locked(other_error)
