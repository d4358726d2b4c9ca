"""The Generate page: pick a generator run, generate in the worker, read the whole report."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import streamlit as st

from dl_core import tracking
from dl_core.data.storage import store_dataset
from dl_core.training import JobSpec, run_training
from tests.pages.apptest import open_app, recorded_downloads, recorded_generation
from ui import state

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
    run_id = run_training(spec).run_id
    st.cache_data.clear()  # the run listing an earlier test cached predates this run
    return run_id


def test_generate_page_shows_rows_report_privacy_and_download(copula_run):
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(copula_run)
    at.number_input(key="gen_n").set_value(300)
    at.selectbox(key="gen_cond_col").select("churn").run()
    at.selectbox(key="gen_cond_val_churn").select("Yes")
    with recorded_downloads() as files:
        at.button(key="gen_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    success = at.success[0].value
    assert success.startswith("Generated 300 rows where churn = Yes")
    run = recorded_generation(at, copula_run)
    assert run.info.run_name.startswith("generate copula x300 churn=Yes")  # listed as such
    labels = {m.label: m.value for m in at.metric}
    # Fidelity is shown with privacy, and the figures are the recorded run's.
    assert float(labels["Quality"]) == pytest.approx(run.data.metrics["quality"], abs=5e-4)
    assert labels["Copied rows"] == f"{int(run.data.metrics['copies']):,}"
    # The copied count is also read as a share, beside the held-out rows' baseline share.
    share = run.data.metrics["copies"] / 300
    assert any(c.value.startswith("Privacy baseline:") and f"(synthetic rows: {share:.3f})"
               in c.value for c in at.caption), [c.value for c in at.caption]
    assert float(labels["DCR share"]) == pytest.approx(
        run.data.metrics["dcr_closer_to_train"], abs=5e-3)
    # churn = Yes in every row, real and synthetic: no free 1.0 for its shape, no pairs with it.
    report = at.session_state["generation_result"]["report"]
    shapes = {s["column"] for s in report["details"]["column_shapes"]}
    assert shapes == {"tenure", "charges", "note"}
    assert not any("churn" in p["columns"] for p in report["details"]["column_pairs"])
    assert any(i.value == "churn left out of the figures: the condition fixes it in every row."
               for i in at.info), [i.value for i in at.info]
    assert "churn" not in at.selectbox(key="gen_overlay_col").options  # one bar a side, no more
    # The four fidelity figures two a row (half their group's width each), not four abreast.
    assert [c.weight for c in at.columns].count(0.25) == 0
    preview = at.dataframe[0].value  # the preview comes first, the pair scores later
    assert len(preview) == 200 and set(preview["churn"]) == {"Yes"}
    assert at.get("plotly_chart") and at.selectbox(key="gen_overlay_col").options
    download = at.get("download_button")[0]
    assert download.proto.label == "Download rows (CSV)"
    [rows] = files.values()
    notes = set(pd.read_csv(io.BytesIO(rows))["note"])
    assert notes <= {"'" + FORMULA, "ok"} and "'" + FORMULA in notes  # formulas neutralised


def test_generate_page_without_generators_points_to_the_model_page(monkeypatch):
    import ui.generate

    monkeypatch.setattr(ui.generate, "generator_runs", lambda df: df.iloc[0:0])
    at = open_app("app_pages/generate.py")
    assert not at.exception
    assert at.info[0].value.startswith("No generator has been trained yet")


def test_model_and_train_pages_fit_a_generator_without_a_target():
    from tests.pages.apptest import load_sample, wait_for_run

    at = open_app("app_pages/data.py")
    load_sample(at, "churn")
    at.switch_page("app_pages/model.py").run()
    # Predictors first (a fresh session keeps its fnn), generators after them.
    options = at.selectbox(key="arch_choice").options
    assert options[0] == "Feed-forward network (MLP)" and "Gaussian copula (generator)" in options
    at.selectbox(key="arch_choice").select("copula").run()
    assert not at.exception
    # A generator has no layer editor or summary; its target may be none.
    assert not any(m.value.startswith("**Model summary**") for m in at.markdown)
    at.selectbox(key="gen_target_choice").select("(none)").run()
    assert any(m.value.startswith("**Generator** · learns from") and m.value.endswith("no target")
               for m in at.markdown)
    # The Data page showed training, validation and test rows; this page says why two parts.
    assert any("not into the Data page's training, validation and test rows" in c.value
               for c in at.caption)
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    run_id = wait_for_run(at)
    run = tracking.get_run(run_id)
    assert run.data.tags["family"] == "generative" and run.data.tags["arch"] == "copula"
    assert run.data.params["target"] == "" and "tstr_ratio" not in run.data.metrics
    at.run()
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Quality"]) == pytest.approx(run.data.metrics["quality"], abs=5e-4)
    assert "Copied rows" in labels and "DCR share" in labels
    assert any(m.value.startswith("**Fresh samples**") for m in at.markdown)
    assert any(c.value.startswith("Scored on one draw of as many rows as it trained on") for c
               in at.caption), [c.value for c in at.caption]
    assert not at.exception and not at.error
    # Generators are not offered where predictions are made.
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    offered = [str(o) for box in at.selectbox for o in box.options]
    assert not any(run_id[:8] in o for o in offered)


def test_evaluate_with_only_generators_trained_points_to_generate(copula_run, monkeypatch):
    import ui.runs

    every = ui.runs.runs_index(tracking.tracking_uri()).frame()
    monkeypatch.setattr(ui.runs, "all_runs", lambda: every[every["run_id"] == copula_run])
    at = open_app("app_pages/evaluate.py")
    assert [i.value for i in at.info] == [
        "No finished training run of a predictive model yet: train one first. Generators are "
        "scored on the Generate page."]
    assert [link.proto.page for link in at.get("page_link")][-2:] == ["train", "generate"]


def test_runs_page_shows_a_generator_and_hands_it_to_generate(copula_run):
    from tests.pages.test_runs_pages import runs_page, select_rows

    at = runs_page("page-gen")
    # The generator's figures are columns of the table and of its CSV, like test metrics are.
    table = at.dataframe(key="runs_table").value
    metrics = tracking.get_run(copula_run).data.metrics
    assert table.loc[copula_run, "quality"] == pytest.approx(metrics["quality"])
    assert table.loc[copula_run, "dcr_closer_to_train"] == pytest.approx(
        metrics["dcr_closer_to_train"])
    # Generations sit under their generator marked ↳ too, not only a sweep's trials.
    assert any("↳ marks a sweep's trials and a generator's generations" in c.value
               for c in at.caption)
    select_rows(at, [tracking.get_run(copula_run).info.run_name])
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Quality"]) == pytest.approx(
        tracking.get_run(copula_run).data.metrics["quality"], abs=5e-4)
    assert "Copied rows" in labels
    assert not any(b.key == "download_model" for b in at.get("download_button"))  # no model
    at.button(key="generate_with").click().run()
    assert not at.exception
    assert at.title[0].value == "Generate"
    assert at.selectbox(key="gen_run").value == copula_run


def test_rerun_of_a_generator_restores_its_settings(copula_run):
    from tests.pages.test_runs_pages import runs_page, select_rows

    at = runs_page("page-gen")
    select_rows(at, [tracking.get_run(copula_run).info.run_name])
    at.button(key="rerun").click().run()
    assert not at.exception and at.title[0].value.endswith("Model")
    assert at.session_state[state.ARCH] == "copula"
    assert at.session_state[state.GEN_TARGET] == "churn"
    assert at.session_state[state.GEN_TRAIN_CONFIG]["holdout_size"] == 0.3
    assert at.selectbox(key="gen_target_choice").value == "churn"


def test_generate_starts_without_a_condition(copula_run):
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(copula_run).run()
    column = at.selectbox(key="gen_cond_col")
    # Rows like the training mix by default; the run's target is the first column offered.
    assert column.value == "(none)" and column.options[:2] == ["(none)", "churn"]


def test_the_request_keeps_its_values_across_pages(copula_run):
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(copula_run).run()
    at.number_input(key="gen_n").set_value(250)
    at.selectbox(key="gen_cond_col").select("churn").run()
    at.selectbox(key="gen_cond_val_churn").select("Yes").run()
    at.switch_page("app_pages/runs.py").run()
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    assert at.selectbox(key="gen_run").value == copula_run
    assert at.number_input(key="gen_n").value == 250
    assert at.selectbox(key="gen_cond_col").value == "churn"
    assert at.selectbox(key="gen_cond_val_churn").value == "Yes"


def test_a_table_without_a_target_lists_only_generators_and_trains_one():
    from tests.pages.apptest import wait_for_run

    at = open_app("app_pages/data.py")
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"tip": np.round(rng.uniform(1, 10, 120), 2),
                       "day": rng.choice(["Thu", "Fri", "Sat"], 120)})
    path = store_dataset(df)
    # As if uploaded: a table where no column is named like a target (so none is picked).
    at.session_state[state.DATASET] = {"name": "no-target", "path": str(path), "rows": len(df),
                                       "cols": 2, "token": "t1"}
    at.session_state[state.TARGET] = None
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    assert at.info[0].value.startswith("No target picked on the Data page: only generators are "
                                        "listed")
    from dl_core.models import list_models

    generators = [e.title for e in list_models("tabular", family="generative")]
    assert at.selectbox(key="arch_choice").options == generators
    at.selectbox(key="arch_choice").select("copula").run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    run_id = wait_for_run(at)
    assert tracking.get_run(run_id).data.tags["family"] == "generative"


def test_the_data_page_without_a_target_points_to_the_generators():
    """A newcomer here to make synthetic rows was told only "pick the column to predict"."""
    at = open_app("app_pages/data.py")
    df = pd.DataFrame({"tip": [1.5, 2.0, 3.25, 4.0] * 10, "day": ["Thu", "Fri"] * 20})
    at.session_state[state.DATASET] = {"name": "no-target", "path": str(store_dataset(df)),
                                       "rows": len(df), "cols": 2, "token": "t2"}
    at.session_state[state.TARGET] = None
    at.run()
    assert not at.exception
    assert at.info[-1].value.endswith("train a generator of synthetic data: it needs no target.")
    assert [p.proto.label for p in at.get("page_link")] == ["Next: train a generator"]


def test_two_generations_compare_on_their_report_figures(copula_run):
    """Generations have no validation metric, curves or evaluation: the comparison shows their
    fidelity and privacy figures side by side, not empty best_val_loss charts."""
    from tests.pages.test_runs_pages import chart, charts, runs_page, select_rows
    from ui.loaders import executor

    reports = [executor().generate(copula_run, n, seed=n)[1] for n in (120, 160)]
    at = runs_page("page-gen")
    select_rows(at, ["generate copula x120", "generate copula x160"])
    assert "cmp_metric" not in [s.key for s in at.selectbox]  # nothing to choose on
    assert any(c.value.startswith("None is starred: the best run is picked on a validation "
                                  "score") for c in at.caption)
    assert any("no per-epoch curves" in i.value for i in at.info), [i.value for i in at.info]
    shown = list(charts(at))
    assert not [k for k in shown if "cmp_parallel" in k or "cmp_report_" in k], shown
    bars = chart(at, "cmp_bars")
    titles = [a["text"] for a in bars["layout"]["annotations"]]
    # Fidelity with privacy, named as the report names them.
    assert {"Quality", "Copies", "DCR share"} <= set(titles), titles
    per_run = len(titles)
    quality = [bars["data"][i * per_run + titles.index("Quality")] for i in range(2)]
    assert sorted(b["y"][0] for b in quality) == pytest.approx(sorted(r["quality"] for r in reports))
    # Each bar has its value on it: two runs with 0 copies are not an empty chart.
    copies = bars["data"][titles.index("Copies")]
    assert copies["text"] == [f"{reports[0]['copies']:.3g}"]
    assert not at.warning  # one dataset: nothing to warn about


def test_an_integer_class_target_is_offered_as_a_condition():
    """iris' target is 0/1/2: the Model page says the generator is conditioned on it, and the
    Generate page offers its classes (a numeric target only gets the utility figure)."""
    from sklearn.datasets import load_diabetes, load_iris

    from ui.generate import target_role

    iris = load_iris(as_frame=True).frame
    assert target_role(iris, "target", images=False) == "conditioned on `target`"
    diabetes = load_diabetes(as_frame=True).frame
    assert target_role(diabetes, "target", images=False).startswith(
        "`target` is a number, not classes")
    spec = JobSpec(dataset_path=str(store_dataset(iris)), dataset_name="page-iris",
                   target="target", task="generation", arch="copula")
    run_id = run_training(spec).run_id
    st.cache_data.clear()
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(run_id).run()
    assert at.selectbox(key="gen_cond_col").options == ["(none)", "target"]
    at.selectbox(key="gen_cond_col").select("target").run()
    assert sorted(at.selectbox(key="gen_cond_val_target").options) == ["0", "1", "2"]
    at.selectbox(key="gen_cond_val_target").select("1")
    at.button(key="gen_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Generated 1,000 rows where target = 1")
    rows = at.session_state["generation_result"]["rows"]
    assert set(rows["target"]) == {1}
    assert "No utility figure: the condition fixes target to one value, so nothing is left to " \
        "predict." in [c.value for c in at.caption]
    # Scored on what, and whether that is enough to judge: 5 rows against iris' class 1.
    at.number_input(key="gen_n").set_value(5)
    at.button(key="gen_go").click().run()
    scored = [c.value for c in at.caption if c.value.startswith("Scored on")]
    assert scored == ["Scored on 5 synthetic rows against 35 training and 15 held-out real rows "
                      "(never seen by the generator). 5 synthetic rows are fewer than the 15 "
                      "held-out ones: these figures move a lot from one draw to the next; draw "
                      "at least 15 to judge or compare generators."], scored


def test_the_train_page_does_not_show_the_last_job_under_another_setup():
    """After a copula run, choosing tvae and opening Train showed the copula's result under the
    tvae header, as if tvae had trained."""
    from tests.pages.apptest import load_sample, wait_for_run

    at = open_app("app_pages/data.py")
    load_sample(at, "churn")
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("copula").run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    run_id = wait_for_run(at)
    at.run()
    assert "Quality" in [m.label for m in at.metric]
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("tvae").run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert "Quality" not in [m.label for m in at.metric]
    assert any(c.value.startswith("Your last job, `copula` on churn") and run_id[:8] in c.value
               for c in at.caption), [c.value for c in at.caption]
    # Back to the copula: its result is this setup's again.
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("copula").run()
    at.switch_page("app_pages/train.py").run()
    assert "Quality" in [m.label for m in at.metric]


def test_predict_with_only_generators_trained_points_to_generate(copula_run, monkeypatch):
    import ui.runs

    every = ui.runs.runs_index(tracking.tracking_uri()).frame()
    monkeypatch.setattr(ui.runs, "all_runs", lambda: every[every["run_id"] == copula_run])
    at = open_app("app_pages/predict.py")
    assert not at.exception
    assert [i.value for i in at.info] == [
        "No finished training run of a predictive model yet: train one first. Generators "
        "make their rows on the Generate page."]
    assert [link.proto.page for link in at.get("page_link")][-2:] == ["train", "generate"]


def test_a_wide_table_gets_readable_correlation_maps():
    """Breast cancer's 30 measurements: the maps were two 130 px squares of '-' marks."""
    from sklearn.datasets import load_breast_cancer, load_iris

    from dl_core.generation import figures

    real = load_breast_cancer(as_frame=True).frame
    maps = figures.correlation_heatmaps(real, real.sample(frac=1.0, random_state=0))
    heat = maps[0].data[0]
    assert len(heat.x) == 30 and heat.texttemplate is None  # values in the hover, not the cells
    assert maps[0].layout.height >= 30 * 18 and maps[0].layout.xaxis.dtick == 1
    iris = load_iris(as_frame=True).frame
    small = figures.correlation_heatmaps(iris, iris)[0]
    assert small.data[0].texttemplate == "%{text}" and small.layout.height == 360


def test_comparing_runs_of_two_datasets_warns():
    from sklearn.datasets import load_iris, load_wine

    from tests.pages.test_runs_pages import select_rows

    for name, frame in (("cmp-iris", load_iris(as_frame=True).frame),
                        ("cmp-wine", load_wine(as_frame=True).frame)):
        run_training(JobSpec(dataset_path=str(store_dataset(frame)), dataset_name=name,
                             target="target", task="generation", arch="copula",
                             run_name=f"copula-{name}", experiment="cmp-two"))
    st.cache_data.clear()
    at = open_app("app_pages/runs.py")
    at.button(key="runs_refresh").click().run()
    at.multiselect(key="f_exp").select("cmp-two").run()
    select_rows(at, ["copula-cmp-iris", "copula-cmp-wine"])
    assert [w.value for w in at.warning] == [
        "These runs come from 2 datasets (cmp-iris, cmp-wine): their figures measure different "
        "data."]


def test_a_measured_target_is_not_called_a_condition_on_the_model_and_train_pages():
    from tests.pages.apptest import load_sample

    at = open_app("app_pages/data.py")
    load_sample(at, "diabetes")
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("copula").run()
    target = at.session_state[state.GEN_TARGET]
    assert any(m.value.endswith(f"`{target}` is a number, not classes: predicted for the "
                                "utility figure, not a condition") for m in at.markdown)
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert any(f"rows (`{target}` is predicted for the utility figure, not a condition) with "
               "`copula`" in m.value for m in at.markdown), [m.value for m in at.markdown]
