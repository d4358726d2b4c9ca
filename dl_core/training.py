"""Train one model from a job spec: data -> preprocessing -> Keras fit -> evaluation -> MLflow.

``run_training`` is what the background worker, the CLI and the benchmarks all call, so a run
from the browser and a run from the shell are the same run. Progress leaves through ``report``
(a callable taking one JSON-able dict per event); ``stop`` is checked after every batch.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dl_core.config import config_from_dict, param, to_params, validate_fields
from dl_core.errors import ConfigError, DLExplorerError, TrainingError

Reporter = Callable[[dict[str, Any]], None]
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
#: Seconds between batched writes of per-epoch metrics to MLflow during training.
METRIC_FLUSH_S = 5.0
#: ``class_weight="auto"`` balances the classes when the training rows' largest class is at
#: least this many times the smallest.
IMBALANCE_RATIO = 4.0
#: The decision threshold a binary model is saved with; a better one is picked on the
#: validation predictions on the Evaluate page (``dl_core.thresholds``).
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class TrainConfig:
    """How a model is fitted; shared by every architecture."""

    optimizer: str = param("adam", choices=OPTIMIZERS, help="Gradient-descent variant.")
    learning_rate: float = param(
        1e-3, min=1e-6, max=1.0, log=True, help="Step size of the optimizer."
    )
    batch_size: int = param(32, min=1, max=65536, help="Rows per gradient step.")
    epochs: int = param(200, min=1, max=10000, help="Maximum passes over the training rows.")
    patience: int = param(
        15, min=0, max=1000, label="Early-stopping patience",
        help="Stop after this many epochs without validation improvement (0 = never stop early).",
    )
    class_weight: str = param(
        "auto", choices=("auto", "none", "balanced"),
        help="'balanced' weighs rare classes up, for imbalanced targets; 'auto' does so when "
             "the training rows' largest class is at least 4x the smallest.",
    )
    test_size: float = param(0.2, min=0.05, max=0.5, step=0.05, label="Test share",
                             help="Share of rows held out for the final test.")
    val_size: float = param(0.1, min=0.05, max=0.5, step=0.05, label="Validation share",
                            help="Share of rows for validation and early stopping.")
    seed: int = param(42, min=0, max=2**31 - 1, help="Seed of the split, the weights and the shuffling.")
    split: str = param(
        "auto", choices=("auto", "random", "time"), label="Split",
        help="Tables: 'time' trains on the earliest rows and tests on the latest, by the date "
             "column; 'random' shuffles rows; 'auto' splits by time when the rows are in date "
             "order (a dated log).",
    )

    def __post_init__(self) -> None:
        validate_fields(self)


@dataclass(frozen=True)
class JobSpec:
    """Everything a training job needs; JSON-able so it can cross a process boundary."""

    dataset_path: str
    dataset_name: str
    target: str
    task: str
    arch: str = "fnn"
    model_config: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    experiment: str | None = None
    exclude: tuple[str, ...] = ()
    run_name: str | None = None
    parent_run_id: str | None = None
    #: One of ``dl_core.models.registry.DATA_KINDS``; the fields below apply to some kinds only.
    data_kind: str = "tabular"
    #: Images: ``(height, width, channels)``; None = inferred from the pixel columns.
    image_shape: tuple[int, ...] | None = None
    #: Forecasting: the column that orders the rows, window length, steps ahead, season (0 =
    #: detected from the training period).
    time_column: str | None = None
    lookback: int = 24
    horizon: int = 1
    season_length: int = 0
    #: Long-format sequences: the sequence id and step columns (None = wide format, t0..tN).
    sequence_id: str | None = None
    step_column: str | None = None

    def __post_init__(self) -> None:
        from dl_core.models.registry import DATA_KINDS

        if self.data_kind not in DATA_KINDS:
            raise ConfigError(
                f"Unknown data kind {self.data_kind!r}; expected one of {list(DATA_KINDS)}."
            )
        if self.data_kind == "timeseries":
            if not self.time_column:
                raise ConfigError("Forecasting needs a time column (--time COLUMN).")
            if self.task != "regression":
                raise ConfigError(
                    f"Forecasting predicts numbers: its task is 'regression'; got {self.task!r}."
                )
        for name, low in (("lookback", 1), ("horizon", 1), ("season_length", 0)):
            if int(getattr(self, name)) < low:
                raise ConfigError(f"{name} must be at least {low}; got {getattr(self, name)}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobSpec:
        d = dict(d)
        d["exclude"] = tuple(d.get("exclude") or ())
        if d.get("image_shape") is not None:
            d["image_shape"] = tuple(d["image_shape"])
        return cls(**d)

    def data_params(self) -> dict[str, str]:
        """The data-kind options worth logging as MLflow params (only those that apply)."""
        out = {"data_kind": self.data_kind}
        if self.data_kind == "image" and self.image_shape:
            out["image_shape"] = "x".join(str(d) for d in self.image_shape)
        if self.data_kind == "timeseries":
            out.update(time_column=str(self.time_column), lookback=str(self.lookback),
                       horizon=str(self.horizon), season_length=str(self.season_length))
        if self.data_kind == "sequence" and self.sequence_id:
            out.update(sequence_id=self.sequence_id, step_column=str(self.step_column))
        return out


@dataclass
class TrainingResult:
    run_id: str
    status: str
    task: str
    metrics: dict[str, float | None]
    history: dict[str, list[float]]
    epochs_run: int
    #: Forecasting: the naive baselines' test metrics, ``{name: {metric: value}}``.
    baselines: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: The kept model scored on the validation split like ``metrics`` on the test split (what
    #: choices read: best trial, best run).
    val_metrics: dict[str, float | None] = field(default_factory=dict)


def build_optimizer(k: Any, cfg: TrainConfig) -> Any:
    """The Keras optimizer ``cfg`` names (module ``k`` is :mod:`keras`), at its learning rate."""
    return {
        "adam": k.optimizers.Adam,
        "adamw": k.optimizers.AdamW,
        "sgd": lambda learning_rate: k.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
        "rmsprop": k.optimizers.RMSprop,
    }[cfg.optimizer](learning_rate=cfg.learning_rate)


def output_head(task: str) -> tuple[str, str, list[Any]]:
    """Output activation, loss and metrics for a task."""
    if task == "binary":
        return "sigmoid", "binary_crossentropy", ["accuracy"]
    if task == "multiclass":
        return "softmax", "sparse_categorical_crossentropy", ["accuracy"]
    return "linear", "mse", ["mae"]


def _class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(y.astype(int), minlength=n_classes).astype(float)
    counts[counts == 0] = 1.0
    return {i: float(len(y) / (n_classes * c)) for i, c in enumerate(counts)}


def resolve_class_weight(choice: str, task: str, y_train: np.ndarray,
                         n_classes: int) -> dict[int, float] | None:
    """The class weights to fit with, decided on the training rows only.

    Args:
        choice: ``TrainConfig.class_weight``: ``none``, ``balanced`` or ``auto`` (balanced when
            the largest class of ``y_train`` is at least ``IMBALANCE_RATIO`` times the smallest).
        task: The task (regression has no classes to weigh).
        y_train: The training rows' class indices.
        n_classes: Number of classes.
    """
    if choice == "none" or task == "regression":
        return None
    if choice == "auto":
        counts = np.bincount(np.asarray(y_train).astype(int), minlength=n_classes)
        present = counts[counts > 0]
        if len(present) < 2 or present.max() / present.min() < IMBALANCE_RATIO:
            return None
    return _class_weights(np.asarray(y_train), n_classes)


def prepare_data(spec: JobSpec, df: Any, train_cfg: TrainConfig) -> Any:
    """Split and preprocess ``df`` for ``spec.data_kind`` (the one dispatch on data kinds).

    Returns:
        A :class:`dl_core.data.preprocessing.PreparedData`.

    Raises:
        DataError: when the data does not fit the kind, the target or the options.
    """
    from dl_core.data.images import prepare_images
    from dl_core.data.preprocessing import prepare_tabular
    from dl_core.data.sequences import prepare_sequences, prepare_timeseries

    common = {"test_size": train_cfg.test_size, "val_size": train_cfg.val_size,
              "exclude": spec.exclude}
    if spec.data_kind in ("image", "sequence") and train_cfg.split == "time":
        raise ConfigError(
            f"A split by time is for tables; {spec.data_kind} data is split at random. Set "
            "Split to 'random' or 'auto'."
        )
    if spec.data_kind == "image":
        return prepare_images(df, spec.target, spec.task, image_shape=spec.image_shape,
                              seed=train_cfg.seed, **common)
    if spec.data_kind == "timeseries":
        return prepare_timeseries(df, spec.target, time_column=spec.time_column,
                                  lookback=spec.lookback, horizon=spec.horizon,
                                  season_length=spec.season_length, **common)
    if spec.data_kind == "sequence":
        return prepare_sequences(df, spec.target, spec.task, id_column=spec.sequence_id,
                                 step_column=spec.step_column, seed=train_cfg.seed, **common)
    return prepare_tabular(df, spec.target, spec.task, seed=train_cfg.seed,
                           split=train_cfg.split, **common)


#: Per-epoch metrics in the target's units when multiplied by its scale (regression).
SCALED_METRICS = ("mae", "rmse")


def in_data_units(logs: dict[str, float], target_scale: float) -> dict[str, float]:
    """Per-epoch ``mae``/``rmse`` (and ``val_*``) of a standardised target in the data's units.

    The network fits ``(y - mean) / std``, so its absolute and root-mean-square errors are the
    data's divided by ``std``: multiplying by ``target_scale = std`` makes the curves comparable
    with the test figures. The loss stays the MSE of the standardised target.
    """
    return {key: value * _unit_scale(key, target_scale) for key, value in logs.items()}


def _unit_scale(key: str, target_scale: float) -> float:
    return target_scale if key.removeprefix("val_") in SCALED_METRICS else 1.0


def make_progress_callback(report: Reporter, stop: threading.Event, run_id: str, epochs: int,
                           target_scale: float = 1.0):
    """A Keras callback that reports each epoch, logs it to MLflow and honours ``stop``.

    ``target_scale`` converts regression errors to the data's units (see :func:`in_data_units`).
    """
    from dl_core import tracking
    from dl_core.backend import keras

    k = keras()

    class ProgressCallback(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = self.flushed = time.perf_counter()
            self.pending: list[tuple[int, dict[str, float]]] = []

        def flush(self) -> None:
            if self.pending:
                tracking.log_metric_steps(run_id, self.pending)
                self.pending = []
            self.flushed = time.perf_counter()

        def on_train_end(self, logs=None):
            self.flush()

        # The stop check sits at batch *begin*: a batch-end hook makes Keras turn every
        # batch's logs into Python numbers (a device sync per step, ~10% slower fits).
        def on_train_batch_begin(self, batch, logs=None):
            if stop.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = in_data_units(
                {k_: float(v) for k_, v in (logs or {}).items() if np.isscalar(v)}, target_scale)
            # Epochs reach MLflow in batches every few seconds: a write per epoch cost ~8% of a
            # small model's fit on 2 cores. The live curves come from ``report``, not MLflow.
            self.pending.append((epoch + 1, logs))
            if time.perf_counter() - self.flushed >= METRIC_FLUSH_S:
                self.flush()
            elapsed = time.perf_counter() - self.started
            done = epoch + 1
            report({
                "type": "epoch", "epoch": done, "epochs": epochs, "logs": logs,
                "elapsed_s": elapsed, "eta_s": elapsed / done * (epochs - done),
            })

    return ProgressCallback()


def run_training(
    spec: JobSpec, report: Reporter | None = None, stop: threading.Event | None = None
) -> TrainingResult:
    """Run one training job end to end and record it as an MLflow run.

    Args:
        spec: What to train on and how.
        report: Receives progress events (``started``, ``epoch``, ``evaluating``).
        stop: When set, training stops after the current batch; the run ends KILLED with the
            model trained so far, evaluated and logged.

    Returns:
        The run id, final status, test metrics and per-epoch history.

    Raises:
        DLExplorerError: for bad data or configs (the run, if created, is marked FAILED).
    """
    from dl_core import tracking
    from dl_core.data.storage import content_hash, load_dataset
    from dl_core.models import get_model

    report = report or (lambda event: None)
    stop = stop or threading.Event()
    entry = get_model(spec.arch)
    if spec.data_kind not in entry.kinds:
        raise ConfigError(
            f"Architecture {spec.arch!r} is for {sorted(entry.kinds)} data, not "
            f"{spec.data_kind!r}; choose one of "
            f"{[e.name for e in _models_for(spec.data_kind)]}."
        )
    model_cfg = config_from_dict(entry.config_cls, spec.model_config)
    train_cfg = config_from_dict(TrainConfig, spec.train_config)
    df = load_dataset(spec.dataset_path)

    data = prepare_data(spec, df, train_cfg)
    experiment = spec.experiment or spec.dataset_name
    class_weight = resolve_class_weight(train_cfg.class_weight, spec.task, data.y_train,
                                        len(data.target.classes or ()))
    params = {
        "arch": spec.arch, "task": spec.task, "target": spec.target,
        "exclude": ",".join(spec.exclude), **spec.data_params(),
        **to_params(model_cfg), **to_params(train_cfg),
        "class_weight_applied": "balanced" if class_weight else "none",
    }
    if data.split.get("method"):  # what 'auto' resolved to
        params["split_used"] = data.split["method"]
        if data.split["method"] == "time":
            params["split_column"] = str(data.split["column"])
    tags = {
        tracking.TAG_KIND: "training", "task": spec.task, "arch": spec.arch,
        "dataset": spec.dataset_name, "dataset_hash": content_hash(df),
        "rows": len(df), "columns": df.shape[1], "target": spec.target,
        "n_features": data.n_features, "data_kind": data.data_kind,
    }
    run_id = tracking.start_run(
        experiment, run_name=spec.run_name, params=params, tags=tags,
        parent_run_id=spec.parent_run_id,
    )
    report({"type": "started", "run_id": run_id, "epochs": train_cfg.epochs})
    try:
        result = _fit_and_log(spec, entry, model_cfg, train_cfg, data, run_id, report, stop,
                              class_weight)
    except KeyboardInterrupt:
        tracking.end_run(run_id, "KILLED", error="Interrupted (Ctrl-C).")
        raise
    except BaseException as exc:
        message = str(exc) if isinstance(exc, DLExplorerError) else f"{type(exc).__name__}: {exc}"
        tracking.end_run(run_id, "FAILED", error=message)
        if isinstance(exc, DLExplorerError):
            raise
        raise TrainingError(f"Training failed: {message}") from exc
    return result


def _models_for(kind: str) -> list[Any]:
    from dl_core.models import list_models

    return list_models(kind)


def _evaluate(spec: JobSpec, data: Any, raw: np.ndarray) -> tuple[dict, dict[str, Any]]:
    """The evaluation report of test-split outputs, and extra JSON artifacts to log."""
    from dl_core import evaluation

    artifacts: dict[str, Any] = {}
    if data.data_kind == "timeseries":
        eval_report = evaluation.forecast_report_data(
            data.extra["y_test_raw"], data.target.decode_steps(raw),
            baselines=data.extra["baselines"], period_time=data.extra["period_time"],
            period_actual=data.extra["period_actual"], history=data.extra["history"],
            season_length=data.layout["season_length"],
        )
        return eval_report, artifacts
    if spec.task == "regression":
        y_true = data.target.decode_regression(data.y_test)
        y_pred = data.target.decode_regression(raw)
        return evaluation.regression_report_data(y_true, y_pred), artifacts
    if spec.task == "binary":
        proba = np.column_stack([1 - raw.reshape(-1), raw.reshape(-1)])
    else:  # float32 softmax rows drift from 1 by rounding; sklearn checks the sum
        proba = raw / raw.sum(axis=1, keepdims=True)
    classes = list(data.target.classes)
    eval_report = evaluation.classification_report_data(data.y_test, proba, classes)
    # Test-split probabilities let the Evaluate page move the decision threshold live.
    artifacts["evaluation/predictions.json"] = {
        "classes": classes, "y_true": data.y_test.tolist(), "proba": np.round(proba, 6).tolist(),
    }
    if data.data_kind == "image":
        artifacts["evaluation/misclassified.json"] = evaluation.misclassified_images_data(
            data.x_test, data.y_test, proba, classes
        )
    return eval_report, artifacts


def _validation_figures(spec: JobSpec, data: Any, raw: np.ndarray
                        ) -> tuple[dict[str, float | None], dict[str, Any]]:
    """The kept model's validation-split figures, computed like the test ones, and the
    validation predictions of a classifier (a binary one's threshold is picked on them)."""
    from dl_core.evaluation import metrics as evaluation

    if data.data_kind == "timeseries":
        y_true = data.target.decode_steps(data.y_val)
        return evaluation.forecast_metrics(y_true, data.target.decode_steps(raw)), {}
    if spec.task == "regression":
        return evaluation.regression_metrics(data.target.decode_regression(data.y_val),
                                             data.target.decode_regression(raw)), {}
    if spec.task == "binary":
        proba = np.column_stack([1 - raw.reshape(-1), raw.reshape(-1)])
    else:
        proba = raw / raw.sum(axis=1, keepdims=True)
    classes = list(data.target.classes)
    metrics = evaluation.classification_metrics(data.y_val, proba, classes, DEFAULT_THRESHOLD)
    preds = {"classes": classes, "y_true": np.asarray(data.y_val).tolist(),
             "proba": np.round(proba, 6).tolist()}
    return metrics, {"evaluation/val_predictions.json": preds}


def _fit_and_log(spec, entry, model_cfg, train_cfg, data, run_id, report, stop,
                 class_weight=None) -> TrainingResult:
    from dl_core import evaluation, tracking
    from dl_core.backend import build_lock, keras
    from dl_core.predictor import Predictor

    k = keras()
    activation, loss, metrics = output_head(spec.task)
    target_scale = 1.0
    if spec.task == "regression":
        metrics = [*metrics, k.metrics.RootMeanSquaredError(name="rmse")]
        target_scale = float(data.target.std)
    with build_lock():  # a summary built meanwhile in the worker must not shift the seed
        k.utils.set_random_seed(train_cfg.seed)
        model = entry.build(model_cfg, data.input_shape, data.target.n_outputs, activation)
    model.compile(optimizer=build_optimizer(k, train_cfg), loss=loss, metrics=metrics)
    callbacks = [make_progress_callback(report, stop, run_id, train_cfg.epochs, target_scale)]
    if train_cfg.patience > 0:
        callbacks.append(k.callbacks.EarlyStopping(
            monitor="val_loss", patience=train_cfg.patience, restore_best_weights=True,
        ))
    history = model.fit(
        data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
        epochs=train_cfg.epochs, batch_size=train_cfg.batch_size, class_weight=class_weight,
        callbacks=callbacks, verbose=0,
    )
    hist = {key: [float(v) * _unit_scale(key, target_scale) for v in values]
            for key, values in history.history.items()}
    status = "KILLED" if stop.is_set() else "FINISHED"
    report({"type": "evaluating"})

    raw = np.asarray(model.predict(data.x_test, verbose=0, batch_size=1024), dtype=np.float64)
    eval_report, artifacts = _evaluate(spec, data, raw)
    test_metrics = evaluation.report_metrics(eval_report)
    baselines = eval_report.get("baselines", {})
    epochs_run = len(hist.get("loss", []))
    best = {}
    if hist.get("val_loss"):
        best_epoch = int(np.argmin(hist["val_loss"]))
        best = {"best_epoch": best_epoch + 1, "best_val_loss": hist["val_loss"][best_epoch]}
    tracking.log_metrics(run_id, {f"test_{k_}": v for k_, v in test_metrics.items()})
    tracking.log_metrics(run_id, {f"baseline_{name}_{k_}": v for name, values in baselines.items()
                                  for k_, v in values.items()})
    tracking.log_metrics(run_id, {"epochs_run": epochs_run, **best})
    # The kept model (best epoch's weights when early stopping restored them) on the
    # validation split: the figures choices read. Logged at the last epoch's step after the
    # per-epoch values, so a name Keras also logs per epoch (val_accuracy) reads as this one.
    raw_val = np.asarray(model.predict(data.x_val, verbose=0, batch_size=1024), dtype=np.float64)
    val_metrics, val_artifacts = _validation_figures(spec, data, raw_val)
    artifacts.update(val_artifacts)
    tracking.log_metrics(run_id, {f"val_{k_}": v for k_, v in val_metrics.items()},
                         step=epochs_run)

    meta = {
        "task": spec.task, "arch": spec.arch, "target": spec.target,
        "data_kind": data.data_kind, "layout": data.layout,
        "feature_columns": data.feature_columns, "target_encoding": data.target.to_dict(),
        "dropped_columns": data.dropped, "dataset": spec.dataset_name,
    }
    if spec.task == "binary":
        meta["threshold"] = DEFAULT_THRESHOLD
    predictor = Predictor(model, data.preprocessor, meta)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        files = predictor.save(tmp_path / "model")
        example = predictor.example_rows(data.raw_test)
        tracking.log_model(run_id, files, input_example_df=example,
                           predictions_df=predictor.predict(example))
        images = evaluation.save_report_images(eval_report, tmp_path / "plots")
        tracking.log_files(run_id, images, "plots")
    tracking.log_dict(run_id, eval_report, "evaluation/report.json")
    for artifact_file, content in artifacts.items():
        tracking.log_dict(run_id, content, artifact_file)
    tracking.log_dict(run_id, hist, "evaluation/history.json")
    tracking.log_dict(run_id, data.profile.to_dict(), "data/profile.json")
    tracking.log_dict(run_id, {"dropped_columns": data.dropped, "notes": data.notes,
                               "feature_columns": data.feature_columns,
                               "data_kind": data.data_kind, "layout": data.layout,
                               "split": data.split},
                      "data/features.json")
    tracking.end_run(run_id, status)
    report({"type": "finished", "run_id": run_id, "status": status, "metrics": test_metrics,
            "baselines": baselines})
    return TrainingResult(run_id, status, spec.task, test_metrics, hist, epochs_run, baselines,
                          val_metrics)


def suggest_train_config(n_rows: int, task: str) -> dict[str, Any]:
    """Training defaults that suit the data's size: batch size, epochs and patience.

    Class imbalance is not measured here, on the whole table: ``class_weight="auto"`` (the
    default) decides it in the trainer from the training rows only.

    Args:
        n_rows: Rows in the table.
        task: The task.
    """
    out: dict[str, Any] = {"batch_size": 32 if n_rows < 5_000 else 128 if n_rows < 100_000 else 512}
    if n_rows < 1_000:
        # A few steps per epoch: small tables need more epochs (wine stopped at the old cap of
        # 200 still improving); early stopping ends sooner when nothing is left to learn.
        out["epochs"] = 600
    if n_rows > 50_000:
        out["epochs"], out["patience"] = 60, 8
    return out
