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


def _parse_sets(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value; got {item!r}.")
        out[key.strip()] = value.strip()
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


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from dl_core.data.loading import read_csv
    from dl_core.data.task import detect_task
    from dl_core.training import JobSpec, run_training

    path = Path(args.data)
    if not path.is_file():
        raise ConfigError(f"No such file: {path}.")
    df = read_csv(path)
    if args.target not in df.columns:
        from dl_core.data.task import check_target

        check_target(df, args.target, "regression")  # raises the helpful "no such column"
    task = args.task or detect_task(df[args.target])
    model_opts, train_opts = _split_options(args.arch, _parse_sets(args.set))
    if args.epochs is not None:
        train_opts["epochs"] = str(args.epochs)
    spec = JobSpec(
        dataset_path=str(path.resolve()), dataset_name=path.stem, target=args.target, task=task,
        arch=args.arch, model_config=model_opts, train_config=train_opts,
        experiment=args.experiment, exclude=tuple(args.exclude or ()),
    )

    def report(event: dict[str, Any]) -> None:
        if event["type"] == "epoch" and not args.quiet:
            logs = " ".join(f"{k}={v:.4g}" for k, v in event["logs"].items())
            print(f"epoch {event['epoch']}/{event['epochs']} {logs}", file=sys.stderr)

    result = run_training(spec, report=report)
    return {"run_id": result.run_id, "task": result.task, "status": result.status,
            "metrics": result.metrics}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dl_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="Train a model on a CSV and log it to MLflow.")
    train.add_argument("data", help="Path of the CSV file.")
    train.add_argument("--target", required=True, help="Column to predict.")
    train.add_argument("--arch", default="fnn", help="Architecture (default: fnn).")
    train.add_argument("--task", choices=("binary", "multiclass", "regression"),
                       help="Override the detected task.")
    train.add_argument("--epochs", type=int, help="Maximum epochs.")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="Any model or training option, e.g. --set hidden_units=128,64.")
    train.add_argument("--exclude", action="append", metavar="COLUMN",
                       help="A column not to use as a feature (repeatable).")
    train.add_argument("--experiment", help="MLflow experiment (default: the file's name).")
    train.add_argument("--quiet", action="store_true", help="No per-epoch lines on stderr.")
    train.set_defaults(func=cmd_train)
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
