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


TRUSTED_TYPES = [
    "dl_core.data.transformers.AsCategories",
    "dl_core.data.transformers.DatetimeFeatures",
]
