"""Time series and sequences: time checks, chronological windows, train-only scaling,
naive baselines, wide and long formats, and every bad input explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.data.sequences import (
    check_time_column,
    decimal_year_period,
    default_series,
    detect_data_kind,
    detect_season,
    detect_time_column,
    fill_series,
    long_array,
    naive_forecasts,
    prepare_sequences,
    prepare_timeseries,
    split_periods,
    time_labels,
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


def test_missing_values_are_carried_forward_with_a_note():
    df = series(100)
    df.loc[10, "value"] = np.nan
    data = prepare_timeseries(df, "value", time_column="date", lookback=5)
    assert "1 missing value(s) in 'value' were carried forward from the last observed value." \
        in data.notes


def test_fill_series_reads_only_the_past_and_drops_a_leading_gap():
    df = pd.DataFrame({"t": range(7), "v": [np.nan, 1.0, np.nan, np.nan, 4.0, np.nan, 6.0],
                       "c": [5.0, 6.0, 7.0, np.nan, 9.0, 10.0, np.nan]})
    filled, notes = fill_series(df, ["v", "c"])
    assert filled["t"].tolist() == [1, 2, 3, 4, 5, 6]  # no earlier value of 'v' for t=0
    assert filled["v"].tolist() == [1.0, 1.0, 1.0, 4.0, 4.0, 6.0]
    assert filled["c"].tolist() == [6.0, 7.0, 7.0, 9.0, 10.0, 10.0]
    assert notes[0] == ("The first 1 row(s) were left out: they come before the first value of "
                        "'v', and a missing value is only filled from earlier ones.")
    assert notes[1:] == [
        "3 missing value(s) in 'v' were carried forward from the last observed value.",
        "2 missing value(s) in 'c' were carried forward from the last observed value."]


@pytest.mark.parametrize("gap", ["values", "steps"])
def test_the_test_period_cannot_change_earlier_periods(gap):
    """Two series alike up to the test period, with a gap just before it (empty values, or
    missing rows), give the same training and validation windows and scaling."""
    frames = []
    for future in (0.0, 1e4):
        df = series(200)
        df.loc[160:, "value"] += future  # the test period starts at step 160
        if gap == "values":
            df.loc[157:159, "value"] = np.nan
        else:
            df = df.drop(index=[157, 158, 159])
        frames.append(prepare_timeseries(df, "value", time_column="date", lookback=10,
                                         horizon=2))
    a, b = frames
    for name in ("x_train", "y_train", "x_val", "y_val"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.preprocessor.mean_, b.preprocessor.mean_)
    np.testing.assert_array_equal(a.extra["history"]["value"], b.extra["history"]["value"])
    assert a.extra["periods"]["test"][0] == "2024-06-09"  # step 160


def test_test_metrics_leave_out_values_never_observed():
    from dl_core.evaluation.reports import forecast_report_data

    df = series(200)
    df.loc[[170, 171], "value"] = np.nan  # in the test period (from step 160)
    data = prepare_timeseries(df, "value", time_column="date", lookback=10, horizon=1)
    y_true = data.extra["y_test_raw"]
    assert np.isnan(y_true[10:12, 0]).all() and np.isnan(y_true).sum() == 2
    assert np.isnan(data.extra["period_actual"][10:12]).all()
    assert any("2 value(s) of 'value' in the test period were missing" in n for n in data.notes)
    # The last-value baseline carries 169's value into 170 and 171: a perfect "forecast" of
    # values never observed, which must not count.
    last = data.extra["baselines"]["last_value"]
    report = forecast_report_data(y_true, last, baselines={}, period_time=data.extra[
        "period_time"], period_actual=data.extra["period_actual"])
    observed = ~np.isnan(y_true[:, 0])
    expected = np.sqrt(np.mean((y_true[observed, 0] - last[observed, 0]) ** 2))
    assert report["metrics"]["rmse"] == pytest.approx(expected)
    assert report["series"]["actual"][10] is None


def test_forecast_inputs_never_read_later_rows():
    """The Predictor's windows: a forecast made at a time is the same whatever follows it."""
    from dl_core.data.transformers import SeriesScaler
    from dl_core.predictor import Predictor

    df = series(60)
    df.loc[40:42, "value"] = np.nan
    later = df.copy()
    later.loc[43:, "value"] = 1e6
    meta = {"data_kind": "timeseries", "feature_columns": ["value"],
            "layout": {"time_column": "date", "lookback": 5}}
    predictor = Predictor(model=None, preprocessor=SeriesScaler().fit(df[["value"]]), meta=meta)
    x, index, extra = predictor.model_inputs(df)
    x_later, _, _ = predictor.model_inputs(later)
    up_to_gap = list(index).index(42) + 1  # windows ending at or before the gap's last step
    np.testing.assert_array_equal(x[:up_to_gap], x_later[:up_to_gap])
    assert extra["date"][up_to_gap - 1] == "2024-02-12"


def r_series(per: int, n: int, digits: int | None = None) -> pd.DataFrame:
    """A series as R exports a ``ts``: ``rownames``, fractional-year ``time``, ``value``."""
    t = np.arange(n)
    time = 1949 + t / per
    return pd.DataFrame({"rownames": t + 1, "time": np.round(time, digits) if digits else time,
                         "value": 100 + 2 * t + 10 * np.sin(2 * np.pi * t / per)})


@pytest.mark.parametrize(("per", "digits", "labels"), [
    (12, None, ["1949-01", "1949-02", "1949-03"]),
    (12, 2, ["1949-01", "1949-02", "1949-03"]),  # 1949.08, 1949.17: rounded by the export
    (4, None, ["1949-Q1", "1949-Q2", "1949-Q3"]),
])
def test_decimal_years_are_months_or_quarters(per, digits, labels):
    df = r_series(per, 48, digits)
    assert decimal_year_period(df["time"]) == per
    ordered, notes = check_time_column(df, "time")
    assert len(ordered) == 48 and "fractional years" in notes[0]
    assert time_labels(ordered["time"])[:3] == labels
    assert detect_time_column(df.rename(columns={"time": "when"})) == "when"


def test_a_missing_month_of_decimal_years_is_added():
    df = r_series(12, 60).drop(index=[20, 21])
    ordered, notes = check_time_column(df, "time")
    assert len(ordered) == 60 and ordered["value"].isna().sum() == 2
    assert time_labels(ordered["time"])[19:23] == ["1950-08", "1950-09", "1950-10", "1950-11"]
    assert notes[-1].startswith("2 missing time step(s) in 'time' were added")


def test_float_steps_within_rounding_are_regular_and_real_gaps_are_not():
    df = pd.DataFrame({"s": np.arange(60) * 0.1, "v": np.arange(60.0)})  # 0.30000000000000004
    assert check_time_column(df, "s")[1] == []
    with pytest.raises(DataError, match=r"has 1 gap\(s\): e.g. after 1.9 the next time is 3.1, "
                                        r"but the usual step is 0.1"):
        check_time_column(df.drop(index=range(20, 31)), "s")
    with pytest.raises(DataError, match="unevenly spaced"):
        check_time_column(df.assign(s=df["s"].where(df.index != 30, 3.05)), "s")
    assert decimal_year_period(pd.Series(np.arange(1949, 2000))) is None  # whole years


def test_the_default_series_is_never_an_identifier_or_the_time():
    from ui.data import default_target

    df = r_series(12, 144)
    assert default_series(df) == "value"
    assert default_target(df, "timeseries") == "value"  # what the Data page preselects
    assert default_series(df.assign(rownames=df["rownames"] - 1, sales=1.0 * df["rownames"])) \
        == "value"


def test_long_sequences_fill_a_missing_step_within_their_own_sequence():
    df = pd.DataFrame({"id": np.repeat([1, 2], 4), "step": np.tile(range(4), 2),
                       "v": [1.0, 2.0, 3.0, np.nan, np.nan, 20.0, 30.0, 40.0]})
    arr, ids = long_array(df, "id", "step", ["v"])
    np.testing.assert_array_equal(arr[:, :, 0], [[1, 2, 3, 3], [20, 20, 30, 40]])


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
