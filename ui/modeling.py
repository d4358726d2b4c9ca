"""Model-page helpers: shapes of the prepared data, the model summary, the layer editor."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dl_core.config import config_from_dict
from dl_core.data.storage import load_dataset
from dl_core.jobspec import build_job_spec
from dl_core.training import JobSpec, TrainConfig, prepare_data
from ui import state
from ui.loaders import executor


def job_spec(predictor: bool = False) -> JobSpec:
    """The session's job spec (dataset, target, data kind and its options, configs), built by
    the same function as the CLI's, a sweep's and a re-run's.

    Args:
        predictor: The supervised spec even when a generator is chosen (the Data page's split
            and shapes are a predictor's).
    """
    ds = state.get(state.DATASET)
    arch, model_config = state.get(state.ARCH), state.get(state.MODEL_CONFIG)
    if is_generator(arch) and predictor:
        from dl_core.kinds import get_kind

        arch, model_config = get_kind(state.get(state.DATA_KIND) or "tabular").default_arch, {}
    if is_generator(arch):
        from dl_core.models import get_model
        from dl_core.training.generative import GENERATION_TASK

        # An image generator learns the pixel table as images (its shape option included).
        kind = state.get(state.DATA_KIND) or "tabular"
        image = kind == "image" and kind in get_model(arch).kinds
        return build_job_spec(
            dataset_path=ds["path"], dataset_name=ds["name"], target=generator_target() or "",
            task=GENERATION_TASK, arch=state.get(state.ARCH),
            data_kind="image" if image else "tabular",
            options=state.get(state.DATA_OPTIONS) if image else None,
            model_config=state.get(state.MODEL_CONFIG),
            train_config=state.get(state.GEN_TRAIN_CONFIG), exclude=state.get(state.EXCLUDE),
        )
    return build_job_spec(
        dataset_path=ds["path"], dataset_name=ds["name"], target=state.get(state.TARGET),
        task=state.get(state.TASK), arch=arch,
        data_kind=state.get(state.DATA_KIND), options=state.get(state.DATA_OPTIONS),
        model_config=model_config, train_config=state.get(state.TRAIN_CONFIG),
        exclude=state.get(state.EXCLUDE),
    )


def is_generator(arch: str | None) -> bool:
    """Whether ``arch`` is a registered generator (family ``generative``)."""
    from dl_core.models import list_models

    return arch in {e.name for e in list_models(family="generative")}


def fits_in_one_pass(arch: str | None) -> bool:
    """Whether ``arch`` is a generator fitted in one pass (the copula): it has no epochs or
    batches to set."""
    from dl_core.models import get_model

    if not is_generator(arch):
        return False
    entry = get_model(arch)
    return not getattr(entry.build(entry.config_cls()), "iterative", True)


def generator_target() -> str | None:
    """The generator's target: the one chosen on the Model page, else the Data page's."""
    chosen = state.get(state.GEN_TARGET)
    return state.get(state.TARGET) if chosen is None else (chosen or None)


def use_job_spec(spec: JobSpec, rows: int, cols: int) -> None:
    """Put a job's choices into the session, as the Data and Model pages read them (a re-run
    from a logged config, a reopened tab reattaching to a running job)."""
    from dl_core.jobspec import kind_options

    state.set_dataset(spec.dataset_name, spec.dataset_path, rows, cols)
    state.put(state.TARGET, spec.target)
    state.put(state.TASK, spec.task)
    state.put(state.EXCLUDE, list(spec.exclude))
    state.put(state.DATA_KIND, spec.data_kind)
    options = kind_options(spec)
    if options.get("image_shape"):
        options["image_shape"] = list(options["image_shape"])
    state.put(state.DATA_OPTIONS, options)
    state.put(state.ARCH, spec.arch)
    state.put(state.MODEL_CONFIG, dict(spec.model_config))
    if is_generator(spec.arch):  # the supervised choices stay as they were
        state.put(state.GEN_TARGET, spec.target)
        state.put(state.GEN_TRAIN_CONFIG, dict(spec.train_config))
        if not spec.target:
            state.put(state.TARGET, None)
        state.put(state.TASK, None)
        return
    state.put(state.TRAIN_CONFIG, dict(spec.train_config))
    reset_blocks(spec.arch)


def restore_job_data(spec_dict: dict[str, Any]) -> None:
    """Make a job's dataset and choices the session's (a reloaded tab reattaching to it)."""
    from ui.loaders import read_saved

    spec = JobSpec.from_dict(spec_dict)
    rows, cols = read_saved(spec.dataset_path).shape
    use_job_spec(spec, rows, cols)


def data_shape(spec: JobSpec) -> dict[str, Any]:
    """Input shape and output size after preprocessing (fit on the training split/period).

    Raises:
        DataError: when the data does not fit its kind and options (shown to the user).
    """
    # Only what shapes the data is part of the cache key (the split sizes and seed included).
    split = {k: v for k, v in spec.train_config.items()
             if k in ("test_size", "val_size", "seed", "split")}
    return _data_shape({**spec.to_dict(), "arch": "fnn", "model_config": {}, "train_config": split,
                        "run_name": None, "experiment": None})


@st.cache_data(max_entries=16, show_spinner="Preparing the data…")
def _data_shape(spec_dict: dict[str, Any]) -> dict[str, Any]:
    spec = JobSpec.from_dict(spec_dict)
    split = config_from_dict(TrainConfig, spec.train_config)
    data = prepare_data(spec, load_dataset(spec.dataset_path), split)
    return {"input_shape": list(data.input_shape), "n_outputs": data.target.n_outputs,
            "n_train": len(data.y_train), "n_val": len(data.y_val), "n_test": len(data.y_test),
            "notes": data.notes, "layout": data.layout, "split": data.split}


#: Seconds the "starting the worker" toast stays at most (a first start takes about 20).
STARTING_TOAST_S = 60


def model_summary(arch: str, model_config: dict[str, Any], input_shape: tuple[int, ...],
                  n_outputs: int, task: str) -> dict[str, Any]:
    """The layer table, parameter counts and diagram of ``arch`` for the data's shapes.

    The warm training worker builds the model (TensorFlow never loads in the web server);
    answers are cached, so going back to a config already seen costs nothing.

    Raises:
        DataError: the worker's message when the model cannot be built.
        TrainingError: when the worker does not answer.
    """
    ex = executor()
    starting = ex.device is None  # not warmed up yet
    text = ("Starting the training worker (TensorFlow loads once; this takes a few seconds)…"
            if starting else "Building the model…")
    # The spinner sits under the settings, often below the screen: a first start (20 s on a
    # small machine) is also told in a toast, which shows wherever the page is scrolled. It
    # goes by itself: a click that reruns the page meanwhile cuts off the line that replaces it.
    toast = st.toast(text, icon=":material/hourglass_top:", duration=STARTING_TOAST_S) \
        if starting else None
    with st.spinner(text, show_time=True):
        summary = _model_summary(arch, model_config, tuple(input_shape), n_outputs, task)
    if starting:
        ex.warm_up()  # the rest of what training needs loads while the user reads the summary
    if toast is not None:
        toast.toast("The training worker is ready; the network's layers are listed below the "
                    "settings.",
                    icon=":material/check_circle:", duration="short")
    return summary


@st.cache_data(max_entries=64, show_spinner=False)
def _model_summary(arch: str, model_config: dict[str, Any], input_shape: tuple[int, ...],
                   n_outputs: int, task: str) -> dict[str, Any]:
    return executor().summary(arch, model_config, input_shape, n_outputs, task)


def block_fields(cls: type) -> set[str]:
    """Config fields the layer editor owns (per-block tuples and their scalar fallbacks)."""
    blocks = getattr(cls, "BLOCKS", ())
    return {f for _, field_name, fallback in blocks for f in (field_name, fallback) if f}


def _initial_blocks(cls: type, values: dict[str, Any]) -> list[dict[str, Any]]:
    from dl_core.config import describe

    defaults = {d["name"]: d["default"] for d in describe(cls)}
    merged = {**defaults, **values}
    first = cls.BLOCKS[0][1]
    n = len(merged[first])
    rows = [{} for _ in range(n)]
    for column, field_name, fallback in cls.BLOCKS:
        given = tuple(merged[field_name]) or (merged[fallback],) * n
        for row, value in zip(rows, given, strict=True):
            row[column] = value
    return rows


def block_editor(cls: type, values: dict[str, Any], arch: str) -> dict[str, Any]:
    """Add, remove, reorder and edit the blocks (layers) of ``cls``; returns its block fields.

    Each block keeps an id for its widget keys (``blocks.<arch>.<id>.<column>``), so moving a
    block moves its values with it.
    """
    from dl_core.config import describe

    specs = {d["name"]: d for d in describe(cls)}
    store_key = f"_blocks.{arch}"
    if store_key not in st.session_state:
        rows = _initial_blocks(cls, values)
        st.session_state[store_key] = [{"id": i, **row} for i, row in enumerate(rows)]
        st.session_state[f"{store_key}.next"] = len(rows)
    blocks: list[dict[str, Any]] = st.session_state[store_key]
    columns = cls.BLOCKS
    widths = [1] + [3] * len(columns) + [1, 1, 1]
    for pos, block in enumerate(blocks):
        cells = st.columns(widths, vertical_alignment="bottom")
        cells[0].markdown(f"**{pos + 1}**")
        for cell, (column, field_name, _) in zip(cells[1:-3], columns, strict=True):
            spec, key = specs[field_name], f"blocks.{arch}.{block['id']}.{column}"
            label = column.capitalize()
            vis = "visible" if pos == 0 else "collapsed"
            if spec["choices"]:
                options = list(spec["choices"])
                block[column] = cell.selectbox(label, options, index=options.index(block[column]),
                                               key=key, label_visibility=vis)
            elif isinstance(block[column], float) or "float" in str(spec["type"]):
                block[column] = float(cell.number_input(
                    label, 0.0, float(spec["max"] or 1.0), float(block[column]), 0.05, key=key,
                    label_visibility=vis))
            else:
                block[column] = int(cell.number_input(
                    label, int(spec["min"] or 1), int(spec["max"] or 4096), int(block[column]),
                    key=key, label_visibility=vis))
        up = cells[-3].button("↑", key=f"blocks.{arch}.{block['id']}.up", disabled=pos == 0,
                               help="Move this block up")
        down = cells[-2].button("↓", key=f"blocks.{arch}.{block['id']}.down",
                                disabled=pos == len(blocks) - 1, help="Move this block down")
        remove = cells[-1].button("✕", key=f"blocks.{arch}.{block['id']}.remove",
                                  disabled=len(blocks) == 1, help="Remove this block")
        if up or down:
            other = pos - 1 if up else pos + 1
            blocks[pos], blocks[other] = blocks[other], blocks[pos]
            st.rerun()
        if remove:
            blocks.pop(pos)
            st.rerun()
    if st.button("Add block", icon=":material/add:", key=f"blocks.{arch}.add"):
        new_id = st.session_state[f"{store_key}.next"]
        st.session_state[f"{store_key}.next"] = new_id + 1
        blocks.append({**blocks[-1], "id": new_id})
        st.rerun()
    return blocks_to_fields(cls, blocks)


def blocks_to_fields(cls: type, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Editor rows as config fields; a per-block value equal in every block becomes the scalar
    fallback (so the default network logs exactly as before: ``activation=relu``)."""
    out: dict[str, Any] = {}
    for column, field_name, fallback in cls.BLOCKS:
        values = tuple(b[column] for b in blocks)
        if fallback and len(set(values)) == 1:
            out[field_name], out[fallback] = (), values[0]
        else:
            out[field_name] = values
            if fallback:
                out[fallback] = values[0]
    return out


def reset_blocks(arch: str) -> None:
    """Forget the editor's blocks of ``arch`` (new data or a config read back from a run)."""
    for key in (f"_blocks.{arch}", f"_blocks.{arch}.next"):
        st.session_state.pop(key, None)


