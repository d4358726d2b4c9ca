"""What the image networks (``conv_vae``, ``dcgan``) share around their Keras models.

:class:`ImageNetworkSynthesizer` is an :class:`~dl_core.generation.images.ImageSynthesizer` that
holds named functional Keras networks; a subclass builds them and the thin ``keras.Model`` whose
``train_step`` trains them (:meth:`~ImageNetworkSynthesizer.training_model`) and turns labels and
noise into images (:meth:`~ImageNetworkSynthesizer.sample_arrays`). This base does the rest, as
:class:`~dl_core.generation.neural.NeuralSynthesizer` does for tables:

- **fit**: seeds and builds under :func:`~dl_core.backend.build_lock`, cuts the batch to a tenth
  of the images (:func:`~dl_core.generation.neural.effective_batch`), takes at least
  :attr:`~ImageNetworkSynthesizer.MIN_STEPS_PER_EPOCH` steps an epoch (the shuffled images
  repeat), reports every epoch (``on_epoch``) and honours ``stop`` after the current steps.
- **save / load**: one ``.keras`` file per network, the image table (JSON) and ``state.json``
  (the config and the few fitted numbers that are not weights); never pickle.

The convolutional stacks of both models share :func:`conv_plan`: stride-2 convolutions halve the
image per block on the way down; on the way up transposed convolutions double it from the smallest
size and a crop trims the odd pixel, so any ``H x W x C`` fits (8x8 digits, 28x28, 32x32x3).
"""

from __future__ import annotations

import abc
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dl_core.backend import build_lock
from dl_core.backend import keras as _keras
from dl_core.errors import DataError
from dl_core.generation.images import ImageSynthesizer
from dl_core.generation.neural import (
    check_finite_losses,
    epoch_callback,
    epoch_plan,
    load_networks,
    save_networks,
)

#: Training steps per compiled call (fewer Python round trips; the stop flag is read between).
STEPS_PER_CALL = 16


def conv_plan(height: int, width: int, blocks: int) -> list[tuple[int, int]]:
    """Image sizes after each stride-2 ``same`` convolution, first the input's.

    Blocks stop halving once a side would fall below 2 (an 8x8 digit takes 2 blocks at most
    before 2x2; more filters than that only widen the last block).
    """
    sizes = [(height, width)]
    for _ in range(blocks):
        h, w = sizes[-1]
        if min(h, w) < 4:
            break
        sizes.append((math.ceil(h / 2), math.ceil(w / 2)))
    return sizes


class ImageNetworkSynthesizer(ImageSynthesizer):
    """Base of the image networks (see the module docstring).

    Subclasses set :attr:`NETWORKS` (the names of their functional models, also their file names),
    :attr:`LOSSES` (the loss names reported per epoch), :attr:`config_cls`, and implement
    :meth:`training_model` (which builds ``self.networks``) and :meth:`sample_arrays`.
    """

    NETWORKS: ClassVar[tuple[str, ...]] = ()
    LOSSES: ClassVar[tuple[str, ...]] = ()
    #: The smallest batch :func:`effective_batch` cuts to.
    MIN_BATCH: ClassVar[int] = 32
    #: Steps an epoch takes at least: one pass over 900 digits at batch 90 is 10 steps, too few
    #: for a network to learn much in the trainer's epochs.
    MIN_STEPS_PER_EPOCH: ClassVar[int] = STEPS_PER_CALL
    config_cls: ClassVar[type]

    def __init__(self, cfg: Any = None) -> None:
        super().__init__(cfg if cfg is not None else self.config_cls())
        self.networks: dict[str, Any] = {}
        #: Fitted numbers besides the weights (JSON-serialisable).
        self.state: dict[str, Any] = {}

    @property
    def n_classes(self) -> int:
        """Classes the networks are conditioned on (0: unconditional)."""
        table = self._fitted_table()
        return table.n_classes if table.label is not None else 0

    @abc.abstractmethod
    def training_model(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
        """Build ``self.networks`` and the compiled ``keras.Model`` whose ``train_step`` fits
        them on batches ``(images, labels)``; labels are ``(B, 1)`` int32 (zeros when
        unconditional)."""

    def fit_arrays(self, x: np.ndarray, y: np.ndarray | None, *, epochs: int, batch_size: int,
                   seed: int, on_epoch: Callable[[int, dict[str, float]], None] | None = None,
                   stop: threading.Event | None = None) -> dict[str, list[float]]:
        keras = _keras()
        n = len(x)
        if n < 2:
            raise DataError(f"An image generator needs at least 2 training images; got {n}.")
        labels = np.zeros(n, dtype=np.int32) if y is None else np.asarray(y, dtype=np.int32)
        batch, steps = self.fit_plan(n, batch_size)
        self.state = {}
        with build_lock():  # a model built meanwhile in the worker must not shift the seed
            keras.utils.set_random_seed(seed)
            model = self.training_model(x, labels, batch, seed)
        dataset = _batches(x, labels, batch, seed)
        history: dict[str, list[float]] = {name: [] for name in self.loss_names}
        callback = epoch_callback(self.loss_names, history, on_epoch, stop)
        if stop is None or not stop.is_set():
            model.fit(dataset, epochs=epochs, steps_per_epoch=steps, verbose=0,
                      callbacks=[callback], shuffle=False)
        check_finite_losses(history, self.loss_names, self.cfg)
        self.state["steps_per_epoch"] = steps
        self.state["batch_size"] = batch
        self.after_fit(model)
        return history

    def fit_plan(self, n_rows: int, batch_size: int) -> tuple[int, int]:
        """The batch and the steps an epoch :meth:`fit_arrays` takes on ``n_rows`` images
        (whole compiled calls; what the Model and Train pages tell the user)."""
        return epoch_plan(n_rows, batch_size, self.MIN_BATCH, self.MIN_STEPS_PER_EPOCH,
                          STEPS_PER_CALL)

    @property
    def loss_names(self) -> tuple[str, ...]:
        """The losses reported every epoch (:attr:`LOSSES`; a config may add some)."""
        return self.LOSSES

    def after_fit(self, model) -> None:
        """Called once the fit ends (a subclass copies what it keeps off the training model)."""

    def _check_networks(self) -> None:
        self._fitted_table()
        if not self.networks:
            raise DataError(f"The {type(self).__name__} is not fitted yet; fit it on the training "
                            "images first.")

    def _inputs(self, first: np.ndarray, labels: np.ndarray | None) -> list[np.ndarray]:
        """A network's inputs: ``first`` plus the labels when the networks are conditional."""
        if not self.n_classes:
            return [first]
        if labels is None:
            raise DataError(f"This generator is conditioned on '{self._fitted_table().label}'; "
                            "give a class per image.")
        return [first, np.asarray(labels, dtype=np.int32).reshape(-1, 1)]

    # --- stored form ---------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        self._check_networks()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.save_table(folder)
        save_networks(self, folder)

    @classmethod
    def load(cls, folder: Path) -> ImageNetworkSynthesizer:
        synth = load_networks(cls, Path(folder))
        synth.load_table(Path(folder))
        return synth


def predict(model, inputs: list[np.ndarray], batch: int = 2048) -> np.ndarray:
    """``model(inputs, training=False)`` in chunks, as numpy (no ``predict`` progress bars)."""
    keras = _keras()
    n = len(inputs[0])
    outs = []
    for start in range(0, n, batch):
        chunk = [v[start : start + batch] for v in inputs]
        out = model(chunk if len(chunk) > 1 else chunk[0], training=False)
        outs.append(keras.ops.convert_to_numpy(out))
    if not outs:
        return np.zeros((0, *model.output_shape[1:]), dtype=np.float32)
    return np.concatenate(outs)


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
    """Shuffled ``(images, labels (B, 1))`` batches, repeating (an epoch is a number of steps)."""
    import tensorflow as tf

    return (
        tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.reshape(-1, 1)))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .prefetch(2)
    )
