"""Model: pick an architecture that fits the data kind, edit its layers and hyperparameters."""

import dataclasses

import streamlit as st

from dl_core.kinds import get_kind
from dl_core.models import get_model, list_models
from dl_core.training import TrainConfig, suggest_train_config
from ui import state
from ui.data import current_table
from ui.errors import shown_errors
from ui.forms import config_widgets, to_config
from ui.generate import generator_settings
from ui.modeling import block_editor, block_fields, data_shape, job_spec, model_summary
from ui.sweeps import sweep_section

st.title("Model")
df = current_table()
target, task = state.get(state.TARGET), state.get(state.TASK)
kind = state.get(state.DATA_KIND) or "tabular"
# A table without a target can still feed a generator (they need none); nothing else can.
generators_only = df is not None and not target and bool(list_models(kind, family="generative"))
if df is None or not (target or generators_only):
    st.info("Load data and pick a target (what to predict) on the Data page first.")
    st.page_link("app_pages/data.py", label="Go to Data", icon=":material/table_view:")
    st.stop()
if generators_only:
    # Said of the Data page's target: a generator's own optional column, picked below, is not
    # one (a newcomer who had picked it read this as a stale banner).
    st.info("No target picked on the Data page: only generators are listed (they need none, "
            "and may take a column to condition on below). Pick a target on the Data page to "
            "train a network that predicts it.")

entries = list_models(kind, family="generative" if generators_only else None)
names = [e.name for e in entries]
st.markdown(f"Architectures for **{kind}** data:")
for e in entries:
    makes = (f" · *generates {'images' if kind == 'image' else 'rows'}*"
             if e.family == "generative" else "")
    st.markdown(f"- **{e.title}** (`{e.name}`){makes}: {e.description}")
current = state.get(state.ARCH)
arch = st.selectbox("Architecture", names, format_func=lambda n: get_model(n).title,
                    key="arch_choice", index=names.index(current) if current in names else 0)
entry = get_model(arch)
if entry.family == "generative":  # no layers or summary: its networks take the table's shape
    generator_settings(entry, df)
    st.stop()

train_defaults = {**suggest_train_config(len(df), task),
                  **state.get(state.TRAIN_CONFIG)}
model_values = state.get(state.MODEL_CONFIG) if state.get(state.ARCH) == arch else {}
blocks = {}
if getattr(entry.config_cls, "BLOCKS", None):
    st.markdown("**Layers** · add, remove, reorder and edit blocks; the summary follows")
    blocks = block_editor(entry.config_cls, model_values, arch)
# No form: an edit applies at once, so what Train and a sweep use is always what is shown (a
# form's unapplied edits were dropped silently when the user went on to Train).
left, right = st.columns(2)
with left:
    st.markdown("**Network**")
    raw_model = config_widgets(entry.config_cls, model_values, key=f"model.{arch}",
                               skip=block_fields(entry.config_cls))
# Options that change nothing for this data are not offered (a forecast offered Split and Class
# weight, and ignored them); they keep their values.
moot = ({"split"} if not get_kind(kind).split_choice else set()) | (
    {"class_weight"} if task == "regression" else set())
with right:
    st.markdown("**Training**")
    raw_train = config_widgets(TrainConfig, train_defaults, key="train", skip=moot)
    raw_train.update({k: train_defaults[k] for k in moot if k in train_defaults})

with shown_errors("Checking the hyperparameters"):
    model_cfg = to_config(entry.config_cls, {**raw_model, **blocks})
    train_cfg = to_config(TrainConfig, raw_train)
    state.put(state.ARCH, arch)
    state.put(state.MODEL_CONFIG, dataclasses.asdict(model_cfg))
    state.put(state.TRAIN_CONFIG, dataclasses.asdict(train_cfg))
    shape = data_shape(job_spec())
    summary = model_summary(arch, dataclasses.asdict(model_cfg), tuple(shape["input_shape"]),
                            shape["n_outputs"], task)
    dims = " × ".join(str(d) for d in shape["input_shape"])
    st.markdown(
        f"**Model summary** · input {dims} → {shape['n_outputs']} output(s) for **{task}** · "
        f"{summary['params']['total']:,} parameters ({summary['params']['trainable']:,} "
        f"trainable) · samples: {shape['n_train']:,} train, {shape['n_val']:,} validation, "
        f"{shape['n_test']:,} test"
    )
    table, diagram = st.columns([3, 2])
    table.dataframe(summary["layers"], hide_index=True)
    diagram.graphviz_chart(summary["dot"])
    st.page_link("app_pages/train.py", label="Next: train", icon=":material/arrow_forward:")

sweep_section()  # vary the applied hyperparameters as a sweep
