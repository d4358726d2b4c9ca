"""Training jobs and sweep trials as Ray tasks: ``DLX_EXECUTOR=ray`` (``dl_core.jobs``).

Each training job is one Ray task asking for the GPUs its spec names (``JobSpec.gpus``; by
default one where the cluster has GPUs, else none). A sweep's trials are started together and
Ray runs as many side by side as the cluster has room for. Progress and Stop travel through a
small actor (:class:`dl_core.ray_bus.Bus`): a task pushes its events there and polls its stop
flag; the caller pulls the events and relays them to its ``report`` exactly as a local run
reports them, so the pages, the CLI and MLflow see the same jobs and runs, tagged
``dlx.executor=ray``.

``RAY_ADDRESS`` names an existing cluster; without it a Ray instance is started on this
machine. The cluster's nodes need this project's requirements; the code itself travels with
the tasks. Runs are recorded where ``MLFLOW_TRACKING_URI`` points (a path of the embedded
store is resolved here, so tasks write to the same file); on several machines that is a
tracking server, and datasets must sit on storage every node reads.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from dl_core.errors import ConfigError, DLExplorerError, TrainingError
from dl_core.jobs import Executor, JobState, JobTable, LocalExecutor, apply_event
from dl_core.sweeps import SweepSpec, TrialRunner
from dl_core.training import JobSpec, Reporter, TrainingResult

EXECUTOR = "ray"
#: How often a caller pulls a task's events and a task polls its stop flag (seconds).
POLL_S = 0.2
#: How long a stopped trial may take to end (its model is logged first).
STOP_WAIT_S = 60


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("DLX_EXECUTOR=ray needs Ray: install requirements-ray.txt into this "
                          "environment (`make test` does), or unset DLX_EXECUTOR.") from None
    return ray


def _task_env() -> dict[str, str]:
    """What a task's process needs to record where this process records."""
    from dl_core import tracking
    from dl_core.paths import app_home

    uri = tracking.tracking_uri()
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = "sqlite:///" + str(Path(uri.removeprefix("sqlite:///")).resolve())
    env = {"MLFLOW_TRACKING_URI": uri, "DL_EXPLORER_HOME": str(app_home().resolve())}
    for name in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


_connect_lock = threading.Lock()


def connect() -> Any:
    """Join the cluster at ``RAY_ADDRESS`` (or start one here, or use the one this process
    has joined already); returns the ``ray`` module."""
    from dl_core import tracking

    ray = _ray()
    with _connect_lock:
        if not ray.is_initialized():
            tracking.ensure_store()  # the schema is created here, before any task writes
            _init_in_lasting_thread(ray)
    return ray


def _init_in_lasting_thread(ray: Any) -> None:
    """``ray.init`` in a thread that lives as long as this process.

    A Ray started here runs its GCS and raylet with a parent-death signal (SIGKILL), which
    Linux sends when the *thread* that started them ends: started from a page's script thread
    (it ends with the rerun) or a short-lived join thread, the cluster died seconds later and
    the server with it ("Failed to connect to GCS within 60 seconds").

    Raises:
        Whatever ``ray.init`` raised (a cluster that cannot be reached).
    """
    started, failure = threading.Event(), []

    def init_and_stay() -> None:
        try:
            # This package travels with the job (Ray ships a copy to the cluster), so the
            # nodes need only the requirements installed.
            ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                     log_to_driver=False, configure_logging=False,
                     runtime_env={"py_modules": [str(Path(__file__).resolve().parent)]})
        except BaseException as exc:  # handed to the caller
            failure.append(exc)
            started.set()
            return
        started.set()
        threading.Event().wait()  # until the process ends (a daemon thread)

    threading.Thread(target=init_and_stay, name="ray-init", daemon=True).start()
    started.wait()
    if failure:
        raise failure[0]


def _runtime_env() -> dict[str, Any]:
    """Every task's and actor's: where to record (:func:`_task_env`), on top of the job's."""
    return {"env_vars": _task_env()}


def cluster_gpus() -> int:
    """GPUs the cluster has in all."""
    return int(connect().cluster_resources().get("GPU", 0))


def _train_task(spec_dict: dict[str, Any], bus: Any, key: str, stop_key: str) -> dict[str, Any]:
    """One training job inside a Ray worker: ``run_training`` with its events sent to the bus.

    Returns the :class:`TrainingResult` as a dict, or ``{"error", "error_type"}`` for a
    :class:`DLExplorerError` (re-raised as the same class by the caller), or ``{"skipped":
    True}`` when stopped before it began (no run is created).
    """
    import ray

    from dl_core.backend import configure

    configure()  # before TensorFlow is imported in this worker
    from dl_core.training import run_training

    if ray.get(bus.is_stopped.remote(stop_key)):
        return {"skipped": True}
    stop, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.wait(POLL_S):
            if ray.get(bus.is_stopped.remote(stop_key)):
                stop.set()
                return

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
    try:
        result = run_training(JobSpec.from_dict(spec_dict),
                              report=lambda event: bus.push.remote(key, event), stop=stop,
                              tags={_tag(): EXECUTOR})
        return {"result": dataclasses.asdict(result)}
    except DLExplorerError as exc:
        return {"error": str(exc), "error_type": type(exc).__name__}
    finally:
        done.set()
        # Calls from one caller run in order: once this returns, every event is on the bus.
        ray.get(bus.push.remote(key, {"type": "_flushed"}))


def _tag() -> str:
    from dl_core import tracking

    return tracking.TAG_EXECUTOR


@functools.cache
def _remotes() -> tuple[Any, Any]:
    """The bus actor class and the training task, as Ray objects (made once)."""
    from dl_core.ray_bus import Bus

    ray = _ray()
    return ray.remote(num_cpus=0)(Bus), ray.remote(_train_task)


def _submit(spec: JobSpec, bus: Any, key: str, stop_key: str) -> Any:
    """Start ``spec`` as a Ray task with the GPUs it asks for; returns its object ref."""
    available = cluster_gpus()
    gpus = spec.gpus if spec.gpus is not None else min(1, available)
    if gpus > available:
        raise ConfigError(f"The job asks for {gpus} GPU(s) but the Ray cluster has "
                          f"{available}; ask for fewer (gpus=0 trains on CPUs).")
    _, task = _remotes()
    # A GPU task gets a fresh process: TensorFlow sees the GPUs Ray gave it when it starts.
    options = {"num_cpus": 1, "num_gpus": gpus, "runtime_env": _runtime_env(),
               **({"max_calls": 1} if gpus else {})}
    return task.options(**options).remote(spec.to_dict(), bus, key, stop_key)


def _new_bus() -> Any:
    bus_cls, _ = _remotes()
    return bus_cls.options(runtime_env=_runtime_env()).remote()


def _outcome(answer: dict[str, Any]) -> TrainingResult | None:
    """The task's result; its error re-raised as the same kind of :class:`DLExplorerError`."""
    import dl_core.errors as errors

    if answer.get("skipped"):
        return None
    if "error" in answer:
        cls = getattr(errors, answer.get("error_type", ""), None)
        if not (isinstance(cls, type) and issubclass(cls, DLExplorerError)):
            cls = TrainingError
        raise cls(answer["error"])
    return TrainingResult(**answer["result"])


def _relay_until_done(ray: Any, ref: Any, bus: Any, key: str, relay: Reporter,
                      stop: threading.Event | None = None, stop_key: str | None = None) -> Any:
    """Relay a task's events until it returns; forward ``stop`` to it. Returns its answer."""
    stop_sent = False
    while True:
        if stop is not None and stop.is_set() and not stop_sent:
            bus.stop.remote(stop_key)
            stop_sent = True
        ready, _ = ray.wait([ref], timeout=POLL_S)
        for event in ray.get(bus.pull.remote(key)):
            if event.get("type") != "_flushed":
                relay(event)
        if ready:
            try:
                return ray.get(ref)
            except ray.exceptions.RayError as exc:  # the task's process died (out of memory...)
                raise TrainingError(f"The Ray task stopped unexpectedly: {exc}") from exc


def run_training(spec: JobSpec, report: Reporter | None = None,
                 stop: threading.Event | None = None) -> TrainingResult:
    """:func:`dl_core.training.run_training` as a Ray task: same events, same run.

    Raises:
        DLExplorerError: as the local run would (bad data, a bad config); TrainingError if
            the task's process died.
    """
    ray = connect()
    bus = _new_bus()
    try:
        ref = _submit(spec, bus, "job", "job")
        result = _outcome(_relay_until_done(ray, ref, bus, "job", report or (lambda e: None),
                                            stop, "job"))
        if result is None:
            raise TrainingError("The job was stopped before it started.")
        return result
    finally:
        ray.kill(bus)


class RayTrials(TrialRunner):
    """A sweep's trials as Ray tasks, started together (:func:`dl_core.sweeps.run_sweep`).

    Results are handed back in trial order, so the parent run records the trials as a local
    sweep does; a trial's events are relayed when its turn comes (the live curves follow one
    trial at a time, as locally).
    """

    executor = EXECUTOR

    def start(self, jobs: list[JobSpec], stop: threading.Event) -> None:
        self.ray = connect()
        self.bus = _new_bus()
        self.stop = stop
        self.refs = [_submit(job, self.bus, f"trial-{i}", "sweep")
                     for i, job in enumerate(jobs, start=1)]

    def result(self, trial: int, relay: Reporter) -> TrainingResult:
        answer = _relay_until_done(self.ray, self.refs[trial - 1], self.bus, f"trial-{trial}",
                                   relay, self.stop, "sweep")
        result = _outcome(answer)
        if result is None:
            raise TrainingError("Stopped before it started.")
        return result

    def after_stop(self, trial: int) -> TrainingResult | None:
        # It may have been training beside the stopped trial: once told to stop, it ends
        # KILLED with its model logged (or returns at once if it never began).
        self.bus.stop.remote("sweep")
        try:
            answer = self.ray.get(self.refs[trial - 1], timeout=STOP_WAIT_S)
        except self.ray.exceptions.GetTimeoutError:
            raise TrainingError(f"Trial {trial} did not stop within {STOP_WAIT_S} s of the "
                                "sweep's stop; its run may still be open.") from None
        except self.ray.exceptions.RayError as exc:
            raise TrainingError(f"The Ray task stopped unexpectedly: {exc}") from exc
        return _outcome(answer)

    def close(self) -> None:
        if not hasattr(self, "bus"):
            return
        # Trials not reached (a stop, an error) end now: waiting ones return before creating
        # a run, running ones stop at their next batch and end KILLED with their model. (Not
        # ray.cancel: it interrupts a fit before the model is logged.)
        pending = [ref for ref in self.refs if not self.ray.wait([ref], timeout=0)[0]]
        if pending:
            self.bus.stop.remote("sweep")
            self.ray.wait(pending, num_returns=len(pending), timeout=STOP_WAIT_S)
        self.ray.kill(self.bus)


class RayExecutor(JobTable, Executor):
    """The :class:`~dl_core.jobs.Executor` the pages use with ``DLX_EXECUTOR=ray``.

    Training jobs and sweeps run on the Ray cluster (a thread here relays each job's events
    into its :class:`~dl_core.jobs.JobState`); predictions, model summaries, generations and
    latent views stay with a local worker (:class:`~dl_core.jobs.LocalExecutor`): they are quick
    answers a page waits for, and must not queue behind trainings for the cluster's CPUs.
    """

    trials_side_by_side = True

    def __init__(self, local: LocalExecutor | None = None) -> None:
        super().__init__()
        self._local = local or LocalExecutor()
        self._stops: dict[str, threading.Event] = {}
        self._joining = False
        self.device: str | None = None

    def warm_up(self) -> None:
        """Start the local worker and join the cluster (in a thread: starting Ray here takes
        seconds); ``device`` then names the cluster."""
        self._local.warm_up()
        with self._lock:
            if self._joining:
                return
            self._joining = True

        def join() -> None:
            try:
                res = connect().cluster_resources()
            except Exception:  # said again, as a job's message, when a job is submitted
                with self._lock:
                    self._joining = False
                return
            gpus = int(res.get("GPU", 0))
            self.device = (f"Ray cluster ({int(res.get('CPU', 0))} CPUs"
                           f"{f', {gpus} GPUs' if gpus else ''})")

        threading.Thread(target=join, name="ray-join", daemon=True).start()

    def _start(self, state: JobState, work: Any) -> str:
        stop = threading.Event()
        with self._lock:
            self._jobs[state.job_id], self._stops[state.job_id] = state, stop

        def report(event: dict[str, Any]) -> None:
            with self._lock:
                apply_event(state, event)

        def run() -> None:
            try:
                work(report, stop)
            except DLExplorerError as exc:
                report({"type": "killed" if stop.is_set() else "failed", "error": str(exc)})
            except Exception as exc:  # a bug, Ray gone: still a message on the page
                report({"type": "failed", "error": f"{type(exc).__name__}: {exc}"})

        threading.Thread(target=run, name=f"ray-job-{state.job_id}", daemon=True).start()
        return state.job_id

    def submit(self, spec: JobSpec) -> str:
        state = JobState(job_id=uuid.uuid4().hex[:12], spec=spec.to_dict())
        return self._start(state, lambda report, stop: run_training(spec, report, stop))

    def submit_sweep(self, spec: SweepSpec) -> str:
        from dl_core.sweeps import run_sweep, trial_params

        n = len(trial_params(spec))  # a bad search space fails here, in the caller
        state = JobState(job_id=uuid.uuid4().hex[:12], spec=spec.base.to_dict(), kind="sweep",
                         n_trials=n, sweep=spec.to_dict())
        return self._start(state, lambda report, stop: run_sweep(spec, report, stop,
                                                                 runner=RayTrials()))

    def stop(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].stop_requested = True
                self._stops[job_id].set()

    def predict(self, run_id: str, df: pd.DataFrame, threshold: float | None = None,
                timeout: float = 600.0) -> tuple[pd.DataFrame, list[str]]:
        return self._local.predict(run_id, df, threshold, timeout)

    def summary(self, arch: str, model_config: dict[str, Any], input_shape: tuple[int, ...],
                n_outputs: int, task: str, timeout: float = 180.0) -> dict[str, Any]:
        return self._local.summary(arch, model_config, input_shape, n_outputs, task, timeout)

    def generate(self, run_id: str, n: int, seed: int = 0,
                 condition: dict[str, Any] | None = None,
                 counts: dict[str, int] | None = None,
                 timeout: float = 600.0) -> tuple[pd.DataFrame, dict[str, Any]]:
        return self._local.generate(run_id, n, seed, condition, counts, timeout)

    def latent(self, run_id: str, view: str, timeout: float = 300.0,
               **params: Any) -> dict[str, Any]:
        return self._local.latent(run_id, view, timeout, **params)

    def shutdown(self) -> None:
        with self._lock:
            stops = list(self._stops.values())
        for stop in stops:
            stop.set()
        self._local.shutdown()
