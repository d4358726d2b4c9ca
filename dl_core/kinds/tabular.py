"""Tables: one row per sample, mixed columns, a target column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dl_core.kinds.base import DataKind, register_kind

if TYPE_CHECKING:
    from dl_core.data.preprocessing import PreparedData
    from dl_core.training import JobSpec, TrainConfig


class TabularKind(DataKind):
    """A table: rows split at random (stratified) or by its date column, columns preprocessed
    by a ColumnTransformer."""

    name = "tabular"
    title = "Table (one row per sample)"
    default_arch = "fnn"
    selectable_features = True
    split_choice = True

    def prepare(self, spec: JobSpec, df: pd.DataFrame, train_cfg: TrainConfig) -> PreparedData:
        from dl_core.data.preprocessing import prepare_tabular

        return prepare_tabular(df, spec.target, spec.task, test_size=train_cfg.test_size,
                               val_size=train_cfg.val_size, exclude=spec.exclude,
                               seed=train_cfg.seed, split=train_cfg.split)


TABULAR = register_kind(TabularKind())
