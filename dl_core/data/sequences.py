"""Sequences and time series: time-column checks, windowing, chronological splits, formats.

Forecasting reads a table with a time (or order) column and numeric value columns; the target
is the series to forecast. Windows of ``lookback`` steps predict the next ``horizon`` steps.
The series is split by time (train, then validation, then test; a window belongs to a split
only when all its targets lie in that split's period) and scaling is fit on the training
period only. Sequence classification/regression reads one sequence per row (``t0..tN``
columns, "wide") or one step per row (a sequence id, a step column, values: "long").
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from dl_core.data.preprocessing import PreparedData, TargetEncoding, split_rows
from dl_core.data.profile import DataProfile, profile_dataframe
from dl_core.data.task import check_target, guess_target
from dl_core.data.transformers import SeriesScaler
from dl_core.errors import ConfigError, DataError

MIN_TRAIN_WINDOWS = 10
MIN_STEPS = 3
_WIDE = re.compile(r"^(?:t|step|x|v)[_\-]?(\d+)$", re.IGNORECASE)
_TIME_NAMES = ("time", "timestamp", "date", "datetime", "ds", "t", "step", "order", "period",
               "month", "year", "day", "week", "hour")


# -- the time axis ---------------------------------------------------------------------------

#: Largest share of missing time steps filled in silently (with a note) rather than refused.
MAX_FILLED_SHARE = 0.1
#: How far (as a share of the step) a numeric time may sit from its place on the regular grid:
#: exports round times (1949.08 for 1949 + 1/12), and floats rarely add up exactly.
STEP_TOLERANCE = 0.1
_DAY = pd.Timedelta(days=1)


def _parse_time(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        parsed = column.astype(float)
    else:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    bad = parsed.isna() & column.notna()
    if bad.any():
        examples = ", ".join(repr(v) for v in column[bad].astype(str).unique()[:3])
        raise DataError(
            f"Time column '{name}' has {int(bad.sum())} value(s) that are neither dates nor "
            f"numbers ({examples}). Fix them or choose another time column."
        )
    if column.isna().any():
        raise DataError(
            f"Time column '{name}' has {int(column.isna().sum())} missing value(s); every row "
            "of a series needs its time. Fill or remove those rows."
        )
    return parsed


def _fmt_time(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(value, float | np.floating):
        value = float(value)
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    return str(value)


def _py(value: Any) -> Any:
    """A numpy scalar as the plain Python value (so messages read 2, not np.int64(2))."""
    return value.item() if isinstance(value, np.generic) else value


def _step_text(step: Any) -> str:
    return str(step).removeprefix("0 days ") if isinstance(step, pd.Timedelta) else _fmt_time(step)


def decimal_year_period(times: pd.Series | np.ndarray) -> int | None:
    """12 or 4 when numeric times are fractional years of a monthly or quarterly series
    (1949.0833…, as R and many statistics exports write them), else None."""
    t = np.asarray(times, dtype=float)
    if t.size < 3 or not np.isfinite(t).all() or t.min() < 1000 or t.max() > 3000:
        return None
    if np.all(t == np.round(t)):
        return None  # whole years read well as they are
    step = float(np.median(np.diff(np.sort(t))))
    for per in (12, 4):
        scaled = t * per
        if (abs(step * per - 1) <= STEP_TOLERANCE
                and np.all(np.abs(scaled - np.round(scaled)) <= STEP_TOLERANCE)):
            return per
    return None


def _decimal_year_stamps(times: pd.Series, per: int) -> tuple[pd.Series, Any]:
    """Fractional years as the first day of their month or quarter, and their label format."""
    count = np.round(times.to_numpy(dtype=float) * per).astype(int)  # periods since year 0
    year, part = count // per, count % per
    month = part * (12 // per) + 1
    frame = pd.DataFrame({"year": year, "month": month, "day": 1})
    stamps = pd.Series(pd.to_datetime(frame).to_numpy(), index=times.index)
    if per == 12:
        return stamps, lambda ts: ts.strftime("%Y-%m")
    return stamps, lambda ts: f"{ts.year}-Q{(ts.month - 1) // 3 + 1}"


def time_labels(times: pd.Series) -> list[str]:
    """Readable labels of sorted times: dates as written, fractional years of a monthly or
    quarterly series as their month ("1949-02") or quarter ("1949-Q2")."""
    if pd.api.types.is_numeric_dtype(times) and not pd.api.types.is_bool_dtype(times):
        per = decimal_year_period(times)
        if per:
            stamps, label = _decimal_year_stamps(times.astype(float), per)
            return [label(ts) for ts in stamps]
    return [_fmt_time(v) for v in times]


def _grid(times: pd.Series, name: str) -> tuple[np.ndarray, Any, Any]:
    """Where sorted, unique times sit on their regular grid.

    Returns:
        ``(positions, step, time_at)``: whole-number positions (0 = the first time; a gap
        skips numbers), the usual step (for messages) and a function giving the time at a
        position (for the rows added in gaps).

    Raises:
        DataError: if the times are not whole numbers of steps apart.
    """
    n = len(times)
    first = times.iloc[0]
    if pd.api.types.is_datetime64_any_dtype(times):
        with warnings.catch_warnings():  # pandas 3 announces a change of return type
            warnings.simplefilter("ignore")
            if pd.infer_freq(pd.DatetimeIndex(times)) is not None:  # incl. business days
                return np.arange(n), None, None
        diffs = times.diff().iloc[1:]
        step = diffs.mode().iloc[0]
        months = next((m for m, (low, high) in {1: (28, 31), 3: (89, 92), 12: (365, 366)}.items()
                       if low * _DAY <= step <= high * _DAY), None)
        if months:  # calendar months and years vary in length: count in months
            count = (times.dt.year * 12 + times.dt.month).to_numpy()
            relative = count - count[0]
            positions = relative // months
            even = relative % months == 0
            step_label = {1: "1 month", 3: "3 months", 12: "1 year"}[months]

            def time_at(k: int) -> Any:
                return first + pd.DateOffset(months=int(k) * months)
        else:
            even = (diffs % step == pd.Timedelta(0)).to_numpy()
            positions = ((times - first) // step).to_numpy()
            even = np.concatenate([[True], even])
            step_label = step

            def time_at(k: int) -> Any:
                return first + int(k) * step
    else:
        t = times.to_numpy(dtype=float)
        diffs = np.diff(t)
        rough = float(np.median(diffs))
        positions = np.concatenate([[0], np.cumsum(np.maximum(np.round(diffs / rough), 1))])
        # The step that fits every time best (least squares), so rounding does not add up.
        step = float((positions @ (t - t[0])) / (positions @ positions))
        even = np.abs(t - t[0] - positions * step) <= STEP_TOLERANCE * step
        positions = positions.astype(int)
        step_label = float(f"{step:.10g}")

        def time_at(k: int) -> Any:
            return float(f"{t[0] + int(k) * step:.10g}")
    positions = np.asarray(positions, dtype=int)
    if not np.all(even) or np.any(np.diff(positions) < 1):
        shown = times.diff().iloc[1:]
        raise DataError(
            f"Time column '{name}' is unevenly spaced (steps from {_step_text(shown.min())} to "
            f"{_step_text(shown.max())}); forecasting needs evenly spaced times. Resample it."
        )
    return positions, step_label, time_at


def check_time_column(df: pd.DataFrame, time_column: str) -> tuple[pd.DataFrame, list[str]]:
    """``df`` sorted by a valid, regular time column, and notes on what was done.

    Fractional years of a monthly or quarterly series (1949.0833…) are checked as the months
    or quarters they stand for (:func:`time_labels` shows them as dates). A few missing time
    steps (at most ``MAX_FILLED_SHARE``) are added as rows with no values, which
    :func:`fill_series` then carries forward.

    Raises:
        DataError: if the column is missing, unparseable, has missing values, duplicate times,
            too many gaps or irregular spacing.
    """
    if time_column not in df.columns:
        raise DataError(
            f"Time column '{time_column}' is not in the data. Columns: "
            f"{', '.join(map(str, df.columns[:20]))}."
        )
    times = _parse_time(df[time_column], time_column)
    notes = []
    dup = times.duplicated(keep=False)
    if dup.any():
        examples = ", ".join(sorted({_fmt_time(v) for v in times[dup]})[:3])
        raise DataError(
            f"Time column '{time_column}' has {int(times.duplicated().sum())} duplicate time(s) "
            f"(e.g. {examples}); a series needs one row per time. Aggregate the duplicates "
            "(e.g. their mean) or, for several series in one file, use one file per series."
        )
    if not times.is_monotonic_increasing:
        notes.append(f"Rows were sorted by '{time_column}'.")
    order = np.argsort(times.to_numpy(), kind="stable")
    df, times = df.iloc[order], times.iloc[order]
    numeric = pd.api.types.is_numeric_dtype(times)
    # How a time reads in messages, and the time an added row gets (numbers stay numbers).
    label, shown = _fmt_time, float if numeric else _fmt_time
    per = decimal_year_period(times) if numeric else None
    if per:
        times, label = _decimal_year_stamps(times, per)

        def shown(ts: pd.Timestamp) -> float:
            return round(ts.year + (ts.month - 1) / 12, 10)

        notes.append(
            f"'{time_column}' holds fractional years of a {'monthly' if per == 12 else 'quarterly'}"
            f" series; they are shown as dates ({label(times.iloc[0])} to {label(times.iloc[-1])})."
        )
    if len(times) >= 3:
        positions, step, time_at = _grid(times, time_column)
        missing = int(positions[-1]) + 1 - len(positions)
        if missing:
            if missing > MAX_FILLED_SHARE * (positions[-1] + 1):
                gaps = np.flatnonzero(np.diff(positions) > 1)
                before, after = times.iloc[gaps[0]], times.iloc[gaps[0] + 1]
                raise DataError(
                    f"Time column '{time_column}' has {len(gaps)} gap(s): e.g. after "
                    f"{label(before)} the next time is {label(after)}, but the usual step is "
                    f"{_step_text(step)}. Forecasting needs evenly spaced times: add rows for "
                    "the missing steps (empty values are carried forward from the last observed "
                    "value) or resample the series before uploading."
                )
            absent = np.setdiff1d(np.arange(positions[-1] + 1), positions)
            df = _add_missing_steps(df, positions, [shown(time_at(k)) for k in absent],
                                    time_column)
            notes.append(
                f"{missing} missing time step(s) in '{time_column}' were added; their values are "
                "carried forward from the last observed value."
            )
    return df, notes


def _add_missing_steps(df: pd.DataFrame, positions: np.ndarray, added_times: list[str],
                       name: str) -> pd.DataFrame:
    """``df`` with an empty row (but its time) at each position missing from ``positions``."""
    n_full = int(positions[-1]) + 1
    where = np.full(n_full, -1)
    where[positions] = np.arange(len(positions))
    filled = df.iloc[np.maximum(where, 0)].copy()
    added = np.flatnonzero(where < 0)
    others = [c for c in df.columns if c != name]
    filled.loc[where < 0, others] = np.nan
    times = np.array(filled[name].tolist(), dtype=object)
    times[added] = added_times
    filled[name] = pd.Series(times, index=filled.index).infer_objects()  # numbers stay numeric
    # Real rows keep their labels (predictions line up with the uploaded rows); added ones get
    # new labels after them.
    if pd.api.types.is_integer_dtype(df.index):
        labels = df.index.to_numpy()[np.maximum(where, 0)].copy()
        labels[added] = df.index.max() + 1 + np.arange(len(added))
        filled.index = labels
        return filled
    return filled.reset_index(drop=True)


def _numbers(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` as floats (missing values stay NaN).

    Raises:
        DataError: for non-numeric values in a series, or a series with no value at all.
    """
    out = {}
    for name in columns:
        column = df[name]
        numbers = pd.to_numeric(column, errors="coerce") if not pd.api.types.is_numeric_dtype(
            column) else column.astype(float)
        bad = numbers.isna() & column.notna()
        if bad.any():
            examples = ", ".join(repr(v) for v in column[bad].astype(str).unique()[:3])
            raise DataError(
                f"Series '{name}' has {int(bad.sum())} non-numeric value(s) ({examples}); a "
                "series must hold numbers. Fix those values or leave them empty (they are then "
                "filled)."
            )
        if numbers.isna().all():
            raise DataError(f"Series '{name}' has no values; choose another column.")
        out[name] = numbers.astype(float)
    return pd.DataFrame(out, index=df.index)


def fill_series(df: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``df`` (sorted by time) with ``columns`` as numbers, each missing value carried forward
    from the last observed value of its series, and notes on what was filled.

    Only the past fills a gap, so nothing at or after the start of a period (validation, test,
    or the next step of a forecast) can change a value of an earlier one; interpolating would
    draw a gap just before the test period towards the first test values. Rows before every
    series has its first value are dropped (noted): a leading gap has no past to carry, and
    back-filling it would copy a later value into earlier windows.

    Raises:
        DataError: for non-numeric values in a series, or a series with no value at all.
    """
    numbers = _numbers(df, columns)
    notes = []
    complete = numbers.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataError(
            f"No row has a value in every series ({', '.join(map(str, columns))}), so there is "
            "no starting point to carry values forward from. Leave out the sparse columns."
        )
    start = int(complete.argmax())
    if start:
        late = ", ".join(f"'{c}'" for c in columns if pd.isna(numbers[c].iloc[0]))
        notes.append(
            f"The first {start} row(s) were left out: they come before the first value of "
            f"{late}, and a missing value is only filled from earlier ones."
        )
        numbers, df = numbers.iloc[start:], df.iloc[start:]
    for name in columns:
        missing = int(numbers[name].isna().sum())
        if missing:
            notes.append(f"{missing} missing value(s) in '{name}' were carried forward from the "
                         "last observed value.")
    out = df.copy()
    for name in columns:
        out[name] = numbers[name].ffill().to_numpy()
    return out, notes


def detect_time_column(df: pd.DataFrame) -> str | None:
    """A column that orders the rows of a series: sorted, unique dates or time-like numbers."""
    candidates = []
    for name in df.columns:
        column = df[name]
        if column.isna().any() or not column.is_unique or len(column) < 3:
            continue
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            if column.is_monotonic_increasing and (str(name).strip().lower() in _TIME_NAMES
                                                   or decimal_year_period(column)):
                candidates.append(name)
            continue
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
        if parsed.notna().all() and parsed.is_monotonic_increasing:
            candidates.insert(0, name)
    return candidates[0] if candidates else None


def default_series(df: pd.DataFrame, time_column: str | None = None,
                   profile: DataProfile | None = None) -> str | None:
    """The series to forecast first: a value column named like a target, else the first one.

    Never the time column nor an identifier (a row number such as R's ``rownames``): neither
    is a series anyone forecasts. None when no numeric value column is left.
    """
    time_column = time_column or detect_time_column(df)
    profile = profile or profile_dataframe(df)
    series = [c for c in df.columns if c != time_column and profile.column(c).kind == "numeric"]
    if not series:
        return None
    return guess_target(df[series]) or series[0]


def detect_season(y: np.ndarray, max_lag: int | None = None) -> int | None:
    """The season length of a series: the strongest autocorrelation peak of the detrended
    series (lag 2 up to a third of its length), when that correlation exceeds 0.3."""
    y = np.asarray(y, dtype=float)
    n = y.size
    max_lag = min(max_lag or n // 3, n // 3, 400)
    if max_lag < 4:
        return None
    t = np.arange(n)
    resid = y - np.polyval(np.polyfit(t, y, 1), t)
    resid = resid - resid.mean()
    denom = float(resid @ resid)
    if denom == 0:
        return None
    acf = np.array([resid[:-k] @ resid[k:] / denom for k in range(1, max_lag + 1)])
    peaks = [k for k in range(2, max_lag) if acf[k - 1] > acf[k - 2] and acf[k - 1] >= acf[k]
             and acf[k - 1] > 0.3]
    if not peaks:
        return None
    return max(peaks, key=lambda k: (round(acf[k - 1], 2), -k))


# -- windows ---------------------------------------------------------------------------------


def split_periods(n_steps: int, lookback: int, horizon: int, test_size: float,
                  val_size: float) -> tuple[int, int]:
    """Start indices ``(a, b)`` of the validation and test periods of a series.

    Raises:
        DataError: if the series is too short for ``lookback``, ``horizon`` and the splits.
    """
    if lookback < 1 or horizon < 1:
        raise ConfigError(f"lookback and horizon must be at least 1; got {lookback} and {horizon}.")

    def periods(n: int) -> tuple[int, int]:
        return int(round(n * (1 - test_size - val_size))), int(round(n * (1 - test_size)))

    def windows(n: int) -> tuple[int, int, int]:
        a, b = periods(n)
        return a - horizon - lookback + 1, b - horizon - a + 1, n - horizon - b + 1

    def short(n: int) -> bool:
        return any(w < m for w, m in zip(windows(n), (MIN_TRAIN_WINDOWS, 1, 1), strict=True))

    if short(n_steps):
        needed = n_steps
        while short(needed):
            needed += 1
        train, val, test = windows(n_steps)
        raise DataError(
            f"The series has {n_steps} points, too few for lookback {lookback} and horizon "
            f"{horizon}: the train, validation and test periods would hold {max(train, 0)}, "
            f"{max(val, 0)} and {max(test, 0)} windows (at least {MIN_TRAIN_WINDOWS}, 1 and 1 "
            f"are needed). Use at least {needed} points, or a shorter lookback or horizon."
        )
    return periods(n_steps)


def make_windows(values: np.ndarray, target: np.ndarray, lookback: int, horizon: int,
                 starts: range) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(n, lookback, features)`` ending just before each start, and targets
    ``(n, horizon)`` from each start."""
    starts = np.asarray(list(starts), dtype=int)
    x_idx = starts[:, None] + np.arange(-lookback, 0)[None, :]
    y_idx = starts[:, None] + np.arange(horizon)[None, :]
    return values[x_idx].astype(np.float32), target[y_idx]


def naive_forecasts(y: np.ndarray, starts: range, horizon: int,
                    season: int | None) -> dict[str, np.ndarray]:
    """The naive baselines' forecasts ``(n, horizon)`` for windows starting at ``starts``:
    the last value seen, and (with a season length m) the value one season before."""
    starts = np.asarray(list(starts), dtype=int)
    out = {"last_value": np.repeat(y[starts - 1][:, None], horizon, axis=1)}
    if season and season >= 1:
        h = np.arange(horizon)
        back = season * ((h // season) + 1)
        idx = starts[:, None] + h[None, :] - back[None, :]
        if idx.min() >= 0:
            out["seasonal_last_value"] = y[idx]
    return out


def prepare_timeseries(
    df: pd.DataFrame, target: str, *, time_column: str, lookback: int = 24, horizon: int = 1,
    season_length: int = 0, test_size: float = 0.2, val_size: float = 0.1,
    exclude: tuple[str, ...] = (), profile: DataProfile | None = None,
) -> PreparedData:
    """Windows of a series for forecasting, split by time, scaled on the training period.

    The inputs are the target series plus the other numeric columns (covariates) over the
    last ``lookback`` steps; the outputs are the target's next ``horizon`` values.

    Raises:
        DataError: for a bad time column, non-numeric series values or a series too short.
    """
    if target not in df.columns:
        check_target(df, target, "regression")  # the helpful "no such column" message
    if target == time_column:
        raise DataError(f"'{target}' is the time column; choose a value column to forecast.")
    df, notes = check_time_column(df, time_column)
    profile = profile or profile_dataframe(df)
    covariates = [c for c in df.columns if c not in (target, time_column) and c not in exclude
                  and profile.column(c).kind == "numeric"]
    columns = [target, *covariates]
    dropped = {c: "not a numeric series" for c in df.columns
               if c not in columns and c != time_column and c not in exclude}
    dropped.update({c: "excluded by you" for c in exclude if c in df.columns})
    unobserved = _numbers(df, [target])[target].isna()
    df, value_notes = fill_series(df, columns)
    notes += value_notes
    values = df[columns].to_numpy(dtype=float)
    y = values[:, 0]
    n = len(y)
    a, b = split_periods(n, lookback, horizon, test_size, val_size)
    # Test figures score observed values only: a carried-forward value is no actual.
    actual = np.where(unobserved.loc[df.index].to_numpy(), np.nan, y)
    if np.isnan(actual[b:]).any():
        notes.append(
            f"{int(np.isnan(actual[b:]).sum())} value(s) of '{target}' in the test period were "
            "missing; the test metrics leave them out (the model still sees the carried-forward "
            "values as inputs)."
        )
    scaler = SeriesScaler().fit(values[:a])
    scaled = scaler.transform(values)
    encoding = TargetEncoding(task="regression", mean=float(scaler.mean_[0]),
                              std=float(scaler.scale_[0]), n_steps=horizon)
    season = season_length or detect_season(y[:a])
    splits = {"train": range(lookback, a - horizon + 1), "val": range(a, b - horizon + 1),
              "test": range(b, n - horizon + 1)}
    xy = {k: make_windows(scaled, y, lookback, horizon, s) for k, s in splits.items()}

    def enc(raw: np.ndarray) -> np.ndarray:
        return ((raw - encoding.mean) / encoding.std).astype(np.float32)

    times = time_labels(df[time_column])
    context = max(b - 3 * lookback, 0)
    return PreparedData(
        x_train=xy["train"][0], y_train=enc(xy["train"][1]),
        x_val=xy["val"][0], y_val=enc(xy["val"][1]),
        x_test=xy["test"][0], y_test=enc(xy["test"][1]),
        raw_test=df.iloc[b - lookback:], preprocessor=scaler, target=encoding,
        feature_columns=columns, dropped=dropped, profile=profile, notes=notes,
        data_kind="timeseries",
        layout={"time_column": time_column, "lookback": lookback, "horizon": horizon,
                "season_length": season or 0},
        extra={
            "y_test_raw": make_windows(scaled, actual, lookback, horizon, splits["test"])[1],
            "baselines": naive_forecasts(y, splits["test"], horizon, season),
            "period_time": times[b:],
            "period_actual": actual[b:].tolist(),
            "history": {"time": times[context:b], "value": y[context:b].tolist()},
            "periods": {"train": [times[0], times[a - 1]], "val": [times[a], times[b - 1]],
                        "test": [times[b], times[-1]]},
        },
    )


# -- sequences (one per row, or one step per row) --------------------------------------------


def wide_columns(columns, exclude=()) -> list[str]:
    """Columns named ``t0..tN`` (or ``step_1``, ``x3``...) in step order; [] if fewer than 3."""
    found = [(int(m.group(1)), c) for c in columns if c not in exclude
             and (m := _WIDE.match(str(c)))]
    return [c for _, c in sorted(found)] if len(found) >= MIN_STEPS else []


def wide_array(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Wide-format rows as ``(n, steps, 1)`` raw values.

    Raises:
        DataError: for non-numeric or missing values.
    """
    frame = df[columns].apply(pd.to_numeric, errors="coerce")
    bad = frame.isna() & df[columns].notna()
    if bad.any().any():
        col = bad.any().idxmax()
        example = df.loc[bad[col], col].astype(str).iloc[0]
        raise DataError(
            f"Sequence column '{col}' has non-numeric value(s) (e.g. {example!r}); sequence "
            "steps must be numbers. Fix or remove those rows."
        )
    if frame.isna().any().any():
        rows = int(frame.isna().any(axis=1).sum())
        raise DataError(
            f"{rows} sequence(s) have missing steps; every row needs a value in each of "
            f"{columns[0]}..{columns[-1]}. Fill them or remove those rows."
        )
    return frame.to_numpy(dtype=float)[:, :, None]


def long_array(df: pd.DataFrame, id_column: str, step_column: str, value_columns: list[str],
               n_steps: int | None = None) -> tuple[np.ndarray, list[Any]]:
    """Long-format rows as ``(n_sequences, steps, features)`` raw values and the sequence ids.

    Raises:
        DataError: for missing columns, non-numeric values, repeated steps or sequences of
            different lengths (or not ``n_steps`` long).
    """
    missing = [c for c in (id_column, step_column, *value_columns) if c not in df.columns]
    if missing:
        raise DataError(f"The data lacks the sequence column(s) {missing}.")
    frame = _numbers(df, value_columns)
    frame["_id"], frame["_step"] = df[id_column].to_numpy(), df[step_column].to_numpy()
    if frame.duplicated(["_id", "_step"]).any():
        first = frame[frame.duplicated(["_id", "_step"])].iloc[0]
        raise DataError(
            f"Sequence {_py(first['_id'])!r} has step {_py(first['_step'])!r} more than once; each "
            f"(sequence id, step) pair must be unique in '{id_column}', '{step_column}'."
        )
    frame = frame.sort_values(["_id", "_step"], kind="stable")
    lengths = frame.groupby("_id", sort=False).size()
    expected = n_steps or int(lengths.mode().iloc[0])
    if (lengths != expected).any():
        odd = lengths[lengths != expected]
        raise DataError(
            f"Sequences must all have {expected} steps; {len(odd)} do not (e.g. sequence "
            f"{_py(odd.index[0])!r} has {int(odd.iloc[0])}). Pad or trim them to a common length."
        )
    # A missing step is filled within its own sequence only: a sequence is one sample, so
    # values of other sequences (maybe of another split) never reach it.
    filled = frame.groupby("_id", sort=False)[value_columns].transform(
        lambda s: s.interpolate(limit_direction="both"))
    if filled.isna().any().any():
        column = filled.isna().any().idxmax()
        empty = _py(frame.loc[filled[column].isna(), "_id"].iloc[0])
        raise DataError(
            f"Sequence {empty!r} has no value in '{column}' at any step; fill it or remove "
            "that sequence."
        )
    frame[value_columns] = filled
    ids = list(lengths.index)
    arr = frame[value_columns].to_numpy(dtype=float).reshape(len(ids), expected, len(value_columns))
    return arr, ids


def prepare_sequences(
    df: pd.DataFrame, target: str, task: str, *, id_column: str | None = None,
    step_column: str | None = None, test_size: float = 0.2, val_size: float = 0.1,
    seed: int = 42, exclude: tuple[str, ...] = (), profile: DataProfile | None = None,
) -> PreparedData:
    """Sequences (wide: one per row; long: with ``id_column`` and ``step_column``) split by
    sequence (stratified for classification), scaled on the training sequences.

    Raises:
        DataError: for a bad target, no sequence columns, or bad sequence values.
    """
    profile = profile or profile_dataframe(df)
    if id_column is None:
        check_target(df, target, task, test_size=test_size, val_size=val_size)
        columns = wide_columns([c for c in df.columns if c != target], exclude)
        if not columns:
            raise DataError(
                "No sequence columns found: wide sequences need columns named t0, t1, ... "
                "(at least 3). For one row per step, choose the sequence id and step columns."
            )
        known = df[df[target].notna()]
        raw = wide_array(known, columns)
        table, ids = known, list(known.index)
        layout = {"format": "wide", "n_steps": len(columns)}
        features = columns
    else:
        if not step_column:
            raise DataError("Long-format sequences need a step column besides the id column.")
        value_columns = [c for c in df.columns if c not in (id_column, step_column, target)
                         and c not in exclude and profile.column(c).kind == "numeric"]
        if not value_columns:
            raise DataError("No numeric value columns besides the sequence id, step and target.")
        if target not in df.columns:
            check_target(df, target, task)
        per_id = df.groupby(id_column, sort=True)[target]
        varying = per_id.nunique(dropna=True)
        if (varying > 1).any():
            first = _py(varying[varying > 1].index[0])
            raise DataError(
                f"Target '{target}' changes within sequence {first!r}; "
                "for sequence classification or regression each sequence has one target value."
            )
        raw, ids = long_array(df, id_column, step_column, value_columns)
        table = per_id.first().loc[ids].to_frame()
        check_target(table, target, task, test_size=test_size, val_size=val_size)
        layout = {"format": "long", "id_column": id_column, "step_column": step_column,
                  "n_steps": raw.shape[1], "value_columns": value_columns}
        features = [id_column, step_column, *value_columns]
    position = {k: i for i, k in enumerate(ids)}
    train, val, test = split_rows(table, target, task, test_size=test_size, val_size=val_size,
                                  seed=seed)

    def pick(part: pd.DataFrame) -> np.ndarray:
        return raw[[position[k] for k in part.index]]

    scaler = SeriesScaler().fit(pick(train))
    encoding = TargetEncoding.fit(train[target], task)
    raw_test = test if id_column is None else df[df[id_column].isin(set(test.index))]
    dropped = {c: "not a sequence column" for c in df.columns
               if c not in features and c != target and c not in exclude}
    dropped.update({c: "excluded by you" for c in exclude if c in df.columns})
    return PreparedData(
        x_train=scaler.transform(pick(train)), y_train=encoding.encode(train[target]),
        x_val=scaler.transform(pick(val)), y_val=encoding.encode(val[target]),
        x_test=scaler.transform(pick(test)), y_test=encoding.encode(test[target]),
        raw_test=raw_test, preprocessor=scaler, target=encoding, feature_columns=features,
        dropped=dropped, profile=profile, notes=[], data_kind="sequence", layout=layout,
    )


def detect_data_kind(df: pd.DataFrame, target: str | None = None) -> str:
    """``image``, ``sequence``, ``timeseries`` or ``tabular``: the best guess for ``df``."""
    from dl_core.data.images import detect_pixel_layout

    if detect_pixel_layout(df, target) is not None:
        return "image"
    if wide_columns([c for c in df.columns if c != target]):
        return "sequence"
    time_column = detect_time_column(df)
    if time_column is not None and time_column != target and len(df) >= 50:
        numeric = [c for c in df.columns if c != time_column
                   and pd.api.types.is_numeric_dtype(df[c])]
        # A repeating text column (weather: rain/sun/fog) makes it a dated table, not a series.
        categorical = [c for c in df.columns if c != time_column and c not in numeric
                       and df[c].nunique() < df[c].count()]
        if numeric and not categorical and len(numeric) >= df.shape[1] - 2:
            return "timeseries"
    return "tabular"
