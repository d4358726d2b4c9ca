"""Recurrent networks for sequences and time series: SimpleRNN, GRU and LSTM.

The three share one config and one builder; only the recurrent cell differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dl_core.config import param, validate_fields
from dl_core.errors import ConfigError
from dl_core.models.registry import register_model

CELLS = {"rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}


@dataclass(frozen=True)
class RecurrentConfig:
    """Hyperparameters of a stacked (optionally bidirectional) recurrent network."""

    units: tuple[int, ...] = param(
        (64,), min=1, max=2048, help="Units of each recurrent layer, first to last (e.g. 64,32)."
    )
    bidirectional: bool = param(False, help="Read each sequence forwards and backwards.")
    dropout: float = param(
        0.0, min=0.0, max=0.9, step=0.05, help="Dropout on each recurrent layer's inputs."
    )
    recurrent_dropout: float = param(
        0.0, min=0.0, max=0.9, step=0.05,
        help="Dropout on the recurrent state (slower: disables the fused GPU kernel).",
    )
    dense_units: tuple[int, ...] = param(
        (), min=1, max=4096, help="Dense layers after the recurrent stack (may be empty)."
    )

    BLOCKS: ClassVar[tuple[tuple[str, str, str | None], ...]] = (("units", "units", None),)

    def __post_init__(self) -> None:
        validate_fields(self)
        if not self.units:
            raise ConfigError("RecurrentConfig.units needs at least one recurrent layer, e.g. 64.")


def _builder(arch: str):
    cell_name = CELLS[arch]

    def build(cfg: RecurrentConfig, input_shape: tuple[int, ...], n_outputs: int,
              output_activation: str) -> Any:
        """Build the network.

        Input shape:
            ``(batch, timesteps, features)``
        Output shape:
            ``(batch, n_outputs)`` (``n_outputs`` = horizon for forecasting)
        """
        from dl_core.backend import keras

        k = keras()
        cell = getattr(k.layers, cell_name)
        inputs = k.Input(shape=input_shape, name="sequence")
        x = inputs
        last = len(cfg.units)
        for i, units in enumerate(cfg.units, start=1):
            layer = cell(units, dropout=cfg.dropout, recurrent_dropout=cfg.recurrent_dropout,
                         return_sequences=i < last, name=f"{arch}_{i}")
            if cfg.bidirectional:
                layer = k.layers.Bidirectional(layer, name=f"bidirectional_{i}")
            x = layer(x)
        for i, units in enumerate(cfg.dense_units, start=1):
            x = k.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        outputs = k.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
        return k.Model(inputs, outputs, name=arch)

    return build


_CELLS = {
    "rnn": ("Simple recurrent network (RNN)",
            "The plain recurrent cell: a baseline for short sequences; forgets long-range "
            "context quickly."),
    "gru": ("Gated recurrent unit (GRU)",
            "A gated recurrent cell that keeps longer context than the RNN with fewer weights "
            "than the LSTM."),
    "lstm": ("Long short-term memory (LSTM)",
             "The gated recurrent network of choice for forecasting and sequences with "
             "long-range dependencies."),
}
for _name, (_title, _description) in _CELLS.items():
    register_model(_name, config=RecurrentConfig, kinds={"sequence", "timeseries"},
                   title=_title, description=_description)(_builder(_name))
