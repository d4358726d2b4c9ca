"""Model: pick an architecture from the registry and set its hyperparameters."""

import dataclasses

import streamlit as st

from dl_core.models import get_model, list_models
from dl_core.training import TrainConfig, suggest_train_config
from ui import state
from ui.data import current_table
from ui.errors import shown_errors
from ui.forms import config_widgets, to_config
from ui.modeling import data_shape, model_summary
from ui.sweeps import sweep_section

st.title("🧩 Model")
df = current_table()
target, task = state.get(state.TARGET), state.get(state.TASK)
if df is None or not target:
    st.info("Load data and choose a target on the Data page first.")
    st.page_link("pages/data.py", label="Go to Data", icon="📄")
    st.stop()

entries = list_models("tabular")
names = [e.name for e in entries]
arch = st.selectbox("Architecture", names, format_func=lambda n: get_model(n).title,
                    index=names.index(state.get(state.ARCH)) if state.get(state.ARCH) in names else 0)
entry = get_model(arch)
st.caption(entry.description)

train_defaults = {**suggest_train_config(len(df), task, df[target]), **state.get(state.TRAIN_CONFIG)}
model_values = state.get(state.MODEL_CONFIG) if state.get(state.ARCH) == arch else {}
with st.form("hyperparameters"):
    left, right = st.columns(2)
    with left:
        st.markdown("**Network**")
        raw_model = config_widgets(entry.config_cls, model_values, key=f"model.{arch}")
    with right:
        st.markdown("**Training**")
        raw_train = config_widgets(TrainConfig, train_defaults, key="train")
    applied = st.form_submit_button("Apply", type="primary")

with shown_errors("Checking the hyperparameters"):
    model_cfg = to_config(entry.config_cls, raw_model)
    train_cfg = to_config(TrainConfig, raw_train)
    if applied or not state.get(state.TRAIN_CONFIG):
        state.put(state.ARCH, arch)
        state.put(state.MODEL_CONFIG, dataclasses.asdict(model_cfg))
        state.put(state.TRAIN_CONFIG, dataclasses.asdict(train_cfg))
    shape = data_shape(state.get(state.DATASET)["path"], target, task, tuple(state.get(state.EXCLUDE)))
    summary = model_summary(arch, dataclasses.asdict(model_cfg), shape["n_features"],
                            shape["n_outputs"], task)
    st.markdown(
        f"**Model summary** · {shape['n_features']} input features → {shape['n_outputs']} "
        f"output(s) for **{task}** · {summary['params']['total']:,} parameters "
        f"({summary['params']['trainable']:,} trainable) · rows: {shape['n_train']:,} train, "
        f"{shape['n_val']:,} validation, {shape['n_test']:,} test"
    )
    st.dataframe(summary["layers"], hide_index=True)
    st.page_link("pages/train.py", label="Next: train", icon="➡️")

sweep_section()  # vary the applied hyperparameters as a sweep
