"""Generate images in a real browser: one class of a conv_vae run, its preview and report
(fidelity beside privacy), the PNG grid and pixel CSV downloads, and a click on the latent map
that picks an image to interpolate from."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from dl_core.data.samples import build_sample
from tests.browser.test_upload_train_evaluate import assert_no_exception, select, settle

pytestmark = pytest.mark.browser


def test_generate_images_in_the_browser(page: Page, image_generator_run: str, tmp_path):
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Generate", exact=True).click()
    expect(page.get_by_role("heading", name="Generate")).to_be_visible(timeout=60_000)
    settle(page)
    # The newest generator run is shown first; tests run before this one may have made others.
    combobox = page.locator(".st-key-gen_run").get_by_role("combobox")
    combobox.click()
    page.get_by_role("option", name=re.compile(image_generator_run[:8])).click()
    # The first visit asks the worker (TensorFlow loads there) for the latent map.
    expect(page.locator(".st-key-lat_map")).to_be_visible(timeout=120_000)
    settle(page)
    assert_no_exception(page)
    page.locator(".st-key-gen_img_mode").get_by_text("One class").click()
    settle(page)
    select(page, "gen_img_class", "7")
    page.locator(".st-key-gen_img_n").get_by_role("spinbutton").fill("12")
    page.locator(".st-key-gen_img_n").get_by_role("spinbutton").press("Enter")
    settle(page)
    page.locator(".st-key-gen_go").get_by_role("button").click()
    expect(page.get_by_text("Generated 12 images (label = 7)")).to_be_visible(timeout=120_000)
    settle(page)
    assert_no_exception(page)
    # Fidelity is never shown without privacy. (The report is drawn after the rows; on a loaded
    # machine that takes longer than an assertion's 5 s.)
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Agreement")).to_be_visible(
        timeout=60_000)
    for label in ("Agreement", "Fréchet distance", "Real-vs-real floor", "Precision", "Recall",
                  "Copies", "Memorisation ratio"):
        expect(page.get_by_test_id("stMetricLabel").filter(has_text=label)).to_have_count(1)
    with page.expect_download() as download:
        page.locator(".st-key-gen_dl_png").get_by_role("button").click()
    grid = Image.open(io.BytesIO(download.value.path().read_bytes()))
    assert grid.size == ((4 * 9 + 1) * 4, (3 * 9 + 1) * 4)  # 12 images: 4 x 3 cells of 32 px
    with page.expect_download() as download:
        page.locator(".st-key-gen_dl_csv").get_by_role("button").click()
    rows = pd.read_csv(download.value.path())
    assert list(rows.columns) == list(build_sample("digits").columns) and len(rows) == 12
    assert set(rows["label"]) == {7}

    # Clicks on two points of the latent map make them images A and B, in turn.
    a, b = (page.locator(f".st-key-{key}").get_by_role("combobox") for key in ("lat_a", "lat_b"))
    before = a.input_value(), b.input_value()
    traces = page.locator(".st-key-lat_map .scatterlayer .trace")
    for trace in (5, 2):
        point = traces.nth(trace).locator("path.point").last
        point.scroll_into_view_if_needed()
        page.wait_for_timeout(500)  # the page has stopped moving
        box = point.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        # On a point: its hover label names the training image (then the click selects it).
        expect(page.locator(".st-key-lat_map .hoverlayer .hovertext")).to_contain_text("image #")
        page.mouse.down()
        page.mouse.up()
        page.wait_for_timeout(500)
        settle(page)
    expect(a).not_to_have_value(before[0])
    expect(b).not_to_have_value(before[1])
    assert re.fullmatch(r"training image #\d+ · class \d", a.input_value())
    expect(page.get_by_text(re.compile(r"^A \(real\) → 10 images decoded"))).to_be_visible()
    assert_no_exception(page)
