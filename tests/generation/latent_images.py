"""A tiny image generator with a latent space (no TensorFlow), for the latent explorer's tests:
a class-conditional linear "VAE" whose encoder is PCA of the images minus their class mean."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dl_core.generation.images import ImageSynthesizer


@dataclass(frozen=True)
class LinearLatentConfig:
    latent_dim: int = 2


class LinearLatentImages(ImageSynthesizer):
    """Codes are the top principal components (scaled to unit variance) of an image minus its
    class mean; decoding adds the class mean back."""

    has_latent = True

    def __init__(self, cfg: LinearLatentConfig | None = None) -> None:
        super().__init__(cfg or LinearLatentConfig())
        self.latent_dim = self.cfg.latent_dim
        self.means = self.components = self.scales = None

    def _means(self, y, n):
        return self.means[np.zeros(n, dtype=int) if y is None else np.asarray(y)]

    def fit_arrays(self, x, y, *, epochs, batch_size, seed, on_epoch, stop):
        flat = x.reshape(len(x), -1).astype(np.float64)
        labels = np.zeros(len(x), dtype=int) if y is None else y
        self.means = np.stack([flat[labels == k].mean(axis=0)
                               for k in range(int(labels.max()) + 1)])
        residual = flat - self.means[labels]
        _, s, vt = np.linalg.svd(residual, full_matrices=False)
        self.components = vt[:self.latent_dim]
        self.scales = s[:self.latent_dim] / np.sqrt(len(x))
        if on_epoch is not None:
            on_epoch(1, {"loss": 1.0})
        return {"loss": [1.0]}

    def encode_arrays(self, x, y):
        flat = x.reshape(len(x), -1) - self._means(y, len(x))
        return flat @ self.components.T / self.scales

    def decode_arrays(self, z, y):
        flat = self._means(y, len(z)) + (np.asarray(z) * self.scales) @ self.components
        return np.clip(flat, 0, 1).reshape(len(z), *self.table.shape)

    def sample_arrays(self, labels, n, seed):
        z = np.random.default_rng(seed).normal(size=(n, self.latent_dim))
        return self.decode_arrays(z, labels)

    def save(self, folder: Path) -> None:
        self.save_table(folder)
        state = {k: getattr(self, k).tolist() for k in ("means", "components", "scales")}
        (Path(folder) / "linear.json").write_text(json.dumps(state))

    @classmethod
    def load(cls, folder: Path) -> LinearLatentImages:
        state = json.loads((Path(folder) / "linear.json").read_text())
        synth = cls(LinearLatentConfig(latent_dim=len(state["scales"])))
        synth.load_table(folder)
        for key, value in state.items():
            setattr(synth, key, np.asarray(value))
        return synth
