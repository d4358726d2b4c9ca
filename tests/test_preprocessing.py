"""Preprocessing is fit on the training split only and reproduces on raw rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.data.preprocessing import (
    TargetEncoding,
    load_preprocessor,
    prepare_tabular,
    save_preprocessor,
    split_rows,
)
from dl_core.data.sequences import detect_data_kind
from dl_core.data.splits import describe_split
from dl_core.errors import DataError


def test_planted_leak_in_test_split_leaves_preprocessing_unchanged(tiny_binary):
    clean = prepare_tabular(tiny_binary, "label", "binary", seed=3)
    planted = tiny_binary.copy()
    test_ids = clean.raw_test.index
    planted.loc[test_ids, "x1"] = 1e9  # extreme values only where the test split lives
    leaky = prepare_tabular(planted, "label", "binary", seed=3)
    assert list(leaky.raw_test.index) == list(test_ids)
    scale_clean = clean.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    scale_leaky = leaky.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    np.testing.assert_array_equal(scale_clean.mean_, scale_leaky.mean_)
    np.testing.assert_array_equal(scale_clean.scale_, scale_leaky.scale_)
    np.testing.assert_array_equal(clean.x_train, leaky.x_train)


def test_split_is_stratified_and_disjoint(tiny_binary):
    train, val, test = split_rows(tiny_binary, "label", "binary", test_size=0.2, val_size=0.1, seed=0)
    assert len(train) + len(val) + len(test) == len(tiny_binary)
    assert not set(train.index) & set(test.index) and not set(val.index) & set(test.index)
    overall = (tiny_binary["label"] == "yes").mean()
    assert abs((test["label"] == "yes").mean() - overall) < 0.05


def test_features_drop_id_and_reproduce_after_save(tiny_binary, tmp_path):
    data = prepare_tabular(tiny_binary, "label", "binary")
    assert "id" not in data.feature_columns and "id" in data.dropped
    path = tmp_path / "pre.skops"
    save_preprocessor(data.preprocessor, path)
    again = load_preprocessor(path).transform(data.raw_test[data.feature_columns])
    np.testing.assert_allclose(again, data.x_test, rtol=1e-6)


def test_unseen_category_and_missing_values_are_handled(tiny_binary):
    data = prepare_tabular(tiny_binary, "label", "binary")
    rows = data.raw_test[data.feature_columns].head(3).copy()
    rows["color"] = ["purple", None, "red"]
    rows["x1"] = [np.nan, 0.0, 1.0]
    out = data.preprocessor.transform(rows)
    assert out.shape[0] == 3 and np.isfinite(out.astype(float)).all()


def test_dates_become_numeric_features():
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({
        "signup": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "x": rng.normal(size=n),
        "y": rng.normal(size=n),
    })
    data = prepare_tabular(df, "y", "regression")
    assert "signup" in data.feature_columns
    names = list(data.preprocessor.get_feature_names_out())
    assert any(n.startswith("datetime__signup_") for n in names)


def test_regression_target_is_standardised_and_inverted(tiny_regression):
    data = prepare_tabular(tiny_regression, "y", "regression")
    assert abs(float(np.mean(data.y_train))) < 1e-5
    enc = data.target
    np.testing.assert_allclose(enc.decode_regression(enc.encode(tiny_regression["y"])),
                               tiny_regression["y"], rtol=1e-5)
    assert TargetEncoding.from_dict(enc.to_dict()) == enc


def test_numeric_class_labels_sort_numerically():
    enc = TargetEncoding.fit(pd.Series([10, 2, 1, 2.0]), "multiclass")
    assert enc.classes == ("1", "2", "10")


@pytest.mark.parametrize("sizes", [(0.6, 0.1), (0.01, 0.1)])
def test_bad_split_sizes_are_explained(tiny_binary, sizes):
    with pytest.raises(DataError, match="test_size and val_size"):
        split_rows(tiny_binary, "label", "binary", test_size=sizes[0], val_size=sizes[1], seed=0)


def test_split_by_time_trains_on_the_past_and_tests_on_the_future(weather_log):
    weather_log = weather_log.sample(frac=1.0, random_state=0)  # rows out of date order
    data = prepare_tabular(weather_log, "weather", "multiclass", split="time")
    dates = {name: pd.to_datetime(frame["date"]) for name, frame in (
        ("train", weather_log.loc[_rows(data, weather_log, "train")]),
        ("val", weather_log.loc[_rows(data, weather_log, "val")]),
        ("test", data.raw_test))}
    assert dates["train"].max() < dates["val"].min()
    assert dates["val"].max() < dates["test"].min()
    assert len(dates["train"]) + len(dates["val"]) + len(dates["test"]) == len(weather_log)
    assert data.split == {
        "method": "time", "column": "date", "train": ["2012-01-01", "2012-07-28"],
        "val": ["2012-07-29", "2012-08-27"], "test": ["2012-08-28", "2012-10-26"],
        "n_train": 210, "n_val": 30, "n_test": 60,
    }
    assert describe_split(data.split) == (
        "Split by time on `date`: train 2012-01-01 … 2012-07-28 (210 rows), validation "
        "2012-07-29 … 2012-08-27 (30 rows), test 2012-08-28 … 2012-10-26 (60 rows).")


def _rows(data, df, split):
    """Indices of ``df`` rows whose transformed features equal the split's (rows are unique)."""
    x = data.x_train if split == "train" else data.x_val
    full = data.preprocessor.transform(df[data.feature_columns])
    index = {row.tobytes(): i for i, row in zip(df.index, full.astype(np.float32))}
    return [index[row.tobytes()] for row in x]


def test_a_dated_table_splits_by_time_by_default_and_random_on_request(weather_log):
    assert detect_data_kind(weather_log) == "tabular"  # not a forecast of precipitation
    assert prepare_tabular(weather_log, "weather", "multiclass").split["method"] == "time"
    random = prepare_tabular(weather_log, "weather", "multiclass", split="random", seed=7)
    assert random.split == {"method": "random", "seed": 7, "stratified": True,
                            "date_column": "date", "n_train": 210, "n_val": 30, "n_test": 60}
    assert describe_split(random.split) == (
        "Random split (stratified by the target, seed 7): 210 train, 30 validation, 60 test rows. "
        "A split by time on `date` would test on the latest rows instead.")
    # A date that does not order the rows (a sign-up date) is a feature: random split, on offer.
    shuffled = prepare_tabular(weather_log.sample(frac=1.0, random_state=0), "weather",
                               "multiclass", seed=7)
    assert shuffled.split == random.split
    undated = weather_log.drop(columns=["date"])
    assert prepare_tabular(undated, "weather", "multiclass", seed=7).split == {
        "method": "random", "seed": 7, "stratified": True, "n_train": 210, "n_val": 30,
        "n_test": 60}
    with pytest.raises(DataError, match="A split by time needs a date or time column"):
        prepare_tabular(undated, "weather", "multiclass", split="time")


def test_equal_times_never_straddle_two_splits():
    rng = np.random.default_rng(0)
    days = np.repeat(pd.date_range("2020-01-01", periods=10).strftime("%Y-%m-%d"), 7)
    df = pd.DataFrame({"day": days, "x": rng.normal(size=70), "y": rng.normal(size=70)})
    data = prepare_tabular(df, "y", "regression", split="time", test_size=0.2, val_size=0.17)
    assert data.split["train"][1] < data.split["val"][0] <= data.split["val"][1]
    assert data.split["val"][1] < data.split["test"][0]
    assert (data.split["n_train"], data.split["n_val"], data.split["n_test"]) == (49, 7, 14)


def test_a_class_seen_only_after_training_is_explained(weather_log):
    late = weather_log.copy()
    late.loc[pd.to_datetime(late["date"]) >= "2012-09-15", "weather"] = "snow"
    with pytest.raises(DataError, match=r"Class\(es\) 'snow' of 'weather' appear only after the "
                                        r"training period"):
        prepare_tabular(late, "weather", "multiclass", split="time")
