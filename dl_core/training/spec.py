"""What a training job is: the job spec, the shared training options and the result."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dl_core.config import param, validate_fields
from dl_core.errors import ConfigError

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
    #: A registered data kind (``dl_core.kinds``); the fields below apply to some kinds only.
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
    #: GPUs the job asks for: a cluster executor reserves that many for it, and more than one
    #: trains on them together (``tf.distribute.MirroredStrategy``). None: the machine's
    #: default (TensorFlow's first GPU if there is one; none on Ray unless the cluster has GPUs).
    gpus: int | None = None

    def __post_init__(self) -> None:
        from dl_core.kinds import get_kind

        get_kind(self.data_kind).check_spec(self)  # ConfigError for an unknown kind too
        if self.gpus is not None and (isinstance(self.gpus, bool) or int(self.gpus) != self.gpus
                                      or self.gpus < 0):
            raise ConfigError(f"gpus must be a whole number of at least 0; got {self.gpus!r}.")
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
        from dl_core.kinds import get_kind

        return {"data_kind": self.data_kind, **get_kind(self.data_kind).params(self)}


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
