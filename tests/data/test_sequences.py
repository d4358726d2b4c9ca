"""Time series and sequences: time checks, chronological windows, train-only scaling,
naive baselines, wide and long formats, and every bad input explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.data.sequences import (
    check_time_column,
    detect_data_kind,
    detect_season,
    detect_time_column,
    naive_forecasts,
    prepare_sequences,
    prepare_timeseries,
    split_periods,
)
from dl_core.errors import DataError


def series(n=200, season=12, seed=0, start="2024-01-01", freq="D"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    value = 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / season) + rng.normal(0, 0.2, n)
    return pd.DataFrame({"date": pd.date_range(start, periods=n, freq=freq).strftime("%Y-%m-%d"),
                         "value": value})


def test_windows_are_chronological_and_targets_stay_in_their_period():
    df = series(200)
    data = prepare_timeseries(df, "value", time_column="date", lookback=10, horizon=3)
    a, b = split_periods(200, 10, 3, 0.2, 0.1)
    assert (a, b) == (140, 160)
    assert data.x_train.shape == (140 - 3 - 10 + 1, 10, 1) and data.y_train.shape[1] == 3
    assert data.x_test.shape[0] == 200 - 3 - 160 + 1
    y = df["value"].to_numpy()
    # The first test window forecasts the first 3 test points from the 10 before them.
    np.testing.assert_allclose(data.extra["y_test_raw"][0], y[160:163])
    np.testing.assert_allclose(data.target.decode_steps(data.y_test)[0], y[160:163], rtol=1e-5)
    assert data.layout == {"time_column": "date", "lookback": 10, "horizon": 3,
                           "season_length": 12}


def test_scaling_is_fit_on_the_training_period_only():
    df = series(200)
    clean = prepare_timeseries(df, "value", time_column="date", lookback=10, horizon=1)
    planted = df.copy()
    planted.loc[150:, "value"] = 1e6  # extreme values only after the training period
    leaky = prepare_timeseries(planted, "value", time_column="date", lookback=10, horizon=1)
    np.testing.assert_array_equal(clean.preprocessor.mean_, leaky.preprocessor.mean_)
    np.testing.assert_array_equal(clean.x_train, leaky.x_train)


def test_unsorted_rows_are_sorted_and_noted():
    df = series(100).sample(frac=1.0, random_state=0)
    ordered, notes = check_time_column(df, "date")
    assert ordered["date"].is_monotonic_increasing and "sorted" in notes[0]


def test_monthly_series_is_regular():
    df = series(60, freq="MS")
    check_time_column(df, "date")
    assert detect_time_column(df) == "date"


def test_naive_forecasts():
    y = np.arange(30, dtype=float)
    out = naive_forecasts(y, range(20, 22), horizon=3, season=4)
    np.testing.assert_array_equal(out["last_value"], [[19, 19, 19], [20, 20, 20]])
    np.testing.assert_array_equal(out["seasonal_last_value"], [[16, 17, 18], [17, 18, 19]])


def test_season_is_detected():
    assert detect_season(series(300, season=12)["value"].to_numpy()) == 12
    assert detect_season(np.random.default_rng(0).normal(size=300)) is None


def test_data_kind_detection(tiny_binary):
    assert detect_data_kind(series(100)) == "timeseries"
    assert detect_data_kind(tiny_binary) == "tabular"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: pd.concat([d, d.iloc[[5]]]), r"1 duplicate time\(s\) \(e.g. 2024-01-06\)"),
        (lambda d: d.drop(index=range(50, 80)), r"1 gap\(s\): e.g. after 2024-02-19 the next "
                                                r"time is 2024-03-21, but the usual step is 1 days"),
        (lambda d: d.assign(value=d["value"].astype(object).where(d.index != 7, "n/a?")),
         r"Series 'value' has 1 non-numeric value\(s\) \('n/a\?'\)"),
        (lambda d: d.assign(date=d["date"].where(d.index != 3, "someday")),
         r"Time column 'date' has 1 value\(s\) that are neither dates nor numbers"),
    ],
    ids=["duplicates", "gap", "non-numeric", "bad-time"],
)
def test_bad_series_are_explained(change, match):
    with pytest.raises(DataError, match=match):
        prepare_timeseries(change(series(200)), "value", time_column="date", lookback=5)


def test_a_few_missing_time_steps_are_filled_with_a_note():
    df = series(200).drop(index=[50, 51, 120])
    ordered, notes = check_time_column(df, "date")
    assert len(ordered) == 200 and ordered["value"].isna().sum() == 3
    assert notes == ["3 missing time step(s) in 'date' were added; their values are carried "
                     "forward from the last observed value."]
    data = prepare_timeseries(df, "value", time_column="date", lookback=5)
    assert any("3 missing time step(s)" in n for n in data.notes)


def test_series_too_short_for_lookback_and_horizon():
    with pytest.raises(DataError, match=r"The series has 60 points, too few for lookback 40 and "
                                        r"horizon 5.*Use at least \d+ points"):
        prepare_timeseries(series(60), "value", time_column="date", lookback=40, horizon=5)


def test_missing_values_are_interpolated_with_a_note():
    df = series(100)
    df.loc[10, "value"] = np.nan
    data = prepare_timeseries(df, "value", time_column="date", lookback=5)
    assert any("interpolation" in n for n in data.notes)


def wide_frame(n=90, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, steps))
    frame = pd.DataFrame(x, columns=[f"t{i}" for i in range(steps)])
    frame["label"] = np.where(x.sum(axis=1) > 0, "up", "down")
    return frame


def test_wide_sequences():
    data = prepare_sequences(wide_frame(), "label", "binary", seed=0)
    assert data.input_shape == (8, 1) and data.layout == {"format": "wide", "n_steps": 8}
    assert detect_data_kind(wide_frame(), "label") == "sequence"


def test_long_sequences_match_their_wide_form():
    wide = wide_frame(n=60, steps=5)
    long = wide.reset_index(names="seq").melt(id_vars=["seq", "label"], var_name="step",
                                               value_name="x")
    long["step"] = long["step"].str[1:].astype(int)
    data = prepare_sequences(long.sample(frac=1.0, random_state=1), "label", "binary",
                             id_column="seq", step_column="step", seed=0)
    assert data.input_shape == (5, 1) and data.layout["format"] == "long"
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 60


def test_long_sequences_of_different_lengths_are_explained():
    long = pd.DataFrame({"seq": [1] * 5 + [2] * 4 + [3] * 5,
                         "step": [*range(5), *range(4), *range(5)],
                         "x": np.random.default_rng(0).normal(size=14),
                         "y": [0] * 5 + [1] * 4 + [0] * 5})
    with pytest.raises(DataError, match=r"Sequences must all have 5 steps; 1 do not \(e.g. "
                                        r"sequence 2 has 4\)"):
        prepare_sequences(long, "y", "binary", id_column="seq", step_column="step")


def test_no_sequence_columns_is_explained(tiny_binary):
    with pytest.raises(DataError, match=r"No sequence columns found"):
        prepare_sequences(tiny_binary, "label", "binary")
