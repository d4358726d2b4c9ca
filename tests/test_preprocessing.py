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
