"""`python -m dl_core train --arch copula` and `generate`: JSON last, safe CSV, clean errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import assert_one_error_line, cli

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """Customers whose 'note' column holds a formula in half the rows; churn is the target."""
    rng = np.random.default_rng(0)
    n = 160
    tenure = rng.integers(1, 72, n)
    balance = np.round(rng.normal(-50, 200, n), 2)
    churn = np.where(tenure + rng.normal(0, 10, n) < 30, "Yes", "No")
    return pd.DataFrame({"tenure": tenure, "balance": balance,
                         "plan": rng.choice(["basic", "pro"], n),
                         "note": rng.choice([FORMULA, "ok"], n), "churn": churn})


@pytest.fixture(scope="module")
def customers_csv(customers, tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "customers.csv"
    customers.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def generator_run(customers_csv):
    # One generator for the module: each CLI call is a fresh interpreter (seconds on 2 cores).
    proc = cli("train", str(customers_csv), "--arch", "copula", "--target", "churn",
               "--experiment", "cli-gen", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_train_a_generator_prints_fit_seconds_and_report_figures(generator_run):
    assert generator_run["arch"] == "copula" and generator_run["status"] == "FINISHED"
    assert generator_run["task"] == "generation"
    assert 0 < generator_run["fit_seconds"] < 60
    assert 0.5 < generator_run["metrics"]["quality"] <= 1.0
    assert generator_run["metrics"]["copies"] == 0


def test_generate_writes_safe_rows_and_prints_the_report_last(generator_run, tmp_path, customers):
    out = tmp_path / "synthetic.csv"
    proc = cli("generate", generator_run["run_id"], "--n", "300", "--seed", "3",
               "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"quality", "column_shapes", "column_pairs", "tstr_ratio", "copies",
            "dcr_closer_to_train"} <= set(result)
    assert result["rows"] == 300 and result["source_run_id"] == generator_run["run_id"]
    assert 0.5 < result["quality"] <= 1.0 and 0.0 < result["tstr_ratio"] < 2.0
    rows = pd.read_csv(out, keep_default_na=False)
    assert list(rows.columns) == list(customers.columns) and len(rows) == 300
    # The formula comes back as text a spreadsheet shows, never runs; numbers stay numbers.
    assert set(rows["note"]) == {"'" + FORMULA, "ok"}
    assert rows["balance"].dtype == float and (rows["balance"] < 0).any()
    assert rows["tenure"].dtype == np.int64


def test_conditional_generation_gives_only_the_asked_value(generator_run, tmp_path):
    out = tmp_path / "yes.csv"
    proc = cli("generate", generator_run["run_id"], "--n", "120", "--condition", "churn=Yes",
               "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert set(pd.read_csv(out)["churn"]) == {"Yes"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "tstr_ratio" not in result  # one class left: nothing to predict
    assert "narrowed to churn = Yes" in proc.stderr


def test_generation_is_recorded_as_a_child_run(generator_run, tmp_path):
    from dl_core import tracking

    proc = cli("generate", generator_run["run_id"], "--n", "50", "--out", str(tmp_path / "g.csv"))
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    run = tracking.get_run(result["run_id"])
    assert run.data.tags[tracking.TAG_KIND] == "generation"
    assert run.data.tags[tracking.TAG_PARENT] == generator_run["run_id"]
    assert run.data.metrics["quality"] == pytest.approx(result["quality"])
    assert tracking.load_json(result["run_id"], "generation/report.json")["n_synthetic"] == 50
    assert set(tracking.artifact_paths(result["run_id"])) == {
        "generation/report.json", "generation/samples.csv"}


def test_bad_generation_input_is_one_line(generator_run, customers_csv, tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    cases = [
        (("generate", generator_run["run_id"], "--n", "10", "--condition", "churn=Maybe",
          "--out", out), "'Maybe' is not a value of column 'churn'"),
        (("generate", generator_run["run_id"], "--n", "10", "--condition", "color=red",
          "--out", out), "There is no column 'color'"),
        (("generate", generator_run["run_id"], "--n", "0", "--out", out), "between 1 and"),
        (("generate", "0" * 32, "--n", "5", "--out", out), "No run"),
        (("train", str(customers_csv), "--arch", "copula", "--target", "nope"),
         "There is no column 'nope'"),
        (("train", str(customers_csv)), "--target is required"),
    ]
    for i, (args, message) in enumerate(cases):
        assert_one_error_line(capsys, args, message, real=i == 0)  # the real command once
