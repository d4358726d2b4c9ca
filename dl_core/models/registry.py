"""The model zoo's registry: one decorator per architecture, listed by data kind.

Builders are plain functions ``build(cfg, input_shape, n_outputs, output_activation)`` returning a
functional ``keras.Model``; modules import Keras inside ``build`` so listing models stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dl_core.errors import ConfigError

#: Data kinds an architecture can be trained on.
DATA_KINDS = ("tabular", "image", "sequence", "timeseries")


@dataclass(frozen=True)
class ModelEntry:
    """A registered architecture."""

    name: str
    title: str
    description: str
    config_cls: type
    build: Callable[..., Any]
    kinds: frozenset[str]


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str, *, config: type, kinds: set[str], title: str, description: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``build`` under ``name`` (Ludwig/Keras style decorator).

    Args:
        name: Short identifier used by the CLI (``--arch``) and logged as ``arch``.
        config: Frozen dataclass of the architecture's hyperparameters.
        kinds: Data kinds (see ``DATA_KINDS``) the architecture fits.
        title: Name shown in the UI.
        description: One sentence on what the architecture is for.
    """
    unknown = set(kinds) - set(DATA_KINDS)
    if unknown:
        raise ValueError(f"Unknown data kinds {sorted(unknown)} for model {name!r}.")

    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = ModelEntry(name, title, description, config, build, frozenset(kinds))
        return build

    return decorator


def _load_builtin() -> None:
    # Importing the package registers every built-in architecture.
    import dl_core.models  # noqa: F401


def get_model(name: str) -> ModelEntry:
    """The registered architecture ``name``.

    Raises:
        ConfigError: if no architecture has that name, listing the known ones.
    """
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"Unknown architecture {name!r}; choose one of {sorted(_REGISTRY)}."
        ) from None


def list_models(kind: str | None = None) -> list[ModelEntry]:
    """Registered architectures, optionally only those fitting data ``kind``."""
    _load_builtin()
    return [e for e in _REGISTRY.values() if kind is None or kind in e.kinds]
