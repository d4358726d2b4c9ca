"""SDV's synthesizers on our benchmark splits: the peers our generators are compared with.

Runs in the SDV environment (SDV pins pandas < 3 and pulls PyTorch, so it is never a dependency
of the app)::

    python3 -m venv /tmp/sdv-venv
    /tmp/sdv-venv/bin/pip install -r bench/requirements-sdv.txt
    python bench/synth_quality.py --out /tmp/synth-bench            # splits and our samples
    /tmp/sdv-venv/bin/python bench/sdv_peers.py /tmp/synth-bench    # this script
    python bench/synth_quality.py --score /tmp/synth-bench          # our report on all samples
    /tmp/sdv-venv/bin/python bench/sdmetrics_check.py /tmp/synth-bench

For every table folder that ``bench/synth_quality.py --out`` wrote (``train.csv``,
``metadata.json``), fits SDV's ``GaussianCopulaSynthesizer``, ``TVAESynthesizer`` and
``CTGANSynthesizer`` with SDV's defaults (both networks 300 epochs, batch 500, on the CPU) on the
training half, samples as many rows as it has, and writes ``sdv_copula.csv``, ``sdv_tvae.csv``
and ``sdv_ctgan.csv`` beside our samples, with their fit and sampling seconds (and the 1/5/15-
minute load average at the end of the fit: the box is shared; and the fit's CPU seconds, all
threads and worker processes, which a busy box inflates far less than the wall clock) in the
table's ``timings.json``.
``--epochs N`` overrides the networks' epochs (recorded in timings.json and printed); the
figures in bench/README.md use SDV's defaults.

The column types come from the same ``metadata.json`` SDMetrics scores with (built from our
column kinds), so SDV and we see the same id, categorical, numerical and datetime columns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sdv.metadata import Metadata
from sdv.single_table import (
    CTGANSynthesizer,
    GaussianCopulaSynthesizer,
    TVAESynthesizer,
)

PEERS = {
    "sdv_copula": GaussianCopulaSynthesizer,
    "sdv_tvae": TVAESynthesizer,
    "sdv_ctgan": CTGANSynthesizer,
}
NETWORKS = ("sdv_tvae", "sdv_ctgan")


def read_table(folder: Path) -> tuple[pd.DataFrame, Metadata]:
    """The training half and SDV metadata from the table's SDMetrics metadata.

    The (first) id column becomes SDV's primary key: SDV then generates fresh ids instead of
    modelling them. Left a plain ``id`` column, SDV 2 hands it to TVAE and CTGAN as a category
    with one level per row (churn: 1,000 one-hot dimensions), slow and unfair to them.
    """
    table = json.loads((folder / "metadata.json").read_text())
    ids = [name for name, meta in table["columns"].items() if meta["sdtype"] == "id"]
    if ids and "primary_key" not in table:
        table = {**table, "primary_key": ids[0]}
    metadata = Metadata.load_from_dict(table, single_table_name=folder.name)
    return pd.read_csv(folder / "train.csv"), metadata


def cpu_seconds() -> float:
    """CPU seconds of this process, its reaped children and its live descendants (SDV fits its
    per-column Gaussian mixtures in joblib worker processes, which process_time misses)."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    live, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - live
        live |= frontier
    return total + sum(ticks[pid] for pid in live) / os.sysconf("SC_CLK_TCK")


def run_peer(model: str, table: str, train: pd.DataFrame, metadata: Metadata, seed: int,
             epochs: int | None) -> tuple[pd.DataFrame, float, float, int | None, float]:
    """Fits and samples one SDV synthesizer:
    ``(rows, fit seconds, sample seconds, epochs, fit CPU seconds)``."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    kwargs = {}
    if model in NETWORKS:
        kwargs["enable_gpu"] = False
        if epochs is not None:
            kwargs["epochs"] = epochs
    synthesizer = PEERS[model](metadata, **kwargs)
    start, start_cpu = time.perf_counter(), cpu_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synthesizer.fit({table: train})  # SDV 2 takes and returns {table name: frame}
    fitted, fitted_cpu = time.perf_counter(), cpu_seconds()
    rows = synthesizer.sample(num_rows=len(train))
    rows = rows[table] if isinstance(rows, dict) else rows
    sampled = time.perf_counter()
    used = getattr(synthesizer, "epochs", None) if model in NETWORKS else None
    return rows, fitted - start, sampled - fitted, used, fitted_cpu - start_cpu


def record_timing(folder: Path, model: str, **figures) -> None:
    path = folder / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[model] = figures
    path.write_text(json.dumps(timings, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder written by bench/synth_quality.py --out")
    parser.add_argument("--tables", help="comma-separated tables (default: every folder)")
    parser.add_argument("--models", default=",".join(PEERS), help="comma-separated peers")
    parser.add_argument("--epochs", type=int,
                        help="epochs for TVAE and CTGAN (default: SDV's own, 300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    folders = sorted(p.parent for p in args.out.glob("*/metadata.json"))
    if args.tables:
        wanted = args.tables.split(",")
        folders = [f for f in folders if f.name in wanted]
    if not folders:
        sys.exit(f"No table folders under {args.out}: run bench/synth_quality.py --out first.")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU only"
          + (f"; TVAE/CTGAN at {args.epochs} epochs, NOT SDV's default 300" if args.epochs
             else "; SDV defaults (TVAE/CTGAN 300 epochs)"), flush=True)
    print("| table | model | rows | epochs | fit_s | fit_cpu_s | sample_s | load 1/5/15 min |")
    print("|---|---|---|---|---|---|---|---|")
    for folder in folders:
        train, metadata = read_table(folder)
        for model in args.models.split(","):
            rows, fit_s, sample_s, epochs, fit_cpu = run_peer(
                model, folder.name, train, metadata, args.seed, args.epochs)
            load = [round(x, 2) for x in os.getloadavg()]
            rows.to_csv(folder / f"{model}.csv", index=False)
            record_timing(folder, model, fit_seconds=fit_s, sample_seconds=sample_s,
                          fit_cpu_seconds=fit_cpu, epochs=epochs, load_average=load,
                          torch_threads=torch.get_num_threads())
            print(f"| {folder.name} | {model} | {len(train)} | {epochs or '-'} | {fit_s:.1f} "
                  f"| {fit_cpu:.1f} | {sample_s:.2f} | {' / '.join(f'{x:.1f}' for x in load)} |",
                  flush=True)


if __name__ == "__main__":
    main()
