"""The image generators' yardstick, registered as ``image_kde``: a kernel density per class in a
PCA space fitted on the training images (as the Gaussian copula is for tables).

Fit: PCA of the training images (``n_components``); every class keeps its training images'
codes; one Gaussian kernel width for all classes is chosen by the likelihood of a validation
slice of the *training* images (``validation_share``, stratified) under per-class densities of
the rest, then the densities are refitted on all training images. The generative trainer's
held-out images, which the report scores against, play no part in the choice.

Sample: pick a training image of the asked class at random, add Gaussian noise of the chosen
width to its code, decode (inverse PCA) and clip to ``[0, 1]``. Non-neural, fitted in a second;
the networks (``conv_vae``, ``dcgan``) must beat it.

Stored form: the image table (JSON), ``state.json`` (config, width, PCA size) and ``kde.npz``
(PCA mean and components, every training code and its class), read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dl_core.config import param, validate_fields
from dl_core.errors import DataError
from dl_core.generation.images import ImageSynthesizer
from dl_core.models.registry import register_model

STATE_FILE = "state.json"
ARRAYS_FILE = "kde.npz"
#: Kernel widths tried, as multiples of the codes' typical spread (sqrt of the mean variance of
#: a PCA component).
WIDTH_GRID = np.logspace(-1.5, 0.3, 19)
#: Most validation images the width is judged on (the likelihood is a pairwise computation).
MAX_VALIDATION = 2_000
#: Width (times the spread) when there are too few images to set some aside.
FALLBACK_WIDTH = 0.5


@dataclass(frozen=True)
class ImageKDEConfig:
    """Hyperparameters of the per-class kernel density in PCA space."""

    n_components: int = param(
        32, min=1, max=1024,
        help="PCA components the densities live in (at most the pixels and images allow).",
    )
    validation_share: float = param(
        0.2, min=0.05, max=0.5, step=0.05, label="Validation share",
        help="Share of the training images the kernel width is chosen on (then refitted on all).",
    )
    bandwidth: float = param(
        0.0, min=0.0, max=100.0,
        help="Kernel width in PCA units (0 = choose it on the validation share).",
    )

    def __post_init__(self) -> None:
        validate_fields(self)


class ImageKDE(ImageSynthesizer):
    """Per-class Gaussian kernel density of PCA codes (see the module docstring)."""

    iterative = False

    def __init__(self, cfg: ImageKDEConfig | None = None) -> None:
        super().__init__(cfg or ImageKDEConfig())
        self.mean: np.ndarray | None = None
        self.components: np.ndarray | None = None
        self.codes: np.ndarray | None = None
        self.code_class: np.ndarray | None = None
        self.bandwidth: float = 0.0

    def fit_arrays(self, x: np.ndarray, y: np.ndarray | None, *, epochs: int, batch_size: int,
                   seed: int, on_epoch: Callable[[int, dict[str, float]], None] | None,
                   stop: threading.Event | None) -> dict[str, list[float]]:
        flat = x.reshape(len(x), -1).astype(np.float64)
        y = np.zeros(len(flat), dtype=np.int64) if y is None else np.asarray(y, dtype=np.int64)
        if len(flat) < 2:
            raise DataError(f"image_kde needs at least 2 training images; got {len(flat)}.")
        logs: dict[str, float] = {}
        if self.cfg.bandwidth > 0:
            width = float(self.cfg.bandwidth)
        else:
            width, logs = self._choose_width(flat, y, seed)
        self.mean, self.components = _pca(flat, self._n_components(len(flat), flat.shape[1]),
                                          seed)
        self.codes = (flat - self.mean) @ self.components.T
        self.code_class = y
        self.bandwidth = width
        logs = {"bandwidth": width, **logs}
        if on_epoch is not None:
            on_epoch(1, logs)
        return {k: [v] for k, v in logs.items()}

    def _n_components(self, n_images: int, n_pixels: int) -> int:
        return max(1, min(int(self.cfg.n_components), n_pixels, n_images - 1))

    def _choose_width(self, flat: np.ndarray, y: np.ndarray,
                      seed: int) -> tuple[float, dict[str, float]]:
        """The kernel width that makes a validation slice of the training images likeliest."""
        from sklearn.model_selection import train_test_split

        n_val = int(round(len(flat) * self.cfg.validation_share))
        counts = np.bincount(y)
        if n_val < 2 or len(flat) - n_val < 2:
            mean, comps = _pca(flat, self._n_components(len(flat), flat.shape[1]), seed)
            return FALLBACK_WIDTH * _spread(flat, mean, comps), {}
        stratify = y if counts[counts > 0].min() >= 2 and n_val >= len(counts) else None
        fit_i, val_i = train_test_split(np.arange(len(flat)), test_size=n_val,
                                        random_state=seed, stratify=stratify)
        val_i = val_i[:MAX_VALIDATION]
        mean, comps = _pca(flat[fit_i], self._n_components(len(fit_i), flat.shape[1]), seed)
        z_fit, z_val = (flat[fit_i] - mean) @ comps.T, (flat[val_i] - mean) @ comps.T
        spread = _spread(flat[fit_i], mean, comps)
        widths = spread * WIDTH_GRID
        total = np.zeros(len(widths))
        scored = 0
        for k in np.unique(y[val_i]):
            a, b = z_fit[y[fit_i] == k], z_val[y[val_i] == k]
            if len(a) == 0:  # a class with too few images to be in both parts
                continue
            total += _log_likelihood(a, b, widths)
            scored += len(b)
        best = int(np.argmax(total))
        return float(widths[best]), {"validation_log_likelihood": float(total[best] / scored),
                                     "bandwidth_to_spread": float(WIDTH_GRID[best])}

    def sample_arrays(self, labels: np.ndarray | None, n: int, seed: int | None) -> np.ndarray:
        if self.codes is None:
            raise DataError("image_kde is not fitted yet; fit it on the training images first.")
        rng = np.random.default_rng(seed)
        labels = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels)
        out = np.empty((n, self.codes.shape[1]))
        for k in np.unique(labels):
            where = np.flatnonzero(labels == k)
            pool = self.codes[self.code_class == k]
            if len(pool) == 0:
                raise DataError(f"image_kde saw no training image of class {k}.")
            out[where] = pool[rng.integers(len(pool), size=len(where))] + rng.normal(
                0.0, self.bandwidth, size=(len(where), pool.shape[1]))
        images = out @ self.components + self.mean
        return np.clip(images, 0.0, 1.0).reshape(n, *self.table.shape).astype(np.float32)

    def save(self, folder: Path) -> None:
        if self.codes is None:
            raise DataError("image_kde is not fitted yet; there is nothing to save.")
        folder = Path(folder)
        self.save_table(folder)
        state = {"config": asdict(self.cfg), "bandwidth": self.bandwidth}
        (folder / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        np.savez(folder / ARRAYS_FILE, mean=self.mean, components=self.components,
                 codes=self.codes, code_class=self.code_class)

    @classmethod
    def load(cls, folder: Path) -> ImageKDE:
        folder = Path(folder)
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        synth = cls(ImageKDEConfig(**state["config"]))
        synth.load_table(folder)
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as arrays:
            synth.mean, synth.components = arrays["mean"], arrays["components"]
            synth.codes, synth.code_class = arrays["codes"], arrays["code_class"]
        synth.bandwidth = float(state["bandwidth"])
        return synth


def _pca(flat: np.ndarray, n_components: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the first ``n_components`` principal axes (rows) of ``flat``."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, random_state=seed).fit(flat)
    return pca.mean_, pca.components_


def _spread(flat: np.ndarray, mean: np.ndarray, components: np.ndarray) -> float:
    """The typical standard deviation of one PCA component of ``flat``."""
    codes = (flat - mean) @ components.T
    return float(math.sqrt(max(codes.var(axis=0).mean(), 1e-12)))


def _log_likelihood(train: np.ndarray, points: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Summed log density of ``points`` under Gaussian KDEs of ``train``, one per width."""
    from scipy.special import logsumexp

    d = train.shape[1]
    sq = np.maximum((points * points).sum(1)[:, None] + (train * train).sum(1)[None, :]
                    - 2.0 * points @ train.T, 0.0)
    out = np.empty(len(widths))
    for i, h in enumerate(widths):
        dens = logsumexp(-sq / (2 * h * h), axis=1) - math.log(len(train)) \
            - 0.5 * d * math.log(2 * math.pi * h * h)
        out[i] = dens.sum()
    return out


@register_model(
    "image_kde",
    config=ImageKDEConfig,
    kinds={"image"},
    family="generative",
    title="Kernel density in PCA space (image generator)",
    description="Fast, non-neural images: per-class kernel density of PCA codes, its width "
                "chosen on a validation slice of the training images; the yardstick the "
                "networks must beat.",
)
def build(cfg: ImageKDEConfig) -> ImageKDE:
    """An unfitted image_kde (fitting reads the images)."""
    return ImageKDE(cfg)
