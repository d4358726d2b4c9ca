"""Accuracy of the model zoo's defaults on the bundled image and time-series samples.

Rows: the digits CNN (target: test accuracy >= 0.98) and the seasonal-series LSTM with the
naive baselines (target: LSTM RMSE below the last-value baseline's), each trained exactly as
the app and the CLI train (``run_training`` with default hyperparameters). Prints a table and
one JSON line per row. Uses a throwaway MLflow store.

    python bench/accuracy_zoo.py [--only digits|seasonal]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-"))
os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{_TMP / 'mlflow.db'}")
os.environ.setdefault("DL_EXPLORER_HOME", str(_TMP / "home"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from dl_core.data.samples import SAMPLES, sample_path  # noqa: E402
from dl_core.training import JobSpec, run_training  # noqa: E402


def rows(only: str | None):
    if only in (None, "digits"):
        yield "digits", "cnn", {}, "accuracy >= 0.98"
    if only in (None, "seasonal"):
        sample = SAMPLES["seasonal"]
        yield "seasonal", "lstm", {}, "rmse < last-value rmse"
        yield ("seasonal", "lstm", {"lookback": sample.lookback, "horizon": sample.horizon},
               "rmse < last-value rmse")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("digits", "seasonal"))
    args = parser.parse_args()
    print(f"{'sample':10} {'arch':5} {'options':24} {'epochs':>6} {'secs':>6}  result")
    for name, arch, options, target in rows(args.only):
        sample = SAMPLES[name]
        spec = JobSpec(
            dataset_path=str(sample_path(name)), dataset_name=name, target=sample.target,
            task=sample.task, arch=arch, data_kind=sample.data_kind,
            time_column=sample.time_column, **options,
        )
        start = time.perf_counter()
        result = run_training(spec)
        secs = time.perf_counter() - start
        m = result.metrics
        if sample.data_kind == "timeseries":
            last = result.baselines["last_value"]["rmse"]
            seasonal = result.baselines.get("seasonal_last_value", {}).get("rmse")
            ok = m["rmse"] < last
            seasonal_text = "n/a" if seasonal is None else f"{seasonal:.3f}"
            text = (f"rmse {m['rmse']:.3f} mae {m['mae']:.3f} r2 {m['r2']:.3f} | last-value rmse "
                    f"{last:.3f} | seasonal rmse {seasonal_text}")
        else:
            ok = m["accuracy"] >= 0.98
            text = f"accuracy {m['accuracy']:.4f} f1 {m['f1']:.4f}"
        opts = ",".join(f"{k}={v}" for k, v in options.items()) or "defaults"
        print(f"{name:10} {arch:5} {opts:24} {result.epochs_run:6d} {secs:6.1f}  {text} "
              f"[{'PASS' if ok else 'FAIL'}: {target}]", flush=True)
        print(json.dumps({"sample": name, "arch": arch, "options": options,
                          "epochs_run": result.epochs_run, "seconds": round(secs, 1),
                          "metrics": m, "baselines": result.baselines, "pass": ok}), flush=True)


if __name__ == "__main__":
    main()
