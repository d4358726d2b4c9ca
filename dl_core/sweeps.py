"""Hyperparameter sweeps: grid or random search, trials run one after another (side by side on
a cluster runner).

A sweep is one MLflow *parent* run (tag ``dlx.kind=sweep``) whose trials are ordinary training
runs logged as its children (``mlflow.parentRunId``), so every trial can be compared, reproduced
and predicted with like any other run. :func:`run_sweep` is what the background worker and the
CLI call; progress leaves through ``report`` and ``stop`` ends every trial still training
(each recorded KILLED with its model) and skips the rest (the parent then ends KILLED).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from dl_core.config import config_from_dict
from dl_core.errors import ConfigError, DLExplorerError
from dl_core.evaluation.metrics import lower_is_better
from dl_core.training import JobSpec, Reporter, TrainConfig, TrainingResult

METHODS = ("grid", "random")
MAX_TRIALS = 500
# What a sweep optimises: a validation figure (the monitored loss at its best epoch, or a val_*
# metric of the kept model). Test figures are reported for the best trial, never optimised.
DEFAULT_METRIC = "best_val_loss"


@dataclass(frozen=True)
class Range:
    """``count`` values from ``low`` to ``high`` (evenly, or evenly in log space)."""

    low: float
    high: float
    count: int = 3
    log: bool = False

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ConfigError(f"A range needs a count of at least 1; got {self.count}.")
        if self.high < self.low:
            raise ConfigError(f"A range needs low <= high; got {self.low} > {self.high}.")
        if self.log and self.low <= 0:
            raise ConfigError(f"A log range needs low > 0; got low={self.low}.")

    def values(self) -> list[float]:
        if self.count == 1:
            return [self.low]
        if self.log:
            a, b = math.log10(self.low), math.log10(self.high)
            return [10 ** (a + (b - a) * i / (self.count - 1)) for i in range(self.count)]
        return [self.low + (self.high - self.low) * i / (self.count - 1) for i in range(self.count)]

    def sample(self, rng: random.Random) -> float:
        if self.log:
            return 10 ** rng.uniform(math.log10(self.low), math.log10(self.high))
        return rng.uniform(self.low, self.high)


Axis = list[Any] | Range


def parse_axis(text: str, *, tuple_field: bool = False) -> Axis:
    """Read one hyperparameter's values as typed in the UI or on the CLI.

    ``"0.001,0.01,0.1"`` is a list; ``"0.0001:0.1:4"`` a range of 4 values and
    ``"0.0001:0.1:4:log"`` the same in log space. For a tuple field (``hidden_units``) the values
    are separated by ``;``: ``"64,32;128,64"``.

    Raises:
        ConfigError: on an empty or malformed value.
    """
    raw = (text or "").strip()
    if not raw:
        raise ConfigError("Give a list of values (0.001,0.01) or a range low:high:count[:log].")
    if ":" in raw and not tuple_field:
        parts = [p.strip() for p in raw.split(":")]
        log = len(parts) == 4 and parts[3].lower() == "log"
        if len(parts) not in (3, 4) or (len(parts) == 4 and not log):
            raise ConfigError(f"A range is low:high:count or low:high:count:log; got {text!r}.")
        try:
            return Range(float(parts[0]), float(parts[1]), int(parts[2]), log)
        except ValueError:
            raise ConfigError(
                f"A range is low:high:count[:log] of numbers; got {text!r}.") from None
    sep = ";" if tuple_field else ","
    values = [v.strip() for v in raw.split(sep) if v.strip()]
    if not values:
        raise ConfigError(f"No values in {text!r}.")
    return values


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: the base job, the values to vary, how to search and how much.

    Args:
        base: The job every trial starts from.
        space: ``{param: list of values | Range}``; params of the architecture's config or of
            :class:`~dl_core.training.TrainConfig`.
        method: ``grid`` (every combination, up to ``budget``) or ``random`` (``budget`` draws).
        budget: Most trials; required for random search.
        metric: What "best" means, on validation data only: ``best_val_loss`` (lower is
            better) or a ``val_*`` metric such as ``val_accuracy`` or ``val_rmse``. A ``test_*``
            metric is refused (:func:`dl_core.compare.check_selection_metric`).
        seed: Seed of the random draws (and of the grid's subset when the budget cuts it).
        name: The parent run's name.
    """

    base: JobSpec
    space: dict[str, Any]
    method: str = "grid"
    budget: int | None = None
    metric: str = DEFAULT_METRIC
    seed: int = 0
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        space = {k: dataclasses.asdict(v) if isinstance(v, Range) else list(v)
                 for k, v in self.space.items()}
        return {"base": self.base.to_dict(), "space": space, "method": self.method,
                "budget": self.budget, "metric": self.metric, "seed": self.seed,
                "name": self.name}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepSpec:
        space = {k: Range(**v) if isinstance(v, dict) else list(v) for k, v in d["space"].items()}
        return cls(base=JobSpec.from_dict(d["base"]), space=space, method=d.get("method", "grid"),
                   budget=d.get("budget"), metric=d.get("metric", DEFAULT_METRIC),
                   seed=int(d.get("seed", 0)), name=d.get("name"))


def _fields(arch: str) -> tuple[type, dict[str, Any], dict[str, Any]]:
    from dl_core.models import get_model

    model_cls = get_model(arch).config_cls
    return model_cls, get_type_hints(model_cls), get_type_hints(TrainConfig)


def _coerce_axis_values(name: str, axis: Axis, hint: Any) -> Axis:
    if isinstance(axis, Range):
        if "tuple" in str(hint) or str(hint) not in ("int", "float", "<class 'int'>",
                                                     "<class 'float'>"):
            raise ConfigError(f"{name} is not a number; give it a list of values, not a range.")
        return axis
    return list(axis)


def trial_params(spec: SweepSpec) -> list[dict[str, Any]]:
    """The trials' param values, in the order they will run; validated against the configs.

    Raises:
        ConfigError: on an unknown param, a value out of range, a bad method or budget, or a
            metric not measured on validation data.
    """
    from dl_core.compare import check_selection_metric

    check_selection_metric(spec.metric)
    if spec.method not in METHODS:
        raise ConfigError(f"Sweep method must be one of {list(METHODS)}; got {spec.method!r}.")
    if not spec.space:
        raise ConfigError("Mark at least one hyperparameter to vary.")
    if spec.budget is not None and spec.budget < 1:
        raise ConfigError(f"The budget must be at least 1 trial; got {spec.budget}.")
    if spec.method == "random" and not spec.budget:
        raise ConfigError("Random search needs a budget (the number of trials).")
    model_cls, model_hints, train_hints = _fields(spec.base.arch)
    hints = {**train_hints, **model_hints}
    unknown = sorted(set(spec.space) - set(hints))
    if unknown:
        raise ConfigError(
            f"Unknown hyperparameter(s) {unknown} for {spec.base.arch}; model options: "
            f"{sorted(model_hints)}; training options: {sorted(train_hints)}."
        )
    space = {k: _coerce_axis_values(k, v, hints[k]) for k, v in spec.space.items()}

    def typed(name: str, value: Any) -> Any:
        if isinstance(value, float) and "int" in str(hints[name]):
            return int(round(value))
        return value

    rng = random.Random(spec.seed)
    if spec.method == "grid":
        axes = [[typed(k, v) for v in (a.values() if isinstance(a, Range) else a)]
                for k, a in space.items()]
        combos = [dict(zip(space, values, strict=True)) for values in itertools.product(*axes)]
        if spec.budget and spec.budget < len(combos):
            combos = [combos[i] for i in sorted(rng.sample(range(len(combos)), spec.budget))]
    else:
        combos = [{k: typed(k, a.sample(rng) if isinstance(a, Range) else rng.choice(a))
                   for k, a in space.items()} for _ in range(spec.budget)]
    if len(combos) > MAX_TRIALS:
        raise ConfigError(
            f"This grid has {len(combos)} trials; the most a sweep runs is {MAX_TRIALS}. "
            "Set a budget or vary fewer values."
        )
    for combo in combos:  # fail before the first trial, not at the 7th
        model_opts, train_opts = split_options(spec.base, combo)
        config_from_dict(model_cls, model_opts)
        config_from_dict(TrainConfig, train_opts)
    return combos


def split_options(base: JobSpec, combo: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The base job's model and training configs with a trial's values put in."""
    _, model_hints, _ = _fields(base.arch)
    model_opts = {**base.model_config, **{k: v for k, v in combo.items() if k in model_hints}}
    train_opts = {**base.train_config, **{k: v for k, v in combo.items() if k not in model_hints}}
    return model_opts, train_opts


def trial_value(result: TrainingResult, metric: str) -> float | None:
    """The validation value of ``metric`` for a finished trial (None if it was not measured).

    ``best_val_<m>``: the best epoch's value of the per-epoch ``val_<m>``. ``val_<m>``: the kept
    model scored on the validation split after training (as the test split is), else the last
    epoch's value (``val_loss``).

    Raises:
        ConfigError: for a metric not measured on validation data.
    """
    from dl_core.compare import check_selection_metric

    metric = check_selection_metric(metric)
    if metric.startswith("best_"):
        series = result.history.get(metric.removeprefix("best_")) or []
        pick = min if lower_is_better(metric) else max
        value = pick(series) if series else None
    else:
        value = result.val_metrics.get(metric.removeprefix("val_"))
        if value is None:
            series = result.history.get(metric) or []
            value = series[-1] if series else None
    return None if value is None or not math.isfinite(float(value)) else float(value)


class TrialRunner:
    """Where a sweep's trials train: here, one after another, when their turn comes.

    :func:`run_sweep` hands every trial's job to :meth:`start` once the parent run exists,
    then asks for each :meth:`result` in trial order, so the parent run records the same
    trials, values and best trial whichever runner trained them. A cluster runner
    (``dl_core.ray_jobs.RayTrials``) starts them all at :meth:`start` and trains them side by
    side.
    """

    #: The ``dlx.executor`` tag of the sweep's parent run.
    executor = "local"

    def start(self, jobs: list[JobSpec], stop: threading.Event) -> None:
        self.jobs, self.stop = jobs, stop

    def result(self, trial: int, relay: Reporter) -> TrainingResult:
        """Trial ``trial``'s (1-based) result; its progress events go to ``relay``.

        Raises:
            DLExplorerError: if the trial failed.
        """
        from dl_core.training import run_training

        return run_training(self.jobs[trial - 1], report=relay, stop=self.stop)

    def after_stop(self, trial: int) -> TrainingResult | None:
        """What trial ``trial`` (1-based), not yet reached when the sweep was stopped, left:
        None here, where it never started. A cluster runner trains trials side by side, so
        one may have left a run (finished, or killed by the stop) the sweep must record.

        Raises:
            DLExplorerError: if the trial failed.
        """
        return None

    def close(self) -> None:
        """Release what the trials still hold (after the last result, a stop or an error)."""


@dataclass
class SweepResult:
    run_id: str
    status: str
    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    #: The best trial's test figures (reported only: the choice read validation data).
    best_test: dict[str, Any] = dataclasses.field(default_factory=dict)


def run_sweep(spec: SweepSpec, report: Reporter | None = None,
              stop: threading.Event | None = None,
              runner: TrialRunner | None = None) -> SweepResult:
    """Run every trial of a sweep as a child run of one parent run.

    Events: ``sweep_started`` (parent run id, trial count), then per trial ``trial_started``,
    its ``epoch`` events, ``trial_finished`` (run id, status, value); finally ``finished``.

    Args:
        spec: The sweep.
        report: Receives the events above.
        stop: When set, every trial still training ends KILLED and the rest are skipped.
        runner: Where the trials train (default: here, one after another).

    Raises:
        ConfigError: if the search space is invalid (before any run is created).
    """
    from dl_core import tracking

    report = report or (lambda event: None)
    stop = stop or threading.Event()
    runner = runner or TrialRunner()
    combos = trial_params(spec)
    base = spec.base
    higher = not lower_is_better(spec.metric)
    params = {"arch": base.arch, "task": base.task, "target": base.target,
              "sweep_method": spec.method, "sweep_budget": spec.budget or len(combos),
              "sweep_metric": spec.metric, "sweep_seed": spec.seed,
              "sweep_space": json.dumps(spec.to_dict()["space"])}
    tags = {tracking.TAG_KIND: "sweep", "task": base.task, "arch": base.arch,
            "dataset": base.dataset_name, "target": base.target,
            tracking.TAG_EXECUTOR: runner.executor}
    parent = tracking.start_run(base.experiment or base.dataset_name, run_name=spec.name,
                                params=params, tags=tags)
    name = tracking.run_name(parent)  # unique in the experiment, so its trials' names are too
    report({"type": "sweep_started", "run_id": parent, "n_trials": len(combos),
            "metric": spec.metric, "higher_is_better": higher, "epochs": 0})
    trials: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    test_figures: dict[int, dict[str, Any]] = {}  # per trial; reported for the best one only
    try:
        jobs = []
        for i, combo in enumerate(combos, start=1):
            model_opts, train_opts = split_options(base, combo)
            jobs.append(dataclasses.replace(base, model_config=model_opts,
                                            train_config=train_opts, parent_run_id=parent,
                                            run_name=f"{name}-trial-{i}"))
        runner.start(jobs, stop)

        def record(i: int, combo: dict[str, Any],
                   outcome: Callable[[], TrainingResult | None]) -> None:
            nonlocal best
            row: dict[str, Any] = {"trial": i, **combo}
            try:
                result = outcome()
                if result is None:  # never started: no run to record
                    return
                value = trial_value(result, spec.metric)
                row.update(run_id=result.run_id, status=result.status, value=value)
                test_figures[i] = dict(result.metrics)
            except DLExplorerError as exc:
                row.update(run_id=None, status="FAILED", value=None, error=str(exc))
            trials.append(row)
            if row["value"] is not None and (
                    best is None or (row["value"] > best["value"]) == higher
                    and row["value"] != best["value"]):
                best = dict(row)
            tracking.log_metrics(parent, {"trial_value": row["value"],
                                          "best_value": best and best["value"]}, step=i)
            report({"type": "trial_finished", **row, "best": best})

        reached = 0
        for i, combo in enumerate(combos, start=1):
            if stop.is_set():
                break
            reached = i
            report({"type": "trial_started", "trial": i, "n_trials": len(combos),
                    "params": combo})

            def relay(event: dict[str, Any], trial: int = i) -> None:
                kind = event.get("type")
                if kind == "started":
                    report({"type": "trial_run", "trial": trial, "run_id": event["run_id"],
                            "epochs": event["epochs"]})
                elif kind in ("epoch", "evaluating"):
                    report({**event, "trial": trial})

            record(i, combo, lambda i=i, relay=relay: runner.result(i, relay))
        # Trials past the stopped one may have trained beside it (a cluster): their runs are
        # the sweep's too.
        for i, combo in enumerate(combos[reached:], start=reached + 1):
            record(i, combo, lambda i=i: runner.after_stop(i))
        stopped = stop.is_set()
        status = "KILLED" if stopped else (
            "FAILED" if trials and all(t["status"] == "FAILED" for t in trials) else "FINISHED")
        summary = {"trials_run": len(trials)}
        best_test: dict[str, Any] = {}
        if best:
            summary[f"best_{spec.metric}" if not spec.metric.startswith("best_")
                    else spec.metric] = best["value"]
            # The chosen trial's test figures: reported, never part of the choice.
            best_test = test_figures.get(best["trial"], {})
            summary.update({f"best_trial_test_{k}": v for k, v in best_test.items()})
            tracking.set_tags(parent, {"best_trial_run_id": best["run_id"],
                                       "best_trial": best["trial"]})
        tracking.log_metrics(parent, summary)
        tracking.log_dict(parent, {"metric": spec.metric, "higher_is_better": higher,
                                   "trials": trials, "best": best,
                                   "best_trial_test": best_test}, "sweep/trials.json")
        error = None
        if status == "FAILED":
            error = trials[-1].get("error")
        tracking.end_run(parent, status, error=error)
    except BaseException as exc:
        tracking.end_run(parent, "FAILED", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        runner.close()
    report({"type": "finished", "run_id": parent, "status": status,
            "metrics": {"best_value": best and best["value"], "trials_run": len(trials)},
            "best_trial_test": best_test})
    return SweepResult(parent, status, trials, best, best_test)
