"""The table codec: mixed columns <-> the vectors a tabular VAE or GAN learns from.

:class:`TableCodec` follows scikit-learn's ``fit`` / ``transform`` / ``inverse_transform``
contract and encodes each column of a :class:`~dl_core.generation.schema.TableSchema` the way
CTGAN and TVAE do (Xu et al., 2019):

- **continuous** (numbers and datetimes): *mode-specific normalisation*. A Bayesian Gaussian
  mixture (Dirichlet-process prior, up to ``n_modes`` components, those with weight above
  ``weight_threshold`` kept) is fit per column. A value ``x`` is given a mode ``k`` (sampled from
  the posterior by default, as CTGAN does, or the most probable one) and encoded as the scalar
  ``alpha = (x - mu_k) / (4 sigma_k)`` followed by the one-hot of ``k``. A column with missing
  values also gets a two-way one-hot ``[present, missing]``; a missing value is encoded as
  ``alpha = 0`` in the heaviest mode.
- **discrete** (categories, booleans, two-valued numbers, constants): a one-hot over the
  categories, missing being one of them.
- identifier, free-text and empty columns are not encoded; they are regenerated on decoding (see
  :mod:`dl_core.generation.schema`).

Decoding takes the argmax of every one-hot group (so logits, probabilities or Gumbel-softmax
samples all work), ``x = 4 sigma_k alpha + mu_k``, then the schema clips to the training range,
rounds integers and decimals, and restores dtypes, formats and categories. Encoding is exact:
``inverse_transform(transform(df))`` gives ``df`` back (numbers to float precision). ``alpha``
is not clipped, so the rare value beyond four standard deviations of every mode keeps its exact
encoding; a network with a ``tanh`` head simply cannot produce it.

The network-facing layout:

- :attr:`TableCodec.spans` lists the output vector's slices in order: one ``value`` span of width
  1 (``tanh``) per continuous column and ``softmax`` spans for modes, categories and missing
  indicators. Output heads and a Gumbel-softmax read it.
- :attr:`TableCodec.cond_spans` lists the discrete columns with two or more categories: their
  slice in the conditional vector, their slice in the output vector and their training counts,
  which :class:`ConditionalSampler` turns into CTGAN's training-by-sampling.

The fitted codec is plain data: :meth:`TableCodec.save` writes JSON (never pickle).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from dl_core.errors import ConfigError, DataError
from dl_core.generation.schema import CONTINUOUS, DISCRETE, FittedOnTable, TableSchema

_FORMAT = "dl_explorer.table_codec"
_VERSION = 1


@dataclass(frozen=True)
class Span:
    """A slice of the encoded vector.

    Attributes:
        column: The table column it encodes.
        part: ``"value"`` (the within-mode scalar alpha), ``"modes"``, ``"categories"`` or
            ``"missing"`` (``[present, missing]``).
        start: First index in the encoded vector.
        stop: One past the last index.
        activation: ``"tanh"`` for ``value`` spans, ``"softmax"`` for the one-hot groups.
    """

    column: Any
    part: str
    start: int
    stop: int
    activation: str

    @property
    def size(self) -> int:
        """Width of the span."""
        return self.stop - self.start


@dataclass(frozen=True)
class CondSpan:
    """A discrete column in the conditional vector.

    Attributes:
        column: The table column.
        start: First index in the conditional vector.
        stop: One past the last index in the conditional vector.
        output_start: First index of the column's one-hot in the encoded vector.
        output_stop: One past its last index in the encoded vector.
        categories: The category values (``None`` for missing), in one-hot order.
        counts: Training count of each category.
    """

    column: Any
    start: int
    stop: int
    output_start: int
    output_stop: int
    categories: tuple
    counts: tuple[int, ...]

    @property
    def size(self) -> int:
        """Number of categories."""
        return self.stop - self.start


@dataclass
class _Modes:
    means: list[float]
    stds: list[float]
    weights: list[float]


class TableCodec(FittedOnTable):
    """Encodes mixed tables for tabular generators and decodes their outputs.

    Args:
        n_modes: Most mixture components per continuous column (CTGAN: 10).
        weight_threshold: Components with a smaller weight are dropped (CTGAN: 0.005).
        mode_selection: ``"sample"`` draws each value's mode from the posterior (CTGAN, TVAE);
            ``"argmax"`` takes the most probable mode (deterministic).
        max_fit_rows: At most this many values (an evenly spread subset) fit each mixture.
        kinds: Column kind overrides passed to :class:`~dl_core.generation.schema.TableSchema`.
        random_state: Seeds the mixtures and the mode sampling of :meth:`transform`.

    Attributes:
        schema_: The fitted :class:`~dl_core.generation.schema.TableSchema`.
        spans: Layout of the encoded vector (see the module docstring).
        cond_spans: Layout of the conditional vector.
        output_dim: Width of the encoded vector.
        cond_dim: Width of the conditional vector.
    """

    what = "codec"

    def __init__(
        self,
        n_modes: int = 10,
        weight_threshold: float = 0.005,
        mode_selection: str = "sample",
        max_fit_rows: int = 10_000,
        kinds: Mapping[str, str] | None = None,
        random_state: int = 0,
    ) -> None:
        if n_modes < 1:
            raise ConfigError(f"n_modes must be at least 1, got {n_modes}.")
        if not 0 <= weight_threshold < 1:
            raise ConfigError(f"weight_threshold must be in [0, 1), got {weight_threshold}.")
        if mode_selection not in ("sample", "argmax"):
            raise ConfigError(
                f"mode_selection must be 'sample' or 'argmax', got '{mode_selection}'."
            )
        self.n_modes = n_modes
        self.weight_threshold = weight_threshold
        self.mode_selection = mode_selection
        self.max_fit_rows = max_fit_rows
        self.kinds = dict(kinds) if kinds else None
        self.random_state = random_state
        self.schema_: TableSchema | None = None
        self.modes_: dict[int, _Modes] = {}

    # --- scikit-learn contract -------------------------------------------------------------------

    def fit(self, df: pd.DataFrame, y=None) -> TableCodec:
        """Learns the schema and one mixture per continuous column from the training rows.

        Args:
            df: The real training rows.
            y: Ignored (scikit-learn convention).

        Returns:
            ``self``.

        Raises:
            DataError: If the table has no rows, or no column a generator can learn.
        """
        self.schema_ = TableSchema(kinds=self.kinds).fit(df)
        if not self.schema_.modelled:
            raise DataError(
                "No column can be learnt: every column is an identifier, free text or empty."
            )
        numbers = self.schema_.to_numbers(df)
        self.modes_ = {}
        for j, spec in enumerate(self.schema_.modelled):
            if spec.role == CONTINUOUS:
                self.modes_[j] = self._fit_modes(numbers[:, j])
        return self

    def transform(self, df: pd.DataFrame, dtype=np.float32) -> np.ndarray:
        """Encodes rows.

        Args:
            df: Rows with the training columns.
            dtype: Float type of the result; ``float32`` for networks, ``float64`` when the
                decoded values must match to the last digits.

        Returns:
            Array of shape ``(len(df), output_dim)``. Unknown categories encode as an all-zero
            one-hot.

        Raises:
            DataError: If a training column is missing.
        """
        self._check_fitted()
        numbers = self.schema_.to_numbers(df)
        rng = np.random.default_rng(self.random_state)
        out = np.zeros((len(df), self.output_dim), dtype=dtype)
        rows = np.arange(len(df))
        for span_group, (j, spec) in zip(self._groups(), enumerate(self.schema_.modelled)):
            x = numbers[:, j]
            if spec.role == CONTINUOUS:
                value, modes, missing = span_group
                alpha, mode = self._encode_continuous(x, self.modes_[j], rng)
                out[:, value.start] = alpha
                out[rows, modes.start + mode] = 1.0
                if missing is not None:
                    out[rows, missing.start + np.isnan(x).astype(int)] = 1.0
            else:
                (categories,) = span_group
                known = x >= 0
                out[rows[known], categories.start + x[known].astype(int)] = 1.0
        return out

    def inverse_transform(self, encoded: np.ndarray, seed: int | None = None,
                          value_maps: Mapping[int, tuple] | None = None) -> pd.DataFrame:
        """Decodes encoded vectors (or a network's raw outputs) to rows.

        Args:
            encoded: Array of shape ``(n, output_dim)``. Every one-hot group is read by argmax,
                so logits, probabilities and Gumbel-softmax samples all decode.
            seed: Seeds the regenerated identifier columns.
            value_maps: Optional monotone maps of continuous values before the schema decodes
                them: ``{modelled column index: (from_points, to_points)}``, applied by linear
                interpolation (a network's marginal calibration).

        Returns:
            A DataFrame with the training columns, dtypes, categories and value ranges.

        Raises:
            DataError: If ``encoded`` does not have ``output_dim`` columns.
        """
        numbers = self.numbers(encoded)
        for j, (xp, fp) in (value_maps or {}).items():
            present = ~np.isnan(numbers[:, int(j)])
            numbers[present, int(j)] = np.interp(numbers[present, int(j)], xp, fp)
        return self.schema_.from_numbers(numbers, seed=seed)

    def numbers(self, encoded: np.ndarray) -> np.ndarray:
        """Decoded values before the schema's rounding and dtypes: ``(n, modelled columns)``
        (category codes for discrete columns, NaN for missing values)."""
        self._check_fitted()
        encoded = np.asarray(encoded, dtype=float)
        if encoded.ndim != 2 or encoded.shape[1] != self.output_dim:
            raise DataError(
                f"Expected encoded rows of width {self.output_dim}, got shape {encoded.shape}."
            )
        numbers = np.empty((encoded.shape[0], len(self.schema_.modelled)))
        for span_group, (j, spec) in zip(self._groups(), enumerate(self.schema_.modelled)):
            if spec.role == CONTINUOUS:
                value, modes, missing = span_group
                mode = _argmax(encoded, modes)
                means = np.asarray(self.modes_[j].means)
                stds = np.asarray(self.modes_[j].stds)
                x = 4.0 * stds[mode] * encoded[:, value.start] + means[mode]
                if missing is not None:
                    x[_argmax(encoded, missing) == 1] = np.nan
                numbers[:, j] = x
            else:
                (categories,) = span_group
                numbers[:, j] = _argmax(encoded, categories)
        return numbers

    def fit_transform(self, df: pd.DataFrame, y=None) -> np.ndarray:
        """:meth:`fit`, then :meth:`transform` the same rows."""
        return self.fit(df).transform(df)

    # --- layout ----------------------------------------------------------------------------------

    @property
    def spans(self) -> list[Span]:
        """Slices of the encoded vector, in order (see the module docstring)."""
        return [span for group in self._groups() for span in group if span is not None]

    @property
    def output_dim(self) -> int:
        """Width of the encoded vector."""
        spans = self.spans
        return spans[-1].stop if spans else 0

    @property
    def cond_spans(self) -> list[CondSpan]:
        """Discrete columns with two or more categories, as slices of the conditional vector."""
        self._check_fitted()
        out, start = [], 0
        for (group, spec) in zip(self._groups(), self.schema_.modelled):
            if spec.role == DISCRETE and spec.n_categories >= 2:
                (span,) = group
                out.append(
                    CondSpan(
                        column=spec.name,
                        start=start,
                        stop=start + span.size,
                        output_start=span.start,
                        output_stop=span.stop,
                        categories=tuple(spec.categories),
                        counts=tuple(spec.counts),
                    )
                )
                start += span.size
        return out

    @property
    def cond_dim(self) -> int:
        """Width of the conditional vector (0 when no column is discrete)."""
        spans = self.cond_spans
        return spans[-1].stop if spans else 0

    def condition_vector(self, column, value, n: int) -> np.ndarray:
        """``n`` copies of the conditional vector that asks for ``column == value``.

        Args:
            column: A column of :attr:`cond_spans`.
            value: One of its categories (``None`` asks for missing values).
            n: Number of rows.

        Returns:
            Float32 array of shape ``(n, cond_dim)``.

        Raises:
            DataError: If the column cannot be conditioned on or the value is not a category.
        """
        span = self.cond_span(column)
        index = self.schema_.category_index(column, value)
        out = np.zeros((n, self.cond_dim), dtype=np.float32)
        out[:, span.start + index] = 1.0
        return out

    def cond_span(self, column) -> CondSpan:
        """The :class:`CondSpan` of ``column``.

        Raises:
            DataError: If ``column`` is not a discrete column with two or more categories.
        """
        spans = self.cond_spans
        for span in spans:
            if span.column == column:
                return span
        names = ", ".join(str(s.column) for s in spans) or "none"
        raise DataError(
            f"Cannot condition on '{column}': only categorical columns with two or more values "
            f"can be conditions. Possible: {names}."
        )

    # --- persistence -----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """A JSON-serialisable form of the fitted codec (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "params": {
                "n_modes": self.n_modes,
                "weight_threshold": self.weight_threshold,
                "mode_selection": self.mode_selection,
                "max_fit_rows": self.max_fit_rows,
                "kinds": self.kinds,
                "random_state": self.random_state,
            },
            "schema": self.schema_.to_dict(),
            "modes": {str(j): asdict(m) for j, m in self.modes_.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> TableCodec:
        """Rebuilds a fitted codec from :meth:`to_dict`'s output.

        Raises:
            DataError: If ``d`` is not a saved table codec.
        """
        if d.get("format") != _FORMAT:
            raise DataError("This file is not a saved table codec.")
        codec = cls(**d["params"])
        codec.schema_ = TableSchema.from_dict(d["schema"])
        codec.modes_ = {int(j): _Modes(**m) for j, m in d["modes"].items()}
        return codec

    # --- internals -------------------------------------------------------------------------------

    def _groups(self) -> list[tuple]:
        """Per modelled column, its spans: (value, modes, missing|None) or (categories,)."""
        self._check_fitted()
        groups, start = [], 0
        for j, spec in enumerate(self.schema_.modelled):
            if spec.role == CONTINUOUS:
                n_modes = len(self.modes_[j].means)
                value = Span(spec.name, "value", start, start + 1, "tanh")
                modes = Span(spec.name, "modes", start + 1, start + 1 + n_modes, "softmax")
                start = modes.stop
                missing = None
                if spec.missing_rate > 0:
                    missing = Span(spec.name, "missing", start, start + 2, "softmax")
                    start += 2
                groups.append((value, modes, missing))
            else:
                span = Span(spec.name, "categories", start, start + spec.n_categories, "softmax")
                start = span.stop
                groups.append((span,))
        return groups

    def _fit_modes(self, x: np.ndarray) -> _Modes:
        from sklearn.mixture import BayesianGaussianMixture

        present = x[~np.isnan(x)]
        if present.size > self.max_fit_rows:
            present = np.sort(present)[
                np.linspace(0, present.size - 1, self.max_fit_rows).astype(int)
            ]
        # Standardised so the mixture's covariance floor means the same on every scale.
        center, scale = float(np.mean(present)), float(np.std(present))
        scale = scale if scale > 0 else 1.0
        z = ((present - center) / scale).reshape(-1, 1)
        n_components = int(min(self.n_modes, np.unique(z).size))
        if n_components < 2:
            return _Modes(means=[center], stds=[scale if np.std(present) > 0 else 1.0],
                          weights=[1.0])
        mixture = BayesianGaussianMixture(
            n_components=n_components,
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=0.001,
            max_iter=100,
            n_init=1,
            init_params="k-means++",  # seeding only: full k-means dominated the fit time
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: 100 iterations are plenty here
            mixture.fit(z)
        keep = mixture.weights_ > self.weight_threshold
        if not keep.any():
            keep = mixture.weights_ == mixture.weights_.max()
        means = mixture.means_.ravel()[keep] * scale + center
        stds = np.sqrt(mixture.covariances_.ravel()[keep]) * scale
        weights = mixture.weights_[keep] / mixture.weights_[keep].sum()
        order = np.argsort(means)
        return _Modes(
            means=[float(v) for v in means[order]],
            stds=[float(v) for v in stds[order]],
            weights=[float(v) for v in weights[order]],
        )

    def _encode_continuous(
        self, x: np.ndarray, modes: _Modes, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        means, stds = np.asarray(modes.means), np.asarray(modes.stds)
        weights = np.asarray(modes.weights)
        missing = np.isnan(x)
        filled = np.where(missing, 0.0, x)[:, None]
        log_post = np.log(weights) - np.log(stds) - 0.5 * ((filled - means) / stds) ** 2
        if self.mode_selection == "argmax" or len(means) == 1:
            mode = np.argmax(log_post, axis=1)
        else:
            post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
            cdf = np.cumsum(post / post.sum(axis=1, keepdims=True), axis=1)
            mode = np.minimum((cdf < rng.random((len(x), 1))).sum(axis=1), len(means) - 1)
        mode = np.where(missing, int(np.argmax(weights)), mode)
        alpha = np.where(missing, 0.0, (filled[:, 0] - means[mode]) / (4.0 * stds[mode]))
        return alpha, mode


class ConditionalSampler:
    """CTGAN's training-by-sampling over a codec's discrete columns.

    Per row of a batch, a discrete column is chosen uniformly and one of its categories with
    probability proportional to ``log(1 + count)``, so rare categories are seen far more often
    than their frequency; the conditional vector has only that category set. The generator is
    fed that vector, the critic sees real rows that have the category (:meth:`sample_rows`), and
    the generator is penalised by the cross-entropy between its output for the column and the
    category. At sampling time :meth:`sample_original` draws conditions with the training
    frequencies instead.

    Args:
        codec: A fitted :class:`TableCodec`.
        encoded: The codec's encoding of the training rows, ``codec.transform(train)``.

    Raises:
        DataError: If ``encoded`` does not match the codec's width.
    """

    def __init__(self, codec: TableCodec, encoded: np.ndarray) -> None:
        if encoded.shape[1] != codec.output_dim:
            raise DataError(
                f"Encoded rows have width {encoded.shape[1]}, the codec {codec.output_dim}."
            )
        self.spans = codec.cond_spans
        self.cond_dim = codec.cond_dim
        self._log_probs = []
        self._probs = []
        self._rows: list[list[np.ndarray]] = []
        for span in self.spans:
            counts = np.asarray(span.counts, dtype=float)
            log_freq = np.log1p(counts)
            self._log_probs.append(log_freq / log_freq.sum())
            self._probs.append(counts / counts.sum())
            codes = np.argmax(encoded[:, span.output_start : span.output_stop], axis=1)
            self._rows.append([np.flatnonzero(codes == k) for k in range(span.size)])

    @property
    def n_columns(self) -> int:
        """Number of discrete columns that can be conditions."""
        return len(self.spans)

    def sample_train(
        self, batch_size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Conditions for one training batch (log-frequency category choice).

        Args:
            batch_size: Number of rows.
            rng: Random generator.

        Returns:
            ``(cond, mask, column, category)``: the conditional vectors ``(batch, cond_dim)``;
            a ``(batch, n_columns)`` one-hot of the chosen column (the cross-entropy mask); and
            the chosen column and category indices, ``(batch,)`` each.

        Raises:
            DataError: If there is no discrete column to condition on.
        """
        return self._sample(batch_size, rng, self._log_probs)

    def sample_original(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Conditional vectors, categories drawn by training frequency: ``(n, cond_dim)``."""
        return self._sample(n, rng, self._probs)[0]

    def sample_rows(
        self, column: np.ndarray, category: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """One training row index per ``(column, category)`` pair, among rows that have it."""
        out = np.empty(len(column), dtype=int)
        for i, (c, k) in enumerate(zip(column, category)):
            rows = self._rows[c][k]
            out[i] = rows[rng.integers(len(rows))]
        return out

    def _sample(self, n: int, rng: np.random.Generator, probs: list[np.ndarray]):
        if not self.spans:
            raise DataError("The table has no categorical column to condition on.")
        column = rng.integers(self.n_columns, size=n)
        category = np.empty(n, dtype=int)
        for c in range(self.n_columns):
            rows = np.flatnonzero(column == c)
            category[rows] = rng.choice(len(probs[c]), size=rows.size, p=probs[c])
        starts = np.asarray([s.start for s in self.spans])
        cond = np.zeros((n, self.cond_dim), dtype=np.float32)
        cond[np.arange(n), starts[column] + category] = 1.0
        mask = np.zeros((n, self.n_columns), dtype=np.float32)
        mask[np.arange(n), column] = 1.0
        return cond, mask, column, category


def _argmax(encoded: np.ndarray, span: Span) -> np.ndarray:
    return np.argmax(encoded[:, span.start : span.stop], axis=1)
