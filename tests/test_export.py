"""Downloads neutralise spreadsheet formulas in text cells and leave numbers alone."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dl_core.export import neutralise_formulas, to_safe_csv


def test_formula_cells_are_quoted_and_numbers_stay_numbers():
    df = pd.DataFrame(
        {
            "name": ["=cmd|' /C calc'!A0", "+47 1234", "-x", "@SUM(A1)", "\tTab", "\rCR", "Ann",
                     None],
            "amount": [-3.5, 2.0, -1.0, 0.0, 1.5, -2.25, 7.0, np.nan],
            "plan": pd.Categorical(["=1+1", "basic", "basic", "pro", "pro", "basic", "pro",
                                    "basic"]),
        }
    )
    safe = neutralise_formulas(df)
    assert safe["name"].tolist()[:7] == [
        "'=cmd|' /C calc'!A0", "'+47 1234", "'-x", "'@SUM(A1)", "'\tTab", "'\rCR", "Ann",
    ]
    assert pd.isna(safe["name"].iloc[7])
    assert safe["plan"].iloc[0] == "'=1+1" and safe["plan"].iloc[1] == "basic"
    pd.testing.assert_series_equal(safe["amount"], df["amount"])
    back = pd.read_csv(io.BytesIO(to_safe_csv(df)))
    assert back["amount"].iloc[0] == -3.5 and back["name"].iloc[0].startswith("'=")
    assert df["name"].iloc[0].startswith("=")  # the caller's table is not modified


def test_text_that_is_a_plain_number_and_formula_headers():
    # A text column (mixed with words) holding signed numbers: a spreadsheet reads "-3.5" as
    # the number -3.5, never as a formula, so it is left alone; "-1+1" is a formula.
    df = pd.DataFrame({"code": ["-3.5", "+44", "-1+1", "1e-3", "-x"],
                       "=HYPERLINK(\"http://x\")": ["a", "b", "c", "d", "e"],
                       "@SUM(A1)": [1, 2, 3, 4, 5]})
    back = pd.read_csv(io.BytesIO(to_safe_csv(df)), dtype=str)
    assert back["code"].tolist() == ["-3.5", "+44", "'-1+1", "1e-3", "'-x"]
    assert list(back.columns) == ["code", "'=HYPERLINK(\"http://x\")", "'@SUM(A1)"]
    assert back["'@SUM(A1)"].tolist() == ["1", "2", "3", "4", "5"]


def test_duplicate_column_names_are_neutralised_each():
    df = pd.DataFrame([["=1+1", "@x"]], columns=["a", "a"])
    assert neutralise_formulas(df).values.tolist() == [["'=1+1", "'@x"]]
