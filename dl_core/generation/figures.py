"""Plotly figures of a synthesis report: real vs synthetic, column by column and pair by pair.

Pure functions of the two tables (and the report); the Generate page shows them, nothing here
imports streamlit. Columns are described by the same
:class:`~dl_core.generation.schema.TableSchema` the report uses, so a column drawn as a
histogram is one the report scored with KS, and a bar chart one it scored with TVD.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dl_core.generation.schema import CONTINUOUS, TableSchema

REAL, SYNTHETIC = "#1f77b4", "#ff7f0e"
_MAX_BARS = 30


def overlay_columns(real: pd.DataFrame) -> list[str]:
    """The columns an overlay can be drawn for (those the report scores)."""
    return [str(s.name) for s in TableSchema().fit(real).modelled]


def column_overlay(real: pd.DataFrame, synthetic: pd.DataFrame, column: str) -> go.Figure:
    """Real vs synthetic distribution of one column: overlaid histograms (numbers, dates) or
    side-by-side shares (categories), missing values counted as their own bar."""
    schema = TableSchema().fit(real[[column]])
    spec = schema.column(column)
    r = schema.to_numbers(real[[column]])[:, 0]
    s = schema.to_numbers(synthetic[[column]])[:, 0]
    fig = go.Figure()
    if spec.role == CONTINUOUS:
        both = np.concatenate([r[~np.isnan(r)], s[~np.isnan(s)]])
        edges = np.histogram_bin_edges(both, bins=30) if both.size else np.array([0.0, 1.0])
        centres = (edges[:-1] + edges[1:]) / 2
        x = pd.to_datetime(centres) if spec.is_datetime else centres
        for name, values, colour in (("real", r, REAL), ("synthetic", s, SYNTHETIC)):
            counts, _ = np.histogram(values[~np.isnan(values)], bins=edges)
            share = counts / max(counts.sum(), 1)
            fig.add_bar(x=x, y=share, name=name, marker_color=colour, opacity=0.6)
        fig.update_layout(barmode="overlay", bargap=0)
    else:
        labels = ["(missing)" if c is None else str(c) for c in spec.categories]
        real_share = _shares(r, len(labels))
        synth_share = _shares(s, len(labels))
        top = np.argsort(-(real_share + synth_share))[:_MAX_BARS]
        for name, share, colour in (("real", real_share, REAL),
                                    ("synthetic", synth_share, SYNTHETIC)):
            fig.add_bar(x=[labels[i] for i in top], y=share[top], name=name, marker_color=colour)
        fig.update_layout(barmode="group")
    fig.update_layout(title=f"{column}: real vs synthetic", yaxis_title="share of rows",
                      height=320, margin=dict(l=40, r=20, t=50, b=40),
                      legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"))
    return fig


def _shares(codes: np.ndarray, k: int) -> np.ndarray:
    codes = codes[~np.isnan(codes)].astype(int)
    codes = codes[(codes >= 0) & (codes < k)]
    return np.bincount(codes, minlength=k) / max(len(codes), 1)


def correlation_matrix(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame | None:
    """Pearson correlations of the numeric (and date) columns, ``None`` with fewer than two."""
    numeric = [s for s in schema.modelled if s.role == CONTINUOUS]
    if len(numeric) < 2:
        return None
    sub = TableSchema(columns_=numeric)
    numbers = pd.DataFrame(sub.to_numbers(frame), columns=[str(s.name) for s in numeric])
    return numbers.corr()


#: Most columns a correlation heatmap writes its values in.
MAX_LABELLED_CELLS = 12
#: The pair metrics in a word ("ContingencySimilarity" was cut to "ContingencySimilari…").
_PAIR_METRIC = {"CorrelationSimilarity": "correlation", "ContingencySimilarity": "contingency"}


def correlation_heatmaps(real: pd.DataFrame, synthetic: pd.DataFrame) -> list[go.Figure]:
    """The real and the synthetic correlation heatmaps on one colour scale (empty list when the
    table has fewer than two numeric columns)."""
    schema = TableSchema().fit(real)
    out = []
    for title, frame in (("Real correlations", real), ("Synthetic correlations", synthetic)):
        corr = correlation_matrix(frame, schema)
        if corr is None:
            return []
        n = len(corr.columns)
        # Past a dozen columns the cell values no longer fit (breast cancer's 31 showed "-"):
        # they move to the hover, and the map grows with its columns, every one labelled.
        cells = {"text": np.round(corr.to_numpy(), 2), "texttemplate": "%{text}"} \
            if n <= MAX_LABELLED_CELLS else {}
        fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=list(map(str, corr.columns)),
                                   y=list(map(str, corr.index)), zmin=-1, zmax=1,
                                   colorscale="RdBu", reversescale=True, **cells))
        fig.update_layout(title=title, height=max(360, 18 * n + 160),
                          margin=dict(l=40, r=20, t=50, b=40),
                          xaxis=dict(dtick=1), yaxis=dict(autorange="reversed", dtick=1))
        out.append(fig)
    return out


def column_shapes_figure(report: dict[str, Any]) -> go.Figure:
    """One bar per column: its shape score (1 - KS for numbers, 1 - TVD for categories)."""
    shapes = [s for s in report["details"]["column_shapes"] if s["score"] is not None]
    shapes.sort(key=lambda s: s["score"])
    fig = go.Figure(go.Bar(
        x=[s["score"] for s in shapes], y=[str(s["column"]) for s in shapes], orientation="h",
        marker_color=REAL, hovertext=[s["metric"] for s in shapes],
    ))
    # A short title: the chart's toolbar covered the end of a long one in half a page.
    fig.update_layout(title="Column shapes",
                      xaxis=dict(range=[0, 1], title="1 = same distribution as the real column"),
                      height=max(220, 26 * len(shapes) + 80),
                      margin=dict(l=40, r=20, t=50, b=40))
    return fig


def column_pairs_table(report: dict[str, Any]) -> pd.DataFrame:
    """Every column pair with its score, how it was measured and whether it counts."""
    rows = [{"columns": " × ".join(map(str, p["columns"])), "score": p["score"],
             "metric": _PAIR_METRIC.get(p["metric"], p["metric"]), "counted": p["counted"]}
            for p in report["details"]["column_pairs"]]
    df = pd.DataFrame(rows, columns=["columns", "score", "metric", "counted"])
    return df.sort_values(["counted", "score"], ascending=[False, True], ignore_index=True)
