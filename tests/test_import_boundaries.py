"""Which process loads which library: the worker has no plotly, the web server no matplotlib.

Each check runs in a fresh interpreter, since this test session has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _loaded_after(code: str) -> dict[str, bool]:
    """Runs ``code`` in a fresh interpreter; which heavy libraries it left in ``sys.modules``."""
    probe = textwrap.dedent(code) + textwrap.dedent("""
        import json as _json, sys as _sys
        print(_json.dumps({name: name in _sys.modules
                           for name in ("plotly", "matplotlib", "tensorflow", "streamlit")}))
    """)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_training_run_and_a_prediction_in_the_worker_load_no_plotly(tiny_binary, tmp_path):
    data = tmp_path / "tiny.parquet"
    tiny_binary.to_parquet(data)
    loaded = _loaded_after(f"""
        import pandas as pd
        import dl_core.evaluation.png, dl_core.evaluation.reports, dl_core.worker  # warm-up
        from dl_core import sweeps, tracking
        from dl_core.data.storage import store_dataset
        from dl_core.training import JobSpec, run_training

        df = pd.read_parquet({str(data)!r})
        spec = JobSpec(dataset_path=str(store_dataset(df)), dataset_name="tiny", target="label",
                       task="binary", train_config={{"epochs": "1", "patience": "0"}})
        result = run_training(spec)
        assert result.status == "FINISHED", result
        tracking.load_predictor(result.run_id).predict(df.drop(columns=["label"]).head(5))
        assert sweeps.lower_is_better("val_loss")
    """)
    assert loaded["tensorflow"] and loaded["matplotlib"]  # it did train and draw its PNGs
    assert not loaded["plotly"]
    assert not loaded["streamlit"]


def test_the_web_server_draws_every_evaluation_figure_without_matplotlib():
    loaded = _loaded_after("""
        import importlib, pathlib
        import numpy as np
        for path in sorted(pathlib.Path("ui").glob("*.py")):
            importlib.import_module(f"ui.{path.stem}")
        import dl_core.compare, dl_core.jobs
        from dl_core import evaluation as ev

        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 50)
        proba = np.column_stack([1 - rng.random(50), rng.random(50)])
        clf = ev.classification_report_data(y, proba, ["no", "yes"])
        reg = ev.regression_report_data(rng.normal(size=30), rng.normal(size=30))
        ev.confusion_matrix_figure(clf["confusion_matrix"], clf["classes"])
        ev.roc_figure(clf), ev.pr_figure(clf)
        ev.threshold_figure(ev.threshold_sweep(y, proba), 0.5)
        ev.predicted_vs_actual_figure(reg["y_true"], reg["y_pred"])
        ev.residuals_figure(reg["y_true"], reg["y_pred"])
        ev.learning_curves_figure({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
        dl_core.compare.report_figure(clf)
    """)
    assert loaded["plotly"] and loaded["streamlit"]  # it did import the pages' code and draw
    assert not loaded["matplotlib"]
    assert not loaded["tensorflow"]
