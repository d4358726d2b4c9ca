"""Evaluate-page sections: the decision threshold (picked on validation predictions), forecasts
against naive baselines, and the misclassified test images. All drawn from data stored in the
MLflow run."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dl_core import evaluation as ev
from dl_core import thresholds
from ui.errors import shown_errors


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


THRESHOLD_KEY = "threshold"
_VAL_METRICS = (("accuracy", "Accuracy"), ("precision", "Precision"), ("recall", "Recall"),
                ("f1", "F1"))


def threshold_section(run_id: str, val: dict[str, Any] | None, saved: float) -> None:
    """Pick a binary run's decision threshold on its validation predictions and save it.

    Everything shown while tuning is validation data; the test split is scored once, for the
    saved value, by :func:`dl_core.thresholds.save_threshold`.
    """
    from ui.loaders import run_artifacts
    from ui.runs import refresh

    st.subheader("Decision threshold · chosen on the validation split")
    if not val:
        st.info(f"This run logged no validation predictions (it predates threshold tuning), "
                f"so its threshold stays {saved:.2f}. Train it again to tune one.")
        return
    positive = val["classes"][1]
    # The slider follows the run: a newly chosen run starts at its saved threshold, and so does
    # a return to this page (Streamlit drops a widget's value on a page that was not drawn).
    if st.session_state.get("_threshold_run") != run_id or THRESHOLD_KEY not in st.session_state:
        st.session_state["_threshold_run"] = run_id
        st.session_state[THRESHOLD_KEY] = saved
        st.session_state.pop("_threshold_pick", None)
    c = st.columns([1, 1, 1])
    # The pickers run before the slider is drawn, which is when Streamlit lets them move it.
    with shown_errors("Picking a threshold"):
        if c[0].button("Maximise F1", key="threshold_max_f1",
                       help="The threshold with the best F1 on the validation split."):
            t = thresholds.max_f1_threshold(val["y_true"], val["proba"])
            st.session_state[THRESHOLD_KEY] = t
            st.session_state["_threshold_pick"] = (t, "max_f1", {})
        p_min = c[1].number_input("Precision at least", 0.05, 1.0, 0.9, 0.05,
                                  key="threshold_precision")
        if c[2].button("Reach this precision", key="threshold_min_precision",
                       help="The threshold with the best recall among those whose validation "
                            "precision reaches the value on the left."):
            t = thresholds.min_precision_threshold(val["y_true"], val["proba"], p_min)
            st.session_state[THRESHOLD_KEY] = t
            st.session_state["_threshold_pick"] = (t, "min_precision", {"min_precision": p_min})
    t = st.slider(f"Predict '{positive}' when its probability ≥", 0.01, 0.99, step=0.01,
                  key=THRESHOLD_KEY)
    m = thresholds.metrics_at(val, t)
    for col, (key, label) in zip(st.columns(len(_VAL_METRICS)), _VAL_METRICS, strict=True):
        col.metric(f"Validation {label.lower()}" if key != "f1" else "Validation F1",
                   f"{m[key]:.4f}")
    st.plotly_chart(ev.threshold_figure(ev.threshold_sweep(val["y_true"], val["proba"]), t),
                    key="threshold_plot")
    st.caption(f"{len(val['y_true']):,} validation samples. Saved threshold: **{saved:.2f}** "
               "(what Predict and the logged model use).")
    if st.button("Save threshold", key="threshold_save", type="primary",
                 disabled=abs(t - saved) < 1e-9):
        pick = st.session_state.get("_threshold_pick")
        rule, detail = (pick[1], pick[2]) if pick and abs(pick[0] - t) < 1e-9 else ("manual", {})
        with shown_errors("Saving the threshold"):
            thresholds.save_threshold(run_id, t, rule, detail)
            run_artifacts.clear()  # the run's report changed
            refresh(run_id)
            st.toast(f"Saved threshold {t:.2f}; the test split is reported at it below.")
            st.rerun()
