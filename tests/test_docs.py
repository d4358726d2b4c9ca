"""The README and docs/ stand on their own: no pointer outside the repository, and every file and
name docs/architecture.md cites exists (so the page cannot drift from the code silently)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_and_docs_point_nowhere_outside_the_repository():
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "DESIGN.md" not in text, page.name


def test_readme_links_the_architecture_page():
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert ARCHITECTURE.is_file()


def test_every_file_the_architecture_page_cites_exists():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:dl_core|ui|app_pages|tests|bench)/[\w/]+\.py)`", text))
    assert len(paths) >= 10  # the pattern does find them
    assert sorted(p for p in paths if not (ROOT / p).is_file()) == []


def test_every_dotted_name_the_architecture_page_cites_resolves():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    names = set(re.findall(r"`((?:dl_core|ui)(?:\.\w+)+)`", text))
    assert len(names) >= 5
    missing = []
    for name in sorted(names):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert missing == []
