"""The one place that chooses the Keras backend and imports Keras.

TensorFlow costs seconds to import, so nothing imports Keras at module level: call
:func:`keras` when a model is about to be built, trained or loaded (DESIGN decision 8).
"""

from __future__ import annotations

import os
from types import ModuleType


def keras() -> ModuleType:
    """Import and return Keras 3 with the configured backend (TensorFlow by default)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras as _keras

    return _keras


def device_summary() -> str:
    """A short description of the accelerator training will use, e.g. 'GPU (1)' or 'CPU'."""
    k = keras()
    backend = k.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    elif backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
    else:
        gpus = []
    return f"GPU ({len(gpus)})" if gpus else "CPU"
