"""Predict-page helpers: choose a model run, load it once, predict an uploaded table."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dl_core import compare, tracking
from ui import state
from ui.runs import predictive_runs, run_label
from ui.loaders import executor, run_artifacts


def choose_run(df: pd.DataFrame) -> str | None:
    """A finished training run, picked directly or as the best of an experiment."""
    usable = predictive_runs(df, verb="make their rows")  # generators predict nothing
    if usable is None:
        return None
    source = st.radio("Model", ["A run", "The best run of an experiment"], horizontal=True,
                      key="predict_source", persist_state=state.KEEP)
    if source == "A run":
        ids = list(usable["run_id"])
        labels = {row["run_id"]: run_label(row) for _, row in usable.iterrows()}
        current = state.get(state.RUN_ID)
        return st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0,
                            key="predict_run", format_func=labels.get)
    c = st.columns(2)
    experiment = c[0].selectbox("Experiment", compare.choices(usable, "experiment"),
                                key="predict_experiment", persist_state=state.KEEP)
    runs = compare.filter_runs(usable, experiments=[experiment], statuses=["FINISHED"])
    metrics = compare.selection_metrics(runs) or [compare.BEST_MONITORED]
    metric = c[1].selectbox("Best by (validation)", metrics, key="predict_metric",
                            persist_state=state.KEEP,
                            help="Chosen on the validation split; test figures are reported, "
                                 "never used to choose.")
    best = compare.best_run_id(runs.dropna(subset=[f"metrics.{metric}"]), metric) \
        if f"metrics.{metric}" in runs else None
    if best is None:
        st.warning(f"No FINISHED run of '{experiment}' has the metric {metric}.")
        return None
    row = runs[runs["run_id"] == best].iloc[0]
    st.caption(f"Best by {metric}: {run_label(row)} ({row[f'metrics.{metric}']:.4g})")
    return best


def run_caption(run_id: str) -> None:
    """What the chosen model expects, from the run's logged feature list (no model loaded)."""
    from dl_core.kinds import get_kind

    features = run_artifacts(run_id)["features"] or {}
    columns = list(features.get("feature_columns") or [])
    if columns:
        kind = get_kind(features.get("data_kind") or "tabular")
        columns = kind.input_columns(columns, features.get("layout") or {})
    run = tracking.get_run(run_id)
    target = run.data.params.get("target")
    if columns:
        st.caption(f"Expects these columns: {', '.join(map(str, columns[:60]))}"
                   + (" …" if len(columns) > 60 else "")
                   + (f" · target `{target}` may be absent" if target else ""))
    if run.data.params.get("task") == "binary":
        saved = run.data.tags.get(tracking.TAG_THRESHOLD)
        st.caption(f"Decision threshold **{float(saved or 0.5):.2f}** "
                   + ("(saved on Evaluate, chosen on the validation split)." if saved else
                      "(the default; pick one on the validation split on Evaluate)."))


def predict_table(run_id: str, df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Input rows with predictions appended, and notes about the input (raises DataError).

    The model runs in the background worker, like training: TensorFlow stays out of the server.
    """
    with st.spinner("Predicting…"):
        predictions, notes = executor().predict(run_id, df)
    return compare.prediction_table(df, predictions), notes


def stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M")
