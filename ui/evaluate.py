"""Evaluate-page sections for the model zoo: forecasts against naive baselines, and the
misclassified test images. Both are drawn from data stored in the MLflow run."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dl_core import evaluation as ev


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def show_forecast(report: dict[str, Any]) -> None:
    """Metrics of the model and of the naive baselines, and forecast vs actual."""
    m = report["metrics"]
    names = (("mae", "MAE"), ("rmse", "RMSE"), ("mape", "MAPE (%)"), ("r2", "R²"))
    for col, (key, label) in zip(st.columns(len(names)), names, strict=True):
        col.metric(label, _fmt(m.get(key)))
    last = report.get("baselines", {}).get("last_value")
    if last and m.get("rmse") is not None:
        gain = 1 - m["rmse"] / last["rmse"] if last["rmse"] else 0.0
        verdict = "beats" if gain > 0 else "does not beat"
        st.markdown(f"The network **{verdict}** the last-value baseline: RMSE {m['rmse']:.4g} vs "
                    f"{last['rmse']:.4g} ({gain:+.1%}).")
    table = pd.DataFrame(ev.forecast_table(report))[["forecaster", "mae", "rmse", "mape", "r2"]]
    st.dataframe(table.rename(columns={"mae": "MAE", "rmse": "RMSE", "mape": "MAPE (%)",
                                       "r2": "R²"}), hide_index=True)
    st.caption(f"{report['n_samples']:,} test windows, horizon {report['horizon']} step(s); "
               "metrics over every window and step. MAPE is left out when an actual value is 0.")
    st.plotly_chart(ev.forecast_figure(report), key="forecast_plot")


def show_misclassified(data: dict[str, Any]) -> None:
    """The most confident mistakes on the test images, titled true → predicted."""
    st.markdown("**Misclassified test images**")
    st.plotly_chart(ev.misclassified_figure(data), key="misclassified")
