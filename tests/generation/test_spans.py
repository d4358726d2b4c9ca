"""Span-wise activations and losses against numpy references on a real codec layout."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core.backend import keras
from dl_core.generation.codec import ConditionalSampler, TableCodec
from dl_core.generation.spans import activate, conditional_loss, reconstruction_loss
from tests.generation.tables import correlated_table


@pytest.fixture(scope="module")
def codec_and_rows():
    table = correlated_table(200)
    codec = TableCodec(random_state=0).fit(table)
    return codec, codec.transform(table)


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_activate_gives_tanh_scalars_and_probability_groups(codec_and_rows):
    codec, _ = codec_and_rows
    logits = np.random.default_rng(0).normal(0, 3, (16, codec.output_dim)).astype("float32")
    out = keras().ops.convert_to_numpy(activate(logits, codec.spans))
    gumbel = keras().ops.convert_to_numpy(activate(logits, codec.spans, gumbel_tau=0.2, seed=1))
    differs = []
    for span in codec.spans:
        part, raw = out[:, span.start : span.stop], logits[:, span.start : span.stop]
        if span.activation == "tanh":
            np.testing.assert_allclose(part, np.tanh(raw), rtol=1e-5)
            np.testing.assert_allclose(gumbel[:, span.start], np.tanh(raw[:, 0]), rtol=1e-5)
        else:
            np.testing.assert_allclose(part, np.exp(_log_softmax(raw)), rtol=1e-4, atol=1e-6)
            g = gumbel[:, span.start : span.stop]
            np.testing.assert_allclose(g.sum(axis=1), 1.0, rtol=1e-5)
            if span.size > 1:  # tau 0.2: nearly one-hot, and not always the argmax
                assert np.mean(g.max(axis=1)) > 0.8
                differs.append(np.any(g.argmax(axis=1) != raw.argmax(axis=1)))
    assert any(differs)


def test_reconstruction_loss_matches_the_tvae_formula(codec_and_rows):
    codec, rows = codec_and_rows
    rng = np.random.default_rng(1)
    x = rows[:32]
    logits = rng.normal(size=x.shape).astype("float32")
    values = [s for s in codec.spans if s.activation == "tanh"]
    sigmas = rng.uniform(0.1, 1.0, len(values)).astype("float32")
    expected = np.zeros(len(x))
    for span in codec.spans:
        t, o = x[:, span.start : span.stop], logits[:, span.start : span.stop]
        if span.activation == "tanh":
            sigma = sigmas[values.index(span)]
            expected += ((t[:, 0] - np.tanh(o[:, 0])) ** 2) / (2 * sigma**2) + np.log(sigma)
        else:
            expected -= (t * _log_softmax(o)).sum(axis=1)
    got = float(keras().ops.convert_to_numpy(reconstruction_loss(x, logits, sigmas, codec.spans)))
    assert got == pytest.approx(expected.mean(), rel=1e-4)
    # A perfect decoder (logits that reproduce x) scores far lower.
    perfect = np.where(x > 0.5, 20.0, -20.0).astype("float32")
    for span in values:
        perfect[:, span.start] = np.arctanh(np.clip(x[:, span.start], -0.999, 0.999))
    best = float(keras().ops.convert_to_numpy(reconstruction_loss(x, perfect, sigmas, codec.spans)))
    assert best < got - 1.0


def test_conditional_loss_penalises_only_the_conditioned_column(codec_and_rows):
    codec, rows = codec_and_rows
    sampler = ConditionalSampler(codec, rows)
    cond, mask, column, category = sampler.sample_train(8, np.random.default_rng(0))
    (span,) = codec.cond_spans  # the group column
    logits = np.zeros((8, codec.output_dim), dtype="float32")
    # Logits that pick the requested category: near-zero loss; the opposite: a large one.
    logits[np.arange(8), span.output_start + category] = 30.0
    good = float(keras().ops.convert_to_numpy(conditional_loss(logits, cond, mask, [span])))
    bad = float(keras().ops.convert_to_numpy(
        conditional_loss(-logits, cond, mask, [span])))
    assert good == pytest.approx(0.0, abs=1e-6)
    # -log_softmax of -30 among (-30, 0, 0) = 30 + log(2 + e^-30), for every row.
    assert bad == pytest.approx(30.0 + np.log(2.0), rel=1e-4)
    # Rows whose mask is zero contribute nothing.
    unmasked = float(keras().ops.convert_to_numpy(
        conditional_loss(-logits, cond, np.zeros_like(mask), [span])))
    assert unmasked == 0.0
