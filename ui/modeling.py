"""Model-page helpers: shapes of the prepared data and the model summary (cached)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dl_core.data.preprocessing import prepare_tabular
from dl_core.data.storage import load_dataset
from dl_core.training import _head


@st.cache_data(max_entries=16, show_spinner="Preparing features…")
def data_shape(path: str, target: str, task: str, exclude: tuple[str, ...]) -> dict[str, Any]:
    """Feature count and output size after preprocessing (fit on the training split)."""
    data = prepare_tabular(load_dataset(path), target, task, exclude=exclude)
    return {"n_features": data.n_features, "n_outputs": data.target.n_outputs,
            "n_train": len(data.y_train), "n_val": len(data.y_val), "n_test": len(data.y_test)}


@st.cache_data(max_entries=32, show_spinner="Building the model…")
def model_summary(arch: str, model_config: dict[str, Any], n_features: int, n_outputs: int,
                  task: str) -> dict[str, Any]:
    from dl_core.config import config_from_dict
    from dl_core.models import get_model
    from dl_core.models.summary import layer_table, parameter_count

    entry = get_model(arch)
    model = entry.build(config_from_dict(entry.config_cls, model_config), (n_features,),
                        n_outputs, _head(task)[0])
    return {"layers": layer_table(model), "params": parameter_count(model)}
