"""Do our fidelity figures match SDMetrics' own QualityReport? (Run in the SDV environment.)

SDMetrics pins pandas < 3, so it cannot live in the app's environment. This script imports only
pandas and sdmetrics: it reads what ``bench/synth_quality.py --out DIR`` wrote (per table
``train.csv``, ``metadata.json`` and one CSV per generator; ``ours.json`` for the whole run),
scores every generator's rows with ``sdmetrics.reports.single_table.QualityReport`` and
``DiagnosticReport``, writes ``DIR/sdmetrics.json`` and prints ours against theirs::

    python3 -m venv /tmp/sdv-venv
    /tmp/sdv-venv/bin/pip install -r bench/requirements-sdv.txt
    python bench/synth_quality.py --out /tmp/synth-bench
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


def main() -> None:
    folder = Path(sys.argv[1])
    ours = json.loads((folder / "ours.json").read_text())
    theirs: dict = {}
    worst = 0.0
    print("| table | model | quality (ours / SDMetrics) | shapes | pairs | max abs diff "
          "| diagnostic (ours / SDMetrics) |")
    print("|---|---|---|---|---|---|---|")
    for table, models in ours.items():
        metadata = json.loads((folder / table / "metadata.json").read_text())
        real = pd.read_csv(folder / table / "train.csv")
        for model, figures in models.items():
            synth = pd.read_csv(folder / table / f"{model}.csv")
            result = score(real, synth, metadata)
            theirs.setdefault(table, {})[model] = result
            keys = ("quality", "column_shapes", "column_pairs")
            diff = max(abs(figures[k] - result[k]) for k in keys)
            worst = max(worst, diff)
            cells = [f"{figures[k]:.4f} / {result[k]:.4f}" for k in keys]
            print(f"| {table} | {model} | " + " | ".join(cells)
                  + f" | {diff:.4f} | {figures['diagnostic']:.4f} / {result['diagnostic']:.4f} |",
                  flush=True)
    (folder / "sdmetrics.json").write_text(json.dumps(theirs, indent=1))
    verdict = "within" if worst <= TOLERANCE else "OUTSIDE"
    print(f"\nlargest difference {worst:.4f}: {verdict} the {TOLERANCE} tolerance")


if __name__ == "__main__":
    main()
