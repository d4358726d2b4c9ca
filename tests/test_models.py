"""Every registered architecture builds, fits, saves, loads and predicts the same."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dl_core.config import config_from_dict, to_params
from dl_core.errors import ConfigError
from dl_core.models import get_model, list_models
from dl_core.models.fnn import FNNConfig
from dl_core.models.summary import layer_table, parameter_count

SHAPES = {"tabular": (6,), "image": (8, 8, 1), "sequence": (12, 2), "timeseries": (12, 1)}


@pytest.mark.parametrize("entry", list_models(family="supervised"), ids=lambda e: e.name)
def test_every_model_fits_saves_and_reloads(entry, tmp_path):
    from dl_core.backend import keras

    k = keras()
    k.utils.set_random_seed(0)
    kind = sorted(entry.kinds)[0]
    shape = SHAPES[kind]
    x = np.random.default_rng(0).normal(size=(32, *shape)).astype("float32")
    y = (x.reshape(32, -1).sum(axis=1) > 0).astype("int32")
    model = entry.build(entry.config_cls(), shape, 3, "softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    before = model.predict(x, verbose=0)
    assert before.shape == (32, 3)
    path = tmp_path / f"{entry.name}.keras"
    model.save(path)
    after = k.saving.load_model(path).predict(x, verbose=0)
    np.testing.assert_allclose(before, after, rtol=1e-5, atol=1e-6)
    table = layer_table(model)
    assert table[-1]["layer"] == "output"
    assert sum(r["parameters"] for r in table) == parameter_count(model)["total"]


@pytest.mark.parametrize("entry", list_models("tabular", family="generative"),
                         ids=lambda e: e.name)
def test_every_generator_fits_saves_reloads_and_samples(entry, tmp_path):
    """Build, fit a few steps, save, reload: the reloaded generator samples the same rows,
    shaped like the training table, and honours a condition."""
    import pandas as pd

    from dl_core.config import to_params
    from dl_core.generation.synthesizer import Synthesizer, load_synthesizer, save_synthesizer
    from tests.generation.tables import messy_table

    df = messy_table(120).drop(columns=["empty", "const"])
    cfg = entry.config_cls()
    synth = entry.build(cfg)
    assert isinstance(synth, Synthesizer)
    epochs_seen = []
    history = synth.fit(df, condition_columns=("city",), epochs=2, batch_size=32, seed=0,
                        on_epoch=lambda epoch, logs: epochs_seen.append(epoch))
    assert epochs_seen and epochs_seen == list(range(1, len(epochs_seen) + 1))
    assert all(len(v) == len(epochs_seen) for v in history.values())
    before = synth.sample(50, seed=3)
    assert list(before.columns) == list(df.columns)
    assert before["age"].between(df["age"].min(), df["age"].max()).all()
    assert set(before["city"].dropna()) <= set(df["city"].dropna())
    save_synthesizer(synth, tmp_path / "gen", arch=entry.name, config=to_params(cfg))
    reloaded = load_synthesizer(tmp_path / "gen")
    assert type(reloaded) is type(synth)
    pd.testing.assert_frame_equal(reloaded.sample(50, seed=3), before)
    rome = reloaded.sample(40, seed=1, condition={"city": "Rome"})
    assert (rome["city"] == "Rome").all()


@pytest.mark.parametrize("entry", list_models("image", family="generative"),
                         ids=lambda e: e.name)
def test_every_image_generator_fits_saves_reloads_and_samples(entry, tmp_path):
    """Build, fit a few steps on digits, save, reload: the reloaded generator samples the same
    images, with the training CSV's columns, scale and labels, and honours a class."""
    import pandas as pd

    from dl_core.generation.images import ImageSynthesizer
    from dl_core.generation.synthesizer import load_synthesizer, save_synthesizer
    from tests.generation.images import digits_table

    df = digits_table(60)
    cfg = entry.config_cls()
    synth = entry.build(cfg)
    assert isinstance(synth, ImageSynthesizer)
    epochs_seen = []
    history = synth.fit(df, condition_columns=("label",), epochs=1, batch_size=32, seed=0,
                        on_epoch=lambda epoch, logs: epochs_seen.append(epoch))
    assert epochs_seen == [1] and all(len(v) == 1 for v in history.values())
    before = synth.sample(12, seed=3)
    assert list(before.columns) == list(df.columns)
    pixels = before.drop(columns="label")
    assert pixels.dtypes.eq("int64").all() and pixels.min().min() >= 0 and pixels.max().max() <= 255
    assert set(before["label"]) <= set(range(10))
    save_synthesizer(synth, tmp_path / "gen", arch=entry.name, config=to_params(cfg))
    reloaded = load_synthesizer(tmp_path / "gen")
    assert type(reloaded) is type(synth) and reloaded.table == synth.table
    pd.testing.assert_frame_equal(reloaded.sample(12, seed=3), before)
    assert set(reloaded.sample(5, seed=1, condition={"label": "7"})["label"]) == {7}
    assert reloaded.preview_grid(seed=0, per_row=2).shape == (10, 2, 8, 8, 1)


def test_config_round_trips_through_logged_params():
    cfg = FNNConfig(hidden_units=(128, 64, 32), activation="gelu", dropout=0.3, batch_norm=True)
    params = to_params(cfg)
    assert params["hidden_units"] == "128,64,32"
    assert config_from_dict(FNNConfig, params) == cfg


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"dropout": 1.5}, r"FNNConfig.dropout must be at most 0.9; got 1.5"),
        ({"activation": "swishy"}, r"FNNConfig.activation must be one of"),
        ({"hidden_units": "64,abc"}, r"hidden_units expects a comma-separated list"),
        ({"hidden_units": ""}, r"needs at least one layer"),
        ({"units": 3}, r"Unknown option\(s\) \['units'\] for FNNConfig"),
    ],
)
def test_bad_hyperparameters_are_explained(values, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict(FNNConfig, values)


def test_unknown_architecture_lists_known_ones():
    with pytest.raises(ConfigError, match=r"Unknown architecture 'transformer'; choose one of \['cnn', 'cnn1d', .*'fnn'"):
        get_model("transformer")


def test_fnn_layers_follow_config():
    entry = get_model("fnn")
    model = entry.build(FNNConfig(hidden_units=(16, 8), batch_norm=True, dropout=0.0), (5,), 1, "sigmoid")
    names = [layer.name for layer in model.layers]
    assert names == ["features", "dense_1", "batch_norm_1", "relu_1", "dense_2", "batch_norm_2",
                     "relu_2", "output"]
    assert dataclasses.asdict(FNNConfig())["hidden_units"] == (32,)


def test_registry_lists_architectures_by_data_kind():
    assert [e.name for e in list_models("image", family="supervised")] == ["cnn"]
    assert {"conv_vae", "image_kde"} <= {e.name for e in list_models("image", family="generative")}
    assert {e.name for e in list_models("timeseries")} == {"rnn", "gru", "lstm", "cnn1d"}
    assert {e.name for e in list_models("sequence")} == {"rnn", "gru", "lstm", "cnn1d"}
    assert all(e.description.endswith(".") for e in list_models())


@pytest.mark.parametrize("arch", ["cnn", "lstm", "cnn1d", "fnn"])
def test_zoo_configs_round_trip_through_logged_params(arch):
    cls = get_model(arch).config_cls
    cfg = cls()
    assert config_from_dict(cls, to_params(cfg)) == cfg


def test_fnn_per_block_activations_and_dropouts():
    cfg = FNNConfig(hidden_units=(16, 8), activations=("gelu", "tanh"), dropouts=(0.2, 0.0))
    assert config_from_dict(FNNConfig, to_params(cfg)) == cfg
    model = get_model("fnn").build(cfg, (5,), 1, "sigmoid")
    names = [layer.name for layer in model.layers]
    assert names == ["features", "dense_1", "gelu_1", "dropout_1", "dense_2", "tanh_2", "output"]


def test_recurrent_stack_is_bidirectional_when_asked():
    from dl_core.models.recurrent import RecurrentConfig

    model = get_model("gru").build(RecurrentConfig(units=(8, 4), bidirectional=True), (10, 2), 3, "linear")
    assert [layer.name for layer in model.layers][1:] == ["bidirectional_1", "bidirectional_2", "output"]
    assert model.output.shape[-1] == 3


def test_cnn_augmentation_layers_are_saved_and_inactive_at_inference(tmp_path):
    from dl_core.backend import keras
    from dl_core.models.cnn import CNNConfig

    cfg = CNNConfig(filters=(4,), kernel_sizes=(3,), augment_shift=0.1, augment_flip=True,
                    augment_rotation=0.05, dense_units=(8,))
    model = get_model("cnn").build(cfg, (8, 8, 1), 2, "softmax")
    assert {"augment_shift", "augment_flip", "augment_rotation"} <= {la.name for la in model.layers}
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               keras().saving.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("arch", "values", "match"),
    [
        ("cnn", {"filters": "8,16", "kernel_sizes": "3"}, r"kernel_sizes needs one size per conv block \(2\)"),
        ("cnn1d", {"filters": ""}, r"needs at least one conv block"),
        ("lstm", {"units": ""}, r"needs at least one recurrent layer"),
        ("fnn", {"hidden_units": "8,4", "dropouts": "0.1"}, r"dropouts needs one value per hidden layer \(2\)"),
        ("fnn", {"activations": "relu,swishy"}, r"activations must be one of"),
    ],
)
def test_bad_zoo_hyperparameters_are_explained(arch, values, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict(get_model(arch).config_cls, values)
