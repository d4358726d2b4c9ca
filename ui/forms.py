"""Widgets generated from a config dataclass's field metadata (Ludwig style)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dl_core.config import config_from_dict, describe


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def config_widgets(cls: type, values: dict[str, Any], key: str,
                   skip: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """Render one widget per field of ``cls`` (inside the caller's form); return raw values.

    Args:
        cls: A config dataclass whose fields were declared with ``dl_core.config.param``.
        values: Current values (e.g. from session state or a logged run), defaults otherwise.
        key: Prefix that keeps widget keys unique per form.
        skip: Fields rendered elsewhere (the layer editor's).
    """
    out: dict[str, Any] = {}
    for spec in describe(cls):
        if spec["name"] in skip:
            continue
        name, default = spec["name"], values.get(spec["name"], spec["default"])
        wkey, hint, help_ = f"{key}.{name}", str(spec["type"]), spec["help"]
        label = spec.get("label") or _label(name)
        if spec["choices"]:
            choices = list(spec["choices"])
            out[name] = st.selectbox(label, choices, index=choices.index(default)
                                     if default in choices else 0, help=help_, key=wkey)
        elif hint in ("bool", "<class 'bool'>"):
            out[name] = st.checkbox(label, value=bool(default), help=help_, key=wkey)
        elif "tuple" in hint:
            text = ",".join(str(v) for v in default)
            out[name] = st.text_input(label, value=text, help=help_, key=wkey)
        elif hint in ("int", "<class 'int'>"):
            out[name] = st.number_input(
                label, value=int(default), step=int(spec["step"] or 1), help=help_, key=wkey,
                min_value=int(spec["min"]) if spec["min"] is not None else None,
                max_value=int(spec["max"]) if spec["max"] is not None else None,
            )
        elif hint in ("float", "<class 'float'>") and spec["log"]:
            # Values spanning orders of magnitude (learning rates) move along a log scale: a
            # number input stepping by 0.01 jumped from 0.001 to 0.011.
            out[name] = st.select_slider(
                label, log_steps(spec["min"], spec["max"], float(default)), value=float(default),
                format_func=lambda v: f"{v:g}", help=help_, key=wkey)
        elif hint in ("float", "<class 'float'>"):
            out[name] = st.number_input(
                label, value=float(default), help=help_, key=wkey,
                step=float(spec["step"]) if spec["step"] else None,
                format="%.4f",
                min_value=float(spec["min"]) if spec["min"] is not None else None,
                max_value=float(spec["max"]) if spec["max"] is not None else None,
            )
        else:
            out[name] = st.text_input(label, value=str(default), help=help_, key=wkey)
    return out


def log_steps(low: float | None, high: float | None, current: float | None = None) -> list[float]:
    """1, 2 and 5 times each power of ten from ``low`` to ``high`` (0 and 1e-6 up when ``low``
    is 0 or unset; 1 when ``high`` is unset), plus ``current`` when it falls between them (a
    value read back from a run or a sweep)."""
    import math

    high = 1.0 if high is None else float(high)
    low = 0.0 if low is None else float(low)
    start = low if low > 0 else 1e-6
    values = {float(f"{m}e{e}") for e in range(math.floor(math.log10(start)),
                                                 math.ceil(math.log10(high)) + 1)
              for m in (1, 2, 5)}
    values = {v for v in values if start <= v <= high} | ({0.0} if low <= 0 else set())
    if current is not None and low <= current <= high:
        values.add(float(current))
    return sorted(values)


def to_config(cls: type, raw: dict[str, Any]) -> Any:
    """Build and validate the config (raises ConfigError with a readable message)."""
    return config_from_dict(cls, raw)
