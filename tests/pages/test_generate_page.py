"""The Generate page: pick a generator run, generate in the worker, read the whole report."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.training import JobSpec, run_training
from tests.pages.apptest import open_app

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def copula_run() -> str:
    rng = np.random.default_rng(0)
    n = 150
    tenure = rng.integers(1, 72, n)
    df = pd.DataFrame({"tenure": tenure, "charges": np.round(20 + tenure * 1.5
                                                              + rng.normal(0, 5, n), 2),
                       "note": rng.choice([FORMULA, "ok"], n),
                       "churn": np.where(tenure < 25, "Yes", "No")})
    spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="page-gen", target="churn",
                   task="generation", arch="copula")
    return run_training(spec).run_id


def test_generate_page_shows_rows_report_privacy_and_download(copula_run):
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(copula_run)
    at.number_input(key="gen_n").set_value(300)
    at.selectbox(key="gen_cond_col").select("churn").run()
    at.selectbox(key="gen_cond_val_churn").select("Yes")
    at.button(key="gen_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    success = at.success[0].value
    assert success.startswith("Generated 300 rows where churn = Yes")
    generation = success.split("recorded as run `")[1].rstrip("`.")
    run = tracking.get_run(generation)
    assert run.data.tags[tracking.TAG_KIND] == "generation"
    assert run.data.tags[tracking.TAG_PARENT] == copula_run
    labels = {m.label: m.value for m in at.metric}
    # Fidelity is shown with privacy, and the figures are the recorded run's.
    assert float(labels["Quality"]) == pytest.approx(run.data.metrics["quality"], abs=5e-4)
    assert labels["Copied training rows"] == f"{int(run.data.metrics['copies']):,}"
    assert float(labels["Closer than real (DCR)"]) == pytest.approx(
        run.data.metrics["dcr_closer_to_train"], abs=5e-3)
    preview = at.dataframe[0].value  # the preview comes first, the pair scores later
    assert len(preview) == 200 and set(preview["churn"]) == {"Yes"}
    assert at.get("plotly_chart") and at.selectbox(key="gen_overlay_col").options
    download = at.get("download_button")[0]
    assert download.proto.label == "Download rows (CSV)"


def test_generate_page_without_generators_points_to_the_model_page(monkeypatch):
    import ui.generate

    monkeypatch.setattr(ui.generate, "generator_runs", lambda df: df.iloc[0:0])
    at = open_app("app_pages/generate.py")
    assert not at.exception
    assert at.info[0].value.startswith("No generator has been trained yet")
