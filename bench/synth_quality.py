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

Tables: the bundled ``breast_cancer``, ``wine`` and ``churn`` samples, and
``student_placements``, the mixed-type table SDMetrics ships as its own demo (``sdmetrics/demos/
single_table/student_placements_real.csv``: 215 students, an id, numbers, integers, categories,
booleans, dates and missing values). It is read from the file in the installed package, never
downloaded: from this environment when sdmetrics is here, else from the SDV environment
(``--peer-venv``, default ``/tmp/sdv-venv``; sdmetrics pins pandas < 3 so it is not in ours).

Figures only, no assertions::

    python bench/synth_quality.py                    # copula, tvae, ctgan on four tables
    python bench/synth_quality.py --tables churn --seed 1
    python bench/synth_quality.py --out /tmp/synth-bench           # also write the CSVs

Against SDV (the whole comparison, see bench/README.md)::

    python bench/synth_quality.py --out /tmp/synth-bench           # splits, our samples
    /tmp/sdv-venv/bin/python bench/sdv_peers.py /tmp/synth-bench   # SDV's samples and timings
    python bench/synth_quality.py --score /tmp/synth-bench         # our report on every sample
    /tmp/sdv-venv/bin/python bench/sdmetrics_check.py /tmp/synth-bench   # SDMetrics' scores

``--out DIR`` writes, per table, ``train.csv``, ``holdout.csv``, one ``<model>.csv`` per
generator, ``split.json`` (target and seed), ``timings.json`` (fit and sampling seconds per
model, with the load average), ``metadata.json`` (SDMetrics' single-table metadata, built from
our column kinds), then scores every ``<model>.csv`` found there. ``--score DIR`` only scores:
every sample file in every table folder, whoever wrote it (ours, ``sdv_*`` from
``bench/sdv_peers.py``), read back from its CSV by the same code, into ``DIR/ours.json``, which
``bench/sdmetrics_check.py`` joins with SDMetrics' own ``QualityReport`` and ``DiagnosticReport``.
The held-out rows are scored as the model ``holdout`` (the ceiling) and the training rows as
``copy``.
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
from dl_core.data.loading import read_csv  # noqa: E402
from dl_core.generation.copula import GaussianCopula  # noqa: E402
from dl_core.generation.quality import synthesis_report  # noqa: E402
from dl_core.generation.schema import CONTINUOUS, DISCRETE, TableSchema  # noqa: E402
from dl_core.models import get_model  # noqa: E402

TABLES = ("breast_cancer", "wine", "churn", "student_placements")
#: Tables that an installed package ships as a file: name -> (package, path in it, target).
PACKAGED = {
    "student_placements": (
        "sdmetrics", "demos/single_table/student_placements_real.csv", "placed",
    ),
}
PEER_VENV = Path(os.environ.get("SDV_VENV", "/tmp/sdv-venv"))
#: Our networks (from the model registry); their epochs and batch default to SDV's.
NETWORKS = ("tvae", "ctgan")
DEFAULT_EPOCHS = 300
DEFAULT_BATCH = 500
#: Files in a table folder that are not samples.
NOT_SAMPLES = {"train.csv"}
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


def packaged_file(package: str, relative: str, peer_venv: Path = PEER_VENV) -> Path:
    """The file ``relative`` inside installed ``package``: here, else in the peer environment."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    candidates = []
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / relative for p in spec.submodule_search_locations]
    candidates += sorted(peer_venv.glob(f"lib/python3*/site-packages/{package}/{relative}"))
    for path in candidates:
        if path.is_file():
            return path
    raise SystemExit(
        f"{package}/{relative} not found here nor under {peer_venv}: install the SDV environment "
        f"(bench/requirements-sdv.txt) or point SDV_VENV / --peer-venv at it."
    )


def load_table(name: str, peer_venv: Path = PEER_VENV) -> tuple[pd.DataFrame, str]:
    """Table ``name`` (a bundled sample or a packaged file) read like an upload, and its target."""
    if name in PACKAGED:
        package, relative, target = PACKAGED[name]
        return read_csv(packaged_file(package, relative, peer_venv)), target
    return load_sample(name), SAMPLES[name].target


def split(name: str, seed: int, peer_venv: Path = PEER_VENV
          ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The 50/50 split of table ``name``, stratified on its target for classification."""
    df, target = load_table(name, peer_venv)
    stratify = df[target] if detect_task(df[target]) != "regression" else None
    train, holdout = train_test_split(df, test_size=0.5, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), holdout.reset_index(drop=True), target


def available_models() -> tuple[str, ...]:
    """Ours that can run here: the copula, and ``tvae``/``ctgan`` once they are registered."""
    from dl_core.errors import ConfigError

    found = ["copula"]
    for name in NETWORKS:
        try:
            get_model(name)
        except ConfigError:
            continue
        found.append(name)
    return tuple(found)


def fit_ours(model: str, train: pd.DataFrame, seed: int, *, target: str | None = None,
             epochs: int | None = None, batch_size: int | None = None):
    """Our generator ``model`` fit on ``train``: the copula, or a registered network with its
    default config (conditioned on the target, as the app does)."""
    if model == "copula":
        return GaussianCopula(random_state=seed).fit(train)
    entry = get_model(model)
    synthesizer = entry.build(entry.config_cls())
    synthesizer.fit(train, condition_columns=(target,) if target else (),
                    epochs=epochs or DEFAULT_EPOCHS, batch_size=batch_size or DEFAULT_BATCH,
                    seed=seed)
    return synthesizer


def generators(train: pd.DataFrame, holdout: pd.DataFrame, seed: int,
               models: tuple[str, ...] = ("copula",), epochs: int | None = None,
               batch_size: int | None = None, target: str | None = None):
    """Yields ``(model, synthetic rows, fit seconds, sample seconds, fit CPU seconds)`` (CPU:
    every thread of this process; a busy box inflates it far less than the wall clock), then the
    two references."""
    for model in models:
        start, start_cpu = time.perf_counter(), time.process_time()
        fitted_model = fit_ours(model, train, seed, target=target, epochs=epochs,
                                batch_size=batch_size)
        fitted, fitted_cpu = time.perf_counter(), time.process_time()
        rows = fitted_model.sample(len(train), seed=seed)
        yield model, rows, fitted - start, time.perf_counter() - fitted, fitted_cpu - start_cpu
    yield "holdout", holdout, None, None, None
    yield "copy", train, None, None, None


def record_timing(folder: Path, model: str, fit_s: float, sample_s: float, **extra) -> None:
    """Adds ``model``'s seconds (and the 1/5/15-minute load average now) to timings.json."""
    path = folder / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[model] = {"fit_seconds": fit_s, "sample_seconds": sample_s,
                      "load_average": [round(x, 2) for x in os.getloadavg()], **extra}
    path.write_text(json.dumps(timings, indent=1))


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


def figures_of(report: dict, model: str, fit_s, sample_s, rows: int) -> dict:
    """The figures of one model on one table, as ours.json keeps them."""
    utility, privacy = report["utility"] or {}, report["privacy"]
    figures = {
        "quality": report["quality"],
        "column_shapes": report["column_shapes"],
        "column_pairs": report["column_pairs"],
        "column_pairs_all": report["column_pairs_all"],
        "diagnostic": report["diagnostic"],
        "tstr_ratio": report["tstr_ratio"],
        "tstr": utility.get("tstr"),
        "trtr": utility.get("trtr"),
        "metric": utility.get("metric"),
        "dcr_closer_to_train": report["dcr_closer_to_train"],
        "dcr_train_vs_holdout": privacy["dcr_train_vs_holdout"],
        "copies": report["copies"],
        "fit_seconds": fit_s,
        "sample_seconds": sample_s,
        "rows": rows,
    }
    if model == "holdout":
        # Trained and tested on the same rows, and its own reference set: not figures.
        for key in ("tstr_ratio", "tstr", "dcr_train_vs_holdout"):
            figures[key] = None
    return figures


def print_header() -> None:
    print("| table | model | " + " | ".join(label for label, _ in COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))


def print_row(name: str, model: str, figures: dict) -> None:
    cells = [
        figures["quality"], figures["column_shapes"], figures["column_pairs"],
        figures["diagnostic"], figures["tstr_ratio"], figures["tstr"], figures["trtr"],
        figures["dcr_closer_to_train"], figures["dcr_train_vs_holdout"],
        figures["copies"], figures["fit_seconds"], figures["sample_seconds"],
    ]
    print(f"| {name} | {model} | " + " | ".join(_fmt(c) for c in cells) + " |", flush=True)


def sample_files(folder: Path) -> list[Path]:
    """Every ``<model>.csv`` in a table folder: ours, then peers, then the two references."""
    def order(path: Path):
        model = path.stem
        references = ("holdout", "copy")
        group = 2 if model in references else 1 if model.startswith("sdv_") else 0
        return group, references.index(model) if model in references else 0, model

    return sorted((p for p in folder.glob("*.csv") if p.name not in NOT_SAMPLES), key=order)


def score_folder(out: Path, tables: list[str] | None = None) -> dict:
    """Scores every sample file under ``out`` (of ``tables``, default all) with our report;
    updates and returns ours.json."""
    results: dict = json.loads((out / "ours.json").read_text()) if tables else {}
    print_header()
    for folder in sorted(p.parent for p in out.glob("*/split.json")):
        if tables and folder.name not in tables:
            continue
        results[folder.name] = {}
        split_info = json.loads((folder / "split.json").read_text())
        timings_path = folder / "timings.json"
        timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
        train = read_csv(folder / "train.csv")
        holdout = read_csv(folder / "holdout.csv")
        for path in sample_files(folder):
            model = path.stem
            rows = train if model == "copy" else holdout if model == "holdout" else read_csv(path)
            report = synthesis_report(train, rows, holdout, target=split_info["target"],
                                      ceiling=False, seed=split_info["seed"])
            timing = timings.get(model, {})
            figures = figures_of(report, model, timing.get("fit_seconds"),
                                 timing.get("sample_seconds"), len(train))
            results.setdefault(folder.name, {})[model] = figures
            print_row(folder.name, model, figures)
    (out / "ours.json").write_text(json.dumps(results, indent=1))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated tables")
    parser.add_argument("--models",
                        help="comma-separated generators of ours (default: copula, and tvae and "
                             "ctgan where registered)")
    parser.add_argument("--epochs", type=int, help=f"network epochs (default {DEFAULT_EPOCHS})")
    parser.add_argument("--batch-size", type=int,
                        help=f"network batch (default {DEFAULT_BATCH})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the CSVs, then score every sample there")
    parser.add_argument("--score", type=Path, metavar="DIR",
                        help="only score every sample file under DIR (after bench/sdv_peers.py)")
    parser.add_argument("--no-score", action="store_true",
                        help="with --out: write the samples only (score later with --score; "
                             "lets SDV's fits interleave with ours table by table)")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV,
                        help="SDV environment holding the packaged tables' files")
    args = parser.parse_args()
    if args.score:
        tables = args.tables.split(",") if args.tables != ",".join(TABLES) else None
        if tables and not (args.score / "ours.json").exists():
            tables = None
        score_folder(args.score, [t for t in TABLES if t in tables] if tables else None)
        return

    models = (tuple(m for m in args.models.split(",") if m) if args.models
              else available_models())
    if not args.out:
        print_header()
    for name in args.tables.split(","):
        train, holdout, target = split(name, args.seed, args.peer_venv)
        folder = args.out / name if args.out else None
        if folder:
            folder.mkdir(parents=True, exist_ok=True)
            train.to_csv(folder / "train.csv", index=False)
            holdout.to_csv(folder / "holdout.csv", index=False)
            (folder / "metadata.json").write_text(json.dumps(sdmetrics_metadata(train), indent=1))
            (folder / "split.json").write_text(json.dumps(
                {"table": name, "target": target, "seed": args.seed,
                 "train_rows": len(train), "holdout_rows": len(holdout)}, indent=1))
        for model, rows, fit_s, sample_s, fit_cpu in generators(
                train, holdout, args.seed, models, args.epochs, args.batch_size, target):
            if folder:
                rows.to_csv(folder / f"{model}.csv", index=False)
                if fit_s is not None:
                    record_timing(folder, model, fit_s, sample_s, fit_cpu_seconds=fit_cpu,
                                  epochs=(args.epochs or DEFAULT_EPOCHS) if model in NETWORKS
                                  else None)
                print(f"{name}: {model} written"
                      + (f" (fit {fit_s:.1f} s, sample {sample_s:.1f} s)" if fit_s else ""),
                      file=sys.stderr, flush=True)
                continue
            report = synthesis_report(train, rows, holdout, target=target, ceiling=False,
                                      seed=args.seed)
            print_row(name, model, figures_of(report, model, fit_s, sample_s, len(train)))
    if args.out and not args.no_score:
        score_folder(args.out)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end, {os.cpu_count()} cores")


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


if __name__ == "__main__":
    main()
