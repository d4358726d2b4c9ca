"""How long does the Model page's summary take to follow a layer edit?

The summary is built by the warm training worker (TensorFlow never loads in the web server).
Drives the Model page with Streamlit's AppTest (the breast-cancer sample, the FNN layer editor):
each edit sets the first block's units to a value not seen before (no cache hit) and times the
page run that shows the new parameter count. Prints the first summary with a cold worker, then
the median and worst of edits while the worker finishes warming up, of N edits with the worker
idle and while a training job runs in it (target: under 0.5 s), of edits back to configs seen
before (the server's cache: the page's own cost), and the bare ``LocalExecutor.summary`` round
trip.

Figures only, no assertions: ``python bench/model_summary.py [N]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# A throwaway store and app folder, before anything reads them (the worker inherits them).
_TMP = Path(tempfile.mkdtemp(prefix="dlx-bench-summary-"))
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_TMP / 'mlflow.db'}"
os.environ["DL_EXPLORER_HOME"] = str(_TMP / "home")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from ui import state  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 15
UNITS = "blocks.fnn.0.units"


def summary_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Model summary**"))


def edit_latencies(at: AppTest, first_units: int, n: int) -> list[float]:
    """Seconds from a layer edit to the page showing the summary of the edited model."""
    times = []
    for units in range(first_units, first_units + n):
        start = time.perf_counter()
        at.number_input(key=UNITS).set_value(units).run()
        times.append(time.perf_counter() - start)
        assert not at.exception and not at.error, [e.value for e in at.error]
        # 30 features -> units -> 1 output: the page shows the edited model's count.
        expected = 30 * units + units + units + 1
        assert f"{expected:,} parameters" in summary_line(at), summary_line(at)
    return times


def timed_edit(at: AppTest, units: int) -> list[float]:
    start = time.perf_counter()
    at.number_input(key=UNITS).set_value(units).run()
    return [time.perf_counter() - start]


def describe(name: str, times: list[float]) -> None:
    print(f"{name:<44} median {statistics.median(times) * 1000:6.0f} ms · "
          f"worst {max(times) * 1000:6.0f} ms · n={len(times)}")


def main() -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.selectbox(key="sample_choice").select("breast_cancer")
    at.button(key="load_sample").click().run()

    start = time.perf_counter()
    at.switch_page("app_pages/model.py").run()
    summary_line(at)
    print(f"First summary, cold worker (starts, imports TensorFlow): "
          f"{time.perf_counter() - start:.1f} s")
    print(f"TensorFlow in this (server) process: {'tensorflow' in sys.modules}")

    from ui.loaders import executor

    ex = executor()
    describe("Layer edit -> summary, worker warming up", edit_latencies(at, 10, 5))
    ex.ready.wait(300)  # the rest of what training needs (MLflow, ...) has loaded
    describe("Layer edit -> summary, idle worker", edit_latencies(at, 40, N))
    describe("Same, a config seen before (server cache)", [
        t for units in (40, 41, 42, 43, 44) for t in timed_edit(at, units)])
    at.number_input(key="train.epochs").set_value(5000)
    at.number_input(key="train.patience").set_value(0)
    at.button(key="apply").click().run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    job_id = at.session_state[state.JOB_ID]
    while ex.progress(job_id).epoch < 1:
        time.sleep(0.1)
    at.switch_page("app_pages/model.py").run()
    during = edit_latencies(at, 40 + N, N)
    job = ex.progress(job_id)
    describe("Layer edit -> summary, during a training job", during)
    print(f"  (the job was {job.status} at epoch {job.epoch} when the edits ended)")

    rounds = []
    for units in range(200, 200 + N):
        start = time.perf_counter()
        ex.summary("fnn", {"hidden_units": (units,)}, (30,), 1, "binary")
        rounds.append(time.perf_counter() - start)
    describe("LocalExecutor.summary round trip, during job", rounds)
    ex.stop(job_id)
    ex.wait(job_id, timeout=120)
    ex.shutdown()


if __name__ == "__main__":
    main()
