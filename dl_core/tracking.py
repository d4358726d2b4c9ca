"""MLflow, the system of record. The only module (with its pyfunc wrapper) that imports mlflow.

The server side uses ``MlflowClient`` with explicit run ids (MLflow's active run is per thread).
The default store is ``sqlite:///mlruns/mlflow.db`` with artifacts under ``mlruns/``;
``MLFLOW_TRACKING_URI`` points everything at another store or a tracking server.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import socket
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dl_core.errors import TrackingError

DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"
# Tags written on every DL Explorer run (MLflow's own system tags start with "mlflow.").
TAG_KIND = "dlx.kind"  # training | generation | sweep
TAG_WORKER_PID = "dlx.worker_pid"
TAG_HOST = "dlx.host"
TAG_EXECUTOR = "dlx.executor"  # local | ray: where the run trained (dl_core.jobs)
TAG_ERROR = "dlx.error"
TAG_THRESHOLD = "dlx.threshold"  # a binary run's saved decision threshold (picked on validation)
ERROR_FILE = "error.txt"  # a failed run's error message and traceback (an artifact)
MODEL_NAME = "model"
FINAL_STATUSES = ("FINISHED", "KILLED", "FAILED")


def tracking_uri() -> str:
    """The tracking URI in force: ``$MLFLOW_TRACKING_URI`` or the embedded SQLite store."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return uri


def _local_artifact_root() -> str | None:
    """Artifacts go beside a local SQLite store (``mlruns/``); a server chooses its own."""
    uri = tracking_uri()
    if uri.startswith("sqlite:"):
        db = Path(uri.split(":///", 1)[1])
        return db.resolve().parent.as_uri()
    return None


# A write that found SQLite busy is retried for this long before the user hears of it.
LOCKED_RETRY_S = 30.0


def _is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is SQLite's "database is locked"."""
    seen: BaseException | None = exc
    for _ in range(8):  # MLflow wraps SQLAlchemy's error, which wraps sqlite3's
        if seen is None:
            return False
        if "database is locked" in str(seen) or "database table is locked" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_locked(fn, *args, **kwargs):
    """Call ``fn``, retrying with backoff while SQLite says "database is locked".

    Several processes (the server, its worker, CLI runs) write to one SQLite file; a writer
    that finds it busy is told so at once in some cases (a read transaction upgrading to a
    write), whatever the busy timeout. A failed statement was rolled back, so it is retried.

    Raises:
        TrackingError: when the store stayed locked for :data:`LOCKED_RETRY_S`.
    """
    deadline = time.monotonic() + LOCKED_RETRY_S
    delay = 0.05
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not _is_locked(exc):
                raise
            if time.monotonic() >= deadline:
                raise TrackingError(
                    f"The MLflow store at {tracking_uri()!r} stayed busy (locked by another "
                    f"process) for {LOCKED_RETRY_S:.0f} s; try again in a moment, or use a "
                    "tracking server (MLFLOW_TRACKING_URI) when many jobs write at once."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


class _RetryingClient:
    """An ``MlflowClient`` whose calls are retried while SQLite is locked (:func:`retry_locked`)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            return retry_locked(attr, *args, **kwargs)

        call.__name__ = name
        call.__doc__ = attr.__doc__
        return call


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for any other store)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock on ``path`` held by this process (released when it ends, even killed)."""
    try:
        import fcntl
    except ImportError:  # Windows: no fcntl; MLflow's own init runs unguarded there
        yield
        return
    try:
        fh = open(path, "a")
    except OSError:  # a read-only folder: nothing can create the schema there anyway
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=16)
def _initialised(uri: str) -> None:
    """Create (or check) the store's schema once per process, one process at a time.

    MLflow creates and migrates a SQLite schema from whichever process opens the file first,
    without a lock: processes starting together on a new store (four CLI runs, the server and
    its worker) raced, failing with "table ... already exists" and leaving a half-migrated
    store. A file lock beside the database lets one process migrate while the others wait,
    then find the tables there. A failure is not cached: the next call tries again.
    """
    from mlflow import MlflowClient

    db = _sqlite_path(uri)
    if db is None:  # a tracking server or another database migrates on its own side
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(db.with_name(db.name + ".lock")):
        retry_locked(MlflowClient(tracking_uri=uri).search_experiments, max_results=1)


def client():
    """An ``MlflowClient`` bound to :func:`tracking_uri`, on a store that is ready.

    Raises:
        TrackingError: if the store cannot be opened.
    """
    from mlflow import MlflowClient

    return _RetryingClient(MlflowClient(tracking_uri=ready_uri()))


def ready_uri() -> str:
    """:func:`tracking_uri`, its store's schema created first; what every MLflow call gets.

    Raises:
        TrackingError: if the store cannot be opened.
    """
    uri = tracking_uri()
    try:
        _initialised(uri)
    except TrackingError:
        raise
    except Exception as exc:  # MLflow raises many types for an unreachable or broken store
        raise TrackingError(
            f"Cannot open the MLflow store at {uri!r}: {exc}. Check MLFLOW_TRACKING_URI, or "
            "unset it to use the embedded store under mlruns/."
        ) from exc
    return uri


def ensure_store() -> None:
    """Create the store's schema (once, under a file lock) and check that it can be read.

    Raises:
        TrackingError: if the store cannot be reached.
    """
    try:
        client().search_experiments(max_results=1)
    except TrackingError:
        raise
    except Exception as exc:  # MLflow raises many types for an unreachable store
        raise TrackingError(
            f"Cannot open the MLflow store at {tracking_uri()!r}: {exc}. Check "
            "MLFLOW_TRACKING_URI, or unset it to use the embedded store under mlruns/."
        ) from exc


_FULL = "no space left on the disk"
_READ_ONLY = "read-only"
UNREACHABLE = "unreachable"
#: Words of the errors (OSError, SQLite, the HTTP client) that mean the store cannot be written.
_STORE_FAULTS = (
    ("no space left", _FULL), ("disk is full", _FULL), ("disk quota", _FULL),
    ("read-only file system", _READ_ONLY), ("readonly database", _READ_ONLY),
    ("permission denied", _READ_ONLY), ("operation not permitted", _READ_ONLY),
    ("unable to open database file", _READ_ONLY),
    ("max retries exceeded", UNREACHABLE), ("connection refused", UNREACHABLE),
    ("failed to establish a new connection", UNREACHABLE), ("connectionerror", UNREACHABLE),
    ("remotedisconnected", UNREACHABLE), ("connection aborted", UNREACHABLE),
)



def store_fault(exc: BaseException) -> tuple[str, str] | None:
    """What kept ``exc``'s write from the store, if a store fault: ``(kind, detail)`` with kind
    ``"no space left on the disk"``, ``"read-only"`` or ``"unreachable"``; None otherwise."""
    import errno

    chain, seen = [], exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for e in chain:
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return _FULL, f"{e.strerror}: {e.filename}" if e.filename else str(e)
        if isinstance(e, OSError) and e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return _READ_ONLY, f"{e.strerror}: {e.filename}" if e.filename else str(e)
        text = f"{type(e).__name__}: {e}".lower()
        kind = next((k for words, k in _STORE_FAULTS if words in text), None)
        if kind:
            return kind, (str(e).splitlines()[0][:300] if str(e) else type(e).__name__)
    return None


def store_error(exc: BaseException, doing: str = "record the run") -> TrackingError | None:
    """A message people can act on when writing to the store failed: a full disk, a read-only
    ``mlruns/``, a tracking server that stopped answering. None for any other error.

    Args:
        exc: The error (its causes are read too).
        doing: What could not be done, for the message ("start the run").
    """
    fault = store_fault(exc)
    if fault is None:
        return None
    kind, detail = fault
    uri = tracking_uri()
    if kind == _FULL:
        return TrackingError(f"Cannot {doing}: there is no space left on the disk of the MLflow "
                             f"store at {uri!r} ({detail}). Free some space, then try again.")
    if kind == _READ_ONLY:
        return TrackingError(f"Cannot {doing}: the MLflow store at {uri!r} is read-only "
                             f"({detail}). Make mlruns/ writable, or point MLFLOW_TRACKING_URI "
                             "at a writable store, then try again.")
    if kind == UNREACHABLE:
        return TrackingError(f"Cannot {doing}: the MLflow tracking server at {uri!r} stopped "
                             f"answering ({detail}). Check that it is running, then try again.")
    return None


def check_artifacts_writable(exp_id: str) -> None:
    """Write and remove a small file where a local store keeps the experiment's artifacts, so a
    full disk or a read-only folder stops a run before it starts (not after its fit).

    Raises:
        TrackingError: if the folder cannot be written.
    """
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    location = client().get_experiment(exp_id).artifact_location or ""
    scheme = urlparse(location).scheme
    if scheme == "file":
        folder = Path(url2pathname(urlparse(location).path))
    elif scheme == "" and location:
        folder = Path(location)
    else:
        return  # a tracking server (mlflow-artifacts:) or a bucket: its own business
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".dlx-write-check-") as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        named = OSError(exc.errno, exc.strerror, str(folder))  # the folder, not the probe
        raise (store_error(named, "start the run") or TrackingError(
            f"Cannot start the run: cannot write to {folder} ({exc}).")) from exc


def experiment_id(name: str) -> str:
    """Id of experiment ``name``, created (or restored from the bin) if needed."""
    c = client()
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            c.restore_experiment(exp.experiment_id)
        return exp.experiment_id
    root = _local_artifact_root()
    location = None
    if root:
        location = f"{root}/{abs(hash(name)) % 10**8}-{int(time.time() * 1000)}"
    try:
        return c.create_experiment(name, artifact_location=location)
    except Exception:
        # Another process created it between our lookup and create.
        exp = c.get_experiment_by_name(name)
        if exp is None:
            raise
        return exp.experiment_id


def _name_stem(tags: dict[str, Any]) -> str:
    """What a run is, as the start of its default name: ``fnn-churn``, ``sweep-lstm-load``."""
    import re

    parts = [tags.get("arch"), tags.get("dataset")]
    stem = "-".join(str(p) for p in parts if p) or "run"
    if tags.get(TAG_KIND) == "sweep":
        stem = f"sweep-{stem}"
    return re.sub(r"\s+", "_", stem.strip())[:200]


def _names_like(c: Any, exp_id: str, stem: str) -> dict[str, list[tuple[int, str]]]:
    """Active runs of the experiment whose name starts with ``stem``: name -> [(start, id)]."""
    # The filter only narrows the search; names are compared exactly below. Quotes and
    # backslashes cannot be escaped in a filter string, so the pattern stops before them.
    safe = stem.split("'")[0].split("\\")[0].replace("%", "")
    out: dict[str, list[tuple[int, str]]] = {}
    token = None
    while True:
        page = c.search_runs([exp_id], filter_string=f"attributes.run_name LIKE '{safe}%'",
                             max_results=SEARCH_PAGE_SIZE, page_token=token)
        for r in page:
            out.setdefault(r.info.run_name, []).append((r.info.start_time or 0, r.info.run_id))
        token = page.token
        if not token:
            return out


def _free_name(wanted: str | None, stem: str, taken: set[str]) -> str:
    """``wanted`` if free, else ``wanted-2``, ``-3``...; without ``wanted``, ``stem-N`` with
    N one more than the highest N in use."""
    import re

    if wanted:
        n, name = 1, wanted
        while name in taken:
            n += 1
            name = f"{wanted}-{n}"
        return name
    pattern = re.compile(re.escape(stem) + r"-(\d+)$")
    used = [int(m.group(1)) for t in taken if (m := pattern.match(t))]
    n = max(used, default=0) + 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _claim_unique_name(c: Any, exp_id: str, run: Any) -> str:
    """Make sure no other active run of the experiment has ``run``'s name.

    Runs are created under a name that was free a moment before; two processes (CLI, workers,
    clients of one tracking server) starting at once can both take it. Each run then looks:
    one that sees another run with its name moves to the name plus its own short id (unique,
    so two movers cannot collide again). Of two runs racing for a name, at least one sees the
    other (whichever looked last), so no two keep it.
    """
    name = run.info.run_name
    run_id = run.info.run_id
    for _ in range(10):
        holders = _names_like(c, exp_id, name).get(name, [])
        if not any(rid != run_id for _, rid in holders):
            return name
        name = f"{name}-{run_id[:6]}"
        c.update_run(run_id, name=name)
    raise TrackingError(f"Could not give run {run_id} a unique name; rename it.")


def start_run(
    experiment: str, *, run_name: str | None, params: dict[str, Any], tags: dict[str, Any],
    parent_run_id: str | None = None,
) -> str:
    """Create a RUNNING run with its params and tags; returns the run id.

    Run names are unique within an experiment: without ``run_name`` the run is called
    ``<arch>-<dataset>-<N>`` (``sweep-`` first for a sweep); a ``run_name`` already in use
    gets ``-2``, ``-3``... This holds for runs started anywhere (UI, CLI, concurrent jobs).
    """
    from mlflow.entities import Param

    c = client()
    # Tag values as text: a tracking server's client refuses numbers (rows, columns); a None
    # tag is left out rather than stored as the text "None".
    all_tags = {k: str(v) for k, v in {TAG_WORKER_PID: os.getpid(), TAG_HOST: socket.gethostname(),
                                       TAG_EXECUTOR: "local", **tags}.items() if v is not None}
    if parent_run_id:
        all_tags["mlflow.parentRunId"] = parent_run_id
    try:
        exp_id = experiment_id(experiment)
        check_artifacts_writable(exp_id)
        wanted = run_name.strip() if run_name and run_name.strip() else None
        stem = _name_stem(tags)
        taken = set(_names_like(c, exp_id, wanted or stem))
        run = c.create_run(exp_id, run_name=_free_name(wanted, stem, taken), tags=all_tags)
        _claim_unique_name(c, exp_id, run)
        run_id = run.info.run_id
        items = [Param(k, str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow caps a batch at 100 params
            c.log_batch(run_id, params=items[i : i + 100])
    except TrackingError:
        raise
    except Exception as exc:
        error = store_error(exc, "start the run")
        if error is None:
            raise
        raise error from exc
    return run_id


def log_metrics(run_id: str, metrics: dict[str, float | None], step: int | None = None,
                synchronous: bool = True) -> None:
    """Log numeric metrics (None and NaN skipped) in one batched call."""
    log_metric_steps(run_id, [(step or 0, metrics)], synchronous=synchronous)


def log_metric_steps(run_id: str, steps: list[tuple[int, dict[str, float | None]]],
                     synchronous: bool = True) -> None:
    """Log the metrics of several steps (epochs) in as few calls as MLflow allows."""
    import math

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [
        Metric(k, float(v), now, step)
        for step, metrics in steps
        for k, v in metrics.items()
        if v is not None and not math.isnan(float(v))
    ]
    c = client()
    for i in range(0, len(items), 1000):  # MLflow caps a batch at 1,000 metrics
        c.log_batch(run_id, metrics=items[i : i + 1000], synchronous=synchronous)


def log_missing_steps(run_id: str, steps: list[tuple[int, dict[str, float | None]]]) -> int:
    """Log the values of ``steps`` that the run does not have yet (a step already logged under
    a key is left alone), so writing them again after a partial write duplicates nothing.

    Returns:
        How many values it logged.
    """
    c = client()
    keys = {k for _, metrics in steps for k in metrics}
    logged = {k: {m.step for m in c.get_metric_history(run_id, k)} for k in keys}
    missing = [(step, {k: v for k, v in metrics.items() if step not in logged[k]})
               for step, metrics in steps]
    missing = [(step, metrics) for step, metrics in missing if metrics]
    log_metric_steps(run_id, missing)
    return sum(len(m) for _, m in missing)


def set_tags(run_id: str, tags: dict[str, Any]) -> None:
    from mlflow.entities import RunTag

    client().log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])


def log_dict(run_id: str, data: Any, artifact_file: str) -> None:
    """Store JSON data (plots as data, reports, profiles) as an artifact."""
    client().log_dict(run_id, data, artifact_file)


def log_files(run_id: str, paths: Iterable[Path], artifact_path: str | None = None) -> None:
    c = client()
    for p in paths:
        c.log_artifact(run_id, str(p), artifact_path)


def log_model(run_id: str, files: dict[str, Path], *, input_example_df: Any,
              predictions_df: Any) -> str:
    """Log the pyfunc wrapper (models from code) with the model files and a signature.

    Returns:
        The model URI (``runs:/<run_id>/model``) that ``mlflow.pyfunc.load_model`` accepts.
    """
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    def colspec(name: str, series) -> ColSpec:
        # Integer columns (pixels, counts) stay "long": MLflow refuses int64 -> double.
        kind = series.dtype.kind
        dtype = "long" if kind in "iu" else "double" if kind in "bf" else "string"
        return ColSpec(dtype, name, required=False)

    signature = ModelSignature(
        inputs=Schema([colspec(str(c), input_example_df[c]) for c in input_example_df.columns]),
        outputs=Schema([colspec(str(c), predictions_df[c]) for c in predictions_df.columns]),
        # Binary: predict(df, params={"threshold": t}) overrides the saved threshold (MLflow
        # drops params a signature does not declare); None keeps the saved one.
        params=ParamSchema([ParamSpec("threshold", "double", None)]),
    )
    mlflow.set_tracking_uri(ready_uri())
    package = Path(__file__).resolve().parent
    with mlflow.start_run(run_id=run_id), warnings.catch_warnings():
        # The signature is explicit, so MLflow's "no input example" nudge does not apply.
        warnings.filterwarnings("ignore", message=".*input example.*", category=UserWarning)
        mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=str(package / "mlflow_model.py"),
            artifacts={k: str(v) for k, v in files.items()},
            code_paths=[str(package)],
            signature=signature,
            pip_requirements=model_requirements(),
        )
    return f"runs:/{run_id}/{MODEL_NAME}"


def model_requirements() -> list[str]:
    """The pip requirements logged with each model, pinned to the installed versions."""
    # Listed explicitly: MLflow's inference would load the model in a subprocess (seconds).
    from importlib.metadata import version

    # Whichever TensorFlow build is installed: tensorflow-cpu, or tensorflow (the GPU build).
    names = ["keras", "tensorflow-cpu", "tensorflow", "scikit-learn", "skops", "pandas", "numpy",
             "mlflow"]
    out = []
    for n in names:
        try:
            out.append(f"{n}=={version(n)}")
        except Exception:
            continue
    return out


def end_run(run_id: str, status: str, error: str | None = None,
            details: str | None = None) -> None:
    """Mark a run FINISHED, KILLED or FAILED.

    The error text goes in a tag (what the Runs page shows) and, with ``details`` (a
    traceback), in the artifact ``error.txt``: in full, and kept when the tag is cut.
    """
    import mlflow

    if status not in FINAL_STATUSES:
        raise ValueError(f"status must be one of {FINAL_STATUSES}")
    c = client()
    if error:
        c.set_tag(run_id, TAG_ERROR, error[:5000])
        try:
            c.log_text(run_id, error + (f"\n\n{details}" if details else "") + "\n", ERROR_FILE)
        except Exception:  # the artifact store may be what failed (disk full, read-only)
            pass
    mlflow.flush_async_logging()
    c.set_terminated(run_id, status)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_orphaned_runs() -> list[str]:
    """Mark RUNNING runs of this host whose worker process is gone as FAILED.

    Returns:
        The ids of the runs it marked.
    """
    from mlflow.entities import ViewType

    c = client()
    host = socket.gethostname()
    ids = [e.experiment_id for e in c.search_experiments(view_type=ViewType.ALL)]
    if not ids:
        return []
    marked = []
    runs = c.search_runs(ids, filter_string="attributes.status = 'RUNNING'", max_results=1000)
    for run in runs:
        tags = run.data.tags
        pid = tags.get(TAG_WORKER_PID)
        if tags.get(TAG_HOST) != host or not pid or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        c.set_tag(run.info.run_id, TAG_ERROR, "The worker process ended while this run was active.")
        c.set_terminated(run.info.run_id, "FAILED")
        marked.append(run.info.run_id)
    return marked


# MLflow's own run id pattern (ASCII letters, digits, "_" and "-"): never a path, never "..".
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,255}")


def check_run_id(run_id: Any) -> str:
    """``run_id`` if it can be a run id; what a user typed (CLI, URL) is checked here first.

    Raises:
        TrackingError: for anything else (a path, ``..``, an empty or oversized value).
    """
    if not isinstance(run_id, str) or _RUN_ID.fullmatch(run_id) is None:
        shown = str(run_id)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise TrackingError(
            f"{shown!r} is not a run id: a run id is letters and digits (32 of them, as "
            "`train` prints and the Runs page shows), never a path."
        )
    return run_id


def check_artifact_path(path: Any) -> str:
    """``path`` if it stays inside a run's artifacts (relative, no ``..``).

    Raises:
        TrackingError: for an absolute path, a drive, ``..`` or a NUL character.
    """
    text = str(path)
    parts = text.replace("\\", "/").split("/")
    if (not text.strip() or "\x00" in text or text.startswith(("/", "\\", "~"))
            or re.match(r"[A-Za-z]:", text) or ".." in parts):
        raise TrackingError(
            f"Artifact path {text[:80]!r} is not allowed: artifact paths are relative to the "
            "run's artifacts (like 'evaluation/report.json'), without '..'."
        )
    return text


def get_run(run_id: str):
    """The MLflow run ``run_id``.

    Raises:
        TrackingError: if ``run_id`` is not a run id or the store has no such run.
    """
    check_run_id(run_id)
    try:
        return client().get_run(run_id)
    except Exception as exc:
        raise TrackingError(f"No run {run_id!r} in the MLflow store at {tracking_uri()!r}.") from exc


def load_json(run_id: str, artifact_file: str) -> Any:
    """Read a JSON artifact of a run (None if the run has no such artifact)."""
    data = artifact_bytes(run_id, artifact_file)
    return None if data is None else json.loads(data)


def metric_history(run_id: str, keys: Iterable[str]) -> dict[str, list[float]]:
    """Per-epoch values of ``keys`` ordered by step (the learning curves of a run)."""
    check_run_id(run_id)
    c = client()
    out = {}
    for key in keys:
        # One value per step, the first logged: training logs the kept model's validation
        # figures again at the last epoch's step (so they read as the latest value).
        by_step: dict[int, float] = {}
        for m in sorted(c.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp)):
            by_step.setdefault(m.step, m.value)
        if by_step:
            out[key] = [by_step[s] for s in sorted(by_step)]
    return out


def saved_threshold(run_id: str) -> float | None:
    """A binary run's decision threshold saved on the Evaluate page (None if none was)."""
    value = get_run(run_id).data.tags.get(TAG_THRESHOLD)
    return None if value is None else float(value)


def update_model_meta(run_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Rewrite keys of the ``meta.json`` inside a run's logged model (what the pyfunc reads).

    The file is replaced where the model's artifacts live (MLflow 3 keeps a logged model's
    files apart from the run's), through the client API, so a tracking server works too.

    Returns:
        The new meta.

    Raises:
        TrackingError: if the run has no logged model.
    """
    import mlflow

    c = client()
    run = get_run(run_id)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = Path(mlflow.artifacts.download_artifacts(
                f"runs:/{run_id}/{MODEL_NAME}/artifacts/meta.json", dst_path=tmp,
                tracking_uri=ready_uri()))
        except Exception as exc:
            raise TrackingError(
                f"Run {run_id} has no logged model (it may have failed before the model was "
                "saved); pick a FINISHED or KILLED training run."
            ) from exc
        meta = {**json.loads(local.read_text()), **changes}
        local.write_text(json.dumps(meta, indent=2))
        outputs = getattr(run, "outputs", None)
        model_ids = [o.model_id for o in (outputs.model_outputs if outputs else [])]
        model_ids = [m for m in model_ids if c.get_logged_model(m).name == MODEL_NAME]
        if model_ids:
            c.log_model_artifact(model_ids[0], str(local), "artifacts")
        else:  # a model stored inside the run's own artifacts (MLflow 2 layout)
            c.log_artifact(run_id, str(local), f"{MODEL_NAME}/artifacts")
    return meta


def load_model(model_uri: str):
    """Load a logged model as an MLflow pyfunc model."""
    import mlflow

    mlflow.set_tracking_uri(ready_uri())
    return mlflow.pyfunc.load_model(model_uri)


# -- the Runs page: everything it reads or edits goes through MLflow's client API, so it works
# against a remote tracking server unchanged. -------------------------------------------------
TAG_NOTE = "mlflow.note.content"  # what the MLflow UI shows as a run's description
TAG_PARENT = "mlflow.parentRunId"
SEARCH_PAGE_SIZE = 5000  # MLflow caps one page at 50,000; smaller pages keep memory flat


def experiments() -> dict[str, str]:
    """Active experiments as ``{experiment_id: name}``."""
    from mlflow.entities import ViewType

    return {e.experiment_id: e.name
            for e in client().search_experiments(view_type=ViewType.ACTIVE_ONLY)}


def _record(info: Any, data: Any, names: dict[str, str]) -> dict[str, Any]:
    rec = {
        "run_id": info.run_id, "run_name": info.run_name, "experiment_id": info.experiment_id,
        "experiment": names.get(info.experiment_id, info.experiment_id),
        "status": info.status, "start_time": info.start_time, "end_time": info.end_time,
    }
    rec.update({f"params.{k}": v for k, v in data.params.items()})
    rec.update({f"metrics.{k}": v for k, v in data.metrics.items()})
    rec.update({f"tags.{k}": v for k, v in data.tags.items()})
    return rec


def search_run_records(experiment_ids: list[str] | None = None, filter_string: str = "",
                       max_results: int | None = None) -> list[dict[str, Any]]:
    """Every active run of the given experiments (all by default) as one flat dict each.

    Keys follow ``mlflow.search_runs``' column names: ``run_id``, ``run_name``,
    ``experiment_id``, ``experiment``, ``status``, ``start_time``, ``end_time`` (ms), and
    ``params.<k>``, ``metrics.<k>`` (latest value), ``tags.<k>``. Pages through the results,
    newest first (MLflow breaks ties by run id).

    Raises:
        TrackingError: if the store cannot be searched.
    """
    return search_run_records_any([filter_string], experiment_ids, max_results)


def search_run_records_any(filter_strings: list[str], experiment_ids: list[str] | None = None,
                           max_results: int | None = None) -> list[dict[str, Any]]:
    """Runs matching ANY of ``filter_strings`` (MLflow filters only AND), each once.

    Records as :func:`search_run_records`; one search per filter, in the order given.

    Raises:
        TrackingError: if the store cannot be searched.
    """
    import gc

    # Building ~40 ORM objects per run triggers Python's cyclic GC over and over (half the time
    # at 1,000 runs); nothing here makes cycles, so pause it for the search.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        names = experiments()
        ids = list(experiment_ids) if experiment_ids else list(names)
        if not ids:
            return []
        c = client()
        out: dict[str, dict[str, Any]] = {}
        for filter_string in filter_strings:
            token = None
            while max_results is None or len(out) < max_results:
                page_size = SEARCH_PAGE_SIZE if max_results is None else min(
                    SEARCH_PAGE_SIZE, max_results - len(out))
                page = c.search_runs(ids, filter_string=filter_string, max_results=page_size,
                                     order_by=["attributes.start_time DESC"], page_token=token)
                for r in page:
                    out.setdefault(r.info.run_id, _record(r.info, r.data, names))
                token = page.token
                if not token:
                    break
        return list(out.values())
    except Exception as exc:
        raise TrackingError(
            f"Cannot search the runs of the MLflow store at {tracking_uri()!r}: {exc}."
        ) from exc
    finally:
        if gc_was_enabled:
            gc.enable()


def changed_run_records(since_ms: int, run_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Runs that may have changed since ``since_ms`` (epoch ms): started or ended since then,
    not ended yet, or named in ``run_ids``. MLflow keeps no "last modified" time on a run, so
    an edit to a run that had ended before (a tag, a rename) is only seen through ``run_ids``
    or a full read.

    Raises:
        TrackingError: if the store cannot be searched.
    """
    since_ms = int(since_ms)
    filters = [f"attributes.start_time >= {since_ms}", f"attributes.end_time >= {since_ms}",
               "attributes.status = 'RUNNING'", "attributes.status = 'SCHEDULED'"]
    ids = sorted(set(run_ids))
    for i in range(0, len(ids), 100):
        quoted = ", ".join(f"'{r}'" for r in ids[i : i + 100] if r.isalnum())
        if quoted:
            filters.append(f"attributes.run_id IN ({quoted})")
    return search_run_records_any(filters)


def deleted_run_ids() -> set[str]:
    """Ids of the runs in MLflow's bin (deleted, not yet removed by ``mlflow gc``).

    Raises:
        TrackingError: if the store cannot be searched.
    """
    from mlflow.entities import ViewType

    try:
        c = client()
        ids = [e.experiment_id for e in c.search_experiments(view_type=ViewType.ALL)]
        out: set[str] = set()
        token = None
        while ids:
            page = c.search_runs(ids, run_view_type=ViewType.DELETED_ONLY,
                                 max_results=SEARCH_PAGE_SIZE, page_token=token)
            out.update(r.info.run_id for r in page)
            token = page.token
            if not token:
                break
        return out
    except Exception as exc:
        raise TrackingError(
            f"Cannot search the runs of the MLflow store at {tracking_uri()!r}: {exc}."
        ) from exc


def run_name(run_id: str) -> str:
    """The name of run ``run_id``."""
    return get_run(run_id).info.run_name


def rename_run(run_id: str, name: str) -> None:
    """Rename a run (names stay unique within its experiment).

    Raises:
        TrackingError: on an empty name or one another run of the experiment has.
    """
    name = name.strip()
    if not name:
        raise TrackingError("A run name cannot be empty; type a name or keep the current one.")
    c = client()
    run = get_run(run_id)
    holders = _names_like(c, run.info.experiment_id, name).get(name, [])
    if any(rid != run_id for _, rid in holders):
        raise TrackingError(f"Another run of this experiment is already called {name!r}; "
                            "choose another name.")
    c.update_run(run_id, name=name)


def delete_run(run_id: str) -> None:
    """Move a run to MLflow's bin (``mlflow gc`` removes it for good)."""
    client().delete_run(check_run_id(run_id))


def update_tags(run_id: str, set_: dict[str, str], delete: Iterable[str] = ()) -> None:
    """Set and delete user tags of a run (``dlx.``/``mlflow.`` system tags are left alone
    except the note)."""
    c = client()
    for key in delete:
        c.delete_tag(run_id, key)
    if set_:
        set_tags(run_id, set_)


def artifact_paths(run_id: str, path: str | None = None) -> list[str]:
    """Every artifact file of a run (recursively), e.g. ``plots/roc_curve.png``."""
    check_run_id(run_id)
    if path is not None:
        check_artifact_path(path)
    c = client()
    out = []
    for info in c.list_artifacts(run_id, path):
        if info.is_dir:
            out.extend(artifact_paths(run_id, info.path))
        else:
            out.append(info.path)
    return out


def artifact_bytes(run_id: str, artifact_file: str) -> bytes | None:
    """The bytes of one artifact of a run (None if the run has no such artifact).

    Raises:
        TrackingError: if ``run_id`` or ``artifact_file`` is malformed (a path outside the run).
    """
    import mlflow

    check_run_id(run_id)
    check_artifact_path(artifact_file)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=artifact_file, dst_path=tmp,
                tracking_uri=ready_uri(),
            )
        except Exception:
            return None
        return Path(local).read_bytes()


def download_folder(run_id: str, artifact_path: str, dst: Path) -> Path:
    """Download a run's artifact folder into ``dst``; returns the local folder.

    Raises:
        TrackingError: if the run has no such folder (or the id or path is malformed).
    """
    import mlflow

    check_run_id(run_id)
    check_artifact_path(artifact_path)
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact_path, dst_path=str(dst),
            tracking_uri=ready_uri(),
        )
    except Exception as exc:
        raise TrackingError(f"Run {run_id} has no artifact folder {artifact_path!r}.") from exc
    return Path(local)


def model_zip(run_id: str) -> bytes:
    """The run's logged MLflow model folder as a zip (what ``mlflow.pyfunc.load_model`` reads).

    Raises:
        TrackingError: if the run has no logged model.
    """
    import io
    import shutil

    import mlflow

    check_run_id(run_id)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=MODEL_NAME, dst_path=tmp, tracking_uri=ready_uri(),
            )
        except Exception as exc:
            raise TrackingError(
                f"Run {run_id} has no logged model (it may have failed before the model was "
                "saved); pick a FINISHED or KILLED run."
            ) from exc
        base = shutil.make_archive(str(Path(tmp) / "archive"), "zip", local)
        buf = io.BytesIO(Path(base).read_bytes())
    return buf.getvalue()


def load_predictor(run_id: str):
    """The :class:`~dl_core.predictor.Predictor` inside a run's logged pyfunc model.

    Going through ``mlflow.pyfunc.load_model`` keeps one loading path (local or remote store)
    while giving access to the predictor's notes (ignored columns, unseen categories).

    Raises:
        TrackingError: if the run has no loadable model.
    """
    check_run_id(run_id)
    try:
        model = load_model(f"runs:/{run_id}/{MODEL_NAME}")
    except Exception as exc:
        raise TrackingError(
            f"Cannot load the model of run {run_id}: {exc}. Pick a FINISHED or KILLED "
            "training run (failed runs have no model)."
        ) from exc
    return model.unwrap_python_model().predictor


def mlflow_ui_url(run_id: str, experiment_id: str) -> str | None:
    """Link to the run in the MLflow UI when ``$MLFLOW_UI_URL`` is set (else None)."""
    base = os.environ.get("MLFLOW_UI_URL", "").strip().rstrip("/")
    if not base:
        return None
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"
