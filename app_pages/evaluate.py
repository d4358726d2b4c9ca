"""Evaluate: honest metrics on the held-out test split, read back from the MLflow run; a binary
model's decision threshold is tuned on the validation split and the test split reported at it."""

import pandas as pd
import streamlit as st

from dl_core import evaluation as ev
from dl_core.data.splits import describe_split
from ui import state
from ui.errors import shown_errors
from ui.evaluate import show_forecast, show_misclassified, threshold_section
from ui.loaders import run_artifacts
from ui.runs import all_runs, predictive_runs, run_label

st.title("Evaluate")
runs = predictive_runs(all_runs())  # generators are scored on the Generate page
if runs is None:
    st.stop()

rows = runs.set_index("run_id")
ids = list(rows.index)
current = state.get(state.RUN_ID)
run_id = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0,
                      format_func=lambda i: run_label(rows.loc[i]))
state.put(state.RUN_ID, run_id)
if rows.loc[run_id, "status"] == "KILLED":
    st.warning("This run was stopped early: these are the metrics of the model at that point.")

with shown_errors("Loading the evaluation"):
    art = run_artifacts(run_id)
    report = art["report"]
    if report is None:
        st.error("This run has no logged evaluation (it may have failed before the test step).")
        st.stop()
    st.caption(f"Held-out test split: {report['n_samples']:,} samples never used for fitting, "
               "early stopping or any choice.")
    if art["features"] and art["features"].get("split"):
        st.caption(describe_split(art["features"]["split"]))
    if report["task"] == "forecast":
        show_forecast(report)
    elif report["task"] == "regression":
        m = report["metrics"]
        cols = st.columns(4)
        for col, key in zip(cols, ("mse", "rmse", "mae", "r2")):
            col.metric(key.upper() if key != "r2" else "R²", f"{m[key]:.4g}")
        left, right = st.columns(2)
        left.plotly_chart(ev.predicted_vs_actual_figure(report["y_true"], report["y_pred"]))
        right.plotly_chart(ev.residuals_figure(report["y_true"], report["y_pred"]))
    else:
        classes = report["classes"]
        threshold = float(report.get("threshold", 0.5))
        if report["task"] == "binary":
            threshold_section(run_id, art["val_predictions"], threshold)
            st.subheader(f"Test split · at the saved threshold {threshold:.2f}")
            st.caption("Reported once for the saved threshold; the test split takes no part in "
                       "choosing it.")
        m = report["metrics"]
        names = [("accuracy", "Accuracy"), ("precision", "Precision"), ("recall", "Recall"),
                 ("f1", "F1"), ("roc_auc", "ROC-AUC")]
        # ROC-AUC 1.0000 beside accuracy 0.81 read as a bug to a newcomer: say what each reads.
        helps = {"accuracy": "Share of test rows whose predicted class is right.",
                 "roc_auc": "How well the predicted probabilities rank each class above the "
                            "others (one-vs-rest, macro for several classes), whatever the "
                            "cut: it can be near 1 while accuracy is lower, when the scores "
                            "rank well but the most likely class is often not the true one."}
        for col, (key, label) in zip(st.columns(len(names)), names):
            col.metric(label, "—" if m.get(key) is None else f"{m[key]:.4f}",
                       help=helps.get(key))
        if report["task"] == "multiclass":
            st.caption("Precision, recall and F1 are macro averages over classes.")
        normalize = st.toggle("Row-normalised confusion matrix (recall per true class)", key="norm")
        left, right = st.columns(2)
        left.plotly_chart(ev.confusion_matrix_figure(report["confusion_matrix"], classes, normalize))
        right.dataframe(pd.DataFrame(report["per_class"]), hide_index=True, column_config={
            c: st.column_config.NumberColumn(format="%.3f") for c in ("precision", "recall", "f1")})
        left, right = st.columns(2)
        left.plotly_chart(ev.roc_figure(report))
        right.plotly_chart(ev.pr_figure(report))
        if art["misclassified"]:
            show_misclassified(art["misclassified"])
    if art["history"]:
        st.plotly_chart(ev.learning_curves_figure(art["history"]))
    if art["features"] and art["features"].get("dropped_columns"):
        with st.expander("Columns not used as features"):
            st.table(pd.DataFrame(art["features"]["dropped_columns"].items(),
                                  columns=["column", "reason"]))
