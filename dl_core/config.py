"""Hyperparameter configs as frozen dataclasses (Ludwig style).

Each field carries its default, range, choices and help text in ``metadata`` so that one
description drives the UI form, the CLI ``--set key=value`` parser, validation and what MLflow
logs as params (``asdict(cfg)``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar, get_type_hints

from dl_core.errors import ConfigError

C = TypeVar("C")


def param(
    default: Any,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    choices: tuple | None = None,
    step: float | None = None,
    log: bool = False,
    label: str | None = None,
) -> Any:
    """A dataclass field with UI/validation metadata.

    Args:
        default: Default value (tuples for sequences, so configs stay hashable).
        help: One sentence shown next to the widget.
        min: Inclusive lower bound for numbers (or for every element of a tuple).
        max: Inclusive upper bound.
        choices: Allowed values for a categorical option.
        step: Widget step for numbers.
        log: Whether the value spans orders of magnitude (learning rates).
        label: The widget's label when the field name does not read well.
    """
    meta = {"help": help, "min": min, "max": max, "choices": choices, "step": step, "log": log,
            "label": label}
    return dataclasses.field(default=default, metadata=meta)


def validate_fields(cfg: Any) -> None:
    """Check every field of ``cfg`` against its metadata; call from ``__post_init__``.

    Raises:
        ConfigError: naming the field, the value received and the allowed range.
    """
    name = type(cfg).__name__
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        meta = f.metadata
        values = value if isinstance(value, tuple) else (value,)
        if meta.get("choices") is not None:
            for v in values:
                if v not in meta["choices"]:
                    raise ConfigError(
                        f"{name}.{f.name} must be one of {list(meta['choices'])}; got {v!r}."
                    )
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if meta.get("min") is not None and v < meta["min"]:
                raise ConfigError(f"{name}.{f.name} must be at least {meta['min']}; got {v!r}.")
            if meta.get("max") is not None and v > meta["max"]:
                raise ConfigError(f"{name}.{f.name} must be at most {meta['max']}; got {v!r}.")


def _coerce(value: Any, hint: Any, field_name: str) -> Any:
    """Turn a logged/CLI value (often a string) back into the field's type."""
    text_hint = str(hint)
    if isinstance(value, str):
        raw = value.strip()
        if text_hint.startswith("tuple") or "tuple" in text_hint:
            if raw.startswith("(") or raw.startswith("["):
                raw = raw.strip("()[]")
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            inner = int if "int" in text_hint else float if "float" in text_hint else str
            try:
                return tuple(inner(p) for p in parts)
            except ValueError as exc:
                raise ConfigError(f"{field_name} expects a comma-separated list; got {value!r}.") from exc
        if hint is bool or text_hint == "bool":
            if raw.lower() in ("true", "1", "yes", "on"):
                return True
            if raw.lower() in ("false", "0", "no", "off"):
                return False
            raise ConfigError(f"{field_name} expects true or false; got {value!r}.")
        if hint is int or text_hint == "int":
            try:
                return int(float(raw))
            except ValueError as exc:
                raise ConfigError(f"{field_name} expects a whole number; got {value!r}.") from exc
        if hint is float or text_hint == "float":
            try:
                return float(raw)
            except ValueError as exc:
                raise ConfigError(f"{field_name} expects a number; got {value!r}.") from exc
        if "None" in text_hint and raw.lower() in ("none", ""):
            return None
        if "dict" in text_hint:
            try:
                return json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{field_name} expects JSON; got {value!r}.") from exc
        return raw
    if isinstance(value, list):
        return tuple(value)
    if (hint is float or text_hint == "float") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def config_from_dict(cls: type[C], values: dict[str, Any], *, strict: bool = True) -> C:
    """Build ``cls`` from a dict of possibly-stringly values (MLflow params, CLI ``--set``).

    Args:
        cls: A config dataclass.
        values: Field values; strings are coerced to each field's type.
        strict: Reject unknown keys (CLI); when False they are ignored (logged params of
            another config share the same dict).

    Raises:
        ConfigError: on an unknown key (strict) or a value of the wrong type or range.
    """
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if strict and unknown:
        raise ConfigError(
            f"Unknown option(s) {unknown} for {cls.__name__}; known options: {sorted(names)}."
        )
    kwargs = {k: _coerce(v, hints[k], k) for k, v in values.items() if k in names}
    return cls(**kwargs)


def describe(cls: type) -> list[dict[str, Any]]:
    """Field descriptions for a form: name, type, default and metadata."""
    hints = get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        out.append({"name": f.name, "type": hints[f.name], "default": f.default, **f.metadata})
    return out


def to_params(cfg: Any, prefix: str = "") -> dict[str, str]:
    """Flatten a config into MLflow params (strings; tuples as comma lists)."""
    out = {}
    for k, v in dataclasses.asdict(cfg).items():
        if isinstance(v, (tuple, list)):
            v = ",".join(str(x) for x in v)
        elif isinstance(v, dict):
            v = json.dumps(v)
        out[f"{prefix}{k}"] = str(v)
    return out
