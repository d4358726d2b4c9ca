"""Predict: apply any finished run's model to a new CSV; preview and download the result."""

import streamlit as st

from dl_core.export import to_safe_csv
from ui import predict as ui_predict
from ui.errors import shown_errors
from ui.loaders import parse_csv
from ui.runs import all_runs

st.title("Predict")
run_id = None
with shown_errors("Reading the runs"):
    run_id = ui_predict.choose_run(all_runs())
if run_id is None:
    st.stop()
with shown_errors("Reading the run"):
    ui_predict.run_caption(run_id)

uploaded = st.file_uploader("CSV to predict (same feature columns; the target may be absent)",
                            type=["csv", "tsv", "txt"], key="predict_upload")
if uploaded is None:
    st.info("Upload a CSV with the columns the model was trained on.")
    st.stop()

with shown_errors("Predicting"):
    df = parse_csv(uploaded.getvalue(), uploaded.name)
    table, notes = ui_predict.predict_table(run_id, df)
    for note in notes:
        st.info(note, icon=":material/info:")
    st.success(f"Predicted {len(table):,} rows with run `{run_id[:8]}`.")
    st.dataframe(table.head(500), hide_index=True, key="predict_preview")
    st.download_button(
        "Download predictions (CSV)", to_safe_csv(table),
        file_name=f"predictions-{run_id[:8]}-{ui_predict.stamp()}.csv", mime="text/csv",
        key="predict_download", on_click="ignore",
    )
