"""Feed-forward network (multi-layer perceptron) for tabular features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dl_core.config import param, validate_fields
from dl_core.models.registry import register_model

ACTIVATIONS = ("relu", "gelu", "silu", "elu", "selu", "tanh", "sigmoid", "leaky_relu")


@dataclass(frozen=True)
class FNNConfig:
    """Hyperparameters of the feed-forward network."""

    hidden_units: tuple[int, ...] = param(
        # One modest layer: on small tables wider/deeper defaults overfit within a few epochs
        # and lose to a linear model (bench/accuracy.py, 3 seeds, every bundled sample).
        (32,), min=1, max=4096, help="Units of each hidden layer, first to last (e.g. 128,64)."
    )
    activation: str = param("relu", choices=ACTIVATIONS, help="Activation of the hidden layers.")
    dropout: float = param(
        0.2, min=0.0, max=0.9, step=0.05, help="Fraction of units dropped after each hidden layer."
    )
    l2: float = param(
        1e-4, min=0.0, max=1.0, log=True, label="L2 penalty", help="L2 weight penalty on hidden layers (0 = none)."
    )
    batch_norm: bool = param(False, label="Batch normalisation",
                             help="Batch normalisation before each activation.")
    activations: tuple[str, ...] = param(
        (), choices=ACTIVATIONS,
        help="Activation of each hidden layer (one per layer); empty = 'activation' for all.",
    )
    dropouts: tuple[float, ...] = param(
        (), min=0.0, max=0.9, help="Dropout after each hidden layer; empty = 'dropout' for all."
    )

    #: The Model page's layer editor: (column, per-block tuple field, scalar fallback field).
    BLOCKS: ClassVar[tuple[tuple[str, str, str | None], ...]] = (
        ("units", "hidden_units", None),
        ("activation", "activations", "activation"),
        ("dropout", "dropouts", "dropout"),
    )

    def __post_init__(self) -> None:
        from dl_core.errors import ConfigError

        validate_fields(self)
        if not self.hidden_units:
            raise ConfigError("FNNConfig.hidden_units needs at least one layer, e.g. 64,32.")
        n = len(self.hidden_units)
        for name in ("activations", "dropouts"):
            given = getattr(self, name)
            if given and len(given) != n:
                raise ConfigError(
                    f"FNNConfig.{name} needs one value per hidden layer ({n}) or none; got "
                    f"{len(given)}: {given}."
                )

    def layer_activations(self) -> tuple[str, ...]:
        return self.activations or (self.activation,) * len(self.hidden_units)

    def layer_dropouts(self) -> tuple[float, ...]:
        return self.dropouts or (self.dropout,) * len(self.hidden_units)


@register_model(
    "fnn",
    config=FNNConfig,
    kinds={"tabular"},
    title="Feed-forward network (MLP)",
    description="Dense layers over preprocessed columns; the standard choice for tabular data.",
)
def build(
    cfg: FNNConfig, input_shape: tuple[int, ...], n_outputs: int, output_activation: str
) -> Any:
    """Build the network.

    Input shape:
        ``(batch, n_features)``
    Output shape:
        ``(batch, n_outputs)``
    """
    from dl_core.backend import keras

    k = keras()
    reg = k.regularizers.L2(cfg.l2) if cfg.l2 > 0 else None
    inputs = k.Input(shape=input_shape, name="features")
    x = inputs
    layers = zip(cfg.hidden_units, cfg.layer_activations(), cfg.layer_dropouts())
    for i, (units, activation, dropout) in enumerate(layers, start=1):
        x = k.layers.Dense(
            units, use_bias=not cfg.batch_norm, kernel_regularizer=reg, name=f"dense_{i}"
        )(x)
        if cfg.batch_norm:
            x = k.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        x = k.layers.Activation(activation, name=f"{activation}_{i}")(x)
        if dropout > 0:
            x = k.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = k.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    return k.Model(inputs, outputs, name="fnn")
