"""Training: one job spec in, one MLflow run out; one trainer per model family.

* :mod:`~dl_core.training.spec`: ``JobSpec``, ``TrainConfig``, ``TrainingResult``.
* :mod:`~dl_core.training.runner`: ``run_training`` (what every family shares) and
  ``prepare_data`` (the data kind's split and preprocessing).
* :mod:`~dl_core.training.trainers`: the ``Trainer`` interface and the family registry.
* :mod:`~dl_core.training.supervised`: the supervised family (fit / evaluate / log).
* :mod:`~dl_core.training.generative`: the generative family (fit a synthesizer, sample, report).

Nothing here imports Keras at import time; trainers import it when they fit.
"""

from dl_core.training.callbacks import (
    METRIC_FLUSH_S,
    SCALED_METRICS,
    in_data_units,
    make_progress_callback,
)
from dl_core.training.runner import prepare_data, run_training
from dl_core.training.spec import (
    OPTIMIZERS,
    JobSpec,
    Reporter,
    TrainConfig,
    TrainingResult,
    suggest_train_config,
)
from dl_core.training.supervised import (
    DEFAULT_THRESHOLD,
    IMBALANCE_RATIO,
    SupervisedTrainer,
    build_optimizer,
    output_head,
    resolve_class_weight,
)
from dl_core.training.generative import GenerativeTrainConfig, GenerativeTrainer  # noqa: E402
from dl_core.training.trainers import (
    Trainer,
    TrainingJob,
    get_trainer,
    register_trainer,
    unregister_trainer,
)

__all__ = [
    "DEFAULT_THRESHOLD", "GenerativeTrainConfig", "GenerativeTrainer", "IMBALANCE_RATIO",
    "METRIC_FLUSH_S", "OPTIMIZERS", "SCALED_METRICS",
    "JobSpec", "Reporter", "SupervisedTrainer", "TrainConfig", "Trainer", "TrainingJob",
    "TrainingResult", "build_optimizer", "get_trainer", "in_data_units",
    "make_progress_callback", "output_head", "prepare_data", "register_trainer",
    "resolve_class_weight", "run_training", "suggest_train_config", "unregister_trainer",
]
