"""Faults a real browser and server meet: the tab closed mid-training, the server stopped
(SIGTERM) mid-training. Every run ends in a true state with every epoch it showed."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dl_core import tracking
from tests.browser.conftest import is_alive, descendants_of, wait_gone, serving_app
from tests.browser.test_upload_train_evaluate import churn_csv, go_to, select, settle

pytestmark = pytest.mark.browser


def start_training(page: Page, csv: Path, epochs: int, patience: int) -> None:
    """Upload ``csv``, predict ``churned``, set the epochs, click Train."""
    go_to(page, "Data")
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(csv)
    expect(page.get_by_text(f"{csv.stem} · 300 rows × 9 columns")).to_be_visible()
    settle(page)
    select(page, "target_choice", "churned")
    go_to(page, "Model")
    for key, value in (("epochs", epochs), ("patience", patience)):
        box = page.locator(f".st-key-train-{key} input")
        box.fill(str(value))
        box.press("Tab")
        settle(page)
    go_to(page, "Train")
    expect(page.get_by_text(f"{epochs} epochs max")).to_be_visible()
    page.locator(".st-key-train button").click()


def shown_epoch(page: Page, epochs: int, at_least: int) -> int:
    """Wait until the progress bar shows epoch ``at_least`` or later; the epoch shown."""
    label = page.get_by_text(re.compile(rf"^Epoch \d+/{epochs} "))
    expect(label).to_be_visible(timeout=120_000)
    while True:
        epoch = int(re.match(r"Epoch (\d+)/", label.inner_text()).group(1))
        if epoch >= at_least:
            return epoch
        page.wait_for_timeout(100)


def only_run(experiment: str) -> dict:
    ids = [i for i, name in tracking.experiments().items() if name == experiment]
    runs = tracking.search_run_records(ids)
    assert len(runs) == 1, runs
    return runs[0]


def loss_steps(run_id: str) -> list[int]:
    return sorted(m.step for m in tracking.client().get_metric_history(run_id, "loss"))


def new_page(browser, url: str) -> tuple:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)  # a new server's first runs are slow on busy machines
    page = context.new_page()
    page.goto(url)
    return context, page


def test_a_closed_tab_finishes_its_job_and_a_stopped_server_kills_its_runs(browser, tmp_path):
    with serving_app(tmp_path) as (url, server_pid):
        # The tab is closed two epochs in: the job runs on and finishes, every epoch recorded.
        context, page = new_page(browser, url)
        start_training(page, churn_csv(tmp_path / "closed_tab.csv"), epochs=40, patience=0)
        shown_epoch(page, 40, at_least=2)
        context.close()
        deadline = time.monotonic() + 120
        while (run := only_run("closed_tab"))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the job did not finish after its tab closed"
            time.sleep(0.5)
        assert run["status"] == "FINISHED"
        assert loss_steps(run["run_id"]) == list(range(1, 41))

        # SIGTERM to the server mid-training: the run ends KILLED with every epoch it showed.
        context, page = new_page(browser, url)
        start_training(page, churn_csv(tmp_path / "sigterm.csv"), epochs=3000, patience=0)
        seen = shown_epoch(page, 3000, at_least=5)
        worker = descendants_of(server_pid)
        os.kill(server_pid, signal.SIGTERM)
        assert wait_gone([server_pid], timeout=30) == []
        assert wait_gone(worker, timeout=30) == []
        context.close()
        run = only_run("sigterm")
        assert run["status"] == "KILLED"
        assert "app stopped" in run[f"tags.{tracking.TAG_ERROR}"]
        steps = loss_steps(run["run_id"])
        assert len(steps) >= seen and steps == list(range(1, len(steps) + 1))
        assert not is_alive(server_pid)
