"""What the pages show about the training worker: its device, and its failures as messages."""

from __future__ import annotations

import os
import shutil

import pytest

from dl_core.jobs import LocalExecutor
from tests.pages.apptest import load_sample, open_app, wait_until


def expected_device() -> str:
    if shutil.which("nvidia-smi"):
        return "GPU: "
    return f"CPU ({len(os.sched_getaffinity(0))} cores)"


def test_train_page_shows_the_device_of_the_warm_worker():
    at = open_app("app_pages/data.py")
    load_sample(at, "wine")
    at.switch_page("app_pages/train.py").run()
    caption = "Training runs in a background worker on: **"
    wait_until(at, lambda a: any(c.value.startswith(caption) for c in a.caption), 180)
    shown = next(c.value for c in at.caption if c.value.startswith(caption))
    assert shown.removeprefix(caption).startswith(expected_device())
    assert not at.exception


@pytest.fixture
def broken_worker(monkeypatch):
    """A worker whose Keras cannot load (as with a broken TensorFlow install)."""
    import streamlit as st

    import ui.modeling

    ex = LocalExecutor(env={"KERAS_BACKEND": "no_such_backend"})
    monkeypatch.setattr(ui.modeling, "executor", lambda: ex)
    st.cache_data.clear()  # no summary cached by an earlier test with a working worker
    yield ex
    st.cache_data.clear()
    ex.shutdown()


def test_model_page_explains_a_worker_that_cannot_build_the_model(broken_worker):
    at = open_app("app_pages/data.py")
    load_sample(at, "breast_cancer")
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("The training worker could not build the "
                                                     "model (ValueError: ")
    assert "no_such_backend" in errors[0]
    assert not any(m.value.startswith("**Model summary**") for m in at.markdown)


class _ColdWorker:
    """A worker not started yet whose summary comes back at once."""

    device = None

    def summary(self, *args, **kwargs):
        return {"layers": [], "params": {"total": 1, "trainable": 1, "non_trainable": 0},
                "dot": "digraph {}"}

    def warm_up(self):
        pass


def test_model_page_tells_a_first_worker_start_wherever_the_page_is_scrolled(monkeypatch):
    import streamlit as st

    import ui.modeling

    at = open_app("app_pages/data.py")
    load_sample(at, "breast_cancer")
    monkeypatch.setattr(ui.modeling, "executor", lambda: _ColdWorker())
    st.cache_data.clear()  # no summary cached by an earlier test
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    # The spinner is under the settings; the toast is seen at any scroll position.
    assert [t.value for t in at.toast] == [
        "The training worker is ready; the network's layers are listed below the settings."]
    st.cache_data.clear()


class _ColdWorkerThatFails(_ColdWorker):
    def summary(self, *args, **kwargs):
        from dl_core.errors import DataError

        raise DataError("The training worker could not build the model (test).")


def test_a_first_worker_start_cut_off_leaves_no_toast_for_good(monkeypatch):
    import streamlit as st

    import ui.modeling

    at = open_app("app_pages/data.py")
    load_sample(at, "breast_cancer")
    monkeypatch.setattr(ui.modeling, "executor", lambda: _ColdWorkerThatFails())
    st.cache_data.clear()
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    # Never replaced (as when a click reruns the page mid-start), the starting toast still goes
    # by itself: "infinite" (0) stayed on every page until closed by hand.
    [toast] = at.toast
    assert toast.value.startswith("Starting the training worker")
    assert toast.proto.duration == ui.modeling.STARTING_TOAST_S
    assert 0 < toast.proto.duration <= 60
    st.cache_data.clear()
