"""Where DL Explorer keeps its own files (samples, uploaded datasets handed to jobs)."""

from __future__ import annotations

import os
from pathlib import Path


def app_home() -> Path:
    """Folder for app files: ``$DL_EXPLORER_HOME`` or ``./.dl_explorer``; created on demand."""
    home = Path(os.environ.get("DL_EXPLORER_HOME") or Path.cwd() / ".dl_explorer")
    home.mkdir(parents=True, exist_ok=True)
    return home
