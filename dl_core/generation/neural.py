"""What the network synthesizers (``tvae``, ``ctgan``) share around their Keras models.

:class:`NeuralSynthesizer` is a :class:`~dl_core.generation.synthesizer.Synthesizer` that holds a
fitted :class:`~dl_core.generation.codec.TableCodec` and named functional Keras networks; a
subclass builds the networks and the thin ``keras.Model`` that trains them (its ``train_step``),
and turns a network's raw outputs into encoded rows. This base does the rest:

- **fit**: seeds (``keras.utils.set_random_seed``), fits the codec on the training rows, checks
  the condition columns, caps the batch at a tenth of the rows (:func:`effective_batch`), takes
  at least ``MIN_STEPS_PER_EPOCH`` steps an epoch (the dataset repeats; ctgan: 16), runs
  ``keras.Model.fit`` with a callback that reports every epoch
  (``on_epoch``) and honours ``stop`` after the current batch.
- **conditions**: both networks are conditioned on one categorical column per row (CTGAN's
  conditional vector: a one-hot over the codec's :attr:`~TableCodec.cond_spans` with only the
  chosen category set). Unconditional sampling draws the column uniformly and the category by
  its training frequency; ``sample(n, condition={"churn": "Yes"})`` sets that category in every
  row's vector. The conditioned column is then *set* to the asked category in the output (the
  network was told it; its own guess for that column is redundant), so a condition on one
  column always holds. Conditions on further columns are met by rejection: up to
  ``_MAX_REJECTION_ROUNDS`` rounds of draws, then a :class:`DataError` that says how rare the
  combination is.
- **calibration** (after the fit, from fresh draws; no training row is kept): a logit offset
  per category and conditioning column that gives every category its training share
  (:meth:`NeuralSynthesizer._calibrate`; drawn from the prior, a decoder under-draws rare
  categories), and a monotone map per continuous column from the network's quantiles to the
  training quantiles (:meth:`NeuralSynthesizer._calibrate_values`).
- **save / load**: ``codec.json``, one ``.keras`` file per network and a ``state.json`` of the
  config and the few fitted numbers that are not network weights (never pickle).

The training models use TensorFlow's ``GradientTape`` in ``train_step`` (DESIGN decision 7: the
backend is TensorFlow); everything else goes through ``keras.ops``.
"""

from __future__ import annotations

import abc
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dl_core.backend import keras as _keras
from dl_core.errors import DataError
from dl_core.generation.codec import TableCodec
from dl_core.generation.schema import CONTINUOUS, condition_kinds
from dl_core.generation.synthesizer import Synthesizer

_MAX_REJECTION_ROUNDS = 20
#: Draws, rounds and largest |offset| of the category calibration (NeuralSynthesizer._calibrate).
_CALIBRATION_ROWS = 4096
_CALIBRATION_ROUNDS = 20
_MAX_BIAS = 5.0
#: Quantiles per continuous column of the value calibration (NeuralSynthesizer._calibrate_values).
_VALUE_QUANTILES = 101
_SAMPLE_CHUNK = 10_000
CODEC_FILE = "codec.json"
STATE_FILE = "state.json"


class NeuralSynthesizer(Synthesizer):
    """Base of the network synthesizers (see the module docstring).

    Subclasses set :attr:`NETWORKS` (the names of their functional models, also their file
    names), :attr:`LOSSES` (the loss names reported per epoch) and implement
    :meth:`training_model` (which builds ``self.networks``) and :meth:`_outputs`.
    """

    NETWORKS: ClassVar[tuple[str, ...]] = ()
    LOSSES: ClassVar[tuple[str, ...]] = ()
    #: The smallest batch :func:`effective_batch` cuts to.
    MIN_BATCH: ClassVar[int] = 32
    #: Steps an epoch takes at least (0: an epoch is one pass over the rows). The dataset then
    #: repeats, so a small table is not fitted in a few hundred steps.
    MIN_STEPS_PER_EPOCH: ClassVar[int] = 0
    config_cls: ClassVar[type]

    def __init__(self, cfg=None) -> None:
        self.cfg = cfg if cfg is not None else self.config_cls()
        self.codec: TableCodec | None = None
        self.networks: dict[str, Any] = {}
        #: Fitted numbers besides the weights (JSON-serialisable), e.g. TVAE's learnt scales.
        self.state: dict[str, Any] = {}

    # --- subclass hooks --------------------------------------------------------------------------

    @abc.abstractmethod
    def training_model(self, encoded: np.ndarray, batch_size: int, seed: int):
        """The compiled ``keras.Model`` whose ``train_step`` fits ``self.networks``, and the
        dataset it fits on: ``(model, dataset)``."""

    def codec_options(self) -> dict[str, Any]:
        """Keyword arguments of the :class:`TableCodec` the fit builds (default: CTGAN's)."""
        return {}

    @abc.abstractmethod
    def _logits(self, cond: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The network's raw outputs (``(n, output_dim)``) for ``cond``, from fresh noise."""

    @abc.abstractmethod
    def _outputs(self, cond: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Encoded rows (``(n, output_dim)``, one-hot groups may be scores) for ``cond``,
        from :meth:`calibrated_logits`."""

    # --- Synthesizer -----------------------------------------------------------------------------

    def fit(self, df: pd.DataFrame, *, condition_columns: Sequence[str] = (), epochs: int,
            batch_size: int, seed: int,
            on_epoch: Callable[[int, dict[str, float]], None] | None = None,
            stop: threading.Event | None = None) -> dict[str, list[float]]:
        keras = _keras()
        keras.utils.set_random_seed(seed)
        if len(df) < 2:
            raise DataError(f"A generator needs at least 2 training rows; got {len(df)}.")
        codec = TableCodec(random_state=seed, kinds=condition_kinds(df, condition_columns),
                           **self.codec_options()).fit(df)
        for column in condition_columns:
            codec.cond_span(column)  # a DataError naming the columns that can be conditions
        encoded = codec.transform(df)
        self.codec = codec
        self.state = {"condition_columns": list(condition_columns)}
        batch, steps = self.fit_plan(len(df), batch_size)
        model, dataset = self.training_model(encoded, batch, seed)
        history: dict[str, list[float]] = {name: [] for name in self.LOSSES}
        callback = epoch_callback(self.LOSSES, history, on_epoch, stop)
        extra = {}
        if self.MIN_STEPS_PER_EPOCH:
            extra["steps_per_epoch"] = steps
            dataset = dataset.repeat()
        if stop is None or not stop.is_set():
            model.fit(dataset, epochs=epochs, verbose=0, callbacks=[callback], shuffle=False,
                      **extra)
        check_finite_losses(history, self.LOSSES, self.cfg)
        rng = np.random.default_rng(seed)
        self.state["category_bias"] = self._calibrate(encoded, rng)
        self.state["value_maps"] = self._calibrate_values(df, rng)
        return history

    @property
    def condition_columns(self) -> tuple[str, ...]:
        return tuple(self.state.get("condition_columns", ()))

    def fit_plan(self, n_rows: int, batch_size: int) -> tuple[int, int]:
        """The batch and the steps an epoch :meth:`fit` takes on ``n_rows`` training rows
        (:func:`epoch_plan`; what the Model and Train pages tell the user)."""
        return epoch_plan(n_rows, batch_size, self.MIN_BATCH, self.MIN_STEPS_PER_EPOCH)

    def sample(self, n: int, *, seed: int | None = None,
               condition: Mapping[str, Any] | None = None) -> pd.DataFrame:
        self._check_fitted()
        if n < 1:
            raise DataError(f"The number of rows to generate must be at least 1; got {n}.")
        rng = np.random.default_rng(seed)
        condition = dict(condition or {})
        first = next(iter(condition.items()), None)
        rest = dict(list(condition.items())[1:])
        if first is not None:
            self.codec.condition_vector(first[0], first[1], 1)  # unknown column/value: DataError
        for column, value in rest.items():
            self.codec.condition_vector(column, value, 1)
        parts, have = [], 0
        rounds = _MAX_REJECTION_ROUNDS if rest else 1
        for _ in range(rounds):
            want = n - have if not rest else max(2 * (n - have), 1000)
            rows = self._draw(want, rng, first, seed)
            if rest:
                keep = np.ones(len(rows), dtype=bool)
                for column, value in rest.items():
                    keep &= _matches(rows[column], value)
                rows = rows[keep]
            parts.append(rows)
            have += len(rows)
            if have >= n:
                break
        if have < n:
            asked = ", ".join(f"{k} = {v}" for k, v in condition.items())
            raise DataError(
                f"Only {have} of {n} rows with {asked} came out of {rounds} rounds of draws: "
                f"the model rarely generates this combination. Condition on fewer columns or "
                f"ask for fewer rows."
            )
        return pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)

    def save(self, folder: Path) -> None:
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.codec.save(folder / CODEC_FILE)
        save_networks(self, folder)

    @classmethod
    def load(cls, folder: Path) -> NeuralSynthesizer:
        synth = load_networks(cls, Path(folder))
        synth.codec = TableCodec.load(Path(folder) / CODEC_FILE)
        return synth

    # --- helpers for subclasses ------------------------------------------------------------------

    def calibrated_logits(self, cond: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """:meth:`_logits` plus the fitted per-category offsets (:meth:`_calibrate`) of the
        column each row is conditioned on."""
        logits = self._logits(cond, rng)
        bias = self.state.get("category_bias")
        if not bias:  # mid-fit previews, and models saved before calibration
            return logits
        return logits + np.asarray(bias, dtype=np.float32)[_cond_column(self.codec, cond)]

    def _calibrate_values(self, df: pd.DataFrame, rng: np.random.Generator,
                          n: int = _CALIBRATION_ROWS) -> dict[str, list[list[float]]]:
        """Per continuous column, the monotone map from the network's quantiles of its values
        to the training quantiles (``_VALUE_QUANTILES`` of each), applied when rows are
        decoded: the marginal the network draws becomes the training one, while the ranks,
        and so the dependence between columns, stay the network's.

        A tanh head and the sampling noise blur a VAE's marginals (breast cancer, 30 numbers:
        column shapes 0.90 against 0.94 for held-out real rows). The map holds quantiles of
        the training values, as the copula does, never a row.
        """
        codec = self.codec
        cond = original_conditions(codec, n, rng, self.unconditional_columns())
        generated = codec.numbers(force_conditions(self._outputs(cond, rng), cond, codec))
        real = codec.schema_.to_numbers(df)
        grid = np.linspace(0.0, 1.0, _VALUE_QUANTILES)
        maps = {}
        for j, spec in enumerate(codec.schema_.modelled):
            if spec.role != CONTINUOUS:
                continue
            g, r = generated[:, j], real[:, j]
            g, r = g[~np.isnan(g)], r[~np.isnan(r)]
            if len(g) < 2 or len(r) < 2:
                continue
            xp = np.maximum.accumulate(np.quantile(g, grid))
            # Strictly increasing, so np.interp reads every point (ties at a clipped bound).
            xp = xp + np.arange(len(xp)) * 1e-9 * max(float(np.ptp(xp)), 1.0)
            maps[str(j)] = [xp.tolist(), np.quantile(r, grid).tolist()]
        return maps

    def _calibrate(self, encoded: np.ndarray, rng: np.random.Generator,
                   n: int = _CALIBRATION_ROWS) -> list[list[float]]:
        """Per conditioning column, an offset to every one-hot group's logits that makes the
        network's mean probability of each category its training share.

        Drawn from ``z ~ N(0, I)``, a VAE's decoder (and a short-trained GAN) gives rare
        categories less than their share: the prior is not the latent distribution the decoder
        was trained on. The offsets are fitted, as a prior-shift correction (Saerens et al., 2002), on
        ``n`` fresh draws conditioned on each categorical column in turn with its categories
        at training frequency, so every other column's share should be its training share.
        They hold only per-category training shares, no row.
        """
        codec = self.codec
        target = encoded.mean(axis=0)
        groups = range(len(codec.cond_spans)) if codec.cond_spans else [None]
        biases = []
        for c in groups:
            cond = original_conditions(codec, n, rng, None if c is None
                                       else [codec.cond_spans[c].column])
            logits = self._logits(cond, rng).astype(np.float64)
            bias = np.zeros(codec.output_dim)
            for span in codec.spans:
                if span.activation == "tanh":
                    continue
                part, want = logits[:, span.start : span.stop], target[span.start : span.stop]
                b = np.zeros(span.size)
                for _ in range(_CALIBRATION_ROUNDS):
                    have = softmax(part + b).mean(axis=0)
                    b = np.clip(b + np.log(want + 1e-6) - np.log(have + 1e-6), -_MAX_BIAS, _MAX_BIAS)
                bias[span.start : span.stop] = b
            biases.append([round(float(v), 6) for v in bias])
        return biases

    def unconditional_columns(self) -> Sequence[Any] | None:
        """The columns an unconditional draw picks its conditional vector's column among
        (``None``: every categorical column, CTGAN's way)."""
        return None

    def _check_fitted(self) -> None:
        if self.codec is None or not self.networks:
            raise DataError(f"The {type(self).__name__} is not fitted yet; fit it on a table first.")

    def _draw(self, n: int, rng: np.random.Generator, first, seed) -> pd.DataFrame:
        """``n`` decoded rows, conditioned on ``first = (column, value)`` when given."""
        codec = self.codec
        out = []
        for start in range(0, n, _SAMPLE_CHUNK):
            m = min(_SAMPLE_CHUNK, n - start)
            if first is not None:
                cond = codec.condition_vector(first[0], first[1], m)
            else:
                cond = original_conditions(codec, m, rng, self.unconditional_columns())
            encoded = self._outputs(cond, rng)
            out.append(force_conditions(encoded, cond, codec))
        decode_seed = None if seed is None else int(rng.integers(2**31))
        maps = {int(j): (np.asarray(xp), np.asarray(fp))
                for j, (xp, fp) in self.state.get("value_maps", {}).items()}
        return self.codec.inverse_transform(np.concatenate(out), seed=decode_seed,
                                            value_maps=maps)


def effective_batch(n_rows: int, batch_size: int, floor: int = 32) -> int:
    """The batch a fit uses: ``batch_size``, cut to a tenth of the rows (at least ``floor``).

    Small tables need steps more than big batches: at SDV's batch of 500 a 1,000-row table
    gets 2 steps an epoch and 600 in 300 epochs, too few to learn its column pairs (churn
    sample: TVAE quality 0.87 at batch 500, 0.93 at 100, same epochs, bench/synth_quality.py).
    """
    return max(1, min(batch_size, n_rows, max(floor, n_rows // 10)))


def epoch_plan(n_rows: int, batch_size: int, floor: int, min_steps: int,
               per_call: int = 1) -> tuple[int, int]:
    """The batch (:func:`effective_batch`) and steps an epoch of a network fit on ``n_rows``.

    With ``min_steps`` the rows repeat and an epoch is at least that many steps (whole batches
    only), rounded up to whole compiled calls of ``per_call`` steps; without, an epoch is one
    pass over the rows, the last batch smaller.
    """
    batch = effective_batch(n_rows, batch_size, floor)
    steps = max(n_rows // batch, min_steps) if min_steps else -(-n_rows // batch)
    return batch, -(-steps // per_call) * per_call


def original_conditions(codec: TableCodec, n: int, rng: np.random.Generator,
                        columns: Sequence[Any] | None = None) -> np.ndarray:
    """Conditional vectors for unconditional sampling: per row a categorical column chosen
    uniformly (among ``columns`` when given and non-empty) and one of its categories by
    training frequency (``(n, cond_dim)``; width 0 when the table has no categorical column)."""
    spans = codec.cond_spans
    cond = np.zeros((n, codec.cond_dim), dtype=np.float32)
    if not spans:
        return cond
    allowed = [c for c, s in enumerate(spans) if s.column in set(columns)] if columns else []
    allowed = np.asarray(allowed or range(len(spans)))
    column = allowed[rng.integers(len(allowed), size=n)]
    for c, span in enumerate(spans):
        rows = np.flatnonzero(column == c)
        counts = np.asarray(span.counts, dtype=float)
        category = rng.choice(span.size, size=rows.size, p=counts / counts.sum())
        cond[rows, span.start + category] = 1.0
    return cond


def _cond_column(codec: TableCodec, cond: np.ndarray) -> np.ndarray:
    """Per row, the index of the categorical column its conditional vector sets (0 when the
    table has none)."""
    column = np.zeros(len(cond), dtype=int)
    for c, span in enumerate(codec.cond_spans):
        column[cond[:, span.start : span.stop].sum(axis=1) > 0] = c
    return column


def force_conditions(encoded: np.ndarray, cond: np.ndarray, codec: TableCodec) -> np.ndarray:
    """``encoded`` with each row's conditioned column set to the category its vector asks for."""
    encoded = np.array(encoded, dtype=np.float32, copy=True)
    for span in codec.cond_spans:
        part = cond[:, span.start : span.stop]
        asked = part.sum(axis=1) > 0
        encoded[asked, span.output_start : span.output_stop] = part[asked]
    return encoded


def sample_categories(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One-hot draws from each row's probability vector (``(n, k)`` -> ``(n, k)``)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((len(probs), 1)) * cdf[:, -1:]
    index = np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1)
    out = np.zeros_like(probs, dtype=np.float32)
    out[np.arange(len(probs)), index] = 1.0
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict(model, inputs, batch: int = 4096) -> np.ndarray:
    """``model(inputs, training=False)`` in chunks, as numpy (no ``predict`` progress bars)."""
    keras = _keras()
    inputs = inputs if isinstance(inputs, list) else [inputs]
    n = len(inputs[0])
    outs = []
    for start in range(0, n, batch):
        chunk = [x[start : start + batch] for x in inputs]
        out = model(chunk if len(chunk) > 1 else chunk[0], training=False)
        outs.append(keras.ops.convert_to_numpy(out))
    return np.concatenate(outs)


def batches(encoded: np.ndarray, batch_size: int, seed: int, drop_remainder: bool):
    """A shuffled ``tf.data`` pipeline of encoded rows, reshuffled every epoch."""
    import tensorflow as tf

    return (
        tf.data.Dataset.from_tensor_slices(encoded)
        .shuffle(len(encoded), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=drop_remainder)
        .prefetch(2)
    )


def epoch_callback(names, history, on_epoch, stop):
    """A Keras callback that appends the named losses to ``history`` after every epoch, calls
    ``on_epoch(epoch_1_based, values)`` (the live curves) and ends the fit once ``stop`` is set
    (after the current batch). Shared by the tabular and image networks."""
    keras = _keras()

    class _Report(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if stop is not None and stop.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            values = {name: float(logs[name]) for name in names if name in logs}
            for name, value in values.items():
                history[name].append(value)
            if on_epoch is not None:
                on_epoch(epoch + 1, values)
            # Diverged: no later epoch mends it (the fit then fails, check_finite_losses).
            if (stop is not None and stop.is_set()) or not all(map(math.isfinite,
                                                                   values.values())):
                self.model.stop_training = True

    return _Report()


def learning_rates(cfg: Any) -> dict[str, float]:
    """A network's learning rates by option name: ``learning_rate``, or a GAN's
    ``generator_lr`` and ``critic_lr``."""
    return {f.name: float(getattr(cfg, f.name)) for f in fields(cfg)
            if f.name == "learning_rate" or f.name.endswith("_lr")}


def check_finite_losses(history: Mapping[str, Sequence[float]], names: Sequence[str],
                        cfg: Any) -> None:
    """Fail a network fit whose loss became NaN or infinite (:func:`epoch_callback` stopped
    it at the end of that epoch), with the supervised trainer's advice
    (:func:`~dl_core.training.callbacks.check_finite_loss`): lower the learning rate(s).

    Raises:
        TrainingError: naming the loss, the epoch and the learning rates to try.
    """
    from dl_core.training.callbacks import check_finite_loss

    check_finite_loss(history, learning_rates(cfg), losses=names, optimizer_advice=False)


def _matches(column: pd.Series, value) -> np.ndarray:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return column.isna().to_numpy()
    return (column.astype(str) == str(value)).to_numpy()


def save_networks(synth: Any, folder: Path) -> None:
    """Write a network synthesizer's ``NETWORKS`` (a ``.keras`` file each) and its config and
    state (``state.json``): the stored form shared by the table and image networks."""
    for name in synth.NETWORKS:
        synth.networks[name].save(folder / f"{name}.keras")
    state = {"config": config_dict(synth.cfg), **synth.state}
    (folder / STATE_FILE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def load_networks(cls: Any, folder: Path) -> Any:
    """A ``cls`` with the config, state and networks :func:`save_networks` wrote (what it
    learnt of its data, codec or image table, is the caller's to read).

    Raises:
        DataError: if the folder holds no saved ``cls``.
    """
    keras = _keras()
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise DataError(f"{folder} holds no saved {cls.__name__} ({STATE_FILE}).") from None
    values = state.pop("config")
    synth = cls(cls.config_cls(**{f.name: as_tuples(values[f.name])
                                  for f in fields(cls.config_cls) if f.name in values}))
    synth.state = state
    synth.networks = {name: keras.saving.load_model(folder / f"{name}.keras", compile=False)
                      for name in cls.NETWORKS}
    return synth


def config_dict(cfg) -> dict:
    """A network's config as JSON-able values (tuples as lists), for its saved ``state.json``."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}


def as_tuples(value):
    """The inverse of :func:`config_dict` for one value (a JSON list back to a tuple)."""
    return tuple(value) if isinstance(value, list) else value
