"""The model zoo as a user drives it: the digits images and the seasonal series, from the Data
page to the Evaluate page (AppTest from the entrypoint)."""

from __future__ import annotations


from tests.pages.apptest import load_sample, open_app, train_and_wait
from ui import state


def test_digits_cnn_from_data_to_misclassified_images():
    at = open_app("app_pages/data.py")
    load_sample(at, "digits")
    assert at.selectbox(key="kind_choice").value == "image"
    assert at.text_input(key="image_shape").value == "8x8x1"
    assert any("8 × 8 × 1 images" in s.value for s in at.success)

    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    # The CNN first (the image kind's default), then the image generators.
    options = at.selectbox(key="arch_choice").options
    assert options[0] == "Convolutional network (CNN)"
    assert at.selectbox(key="arch_choice").value == "cnn"
    assert any(o.startswith("Convolutional VAE") for o in options[1:])
    at.number_input(key="blocks.cnn.0.filters").set_value(8).run()
    at.button(key="blocks.cnn.1.remove").click().run()  # one conv block is enough here
    assert not at.exception
    at.number_input(key="train.epochs").set_value(2)
    at.text_input(key="model.cnn.dense_units").set_value("16").run()
    assert at.session_state[state.MODEL_CONFIG]["filters"] == (8,)
    assert at.session_state[state.MODEL_CONFIG]["dense_units"] == (16,)

    train_and_wait(at)
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    assert "Accuracy" in {m.label for m in at.metric}
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) >= 4  # confusion matrix, ROC, PR, misclassified images (+ curves)
    assert any(m.value == "**Misclassified test images**" for m in at.markdown)


def test_seasonal_lstm_from_data_to_forecast_vs_baselines():
    at = open_app("app_pages/data.py")
    load_sample(at, "seasonal")
    assert at.selectbox(key="kind_choice").value == "timeseries"
    assert at.selectbox(key="time_column").value == "timestamp"
    at.number_input(key="lookback").set_value(24).run()
    at.number_input(key="horizon").set_value(3).run()
    assert not at.exception
    assert any("3 step(s) ahead" in s.value for s in at.success)

    at.switch_page("app_pages/model.py").run()
    assert at.session_state[state.ARCH] == "lstm"
    at.number_input(key="blocks.lstm.0.units").set_value(8).run()
    at.button(key="blocks.lstm.add").click().run()  # a second layer, then reorder
    at.number_input(key="blocks.lstm.1.units").set_value(4).run()
    at.button(key="blocks.lstm.1.up").click().run()
    assert not at.exception
    at.number_input(key="train.epochs").set_value(3).run()
    assert at.session_state[state.MODEL_CONFIG]["units"] == (4, 8)

    train_and_wait(at)
    at.switch_page("app_pages/evaluate.py").run()
    assert not at.exception
    assert {"MAE", "RMSE", "MAPE (%)", "R²"} <= {m.label for m in at.metric}
    assert any("last-value baseline" in m.value for m in at.markdown)


def test_bad_series_options_are_explained():
    at = open_app("app_pages/data.py")
    load_sample(at, "seasonal")
    at.number_input(key="lookback").set_value(500).run()
    assert not at.exception
    assert any("too few for lookback 500" in e.value for e in at.error)


def test_pixel_csv_with_no_valid_shape_is_explained():
    rows = ["label," + ",".join(f"pixel{i}" for i in range(50))]
    rows += [f"{i % 2}," + ",".join(str((i * j) % 255) for j in range(50)) for i in range(40)]
    at = open_app("app_pages/data.py")
    at.file_uploader(key="upload").set_value(("px.csv", "\n".join(rows).encode(), "text/csv")).run()
    assert at.selectbox(key="kind_choice").value == "image"
    assert not at.exception
    assert any("Cannot infer the image shape" in e.value for e in at.error)
