"""Training: one job spec in, one MLflow run out; one trainer per model family.

* :mod:`~dl_core.training.spec`: ``JobSpec``, ``TrainConfig``, ``TrainingResult``.
* :mod:`~dl_core.training.runner`: ``run_training`` (what every family shares) and
  ``prepare_data`` (the data kind's split and preprocessing).
* :mod:`~dl_core.training.trainers`: the ``Trainer`` interface and the family registry.
* :mod:`~dl_core.training.supervised`: the supervised family (fit / evaluate / log).
* :mod:`~dl_core.training.generative`: the generative family (fit a synthesizer, sample, report).

Nothing here imports Keras at import time; trainers import it when they fit.
"""

from dl_core.training.callbacks import METRIC_FLUSH_S, make_progress_callback
from dl_core.training.runner import prepare_data, run_training
from dl_core.training.spec import (
    OPTIMIZERS,
    JobSpec,
    Reporter,
    TrainConfig,
    TrainingResult,
    suggest_train_config,
)
from dl_core.training.supervised import SupervisedTrainer, build_optimizer, output_head
from dl_core.training.generative import GenerativeTrainConfig, GenerativeTrainer  # noqa: E402
from dl_core.training.trainers import (
    Trainer,
    TrainingJob,
    get_trainer,
    register_trainer,
    unregister_trainer,
)

__all__ = [
    "METRIC_FLUSH_S", "OPTIMIZERS", "GenerativeTrainConfig", "GenerativeTrainer", "JobSpec",
    "Reporter", "SupervisedTrainer", "TrainConfig",
    "Trainer", "TrainingJob", "TrainingResult", "build_optimizer", "get_trainer",
    "make_progress_callback", "output_head", "prepare_data", "register_trainer",
    "run_training", "suggest_train_config", "unregister_trainer",
]
