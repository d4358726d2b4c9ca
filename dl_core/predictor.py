"""A trained model plus its preprocessing: raw rows in, predictions out.

The same class serves the MLflow pyfunc wrapper, the Predict page and the CLI, so a prediction
is computed one way everywhere. What a "raw row" is, and what comes out, is the data kind's
business (``meta["data_kind"]``, see :mod:`dl_core.kinds`):

* ``tabular``: one row per sample; ``prediction`` (+ ``proba_<class>`` for classifiers).
* ``image``: one row per image (its pixel columns); same outputs as tabular.
* ``sequence``: wide format, one row per sequence; long format, one row per step, and one
  output row per sequence id (the output's index is the id).
* ``timeseries``: the rows are the series' history; one ``step_1..step_H`` forecast per window
  of ``lookback`` rows (see :mod:`dl_core.kinds.timeseries`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_core.data.preprocessing import TargetEncoding, load_preprocessor, save_preprocessor
from dl_core.errors import DataError
from dl_core.kinds import DataKind, get_kind

MODEL_FILE = "model.keras"
PREPROCESSOR_FILE = "preprocessor.skops"
META_FILE = "meta.json"


@dataclass
class Predictor:
    """Predicts a raw table with a trained Keras model and its fitted preprocessing."""

    model: Any
    preprocessor: Any
    meta: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def feature_columns(self) -> list[str]:
        return list(self.meta["feature_columns"])

    @property
    def target(self) -> TargetEncoding:
        return TargetEncoding.from_dict(self.meta["target_encoding"])

    def save(self, folder: Path) -> dict[str, Path]:
        """Write the model (.keras), preprocessing (skops) and metadata (JSON) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {
            "keras_model": folder / MODEL_FILE,
            "preprocessor": folder / PREPROCESSOR_FILE,
            "meta": folder / META_FILE,
        }
        self.model.save(paths["keras_model"])
        save_preprocessor(self.preprocessor, paths["preprocessor"])
        paths["meta"].write_text(json.dumps(self.meta, indent=2))
        return paths

    @classmethod
    def load(cls, keras_model: Path, preprocessor: Path, meta: Path) -> Predictor:
        """Load files written by :meth:`save` (Keras safe mode stays on)."""
        import dl_core.models  # noqa: F401  (registers custom layers before loading)
        from dl_core.backend import keras

        return cls(
            model=keras().saving.load_model(keras_model),
            preprocessor=load_preprocessor(preprocessor),
            meta=json.loads(Path(meta).read_text()),
        )

    @classmethod
    def load_folder(cls, folder: Path) -> Predictor:
        folder = Path(folder)
        return cls.load(folder / MODEL_FILE, folder / PREPROCESSOR_FILE, folder / META_FILE)

    @property
    def threshold(self) -> float:
        """Binary: the saved decision threshold (picked on validation data; 0.5 until one is)."""
        return float(self.meta.get("threshold", 0.5))

    @property
    def data_kind(self) -> str:
        return self.meta.get("data_kind", "tabular")

    @property
    def kind(self) -> DataKind:
        return get_kind(self.data_kind)

    @property
    def layout(self) -> dict[str, Any]:
        return self.meta.get("layout") or {}

    @property
    def input_columns(self) -> list[str]:
        """The raw columns a prediction needs."""
        return self.kind.input_columns(self.feature_columns, self.layout)

    def example_rows(self, raw: pd.DataFrame) -> pd.DataFrame:
        """A few raw rows to predict (the logged model's input example)."""
        return self.kind.example_rows(self, raw)

    def check_columns(self, df: pd.DataFrame) -> list[str]:
        """Raise on missing input columns; return notes about ignored extra columns."""
        required = self.input_columns
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise DataError(
                f"The data lacks {len(missing)} column(s) the model was trained on: "
                f"{missing[:20]}. Expected columns: {required[:50]}."
            )
        known = set(required) | {self.meta.get("target")}
        extra = [c for c in df.columns if c not in known]
        return [f"Ignored {len(extra)} column(s) the model does not use: {extra[:20]}."] if extra else []

    def model_inputs(self, df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, dict[str, Any]]:
        """The network's inputs for raw rows, the index of the output rows and extra columns."""
        return self.kind.model_inputs(self, df)

    def unseen_categories(self, df: pd.DataFrame) -> dict[str, list[str]]:
        """Category values in ``df`` that training never saw, by column.

        The encoder maps them to its "infrequent" bucket (or all zeros), so predictions still
        work; people should know, because the model knows nothing about those values.
        """
        transformers = getattr(self.preprocessor, "named_transformers_", {})
        pipe = transformers.get("categorical") if hasattr(transformers, "get") else None
        if pipe is None or not hasattr(pipe, "named_steps"):
            return {}
        columns = [c for name, _, cols in self.preprocessor.transformers_ if name == "categorical"
                   for c in cols]
        encoder = pipe.named_steps.get("one_hot")
        if encoder is None or not hasattr(encoder, "categories_"):
            return {}
        text = pipe.named_steps["as_text"].transform(df[columns])
        out = {}
        for j, col in enumerate(columns):
            known = {str(v) for v in encoder.categories_[j]}
            new = sorted({str(v) for v in text[:, j] if v is not None} - known)
            if new:
                out[col] = new
        return out

    def input_notes(self, df: pd.DataFrame) -> list[str]:
        """Everything worth telling about ``df`` before predicting it (raises on missing
        columns): ignored extra columns and category values the model never saw."""
        notes = self.check_columns(df)
        for col, values in self.unseen_categories(df).items():
            shown = ", ".join(repr(v) for v in values[:10]) + (" …" if len(values) > 10 else "")
            notes.append(
                f"Column {col!r} has {len(values)} value(s) never seen in training: {shown}. "
                "The model treats them like rare values, so those predictions are less reliable."
            )
        return notes

    def _outputs(self, df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, dict[str, Any]]:
        self.check_columns(df)
        x, index, extra = self.model_inputs(df)
        out = np.asarray(self.model.predict(x, verbose=0, batch_size=1024))
        if self.meta["task"] == "binary":
            p = out.reshape(-1)
            out = np.column_stack([1.0 - p, p])
        return out, index, extra

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` (classification) or scaled outputs."""
        return self._outputs(df)[0]

    def predict(self, df: pd.DataFrame, threshold: float | None = None) -> pd.DataFrame:
        """Predictions for raw rows: ``prediction`` plus ``proba_<class>`` for classifiers;
        ``step_1..step_H`` forecasts for time series (see the module docstring).

        Args:
            df: Raw rows.
            threshold: Binary: predict the positive class when its probability is at or above
                this; None uses the threshold saved with the model (:attr:`threshold`).
        """
        if len(df) == 0:
            raise DataError("There are no rows to predict.")
        self.notes = self.input_notes(df)
        out, index, extra = self._outputs(df)
        cut = self.threshold if threshold is None else float(threshold)
        return self.kind.decode(self, out, index, extra, cut)
