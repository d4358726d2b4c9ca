"""The network synthesizers (tvae, ctgan): what a user relies on after a short fit."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dl_core.errors import DataError
from dl_core.models import get_model
from tests.generation.tables import correlated_table

ARCHS = ("tvae", "ctgan")


def _fit(arch, df, epochs, batch_size=50, **kwargs):
    entry = get_model(arch)
    synth = entry.build(entry.config_cls())
    history = synth.fit(df, epochs=epochs, batch_size=batch_size, seed=0, **kwargs)
    return synth, history


@pytest.fixture(scope="module")
def fitted():
    """Each network fitted briefly on a table where a class shifts two correlated numbers."""
    df = correlated_table(400)
    # A second, independent category: conditioning on it leaves 'group' to the network alone.
    df["flag"] = np.random.default_rng(1).choice(["yes", "no"], len(df))
    return df, {arch: _fit(arch, df, epochs=40, batch_size=25)[0] for arch in ARCHS}


def test_interpolation_weight_is_uniform_and_shared_by_a_pac_group():
    from dl_core.backend import keras
    from dl_core.models.ctgan import interpolation_weights

    u = keras().ops.convert_to_numpy(interpolation_weights(5000, 10, seed=0)).reshape(5000, 10)
    assert (u == u[:, :1]).all()  # one weight per pac group
    first = u[:, 0]
    assert first.min() >= 0.0 and first.max() <= 1.0
    assert stats.kstest(first, "uniform").pvalue > 0.01
    # A normal draw (the keras-io bug) puts a sixth of the weights below -1 or above 1.
    assert abs(np.mean(first < 0.5) - 0.5) < 0.03


def test_tvae_learns_category_frequencies_and_a_shifted_mean(fitted):
    df, models = fitted
    real = df["group"].value_counts(normalize=True)

    def shares(rows):
        return rows["group"].value_counts(normalize=True).reindex(real.index, fill_value=0)

    rows = models["tvae"].sample(3000, seed=1)
    np.testing.assert_allclose(shares(rows), real, atol=0.035)
    # Conditioned on the other column, 'group' comes from the decoder alone. Drawn from the
    # prior, the decoder under-draws the rarest group (c: 0.09 unconditioned and 0.07 here
    # against 0.125); the fitted category offsets give it its share back.
    alone = models["tvae"].sample(3000, seed=1, condition={"flag": "yes"})
    np.testing.assert_allclose(shares(alone), real, atol=0.035)
    assert abs(shares(rows)["c"] - real["c"]) < 0.02
    assert abs(shares(alone)["c"] - real["c"]) < 0.02
    # The decoder learnt that x rises with the group (a ~ 0, b ~ 3, c ~ 6; a short fit gets
    # part of the way); ignoring the group would give every group the same mean.
    means = rows.groupby("group")["x"].mean()
    assert means["a"] + 1 < means["b"] < means["c"]


@pytest.mark.parametrize("arch", ARCHS)
def test_numbers_are_drawn_from_the_training_marginals(fitted, arch):
    df, models = fitted
    rows = models[arch].sample(3000, seed=1)
    # Uncalibrated, the short fits miss them (KS 0.11-0.12 for tvae, 0.24-0.53 for ctgan).
    for column in ("x", "y", "n"):
        assert stats.ks_2samp(rows[column], df[column]).statistic < 0.05, column


@pytest.mark.parametrize("arch", ARCHS)
def test_conditional_sampling_gives_only_the_asked_value(fitted, arch):
    df, models = fitted
    rows = models[arch].sample(300, seed=2, condition={"group": "c"})
    assert len(rows) == 300
    assert (rows["group"] == "c").all()
    assert list(rows.columns) == list(df.columns)
    assert rows["n"].dtype == df["n"].dtype


@pytest.mark.parametrize("arch", ARCHS)
def test_bad_conditions_are_explained(fitted, arch):
    _, models = fitted
    with pytest.raises(DataError, match="'d' is not a value of column 'group'"):
        models[arch].sample(10, condition={"group": "d"})
    with pytest.raises(DataError, match="Cannot condition on 'x'"):
        models[arch].sample(10, condition={"x": 1.0})


def test_a_second_condition_is_met_by_rejection(fitted):
    df, models = fitted
    df2 = df.assign(size=np.where(df["n"] > 3, "big", "small"))
    synth, _ = _fit("tvae", df2, epochs=2)
    rows = synth.sample(40, seed=0, condition={"group": "a", "size": "small"})
    assert len(rows) == 40
    assert ((rows["group"] == "a") & (rows["size"] == "small")).all()


@pytest.mark.parametrize("arch", ARCHS)
def test_fit_reports_every_epoch_and_stops_when_asked(arch):
    df = correlated_table(120)
    stop = threading.Event()
    seen = []

    def on_epoch(epoch, losses):
        seen.append((epoch, sorted(losses)))
        if epoch == 2:
            stop.set()

    synth, history = _fit(arch, df, epochs=50, batch_size=40, on_epoch=on_epoch, stop=stop)
    names = sorted(type(synth).LOSSES)
    assert seen == [(1, names), (2, names)]
    assert {k: len(v) for k, v in history.items()} == {name: 2 for name in names}
    assert (synth.sample(5, seed=0).columns == df.columns).all()


@pytest.mark.parametrize("arch", ARCHS)
def test_unknown_condition_column_at_fit_is_explained(arch):
    with pytest.raises(DataError, match="Cannot condition on 'y'"):
        _fit(arch, correlated_table(60), epochs=1, condition_columns=("y",))


def test_saved_as_keras_files_and_json_and_reloaded_to_the_same_rows(fitted, tmp_path):
    _, models = fitted
    models["ctgan"].save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "codec.json", "critic.keras", "generator.keras", "state.json"]
    reloaded = type(models["ctgan"]).load(tmp_path)
    pd.testing.assert_frame_equal(reloaded.sample(20, seed=4), models["ctgan"].sample(20, seed=4))


def test_small_tables_get_steps_not_one_giant_batch():
    from dl_core.generation.neural import effective_batch

    assert effective_batch(1000, 500) == 100  # 10 steps an epoch, not 2
    assert effective_batch(5000, 500) == 500  # the asked batch where it leaves enough steps
    assert effective_batch(89, 500) == 32
    assert effective_batch(20, 500) == 20
    assert effective_batch(300, 500, floor=100) == 100  # ctgan: ten pac groups at least


def test_a_ctgan_epoch_on_a_small_table_is_enough_steps_not_one_pass(monkeypatch):
    """One pass of 120 rows at batch 100 is one step; the GAN gets 16 an epoch (wine's 89 rows:
    TSTR/TRTR 0.30 at one step an epoch, 0.99 at 16)."""
    from dl_core.models.ctgan import CTGANSynthesizer

    trained = []
    build = CTGANSynthesizer.training_model

    def keep(self, *args):
        model, dataset = build(self, *args)
        trained.append(model)
        return model, dataset

    monkeypatch.setattr(CTGANSynthesizer, "training_model", keep)
    _fit("ctgan", correlated_table(120), epochs=2, batch_size=500)
    assert int(trained[0].generator_optimizer.iterations) == 2 * CTGANSynthesizer.MIN_STEPS_PER_EPOCH
    assert CTGANSynthesizer.MIN_STEPS_PER_EPOCH == 16


@pytest.mark.parametrize("arch", ARCHS)
def test_samples_can_be_drawn_while_training(arch):
    """The Train page previews fresh rows from inside ``on_epoch``."""
    df = correlated_table(120)
    entry = get_model(arch)
    synth = entry.build(entry.config_cls())
    previews = []
    synth.fit(df, epochs=2, batch_size=40, seed=0,
              on_epoch=lambda epoch, losses: previews.append(synth.sample(4, seed=epoch)))
    assert [list(p.columns) for p in previews] == [list(df.columns)] * 2
    assert all(len(p) == 4 for p in previews)
