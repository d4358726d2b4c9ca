"""Small scikit-learn transformers used inside the saved preprocessing.

They live in their own module because skops loads only types it is told to trust:
``TRUSTED_TYPES`` lists them for :func:`dl_core.data.preprocessing.load_preprocessor`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class AsCategories(BaseEstimator, TransformerMixin):
    """Casts every value to text so mixed-type category columns one-hot encode cleanly.

    Missing values stay missing (``None``) for the imputer that follows.
    """

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        frame = pd.DataFrame(X)
        out = frame.astype(object).where(frame.notna(), None)
        return out.map(lambda v: v if v is None else str(v).strip()).to_numpy(dtype=object)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class DatetimeFeatures(BaseEstimator, TransformerMixin):
    """Turns date/time text into numbers: days since 1970, year, month, day of week, hour.

    Unparseable values become missing (NaN) for the imputer that follows.
    """

    parts = ("days", "year", "month", "dayofweek", "hour")

    def fit(self, X, y=None):
        frame = pd.DataFrame(X)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        return self

    def transform(self, X):
        frame = pd.DataFrame(X)
        columns = []
        for col in frame.columns:
            ts = pd.to_datetime(frame[col], errors="coerce", format="mixed", utc=True)
            epoch_days = (ts - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(days=1)
            columns += [
                epoch_days.to_numpy(dtype=float),
                ts.dt.year.to_numpy(dtype=float),
                ts.dt.month.to_numpy(dtype=float),
                ts.dt.day_of_week.to_numpy(dtype=float),
                ts.dt.hour.to_numpy(dtype=float),
            ]
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features=None):
        names = input_features if input_features is not None else self.feature_names_in_
        return np.asarray([f"{n}_{p}" for n in names for p in self.parts], dtype=object)


class PixelScaler(BaseEstimator, TransformerMixin):
    """Pixel columns (row-major H x W x C order) to scaled images ``(n, H, W, C)``.

    Args:
        shape: ``(height, width, channels)``.
        scale: The largest possible pixel value (255 for 8-bit pixels, 1 for shares); pixels
            are divided by it. It is a property of the pixel format, not learned from the data.
    """

    def __init__(self, shape=(8, 8, 1), scale=255.0):
        self.shape = shape
        self.scale = scale

    def fit(self, X, y=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def transform(self, X):
        arr = np.asarray(X, dtype=np.float32)
        size = int(np.prod(self.shape))
        if arr.ndim != 2 or arr.shape[1] != size:
            raise ValueError(f"expected {size} pixel columns; got array of shape {arr.shape}")
        return (arr / np.float32(self.scale)).reshape(-1, *(int(d) for d in self.shape))


class SeriesScaler(BaseEstimator, TransformerMixin):
    """Standardises each feature (the last axis) of series or sequence arrays.

    Fit on the training period or the training sequences only; accepts ``(steps, features)``
    and ``(n, steps, features)`` arrays alike.
    """

    def fit(self, X, y=None):
        arr = np.asarray(X, dtype=np.float64)
        flat = arr.reshape(-1, arr.shape[-1])
        self.n_features_in_ = flat.shape[1]
        self.mean_ = np.nanmean(flat, axis=0)
        std = np.nanstd(flat, axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        arr = np.asarray(X, dtype=np.float64)
        return ((arr - self.mean_) / self.scale_).astype(np.float32)

    def inverse_transform(self, X):
        return np.asarray(X, dtype=np.float64) * self.scale_ + self.mean_


TRUSTED_TYPES = [
    "dl_core.data.transformers.AsCategories",
    "dl_core.data.transformers.DatetimeFeatures",
    "dl_core.data.transformers.PixelScaler",
    "dl_core.data.transformers.SeriesScaler",
]
