"""Is the default FNN as good as simple baselines on the bundled samples?

For each tabular sample the default FNN (``TrainConfig``/``FNNConfig`` defaults plus the
data-aware ``suggest_train_config``) is trained through ``dl_core.training.run_training``
exactly as the app does, and compared on the SAME test split, with the SAME fitted
preprocessing (``prepare_tabular`` with the same seed, test_size and val_size), with
scikit-learn's LogisticRegression / Ridge and HistGradientBoosting. The baselines fit on the
train and validation rows together (they need no early-stopping split); the FNN fits on train
and stops early on validation. Metrics come from ``dl_core.evaluation`` for every model.
Target: the FNN within 1 point (0.01) of the better baseline on each metric.

Figures only, no assertions::

    python bench/accuracy.py                           # the defaults, seed 42
    python bench/accuracy.py --seeds 42,43,44          # mean over three splits
    python bench/accuracy.py --set dropout=0.2 --set learning_rate=0.003   # try a variant
    python bench/accuracy.py --baselines-fit train     # baselines on the FNN's rows only

The table goes to stdout; TensorFlow's and MLflow's chatter to stderr (``2>/dev/null``).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-accuracy-"))
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_TMP / 'mlflow.db'}"
os.environ["DL_EXPLORER_HOME"] = str(_TMP / "home")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from dl_core import evaluation  # noqa: E402
from dl_core.config import config_from_dict  # noqa: E402
from dl_core.data import SAMPLES, load_sample  # noqa: E402
from dl_core.data.preprocessing import prepare_tabular  # noqa: E402
from dl_core.data.storage import store_dataset  # noqa: E402
from dl_core.models.fnn import FNNConfig  # noqa: E402
from dl_core.training import JobSpec, TrainConfig, run_training, suggest_train_config  # noqa: E402

METRICS = {"binary": ("accuracy", "roc_auc"), "multiclass": ("accuracy", "roc_auc"),
           "regression": ("r2",)}
SAMPLE_NAMES = ("breast_cancer", "wine", "churn", "diabetes")


def baselines(data, task: str, seed: int, with_val: bool = True) -> dict[str, dict[str, float]]:
    """Test metrics of a linear model and gradient boosting fit on train (+ val) rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    # float64: float32 probabilities cast up miss sklearn's sum-to-one tolerance and warn.
    parts = [data.x_train, data.x_val] if with_val else [data.x_train]
    x = np.vstack(parts).astype(np.float64)
    y = np.concatenate([data.y_train, data.y_val] if with_val else [data.y_train])
    x_test = data.x_test.astype(np.float64)
    out = {}
    if task == "regression":
        models = {"ridge": Ridge(alpha=1.0),
                  "hist_gb": HistGradientBoostingRegressor(random_state=seed)}
        y_true = data.target.decode_regression(data.y_test)
        for name, model in models.items():
            y_pred = data.target.decode_regression(model.fit(x, y).predict(x_test))
            out[name] = evaluation.regression_metrics(y_true, y_pred)
        return out
    models = {"logreg": LogisticRegression(max_iter=5000),
              "hist_gb": HistGradientBoostingClassifier(random_state=seed)}
    for name, model in models.items():
        proba = model.fit(x, y).predict_proba(x_test)
        out[name] = evaluation.classification_metrics(data.y_test, proba, list(data.target.classes))
    return out


def split_sets(items: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Route ``key=value`` options to the FNN config or the training config."""
    model_keys = {f.name for f in dataclasses.fields(FNNConfig)}
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    model, train = {}, {}
    for item in items:
        key, _, value = item.partition("=")
        if key in model_keys:
            model[key] = value
        elif key in train_keys:
            train[key] = value
        else:
            sys.exit(f"unknown option {key!r}; known: {sorted(model_keys | train_keys)}")
    return model, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="42", help="comma-separated seeds (split + weights)")
    parser.add_argument("--samples", default=",".join(SAMPLE_NAMES))
    parser.add_argument("--baselines-fit", choices=("train+val", "train"), default="train+val",
                        help="rows the baselines fit on (the FNN always fits on train)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an FNN or training default")
    args = parser.parse_args()
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    model_opts, train_opts = split_sets(args.set)
    seeds = [int(s) for s in args.seeds.split(",")]
    with_val = args.baselines_fit == "train+val"
    print(f"FNN options: {model_opts or 'defaults'}; training options: {train_opts or 'defaults'}; "
          f"seeds {seeds}; baselines fit on {args.baselines_fit} rows")
    print(f"{'sample':14}{'metric':9}{'FNN':>8}{'linear':>8}{'hist_gb':>8}{'FNN-best':>9}  "
          f"{'epochs':>7}{'fit s':>7}")
    misses = 0
    for name in args.samples.split(","):
        sample = SAMPLES[name]
        df = load_sample(name)
        path = str(store_dataset(df))
        scores: dict[str, dict[str, list[float]]] = {}
        epochs, seconds = [], []
        for seed in seeds:
            train_cfg = {**suggest_train_config(len(df), sample.task),
                         **train_opts, "seed": seed}
            spec = JobSpec(dataset_path=path, dataset_name=name, target=sample.target,
                           task=sample.task, model_config=model_opts, train_config=train_cfg)
            start = time.perf_counter()
            result = run_training(spec)
            seconds.append(time.perf_counter() - start)
            epochs.append(result.epochs_run)
            resolved = config_from_dict(TrainConfig, train_cfg)  # the split run_training used
            data = prepare_tabular(df, sample.target, sample.task, test_size=resolved.test_size,
                                   val_size=resolved.val_size, seed=resolved.seed)
            runs = {"FNN": result.metrics, **baselines(data, sample.task, seed, with_val)}
            for model, metrics in runs.items():
                for metric in METRICS[sample.task]:
                    scores.setdefault(metric, {}).setdefault(model, []).append(metrics[metric])
        for metric, by_model in scores.items():
            mean = {m: statistics.fmean(v) for m, v in by_model.items()}
            linear = mean.get("logreg", mean.get("ridge"))
            gap = mean["FNN"] - max(linear, mean["hist_gb"])
            misses += gap < -0.01
            flag = "" if gap >= -0.01 else " ✗"
            print(f"{name:14}{metric:9}{mean['FNN']:8.4f}{linear:8.4f}{mean['hist_gb']:8.4f}"
                  f"{gap * 100:+8.2f}{flag:2}{statistics.fmean(epochs):>6.0f}"
                  f"{statistics.fmean(seconds):7.1f}")
    print(f"FNN-best in points (x100); ✗ = more than 1 point below the better baseline. "
          f"Misses: {misses}.\nThe FNN fits on train rows and stops early on val; means over "
          "the seeds.")


if __name__ == "__main__":
    main()
