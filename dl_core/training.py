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
from dl_core.errors import DLExplorerError, TrainingError

Reporter = Callable[[dict[str, Any]], None]
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")


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
        15, min=0, max=1000,
        help="Stop after this many epochs without validation improvement (0 = never stop early).",
    )
    class_weight: str = param(
        "none", choices=("none", "balanced"),
        help="'balanced' weighs rare classes up, for imbalanced targets.",
    )
    test_size: float = param(0.2, min=0.05, max=0.5, step=0.05, help="Share of rows held out for the final test.")
    val_size: float = param(0.1, min=0.05, max=0.5, step=0.05, help="Share of rows for validation and early stopping.")
    seed: int = param(42, min=0, max=2**31 - 1, help="Seed of the split, the weights and the shuffling.")

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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobSpec:
        d = dict(d)
        d["exclude"] = tuple(d.get("exclude") or ())
        return cls(**d)


@dataclass
class TrainingResult:
    run_id: str
    status: str
    task: str
    metrics: dict[str, float | None]
    history: dict[str, list[float]]
    epochs_run: int


def _optimizer(k: Any, cfg: TrainConfig) -> Any:
    return {
        "adam": k.optimizers.Adam,
        "adamw": k.optimizers.AdamW,
        "sgd": lambda learning_rate: k.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
        "rmsprop": k.optimizers.RMSprop,
    }[cfg.optimizer](learning_rate=cfg.learning_rate)


def _head(task: str) -> tuple[str, str, list[Any]]:
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


def make_progress_callback(report: Reporter, stop: threading.Event, run_id: str, epochs: int):
    """A Keras callback that reports each epoch, logs it to MLflow and honours ``stop``."""
    from dl_core import tracking
    from dl_core.backend import keras

    k = keras()

    class ProgressCallback(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if stop.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = {k_: float(v) for k_, v in (logs or {}).items() if np.isscalar(v)}
            # Asynchronous batched logging keeps MLflow off the training loop's critical path.
            tracking.log_metrics(run_id, logs, step=epoch + 1, synchronous=False)
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
    from dl_core.data.preprocessing import prepare_tabular
    from dl_core.data.storage import content_hash, load_dataset
    from dl_core.models import get_model

    report = report or (lambda event: None)
    stop = stop or threading.Event()
    entry = get_model(spec.arch)
    model_cfg = config_from_dict(entry.config_cls, spec.model_config)
    train_cfg = config_from_dict(TrainConfig, spec.train_config)
    df = load_dataset(spec.dataset_path)

    data = prepare_tabular(
        df, spec.target, spec.task, test_size=train_cfg.test_size,
        val_size=train_cfg.val_size, seed=train_cfg.seed, exclude=spec.exclude,
    )
    experiment = spec.experiment or spec.dataset_name
    params = {
        "arch": spec.arch, "task": spec.task, "target": spec.target,
        "exclude": ",".join(spec.exclude),
        **to_params(model_cfg), **to_params(train_cfg),
    }
    tags = {
        tracking.TAG_KIND: "training", "task": spec.task, "arch": spec.arch,
        "dataset": spec.dataset_name, "dataset_hash": content_hash(df),
        "rows": len(df), "columns": df.shape[1], "target": spec.target,
        "n_features": data.n_features,
    }
    run_id = tracking.start_run(
        experiment, run_name=spec.run_name, params=params, tags=tags,
        parent_run_id=spec.parent_run_id,
    )
    report({"type": "started", "run_id": run_id, "epochs": train_cfg.epochs})
    try:
        result = _fit_and_log(spec, entry, model_cfg, train_cfg, data, run_id, report, stop)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, DLExplorerError) else f"{type(exc).__name__}: {exc}"
        tracking.end_run(run_id, "FAILED", error=message)
        if isinstance(exc, DLExplorerError):
            raise
        raise TrainingError(f"Training failed: {message}") from exc
    return result


def _fit_and_log(spec, entry, model_cfg, train_cfg, data, run_id, report, stop) -> TrainingResult:
    from dl_core import evaluation, tracking
    from dl_core.backend import keras
    from dl_core.predictor import Predictor

    k = keras()
    k.utils.set_random_seed(train_cfg.seed)
    activation, loss, metrics = _head(spec.task)
    model = entry.build(model_cfg, (data.n_features,), data.target.n_outputs, activation)
    model.compile(optimizer=_optimizer(k, train_cfg), loss=loss, metrics=metrics)
    callbacks = [make_progress_callback(report, stop, run_id, train_cfg.epochs)]
    if train_cfg.patience > 0:
        callbacks.append(k.callbacks.EarlyStopping(
            monitor="val_loss", patience=train_cfg.patience, restore_best_weights=True,
        ))
    class_weight = None
    if train_cfg.class_weight == "balanced" and spec.task != "regression":
        class_weight = _class_weights(data.y_train, len(data.target.classes))
    history = model.fit(
        data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
        epochs=train_cfg.epochs, batch_size=train_cfg.batch_size, class_weight=class_weight,
        callbacks=callbacks, verbose=0,
    )
    hist = {key: [float(v) for v in values] for key, values in history.history.items()}
    status = "KILLED" if stop.is_set() else "FINISHED"
    report({"type": "evaluating"})

    raw = np.asarray(model.predict(data.x_test, verbose=0, batch_size=1024), dtype=np.float64)
    if spec.task == "regression":
        y_true = data.target.decode_regression(data.y_test)
        y_pred = data.target.decode_regression(raw)
        eval_report = evaluation.regression_report_data(y_true, y_pred)
    else:
        if spec.task == "binary":
            proba = np.column_stack([1 - raw.reshape(-1), raw.reshape(-1)])
        else:  # float32 softmax rows drift from 1 by rounding; sklearn checks the sum
            proba = raw / raw.sum(axis=1, keepdims=True)
        eval_report = evaluation.classification_report_data(
            data.y_test, proba, list(data.target.classes)
        )
    test_metrics = evaluation.report_metrics(eval_report)
    epochs_run = len(hist.get("loss", []))
    best = {}
    if hist.get("val_loss"):
        best_epoch = int(np.argmin(hist["val_loss"]))
        best = {"best_epoch": best_epoch + 1, "best_val_loss": hist["val_loss"][best_epoch]}
    tracking.log_metrics(run_id, {f"test_{k_}": v for k_, v in test_metrics.items()})
    tracking.log_metrics(run_id, {"epochs_run": epochs_run, **best})

    meta = {
        "task": spec.task, "arch": spec.arch, "target": spec.target, "data_kind": "tabular",
        "feature_columns": data.feature_columns, "target_encoding": data.target.to_dict(),
        "dropped_columns": data.dropped, "dataset": spec.dataset_name,
    }
    predictor = Predictor(model, data.preprocessor, meta)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        files = predictor.save(tmp_path / "model")
        example = data.raw_test[data.feature_columns].head(5)
        tracking.log_model(run_id, files, input_example_df=example,
                           predictions_df=predictor.predict(example))
        images = evaluation.save_report_images(eval_report, tmp_path / "plots")
        tracking.log_files(run_id, images, "plots")
    tracking.log_dict(run_id, eval_report, "evaluation/report.json")
    if spec.task != "regression":
        # Test-split probabilities let the Evaluate page move the decision threshold live.
        tracking.log_dict(run_id, {"classes": list(data.target.classes),
                                   "y_true": data.y_test.tolist(),
                                   "proba": np.round(proba, 6).tolist()},
                          "evaluation/predictions.json")
    tracking.log_dict(run_id, hist, "evaluation/history.json")
    tracking.log_dict(run_id, data.profile.to_dict(), "data/profile.json")
    tracking.log_dict(run_id, {"dropped_columns": data.dropped, "notes": data.notes,
                               "feature_columns": data.feature_columns}, "data/features.json")
    tracking.end_run(run_id, status)
    report({"type": "finished", "run_id": run_id, "status": status, "metrics": test_metrics})
    return TrainingResult(run_id, status, spec.task, test_metrics, hist, epochs_run)


def suggest_train_config(n_rows: int, task: str, y=None) -> dict[str, Any]:
    """Training defaults that suit the data: batch size by size, class weights by imbalance.

    Args:
        n_rows: Rows in the table.
        task: The task.
        y: The target column (to measure class imbalance).
    """
    out: dict[str, Any] = {"batch_size": 32 if n_rows < 5_000 else 128 if n_rows < 100_000 else 512}
    if n_rows > 50_000:
        out["epochs"], out["patience"] = 60, 8
    if task != "regression" and y is not None:
        counts = y.value_counts()
        if len(counts) > 1 and counts.max() / max(counts.min(), 1) >= 4:
            out["class_weight"] = "balanced"
    return out
