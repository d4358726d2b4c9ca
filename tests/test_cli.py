"""`python -m dl_core train`: same run as the app, JSON last, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dl_core", *args], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=300)


def assert_one_error_line(capsys, args: tuple[str, ...], message: str = "", *,
                          real: bool = False) -> None:
    """``python -m dl_core ARGS`` exits 2 with one ``error:`` line holding ``message``. Run in
    this process unless ``real`` (a new interpreter costs seconds): there any other exception,
    which the user would see as a traceback, fails the test."""
    from dl_core.cli import main

    if real:
        proc = cli(*args)
        code, err = proc.returncode, proc.stderr
        assert "Traceback" not in err, err
    else:
        capsys.readouterr()
        code, err = main(list(args)), capsys.readouterr().err
    assert code == 2, (args, err)
    assert message in err and len([ln for ln in err.splitlines()
                                   if ln.startswith("error:")]) == 1, (args, err)


def test_train_prints_run_json_last(tiny_binary, csv_path):
    path = csv_path(tiny_binary)
    proc = cli("train", str(path), "--target", "label", "--epochs", "3",
               "--set", "hidden_units=16", "--set", "learning_rate=0.01", "--experiment", "cli")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["task"] == "binary" and len(out["run_id"]) == 32
    assert set(out["metrics"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert "epoch 3/3" in proc.stderr


def test_bad_input_exits_nonzero_with_one_line(tmp_path, tiny_binary, csv_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    cases = [
        ("train", str(empty), "--target", "x"),
        ("train", str(csv_path(tiny_binary)), "--target", "labl"),
        ("train", str(csv_path(tiny_binary)), "--target", "label", "--set", "dropout=7"),
        ("train", str(tmp_path / "missing.csv"), "--target", "x"),
    ]
    for args in cases:
        proc = cli(*args)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1, proc.stderr


def test_forecast_prints_baselines(csv_path):
    import numpy as np
    import pandas as pd

    t = np.arange(150)
    df = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=150).strftime("%Y-%m-%d"),
                       "sales": 20 + 5 * np.sin(2 * np.pi * t / 7) + 0.05 * t})
    proc = cli("train", str(csv_path(df)), "--target", "sales", "--time", "day", "--arch", "gru",
               "--lookback", "14", "--horizon", "2", "--epochs", "2", "--set", "units=8",
               "--quiet")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["data_kind"] == "timeseries" and out["arch"] == "gru"
    assert set(out["metrics"]) >= {"mae", "rmse", "mape", "r2"}
    assert set(out["baselines"]) == {"last_value", "seasonal_last_value"}
    assert out["baselines"]["last_value"]["rmse"] > 0


def test_zoo_bad_input_is_one_line(csv_path):
    import numpy as np
    import pandas as pd

    pixels = pd.DataFrame(np.random.default_rng(0).integers(0, 255, size=(40, 50)),
                          columns=[f"pixel{i}" for i in range(50)]).assign(label=[0, 1] * 20)
    short = pd.DataFrame({"t": range(30), "v": np.arange(30.0)})
    cases = [
        (("--target", "label", "--arch", "cnn"), pixels, "neither a square"),
        (("--target", "label", "--image-shape", "8x8"), pixels, "needs 64 pixel columns"),
        (("--target", "v", "--time", "t", "--lookback", "24"), short, "too few for lookback 24"),
    ]
    for args, df, message in cases:
        proc = cli("train", str(csv_path(df)), *args, "--epochs", "1")
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and message in proc.stderr, proc.stderr
