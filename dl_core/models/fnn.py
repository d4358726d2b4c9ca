"""Feed-forward network (multi-layer perceptron) for tabular features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dl_core.config import param, validate_fields
from dl_core.models.registry import register_model

ACTIVATIONS = ("relu", "gelu", "silu", "elu", "selu", "tanh", "sigmoid", "leaky_relu")


@dataclass(frozen=True)
class FNNConfig:
    """Hyperparameters of the feed-forward network."""

    hidden_units: tuple[int, ...] = param(
        (64, 32), min=1, max=4096, help="Units of each hidden layer, first to last (e.g. 128,64)."
    )
    activation: str = param("relu", choices=ACTIVATIONS, help="Activation of the hidden layers.")
    dropout: float = param(
        0.1, min=0.0, max=0.9, step=0.05, help="Fraction of units dropped after each hidden layer."
    )
    l2: float = param(
        1e-4, min=0.0, max=1.0, log=True, help="L2 weight penalty on hidden layers (0 = none)."
    )
    batch_norm: bool = param(False, help="Batch normalisation before each activation.")

    def __post_init__(self) -> None:
        validate_fields(self)
        if not self.hidden_units:
            from dl_core.errors import ConfigError

            raise ConfigError("FNNConfig.hidden_units needs at least one layer, e.g. 64,32.")


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
    for i, units in enumerate(cfg.hidden_units, start=1):
        x = k.layers.Dense(
            units, use_bias=not cfg.batch_norm, kernel_regularizer=reg, name=f"dense_{i}"
        )(x)
        if cfg.batch_norm:
            x = k.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        x = k.layers.Activation(cfg.activation, name=f"{cfg.activation}_{i}")(x)
        if cfg.dropout > 0:
            x = k.layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    outputs = k.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    return k.Model(inputs, outputs, name="fnn")
