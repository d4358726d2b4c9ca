"""Small seeded pixel tables and a minimal image generator for the image-generation tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dl_core.generation.images import ImageSynthesizer


def digits_table(n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """scikit-learn's 8x8 digits as the app's sample pixel CSV (``label``, ``pixel0..63``,
    0..255), ``n`` rows drawn with a seed (all 1797 when None)."""
    from dl_core.data.samples import build_sample

    df = build_sample("digits")
    if n is not None:
        df = df.sample(n, random_state=seed).reset_index(drop=True)
    return df


@dataclass(frozen=True)
class MeanConfig:
    noise: float = 0.1


class MeanImages(ImageSynthesizer):
    """Each class's mean image plus Gaussian noise: the least an image generator can be."""

    def __init__(self, cfg: MeanConfig | None = None) -> None:
        super().__init__(cfg or MeanConfig())
        self.means: np.ndarray | None = None

    def fit_arrays(self, x, y, *, epochs, batch_size, seed, on_epoch, stop):
        y = np.zeros(len(x), dtype=int) if y is None else y
        self.means = np.stack([x[y == k].mean(axis=0) for k in range(int(y.max()) + 1)])
        history = {"loss": []}
        for epoch in range(1, epochs + 1):
            if stop is not None and stop.is_set():
                break
            history["loss"].append(1.0 / epoch)
            if on_epoch is not None:
                on_epoch(epoch, {"loss": 1.0 / epoch})
        return history

    def sample_arrays(self, labels, n, seed):
        rng = np.random.default_rng(seed)
        labels = np.zeros(n, dtype=int) if labels is None else labels
        noise = rng.normal(0.0, self.cfg.noise, size=(n, *self.means.shape[1:]))
        return np.clip(self.means[labels] + noise, 0.0, 1.0)

    def save(self, folder: Path) -> None:
        self.save_table(folder)
        (Path(folder) / "means.json").write_text(json.dumps(self.means.tolist()))

    @classmethod
    def load(cls, folder: Path) -> MeanImages:
        synth = cls()
        synth.load_table(folder)
        synth.means = np.asarray(json.loads((Path(folder) / "means.json").read_text()))
        return synth


def stripes_table(n: int, shape: tuple[int, int, int], seed: int = 0) -> pd.DataFrame:
    """``n`` noisy ``H x W x C`` images (0..255, ``pixel0..``) of two classes: horizontal
    stripes (``label`` "h") and vertical ones ("v"); for shapes the pixel count cannot tell."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(n, *shape))
    labels = np.array(["h", "v"])[np.arange(n) % 2]
    images[labels == "h", ::2] += 200
    images[labels == "v", :, ::2] += 200
    pixels = pd.DataFrame(images.reshape(n, -1), columns=[f"pixel{i}" for i in range(
        int(np.prod(shape)))])
    return pd.concat([pd.Series(labels, name="label"), pixels], axis=1)
