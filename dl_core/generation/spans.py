"""Span-wise activations and losses for networks that output a :class:`TableCodec` vector.

These are the pieces every tabular generator's ``call`` and ``train_step`` need, written once with
``keras.ops`` (any Keras 3 backend; Keras is imported when a function runs, never at import):

- :func:`activate`: ``tanh`` on each ``value`` span and ``softmax`` on each one-hot group, or a
  Gumbel-softmax (CTGAN's generator, temperature 0.2) so sampled categories stay differentiable.
- :func:`reconstruction_loss`: TVAE's decoder loss: a Gaussian negative log-likelihood with a
  learnt scale per ``value`` span and the cross-entropy of every one-hot group.
- :func:`conditional_loss`: CTGAN's generator penalty: the cross-entropy between the generated
  one-hot of the column each row was conditioned on and the requested category.

``spans`` and ``cond_spans`` are :attr:`TableCodec.spans` and :attr:`TableCodec.cond_spans`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dl_core.backend import keras as _keras
from dl_core.generation.codec import CondSpan, Span

_EPS = 1e-10


def activate(logits, spans: Sequence[Span], gumbel_tau: float | None = None, seed=None):
    """Applies each span's output activation.

    Args:
        logits: Tensor ``(batch, output_dim)``: the network's raw outputs.
        spans: The codec's output layout.
        gumbel_tau: ``None`` for a plain softmax; a temperature (CTGAN: 0.2) for a Gumbel-softmax
            on the one-hot groups.
        seed: A ``keras.random.SeedGenerator`` (or int) for the Gumbel noise.

    Returns:
        Tensor ``(batch, output_dim)``: ``tanh`` values and probability vectors, span by span.
    """
    ops = _keras().ops
    parts = []
    for span in spans:
        chunk = logits[:, span.start : span.stop]
        if span.activation == "tanh":
            parts.append(ops.tanh(chunk))
        elif gumbel_tau is None:
            parts.append(ops.softmax(chunk, axis=-1))
        else:
            parts.append(gumbel_softmax(chunk, gumbel_tau, seed))
    return ops.concatenate(parts, axis=-1)


def gumbel_softmax(logits, tau: float, seed=None):
    """``softmax((logits + g) / tau)`` with standard Gumbel noise ``g`` (Keras has none built in).

    Args:
        logits: Tensor ``(batch, k)``.
        tau: Temperature; small values give nearly one-hot samples.
        seed: A ``keras.random.SeedGenerator`` or int.

    Returns:
        Tensor ``(batch, k)`` of probability vectors.
    """
    keras = _keras()
    u = keras.random.uniform(keras.ops.shape(logits), seed=seed)
    g = -keras.ops.log(-keras.ops.log(u + _EPS) + _EPS)
    return keras.ops.softmax((logits + g) / tau, axis=-1)


def reconstruction_loss(x, logits, sigmas, spans: Sequence[Span]):
    """TVAE's reconstruction loss, averaged over the batch.

    Per row: for each ``value`` span ``(x - tanh(logit))^2 / (2 sigma^2) + log(sigma)``, plus for
    each one-hot group the cross-entropy ``-sum(x * log_softmax(logits))``.

    Args:
        x: Tensor ``(batch, output_dim)``: encoded real rows.
        logits: Tensor ``(batch, output_dim)``: the decoder's raw outputs.
        sigmas: Tensor ``(n_value_spans,)``: the learnt scales, one per ``value`` span in order
            (TVAE clamps them to ``[0.01, 1]``).
        spans: The codec's output layout.

    Returns:
        Scalar tensor.
    """
    ops = _keras().ops
    total = 0.0
    i = 0
    for span in spans:
        target = x[:, span.start : span.stop]
        out = logits[:, span.start : span.stop]
        if span.activation == "tanh":
            sigma = sigmas[i]
            i += 1
            total = total + ops.sum((target - ops.tanh(out)) ** 2, axis=-1) / (2 * sigma**2)
            total = total + ops.log(sigma)
        else:
            total = total - ops.sum(target * ops.log_softmax(out, axis=-1), axis=-1)
    return ops.mean(total)


def conditional_loss(logits, cond, mask, cond_spans: Sequence[CondSpan]):
    """CTGAN's conditional-vector penalty, averaged over the batch.

    Args:
        logits: Tensor ``(batch, output_dim)``: the generator's raw outputs.
        cond: Tensor ``(batch, cond_dim)``: the conditional vectors fed to the generator.
        mask: Tensor ``(batch, n_cond_columns)``: one-hot of the column each row was conditioned
            on (:meth:`ConditionalSampler.sample_train`).
        cond_spans: The codec's conditional layout.

    Returns:
        Scalar tensor: the masked cross-entropy summed over columns, averaged over rows.
    """
    ops = _keras().ops
    total = 0.0
    for c, span in enumerate(cond_spans):
        out = logits[:, span.output_start : span.output_stop]
        target = cond[:, span.start : span.stop]
        ce = -ops.sum(target * ops.log_softmax(out, axis=-1), axis=-1)
        total = total + ce * mask[:, c]
    return ops.mean(total)
