"""Small seeded tables for the generation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def messy_table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Every column type the codec handles, with missing values where a real export has them.

    Columns: a string id, a row number, money with 2 decimals, a bimodal float with full
    precision, integers, nullable integers with gaps, integral floats with gaps, categories with
    gaps (one rare), booleans, a 0/1 integer, a pandas category with an unused level, date
    strings with gaps, timestamps to the minute, a constant and an empty column.
    """
    rng = np.random.default_rng(seed)
    letters = list("ABCXYZ")
    bimodal = np.where(rng.random(n) < 0.4, rng.normal(-5, 1, n), rng.normal(10, 2, n))
    days = pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    return pd.DataFrame(
        {
            "id": [
                f"{rng.integers(1000, 9999)}-{''.join(rng.choice(letters, 4))}" for _ in range(n)
            ],
            "row": np.arange(n),
            "income": np.round(rng.lognormal(10, 1, n), 2),
            "bimodal": bimodal,
            "age": rng.integers(18, 90, n),
            "calls": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.poisson(2, n)), dtype="Int64"
            ),
            "score": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 10, n).astype(float)),
            "city": pd.Series(
                rng.choice(["Oslo", "Rome", "Lima", "Kyiv"], n, p=[0.5, 0.3, 0.17, 0.03])
            ).where(rng.random(n) > 0.1),
            "flag": rng.random(n) < 0.3,
            "senior": (rng.random(n) < 0.2).astype(int),
            "plan": pd.Categorical(
                rng.choice(["basic", "pro"], n), categories=["basic", "pro", "max"]
            ),
            "signup": pd.Series((pd.Timestamp("2020-01-01") + days).strftime("%Y-%m-%d")).where(
                rng.random(n) > 0.05
            ),
            "seen": pd.Timestamp("2024-01-01 08:00")
            + pd.to_timedelta(rng.integers(0, 100_000, n), unit="min"),
            "const": "x",
            "empty": np.nan,
        }
    )


def correlated_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Two correlated numbers (rho 0.8), a class that shifts them, and a date tied to x."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    shift = np.select([group == "a", group == "b"], [0.0, 3.0], 6.0)
    x = rng.normal(size=n) + shift
    y = 0.8 * (x - shift) + 0.6 * rng.normal(size=n) + shift
    return pd.DataFrame(
        {
            "x": np.round(x, 3),
            "y": np.round(y, 3),
            "n": rng.poisson(3, n),
            "group": group,
        }
    )
