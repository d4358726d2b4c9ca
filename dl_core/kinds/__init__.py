"""Data kinds: one object per kind (table, images, sequences, time series) behind one interface.

See :class:`dl_core.kinds.base.DataKind`. Importing this package registers the built-in kinds;
a new kind is a module that subclasses :class:`DataKind` and calls :func:`register_kind`.
"""

from dl_core.kinds.base import (
    DataKind,
    class_probabilities,
    get_kind,
    input_dims,
    kind_names,
    refuse_time_split,
    register_kind,
    unregister_kind,
)
from dl_core.kinds import tabular, image, sequence, timeseries  # noqa: E402,F401  (registers)

__all__ = ["DataKind", "class_probabilities", "get_kind", "input_dims", "kind_names",
           "refuse_time_split", "register_kind", "unregister_kind"]
