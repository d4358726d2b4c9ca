"""Errors shown to people: a clear message in the page, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from dl_core.errors import DLExplorerError

log = logging.getLogger("dl_explorer")


@contextmanager
def shown_errors(action: str = "That") -> Iterator[None]:
    """Show ``DLExplorerError`` messages as ``st.error``; log anything else and say so plainly.

    Streamlit's own control-flow exceptions (rerun, stop, page switch) pass through.
    """
    try:
        yield
    except DLExplorerError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:
        if type(exc).__module__.startswith("streamlit"):
            raise
        log.exception("%s failed", action)
        st.error(f"{action} failed unexpectedly: {type(exc).__name__}: {exc}", icon=":material/error:")
