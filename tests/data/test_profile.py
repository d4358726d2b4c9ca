"""profile_dataframe: one kind per column, and the reasons for dropping columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dl_core.data.loading import read_csv
from dl_core.data.profile import KINDS, DataProfile, profile_dataframe
from dl_core.data.storage import load_dataset, store_dataset
from dl_core.errors import DataError

N = 60


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    words = ["great", "service", "slow", "delivery", "would", "buy", "again", "not", "happy"]
    df = pd.DataFrame(
        {
            "row": np.arange(N),
            "customer_id": rng.permutation(N) + 1000,
            "order_no": rng.permutation(N) + 1,  # consecutive 1..N, a row counter
            "code": [f"C{i:04d}" for i in range(N)],
            "age": rng.integers(18, 80, N),
            "income": rng.normal(50_000, 9_000, N).round(2),
            "pixel_1": rng.integers(0, 256, N),
            "is_member": rng.choice(["Yes", "No"], N),
            "flag01": rng.integers(0, 2, N),
            "color": rng.choice(["red", "green", "blue"], N),
            "signup": pd.date_range("2023-01-01", periods=N, freq="D").strftime("%Y-%m-%d"),
            "visit": rng.choice(["Jan 5, 2024", "12/31/2023", "2024-03-01 10:30"], N),
            "comment": [" ".join(rng.choice(words, 6)) + f" (order {i})" for i in range(N)],
            "country": ["NL"] * N,
            "notes": [np.nan] * N,
        }
    )
    df.loc[::7, "age"] = np.nan
    df.loc[::5, "color"] = np.nan
    return df


def test_each_kind(table):
    profile = profile_dataframe(table)
    kinds = {col.name: col.kind for col in profile.columns}
    assert kinds == {
        "row": "id",
        "customer_id": "id",
        "order_no": "id",
        "code": "id",
        "age": "numeric",
        "income": "numeric",
        "pixel_1": "numeric",
        "is_member": "boolean",
        "flag01": "boolean",
        "color": "categorical",
        "signup": "datetime",
        "visit": "datetime",
        "comment": "text",
        "country": "constant",
        "notes": "empty",
    }
    assert set(kinds.values()) == set(KINDS)
    assert profile.n_rows == N and profile.n_cols == table.shape[1]


def test_drop_reasons(table):
    profile = profile_dataframe(table)
    assert profile.dropped() == {
        "row": "unique per row, looks like an identifier",
        "customer_id": "unique per row, looks like an identifier",
        "order_no": "unique per row, looks like an identifier",
        "code": "unique per row, looks like an identifier",
        "comment": f"free text ({N} distinct values) is not used as a feature",
        "country": "single value 'NL'",
        "notes": "all values missing",
    }
    assert "country" not in profile.dropped(target="country")


def test_column_stats(table):
    profile = profile_dataframe(table)
    age = profile.column("age")
    assert age.dtype == "float64"
    assert age.missing_pct == pytest.approx(100 * 9 / N)
    assert age.usable and age.drop_reason is None
    assert profile.column("notes").missing_pct == 100.0
    assert profile.column("color").n_unique == 3
    assert profile.column("color").sample.count(",") == 2


def test_numbers_unique_per_row_are_not_ids_unless_named_or_counting():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "reading": rng.permutation(N) * 3 + 7,  # unique integers, not consecutive
            "ranking": rng.permutation(N) + 5,  # consecutive but not starting at 0/1
            "x": rng.normal(size=N),  # unique floats
        }
    )
    kinds = {col.name: col.kind for col in profile_dataframe(df).columns}
    assert kinds == {"reading": "numeric", "ranking": "numeric", "x": "numeric"}


@pytest.mark.parametrize(
    "name", ["id", "ID", "customerID", "PassengerId", "user_id", "index", "key"]
)
def test_id_like_names(name):
    df = pd.DataFrame({name: np.arange(100, 100 + N) * 2, "y": np.arange(N) % 3})
    assert profile_dataframe(df).column(name).kind == "id"


def test_unique_dates_are_dates_not_ids():
    df = pd.DataFrame(
        {"day": pd.date_range("2024-01-01", periods=N).strftime("%Y-%m-%d"), "v": np.arange(N) % 4}
    )
    assert profile_dataframe(df).column("day").kind == "datetime"


def test_short_codes_with_repeats_are_categorical():
    df = pd.DataFrame(
        {"version": ["1.2.3", "2.0.1", "3.1.4"] * 20, "size": ["S", "M", "L", "XL"] * 15}
    )
    profile = profile_dataframe(df)
    assert profile.column("version").kind == "categorical"
    assert profile.column("size").kind == "categorical"


def test_feature_columns_keep_order_and_skip_target(table):
    profile = profile_dataframe(table)
    assert profile.feature_columns("is_member") == [
        "age",
        "income",
        "pixel_1",
        "flag01",
        "color",
        "signup",
        "visit",
    ]
    with pytest.raises(DataError, match="no column 'colour'.*Did you mean 'color'"):
        profile.feature_columns("colour")


def test_unknown_column_lists_columns(table):
    with pytest.raises(DataError, match="Columns: row, customer_id"):
        profile_dataframe(table).column("nothing_like_it")


def test_to_frame_and_to_dict(table):
    profile = profile_dataframe(table)
    frame = profile.to_frame()
    assert list(frame["name"]) == list(table.columns)
    assert {"kind", "dtype", "missing_pct", "n_unique", "usable", "drop_reason", "sample"} <= set(
        frame
    )
    data = json.loads(json.dumps(profile.to_dict()))
    assert data["n_rows"] == N
    assert data["columns"][0]["name"] == "row"
    assert data["columns"][0]["drop_reason"].startswith("unique per row")


def test_profile_is_frozen(table):
    profile = profile_dataframe(table)
    assert isinstance(profile, DataProfile)
    with pytest.raises(AttributeError):
        profile.n_rows = 3  # type: ignore[misc]


def test_fast_on_wide_and_long_tables():
    # Not a timing assertion (machines differ); a regression here shows as a slow test.
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(100_000, 20)), columns=[f"f{i}" for i in range(20)])
    df["cat"] = pd.Series(rng.choice(["a", "b", "c"], 100_000), dtype="str")
    df["day"] = pd.Series(
        rng.choice(pd.date_range("2020-01-01", periods=900).strftime("%Y-%m-%d"), 100_000),
        dtype="str",
    )
    profile = profile_dataframe(df)
    assert profile.column("day").kind == "datetime"
    assert profile.column("cat").kind == "categorical"


def test_numbers_with_thousands_separators_are_numeric_features_with_a_note():
    rows = "\n".join(f'"{1000 * i + 689.59:,.2f}",{"ab"[i % 2]}' for i in range(40))
    df = read_csv(f"balance,label\n{rows}\n".encode())
    profile = profile_dataframe(df)
    balance = profile.column("balance")
    assert (balance.kind, balance.usable) == ("numeric", True)
    assert "thousands separator" in balance.note
    assert profile.feature_columns("label") == ["balance"]
    assert profile.notes == [f"Column 'balance' was {balance.note}."]
    assert profile.to_frame().set_index("name").loc["balance", "note"] == balance.note
    # The note follows the table through the Parquet file a training job reads.
    path = store_dataset(df)
    assert profile_dataframe(load_dataset(path)).column("balance").note == balance.note
