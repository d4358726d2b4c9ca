"""The pages as a user drives them (Streamlit AppTest from the entrypoint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from tests.pages.apptest import (
    APP,
    auto_reruns,
    load_sample,
    open_app,
    train_and_wait,
    wait_for_run,
    wait_until,
)
from ui import state


def start_training(sample: str, **train: int) -> tuple[AppTest, str]:
    """Load a sample, set training numbers on the Model page, click Train; the job id."""
    at = open_app("app_pages/data.py")
    load_sample(at, sample)
    at.switch_page("app_pages/model.py").run()
    for name, value in train.items():
        at.number_input(key=f"train.{name}").set_value(value)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="train").click().run()
    assert not at.exception
    return at, at.session_state[state.JOB_ID]


def test_home_links_every_step():
    """The landing page links every page of the navigation (it left out Runs and Predict)."""
    import re

    at = open_app()
    assert at.title[0].value.endswith("DL Explorer")
    nav = re.findall(r'st\.Page\("app_pages/\w+\.py", title="(\w+)"', Path(APP).read_text())
    linked = [re.match(r"\*\*(\w+)\*\*", e.proto.label).group(1) for e in at.get("page_link")]
    assert linked == [t for t in nav if t != "Home"]
    # Generate makes images too (the landing page spoke of rows only).
    generate = next(e.proto.label for e in at.get("page_link") if "**Generate**" in e.proto.label)
    assert "rows or images" in generate and "latent map" in generate


def test_sample_to_trained_evaluated_model():
    at = open_app("app_pages/data.py")
    load_sample(at, "breast_cancer")
    assert at.selectbox(key="target_choice").value == "target"
    assert any("Task: **binary**" in s.value and "30 network inputs" in s.value
               for s in at.success), [s.value for s in at.success]
    assert at.dataframe  # preview and profile

    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    assert any("parameters" in m.value for m in at.markdown)
    # Every edit applies at once (no form whose edits could be left unapplied).
    at.button(key="blocks.fnn.add").click().run()
    at.number_input(key="blocks.fnn.0.units").set_value(32).run()
    at.number_input(key="blocks.fnn.1.units").set_value(16).run()
    at.number_input(key="train.epochs").set_value(3).run()
    assert not at.exception
    assert at.session_state[state.TRAIN_CONFIG]["epochs"] == 3
    assert at.session_state[state.MODEL_CONFIG]["hidden_units"] == (32, 16)

    train_and_wait(at)
    at.run()
    assert any(m.label == "test accuracy" for m in at.metric)

    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Accuracy"]) > 0.85
    # A ROC-AUC far above the accuracy is explained where it is shown.
    [auc] = [m for m in at.metric if m.label == "ROC-AUC"]
    assert "it can be near 1 while accuracy is lower" in auc.help
    before = {m.label: m.value for m in at.metric}
    at.slider(key="threshold").set_value(0.05).run()
    assert not at.exception
    after = {m.label: m.value for m in at.metric}
    # Tuning reads the validation split; the test figures wait for a saved threshold.
    assert float(after["Validation recall"]) >= float(before["Validation recall"])
    assert after["Recall"] == before["Recall"]


def test_stop_button_stops_training():
    at, job_id = start_training("churn", epochs=500, patience=0, batch_size=8)
    assert at.button(key="train").disabled  # no second click on a running job
    wait_until(at, lambda a: any("Epoch" in (p.proto.text or "") for p in a.get("progress")), 120)
    at.button(key=f"stop-{job_id}").click().run()
    wait_for_run(at, 60)
    assert any("Stopped after" in w.value for w in at.warning)


BAD_FILES = [
    ("empty.csv", b"", "empty"),
    ("header.csv", b"a,b,c\n", "no data rows"),
    ("garbage.csv", bytes(range(256)) * 20, "binary"),
    # Judged by content on the server, whatever the name says.
    ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "a PNG image"),
    ("one.csv", b"only\n1\n2\n3\n", "at least two columns"),
    ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n7,8\n", "line 3"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_upload_shows_a_clear_message(name, content, message):
    at = open_app("app_pages/data.py")
    at.file_uploader(key="upload").set_value((name, content, "text/csv")).run()
    assert not at.exception
    assert at.error and message in at.error[0].value.lower() or message in at.error[0].value


def test_upload_over_the_limit_is_refused():
    st_config.set_option("server.maxUploadSize", 1)
    try:
        at = open_app("app_pages/data.py")
        big = b"a,b\n" + b"1,2\n" * 300_000
        at.file_uploader(key="upload").set_value(("big.csv", big, "text/csv")).run()
        assert not at.exception
        assert "MB" in at.error[0].value
    finally:
        st_config.set_option("server.maxUploadSize", 200)


@pytest.mark.parametrize(
    ("csv", "target", "message"),
    [
        (b"x,y\n" + b"".join(b"%d,same\n" % i for i in range(40)), "y", "single class"),
        (b"x,y\n" + b"".join(b"%d,\n" % i for i in range(40)), "y", "missing"),
        (b"x,y\n" + b"".join(b"%d,c%d\n" % (i, i % 30) for i in range(60)), "y", "class"),
    ],
    ids=["one-class", "all-missing", "too-many-classes"],
)
def test_unusable_target_is_explained(csv, target, message):
    at = open_app("app_pages/data.py")
    at.file_uploader(key="upload").set_value(("t.csv", csv, "text/csv")).run()
    at.selectbox(key="target_choice").select(target).run()
    if target == "y" and message == "class":
        at.selectbox(key="task_choice").select("multiclass").run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_the_train_page_does_not_take_a_running_sweep_for_a_training_job():
    from ui.loaders import executor

    at = open_app("app_pages/data.py")
    load_sample(at, "wine")
    at.switch_page("app_pages/model.py").run()
    at.number_input(key="train.patience").set_value(0).run()
    at.toggle(key="sweep_on").set_value(True).run()
    at.text_input(key="sweep.learning_rate").set_value("0.001,0.002")
    at.multiselect(key="sweep_params").select("epochs").run()
    at.text_input(key="sweep.epochs").set_value("300").run()
    at.button(key="start_sweep").click().run()
    sweep_id = at.session_state[state.SWEEP_JOB_ID]
    try:
        reopened = open_app("app_pages/train.py")  # a fresh session, as after a reload
        # It said "Running · fnn on wine" with the sweep's parent run and a Stop for it.
        assert reopened.session_state[state.JOB_ID] is None
        assert not [b for b in reopened.button if b.key == f"stop-{sweep_id}"]
        listed = [m.value for m in reopened.markdown if " sweep " in m.value]
        assert listed and "wine → target" in listed[0] and "/2" in listed[0].split("trial ")[-1]
        reopened.button(key=f"show-{sweep_id}").click().run()
        assert reopened.session_state[state.SWEEP_JOB_ID] == sweep_id
        assert reopened.toggle(key="sweep_on").value  # the Model page shows it, with Stop
        assert reopened.button(key=f"stop-sweep-{sweep_id}")
    finally:
        executor().stop(sweep_id)
        executor().wait(sweep_id, timeout=120)


def test_pages_without_data_point_back_to_data():
    for page in ("app_pages/model.py", "app_pages/train.py"):
        at = open_app(page)
        assert any("Data page" in i.value for i in at.info)


def test_a_new_session_reattaches_to_the_running_job_and_its_data():
    _, job_id = start_training("wine", epochs=300, patience=0)
    with auto_reruns() as polls:
        reopened = open_app("app_pages/train.py")  # a fresh session, as after a reload
    assert reopened.session_state[state.JOB_ID] == job_id
    assert polls == [1.0]  # the running job's view asks to be redrawn every second
    # The job's dataset and choices come back with it, for every page.
    assert reopened.session_state[state.DATASET]["name"] == "wine"
    assert reopened.session_state[state.DATASET]["rows"] == 178
    assert (reopened.session_state[state.TARGET], reopened.session_state[state.TASK],
            reopened.session_state[state.ARCH]) == ("target", "multiclass", "fnn")
    assert reopened.session_state[state.TRAIN_CONFIG]["epochs"] == 300
    assert any("**wine** → `target` (multiclass)" in m.value for m in reopened.markdown)
    stop = [b for b in reopened.button if b.key == f"stop-{job_id}"]
    assert stop, "the reopened page shows the running job with its Stop button"
    stop[0].click().run()
    wait_for_run(reopened, 60)
    with auto_reruns() as polls:
        reopened.run()
    assert polls == []  # an ended job changes no more: nothing reruns the page
    assert not reopened.exception
    reopened.switch_page("app_pages/data.py").run()
    assert reopened.selectbox(key="target_choice").value == "target"


def test_the_data_page_names_the_table_in_use_when_its_upload_box_is_empty():
    """Streamlit empties the upload box on a return to the page; the table stays in use."""
    at = open_app("app_pages/data.py")
    assert not [c for c in at.caption if c.value.startswith("In use:")]
    load_sample(at, "wine")
    at.switch_page("app_pages/model.py").run()
    at.switch_page("app_pages/data.py").run()
    name = at.session_state[state.DATASET]["name"]
    assert f"In use: **{name}**. Upload a file or load a sample to replace it." in [
        c.value for c in at.caption]
