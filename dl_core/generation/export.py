"""Synthetic rows are downloaded through :mod:`dl_core.export` (formulas neutralised)."""

from dl_core.export import FORMULA_TRIGGERS, neutralise_formulas, to_safe_csv

__all__ = ["FORMULA_TRIGGERS", "neutralise_formulas", "to_safe_csv"]
