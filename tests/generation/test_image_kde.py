"""The image_kde yardstick: new images that look like their class, its kernel width chosen on
training images only, never a copy even of a class with one image."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.generation.image_quality import image_report
from dl_core.models.image_kde import WIDTH_GRID, ImageKDE, ImageKDEConfig
from dl_core.training.generative import split_rows
from tests.generation.images import digits_table


@pytest.fixture(scope="module")
def halves():
    return split_rows(digits_table(500, seed=2), 0.5, 0, "label")


@pytest.fixture(scope="module")
def fitted(halves):
    synth = ImageKDE()
    history = synth.fit(halves[0], condition_columns=("label",), seed=0)
    return synth, history


def test_samples_look_like_their_class_without_copying(halves, fitted):
    train, holdout = halves
    synth, _ = fitted
    r = image_report(train, synth.sample(len(train), seed=0), holdout, table=synth.table, seed=0)
    assert r["agreement"] > 0.9 and r["precision"] > 0.7 and r["recall"] > 0.6
    assert r["copies"] == 0 and r["memorisation_ratio"] > 0.6
    assert r["frechet_distance"] < 5 * r["frechet_floor"]


def test_the_width_is_chosen_on_a_validation_slice_of_the_training_images(halves, fitted):
    synth, history = fitted
    # An interior point of the grid: the likelihood of unseen training images peaked there.
    assert WIDTH_GRID[1] < history["width"][0] < WIDTH_GRID[-2]
    assert np.isfinite(history["validation_log_likelihood"][0])
    # Fitting again on the same training rows chooses the same width (held-out rows are never
    # passed to the generator: the trainer fits it on the training rows alone).
    again = ImageKDE().fit(halves[0], condition_columns=("label",), seed=0)
    assert again["width"] == history["width"]
    fixed = ImageKDE(ImageKDEConfig(width=0.3))
    assert fixed.fit(halves[0], condition_columns=("label",), seed=0)["width"] == [0.3]
    assert fixed.widths[0] == pytest.approx(0.3 * fixed.spaces[0].spread)


def test_a_class_with_one_image_is_not_copied(halves):
    train = halves[0]
    lonely = pd.concat([train[train["label"] != 9], train[train["label"] == 9].iloc[:1]])
    synth = ImageKDE()
    synth.fit(lonely, condition_columns=("label",), seed=0)
    nines = synth.sample(20, seed=0, condition={"label": 9})
    pixels = [c for c in train.columns if c != "label"]
    only = lonely[lonely["label"] == 9][pixels].to_numpy()
    assert not (nines[pixels].to_numpy() == only).all(axis=1).any()


def test_each_training_image_anchors_one_draw_before_any_anchors_two(halves):
    """Drawn at random, two of 20 draws of a class of 90 images share a training image nine
    times in ten (near twins); drawn in turn, twice a class's images anchor each image twice."""
    synth = ImageKDE(ImageKDEConfig(width=1e-6))  # each draw its anchor's PCA reconstruction
    synth.fit(halves[0], condition_columns=("label",), seed=0)
    k = synth.table.label_index(3)
    space = synth.spaces[k]
    m = len(space.codes)
    draws = synth.sample_arrays(np.full(2 * m, k), 2 * m, seed=0).reshape(2 * m, -1)
    codes = space.encode(draws.astype(np.float64))
    nearest = ((codes[:, None, :] - space.codes[None]) ** 2).sum(-1).argmin(axis=1)
    assert np.bincount(nearest[:m], minlength=m).tolist() == [1] * m
    assert np.bincount(nearest, minlength=m).tolist() == [2] * m
