"""One-dimensional convolutional network for sequences and time series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dl_core.config import param, validate_fields
from dl_core.errors import ConfigError
from dl_core.models.registry import register_model


@dataclass(frozen=True)
class CNN1DConfig:
    """Hyperparameters of the 1-D CNN: conv blocks along time, pooled, then a dense head."""

    filters: tuple[int, ...] = param(
        (32, 64), min=1, max=1024, help="Filters of each conv block, first to last."
    )
    kernel_sizes: tuple[int, ...] = param(
        (5, 3), min=1, max=64, help="Kernel size (in time steps) of each conv block."
    )
    pooling: str = param("max", choices=("max", "none"), help="Pooling (by 2) after each block.")
    batch_norm: bool = param(False, help="Batch normalisation after each convolution.")
    dropout: float = param(0.1, min=0.0, max=0.9, step=0.05, help="Dropout after each block.")
    head: str = param(
        "flatten", choices=("flatten", "global_avg"),
        help="Flatten keeps where in the window a pattern was (forecasting); global average "
        "ignores it (classification of patterns anywhere).",
    )
    dense_units: tuple[int, ...] = param(
        (64,), min=1, max=4096, help="Dense layers before the output."
    )

    BLOCKS: ClassVar[tuple[tuple[str, str, str | None], ...]] = (
        ("filters", "filters", None), ("kernel size", "kernel_sizes", None),
    )

    def __post_init__(self) -> None:
        validate_fields(self)
        if not self.filters:
            raise ConfigError("CNN1DConfig.filters needs at least one conv block, e.g. 32,64.")
        if len(self.kernel_sizes) != len(self.filters):
            raise ConfigError(
                f"CNN1DConfig.kernel_sizes needs one size per conv block ({len(self.filters)}); "
                f"got {len(self.kernel_sizes)}: {self.kernel_sizes}."
            )


@register_model(
    "cnn1d",
    config=CNN1DConfig,
    kinds={"sequence", "timeseries"},
    title="1-D convolutional network",
    description="Convolutions along time find local patterns in windows; fast to train and a "
    "strong baseline for sequences and forecasting.",
)
def build(cfg: CNN1DConfig, input_shape: tuple[int, ...], n_outputs: int,
          output_activation: str) -> Any:
    """Build the network.

    Input shape:
        ``(batch, timesteps, features)``
    Output shape:
        ``(batch, n_outputs)``
    """
    from dl_core.backend import keras

    k = keras()
    inputs = k.Input(shape=input_shape, name="sequence")
    x = inputs
    for b, (filters, size) in enumerate(zip(cfg.filters, cfg.kernel_sizes, strict=True), start=1):
        x = k.layers.Conv1D(filters, size, padding="same", use_bias=not cfg.batch_norm,
                            name=f"conv_{b}")(x)
        if cfg.batch_norm:
            x = k.layers.BatchNormalization(name=f"batch_norm_{b}")(x)
        x = k.layers.Activation("relu", name=f"relu_{b}")(x)
        if cfg.pooling == "max" and x.shape[1] >= 4:
            x = k.layers.MaxPooling1D(2, name=f"pool_{b}")(x)
        if cfg.dropout > 0:
            x = k.layers.Dropout(cfg.dropout, name=f"dropout_{b}")(x)
    if cfg.head == "flatten":
        x = k.layers.Flatten(name="flatten")(x)
    else:
        x = k.layers.GlobalAveragePooling1D(name="global_avg_pool")(x)
    for i, units in enumerate(cfg.dense_units, start=1):
        x = k.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    outputs = k.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    return k.Model(inputs, outputs, name="cnn1d")
