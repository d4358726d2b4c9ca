"""CSV downloads that a spreadsheet cannot execute.

A text cell such as ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` in a CSV opened by Excel,
LibreOffice or Google Sheets is run as a formula (CSV injection). Predictions copy the user's
input columns, synthetic rows copy the shape of user data and run tables hold names, notes and
tags people typed, so every CSV we let people download goes through :func:`to_safe_csv`: a
text cell (or column name) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote, which spreadsheets show as text (what OWASP recommends).
Numeric, boolean and datetime columns are written unchanged, and so is a text cell that is a
plain number (``-3.5``, ``+44``): numbers stay numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain signed decimal: a spreadsheet reads it as a number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _risky(value: object) -> bool:
    return (isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)
            and _PLAIN_NUMBER.fullmatch(value) is None)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot start a spreadsheet formula.

    Args:
        df: Any table.

    Returns:
        The same table; in text and category columns, cells starting with one of
        :data:`FORMULA_TRIGGERS` (and not a plain number) are prefixed with ``'``, and so are
        such column names. Other columns are unchanged.
    """
    out = df.copy()
    for i, name in enumerate(out.columns):
        column = out.iloc[:, i]
        if not (
            pd.api.types.is_object_dtype(column.dtype)
            or pd.api.types.is_string_dtype(column.dtype)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ):
            continue
        values = column.astype(object)
        risky = values.map(_risky).astype(bool)
        if risky.any():
            out.isetitem(i, values.where(~risky, "'" + values[risky].astype(str)))
    if any(_risky(c) for c in out.columns):
        out.columns = [f"'{c}" if _risky(c) else c for c in out.columns]
    return out


def to_safe_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV bytes of ``df`` (no index) with formulas neutralised, for a download."""
    return neutralise_formulas(df).to_csv(index=False).encode("utf-8")


def write_safe_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` as :func:`to_safe_csv` does (CLI outputs)."""
    Path(path).write_bytes(to_safe_csv(df))
