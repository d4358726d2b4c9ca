"""Column profiling: what kind of data each column holds and whether it can be a feature.

:func:`profile_dataframe` gives every column one of :data:`KINDS`. Columns that cannot help a
model (all missing, a single value, identifiers, free text) get a ``drop_reason`` that the UI
shows next to them, so nothing disappears silently.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from dl_core.data.loading import COLUMN_NOTES
from dl_core.errors import DataError

KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "id", "constant", "empty")

# Names that say "identifier": id, row, index, key, ..., customer_id, customer-id, customerID.
_ID_NAME = re.compile(
    r"(?i:^(id|idx|index|row|rownum|row_?(id|no|num|number)|key|pk|uuid|guid|unnamed:? ?\d*)$"
    r"|[_\s.\-]id$)"
    r"|[a-z0-9]I[dD]$"
)
# "2024-01-31", "2024/1/31", "31.01.2024", "1/31/24", optionally followed by a time.
_DATE_NUMERIC = re.compile(
    r"\s*(\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp][Mm])?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*"
)
# "Jan 5, 2024", "5 January 2024", "March 2024".
_DATE_WORDS = re.compile(
    r"(?i)(?=.*\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)(?=.*\b\d{4}\b).{6,40}"
)
_DATE_SAMPLE = 500
_DATE_SHARE = 0.9
_TEXT_UNIQUE_SHARE = 0.5
_TEXT_MEAN_LENGTH = 20


@dataclass(frozen=True)
class ColumnProfile:
    """What one column holds.

    Attributes:
        name: Column name.
        kind: One of :data:`KINDS`.
        dtype: The pandas dtype, as text.
        missing_pct: Share of missing values, 0 to 100.
        n_unique: Number of distinct non-missing values.
        drop_reason: Why the column is not used as a feature, or ``None`` when it is usable.
        sample: A few distinct example values, comma-separated.
        note: What reading the file did to the column (numbers read past thousands
            separators), or ``None``.
    """

    name: str
    kind: str
    dtype: str
    missing_pct: float
    n_unique: int
    drop_reason: str | None
    sample: str
    note: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the column can be used as a feature."""
        return self.drop_reason is None


@dataclass(frozen=True)
class DataProfile:
    """Profiles of all columns of a table, in column order."""

    n_rows: int
    n_cols: int
    columns: tuple[ColumnProfile, ...]

    def column(self, name: str) -> ColumnProfile:
        """Returns the profile of column ``name``.

        Raises:
            DataError: If there is no such column; the message lists close matches and columns.
        """
        for col in self.columns:
            if col.name == name:
                return col
        names = [str(col.name) for col in self.columns]
        close = difflib.get_close_matches(str(name), names, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise DataError(f"There is no column '{name}' in the data.{hint} Columns: {_join(names)}.")

    def feature_columns(self, target: str) -> list[str]:
        """Usable columns other than ``target``, in table order.

        Raises:
            DataError: If ``target`` is not a column.
        """
        self.column(target)
        return [col.name for col in self.columns if col.usable and col.name != target]

    def dropped(self, target: str | None = None) -> dict[str, str]:
        """Columns that are not used as features, mapped to the reason; ``target`` excluded."""
        return {
            col.name: col.drop_reason
            for col in self.columns
            if col.drop_reason is not None and col.name != target
        }

    @property
    def notes(self) -> list[str]:
        """One line per column that reading changed (e.g. numbers with thousands separators)."""
        return [f"Column '{col.name}' was {col.note}." for col in self.columns if col.note]

    def to_frame(self) -> pd.DataFrame:
        """One row per column (name, kind, dtype, missing_pct, n_unique, usable, ...), for display."""
        rows = [{**asdict(col), "usable": col.usable} for col in self.columns]
        order = [
            "name",
            "kind",
            "dtype",
            "missing_pct",
            "n_unique",
            "usable",
            "drop_reason",
            "sample",
            "note",
        ]
        frame = pd.DataFrame(rows, columns=order)
        frame["missing_pct"] = frame["missing_pct"].round(1)
        return frame

    def to_dict(self) -> dict:
        """A JSON-serialisable summary (logged with each run)."""
        return {
            "n_rows": self.n_rows,
            "n_cols": self.n_cols,
            "columns": [
                {**asdict(col), "name": str(col.name), "missing_pct": round(col.missing_pct, 4)}
                for col in self.columns
            ],
        }


def profile_dataframe(df: pd.DataFrame) -> DataProfile:
    """Profiles every column of ``df``.

    Kinds are decided in this order: ``empty`` (all missing), ``constant`` (one distinct value),
    ``boolean`` (two), then by dtype: numbers are ``id`` (integers unique per row whose name looks
    like an identifier or which count rows) or ``numeric``; strings are ``datetime`` (90% of a
    sample parses as dates), ``text`` (mostly distinct, long, with spaces), ``id`` (unique per
    row) or ``categorical``.

    Args:
        df: The table, as returned by :func:`~dl_core.data.loading.read_csv`.

    Returns:
        The profile; ``empty``, ``constant``, ``id`` and ``text`` columns carry a drop reason,
        and columns that :func:`~dl_core.data.loading.read_csv` converted carry a note.
    """
    n_rows = len(df)
    notes = df.attrs.get(COLUMN_NOTES) or {}
    columns = tuple(
        _profile_column(df.columns[i], df.iloc[:, i], n_rows, notes.get(df.columns[i]))
        for i in range(df.shape[1])
    )
    return DataProfile(n_rows=n_rows, n_cols=df.shape[1], columns=columns)


def _profile_column(name, column: pd.Series, n_rows: int, note: str | None) -> ColumnProfile:
    present = column.dropna()
    n_present = len(present)
    n_unique = int(present.nunique())
    missing_pct = 100.0 * (1 - n_present / n_rows) if n_rows else 100.0
    head = present.iloc[:1000].drop_duplicates().iloc[:3]
    sample = ", ".join(_shorten(_format(v), 30) for v in head)
    kind, reason = _kind(name, column, present, n_unique, n_rows)
    if kind == "constant":
        reason = f"single value '{_shorten(_format(present.iloc[0]), 40)}'"
    return ColumnProfile(
        name=name,
        kind=kind,
        dtype=str(column.dtype),
        missing_pct=float(missing_pct),
        n_unique=n_unique,
        drop_reason=reason,
        sample=sample,
        note=note,
    )


def _kind(name, column: pd.Series, present: pd.Series, n_unique: int, n_rows: int):
    """Returns ``(kind, drop_reason)``."""
    if n_unique == 0:
        return "empty", "all values missing"
    if n_unique == 1:
        return "constant", None  # the reason names the value; see _profile_column
    if n_unique == 2:
        return "boolean", None
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime", None
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        if (
            n_unique == n_rows
            and _integer_valued(present)
            and (_ID_NAME.search(str(name)) or _counts_rows(present))
        ):
            return "id", _ID_REASON
        return "numeric", None
    values = present.astype("str")
    if _looks_like_dates(values):
        return "datetime", None
    if _looks_like_text(values, n_unique):
        return "text", f"free text ({n_unique} distinct values) is not used as a feature"
    if n_unique == n_rows:
        return "id", _ID_REASON
    return "categorical", None


_ID_REASON = "unique per row, looks like an identifier"


def _integer_valued(values: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(values):
        return True
    if pd.api.types.is_float_dtype(values):
        array = values.to_numpy(dtype=float)
        return bool(np.all(np.isfinite(array)) and np.all(array == np.round(array)))
    return False


def _counts_rows(values: pd.Series) -> bool:
    """Whether unique integer values are the row numbers 0..n-1 or 1..n (in any order)."""
    low, high = values.min(), values.max()
    return low in (0, 1) and high - low == len(values) - 1


def _looks_like_dates(values: pd.Series) -> bool:
    sample = _spread_sample(values, _DATE_SAMPLE)
    date_like = sample.str.fullmatch(_DATE_NUMERIC) | sample.str.fullmatch(_DATE_WORDS)
    if date_like.mean() < _DATE_SHARE:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # day-first guesses warn; a 90% parse is what we judge
        for fmt in ("ISO8601", "mixed"):
            parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
            if parsed.notna().mean() >= _DATE_SHARE:
                return True
    return False


def _looks_like_text(values: pd.Series, n_unique: int) -> bool:
    if n_unique <= _TEXT_UNIQUE_SHARE * len(values):
        return False
    sample = _spread_sample(values, 2000)
    if sample.str.len().mean() <= _TEXT_MEAN_LENGTH:
        return False
    # Sentences have spaces; long codes (hashes, UUIDs, URLs) do not and are ids or categories.
    return sample.str.contains(r"\s", regex=True).mean() >= 0.5


def _spread_sample(values: pd.Series, size: int) -> pd.Series:
    """Up to ``size`` values spread evenly over the column (deterministic, no RNG)."""
    if len(values) <= size:
        return values
    return values.iloc[np.linspace(0, len(values) - 1, size).astype(int)]


def _format(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _join(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")
