"""Downloads neutralise spreadsheet formulas in text cells and leave numbers alone."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dl_core.generation.export import neutralise_formulas, to_safe_csv


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
