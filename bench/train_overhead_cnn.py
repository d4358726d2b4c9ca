"""What the app adds to a bare Keras fit, for the digits CNN (default config).

Row 1: ``model.fit`` of the same network on the same prepared arrays, no callbacks.
Row 2: ``run_training`` as the app/CLI runs it: per-epoch progress events and batched MLflow
metrics, then evaluation, model logging (Keras file + skops + pyfunc) and artifacts.
Prints the median seconds per epoch over epochs 2..N for both (epoch 1 traces the graph), and
the fixed cost of a run (data preparation, build and compile before the fit; evaluation and
logging after it). Uses a throwaway MLflow store.

    python bench/train_overhead_cnn.py [--epochs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-"))
os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{_TMP / 'mlflow.db'}")
os.environ.setdefault("DL_EXPLORER_HOME", str(_TMP / "home"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from dl_core.backend import keras  # noqa: E402
from dl_core.config import config_from_dict  # noqa: E402
from dl_core.data.samples import sample_path  # noqa: E402
from dl_core.data.storage import load_dataset  # noqa: E402
from dl_core.models import get_model  # noqa: E402
from dl_core.training import JobSpec, TrainConfig, prepare_data, run_training  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    train = {"epochs": str(args.epochs), "patience": "0"}
    spec = JobSpec(dataset_path=str(sample_path("digits")), dataset_name="digits",
                   target="label", task="multiclass", arch="cnn", data_kind="image",
                   train_config=train)
    cfg = config_from_dict(TrainConfig, train)
    k = keras()
    data = prepare_data(spec, load_dataset(spec.dataset_path), cfg)
    k.utils.set_random_seed(cfg.seed)
    entry = get_model("cnn")
    model = entry.build(entry.config_cls(), data.input_shape, data.target.n_outputs, "softmax")
    model.compile(optimizer=k.optimizers.Adam(cfg.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stamps = []
    timer = k.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: stamps.append(time.perf_counter()))
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
              epochs=args.epochs, batch_size=cfg.batch_size, verbose=0, callbacks=[timer])
    bare = np.median(np.diff(stamps))

    events = []
    start = time.perf_counter()
    run_training(spec, report=events.append)
    total = time.perf_counter() - start
    elapsed = [e["elapsed_s"] for e in events if e["type"] == "epoch"]
    app = np.median(np.diff(elapsed))
    print(f"digits CNN (default config), {args.epochs} epochs, {len(data.y_train)} training "
          f"images, batch {cfg.batch_size}; median s/epoch over epochs 2..{args.epochs}")
    print(f"{'bare keras fit':36} {bare:7.3f} s/epoch")
    print(f"{'run_training fit (progress + MLflow)':36} {app:7.3f} s/epoch "
          f"({(app / bare - 1) * 100:+.1f}%)")
    print(f"fixed cost of a run (prepare, build, first epoch's tracing, evaluate, log model and "
          f"artifacts): {total - app * args.epochs:.2f} s of {total:.2f} s")


if __name__ == "__main__":
    main()
