"""Time series: forecast the next ``horizon`` values of a series from its last ``lookback``.

The raw rows are the series' history (a time column and value columns). Rows are sorted by time
and every window of ``lookback`` rows gives one forecast: an output row indexed like the window's
last input row, with that row's time and ``step_1..step_H``, the next ``horizon`` values after
it. The last output row is thus the forecast for the ``horizon`` steps after the last row
given; rows with less than ``lookback`` history get no forecast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dl_core.errors import ConfigError, DataError
from dl_core.kinds.base import DataKind, input_dims, register_kind

if TYPE_CHECKING:
    from dl_core.data.preprocessing import PreparedData
    from dl_core.predictor import Predictor
    from dl_core.training import JobSpec, TrainConfig


class TimeSeriesKind(DataKind):
    """A chronologically split series; the report sets the model beside naive baselines."""

    name = "timeseries"
    title = "Time series (forecasting)"
    default_arch = "lstm"
    fixed_task = "regression"
    options = ("time_column", "lookback", "horizon", "season_length")
    target_label = "Series to forecast"

    def default_target(self, df: pd.DataFrame) -> str | None:
        from dl_core.data.sequences import default_series

        series = default_series(df)
        return series if series is not None else super().default_target(df)

    def describe_inputs(self, shape: dict[str, Any]) -> str:
        return (f"windows of {input_dims(shape)} (steps × series) → {shape['n_outputs']} "
                "step(s) ahead")

    def check_spec(self, spec: JobSpec) -> None:
        if not spec.time_column:
            raise ConfigError("Forecasting needs a time column (--time COLUMN).")
        if spec.task != "regression":
            raise ConfigError(
                f"Forecasting predicts numbers: its task is 'regression'; got {spec.task!r}."
            )

    def params(self, spec: JobSpec) -> dict[str, str]:
        return {"time_column": str(spec.time_column), "lookback": str(spec.lookback),
                "horizon": str(spec.horizon), "season_length": str(spec.season_length)}

    def complete_options(self, df: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
        from dl_core.data.sequences import detect_time_column

        out = dict(options)
        out["time_column"] = out.get("time_column") or detect_time_column(df)
        if not out["time_column"]:
            raise ConfigError("Forecasting needs the time column: add --time COLUMN.")
        return out

    def prepare(self, spec: JobSpec, df: pd.DataFrame, train_cfg: TrainConfig) -> PreparedData:
        from dl_core.data.sequences import prepare_timeseries

        return prepare_timeseries(df, spec.target, time_column=spec.time_column,
                                  lookback=spec.lookback, horizon=spec.horizon,
                                  season_length=spec.season_length,
                                  test_size=train_cfg.test_size, val_size=train_cfg.val_size,
                                  exclude=spec.exclude)

    def evaluate(self, spec: JobSpec, data: PreparedData,
                 raw: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        from dl_core.evaluation import reports

        report = reports.forecast_report_data(
            data.extra["y_test_raw"], data.target.decode_steps(raw),
            baselines=data.extra["baselines"], period_time=data.extra["period_time"],
            period_actual=data.extra["period_actual"], history=data.extra["history"],
            season_length=data.layout["season_length"],
        )
        return report, {}

    def validation_figures(self, spec: JobSpec, data: PreparedData,
                           raw: np.ndarray) -> tuple[dict[str, float | None], dict[str, Any]]:
        from dl_core.evaluation import metrics

        y_true = data.target.decode_steps(data.y_val)
        return metrics.forecast_metrics(y_true, data.target.decode_steps(raw)), {}

    def input_columns(self, feature_columns: list[str], layout: dict[str, Any]) -> list[str]:
        return [layout["time_column"], *feature_columns]

    def example_rows(self, predictor: Predictor, raw: pd.DataFrame) -> pd.DataFrame:
        return raw[predictor.input_columns].head(int(predictor.layout["lookback"]) + 2)

    def model_inputs(self, predictor: Predictor,
                     df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, dict[str, Any]]:
        from dl_core.data.sequences import check_time_column, fill_series, time_labels

        layout = predictor.layout
        time_column, lookback = layout["time_column"], int(layout["lookback"])
        ordered, _ = check_time_column(df, time_column)
        # Gaps are carried forward as in training, so a forecast reads no later row.
        ordered, _ = fill_series(ordered, predictor.feature_columns)
        if len(ordered) < lookback:
            raise DataError(
                f"Forecasting needs at least {lookback} rows of history (the model's "
                f"lookback); got {len(ordered)}. Pass the latest {lookback} or more rows."
            )
        scaled = predictor.preprocessor.transform(
            ordered[predictor.feature_columns].to_numpy(float))
        ends = np.arange(lookback, len(ordered) + 1)
        x = scaled[ends[:, None] + np.arange(-lookback, 0)[None, :]]
        origins = np.asarray(time_labels(ordered[time_column]), dtype=object)[ends - 1]
        return x, ordered.index[ends - 1], {time_column: list(origins)}

    def decode(self, predictor: Predictor, out: np.ndarray, index: pd.Index,
               extra: dict[str, Any], threshold: float) -> pd.DataFrame:
        steps = predictor.target.decode_steps(out)
        result = pd.DataFrame(extra, index=index)
        for h in range(steps.shape[1]):
            result[f"step_{h + 1}"] = steps[:, h]
        return result


TIMESERIES = register_kind(TimeSeriesKind())
