"""The data-kind interface and its registry.

A *data kind* (a table, images, sequences, a time series) decides how raw rows become the
network's inputs and how its outputs become a report or predictions. Everything that differs by
kind lives in one :class:`DataKind` object, so training, prediction, the CLI and the pages ask
the kind instead of branching on its name; a new kind is one new module that calls
:func:`register_kind`, with no change anywhere else.

The prepare / evaluate / predict methods are the supervised view of a kind (a target to fit and
to predict); a model family that fits no target (generation) prepares its own data.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dl_core.errors import ConfigError

if TYPE_CHECKING:
    from dl_core.data.preprocessing import PreparedData
    from dl_core.predictor import Predictor
    from dl_core.training import JobSpec, TrainConfig


def class_probabilities(task: str, raw: np.ndarray) -> np.ndarray:
    """A classifier's outputs as ``(n, k)`` probabilities (binary: the sigmoid's two columns).

    Float32 softmax rows drift from summing to 1 by rounding, and scikit-learn checks the sum,
    so multiclass rows are renormalised.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if task == "binary":
        p = raw.reshape(-1)
        return np.column_stack([1.0 - p, p])
    return raw / raw.sum(axis=1, keepdims=True)


def refuse_time_split(kind_name: str, train_cfg: TrainConfig) -> None:
    """Raise :class:`ConfigError` when a kind split at random is asked to split by time."""
    if getattr(train_cfg, "split", "auto") == "time":
        raise ConfigError(
            f"A split by time is for tables; {kind_name} data is split at random. Set "
            "Split to 'random' or 'auto'."
        )


class DataKind(abc.ABC):
    """What differs by data kind: options, preparation, evaluation and prediction.

    Subclasses set the class attributes and implement :meth:`prepare`; the other methods have
    the behaviour of a plain table (one row per sample, one prediction per row).
    """

    #: The kind's key (``JobSpec.data_kind``, ``--kind``, the registry's ``kinds``).
    name: ClassVar[str]
    #: What the UI calls it (the Data page's kind selector).
    title: ClassVar[str]
    #: The architecture trained when none is named (the CLI's ``--arch`` default).
    default_arch: ClassVar[str]
    #: The task this kind always has (forecasting predicts numbers), or None: detected.
    fixed_task: ClassVar[str | None] = None
    #: The ``JobSpec`` fields this kind reads (its options; ``dl_core.jobspec`` types them).
    options: ClassVar[tuple[str, ...]] = ()
    #: The Data page's label of the target selector.
    target_label: ClassVar[str] = "Target column (what to predict)"
    #: Whether the user may leave feature columns out (tables: named columns).
    selectable_features: ClassVar[bool] = False
    #: Whether the Split option (auto, time, random) applies: tables only; a series is always
    #: split in time order, images and sequences at random.
    split_choice: ClassVar[bool] = False

    # -- the job spec ---------------------------------------------------------------------
    def check_spec(self, spec: JobSpec) -> None:
        """Raise :class:`ConfigError` when ``spec`` lacks an option this kind needs."""
        if self.fixed_task and spec.task != self.fixed_task:
            raise ConfigError(
                f"{self.name} data has the task {self.fixed_task!r}; got {spec.task!r}."
            )

    def params(self, spec: JobSpec) -> dict[str, str]:
        """This kind's options worth logging as MLflow params (only those that apply)."""
        return {}

    def complete_options(self, df: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
        """The kind's ``JobSpec`` options with what can be detected from ``df`` filled in.

        Raises:
            ConfigError: when a needed option can neither be read from ``options`` nor detected.
        """
        return dict(options)

    # -- the data page ----------------------------------------------------------------------
    def default_target(self, df: pd.DataFrame) -> str | None:
        """A sensible first target: a column named like one (``guess_target``), else None: the
        user picks."""
        from dl_core.data.task import guess_target

        return guess_target(df)

    def describe_inputs(self, shape: dict[str, Any]) -> str:
        """What the network sees, from ``{"input_shape", "n_outputs"}`` of the prepared data."""
        # After encoding: a column of two categories is two inputs, so this is not the number
        # of feature columns (a newcomer read "11 features" for diabetes' ten as a miscount).
        return f"{input_dims(shape)} network inputs (a categorical column gives one per category)"

    # -- training -------------------------------------------------------------------------
    @abc.abstractmethod
    def prepare(self, spec: JobSpec, df: pd.DataFrame, train_cfg: TrainConfig) -> PreparedData:
        """Split ``df`` (train / validation / test) and fit preprocessing on the training part.

        Raises:
            DataError: when the data does not fit the kind, the target or the options.
        """

    def evaluate(self, spec: JobSpec, data: PreparedData,
                 raw: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        """The test-split report of the network's outputs ``raw``, and extra JSON artifacts
        (``{artifact path: content}``) to log beside it."""
        from dl_core.evaluation import reports

        if spec.task == "regression":
            y_true = data.target.decode_regression(data.y_test)
            return reports.regression_report_data(y_true, data.target.decode_regression(raw)), {}
        proba = class_probabilities(spec.task, raw)
        classes = list(data.target.classes)
        report = reports.classification_report_data(data.y_test, proba, classes)
        # Test-split probabilities let the Evaluate page move the decision threshold live.
        artifacts = {"evaluation/predictions.json": {
            "classes": classes, "y_true": data.y_test.tolist(),
            "proba": np.round(proba, 6).tolist(),
        }}
        return report, artifacts

    def validation_figures(self, spec: JobSpec, data: PreparedData,
                           raw: np.ndarray) -> tuple[dict[str, float | None], dict[str, Any]]:
        """The kept model's validation-split metrics, computed like the test ones, and extra
        artifacts: a classifier's validation predictions (a binary threshold is picked on them,
        never on the test split)."""
        from dl_core.evaluation import metrics
        from dl_core.training import DEFAULT_THRESHOLD

        if spec.task == "regression":
            return metrics.regression_metrics(data.target.decode_regression(data.y_val),
                                              data.target.decode_regression(raw)), {}
        proba = class_probabilities(spec.task, raw)
        classes = list(data.target.classes)
        figures = metrics.classification_metrics(data.y_val, proba, classes, DEFAULT_THRESHOLD)
        preds = {"classes": classes, "y_true": np.asarray(data.y_val).tolist(),
                 "proba": np.round(proba, 6).tolist()}
        return figures, {"evaluation/val_predictions.json": preds}

    # -- prediction -----------------------------------------------------------------------
    def input_columns(self, feature_columns: list[str], layout: dict[str, Any]) -> list[str]:
        """The raw columns a prediction needs."""
        return list(feature_columns)

    def example_rows(self, predictor: Predictor, raw: pd.DataFrame) -> pd.DataFrame:
        """A few raw rows to predict (the logged model's input example)."""
        return raw[predictor.input_columns].head(5)

    def model_inputs(self, predictor: Predictor,
                     df: pd.DataFrame) -> tuple[np.ndarray, pd.Index, dict[str, Any]]:
        """The network's inputs for raw rows, the index of the output rows and extra output
        columns (``{name: values}``) to put before the predictions."""
        x = predictor.preprocessor.transform(df[predictor.feature_columns]).astype(np.float32)
        return x, df.index, {}

    def decode(self, predictor: Predictor, out: np.ndarray, index: pd.Index,
               extra: dict[str, Any], threshold: float) -> pd.DataFrame:
        """The predictions table from the network's outputs: ``prediction`` plus
        ``proba_<class>`` for classifiers (binary: positive at ``proba >= threshold``)."""
        encoding = predictor.target
        result = pd.DataFrame(extra, index=index)
        if encoding.task == "regression":
            result["prediction"] = encoding.decode_regression(out)
            return result
        labels = ((out[:, 1] >= threshold).astype(int) if encoding.task == "binary"
                  else out.argmax(axis=1))
        result["prediction"] = np.asarray(encoding.classes, dtype=object)[labels]
        for i, name in enumerate(encoding.classes):
            result[f"proba_{name}"] = out[:, i].astype(float)
        return result


def input_dims(shape: dict[str, Any]) -> str:
    """The prepared inputs' shape as people write it (``24 × 3``)."""
    return " × ".join(str(d) for d in shape["input_shape"])


_KINDS: dict[str, DataKind] = {}


def register_kind(kind: DataKind) -> DataKind:
    """Make ``kind`` available by its name (to job specs, the model registry, the predictor).

    Returns:
        ``kind``, so a module can write ``TABULAR = register_kind(TabularKind())``.
    """
    _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Forget the kind ``name`` (a plug-in's or a test's); unknown names are ignored."""
    _KINDS.pop(name, None)


def _load_builtin() -> None:
    import dl_core.kinds  # noqa: F401  (importing the package registers the built-in kinds)


def get_kind(name: str) -> DataKind:
    """The registered data kind ``name``.

    Raises:
        ConfigError: if no kind has that name, listing the known ones.
    """
    _load_builtin()
    try:
        return _KINDS[name]
    except KeyError:
        raise ConfigError(f"Unknown data kind {name!r}; expected one of {kind_names()}.") from None


def kind_names() -> list[str]:
    """The registered kinds' names, built-in ones first."""
    _load_builtin()
    return list(_KINDS)
