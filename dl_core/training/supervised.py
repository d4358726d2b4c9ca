"""The supervised family: a Keras model fitted to a target, early-stopped on validation loss.

Fit (compile with the task's loss, ``fit(x, y)`` with progress and Stop), evaluate (the kept
model on the test split, reported by the data kind) and log (metrics, the model with its
preprocessing as a pyfunc, the report, plots and data notes). Every data kind goes through the
same three steps; what differs by kind is asked of ``dl_core.kinds``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dl_core.training.callbacks import (check_finite_loss, make_progress_callback,
                                        terminate_on_nan, unit_scale)
from dl_core.training.spec import TrainConfig, TrainingResult
from dl_core.training.trainers import Trainer, TrainingJob, register_trainer

#: ``class_weight="auto"`` balances the classes when the training rows' largest class is at
#: least this many times the smallest.
IMBALANCE_RATIO = 4.0
#: The decision threshold a binary model is saved with; a better one is picked on the
#: validation predictions on the Evaluate page (``dl_core.thresholds``).
DEFAULT_THRESHOLD = 0.5


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


def _job_class_weight(job: TrainingJob, data: Any) -> dict[int, float] | None:
    return resolve_class_weight(job.train_cfg.class_weight, job.spec.task, data.y_train,
                                len(data.target.classes or ()))


@dataclass
class Fitted:
    """What :meth:`SupervisedTrainer.fit` hands on: the model and how its fit went."""

    model: Any
    history: dict[str, list[float]]
    #: ``FINISHED``, or ``KILLED`` when Stop ended the fit early.
    status: str

    @property
    def epochs_run(self) -> int:
        return len(self.history.get("loss", []))


@dataclass
class Evaluation:
    """The kept model's test-split figures, and its validation ones (what choices read)."""

    report: dict[str, Any]
    metrics: dict[str, float]
    #: Extra JSON artifacts by path (test and validation predictions, misclassified images...).
    artifacts: dict[str, Any] = field(default_factory=dict)
    val_metrics: dict[str, float | None] = field(default_factory=dict)

    @property
    def baselines(self) -> dict[str, dict[str, float | None]]:
        return self.report.get("baselines", {})


class SupervisedTrainer(Trainer):
    """Today's path for every zoo architecture: fit with a target, evaluate, log."""

    family = "supervised"

    def prepare(self, job: TrainingJob) -> Any:
        from dl_core.kinds import get_kind

        return get_kind(job.spec.data_kind).prepare(job.spec, job.df, job.train_cfg)

    def run_params(self, job: TrainingJob, data: Any) -> dict[str, Any]:
        params = {"class_weight_applied": "balanced" if _job_class_weight(job, data) else "none"}
        if data.split.get("method"):  # what 'auto' resolved to
            params["split_used"] = data.split["method"]
            if data.split["method"] == "time":
                params["split_column"] = str(data.split["column"])
        return params

    def run_tags(self, job: TrainingJob, data: Any) -> dict[str, Any]:
        return {"n_features": data.n_features}

    def train(self, job: TrainingJob, data: Any) -> TrainingResult:
        fitted = self.fit(job, data)
        job.report({"type": "evaluating"})
        evaluation = self.evaluate(job, data, fitted)
        return self.log(job, data, fitted, evaluation)

    def fit(self, job: TrainingJob, data: Any) -> Fitted:
        """Build, compile and fit the entry's model; early stopping restores the best weights."""
        from dl_core.backend import build_lock, distribution_scope, keras

        k, spec, cfg = keras(), job.spec, job.train_cfg
        activation, loss, metrics = output_head(spec.task)
        target_scale = 1.0
        if spec.task == "regression":
            metrics = [*metrics, k.metrics.RootMeanSquaredError(name="rmse")]
            target_scale = float(data.target.std)
        # More than one GPU: the model and its optimizer are mirrored on them (built and
        # compiled in the strategy's scope); fit then splits every batch across them.
        with distribution_scope(spec.gpus):
            with build_lock():  # a summary built meanwhile in the worker must not shift the seed
                k.utils.set_random_seed(cfg.seed)
                model = job.entry.build(job.model_cfg, data.input_shape,
                                        data.target.n_outputs, activation)
            model.compile(optimizer=build_optimizer(k, cfg), loss=loss, metrics=metrics)
        progress = make_progress_callback(job.report, job.stop, job.run_id, cfg.epochs,
                                          target_scale)
        callbacks = [progress, terminate_on_nan()]
        if cfg.patience > 0:
            callbacks.append(k.callbacks.EarlyStopping(
                monitor="val_loss", patience=cfg.patience, restore_best_weights=True,
            ))
        history = model.fit(
            data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
            epochs=cfg.epochs, batch_size=cfg.batch_size,
            class_weight=_job_class_weight(job, data), callbacks=callbacks, verbose=0,
        )
        check_finite_loss(history.history, cfg.learning_rate)
        # Regression errors in the data's units, like the live curves and the test figures.
        kept = slice(0, -1) if progress.dropped_last else slice(None)  # a cut last epoch
        hist = {key: [float(v) * unit_scale(key, target_scale) for v in values[kept]]
                for key, values in history.history.items()}
        return Fitted(model, hist, "KILLED" if job.stop.is_set() else "FINISHED")

    def evaluate(self, job: TrainingJob, data: Any, fitted: Fitted) -> Evaluation:
        """The kept model on the test split, reported as the data kind reports it, and on the
        validation split (best weights when early stopping restored them)."""
        from dl_core.evaluation.reports import report_metrics
        from dl_core.kinds import get_kind

        kind = get_kind(job.spec.data_kind)
        raw = np.asarray(fitted.model.predict(data.x_test, verbose=0, batch_size=1024),
                         dtype=np.float64)
        report, artifacts = kind.evaluate(job.spec, data, raw)
        raw_val = np.asarray(fitted.model.predict(data.x_val, verbose=0, batch_size=1024),
                             dtype=np.float64)
        val_metrics, val_artifacts = kind.validation_figures(job.spec, data, raw_val)
        return Evaluation(report, report_metrics(report), {**artifacts, **val_artifacts},
                          val_metrics)

    def log(self, job: TrainingJob, data: Any, fitted: Fitted,
            evaluation: Evaluation) -> TrainingResult:
        """Metrics, the model (pyfunc with its preprocessing), the report, plots and notes."""
        from dl_core import tracking
        from dl_core.evaluation.png import save_report_images
        from dl_core.predictor import Predictor

        spec, run_id, hist = job.spec, job.run_id, fitted.history
        best = {}
        if hist.get("val_loss"):
            best_epoch = int(np.argmin(hist["val_loss"]))
            best = {"best_epoch": best_epoch + 1, "best_val_loss": hist["val_loss"][best_epoch]}
        tracking.log_metrics(run_id, {f"test_{k_}": v for k_, v in evaluation.metrics.items()})
        tracking.log_metrics(run_id, {f"baseline_{name}_{k_}": v
                                      for name, values in evaluation.baselines.items()
                                      for k_, v in values.items()})
        tracking.log_metrics(run_id, {"epochs_run": fitted.epochs_run, **best})
        # The validation figures choices read. Logged at the last epoch's step after the
        # per-epoch values, so a name Keras also logs per epoch (val_accuracy) reads as this one.
        tracking.log_metrics(run_id, {f"val_{k_}": v for k_, v in evaluation.val_metrics.items()},
                             step=fitted.epochs_run)

        meta = {
            "task": spec.task, "arch": spec.arch, "target": spec.target,
            "data_kind": data.data_kind, "layout": data.layout,
            "feature_columns": data.feature_columns, "target_encoding": data.target.to_dict(),
            "dropped_columns": data.dropped, "dataset": spec.dataset_name,
        }
        if spec.task == "binary":
            meta["threshold"] = DEFAULT_THRESHOLD
        predictor = Predictor(fitted.model, data.preprocessor, meta)
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            files = predictor.save(tmp_path / "model")
            example = predictor.example_rows(data.raw_test)
            tracking.log_model(run_id, files, input_example_df=example,
                               predictions_df=predictor.predict(example))
            images = save_report_images(evaluation.report, tmp_path / "plots")
            tracking.log_files(run_id, images, "plots")
        tracking.log_dict(run_id, evaluation.report, "evaluation/report.json")
        for artifact_file, content in evaluation.artifacts.items():
            tracking.log_dict(run_id, content, artifact_file)
        tracking.log_dict(run_id, hist, "evaluation/history.json")
        tracking.log_dict(run_id, data.profile.to_dict(), "data/profile.json")
        tracking.log_dict(run_id, {"dropped_columns": data.dropped, "notes": data.notes,
                                   "feature_columns": data.feature_columns,
                                   "data_kind": data.data_kind, "layout": data.layout,
                                   "split": data.split},
                          "data/features.json")
        return TrainingResult(run_id, fitted.status, spec.task, evaluation.metrics, hist,
                              fitted.epochs_run, evaluation.baselines, evaluation.val_metrics)


SUPERVISED = register_trainer(SupervisedTrainer())
