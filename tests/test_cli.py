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
