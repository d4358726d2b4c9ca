"""Data-page helpers: ingest an upload or a sample, choose the data kind and its options."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dl_core.data import SAMPLES, load_sample
from dl_core.data.storage import store_dataset
from dl_core.kinds import get_kind, kind_names
from ui import state
from ui.loaders import parse_csv, read_saved



def use_table(df: pd.DataFrame, name: str, target: str | None = None, kind: str | None = None,
              options: dict[str, Any] | None = None) -> None:
    """Make ``df`` the session's dataset (saved for jobs) and reset what depended on the old one."""
    path = store_dataset(df)
    # A new token: the data widgets (kind, target, task, options) take this table's values.
    state.set_dataset(name, str(path), len(df), df.shape[1])
    state.put(state.TARGET, target if target in df.columns else None)
    state.put(state.TASK, None)
    state.put(state.EXCLUDE, [])
    state.put(state.TRAIN_CONFIG, {})  # its defaults depend on the data
    state.put(state.GEN_TARGET, None)  # the old table's generator target: follow the new target
    state.put(state.DATA_KIND, kind)
    state.put(state.DATA_OPTIONS, dict(options or {}))


def ingest_upload(uploaded) -> None:
    """Parse an uploaded file once per distinct upload (the uploader keeps it across reruns)."""
    if st.session_state.get("_upload_id") == uploaded.file_id:
        return
    st.session_state["_upload_id"] = uploaded.file_id
    df = parse_csv(uploaded.getvalue(), uploaded.name)
    use_table(df, uploaded.name.rsplit(".", 1)[0])


def ingest_sample(name: str) -> None:
    sample = SAMPLES[name]
    options = {k: getattr(sample, k) for k in get_kind(sample.data_kind).options
               if getattr(sample, k, None) is not None}
    use_table(load_sample(name), name, target=sample.target, kind=sample.data_kind,
              options=options)


def current_table() -> pd.DataFrame | None:
    ds = state.get(state.DATASET)
    return read_saved(ds["path"]) if ds else None


@st.cache_data(max_entries=8, show_spinner=False)
def detected_kind(df: pd.DataFrame) -> str:
    from dl_core.data.sequences import detect_data_kind

    return detect_data_kind(df)


def choose_kind(df: pd.DataFrame) -> str:
    """The data-kind selector, preset to the detected kind (or the sample's)."""
    detected = detected_kind(df)
    kinds = kind_names()
    current = state.get(state.DATA_KIND) or detected
    state.seed_widget("kind_choice", current)
    kind = st.selectbox(
        "Data kind", kinds, key="kind_choice",
        format_func=lambda k: get_kind(k).title + (" · detected" if k == detected else ""),
        help="What one row holds; it decides which architectures fit.",
    )
    state.put(state.DATA_KIND, kind)
    if state.get(state.ARCH) not in _arch_names(kind):
        state.put(state.ARCH, get_kind(kind).default_arch)
        state.put(state.MODEL_CONFIG, {})
    return kind


def _arch_names(kind: str) -> list[str]:
    from dl_core.models import list_models

    return [e.name for e in list_models(kind)]


def default_target(df: pd.DataFrame, kind: str) -> str | None:
    """A sensible first target: the kind's (the image label, the first value series), a column
    named like a target, else None: the user picks."""
    return get_kind(kind).default_target(df)


def kind_options(df: pd.DataFrame, kind: str, target: str) -> dict[str, Any]:
    """The inputs of the chosen kind (image shape; time column, lookback, horizon, season;
    sequence id and step), stored in session state and returned. A kind without inputs of its
    own (a table) has none."""
    inputs = KIND_INPUTS.get(kind)
    out = inputs(df, target, dict(state.get(state.DATA_OPTIONS))) if inputs else {}
    state.put(state.DATA_OPTIONS, out)
    return out


def _image_inputs(df: pd.DataFrame, target: str, opts: dict[str, Any]) -> dict[str, Any]:
    from dl_core.data.images import (
        detect_pixel_layout,
        format_shape,
        parse_image_shape,
        sample_images,
    )
    from dl_core.evaluation import image_grid_figure
    from ui.errors import shown_errors

    layout = detect_pixel_layout(df, target)
    inferred = layout.shape if layout is not None else None
    given = opts.get("image_shape")
    default = format_shape(given) if given else format_shape(inferred) if inferred else ""
    state.seed_widget("image_shape", default)
    text = st.text_input(
        "Image shape (height x width x channels)", key="image_shape",
        help="Inferred from the pixel columns; correct it if the images look scrambled.",
    )
    shape = None
    with shown_errors("Reading the image shape"):
        shape = parse_image_shape(text)
    if layout is not None and shape is not None and len(layout.pixel_columns) == _prod(shape):
        images, labels = sample_images(df, layout, shape)
        title = f"Sample images ({format_shape(shape)}) and labels"
        st.plotly_chart(image_grid_figure(images, labels, columns=12, title=title),
                        key="image_grid")
    return {"image_shape": list(shape) if shape else None}


def _prod(shape) -> int:
    out = 1
    for d in shape:
        out *= int(d)
    return out


def _series_inputs(df: pd.DataFrame, target: str, opts: dict[str, Any]) -> dict[str, Any]:
    from dl_core.data.sequences import detect_time_column, time_labels
    from dl_core.evaluation import series_figure

    columns = [c for c in df.columns if c != target]
    time_default = opts.get("time_column") or detect_time_column(df) or columns[0]
    state.seed_widget("time_column", time_default if time_default in columns else columns[0])
    time_column = st.selectbox("Time column", columns, key="time_column")
    state.seed_widget("lookback", int(opts.get("lookback") or 24))
    state.seed_widget("horizon", int(opts.get("horizon") or 1))
    state.seed_widget("season_length", int(opts.get("season_length") or 0))
    c1, c2, c3 = st.columns(3)
    lookback = c1.number_input("Lookback (past steps seen)", 1, 10_000, key="lookback")
    horizon = c2.number_input("Horizon (steps forecast)", 1, 1_000, key="horizon")
    season = c3.number_input("Season length (0 = detect)", 0, 10_000, key="season_length",
                             help="For the seasonal naive baseline, e.g. 24 for hourly data "
                                  "with a daily cycle.")
    if pd.api.types.is_numeric_dtype(df[target]):
        shown = df.tail(2000)
        st.plotly_chart(series_figure(time_labels(shown[time_column]), {target: shown[target]},
                                      f"'{target}' over '{time_column}'"), key="series_plot")
    return {"time_column": time_column, "lookback": int(lookback), "horizon": int(horizon),
            "season_length": int(season)}


def _sequence_inputs(df: pd.DataFrame, target: str, opts: dict[str, Any]) -> dict[str, Any]:
    from dl_core.data.sequences import wide_columns

    wide = wide_columns([c for c in df.columns if c != target])
    if wide:
        st.caption(f"Wide format: one sequence per row, {len(wide)} steps ({wide[0]}..{wide[-1]}).")
        return {}
    st.caption("Long format: one row per step. Which columns identify a sequence and its steps?")
    columns = [c for c in df.columns if c != target]
    c1, c2 = st.columns(2)
    given = opts.get("sequence_id")
    state.seed_widget("sequence_id", given if given in columns else columns[0])
    seq = c1.selectbox("Sequence id column", columns, key="sequence_id")
    steps = [c for c in columns if c != seq]
    given = opts.get("step_column")
    state.seed_widget("step_column", given if given in steps else steps[0])
    step = c2.selectbox("Step column", steps, key="step_column")
    return {"sequence_id": seq, "step_column": step}


#: The Data page's widgets for each data kind's options (``DataKind.options``), by kind name:
#: the one UI-side dispatch on data kinds (widgets cannot live in ``dl_core``).
KIND_INPUTS = {"image": _image_inputs, "timeseries": _series_inputs,
               "sequence": _sequence_inputs}


def show_profile(profile) -> None:
    """The per-column profile as a readable table (tall enough to scan, reasons in full)."""
    frame = profile.to_frame().rename(columns={
        "name": "column", "missing_pct": "missing %", "n_unique": "distinct",
        "usable": "used", "drop_reason": "why not used", "sample": "examples",
    })
    frame["why not used"] = frame["why not used"].fillna("")
    st.dataframe(frame, hide_index=True, height=min(38 + 35 * len(frame), 420),
                 column_config={"why not used": st.column_config.TextColumn(width="large")})
