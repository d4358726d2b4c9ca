"""Images as pixel columns: one row per image (``p0..pN``, 0-255), a label column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dl_core.kinds.base import (
    DataKind,
    class_probabilities,
    input_dims,
    refuse_time_split,
    register_kind,
)

if TYPE_CHECKING:
    from dl_core.data.preprocessing import PreparedData
    from dl_core.predictor import Predictor
    from dl_core.training import JobSpec, TrainConfig


class ImageKind(DataKind):
    """Pixel rows reshaped to ``(H, W, C)``; the report adds the misclassified test images."""

    name = "image"
    title = "Images (pixel columns)"
    default_arch = "cnn"
    options = ("image_shape",)

    def default_target(self, df: pd.DataFrame) -> str | None:
        from dl_core.data.images import detect_pixel_layout

        layout = detect_pixel_layout(df)
        if layout is not None and layout.label is not None:
            return layout.label
        return super().default_target(df)

    def describe_inputs(self, shape: dict[str, Any]) -> str:
        return f"{input_dims(shape)} images"

    def params(self, spec: JobSpec) -> dict[str, str]:
        return {"image_shape": "x".join(str(d) for d in spec.image_shape)} \
            if spec.image_shape else {}

    def prepare(self, spec: JobSpec, df: pd.DataFrame, train_cfg: TrainConfig) -> PreparedData:
        from dl_core.data.images import prepare_images

        refuse_time_split(self.name, train_cfg)
        return prepare_images(df, spec.target, spec.task, image_shape=spec.image_shape,
                              seed=train_cfg.seed, test_size=train_cfg.test_size,
                              val_size=train_cfg.val_size, exclude=spec.exclude)

    def evaluate(self, spec: JobSpec, data: PreparedData,
                 raw: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        from dl_core.evaluation import reports

        report, artifacts = super().evaluate(spec, data, raw)
        if spec.task != "regression":
            artifacts["evaluation/misclassified.json"] = reports.misclassified_images_data(
                data.x_test, data.y_test, class_probabilities(spec.task, raw),
                list(data.target.classes),
            )
        return report, artifacts

    def model_inputs(self, predictor: Predictor,
                     df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, dict[str, Any]]:
        from dl_core.data.images import pixel_matrix

        values, _ = pixel_matrix(df, predictor.feature_columns)
        return predictor.preprocessor.transform(values), df.index, {}


IMAGE = register_kind(ImageKind())
