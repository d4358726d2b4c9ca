"""The image networks (conv_vae, dcgan): what a user relies on after a short fit."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from dl_core.config import to_params
from dl_core.errors import DataError
from dl_core.generation.images import ImageSynthesizer
from dl_core.generation.synthesizer import load_synthesizer, save_synthesizer
from dl_core.models import get_model, list_models
from tests.generation.images import digits_table

ARCHS = ("conv_vae", "dcgan")


def _fit(arch, df, epochs=1, condition_columns=("label",), config=None, **kwargs):
    entry = get_model(arch)
    synth = entry.build(entry.config_cls(**(config or {})))
    history = synth.fit(df, condition_columns=condition_columns, epochs=epochs, batch_size=32,
                        seed=0, **kwargs)
    return synth, history


@pytest.fixture(scope="module")
def digits():
    return digits_table(120, seed=0)


@pytest.fixture(scope="module")
def fitted(digits, tmp_path_factory):
    """Each network fitted for 2 short epochs on 120 digits, saved and reloaded."""
    out = {}
    for arch in ARCHS:
        epochs = []
        synth, history = _fit(arch, digits, epochs=2,
                              on_epoch=lambda epoch, losses, seen=epochs: seen.append(epoch))
        folder = save_synthesizer(synth, tmp_path_factory.mktemp(arch), arch=arch,
                                  config=to_params(synth.cfg))
        out[arch] = {"synth": synth, "history": history, "epochs": epochs, "folder": folder,
                     "reloaded": load_synthesizer(folder)}
    return out


def test_image_networks_are_registered_for_images_only():
    names = {e.name for e in list_models("image", family="generative")}
    assert set(ARCHS) <= names
    assert not set(ARCHS) & {e.name for e in list_models("tabular")}
    assert get_model("conv_vae").build(get_model("conv_vae").config_cls()).has_latent
    assert not get_model("dcgan").build(get_model("dcgan").config_cls()).has_latent


@pytest.mark.parametrize("arch", ARCHS)
def test_fit_reports_its_losses_every_epoch(fitted, arch):
    got = fitted[arch]
    names = set(got["synth"].loss_names)
    assert got["epochs"] == [1, 2]
    assert set(got["history"]) == names
    assert all(len(v) == 2 and np.isfinite(v).all() for v in got["history"].values())


@pytest.mark.parametrize("arch", ARCHS)
def test_saved_as_keras_files_and_reloaded_to_the_same_images(fitted, digits, arch):
    got = fitted[arch]
    files = sorted(p.name for p in got["folder"].iterdir())
    networks = [f"{name}.keras" for name in type(got["synth"]).NETWORKS]
    assert set(networks) <= set(files)
    assert not [f for f in files if f.endswith((".pkl", ".pickle"))]
    reloaded = got["reloaded"]
    assert type(reloaded) is type(got["synth"])
    before = got["synth"].sample(30, seed=3)
    pd.testing.assert_frame_equal(reloaded.sample(30, seed=3), before)
    # Rows shaped like the training CSV: same columns, whole 0..255 pixels, known labels.
    assert list(before.columns) == list(digits.columns)
    pixels = before.drop(columns="label").to_numpy()
    assert pixels.min() >= 0 and pixels.max() <= 255 and (pixels == np.round(pixels)).all()
    assert set(before["label"]) <= set(digits["label"])
    sevens = reloaded.sample(12, seed=1, condition={"label": "7"})
    assert (sevens["label"] == 7).all()
    assert not np.allclose(sevens.drop(columns="label").to_numpy(),
                           reloaded.sample(12, seed=1, condition={"label": 1})
                           .drop(columns="label").to_numpy())


@pytest.mark.parametrize("arch", ARCHS)
def test_preview_grid_is_fixed_noise_one_row_per_class(fitted, arch):
    synth = fitted[arch]["synth"]
    grid = synth.preview_grid(seed=5, per_row=4)
    assert grid.shape == (10, 4, 8, 8, 1)
    np.testing.assert_array_equal(grid, synth.preview_grid(seed=5, per_row=4))


def test_vae_encodes_to_its_latent_and_decodes_images(fitted, digits):
    synth = fitted["conv_vae"]["reloaded"]
    x, y = synth.table.arrays(digits.iloc[:10])
    z = synth.encode_arrays(x, y)
    assert z.shape == (10, synth.latent_dim) == (10, 16)
    np.testing.assert_allclose(synth.encode_arrays(x, y), z)  # posterior means: no draw
    images = synth.decode_arrays(z, y)
    assert images.shape == (10, 8, 8, 1)
    assert images.min() >= 0.0 and images.max() <= 1.0
    # Samples of a class are drawn where that class's training codes are (a Gaussian mixture
    # per class fitted to them, kept through save and load), not from N(0, I): 12 images a
    # class fit one Gaussian (one per 20 images at most).
    x_all, y_all = synth.table.arrays(digits)
    codes = synth.encode_arrays(x_all, y_all)
    classes = synth.state["prior"]["classes"]
    assert len(classes) == 10 and all(len(c["weights"]) == 1 for c in classes)
    for k in range(10):
        np.testing.assert_allclose(classes[k]["means"][0], codes[y_all == k].mean(axis=0),
                                   atol=1e-4)
    assert np.abs(np.subtract(classes[1]["means"][0], classes[7]["means"][0])).max() > 0.01
    # Sampling is decoding prior draws: the same seed gives the same images.
    np.testing.assert_allclose(synth.sample_arrays(y, 10, seed=2), synth.sample_arrays(y, 10, 2))


@pytest.mark.parametrize(("arch", "config", "losses"), [
    ("conv_vae", {}, {"loss", "reconstruction", "kl"}),
    ("dcgan", {"loss": "non_saturating"}, {"generator", "critic"}),
])
def test_any_shape_and_colour_without_a_label(arch, config, losses):
    """9x7 colour images (odd sides: the decoder crops) and no label: an unconditional fit
    (the GAN with its other loss, spectral normalisation, which has no gradient penalty)."""
    rng = np.random.default_rng(0)
    columns = [f"px_{r}_{c}_{k}" for r in range(9) for c in range(7) for k in range(3)]
    df = pd.DataFrame(rng.integers(0, 256, (40, len(columns))), columns=columns)
    synth, history = _fit(arch, df, condition_columns=(), config=config)
    assert set(history) == losses and all(np.isfinite(v).all() for v in history.values())
    assert synth.table.shape == (9, 7, 3)
    rows = synth.sample(5, seed=0)
    assert list(rows.columns) == columns
    assert synth.preview_grid(seed=0, per_row=3).shape == (1, 3, 9, 7, 3)
    with pytest.raises(DataError, match="trained without a label"):
        synth.sample(2, condition={"label": 1})


def test_fit_stops_when_asked(digits):
    """The stop flag is the shared fit loop's (one network shows it)."""
    stop = threading.Event()

    def on_epoch(epoch, losses):
        if epoch == 2:
            stop.set()

    synth, history = _fit("conv_vae", digits.iloc[:64], epochs=50, on_epoch=on_epoch,
                          stop=stop)
    assert {len(v) for v in history.values()} == {2}
    assert isinstance(synth, ImageSynthesizer) and len(synth.sample(3, seed=0)) == 3


def test_gan_samples_from_the_moving_average_of_its_generator(digits, monkeypatch):
    """The saved generator is neither the trained one nor left at its start: the average."""
    from dl_core.models.dcgan import DCGANSynthesizer

    trained, start = [], []
    build = DCGANSynthesizer.training_model

    def keep(self, *args):
        model = build(self, *args)
        trained.append(model)
        start.append(self.networks["generator"].get_weights())
        return model

    monkeypatch.setattr(DCGANSynthesizer, "training_model", keep)
    synth, _ = _fit("dcgan", digits.iloc[:64], config={"ema_decay": 0.9})
    kept = synth.networks["generator"].get_weights()

    def same(a, b):
        return all(np.allclose(u, v) for u, v in zip(a, b))

    assert not same(kept, trained[0].generator.get_weights())
    assert not same(kept, start[0])


def _spread(images: np.ndarray) -> float:
    """Mean pixel standard deviation across images (of one class)."""
    return float(images.reshape(len(images), -1).std(axis=0).mean())


@pytest.mark.parametrize("arch", ARCHS)
def test_temperature_widens_the_variety_of_a_class(fitted, arch):
    """The same fitted network drawn at a low and a high temperature: the same seed, images of
    one class far more alike at 0.1 than at 2."""
    import dataclasses

    synth = fitted[arch]["reloaded"]
    sevens = np.full(40, synth.table.label_index(7))
    spreads, kept = {}, synth.cfg
    try:
        for temperature in (0.1, 2.0):
            synth.cfg = dataclasses.replace(kept, temperature=temperature)
            spreads[temperature] = _spread(synth.sample_arrays(sevens, 40, seed=3))
    finally:
        synth.cfg = kept
    assert spreads[2.0] > 3 * spreads[0.1]


@pytest.mark.parametrize("arch", ARCHS)
def test_a_class_is_drawn_from_evenly_spread_noise(fitted, arch, monkeypatch):
    """The noise behind 40 images of one class fills its Gaussian evenly: each coordinate's
    mean within 0.12 of 0, where 40 independent draws strayed 0.16 or more in the worst
    coordinate (200 seeds, 16 or 64 coordinates). Without its fitted prior the VAE's latent
    draws are that noise, spread by the temperature."""
    synth = fitted[arch]["reloaded"]
    seen = []
    if arch == "conv_vae":
        monkeypatch.setitem(synth.state, "prior", None)
        monkeypatch.setattr(synth, "decode_arrays", lambda z, labels: seen.append(z))
    else:
        monkeypatch.setattr("dl_core.models.dcgan.predict",
                            lambda network, inputs: seen.append(inputs[0]))
    synth.sample_arrays(np.full(40, synth.table.label_index(7)), 40, seed=5)
    noise = seen[0] / synth.cfg.temperature
    assert noise.shape[0] == 40
    assert np.abs(noise.mean(axis=0)).max() < 0.12
    assert np.abs(noise.std(axis=0) - 1).max() < 0.2


def test_vae_prior_has_a_gaussian_per_twenty_images_of_a_class():
    """60 sevens and 25 ones: the sevens' codes get 3 Gaussians, the ones' 1 (one per 20
    images at most); their weights are shares."""
    digits = digits_table()
    df = pd.concat([digits[digits["label"] == 7].iloc[:60], digits[digits["label"] == 1].iloc[:25]])
    synth, _ = _fit("conv_vae", df, epochs=1)
    classes = synth.state["prior"]["classes"]
    assert [len(c["weights"]) for c in classes] == [1, 3]  # classes sorted: 1, then 7
    np.testing.assert_allclose(sum(classes[1]["weights"]), 1.0)
    assert np.asarray(classes[1]["chols"]).shape == (3, 16, 16)


def test_gan_diversity_term_spreads_a_class(digits):
    """The mode-seeking term (diversity_weight) pushes two noises of one class apart: after the
    same short fit from the same seed, a class varies more with it than without."""
    spreads = {}
    for weight in (0.0, 1.0):
        synth, _ = _fit("dcgan", digits, epochs=2, config={"diversity_weight": weight})
        threes = np.full(40, synth.table.label_index(3))
        spreads[weight] = _spread(synth.sample_arrays(threes, 40, seed=4))
    assert spreads[1.0] > 1.3 * spreads[0.0]
