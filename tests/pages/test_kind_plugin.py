"""The Data page offers a data kind registered outside the app's code, with its own target
label and description of the inputs, and checks its data through the kind (no page change)."""

from __future__ import annotations

from tests.pages.apptest import open_app
from tests.test_extension_points import sentences, words_kind  # noqa: F401  (fixture)
from ui import state


def test_the_data_page_uses_a_registered_kind(words_kind):  # noqa: F811
    at = open_app("app_pages/data.py")
    csv = sentences(120).to_csv(index=False).encode()
    at.file_uploader(key="upload").set_value(("sentences.csv", csv, "text/csv")).run()
    assert not at.exception
    kind = at.selectbox(key="kind_choice")
    assert "Sentences (one per row)" in kind.options
    kind.select("words").run()
    assert not at.exception
    target = at.selectbox(key="target_choice")
    assert target.label == "Label of each sentence"
    target.select("long").run()
    assert not at.exception
    assert at.session_state[state.ARCH] == "words_fnn"  # the kind's default architecture
    done = [s.value for s in at.success]
    assert any("target `long` · word counts ·" in s for s in done), done
