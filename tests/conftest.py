"""Shared fixtures: every test session gets its own MLflow store and app folder."""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Before anything reads them: a throwaway store and app folder for the whole session,
# inherited by worker subprocesses too.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="dlx-tests-"))
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_SESSION_DIR / 'mlflow.db'}"
os.environ["DL_EXPLORER_HOME"] = str(_SESSION_DIR / "home")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Every object alive before a test moves out of the garbage collector's reach (freed by
    reference counts as before; only a cycle among them stays). Once TensorFlow's half a
    million objects were in this process, each full collection walked them all, and an
    AppTest page run took 3.5 s instead of 0.5 s."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def store_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture
def tiny_binary() -> pd.DataFrame:
    """200 rows, mixed columns with gaps, a learnable binary target."""
    rng = np.random.default_rng(0)
    n = 200
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    logit = 2.0 * x1 - 1.5 * x2 + (color == "red") * 1.0
    y = np.where(logit + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    df = pd.DataFrame({"id": np.arange(n), "x1": x1, "x2": x2, "color": color, "label": y})
    df.loc[::17, "x2"] = np.nan
    df.loc[::23, "color"] = None
    return df


@pytest.fixture
def tiny_regression() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 200
    a, b = rng.normal(size=n), rng.uniform(0, 10, size=n)
    kind = rng.choice(["x", "y"], size=n)
    y = 3 * a + 0.5 * b + (kind == "x") * 2 + rng.normal(scale=0.3, size=n)
    return pd.DataFrame({"a": a, "b": b, "kind": kind, "y": y})


@pytest.fixture
def csv_path(tmp_path):
    """Write a DataFrame to a CSV in tmp_path and return the path."""

    def write(df: pd.DataFrame, name: str = "data.csv") -> Path:
        path = tmp_path / name
        df.to_csv(path, index=False)
        return path

    return write


def _seed_frame(n: int = 160, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    y = np.where(2 * x1 - x2 + (color == "red") + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "label": y})


@pytest.fixture(scope="session")
def seeded_runs() -> dict:
    """A store holding real runs: two tiny trainings and a 2-trial sweep (experiment 'seeded').

    Returns:
        ``{"runs": [run ids], "sweep": parent id, "trials": [ids], "data": DataFrame}``.
    """
    from dl_core.data.storage import store_dataset
    from dl_core.sweeps import SweepSpec, run_sweep
    from dl_core.training import JobSpec, run_training

    df = _seed_frame()
    path = store_dataset(df)
    base = JobSpec(dataset_path=str(path), dataset_name="seeded", target="label", task="binary",
                   model_config={"hidden_units": (8,)}, experiment="seeded",
                   train_config={"epochs": 3, "patience": 0, "batch_size": 32})
    runs = []
    for i, lr in enumerate((0.01, 0.003)):
        spec = JobSpec(**{**base.to_dict(), "run_name": f"seed-{i}",
                          "train_config": {**base.train_config, "learning_rate": lr}})
        runs.append(run_training(spec).run_id)
    sweep = run_sweep(SweepSpec(base=base, space={"learning_rate": [0.02, 0.005]},
                                method="grid", name="seed-sweep"))
    return {"runs": runs, "sweep": sweep.run_id, "trials": [t["run_id"] for t in sweep.trials],
            "data": df}


@pytest.fixture
def weather_log() -> pd.DataFrame:
    """A daily weather log in date order (dates as text, a categorical ``weather``); rain
    follows precipitation, so ``weather`` is learnable."""
    rng = np.random.default_rng(4)
    n = 300
    precipitation = np.round(rng.gamma(0.6, 5.0, n) * (rng.random(n) < 0.5), 1)
    temp_max = np.round(12 + 10 * np.sin(np.arange(n) * 2 * np.pi / 365) + rng.normal(0, 2, n), 1)
    weather = np.where(precipitation > 2, "rain", np.where(precipitation > 0, "drizzle",
                       rng.choice(["sun", "fog"], n, p=[0.8, 0.2])))
    df = pd.DataFrame({
        "date": pd.date_range("2012-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "precipitation": precipitation, "temp_max": temp_max,
        "temp_min": np.round(temp_max - 6 - rng.uniform(0, 4, n), 1),
        "wind": np.round(rng.gamma(3.0, 1.2, n), 1), "weather": weather,
    })
    return df


@pytest.fixture(scope="session")
def image_generator_job() -> tuple[str, str]:
    """One tiny conditional conv_vae (2-D latent) trained on 120 digits by the app's executor
    (the warm worker the page tests share, so the Train page can show its job), for the page,
    CLI and browser tests of image generation: ``(job id, run id)``."""
    from dl_core.data.samples import build_sample
    from dl_core.data.storage import store_dataset
    from dl_core.training import JobSpec
    from ui.loaders import executor

    digits = build_sample("digits").sample(120, random_state=0).reset_index(drop=True)
    spec = JobSpec(dataset_path=str(store_dataset(digits)), dataset_name="digits-gen",
                   target="label", task="generation", arch="conv_vae", data_kind="image",
                   model_config={"filters": "8,16", "dense_units": "32", "latent_dim": "2"},
                   train_config={"epochs": "2", "batch_size": "32"})
    job_id = executor().submit(spec)
    job = executor().wait(job_id, timeout=600)
    assert job.status == "finished", job.error
    return job_id, job.run_id


@pytest.fixture(scope="session")
def image_generator_run(image_generator_job) -> str:
    """The run id of :func:`image_generator_job` (the server and CLI share this store)."""
    return image_generator_job[1]
