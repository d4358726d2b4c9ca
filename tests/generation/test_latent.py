"""The latent explorer's views and figures on a tiny generator with a latent space: the map of
encoded training images, the interpolation strip between two of them, the decoded plane."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dl_core.errors import DataError
from dl_core.generation import image_figures, latent
from tests.generation.images import MeanImages, digits_table
from tests.generation.latent_images import LinearLatentConfig, LinearLatentImages


@pytest.fixture(scope="module")
def digits() -> pd.DataFrame:
    return digits_table(200, seed=2)


def fitted(digits, dim: int) -> LinearLatentImages:
    synth = LinearLatentImages(LinearLatentConfig(latent_dim=dim))
    synth.fit(digits, condition_columns=("label",), epochs=1, batch_size=32, seed=0)
    return synth


@pytest.fixture(scope="module")
def plane_synth(digits) -> LinearLatentImages:
    return fitted(digits, 2)


def test_a_2d_latent_is_mapped_as_it_is_coloured_by_class(digits, plane_synth):
    answer = json.loads(json.dumps(latent.latent_map(plane_synth, digits)))  # JSON-able
    x, y = plane_synth.table.arrays(digits)
    codes = plane_synth.encode_arrays(x, y)
    assert answer["latent_dim"] == 2 and answer["explained"] is None
    assert answer["axes"] == ["z1", "z2"] and answer["index"] == list(range(200))
    np.testing.assert_allclose(answer["x"], codes[:, 0])
    np.testing.assert_allclose(answer["y"], codes[:, 1])
    assert answer["labels"] == list(digits["label"])
    fig = image_figures.map_figure(answer, picked=(5, 9))
    classes = [t for t in fig.data if t.name != "A → B"]
    assert [t.name for t in classes] == [str(c) for c in sorted(set(digits["label"]))]
    zeros = next(t for t in classes if t.name == "0")
    assert list(zeros.customdata) == list(np.flatnonzero(digits["label"] == 0))
    # Each class its own hue, set on the trace (the theme's palette opens with two blues).
    colours = [t.marker.color for t in classes]
    assert len(set(colours)) == len(colours) and None not in colours
    path = fig.data[-1]
    assert list(path.text) == ["A", "B"]
    assert (path.x[0], path.y[1]) == pytest.approx((answer["x"][5], answer["y"][9]))


def test_a_wider_latent_is_projected_on_its_principal_directions(digits):
    synth = fitted(digits, 6)
    answer = latent.latent_map(synth, digits, max_points=150, seed=3)
    assert answer["latent_dim"] == 6 and len(answer["index"]) == 150
    share = answer["explained"]
    assert share[0] >= share[1] > 0 and sum(share) < 1
    assert answer["axes"][0] == f"PC1 ({share[0]:.0%} of the latent variance)"
    # The map is centred PCA of the codes: the first axis carries more spread than the second.
    assert np.var(answer["x"]) > np.var(answer["y"])
    assert abs(np.mean(answer["x"])) < 1e-6


def test_the_interpolation_decodes_the_line_once_per_class_of_its_ends(digits, plane_synth):
    a = int(np.flatnonzero(digits["label"] == 1)[0])
    b = int(np.flatnonzero(digits["label"] == 7)[0])
    answer = latent.interpolation(plane_synth, digits, a, b, steps=6)
    images = latent.unpack(answer["images"])
    assert images.shape == (2, 6, 8, 8, 1) and answer["row_labels"] == [1, 7]
    x, y = plane_synth.table.arrays(digits.iloc[[a, b]])
    z = plane_synth.encode_arrays(x, y)
    # The first image of the first row decodes A's code as A's class; the last, B's code.
    np.testing.assert_allclose(images[0, 0], plane_synth.decode_arrays(z[:1], y[:1])[0],
                               atol=1 / 255)
    np.testing.assert_allclose(images[1, -1], plane_synth.decode_arrays(z[1:], y[1:])[0],
                               atol=1 / 255)
    np.testing.assert_allclose(latent.unpack(answer["ends"]), x, atol=1 / 255)
    strip = image_figures.strip_image(answer)
    # Two rows of A + 6 steps + B, 8x8 cells padded by 1.
    assert strip.shape == (2 * 9 + 1, 8 * 9 + 1)
    with pytest.raises(DataError, match="not a training image"):
        latent.interpolation(plane_synth, digits, a, 200)


def test_the_decoded_plane_spans_the_prior_top_row_highest(plane_synth):
    answer = latent.latent_plane(plane_synth, label=3, side=5)
    images = latent.unpack(answer["images"])
    assert images.shape == (5, 5, 8, 8, 1) and answer["label"] == 3
    assert answer["z1"] == sorted(answer["z1"]) and answer["z2"] == sorted(answer["z2"])[::-1]
    assert answer["z1"][0] == pytest.approx(-1.645, abs=1e-3)
    corner = plane_synth.decode_arrays(np.array([[answer["z1"][0], answer["z2"][0]]]),
                                       np.array([3]))[0]
    np.testing.assert_allclose(images[0, 0], corner, atol=1 / 255)
    fig = image_figures.plane_figure(answer)
    assert fig.layout.xaxis.title.text == "z1" and fig.layout.title.text == "decoded as class 3"
    assert list(fig.layout.xaxis.ticktext)[0] == "-1.64"
    with pytest.raises(DataError, match="Unknown class 'x'"):
        latent.latent_plane(plane_synth, label="x")


def test_views_refuse_generators_without_the_latent_they_need(digits):
    with pytest.raises(DataError, match="needs a 2-D latent; this generator's has 6"):
        latent.latent_plane(fitted(digits, 6))
    means = MeanImages()
    means.fit(digits, condition_columns=("label",), epochs=1, batch_size=32, seed=0)
    with pytest.raises(DataError, match="MeanImages has no encoder"):
        latent.latent_map(means, digits)


def test_a_grid_figure_writes_each_rows_class_beside_it():
    image = np.zeros((3 * 9 + 1, 4 * 9 + 1), dtype=np.uint8)
    fig = image_figures.grid_figure(image, ["cat", "dog", "owl"])
    assert list(fig.layout.yaxis.ticktext) == ["cat", "dog", "owl"]
    ticks = list(fig.layout.yaxis.tickvals)
    height = image_figures.decode_png(fig.data[0].source.split(",", 1)[1]).shape[0]
    zoom = image_figures.GRID_MAX_PX // image.shape[0]  # whole-number zoom, within bounds
    assert height == zoom * image.shape[0] and zoom > 1
    assert ticks == pytest.approx([height / 6, height / 2, 5 * height / 6])
    assert image_figures.grid_figure(image, [None]).layout.yaxis.visible is False


def test_a_wide_grid_of_two_classes_fills_its_figure_without_blank_bands():
    # Two rows of eight 32x32 colour images in the Train page's narrow column: the figure was
    # 400 pixels high for a strip 80 pixels high.
    image = np.zeros((2 * 33 + 1, 8 * 33 + 1, 3), dtype=np.uint8)
    fig = image_figures.grid_figure(image, ["china", "flower"], max_width=300)
    margin = fig.layout.margin
    shown_w = fig.layout.width - margin.l - margin.r
    shown_h = fig.layout.height - margin.t - margin.b
    assert fig.layout.width == 300  # 265 pixels and the labels' room: drawn a little smaller
    assert shown_h / shown_w == pytest.approx(image.shape[0] / image.shape[1], rel=0.02)
    assert fig.layout.yaxis.automargin is False  # the labels' room is set, not taken from it
    # On the Generate page there is room: zoomed twice, the figure just holds it.
    fig = image_figures.grid_figure(image, ["china", "flower"])
    drawn = image_figures.decode_png(fig.data[0].source.split(",", 1)[1])
    assert drawn.shape[:2] == (2 * image.shape[0], 2 * image.shape[1])
    margin = fig.layout.margin
    assert (fig.layout.width - margin.l - margin.r,
            fig.layout.height - margin.t - margin.b) == (drawn.shape[1], drawn.shape[0])
