"""The app's state across flows, in a real browser: a second upload, a sweep on a series.

Uses the ``app_url``/``page`` fixtures of ``tests/browser/conftest.py``; the test process reads
the same MLflow store as the app (the session's ``MLFLOW_TRACKING_URI``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_upload_train_evaluate import (
    TRAIN_TIMEOUT_MS,
    assert_no_exception,
    go_to,
    select,
    settle,
)

pytestmark = pytest.mark.browser
SWEEP_TIMEOUT_MS = 240_000


def combobox(page: Page, key: str):
    return page.locator(f".st-key-{key}").get_by_role("combobox")


def fill(page: Page, key: str, value: str) -> None:
    """Type into the input with widget key ``key`` and leave it (which submits it)."""
    box = page.locator(f".st-key-{key} input")
    box.fill(value)
    box.press("Tab")
    settle(page)


def latest_run(experiment: str, kind: str = "training") -> dict:
    from dl_core import tracking

    runs = [r for r in tracking.search_run_records()
            if r["experiment"] == experiment and r.get("tags.dlx.kind") == kind]
    assert runs, f"no {kind} run in experiment {experiment!r}"
    return runs[0]  # newest first


def test_a_second_upload_shows_and_trains_its_own_kind_target_and_task(page: Page,
                                                                        tmp_path: Path):
    """Issue 7, C7 (and C11: a Model-page edit needs no Apply click to reach Train)."""
    rng = np.random.default_rng(5)
    ratings = tmp_path / "ratings.csv"
    pd.DataFrame({"age": rng.integers(18, 80, 120), "visits": rng.poisson(3, 120),
                  "rating": rng.integers(1, 6, 120)}).to_csv(ratings, index=False)
    sales = tmp_path / "sales.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=200).strftime("%Y-%m-%d"),
                  "units": np.round(20 + 5 * np.sin(np.arange(200) / 3)
                                    + rng.normal(size=200), 2)}).to_csv(sales, index=False)
    houses = tmp_path / "houses.csv"
    rooms = rng.integers(1, 7, 150)
    pd.DataFrame({"rooms": rooms, "area": np.round(rooms * 22 + rng.normal(0, 9, 150), 1),
                  "district": rng.choice(["north", "south", "east"], 150),
                  "price": np.round(rooms * 40_000 + rng.normal(0, 9_000, 150), 0)}
                 ).to_csv(houses, index=False)
    upload = page.locator("[data-testid='stFileUploader'] input[type=file]")
    success = page.get_by_test_id("stAlertContentSuccess")

    go_to(page, "Data")
    upload.set_input_files(ratings)
    expect(page.get_by_text("ratings · 120 rows × 3 columns")).to_be_visible()
    settle(page)
    expect(combobox(page, "target_choice")).to_have_value("rating")
    select(page, "task_choice", "regression")  # the user overrides the detected task
    expect(success).to_contain_text("Task: regression")

    # A series: the kind, the target and the series options are the new file's.
    upload.set_input_files(sales)
    expect(page.get_by_text("sales · 200 rows × 2 columns")).to_be_visible()
    settle(page)
    expect(combobox(page, "kind_choice")).to_have_value("Time series (forecasting) · detected")
    expect(combobox(page, "target_choice")).to_have_value("units")
    expect(combobox(page, "time_column")).to_have_value("date")
    expect(combobox(page, "task_choice")).to_have_count(0)
    # The next rerun sends the widgets' values back: they must still be the series'.
    fill(page, "lookback", "10")
    expect(combobox(page, "kind_choice")).to_have_value("Time series (forecasting) · detected")
    expect(success).to_contain_text("target units · windows of 10 × 1")

    # A table again, with other columns: kind, target and task follow it.
    upload.set_input_files(houses)
    expect(page.get_by_text("houses · 150 rows × 4 columns")).to_be_visible()
    settle(page)
    expect(combobox(page, "kind_choice")).to_have_value("Table (one row per sample) · detected")
    expect(combobox(page, "target_choice")).to_have_value("price")
    expect(combobox(page, "task_choice")).to_have_value("auto (regression)")
    expect(success).to_contain_text("Task: regression · target price")
    assert_no_exception(page)

    go_to(page, "Model")
    expect(page.get_by_text("Model summary")).to_be_visible()
    fill(page, "train-epochs", "2")  # no Apply button: the edit is applied as it is made
    go_to(page, "Train")
    expect(page.get_by_text(re.compile(r"houses → price \(regression\) with fnn · 2 epochs max"))
           ).to_be_visible()
    page.locator(".st-key-train button").click()
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="test rmse")).to_be_visible(
        timeout=TRAIN_TIMEOUT_MS)
    assert_no_exception(page)
    run = latest_run("houses")
    assert (run["params.target"], run["params.task"], run["params.data_kind"],
            run["params.epochs"]) == ("price", "regression", "tabular", "2")


def test_a_series_sweep_from_the_model_page_then_its_trials_on_the_runs_page(page: Page):
    """Issue 7, C10 (a sweep keeps the data kind and its options) and C8 (its trials arrive
    selected on the Runs page)."""
    go_to(page, "Data")
    select(page, "sample_choice", "Hourly load (seasonal time series)")
    page.locator(".st-key-load_sample button").click()
    settle(page)
    fill(page, "lookback", "24")
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("windows of 24 × 1")

    go_to(page, "Model")
    expect(page.get_by_text("Model summary")).to_be_visible()
    fill(page, "train-epochs", "1")
    page.locator(".st-key-sweep_on label").click()
    settle(page)
    box = page.locator(".st-key-sweep-learning_rate input")
    box.fill("0.001,0.01")
    box.press("Enter")
    settle(page)
    expect(page.get_by_text("2 trial(s) of up to 1 epochs each")).to_be_visible()
    page.locator(".st-key-start_sweep button").click()
    expect(page.get_by_text(re.compile(r"Sweep finished"))).to_be_visible(timeout=SWEEP_TIMEOUT_MS)
    settle(page)
    # Shown only when a trial gave a value (the end of a sweep redraws the page: wait for one).
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Best so far")).to_have_count(1)
    assert_no_exception(page)

    from dl_core import tracking

    sweep = latest_run("seasonal", kind="sweep")
    trials = tracking.search_run_records(
        filter_string=f"tags.`mlflow.parentRunId` = '{sweep['run_id']}'")
    assert sorted((t["status"], t["params.data_kind"], t["params.lookback"], t["params.horizon"])
                  for t in trials) == [("FINISHED", "timeseries", "24", "12")] * 2

    page.get_by_role("button", name="Compare its trials on the Runs page").click()
    expect(page.get_by_role("heading", name=re.compile("Runs"))).to_be_visible()
    settle(page)
    expect(combobox(page, "runs_sweep")).to_have_value(
        re.compile(re.escape(sweep["run_name"]) + r" · 2 trials"))
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible()
    assert_no_exception(page)
