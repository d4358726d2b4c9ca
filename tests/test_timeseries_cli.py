"""Forecasting through the CLI entry: gap filling never reads the future, and decimal-year
time columns (R's ``ts`` exports) train with their months and quarters as dates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dl_core import cli, tracking

N_MONTHS = 120  # validation starts at month 84, the test period at month 96 (shares 0.1, 0.2)
TEST_START = 96


def train(capsys, path, *args: str) -> str:
    """``python -m dl_core train PATH ...`` in-process; the run id it printed."""
    code = cli.main(["train", str(path), "--quiet", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out.strip().splitlines()[-1])["run_id"]


def monthly(values) -> pd.DataFrame:
    return pd.DataFrame({"month": pd.date_range("2000-01-01", periods=len(values), freq="MS")
                         .strftime("%Y-%m-%d"), "sales": values})


def test_the_test_period_cannot_change_training_or_validation(capsys, csv_path):
    t = np.arange(N_MONTHS)
    past = 100 + t + 10 * np.sin(2 * np.pi * t / 12)
    past[TEST_START - 3:TEST_START] = np.nan  # a 3-month gap just before the test period
    other = past.copy()
    other[TEST_START:] = 10_000 + 50 * t[TEST_START:]  # same past, another future
    histories = []
    for name, values in (("a.csv", past), ("b.csv", other)):
        run_id = train(capsys, csv_path(monthly(values), name), "--target", "sales",
                       "--time", "month", "--lookback", "12", "--epochs", "3",
                       "--set", "patience=0", "--set", "units=8")
        histories.append(tracking.metric_history(run_id, ["loss", "val_loss"]))
    assert len(histories[0]["loss"]) == len(histories[0]["val_loss"]) == 3
    assert histories[0] == histories[1]


def decimal_years(per: int, n: int, digits: int | None = None) -> pd.DataFrame:
    """A seasonal series as R writes a ``ts`` (``write.csv(data.frame(time=time(x), ...))``)."""
    t = np.arange(n)
    time = 1949 + t / per
    return pd.DataFrame({"rownames": t + 1, "time": np.round(time, digits) if digits else time,
                         "value": 100 + 2 * t + 20 * np.sin(2 * np.pi * t / per)})


@pytest.mark.parametrize(("per", "n", "digits", "first_test", "last"),
                         [(12, 144, None, "1958-08", "1960-12"),
                          (4, 80, 2, "1965-Q1", "1968-Q4")],
                         ids=["monthly", "quarterly-rounded"])
def test_decimal_year_series_train_and_show_dates(capsys, csv_path, tmp_path, per, n, digits,
                                                  first_test, last):
    path = csv_path(decimal_years(per, n, digits))
    run_id = train(capsys, path, "--target", "value", "--time", "time", "--lookback",
                   str(per), "--epochs", "1", "--set", "units=4")
    report = tracking.load_json(run_id, "evaluation/report.json")
    assert report["series"]["time"][0] == first_test
    assert report["series"]["time"][-1] == last
    out = tmp_path / "forecast.csv"
    assert cli.main(["predict", run_id, str(path), "--out", str(out)]) == 0, capsys.readouterr()
    predictions = pd.read_csv(out)
    # The uploaded time column comes back untouched; the last row forecasts past its end.
    source = pd.read_csv(path)
    assert predictions["time"].tolist() == source["time"].tolist()
    assert predictions["step_1"].notna().iloc[-1]
