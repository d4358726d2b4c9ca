"""A convolutional variational autoencoder for pixel CSVs, registered as ``conv_vae``.

The encoder (stride-2 convolutions, a dense layer) maps an image, and its label when the table
has one, to the mean and log variance of a latent Gaussian; the decoder (a dense layer, transposed
convolutions, a sigmoid) maps a latent draw and the label back to pixel intensities. The loss is
the keras-io VAE's: binary cross-entropy of every pixel (intensities in [0, 1] as targets),
summed over the image, plus ``kl_weight`` times the KL divergence to the standard normal.

Conditioning on the label (a conditional VAE) leaves the latent the style of a digit (slant,
thickness) and the label its class.

Defaults from the digits bench (bench/README.md): with a 2-D latent and the plain bound
(``kl_weight`` 1) the label does all the work and samples of a class hardly vary (recall 0.05);
``kl_weight`` 0.03 (a beta-VAE with beta below 1) and 16 latent dimensions give sharp, varied
digits. The latent explorer projects such a latent to 2-D; set ``latent_dim`` 2 to explore the
plane itself.

Sampling: latent draws from a Gaussian mixture per class fitted to the training images' codes
after the fit (``latent_prior`` "fitted": with a small KL weight the codes are not N(0, I), and
the decoder was trained where they are; Ghosh et al., 2020) or from N(0, I), spread by
``temperature`` (1.2: on the bench's tuning splits the fitted mixture is a little narrower than
the variety of real digits), decoded to the decoder's intensities (its mean image; Bernoulli
draws of 8x8 pixels would be speckled noise). A class's draws are spread evenly over its prior
(:mod:`dl_core.generation.spread`), not drawn one by one.
:meth:`ConvVAESynthesizer.encode_arrays` gives posterior means,
:meth:`~ConvVAESynthesizer.decode_arrays` decodes any codes (the latent explorer).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from dl_core.backend import keras as _keras
from dl_core.config import param, validate_fields
from dl_core.generation.image_networks import (
    STEPS_PER_CALL,
    ImageNetworkSynthesizer,
    conv_plan,
    predict,
)
from dl_core.generation.spread import even_uniforms_by_class, normals
from dl_core.models.registry import register_model

#: Added to the fitted prior's covariances (codes spread about 0.7 a dimension): keeps a
#: component of few codes from collapsing onto them.
PRIOR_REG = 1e-2


@dataclass(frozen=True)
class ConvVAEConfig:
    """Hyperparameters of the convolutional variational autoencoder."""

    latent_dim: int = param(
        16, min=1, max=512,
        help="Width of the latent Gaussian (2: the latent explorer shows the plane itself, but "
             "a digit's style needs more: with 2 samples vary little).",
    )
    filters: tuple[int, ...] = param(
        (32, 64), min=1, max=1024,
        help="Filters of each stride-2 convolution of the encoder, first to last (the decoder "
             "mirrors them); each halves the image.",
    )
    dense_units: int = param(128, min=1, max=4096,
                             help="Units of the dense layer beside the latent (ReLU).")
    label_embedding: int = param(16, min=1, max=512,
                                 help="Width of the label's embedding (conditional tables).")
    learning_rate: float = param(1e-3, min=1e-6, max=1.0, log=True,
                                 help="Adam's learning rate.")
    latent_prior: str = param(
        "fitted", choices=("fitted", "standard"),
        help="Where samples are drawn in the latent: fitted, a Gaussian mixture per class "
             "fitted to the encoded training images after the fit (where the decoder was "
             "trained); standard, N(0, I).",
    )
    prior_components: int = param(
        3, min=1, max=50,
        help="Gaussians of each class's fitted prior (one per 20 training images at most).",
    )
    temperature: float = param(
        1.2, min=0.1, max=3.0,
        help="Spread of the latent draws around the fitted prior (1: the training codes' own "
             "spread; above 1 more varied, less typical images; below 1 the reverse).",
    )
    kl_weight: float = param(
        0.03, min=0.0, max=100.0, label="KL weight",
        help="Weight of the KL term against the reconstruction (1: the VAE's bound; below 1 "
             "sharper images, a less regular latent).",
    )

    def __post_init__(self) -> None:
        validate_fields(self)


class ConvVAESynthesizer(ImageNetworkSynthesizer):
    """The convolutional VAE behind the :class:`~dl_core.generation.images.ImageSynthesizer`
    interface (see the module docstring). Networks: ``encoder`` and ``decoder``."""

    config_cls = ConvVAEConfig
    NETWORKS = ("encoder", "decoder")
    LOSSES = ("loss", "reconstruction", "kl")
    has_latent = True

    @property
    def latent_dim(self) -> int:  # type: ignore[override]
        return int(self.cfg.latent_dim)

    def _build_networks(self) -> None:
        keras = _keras()
        layers, cfg = keras.layers, self.cfg
        h, w, c = self._fitted_table().shape
        n_classes = self.n_classes
        plan = conv_plan(h, w, len(cfg.filters))
        blocks = len(plan) - 1
        filters = list(cfg.filters[:blocks]) or [cfg.filters[0]]

        def label_input(prefix):
            if not n_classes:
                return [], None
            label = keras.Input((1,), dtype="int32", name="label")
            e = layers.Embedding(n_classes, cfg.label_embedding, name=f"{prefix}_label_embedding")(
                label)
            return [label], layers.Flatten(name=f"{prefix}_label_vector")(e)

        image = keras.Input((h, w, c), name="image")
        extra, label_vec = label_input("encoder")
        x = image
        for i, f in enumerate(filters[:blocks]):
            x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu",
                              name=f"encoder_conv_{i + 1}")(x)
        x = layers.Flatten(name="encoder_flatten")(x)
        if label_vec is not None:
            x = layers.Concatenate(name="encoder_with_label")([x, label_vec])
        x = layers.Dense(cfg.dense_units, activation="relu", name="encoder_dense")(x)
        mean = layers.Dense(cfg.latent_dim, name="latent_mean")(x)
        log_var = layers.Dense(cfg.latent_dim, name="latent_log_var")(x)
        encoder = keras.Model([image, *extra] if extra else image, [mean, log_var],
                              name="conv_vae_encoder")

        z = keras.Input((cfg.latent_dim,), name="latent")
        extra, label_vec = label_input("decoder")
        x = layers.Concatenate(name="decoder_with_label")([z, label_vec]) if extra else z
        x = layers.Dense(cfg.dense_units, activation="relu", name="decoder_dense")(x)
        sh, sw = plan[-1]
        x = layers.Dense(sh * sw * filters[-1], activation="relu", name="decoder_grid")(x)
        x = layers.Reshape((sh, sw, filters[-1]), name="decoder_reshape")(x)
        for i, f in enumerate(reversed(filters[:blocks])):
            x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                       name=f"decoder_deconv_{i + 1}")(x)
        over_h, over_w = sh * 2**blocks - h, sw * 2**blocks - w
        if over_h or over_w:
            x = layers.Cropping2D(((0, over_h), (0, over_w)), name="decoder_crop")(x)
        out = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="decoded_image")(x)
        decoder = keras.Model([z, *extra] if extra else z, out, name="conv_vae_decoder")
        self.networks = {"encoder": encoder, "decoder": decoder}

    def training_model(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
        keras = _keras()
        self._build_networks()
        model = _vae_model_class()(self.networks["encoder"], self.networks["decoder"],
                                   conditional=bool(self.n_classes),
                                   kl_weight=self.cfg.kl_weight, seed=seed)
        model.compile(optimizer=keras.optimizers.Adam(self.cfg.learning_rate),
                      steps_per_execution=STEPS_PER_CALL)
        return model

    def after_fit(self, model) -> None:
        if self.cfg.latent_prior == "fitted":
            self.state["prior"] = self._fitted_prior()

    def _fitted_prior(self) -> dict[str, list]:
        """A Gaussian mixture fitted to each class's training codes (the whole table's when the
        VAE is unconditional): with a small ``kl_weight`` the codes are not N(0, I), a class's
        codes lie apart from the others', and a digit's styles form clusters; drawing where
        the codes are avoids the prior's holes (Ghosh et al., 2020). ``prior_components`` per
        class at most, one per 20 images (fewer images cannot fit more); a class of one image
        takes every class's spread round its code."""
        from sklearn.mixture import GaussianMixture

        z = self.encode_arrays(self._train_x, self._train_y).astype(np.float64)
        groups = np.asarray(self._train_y) if self.n_classes else np.zeros(len(z), dtype=int)
        centres = np.stack([z[groups == k].mean(axis=0) for k in range(max(self.n_classes, 1))])
        pooled = z - centres[groups]
        mixtures = []
        for k, centre in enumerate(centres):
            codes = z[groups == k] if (groups == k).sum() >= 2 else centre + pooled
            mixture = GaussianMixture(
                max(1, min(self.cfg.prior_components, len(codes) // 20)),
                covariance_type="full", reg_covar=PRIOR_REG, random_state=self._seed,
            ).fit(codes)
            mixtures.append({"weights": mixture.weights_.tolist(),
                             "means": mixture.means_.tolist(),
                             "chols": np.linalg.cholesky(mixture.covariances_).tolist()})
        return {"classes": mixtures}

    def fit_arrays(self, x, y, **kwargs):
        # For the fitted prior, dropped after the fit.
        self._train_x, self._train_y, self._seed = x, y, int(kwargs.get("seed", 0))
        try:
            return super().fit_arrays(x, y, **kwargs)
        finally:
            del self._train_x, self._train_y, self._seed

    def sample_arrays(self, labels: np.ndarray | None, n: int, seed: int | None) -> np.ndarray:
        self._check_networks()
        n = int(n)
        rng = np.random.default_rng(seed)
        prior = self.state.get("prior")
        mixtures = None if prior is None else prior.get("classes") or [
            # stored by an earlier version: one Gaussian
            {"weights": [1.0], "means": [prior["mean"]], "chols": [prior["chol"]]}]
        groups = (np.zeros(n, dtype=int)
                  if labels is None or (mixtures is not None and len(mixtures) == 1)
                  else np.asarray(labels, dtype=int))
        # Each class's draws spread evenly over its prior (dl_core.generation.spread): the first
        # coordinate picks the mixture component, the rest are the Gaussian's noise.
        uniforms = even_uniforms_by_class(groups, self.latent_dim + 1, rng)
        z = normals(uniforms[:, 1:]) * self.cfg.temperature
        for k, mixture in enumerate(mixtures or []):
            rows = np.flatnonzero(groups == k)
            cumulative = np.cumsum(mixture["weights"])
            component = np.minimum(np.searchsorted(cumulative / cumulative[-1],
                                                   uniforms[rows, 0]), len(cumulative) - 1)
            means, chols = np.asarray(mixture["means"]), np.asarray(mixture["chols"])
            z[rows] = means[component] + np.einsum("nij,nj->ni", chols[component], z[rows])
        return self.decode_arrays(z.astype(np.float32), labels)

    def encode_arrays(self, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        self._check_networks()
        x = np.asarray(x, dtype=np.float32).reshape(-1, *self._fitted_table().shape)
        mean_and_log_var = _both(self.networks["encoder"], self._inputs(x, y))
        return mean_and_log_var[0]

    def decode_arrays(self, z: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        self._check_networks()
        z = np.asarray(z, dtype=np.float32).reshape(-1, self.latent_dim)
        return predict(self.networks["decoder"], self._inputs(z, y))


def _both(model, inputs, batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """A two-output model's outputs on ``inputs``, in chunks, as numpy."""
    ops = _keras().ops
    means, log_vars = [], []
    for start in range(0, len(inputs[0]), batch):
        chunk = [v[start : start + batch] for v in inputs]
        mean, log_var = model(chunk if len(chunk) > 1 else chunk[0], training=False)
        means.append(ops.convert_to_numpy(mean))
        log_vars.append(ops.convert_to_numpy(log_var))
    width = model.outputs[0].shape[-1]
    empty = np.zeros((0, width), dtype=np.float32)
    return (np.concatenate(means) if means else empty,
            np.concatenate(log_vars) if log_vars else empty)


@functools.cache
def _vae_model_class():
    """The training model's class (defined on first use: Keras is imported lazily)."""
    import tensorflow as tf

    keras = _keras()
    ops = keras.ops

    class ConvVAEModel(keras.Model):
        """Trains a conv VAE's encoder and decoder: ``train_step`` computes the negative ELBO."""

        def __init__(self, encoder, decoder, *, conditional, kl_weight, seed, **kwargs):
            super().__init__(name="conv_vae", **kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.conditional = conditional
            self.kl_weight = kl_weight
            self.seed_generator = keras.random.SeedGenerator(seed)
            self.trackers = {name: keras.metrics.Mean(name=name)
                             for name in ("loss", "reconstruction", "kl")}

        @property
        def metrics(self):
            return list(self.trackers.values())

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                mean, log_var = self.encoder([x, y] if self.conditional else x, training=True)
                eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
                z = mean + ops.exp(0.5 * log_var) * eps
                decoded = self.decoder([z, y] if self.conditional else z, training=True)
                rec = ops.mean(ops.sum(ops.binary_crossentropy(x, decoded), axis=(1, 2, 3)))
                kl = ops.mean(-0.5 * ops.sum(1 + log_var - mean**2 - ops.exp(log_var), axis=-1))
                loss = rec + self.kl_weight * kl
            variables = self.encoder.trainable_variables + self.decoder.trainable_variables
            grads = tape.gradient(loss, variables)
            self.optimizer.apply_gradients(zip(grads, variables))
            for name, value in (("loss", loss), ("reconstruction", rec), ("kl", kl)):
                self.trackers[name].update_state(value)
            return {name: t.result() for name, t in self.trackers.items()}

    return ConvVAEModel


@register_model(
    "conv_vae",
    config=ConvVAEConfig,
    kinds={"image"},
    family="generative",
    title="Convolutional VAE (images)",
    description="Synthetic images from a convolutional variational autoencoder, conditional on "
                "the label; its latent space can be explored on a 2-D map.",
)
def build(cfg: ConvVAEConfig) -> ConvVAESynthesizer:
    """An unfitted conv VAE (its networks are built when it fits, once the images fix their
    shape)."""
    return ConvVAESynthesizer(cfg)
