"""The Generate page for an image generator: per-class counts, the preview by class, the three
downloads, the image report (fidelity beside privacy), the latent explorer; and the pixel CSV
that `generate` writes loads back through the Data page as images."""

from __future__ import annotations

import base64
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dl_core import tracking
from dl_core.generation.image_figures import decode_png
from tests.pages.apptest import open_app, recorded_downloads, recorded_generation
from ui import state


def figure(at, key: str):
    """The plotly figure the page drew with widget key ``key``."""
    import plotly.io

    chart = next(c for c in at.get("plotly_chart") if key in c.proto.id)
    return plotly.io.from_json(chart.proto.spec)


def values(array) -> list:
    """A trace's array as a list (plotly sends numbers as typed base64 arrays)."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


@pytest.fixture(scope="module")
def image_page(image_generator_run):
    """The page after asking for 4 zeros and 3 sevens, and the files its downloads send."""
    import streamlit as st

    st.cache_data.clear()  # the run listing an earlier test cached predates this run
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(image_generator_run).run()
    assert not at.exception
    at.radio(key="gen_img_mode").set_value("Per-class counts").run()
    for i in range(10):
        at.number_input(key=f"gen_count_{i}").set_value({0: 4, 7: 3}.get(i, 0))
    with recorded_downloads() as files:
        at.button(key="gen_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at, files  # the page, and what its download buttons send


def test_per_class_counts_give_those_images_recorded_as_a_generation(image_page,
                                                                    image_generator_run):
    at, files = image_page
    success = at.success[0].value
    assert success.startswith("Generated 7 images (per-class counts) · seed 0 · recorded as run")
    recorded_generation(at, image_generator_run)
    rows = at.session_state["generation_result"]["rows"]
    assert rows["label"].value_counts().to_dict() == {0: 4, 7: 3}
    # Scored against the real zeros and sevens only, and the page says so.
    from dl_core.generation.generate import load_rows

    report = at.session_state["generation_result"]["report"]
    train, holdout = load_rows(image_generator_run)
    assert (report["n_train"], report["n_holdout"]) == (
        train["label"].isin([0, 7]).sum(), holdout["label"].isin([0, 7]).sum())
    assert any(i.value.startswith("Real images narrowed to label = 0, 7 (") for i in at.info), \
        [i.value for i in at.info]
    # The preview has one row per class asked for, labelled.
    preview = figure(at, "gen_img_preview")
    assert list(preview.layout.yaxis.ticktext) == ["0", "7"]
    # Ten cells a row: the 4 zeros, then mid-grey blanks (black would pass for a dark image).
    image = decode_png(preview.data[0].source.split(",", 1)[1])
    zoom = image.shape[0] // (2 * 9 + 1)
    cell = image[zoom * 1:zoom * 9, zoom * (1 + 4 * 9):zoom * (9 + 4 * 9)]
    assert (cell == 128).all()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download grid (PNG)", "Download images (ZIP of PNGs)",
                      "Download pixel CSV"]
    files = {name.rsplit(".", 1)[1]: data for name, data in files.items()}
    # 7 images: a 3 x 3 grid of 8x8 cells (1-pixel padding) zoomed 4x; a PNG each; the rows.
    assert Image.open(io.BytesIO(files["png"])).size == ((3 * 9 + 1) * 4, (3 * 9 + 1) * 4)
    with zipfile.ZipFile(io.BytesIO(files["zip"])) as archive:
        assert sorted(n.split("_")[1] for n in archive.namelist()) == ["0.png"] * 4 + ["7.png"] * 3
    back = pd.read_csv(io.BytesIO(files["csv"]))
    pd.testing.assert_frame_equal(back, rows.reset_index(drop=True), check_dtype=False)


def test_the_request_keeps_its_values_across_modes_and_pages(image_generator_run):
    # Per-class counts (or another page, or a table generator) hide "Images"; coming back, it
    # had gone back to 100.
    import streamlit as st

    st.cache_data.clear()
    at = open_app("app_pages/generate.py")
    at.selectbox(key="gen_run").select(image_generator_run).run()
    at.number_input(key="gen_img_n").set_value(12)
    at.number_input(key="gen_seed").set_value(7).run()
    at.radio(key="gen_img_mode").set_value("Per-class counts").run()
    at.number_input(key="gen_count_3").set_value(5).run()
    at.switch_page("app_pages/runs.py").run()
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    assert at.radio(key="gen_img_mode").value == "Per-class counts"
    assert at.number_input(key="gen_count_3").value == 5
    at.radio(key="gen_img_mode").set_value("One class").run()
    at.selectbox(key="gen_img_class").select(4).run()
    at.radio(key="gen_img_mode").set_value("Like the training mix").run()
    assert (at.number_input(key="gen_img_n").value, at.number_input(key="gen_seed").value) == (
        12, 7)
    at.radio(key="gen_img_mode").set_value("One class").run()
    assert at.selectbox(key="gen_img_class").value == 4


def test_the_image_report_shows_fidelity_beside_privacy_as_recorded(image_page):
    at, _ = image_page
    generation = at.session_state["generation_result"]["report"]["run_id"]
    metrics = tracking.get_run(generation).data.metrics
    shown = {m.label: m.value for m in at.metric}
    assert list(shown) == ["Agreement", "Fréchet distance", "Real-vs-real floor", "Precision",
                           "Recall", "Copies", "Memorisation ratio"]
    # Full-width rows of five, privacy under fidelity: squeezed beside each other (a 6:3
    # split) the labels were cut to "Fréchet di…" and "Memorisation r…".
    assert [round(c.weight, 3) for c in at.columns].count(round(6 / 9, 3)) == 0
    assert float(shown["Fréchet distance"]) == pytest.approx(metrics["frechet_distance"],
                                                             abs=5e-3)
    # The ratio under it: what compares this draw of 7 with Train's draw of another size.
    [distance] = [m for m in at.metric if m.label == "Fréchet distance"]
    assert distance.delta == f"{metrics['frechet_ratio']:.2f} × the floor"
    assert metrics["frechet_ratio"] == pytest.approx(
        metrics["frechet_distance"] / metrics["frechet_floor"])
    assert float(shown["Precision"]) == pytest.approx(metrics["precision"], abs=5e-4)
    assert shown["Copies"] == f"{int(metrics['copies']):,}"
    assert float(shown["Memorisation ratio"]) == pytest.approx(metrics["memorisation_ratio"],
                                                               abs=5e-3)
    # 7 images: the floor is the median of 5 sets of 7 training images, and their range says
    # how far a distance of so few images wanders by chance.
    report = at.session_state["generation_result"]["report"]
    assert report["frechet_floor_low"] < report["frechet_floor"] < report["frechet_floor_high"]
    assert any(c.value.startswith(f"Sets of 7 real training images score "
                                  f"{report['frechet_floor_low']:.2f} to "
                                  f"{report['frechet_floor_high']:.2f} against the held-out")
               for c in at.caption), [c.value for c in at.caption]


def test_the_latent_explorer_maps_interpolates_and_decodes_the_plane(image_page):
    at, _ = image_page
    classes = [t for t in figure(at, "lat_map").data if t.name != "A → B"]
    assert [t.name for t in classes] == [str(c) for c in range(10)]
    assert sum(len(values(t.x)) for t in classes) == 84  # all training images (30% held out)
    # A conditional VAE's classes overlap on the map; the page says why.
    assert any("classes may overlap, and nearby points share a style" in c.value
               for c in at.caption)
    a, b = at.selectbox(key="lat_a"), at.selectbox(key="lat_b")
    # By default A and B are of different classes, so the strip is decoded as both.
    assert a.value != b.value
    [caption] = [c.value for c in at.caption if c.value.startswith("A (real) → ")]
    assert caption.startswith("A (real) → 10 images decoded along the straight line")
    # Each row named by its class, beside it.
    strip = figure(at, "lat_strip")
    rows = list(strip.layout.yaxis.ticktext)
    assert strip.layout.yaxis.title.text == "decoded as"
    assert len(set(rows)) == 2 and set(rows) <= {str(c) for c in range(10)}
    assert f"each row decoded as the class beside it ({', '.join(rows)})" in caption
    at.selectbox(key="lat_b").set_value(83).run()
    assert not at.exception
    # B is marked where image #83 sits on the map, joined to A.
    trace = next(t for t in classes if 83 in values(t.customdata))
    where = values(trace.customdata).index(83)
    path = next(t for t in figure(at, "lat_map").data if t.name == "A → B")
    assert list(path.text) == ["A", "B"]
    assert (values(path.x)[1], values(path.y)[1]) == pytest.approx(
        (values(trace.x)[where], values(trace.y)[where]))
    assert figure(at, "lat_plane").layout.title.text == "decoded as class 0"
    at.selectbox(key="lat_plane_class").select(7).run()
    assert figure(at, "lat_plane").layout.title.text == "decoded as class 7"
    assert not at.exception and not at.error


def test_the_pixel_csv_from_generate_loads_back_through_the_data_page(image_generator_run,
                                                                      tmp_path):
    from dl_core.cli import main

    out = tmp_path / "more-digits.csv"
    assert main(["generate", image_generator_run, "--n", "100", "--out", str(out)]) == 0
    at = open_app("app_pages/data.py")
    at.file_uploader(key="upload").set_value(("more-digits.csv", out.read_bytes(),
                                              "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="kind_choice").value == "image"
    assert at.session_state[state.TARGET] == "label"
    [done] = [s.value for s in at.success]
    assert "target `label` · 8 × 8 × 1 images ·" in done, done


def test_the_train_page_shows_the_latest_grid_with_its_classes_after_navigating(
        image_generator_job):
    from ui.loaders import executor

    job_id, _ = image_generator_job  # trained by the executor these pages share
    at = open_app()
    at.session_state[state.JOB_ID] = job_id
    for page in ("app_pages/train.py", "app_pages/data.py", "app_pages/train.py"):
        at.switch_page(page).run()  # the job's view, then away and back
    assert not at.exception and not at.error
    grid = figure(at, f"grid-{job_id}")
    assert list(grid.layout.yaxis.ticktext) == [str(c) for c in range(10)]
    shown = executor().progress(job_id).grid
    assert shown["epoch"] == 2 and shown["row_labels"] == list(range(10))
    assert any(m.value.startswith("**Samples after epoch 2** · one row per class")
               for m in at.markdown)
    # Its column is a label, as the Model page names it, not a target.
    assert any("generating images (label `label`)" in m.value for m in at.markdown)
    labels = [m.label for m in at.metric]
    assert labels[:6] == ["Agreement", "Fréchet distance", "Real-vs-real floor",
                          "Fréchet / floor", "Precision", "Recall"]
    # Its link to Generate leads to this generator, whatever was picked there before.
    at.session_state[state.GEN_RUN] = "an-older-generator"
    at.session_state[state.GEN_RUN_OFFERED] = None
    at.switch_page("app_pages/train.py").run()
    assert at.session_state[state.GEN_RUN] == image_generator_job[1]
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception
    assert at.selectbox(key=state.GEN_RUN).value == image_generator_job[1]


def test_other_jobs_on_the_train_page_name_their_runs(image_generator_job):
    from tests.pages.apptest import load_sample

    job_id, run_id = image_generator_job
    at = open_app("app_pages/data.py")
    load_sample(at, "wine")
    at.switch_page("app_pages/train.py").run()
    assert any(e.label.startswith("Earlier and other jobs on this server, yours included (")
               for e in at.expander)
    [line] = [m.value for m in at.markdown if "digits-gen" in m.value]
    assert f"run `{run_id[:8]}` digits-gen → label · finished" in line and job_id not in line


def test_the_runs_page_shows_an_image_generators_samples_and_report(image_generator_run):
    from tests.pages.test_runs_pages import runs_page, select_rows

    at = runs_page("digits-gen")
    select_rows(at, [tracking.get_run(image_generator_run).info.run_name])
    metrics = tracking.get_run(image_generator_run).data.metrics
    shown = {m.label: m.value for m in at.metric}
    assert float(shown["Recall"]) == pytest.approx(metrics["recall"], abs=5e-4)
    assert shown["Copies"] == f"{int(metrics['copies']):,}" and "Memorisation ratio" in shown
    # The grid of the report's sample the run logged.
    grid = figure(at, f"grid_{image_generator_run}")
    assert grid.data[0].source.startswith("data:image/png;base64,")
    # Each row's class beside it, as on the Train page (the run logs them beside the grid).
    samples = pd.read_csv(io.BytesIO(tracking.artifact_bytes(image_generator_run,
                                                             "generation/samples.csv")))
    assert list(grid.layout.yaxis.ticktext) == [str(c) for c in sorted(set(samples["label"]))]
    assert grid.layout.yaxis.title.text == "label"


def _headline_of_more_images_than_the_floor_has():
    from ui.generate_images import image_headline

    image_headline({"agreement": 0.99, "frechet_distance": 0.70, "frechet_floor": 0.74,
                    "frechet_ratio": 0.70 / 0.74, "frechet_floor_low": 0.74,
                    "frechet_floor_high": 0.74, "precision": 0.9, "recall": 0.8, "copies": 0,
                    "memorisation_ratio": 1.0, "n_synthetic": 200, "n_floor": 124,
                    "n_train": 124, "n_holdout": 53})


def test_a_floor_of_fewer_training_images_than_were_drawn_says_so():
    # 200 images of a class with 124 training images: the floor cannot be 200 real ones, and
    # the help said it was "as many real training images as synthetic ones".
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_headline_of_more_images_than_the_floor_has).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert ("The floor compares all 124 training images of these classes, fewer than the 200 "
            "drawn, with the held-out ones: a perfect generator's 200 images would score a "
            "little below it.") in captions
    assert not any(c.startswith("Sets of ") for c in captions)
    [floor] = [m for m in at.metric if m.label == "Real-vs-real floor"]
    assert "all of them when there are fewer" in floor.help
