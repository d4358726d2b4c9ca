"""The Keras callback every Keras-fitted family shares: progress events, MLflow, Stop."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping, Sequence

import numpy as np

from dl_core.errors import TrainingError
from dl_core.training.spec import Reporter

#: Seconds between batched writes of per-epoch metrics to MLflow during training.
METRIC_FLUSH_S = 5.0
#: Seconds the end of a fit keeps retrying to write its epochs while the store does not answer
#: (a tracking server restarting) before the run fails with a message.
TRACKING_GRACE_S = float(os.environ.get("DLX_TRACKING_GRACE_S", "60"))


class MetricBuffer:
    """Per-epoch metrics on their way to MLflow, written in batches off the training loop.

    Every ``METRIC_FLUSH_S`` a background thread writes what is pending. While the store does
    not answer (a tracking server restarting, a locked database) the epochs stay pending and
    the next write retries them; :meth:`close` writes the rest, retrying for
    ``TRACKING_GRACE_S``. The live curves come from the progress events, never from here.
    """

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.pending: list[tuple[int, dict[str, float]]] = []
        self.lock = threading.Lock()
        self.writer: threading.Thread | None = None
        self.error: BaseException | None = None
        self.flushed = time.perf_counter()

    def add(self, step: int, logs: dict[str, float]) -> None:
        with self.lock:
            self.pending.append((step, logs))
        busy = self.writer is not None and self.writer.is_alive()
        if not busy and time.perf_counter() - self.flushed >= METRIC_FLUSH_S:
            self.flushed = time.perf_counter()
            self.writer = threading.Thread(target=self.write, name="metrics", daemon=True)
            self.writer.start()

    def write(self) -> bool:
        """Write what is pending; on failure keep it for the next try. Whether all is written."""
        from dl_core import tracking

        with self.lock:
            batch = list(self.pending)
        if batch:
            try:
                tracking.log_metric_steps(self.run_id, batch)
            except Exception as exc:  # kept: retried at the next write
                self.error = exc
                return False
            with self.lock:
                del self.pending[:len(batch)]
        self.error = None
        return True

    def close(self) -> None:
        """Write every pending epoch, retrying while the store does not answer.

        Raises:
            TrackingError: if it still does not answer after ``TRACKING_GRACE_S`` seconds.
        """
        from dl_core import tracking

        if self.writer is not None:
            self.writer.join()
        deadline = time.monotonic() + TRACKING_GRACE_S
        delay = 0.5
        while not self.write():
            fault = tracking.store_fault(self.error)
            # Only a store that does not answer may come back; a full disk or a bug will not.
            if fault is None or fault[0] != tracking.UNREACHABLE or time.monotonic() >= deadline:
                error = tracking.store_error(self.error, f"record {len(self.pending)} epoch(s)")
                raise (error or self.error) from self.error
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
#: Per-epoch metrics in the target's units when multiplied by its scale (regression).
SCALED_METRICS = ("mae", "rmse")


def in_data_units(logs: dict[str, float], target_scale: float) -> dict[str, float]:
    """Per-epoch ``mae``/``rmse`` (and ``val_*``) of a standardised target in the data's units.

    The network fits ``(y - mean) / std``, so its absolute and root-mean-square errors are the
    data's divided by ``std``: multiplying by ``target_scale = std`` makes the curves comparable
    with the test figures. The loss stays the MSE of the standardised target.
    """
    return {key: value * unit_scale(key, target_scale) for key, value in logs.items()}


def unit_scale(key: str, target_scale: float) -> float:
    """The factor that puts the per-epoch metric ``key`` in the data's units."""
    return target_scale if key.removeprefix("val_") in SCALED_METRICS else 1.0


def eta_seconds(elapsed: float, first_epoch_s: float | None, done: int, epochs: int) -> float:
    """Seconds left after ``done`` of ``epochs`` epochs, ``elapsed`` seconds in.

    Once a second epoch has ended the rate leaves the first one out: it traces and compiles
    (14 s where a tvae epoch then takes 0.1 s, which put "ETA 35m" on a 36 s fit).
    """
    left = max(epochs - done, 0)
    if done >= 2 and first_epoch_s is not None:
        return (elapsed - first_epoch_s) / (done - 1) * left
    return elapsed / max(done, 1) * left


def make_progress_callback(report: Reporter, stop: threading.Event, run_id: str, epochs: int,
                           target_scale: float = 1.0):
    """A Keras callback that reports each epoch, logs it to MLflow and honours ``stop``.

    ``target_scale`` converts regression errors to the data's units (see :func:`in_data_units`).
    """
    from dl_core.backend import keras

    k = keras()

    class ProgressCallback(k.callbacks.Callback):
        #: The last epoch was cut short by Stop and left out of the curves (the fit's
        #: history must drop it too).
        dropped_last = False

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()
            self.metrics = MetricBuffer(run_id)
            self.cut = False
            self.first_epoch_s = None

        def on_train_end(self, logs=None):
            self.metrics.close()

        # The stop check sits at batch *begin*: a batch-end hook makes Keras turn every
        # batch's logs into Python numbers (a device sync per step, ~10% slower fits).
        def on_train_batch_begin(self, batch, logs=None):
            if stop.is_set() and not self.model.stop_training:
                self.model.stop_training = True
                # This batch still runs, then the epoch ends early unless it was the last.
                steps = self.params.get("steps")
                self.cut = steps is not None and batch + 1 < steps

        def on_epoch_end(self, epoch, logs=None):
            if self.cut and epoch > 0:
                # The average of the few batches since the epoch began is no epoch's figure
                # (a stopped curve plunged on its last point); the epochs before it stand.
                self.dropped_last = True
                return
            logs = in_data_units(
                {k_: float(v) for k_, v in (logs or {}).items() if np.isscalar(v)}, target_scale)
            # Epochs reach MLflow in batches every few seconds: a write per epoch cost ~8% of a
            # small model's fit on 2 cores. The live curves come from ``report``, not MLflow.
            self.metrics.add(epoch + 1, logs)
            elapsed = time.perf_counter() - self.started
            done = epoch + 1
            if done == 1:
                self.first_epoch_s = elapsed
            report({
                "type": "epoch", "epoch": done, "epochs": epochs, "logs": logs,
                "elapsed_s": elapsed,
                "eta_s": eta_seconds(elapsed, self.first_epoch_s, done, epochs),
            })

    return ProgressCallback()


def terminate_on_nan():
    """Keras' ``TerminateOnNaN``, dispatched off the training loop like our other callbacks.

    Its batch-end hook would otherwise make Keras fetch every batch's loss before the next step
    (see ``on_train_batch_begin`` above); checked a step late, it still stops within the epoch.
    """
    from dl_core.backend import keras

    callback = keras().callbacks.TerminateOnNaN()
    callback.async_safe = True
    return callback


def check_finite_loss(history: Mapping[str, Sequence[float]],
                      learning_rate: float | Mapping[str, float], *,
                      losses: Sequence[str] = ("loss",), optimizer_advice: bool = True) -> None:
    """Fail a fit whose loss became NaN or infinite (``TerminateOnNaN`` stopped it there; a
    generator network's fit stops at the end of that epoch).

    Args:
        history: Per-epoch values by name.
        learning_rate: The learning rate, or a generator's rates by option name
            (``{"generator_lr": ..., "critic_lr": ...}``).
        losses: The names in ``history`` to check (a GAN has a generator and a critic loss).
        optimizer_advice: Also suggest Adam (where the user chose the optimizer).

    Raises:
        TrainingError: naming the loss and the epoch, with advice to lower the learning rate.
    """
    found = [(i, k, name) for k, name in enumerate(losses)
             for i, v in enumerate(history.get(name, ())) if not math.isfinite(v)]
    if not found:
        return
    bad, _, name = min(found)  # the first epoch; in it, the first loss named (the total)
    values = history[name]
    before = f" (it was {values[bad - 1]:.4g} after epoch {bad})" if bad else ""
    rates = learning_rate if isinstance(learning_rate, Mapping) else {"": learning_rate}
    if not rates:
        lower = "Lower the learning rate"
    elif len(rates) == 1:
        rate = next(iter(rates.values()))
        lower = f"Lower the learning rate (it was {rate:g}; try {rate / 10:g})"
    else:
        lower = (f"Lower the learning rates (they were "
                 + ", ".join(f"{k} = {v:g}" for k, v in rates.items()) + "; try "
                 + ", ".join(f"{k} = {v / 10:g}" for k, v in rates.items()) + ")")
    raise TrainingError(
        f"The {'training' if name == 'loss' else name} loss became {values[bad]} in epoch "
        f"{bad + 1}{before}, so training was stopped: the weights diverged. {lower}"
        + (", or use the Adam optimizer," if optimizer_advice else "") + " and train again."
    )
