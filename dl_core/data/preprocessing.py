"""Split rows and fit the feature preprocessing (scikit-learn), train split only.

Learned state follows scikit-learn's contract (see the honesty rules in docs/architecture.md):
the ``ColumnTransformer`` and the target encoding are fit on the training split and saved beside
the model, so predictions on new raw rows reproduce exactly what training saw. Nothing is ever
fit on validation or test rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from dl_core.data.profile import DataProfile, profile_dataframe
from dl_core.data.splits import (
    SPLITS,
    check_sizes,
    in_time_order,
    period,
    split_by_time,
    time_split_column,
)
from dl_core.data.task import check_target
from dl_core.data.transformers import TRUSTED_TYPES, AsCategories, DatetimeFeatures
from dl_core.errors import DataError

CLASSIFICATION = ("binary", "multiclass")


def build_preprocessor(profile: DataProfile, feature_columns: list[str]) -> ColumnTransformer:
    """An unfitted ``ColumnTransformer`` for the usable feature columns.

    Numbers: median imputation (with missing indicators) and standard scaling. Categories and
    booleans: most-frequent-free constant imputation and one-hot encoding that ignores unseen
    values (rare ones pooled). Dates: numeric parts, imputed and scaled.
    """
    by_kind: dict[str, list[str]] = {"numeric": [], "categorical": [], "datetime": []}
    for name in feature_columns:
        kind = profile.column(name).kind
        if kind == "numeric":
            by_kind["numeric"].append(name)
        elif kind in ("categorical", "boolean"):
            by_kind["categorical"].append(name)
        elif kind == "datetime":
            by_kind["datetime"].append(name)
        else:
            raise DataError(f"Column {name!r} of kind {kind!r} cannot be used as a feature.")
    transformers: list[tuple[str, Any, list[str]]] = []
    if by_kind["numeric"]:
        numeric = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("numeric", numeric, by_kind["numeric"]))
    if by_kind["categorical"]:
        categorical = Pipeline(
            [
                ("as_text", AsCategories()),
                ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                (
                    "one_hot",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        min_frequency=5,
                        max_categories=50,
                        sparse_output=False,
                        dtype=np.float32,
                    ),
                ),
            ]
        )
        transformers.append(("categorical", categorical, by_kind["categorical"]))
    if by_kind["datetime"]:
        dates = Pipeline(
            [
                ("parts", DatetimeFeatures()),
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        transformers.append(("datetime", dates, by_kind["datetime"]))
    if not transformers:
        raise DataError(
            "No usable feature columns remain after dropping ID-like, constant, empty and text "
            "columns. Pick another target or upload a table with feature columns."
        )
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)


@dataclass(frozen=True)
class TargetEncoding:
    """How the target maps to what the network predicts (JSON-serialisable, saved with the model).

    Classification: class labels (text) in index order. Regression: standardisation of the target,
    which keeps the loss well scaled whatever the target's units.
    """

    task: str
    classes: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0
    #: Values predicted per sample: the horizon when forecasting, otherwise 1.
    n_steps: int = 1

    @classmethod
    def fit(cls, y: pd.Series, task: str) -> TargetEncoding:
        if task in CLASSIFICATION:
            return cls(task=task, classes=tuple(_sorted_labels(y)))
        values = pd.to_numeric(y).to_numpy(dtype=float)
        std = float(values.std()) or 1.0
        return cls(task=task, mean=float(values.mean()), std=std)

    def encode(self, y: pd.Series) -> np.ndarray:
        if self.task in CLASSIFICATION:
            index = {c: i for i, c in enumerate(self.classes)}
            labels = _label_text(y)
            unknown = sorted(set(labels) - set(index))
            if unknown:
                raise DataError(f"Target values {unknown[:10]} were not seen in training.")
            return np.array([index[v] for v in labels], dtype=np.int32)
        return ((pd.to_numeric(y).to_numpy(dtype=float) - self.mean) / self.std).astype(np.float32)

    def decode_regression(self, y_scaled: np.ndarray) -> np.ndarray:
        return np.asarray(y_scaled, dtype=float).reshape(-1) * self.std + self.mean

    def decode_steps(self, y_scaled: np.ndarray) -> np.ndarray:
        """Scaled ``(n, n_steps)`` outputs back in the target's units (forecasts)."""
        return np.asarray(y_scaled, dtype=float).reshape(-1, self.n_steps) * self.std + self.mean

    @property
    def n_outputs(self) -> int:
        if self.task == "multiclass":
            return len(self.classes)
        return self.n_steps if self.task == "regression" else 1

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "classes": list(self.classes), "mean": self.mean,
                "std": self.std, "n_steps": self.n_steps}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetEncoding:
        return cls(task=d["task"], classes=tuple(d["classes"]), mean=d["mean"], std=d["std"],
                   n_steps=int(d.get("n_steps", 1)))


def _label_text(y: pd.Series) -> list[str]:
    """Class labels as text; 1.0 and 1 both read '1' so numeric labels stay tidy."""

    def text(v: Any) -> str:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    return [text(v) for v in y]


def _sorted_labels(y: pd.Series) -> list[str]:
    labels = sorted(set(_label_text(y)))
    try:
        return sorted(labels, key=float)
    except ValueError:
        return labels


@dataclass
class PreparedData:
    """Everything training needs from a table, split and preprocessed, whatever its kind.

    ``x_*`` are the network's inputs: ``(n, features)`` for tables, ``(n, H, W, C)`` for images,
    ``(n, steps, features)`` for sequences and forecasting windows. ``preprocessor`` is the
    fitted transformer (saved with skops) that turns raw columns into those inputs; ``layout``
    is the JSON-able description of the data kind that the predictor needs besides it (image
    shape, time column, lookback...); ``extra`` holds evaluation-only data (test images, the
    naive baselines' forecasts).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    raw_test: pd.DataFrame
    preprocessor: Any
    target: TargetEncoding
    feature_columns: list[str]
    dropped: dict[str, str]
    profile: DataProfile
    notes: list[str] = field(default_factory=list)
    data_kind: str = "tabular"
    layout: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    #: How rows were split (JSON-able, see :func:`dl_core.data.splits.describe_split`); empty
    #: when not recorded.
    split: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))


#: The tabular path's name for :class:`PreparedData` (kept for existing callers).
TabularData = PreparedData


def split_rows(
    df: pd.DataFrame, target: str, task: str, *, test_size: float, val_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train, validation and test rows; stratified by the target for classification.

    ``test_size`` and ``val_size`` are fractions of all rows with a known target.
    """
    check_sizes(test_size, val_size)
    labels = _label_text(df[target]) if task in CLASSIFICATION else None
    rest, test = train_test_split(df, test_size=test_size, random_state=seed, stratify=labels)
    rest_labels = _label_text(rest[target]) if labels is not None else None
    train, val = train_test_split(
        rest, test_size=val_size / (1 - test_size), random_state=seed, stratify=rest_labels
    )
    return train, val, test


def prepare_tabular(
    df: pd.DataFrame,
    target: str,
    task: str,
    *,
    test_size: float = 0.2,
    val_size: float = 0.1,
    seed: int = 42,
    exclude: tuple[str, ...] = (),
    profile: DataProfile | None = None,
    split: str = "auto",
) -> TabularData:
    """Validate the target, split rows, fit preprocessing on the training split, transform all.

    Args:
        df: The raw table as loaded.
        target: Column to predict.
        task: One of ``binary``, ``multiclass``, ``regression``.
        test_size: Fraction of rows held out for the final evaluation.
        val_size: Fraction of rows used for early stopping and the validation curves.
        seed: Seed of the split.
        exclude: Extra columns the user chose not to use as features.
        profile: The profile of ``df`` if already computed.
        split: ``random`` (stratified for classification), ``time`` (train on the earliest
            rows, test on the latest, by the table's date column; see :func:`split_by_time`)
            or ``auto``: by time when the table is a dated log (rows in the order of its date
            column, like a daily weather record), else random. A sign-up or birth date in a
            table of customers is a feature, not the rows' time: ``auto`` leaves it alone.

    Raises:
        DataError: if the target does not fit the task, no feature is usable, or a split by
            time is asked for a table without a date column.
    """
    check_target(df, target, task, test_size=test_size, val_size=val_size)
    if split not in SPLITS:
        raise DataError(f"Unknown split {split!r}; expected one of {', '.join(SPLITS)}.")
    profile = profile or profile_dataframe(df)
    notes = []
    known = df[df[target].notna()]
    if len(known) < len(df):
        notes.append(f"{len(df) - len(known)} rows without a target value were left out.")
    features = [c for c in profile.feature_columns(target) if c not in exclude]
    dropped = profile.dropped(target)
    dropped.update({c: "excluded by you" for c in exclude if c in df.columns and c != target})
    date_column = time_split_column(profile, (target,))
    if split == "time" and date_column is None:
        raise DataError(
            "A split by time needs a date or time column, and this table has none. Choose the "
            "random split (Model page, Split)."
        )
    time_column = None
    if split == "time" or (split == "auto" and date_column is not None
                           and in_time_order(known[date_column])):
        time_column = date_column
    if time_column is not None:
        train, val, test, time_notes = split_by_time(
            known, time_column, test_size=test_size, val_size=val_size)
        notes.extend(time_notes)
        _check_classes_in_training(train, val, test, target, task, time_column)
        split_info = {"method": "time", "column": time_column, "train": period(train, time_column),
                      "val": period(val, time_column), "test": period(test, time_column)}
    else:
        train, val, test = split_rows(
            known, target, task, test_size=test_size, val_size=val_size, seed=seed
        )
        split_info = {"method": "random", "seed": seed, "stratified": task in CLASSIFICATION}
        if date_column is not None:
            split_info["date_column"] = date_column  # a split by time stays on offer
    split_info.update(n_train=len(train), n_val=len(val), n_test=len(test))
    preprocessor = build_preprocessor(profile, features)
    x_train = preprocessor.fit_transform(train[features]).astype(np.float32)
    encoding = TargetEncoding.fit(train[target], task)
    return TabularData(
        x_train=x_train,
        y_train=encoding.encode(train[target]),
        x_val=preprocessor.transform(val[features]).astype(np.float32),
        y_val=encoding.encode(val[target]),
        x_test=preprocessor.transform(test[features]).astype(np.float32),
        y_test=encoding.encode(test[target]),
        raw_test=test,
        preprocessor=preprocessor,
        target=encoding,
        feature_columns=features,
        dropped=dropped,
        profile=profile,
        notes=notes,
        split=split_info,
    )


def _check_classes_in_training(train, val, test, target: str, task: str, column: str) -> None:
    """A class first seen after the training period cannot be learned: say so, not KeyError."""
    if task not in CLASSIFICATION:
        return
    seen = set(_label_text(train[target]))
    later = sorted((set(_label_text(val[target])) | set(_label_text(test[target]))) - seen)
    if later:
        shown = ", ".join(f"'{c}'" for c in later[:5])
        raise DataError(
            f"Class(es) {shown} of '{target}' appear only after the training period of the split "
            f"by time on '{column}', so the model could never learn them. Choose the random "
            "split (Model page, Split), or remove or merge those classes."
        )


def save_preprocessor(preprocessor: ColumnTransformer, path: Path) -> None:
    """Save fitted preprocessing with skops (a secure format; never pickle)."""
    import skops.io as sio

    sio.dump(preprocessor, path)


def load_preprocessor(path: Path) -> ColumnTransformer:
    """Load preprocessing saved by :func:`save_preprocessor`, trusting only known types."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    allowed = set(TRUSTED_TYPES) | {t for t in untrusted if t.startswith(("sklearn.", "numpy."))}
    unexpected = sorted(set(untrusted) - allowed)
    if unexpected:
        raise DataError(f"Refusing to load preprocessing with unexpected types {unexpected}.")
    return sio.load(path, trusted=sorted(set(untrusted)))
