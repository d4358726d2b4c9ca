"""One trainer per model family, behind one interface, and the registry that picks it.

A registry entry (``dl_core.models.register_model(..., family=...)``) names its family;
:func:`dl_core.training.run_training` does what every family shares (read the data, record the
MLflow run, end it FINISHED / KILLED / FAILED, report progress) and hands the rest to the
family's :class:`Trainer`. A new family (generation: a custom ``train_step``, no target, samples
and a quality report instead of predictions) is a new module with a ``Trainer`` subclass and one
:func:`register_trainer` call; the supervised trainer does not change.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from dl_core.errors import ConfigError
from dl_core.training.spec import JobSpec, Reporter, TrainConfig, TrainingResult

if TYPE_CHECKING:
    from dl_core.models.registry import ModelEntry


@dataclass
class TrainingJob:
    """One job on its way through a trainer: what to train, how, and where to report."""

    spec: JobSpec
    entry: ModelEntry
    model_cfg: Any
    #: An instance of the trainer's ``config_cls``.
    train_cfg: Any
    df: pd.DataFrame
    report: Reporter
    stop: threading.Event
    #: The MLflow run, set once the run is recorded (after :meth:`Trainer.prepare`).
    run_id: str = ""


class Trainer(abc.ABC):
    """Fits one model family: prepare the data, then train, evaluate and log into the run."""

    #: The family's name, as registry entries give it (``family="supervised"``).
    family: ClassVar[str]
    #: The family's training options (a frozen dataclass of ``param`` fields: the UI form, the
    #: CLI's ``--set`` and the MLflow params come from it).
    config_cls: ClassVar[type] = TrainConfig

    @abc.abstractmethod
    def prepare(self, job: TrainingJob) -> Any:
        """The data ready to fit. Runs before the MLflow run exists, so bad data records none.

        Raises:
            DataError: when the data does not fit the model, its kind or the options.
        """

    def run_params(self, job: TrainingJob, data: Any) -> dict[str, Any]:
        """Params to log besides the spec's and the configs' (e.g. what 'auto' resolved to)."""
        return {}

    def moot_params(self, job: TrainingJob) -> set[str]:
        """Training-config fields this job does not use, left out of the logged params."""
        return set()

    def run_tags(self, job: TrainingJob, data: Any) -> dict[str, Any]:
        """Tags to set besides the shared ones (dataset, arch, task, rows...)."""
        return {}

    def epochs(self, job: TrainingJob) -> int:
        """The most epochs the job will run (the ``started`` event's progress scale)."""
        return int(getattr(job.train_cfg, "epochs", 0))

    @abc.abstractmethod
    def train(self, job: TrainingJob, data: Any) -> TrainingResult:
        """Fit, evaluate and log into ``job.run_id``; the caller ends the run.

        Honours ``job.stop`` (ending with status ``KILLED`` and the model so far) and reports
        progress through ``job.report`` (``epoch`` and ``evaluating`` events).
        """


_TRAINERS: dict[str, Trainer] = {}


def register_trainer(trainer: Trainer) -> Trainer:
    """Make ``trainer`` the trainer of registry entries with ``family=trainer.family``."""
    _TRAINERS[trainer.family] = trainer
    return trainer


def unregister_trainer(family: str) -> None:
    """Forget the trainer of ``family`` (a plug-in's or a test's); unknown names are ignored."""
    _TRAINERS.pop(family, None)


def get_trainer(family: str) -> Trainer:
    """The trainer of model family ``family``.

    Raises:
        ConfigError: if no trainer is registered for it.
    """
    import dl_core.training  # noqa: F401  (importing the package registers the built-in ones)

    try:
        return _TRAINERS[family]
    except KeyError:
        raise ConfigError(
            f"No trainer for the model family {family!r}; known families: {sorted(_TRAINERS)}."
        ) from None
