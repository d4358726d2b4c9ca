"""Model page (AppTest): only training options that change something for the data are offered."""

from __future__ import annotations

from tests.pages.apptest import load_sample, open_app
from ui import state


def train_options(at) -> set[str]:
    return {w.key for w in at.selectbox if w.key and w.key.startswith("train.")}


def test_a_forecast_is_not_offered_split_or_class_weight_a_table_is():
    """A series is always split in time order and a regression has no classes to weigh: the
    Model page offered both and silently ignored them."""
    at = open_app("app_pages/data.py")
    load_sample(at, "seasonal")
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    options = train_options(at)
    assert "train.optimizer" in options
    assert not options & {"train.split", "train.class_weight"}
    assert at.session_state[state.TRAIN_CONFIG]["split"] == "auto"

    at.switch_page("app_pages/data.py").run()
    load_sample(at, "breast_cancer")  # a classified table: both apply
    at.switch_page("app_pages/model.py").run()
    assert not at.exception
    assert {"train.split", "train.class_weight"} <= train_options(at)
