"""Comparing runs, sweeps and predictions on a store seeded with real runs."""

from __future__ import annotations

import pandas as pd
import pytest

from dl_core import compare, tracking
from dl_core.errors import ConfigError, DataError
from dl_core.sweeps import Range, SweepSpec, parse_axis, trial_params
from dl_core.training import JobSpec

BASE = JobSpec(dataset_path="x.parquet", dataset_name="x", target="y", task="binary")


def only_seeded(df, seeded_runs):
    """Rows of the fixture's own runs (other tests add runs to the shared session store)."""
    return df[df["run_id"].isin(set(seeded_runs["runs"]) | set(seeded_runs["trials"]))]


def test_frame_filters_sorts_and_finds_what_differs(seeded_runs):
    df = compare.runs_frame(tracking.search_run_records())
    ids = set(df["run_id"])
    assert set(seeded_runs["runs"]) | set(seeded_runs["trials"]) | {seeded_runs["sweep"]} <= ids
    seeded = only_seeded(compare.filter_runs(df, experiments=["seeded"], kinds=["training"]),
                         seeded_runs)
    assert len(seeded) == 4 and (seeded["arch"] == "fnn").all()
    assert compare.differing(seeded, ["params.learning_rate", "params.hidden_units"]) == [
        "params.learning_rate"]
    assert len(compare.filter_runs(df, sweep=seeded_runs["sweep"])) == 3
    assert compare.filter_runs(df, tags="nope=1").empty
    # Trials sit right under their parent when sorted by time.
    order = list(compare.sort_runs(compare.filter_runs(df, experiments=["seeded"]))["run_id"])
    p = order.index(seeded_runs["sweep"])
    assert set(order[p + 1 : p + 3]) == set(seeded_runs["trials"])
    by_loss = compare.sort_runs(seeded, "best_val_loss")
    assert by_loss["metrics.best_val_loss"].is_monotonic_increasing
    assert compare.best_run_id(seeded, "best_val_loss") == by_loss["run_id"].iloc[0]
    view = compare.table_view(seeded, ["learning_rate"], ["test_accuracy"])
    assert {"val_loss (final)", "val_loss (best epoch)", "param: learning_rate"} <= set(
        view.columns)
    assert view["run"].notna().all() and list(view.index) == list(seeded["run_id"])


def test_figures_from_logged_data(seeded_runs):
    df = only_seeded(compare.filter_runs(compare.runs_frame(tracking.search_run_records()),
                                         experiments=["seeded"], kinds=["training"]), seeded_runs)
    hist = {r: tracking.metric_history(r, ["loss", "val_loss"]) for r in seeded_runs["runs"]}
    assert compare.curve_metrics(hist)[0] == "loss"
    fig = compare.overlay_curves_figure(hist, "loss", best=seeded_runs["runs"][0])
    assert len(fig.data) == 4 and all(len(t.x) == 3 for t in fig.data)
    assert "★" in fig.data[0].name
    par = compare.parallel_coordinates_figure(df, ["learning_rate", "hidden_units"],
                                              "best_val_loss")
    assert len(par.data[0].dimensions) == 3
    assert compare.param_scatter_figure(df, "learning_rate", "test_accuracy").data
    assert len(compare.metrics_bar_figure(df, ["test_accuracy", "test_f1"]).data) == 2 * len(df)
    report = tracking.load_json(seeded_runs["runs"][0], "evaluation/report.json")
    assert compare.report_figure(report).data[0].type == "heatmap"
    unknown = compare.report_figure({"task": "mystery"})
    assert "No comparison plot" in unknown.layout.annotations[0].text


def test_sweep_parent_and_children(seeded_runs):
    parent = tracking.get_run(seeded_runs["sweep"])
    assert parent.data.tags["dlx.kind"] == "sweep" and parent.info.status == "FINISHED"
    assert parent.data.tags["best_trial_run_id"] in seeded_runs["trials"]
    assert "best_val_loss" in parent.data.metrics
    for rid in seeded_runs["trials"]:
        assert tracking.get_run(rid).data.tags["mlflow.parentRunId"] == seeded_runs["sweep"]


def test_trial_generation():
    grid = trial_params(SweepSpec(BASE, {"learning_rate": [0.1, 0.01],
                                         "hidden_units": ["8", "16,8"]}))
    assert len(grid) == 4
    space = {"learning_rate": Range(1e-4, 1e-1, 4, log=True), "batch_size": Range(8, 64, 3)}
    combos = trial_params(SweepSpec(BASE, space, method="random", budget=5, seed=1))
    assert len(combos) == 5 and all(isinstance(c["batch_size"], int) for c in combos)
    assert all(1e-4 <= c["learning_rate"] <= 1e-1 for c in combos)
    assert combos == trial_params(SweepSpec(BASE, space, method="random", budget=5, seed=1))
    assert len(trial_params(SweepSpec(BASE, space, budget=3))) == 3  # grid cut to the budget
    assert parse_axis("1e-4:1e-1:4:log") == Range(1e-4, 0.1, 4, True)
    assert parse_axis("64,32;128", tuple_field=True) == ["64,32", "128"]


@pytest.mark.parametrize(("space", "kw", "message"), [
    ({"learning_rat": [0.1]}, {}, "Unknown hyperparameter"),
    ({"dropout": [0.5, 7]}, {}, "at most"),
    ({"activation": Range(1, 2)}, {}, "not a number"),
    ({"learning_rate": [0.1]}, {"method": "random"}, "needs a budget"),
    ({}, {}, "at least one"),
])
def test_bad_sweeps_are_explained(space, kw, message):
    with pytest.raises(ConfigError, match=message):
        trial_params(SweepSpec(BASE, space, **kw))


def test_predict_notes_and_errors(seeded_runs):
    predictor = tracking.load_predictor(seeded_runs["runs"][0])
    df = seeded_runs["data"].head(20).drop(columns="label").assign(extra=1)
    df.loc[0, "color"] = "purple"
    out = predictor.predict(df)
    assert list(out.columns) == ["prediction", "proba_no", "proba_yes"]
    assert any("extra" in n for n in predictor.notes)
    assert any("'purple'" in n and "color" in n for n in predictor.notes)
    with pytest.raises(DataError, match="x2"):
        predictor.predict(df.drop(columns="x2"))
    assert isinstance(out, pd.DataFrame)


def test_metrics_bar_leaves_out_metrics_the_compared_runs_did_not_log():
    """The runs table has a column for every metric of every experiment; two forecasting runs
    compared side by side show their regression figures only, not empty test_accuracy groups."""
    import pandas as pd

    df = pd.DataFrame({"run_id": ["a", "b"], "run_name": ["lstm-air-1", "lstm-air-2"],
                       "metrics.test_rmse": [84.7, 52.5], "metrics.test_r2": [-0.17, 0.55],
                       "metrics.test_accuracy": [float("nan")] * 2,
                       "metrics.test_roc_auc": [float("nan")] * 2})
    fig = compare.metrics_bar_figure(
        df, ["test_accuracy", "test_r2", "test_rmse", "test_roc_auc"], best="b")
    assert [a.text for a in fig.layout.annotations] == ["test_r2", "test_rmse"]
    assert len(fig.data) == 4  # a bar per run in each metric's own chart
    # Each metric has its own axis: an RMSE of 84.7 does not flatten an R² of 0.55.
    assert fig.data[1].yaxis != fig.data[0].yaxis


def test_metrics_bar_writes_zeros_where_they_can_be_seen():
    # Two generations with no copies: "auto" text found no room in a bar of no height, and the
    # Copies panel was blank.
    import pandas as pd

    df = pd.DataFrame({"run_id": ["a", "b"], "run_name": ["gen-1", "gen-2"],
                       "metrics.copies": [0.0, 0.0], "metrics.precision": [0.81, 0.86]})
    fig = compare.metrics_bar_figure(df, ["copies", "precision"])
    copies = [t for t in fig.data if t.yaxis == "y"]
    assert [t.text for t in copies] == [("0",), ("0",)]
    assert {t.textposition for t in fig.data} == {"outside"} and not fig.data[0].cliponaxis
    assert list(fig.layout.yaxis.range) == [0, 1] and fig.layout.yaxis2.range is None
