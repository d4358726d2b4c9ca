"""The training worker process: ``python -m dl_core.worker``.

Speaks JSON lines: commands on stdin (``{"cmd": "run", "job_id", "spec"}``,
``{"cmd": "sweep", "job_id", "spec"}``, ``{"cmd": "stop", "job_id"}``, ``{"cmd": "warmup"}``,
``{"cmd": "predict", ...}``, ``{"cmd": "summary", "job_id", "arch", ...}``,
``{"cmd": "generate", "job_id", "run_id", "n", "seed", "condition", "counts", "out_path"}``,
``{"cmd": "latent", "job_id", "run_id", "view", ...}``), events on
its protocol stream. TensorFlow is imported once and stays warm; a crash here cannot
take the web server down. Jobs (a training run, or a sweep's trials one after another) run one
at a time in a thread so the main thread can keep reading stop commands; predictions and model
summaries are answered beside them, each in its own thread.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO


#: Models kept loaded for predictions (each holds a Keras model and its preprocessing).
MAX_LOADED_MODELS = 4
#: Requests answered beside the training queue, and the message for an unexpected error in one.
REQUESTS = {
    "predict": "{}",
    "summary": "The training worker could not build the model ({}).",
    "generate": "{}",
    "latent": "{}",
}


class Worker:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.jobs: queue.Queue = queue.Queue()
        self.stops: dict[str, threading.Event] = {}
        self.current_run: dict[str, str] = {}
        # Loaded models for predictions, newest last; one prediction at a time.
        self.predictors: dict[str, Any] = {}
        self.predict_lock = threading.Lock()
        # Generators loaded for the latent explorer (each click asks again), newest last.
        self.generators: dict[str, Any] = {}
        # One thread imports at a time: the warmup, a summary and a prediction may all be first
        # to import TensorFlow, and two threads importing one package cycle can deadlock.
        self.import_lock = threading.Lock()
        self.imported: set[str] = set()  # what ``load`` has imported already

    def send(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.out.write(json.dumps(event, default=str) + "\n")
            self.out.flush()

    def loop(self) -> None:
        while True:
            job_id, kind, spec = self.jobs.get()
            if job_id is None:
                return
            stop = self.stops.setdefault(job_id, threading.Event())
            if stop.is_set():
                self.send({"job_id": job_id, "type": "killed", "error": "Stopped before it started."})
                continue
            self.run_job(job_id, spec, stop, kind)

    def run_job(self, job_id: str, spec_dict: dict[str, Any], stop: threading.Event,
                kind: str = "run") -> None:
        with self.import_lock:
            from dl_core.errors import DLExplorerError
            from dl_core.sweeps import SweepSpec, run_sweep
            from dl_core.training import JobSpec, run_training

        def report(event: dict[str, Any]) -> None:
            # The runs to end if the worker is terminated: a job's run, a sweep's parent and
            # its current trial.
            if event.get("type") in ("started", "sweep_started"):
                self.current_run[job_id] = event["run_id"]
            elif event.get("type") == "trial_run":
                self.current_run[f"{job_id}/trial"] = event["run_id"]
            elif event.get("type") == "trial_finished":
                self.current_run.pop(f"{job_id}/trial", None)
            self.send({"job_id": job_id, **event})

        try:
            if kind == "sweep":
                run_sweep(SweepSpec.from_dict(spec_dict), report=report, stop=stop)
            else:
                run_training(JobSpec.from_dict(spec_dict), report=report, stop=stop)
        except DLExplorerError as exc:
            self.send({"job_id": job_id, "type": "failed", "error": str(exc)})
        except Exception as exc:  # a bug: still a message, never a dead worker
            from dl_core import tracking

            error = tracking.store_error(exc)  # a full disk, a tracking server gone, ...
            self.send({"job_id": job_id, "type": "failed",
                       "error": str(error) if error else f"{type(exc).__name__}: {exc}"})
        finally:
            self.current_run.pop(job_id, None)
            self.current_run.pop(f"{job_id}/trial", None)

    def handle(self, msg: dict[str, Any]) -> None:
        cmd = msg.get("cmd")
        if cmd in ("run", "sweep"):
            self.stops[msg["job_id"]] = threading.Event()
            self.jobs.put((msg["job_id"], cmd, msg["spec"]))
            self.send({"job_id": msg["job_id"], "type": "queued"})
        elif cmd == "stop":
            self.stops.setdefault(msg["job_id"], threading.Event()).set()
        elif cmd in REQUESTS:
            # Beside the training queue, each in its own thread: a prediction must not wait for
            # a long training, and the Model page's summary follows each edit while a job trains.
            threading.Thread(target=self.answer, args=(msg,), name=cmd, daemon=True).start()
        elif cmd == "warmup":
            # In a thread: commands (a summary, a stop) are read while it imports.
            threading.Thread(target=self.warmup, name="warmup", daemon=True).start()

    def warmup(self) -> None:
        """Import what the first job needs, so its first epoch comes as fast as later ones';
        then announce the device jobs run on."""
        with self.import_lock:
            from dl_core.backend import device_summary

            device = device_summary()
            import mlflow.pyfunc  # noqa: F401

            import dl_core.evaluation.png  # noqa: F401
            import dl_core.evaluation.reports  # noqa: F401
            import dl_core.models  # noqa: F401
            import dl_core.training  # noqa: F401
            from dl_core import tracking

            tracking.client()
        self.send({"type": "ready", "device": device})

    def load(self, what: str, imports: Callable[[], None]) -> None:
        """Run ``imports`` once, under the import lock; later calls return at once (a summary
        must not wait while the warmup imports MLflow)."""
        if what not in self.imported:
            with self.import_lock:
                imports()
            self.imported.add(what)

    def answer(self, msg: dict[str, Any]) -> None:
        """Answer one request (``predict``, ``summary``, ``generate``): its event, or a
        ``failed`` one with a message; a request's error never ends the worker."""
        from dl_core.errors import DLExplorerError

        try:
            event = getattr(self, msg["cmd"])(msg)
        except DLExplorerError as exc:
            event = {"type": "failed", "error": str(exc)}
        except Exception as exc:  # a bug, a broken install, a shape the layers refuse
            event = {"type": "failed",
                     "error": REQUESTS[msg["cmd"]].format(f"{type(exc).__name__}: {exc}")}
        self.send({"job_id": msg["job_id"], **event})

    def predict(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Predict a table (Parquet) with a run's logged model; write the result as Parquet."""
        import pandas as pd

        from dl_core import tracking

        self.load("predict", _import_predictor)
        with self.predict_lock:
            predictor = self.predictors.pop(msg["run_id"], None)
            if predictor is None:
                from dl_core.backend import build_lock

                with build_lock():  # loading draws default seeds too (see build_lock)
                    predictor = tracking.load_predictor(msg["run_id"])
            self.predictors[msg["run_id"]] = predictor
            while len(self.predictors) > MAX_LOADED_MODELS:
                self.predictors.pop(next(iter(self.predictors)))
            threshold = msg.get("threshold")  # None: the one saved with the model
            out = predictor.predict(pd.read_parquet(msg["data_path"]),
                                    threshold=None if threshold is None else float(threshold))
            notes = list(predictor.notes)
        out.to_parquet(msg["out_path"])
        return {"type": "predicted", "notes": notes}

    def summary(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Build a model for the Model page: its layer table, parameter counts and diagram."""
        self.load("summary", _import_models)
        from dl_core.models.summary import summarize

        answer = summarize(msg["arch"], msg["model_config"], tuple(msg["input_shape"]),
                           int(msg["n_outputs"]), msg["task"])
        return {"type": "summary", **answer}

    def generate(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Sample a generator run (recorded as a generation run); rows to Parquet, the report
        in the answer."""
        from dl_core.generation.generate import generate

        with self.predict_lock:
            # Per-class counts only when asked: a table generator knows no classes.
            extra = {"counts": msg["counts"]} if msg.get("counts") else {}
            rows, report = generate(msg["run_id"], int(msg["n"]), seed=int(msg.get("seed", 0)),
                                    condition=msg.get("condition") or None, **extra)
        rows.to_parquet(msg["out_path"])
        return {"type": "generated", "report": report}

    def latent(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The latent explorer of an image generator run: its map, an interpolation or the
        decoded plane (:mod:`dl_core.generation.latent`), answered as JSON."""
        from dl_core.generation import latent

        with self.predict_lock:
            synth, train = self.generators.pop(msg["run_id"], (None, None))
            if synth is None:
                from dl_core.generation.generate import load_generator, load_rows

                synth, train = load_generator(msg["run_id"]), load_rows(msg["run_id"])[0]
            self.generators[msg["run_id"]] = (synth, train)
            while len(self.generators) > MAX_LOADED_MODELS:
                self.generators.pop(next(iter(self.generators)))
            view = msg.get("view")
            if view == "map":
                answer = latent.latent_map(synth, train)
            elif view == "interpolate":
                answer = latent.interpolation(synth, train, int(msg["a"]), int(msg["b"]),
                                              int(msg.get("steps") or latent.STEPS))
            elif view == "plane":
                answer = latent.latent_plane(synth, msg.get("label"))
            else:
                raise ValueError(f"unknown latent view {view!r}")
        return {"type": "latent", "answer": answer}

    def end_active_runs(self, status: str, reason: str) -> None:
        from dl_core import tracking

        for run_id in list(self.current_run.values()):
            try:
                tracking.end_run(run_id, status, error=reason)
            except Exception:
                pass


def _import_models() -> None:
    from dl_core.backend import keras

    keras()
    import dl_core.models  # noqa: F401  (registers every architecture)
    import dl_core.models.summary  # noqa: F401


def _import_predictor() -> None:
    from dl_core.backend import keras

    keras()
    import dl_core.predictor  # noqa: F401


def main() -> None:
    from dl_core.backend import configure

    configure()  # before anything imports TensorFlow: GPU memory growth, backend, log level
    # The protocol gets a private copy of stdout; fd 1 then points at stderr so that anything
    # libraries print cannot corrupt the JSON lines.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    worker = Worker(protocol)

    def on_term(signum, frame):
        worker.end_active_runs("KILLED", "The worker was terminated (SIGTERM).")
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=worker.loop, name="jobs", daemon=True).start()
    worker.send({"type": "hello", "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if line:
            try:
                worker.handle(json.loads(line))
            except json.JSONDecodeError:
                worker.send({"type": "error", "error": f"Bad command: {line[:200]}"})
    # stdin closed: the server went away; finish nothing, record the runs as killed.
    worker.end_active_runs("KILLED", "The app stopped while this run was active.")
    os._exit(0)


if __name__ == "__main__":
    main()
