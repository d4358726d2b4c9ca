"""Data-page helpers: ingest an upload or a sample into session state."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dl_core.data import SAMPLES, load_sample
from dl_core.data.storage import store_dataset
from ui import state
from ui.loaders import parse_csv, read_saved


def use_table(df: pd.DataFrame, name: str, target: str | None = None) -> None:
    """Make ``df`` the session's dataset (saved for jobs) and reset what depended on the old one."""
    path = store_dataset(df)
    state.put(state.DATASET, {"name": name, "path": str(path), "rows": len(df), "cols": df.shape[1]})
    state.put(state.TARGET, target if target in df.columns else None)
    state.put(state.TASK, None)
    state.put(state.EXCLUDE, [])
    state.put(state.TRAIN_CONFIG, {})  # its defaults depend on the data


def ingest_upload(uploaded) -> None:
    """Parse an uploaded file once per distinct upload (the uploader keeps it across reruns)."""
    if st.session_state.get("_upload_id") == uploaded.file_id:
        return
    st.session_state["_upload_id"] = uploaded.file_id
    df = parse_csv(uploaded.getvalue(), uploaded.name)
    use_table(df, uploaded.name.rsplit(".", 1)[0])


def ingest_sample(name: str) -> None:
    sample = SAMPLES[name]
    use_table(load_sample(name), name, target=sample.target)


def current_table() -> pd.DataFrame | None:
    ds = state.get(state.DATASET)
    return read_saved(ds["path"]) if ds else None
