"""What does training through DL Explorer's job cost over a bare ``keras.Model.fit``?

The same FNN (default config), data (the churn sample, prepared with ``prepare_tabular``),
epochs (30, no early stopping) and batch size are fitted (1) by bare ``model.fit`` in this
process and (2) as a job on a warm ``LocalExecutor`` worker, with MLflow logging and progress
events. Prints the fit-only times (Keras' train begin to last epoch end, the job's ``elapsed_s``)
and the total wall times, their ratios (target: fit ratio <= 1.05), and the seconds from submit
(clicking Train) to the first epoch event with a cold and with a warm worker.

Figures only, no assertions: ``python bench/train_overhead.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# A throwaway store and app folder, before anything reads them (the worker inherits them).
_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-overhead-"))
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_TMP / 'mlflow.db'}"
os.environ["DL_EXPLORER_HOME"] = str(_TMP / "home")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dl_core.data import SAMPLES, load_sample  # noqa: E402
from dl_core.data.preprocessing import prepare_tabular  # noqa: E402
from dl_core.data.storage import store_dataset  # noqa: E402
from dl_core.jobs import LocalExecutor  # noqa: E402
from dl_core.training import JobSpec, TrainConfig, build_optimizer, output_head  # noqa: E402

SAMPLE = "churn"
EPOCHS = 30
BATCH_SIZE = 32
REPEATS = 3


def bare_fit(data, cfg: TrainConfig, task: str) -> tuple[float, float]:
    """(fit-only seconds as the job measures them, seconds of the whole ``fit`` call)."""
    from dl_core.backend import keras
    from dl_core.models import get_model

    k = keras()

    class Clock(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.last = time.perf_counter() - self.started

    k.utils.set_random_seed(cfg.seed)
    entry = get_model("fnn")
    activation, loss, metrics = output_head(task)
    model = entry.build(entry.config_cls(), (data.n_features,), data.target.n_outputs, activation)
    model.compile(optimizer=build_optimizer(k, cfg), loss=loss, metrics=metrics)
    clock = Clock()
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
              epochs=cfg.epochs, batch_size=cfg.batch_size, callbacks=[clock], verbose=0)
    return clock.last, time.perf_counter() - start


def first_epoch_s(state) -> float:
    return state.first_epoch_at - state.submitted_at


def main() -> None:
    sample = SAMPLES[SAMPLE]
    df = load_sample(SAMPLE)
    cfg = TrainConfig(epochs=EPOCHS, patience=0, batch_size=BATCH_SIZE)
    data = prepare_tabular(df, sample.target, sample.task, test_size=cfg.test_size,
                           val_size=cfg.val_size, seed=cfg.seed)
    spec = JobSpec(
        dataset_path=str(store_dataset(df)), dataset_name=SAMPLE, target=sample.target,
        task=sample.task, train_config={"epochs": EPOCHS, "patience": 0, "batch_size": BATCH_SIZE},
    )
    print(f"{SAMPLE}: {len(data.y_train)} train rows, {data.n_features} features, "
          f"{EPOCHS} epochs, batch {BATCH_SIZE}, default FNN; {REPEATS} repeats, medians")

    ex = LocalExecutor()
    ex.warm_up()
    if not ex.ready.wait(180):
        sys.exit("the worker did not get ready within 180 s")
    bare_fit_s, bare_call_s, job_fit_s, job_total_s, warm_first = [], [], [], [], []
    for _ in range(REPEATS):  # interleaved, so background load hits both sides alike
        fit_s, call_s = bare_fit(data, cfg, sample.task)
        bare_fit_s.append(fit_s)
        bare_call_s.append(call_s)
        start = time.perf_counter()
        job_id = ex.submit(spec)
        state = ex.wait(job_id, timeout=900)
        job_total_s.append(time.perf_counter() - start)
        if state.status != "finished":
            sys.exit(f"job ended {state.status}: {state.error}")
        job_fit_s.append(state.elapsed_s)
        warm_first.append(first_epoch_s(state))
    ex.shutdown()

    cold = LocalExecutor()  # fresh worker, no warm-up: the first click on Train after start
    job_id = cold.submit(spec)
    while (state := cold.progress(job_id)).first_epoch_at is None and state.active:
        time.sleep(0.02)
    cold_first = first_epoch_s(state) if state.first_epoch_at else float("nan")
    cold.stop(job_id)
    cold.wait(job_id, timeout=300)
    cold.shutdown()

    med = statistics.median
    print(f"{'':36}{'bare fit':>10}{'job':>10}{'ratio':>8}")
    for how, agg in (("median", med), ("min", min)):  # min: least disturbed by a shared CPU
        b, j = agg(bare_fit_s), agg(job_fit_s)
        print(f"{'fit only, ' + how:36}{b:>9.2f}s{j:>9.2f}s{j / b:>8.3f}   target <= 1.05")
    b, j = med(bare_call_s), med(job_total_s)
    print(f"{'wall, median (fit call | submit..end)':36}{b:>9.2f}s{j:>9.2f}s{j / b:>8.3f}   "
          "job adds load, preprocessing, evaluation, logging")
    print(f"runs: bare fit {[round(x, 2) for x in bare_fit_s]}, job fit "
          f"{[round(x, 2) for x in job_fit_s]}, job total {[round(x, 2) for x in job_total_s]}")
    print(f"submit -> first epoch event: cold worker {cold_first:.2f}s, warm worker median "
          f"{med(warm_first):.2f}s (runs {[round(x, 2) for x in warm_first]}; the first job "
          "also imports MLflow and scikit-learn in the worker)")

if __name__ == "__main__":
    main()
