"""The latent-space explorer of an image generator with an encoder (``has_latent``: conv_vae).

Three views, each computed where the generator is loaded (the worker: TensorFlow never loads in
the web server) and answered as plain JSON:

- :func:`latent_map`: training images encoded to their posterior means, as 2-D points (the
  latent itself when it is 2-D, else a PCA projection fitted on those training codes);
- :func:`interpolation`: the images decoded along the straight line between two training
  images' codes (a conditional generator decodes the line once per class of the two ends);
- :func:`latent_plane`: for a 2-D latent, the images decoded over a grid of the plane (Gaussian
  quantiles, as in Kingma and Welling's figures), for one class when conditional.

Images travel as uint8 bytes (base64) with their shape: :func:`pack` / :func:`unpack`;
:mod:`dl_core.generation.image_figures` draws the answers.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pandas as pd

from dl_core.errors import DataError

#: Most training images encoded for the map (a seeded sample beyond that).
MAX_POINTS = 2000
#: Images decoded along an interpolation (both ends included).
STEPS = 10
#: Side of the decoded grid over a 2-D latent plane.
PLANE_SIDE = 15
#: The plane spans these Gaussian quantiles of each latent axis (the prior's bulk).
PLANE_QUANTILES = (0.05, 0.95)


def pack(images: np.ndarray) -> dict[str, Any]:
    """Images in ``[0, 1]`` as ``{"shape", "b64"}`` (uint8 bytes; JSON-able)."""
    data = np.round(np.clip(np.asarray(images, dtype=np.float32), 0, 1) * 255).astype(np.uint8)
    return {"shape": list(data.shape), "b64": base64.b64encode(data.tobytes()).decode("ascii")}


def unpack(packed: dict[str, Any]) -> np.ndarray:
    """The float32 images in ``[0, 1]`` :func:`pack` encoded."""
    data = np.frombuffer(base64.b64decode(packed["b64"]), dtype=np.uint8)
    return data.reshape(packed["shape"]).astype(np.float32) / 255.0


def _check(synth: Any) -> Any:
    if not getattr(synth, "has_latent", False):
        raise DataError(f"{type(synth).__name__} has no encoder: the latent explorer needs a "
                        "generator with a latent space (conv_vae).")
    return synth.table


def _sample_positions(n: int, max_points: int, seed: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def latent_map(synth: Any, train: pd.DataFrame, *, max_points: int = MAX_POINTS,
               seed: int = 0) -> dict[str, Any]:
    """Training images as points of the latent space (2-D or projected to 2-D).

    Args:
        synth: A fitted generator with ``has_latent``.
        train: Its training rows (the run's stored ones).
        max_points: Most images encoded (a seeded sample of the rows beyond that).
        seed: Seeds that sample.

    Returns:
        ``{"index": row positions in train, "x", "y": coordinates, "labels": class of each
        (None when unconditional), "latent_dim", "axes": two axis titles, "explained":
        variance share of each PCA axis (None when the latent is 2-D)}``.

    Raises:
        DataError: for a generator without a latent space.
    """
    from sklearn.decomposition import PCA

    table = _check(synth)
    positions = _sample_positions(len(train), max_points, seed)
    x, y = table.arrays(train.iloc[positions])
    if y is not None:  # rows without a known class cannot be encoded by a conditional encoder
        known = y >= 0
        positions, x, y = positions[known], x[known], y[known]
    codes = np.asarray(synth.encode_arrays(x, y), dtype=np.float64)
    dim = codes.shape[1]
    explained = None
    if dim == 2:
        points, axes = codes, ["z1", "z2"]
    elif dim == 1:
        points, axes = np.column_stack([codes[:, 0], np.zeros(len(codes))]), ["z1", ""]
    else:
        pca = PCA(n_components=2, random_state=seed).fit(codes)
        points = pca.transform(codes)
        explained = [float(v) for v in pca.explained_variance_ratio_]
        axes = [f"PC{i + 1} ({share:.0%} of the latent variance)"
                for i, share in enumerate(explained)]
    return {"index": [int(i) for i in positions], "x": points[:, 0].tolist(),
            "y": points[:, 1].tolist(),
            "labels": None if y is None else [table.classes[i] for i in y],
            "latent_dim": int(dim), "axes": axes, "explained": explained}


def interpolation(synth: Any, train: pd.DataFrame, a: int, b: int,
                  steps: int = STEPS) -> dict[str, Any]:
    """Images decoded along the line between the codes of training rows ``a`` and ``b``.

    A conditional generator decodes the line once per class of the two ends (one row each): the
    code carries the style, the class is given.

    Returns:
        ``{"images": packed (rows, steps, H, W, C), "row_labels": class per row (None when
        unconditional), "ends": packed (2, H, W, C) real images a and b, "end_labels",
        "t": the steps in 0..1}``.

    Raises:
        DataError: for a row position out of range or a generator without a latent space.
    """
    table = _check(synth)
    for position in (a, b):
        if not 0 <= int(position) < len(train):
            raise DataError(f"Image #{position} is not a training image (0 to {len(train) - 1}).")
    x, y = table.arrays(train.iloc[[int(a), int(b)]])
    if y is not None and (y < 0).any():
        raise DataError("Pick two training images with a known class.")
    codes = np.asarray(synth.encode_arrays(x, y), dtype=np.float64)
    t = np.linspace(0.0, 1.0, int(steps))
    line = (1 - t)[:, None] * codes[0] + t[:, None] * codes[1]
    if y is None:
        rows, labels = [synth.decode_arrays(line, None)], [None]
    else:
        classes = list(dict.fromkeys(int(v) for v in y))
        rows = [synth.decode_arrays(line, np.full(len(line), c, dtype=np.int64))
                for c in classes]
        labels = [table.classes[c] for c in classes]
    return {"images": pack(np.stack([np.asarray(r) for r in rows])), "row_labels": labels,
            "ends": pack(x), "t": t.tolist(),
            "end_labels": None if y is None else [table.classes[int(v)] for v in y]}


def latent_plane(synth: Any, label: Any = None, side: int = PLANE_SIDE) -> dict[str, Any]:
    """Images decoded over a ``side`` x ``side`` grid of a 2-D latent plane.

    Args:
        synth: A fitted generator with a 2-D latent.
        label: The class to decode (a conditional generator; its first class by default).
        side: Images per axis.

    Returns:
        ``{"images": packed (side, side, H, W, C), top row = highest z2, "z1", "z2": the
        coordinates of the columns (left to right) and rows (top to bottom), "label"}``.

    Raises:
        DataError: for a latent that is not 2-D, a generator without one, or an unknown class.
    """
    from scipy.stats import norm

    table = _check(synth)
    if int(synth.latent_dim) != 2:
        raise DataError(f"The decoded plane needs a 2-D latent; this generator's has "
                        f"{synth.latent_dim} dimensions (the map shows a projection).")
    values = norm.ppf(np.linspace(*PLANE_QUANTILES, int(side)))
    z2, z1 = np.meshgrid(values[::-1], values, indexing="ij")  # rows: z2 high to low
    codes = np.column_stack([z1.ravel(), z2.ravel()])
    y = None
    if table.label is not None:
        index = table.label_index(table.classes[0] if label is None else label)
        label = table.classes[index]
        y = np.full(len(codes), index, dtype=np.int64)
    images = np.asarray(synth.decode_arrays(codes, y))
    return {"images": pack(images.reshape(int(side), int(side), *images.shape[1:])),
            "z1": values.tolist(), "z2": values[::-1].tolist(), "label": label}
