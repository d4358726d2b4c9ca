"""The image generators' yardstick, registered as ``image_kde``: a kernel density per class in a
PCA space fitted on that class's training images (as the Gaussian copula is for tables).

Fit: for every class, a PCA of its training images (``n_components``) and their codes. Each
class's Gaussian kernel is ``w`` times the typical spread of its codes, with one ``w`` for all
classes chosen by the likelihood of a validation slice of the *training* images
(``validation_share``, stratified) under densities fitted on the rest; the densities are then
refitted on all training images. The generative trainer's held-out images, which the report
scores against, play no part in the choice. Without a label, all images are one class.

Sample: take a training image of the asked class (each in turn, in random order, before any is
taken twice), add Gaussian noise of the class's width to its code (spread evenly over the set:
:mod:`dl_core.generation.spread`), decode (inverse PCA) and clip to ``[0, 1]``. Non-neural,
fitted in a second; the networks (``conv_vae``, ``dcgan``) must beat it. A PCA per class keeps
samples in their class's own subspace: on digits one PCA shared by all classes gave agreement
0.95 and a Fréchet distance 3.6 times the floor, one per class 0.99 and about 2 times
(bench/README.md).

Stored form: the image table (JSON), ``state.json`` (config, widths) and ``kde.npz`` (each
class's PCA mean, components and training codes), read with ``allow_pickle=False``.
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
from dl_core.generation.spread import even_normals, without_replacement
from dl_core.models.registry import register_model

STATE_FILE = "state.json"
ARRAYS_FILE = "kde.npz"
#: Kernel widths tried, as multiples of a class's typical spread (the square root of the mean
#: variance of its PCA codes).
WIDTH_GRID = np.logspace(-1.5, 0.3, 19)
#: Most validation images the width is judged on (the likelihood is a pairwise computation).
MAX_VALIDATION = 2_000
#: Width multiple when there are too few images to set some aside.
FALLBACK_WIDTH = 0.5
#: Fewest images of a class whose own spread sets its width (else the spread of all images).
MIN_CLASS_IMAGES = 3


@dataclass(frozen=True)
class ImageKDEConfig:
    """Hyperparameters of the per-class kernel density in PCA space."""

    n_components: int = param(
        16, min=1, max=1024,
        help="PCA components of each class's space (at most its images and the pixels allow).",
    )
    validation_share: float = param(
        0.2, min=0.05, max=0.5, step=0.05, label="Validation share",
        help="Share of the training images the kernel width is chosen on (then refitted on all).",
    )
    width: float = param(
        0.0, min=0.0, max=10.0,
        help="Kernel width as a multiple of each class's spread (0 = choose it on the "
             "validation share).",
    )

    def __post_init__(self) -> None:
        validate_fields(self)


class ClassSpace:
    """One class's PCA space: mean, components (rows) and the codes of its training images."""

    def __init__(self, images: np.ndarray, n_components: int) -> None:
        self.mean = images.mean(axis=0)
        centred = images - self.mean
        d = max(1, min(n_components, len(images) - 1, images.shape[1]))
        self.components = principal_axes(centred, d)
        self.codes = centred @ self.components.T

    @property
    def spread(self) -> float:
        return float(math.sqrt(self.codes.var(axis=0).mean())) if len(self.codes) > 1 else 0.0

    def encode(self, images: np.ndarray) -> np.ndarray:
        return (images - self.mean) @ self.components.T


class ImageKDE(ImageSynthesizer):
    """Per-class Gaussian kernel density of PCA codes (see the module docstring)."""

    iterative = False

    def __init__(self, cfg: ImageKDEConfig | None = None) -> None:
        super().__init__(cfg or ImageKDEConfig())
        #: class index -> its space; ``widths[k]`` the kernel's standard deviation there.
        self.spaces: dict[int, ClassSpace] = {}
        self.widths: dict[int, float] = {}
        self.multiple: float = 0.0

    def fit_arrays(self, x: np.ndarray, y: np.ndarray | None, *, epochs: int, batch_size: int,
                   seed: int, on_epoch: Callable[[int, dict[str, float]], None] | None,
                   stop: threading.Event | None) -> dict[str, list[float]]:
        from threadpoolctl import threadpool_limits

        flat = x.reshape(len(x), -1).astype(np.float64)
        y = np.zeros(len(flat), dtype=np.int64) if y is None else np.asarray(y, dtype=np.int64)
        if len(flat) < 2:
            raise DataError(f"image_kde needs at least 2 training images; got {len(flat)}.")
        logs: dict[str, float] = {}
        # Small matrices: one BLAS thread (threads contend on two busy cores; see image_quality).
        with threadpool_limits(limits=1):
            if self.cfg.width > 0:
                multiple = float(self.cfg.width)
            else:
                multiple, logs = self._choose_multiple(flat, y, seed)
            self.spaces = self._spaces(flat, y)
            self.widths = widths(self.spaces, flat, multiple)
        self.multiple = multiple
        logs = {"width": multiple, **logs}
        if on_epoch is not None:
            on_epoch(1, logs)
        return {k: [v] for k, v in logs.items()}

    def _spaces(self, flat: np.ndarray, y: np.ndarray) -> dict[int, ClassSpace]:
        spaces, overall = {}, None
        for k in np.unique(y):
            images = flat[y == k]
            if len(images) >= MIN_CLASS_IMAGES:
                spaces[int(k)] = ClassSpace(images, self.cfg.n_components)
                continue
            # Too few images to span a space of their own: all images' axes, round this class.
            if overall is None:
                overall = ClassSpace(flat, self.cfg.n_components)
            space = ClassSpace.__new__(ClassSpace)
            space.mean, space.components = images.mean(axis=0), overall.components
            space.codes = space.encode(images)
            spaces[int(k)] = space
        return spaces

    def _choose_multiple(self, flat: np.ndarray, y: np.ndarray,
                         seed: int) -> tuple[float, dict[str, float]]:
        """The width multiple that makes a validation slice of the training images likeliest."""
        from sklearn.model_selection import train_test_split

        n_val = int(round(len(flat) * self.cfg.validation_share))
        counts = np.bincount(y)
        if n_val < 2 or len(flat) - n_val < 2:
            return FALLBACK_WIDTH, {}
        stratify = y if counts[counts > 0].min() >= 2 and n_val >= len(counts) else None
        fit_i, val_i = train_test_split(np.arange(len(flat)), test_size=n_val,
                                        random_state=seed, stratify=stratify)
        val_i = val_i[:MAX_VALIDATION]
        spaces = self._spaces(flat[fit_i], y[fit_i])
        spread = widths(spaces, flat[fit_i], 1.0)
        total = np.zeros(len(WIDTH_GRID))
        scored = 0
        for k, space in spaces.items():
            points = flat[val_i][y[val_i] == k]
            if len(points) == 0:
                continue
            total += _log_likelihood(space.codes, space.encode(points), spread[k] * WIDTH_GRID)
            scored += len(points)
        if scored == 0:
            return FALLBACK_WIDTH, {}
        best = int(np.argmax(total))
        return float(WIDTH_GRID[best]), {"validation_log_likelihood": float(total[best] / scored)}

    def sample_arrays(self, labels: np.ndarray | None, n: int, seed: int | None) -> np.ndarray:
        if not self.spaces:
            raise DataError("image_kde is not fitted yet; fit it on the training images first.")
        rng = np.random.default_rng(seed)
        labels = np.zeros(n, dtype=np.int64) if labels is None else np.asarray(labels)
        out = np.empty((n, len(next(iter(self.spaces.values())).mean)))
        for k in np.unique(labels):
            space = self.spaces.get(int(k))
            if space is None:
                raise DataError(f"image_kde saw no training image of class "
                                f"{self.table.classes[k] if self.table.classes else k}.")
            where = np.flatnonzero(labels == k)
            # Each training image anchors one draw before any anchors a second, and the noise
            # is spread evenly (dl_core.generation.spread): no near twins in a small set.
            anchors = without_replacement(len(where), len(space.codes), rng)
            codes = space.codes[anchors] + self.widths[int(k)] * even_normals(
                len(where), space.codes.shape[1], rng)
            out[where] = codes @ space.components + space.mean
        return np.clip(out, 0.0, 1.0).reshape(n, *self.table.shape).astype(np.float32)

    def save(self, folder: Path) -> None:
        if not self.spaces:
            raise DataError("image_kde is not fitted yet; there is nothing to save.")
        folder = Path(folder)
        self.save_table(folder)
        state = {"config": asdict(self.cfg), "multiple": self.multiple,
                 "widths": {str(k): w for k, w in self.widths.items()}}
        (folder / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        arrays = {}
        for k, space in self.spaces.items():
            arrays.update({f"mean_{k}": space.mean, f"components_{k}": space.components,
                           f"codes_{k}": space.codes})
        np.savez(folder / ARRAYS_FILE, **arrays)

    @classmethod
    def load(cls, folder: Path) -> ImageKDE:
        folder = Path(folder)
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        synth = cls(ImageKDEConfig(**state["config"]))
        synth.load_table(folder)
        synth.multiple = float(state["multiple"])
        synth.widths = {int(k): float(w) for k, w in state["widths"].items()}
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as arrays:
            for k in synth.widths:
                space = ClassSpace.__new__(ClassSpace)
                space.mean, space.components = arrays[f"mean_{k}"], arrays[f"components_{k}"]
                space.codes = arrays[f"codes_{k}"]
                synth.spaces[k] = space
        return synth


def principal_axes(centred: np.ndarray, d: int) -> np.ndarray:
    """The first ``d`` principal axes (rows, unit length) of centred rows: the eigenvectors of
    the smaller of the two Gram matrices (a class has fewer images than a 28x28 image has
    pixels; an SVD of the wide matrix is slower, and much slower on a busy machine)."""
    n, p = centred.shape
    if n < p:
        values, vectors = np.linalg.eigh(centred @ centred.T)
        order = np.argsort(values)[::-1][:d]
        keep = order[values[order] > 1e-12 * max(values.max(), 1e-300)]
        axes = (vectors[:, keep].T @ centred) / np.sqrt(values[keep])[:, None]
    else:
        values, vectors = np.linalg.eigh(centred.T @ centred)
        axes = vectors[:, np.argsort(values)[::-1][:d]].T
    if len(axes) == 0:  # identical images: any direction (the class's width comes from all)
        axes = np.eye(1, p)
    return np.ascontiguousarray(axes)


def widths(spaces: dict[int, ClassSpace], flat: np.ndarray, multiple: float) -> dict[int, float]:
    """Each class's kernel width: ``multiple`` times its spread (a class of too few images, or
    of identical ones, takes the spread of all images, so it is never copied as it is)."""
    overall = None
    out = {}
    for k, space in spaces.items():
        spread = space.spread
        if len(space.codes) < MIN_CLASS_IMAGES or spread <= 0:
            if overall is None:
                overall = ClassSpace(flat, space.components.shape[0]).spread or 1e-3
            spread = overall
        out[k] = multiple * spread
    return out


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
    description="Fast, non-neural images: a kernel density of each class's PCA codes, its "
                "width chosen on a validation slice of the training images; the yardstick the "
                "networks must beat.",
)
def build(cfg: ImageKDEConfig) -> ImageKDE:
    """An unfitted image_kde (fitting reads the images)."""
    return ImageKDE(cfg)
