"""How good, how useful and how private synthetic rows are: one report, always all three.

:func:`synthesis_report` scores synthetic rows against the real training rows they imitate and
real held-out rows the generator never saw. Fidelity follows SDMetrics' published definitions
(its ``QualityReport``), written with numpy, scipy and scikit-learn:

**Column shapes** (one score per column, averaged)
    Numbers and datetimes: ``1 - KS``, the two-sample Kolmogorov-Smirnov statistic on the
    non-missing values (KSComplement). Categories and booleans: ``1 - TVD`` with
    ``TVD = 1/2 sum |p_real - p_synth|`` over the non-missing values; synthetic values that are
    not real categories count on the synthetic side (TVComplement).

**Column pairs** (one score per pair of columns, averaged)
    Two numeric columns: ``1 - |rho_real - rho_synth| / 2`` with Pearson's rho on the rows where
    both are present; skipped when a column is constant (CorrelationSimilarity). Two discrete
    columns, or a discrete and a numeric one: ``1 - TVD`` of the joint distribution, missing
    being a value; the numeric column is binned with ``np.histogram_bin_edges(column, bins=10)``
    and ``np.digitize`` (ContingencySimilarity). As in SDMetrics' report, each table is binned
    on its own edges: the pair score measures the dependence, the shape score the marginal.

    As in SDMetrics' current report (0.2x and later), only pairs that are related in the real
    rows count towards ``column_pairs``: numeric pairs with ``|rho_real| > 0.5`` and other pairs
    whose real contingency table has Cramer's V above 0.3 (``real_correlation_threshold``,
    ``real_association_threshold``; 0 counts every pair). ``column_pairs_all`` is the mean over
    every pair (SDMetrics' earlier definition). Every pair is in ``details`` with its
    ``counted`` flag. When no pair is related, ``column_pairs`` is ``None``.

**Quality** is the mean of column shapes and column pairs (column shapes alone when no pair
counts). Identifier, free-text and empty columns are left out.

**Diagnostic** (SDMetrics' DiagnosticReport without key and format checks) is the mean of data
validity, the mean over columns of the share of synthetic values inside the real range
(BoundaryAdherence) or the real category set (CategoryAdherence; a missing value is valid when
the real column has missing values), and data structure, the share of column names the two
tables have in common (TableStructure). A generator built on the codec scores 1.0.

**Utility** (when a target is given): a histogram gradient-boosting model (scikit-learn,
categorical columns as categories, fixed seed) is trained on the synthetic rows (TSTR) and on the
real training rows (TRTR) and both are scored on the real held-out rows: ROC-AUC for
classification (one-vs-rest macro average for several classes), R^2 for regression.
``ratio = TSTR / TRTR``.

**Privacy** (distances in a normalised space): the distance between two rows is the mean over
the modelled columns of ``min(|a - b| / range, 1)`` for numbers (range of the training column;
missing against present counts 1, missing against missing 0) and ``0``/``1`` for categories.
The distance to closest record (DCR) of a row is its distance to the nearest training row.

- ``copies``: synthetic rows equal to a training row in every modelled column (all rows are
  checked); ``holdout_copies_share`` is the same share for the real held-out rows, the baseline
  a table with duplicate records has anyway.
- ``dcr_closer_to_train``: the share of synthetic rows whose DCR is below the median DCR of the
  held-out rows (ties count one half). Held-out rows themselves score 0.5; a generator that
  copies or memorises scores towards 1; values near or below 0.5 mean synthetic rows are no
  closer to the training rows than new real people are.
- ``dcr_train_vs_holdout``: SDMetrics' DCROverfittingProtection statistic, the share of
  synthetic rows closer to the training rows than to the held-out rows (ties one half), with
  equally many training and held-out rows; ``dcr_overfitting_protection = min(1, 2 (1 - share))``.

Distances use at most ``max_privacy_rows`` rows of each table (a seeded random subset).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dl_core.errors import DataError
from dl_core.generation.schema import CONTINUOUS, TableSchema

_PAIR_BINS = 10
_MAX_HGB_CATEGORIES = 255
_CHUNK_CELLS = 4_000_000  # query rows x reference rows x columns per distance chunk


def synthesis_report(
    real_train: pd.DataFrame,
    synthetic: pd.DataFrame,
    real_holdout: pd.DataFrame,
    *,
    target: str | None = None,
    kinds: Mapping[str, str] | None = None,
    ceiling: bool = True,
    real_correlation_threshold: float = 0.5,
    real_association_threshold: float = 0.3,
    max_privacy_rows: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Fidelity, utility and privacy of synthetic rows, as one JSON-serialisable dict.

    Args:
        real_train: The real rows the generator was fit on.
        synthetic: The generated rows (the training columns; extra columns are ignored).
        real_holdout: Real rows the generator never saw, from the same table.
        target: Optional column to predict for the utility figures.
        kinds: Column kind overrides (see :class:`~dl_core.generation.schema.TableSchema`).
        ceiling: Also score the held-out rows as if they were synthetic: the fidelity a
            perfect generator reaches on this split (``report["ceiling"]``). On small tables
            sampling noise is large and a smooth generator can score above it (diabetes,
            221 training rows: copula 0.944, held-out rows 0.909).
        real_correlation_threshold: Numeric pairs count towards ``column_pairs`` when their
            real ``|rho|`` exceeds this (SDMetrics: 0.5).
        real_association_threshold: Other pairs count when the real Cramer's V exceeds this
            (SDMetrics: 0.3).
        max_privacy_rows: Most rows of each table used for the distances.
        seed: Seeds the subsets and the utility models.

    Returns:
        ``{"quality", "column_shapes", "column_pairs", "column_pairs_all", "diagnostic",
        "tstr_ratio", "copies",
        "dcr_closer_to_train", "details": {...}, "utility": {...} | None, "privacy": {...},
        "ceiling": {...} | None, "n_train", "n_holdout", "n_synthetic"}``; the top-level figures
        are the ones a run logs as metrics (``tstr_ratio`` is ``None`` without a target).

    Raises:
        DataError: If a table is empty, lacks a training column, or ``target`` is not a column
            that can be predicted.
    """
    for name, frame in (("training", real_train), ("synthetic", synthetic),
                        ("held-out", real_holdout)):
        if len(frame) == 0:
            raise DataError(f"The {name} table has no rows; the report needs rows in all three.")
    schema = TableSchema(kinds=kinds).fit(real_train)
    if not schema.modelled:
        raise DataError("No column can be compared: every column is an identifier, text or empty.")
    train_numbers = schema.to_numbers(real_train)
    synth_numbers = schema.to_numbers(synthetic)
    holdout_numbers = schema.to_numbers(real_holdout)

    thresholds = (real_correlation_threshold, real_association_threshold)
    fidelity = _fidelity(schema, train_numbers, synth_numbers, thresholds)
    diagnostic = _diagnostic(schema, train_numbers, synth_numbers, real_train, synthetic)
    utility = None
    if target is not None:
        import sklearn.ensemble  # noqa: F401 - loads OpenMP first, so the limit below applies to it
        from threadpoolctl import threadpool_limits

        # One thread: on small tables OpenMP's thread start-up and contention cost far more than
        # they save (3x slower on two busy cores), and a report must not starve the server.
        with threadpool_limits(limits=1):
            utility = _utility(schema, real_train, synthetic, real_holdout, target, seed)
    privacy = _privacy(schema, train_numbers, synth_numbers, holdout_numbers,
                       max_privacy_rows, seed)
    ceiling_figures = None
    if ceiling:
        held = _fidelity(schema, train_numbers, holdout_numbers, thresholds)
        ceiling_figures = {
            k: held[k] for k in ("quality", "column_shapes", "column_pairs", "column_pairs_all")
        }
    return {
        "quality": fidelity["quality"],
        "column_shapes": fidelity["column_shapes"],
        "column_pairs": fidelity["column_pairs"],
        "column_pairs_all": fidelity["column_pairs_all"],
        "diagnostic": diagnostic["diagnostic"],
        "tstr_ratio": utility["ratio"] if utility else None,
        "copies": privacy["copies"],
        "dcr_closer_to_train": privacy["dcr_closer_to_train"],
        "details": {**fidelity["details"], "diagnostic": diagnostic},
        "utility": utility,
        "privacy": privacy,
        "ceiling": ceiling_figures,
        "n_train": len(real_train),
        "n_holdout": len(real_holdout),
        "n_synthetic": len(synthetic),
    }


# --- fidelity ------------------------------------------------------------------------------------


def _fidelity(
    schema: TableSchema, real: np.ndarray, synth: np.ndarray, thresholds: tuple[float, float]
) -> dict:
    specs = schema.modelled
    shapes = []
    for j, spec in enumerate(specs):
        if spec.role == CONTINUOUS:
            score, metric = _ks_complement(real[:, j], synth[:, j]), "KSComplement"
        else:
            missing = spec.categories.index(None) if None in spec.categories else None
            score, metric = _tv_complement(real[:, j], synth[:, j], missing), "TVComplement"
        shapes.append({"column": _plain(spec.name), "metric": metric, "score": score})
    binned = {
        j: (_digitize(real[:, j]), _digitize(synth[:, j]))
        for j, spec in enumerate(specs)
        if spec.role == CONTINUOUS
    }
    pairs = []
    for a, b in combinations(range(len(specs)), 2):
        cont_a, cont_b = specs[a].role == CONTINUOUS, specs[b].role == CONTINUOUS
        entry = {"columns": [_plain(specs[a].name), _plain(specs[b].name)]}
        if cont_a and cont_b:
            score, rho_real, rho_synth = _correlation_similarity(
                real[:, [a, b]], synth[:, [a, b]]
            )
            counted = rho_real is not None and abs(rho_real) > thresholds[0]
            entry.update(metric="CorrelationSimilarity", score=score, real=rho_real,
                         synthetic=rho_synth, counted=counted)
        else:
            ra, sa = binned[a] if cont_a else (real[:, a], synth[:, a])
            rb, sb = binned[b] if cont_b else (real[:, b], synth[:, b])
            cramer = _cramers_v(ra, rb)
            entry.update(metric="ContingencySimilarity",
                         score=_contingency_similarity(ra, rb, sa, sb), real_association=cramer,
                         counted=cramer is not None and cramer > thresholds[1])
        pairs.append(entry)
    shape_score = _mean(s["score"] for s in shapes)
    pair_score = _mean(p["score"] for p in pairs if p["counted"])
    quality = shape_score if pair_score is None else _mean([shape_score, pair_score])
    return {
        "quality": quality,
        "column_shapes": shape_score,
        "column_pairs": pair_score,
        "column_pairs_all": _mean(p["score"] for p in pairs),
        "details": {"column_shapes": shapes, "column_pairs": pairs},
    }


def _ks_complement(real: np.ndarray, synth: np.ndarray) -> float | None:
    real, synth = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if real.size == 0 or synth.size == 0:
        return None
    return float(1.0 - stats.ks_2samp(real, synth).statistic)


def _tv_complement(real: np.ndarray, synth: np.ndarray, missing_code: int | None) -> float | None:
    if missing_code is not None:
        real, synth = real[real != missing_code], synth[synth != missing_code]
    if real.size == 0 or synth.size == 0:
        return None
    return float(1.0 - _tvd(real[:, None], synth[:, None]))


def _correlation_similarity(real: np.ndarray, synth: np.ndarray):
    real = real[~np.isnan(real).any(axis=1)]
    synth = synth[~np.isnan(synth).any(axis=1)]
    if len(real) < 2 or len(synth) < 2:
        return None, None, None
    if (np.ptp(real, axis=0) == 0).any() or (np.ptp(synth, axis=0) == 0).any():
        return None, None, None  # correlation of a constant is undefined
    rho_real = float(np.corrcoef(real, rowvar=False)[0, 1])
    rho_synth = float(np.corrcoef(synth, rowvar=False)[0, 1])
    return 1.0 - abs(rho_real - rho_synth) / 2.0, rho_real, rho_synth


def _contingency_similarity(ra, rb, sa, sb) -> float:
    return float(1.0 - _tvd(np.column_stack([ra, rb]), np.column_stack([sa, sb])))


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cramer's V of the real contingency table of two code columns (``None``: undefined)."""
    from scipy.stats.contingency import association

    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=np.int64)
    np.add.at(table, (ia.ravel(), ib.ravel()), 1)
    if min(table.shape) < 2:
        return None
    return float(association(table, method="cramer"))


def _tvd(real: np.ndarray, synth: np.ndarray) -> float:
    """Total variation distance between the row distributions of two code matrices."""
    keys = np.concatenate([real, synth])
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n_keys = inverse.max() + 1
    p = np.bincount(inverse[: len(real)], minlength=n_keys) / len(real)
    q = np.bincount(inverse[len(real):], minlength=n_keys) / len(synth)
    return 0.5 * float(np.abs(p - q).sum())


def _digitize(values: np.ndarray) -> np.ndarray:
    """Bins of ``values`` on their own 10 histogram edges; NaN and the maximum share the last."""
    present = values[~np.isnan(values)]
    edges = np.histogram_bin_edges(present, bins=_PAIR_BINS) if present.size else [0.0]
    return np.digitize(values, edges).astype(float)  # NaN lands past the last edge


def _diagnostic(schema, real, synth, real_frame, synth_frame) -> dict:
    validity = []
    for j, spec in enumerate(schema.modelled):
        x = synth[:, j]
        if spec.role == CONTINUOUS:
            if spec.missing_rate > 0:
                x = x[~np.isnan(x)]  # missing values are allowed
            inside = (x >= spec.minimum) & (x <= spec.maximum)  # NaN: outside
            metric = "BoundaryAdherence"
        else:
            inside, metric = x >= 0, "CategoryAdherence"
        score = float(np.mean(inside)) if len(inside) else None
        validity.append({"column": _plain(spec.name), "metric": metric, "score": score})
    real_names, synth_names = set(real_frame.columns), set(synth_frame.columns)
    structure = len(real_names & synth_names) / len(real_names | synth_names)
    data_validity = _mean(v["score"] for v in validity)
    return {
        "diagnostic": _mean([data_validity, structure]),
        "data_validity": data_validity,
        "data_structure": structure,
        "columns": validity,
    }


# --- utility -------------------------------------------------------------------------------------


def _utility(schema, real_train, synthetic, real_holdout, target, seed) -> dict:
    from sklearn.metrics import r2_score

    from dl_core.data.task import detect_task

    spec = schema.column(target)
    if spec.role not in ("continuous", "discrete"):
        raise DataError(
            f"Column '{target}' is {spec.kind} and cannot be a target; choose a numeric or "
            "categorical column."
        )
    task = detect_task(real_train[target])
    features = [s for s in schema.modelled if s.name != target]
    if not features:
        raise DataError(f"Only the target '{target}' can be modelled; utility needs features.")
    feature_schema = TableSchema(columns_=features)
    categorical = [
        s.role != CONTINUOUS and s.n_categories <= _MAX_HGB_CATEGORIES for s in features
    ]

    def xy(frame: pd.DataFrame):
        y = frame[target]
        keep = y.notna().to_numpy()
        x = feature_schema.to_numbers(frame.loc[keep])
        x[:, categorical] = np.where(x[:, categorical] < 0, np.nan, x[:, categorical])
        if task == "regression":
            y = pd.to_numeric(y[keep], errors="coerce").to_numpy(dtype=float)
        else:
            y = y[keep].astype(str).to_numpy()
        return x, y

    x_test, y_test = xy(real_holdout)
    if len(y_test) == 0:
        raise DataError(f"No held-out row has a value in the target '{target}'.")
    scores = {}
    for name, frame in (("tstr", synthetic), ("trtr", real_train)):
        x, y = xy(frame)
        if task == "regression":
            model = _hgb(task, categorical, seed).fit(x, y)
            scores[name] = float(r2_score(y_test, model.predict(x_test)))
        else:
            scores[name] = _auc(task, categorical, seed, x, y, x_test, y_test)
    trtr, tstr = scores["trtr"], scores["tstr"]
    return {
        "target": _plain(target),
        "task": task,
        "metric": "r2" if task == "regression" else "roc_auc",
        "model": "HistGradientBoosting",
        "tstr": tstr,
        "trtr": trtr,
        "ratio": tstr / trtr if trtr is not None and tstr is not None and trtr > 0 else None,
    }


def _hgb(task: str, categorical: list[bool], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return cls(categorical_features=np.asarray(categorical) if any(categorical) else None,
               random_state=seed)


def _auc(task, categorical, seed, x, y, x_test, y_test) -> float | None:
    from sklearn.metrics import roc_auc_score

    classes = np.unique(np.concatenate([y, y_test]))
    if np.unique(y_test).size < 2:
        return None  # AUC needs both classes among the held-out rows
    if np.unique(y).size < 2:
        proba = np.zeros((len(y_test), classes.size))
        proba[:, np.searchsorted(classes, y[0]) if len(y) else 0] = 1.0  # a constant guess
    else:
        model = _hgb(task, categorical, seed).fit(x, y)
        proba = np.zeros((len(y_test), classes.size))
        proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x_test)
    present = np.isin(classes, np.unique(y_test))
    if present.sum() == 2:
        positive = np.flatnonzero(present)[1]
        return float(roc_auc_score(y_test == classes[positive], proba[:, positive]))
    proba = proba[:, present]
    proba = proba / np.where(proba.sum(1, keepdims=True) > 0, proba.sum(1, keepdims=True), 1)
    proba[proba.sum(1) == 0] = 1.0 / present.sum()
    return float(roc_auc_score(y_test, proba, multi_class="ovr", labels=classes[present]))


# --- privacy -------------------------------------------------------------------------------------


def _privacy(schema, train, synth, holdout, max_rows, seed) -> dict:
    train_keys = set(_row_hashes(train))
    copies = int(np.isin(_row_hashes(synth), list(train_keys)).sum())
    holdout_copies = int(np.isin(_row_hashes(holdout), list(train_keys)).sum())

    rng = np.random.default_rng(seed)
    n_ref = min(len(train), len(holdout), max_rows)
    train_ref = _subset(train, n_ref, rng)
    holdout_ref = _subset(holdout, n_ref, rng)
    synth_q = _subset(synth, max_rows, rng)
    holdout_q = _subset(holdout, max_rows, rng)

    continuous = np.array([s.role == CONTINUOUS for s in schema.modelled])
    ranges = np.where(
        continuous,
        np.nan_to_num(np.nanmax(train, axis=0) - np.nanmin(train, axis=0)),
        0.0,
    )
    dcr_synth = _closest(synth_q, train, continuous, ranges)
    dcr_holdout = _closest(holdout_q, train, continuous, ranges)
    median_holdout = float(np.median(dcr_holdout))
    closer = np.mean(dcr_synth < median_holdout) + 0.5 * np.mean(dcr_synth == median_holdout)

    to_train = _closest(synth_q, train_ref, continuous, ranges)
    to_holdout = _closest(synth_q, holdout_ref, continuous, ranges)
    share = np.mean(to_train < to_holdout) + 0.5 * np.mean(to_train == to_holdout)
    return {
        "copies": copies,
        "copies_share": copies / len(synth),
        "holdout_copies_share": holdout_copies / len(holdout),
        "dcr_synthetic_median": float(np.median(dcr_synth)),
        "dcr_holdout_median": median_holdout,
        "dcr_closer_to_train": float(closer),
        "dcr_train_vs_holdout": float(share),
        "dcr_overfitting_protection": float(min(1.0, 2.0 * (1.0 - share))),
        "n_rows_compared": int(len(synth_q)),
    }


def _row_hashes(numbers: np.ndarray) -> np.ndarray:
    return pd.util.hash_pandas_object(pd.DataFrame(numbers), index=False).to_numpy()


def _subset(rows: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(rows) <= n:
        return rows
    return rows[np.sort(rng.choice(len(rows), size=n, replace=False))]


def _closest(
    queries: np.ndarray, reference: np.ndarray, continuous: np.ndarray, ranges: np.ndarray
) -> np.ndarray:
    """Distance from each query row to its nearest reference row (see the module docstring)."""
    n_cols = queries.shape[1]
    chunk = max(1, _CHUNK_CELLS // max(1, len(reference) * n_cols))
    safe = np.where(ranges > 0, ranges, 1.0)
    out = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk, None, :]
        r = reference[None, :, :]
        q_nan, r_nan = np.isnan(q), np.isnan(r)
        numeric = np.minimum(np.abs(q - r) / safe, 1.0)
        numeric = np.where(ranges > 0, numeric, (q != r).astype(float))
        per_col = np.where(continuous, numeric, (q != r).astype(float))
        per_col = np.where(q_nan | r_nan, (q_nan != r_nan).astype(float), per_col)
        out[start : start + chunk] = per_col.mean(axis=2).min(axis=1)
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else None


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
