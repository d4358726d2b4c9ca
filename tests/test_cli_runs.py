"""`python -m dl_core sweep` and `predict`: JSON last, clean one-line errors."""

from __future__ import annotations

import json

import pandas as pd

from tests.test_cli import assert_one_error_line, cli


def test_sweep_then_predict_with_its_best_trial(tiny_binary, csv_path, tmp_path):
    data = csv_path(tiny_binary)
    proc = cli("sweep", str(data), "--target", "label", "--epochs", "2", "--set", "hidden_units=8",
               "--grid", "learning_rate=0.001,0.01", "--experiment", "cli-sweep")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "FINISHED" and len(out["trials"]) == 2
    assert [t["learning_rate"] for t in out["trials"]] == ["0.001", "0.01"]
    assert "best so far" in proc.stderr

    new = tiny_binary.drop(columns="label").head(30).assign(note="x")
    new.loc[0, "color"] = "violet"
    target = tmp_path / "preds.csv"
    proc = cli("predict", "best:cli-sweep", str(csv_path(new, "new.csv")), "--out", str(target))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["run_id"] in {t["run_id"] for t in out["trials"]}
    table = pd.read_csv(target)
    assert len(table) == 30 and {"prediction", "proba_yes", "x1"} <= set(table.columns)
    assert "'violet'" in proc.stderr and "note" in proc.stderr

    proc = cli("predict", result["run_id"], str(csv_path(new.drop(columns=["x1"]), "bad.csv")))
    assert proc.returncode == 2 and "x1" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_sweep_and_predict_input(tiny_binary, csv_path, capsys):
    data = str(csv_path(tiny_binary))
    cases = [
        ("sweep", data, "--target", "label", "--grid", "learning_rat=0.1"),
        ("sweep", data, "--target", "label", "--range", "learning_rate=0.1"),
        ("sweep", data, "--target", "label", "--grid", "dropout=0.5,3"),
        ("sweep", data, "--target", "label", "--method", "random", "--grid", "dropout=0.1"),
        ("predict", "0" * 32, data),
        ("predict", "best:no-such-experiment", data),
    ]
    for i, args in enumerate(cases):
        assert_one_error_line(capsys, args, real=i == 0)  # the real command once
