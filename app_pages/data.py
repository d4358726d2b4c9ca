"""Data: load a CSV or a sample, read its profile, choose the data kind, target and task."""

import streamlit as st

from dl_core.data import SAMPLES, TASKS, detect_task
from dl_core.data.splits import describe_split
from dl_core.kinds import get_kind
from ui import state
from ui.data import (
    choose_kind,
    current_table,
    default_target,
    ingest_sample,
    ingest_upload,
    kind_options,
    show_profile,
)
from ui.errors import shown_errors
from ui.loaders import profile_of
from ui.modeling import data_shape, job_spec

st.title("Data")

upload_col, sample_col = st.columns([3, 2])
with upload_col:
    uploaded = st.file_uploader("Upload a CSV file", type=["csv", "tsv", "txt"], key="upload")
    if uploaded is not None:
        with shown_errors("Reading the file"):
            ingest_upload(uploaded)
    elif state.get(state.DATASET) is not None:
        # Streamlit empties the box on a return to this page; the table itself is kept.
        st.caption(f"In use: **{state.get(state.DATASET)['name']}**. Upload a file or load a "
                   "sample to replace it.")
with sample_col:
    sample = st.selectbox(
        "…or try a bundled sample", list(SAMPLES), format_func=lambda n: SAMPLES[n].title,
        key="sample_choice",
    )
    st.caption(SAMPLES[sample].description)
    if st.button("Load sample", key="load_sample"):
        with shown_errors("Loading the sample"):
            ingest_sample(sample)

df = current_table()
if df is None:
    st.info("Upload a CSV or load a sample to begin.")
    st.stop()

ds = state.get(state.DATASET)
st.subheader(f"{ds['name']} · {ds['rows']:,} rows × {ds['cols']:,} columns")
st.dataframe(df.head(200), height=240, hide_index=True)

profile = profile_of(df)
with st.expander("Column profile", expanded=df.shape[1] <= 40):
    show_profile(profile)
for note in profile.notes:  # what reading changed, e.g. numbers with thousands separators
    st.info(note, icon=":material/info:")

kind = choose_kind(df)
data_kind = get_kind(kind)
columns = list(df.columns)
current = state.get(state.TARGET)
label = data_kind.target_label
first = current if current in columns else default_target(df, kind)
state.seed_widget("target_choice", first if first in columns else None)
target = st.selectbox(label, columns, key="target_choice",
                      placeholder="Pick the column to predict")
if target is None:  # no column is named like a target: the user decides, nothing is guessed
    state.put(state.TARGET, None)
    state.put(state.TASK, None)
    from dl_core.models import list_models

    # Someone here to make synthetic rows was only told to pick a column to predict.
    makers = list_models(kind, family="generative")
    st.info("No column is named like a target (label, class, price, churn…). Pick the column "
            "to predict above" + (", or go on to the Model page to train a generator of "
                                  "synthetic data: it needs no target." if makers else "."),
            icon=":material/ads_click:")
    if makers:
        st.page_link("app_pages/model.py", label="Next: train a generator",
                     icon=":material/auto_awesome:")
    st.stop()
if data_kind.fixed_task:
    task = data_kind.fixed_task
else:
    detected = None
    with shown_errors("Detecting the task"):
        detected = detect_task(df[target])
    if detected is None:
        st.stop()
    tasks = [f"auto ({detected})", *TASKS]
    overridden = state.get(state.TASK) in TASKS and state.get(state.TASK) != detected
    state.seed_widget("task_choice", state.get(state.TASK) if overridden else tasks[0])
    chosen = st.selectbox("Task", tasks, key="task_choice",
                          help="Detected from the target's values; override it if it is wrong.")
    task = detected if chosen.startswith("auto") else chosen
state.put(state.TARGET, target)
state.put(state.TASK, task)
options = kind_options(df, kind, target)

if data_kind.selectable_features:
    candidates = profile.feature_columns(target)
    exclude = st.multiselect("Leave out these feature columns", candidates,
                             default=[c for c in state.get(state.EXCLUDE) if c in candidates])
    state.put(state.EXCLUDE, exclude)
    dropped = profile.dropped(target)
    if dropped:
        st.markdown("**Columns not used as features**")
        st.table({"column": list(dropped), "reason": list(dropped.values())})
else:
    state.put(state.EXCLUDE, [])

shape = None
with shown_errors("Checking the data"):
    shape = data_shape(job_spec(predictor=True))
if shape:
    for note in shape["notes"]:
        st.caption(note)
    if shape.get("split"):
        st.caption(describe_split(shape["split"]) + " Change the split on the Model page.")
    what = data_kind.describe_inputs(shape)
    st.success(f"Task: **{task}** · target `{target}` · {what} · {shape['n_train']:,} train, "
               f"{shape['n_val']:,} validation, {shape['n_test']:,} test samples.")
    st.page_link("app_pages/model.py", label="Next: choose a model", icon=":material/arrow_forward:")
