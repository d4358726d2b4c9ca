"""Runs, sweep and Predict flows (AppTest) against a store seeded with real runs."""

from __future__ import annotations

import json

from dl_core import tracking
from tests.pages.apptest import open_app, wait_until
from ui import state


def charts(at) -> dict[str, dict]:
    """Plotly figures of the page by element key (the key is part of the element id)."""
    out = {}
    for el in at.get("plotly_chart"):
        key = el.proto.id.split("-", 2)[-1] if el.proto.id else ""
        out[key] = json.loads(el.proto.spec)
    return out


def chart(at, key: str) -> dict:
    found = [v for k, v in charts(at).items() if k.endswith(key)]
    assert found, (key, list(charts(at)))
    return found[0]


def select_rows(at, names: list[str]) -> None:
    table = at.dataframe(key="runs_table").value
    rows = [i for i, n in enumerate(table["run"]) if n.lstrip("↳ ") in names]
    assert len(rows) == len(names), list(table["run"])
    at.session_state["runs_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.exception


def runs_page(experiment: str = "seeded"):
    at = open_app("app_pages/runs.py")
    at.button(key="runs_refresh").click().run()  # runs made since the last read (10 s cache)
    # An empty filter reads "All" (Streamlit's "Choose options" is cut at 800 px).
    assert [at.multiselect(key=k).proto.placeholder for k in ("f_exp", "f_status")] == ["All"] * 2
    assert at.selectbox(key="runs_sweep").options[0] == "All"  # the Sweep filter too
    # Two filters a row: a third of an 800 px row beside the sidebar cut a chosen "FINISHED" to
    # "FIN…" (a fifth or a quarter did at 1024 px); the dates get half a row.
    weights = ",".join(f"{c.weight:.2f}" for c in at.columns)
    assert ",".join(["0.50"] * 6 + ["0.50", "0.25", "0.25"]) in weights, weights
    at.multiselect(key="f_exp").select(experiment).run()
    assert not at.exception
    return at


def test_select_two_runs_compare_and_see_what_differs(seeded_runs):
    at = runs_page()
    assert len(at.dataframe(key="runs_table").value) == 5  # 2 runs + a sweep and its 2 trials
    # A sweep has no val_loss: its cell reads "—" (Streamlit's default is a grey "None").
    assert at.dataframe(key="runs_table").proto.placeholder == "—"
    select_rows(at, ["seed-0", "seed-1"])
    curves = chart(at, "cmp_curves")
    assert len(curves["data"]) == 4  # train and validation of each run
    assert all(len(t["x"]) == 3 for t in curves["data"])
    assert any("★" in t["name"] for t in curves["data"])
    assert any("Best by best_val_loss" in s.value for s in at.success)
    assert len(chart(at, "cmp_parallel")["data"][0]["dimensions"]) == 2  # learning_rate → metric
    assert chart(at, "cmp_report_" + seeded_runs["runs"][0])["data"][0]["type"] == "heatmap"
    bars = chart(at, "cmp_bars")
    assert len({t["legendgroup"] for t in bars["data"]}) == 2  # a bar per run in every chart

    cols = set(at.dataframe(key="runs_table").value.columns)
    assert {"param: learning_rate", "param: hidden_units"} <= cols
    at.toggle(key="differs_only").set_value(True).run()
    cols = set(at.dataframe(key="runs_table").value.columns)
    assert "param: learning_rate" in cols and "param: hidden_units" not in cols
    assert not at.exception


def test_filters_and_sort_outlive_a_visit_to_another_page(seeded_runs):
    # Off to Evaluate a run and back: the filters and sort had all gone back to "All"/newest.
    other = tracking.start_run("other-gen", run_name="a-generator", params={"arch": "tvae"},
                               tags={"dlx.kind": "training"})
    tracking.log_metrics(other, {"quality": 0.8})
    tracking.end_run(other, "FINISHED")
    at = runs_page()
    # Sorted by what these runs logged: another experiment's generator figure is not offered.
    assert "quality" not in at.selectbox(key="sort_metric").options
    at.selectbox(key="sort_metric").select("best_val_loss").run()
    at.radio(key="sort_order").set_value("highest first").run()
    table = at.dataframe(key="runs_table").value
    import json
    config = json.loads(at.dataframe(key="runs_table").proto.columns)
    assert config["run"]["pinned"]  # scrolled right, the names stay
    # As wide as the longest architecture: sized to the rows drawn first, "conv_vae" below a
    # few "tvae" read "conv_v".
    assert config["arch"]["width"] >= 8 * table["arch"].str.len().max() + 20
    # The sorted figure beside the names (it was off to the right, out of sight).
    assert list(table.columns[:2]) == ["run", "val_loss (best epoch)"]
    shown = list(table["run"])
    at.switch_page("app_pages/evaluate.py").run()
    at.switch_page("app_pages/runs.py").run()
    assert not at.exception
    assert at.multiselect(key="f_exp").value == ["seeded"]
    assert (at.selectbox(key="sort_metric").value, at.radio(key="sort_order").value) == (
        "best_val_loss", "highest first")
    assert list(at.dataframe(key="runs_table").value["run"]) == shown
    # Predict's "best run of an experiment" and its metric, likewise.
    at.switch_page("app_pages/predict.py").run()
    at.radio(key="predict_source").set_value("The best run of an experiment").run()
    at.selectbox(key="predict_experiment").select("seeded").run()
    at.switch_page("app_pages/runs.py").run()
    at.switch_page("app_pages/predict.py").run()
    assert not at.exception
    assert at.radio(key="predict_source").value == "The best run of an experiment"
    assert at.selectbox(key="predict_experiment").value == "seeded"


def test_a_sweep_compares_in_one_click(seeded_runs):
    at = open_app("app_pages/runs.py")
    at.button(key="runs_refresh").click().run()
    at.selectbox(key=state.RUNS_SWEEP).select(seeded_runs["sweep"]).run()
    assert not at.exception
    assert len(at.dataframe(key="runs_table").value) == 3
    parallel = chart(at, "cmp_parallel")["data"][0]
    assert len(parallel["dimensions"][0]["values"]) == 2  # one line per trial


def test_detail_edit_delete_and_rerun(seeded_runs):
    scratch = tracking.start_run("scratch", run_name="to-delete", params={"arch": "fnn"},
                                 tags={"dlx.kind": "training"})
    tracking.log_metrics(scratch, {"test_accuracy": 0.8613516745727726, "rows": 1000.0})
    tracking.end_run(scratch, "FINISHED")
    at = runs_page("scratch")
    select_rows(at, ["to-delete"])
    # MLflow keeps every metric as a float; the details read as people write them.
    shown = [dict(zip(d.value["name"], d.value["value"], strict=True)) for d in at.dataframe
             if list(d.value.columns) == ["name", "value"]]
    assert {"test_accuracy": "0.861352", "rows": "1000"} in shown, shown
    at.text_input(key="edit_name").set_value("renamed")
    at.text_area(key="edit_tags").set_value("team=vision")
    at.text_area(key="edit_note").set_value("baseline")
    at.button[[b.label for b in at.button].index("Save")].click().run()
    assert not at.exception
    run = tracking.get_run(scratch)
    assert run.info.run_name == "renamed" and run.data.tags["team"] == "vision"
    assert run.data.tags["mlflow.note.content"] == "baseline"
    at.text_input(key="f_tags").set_value("team=vision").run()
    assert list(at.dataframe(key="runs_table").value["run"]) == ["renamed"]
    at.button(key="delete_run").click().run()
    assert any("Delete" in w.value for w in at.warning)
    assert tracking.get_run(scratch).info.lifecycle_stage == "active"
    at.button(key="delete_yes").click().run()
    assert not at.exception
    assert tracking.get_run(scratch).info.lifecycle_stage == "deleted"

    at = runs_page()
    select_rows(at, ["seed-1"])
    assert any(b.key == "download_model" for b in at.get("download_button"))
    at.button(key="rerun").click().run()
    assert not at.exception
    assert at.title[0].value.endswith("Model")
    assert at.session_state[state.TRAIN_CONFIG]["learning_rate"] == 0.003
    assert at.session_state[state.MODEL_CONFIG]["hidden_units"] == (8,)
    assert at.session_state[state.TARGET] == "label"


def test_model_page_sweep_runs_trials_and_stops(seeded_runs):
    at = runs_page()
    select_rows(at, ["seed-0"])
    at.button(key="rerun").click().run()  # the quickest way to a filled-in Model page
    at.switch_page("app_pages/model.py").run()  # (AppTest reruns the page it was told last)
    at.toggle(key="sweep_on").set_value(True).run()
    at.text_input(key="sweep.learning_rate").set_value("0.01,0.02").run()
    assert any("2 trial(s) of up to" in c.value and "one after another" in c.value
               for c in at.caption)
    at.button(key="start_sweep").click().run()
    assert not at.exception
    job_id = at.session_state[state.SWEEP_JOB_ID]

    def finished(at):
        return any("**Sweep finished" in m.value for m in at.markdown)

    wait_until(at, finished)
    trials = [d.value for d in at.dataframe if "trial" in d.value.columns][0]
    assert len(trials) == 2 and set(trials["status"]) == {"FINISHED"}
    best = next(m.label for m in at.metric if m.label.startswith("Best so far"))
    # The trials' scores are headed by the metric they are, not a bare "value".
    metric = best.removeprefix("Best so far (").removesuffix(")")
    assert metric == "best_val_loss"
    assert metric in trials.columns and "value" not in trials.columns
    job = [m for m in at.markdown if "Sweep finished" in m.value]
    assert job
    from ui.loaders import executor

    state_ = executor().progress(job_id)
    children = tracking.search_run_records(
        filter_string=f"tags.`mlflow.parentRunId` = '{state_.run_id}'")
    assert len(children) == 2

    # Stop: a long sweep ends KILLED during its first trial; the rest are skipped.
    at.text_input(key="sweep.learning_rate").set_value("0.01,0.02,0.03")
    at.multiselect(key="sweep_params").select("epochs").run()
    at.text_input(key="sweep.epochs").set_value("400").run()
    at.button(key="start_sweep").click().run()
    job_id = at.session_state[state.SWEEP_JOB_ID]
    wait_until(at, lambda a: any("epoch " in m.value for m in a.markdown
                                 if "Sweep running" in m.value))
    at.button(key=f"stop-sweep-{job_id}").click().run()
    wait_until(at, lambda at: any("Sweep stopped" in w.value for w in at.warning), timeout=120)
    parent = tracking.get_run(executor().progress(job_id).run_id)
    assert parent.info.status == "KILLED" and parent.data.metrics["trials_run"] == 1
    # Said as what happened: one trial of three ran (not "trial 1/3", as if it were going on).
    assert any("**Sweep killed** · 1 of 3 trial(s) ran" in m.value for m in at.markdown)

    # Another page and back: the sweep and the form that started it are still there (the
    # toggle was off, hiding a running sweep and its Stop button, over a form of defaults).
    at.switch_page("app_pages/runs.py").run()
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    assert at.toggle(key="sweep_on").value
    assert any("**Sweep killed** · 1 of 3 trial(s) ran" in m.value for m in at.markdown)
    assert at.multiselect(key="sweep_params").value == ["learning_rate", "epochs"]
    assert at.text_input(key="sweep.learning_rate").value == "0.01,0.02,0.03"
    assert at.text_input(key="sweep.epochs").value == "400"
    assert any("3 trial(s) of up to" in c.value for c in at.caption)


def test_predict_page_upload_and_download(seeded_runs):
    at = open_app("app_pages/predict.py")
    assert not at.exception
    at.selectbox(key="predict_run").select(seeded_runs["runs"][0]).run()
    assert any("x1" in c.value for c in at.caption)
    new = seeded_runs["data"].drop(columns="label").head(12).assign(extra=1)
    new.loc[0, "color"] = "purple"
    at.file_uploader(key="predict_upload").set_value(
        ("new.csv", new.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    notes = " ".join(i.value for i in at.info)
    assert "extra" in notes and "'purple'" in notes
    preview = at.dataframe[-1].value  # (only tables with selections carry their key)
    assert len(preview) == 12 and {"prediction", "proba_yes"} <= set(preview.columns)
    assert any(b.key == "predict_download" for b in at.get("download_button"))

    bad = new.drop(columns=["x2", "color"]).to_csv(index=False).encode()
    at.file_uploader(key="predict_upload").set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception
    assert any("'x2'" in e.value and "'color'" in e.value for e in at.error)

    at.radio(key="predict_source").set_value("The best run of an experiment").run()
    at.selectbox(key="predict_experiment").select("seeded").run()
    assert not at.exception
    assert any("Best by best_val_loss" in c.value for c in at.caption)
