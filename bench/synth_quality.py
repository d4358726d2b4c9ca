"""How good are our synthetic rows? Fidelity, utility and privacy per generator and table.

Each bundled table is split 50/50 (stratified on the target for classification, seed
``--seed``). A generator fits on the training half and draws as many rows; the rows are scored
by :func:`dl_core.generation.quality.synthesis_report` against the training half, with the
held-out half for utility (TSTR/TRTR, HistGradientBoosting) and privacy (DCR). Two reference
rows frame the figures:

- ``holdout``: the held-out real rows as "synthetic": the fidelity a perfect generator reaches
  on this split (the ceiling), with a DCR share of 0.5 by definition of a fresh sample.
- ``copy``: the training rows themselves: perfect fidelity, every row a copy: why fidelity is
  never read without privacy.

Figures only, no assertions::

    python bench/synth_quality.py                                  # copula on three tables
    python bench/synth_quality.py --tables churn --seed 1
    python bench/synth_quality.py --out /tmp/synth-bench           # also write the CSVs for
    /tmp/sdv-venv/bin/python bench/sdmetrics_check.py /tmp/synth-bench   # SDMetrics' scores

``--out DIR`` writes, per table, ``train.csv``, ``holdout.csv``, one CSV per generator,
``metadata.json`` (SDMetrics' single-table metadata, built from our column kinds) and, for the
whole run, ``ours.json`` (our figures), which ``bench/sdmetrics_check.py`` compares with
SDMetrics' own ``QualityReport``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-synth-"))
os.environ.setdefault("DL_EXPLORER_HOME", str(_TMP / "home"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from dl_core.data import SAMPLES, detect_task, load_sample  # noqa: E402
from dl_core.generation.copula import GaussianCopula  # noqa: E402
from dl_core.generation.quality import synthesis_report  # noqa: E402
from dl_core.generation.schema import CONTINUOUS, DISCRETE, TableSchema  # noqa: E402
from dl_core.models import get_model  # noqa: E402

DEFAULT_EPOCHS = 300
DEFAULT_BATCH = 500

TABLES = ("breast_cancer", "wine", "churn")
COLUMNS = (
    ("quality", "quality"),
    ("shapes", "column_shapes"),
    ("pairs", "column_pairs"),
    ("diag", "diagnostic"),
    ("tstr/trtr", "tstr_ratio"),
    ("tstr", None),
    ("trtr", None),
    ("dcr<ho", "dcr_closer_to_train"),
    ("tr<ho", None),
    ("copies", "copies"),
    ("fit_s", None),
    ("sample_s", None),
)


def split(name: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The 50/50 split of sample ``name``, stratified on its target for classification."""
    df = load_sample(name)
    target = SAMPLES[name].target
    stratify = df[target] if detect_task(df[target]) != "regression" else None
    train, holdout = train_test_split(df, test_size=0.5, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), holdout.reset_index(drop=True), target


def generators(train: pd.DataFrame, holdout: pd.DataFrame, seed: int, models=("copula",),
               epochs: int | None = None, batch_size: int | None = None, target=None):
    """Yields ``(model, synthetic rows, fit seconds, sample seconds)``."""
    for model in models:
        start = time.perf_counter()
        if model == "copula":
            fitted_model = GaussianCopula(random_state=seed).fit(train)
        else:
            entry = get_model(model)
            fitted_model = entry.build(entry.config_cls())
            fitted_model.fit(train, condition_columns=(target,) if target else (),
                             epochs=epochs or DEFAULT_EPOCHS, batch_size=batch_size or DEFAULT_BATCH,
                             seed=seed)
        fitted = time.perf_counter()
        rows = fitted_model.sample(len(train), seed=seed)
        yield model, rows, fitted - start, time.perf_counter() - fitted
    yield "holdout", holdout, None, None
    yield "copy", train, None, None


def sdmetrics_metadata(train: pd.DataFrame) -> dict:
    """SDMetrics single-table metadata from our column kinds (ids, text and empties as ids)."""
    columns = {}
    for spec in TableSchema().fit(train).columns_:
        if spec.role == CONTINUOUS and spec.kind == "datetime":
            meta = {"sdtype": "datetime"}
            if spec.date_format:
                meta["datetime_format"] = spec.date_format
        elif spec.role == CONTINUOUS:
            meta = {"sdtype": "numerical"}
        elif spec.role == DISCRETE:
            meta = {"sdtype": "categorical"}
        else:
            meta = {"sdtype": "id"}
        columns[str(spec.name)] = meta
    return {"columns": columns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the CSVs and ours.json here")
    parser.add_argument("--models", default="copula,tvae,ctgan", help="comma-separated generators")
    parser.add_argument("--epochs", type=int, help=f"network epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--batch-size", type=int, help=f"network batch (default {DEFAULT_BATCH})")
    args = parser.parse_args()

    results = {}
    print("| table | model | " + " | ".join(label for label, _ in COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    for name in args.tables.split(","):
        train, holdout, target = split(name, args.seed)
        if args.out:
            folder = args.out / name
            folder.mkdir(parents=True, exist_ok=True)
            train.to_csv(folder / "train.csv", index=False)
            holdout.to_csv(folder / "holdout.csv", index=False)
            (folder / "metadata.json").write_text(json.dumps(sdmetrics_metadata(train), indent=1))
        models = args.models.split(",")
        for model, rows, fit_s, sample_s in generators(train, holdout, args.seed, models,
                                                        args.epochs, args.batch_size, target):
            report = synthesis_report(train, rows, holdout, target=target, ceiling=False,
                                      seed=args.seed)
            if args.out:
                rows.to_csv(args.out / name / f"{model}.csv", index=False)
            utility, privacy = report["utility"], report["privacy"]
            figures = {
                "quality": report["quality"],
                "column_shapes": report["column_shapes"],
                "column_pairs": report["column_pairs"],
                "column_pairs_all": report["column_pairs_all"],
                "diagnostic": report["diagnostic"],
                "tstr_ratio": report["tstr_ratio"],
                "tstr": utility["tstr"],
                "trtr": utility["trtr"],
                "metric": utility["metric"],
                "dcr_closer_to_train": report["dcr_closer_to_train"],
                "dcr_train_vs_holdout": privacy["dcr_train_vs_holdout"],
                "copies": report["copies"],
                "fit_seconds": fit_s,
                "sample_seconds": sample_s,
                "rows": len(train),
            }
            if model == "holdout":
                # Trained and tested on the same rows, and its own reference set: not figures.
                for key in ("tstr_ratio", "tstr", "dcr_train_vs_holdout"):
                    figures[key] = None
            results.setdefault(name, {})[model] = figures
            cells = [
                figures["quality"], figures["column_shapes"], figures["column_pairs"],
                figures["diagnostic"], figures["tstr_ratio"], figures["tstr"], figures["trtr"],
                figures["dcr_closer_to_train"], figures["dcr_train_vs_holdout"],
                figures["copies"], fit_s, sample_s,
            ]
            print(f"| {name} | {model} | " + " | ".join(_fmt(c) for c in cells) + " |",
                  flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end, {os.cpu_count()} cores")
    if args.out:
        (args.out / "ours.json").write_text(json.dumps(results, indent=1))


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


if __name__ == "__main__":
    main()
