"""Faults as people see them: a failed fit's message on the Train page and on its run."""

from __future__ import annotations

from dl_core import tracking
from tests.pages.apptest import load_sample, open_app, wait_until
from tests.pages.test_runs_pages import runs_page, select_rows
from ui import state
from ui.loaders import executor

ADVICE = "Lower the learning rate (it was 1; try 0.1)"


def test_a_diverging_fit_fails_with_advice_on_the_train_page_and_its_run():
    at = open_app("app_pages/data.py")
    load_sample(at, "diabetes")
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="train.optimizer").select("sgd")
    at.select_slider(key="train.learning_rate").set_value(1.0)
    at.number_input(key="train.epochs").set_value(20)
    at.number_input(key="train.patience").set_value(0)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    wait_until(at, lambda a: any(ADVICE in e.value for e in a.error), 180)
    assert not at.exception
    job = executor().progress(at.session_state[state.JOB_ID])
    assert job.status == "failed" and job.epoch < 20  # TerminateOnNaN stopped it at once
    assert tracking.get_run(job.run_id).info.status == "FAILED"

    at = runs_page("diabetes")
    select_rows(at, [tracking.run_name(job.run_id)])
    assert any(ADVICE in e.value for e in at.error)
    assert not at.exception
