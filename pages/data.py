"""Data: load a CSV or a sample, read its profile, choose the target and the task."""

import streamlit as st

from dl_core.data import SAMPLES, TASKS, check_target, detect_task
from ui import state
from ui.data import current_table, ingest_sample, ingest_upload
from ui.errors import shown_errors
from ui.loaders import profile_of

st.title("Data")

upload_col, sample_col = st.columns([3, 2])
with upload_col:
    uploaded = st.file_uploader("Upload a CSV file", type=["csv", "tsv", "txt"], key="upload")
    if uploaded is not None:
        with shown_errors("Reading the file"):
            ingest_upload(uploaded)
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
st.dataframe(df.head(200), height=240)

profile = profile_of(df)
st.markdown("**Column profile**")
st.dataframe(profile.to_frame(), hide_index=True, height=260)

columns = list(df.columns)
current = state.get(state.TARGET)
target = st.selectbox(
    "Target column (what to predict)", columns,
    index=columns.index(current) if current in columns else len(columns) - 1, key="target_choice",
)
detected = None
with shown_errors("Detecting the task"):
    detected = detect_task(df[target])
if detected is None:
    st.stop()
task_options = [f"auto ({detected})", *TASKS]
chosen = st.selectbox("Task", task_options, key="task_choice",
                      help="Detected from the target's values; override it if it is wrong.")
task = detected if chosen.startswith("auto") else chosen
candidates = profile.feature_columns(target)
exclude = st.multiselect("Leave out these feature columns", candidates,
                         default=[c for c in state.get(state.EXCLUDE) if c in candidates])
state.put(state.TARGET, target)
state.put(state.TASK, task)
state.put(state.EXCLUDE, exclude)

dropped = profile.dropped(target)
if dropped:
    st.markdown("**Columns not used as features**")
    st.table({"column": list(dropped), "reason": list(dropped.values())})

ok = False
with shown_errors("Checking the target"):
    check_target(df, target, task)
    ok = True
if ok:
    n_features = len([c for c in candidates if c not in exclude])
    st.success(f"Task: **{task}** · target `{target}` · {n_features} feature columns.")
    st.page_link("pages/model.py", label="Next: choose a model", icon=":material/arrow_forward:")
