"""Cached loaders and the one job executor the server shares across sessions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from dl_core.data import profile_dataframe, read_csv
from dl_core.data.profile import DataProfile

if TYPE_CHECKING:
    from dl_core.jobs import Executor

log = logging.getLogger("dl_explorer")


def upload_limit_bytes() -> int:
    """The upload limit in bytes, from ``.streamlit/config.toml`` (``server.maxUploadSize``)."""
    return int(st.get_option("server.maxUploadSize")) * 1024 * 1024


@st.cache_data(max_entries=8, show_spinner="Reading the CSV…")
def parse_csv(content: bytes, name: str) -> pd.DataFrame:
    del name  # part of the cache key only
    return read_csv(content, max_bytes=upload_limit_bytes())


@st.cache_data(max_entries=8, show_spinner="Profiling columns…")
def profile_of(df: pd.DataFrame) -> DataProfile:
    return profile_dataframe(df)


@st.cache_data(max_entries=4, show_spinner=False)
def read_saved(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


@st.cache_resource(show_spinner=False)
def executor() -> Executor:
    """The server's job executor, created once; cleans up runs orphaned by a dead worker.

    Pages use only the :class:`~dl_core.jobs.Executor` interface: ``$DLX_EXECUTOR`` picks
    the local worker or a Ray cluster (:func:`dl_core.jobs.make_executor`).
    """
    from dl_core import tracking
    from dl_core.jobs import make_executor

    tracking.ensure_store()
    marked = tracking.fail_orphaned_runs()
    if marked:
        log.warning("Marked %d orphaned run(s) as FAILED: %s", len(marked), marked)
    return make_executor()


@st.cache_data(max_entries=32, show_spinner="Loading the run's evaluation…")
def run_artifacts(run_id: str) -> dict:
    """The logged evaluation of a run (report, test and validation predictions, history);
    cached by id: a finished run changes only when its threshold is saved, which clears this."""
    from dl_core import tracking

    return {
        "report": tracking.load_json(run_id, "evaluation/report.json"),
        "predictions": tracking.load_json(run_id, "evaluation/predictions.json"),
        "val_predictions": tracking.load_json(run_id, "evaluation/val_predictions.json"),
        "history": tracking.load_json(run_id, "evaluation/history.json"),
        "features": tracking.load_json(run_id, "data/features.json"),
        "misclassified": tracking.load_json(run_id, "evaluation/misclassified.json"),
    }
