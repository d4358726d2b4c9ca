"""The Gaussian copula, registered as a generator for tables (the yardstick for tvae/ctgan)."""

from __future__ import annotations

from dl_core.generation.synthesizer import CopulaConfig, CopulaSynthesizer
from dl_core.models.registry import register_model


@register_model(
    "copula",
    config=CopulaConfig,
    kinds={"tabular"},
    family="generative",
    title="Gaussian copula (generator)",
    description="Fast, non-neural synthetic rows: each column's own distribution joined by one "
                "correlation matrix; the yardstick the networks must beat.",
)
def build(cfg: CopulaConfig) -> CopulaSynthesizer:
    """An unfitted copula synthesizer (fitting reads the table)."""
    return CopulaSynthesizer(cfg)
