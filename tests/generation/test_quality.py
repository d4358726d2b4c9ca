"""The synthesis report on hand-made tables whose scores are known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dl_core.errors import DataError
from dl_core.generation.quality import synthesis_report


def numbers_and_labels(n: int, seed: int) -> pd.DataFrame:
    """x, y = x + noise (rho ~0.95), a label driven by x, a colour with gaps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + 0.3 * rng.normal(size=n),
            "label": np.where(x + 0.5 * rng.normal(size=n) > 0, "yes", "no"),
            "colour": pd.Series(rng.choice(["red", "blue", "green"], n)).where(
                rng.random(n) > 0.1
            ),
        }
    )


@pytest.fixture(scope="module")
def train():
    return numbers_and_labels(400, seed=0)


@pytest.fixture(scope="module")
def holdout():
    return numbers_and_labels(400, seed=1)


def test_identical_tables_score_one_and_every_row_is_a_copy(train, holdout):
    report = synthesis_report(train, train.copy(), holdout)
    assert report["quality"] == pytest.approx(1.0)
    assert report["column_shapes"] == pytest.approx(1.0)
    assert report["column_pairs"] == pytest.approx(1.0)
    assert report["copies"] == 400 and report["privacy"]["copies_share"] == 1.0
    assert report["dcr_closer_to_train"] == 1.0  # every DCR is 0, below the holdout median
    assert report["privacy"]["dcr_overfitting_protection"] == 0.0
    json.dumps(report)  # the whole report is JSON


def test_disjoint_tables_score_zero():
    real = pd.DataFrame({"x": np.linspace(0, 1, 100), "y": np.linspace(0, 1, 100),
                         "c": ["a", "b"] * 50})
    fake = pd.DataFrame({"x": np.linspace(10, 11, 100), "y": np.linspace(11, 10, 100),
                         "c": ["p", "q"] * 50})
    report = synthesis_report(real, fake, real, ceiling=False)
    shapes = {d["column"]: d["score"] for d in report["details"]["column_shapes"]}
    assert shapes == {"x": 0.0, "y": 0.0, "c": 0.0}
    pairs = {tuple(d["columns"]): d for d in report["details"]["column_pairs"]}
    assert pairs[("x", "y")]["real"] == pytest.approx(1.0)
    assert pairs[("x", "y")]["synthetic"] == pytest.approx(-1.0)
    assert report["quality"] == pytest.approx(0.0, abs=1e-12)


def test_known_partial_scores():
    real = pd.DataFrame({"n": np.arange(100) + 0.5, "c": ["a", "b"] * 50,
                         "d": ["u", "v"] * 50})
    # n shifted by half its range (KS 0.5); c all "a" (TVD 0.5); d swapped against c, so the
    # marginal of d is perfect while the c-d joint shares only half its mass.
    fake = pd.DataFrame({"n": np.arange(50, 150) + 0.5, "c": ["a"] * 100,
                         "d": ["v", "u"] * 50})
    report = synthesis_report(real, fake, real, ceiling=False)
    shapes = {d["column"]: d["score"] for d in report["details"]["column_shapes"]}
    assert shapes == {"n": pytest.approx(0.5), "c": pytest.approx(0.5), "d": pytest.approx(1.0)}
    pairs = {tuple(d["columns"]): d["score"] for d in report["details"]["column_pairs"]}
    # real joint (a,u) .5 (b,v) .5; fake (a,v) .5 (a,u) .5 -> TVD = 0.5
    assert pairs[("c", "d")] == pytest.approx(0.5)
    # n is binned on each table's own edges (as SDMetrics does): each real bin holds a and b
    # half and half, each fake bin only a -> TVD 0.5.
    assert pairs[("n", "c")] == pytest.approx(0.5)


def test_missing_values_count_in_pairs_but_not_in_shapes():
    real = pd.DataFrame({"c": ["a", "b", None, None] * 25, "x": np.arange(100) + 0.5})
    fake = pd.DataFrame({"c": ["a", "b", "a", "b"] * 25, "x": np.arange(100) + 0.5})
    report = synthesis_report(real, fake, real, ceiling=False)
    shapes = {d["column"]: d["score"] for d in report["details"]["column_shapes"]}
    assert shapes["c"] == pytest.approx(1.0)  # a/b shares match once missing is dropped
    (pair,) = report["details"]["column_pairs"]
    # Half the real rows are (missing, x-bin) cells the fake rows never fill.
    assert pair["score"] == pytest.approx(0.5, abs=0.02)
    assert report["column_pairs_all"] == pair["score"]


def test_planted_copies_are_found(train, holdout):
    fake = numbers_and_labels(200, seed=9)
    planted = train.iloc[[3, 77, 150]]
    fake = pd.concat([fake, planted], ignore_index=True).sample(frac=1, random_state=0)
    report = synthesis_report(train, fake, holdout, ceiling=False)
    assert report["copies"] == 3
    assert report["privacy"]["holdout_copies_share"] == 0.0


def test_fresh_real_rows_are_as_close_to_training_as_held_out_rows(train, holdout):
    fresh = numbers_and_labels(400, seed=2)  # same distribution, never seen
    report = synthesis_report(train, fresh, holdout, ceiling=False)
    assert report["dcr_closer_to_train"] == pytest.approx(0.5, abs=0.07)
    assert report["privacy"]["dcr_train_vs_holdout"] == pytest.approx(0.5, abs=0.07)
    assert report["copies"] == 0
    # ... and the ceiling figures are what the held-out rows score as synthetic.
    ceiling = synthesis_report(train, holdout, holdout)["ceiling"]
    assert ceiling["quality"] == pytest.approx(
        synthesis_report(train, holdout, holdout, ceiling=False)["quality"]
    )


def test_utility_ratio_is_one_for_real_rows_and_low_when_labels_are_noise(train, holdout):
    same = synthesis_report(train, train.copy(), holdout, target="label", ceiling=False)
    assert same["utility"]["metric"] == "roc_auc" and same["utility"]["trtr"] > 0.8
    assert same["tstr_ratio"] == pytest.approx(1.0)
    noise = train.copy()
    noise["label"] = np.random.default_rng(0).permutation(noise["label"].to_numpy())
    shuffled = synthesis_report(train, noise, holdout, target="label", ceiling=False)
    assert shuffled["tstr_ratio"] < 0.75


def test_regression_utility_uses_r2(train, holdout):
    report = synthesis_report(train, train.copy(), holdout, target="y", ceiling=False)
    assert report["utility"]["metric"] == "r2" and report["utility"]["task"] == "regression"
    assert report["utility"]["tstr"] == pytest.approx(report["utility"]["trtr"])


def test_missing_tables_and_columns_are_explained(train, holdout):
    with pytest.raises(DataError, match="held-out table has no rows"):
        synthesis_report(train, train, holdout.iloc[:0])
    with pytest.raises(DataError, match="lacks the training column.*'colour'"):
        synthesis_report(train, train.drop(columns=["colour"]), holdout)
    with pytest.raises(DataError, match="There is no column 'churn'"):
        synthesis_report(train, train, holdout, target="churn")


def test_diagnostic_counts_values_outside_the_real_range_and_category_set():
    real = pd.DataFrame({"x": [0.0, 0.5, 1.0, 0.25], "c": ["a", "b", "a", "b"]})
    fake = pd.DataFrame({"x": [0.1, 0.2, 3.0, 0.3], "c": ["a", "z", "b", "a"], "extra": 1})
    report = synthesis_report(real, fake, real, ceiling=False)
    diagnostic = report["details"]["diagnostic"]
    assert [c["score"] for c in diagnostic["columns"]] == [0.75, 0.75]
    assert diagnostic["data_structure"] == pytest.approx(2 / 3)  # x, c of x, c, extra
    assert report["diagnostic"] == pytest.approx((0.75 + 2 / 3) / 2)
    assert synthesis_report(real, real, real, ceiling=False)["diagnostic"] == 1.0
