"""The table codec: exact round trips, the network-facing layout, decoding of raw outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dl_core.errors import DataError
from dl_core.generation.codec import ConditionalSampler, TableCodec
from tests.generation.tables import messy_table

MODELLED = [
    "income", "bimodal", "age", "calls", "score", "city", "flag", "senior", "plan", "signup",
    "seen", "const", "empty",
]


@pytest.fixture(scope="module")
def messy():
    return messy_table()


@pytest.fixture(scope="module")
def codec(messy):
    return TableCodec(random_state=0).fit(messy)


def test_round_trip_is_exact_for_every_modelled_column(messy, codec):
    back = codec.inverse_transform(codec.transform(messy, dtype=np.float64), seed=1)
    assert list(back.columns) == list(messy.columns)
    assert back.dtypes.to_dict() == messy.dtypes.to_dict()
    pd.testing.assert_frame_equal(back[MODELLED], messy[MODELLED], check_exact=False, rtol=1e-9)


def test_float32_round_trip_keeps_rounded_columns_exact_and_the_rest_close(messy, codec):
    back = codec.inverse_transform(codec.transform(messy), seed=1)
    exact = [c for c in MODELLED if c != "bimodal"]  # income has 2 decimals: rounded back
    pd.testing.assert_frame_equal(back[exact], messy[exact])
    assert np.max(np.abs(back["bimodal"] - messy["bimodal"])) < 1e-5


def test_identifiers_are_fresh_unique_and_shaped_like_the_training_ones(messy, codec):
    back = codec.inverse_transform(codec.transform(messy), seed=3)
    assert back["id"].is_unique and back["row"].is_unique
    assert not set(back["id"]) & set(messy["id"])
    assert back["row"].min() == messy["row"].max() + 1
    assert back["id"].str.fullmatch(r"\d{4}-[A-Z]{4}").all()


def test_spans_tile_the_output_with_tanh_scalars_and_softmax_groups(messy, codec):
    spans = codec.spans
    assert spans[0].start == 0 and spans[-1].stop == codec.output_dim
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:]))
    by_part = {(s.column, s.part): s for s in spans}
    assert by_part[("bimodal", "value")].activation == "tanh"
    assert by_part[("bimodal", "value")].size == 1
    assert by_part[("bimodal", "modes")].size >= 2  # two clusters, two modes at least
    assert by_part[("city", "categories")].size == 5  # four cities and missing
    assert ("calls", "missing") in by_part and ("age", "missing") not in by_part
    assert {s.activation for s in spans if s.part != "value"} == {"softmax"}
    # Every one-hot group of an encoded row sums to one.
    encoded = codec.transform(messy)
    for span in spans:
        if span.activation == "softmax":
            assert np.all(encoded[:, span.start : span.stop].sum(axis=1) == 1)


def test_cond_spans_cover_the_discrete_columns_in_order(codec):
    cond = codec.cond_spans
    assert [s.column for s in cond] == ["city", "flag", "senior", "plan"]  # const: one value
    assert cond[0].start == 0 and cond[-1].stop == codec.cond_dim
    city = cond[0]
    assert city.categories[0] == "Oslo" and None in city.categories
    assert sum(city.counts) == 240
    output = {(s.column, s.part): s for s in codec.spans}[("city", "categories")]
    assert (city.output_start, city.output_stop) == (output.start, output.stop)
    vec = codec.condition_vector("city", "Kyiv", 3)
    assert vec.shape == (3, codec.cond_dim)
    assert np.all(vec[:, city.start + city.categories.index("Kyiv")] == 1) and vec.sum() == 3


def test_decoding_random_network_outputs_respects_the_training_table(messy, codec):
    rng = np.random.default_rng(0)
    raw = rng.normal(0, 3, size=(500, codec.output_dim))  # logits and out-of-range scalars
    out = codec.inverse_transform(raw, seed=0)
    assert out.dtypes.to_dict() == messy.dtypes.to_dict()
    for col in ["income", "bimodal", "age", "score"]:
        assert out[col].min() >= messy[col].min() and out[col].max() <= messy[col].max()
    assert (out["age"] == out["age"].round()).all()
    assert (out["income"] == out["income"].round(2)).all()
    assert set(out["city"].dropna()) <= set(messy["city"].dropna())
    dates = pd.to_datetime(out["signup"].dropna(), format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("2020-01-01")
    assert out["signup"].dropna().str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (out["seen"].dt.second == 0).all()  # minute resolution kept
    assert list(out["plan"].cat.categories) == ["basic", "pro", "max"]
    assert out["empty"].isna().all() and (out["const"] == "x").all()


def test_saved_codec_encodes_and_decodes_identically(tmp_path, messy, codec):
    path = tmp_path / "codec.json"
    codec.save(path)
    json.loads(path.read_text())  # plain JSON, no pickle
    loaded = TableCodec.load(path)
    np.testing.assert_array_equal(loaded.transform(messy), codec.transform(messy))
    raw = np.random.default_rng(1).normal(size=(50, codec.output_dim))
    pd.testing.assert_frame_equal(
        loaded.inverse_transform(raw, seed=2), codec.inverse_transform(raw, seed=2)
    )


def test_modes_are_sampled_from_the_posterior_unless_argmax(messy):
    sampled = TableCodec(random_state=0).fit(messy)
    argmax = TableCodec(mode_selection="argmax", random_state=0).fit(messy)
    # age (uniform 18-90) has overlapping modes: sampling picks a less likely one for some rows,
    # argmax never does, and both decode to the same values.
    modes = {(s.column, s.part): s for s in sampled.spans}[("age", "modes")]
    picks = [
        np.argmax(c.transform(messy)[:, modes.start : modes.stop], 1) for c in (sampled, argmax)
    ]
    assert 0 < np.mean(picks[0] != picks[1]) < 0.5
    pd.testing.assert_series_equal(
        argmax.inverse_transform(argmax.transform(messy))["age"], messy["age"]
    )


def test_conditional_sampler_favours_rare_categories_and_finds_their_rows(messy, codec):
    encoded = codec.transform(messy)
    sampler = ConditionalSampler(codec, encoded)
    rng = np.random.default_rng(0)
    cond, mask, column, category = sampler.sample_train(20_000, rng)
    assert cond.shape == (20_000, codec.cond_dim) and np.all(cond.sum(1) == 1)
    assert np.all(mask.sum(1) == 1) and np.all(mask[np.arange(20_000), column] == 1)
    city = codec.cond_spans[0]
    kyiv = city.categories.index("Kyiv")
    picked = category[column == 0]
    share = np.mean(picked == kyiv)
    # log(1 + 7) / sum(log(1 + counts)) ~ 0.1 against a frequency of ~0.03.
    expected = np.log1p(city.counts[kyiv]) / np.log1p(np.asarray(city.counts)).sum()
    assert share == pytest.approx(expected, abs=0.02) and share > 2 * city.counts[kyiv] / 240
    rows = sampler.sample_rows(column[:200], category[:200], rng)
    for r, c, k in zip(rows, column[:200], category[:200]):
        span = codec.cond_spans[c]
        assert np.argmax(encoded[r, span.output_start : span.output_stop]) == k


def test_missing_training_column_and_unknown_condition_are_explained(messy, codec):
    with pytest.raises(DataError, match="lacks the training column.*'city'"):
        codec.transform(messy.drop(columns=["city"]))
    with pytest.raises(DataError, match="'Paris' is not a value of column 'city'"):
        codec.condition_vector("city", "Paris", 1)
    with pytest.raises(DataError, match="Cannot condition on 'income'"):
        codec.condition_vector("income", 3.0, 1)
    with pytest.raises(DataError, match="not fitted"):
        TableCodec().transform(messy)
