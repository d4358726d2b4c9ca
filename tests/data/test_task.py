"""detect_task and check_target: the task guess and every target error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.data.task import TASKS, check_target, detect_task, guess_target
from dl_core.errors import ConfigError, DataError


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["yes", "no", "yes", None], "binary"),
        (["a", "b", "c"], "multiclass"),
        ([0, 1, 1, 0], "binary"),
        ([1.5, 2.5, 2.5, np.nan], "binary"),
        ([True, False, True], "binary"),
        ([1, 2, 3, 4, 5] * 4, "multiclass"),  # <= 10 distinct integers
        ([float(v) for v in range(15)] * 20, "multiclass"),  # 15 distinct, 5% of rows
        (list(range(15)) * 2, "regression"),  # 15 distinct in 30 rows: a quantity
        (list(range(30)), "regression"),
        ([0.1, 0.2, 0.3, 0.4], "regression"),
    ],
)
def test_detect_task(values, task):
    assert detect_task(pd.Series(values, name="y")) == task
    assert task in TASKS


def test_detect_task_all_missing():
    with pytest.raises(DataError, match="Target column 'y' has no values"):
        detect_task(pd.Series([np.nan, np.nan], name="y"))


def _frame(target, n=40):
    return pd.DataFrame({"x": np.arange(n, dtype=float), "churn": target})


def test_valid_targets_pass():
    check_target(_frame(["Yes", "No"] * 20), "churn", "binary")
    check_target(_frame(["a", "b", "c", "d"] * 10), "churn", "multiclass")
    check_target(_frame(np.linspace(0, 1, 40)), "churn", "regression")


def test_unknown_target_suggests_close_match():
    with pytest.raises(
        DataError, match=r"Target column 'chrun' is not in the data\. Did you mean 'churn'"
    ):
        check_target(_frame(["Yes", "No"] * 20), "chrun", "binary")


def test_unknown_task():
    with pytest.raises(DataError, match="Unknown task 'clustering'; expected one of binary"):
        check_target(_frame(["Yes", "No"] * 20), "churn", "clustering")


def test_bad_split_sizes():
    with pytest.raises(ConfigError, match="test_size"):
        check_target(_frame(["Yes", "No"] * 20), "churn", "binary", test_size=1.2)
    with pytest.raises(ConfigError, match="leave rows for training"):
        check_target(_frame(["Yes", "No"] * 20), "churn", "binary", test_size=0.6, val_size=0.4)


def test_all_missing_target():
    with pytest.raises(DataError, match="Target column 'churn' has no values"):
        check_target(_frame([np.nan] * 40), "churn", "binary")


def test_single_class():
    msg = "Target column 'churn' has a single class ('No'); classification needs at least two."
    with pytest.raises(
        DataError, match=msg.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ):
        check_target(_frame(["No"] * 40), "churn", "binary")


def test_single_value_regression():
    with pytest.raises(DataError, match="single value .* nothing to predict"):
        check_target(_frame([3.5] * 40), "churn", "regression")


def test_rare_classes_are_listed():
    target = ["a"] * 30 + ["b"] * 5 + ["c"] * 2 + ["d"] * 1 + ["e"] * 2
    with pytest.raises(DataError, match=r"3 class\(es\) with fewer than 3 rows: ") as err:
        check_target(_frame(target), "churn", "multiclass")
    message = str(err.value)
    assert "'c' (2)" in message and "'d' (1)" in message and "'e' (2)" in message
    assert "'b'" not in message
    assert "Merge rare classes or remove those rows" in message


def test_rare_numeric_classes_suggest_regression():
    target = list(range(12)) * 3 + [12, 13, 14, 15]
    with pytest.raises(DataError, match="use task 'regression'"):
        check_target(_frame(target), "churn", "multiclass")


def test_rare_classes_list_is_capped():
    target = ["big"] * 30 + [f"r{i}" for i in range(12)]
    with pytest.raises(DataError, match="and 2 more"):
        check_target(_frame(target, n=42), "churn", "multiclass")


def test_more_classes_than_test_split():
    target = [f"c{i % 40}" for i in range(150)]  # 40 classes, test split holds 30 rows
    with pytest.raises(
        DataError, match=r"40 classes, but the test split holds only 30 of 150 rows.*stratified"
    ) as err:
        check_target(_frame(target, n=150), "churn", "multiclass")
    assert "at least 27%" in str(err.value)
    check_target(_frame(target, n=150), "churn", "multiclass", test_size=0.3, val_size=0.3)


def test_more_classes_than_validation_split():
    target = [f"c{i % 10}" for i in range(60)]  # validation split holds 6 rows
    with pytest.raises(DataError, match="validation split holds only 6 of 60 rows"):
        check_target(_frame(target, n=60), "churn", "multiclass")


def test_regression_needs_numbers():
    with pytest.raises(
        DataError, match="Target column 'churn' is not numeric .* regression needs numbers"
    ):
        check_target(_frame(["Yes", "No"] * 20), "churn", "regression")


def test_too_few_rows():
    target = ["Yes", "No"] * 8 + [None] * 4
    with pytest.raises(
        DataError,
        match=r"Only 16 rows have a value .* \(4 more have no target value\); training needs at least 20",
    ):
        check_target(_frame(target, n=20), "churn", "binary")


def _table(columns, n=30):
    rng = np.random.default_rng(0)
    return pd.DataFrame({c: rng.normal(size=n) for c in columns})


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ("carat,cut,color,clarity,depth,table,price,x,y,z", "price"),  # diamonds: y is a width
        ("a,y,b", "y"),  # y only when nothing else is named like a target
        ("Class,price,x", "Class"),  # explicit names beat domain names
        ("customerID,tenure,Churn Label,Churn Value", "Churn Label"),
        ("sepal_length,sepal_width,species", "species"),
        ("fixed acidity,alcohol,quality", "quality"),
        ("age,is_member,spend", "is_member"),
        ("carat,depth,width", None),  # nothing stands out: the user chooses
    ],
)
def test_guess_target_by_name(columns, expected):
    assert guess_target(_table(columns.split(","))) == expected


def test_guess_target_skips_constant_columns():
    df = _table(["x", "price"]).assign(label="same")
    assert guess_target(df) == "price"
