"""The column layer shared by every tabular generator and by the quality report.

A :class:`TableSchema` is fit on the real training table and remembers, per column, what a
synthetic column must look like: its role (continuous, discrete, identifier, empty), pandas dtype,
value range, number of decimals (integers are 0), datetime format and resolution, category set
and missing-value rate. It turns a table into a float matrix of *numbers* (one column per
modelled table column) and turns such a matrix back into a table with the original columns and
dtypes:

- continuous columns (numbers, datetimes): the value as a float (datetimes in seconds since
  1970-01-01 UTC), ``NaN`` where missing. Back: clipped to the training range, rounded to the
  training decimals (datetimes to their resolution, e.g. whole days), cast to the dtype; date
  strings are written back in their original format (ISO 8601 when the column mixes formats,
  and values that do not parse as dates count as missing).
- discrete columns (categories, booleans, two-valued numbers, constants): the index of the value
  in :attr:`ColumnSpec.categories` (ordered by training frequency, most frequent first; a
  missing value is a category of its own, stored as ``None``). Unknown values map to ``-1``.
- identifier and free-text columns are not modelled (no number column). They come back as fresh
  values of the same shape (each digit, upper- and lower-case letter replaced by a random one of
  its class), unique and never a training value, with the training missing rate.
- empty columns come back empty.

The schema is plain data and saves as JSON (:meth:`TableSchema.to_dict`); it never pickles.
"""

from __future__ import annotations

import json
import string
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_core.data.profile import profile_dataframe
from dl_core.errors import DataError

CONTINUOUS = "continuous"
DISCRETE = "discrete"
ID = "id"
EMPTY = "empty"
ROLES = (CONTINUOUS, DISCRETE, ID, EMPTY)

# Profile kind -> role. "boolean" (two distinct values) and "constant" are discrete whatever the
# dtype, except datetimes, which stay continuous (a category of timestamps is not JSON data).
_ROLE_OF_KIND = {
    "numeric": CONTINUOUS,
    "datetime": CONTINUOUS,
    "categorical": DISCRETE,
    "boolean": DISCRETE,
    "constant": DISCRETE,
    "id": ID,
    "text": ID,
    "empty": EMPTY,
}
# Date formats tried, in order, for columns of date strings; the first that writes every training
# value back unchanged is kept.
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y%m%d",
)
_DATE_STEPS = (86400.0, 3600.0, 60.0, 1.0)
_MAX_DECIMALS = 6
_MAX_PATTERNS = 20
_EPOCH = pd.Timestamp("1970-01-01")


@dataclass
class ColumnSpec:
    """What one column of the training table looks like.

    Attributes:
        name: Column name.
        role: One of :data:`ROLES`.
        kind: The profile kind (``numeric``, ``datetime``, ``categorical``, ``boolean``, ...).
        dtype: The pandas dtype, as text (``"int64"``, ``"str"``, ``"datetime64[us]"``, ...).
        missing_rate: Share of missing values in training, 0 to 1.
        categorical_dtype: ``{"categories": [...], "ordered": bool}`` when the dtype is
            ``category``.
        minimum: Smallest training value (continuous).
        maximum: Largest training value (continuous).
        decimals: Decimals every training value has at most (0: integer-valued); ``None`` when
            more than six (no rounding).
        date_format: ``strftime`` format of a column of date strings (``None``: not strings).
        date_step: Resolution of a datetime column in seconds (86400: whole days), or ``None``.
        tz: Time zone of a zone-aware datetime column.
        categories: Discrete values, most frequent first; ``None`` stands for missing.
        counts: Training count of each category.
        patterns: Identifier shapes (``"9999-AAAAA"``) with :attr:`pattern_counts`.
        pattern_counts: How many training values have each shape.
        next_id: First integer of fresh numeric identifiers (one above the training maximum).
    """

    name: Any
    role: str
    kind: str
    dtype: str
    missing_rate: float = 0.0
    categorical_dtype: dict | None = None
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    date_format: str | None = None
    date_step: float | None = None
    tz: str | None = None
    categories: list | None = None
    counts: list[int] | None = None
    patterns: list[str] | None = None
    pattern_counts: list[int] | None = None
    next_id: int | None = None

    @property
    def is_datetime(self) -> bool:
        """Whether the column holds dates or times."""
        return self.kind == "datetime"

    @property
    def n_categories(self) -> int:
        """Number of categories of a discrete column (0 otherwise)."""
        return len(self.categories or ())


@dataclass
class TableSchema:
    """Per-column description of a table, with the table <-> numbers mapping.

    Args:
        kinds: Optional profile kinds that override the detected ones, e.g. ``{"zip":
            "categorical"}`` to treat a numeric column as categories or ``{"notes": "id"}`` to
            leave a column out of the model.

    Attributes:
        columns_: One :class:`ColumnSpec` per table column, in table order (after :meth:`fit`).
    """

    kinds: Mapping[str, str] | None = None
    columns_: list[ColumnSpec] = field(default_factory=list)

    def fit(self, df: pd.DataFrame) -> TableSchema:
        """Learns every column's spec from the training table.

        Args:
            df: The real training rows.

        Returns:
            ``self``.

        Raises:
            DataError: If the table has no rows or a ``kinds`` override names no column.
        """
        if len(df) == 0:
            raise DataError("The table has no rows; a generator needs at least one row to learn.")
        kinds = dict(self.kinds or {})
        unknown = [name for name in kinds if name not in df.columns]
        if unknown:
            raise DataError(
                f"Column kinds were given for {', '.join(map(repr, unknown))}, which the table "
                f"does not have. Columns: {', '.join(map(str, df.columns))}."
            )
        profile = profile_dataframe(df)
        self.columns_ = [
            _fit_column(df[col.name], kinds.get(col.name, col.kind)) for col in profile.columns
        ]
        return self

    @property
    def modelled(self) -> list[ColumnSpec]:
        """Continuous and discrete columns: the ones with a column in the numbers matrix."""
        return [c for c in self.columns_ if c.role in (CONTINUOUS, DISCRETE)]

    @property
    def names(self) -> list:
        """All column names, in table order."""
        return [c.name for c in self.columns_]

    def column(self, name) -> ColumnSpec:
        """The spec of column ``name``.

        Raises:
            DataError: If there is no such column.
        """
        for spec in self.columns_:
            if spec.name == name:
                return spec
        raise DataError(
            f"There is no column '{name}' in the training table. "
            f"Columns: {', '.join(map(str, self.names))}."
        )

    def category_index(self, column, value) -> int:
        """Index of ``value`` among the categories of discrete column ``column``.

        Values typed as text match by their text (``"1"`` finds ``1``, ``"True"`` finds
        ``True``); ``None`` or NaN finds the missing category.

        Raises:
            DataError: If there is no such column, or ``value`` is not one of its categories.
        """
        spec = self.column(column)
        categories = spec.categories or []
        code = int(_category_codes(pd.Series([value], dtype=object), spec)[0]) if categories else -1
        if code < 0 and value is not None and not (isinstance(value, float) and np.isnan(value)):
            code = next(
                (i for i, c in enumerate(categories) if c is not None and str(c) == str(value)), -1
            )
        if code < 0:
            shown = ", ".join("(missing)" if c is None else str(c) for c in categories[:20])
            raise DataError(
                f"'{value}' is not a value of column '{column}'; its values are: {shown}."
            )
        return code

    def to_numbers(self, df: pd.DataFrame) -> np.ndarray:
        """Maps a table with the training columns to its numbers (see the module docstring).

        Args:
            df: Real or synthetic rows with at least the training columns.

        Returns:
            Float64 array of shape ``(len(df), len(self.modelled))``.

        Raises:
            DataError: If a training column is missing from ``df``.
        """
        missing = [c.name for c in self.columns_ if c.name not in df.columns]
        if missing:
            raise DataError(
                f"The table lacks the training column(s) {', '.join(map(repr, missing))}; "
                "it must have the columns the generator was trained on."
            )
        out = np.empty((len(df), len(self.modelled)), dtype=float)
        for j, spec in enumerate(self.modelled):
            column = df[spec.name]
            if spec.role == CONTINUOUS:
                out[:, j] = _continuous_numbers(column, spec)
            else:
                out[:, j] = _category_codes(column, spec)
        return out

    def from_numbers(self, numbers: np.ndarray, seed: int | None = None) -> pd.DataFrame:
        """Builds a table with the training columns and dtypes from a numbers matrix.

        Args:
            numbers: Array of shape ``(n, len(self.modelled))``; continuous values may be out of
                range (they are clipped) and discrete codes are rounded to the nearest category.
            seed: Seeds the fresh identifiers and the missing values of identifier columns.

        Returns:
            A DataFrame with every training column, in training order, with training dtypes.

        Raises:
            DataError: If ``numbers`` has the wrong number of columns.
        """
        numbers = np.asarray(numbers, dtype=float)
        if numbers.ndim != 2 or numbers.shape[1] != len(self.modelled):
            raise DataError(
                f"Expected a numbers matrix with {len(self.modelled)} columns, "
                f"got shape {numbers.shape}."
            )
        n = numbers.shape[0]
        rng = np.random.default_rng(seed)
        index = {spec.name: j for j, spec in enumerate(self.modelled)}
        data = {}
        for spec in self.columns_:
            if spec.role == CONTINUOUS:
                data[spec.name] = _continuous_column(numbers[:, index[spec.name]], spec)
            elif spec.role == DISCRETE:
                data[spec.name] = _discrete_column(numbers[:, index[spec.name]], spec)
            elif spec.role == ID:
                data[spec.name] = _id_column(n, spec, rng)
            else:
                data[spec.name] = _restore_dtype(pd.Series(np.full(n, np.nan), dtype=object), spec)
        return pd.DataFrame(data, columns=self.names)

    def to_dict(self) -> dict:
        """A JSON-serialisable form (see :meth:`from_dict`)."""
        return {
            "kinds": dict(self.kinds) if self.kinds else None,
            "columns": [asdict(c) for c in self.columns_],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> TableSchema:
        """Rebuilds a fitted schema from :meth:`to_dict`'s output."""
        return cls(kinds=d.get("kinds"), columns_=[ColumnSpec(**c) for c in d["columns"]])


# --- fitting -------------------------------------------------------------------------------------


def is_class_column(df: pd.DataFrame, column) -> bool:
    """Whether ``column`` holds classes a generator can be conditioned on: a categorical one,
    or numbers that a supervised model reads as classes (iris' 0/1/2, as
    :func:`~dl_core.data.task.detect_task` does; not a measurement with many values)."""
    from dl_core.data.task import detect_task

    if TableSchema().fit(df[[column]]).column(column).role == DISCRETE:
        return True
    return bool(df[column].notna().any()) and detect_task(df[column]) != "regression"


def condition_kinds(df: pd.DataFrame, columns) -> dict[str, str] | None:
    """Kind overrides that make the condition columns holding classes categorical (iris'
    integer ``target`` profiles as numeric, yet its values are classes to ask for); None when
    there is none. Any other column is left as it is, for the codec to refuse by name."""
    return {c: "categorical" for c in columns if c in df.columns and is_class_column(df, c)} \
        or None


def _fit_column(column: pd.Series, kind: str) -> ColumnSpec:
    dtype = column.dtype
    if kind not in _ROLE_OF_KIND:
        raise DataError(
            f"Unknown kind '{kind}' for column '{column.name}'; expected one of "
            f"{', '.join(_ROLE_OF_KIND)}."
        )
    role = _ROLE_OF_KIND[kind]
    if pd.api.types.is_datetime64_any_dtype(dtype) and role == DISCRETE:
        kind, role = "datetime", CONTINUOUS
    spec = ColumnSpec(
        name=column.name,
        role=role,
        kind=kind,
        dtype=str(dtype),
        missing_rate=float(column.isna().mean()),
    )
    if isinstance(dtype, pd.CategoricalDtype):
        spec.categorical_dtype = {
            "categories": [_plain(v) for v in dtype.categories],
            "ordered": bool(dtype.ordered),
        }
    if role == CONTINUOUS:
        _fit_continuous(column, spec)
    elif role == DISCRETE:
        _fit_discrete(column, spec)
    elif role == ID:
        _fit_id(column, spec)
    return spec


def _fit_continuous(column: pd.Series, spec: ColumnSpec) -> None:
    if spec.kind == "datetime":
        if not pd.api.types.is_datetime64_any_dtype(column.dtype):
            spec.date_format = _date_format(column.dropna().astype(str))
        else:
            tz = getattr(column.dtype, "tz", None)
            spec.tz = str(tz) if tz is not None else None
    values = _continuous_numbers(column, spec)
    present = values[~np.isnan(values)]
    if present.size == 0:
        raise DataError(
            f"Column '{spec.name}' has no value that reads as a number or a date; "
            "mark it as categorical or leave it out."
        )
    spec.missing_rate = float(np.isnan(values).mean())
    spec.minimum = float(present.min())
    spec.maximum = float(present.max())
    if spec.kind == "datetime":
        spec.date_step = next(
            (step for step in _DATE_STEPS if np.all(np.mod(present, step) == 0)), None
        )
    else:
        spec.decimals = _decimals(present)


def _fit_discrete(column: pd.Series, spec: ColumnSpec) -> None:
    present = column.dropna()
    if isinstance(present.dtype, pd.CategoricalDtype):
        present = present.astype(object)  # unused categories are not values
    counts = present.value_counts(sort=False)
    first_seen = {v: i for i, v in enumerate(present.drop_duplicates())}
    order = sorted(counts.index, key=lambda v: (-counts[v], first_seen[v]))
    spec.categories = [_plain(v) for v in order]
    spec.counts = [int(counts[v]) for v in order]
    n_missing = int(column.isna().sum())
    if n_missing:
        # Missing is a category like any other, placed by its frequency.
        position = sum(1 for c in spec.counts if c >= n_missing)
        spec.categories.insert(position, None)
        spec.counts.insert(position, n_missing)


def _fit_id(column: pd.Series, spec: ColumnSpec) -> None:
    present = column.dropna()
    if pd.api.types.is_numeric_dtype(column.dtype) and _decimals(
        present.to_numpy(dtype=float)
    ) == 0:
        spec.next_id = int(present.max()) + 1 if len(present) else 0
        return
    shapes = present.astype(str).map(_shape).value_counts()
    shapes = shapes.iloc[:_MAX_PATTERNS]
    spec.patterns = [str(s) for s in shapes.index]
    spec.pattern_counts = [int(c) for c in shapes]


def _date_format(values: pd.Series) -> str | None:
    """The first of :data:`_DATE_FORMATS` that parses and writes back every value unchanged."""
    values = values.str.strip()
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if parsed.notna().all() and (parsed.dt.strftime(fmt) == values).all():
            return fmt
    return None


def _decimals(values: np.ndarray) -> int | None:
    values = values[np.isfinite(values)]
    scale = np.maximum(1.0, np.abs(values))
    for d in range(_MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(values, d) - values) <= 1e-9 * scale):
            return d
    return None


def _shape(text: str) -> str:
    return "".join(
        "9" if ch.isdigit() else "A" if ch.isupper() else "a" if ch.islower() else ch
        for ch in text
    )


def _plain(value):
    """A JSON scalar for a category value (numpy scalars become Python ones)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# --- table -> numbers ----------------------------------------------------------------------------


def _continuous_numbers(column: pd.Series, spec: ColumnSpec) -> np.ndarray:
    if spec.kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            stamps = column
        else:
            text = column.astype("str").str.strip().where(column.notna())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "mixed" guesses warn; unparsable -> missing
                stamps = pd.to_datetime(text, format=spec.date_format or "mixed", errors="coerce")
        if getattr(stamps.dtype, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        seconds = (stamps - _EPOCH) / pd.Timedelta(seconds=1)
        return seconds.to_numpy(dtype=float, na_value=np.nan)
    numbers = pd.to_numeric(column, errors="coerce")
    return pd.Series(numbers).to_numpy(dtype=float, na_value=np.nan)


def _category_codes(column: pd.Series, spec: ColumnSpec) -> np.ndarray:
    known = [c for c in spec.categories if c is not None]
    positions = [i for i, c in enumerate(spec.categories) if c is not None]
    values = column.astype(object) if isinstance(column.dtype, pd.CategoricalDtype) else column
    codes = pd.Index(known, dtype=object).get_indexer(values.astype(object))
    out = np.where(codes >= 0, np.asarray(positions + [-1])[codes], -1).astype(float)
    if None in spec.categories:
        out[column.isna().to_numpy()] = spec.categories.index(None)
    return out


# --- numbers -> table ----------------------------------------------------------------------------


def _continuous_column(values: np.ndarray, spec: ColumnSpec) -> pd.Series:
    missing = np.isnan(values)
    values = np.clip(values, spec.minimum, spec.maximum)
    if spec.kind == "datetime":
        if spec.date_step:
            values = np.round(values / spec.date_step) * spec.date_step
        stamps = pd.Series(pd.to_datetime(np.where(missing, np.nan, values), unit="s"))
        if spec.tz:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(spec.tz)
        if pd.api.types.is_datetime64_any_dtype(pd.api.types.pandas_dtype(spec.dtype)):
            return stamps.astype(spec.dtype)
        fmt = spec.date_format or ("%Y-%m-%d" if spec.date_step == 86400.0 else "%Y-%m-%d %H:%M:%S")
        text = stamps.dt.strftime(fmt).astype(object).where(~missing, np.nan)
        return _restore_dtype(text, spec)
    if spec.decimals is not None:
        values = np.round(values, spec.decimals)
    values = np.where(missing, np.nan, values)
    dtype = pd.api.types.pandas_dtype(spec.dtype)
    if missing.any() and pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        return pd.Series(values).astype("Int64")  # int64 cannot hold the missing values
    return pd.Series(values).astype(dtype)


def _discrete_column(codes: np.ndarray, spec: ColumnSpec) -> pd.Series:
    index = np.clip(np.round(np.nan_to_num(codes, nan=0.0)), 0, spec.n_categories - 1).astype(int)
    table = np.array(
        [np.nan if c is None else c for c in spec.categories] + [np.nan], dtype=object
    )
    return _restore_dtype(pd.Series(table[index], dtype=object), spec)


def _id_column(n: int, spec: ColumnSpec, rng: np.random.Generator) -> pd.Series:
    missing = rng.random(n) < spec.missing_rate
    if spec.next_id is not None:
        values = pd.Series(np.arange(spec.next_id, spec.next_id + n), dtype=object)
    elif spec.patterns:
        weights = np.asarray(spec.pattern_counts, dtype=float)
        shapes = rng.choice(len(spec.patterns), size=n, p=weights / weights.sum())
        values = pd.Series(_fresh_ids([spec.patterns[i] for i in shapes], rng), dtype=object)
    else:
        values = pd.Series(np.full(n, np.nan), dtype=object)
    return _restore_dtype(values.where(~missing, np.nan), spec)


def _fresh_ids(shapes: list[str], rng: np.random.Generator) -> list[str]:
    """Random values of the given shapes, all different (retrying collisions a few times).

    Training values are never stored, so "never a training value" holds by chance: the odds of
    drawing one of n training values of a shape with d random characters are n / 10**d or less.
    """
    classes = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}
    seen: set[str] = set()
    out = []
    for shape in shapes:
        for _ in range(20):
            value = "".join(
                classes[ch][rng.integers(len(classes[ch]))] if ch in classes else ch
                for ch in shape
            )
            if value not in seen:
                break
        seen.add(value)
        out.append(value)
    return out


def _restore_dtype(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    if spec.categorical_dtype is not None:
        return values.astype(
            pd.CategoricalDtype(
                spec.categorical_dtype["categories"], ordered=spec.categorical_dtype["ordered"]
            )
        )
    dtype = pd.api.types.pandas_dtype(spec.dtype)
    has_missing = bool(values.isna().any())
    if has_missing and (dtype == bool or (  # noqa: E721 - numpy bool cannot hold missing
        pd.api.types.is_integer_dtype(dtype)
        and not isinstance(dtype, pd.api.extensions.ExtensionDtype)
    )):
        return values.astype("boolean" if dtype == bool else "Int64")
    if pd.api.types.is_float_dtype(dtype):
        return pd.to_numeric(values).astype(dtype)
    return values.astype(dtype)


class FittedOnTable:
    """What the codec and the copula share: a JSON file for the fitted state, and one message
    when they are used before ``fit``. Subclasses set ``what`` and ``schema_``, and implement
    ``to_dict`` / ``from_dict``."""

    what: str = "model"
    schema_: TableSchema | None

    def save(self, path: str | Path) -> None:
        """Writes the fitted state as JSON."""
        Path(path).write_text(json.dumps(self.to_dict()), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path):
        """Reads a file written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def _check_fitted(self) -> None:
        if self.schema_ is None:
            raise DataError(f"The {self.what} is not fitted yet; call fit(df) on the training rows.")
