"""How good synthetic images are, computed offline (no downloaded Inception weights).

A reference classifier (a scikit-learn MLP) is trained on the real *training* images and frozen;
its penultimate (last hidden) layer is the feature space every figure but the privacy ones is
measured in. Fidelity is judged against the real *held-out* images, which neither the generator
nor the classifier saw:

- ``agreement``: the share of conditional samples the classifier assigns to the class they were
  asked for (None when the generator is unconditional). ``reference_accuracy`` is the
  classifier's accuracy on the held-out images: agreement near it is as good as it gets.
- ``frechet_distance``: the Fréchet distance between Gaussians fitted to the synthetic and the
  held-out features (FID's formula, in these features), printed beside ``frechet_floor``, the
  same distance between as many training images as there are synthetic ones (``n_floor``) and
  the held-out images: what real images of the same number score, so both are measured alike
  (with the synthetic images' class mix; the median of :data:`FLOOR_DRAWS` such sets,
  ``frechet_floor_low`` to ``_high`` their range: how much the distance of so few images
  varies by chance). ``frechet_ratio`` is the one over the other: the distance falls as more
  images are drawn (50 real digits 3.21, 597 of them 0.45), the ratio much less, so draws of
  different sizes compare by it.
- ``precision`` / ``recall`` (Kynkäänniemi et al., 2019): the share of synthetic images inside the
  real images' k-nearest-neighbour manifold (k = 3: a ball round each real image reaching its
  3rd nearest real neighbour), and the share of real images inside the synthetic manifold.
  Collapsing to one image per class keeps precision and agreement high but recall near zero;
  noise has near-zero precision.
- ``copies``: synthetic images equal, pixel for pixel, to a training image (all are checked);
  ``holdout_copies`` is the same count for the held-out images, the baseline of a table with
  duplicates.
- ``memorisation_ratio``: the median distance (in pixels) from a synthetic image to its nearest
  training image, over the same median for held-out images. About 1: samples are as new as
  unseen real images; far below 1: the generator is copying its training set.

Large sets are subsampled with the seed (``MAX_*``), so the report takes seconds.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from dl_core.errors import DataError
from dl_core.generation.images import ImageTable

#: Neighbours of the manifolds of precision and recall.
K_MANIFOLD = 3
#: Most images the reference classifier trains on.
MAX_CLASSIFIER_ROWS = 20_000
#: Most images per side of the Fréchet distance.
MAX_FRECHET_ROWS = 10_000
#: Sets of training images whose median distance is the Fréchet floor (when they are fewer
#: than all of them).
FLOOR_DRAWS = 5
#: Most images per side of precision and recall (pairwise distances).
MAX_MANIFOLD_ROWS = 5_000
#: Most synthetic / held-out images whose nearest training image is found, and training images
#: searched.
MAX_NN_ROWS, MAX_NN_TRAIN = 2_000, 20_000
#: Hidden layers of the reference classifier; the last one gives the features. One layer of 64
#: (on digits: 97% held-out accuracy, fitted in seconds) separates noise from digits where wider
#: or deeper ones map some noise among the real images (precision of noise 0.2-0.5).
HIDDEN = (64,)


class ReferenceFeatures:
    """The frozen reference classifier and its penultimate-layer features.

    Trained on the training images and their classes; when there are no classes (an
    unconditional table without a label) the features are a PCA of the training pixels.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray | None, seed: int) -> None:
        flat = x.reshape(len(x), -1)
        rng = np.random.default_rng(seed)
        self.mlp = None
        self.pca = None
        if y is not None and len(np.unique(y)) >= 2:
            from sklearn.neural_network import MLPClassifier

            from sklearn.exceptions import ConvergenceWarning

            keep = _subset(len(flat), MAX_CLASSIFIER_ROWS, rng)
            with warnings.catch_warnings():  # a few more epochs would not change the features
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.mlp = MLPClassifier(hidden_layer_sizes=HIDDEN, alpha=1e-3, max_iter=300,
                                         random_state=seed).fit(flat[keep], y[keep])
        else:
            from sklearn.decomposition import PCA

            keep = _subset(len(flat), MAX_CLASSIFIER_ROWS, rng)
            n = max(1, min(64, len(keep) - 1, flat.shape[1]))
            self.pca = PCA(n_components=n, random_state=seed).fit(flat[keep])

    @property
    def kind(self) -> str:
        return "mlp" if self.mlp is not None else "pca"

    def features(self, x: np.ndarray) -> np.ndarray:
        flat = x.reshape(len(x), -1).astype(np.float64)
        if self.pca is not None:
            return self.pca.transform(flat)
        a = flat
        for w, b in zip(self.mlp.coefs_[:-1], self.mlp.intercepts_[:-1]):
            a = np.maximum(a @ w + b, 0.0)  # the MLP's hidden activation is ReLU
        return a

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.mlp.predict(x.reshape(len(x), -1))


def image_report(train_df: pd.DataFrame, synthetic_df: pd.DataFrame, holdout_df: pd.DataFrame,
                 *, table: ImageTable, seed: int = 0,
                 classifier_df: pd.DataFrame | None = None) -> dict[str, Any]:
    """Fidelity and privacy of synthetic images (see the module docstring).

    Args:
        train_df: The real rows the generator was fitted on.
        synthetic_df: Its samples (the training columns).
        holdout_df: Real rows it never saw.
        table: The generator's :class:`ImageTable`.
        seed: Seeds the classifier and every subsample.
        classifier_df: The rows the reference classifier learns (default ``train_df``; a
            conditional generation narrows ``train_df`` to one class but still needs a
            classifier of every class).

    Returns:
        ``kind`` ("image"), ``agreement``, ``frechet_distance``, ``frechet_floor`` (and
        ``frechet_floor_low``, ``frechet_floor_high``),
        ``precision``, ``recall``, ``copies``, ``memorisation_ratio``, ``n_train``,
        ``n_holdout``, ``n_synthetic``, ``n_floor`` (training images behind the floor) and
        the details (``reference_accuracy``, ``agreement_by_class``, ``features``,
        ``copies_share``, ``holdout_copies``, the NN medians, ``k``).

    Raises:
        DataError: with fewer than 2 images in a set, or missing pixel columns.
    """
    for name, frame in (("training", train_df), ("synthetic", synthetic_df),
                        ("held-out", holdout_df)):
        if len(frame) < 2:
            raise DataError(f"The image report needs at least 2 {name} images; got {len(frame)}.")
    import sklearn.neighbors  # noqa: F401 - loads OpenMP first, so the limit below applies to it
    import sklearn.neural_network  # noqa: F401
    from threadpoolctl import threadpool_limits

    # One thread, as the table report: these matrices are small, and on two busy cores threaded
    # BLAS and OpenMP contend (an SVD of a class's images: 3 s threaded, 0.03 s on one thread).
    with threadpool_limits(limits=1):
        return _image_report(train_df, synthetic_df, holdout_df, table, seed, classifier_df)


def _image_report(train_df: pd.DataFrame, synthetic_df: pd.DataFrame, holdout_df: pd.DataFrame,
                  table: ImageTable, seed: int,
                  classifier_df: pd.DataFrame | None) -> dict[str, Any]:
    x_train, y_train = table.arrays(train_df)
    x_synth, y_synth = table.arrays(synthetic_df)
    x_hold, y_hold = table.arrays(holdout_df)
    x_ref, y_ref = (x_train, y_train) if classifier_df is None else table.arrays(classifier_df)
    if y_ref is None:  # an unconditional generator: a label the table has still names classes
        y_ref = _detected_labels(classifier_df if classifier_df is not None else train_df, table)
    if y_ref is not None:
        known = y_ref >= 0
        x_ref, y_ref = x_ref[known], y_ref[known]
    reference = ReferenceFeatures(x_ref, y_ref, seed)
    rng = np.random.default_rng(seed)

    agreement, by_class, accuracy = None, None, None
    if reference.mlp is not None:
        if y_hold is not None and (y_hold >= 0).any():
            mask = y_hold >= 0
            accuracy = float(np.mean(reference.predict(x_hold[mask]) == y_hold[mask]))
        if y_synth is not None and (y_synth >= 0).any():
            mask = y_synth >= 0
            hits = reference.predict(x_synth[mask]) == y_synth[mask]
            agreement = float(np.mean(hits))
            by_class = {str(table.classes[k]): float(np.mean(hits[y_synth[mask] == k]))
                        for k in np.unique(y_synth[mask])}

    train_rows = _subset(len(x_train), MAX_FRECHET_ROWS, rng)
    synth_rows = _subset(len(x_synth), MAX_FRECHET_ROWS, rng)
    f_train = reference.features(x_train[train_rows])
    f_synth = reference.features(x_synth[synth_rows])
    f_hold = reference.features(x_hold[_subset(len(x_hold), MAX_FRECHET_ROWS, rng)])
    floors = frechet_floors(f_train, f_hold, seed,
                            None if y_train is None else y_train[train_rows],
                            None if y_synth is None else y_synth[synth_rows], len(f_synth))
    precision, recall = precision_recall(f_hold, f_synth, k=K_MANIFOLD, seed=seed)

    train_px = table_pixels(train_df, table)
    copies = _count_in(table_pixels(synthetic_df, table), train_px)
    holdout_copies = _count_in(table_pixels(holdout_df, table), train_px)
    d_synth, d_hold = nn_distances(x_train, x_synth, x_hold, seed)
    ratio = float(np.median(d_synth) / np.median(d_hold)) if np.median(d_hold) > 0 else None
    distance, floor = frechet_distance(f_synth, f_hold), float(np.median(floors))
    return {
        "kind": "image",
        "agreement": agreement,
        "frechet_distance": distance,
        "frechet_floor": floor,
        "frechet_ratio": distance / floor if floor > 0 else None,
        "frechet_floor_low": min(floors),
        "frechet_floor_high": max(floors),
        "precision": precision,
        "recall": recall,
        "copies": copies,
        "memorisation_ratio": ratio,
        "n_train": len(train_df),
        "n_holdout": len(holdout_df),
        "n_synthetic": len(synthetic_df),
        "n_floor": min(len(f_train), len(f_synth)),
        "reference_accuracy": accuracy,
        "agreement_by_class": by_class,
        "features": reference.kind,
        "k": K_MANIFOLD,
        "copies_share": copies / len(synthetic_df),
        "holdout_copies": holdout_copies,
        "nn_synthetic_median": float(np.median(d_synth)),
        "nn_holdout_median": float(np.median(d_hold)),
    }


def frechet_floors(f_train: np.ndarray, f_hold: np.ndarray, seed: int,
                   train_labels: np.ndarray | None, synth_labels: np.ndarray | None,
                   n: int) -> list[float]:
    """The Fréchet distance to the held-out features of :data:`FLOOR_DRAWS` sets of ``n``
    training images each (:func:`floor_rows`; one set, all of them, when there are no more
    than ``n``).

    As many as there are synthetic images: the distance grows as a set shrinks, so 100 samples
    read against a floor of 1,000 real images look far worse than they are. Several sets: on
    small ones it varies a lot by chance (40 colour patches: 8 to 39 in three draws), so one
    set's distance is no floor to read a generator against.
    """
    if n >= len(f_train):
        return [frechet_distance(f_train, f_hold)]
    rng = np.random.default_rng([seed, 1])
    return [frechet_distance(
        f_train[floor_rows(n, len(f_train), train_labels, synth_labels, rng)], f_hold)
        for _ in range(FLOOR_DRAWS)]


def floor_rows(n: int, m: int, train_labels: np.ndarray | None,
               synth_labels: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """``n`` of the ``m`` training rows behind one set of the floor: with labels, each class as
    many times as among the synthetic images, as far as it has images; the rest at random.

    The class mix matters: 40 digits from ``image_kde``, 4 a class, scored 1.8 where sets of 40
    training digits drawn at random (their mix varies) scored 3.1, and sets of 4 a class 1.9.
    """
    taken = [np.zeros(0, dtype=np.int64)]
    if train_labels is not None and synth_labels is not None:
        classes, counts = np.unique(synth_labels[synth_labels >= 0], return_counts=True)
        for k, count in zip(classes, counts, strict=True):
            rows = np.flatnonzero(train_labels == k)
            taken.append(rng.choice(rows, size=min(count, len(rows)), replace=False))
    chosen = np.concatenate(taken)
    rest = np.setdiff1d(np.arange(m), chosen)
    fill = rng.choice(rest, size=min(n - len(chosen), len(rest)), replace=False)
    return np.sort(np.concatenate([chosen, fill]))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets ``a`` and ``b``:
    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``."""
    from scipy import linalg

    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        # Dead ReLU units make the covariances singular; the regularised root below is FID's.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(s_a @ s_b)
        if not np.isfinite(root).all():
            eps = np.eye(len(s_a)) * 1e-6
            root = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b)
                  - 2.0 * np.trace(np.real(root)))
    return max(value, 0.0)


def precision_recall(real: np.ndarray, fake: np.ndarray, *, k: int = K_MANIFOLD,
                     seed: int = 0) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019) with k-NN manifolds.

    Both sets are cut to the same size (at most :data:`MAX_MANIFOLD_ROWS`): a manifold's balls
    shrink as its set grows, so unequal sets would favour one side.
    """
    rng = np.random.default_rng(seed)
    n = min(len(real), len(fake), MAX_MANIFOLD_ROWS)
    real = real[_subset(len(real), n, rng)]
    fake = fake[_subset(len(fake), n, rng)]
    return _coverage(real, fake, k), _coverage(fake, real, k)


def _coverage(manifold: np.ndarray, points: np.ndarray, k: int) -> float:
    """The share of ``points`` inside the union of balls round each ``manifold`` point reaching
    its k-th nearest neighbour in ``manifold``."""
    from sklearn.metrics import pairwise_distances
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(manifold) - 1)
    radii = NearestNeighbors(n_neighbors=k + 1).fit(manifold).kneighbors(manifold)[0][:, -1]
    inside = np.zeros(len(points), dtype=bool)
    for start in range(0, len(points), 1000):
        d = pairwise_distances(points[start:start + 1000], manifold)
        inside[start:start + 1000] = (d <= radii[None, :]).any(axis=1)
    return float(inside.mean())


def nn_distances(train: np.ndarray, synth: np.ndarray, holdout: np.ndarray,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (in pixels scaled to 0..1) from synthetic and from held-out images to their
    nearest training image, equally many of each (at most :data:`MAX_NN_ROWS`)."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    flat = lambda x: x.reshape(len(x), -1).astype(np.float32)  # noqa: E731
    n = min(len(synth), len(holdout), MAX_NN_ROWS)
    nn = NearestNeighbors(n_neighbors=1).fit(flat(train[_subset(len(train), MAX_NN_TRAIN, rng)]))
    d_synth = nn.kneighbors(flat(synth[_subset(len(synth), n, rng)]))[0][:, 0]
    d_hold = nn.kneighbors(flat(holdout[_subset(len(holdout), n, rng)]))[0][:, 0]
    return d_synth, d_hold


def table_pixels(df: pd.DataFrame, table: ImageTable) -> np.ndarray:
    """The pixel values of ``df`` as written in the table (whole numbers rounded)."""
    values = df[list(table.pixel_columns)].to_numpy(dtype=np.float64)
    return np.round(values) if table.integer_pixels else values


def _count_in(rows: np.ndarray, reference: np.ndarray) -> int:
    """How many of ``rows`` equal some row of ``reference`` exactly."""
    seen = {r.tobytes() for r in np.ascontiguousarray(reference)}
    return int(sum(r.tobytes() in seen for r in np.ascontiguousarray(rows)))


def _detected_labels(df: pd.DataFrame, table: ImageTable) -> np.ndarray | None:
    """Class indices of a label column the table has besides its pixels (None if none)."""
    from dl_core.data.images import detect_pixel_layout

    layout = detect_pixel_layout(df)
    if layout is None or layout.label is None or layout.label in table.pixel_columns:
        return None
    codes, _ = pd.factorize(df[layout.label].astype("string"))
    return codes.astype(np.int64)


def _subset(n: int, most: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``most`` of ``n`` rows (all, in order, when there are few enough)."""
    if n <= most:
        return np.arange(n)
    return np.sort(rng.choice(n, size=most, replace=False))
