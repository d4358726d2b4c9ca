"""The Gaussian copula yardstick: marginals, dependence, exact conditioning, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.errors import ConfigError, DataError
from dl_core.generation.copula import GaussianCopula
from tests.generation.tables import correlated_table, messy_table


@pytest.fixture(scope="module")
def table():
    return correlated_table()


@pytest.fixture(scope="module")
def copula(table):
    return GaussianCopula().fit(table)


def test_samples_keep_marginals_dependence_and_dtypes(table, copula):
    synth = copula.sample(3000, seed=1)
    assert synth.dtypes.to_dict() == table.dtypes.to_dict()
    rho_real = table["x"].corr(table["y"])
    assert synth["x"].corr(synth["y"]) == pytest.approx(rho_real, abs=0.06)
    shares = synth["group"].value_counts(normalize=True)
    real_shares = table["group"].value_counts(normalize=True)
    assert shares.reindex(real_shares.index).to_numpy() == pytest.approx(real_shares, abs=0.03)
    for col in ["x", "y", "n"]:
        assert table[col].min() <= synth[col].min() and synth[col].max() <= table[col].max()
    assert (synth["x"] == synth["x"].round(3)).all()
    # The class-number dependence is kept: group c lies far above group a.
    means = synth.groupby("group")["x"].mean()
    assert means["c"] - means["a"] > 3.5


def test_same_seed_same_rows_and_other_seed_other_rows(copula):
    pd.testing.assert_frame_equal(copula.sample(50, seed=4), copula.sample(50, seed=4))
    assert not copula.sample(50, seed=4).equals(copula.sample(50, seed=5))


def test_condition_is_met_by_every_row_and_follows_the_model_conditional(copula):
    rows = copula.sample(2000, seed=2, condition={"group": "c"})
    assert (rows["group"] == "c").all() and len(rows) == 2000
    # Exact conditioning: the same distribution as the unconditional draws that happen to be c,
    # not a relabelling of ordinary rows (whose x mean would be ~1.3).
    free = copula.sample(20_000, seed=3)
    assert rows["x"].mean() == pytest.approx(free.loc[free["group"] == "c", "x"].mean(), abs=0.15)
    assert rows["x"].mean() > 4.0


def test_two_conditions_and_missing_values_on_a_messy_table():
    messy = messy_table()
    copula = GaussianCopula().fit(messy)
    synth = copula.sample(600, seed=0)
    assert synth.dtypes.to_dict() == messy.dtypes.to_dict()
    for col in ["calls", "score", "city", "signup"]:
        assert synth[col].isna().mean() == pytest.approx(messy[col].isna().mean(), abs=0.05)
    rows = copula.sample(40, seed=1, condition={"city": None, "flag": "True"})
    assert rows["city"].isna().all() and rows["flag"].all()


def test_saved_copula_samples_the_same_rows(tmp_path, copula):
    path = tmp_path / "copula.json"
    copula.save(path)
    loaded = GaussianCopula.load(path)
    pd.testing.assert_frame_equal(
        loaded.sample(100, seed=7, condition={"group": "b"}),
        copula.sample(100, seed=7, condition={"group": "b"}),
    )


def test_bad_conditions_are_explained(copula):
    with pytest.raises(DataError, match="'d' is not a value of column 'group'; its values"):
        copula.sample(5, condition={"group": "d"})
    with pytest.raises(ConfigError, match="Column 'x' is numeric; only categorical"):
        copula.sample(5, condition={"x": 1.0})
    with pytest.raises(DataError, match="There is no column 'grp'"):
        copula.sample(5, condition={"grp": "a"})
    with pytest.raises(ConfigError, match="at least 1"):
        copula.sample(0)
