"""A conditional deep convolutional GAN for pixel CSVs, registered as ``dcgan``.

- **Generator**: noise and the label's embedding, a dense layer to the smallest image grid, then
  transposed stride-2 convolutions (batch norm, ReLU) that double it up to the image (a crop trims
  odd sides) and a sigmoid: pixel intensities in [0, 1].
- **Critic**: stride-2 convolutions (LeakyReLU 0.2) and a dense layer to features ``h``; the
  score is ``w . h + embed(label) . h``, the projection discriminator (Miyato & Koyama, 2018): a
  label embedding that asks "is this a real image *of this class*".
- **Loss**: ``wgan_gp`` (the default: Wasserstein loss with a gradient penalty, no normalisation
  in the critic), or ``non_saturating`` with spectral normalisation of every critic layer. On
  the digits bench (bench/README.md) WGAN-GP is the better of the two at the same steps: label
  agreement 0.99 against 0.94, Fréchet distance 1.08 against 1.57 (floor 0.39), precision 0.94
  against 0.79, recall 0.68 against 0.81.
- **Mode seeking** (Mao et al., 2019): the generator's loss adds ``diversity_weight`` over the
  ratio of the distance between two images of the same class to the distance between their
  noises, so different noises make different digits. On the digits bench's tuning splits 0.1
  lowers the Fréchet distance (1.7 to 1.3 times the floor) and lifts recall (0.64 to 0.73) for
  some precision (0.93 to 0.88); 0.15 and more cost agreement and precision.
- **Temperature**: samples are drawn from noise spread by ``temperature`` (1.1: a little wider
  than in training, for recall; below 1 it is the truncation trick, for typical images); a
  class's noise is spread evenly (:mod:`dl_core.generation.spread`), not drawn one by one.
- **EMA**: the generator that samples (and is saved) is an exponential moving average of the
  trained generator's weights, which smooths the last steps' oscillation away (Yazıcı et al.,
  2019); its decay warms up so a short fit is not an average of its random start.

Fakes are drawn with the batch's own labels, so every class is trained at its training frequency.
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

LOSSES = ("wgan_gp", "non_saturating")


@dataclass(frozen=True)
class DCGANConfig:
    """Hyperparameters of the conditional convolutional GAN."""

    noise_dim: int = param(64, min=1, max=1024, help="Width of the generator's input noise.")
    filters: tuple[int, ...] = param(
        (32, 64), min=1, max=1024,
        help="Filters of each stride-2 convolution of the critic, first to last (the generator "
             "mirrors them); each halves the image.",
    )
    dense_units: int = param(256, min=1, max=4096,
                             help="Units of the critic's feature layer (LeakyReLU).")
    label_embedding: int = param(16, min=1, max=512,
                                 help="Width of the label's embedding in the generator.")
    loss: str = param(
        "wgan_gp", choices=LOSSES,
        help="wgan_gp: Wasserstein loss with a gradient penalty; non_saturating: the GAN loss "
             "with spectral normalisation in the critic.",
    )
    generator_lr: float = param(5e-4, min=1e-6, max=1.0, log=True,
                                label="Generator learning rate",
                                help="Adam's learning rate for the generator.")
    critic_lr: float = param(1e-3, min=1e-6, max=1.0, log=True, label="Critic learning rate",
                             help="Adam's learning rate for the critic.")
    critic_steps: int = param(1, min=1, max=20, help="Critic updates per generator update.")
    gp_weight: float = param(10.0, min=0.0, max=1000.0, label="Gradient-penalty weight",
                             help="Weight of the gradient penalty (wgan_gp).")
    diversity_weight: float = param(
        0.1, min=0.0, max=100.0, label="Diversity weight",
        help="Weight of the mode-seeking term (Mao et al., 2019): two noise vectors of the same "
             "class must give images as far apart as the noises are (0: off).",
    )
    temperature: float = param(
        1.1, min=0.1, max=3.0,
        help="Spread of the noise the generator samples from (1: as trained; above 1 more "
             "varied, less typical images; below 1 the reverse, the truncation trick).",
    )
    ema_decay: float = param(
        0.999, min=0.0, max=0.99999, label="EMA decay",
        help="Decay of the moving average of the generator's weights that samples (0: the "
             "trained generator itself).",
    )

    def __post_init__(self) -> None:
        validate_fields(self)


class DCGANSynthesizer(ImageNetworkSynthesizer):
    """The conditional DCGAN behind the :class:`~dl_core.generation.images.ImageSynthesizer`
    interface (see the module docstring). Networks: ``generator`` (the moving average) and
    ``critic``."""

    config_cls = DCGANConfig
    NETWORKS = ("generator", "critic")
    LOSSES = ("generator", "critic")

    @property
    def loss_names(self) -> tuple[str, ...]:
        return self.LOSSES + (("gradient_penalty",) if self.cfg.loss == "wgan_gp" else ())

    def _build_networks(self):
        keras = _keras()
        layers, cfg = keras.layers, self.cfg
        h, w, c = self._fitted_table().shape
        n_classes = self.n_classes
        plan = conv_plan(h, w, len(cfg.filters))
        blocks = len(plan) - 1
        filters = list(cfg.filters[:blocks]) or [cfg.filters[0]]
        spectral = cfg.loss == "non_saturating"

        def sn(layer):
            return layers.SpectralNormalization(layer, name=f"{layer.name}_sn") if spectral \
                else layer

        def label_input():
            return [keras.Input((1,), dtype="int32", name="label")] if n_classes else []

        noise = keras.Input((cfg.noise_dim,), name="noise")
        label = label_input()
        x = noise
        if label:
            e = layers.Embedding(n_classes, cfg.label_embedding, name="generator_label_embedding")(
                label[0])
            x = layers.Concatenate(name="generator_inputs")(
                [noise, layers.Flatten(name="generator_label_vector")(e)])
        sh, sw = plan[-1]
        x = layers.Dense(sh * sw * filters[-1] * 2, use_bias=False, name="generator_grid")(x)
        x = layers.BatchNormalization(name="generator_grid_norm")(x)
        x = layers.ReLU(name="generator_grid_relu")(x)
        x = layers.Reshape((sh, sw, filters[-1] * 2), name="generator_reshape")(x)
        for i, f in enumerate(reversed(filters)):
            x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=False,
                                       name=f"generator_deconv_{i + 1}")(x)
            x = layers.BatchNormalization(name=f"generator_norm_{i + 1}")(x)
            x = layers.ReLU(name=f"generator_relu_{i + 1}")(x)
        over_h, over_w = sh * 2**blocks - h, sw * 2**blocks - w
        if over_h or over_w:
            x = layers.Cropping2D(((0, over_h), (0, over_w)), name="generator_crop")(x)
        out = layers.Conv2D(c, 3, padding="same", activation="sigmoid", name="generated_image")(x)
        generator = keras.Model([noise, *label] if label else noise, out, name="dcgan_generator")

        image = keras.Input((h, w, c), name="image")
        label = label_input()
        x = image
        for i, f in enumerate(filters):
            x = sn(layers.Conv2D(f, 3, strides=2, padding="same", name=f"critic_conv_{i + 1}"))(x)
            x = layers.LeakyReLU(0.2, name=f"critic_leaky_relu_{i + 1}")(x)
        x = layers.Flatten(name="critic_flatten")(x)
        x = sn(layers.Dense(cfg.dense_units, name="critic_features"))(x)
        x = layers.LeakyReLU(0.2, name="critic_features_leaky_relu")(x)
        score = sn(layers.Dense(1, name="critic_score"))(x)
        if label:
            e = layers.Embedding(n_classes, cfg.dense_units, name="critic_label_embedding")(label[0])
            e = layers.Flatten(name="critic_label_vector")(e)
            projection = layers.Dot(axes=1, name="critic_projection")([e, x])
            score = layers.Add(name="critic_class_score")([score, projection])
        critic = keras.Model([image, *label] if label else image, score, name="dcgan_critic")

        average = keras.models.clone_model(generator)
        average.set_weights(generator.get_weights())
        self.networks = {"generator": average, "critic": critic}
        return generator

    def training_model(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
        keras = _keras()
        cfg = self.cfg
        generator = self._build_networks()
        model = _gan_model_class()(
            generator, self.networks["generator"], self.networks["critic"],
            conditional=bool(self.n_classes), noise_dim=cfg.noise_dim, loss=cfg.loss,
            gp_weight=cfg.gp_weight, critic_steps=cfg.critic_steps, ema_decay=cfg.ema_decay,
            diversity_weight=cfg.diversity_weight,
            seed=seed,
        )
        # WGAN-GP's Adam (Gulrajani et al.): beta_1 0 and 0.9; DCGAN's: 0.5 and 0.999.
        betas = (0.0, 0.9) if cfg.loss == "wgan_gp" else (0.5, 0.999)
        model.compile(
            generator_optimizer=keras.optimizers.Adam(cfg.generator_lr, *betas),
            critic_optimizer=keras.optimizers.Adam(cfg.critic_lr, *betas),
            steps_per_execution=STEPS_PER_CALL,
        )
        return model

    def sample_arrays(self, labels: np.ndarray | None, n: int, seed: int | None) -> np.ndarray:
        self._check_networks()
        rng = np.random.default_rng(seed)
        groups = np.zeros(int(n), dtype=int) if labels is None else np.asarray(labels, dtype=int)
        noise = normals(even_uniforms_by_class(groups, self.cfg.noise_dim, rng))
        noise *= self.cfg.temperature
        return predict(self.networks["generator"], self._inputs(noise.astype(np.float32), labels))


@functools.cache
def _gan_model_class():
    """The training model's class (defined on first use: Keras is imported lazily)."""
    import tensorflow as tf

    keras = _keras()
    ops = keras.ops

    class DCGANModel(keras.Model):
        """Trains a conditional GAN's generator and critic; keeps the generator's moving
        average."""

        def __init__(self, generator, average, critic, *, conditional, noise_dim, loss,
                     gp_weight, critic_steps, ema_decay, seed, diversity_weight=0.0,
                     **kwargs):
            super().__init__(name="dcgan", **kwargs)
            self.generator = generator
            self.average = average
            self.critic = critic
            self.conditional = conditional
            self.noise_dim = noise_dim
            self.wgan = loss == "wgan_gp"
            self.gp_weight = gp_weight
            self.critic_steps = critic_steps
            self.ema_decay = ema_decay
            self.diversity_weight = diversity_weight
            self.seed_generator = keras.random.SeedGenerator(seed)
            names = ("generator", "critic") + (("gradient_penalty",) if self.wgan else ())
            self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
            self.updates = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                           name="generator_updates")

        def compile(self, generator_optimizer, critic_optimizer, **kwargs):
            super().compile(**kwargs)
            self.generator_optimizer = generator_optimizer
            self.critic_optimizer = critic_optimizer
            generator_optimizer.build(self.generator.trainable_variables)
            critic_optimizer.build(self.critic.trainable_variables)

        @property
        def metrics(self):
            return list(self.trackers.values())

        def _with(self, first, y):
            return [first, y] if self.conditional else first

        def fake(self, y, n, noise=None):
            if noise is None:
                noise = keras.random.normal((n, self.noise_dim), seed=self.seed_generator)
            return self.generator(self._with(noise, y), training=True)

        def gradient_penalty(self, real, fake, y):
            n = ops.shape(real)[0]
            u = keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator)
            mixed = u * real + (1.0 - u) * fake
            with tf.GradientTape() as tape:
                tape.watch(mixed)
                score = self.critic(self._with(mixed, y), training=True)
            grads = tape.gradient(score, mixed)
            norm = ops.sqrt(ops.sum(grads**2, axis=(1, 2, 3)) + 1e-12)
            return ops.mean((norm - 1.0) ** 2)

        def train_step(self, data):
            real, y = data
            n = ops.shape(real)[0]
            penalty = 0.0
            for _ in range(self.critic_steps):
                with tf.GradientTape() as tape:
                    fake = self.fake(y, n)
                    real_score = self.critic(self._with(real, y), training=True)
                    fake_score = self.critic(self._with(fake, y), training=True)
                    if self.wgan:
                        penalty = self.gradient_penalty(real, fake, y)
                        critic_loss = (ops.mean(fake_score) - ops.mean(real_score)
                                       + self.gp_weight * penalty)
                    else:
                        critic_loss = (ops.mean(ops.softplus(-real_score))
                                       + ops.mean(ops.softplus(fake_score)))
                variables = self.critic.trainable_variables
                grads = tape.gradient(critic_loss, variables)
                self.critic_optimizer.apply_gradients(zip(grads, variables))

            with tf.GradientTape() as tape:
                noise = keras.random.normal((n, self.noise_dim), seed=self.seed_generator)
                fake = self.fake(y, n, noise)
                fake_score = self.critic(self._with(fake, y), training=True)
                if self.wgan:
                    generator_loss = -ops.mean(fake_score)
                else:
                    generator_loss = ops.mean(ops.softplus(-fake_score))
                if self.diversity_weight:
                    other = keras.random.normal((n, self.noise_dim), seed=self.seed_generator)
                    spread = (ops.mean(ops.abs(fake - self.fake(y, n, other)), axis=(1, 2, 3))
                              / ops.mean(ops.abs(noise - other), axis=1))
                    generator_loss = generator_loss + self.diversity_weight / (
                        ops.mean(spread) + 1e-5)
            variables = self.generator.trainable_variables
            grads = tape.gradient(generator_loss, variables)
            self.generator_optimizer.apply_gradients(zip(grads, variables))
            self.update_average()

            values = {"generator": generator_loss, "critic": critic_loss}
            if self.wgan:
                values["gradient_penalty"] = penalty
            for name, value in values.items():
                self.trackers[name].update_state(value)
            return {name: t.result() for name, t in self.trackers.items()}

        def update_average(self):
            # Warm-up: (1 + t) / (10 + t) below the decay, so early steps are not averaged
            # with the random start (batch-norm statistics are averaged like weights).
            self.updates.assign_add(1.0)
            t = self.updates
            decay = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
            for kept, current in zip(self.average.weights, self.generator.weights):
                kept.assign(decay * kept + (1.0 - decay) * current)

    return DCGANModel


@register_model(
    "dcgan",
    config=DCGANConfig,
    kinds={"image"},
    family="generative",
    title="Conditional DCGAN (images)",
    description="Synthetic images from a conditional convolutional GAN (projection critic, "
                "gradient penalty or spectral normalisation, a mode-seeking term, "
                "moving-average generator).",
)
def build(cfg: DCGANConfig) -> DCGANSynthesizer:
    """An unfitted conditional DCGAN (its networks are built when it fits, once the images fix
    their shape)."""
    return DCGANSynthesizer(cfg)
