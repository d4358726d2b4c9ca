"""How fast the Runs page is with many runs in the store (default 1,000).

Creates the runs (params, metrics and tags like real training runs, logged with MlflowClient;
no models), then times what the page does: reading every run into one frame, filtering/sorting/
"what differs", and full AppTest renders of the page: the first (a full read), a new session
once the 10 s cache has expired (the runs index reads only the runs changed since), and one
after the Refresh button (a full read again).

    python bench/runs_page.py [N_RUNS]                                # a temporary SQLite store
    python bench/runs_page.py 10000 --tracking-uri http://127.0.0.1:5000   # an empty team server
    python bench/runs_page.py 10000 --tracking-uri URI --seed-uri URI2 # seed through URI2
    python bench/runs_page.py 10000 --tracking-uri URI --seeded        # runs already there

``--seed-uri`` seeds through another URI of the same store (e.g. the server's PostgreSQL
database, much faster than 30,000 HTTP calls); ``--seeded`` skips seeding (the store holds
exactly the N runs an earlier call seeded).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-runs-"))
_ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
_ARGS.add_argument("n_runs", type=int, nargs="?", default=1000)
_ARGS.add_argument("--tracking-uri", help="Store to time (default: a temporary SQLite store).")
_ARGS.add_argument("--seed-uri", help="Seed the runs through this URI of the same store.")
_ARGS.add_argument("--seeded", action="store_true", help="The store already holds the runs.")
ARGS = _ARGS.parse_args()
os.environ["MLFLOW_TRACKING_URI"] = ARGS.tracking_uri or f"sqlite:///{_TMP / 'mlflow.db'}"
os.environ["DL_EXPLORER_HOME"] = str(_TMP / "home")


def seed(n: int) -> float:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    from dl_core import tracking

    c = MlflowClient(ARGS.seed_uri) if ARGS.seed_uri else tracking.client()
    rng = random.Random(0)
    exps = [tracking.experiment_id(name) for name in ("churn", "housing", "iris", "credit")]
    started = time.perf_counter()
    now = int(time.time() * 1000)
    for i in range(n):
        exp = exps[i % len(exps)]
        task = ("binary", "regression", "multiclass", "binary")[i % len(exps)]
        run = c.create_run(exp, run_name=f"run-{i}", start_time=now - i * 60_000, tags={
            "dlx.kind": "training", "task": task, "arch": "fnn", "dataset": f"data{i % 4}",
            "dataset_hash": f"{i % 4:016x}", "rows": "1000", "columns": "12", "target": "y",
            "n_features": "20", "team": rng.choice(["a", "b"]),
        })
        lr, units = rng.choice([1e-3, 3e-3, 1e-2]), rng.choice(["64,32", "128,64", "32"])
        params = {"arch": "fnn", "task": task, "target": "y", "exclude": "", "hidden_units": units,
                  "activation": "relu", "dropout": "0.1", "l2": "0.0001", "batch_norm": "False",
                  "optimizer": "adam", "learning_rate": str(lr), "batch_size": "32",
                  "epochs": "200", "patience": "15", "class_weight": "none", "test_size": "0.2",
                  "val_size": "0.1", "seed": str(i)}
        metrics = {"loss": rng.random(), "val_loss": rng.random(), "best_val_loss": rng.random(),
                   "best_epoch": rng.randint(1, 50), "epochs_run": 50,
                   "test_accuracy": rng.random(),
                   "test_f1": rng.random(), "test_roc_auc": rng.random()}
        c.log_batch(run.info.run_id, params=[Param(k, v) for k, v in params.items()],
                    metrics=[Metric(k, v, now, 50) for k, v in metrics.items()],
                    tags=[RunTag("mlflow.note.content", "")])
        c.set_terminated(run.info.run_id, "FINISHED")
    return time.perf_counter() - started


def main() -> None:
    n = ARGS.n_runs
    from dl_core import compare, tracking

    tracking.ensure_store()
    if not ARGS.seeded:
        print(f"seeding {n} runs in {tracking.tracking_uri()} …", flush=True)
        print(f"seed: {seed(n):.1f} s")

    t0 = time.perf_counter()
    df = compare.runs_frame(tracking.search_run_records())
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(10):  # what one rerun of the page does with a few filters on
        shown = compare.filter_runs(df, experiments=["churn", "iris"], statuses=["FINISHED"],
                                    tags="team=a", search="run-1")
        shown = compare.sort_runs(compare.filter_runs(df, tasks=["binary"]), "test_accuracy")
        params = compare.differing(shown, [c for c in shown.columns if c.startswith("params.")])
        compare.table_view(shown, [p.removeprefix("params.") for p in params], ["test_accuracy"])
    filt = (time.perf_counter() - t0) / 10
    assert len(df) == n, len(df)

    from streamlit.testing.v1 import AppTest

    def render() -> tuple[AppTest, float]:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
        at.run()
        t0 = time.perf_counter()
        at.switch_page("app_pages/runs.py").run()
        assert not at.exception, at.exception
        return at, time.perf_counter() - t0

    from ui.runs import runs_index, all_runs, reload

    _, first = render()  # includes importing plotly, scikit-learn and MLflow once per server
    reload()
    _, full = render()  # a new session after the Refresh button: every run read again
    assert runs_index(tracking.tracking_uri()).last_read == "full"
    all_runs.clear()
    _, cold = render()  # a new session after the 10 s cache expired: changed runs read
    assert runs_index(tracking.tracking_uri()).last_read == "changes"
    at, warm = render()  # a new session within the ttl
    rows = len(at.dataframe(key="runs_table").value)
    t0 = time.perf_counter()
    at.multiselect(key="f_exp").select("churn").run()
    refilter = time.perf_counter() - t0
    assert not at.exception and len(at.dataframe(key="runs_table").value) == n // 4
    t0 = time.perf_counter()
    at.session_state["runs_table"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    select = time.perf_counter() - t0
    assert not at.exception

    print(f"runs in the store: {len(df):,} (table showed {rows:,})")
    print(f"load all runs into one frame (MLflow search, paged): {load:.2f} s")
    print(f"filter + sort + what-differs + table view (pandas): {filt * 1000:.0f} ms")
    print(f"Runs page render, first in a fresh server process (imports, full read): "
          f"{first:.2f} s")
    print(f"Runs page render, new session after Refresh (every run read again): {full:.2f} s")
    print(f"Runs page render, new session, runs not cached (only changed runs read): "
          f"{cold:.2f} s")
    print(f"Runs page render, new session, runs cached: {warm:.2f} s")
    print(f"rerun after choosing an experiment filter: {refilter:.2f} s")
    print(f"rerun after selecting two runs (compare section, no histories logged): {select:.2f} s")


if __name__ == "__main__":
    main()
