"""The image report on planted cases: a copy of the training set is flagged, noise has near-zero
precision, one image per class has near-zero recall, fresh real images score like real ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.generation.image_quality import (
    floor_rows,
    frechet_distance,
    image_report,
    precision_recall,
)
from dl_core.generation.images import ImageTable
from tests.generation.images import digits_table


@pytest.fixture(scope="module")
def split():
    """Training, held-out and fresh real digits (stratified thirds of 600)."""
    from dl_core.training.generative import split_rows

    df = digits_table(600, seed=1)
    train, rest = split_rows(df, 0.5, 0, "label")
    holdout, fresh = split_rows(rest, 0.4, 0, "label")
    return train, holdout, fresh, ImageTable.from_frame(train, "label")


def report(split, synthetic: pd.DataFrame) -> dict:
    train, holdout, _, table = split
    return image_report(train, synthetic, holdout, table=table, seed=0)


def test_fresh_real_images_score_like_real_ones(split):
    train, holdout, fresh, _ = split
    r = report(split, fresh)
    assert r["kind"] == "image" and r["features"] == "mlp"
    assert (r["n_train"], r["n_holdout"], r["n_synthetic"]) == (300, 180, 120)
    assert r["reference_accuracy"] > 0.9 and r["agreement"] > 0.9
    assert r["precision"] > 0.75 and r["recall"] > 0.75
    assert 0.8 < r["memorisation_ratio"] < 1.25 and r["copies"] == 0
    assert r["frechet_distance"] < 3 * r["frechet_floor"]


def test_a_few_fresh_images_read_against_a_floor_of_as_many_real_ones(split):
    # 30 real images are as good as any generator can be; against a floor measured on all 300
    # training images their Fréchet distance read 6 times it.
    train, holdout, fresh, _ = split
    r = report(split, fresh.head(30))
    assert r["n_floor"] == 30 and r["n_train"] == 300
    assert r["frechet_ratio"] == pytest.approx(r["frechet_distance"] / r["frechet_floor"])
    assert 0.5 < r["frechet_ratio"] < 1.5
    # The distance itself falls as more images are drawn (ten times, from 50 to 900, in the
    # app); the ratio is what compares draws of other sizes.
    more = report(split, fresh)
    assert more["frechet_distance"] < 0.6 * r["frechet_distance"]
    assert 0.5 < more["frechet_ratio"] < 1.5


def test_the_floor_of_a_few_images_is_the_median_of_several_real_sets_shown_with_its_range(
        split):
    # One set of 40 colour patches scored 8 to 39 by chance: a floor from one set misleads.
    r = report(split, split[2].head(30))
    assert r["frechet_floor_low"] < r["frechet_floor"] < r["frechet_floor_high"]
    # The same number of images of each class (here in another order): the same sets.
    again = report(split, split[2].head(30).sample(frac=1.0, random_state=0))
    assert (again["frechet_floor_low"], again["frechet_floor"], again["frechet_floor_high"]) == (
        r["frechet_floor_low"], r["frechet_floor"], r["frechet_floor_high"])
    # As many images as the training set: the one set there is, no range.
    whole = report(split, split[0])
    assert whole["frechet_floor_low"] == whole["frechet_floor"] == whole["frechet_floor_high"]


def test_the_floor_takes_the_synthetic_images_class_mix(split):
    train, holdout, fresh, table = split
    labels = table.arrays(train)[1]
    asked = np.array([3] * 15 + [5] * 5 + [-1] * 4)  # -1: a class the table does not know
    rng = np.random.default_rng(0)
    rows = floor_rows(len(asked), len(labels), labels, asked, rng)
    assert len(rows) == len(set(rows)) == 24
    drawn = pd.Series(labels[rows]).value_counts()
    assert drawn[3] >= 15 and drawn[5] >= 5 and drawn.drop([3, 5], errors="ignore").sum() <= 4
    # An even set of real images (as the generators draw: 3 a class) reads near its floor;
    # against sets of random mix their floor read 1.6 times as high.
    even = fresh.groupby("label", group_keys=False).head(3)
    r = report(split, even)
    assert r["n_floor"] == len(even) == 30
    assert 0.8 < r["frechet_distance"] / r["frechet_floor"] < 1.25  # 0.62 against random mixes


def test_a_copy_of_the_training_set_is_flagged(split):
    train = split[0]
    r = report(split, train)
    assert r["copies"] == len(train) and r["copies_share"] == 1.0 and r["holdout_copies"] == 0
    assert r["memorisation_ratio"] < 0.01  # far below 1: copying
    # Everything else looks perfect: only the privacy figures catch a copier.
    assert r["agreement"] > 0.99 and r["precision"] > 0.8


def test_noise_has_near_zero_precision(split):
    train, _, _, table = split
    rng = np.random.default_rng(0)
    noise = train.copy()
    noise[list(table.pixel_columns)] = rng.integers(0, 256, (len(train), 64))
    r = report(split, noise)
    assert r["precision"] < 0.05 and r["agreement"] < 0.3
    assert r["frechet_distance"] > 20 * r["frechet_floor"] and r["memorisation_ratio"] > 2


def test_one_image_per_class_has_near_zero_recall(split):
    train, _, _, table = split
    pixels = list(table.pixel_columns)
    collapsed = train.copy()
    for label, group in train.groupby("label"):
        collapsed.loc[group.index, pixels] = group[pixels].iloc[[0] * len(group)].to_numpy()
    r = report(split, collapsed)
    # Agreement and precision are fooled by a collapse; recall is not.
    assert r["agreement"] > 0.9 and r["precision"] > 0.9
    assert r["recall"] < 0.1


def test_an_unconditional_generator_has_no_agreement_but_the_same_features(split):
    train, holdout, fresh, _ = split
    table = ImageTable.from_frame(train, None)
    r = image_report(train, fresh.drop(columns="label"), holdout, table=table, seed=0)
    assert r["agreement"] is None and r["features"] == "mlp"  # the label still names classes
    assert r["precision"] > 0.75


def test_frechet_distance_of_shifted_gaussians_and_manifold_coverage():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(1500, 3))
    # Same covariance, means 2 apart: the distance is the squared shift; scaled by 3 it adds
    # the trace term (1 - 3)^2 per unit variance.
    assert frechet_distance(a, a + [2.0, 0.0, 0.0]) == pytest.approx(4.0, rel=1e-6)
    expected = 4.0 * np.trace(np.cov(a, rowvar=False)) + np.sum((2.0 * a.mean(axis=0)) ** 2)
    assert frechet_distance(a, 3.0 * a) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    precision, recall = precision_recall(a, np.repeat(a[:5], 300, axis=0))  # five real points
    assert precision == 1.0 and recall < 0.05
