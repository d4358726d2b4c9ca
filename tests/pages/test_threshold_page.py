"""Evaluate (AppTest): the decision threshold is tuned on validation predictions; the test split
is reported at the saved threshold, never recomputed while tuning."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core import thresholds, tracking
from dl_core.data.storage import store_dataset
from dl_core.training import JobSpec, run_training
from tests.pages.apptest import open_app
from ui import state
from ui.runs import all_runs


def shown(at) -> dict[str, float]:
    return {m.label: float(m.value) for m in at.metric if m.value not in ("—", None)}


def test_threshold_is_tuned_on_validation_and_test_reported_at_the_saved_one(tiny_binary):
    spec = JobSpec(dataset_path=str(store_dataset(tiny_binary)), dataset_name="evaluate-threshold",
                   target="label", task="binary", model_config={"hidden_units": (8,)},
                   train_config={"epochs": 3, "patience": 0, "learning_rate": 0.03})
    run_id = run_training(spec).run_id
    val = tracking.load_json(run_id, thresholds.VAL_PREDICTIONS)
    test = tracking.load_json(run_id, thresholds.TEST_PREDICTIONS)
    all_runs.clear()  # the 10 s cache may predate this run
    at = open_app()
    at.session_state[state.RUN_ID] = run_id
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    test_at_half = thresholds.metrics_at(test, 0.5)
    assert shown(at)["Recall"] == pytest.approx(test_at_half["recall"], abs=1e-4)

    # A threshold that changes both splits' recall: the validation rows' median probability.
    t = float(np.round(np.median(np.asarray(val["proba"])[:, 1]), 2))
    assert thresholds.metrics_at(test, t)["recall"] != test_at_half["recall"]
    at.slider(key="threshold").set_value(t).run()
    assert not at.exception
    figures = shown(at)
    assert figures["Validation recall"] == pytest.approx(
        thresholds.metrics_at(val, t)["recall"], abs=1e-4)
    assert figures["Validation F1"] == pytest.approx(thresholds.metrics_at(val, t)["f1"], abs=1e-4)
    assert figures["Recall"] == pytest.approx(test_at_half["recall"], abs=1e-4)  # not live

    at.button(key="threshold_save").click().run()
    assert not at.exception
    assert tracking.saved_threshold(run_id) == t
    figures = shown(at)
    assert figures["Recall"] == pytest.approx(thresholds.metrics_at(test, t)["recall"], abs=1e-4)
    assert any(f"at the saved threshold {t:.2f}" in h.value for h in at.subheader)

    at.button(key="threshold_max_f1").click().run()
    assert at.slider(key="threshold").value == pytest.approx(
        thresholds.max_f1_threshold(val["y_true"], val["proba"]))


def test_threshold_slider_shows_the_saved_threshold_after_leaving_evaluate(tiny_binary):
    """Streamlit forgets a widget's value on a page that was not drawn; the slider must come
    back at the run's saved threshold, not at its minimum 0.01 (which Save would then store)."""
    spec = JobSpec(dataset_path=str(store_dataset(tiny_binary)), dataset_name="evaluate-return",
                   target="label", task="binary", model_config={"hidden_units": (8,)},
                   train_config={"epochs": 2, "patience": 0})
    run_id = run_training(spec).run_id
    all_runs.clear()
    at = open_app()
    at.session_state[state.RUN_ID] = run_id
    at.switch_page("app_pages/evaluate.py").run()
    assert at.slider(key="threshold").value == pytest.approx(0.5)
    at.switch_page("app_pages/home.py").run()
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    assert at.slider(key="threshold").value == pytest.approx(0.5)
