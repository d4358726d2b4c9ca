"""Generate in a real browser: pick the generator, ask for rows where churn = Yes, read the
report (fidelity beside privacy) and download a CSV whose formula cells cannot run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.training import JobSpec, run_training
from tests.browser.test_upload_train_evaluate import assert_no_exception, go_to, select, settle

pytestmark = pytest.mark.browser

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def copula_run() -> str:
    """A copula trained on customers whose 'note' holds a formula in half the rows (the server
    shares this session's MLflow store)."""
    rng = np.random.default_rng(1)
    n = 200
    tenure = rng.integers(1, 72, n)
    df = pd.DataFrame({"tenure": tenure,
                       "balance": np.round(rng.normal(-40, 150, n), 2),
                       "note": rng.choice([FORMULA, "ok"], n),
                       "churn": np.where(tenure < 25, "Yes", "No")})
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="synth-demo",
                   target="churn", task="generation", arch="copula")
    return run_training(spec).run_id


def test_generate_in_the_browser(page: Page, copula_run: str, tmp_path):
    go_to(page, "Generate")
    assert_no_exception(page)
    name = tracking.get_run(copula_run).info.run_name
    expect(page.locator(".st-key-gen_run").get_by_role("combobox")).to_have_value(
        re.compile(re.escape(name) + r".* · synth-demo → churn · copula · FINISHED"))
    select(page, "gen_cond_col", "churn")
    select(page, "gen_cond_val_churn", "Yes")
    page.locator(".st-key-gen_go").get_by_role("button").click()
    expect(page.get_by_text("Generated 1,000 rows where churn = Yes")).to_be_visible(
        timeout=120_000)
    settle(page)
    assert_no_exception(page)
    # Fidelity is never shown without privacy. (The report is drawn after the rows; on a loaded
    # machine that takes longer than an assertion's 5 s.)
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Quality")).to_be_visible(
        timeout=60_000)
    for label in ("Quality", "Shapes", "Copied rows", "DCR share"):
        expect(page.get_by_test_id("stMetricLabel").filter(has_text=label)).to_have_count(1)
    # Every row has churn = Yes: one class, nothing left to predict.
    expect(page.get_by_text("No utility figure: the condition fixes churn to one value, so "
                            "nothing is left to predict.")).to_be_visible()
    with page.expect_download() as download:
        page.locator(".st-key-gen_download").get_by_role("button").click()
    path = tmp_path / "rows.csv"
    download.value.save_as(path)
    rows = pd.read_csv(path, keep_default_na=False)
    assert len(rows) == 1000 and set(rows["churn"]) == {"Yes"}
    assert set(rows["note"]) <= {"'" + FORMULA, "ok"} and "'" + FORMULA in set(rows["note"])
    assert rows["balance"].dtype == float and (rows["balance"] < 0).any()
