"""Every generator on SDMetrics' yardstick, and do our fidelity figures match it? (SDV env.)

SDMetrics pins pandas < 3, so it cannot live in the app's environment. This script imports only
pandas and sdmetrics: it reads what ``bench/synth_quality.py --out DIR`` wrote (per table
``train.csv``, ``metadata.json``, ``timings.json`` and one ``<model>.csv`` per generator: ours,
``sdv_*`` from ``bench/sdv_peers.py``, and whatever else is there; ``ours.json``, our report on
each of them, for the whole run), scores every sample file with
``sdmetrics.reports.single_table.QualityReport`` and ``DiagnosticReport``, writes
``DIR/sdmetrics.json`` and prints two tables:

1. per table and model: SDMetrics' quality (and its column shapes and pairs) and diagnostic,
   TSTR/TRTR, the DCR share (synthetic rows closer to the training rows than held-out real rows
   are; 0.5 is a fresh sample) and exact copies from our report, fit seconds (wall clock and
   CPU: the box is shared, and CPU seconds suffer far less from that) and sampling seconds with
   the load average; ``holdout (ceiling)`` is the held-out half scored as if synthetic;
2. ours against SDMetrics' for quality, shapes, pairs and diagnostic.

::

    python3 -m venv /tmp/sdv-venv
    /tmp/sdv-venv/bin/pip install -r bench/requirements-sdv.txt
    python bench/synth_quality.py --out /tmp/synth-bench
    /tmp/sdv-venv/bin/python bench/sdv_peers.py /tmp/synth-bench
    python bench/synth_quality.py --score /tmp/synth-bench
    /tmp/sdv-venv/bin/python bench/sdmetrics_check.py /tmp/synth-bench

Target: |ours - SDMetrics| <= 0.01 for quality, column shapes and column pairs.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pandas as pd
from sdmetrics.reports.single_table import DiagnosticReport, QualityReport

TOLERANCE = 0.01
#: Reference "models": the held-out rows (the ceiling) and the training rows (every row a copy).
REFERENCES = ("holdout", "copy")
#: SDV's epochs for TVAE and CTGAN (and ours by default): other counts are named in the table.
DEFAULT_EPOCHS = 300


def score(real: pd.DataFrame, synth: pd.DataFrame, metadata: dict) -> dict:
    """SDMetrics' quality, its two properties and the diagnostic score."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = QualityReport()
        quality.generate(real, synth, metadata, verbose=False)
        diagnostic = DiagnosticReport()
        diagnostic.generate(real, synth, metadata, verbose=False)
    properties = quality.get_properties().set_index("Property")["Score"]
    return {
        "quality": float(quality.get_score()),
        "column_shapes": float(properties["Column Shapes"]),
        "column_pairs": float(properties["Column Pair Trends"]),
        "diagnostic": float(diagnostic.get_score()),
    }


def sample_files(folder: Path) -> list[Path]:
    """Every ``<model>.csv`` in a table folder: ours, then SDV's, then holdout and copy."""
    def order(path: Path):
        model = path.stem
        group = 2 if model in REFERENCES else 1 if model.startswith("sdv_") else 0
        return group, REFERENCES.index(model) if model in REFERENCES else 0, model

    return sorted((p for p in folder.glob("*.csv") if p.name != "train.csv"), key=order)


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def main() -> None:
    folder = Path(sys.argv[1])
    ours_path = folder / "ours.json"
    ours = json.loads(ours_path.read_text()) if ours_path.exists() else {}
    theirs: dict = {}
    rows = []
    for table_folder in sorted(p.parent for p in folder.glob("*/metadata.json")):
        table = table_folder.name
        metadata = json.loads((table_folder / "metadata.json").read_text())
        real = pd.read_csv(table_folder / "train.csv")
        timings_path = table_folder / "timings.json"
        timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
        for path in sample_files(table_folder):
            model = path.stem
            result = score(real, pd.read_csv(path), metadata)
            theirs.setdefault(table, {})[model] = result
            rows.append((table, model, result, ours.get(table, {}).get(model),
                         timings.get(model, {})))
    (folder / "sdmetrics.json").write_text(json.dumps(theirs, indent=1))

    # The figures to report: fidelity on SDMetrics' yardstick, utility and privacy from our
    # report (the same code for every model), the seconds each generator took.
    print("| table | model | quality | shapes | pairs | diagnostic | TSTR/TRTR | DCR share "
          "| copies | fit_s | fit_cpu_s | sample_s | load 1/5/15 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    missing = []
    for table, model, result, figures, timing in rows:
        figures = figures or {}
        if not figures:
            missing.append(f"{table}/{model}")
        load = timing.get("load_average")
        scores = [
            result["quality"], result["column_shapes"], result["column_pairs"],
            result["diagnostic"], figures.get("tstr_ratio"), figures.get("dcr_closer_to_train"),
            figures.get("copies"),
        ]
        seconds = [timing.get("fit_seconds"), timing.get("fit_cpu_seconds"),
                   timing.get("sample_seconds")]
        label = "holdout (ceiling)" if model == "holdout" else model
        if timing.get("epochs") and timing["epochs"] != DEFAULT_EPOCHS:
            label += f" ({timing['epochs']} epochs)"
        print(f"| {table} | {label} | " + " | ".join(_fmt(c) for c in scores) + " | "
              + " | ".join(_fmt(c, 2) for c in seconds)
              + f" | {' / '.join(f'{x:.1f}' for x in load) if load else '-'} |", flush=True)
    if missing:
        print(f"\nnot in ours.json (run bench/synth_quality.py --score {folder}): "
              + ", ".join(missing))

    # Do our fidelity figures agree with SDMetrics' (the app shows ours)?
    worst = 0.0
    print("\n| table | model | quality (ours / SDMetrics) | shapes | pairs | max abs diff "
          "| diagnostic (ours / SDMetrics) |")
    print("|---|---|---|---|---|---|---|")
    keys = ("quality", "column_shapes", "column_pairs")
    for table, model, result, figures, _ in rows:
        if not figures:
            continue
        diff = max(abs(figures[k] - result[k]) for k in keys)
        worst = max(worst, diff)
        cells = [f"{figures[k]:.4f} / {result[k]:.4f}" for k in keys]
        print(f"| {table} | {model} | " + " | ".join(cells)
              + f" | {diff:.4f} | {figures['diagnostic']:.4f} / {result['diagnostic']:.4f} |")
    verdict = "within" if worst <= TOLERANCE else "OUTSIDE"
    print(f"\nlargest difference {worst:.4f}: {verdict} the {TOLERANCE} tolerance")


if __name__ == "__main__":
    main()
