"""The one way to build a :class:`~dl_core.training.JobSpec`: the CLI, the Model page, sweeps
and "re-run this config" all call :func:`build_job_spec`, so none of them can drop the data
kind's options (a sweep's trials once lost them and failed on every image, sequence and time
series). :func:`job_spec_from_params` reads a spec back from a run's logged params.
"""

from __future__ import annotations

from typing import Any

from dl_core.errors import ConfigError
from dl_core.kinds import get_kind, kind_names
from dl_core.training import JobSpec

_INT_OPTIONS = ("lookback", "horizon", "season_length")


def _typed_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options of ``kind`` from ``options`` (others dropped: leftovers of another kind),
    typed as JobSpec wants them; None and empty values mean "the default"."""
    from dl_core.data.images import parse_image_shape

    # Each data kind names the JobSpec fields it reads (``DataKind.options``).
    known = {name for k in kind_names() for name in get_kind(k).options}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"Unknown data option(s) {unknown}; known options: {sorted(known)}.")
    out: dict[str, Any] = {}
    for name in get_kind(kind).options:
        value = options.get(name)
        if value is None or value == "":
            continue
        if name == "image_shape":
            value = parse_image_shape(value)
        elif name in _INT_OPTIONS:
            try:
                value = int(float(value))
            except (TypeError, ValueError):
                raise ConfigError(f"{name} expects a whole number; got {value!r}.") from None
        else:
            value = str(value)
        out[name] = value
    return out


def build_job_spec(
    *, dataset_path: str, dataset_name: str, target: str, task: str | None, arch: str,
    data_kind: str | None = "tabular", options: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None, train_config: dict[str, Any] | None = None,
    exclude: tuple[str, ...] | list[str] = (), experiment: str | None = None,
    run_name: str | None = None, parent_run_id: str | None = None, gpus: int | None = None,
) -> JobSpec:
    """A training job from the choices a person made, whoever collected them.

    Args:
        dataset_path: The saved table (parquet in the app's store, or a CSV path).
        dataset_name: Its display name (the default experiment).
        target: The column to predict (the series to forecast).
        task: ``binary``, ``multiclass`` or ``regression``; forecasting is always regression.
        arch: A registered architecture.
        data_kind: ``tabular``, ``image``, ``sequence`` or ``timeseries`` (None: tabular).
        options: The kind's options (``image_shape``, ``time_column``, ``lookback``,
            ``horizon``, ``season_length``, ``sequence_id``, ``step_column``); options of other
            kinds are ignored, so a session that switched kinds can pass all it has.
        model_config: The architecture's config fields.
        train_config: :class:`~dl_core.training.TrainConfig` fields.
        exclude: Columns left out of the features.
        experiment: MLflow experiment (default: the dataset's name).
        run_name: The run's name (default: a unique one, see ``tracking.unique_run_name``).
        parent_run_id: The sweep a trial belongs to.
        gpus: GPUs the job asks for (None: the machine's default; see ``JobSpec.gpus``).

    Raises:
        ConfigError: on an unknown data kind or option, or options of the wrong type.
    """
    kind = data_kind or "tabular"
    task = get_kind(kind).fixed_task or task  # ConfigError for an unknown kind
    return JobSpec(
        dataset_path=str(dataset_path), dataset_name=dataset_name, target=target,
        task=task or "regression", arch=arch, model_config=dict(model_config or {}),
        train_config=dict(train_config or {}), exclude=tuple(exclude or ()),
        experiment=experiment, run_name=run_name, parent_run_id=parent_run_id,
        data_kind=kind, gpus=gpus, **_typed_options(kind, dict(options or {})),
    )


def kind_options(spec: JobSpec) -> dict[str, Any]:
    """The data-kind options of ``spec`` (what :func:`build_job_spec` took as ``options``)."""
    return {name: getattr(spec, name) for name in get_kind(spec.data_kind).options}


def job_spec_from_params(params: dict[str, str], *, dataset_path: str, dataset_name: str,
                         experiment: str | None = None) -> JobSpec:
    """The job a run was trained with, read back from its logged MLflow params (strings).

    Every param the run logged is kept: the configs (unknown keys dropped by each config),
    the data kind and its options, the excluded columns.
    """
    import dataclasses

    from dl_core.config import config_from_dict
    from dl_core.models import get_model
    from dl_core.training import get_trainer

    arch = params.get("arch", "fnn")
    entry = get_model(arch)
    model_cfg = config_from_dict(entry.config_cls, params, strict=False)
    # Each family has its own training options (a generator's held-out share, sample size...).
    train_cfg = config_from_dict(get_trainer(entry.family).config_cls, params, strict=False)
    kind = params.get("data_kind") or "tabular"
    options = {k: params[k] for k in get_kind(kind).options if k in params}
    return build_job_spec(
        dataset_path=dataset_path, dataset_name=dataset_name, target=params.get("target", ""),
        task=params.get("task"), arch=arch, data_kind=kind, options=options,
        model_config=dataclasses.asdict(model_cfg), train_config=dataclasses.asdict(train_cfg),
        exclude=[c for c in (params.get("exclude") or "").split(",") if c],
        experiment=experiment,
    )
