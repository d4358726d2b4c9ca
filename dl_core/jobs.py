"""Background jobs behind one executor interface: ``submit``, ``progress``, ``stop``, ...

:class:`Executor` is the interface the UI types against. :class:`LocalExecutor` keeps one warm
worker process (``python -m dl_core.worker``) and a reader thread that folds its JSON-line events
into :class:`JobState` objects. The web server keeps one executor for all sessions, so leaving a
page or closing the tab never kills a job. Another executor (Ray, a queue) implements
:class:`Executor` too.
"""

from __future__ import annotations

import abc
import atexit
import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dl_core.errors import ConfigError, DataError, TrainingError
from dl_core.sweeps import SweepSpec
from dl_core.training import JobSpec

ACTIVE = ("queued", "running", "evaluating")
#: Seconds the server keeps trying to record a failed job's run while the store does not answer.
RECORD_RETRY_S = 600.0
#: Where jobs run, chosen by ``$DLX_EXECUTOR``: this machine's warm worker, or a Ray cluster.
EXECUTORS = ("local", "ray")


@dataclass
class JobState:
    """What the UI shows about one job (a copy is returned to callers)."""

    job_id: str
    spec: dict[str, Any]
    status: str = "queued"  # queued | running | evaluating | finished | killed | failed
    run_id: str | None = None
    epoch: int = 0
    epochs: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    elapsed_s: float = 0.0
    eta_s: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    submitted_at: float = field(default_factory=time.time)
    first_epoch_at: float | None = None
    stop_requested: bool = False
    kind: str = "training"  # training | sweep
    # Sweeps: the trials so far (params, run id, status, value), the best one, the current one.
    trials: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    trial: int = 0
    n_trials: int = 0
    sweep: dict[str, Any] = field(default_factory=dict)
    # Generators: a few fresh rows from the latest preview, and the epoch they come from.
    samples: list[dict[str, Any]] = field(default_factory=list)
    samples_epoch: int = 0
    # Image generators: the latest grid from fixed noise ({"png": base64, "epoch", "row_labels"}).
    grid: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def apply_event(job: JobState, event: dict[str, Any]) -> None:
    """Fold one progress event (``started``, ``epoch``, ``trial_finished``...) into ``job``.

    Every executor feeds its jobs' events through here, so the pages see the same states
    whether a job ran in the local worker or on a cluster.
    """
    kind = event.get("type")
    if kind == "started":
        job.status, job.run_id, job.epochs = "running", event["run_id"], event["epochs"]
    elif kind == "sweep_started":
        job.status, job.run_id, job.n_trials = "running", event["run_id"], event["n_trials"]
    elif kind == "trial_started":
        # The live curves follow the current trial.
        job.trial, job.epoch, job.history, job.eta_s = event["trial"], 0, {}, None
        job.trials.append({"trial": event["trial"], **event["params"],
                           "status": "RUNNING", "value": None, "run_id": None})
    elif kind == "trial_run":
        job.epochs = event["epochs"]
        if job.trials:
            job.trials[-1]["run_id"] = event["run_id"]
    elif kind == "trial_finished":
        row = {k: v for k, v in event.items() if k not in ("type", "job_id", "best")}
        if any(t["trial"] == row["trial"] for t in job.trials):
            job.trials = [row if t["trial"] == row["trial"] else t for t in job.trials]
        else:  # trained beside a stopped trial (a cluster): never the current one
            job.trials.append(row)
        job.best = event.get("best")
    elif kind == "epoch":
        job.epoch, job.epochs = event["epoch"], event["epochs"]
        job.elapsed_s, job.eta_s = event["elapsed_s"], event["eta_s"]
        job.first_epoch_at = job.first_epoch_at or time.time()
        for key, value in event["logs"].items():
            job.history.setdefault(key, []).append(value)
    elif kind == "samples":
        job.samples, job.samples_epoch = event["rows"], event["epoch"]
    elif kind == "image_grid":
        job.grid = {k: event.get(k) for k in ("png", "epoch", "row_labels")}
    elif kind == "evaluating" and job.kind != "sweep":
        job.status = "evaluating"
    elif kind == "finished":
        job.status = "killed" if event["status"] == "KILLED" else "finished"
        job.metrics, job.eta_s = event["metrics"], 0.0
    elif kind == "failed":
        job.status, job.error = "failed", event["error"]
    elif kind == "killed":
        job.status, job.error = "killed", event.get("error")


class Executor(abc.ABC):
    """Where jobs run: everything the UI, the CLI and the benchmarks ask of it.

    :class:`LocalExecutor` runs jobs in one warm worker process on this machine; a cluster
    executor (Ray) implements the same methods. Jobs are keyed by the id ``submit`` returns and
    outlive the page or session that started them. Errors are :class:`DLExplorerError` s.
    """

    #: The device jobs train on, as people read it ("GPU: NVIDIA H200", "CPU (2 cores)"); None
    #: until the executor has found out (after :meth:`warm_up`).
    device: str | None = None
    #: A sweep's trials train side by side (a cluster), not one after another.
    trials_side_by_side: bool = False

    @abc.abstractmethod
    def warm_up(self) -> None:
        """Prepare to run (start workers, import TensorFlow) without waiting for it."""

    @abc.abstractmethod
    def submit(self, spec: JobSpec) -> str:
        """Queue a training job; returns its id at once."""

    @abc.abstractmethod
    def submit_sweep(self, spec: SweepSpec) -> str:
        """Queue a sweep (its trials run as one job); returns its id at once.

        Raises:
            ConfigError: if the search space is invalid (checked before anything is queued).
        """

    @abc.abstractmethod
    def progress(self, job_id: str) -> JobState:
        """A snapshot of the job (a copy: changing it changes nothing).

        Raises:
            TrainingError: if there is no such job.
        """

    @abc.abstractmethod
    def jobs(self) -> list[JobState]:
        """Snapshots of every job this executor knows, newest first."""

    @abc.abstractmethod
    def stop(self, job_id: str) -> None:
        """Ask the job to stop at its next batch; its run ends KILLED with the model so far."""

    @abc.abstractmethod
    def predict(self, run_id: str, df: pd.DataFrame, threshold: float | None = None,
                timeout: float = 600.0) -> tuple[pd.DataFrame, list[str]]:
        """Predict raw rows with a run's logged model, away from the caller's process; binary
        classifiers use ``threshold``, else the one saved with the run.

        Binary classifiers use ``threshold``, else the one saved with the run.

        Returns:
            The predictions (indexed like the rows they belong to) and notes about the input.

        Raises:
            DataError: if the rows do not fit the model (missing columns, ...).
        """

    @abc.abstractmethod
    def summary(self, arch: str, model_config: dict[str, Any], input_shape: tuple[int, ...],
                n_outputs: int, task: str, timeout: float = 180.0) -> dict[str, Any]:
        """Build ``arch`` for the data's shapes where Keras runs (never in the caller's
        process); answered while jobs train.

        Returns:
            ``{"layers": [{"layer", "type", "output shape", "parameters"}], "params": {"total",
            "trainable", "non_trainable"}, "dot": Graphviz source}``.

        Raises:
            DataError: if the model cannot be built (a bad config, layers that do not fit).
            TrainingError: if no answer comes within ``timeout`` seconds.
        """

    @abc.abstractmethod
    def generate(self, run_id: str, n: int, seed: int = 0,
                 condition: dict[str, Any] | None = None,
                 counts: dict[str, int] | None = None,
                 timeout: float = 600.0) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Sample ``n`` rows from a generator run away from the caller's process, score them and
        record the generation as an MLflow run (:func:`dl_core.generation.generate.generate`).
        ``counts`` (``{class: images}``, image generators) replaces ``n`` and ``condition``.

        Returns:
            The synthetic rows and the report (its ``run_id`` is the generation's run).

        Raises:
            DataError: if the run is not a generator or the condition cannot be met.
        """

    @abc.abstractmethod
    def latent(self, run_id: str, view: str, timeout: float = 300.0,
               **params: Any) -> dict[str, Any]:
        """A view of an image generator's latent space, computed where the generator loads
        (:mod:`dl_core.generation.latent`): ``view="map"``, ``"interpolate"`` (``a``, ``b``:
        training row positions, ``steps``) or ``"plane"`` (``label``).

        Returns:
            The view's answer (JSON-able; images packed with
            :func:`dl_core.generation.latent.pack`).

        Raises:
            DataError: if the run has no latent space or the request does not fit it.
        """

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop the executor's workers; jobs still running end KILLED with their epochs so far."""

    def wait(self, job_id: str, timeout: float = 600.0) -> JobState:
        """Block until the job ends (tests, CLI, benchmarks).

        Raises:
            TrainingError: if it does not end within ``timeout`` seconds.
        """
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.progress(job_id)
            if not state.active:
                return state
            time.sleep(0.05)
        raise TrainingError(f"Job {job_id} did not finish within {timeout:.0f} s.")


class JobTable:
    """The job states an executor keeps, under its lock; pages read copies (an executor's
    threads go on updating the originals)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, JobState] = {}

    def progress(self, job_id: str) -> JobState:
        with self._lock:
            try:
                return copy.deepcopy(self._jobs[job_id])
            except KeyError:
                raise TrainingError(f"No job {job_id!r} on this server.") from None

    def jobs(self) -> list[JobState]:
        """All jobs of this server, newest first."""
        with self._lock:
            states = [copy.deepcopy(j) for j in self._jobs.values()]
        return sorted(states, key=lambda j: j.submitted_at, reverse=True)


class LocalExecutor(JobTable, Executor):
    """Runs jobs one after another in a warm worker process on this machine."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__()
        self._env = env
        self._proc: subprocess.Popen | None = None
        self._log = Path(tempfile.gettempdir()) / f"dl_explorer_worker_{os.getpid()}.log"
        self.device: str | None = None
        self.ready = threading.Event()
        self._warming = False  # a warmup was sent to the current worker
        # Predictions waiting for the worker's answer: id -> (answered, answer).
        self._waiters: dict[str, tuple[threading.Event, dict[str, Any]]] = {}
        # Every epoch each active job reported, by job: (run id, [(epoch, logs)]). The worker
        # writes them to MLflow in batches; if it dies first, these are what the user saw.
        self._epochs: dict[str, tuple[str | None, list[tuple[int, dict[str, float]]]]] = {}
        self._reader: threading.Thread | None = None
        self._closing = False  # shutdown: runs still active end KILLED, not FAILED
        # The app server exits on SIGTERM (Streamlit stops its loop, then Python's exit runs
        # atexit): end the worker and record its active runs as KILLED with their epochs.
        ref = weakref.ref(self)
        atexit.register(lambda: (ex := ref()) is not None and ex.shutdown())

    # -- worker process -------------------------------------------------------------------
    def _ensure_worker(self) -> subprocess.Popen:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return self._proc
            from dl_core import tracking

            tracking.ensure_store()  # create the schema here, before the worker touches it
            env = {**os.environ, **(self._env or {}), "PYTHONUNBUFFERED": "1"}
            root = str(Path(__file__).resolve().parent.parent)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
            self.ready.clear()
            self._warming = False
            self.device = None  # a new worker: known again once it has warmed up
            proc = subprocess.Popen(
                [sys.executable, "-m", "dl_core.worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=open(self._log, "ab"), text=True, bufsize=1, env=env,
                start_new_session=True,  # Ctrl-C in the server's terminal is the server's
            )
            self._proc = proc
            self._reader = threading.Thread(target=self._read, args=(proc,), name="worker-reader",
                                            daemon=True)
            self._reader.start()
            return proc

    def _send(self, msg: dict[str, Any]) -> None:
        proc = self._ensure_worker()
        try:
            proc.stdin.write(json.dumps(msg) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise TrainingError("The training worker is not responding; try again.") from exc

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            self._apply(event)
        code = proc.wait()
        self._worker_died(code)

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "ready":
            self.device = event.get("device")
            self.ready.set()
            return
        waiter = self._waiters.get(event.get("job_id", ""))
        if waiter is not None and kind in ("predicted", "summary", "generated", "latent",
                                           "failed"):
            waiter[1].update(event)
            waiter[0].set()
            return
        with self._lock:
            job = self._jobs.get(event.get("job_id", ""))
            if job is None:
                return
            apply_event(job, event)
            # The epochs the server saw, kept until the worker has written them: a worker that
            # dies (or fails inside fit) before its batched write loses none of them.
            if kind in ("started", "trial_run"):
                self._epochs[job.job_id] = (event["run_id"], [])
            elif kind == "epoch" and job.job_id in self._epochs:
                self._epochs[job.job_id][1].append((event["epoch"], dict(event["logs"])))
            elif kind == "finished":
                self._epochs.pop(job.job_id, None)  # the worker wrote every epoch
            settle = None
            if kind == "trial_finished" and job.job_id in self._epochs:
                run_id, epochs = self._epochs.pop(job.job_id)
                if event.get("status") == "FAILED":  # it may have failed inside fit
                    settle = (run_id, epochs, [], "FAILED", None)
            elif kind in ("failed", "killed"):
                # The worker may have failed before its batched write (an error inside fit),
                # or could not end its run (a tracking server away): the server sees to both.
                run_id, epochs = self._epochs.pop(job.job_id, (None, []))
                if kind == "failed":
                    ends = [r for r in dict.fromkeys([job.run_id, run_id]) if r]
                    settle = (run_id, epochs, ends, "FAILED", job.error)
        if settle is not None:
            # Off the reader thread: a store that does not answer must not hold up the events.
            threading.Thread(target=self._settle, args=settle, name="settle", daemon=True).start()

    @staticmethod
    def _settle(run_id: str | None, epochs: list[tuple[int, dict[str, float]]],
                ends: list[str], status: str, error: str | None,
                retry_s: float = RECORD_RETRY_S, only_running: bool = True) -> None:
        """Write the epochs of ``run_id`` the worker did not, and end ``ends`` as ``status``
        (with ``only_running``, those the worker could not end: its error.txt stays).

        While the store does not answer (a tracking server restarting) this retries for
        ``retry_s`` seconds, so the runs end in a true state once it is back; any other failure
        is given up at once (the store may be what failed).
        """
        from dl_core import tracking

        def end(rid: str) -> None:
            if not only_running or tracking.get_run(rid).info.status == "RUNNING":
                tracking.end_run(rid, status, error=error)

        steps = [lambda r=rid: end(r) for rid in ends]
        if run_id and epochs:
            steps.insert(0, lambda: tracking.log_missing_steps(run_id, epochs))
        deadline, delay = time.monotonic() + retry_s, 1.0
        while True:
            waiting = []
            for i, step in enumerate(steps):
                try:
                    step()
                except Exception as exc:
                    fault = tracking.store_fault(exc)
                    if fault is not None and fault[0] == tracking.UNREACHABLE:
                        # In order, all tried again below: a run is never seen ended before
                        # its epochs are written (a server back between two steps).
                        waiting = steps[i:]
                        break
            if not waiting or time.monotonic() >= deadline:
                return
            steps = waiting
            time.sleep(delay)
            delay = min(delay * 2, 15.0)

    def _worker_died(self, code: int) -> None:
        for answered, answer in list(self._waiters.values()):
            answer.update(type="failed", error=f"The worker stopped before it answered (exit "
                                               f"code {code}); it may have run out of memory.")
            answered.set()
        closing = self._closing
        status = "KILLED" if closing else "FAILED"
        with self._lock:
            was_used = self.ready.is_set()
            if self._proc is not None and self._proc.poll() is not None:
                self._proc = None
            orphans = [j for j in self._jobs.values() if j.active]
            unwritten = {j.job_id: self._epochs.pop(j.job_id, (None, [])) for j in orphans}
            for job in orphans:
                if closing:
                    job.status, job.error = "killed", "The app stopped while this job was running."
                else:
                    job.status = "failed"
                    job.error = (
                        f"The training worker stopped unexpectedly (exit code {code}); it may "
                        "have run out of memory. Try a smaller batch size or model."
                    )
        for job in orphans:
            # What the user saw is the record: the epochs the worker had not written yet.
            run_id, epochs = unwritten[job.job_id]
            ends = [r for r in dict.fromkeys([job.run_id, run_id]) if r]  # a sweep: both runs
            # At once (shutdown waits for this); a store that does not answer: no retries.
            self._settle(run_id, epochs, ends, status, job.error, retry_s=0.0, only_running=False)
        if not closing and (was_used or orphans):
            # A fresh worker, warm before the next Train (one that dies before it is ready is
            # not restarted here: that would loop).
            try:
                self.warm_up()
            except Exception:
                pass

    # -- public interface -----------------------------------------------------------------
    def warm_up(self) -> None:
        """Start the worker and import TensorFlow there now, so the first Train is quick."""
        if self._proc is not None and self._proc.poll() is None and (self.ready.is_set()
                                                                     or self._warming):
            return
        self._send({"cmd": "warmup"})
        self._warming = True

    def submit(self, spec: JobSpec) -> str:
        job_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._jobs[job_id] = JobState(job_id=job_id, spec=spec.to_dict())
        self._send({"cmd": "run", "job_id": job_id, "spec": spec.to_dict()})
        return job_id

    def submit_sweep(self, spec: SweepSpec) -> str:
        """Queue a sweep: its trials run one after another in the worker."""
        from dl_core.sweeps import trial_params

        n = len(trial_params(spec))  # a bad search space fails here, in the caller
        job_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._jobs[job_id] = JobState(job_id=job_id, spec=spec.base.to_dict(), kind="sweep",
                                          n_trials=n, sweep=spec.to_dict())
        self._send({"cmd": "sweep", "job_id": job_id, "spec": spec.to_dict()})
        return job_id

    def stop(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].stop_requested = True
        self._send({"cmd": "stop", "job_id": job_id})

    def predict(self, run_id: str, df: pd.DataFrame, threshold: float | None = None,
                timeout: float = 600.0) -> tuple[pd.DataFrame, list[str]]:
        """Predict raw rows with a run's logged model, in the worker (TensorFlow stays out of
        the web server, and a crash there cannot take it down).

        Binary classifiers use ``threshold``, else the one saved with the run (read here, so
        a model the worker keeps loaded follows a threshold saved since).

        Returns:
            The predictions (indexed like the rows they belong to) and notes about the input.

        Raises:
            DataError: with the worker's message (missing columns, no such model, ...).
        """
        from dl_core import tracking
        from dl_core.paths import app_home

        if threshold is None:
            threshold = tracking.saved_threshold(run_id)
        request_id = uuid.uuid4().hex[:12]
        folder = app_home() / "predictions"
        folder.mkdir(parents=True, exist_ok=True)
        data_path = folder / f"{request_id}.in.parquet"
        out_path = folder / f"{request_id}.out.parquet"
        df.to_parquet(data_path)
        try:
            answer = self._ask({"cmd": "predict", "job_id": request_id, "run_id": run_id,
                                "data_path": str(data_path), "out_path": str(out_path),
                                "threshold": threshold}, timeout, "The prediction")
            return pd.read_parquet(out_path), list(answer.get("notes") or [])
        finally:
            data_path.unlink(missing_ok=True)
            out_path.unlink(missing_ok=True)

    def generate(self, run_id: str, n: int, seed: int = 0,
                 condition: dict[str, Any] | None = None,
                 counts: dict[str, int] | None = None,
                 timeout: float = 600.0) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Sample a generator run in the worker (see :meth:`Executor.generate`)."""
        from dl_core.paths import app_home

        request_id = uuid.uuid4().hex[:12]
        folder = app_home() / "generations"
        folder.mkdir(parents=True, exist_ok=True)
        out_path = folder / f"{request_id}.parquet"
        try:
            answer = self._ask({"cmd": "generate", "job_id": request_id, "run_id": run_id,
                                "n": int(n), "seed": int(seed), "condition": dict(condition or {}),
                                "counts": {str(k): int(v) for k, v in (counts or {}).items()},
                                "out_path": str(out_path)}, timeout, "The generation")
            return pd.read_parquet(out_path), dict(answer["report"])
        finally:
            out_path.unlink(missing_ok=True)

    def latent(self, run_id: str, view: str, timeout: float = 300.0,
               **params: Any) -> dict[str, Any]:
        """A view of a generator's latent space, from the worker (see :meth:`Executor.latent`)."""
        answer = self._ask({"cmd": "latent", "job_id": uuid.uuid4().hex[:12], "run_id": run_id,
                            "view": view, **params}, timeout, "The latent explorer")
        return dict(answer["answer"])

    def summary(self, arch: str, model_config: dict[str, Any], input_shape: tuple[int, ...],
                n_outputs: int, task: str, timeout: float = 180.0) -> dict[str, Any]:
        """A model's layer table, parameter counts and diagram, built in the worker (where Keras
        is loaded already; answered beside a running job).

        Returns:
            ``{"layers": [{"layer", "type", "output shape", "parameters"}], "params": {"total",
            "trainable", "non_trainable"}, "dot": Graphviz source}``
            (:func:`dl_core.models.summary.summarize`).

        Raises:
            DataError: with the worker's message (a bad config, layers that do not fit the data).
            TrainingError: when the worker does not answer in time.
        """
        answer = self._ask({"cmd": "summary", "job_id": uuid.uuid4().hex[:12], "arch": arch,
                            "model_config": model_config, "input_shape": list(input_shape),
                            "n_outputs": int(n_outputs), "task": task}, timeout, "The model summary")
        return {key: answer[key] for key in ("layers", "params", "dot")}

    def _ask(self, msg: dict[str, Any], timeout: float, what: str) -> dict[str, Any]:
        """Send a request the worker answers beside its job queue; wait for its answer."""
        answered, answer = threading.Event(), {}
        self._waiters[msg["job_id"]] = (answered, answer)
        try:
            self._send(msg)
            if not answered.wait(timeout):
                raise TrainingError(f"{what} did not finish within {timeout:.0f} s.")
            if answer.get("type") == "failed":
                raise DataError(answer.get("error") or f"{what} failed.")
            return answer
        finally:
            self._waiters.pop(msg["job_id"], None)

    def shutdown(self) -> None:
        """Stop the worker; runs still active end KILLED with every epoch reported so far."""
        self._closing = True
        with self._lock:
            proc, self._proc = self._proc, None
            reader = self._reader
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=30)  # it records the active runs once the worker is gone


def executor_name() -> str:
    """The executor ``$DLX_EXECUTOR`` names (``local`` when unset).

    Raises:
        ConfigError: for another value.
    """
    name = (os.environ.get("DLX_EXECUTOR") or "local").strip().lower()
    if name not in EXECUTORS:
        raise ConfigError(f"DLX_EXECUTOR must be one of {list(EXECUTORS)}; got {name!r}.")
    return name


def make_executor() -> Executor:
    """The executor ``$DLX_EXECUTOR`` names: :class:`LocalExecutor`, or
    ``dl_core.ray_jobs.RayExecutor`` (on the cluster at ``$RAY_ADDRESS``, else one started on
    this machine)."""
    if executor_name() == "ray":
        from dl_core.ray_jobs import RayExecutor

        return RayExecutor()
    return LocalExecutor()
