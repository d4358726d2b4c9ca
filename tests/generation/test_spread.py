"""Evenly spread draws (dl_core.generation.spread): the same distribution, no clumps."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core.generation.spread import (
    even_normals,
    even_uniforms,
    independent_draws,
    proportional_labels,
    without_replacement,
)


def test_even_normals_fill_the_gaussian_more_evenly_than_independent_draws():
    rng = np.random.default_rng(0)
    even = even_normals(64, 16, rng)
    independent = np.random.default_rng(0).standard_normal((64, 16))
    assert np.abs(even.mean(axis=0)).max() < 0.05 < np.abs(independent.mean(axis=0)).max()
    np.testing.assert_allclose(even.std(axis=0), 1.0, atol=0.05)
    # Seeded: the same generator state gives the same points; every point finite.
    np.testing.assert_array_equal(even_normals(10, 3, np.random.default_rng(4)),
                                  even_normals(10, 3, np.random.default_rng(4)))
    assert np.isfinite(even_normals(1000, 2, rng)).all()


def test_uniforms_stay_inside_the_open_cube_for_any_count():
    rng = np.random.default_rng(1)
    assert even_uniforms(0, 4, rng).shape == (0, 4)
    for n in (1, 3, 100):
        u = even_uniforms(n, 4, rng)
        assert u.shape == (n, 4) and (u > 0).all() and (u < 1).all()


def test_without_replacement_uses_every_item_once_per_round():
    picks = without_replacement(7, 3, np.random.default_rng(2))
    assert sorted(picks[:3]) == [0, 1, 2] and sorted(picks[3:6]) == [0, 1, 2]
    assert len(picks) == 7
    with pytest.raises(ValueError, match="no items"):
        without_replacement(2, 0, np.random.default_rng(2))


def test_proportional_labels_give_each_class_its_share_rounded():
    rng = np.random.default_rng(3)
    assert np.bincount(proportional_labels([0.5, 0.3, 0.2], 10, rng)).tolist() == [5, 3, 2]
    labels = proportional_labels([0.6, 0.0, 0.4], 5, rng)
    assert np.bincount(labels, minlength=3).tolist() == [3, 0, 2]
    # 2 of 4 equal classes: each class chosen half the time.
    seen = sum(np.bincount(proportional_labels([1, 1, 1, 1], 2, np.random.default_rng(s)),
                           minlength=4) for s in range(400))
    np.testing.assert_allclose(seen / 400, 0.5, atol=0.08)


def test_independent_draws_are_what_the_even_ones_are_measured_against():
    """The bench's comparison (--independent-too): inside the block, anchors repeat, class
    counts stray from their shares, and the noise is plain pseudo-random; after it, even again."""
    with independent_draws():
        repeats = [len(set(without_replacement(20, 90, np.random.default_rng(s)))) < 20
                   for s in range(50)]
        assert sum(repeats) > 35  # nine times in ten
        counts = [np.bincount(proportional_labels([0.5, 0.5], 10, np.random.default_rng(s)),
                              minlength=2)[0] for s in range(20)]
        assert set(counts) != {5}
        np.testing.assert_array_equal(
            even_uniforms(5, 2, np.random.default_rng(1)),
            np.random.default_rng(1).random((5, 2)))
    assert len(set(without_replacement(20, 90, np.random.default_rng(0)))) == 20
