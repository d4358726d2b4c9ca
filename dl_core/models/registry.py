"""The model zoo's registry: one decorator per architecture, listed by data kind.

An entry names the data kinds it fits (``dl_core.kinds``) and its model family, whose trainer
fits it (``dl_core.training.trainers``). The family fixes the builder's signature:

* ``"supervised"``: ``build(cfg, input_shape, n_outputs, output_activation)`` returning a
  functional ``keras.Model``;
* ``"generative"``: ``build(cfg)`` returning an unfitted
  :class:`~dl_core.generation.synthesizer.Synthesizer` (its networks are built when it fits,
  once the table fixes their widths).

Modules import Keras inside ``build`` so listing models stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dl_core.errors import ConfigError

#: The built-in data kinds (``dl_core.kinds`` holds every registered one).
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
    #: The model family, which picks the trainer (``dl_core.training.get_trainer``).
    family: str = "supervised"


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str, *, config: type, kinds: set[str], title: str, description: str,
    family: str = "supervised",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``build`` under ``name`` (Ludwig/Keras style decorator).

    Args:
        name: Short identifier used by the CLI (``--arch``) and logged as ``arch``.
        config: Frozen dataclass of the architecture's hyperparameters.
        kinds: Registered data kinds (``dl_core.kinds``) the architecture fits.
        title: Name shown in the UI.
        description: One sentence on what the architecture is for.
        family: The model family (``"supervised"`` or ``"generative"``; a family needs a
            registered trainer), which fixes ``build``'s signature (see the module docstring).
    """
    from dl_core.kinds import kind_names

    unknown = set(kinds) - set(kind_names())
    if unknown:
        raise ValueError(f"Unknown data kinds {sorted(unknown)} for model {name!r}.")

    def decorator(build: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY[name] = ModelEntry(name, title, description, config, build, frozenset(kinds),
                                     family)
        return build

    return decorator


def unregister_model(name: str) -> None:
    """Forget the architecture ``name`` (a plug-in's or a test's); unknown names are ignored."""
    _REGISTRY.pop(name, None)


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


def list_models(kind: str | None = None, family: str | None = None) -> list[ModelEntry]:
    """Registered architectures, optionally only those fitting data ``kind`` or of ``family``."""
    _load_builtin()
    return [e for e in _REGISTRY.values()
            if (kind is None or kind in e.kinds) and (family is None or e.family == family)]
