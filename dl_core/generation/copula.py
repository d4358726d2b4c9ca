"""A Gaussian copula: the fast, non-neural yardstick for the tabular generators.

:class:`GaussianCopula` models every column by its own marginal and the dependence between
columns by one correlation matrix of normal scores:

1. The table goes through the same column layer as the network codec
   (:class:`~dl_core.generation.schema.TableSchema`): numbers for continuous columns, category
   codes for discrete ones.
2. Each column becomes one or two latent standard-normal variables:

   - continuous: the empirical CDF (mid-ranks) mapped through ``Phi^-1``. Missing values get a
     second, two-category variable ``[present, missing]``; their value score is 0 (the median).
   - discrete: categories in frequency order split ``[0, 1]`` into intervals as wide as their
     shares (SDV's frequency encoding); a row's score is ``Phi^-1`` of a uniform draw inside its
     category's interval.
3. The correlation matrix of the scores (projected to the nearest positive-definite one) is the
   copula.

Sampling draws correlated normal scores, maps them back through ``Phi``, the stored marginal
quantiles (linear interpolation, so values fall between training values and inside the training
range) and the category intervals, then decodes with the schema (rounding, dtypes, formats).

Conditioning on ``column == value`` for a discrete column is exact, not by rejection: that
column's score is drawn from the standard normal truncated to the category's interval, and the
other scores from their Gaussian conditional given it. Further conditions are met by rejection.

The fitted copula is plain data (:meth:`GaussianCopula.save` writes JSON). It stores each
continuous column's quantiles at up to ``max_quantiles`` probabilities; on small tables those
are the training values themselves, as any empirical marginal is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dl_core.errors import ConfigError, DataError
from dl_core.generation.schema import CONTINUOUS, DISCRETE, FittedOnTable, TableSchema

_FORMAT = "dl_explorer.gaussian_copula"
_VERSION = 1
_EPS = 1e-9
_MAX_REJECTION_ROUNDS = 50


class GaussianCopula(FittedOnTable):
    """Gaussian copula over empirical marginals, with exact conditioning on a category.

    Args:
        kinds: Column kind overrides passed to :class:`~dl_core.generation.schema.TableSchema`.
        max_quantiles: Most stored quantiles per continuous column.
        random_state: Seeds the within-interval draws of :meth:`fit`.

    Attributes:
        schema_: The fitted schema.
        correlation_: Correlation matrix of the latent normal scores.
    """

    what = "copula"

    def __init__(
        self,
        kinds: Mapping[str, str] | None = None,
        max_quantiles: int = 1000,
        random_state: int = 0,
    ) -> None:
        if max_quantiles < 2:
            raise ConfigError(f"max_quantiles must be at least 2, got {max_quantiles}.")
        self.kinds = dict(kinds) if kinds else None
        self.max_quantiles = max_quantiles
        self.random_state = random_state
        self.schema_: TableSchema | None = None
        self.correlation_: np.ndarray | None = None
        # One entry per latent variable: {"column": j, "part": "value"|"missing"|"categories",
        # "quantiles": [...]} or {..., "edges": [0, ..., 1]} for interval-coded ones.
        self.latents_: list[dict] = []

    def fit(self, df: pd.DataFrame) -> GaussianCopula:
        """Fits marginals and the correlation of normal scores on the training rows.

        Args:
            df: The real training rows.

        Returns:
            ``self``.

        Raises:
            DataError: If the table has no rows or no column that can be modelled.
        """
        schema = TableSchema(kinds=self.kinds).fit(df)
        if not schema.modelled:
            raise DataError(
                "No column can be learnt: every column is an identifier, free text or empty."
            )
        numbers = schema.to_numbers(df)
        rng = np.random.default_rng(self.random_state)
        latents, scores = [], []
        for j, spec in enumerate(schema.modelled):
            x = numbers[:, j]
            if spec.role == CONTINUOUS:
                present = ~np.isnan(x)
                grid = np.linspace(0.0, 1.0, min(self.max_quantiles, int(present.sum())))
                quantiles = np.quantile(x[present], grid) if present.sum() > 1 else x[present]
                latents.append({"column": j, "part": "value", "quantiles": quantiles.tolist()})
                u = np.full(len(x), 0.5)
                u[present] = (stats.rankdata(x[present]) - 0.5) / present.sum()
                scores.append(stats.norm.ppf(u))
                if spec.missing_rate > 0:
                    share = float(np.mean(~present))
                    edges = [0.0, 1.0 - share, 1.0]
                    latents.append({"column": j, "part": "missing", "edges": edges})
                    scores.append(_interval_scores((~present).astype(int), edges, rng))
            else:
                counts = np.asarray(spec.counts, dtype=float)
                edges = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
                edges[-1] = 1.0
                latents.append({"column": j, "part": "categories", "edges": edges.tolist()})
                scores.append(_interval_scores(x.astype(int), edges, rng))
        z = np.column_stack(scores)
        self.schema_ = schema
        self.latents_ = latents
        self.correlation_ = _nearest_correlation(np.atleast_2d(np.corrcoef(z, rowvar=False)))
        return self

    def sample(
        self, n: int, seed: int | None = 0, condition: Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Draws synthetic rows.

        Args:
            n: Number of rows.
            seed: Seeds the draw; the same seed gives the same rows.
            condition: Optional ``{column: value}`` of categorical columns every row must have,
                e.g. ``{"Churn": "Yes"}``; ``None`` as a value asks for missing values. The
                first condition is met exactly, further ones by rejection.

        Returns:
            A DataFrame with the training columns and dtypes.

        Raises:
            ConfigError: If ``n`` is not positive or a condition names a continuous column.
            DataError: If a condition names no column or a value the column never took, or the
                combination is too rare to draw.
        """
        self._check_fitted()
        if n < 1:
            raise ConfigError(f"The number of rows must be at least 1, got {n}.")
        rng = np.random.default_rng(seed)
        condition = dict(condition or {})
        targets = [self._condition_target(column, value) for column, value in condition.items()]
        if not targets:
            z = self._draw(n, rng)
        else:
            first, rest = targets[0], targets[1:]
            chunks, kept = [], 0
            for _ in range(_MAX_REJECTION_ROUNDS):
                z = self._draw_conditional(max(n, 64), rng, *first)
                ok = np.all([self._category_of(z[:, d], d) == k for d, k in rest], axis=0) if rest \
                    else np.ones(len(z), bool)
                chunks.append(z[ok])
                kept += int(ok.sum())
                if kept >= n:
                    break
            if kept < n:
                raise DataError(
                    f"The condition {condition} is too rare in the training rows to draw "
                    f"{n} rows; loosen it or ask for fewer rows."
                )
            z = np.concatenate(chunks)[:n]
        return self.schema_.from_numbers(self._decode(z), seed=seed)

    # --- persistence -----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """A JSON-serialisable form of the fitted copula (see :meth:`from_dict`)."""
        self._check_fitted()
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "params": {
                "kinds": self.kinds,
                "max_quantiles": self.max_quantiles,
                "random_state": self.random_state,
            },
            "schema": self.schema_.to_dict(),
            "latents": self.latents_,
            "correlation": self.correlation_.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> GaussianCopula:
        """Rebuilds a fitted copula from :meth:`to_dict`'s output.

        Raises:
            DataError: If ``d`` is not a saved Gaussian copula.
        """
        if d.get("format") != _FORMAT:
            raise DataError("This file is not a saved Gaussian copula.")
        copula = cls(**d["params"])
        copula.schema_ = TableSchema.from_dict(d["schema"])
        copula.latents_ = [dict(latent) for latent in d["latents"]]
        copula.correlation_ = np.asarray(d["correlation"], dtype=float)
        return copula

    # --- internals -------------------------------------------------------------------------------

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        chol = np.linalg.cholesky(self.correlation_)
        return rng.standard_normal((n, len(self.latents_))) @ chol.T

    def _draw_conditional(
        self, n: int, rng: np.random.Generator, d: int, k: int
    ) -> np.ndarray:
        edges = self.latents_[d]["edges"]
        low, high = stats.norm.ppf(np.clip([edges[k], edges[k + 1]], 0.0, 1.0))
        zd = stats.truncnorm.rvs(low, high, size=n, random_state=rng)
        others = [i for i in range(len(self.latents_)) if i != d]
        sigma = self.correlation_
        z = np.empty((n, len(self.latents_)))
        z[:, d] = zd
        if others:
            s_od = sigma[others, d]
            cov = sigma[np.ix_(others, others)] - np.outer(s_od, s_od)
            chol = np.linalg.cholesky(cov + 1e-9 * np.eye(len(others)))
            z[:, others] = np.outer(zd, s_od) + rng.standard_normal((n, len(others))) @ chol.T
        return z

    def _category_of(self, z: np.ndarray, d: int) -> np.ndarray:
        edges = np.asarray(self.latents_[d]["edges"])
        u = stats.norm.cdf(z)
        return np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(edges) - 2)

    def _decode(self, z: np.ndarray) -> np.ndarray:
        numbers = np.empty((len(z), len(self.schema_.modelled)))
        for d, latent in enumerate(self.latents_):
            j = latent["column"]
            if latent["part"] == "value":
                quantiles = np.asarray(latent["quantiles"])
                grid = np.linspace(0.0, 1.0, len(quantiles))
                numbers[:, j] = np.interp(stats.norm.cdf(z[:, d]), grid, quantiles)
            elif latent["part"] == "missing":
                numbers[self._category_of(z[:, d], d) == 1, j] = np.nan
            else:
                numbers[:, j] = self._category_of(z[:, d], d)
        return numbers

    def _condition_target(self, column, value) -> tuple[int, int]:
        """(latent index, category index) that ``column == value`` asks for."""
        spec = self.schema_.column(column)
        if spec.role != DISCRETE:
            raise ConfigError(
                f"Column '{column}' is {spec.kind}; only categorical columns can be conditions."
            )
        k = self.schema_.category_index(column, value)
        j = next(i for i, s in enumerate(self.schema_.modelled) if s.name == column)
        d = next(i for i, lat in enumerate(self.latents_) if lat["column"] == j)
        return d, k


def _interval_scores(codes: np.ndarray, edges, rng: np.random.Generator) -> np.ndarray:
    edges = np.asarray(edges, dtype=float)
    low, high = edges[codes], edges[codes + 1]
    u = low + (high - low) * rng.random(len(codes))
    return stats.norm.ppf(np.clip(u, _EPS, 1.0 - _EPS))


def _nearest_correlation(corr: np.ndarray) -> np.ndarray:
    """The correlation matrix with eigenvalues floored at 1e-6 and a unit diagonal."""
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    values, vectors = np.linalg.eigh((corr + corr.T) / 2)
    fixed = vectors @ np.diag(np.maximum(values, 1e-6)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)
