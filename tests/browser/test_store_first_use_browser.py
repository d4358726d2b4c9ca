"""The app server and a training worker starting together on a NEW store; the server's XSRF check.

Both create MLflow's schema on first use. Before the store was initialised under a file lock,
processes doing so at the same moment failed with "table ... already exists" and left a store
that could not be read.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.browser.conftest import serving_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _worker_job(csv: Path) -> str:
    from dl_core.training import JobSpec

    spec = JobSpec(dataset_path=str(csv), dataset_name="first-use", target="", task="generation",
                   arch="copula", data_kind="tabular", experiment="first-use")
    return json.dumps({"cmd": "run", "job_id": "j1", "spec": spec.to_dict()}) + "\n"


def _ended(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("type") in ("finished", "failed")]


def test_app_server_and_worker_start_together_on_a_new_store(browser, tmp_path, monkeypatch):
    db = tmp_path / "store" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    monkeypatch.setenv("DL_EXPLORER_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(0)
    csv = tmp_path / "rows.csv"
    pd.DataFrame({"x": rng.normal(size=60), "kind": rng.choice(["a", "b"], 60)}).to_csv(
        csv, index=False)
    worker = subprocess.Popen([sys.executable, "-m", "dl_core.worker"], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    events: list[dict] = []
    reader = threading.Thread(target=lambda: events.extend(json.loads(x) for x in worker.stdout))
    reader.start()
    try:
        with serving_app(tmp_path) as (url, _):
            assert not db.exists()
            # The worker's job and the Runs page reach the new store within a second or so.
            worker.stdin.write(_worker_job(csv))
            worker.stdin.flush()
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{url}/runs")
            page.get_by_text(re.compile("No runs yet|runs · select rows")).first.wait_for(
                timeout=60_000)
            assert not page.locator("[data-testid='stException']").count()
            assert not page.locator("[data-testid='stAlertContentError']").count()

            # XSRF: a write without the session's token is refused by the server itself.
            request = urllib.request.Request(f"{url}/_stcore/upload_file/s/f", data=b"x",
                                             method="PUT")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 403 and b"xsrf" in refused.value.read().lower()
            context.close()
        # Closing stdin ends the worker and kills its job: on a loaded machine the job may still
        # be running here, so wait for it to end first.
        deadline = time.monotonic() + 180
        while not _ended(events) and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.stdin.close()
        worker.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    ended = _ended(events)
    assert ended and ended[0]["type"] == "finished", (ended, worker.stderr.read()[-3000:])
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and "already exists" not in log, log[-3000:]

    from dl_core import tracking

    runs = tracking.search_run_records()
    assert [(r["run_id"], r["status"]) for r in runs] == [(ended[0]["run_id"], "FINISHED")]
