"""Data-page choices that depend on the table: the default target, the split, what Evaluate
says about them."""

from __future__ import annotations

import numpy as np

from dl_core import tracking
from tests.pages.apptest import open_app, train_and_wait
from ui import state


def _csv(columns: list[str], n: int = 60) -> bytes:
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.3f}" for v in rng.normal(size=len(columns))) for _ in range(n)]
    return (",".join(columns) + "\n" + "\n".join(rows) + "\n").encode()


def test_diamonds_like_table_defaults_to_price_not_y():
    at = open_app("app_pages/data.py")
    columns = ["carat", "depth", "table", "price", "x", "y", "z"]
    at.file_uploader(key="upload").set_value(("diamonds.csv", _csv(columns), "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="target_choice").value == "price"
    assert any("target `price`" in s.value for s in at.success)


def test_without_a_target_cue_the_user_picks_and_no_page_breaks():
    at = open_app("app_pages/data.py")
    at.file_uploader(key="upload").set_value(("plain.csv", _csv(["a", "b", "c"]),
                                              "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="target_choice").value is None
    assert any("Pick the column to predict" in i.value for i in at.info)
    assert not at.success  # no task, no shapes: nothing was guessed
    assert at.session_state[state.TARGET] is None
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert any("pick a target" in i.value for i in at.info)
    # Without a target only the generators (which need none) are offered.
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    assert any(i.value.startswith("No target picked on the Data page: only generators")
               for i in at.info)
    at.switch_page("app_pages/data.py").run()
    at.selectbox(key="target_choice").select("b").run()
    assert not at.exception
    assert at.session_state[state.TARGET] == "b"
    assert any("Task: **regression** · target `b`" in s.value for s in at.success)


def test_dated_table_is_split_by_time_and_evaluate_says_so(weather_log):
    at = open_app("app_pages/data.py")
    csv = weather_log.to_csv(index=False).encode()
    at.file_uploader(key="upload").set_value(("seattle-weather.csv", csv, "text/csv")).run()
    assert at.selectbox(key="kind_choice").value == "tabular"
    at.selectbox(key="target_choice").select("weather").run()
    assert not at.exception
    assert any(c.value.startswith("Split by time on `date`: train 2012-01-01 … 2012-07-28")
               for c in at.caption), [c.value for c in at.caption]

    at.switch_page("app_pages/model.py").run()
    assert at.selectbox(key="train.split").value == "auto"
    at.number_input(key="train.epochs").set_value(2).run()  # applies at once (no Apply)
    run_id = train_and_wait(at)
    assert tracking.get_run(run_id).data.params["split_column"] == "date"

    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    shown = [c.value for c in at.caption]
    assert ("Split by time on `date`: train 2012-01-01 … 2012-07-28 (210 rows), validation "
            "2012-07-29 … 2012-08-27 (30 rows), test 2012-08-28 … 2012-10-26 (60 rows)."
            in shown), shown


def test_pixel_csv_with_text_in_some_cells_says_which_columns_instead_of_crashing():
    from dl_core.data.samples import build_sample

    df = build_sample("digits").head(140).astype(object)
    df.loc[df.index[::7], "pixel20"] = "bright"
    at = open_app("app_pages/data.py")
    at.file_uploader(key="upload").set_value(
        ("digits-typos.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert sum("['pixel20'] hold non-numeric values (e.g. 'bright')" in e for e in errors) == 1, \
        errors  # once, not from the preview and the data check both
    assert not any("failed unexpectedly" in e for e in errors)
    # The preview still shows the digits, on their 0..255 scale (a text cell is a blank pixel).
    import base64
    import json

    chart = next(c for c in at.get("plotly_chart") if "image_grid" in c.proto.id)
    cells = [np.frombuffer(base64.b64decode(t["z"]["bdata"]), dtype=t["z"]["dtype"])
             for t in json.loads(chart.proto.spec)["data"]]  # plotly's typed arrays
    assert any(np.isnan(z).any() for z in cells)
    assert np.nanmax([np.nanmax(z) for z in cells]) == 255
