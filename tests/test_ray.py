"""DLX_EXECUTOR=ray: training jobs and sweep trials as Ray tasks, on a single-node Ray this
module starts (``ray.init(num_cpus=2)``); the runs they leave in MLflow are the runs a local
job leaves, tagged ``dlx.executor=ray``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray

from dl_core import tracking
from dl_core.errors import ConfigError
from dl_core.jobs import LocalExecutor, make_executor
from dl_core.jobspec import build_job_spec
from dl_core.ray_jobs import RayExecutor

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["--target", "label", "--epochs", "2", "--grid", "learning_rate=0.001,0.01",
         "--grid", "batch_size=16,32", "--quiet"]


@pytest.fixture(scope="module")
def cluster() -> str:
    """A single-node Ray with 2 CPUs; its address, for the CLI to join (``RAY_ADDRESS``)."""
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                       object_store_memory=100 * 1024**2, _node_ip_address="127.0.0.1")
    yield context.address_info["gcs_address"]
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    n = 120
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(2 * x1 - 1.5 * x2 + (color == "red") + rng.normal(scale=0.5, size=n) > 0,
                     "yes", "no")
    path = tmp_path_factory.mktemp("ray") / "tiny.csv"
    pd.DataFrame({"x1": x1, "x2": x2, "color": color, "label": label}).to_csv(path, index=False)
    return path


def _cli_sweep(csv: Path, experiment: str, **env: str) -> tuple[dict, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "dl_core", "sweep", str(csv), *SWEEP,
                          "--experiment", experiment], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def _local_sweep(csv: Path, experiment: str, capsys) -> dict:
    """The same CLI command, run in this process (TensorFlow is often loaded here already)."""
    from dl_core.cli import main

    assert os.environ.get("DLX_EXECUTOR", "local") == "local"
    capsys.readouterr()
    assert main(["sweep", str(csv), *SWEEP, "--experiment", experiment]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _recorded(experiment: str) -> dict:
    """A sweep as MLflow holds it, with what differs between any two sweeps (run ids, the
    process that wrote them) replaced by the structure it stands for."""
    c = tracking.client()
    runs = c.search_runs([tracking.experiment_id(experiment)])
    parents = [r for r in runs if r.data.tags.get(tracking.TAG_KIND) == "sweep"]
    assert len(parents) == 1
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get(tracking.TAG_PARENT) == parent.info.run_id]
    trial_of = {r.info.run_id: r.info.run_name.rsplit("-", 1)[1] for r in children}
    assert len(children) == len(runs) - 1  # every other run is one of its trials

    def view(run) -> dict:
        tags = {k: v for k, v in run.data.tags.items()
                if k not in (tracking.TAG_WORKER_PID, tracking.TAG_EXECUTOR, tracking.TAG_PARENT)}
        if "best_trial_run_id" in tags:
            tags["best_trial_run_id"] = trial_of[tags["best_trial_run_id"]]
        history = {key: [(m.step, m.value) for m in c.get_metric_history(run.info.run_id, key)]
                   for key in run.data.metrics}
        return {"name": run.info.run_name, "status": run.info.status, "params": run.data.params,
                "metrics": history, "tags": tags,
                "executor": run.data.tags.get(tracking.TAG_EXECUTOR)}

    return {"parent": view(parent),
            "trials": sorted((view(r) for r in children), key=lambda v: v["name"])}


def test_a_cli_sweep_on_ray_is_recorded_as_the_local_sweep_is(cluster, tiny_csv, capsys):
    on_ray, _ = _cli_sweep(tiny_csv, "ray-vs-local-ray", DLX_EXECUTOR="ray",
                           RAY_ADDRESS=cluster)
    local = _local_sweep(tiny_csv, "ray-vs-local-local", capsys)
    assert on_ray["status"] == "FINISHED" and len(on_ray["trials"]) == 4
    assert [t["value"] for t in on_ray["trials"]] == [t["value"] for t in local["trials"]]

    here, there = _recorded("ray-vs-local-local"), _recorded("ray-vs-local-ray")
    assert here["parent"].pop("executor") == "local"
    assert there["parent"].pop("executor") == "ray"
    assert [t.pop("executor") for t in here["trials"]] == ["local"] * 4
    assert [t.pop("executor") for t in there["trials"]] == ["ray"] * 4
    assert [t["name"] for t in there["trials"]] == [f"{there['parent']['name']}-trial-{i}"
                                                     for i in range(1, 5)]
    assert [step for step, _ in there["trials"][0]["metrics"]["loss"]] == [1, 2]  # the curves
    # Same names, params, tags, statuses, every metric point (curves and test figures).
    assert there == here


def _spec(tmp_path: Path, csv: Path, epochs: int):
    from dl_core.data.storage import store_dataset

    df = pd.read_csv(csv)
    return build_job_spec(dataset_path=str(store_dataset(df)), dataset_name="tiny",
                          target="label", task="binary", arch="fnn",
                          train_config={"epochs": epochs, "patience": 0, "batch_size": 8},
                          experiment="ray-executor")


def test_the_pages_executor_on_ray_shows_progress_and_stops(cluster, tiny_csv, tmp_path):
    ex = RayExecutor(local=LocalExecutor())  # what the pages get with DLX_EXECUTOR=ray
    job_id = ex.submit(_spec(tmp_path, tiny_csv, epochs=500))
    deadline = time.time() + 120
    while ex.progress(job_id).epoch < 2 and time.time() < deadline:
        time.sleep(0.05)
    live = ex.progress(job_id)
    assert live.status == "running" and live.epochs == 500 and len(live.history["loss"]) >= 2
    ex.stop(job_id)
    state = ex.wait(job_id, timeout=120)

    assert state.status == "killed" and state.run_id == live.run_id
    run = tracking.get_run(state.run_id)
    assert run.info.status == "KILLED"
    assert run.data.tags[tracking.TAG_EXECUTOR] == "ray"
    epochs_run = int(run.data.metrics["epochs_run"])
    assert 2 <= epochs_run < 500
    # What the page showed is what MLflow keeps: one loss point per epoch trained.
    assert len(state.history["loss"]) == epochs_run
    assert len(tracking.client().get_metric_history(state.run_id, "loss")) == epochs_run
    assert [j.job_id for j in ex.jobs()] == [job_id]


def test_a_stopped_ray_sweep_records_every_trial_that_trained_side_by_side(cluster, tiny_csv,
                                                                          tmp_path):
    import mlflow

    from dl_core.sweeps import SweepSpec

    ex = RayExecutor(local=LocalExecutor())
    spec = SweepSpec(_spec(tmp_path, tiny_csv, epochs=500),
                     {"learning_rate": [0.001, 0.002]}, name="stopped-side-by-side")
    job_id = ex.submit_sweep(spec)
    deadline = time.time() + 120

    def children() -> list:
        parent = ex.progress(job_id).run_id
        if parent is None:
            return []
        runs = tracking.client().search_runs([tracking.experiment_id("ray-executor")])
        return [r for r in runs if r.data.tags.get(tracking.TAG_PARENT) == parent]

    # Both trials train at once on the two CPUs; stop while trial 1 is the one shown.
    while (len(children()) < 2 or ex.progress(job_id).epoch < 2) and time.time() < deadline:
        time.sleep(0.1)
    ex.stop(job_id)
    state = ex.wait(job_id, timeout=120)

    assert state.status == "killed"
    runs = {r.info.run_id: r.info.status for r in children()}
    assert sorted(runs.values()) == ["KILLED", "KILLED"]
    recorded = mlflow.artifacts.load_dict(f"runs:/{state.run_id}/sweep/trials.json")
    # Trial 2 was training beside trial 1 when the stop came: its run is one of the sweep's.
    assert [(t["trial"], t["status"]) for t in recorded["trials"]] == [(1, "KILLED"),
                                                                         (2, "KILLED")]
    assert {t["run_id"] for t in recorded["trials"]} == set(runs)
    assert [t["trial"] for t in state.trials] == [1, 2]  # what the Train page lists
    assert {t["run_id"] for t in state.trials} == set(runs)
    assert tracking.get_run(state.run_id).data.metrics["trials_run"] == 2


_JOIN_FROM_A_THREAD = """
import threading, time
import ray
from dl_core.ray_jobs import connect

# As a page does: the thread that starts Ray ends with the page's rerun.
joined = threading.Thread(target=connect)
joined.start()
joined.join()
time.sleep(5)

@ray.remote
def answer():
    return 42

print("answer", ray.get(answer.remote(), timeout=90))
"""


def test_a_ray_started_from_a_page_thread_outlives_that_thread(tmp_path):
    """DLX_EXECUTOR=ray without RAY_ADDRESS starts Ray in the server, from a page's script
    thread; the cluster must not die when that thread ends (it took the server with it)."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(DL_EXPLORER_HOME=str(tmp_path / "home"),
               MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}")
    out = subprocess.run([sys.executable, "-c", _JOIN_FROM_A_THREAD], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "answer 42" in out.stdout


def test_the_train_page_names_the_cluster_it_trains_on(cluster):
    local = LocalExecutor()
    local.warm_up = lambda: None  # the local worker (predictions, summaries) is not needed here
    ex = RayExecutor(local=local)
    ex.warm_up()  # returns at once; joins the cluster in a thread
    deadline = time.time() + 60
    while ex.device is None and time.time() < deadline:
        time.sleep(0.05)
    assert ex.device == "Ray cluster (2 CPUs)"


def test_dlx_executor_picks_the_executor(monkeypatch):
    monkeypatch.setenv("DLX_EXECUTOR", "ray")
    assert isinstance(make_executor(), RayExecutor)
    monkeypatch.setenv("DLX_EXECUTOR", "local")
    assert isinstance(make_executor(), LocalExecutor)
    monkeypatch.setenv("DLX_EXECUTOR", "slurm")
    with pytest.raises(ConfigError, match=r"DLX_EXECUTOR must be one of \['local', 'ray'\]; "
                                          r"got 'slurm'"):
        make_executor()


def test_the_cli_names_a_bad_executor(monkeypatch, tiny_csv, capsys):
    from dl_core.cli import main

    monkeypatch.setenv("DLX_EXECUTOR", "slurm")
    assert main(["sweep", str(tiny_csv), *SWEEP]) == 2
    assert "error: DLX_EXECUTOR must be one of ['local', 'ray']; got 'slurm'." in \
        capsys.readouterr().err
