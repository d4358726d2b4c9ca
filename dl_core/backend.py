"""The one place that configures the Keras backend and imports Keras.

TensorFlow costs seconds to import, so nothing imports Keras at module level: call
:func:`keras` when a model is about to be built, trained or loaded. Only the training worker
does that; the web server never loads TensorFlow (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import MutableMapping, Sequence
from types import ModuleType
from typing import Any

# Keras draws the default seed of every initializer and dropout layer from Python's global
# random generator while a model is built. The worker builds a summary model in one thread while
# a job seeds and builds its model in another: built one at a time, the summary cannot change
# the job's initial weights.
_BUILD_LOCK = threading.Lock()


def configure(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set the backend's environment before TensorFlow (or JAX) is imported.

    GPU memory grows on demand instead of being reserved whole at start-up, so several jobs
    (and other processes) can share one card. A value already set by the user wins.

    Args:
        env: the environment to update; ``os.environ`` by default.

    Returns:
        ``env``, updated.
    """
    env = os.environ if env is None else env
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # TensorFlow: allocate as needed
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # the same for JAX
    return env


def build_lock() -> threading.Lock:
    """Hold while seeding and building a model (see ``_BUILD_LOCK``)."""
    return _BUILD_LOCK


def keras() -> ModuleType:
    """Import and return Keras 3 with the configured backend (TensorFlow by default)."""
    configure()
    import keras as _keras

    return _keras


def device_summary() -> str:
    """The device training will use, for people: 'GPU: NVIDIA H200' or 'CPU (2 cores)'."""
    k = keras()
    backend = k.backend.backend()
    names: list[str] = []
    if backend == "tensorflow":
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name") or gpu.name)
    elif backend == "jax":
        import jax

        names = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    if names:
        distinct = sorted(set(names))
        if len(distinct) == 1 and len(names) > 1:
            return f"GPU: {len(names)} × {distinct[0]}"
        return "GPU: " + ", ".join(names)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU ({cores} cores)"


def mirrored_devices(gpus: int | None, available: Sequence[str]) -> list[str] | None:
    """The devices a job asking for ``gpus`` GPUs trains on together, or None for one device.

    One GPU or none (or no request) is TensorFlow's default placement; more than one mirrors
    the model on the first ``gpus`` of ``available`` (``tf.distribute.MirroredStrategy``: each
    batch is split across them and the gradients summed).

    Raises:
        ConfigError: if the job asks for more GPUs than ``available`` lists.
    """
    from dl_core.errors import ConfigError

    if gpus is None or gpus <= 1:
        return None
    if gpus > len(available):
        raise ConfigError(
            f"The job asks for {gpus} GPUs but this machine has {len(available)}"
            f"{' (' + ', '.join(available) + ')' if available else ''}; ask for fewer "
            "(gpus=0 trains on the CPU).")
    return list(available[:gpus])


def distribution_scope(gpus: int | None) -> Any:
    """The scope a model is built and compiled in for a job asking for ``gpus`` GPUs: a
    ``MirroredStrategy`` over them when more than one, else nothing (see
    :func:`mirrored_devices`); Keras then fits, evaluates and saves it as usual."""
    if gpus is None or gpus <= 1 or keras().backend.backend() != "tensorflow":
        return contextlib.nullcontext()
    import tensorflow as tf

    devices = mirrored_devices(gpus, [d.name for d in tf.config.list_logical_devices("GPU")])
    return tf.distribute.MirroredStrategy(devices).scope()
