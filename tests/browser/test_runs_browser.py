"""Compare runs in a real browser: select two rows of the Runs table, see the curves overlaid.

Uses the ``app_url``/``page`` fixtures of ``tests/browser/conftest.py`` (the app served by
``streamlit run`` against the session's temporary store).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="module")
def two_runs():
    """Two tiny real runs in the store the app reads (same MLFLOW_TRACKING_URI)."""
    import numpy as np
    import pandas as pd

    from dl_core.data.storage import store_dataset
    from dl_core.training import JobSpec, run_training

    # (Not imported from tests/conftest.py: importing it again would point this process at a
    # new temporary store while the app reads the session's.)
    rng = np.random.default_rng(11)
    x1, x2 = rng.normal(size=160), rng.normal(size=160)
    df = pd.DataFrame({"x1": x1, "x2": x2, "label": np.where(x1 - x2 > 0, "yes", "no")})
    path = store_dataset(df)
    for name, lr in (("browser-a", 0.01), ("browser-b", 0.001)):
        run_training(JobSpec(
            dataset_path=str(path), dataset_name="browser", target="label", task="binary",
            experiment="browser-compare", run_name=name, model_config={"hidden_units": (8,)},
            train_config={"epochs": 3, "patience": 0, "learning_rate": lr},
        ))
    return ["browser-a", "browser-b"]


def settle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")


def test_select_two_runs_and_see_overlaid_curves(two_runs, page, app_url, tmp_path):
    from playwright.sync_api import expect

    page.goto(f"{app_url}/runs")
    expect(page.get_by_role("heading", name=re.compile("Runs"))).to_be_visible()
    settle(page)
    search = page.locator(".st-key-f_search input")
    search.fill("browser-")
    search.press("Enter")
    expect(page.get_by_text(re.compile(r"^2 of [\d,]+ runs"))).to_be_visible()
    settle(page)

    # The table is a canvas (glide-data-grid): tick the row-marker boxes of both rows.
    grid = page.locator(".st-key-runs_table [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    for row in (0, 1):
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17 + 35 * row)
        settle(page)

    # Under a loaded CI machine the comparison took just over the 5 s an assertion waits.
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible(timeout=30_000)
    chart = page.locator(".st-key-cmp_curves")
    # The chart draws after the heading: under the same load it too can take over 5 s.
    expect(chart.locator(".legendtext")).to_have_count(4, timeout=30_000)  # train + val each
    legend = " ".join(chart.locator(".legendtext").all_text_contents())
    assert "browser-a" in legend and "browser-b" in legend and "★" in legend
    expect(chart.locator("g.scatterlayer g.trace")).to_have_count(4)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=tmp_path / "runs-compare.png", full_page=True)
