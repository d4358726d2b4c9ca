"""CSV downloads that a spreadsheet cannot execute.

A text cell such as ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` in a CSV opened by Excel,
LibreOffice or Google Sheets is run as a formula (CSV injection). Synthetic rows copy the shape of
user data, so every download neutralises them the way OWASP recommends: a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, which
spreadsheets show as text. Numeric, boolean and datetime columns are written unchanged, so
numbers stay numbers (``-3.5`` in a numeric column is not touched).
"""

from __future__ import annotations

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot start a spreadsheet formula.

    Args:
        df: Any table.

    Returns:
        The same table; in text and category columns, cells starting with one of
        :data:`FORMULA_TRIGGERS` are prefixed with ``'``. Other columns are unchanged.
    """
    out = df.copy()
    for name in out.columns:
        column = out[name]
        if not (
            pd.api.types.is_object_dtype(column.dtype)
            or pd.api.types.is_string_dtype(column.dtype)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ):
            continue
        values = column.astype(object)
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_TRIGGERS))
        if risky.any():
            out[name] = values.where(~risky, "'" + values[risky].astype(str))
    return out


def to_safe_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV bytes of ``df`` (no index) with formulas neutralised, for a download button."""
    return neutralise_formulas(df).to_csv(index=False).encode("utf-8")
