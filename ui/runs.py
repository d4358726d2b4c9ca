"""Runs-page helpers: the cached runs table, filters, comparison and one run's detail.

Everything is read from MLflow through :mod:`dl_core.tracking` (so a remote tracking server
works unchanged); filtering, sorting and "what differs" are pandas over one cached frame.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import streamlit as st

from dl_core import compare, tracking
from dl_core import evaluation as ev
from dl_core.export import to_safe_csv
from dl_core.runs_index import RunsIndex
from ui import state
from ui.loaders import run_artifacts

TABLE_KEY = "runs_table"
ALL_SWEEPS = ""
MAX_SIDE_BY_SIDE = 8
# Metrics that summarise a run rather than follow it per epoch.
# A generator's figures (tables, then images): its columns in the table and the CSV, so
# generators are compared like any other run (only test_* were shown: none of a generator's).
GENERATOR_FIGURES = ("quality", "column_shapes", "column_pairs", "diagnostic", "copies",
                     "dcr_closer_to_train", "tstr_ratio", "agreement", "frechet_distance",
                     "frechet_floor", "frechet_ratio", "precision", "recall",
                     "memorisation_ratio")
_SUMMARY_METRICS = ("epochs_run", "best_epoch", "best_val_loss", "trial_value", "best_value",
                    "trials_run", "rows", "fit_seconds", "sample_seconds")


@st.cache_resource(show_spinner=False)
def runs_index(tracking_uri: str) -> RunsIndex:
    """One index per store for the whole server (it locks itself): sessions share its reads."""
    return RunsIndex()


@st.cache_data(ttl=10, max_entries=2, show_spinner="Reading runs from MLflow…")
def all_runs() -> pd.DataFrame:
    """Every active run of the store as one frame (refreshed every 10 s or after an edit).

    After the first read, only the runs that changed are read (see :mod:`dl_core.runs_index`).
    """
    return runs_index(tracking.tracking_uri()).frame()


@st.cache_data(max_entries=64, show_spinner=False)
def histories(run_ids: tuple[str, ...], keys: tuple[str, ...]) -> dict[str, dict[str, list]]:
    """Per-epoch values of ``keys`` for each run (fetched only for the runs compared)."""
    return {r: tracking.metric_history(r, keys) for r in run_ids}


def predictive_runs(df: pd.DataFrame, verb: str = "are scored") -> pd.DataFrame | None:
    """The finished (or stopped) training runs of predictive models, newest first; None, with
    a message and the way on, when there is none (generators only: ``verb`` says what they
    do on the Generate page instead)."""
    finished = compare.filter_runs(df, kinds=["training"], statuses=["FINISHED", "KILLED"])
    runs = finished[finished["task"] != "generation"]
    if not runs.empty:
        return runs
    generators = len(finished) > 0
    st.info("No finished training run of a predictive model yet: train one first."
            + (f" Generators {verb} on the Generate page." if generators else ""))
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    if generators:
        st.page_link("app_pages/generate.py", label="Go to Generate",
                     icon=":material/auto_awesome:")
    return None


def short_name(row: pd.Series) -> str:
    """A run's name and short id: ``fnn-churn-3 (1a2b3c4d)`` (the id may be the row's index)."""
    run_id = row["run_id"] if "run_id" in row.index else row.name
    return f"{row['run_name']} ({str(run_id)[:8]})"


def run_label(row: pd.Series) -> str:
    """One line naming a run: name and short id, data → target, architecture, status, start."""
    when = row["start_time"].strftime("%Y-%m-%d %H:%M") if pd.notna(row["start_time"]) else ""
    return (f"{short_name(row)} · {row['dataset']} → {row['target']} · {row['arch']} · "
            f"{row['status']} · {when}")


def refresh(*run_ids: str) -> None:
    """Show changes now: new, running and ended runs at the next read, and ``run_ids`` (runs
    this app edited after they ended: tags, names, thresholds) read again."""
    if run_ids:
        runs_index(tracking.tracking_uri()).mark_changed(run_ids)
    all_runs.clear()


def reload() -> None:
    """Read every run again (the Refresh button): edits made outside this app show too."""
    runs_index(tracking.tracking_uri()).reload()
    all_runs.clear()


# -- filters and the table --------------------------------------------------------------------
def _sweep_label(df: pd.DataFrame, run_id: str) -> str:
    # "All", as the other filters say it: "— every run —" was cut to "— every r" in a quarter
    # of an 800 px row.
    if run_id == ALL_SWEEPS:
        return "All"
    row = df[df["run_id"] == run_id]
    if row.empty:
        return run_id[:8]
    n = int((df["parent_run_id"] == run_id).sum())
    return f"{row['run_name'].iloc[0]} · {n} trials · {row['status'].iloc[0]}"


def filtered_runs(df: pd.DataFrame) -> pd.DataFrame:
    """Filter widgets over ``df``; returns the matching runs."""
    # An empty filter keeps every run: "All" says so, where Streamlit's "Choose options" was
    # cut to "Choos" at 800 px. Two a row: a chosen value needs ~85 px more than its text, and
    # at 800 px beside the sidebar a third of the row cut "FINISHED" to "FIN…" (a fifth or a
    # quarter did at 1024 px; a wrapping row of stretched widgets put six in a row at 1400).
    c = [*st.columns(2), *st.columns(2), *st.columns(2)]
    experiments, datasets, archs, tasks, statuses = (
        col.multiselect(label, compare.choices(df, field), key=key, placeholder="All",
                        persist_state=state.KEEP)
        for col, (label, field, key) in zip(c, (
            ("Experiment", "experiment", "f_exp"), ("Dataset", "dataset", "f_data"),
            ("Architecture", "arch", "f_arch"), ("Task", "task", "f_task"),
            ("Status", "status", "f_status")), strict=False))
    search = c[5].text_input("Name or id", key="f_search", placeholder="contains…",
                             persist_state=state.KEEP)
    # A date range needs ~230 px: half a row has them beside the sidebar down to 800 px wide
    # (three tenths of a row cut it to "2026/12/01 – 202" at 1024).
    c = st.columns([2, 1, 1])
    dates = ()
    if df["start_time"].notna().any():
        lo, hi = df["start_time"].min().date(), df["start_time"].max().date()
        dates = c[0].date_input("Started between", (lo, hi), min_value=lo, max_value=hi,
                                key="f_dates")
    tags = c[1].text_input("Tags", key="f_tags", placeholder="key=value, key",
                           persist_state=state.KEEP,
                           help="Runs having all these tags (a bare key: any value).")
    sweeps = [ALL_SWEEPS, *df.loc[df["kind"] == "sweep", "run_id"]]
    focus = st.session_state.pop(state.RUNS_FOCUS_SWEEP, None)
    if focus in sweeps:  # asked for by the Model page's "Compare its trials"
        st.session_state[state.RUNS_SWEEP] = focus
    sweep = c[2].selectbox("Sweep", sweeps, key=state.RUNS_SWEEP,
                           format_func=lambda r: _sweep_label(df, r), persist_state=state.KEEP,
                           help="Only this sweep's trials; compares them all at once.")
    since, until = (dates + (None, None))[:2] if isinstance(dates, tuple) else (dates, None)
    return compare.filter_runs(
        df, experiments=experiments, datasets=datasets, archs=archs, tasks=tasks,
        statuses=statuses, tags=tags, since=since, until=until, search=search, sweep=sweep or None,
    )


def sort_choice(df: pd.DataFrame) -> tuple[str | None, bool | None]:
    # The metrics these runs logged: filtered to tvae, the store's image figures were offered.
    metrics = [m for m in compare.columns_of(df, "metrics.") if df[f"metrics.{m}"].notna().any()]
    c = st.columns([3, 2, 2])
    metric = c[0].selectbox("Sort by", [None, *metrics], key="sort_metric",
                            persist_state=state.KEEP,
                            format_func=lambda m: "newest (trials under their sweep)" if m is None
                            else m)
    order = c[1].radio("Order", ["best first", "highest first", "lowest first"],
                       horizontal=True, key="sort_order", disabled=metric is None,
                       persist_state=state.KEEP)
    descending = None if order == "best first" else order == "highest first"
    return metric, descending


def _keep_selection(ids: list[str]) -> None:
    """Row selections are positions: when filters or sorting move rows, move the selection
    with them (set before the table is drawn, which is when Streamlit allows it)."""
    previous = st.session_state.get("_runs_table_ids")
    chosen = st.session_state.get("_runs_selected", [])
    if previous is not None and previous != ids:
        rows = [ids.index(r) for r in chosen if r in ids]
        st.session_state[TABLE_KEY] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    st.session_state["_runs_table_ids"] = ids


def runs_table(df: pd.DataFrame, differs_only: bool, sort_by: str | None = None) -> list[str]:
    """The table of runs with multi-row selection, the column ``sort_by`` next to the run's name
    (pinned); returns the selected run ids."""
    params = compare.columns_of(df, "params.")
    selected_before = [r for r in st.session_state.get("_runs_selected", [])
                       if r in set(df["run_id"])]
    basis = df[df["run_id"].isin(selected_before)] if len(selected_before) >= 2 else df
    if differs_only:
        params = [p.removeprefix("params.")
                  for p in compare.differing(basis, [f"params.{p}" for p in params])]
    metrics = [m for m in compare.columns_of(df, "metrics.") if m.startswith("test_")]
    figures = [m for m in GENERATOR_FIGURES if f"metrics.{m}" in df.columns]
    view = compare.table_view(df, params, [*metrics, *figures, "epochs_run"])
    _blank_on_non_generations(view, df["task"], figures)
    # Sorted by a column off to the right (or by one the table leaves out): out of sight.
    sort_by = compare.MONITORED_COLUMNS.get(sort_by, sort_by)
    if sort_by and sort_by not in view.columns and f"metrics.{sort_by}" in df.columns:
        view[sort_by] = df[f"metrics.{sort_by}"].to_numpy()
    if sort_by in view.columns:
        view = view[["run", sort_by, *[c for c in view.columns if c not in ("run", sort_by)]]]
    ids = list(view.index)
    _keep_selection(ids)
    event = st.dataframe(
        view, key=TABLE_KEY, on_select="rerun", selection_mode="multi-row", hide_index=True,
        height=min(38 + 35 * len(view), 420), placeholder="—",  # a run without it, not "None"
        column_config={"started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                       # Scrolled to a metric far right, the runs' names had gone.
                       "run": st.column_config.TextColumn(pinned=True),
                       # Sized to the rows drawn first, "conv_vae" below a few "tvae" was cut
                       # to "conv_v": as wide as the longest value.
                       **{c: st.column_config.TextColumn(width=_text_width(view[c]))
                          for c in ("arch", "task", "kind")}},
    )
    # Built on click only (a store of 10,000 runs); names, notes and params are typed by
    # people, so formulas are neutralised (Streamlit's own table export is off in config.toml).
    st.download_button("Download table (CSV)", data=lambda: to_safe_csv(view.reset_index()),
                       file_name="runs.csv", mime="text/csv", key="runs_download",
                       on_click="ignore", icon=":material/download:")
    rows = event.selection.rows if event is not None else []
    selected = [ids[i] for i in rows if i < len(ids)]
    st.session_state["_runs_selected"] = selected
    return selected


def _text_width(values: pd.Series) -> int:
    """Pixels that show the longest of ``values`` (and a header of a few letters) uncut."""
    lengths = values.dropna().astype(str).str.len()
    return 28 + 8 * max(int(lengths.max()) if len(lengths) else 0, 5)


# -- comparison ---------------------------------------------------------------------------------
def _curve_keys(df: pd.DataFrame) -> tuple[str, ...]:
    names = [m for m in compare.columns_of(df, "metrics.")
             if not m.startswith("test_") and m not in _SUMMARY_METRICS
             and m not in GENERATOR_FIGURES]
    return tuple(names)


def _generator_figures(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with the generator figures blanked on other runs (a classifier's last-epoch
    "precision" is none of them), and the figures its generator runs logged."""
    figures = [m for m in GENERATOR_FIGURES if f"metrics.{m}" in df.columns]
    df = df.copy()
    _blank_on_non_generations(df, df["task"], [f"metrics.{m}" for m in figures])
    return df, [m for m in figures if df[f"metrics.{m}"].notna().any()]


def _blank_on_non_generations(frame: pd.DataFrame, task: pd.Series, columns: list[str]) -> None:
    """Blank ``columns`` of ``frame`` on the runs that are not generations (rows as in
    ``task``): a classifier's last training-epoch "precision" is no generator figure."""
    frame.loc[(task != "generation").to_numpy(), columns] = np.nan


def compare_runs(df: pd.DataFrame) -> None:
    """Side-by-side views of the runs in ``df`` (two or more)."""
    metrics = compare.columns_of(df, "metrics.")
    datasets = sorted(df["dataset"].dropna().astype(str).unique())
    if len(datasets) > 1:  # wine beside breast cancer compared without a word
        st.warning(f"These runs come from {len(datasets)} datasets ({', '.join(datasets)}): "
                   "their figures measure different data.", icon=":material/warning:")
    labels = dict(zip(df["run_id"], df["run_name"].astype(str), strict=True))
    # The star is a choice: it reads validation figures only (test ones are reported below).
    choosable = compare.selection_metrics(df)
    metric = best = None
    if choosable:
        c = st.columns([2, 3])
        metric = c[0].selectbox("Best by (validation)", choosable, key="cmp_metric",
                                persist_state=state.KEEP,
                                help="The best run is chosen on validation data; the test split "
                                     "is reported, never used to choose.")
        best = compare.best_run_id(df, metric)
        if best:
            value = df.loc[df["run_id"] == best, f"metrics.{metric}"].iloc[0]
            c[1].success(f"★ Best by {metric}: **{labels[best]}** ({value:.4g})")
    else:
        st.caption("None is starred: the best run is picked on a validation score, and "
                   "generators have none; their report figures are compared below.")

    hist = histories(tuple(df["run_id"]), _curve_keys(df))
    curve_names = compare.curve_metrics(hist)
    if curve_names:
        curve = st.selectbox("Learning curve", curve_names, key="cmp_curve",
                             persist_state=state.KEEP)
        st.plotly_chart(compare.overlay_curves_figure(hist, curve, labels, best),
                        key="cmp_curves")
    else:
        st.info("These runs have no per-epoch curves (a generation draws from a trained "
                "generator; it does not train).")

    params = [p for p in compare.columns_of(df, "params.")
              if f"params.{p}" in compare.differing(df, [f"params.{p}"])]
    if metric:
        left, right = st.columns(2)
        left.plotly_chart(compare.parallel_coordinates_figure(df, params, metric),
                          key="cmp_parallel")
        with right:
            if params:
                p = st.selectbox("Param", params, key="cmp_param",
                                 index=params.index("learning_rate")
                                 if "learning_rate" in params else 0)
                st.plotly_chart(compare.param_scatter_figure(df, p, metric, best),
                                key="cmp_scatter")
            else:
                st.info("These runs share every param; nothing to plot against the metric.")

    test_metrics = [m for m in metrics if m.startswith("test_")]
    # A generator's fidelity figures come with its privacy ones (copies, closeness).
    bars_df, figures = _generator_figures(df)
    bars = test_metrics + figures or ([metric] if metric else [])
    from ui.jobs import GENERATOR_METRICS, IMAGE_GENERATOR_METRICS

    titles = {**GENERATOR_METRICS, **IMAGE_GENERATOR_METRICS}
    st.plotly_chart(compare.metrics_bar_figure(bars_df, bars, best, titles), key="cmp_bars")
    if "frechet_distance" in bars:  # 50 real digits score 3.21, 597 of them 0.45
        st.caption("A Fréchet distance falls as more images are drawn: between draws of different "
                   "sizes, compare Fréchet / floor (1 is as close as real images of the same "
                   "number get).")

    # Supervised trainings log an evaluation; generators and generations a report (above).
    evaluated = df[(df["kind"] == "training") & (df["task"] != "generation")]
    if evaluated.empty:
        return
    shown = evaluated.head(MAX_SIDE_BY_SIDE)
    st.markdown("**Evaluations side by side**" + (
        f" (the first {MAX_SIDE_BY_SIDE})" if len(evaluated) > MAX_SIDE_BY_SIDE else ""))
    cols = st.columns(min(len(shown), 4))
    for i, (_, row) in enumerate(shown.iterrows()):
        report = run_artifacts(row["run_id"])["report"]
        fig = compare.report_figure(report)
        fig.update_layout(title={"text": labels[row["run_id"]] + (" ★" if row["run_id"] == best
                                                                 else "")}, height=340)
        cols[i % len(cols)].plotly_chart(fig, key=f"cmp_report_{row['run_id']}")


# -- one run ------------------------------------------------------------------------------------
def rerun_config(row: pd.Series) -> str | None:
    """Put a run's logged config into the session, as the Model page reads it.

    Returns:
        The page to open: the Model page when the run's dataset is in this app's store, else
        None (the caller explains).
    """
    from dl_core.data.storage import stored_dataset
    from dl_core.jobspec import job_spec_from_params
    from ui.modeling import use_job_spec

    params = {k.removeprefix("params."): v for k, v in row.items()
              if k.startswith("params.") and isinstance(v, str)}
    path = stored_dataset(row.get("tags.dataset_hash"))
    if path is None:
        return None
    spec = job_spec_from_params(params, dataset_path=str(path),
                                dataset_name=str(row.get("dataset")))
    use_job_spec(spec, rows=int(float(row.get("tags.rows") or 0)),
                 cols=int(float(row.get("tags.columns") or 0)))
    return "app_pages/model.py"


def _values(row: pd.Series, prefix: str) -> pd.DataFrame:
    items = [(k.removeprefix(prefix), _short(v)) for k, v in row.items()
             if k.startswith(prefix) and pd.notna(v)]
    return pd.DataFrame(items, columns=["name", "value"]).astype({"value": str})


def _short(value):
    """A metric as people read it: six significant digits, a count without ".0" (MLflow keeps
    every metric as a float: "0.8613516745727726", "rows 1000.0")."""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else str(value)
    return value


def run_plots(run_id: str) -> None:
    """The run's evaluation re-drawn from its logged JSON (not from the PNG snapshots)."""
    art = run_artifacts(run_id)
    report, history = art["report"], art["history"]
    if history:
        st.plotly_chart(ev.learning_curves_figure(history), key=f"detail_curves_{run_id}")
    if not report:
        st.info("This run has no logged evaluation (it may have failed before the test step).")
        return
    task = report.get("task")
    left, right = st.columns(2)
    if task in ("binary", "multiclass"):
        left.plotly_chart(ev.confusion_matrix_figure(report["confusion_matrix"], report["classes"]),
                          key=f"detail_cm_{run_id}")
        right.plotly_chart(ev.roc_figure(report), key=f"detail_roc_{run_id}")
    elif task == "regression":
        left.plotly_chart(ev.predicted_vs_actual_figure(report["y_true"], report["y_pred"]),
                          key=f"detail_pva_{run_id}")
        right.plotly_chart(ev.residuals_figure(report["y_true"], report["y_pred"]),
                           key=f"detail_res_{run_id}")
    else:
        left.plotly_chart(compare.report_figure(report), key=f"detail_report_{run_id}")


def edit_run(row: pd.Series) -> None:
    """Rename, notes and tags (one form), and delete behind a confirmation."""
    run_id = row["run_id"]
    user_tags = {k.removeprefix("tags."): v for k, v in row.items()
                 if k.startswith("tags.") and isinstance(v, str)
                 and not k.startswith(("tags.mlflow.", "tags.dlx."))
                 and k.removeprefix("tags.") not in _SYSTEM_TAGS}
    with st.form(f"edit-{run_id}"):
        name = st.text_input("Name", value=str(row["run_name"]), key="edit_name")
        note = st.text_area("Notes", value=str(row.get(f"tags.{tracking.TAG_NOTE}") or ""),
                            key="edit_note")
        text = st.text_area("Tags (one key=value a line)", key="edit_tags",
                            value="\n".join(f"{k}={v}" for k, v in sorted(user_tags.items())))
        saved = st.form_submit_button("Save")
    if saved:
        new = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        new = {k.strip(): v.strip() for k, v in new.items() if k.strip()}
        if name != row["run_name"]:
            tracking.rename_run(run_id, name)
        tracking.update_tags(run_id, {**new, tracking.TAG_NOTE: note},
                             delete=[k for k in user_tags if k not in new])
        refresh(run_id)
        st.toast("Saved.")
        st.rerun()

    confirm_key = f"confirm-delete-{run_id}"
    if not st.session_state.get(confirm_key):
        if st.button("Delete run…", key="delete_run"):
            st.session_state[confirm_key] = True
            st.rerun()
    else:
        st.warning(f"Delete **{row['run_name']}** (`{run_id[:8]}`)? It moves to MLflow's bin.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete", type="primary", key="delete_yes"):
            tracking.delete_run(run_id)
            st.session_state.pop(confirm_key, None)
            st.session_state["_runs_selected"] = []
            refresh(run_id)
            st.rerun()
        if no.button("Cancel", key="delete_no"):
            st.session_state.pop(confirm_key, None)
            st.rerun()


_SYSTEM_TAGS = {"task", "arch", "dataset", "dataset_hash", "rows", "columns", "target",
                "n_features", "best_trial_run_id", "best_trial", "data_kind"}


def run_detail(row: pd.Series) -> None:
    """One run: actions, config, metrics, plots, notes and tags."""
    run_id, started = row["run_id"], row["start_time"]
    when = started.strftime("%Y-%m-%d %H:%M") if isinstance(started, dt.datetime) else ""
    st.markdown(f"### {row['run_name']}\n`{run_id}` · {row['status']} · "
                f"{row['experiment']} · {when}")
    if row.get(f"tags.{tracking.TAG_ERROR}"):
        st.error(row[f"tags.{tracking.TAG_ERROR}"])
    c = st.columns(4)
    generator = row.get("task") == "generation"
    if row["kind"] == "training" and c[0].button("Re-run with this config", key="rerun",
                                                  type="primary"):
        page = rerun_config(row)
        if page:
            st.switch_page(page)
        st.error(f"The dataset '{row['dataset']}' of this run is not in this app's store "
                 "(it was trained elsewhere or the file was removed). Load it on the Data page "
                 "first, then re-run.")
    if generator and row["kind"] == "training" and row["status"] in ("FINISHED", "KILLED"):
        if c[1].button("Generate with it", key="generate_with"):
            st.session_state[state.GEN_RUN] = run_id
            st.switch_page("app_pages/generate.py")
    elif row["kind"] == "training" and row["status"] in ("FINISHED", "KILLED"):
        c[1].download_button("Download model (zip)", data=lambda: tracking.model_zip(run_id),
                             file_name=f"model-{run_id[:8]}.zip", mime="application/zip",
                             key="download_model", on_click="ignore")
        if c[2].button("Predict with it", key="predict_with"):
            state.put(state.RUN_ID, run_id)
            st.switch_page("app_pages/predict.py")
    url = tracking.mlflow_ui_url(run_id, row["experiment_id"])
    if url:
        c[3].link_button("Open in MLflow", url)
    if row["kind"] == "sweep":
        n = int((all_runs()["parent_run_id"] == run_id).sum())
        st.caption(f"A sweep of {n} trials: choose it under **Sweep** above to compare them.")
    left, right = st.columns(2)
    left.markdown("**Config (params)**")
    left.dataframe(_values(row, "params."), hide_index=True, key="detail_params")
    right.markdown("**Metrics**")
    right.dataframe(_values(row, "metrics."), hide_index=True, key="detail_metrics")
    if generator:
        from ui.generate import generation_summary

        generation_summary(run_id)
    elif row["kind"] == "training":
        run_plots(run_id)
    edit_run(row)
