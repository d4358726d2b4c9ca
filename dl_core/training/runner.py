"""``run_training``: one job end to end, whatever the model family, recorded as an MLflow run.

What the background worker, the CLI, sweeps and the benchmarks all call, so a run from the
browser and a run from the shell are the same run. Progress leaves through ``report`` (a callable
taking one JSON-able dict per event); ``stop`` is checked at every batch.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from dl_core.config import config_from_dict, to_params
from dl_core.errors import ConfigError, DLExplorerError, TrainingError
from dl_core.training.spec import JobSpec, Reporter, TrainConfig, TrainingResult
from dl_core.training.trainers import TrainingJob, get_trainer


def prepare_data(spec: JobSpec, df: Any, train_cfg: TrainConfig) -> Any:
    """Split and preprocess ``df`` as its data kind does (``dl_core.kinds``).

    Returns:
        A :class:`dl_core.data.preprocessing.PreparedData`.

    Raises:
        DataError: when the data does not fit the kind, the target or the options.
    """
    from dl_core.kinds import get_kind

    return get_kind(spec.data_kind).prepare(spec, df, train_cfg)


def run_training(
    spec: JobSpec, report: Reporter | None = None, stop: threading.Event | None = None,
    tags: dict[str, Any] | None = None,
) -> TrainingResult:
    """Run one training job end to end and record it as an MLflow run.

    The architecture's registry entry names its family; that family's trainer
    (:mod:`dl_core.training.trainers`) prepares the data and fits, evaluates and logs.

    Args:
        spec: What to train on and how.
        report: Receives progress events (``started``, ``epoch``, ``evaluating``, ``finished``).
        stop: When set, training stops after the current batch; the run ends KILLED with the
            model trained so far, evaluated and logged.
        tags: More tags for the run (the executor it ran on: ``dlx.executor``).

    Returns:
        The run id, final status, test metrics and per-epoch history.

    Raises:
        DLExplorerError: for bad data or configs (the run, if created, is marked FAILED).
    """
    from dl_core import tracking
    from dl_core.data.storage import content_hash, load_dataset
    from dl_core.models import get_model, list_models

    report = report or (lambda event: None)
    stop = stop or threading.Event()
    entry = get_model(spec.arch)
    if spec.data_kind not in entry.kinds:
        fitting = [e.name for e in list_models(spec.data_kind, family=entry.family)]
        raise ConfigError(
            f"Architecture {spec.arch!r} is for {sorted(entry.kinds)} data, not "
            f"{spec.data_kind!r}; choose one of {fitting}."
        )
    trainer = get_trainer(entry.family)
    model_cfg = config_from_dict(entry.config_cls, spec.model_config)
    train_cfg = config_from_dict(trainer.config_cls, spec.train_config)
    df = load_dataset(spec.dataset_path)
    job = TrainingJob(spec, entry, model_cfg, train_cfg, df, report, stop)

    data = trainer.prepare(job)
    moot = trainer.moot_params(job)
    params = {
        "arch": spec.arch, "task": spec.task, "target": spec.target,
        "exclude": ",".join(spec.exclude), **spec.data_params(),
        **to_params(model_cfg),
        **{k: v for k, v in to_params(train_cfg).items() if k not in moot},
        **trainer.run_params(job, data),
        **({"gpus": spec.gpus} if spec.gpus is not None else {}),
    }
    tags = {
        tracking.TAG_KIND: "training", "task": spec.task, "arch": spec.arch,
        "family": entry.family, "dataset": spec.dataset_name, "dataset_hash": content_hash(df),
        "rows": len(df), "columns": df.shape[1], "target": spec.target,
        "data_kind": spec.data_kind, **trainer.run_tags(job, data), **(tags or {}),
    }
    job.run_id = tracking.start_run(
        spec.experiment or spec.dataset_name, run_name=spec.run_name, params=params, tags=tags,
        parent_run_id=spec.parent_run_id,
    )
    report({"type": "started", "run_id": job.run_id, "epochs": trainer.epochs(job)})
    try:
        result = trainer.train(job, data)
        tracking.end_run(job.run_id, result.status)
    except KeyboardInterrupt:
        tracking.end_run(job.run_id, "KILLED", error="Interrupted (Ctrl-C).")
        raise
    except BaseException as exc:
        # A full disk, a read-only mlruns/ or a tracking server gone: said as such.
        error = exc if isinstance(exc, DLExplorerError) else tracking.store_error(exc)
        message = str(error) if error is not None else f"{type(exc).__name__}: {exc}"
        try:
            tracking.end_run(job.run_id, "FAILED", error=message, details=traceback.format_exc())
        except Exception:
            if error is None:  # the store failed too: say what failed first
                raise
        if error is exc:
            raise
        if error is not None:
            raise error from exc
        raise TrainingError(f"Training failed: {message}") from exc
    report({"type": "finished", "run_id": job.run_id, "status": result.status,
            "metrics": result.metrics, "baselines": result.baselines})
    return result
