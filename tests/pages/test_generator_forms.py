"""What the Model and Train pages say about a generator's fit: no epochs or batch for a one-pass
synthesizer, the batch a network really uses, and its losses named as people write them."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.apptest import load_sample, open_app


def _has_widget(at: AppTest, key: str) -> bool:
    return any(w.key == key for w in at.number_input)


def test_model_and_train_pages_show_epochs_and_batch_only_where_a_generator_has_them():
    at = open_app("app_pages/data.py")
    load_sample(at, "churn")  # 2,000 rows: 1,400 train at the default held-out share of 0.3
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("copula").run()
    assert not at.exception
    # The copula fits in one pass: no epochs or batch to set, and the page says why.
    assert not _has_widget(at, "gen_train.epochs") and not _has_widget(at, "gen_train.batch_size")
    assert any(c.value.startswith("Fits in one pass") for c in at.caption)
    assert _has_widget(at, "gen_train.holdout_size")
    at.switch_page("app_pages/train.py").run()
    intro = next(m.value for m in at.markdown if m.value.startswith("**churn**"))
    assert "fits in one pass" in intro and "epochs max" not in intro

    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("tvae").run()
    assert _has_widget(at, "gen_train.epochs") and _has_widget(at, "gen_train.batch_size")
    assert at.number_input(key="gen_train.batch_size").value == 500
    # What neural.effective_batch does with 1,400 rows: a tenth of them, 140, not 500; tvae
    # takes one pass over the rows an epoch.
    assert _plan(at) == ("On these 1,400 rows the network trains at batch 140 (the batch size "
                         "500 capped at a tenth of the rows, at least 32) and 10 steps an epoch.")
    at.switch_page("app_pages/train.py").run()
    intro = next(m.value for m in at.markdown if m.value.startswith("**churn**"))
    assert "300 epochs max, batch 140 (batch size 500, capped)" in intro  # it said "batch 500"
    at.switch_page("app_pages/model.py").run()
    at.number_input(key="gen_train.batch_size").set_value(100).run()
    # 100 is below the cap: used as asked.
    assert _plan(at) == "On these 1,400 rows the network trains at batch 100 (the batch size " \
                        "set) and 14 steps an epoch."
    at.switch_page("app_pages/train.py").run()
    intro = next(m.value for m in at.markdown if m.value.startswith("**churn**"))
    assert "300 epochs max, batch 100" in intro


def _plan(at: AppTest) -> str:
    """The Model page's caption of the batch and steps a generator network really fits with."""
    plans = [c.value for c in at.caption if c.value.startswith("On these ")]
    assert len(plans) == 1, [c.value for c in at.caption]
    return plans[0]


def test_model_page_says_the_batch_and_steps_an_image_network_trains_with():
    at = open_app("app_pages/data.py")
    load_sample(at, "digits")  # 1,797 images: 1,257 train at the default held-out share of 0.3
    at.switch_page("app_pages/model.py").run()
    for arch in ("conv_vae", "dcgan"):
        at.selectbox(key="arch_choice").select(arch).run()
        assert not at.exception
        # What image_networks fits with: a tenth of 1,257 images, and 10 steps made 16.
        assert _plan(at) == ("On these 1,257 images the network trains at batch 125 (the batch "
                             "size 500 capped at a tenth of the images, at least 32) and 16 steps "
                             "an epoch (at least 16: the images repeat)."), arch
    at.number_input(key="gen_train.holdout_size").set_value(0.5).run()
    assert _plan(at).startswith("On these 898 images the network trains at batch 89 ")
    at.selectbox(key="arch_choice").select("image_kde").run()  # no batches: nothing said
    assert not [c for c in at.caption if c.value.startswith("On these ")]


def _live_tvae_job():
    from dl_core.jobs import JobState
    from ui.jobs import render_job

    render_job(JobState(
        job_id="j1", status="running", epoch=2, epochs=3,
        spec={"task": "generation", "arch": "tvae", "dataset_name": "churn", "target": ""},
        history={"loss": [3.0, 2.0], "reconstruction": [1.2, 0.8], "kl": [0.6, 0.4]}))


def test_train_page_curves_name_the_kl_divergence_in_capitals():
    at = AppTest.from_function(_live_tvae_job, default_timeout=60).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == ["Loss", "Reconstruction", "KL"]


def test_a_new_table_drops_the_old_tables_generator_target():
    """A generator target picked for one table ("smoker") made the next table's generator
    unlabelled, though its Data page named a label: the new table's target is the default."""
    at = open_app("app_pages/data.py")
    load_sample(at, "churn")
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("copula").run()
    at.selectbox(key="gen_target_choice").select("(none)").run()
    at.switch_page("app_pages/data.py").run()
    load_sample(at, "digits")
    at.switch_page("app_pages/model.py").run()
    at.selectbox(key="arch_choice").select("image_kde").run()
    assert not at.exception
    assert at.selectbox(key="gen_target_choice").value == "label"


def _finished_tvae_job():
    from unittest.mock import patch

    from dl_core.jobs import JobState
    from ui.jobs import render_job

    with patch("ui.jobs.st.page_link"):  # no page registry in a function-only app
        render_job(JobState(
            job_id="j2", status="finished", epoch=3, epochs=3,
            spec={"task": "generation", "arch": "tvae", "dataset_name": "churn",
                  "target": "churn"},
            metrics={"quality": 0.84, "column_shapes": 0.95, "column_pairs": 0.73, "copies": 0,
                     "dcr_closer_to_train": 0.19, "tstr_ratio": 0.64, "fit_seconds": 13.2}))


def test_train_page_names_a_table_generators_figures_as_the_generate_page_does():
    at = AppTest.from_function(_finished_tvae_job, default_timeout=60).run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert list(shown) == ["Quality", "Shapes", "Pairs", "Copied rows", "DCR share",
                           "TSTR / TRTR", "Fit seconds"]
    assert shown["DCR share"] == "0.19"
    assert all(m.help for m in at.metric if m.label != "Fit seconds")
    # Rows of four: seven in one row cut 0.8404 to "0.8…" on a 1300-pixel-wide window.
    assert [c.weight for c in at.columns] == [0.25] * 8


def _finished_copula_job():
    from unittest.mock import patch

    from dl_core.jobs import JobState
    from ui.jobs import render_job

    with patch("ui.jobs.st.page_link"):
        render_job(JobState(
            job_id="j3", status="finished", epoch=1, epochs=1,
            spec={"task": "generation", "arch": "copula", "dataset_name": "tips", "target": ""},
            history={"validation_log_likelihood": [-3.25]}, samples=[{"tip": 2.5}],
            samples_epoch=1, metrics={"quality": 0.92}))


def test_a_one_pass_generator_gets_no_one_point_curve_nor_epoch_wording():
    at = AppTest.from_function(_finished_copula_job, default_timeout=60).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 0  # one dot "at epoch 1" explained nothing
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert "**Fresh samples** · from the fitted model" in texts
    assert "Fitted in one pass · validation log likelihood -3.25" in texts
    assert not any("epoch" in t for t in texts)


def _finished_image_kde_job():
    import base64
    from unittest.mock import patch

    import numpy as np

    from dl_core.generation.images import png_bytes
    from dl_core.jobs import JobState
    from ui.jobs import render_job

    png = base64.b64encode(png_bytes(np.zeros((16, 8), dtype=np.uint8))).decode()
    with patch("ui.jobs.st.page_link"):
        render_job(JobState(
            job_id="j4", status="finished", epoch=1, epochs=1,
            spec={"task": "generation", "arch": "image_kde", "dataset_name": "digits",
                  "target": "label", "data_kind": "image"},
            history={"width": [0.63]}, grid={"png": png, "epoch": 1, "row_labels": [0, 1]},
            metrics={"agreement": 0.98, "frechet_distance": 0.43}))


def test_a_one_pass_image_generators_grid_leads_its_row():
    """image_kde's grid sat in the right of two columns, the left (for curves) left empty; then
    in a narrow left column, where its heading wrapped. Sized to its pixels, it needs none."""
    at = AppTest.from_function(_finished_image_kde_job, default_timeout=60).run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    assert "**Samples from the fitted model** · one row per class" in shown
    # Its Fréchet distance of as many images as it trained on is no match for the Generate
    # page's of 50 (ten times higher); the ratio is.
    assert any("The Fréchet distance falls as more images are drawn: compare draws of other "
               "sizes by Fréchet / floor." in c.value for c in at.caption)
    assert {round(c.weight, 2) for c in at.columns} == {0.25}  # the report's figures only
    [grid] = at.get("plotly_chart")
    assert '"displayModeBar": false' in grid.proto.config  # no toolbar over the top row


def _finished_conv_vae_job(rows: int = 2):
    """A finished conv_vae job with curves and a grid of ``rows`` classes of 8 RGB 32x32s."""
    import base64
    from unittest.mock import patch

    import numpy as np

    from dl_core.generation.images import png_bytes
    from dl_core.jobs import JobState
    from ui.jobs import render_job

    grid = np.zeros((rows * 33 + 1, 8 * 33 + 1, 3), dtype=np.uint8)
    with patch("ui.jobs.st.page_link"):
        render_job(JobState(
            job_id="j5", status="finished", epoch=3, epochs=3,
            spec={"task": "generation", "arch": "conv_vae", "dataset_name": "scenes",
                  "target": "scene", "data_kind": "image"},
            history={"loss": [3.0, 2.0, 1.5], "reconstruction": [2.5, 1.8, 1.4],
                     "kl": [0.5, 0.2, 0.1]},
            grid={"png": base64.b64encode(png_bytes(grid)).decode(), "epoch": 3,
                  "row_labels": [f"class{i}" for i in range(rows)]},
            metrics={"agreement": 0.98, "frechet_distance": 0.43}))


@pytest.mark.parametrize(("rows", "beside"), [(2, False), (10, True)])
def test_a_wide_grid_goes_under_the_curves_a_tall_one_beside_them(rows, beside):
    # Two classes of 32x32 images make a grid four times wider than high: in the two fifths
    # beside the curves it was a strip 46 pixels high.
    import plotly.io

    at = AppTest.from_function(_finished_conv_vae_job, args=(rows,), default_timeout=60).run()
    assert not at.exception
    curves, grid = at.get("plotly_chart")
    assert ("curves-j5" in curves.proto.id, "grid-j5" in grid.proto.id) == (True, True)
    weights = [round(c.weight, 2) for c in at.columns]
    assert (weights[:2] == [0.6, 0.4]) is beside
    width = plotly.io.from_json(grid.proto.spec).layout.width
    assert width <= 300 if beside else width > 300
