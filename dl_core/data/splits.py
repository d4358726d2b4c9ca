"""How the rows of a table are split into train, validation and test: the choices, the split
by time, and the sentence that tells a user which split a run used.

Kept free of scikit-learn so that pages can describe a split without importing it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from dl_core.data.profile import DataProfile
from dl_core.errors import DataError

#: How :func:`prepare_tabular` splits rows: ``auto`` is ``time`` for a dated log (see there).
SPLITS = ("auto", "random", "time")


def time_split_column(profile: DataProfile, exclude: tuple[str, ...] = ()) -> str | None:
    """The date column a split by time follows: the first one named like a date or time, else
    the first date column; None when the table has none."""
    dates = [c.name for c in profile.columns if c.kind == "datetime" and c.name not in exclude]
    named = [c for c in dates if _TIME_WORD.search(str(c))]
    return (named or dates or [None])[0]


def in_time_order(column: pd.Series) -> bool:
    """Whether rows are written in the order of ``column``'s dates (oldest or newest first),
    as in a log; a customer table with a sign-up date is not."""
    times = _parse_times(column).dropna()
    return times.nunique() > 1 and (times.is_monotonic_increasing
                                    or times.is_monotonic_decreasing)


_TIME_WORD = re.compile(r"(?i)date|time|day|month|period|stamp")


def split_by_time(
    df: pd.DataFrame, column: str, *, test_size: float, val_size: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Train (earliest rows), validation, then test (latest rows), ordered by ``column``.

    Rows sharing a time stay in one split, so every validation time is after every training
    time and every test time after every validation time. Rows without a readable time are
    left out (noted).

    Returns:
        The three splits (each sorted by time) and notes.

    Raises:
        DataError: if too few distinct times remain to give each split its own period.
    """
    check_sizes(test_size, val_size)
    times = _parse_times(df[column])
    notes = []
    unknown = int(times.isna().sum())
    if unknown:
        notes.append(f"{unknown} row(s) without a readable date in '{column}' were left out of "
                     "the split by time.")
    order = np.argsort(times[times.notna()].to_numpy(), kind="stable")
    rows, t = df[times.notna()].iloc[order], times[times.notna()].to_numpy()[order]
    n = len(rows)
    n_test, n_val = round(n * test_size), round(n * val_size)
    a = n - n_test - n_val
    b = n - n_test
    # A boundary inside a run of equal times moves to its end: no time straddles two splits.
    a = int(np.searchsorted(t, t[a - 1], side="right")) if a > 0 else 0
    b = max(b, a + 1)
    b = int(np.searchsorted(t, t[b - 1], side="right")) if b <= n else n
    if a == 0 or b <= a or b >= n:
        raise DataError(
            f"Column '{column}' has too few distinct dates ({pd.Series(t).nunique()}) to give "
            "training, validation and test rows periods of their own. Choose the random split "
            "(Model page, Split) or add rows."
        )
    return rows.iloc[:a], rows.iloc[a:b], rows.iloc[b:], notes


def _parse_times(column: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column
    return pd.to_datetime(column, errors="coerce", format="mixed", utc=True)


def period(frame: pd.DataFrame, column: str) -> list[str]:
    """First and last date of ``frame[column]`` as text (with the time when not midnight)."""
    times = _parse_times(frame[column]).dropna()
    fmt = "%Y-%m-%d" if (times == times.dt.normalize()).all() else "%Y-%m-%d %H:%M"
    return [times.min().strftime(fmt), times.max().strftime(fmt)]


def describe_split(split: dict[str, Any]) -> str:
    """One sentence on how rows were split, e.g. for the Evaluate page.

    Args:
        split: :attr:`PreparedData.split` (also logged in ``data/features.json``).
    """
    if split.get("method") == "time":
        parts = [f"{name} {p[0]} … {p[1]} ({n:,} rows)" for name, p, n in (
            ("train", split["train"], split["n_train"]),
            ("validation", split["val"], split["n_val"]),
            ("test", split["test"], split["n_test"]))]
        return f"Split by time on `{split['column']}`: " + ", ".join(parts) + "."
    if split.get("method") == "random":
        how = "stratified by the target, " if split.get("stratified") else ""
        text = (f"Random split ({how}seed {split['seed']}): {split['n_train']:,} train, "
                f"{split['n_val']:,} validation, {split['n_test']:,} test rows.")
        if split.get("date_column"):
            text += (f" A split by time on `{split['date_column']}` would test on the latest "
                     "rows instead.")
        return text
    return ""


def check_sizes(test_size: float, val_size: float) -> None:
    """Raises a DataError unless both shares are in [0.05, 0.5] and leave 20% for training."""
    if not 0.05 <= test_size <= 0.5 or not 0.05 <= val_size <= 0.5 or test_size + val_size >= 0.8:
        raise DataError(
            f"test_size and val_size must each be between 0.05 and 0.5 and leave at least 20% "
            f"for training; got test_size={test_size}, val_size={val_size}."
        )
