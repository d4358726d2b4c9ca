"""``python -m dl_core``: the app's operations without a browser.

Prints one JSON line last, so scripts can read the outcome; bad input exits non-zero with a
one-line message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dl_core.errors import ConfigError, DLExplorerError


def _parse_pairs(items: Sequence[str], flag: str = "--set", key: str = "key") -> dict[str, str]:
    """``["a=1", "b=x"]`` as ``{"a": "1", "b": "x"}``; a malformed item names its flag."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{flag} expects {key}=value; got {item!r}.")
        out[name.strip()] = value.strip()
    return out


def _split_options(arch: str, options: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Route ``--set`` keys to the model config or the training config."""
    import dataclasses

    from dl_core.models import get_model
    from dl_core.training import TrainConfig

    model_fields = {f.name for f in dataclasses.fields(get_model(arch).config_cls)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - model_fields - train_fields)
    if unknown:
        raise ConfigError(
            f"Unknown option(s) {unknown} for --arch {arch}; model options: "
            f"{sorted(model_fields)}; training options: {sorted(train_fields)}."
        )
    model = {k: v for k, v in options.items() if k in model_fields}
    train = {k: v for k, v in options.items() if k in train_fields}
    return model, train


def _data_kind(args: argparse.Namespace, df: Any) -> str:
    """The data kind from the flags, else from the architecture, else detected from the data."""
    from dl_core.data.sequences import detect_data_kind
    from dl_core.models import get_model

    if args.kind:
        return args.kind
    if args.time:
        return "timeseries"
    detected = detect_data_kind(df, args.target)
    if args.arch is None:
        return detected
    kinds = get_model(args.arch).kinds
    if detected in kinds:
        return detected
    if len(kinds) == 1:
        return next(iter(kinds))
    return "sequence" if "sequence" in kinds else sorted(kinds)[0]


def _job_spec(args: argparse.Namespace):
    """The job a ``train`` or ``sweep`` command describes (data read and checked here)."""
    from dl_core.data.loading import read_csv
    from dl_core.data.task import detect_task
    from dl_core.jobspec import build_job_spec
    from dl_core.kinds import get_kind
    from dl_core.training import suggest_train_config

    path = Path(args.data)
    if not path.is_file():
        raise ConfigError(f"No such file: {path}.")
    if _is_generator(args.arch):
        return _generator_spec(args, path)
    if not args.target:
        raise ConfigError("--target is required: name the column to predict (only generators, "
                          "--arch tvae, ctgan or copula, train without one).")
    df = read_csv(path)
    if args.target not in df.columns:
        from dl_core.data.task import check_target

        check_target(df, args.target, "regression")  # raises the helpful "no such column"
    kind = get_kind(_data_kind(args, df))
    arch = args.arch or kind.default_arch
    options = kind.complete_options(df, {
        "image_shape": args.image_shape, "time_column": args.time, "lookback": args.lookback,
        "horizon": args.horizon, "season_length": args.season_length,
        "sequence_id": args.sequence_id, "step_column": args.step_column,
    })
    task = kind.fixed_task or args.task or detect_task(df[args.target])
    model_opts, train_opts = _split_options(arch, _parse_pairs(args.set))
    if args.epochs is not None:
        train_opts["epochs"] = str(args.epochs)
    # The same data-aware defaults the Model page starts from, so both train alike.
    train_opts = {**suggest_train_config(len(df), task), **train_opts}
    return build_job_spec(
        dataset_path=str(path.resolve()), dataset_name=path.stem, target=args.target, task=task,
        arch=arch, data_kind=kind.name, options=options, model_config=model_opts,
        train_config=train_opts, experiment=args.experiment, exclude=tuple(args.exclude or ()),
        gpus=args.gpus,
    )


def _is_generator(arch: str | None) -> bool:
    from dl_core.models import get_model

    return arch is not None and get_model(arch).family == "generative"


def _generator_spec(args: argparse.Namespace, path: Path):
    """The job of ``train --arch tvae|ctgan|copula``: a table, the target optional."""
    import dataclasses

    from dl_core.data.loading import read_csv
    from dl_core.jobspec import build_job_spec
    from dl_core.models import get_model
    from dl_core.training import get_trainer
    from dl_core.training.generative import GENERATION_TASK

    entry = get_model(args.arch)
    df = read_csv(path)
    if args.target and args.target not in df.columns:
        raise ConfigError(f"There is no column '{args.target}' in {path.name}; columns: "
                          f"{', '.join(map(str, df.columns[:30]))}.")
    options = _parse_pairs(args.set)
    model_fields = {f.name for f in dataclasses.fields(entry.config_cls)}
    train_fields = {f.name for f in dataclasses.fields(get_trainer(entry.family).config_cls)}
    unknown = sorted(set(options) - model_fields - train_fields)
    if unknown:
        raise ConfigError(
            f"Unknown option(s) {unknown} for --arch {args.arch}; model options: "
            f"{sorted(model_fields)}; training options: {sorted(train_fields)}."
        )
    train_opts = {k: v for k, v in options.items() if k in train_fields}
    if args.epochs is not None:
        train_opts["epochs"] = str(args.epochs)
    # A generator learns one kind: tables (tvae, ctgan, copula) or pixel CSVs (image_kde...).
    kind = args.kind or ("tabular" if "tabular" in entry.kinds else sorted(entry.kinds)[0])
    return build_job_spec(
        dataset_path=str(path.resolve()), dataset_name=path.stem, target=args.target or "",
        task=GENERATION_TASK, arch=args.arch, data_kind=kind,
        options={"image_shape": args.image_shape} if kind == "image" else None,
        model_config={k: v for k, v in options.items() if k in model_fields},
        train_config=train_opts, experiment=args.experiment, exclude=tuple(args.exclude or ()),
        gpus=args.gpus,
    )


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from dl_core.jobs import executor_name

    if executor_name() == "ray":  # DLX_EXECUTOR=ray: the job is a task on the Ray cluster
        from dl_core.ray_jobs import run_training
    else:
        from dl_core.training import run_training
    spec = _job_spec(args)

    def report(event: dict[str, Any]) -> None:
        if event["type"] == "epoch" and not args.quiet:
            logs = " ".join(f"{k}={v:.4g}" for k, v in event["logs"].items())
            print(f"epoch {event['epoch']}/{event['epochs']} {logs}", file=sys.stderr)

    result = run_training(spec, report=report)
    out = {"run_id": result.run_id, "task": result.task, "status": result.status,
           "arch": spec.arch, "data_kind": spec.data_kind, "metrics": result.metrics}
    if result.baselines:  # forecasts are set beside naive baselines
        out["baselines"] = result.baselines
    if "fit_seconds" in result.metrics:  # generators
        out["fit_seconds"] = result.metrics["fit_seconds"]
    return out


def cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    from typing import get_type_hints

    from dl_core.compare import check_selection_metric
    from dl_core.jobs import executor_name
    from dl_core.models import get_model
    from dl_core.sweeps import SweepSpec, parse_axis, run_sweep
    from dl_core.training import TrainConfig

    runner = None
    if executor_name() == "ray":  # DLX_EXECUTOR=ray: the trials are tasks on the Ray cluster
        from dl_core.ray_jobs import RayTrials

        runner = RayTrials()
    if _is_generator(args.arch):
        raise ConfigError(f"Sweeps tune supervised models; --arch {args.arch} is a generator "
                          "(train it with `train`, compare runs on the Runs page).")
    check_selection_metric(args.metric)  # before reading the data: a test metric is refused
    base = _job_spec(args)
    hints = {**get_type_hints(TrainConfig), **get_type_hints(get_model(base.arch).config_cls)}
    space: dict[str, Any] = {}
    for item in [*args.grid, *args.range]:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--grid/--range expect key=values; got {item!r}.")
        key = key.strip()
        if key in space:
            raise ConfigError(f"{key} is given twice; vary each hyperparameter once.")
        tuple_field = "tuple" in str(hints.get(key, ""))
        if item in args.range and ":" not in value:
            raise ConfigError(f"--range expects key=low:high:count[:log]; got {item!r}.")
        space[key] = parse_axis(value, tuple_field=tuple_field)
    spec = SweepSpec(base=base, space=space, method=args.method, budget=args.budget,
                     metric=args.metric, seed=args.seed, name=args.name)

    def report(event: dict[str, Any]) -> None:
        if args.quiet:
            return
        if event["type"] == "trial_started":
            values = " ".join(f"{k}={v}" for k, v in event["params"].items())
            print(f"trial {event['trial']}/{event['n_trials']} {values}", file=sys.stderr)
        elif event["type"] == "trial_finished":
            best = event.get("best") or {}
            print(f"trial {event['trial']} {event['status']} {args.metric}={event['value']} "
                  f"(best so far: trial {best.get('trial')}, {best.get('value')})", file=sys.stderr)

    result = run_sweep(spec, report=report, runner=runner)
    return {"run_id": result.run_id, "status": result.status, "metric": args.metric,
            "best": result.best, "trials": result.trials,
            # Reported only: the best trial was chosen on the validation metric above.
            "best_trial_test": result.best_test}


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    from dl_core import tracking
    from dl_core.compare import check_selection_metric, find_best_run, prediction_table
    from dl_core.data.loading import read_csv
    from dl_core.export import write_safe_csv

    if args.metric is not None:
        check_selection_metric(args.metric)
    path = Path(args.data)
    if not path.is_file():
        raise ConfigError(f"No such file: {path}.")
    run_id = args.run
    if run_id.startswith("best:"):
        run_id = find_best_run(run_id.removeprefix("best:"), args.metric or "best_val_loss")
    tracking.get_run(run_id)  # a clear "no such run" before loading anything
    df = read_csv(path)
    predictor = tracking.load_predictor(run_id)
    predictions = predictor.predict(df, threshold=args.threshold)  # None: the run's saved one
    out = Path(args.out)
    write_safe_csv(prediction_table(df, predictions), out)  # input text cells may be formulas
    for note in predictor.notes:
        print(f"note: {note}", file=sys.stderr)
    out_json = {"run_id": run_id, "rows": len(predictions), "out": str(out.resolve()),
                "columns": list(predictions.columns), "notes": predictor.notes}
    if predictor.meta.get("task") == "binary":
        out_json["threshold"] = predictor.threshold if args.threshold is None else args.threshold
    return out_json


#: The figures ``generate`` prints for a table generator and for an image generator (fidelity
#: never without privacy).
TABLE_FIGURES = ("quality", "column_shapes", "column_pairs", "diagnostic", "copies",
                 "dcr_closer_to_train")
IMAGE_FIGURES = ("agreement", "frechet_distance", "frechet_floor", "frechet_ratio", "precision",
                 "recall", "copies", "memorisation_ratio")


def cmd_generate(args: argparse.Namespace) -> dict[str, Any]:
    from dl_core.export import to_safe_csv
    from dl_core.generation import image_export
    from dl_core.generation.generate import generate, generator_run

    out = Path(args.out)
    if not out.parent.is_dir():
        raise ConfigError(f"No such folder for --out: {out.parent}.")
    images = generator_run(args.run).data.tags.get("data_kind") == "image"
    suffix = out.suffix.lower()
    if images and suffix not in image_export.SUFFIXES:
        raise ConfigError(f"--out for images ends in .csv (pixel CSV), .png (grid) or .zip (one "
                          f"PNG per image); got {out.name!r}.")
    if not images and suffix in (".png", ".zip"):
        raise ConfigError(f"Run {args.run} generates table rows: --out is a CSV file; got "
                          f"{out.name!r}.")
    rows, report = generate(args.run, args.n, seed=args.seed,
                            condition=_parse_pairs(args.condition, "--condition", "column"))
    if images:
        image_export.write_images(rows, image_export.run_table(args.run), out)
    else:
        out.write_bytes(to_safe_csv(rows))
    for note in report["notes"]:
        print(f"note: {note}", file=sys.stderr)
    figures = IMAGE_FIGURES if images else TABLE_FIGURES
    result = {"run_id": report["run_id"], "source_run_id": args.run, "rows": len(rows),
              "out": str(out.resolve()), **{k: report.get(k) for k in figures}}
    if report.get("target") and not images:
        result["tstr_ratio"] = report["tstr_ratio"]
    return result


def _add_job_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments describing one training job, shared by ``train`` and ``sweep``."""
    from dl_core.kinds import kind_names

    p.add_argument("data", help="Path of the CSV file.")
    p.add_argument("--target", help="Column to predict (generators: optional; the column "
                   "sampling is conditioned on and the utility figure predicts).")
    p.add_argument("--arch",
                   help="Architecture: fnn, cnn, rnn, gru, lstm or cnn1d (default: fnn for "
                   "tables, cnn for images, lstm for sequences and time series); generators "
                   "of tables: tvae, ctgan or copula.")
    p.add_argument("--kind", choices=kind_names(),
                   help="Data kind (default: detected from the data and --arch).")
    p.add_argument("--image-shape", metavar="HxWxC",
                   help="Image shape of a pixel CSV, e.g. 28x28x1 (default: inferred).")
    p.add_argument("--time", metavar="COLUMN",
                   help="Time column: forecast --target from its past values.")
    p.add_argument("--lookback", type=int, default=24, help="Forecasting: past steps seen.")
    p.add_argument("--horizon", type=int, default=1, help="Forecasting: steps predicted.")
    p.add_argument("--season-length", type=int, default=0,
                   help="Forecasting: season of the seasonal baseline (0 = detect).")
    p.add_argument("--sequence-id", metavar="COLUMN",
                   help="Long-format sequences: the sequence id column.")
    p.add_argument("--step-column", metavar="COLUMN",
                   help="Long-format sequences: the step (order) column.")
    p.add_argument("--task", choices=("binary", "multiclass", "regression"),
                   help="Override the detected task.")
    p.add_argument("--epochs", type=int, help="Maximum epochs.")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="Any model or training option, e.g. --set hidden_units=128,64.")
    p.add_argument("--exclude", action="append", metavar="COLUMN",
                   help="A column not to use as a feature (repeatable).")
    p.add_argument("--experiment", help="MLflow experiment (default: the file's name).")
    p.add_argument("--gpus", type=int, default=None,
                   help="GPUs the job asks for (DLX_EXECUTOR=ray reserves them; more than one "
                        "trains on them together). Default: one where there is a GPU, else 0.")
    p.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dl_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="Train a model on a CSV and log it to MLflow.")
    _add_job_arguments(train)
    train.set_defaults(func=cmd_train)

    sweep = sub.add_parser("sweep", help="Run a hyperparameter sweep (trials are child runs).")
    _add_job_arguments(sweep)
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                       help="Values to try, e.g. --grid learning_rate=0.001,0.01 "
                            "(tuples with ';': --grid hidden_units='64,32;128').")
    sweep.add_argument("--range", action="append", default=[], metavar="KEY=LOW:HIGH:COUNT[:log]",
                       help="A numeric range, e.g. --range learning_rate=1e-4:1e-1:4:log.")
    sweep.add_argument("--method", choices=("grid", "random"), default="grid")
    sweep.add_argument("--budget", type=int, help="Most trials (required for random search).")
    sweep.add_argument("--metric", default="best_val_loss",
                       help="What 'best' means, on validation data: best_val_loss (default) or "
                            "a val_* metric, e.g. val_accuracy, val_roc_auc, val_rmse. Test "
                            "metrics are reported for the best trial, never optimised.")
    sweep.add_argument("--seed", type=int, default=0, help="Seed of the random search.")
    sweep.add_argument("--name", help="Name of the sweep's parent run.")
    sweep.set_defaults(func=cmd_sweep)

    predict = sub.add_parser("predict", help="Predict a CSV with a logged model.")
    predict.add_argument("run", metavar="RUN_ID",
                         help="A run id, or best:EXPERIMENT for the best run of an experiment.")
    predict.add_argument("data", help="CSV with the model's feature columns (target optional).")
    predict.add_argument("--out", default="predictions.csv", help="Where to write (CSV).")
    predict.add_argument("--threshold", type=float, default=None,
                         help="Binary classifiers: predict the positive class at or above this "
                              "(default: the threshold saved with the run, chosen on validation "
                              "data on the Evaluate page; 0.5 until one is saved).")
    predict.add_argument("--metric", default=None,
                         help="With best:EXPERIMENT, the validation metric that picks the best "
                              "run: best_val_loss (default) or a val_* metric.")
    predict.set_defaults(func=cmd_predict)

    generate = sub.add_parser("generate", help="Sample synthetic rows (or images) from a "
                              "generator run.")
    generate.add_argument("run", metavar="RUN_ID", help="A generator's training run id.")
    generate.add_argument("--n", type=int, required=True, help="Rows (images) to generate.")
    generate.add_argument("--condition", action="append", default=[], metavar="COLUMN=VALUE",
                          help="Only rows where a categorical column has this value "
                               "(repeatable); images: LABEL=value for one class (default: labels "
                               "in the training proportions).")
    generate.add_argument("--seed", type=int, default=0, help="Seed of the draw.")
    generate.add_argument("--out", required=True,
                          help="Where to write the rows (CSV); images: .csv (pixel CSV with the "
                               "training columns), .png (a grid) or .zip (one PNG per image).")
    generate.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        out = args.func(args)
    except DLExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(out, default=str))
    return 0
