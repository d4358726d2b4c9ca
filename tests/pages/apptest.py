"""Shared AppTest steps: open the app on a page, load a sample, wait for background work."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from streamlit.testing.v1 import AppTest

from ui import state

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def open_app(page: str | None = None) -> AppTest:
    """A fresh session of the app, optionally switched to ``page``, with no exception shown."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    return at


def load_sample(at: AppTest, name: str) -> None:
    at.selectbox(key="sample_choice").select(name)
    at.button(key="load_sample").click().run()
    assert not at.exception


def wait_until(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 180.0) -> None:
    """Rerun the page (as the polling fragment would) until ``done(at)`` holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        if done(at):
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s: {[e.value for e in at.error]}")


def wait_for_run(at: AppTest, timeout: float = 180.0) -> str:
    """Wait until the session's job has ended and recorded its run; return the run id."""
    wait_until(at, lambda a: bool(a.session_state[state.RUN_ID]), timeout)
    assert not at.exception
    return at.session_state[state.RUN_ID]


def train_and_wait(at: AppTest, timeout: float = 180.0) -> str:
    """Click Train on the Train page and wait for the run."""
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    assert not at.exception
    return wait_for_run(at, timeout)


@contextmanager
def auto_reruns() -> Iterator[list[float]]:
    """The fragment auto-rerun requests (``run_every`` intervals, in seconds) the app sends to
    the browser while the block runs: what makes a page rerun every second."""
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

    seen: list[float] = []
    enqueue = ForwardMsgQueue.enqueue

    def recording(self, msg):
        if msg.WhichOneof("type") == "auto_rerun":
            seen.append(msg.auto_rerun.interval)
        return enqueue(self, msg)

    with mock.patch.object(ForwardMsgQueue, "enqueue", recording):
        yield seen


@contextmanager
def recorded_downloads() -> Iterator[dict[str, bytes]]:
    """The files the page's download buttons would send, by file name, while the block runs.

    A button given bytes stores them with the media file manager at once; one given a callable
    (built on click) registers it, and the callable is run here as a click would.
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    files: dict[str, bytes] = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def recording_add(self, path_or_data, mimetype, coordinates, file_name=None, *a, **k):
        if file_name and isinstance(path_or_data, bytes):
            files[file_name] = path_or_data
        return add(self, path_or_data, mimetype, coordinates, file_name, *a, **k)

    def recording_deferred(self, data_callable, mimetype, coordinates, file_name=None, **k):
        if file_name:
            data = data_callable()
            files[file_name] = data.encode() if isinstance(data, str) else bytes(data)
        return add_deferred(self, data_callable, mimetype, coordinates, file_name, **k)

    with mock.patch.object(MediaFileManager, "add", recording_add), \
            mock.patch.object(MediaFileManager, "add_deferred", recording_deferred):
        yield files


def recorded_generation(at: AppTest, parent: str):
    """The MLflow run the Generate page's success message names, checked to be a generation
    of the generator run ``parent``."""
    from dl_core import tracking

    run = tracking.get_run(at.success[0].value.split("recorded as run `")[1].rstrip("`."))
    assert run.data.tags[tracking.TAG_KIND] == "generation"
    assert run.data.tags[tracking.TAG_PARENT] == parent
    return run
