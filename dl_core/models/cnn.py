"""Two-dimensional convolutional network for images (pixel CSVs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dl_core.config import param, validate_fields
from dl_core.errors import ConfigError
from dl_core.models.registry import register_model


@dataclass(frozen=True)
class CNNConfig:
    """Hyperparameters of the image CNN: conv blocks, then a dense head."""

    filters: tuple[int, ...] = param(
        (32, 64), min=1, max=1024, help="Filters of each conv block, first to last (e.g. 32,64)."
    )
    kernel_sizes: tuple[int, ...] = param(
        (3, 3), min=1, max=11, help="Kernel size of each conv block (one per block)."
    )
    convs_per_block: int = param(2, min=1, max=4, help="Convolutions in each block before pooling.")
    pooling: str = param("max", choices=("max", "avg", "none"), help="Pooling after each block.")
    batch_norm: bool = param(True, help="Batch normalisation after each convolution.")
    dropout: float = param(0.25, min=0.0, max=0.9, step=0.05, help="Dropout after each block.")
    head: str = param(
        "flatten", choices=("flatten", "global_avg"),
        help="How the feature maps become a vector: flatten (small images) or global average.",
    )
    dense_units: tuple[int, ...] = param(
        (128,), min=1, max=4096,
        help="Units of the dense layers after the conv blocks (may be empty).",
    )
    head_dropout: float = param(0.3, min=0.0, max=0.9, step=0.05, help="Dropout in the dense head.")
    augment_shift: float = param(
        0.0, min=0.0, max=0.5, step=0.05, help="Random shift as a share of height/width (0 = off)."
    )
    augment_flip: bool = param(False, help="Random horizontal flips (not for digits or text).")
    augment_rotation: float = param(
        0.0, min=0.0, max=0.5, step=0.01,
        help="Random rotation as a share of a full turn (0 = off).",
    )

    #: The Model page's layer editor: column -> tuple field (one row per conv block).
    BLOCKS: ClassVar[tuple[tuple[str, str, str | None], ...]] = (
        ("filters", "filters", None), ("kernel size", "kernel_sizes", None),
    )

    def __post_init__(self) -> None:
        validate_fields(self)
        if not self.filters:
            raise ConfigError("CNNConfig.filters needs at least one conv block, e.g. 32,64.")
        if len(self.kernel_sizes) != len(self.filters):
            raise ConfigError(
                f"CNNConfig.kernel_sizes needs one size per conv block ({len(self.filters)}); "
                f"got {len(self.kernel_sizes)}: {self.kernel_sizes}."
            )


@register_model(
    "cnn",
    config=CNNConfig,
    kinds={"image"},
    title="Convolutional network (CNN)",
    description="Convolutions learn local patterns (edges, strokes, textures) anywhere in an "
    "image; the choice for pixel data.",
)
def build(cfg: CNNConfig, input_shape: tuple[int, ...], n_outputs: int,
          output_activation: str) -> Any:
    """Build the network.

    Input shape:
        ``(batch, height, width, channels)`` with pixels scaled to 0..1.
    Output shape:
        ``(batch, n_outputs)``
    """
    from dl_core.backend import keras

    k = keras()
    inputs = k.Input(shape=input_shape, name="image")
    x = inputs
    # Augmentation layers are active in fit only; they pass images through at inference.
    if cfg.augment_shift > 0:
        x = k.layers.RandomTranslation(cfg.augment_shift, cfg.augment_shift, fill_mode="constant",
                                       name="augment_shift")(x)
    if cfg.augment_flip:
        x = k.layers.RandomFlip("horizontal", name="augment_flip")(x)
    if cfg.augment_rotation > 0:
        x = k.layers.RandomRotation(cfg.augment_rotation, fill_mode="constant",
                                    name="augment_rotation")(x)
    for b, (filters, size) in enumerate(zip(cfg.filters, cfg.kernel_sizes, strict=True), start=1):
        for c in range(1, cfg.convs_per_block + 1):
            x = k.layers.Conv2D(filters, size, padding="same", use_bias=not cfg.batch_norm,
                                name=f"conv_{b}_{c}")(x)
            if cfg.batch_norm:
                x = k.layers.BatchNormalization(name=f"batch_norm_{b}_{c}")(x)
            x = k.layers.Activation("relu", name=f"relu_{b}_{c}")(x)
        # Pool only while the feature map is still at least 2x2, so deep stacks fit small images.
        if cfg.pooling != "none" and min(x.shape[1], x.shape[2]) >= 2:
            pool = k.layers.MaxPooling2D if cfg.pooling == "max" else k.layers.AveragePooling2D
            x = pool(2, name=f"pool_{b}")(x)
        if cfg.dropout > 0:
            x = k.layers.Dropout(cfg.dropout, name=f"dropout_{b}")(x)
    if cfg.head == "flatten":
        x = k.layers.Flatten(name="flatten")(x)
    else:
        x = k.layers.GlobalAveragePooling2D(name="global_avg_pool")(x)
    for i, units in enumerate(cfg.dense_units, start=1):
        x = k.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        if cfg.head_dropout > 0:
            x = k.layers.Dropout(cfg.head_dropout, name=f"head_dropout_{i}")(x)
    outputs = k.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
    return k.Model(inputs, outputs, name="cnn")
