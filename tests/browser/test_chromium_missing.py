"""Without chromium the browser tests fail (never skip) and say how to get it."""

import shutil

import pytest

from tests.browser import conftest


def test_missing_chromium_fails_with_the_fix(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(conftest, "DEBIAN_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="make browser"):
        conftest.chromium_path()
