"""Runs: every experiment in the MLflow store; compare, reproduce and clean up runs."""

import streamlit as st

from dl_core import compare
from ui import runs as ui_runs
from ui.errors import shown_errors

title, refresh = st.columns([5, 1])
title.title("Runs")
if refresh.button("Refresh", key="runs_refresh", help="Read every run again now."):
    ui_runs.reload()
df = None
with shown_errors("Reading the runs"):
    df = ui_runs.all_runs()
if df is None:
    st.stop()
if df.empty:
    st.info("No runs yet. Train a model and it appears here.")
    st.page_link("app_pages/data.py", label="Start with data", icon="📄")
    st.stop()

shown = ui_runs.filtered_runs(df)
if shown.empty:
    st.info(f"None of the {len(df):,} runs matches these filters.")
    st.stop()
metric, descending = ui_runs.sort_choice(shown)
shown = compare.sort_runs(shown, metric, descending)
differs_only = st.toggle("Only params that differ (between the selected runs, or all shown)",
                         key="differs_only")
st.caption(f"{len(shown):,} of {len(df):,} runs · select rows to compare them · "
           "↳ marks a sweep's trials and a generator's generations")
selected = ui_runs.runs_table(shown, differs_only, sort_by=metric)

sweep = st.session_state.get("runs_sweep")
compared = shown[shown["run_id"].isin(selected)]
if len(compared) < 2 and sweep:
    compared = shown[shown["parent_run_id"] == sweep]  # a sweep: all its trials, in one click
with shown_errors("Comparing the runs"):
    if len(compared) >= 2:
        st.subheader(f"Comparing {len(compared)} runs")
        ui_runs.compare_runs(compared)

if selected:
    st.divider()
    detail_id = selected[0] if len(selected) == 1 else st.selectbox(
        "Details of", selected, key="detail_run",
        format_func=lambda r: ui_runs.short_name(df.loc[df["run_id"] == r].iloc[0]))
    with shown_errors("Showing the run"):
        ui_runs.run_detail(df[df["run_id"] == detail_id].iloc[0])
elif len(compared) < 2:
    st.info("Select one run for its details, two or more to compare them.")
