"""The flow people use most, in a real browser: upload a CSV, pick the target, train, evaluate."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import mapped_files

pytestmark = pytest.mark.browser

TRAIN_TIMEOUT_MS = 120_000


def churn_csv(path: Path, n: int = 300, seed: int = 3) -> Path:
    """A small customer export like people upload: ID column, dates, categories, gaps."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, size=n).astype(float)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], size=n, p=[0.5, 0.3, 0.2])
    internet = rng.choice(["DSL", "Fiber optic", "No"], size=n)
    charges = np.round(rng.uniform(20, 110, size=n) + (internet == "Fiber optic") * 15, 2)
    calls = rng.poisson(1.5, size=n)
    logit = (1.2 - 0.05 * tenure + 1.5 * (contract == "Month-to-month") + 0.6 * calls
             + 0.01 * (charges - 60) - 1.0 * (contract == "Two year"))
    churned = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    df = pd.DataFrame({
        "customer_id": [f"C{100000 + i}" for i in range(n)],
        "signup_date": pd.date_range("2021-01-01", periods=n, freq="3D").strftime("%Y-%m-%d"),
        "tenure_months": tenure,
        "contract": contract,
        "internet": internet,
        "monthly_charges": charges,
        "support_calls": calls,
        "churned": churned,
        "region": rng.choice(["North", "South", "East", "West"], size=n),
    })
    df.loc[rng.choice(n, 25, replace=False), "tenure_months"] = np.nan
    df.loc[rng.choice(n, 15, replace=False), "internet"] = None
    df.to_csv(path, index=False)
    return path


def settle(page: Page) -> None:
    """Wait until the script run that the last action started has finished."""
    page.wait_for_timeout(200)  # let the rerun request reach the server
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")


def go_to(page: Page, title: str) -> None:
    """Click a page in the sidebar navigation and wait for its heading."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(title))).to_be_visible()
    settle(page)


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def select(page: Page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox with widget key ``key``.

    A rerun that lands while the list is open closes it, so open it again until it sticks.
    """
    combobox = page.locator(f".st-key-{key}").get_by_role("combobox")
    for _ in range(3):
        settle(page)
        combobox.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    expect(combobox).to_have_value(option)
    settle(page)


def screenshot(page: Page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport instead."""
    size = page.viewport_size
    height = page.get_by_test_id("stMain").evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(300)
    page.screenshot(path=path)
    page.set_viewport_size(size)


def tensorflow_libraries(pid: int) -> list[str]:
    return sorted(f for f in mapped_files(pid) if "libtensorflow" in f or "/tensorflow/" in f)


def test_upload_train_evaluate(page: Page, app_server: tuple[str, int], tmp_path: Path):
    server_pid = app_server[1]
    shot = lambda name: screenshot(page, tmp_path / f"{name}.png")  # noqa: E731
    expect(page.get_by_role("heading", name=re.compile("DL Explorer"))).to_be_visible()
    settle(page)
    assert_no_exception(page)
    shot("1-home")

    go_to(page, "Data")
    csv = churn_csv(tmp_path / "customers.csv")
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(csv)
    expect(page.get_by_text("customers · 300 rows × 9 columns")).to_be_visible()
    settle(page)
    select(page, "target_choice", "churned")
    success = page.get_by_test_id("stAlertContentSuccess")
    expect(success).to_contain_text("Task: binary")
    expect(success).to_contain_text("churned")
    assert_no_exception(page)
    shot("2-data")

    go_to(page, "Model")
    expect(page.get_by_text("Model summary")).to_be_visible()
    # The training worker built the summary: TensorFlow is not mapped into the web server.
    assert any("libpython" in f or "/python3" in f for f in mapped_files(server_pid))
    assert tensorflow_libraries(server_pid) == []
    epochs = page.locator(".st-key-train-epochs input")
    epochs.fill("5")
    epochs.press("Tab")  # applies at once
    settle(page)
    assert_no_exception(page)
    shot("3-model")

    go_to(page, "Train")
    expect(page.get_by_text("5 epochs max")).to_be_visible()
    page.locator(".st-key-train button").click()
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="test accuracy")).to_be_visible(
        timeout=TRAIN_TIMEOUT_MS
    )
    expect(page.get_by_text("Finished", exact=True)).to_be_visible()  # not other jobs
    assert_no_exception(page)
    assert tensorflow_libraries(server_pid) == []
    shot("4-train")

    go_to(page, "Evaluate")
    labels = page.get_by_test_id("stMetricLabel")
    for name in ("Accuracy", "ROC-AUC"):
        expect(labels.filter(has_text=re.compile(f"^{name}$"))).to_be_visible()
    values = page.get_by_test_id("stMetricValue")
    accuracy = float(values.nth(0).inner_text())
    assert 0.0 < accuracy <= 1.0
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts.filter(has_text="Confusion matrix")).to_be_visible()
    assert_no_exception(page)
    shot("5-evaluate")


def test_bad_upload_shows_message_and_app_stays_usable(page: Page, tmp_path: Path):
    go_to(page, "Data")
    garbage = tmp_path / "export.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(garbage)
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("does not look like a CSV text file")
    assert_no_exception(page)
    screenshot(page, tmp_path / "bad-upload.png")

    # Still usable: a sample loads and the pages after Data work.
    page.locator(".st-key-load_sample button").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Task: binary")
    go_to(page, "Model")
    expect(page.get_by_text("Model summary")).to_be_visible()
    assert_no_exception(page)
