"""A tracking server that goes away mid-run (a real ``mlflow server`` killed and restarted):
the epochs are kept and retried; if it stays away, the job fails with a clear message, and its
run is ended (with its epochs) once the server is back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dl_core import tracking
from dl_core.jobs import LocalExecutor
from dl_core.training.callbacks import METRIC_FLUSH_S
from tests.test_jobs import logged_curve, spec, wait_for

START_S = 180.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """``mlflow server`` on 127.0.0.1 (its own process group, so a kill takes its workers)."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", "1",
               "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
               "--artifacts-destination", str(self.root / "artifacts")]
        with open(self.root / "server.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.root / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        raise AssertionError(f"mlflow server did not start in {START_S:.0f} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path, monkeypatch):
    srv = MlflowServer(tmp_path)
    srv.start()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", srv.url)
    # Each failed call fails at once: retrying is the metric buffer's job, not the client's.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("DLX_TRACKING_GRACE_S", "3")
    yield srv
    srv.kill()


def test_epochs_outlive_a_tracking_server_restart_then_a_lost_server_is_said(server,
                                                                             tiny_binary):
    ex = LocalExecutor()  # its worker inherits the environment above
    try:
        job_id = ex.submit(spec(tiny_binary, 3000, batch_size="8"))
        wait_for(lambda: ex.progress(job_id).epoch >= 3 or not ex.progress(job_id).active, 180)
        assert ex.progress(job_id).status == "running", ex.progress(job_id).error
        server.kill()
        time.sleep(METRIC_FLUSH_S + 1)  # a batched write fails meanwhile; training goes on
        assert ex.progress(job_id).status == "running"
        server.start()
        ex.stop(job_id)  # the end of the fit writes what is pending, now that it answers
        state = ex.wait(job_id, timeout=180)
        assert state.status == "killed", state.error
        assert tracking.get_run(state.run_id).info.status == "KILLED"
        assert logged_curve(state.run_id) == list(enumerate(state.history["loss"], start=1))

        # Gone for good: after the grace period the job fails and says why.
        job_id = ex.submit(spec(tiny_binary, 3000, batch_size="8"))
        wait_for(lambda: ex.progress(job_id).epoch >= 3 or not ex.progress(job_id).active, 120)
        assert ex.progress(job_id).status == "running", ex.progress(job_id).error
        server.kill()
        ex.stop(job_id)
        state = ex.wait(job_id, timeout=60)
        assert state.status == "failed"
        assert state.error.startswith("Cannot record ")
        assert f"the MLflow tracking server at '{server.url}' stopped answering" in state.error
        assert state.error.endswith("Check that it is running, then try again.")
        # Back again: the app ends the run it could not end, with every epoch it showed.
        server.start()
        wait_for(lambda: tracking.get_run(state.run_id).info.status == "FAILED", timeout=60)
        assert logged_curve(state.run_id) == list(enumerate(state.history["loss"], start=1))
    finally:
        ex.shutdown()
