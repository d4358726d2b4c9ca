"""Which learning task a target column calls for, and whether the data can support it."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from dl_core.errors import ConfigError, DataError

TASKS = ("binary", "multiclass", "regression")

MIN_ROWS = 20
MIN_ROWS_PER_CLASS = 3
# An integer target with at most this many values is a set of classes whatever its size...
_MAX_CLASSES_ALWAYS = 10
# ...and with at most this many, when the values repeat a lot (few distinct per row).
_MAX_CLASSES = 20
_MAX_CLASS_SHARE = 0.05


def detect_task(y: pd.Series) -> str:
    """Guesses the task from the target's values; missing values are ignored.

    Non-numeric targets are ``binary`` with two classes and ``multiclass`` otherwise. Numeric
    targets with two distinct values are ``binary``; integer-valued ones with at most 10 distinct
    values, or at most 20 that make up at most 5% of the rows, are ``multiclass``; anything else
    is ``regression``.

    Args:
        y: The target column.

    Returns:
        One of :data:`TASKS`.

    Raises:
        DataError: If ``y`` has no non-missing value.
    """
    present = y.dropna()
    if present.empty:
        raise DataError(
            f"Target column '{y.name}' has no values (all {len(y)} rows are missing); "
            "choose another target column."
        )
    n_unique = present.nunique()
    if not _is_numeric(present):
        return "binary" if n_unique == 2 else "multiclass"
    if n_unique == 2:
        return "binary"
    values = present.to_numpy(dtype=float)
    integer_valued = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
    if integer_valued and (
        n_unique <= _MAX_CLASSES_ALWAYS
        or (n_unique <= _MAX_CLASSES and n_unique / len(present) <= _MAX_CLASS_SHARE)
    ):
        return "multiclass"
    return "regression"


# Column names that usually hold what a table is meant to predict, strongest cue first. A
# generic ``y`` comes last: in measurement tables (diamonds: x, y, z in mm) it is a feature.
_TARGET_CUES: tuple[tuple[str, ...], ...] = (
    ("target", "label", "labels", "class", "outcome", "response", "ground_truth"),
    ("churn", "churned", "exited", "attrition", "survived", "default", "fraud", "is_fraud",
     "diagnosis", "species", "loan_status", "y_true"),
    ("quality", "price", "saleprice", "sale_price", "income", "medv", "median_house_value"),
    ("result", "status", "grade", "rating", "score"),
)
_CUE_AFFIXES = ("target", "label", "class", "outcome")
_LAST_RESORT = ("y",)


def _normalise(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def guess_target(df: pd.DataFrame) -> str | None:
    """The column a table most likely means to predict, judged by its name; None if unclear.

    Names are matched case-insensitively, spaces and punctuation read as ``_``. Explicit names
    (``target``, ``label``, ``class``, ``outcome``...) win over domain names (``churn``,
    ``survived``, ``species``...; then ``price``, ``quality``...; then ``status``, ``score``...),
    then names like ``churn_label`` or ``target_value``, then ``is_*``/``has_*`` flags, and
    ``y`` only when nothing else matches.
    Within a cue level the rightmost column wins. Columns with fewer than two distinct values
    cannot be targets. Position alone is no cue: with none, the user chooses.

    Args:
        df: The table.

    Returns:
        A column name, or None when no name stands out.
    """
    names = {col: _normalise(col) for col in df.columns if df[col].nunique(dropna=True) > 1}
    levels: list[Callable[[str], bool]] = [
        *(lambda n, cues=cues: n in cues for cues in _TARGET_CUES),
        lambda n: any(n.endswith(f"_{a}") or n.startswith(f"{a}_") for a in _CUE_AFFIXES),
        lambda n: re.fullmatch(r"(is|has)_[0-9a-z_]+", n) is not None,
        lambda n: n in _LAST_RESORT,
    ]
    for matches in levels:
        found = [col for col, name in names.items() if matches(name)]
        if found:
            return found[-1]
    return None


def check_target(
    df: pd.DataFrame, target: str, task: str, *, test_size: float = 0.2, val_size: float = 0.1
) -> None:
    """Checks that ``df[target]`` can be learned as ``task`` with the given splits.

    Rows with a missing target are not counted: they are dropped before training.

    Args:
        df: The table.
        target: Name of the target column.
        task: One of :data:`TASKS`.
        test_size: Share of rows held out for testing (stratified for classification).
        val_size: Share of rows held out for validation (stratified for classification).

    Raises:
        DataError: If the target is missing, empty, has a single class, rare classes, more
            classes than the test or validation split can hold, is not numeric for regression,
            has fewer than 20 rows with a value, or ``task`` is not one of :data:`TASKS`.
        ConfigError: If ``test_size`` or ``val_size`` is out of range.
    """
    if target not in df.columns:
        names = [str(c) for c in df.columns]
        close = difflib.get_close_matches(str(target), names, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(names[:20]) + (
            f", ... ({len(names) - 20} more)" if len(names) > 20 else ""
        )
        raise DataError(f"Target column '{target}' is not in the data.{hint} Columns: {shown}.")
    if task not in TASKS:
        raise DataError(f"Unknown task '{task}'; expected one of {', '.join(TASKS)}.")
    for name, size in (("test_size", test_size), ("val_size", val_size)):
        if not 0 <= size < 1:
            raise ConfigError(f"{name} must be a share between 0 and 1; got {size}.")
    if test_size + val_size >= 1:
        raise ConfigError(
            f"test_size + val_size must leave rows for training; got {test_size} + {val_size}."
        )

    y = df[target].dropna()
    if y.empty:
        raise DataError(
            f"Target column '{target}' has no values (all {len(df)} rows are missing); "
            "choose another target column."
        )
    counts = y.value_counts()
    if task == "regression":
        if not _is_numeric(y):
            examples = ", ".join(f"'{v}'" for v in counts.index[:3])
            raise DataError(
                f"Target column '{target}' is not numeric (values like {examples}); regression "
                "needs numbers. Choose 'binary' or 'multiclass', or another target column."
            )
        if len(counts) == 1:
            raise DataError(
                f"Target column '{target}' has a single value ({counts.index[0]}); there is "
                "nothing to predict. Choose another target column."
            )
    elif len(counts) == 1:
        raise DataError(
            f"Target column '{target}' has a single class ('{counts.index[0]}'); "
            "classification needs at least two."
        )

    n_rows = len(y)
    if n_rows < MIN_ROWS:
        missing = len(df) - n_rows
        dropped = f" ({missing} more have no target value)" if missing else ""
        raise DataError(
            f"Only {n_rows} rows have a value in target column '{target}'{dropped}; training "
            f"needs at least {MIN_ROWS}. Add rows or choose another target column."
        )
    if task == "regression":
        return

    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        listed = ", ".join(f"'{label}' ({count})" for label, count in rare.iloc[:10].items())
        more = f" and {len(rare) - 10} more" if len(rare) > 10 else ""
        hint = ", or use task 'regression' if the target is a quantity" if _is_numeric(y) else ""
        raise DataError(
            f"Target column '{target}' has {len(rare)} class(es) with fewer than "
            f"{MIN_ROWS_PER_CLASS} rows: {listed}{more}. Every class needs at least "
            f"{MIN_ROWS_PER_CLASS} rows to appear in the train, validation and test splits. "
            f"Merge rare classes or remove those rows{hint}."
        )
    n_classes = len(counts)
    for name, size in (("test", test_size), ("validation", val_size)):
        capacity = int(n_rows * size)
        if size > 0 and n_classes > capacity:
            needed = math.ceil(100 * n_classes / n_rows)
            raise DataError(
                f"Target column '{target}' has {n_classes} classes, but the {name} split holds "
                f"only {capacity} of {n_rows} rows ({size:.0%}); a stratified split needs at least "
                f"one row of each class. Make the {name} split at least {needed}%, add rows, "
                "or merge classes."
            )


def _is_numeric(y: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
