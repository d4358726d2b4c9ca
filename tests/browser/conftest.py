"""Real-browser fixtures: the app served by ``streamlit run`` and a page in Debian's chromium.

The server inherits the session's throwaway MLflow store and app folder from ``tests/conftest.py``.
It runs in its own process group; at the end the group gets SIGTERM and we wait until the
training worker it started (its own session, it exits when its stdin closes) is gone too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SERVER_START_S = 90.0
DEBIAN_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    """Debian's chromium (never a downloaded browser); fail loudly when it is missing."""
    path = shutil.which("chromium") or DEBIAN_CHROMIUM
    if not Path(path).is_file():
        pytest.fail(
            "Browser tests need Debian's chromium at /usr/bin/chromium and it is missing: "
            "run `make browser` to install it (apt-get install chromium).",
            pytrace=False,
        )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc: no psutil dependency)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def descendants_of(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in pids if is_alive(p)]
        if not pids:
            return []
        time.sleep(0.2)
    return [p for p in pids if is_alive(p)]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit did not answer {url}/_stcore/health within {SERVER_START_S:.0f} s:\n"
                f"{log.read_text()[-3000:]}")


@contextmanager
def running_app(log_dir: Path) -> Iterator[str]:
    """Serve ``streamlit run streamlit_app.py`` on a free port; yield its base URL, then stop it
    and check that nothing it started (the training worker) is left running."""
    with serving_app(log_dir) as (url, _):
        yield url


def mapped_files(pid: int) -> set[str]:
    """The files (shared libraries, mostly) mapped into process ``pid``."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


@contextmanager
def serving_app(log_dir: Path) -> Iterator[tuple[str, int]]:
    """:func:`running_app`, yielding the base URL and the server's process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = log_dir / "server.log"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"],
        "DL_EXPLORER_HOME": os.environ["DL_EXPLORER_HOME"],
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    descendants: list[int] = []
    try:
        _wait_healthy(url, proc, log)
        yield url, proc.pid
    finally:
        descendants = descendants_of(proc.pid)  # the worker lives in its own session
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # The worker sees EOF on stdin once the server is gone, ends its runs and exits.
        left = wait_gone(descendants, timeout=30)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes left running after the server stopped: {left}"


@pytest.fixture(scope="session")
def app_server(store_dir: Path, tmp_path_factory) -> Iterator[tuple[str, int]]:
    """``streamlit run streamlit_app.py`` for this session: its base URL and process id."""
    with serving_app(tmp_path_factory.mktemp("streamlit")) as server:
        yield server


@pytest.fixture(scope="session")
def app_url(app_server: tuple[str, int]) -> str:
    """``http://127.0.0.1:<port>`` of the session's app."""
    return app_server[0]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh page (its own context: a new Streamlit session) at the app's landing page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # The Model page's first run waits for a new training worker to load TensorFlow: past 30 s
    # once, on a 2-core CI machine with a Ray sweep training beside it.
    context.set_default_timeout(60_000)
    pg = context.new_page()
    pg.goto(app_url)
    yield pg
    context.close()
