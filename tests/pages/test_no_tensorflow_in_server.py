"""TensorFlow never loads in the web server: the Model page asks the warm worker for its summary.

The flow runs in a fresh Python process, so nothing another test imported can hide or fake it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FLOW = """
import json, sys
from tests.pages.apptest import load_sample, open_app

at = open_app("app_pages/data.py")
load_sample(at, "breast_cancer")
at.switch_page("app_pages/model.py").run()
assert not at.exception, at.exception
summary = [m.value for m in at.markdown if m.value.startswith("**Model summary**")]
layers = [list(d.value["layer"]) for d in at.dataframe if "layer" in d.value]
loaded_on_model_page = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
at.switch_page("app_pages/train.py").run()
assert not at.exception, at.exception
print("RESULT " + json.dumps({
    "summary": summary, "layers": layers,
    "model_page": loaded_on_model_page,
    "after_train_page": sorted(m for m in ("tensorflow", "keras") if m in sys.modules),
}))
"""


def test_data_model_train_pages_never_import_tensorflow():
    proc = subprocess.run([sys.executable, "-c", FLOW], cwd=ROOT, env={**os.environ},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    # The summary is shown (built by the worker: 30 features -> 32 units -> 1 output) ...
    assert len(result["summary"]) == 1 and "1,025 parameters" in result["summary"][0]
    assert result["layers"] == [["features", "dense_1", "relu_1", "dropout_1", "output"]]
    # ... and the server process never imported TensorFlow or Keras for it.
    assert result["model_page"] == []
    assert result["after_train_page"] == []
