"""Sequences: wide (one row per sequence, ``t0..tN``) or long (one row per step, an id column)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dl_core.kinds.base import DataKind, input_dims, refuse_time_split, register_kind

if TYPE_CHECKING:
    from dl_core.data.preprocessing import PreparedData
    from dl_core.predictor import Predictor
    from dl_core.training import JobSpec, TrainConfig


class SequenceKind(DataKind):
    """Sequences classified or regressed as a whole; long format predicts one row per id."""

    name = "sequence"
    title = "Sequences (one per row or per id)"
    default_arch = "lstm"
    options = ("sequence_id", "step_column")

    def describe_inputs(self, shape: dict[str, Any]) -> str:
        return f"sequences of {input_dims(shape)} (steps × values)"

    def params(self, spec: JobSpec) -> dict[str, str]:
        if not spec.sequence_id:
            return {}
        return {"sequence_id": spec.sequence_id, "step_column": str(spec.step_column)}

    def prepare(self, spec: JobSpec, df: pd.DataFrame, train_cfg: TrainConfig) -> PreparedData:
        from dl_core.data.sequences import prepare_sequences

        refuse_time_split(self.name, train_cfg)
        return prepare_sequences(df, spec.target, spec.task, id_column=spec.sequence_id,
                                 step_column=spec.step_column, seed=train_cfg.seed,
                                 test_size=train_cfg.test_size, val_size=train_cfg.val_size,
                                 exclude=spec.exclude)

    def example_rows(self, predictor: Predictor, raw: pd.DataFrame) -> pd.DataFrame:
        layout = predictor.layout
        if layout.get("format") != "long":
            return super().example_rows(predictor, raw)
        frame = raw[predictor.input_columns]
        ids = frame[layout["id_column"]].drop_duplicates().head(2)
        return frame[frame[layout["id_column"]].isin(set(ids))]

    def model_inputs(self, predictor: Predictor,
                     df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, dict[str, Any]]:
        from dl_core.data.sequences import long_array, wide_array

        layout = predictor.layout
        if layout.get("format") == "long":
            raw, ids = long_array(df, layout["id_column"], layout["step_column"],
                                  layout["value_columns"], layout["n_steps"])
            return (predictor.preprocessor.transform(raw),
                    pd.Index(ids, name=layout["id_column"]), {})
        x = wide_array(df, predictor.feature_columns)
        return predictor.preprocessor.transform(x), df.index, {}


SEQUENCE = register_kind(SequenceKind())
