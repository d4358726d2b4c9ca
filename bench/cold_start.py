"""Seconds from ``streamlit run streamlit_app.py`` to the landing page rendered in a browser.

Measured the same way for a one-line hello-world Streamlit app: launch the server, poll its
health endpoint, open the page in headless Debian chromium (launched beforehand, not timed) and
wait for the title. Three repetitions each, interleaved; prints medians and the ratio (target
<= 1.3). Also reports whether TensorFlow is loaded in the server process (its shared libraries
in ``/proc/<pid>/maps``) after the landing page, after the Data page with a sample loaded, and
after the Model page: TensorFlow never loads in the web server (docs/architecture.md).

Figures only, no assertions: ``python bench/cold_start.py`` (``make browser`` installs chromium).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 3
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
HELLO = 'import streamlit as st\n\nst.title("Hello world")\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tensorflow_loaded(pid: int) -> bool:
    """Whether TensorFlow's native libraries are mapped into process ``pid``."""
    try:
        return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def launch(script: Path, cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
           "--server.headless", "true", "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{url} did not become healthy in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def time_to_title(browser, script: Path, cwd: Path, env: dict[str, str], title: str,
                  probe=None) -> float:
    """Seconds from launching the server to ``title`` visible as the page's h1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    start = time.perf_counter()
    proc, url = launch(script, cwd, env)
    try:
        wait_healthy(url, proc)
        page.goto(url)
        page.locator("h1", has_text=title).wait_for(timeout=120_000)
        elapsed = time.perf_counter() - start
        if probe:
            probe(page, proc.pid)
        return elapsed
    finally:
        context.close()
        stop(proc)


def probe_tensorflow(page, pid: int) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    print(f"TensorFlow loaded in the server after the landing page: {tensorflow_loaded(pid)}")
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Data", exact=True).click()
    page.locator(".st-key-load_sample button").click()
    page.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    print(f"  ... after the Data page with a sample loaded:        {tensorflow_loaded(pid)}")
    nav.get_by_role("link", name="Model", exact=True).click()
    page.get_by_text("Model summary").wait_for(timeout=120_000)
    print(f"  ... after the Model page (the worker builds its summary): {tensorflow_loaded(pid)}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).is_file():
        sys.exit("chromium is missing: `make browser` installs it")
    tmp = Path(tempfile.mkdtemp(prefix="dlx-bench-cold-"))
    hello = tmp / "hello.py"
    hello.write_text(HELLO)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
           "DL_EXPLORER_HOME": str(tmp / "home")}
    app_s, hello_s = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        for i in range(REPEATS):
            app_s.append(time_to_title(browser, ROOT / "streamlit_app.py", ROOT, env,
                                       "DL Explorer", probe_tensorflow if i == 0 else None))
            hello_s.append(time_to_title(browser, hello, tmp, env, "Hello world"))
        browser.close()
    app, base = statistics.median(app_s), statistics.median(hello_s)
    print(f"launch -> landing page rendered, median of {REPEATS}:")
    print(f"  DL Explorer  {app:6.2f}s  runs {[round(x, 2) for x in app_s]}")
    print(f"  hello world  {base:6.2f}s  runs {[round(x, 2) for x in hello_s]}")
    print(f"  ratio        {app / base:6.2f}   target <= 1.3")


if __name__ == "__main__":
    main()
