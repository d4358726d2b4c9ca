"""Home: what DL Explorer does and where to start. Cheap: no TensorFlow here."""

import streamlit as st

st.title("DL Explorer")
st.markdown(
    "Train, evaluate and compare neural networks on your own CSV files, without writing code. "
    "Every run is recorded in MLflow, so nothing you try is lost."
)
steps = [
    ("app_pages/data.py", ":material/table_view:", "Data", "Upload a CSV or load a sample, read its profile, pick the target."),
    ("app_pages/model.py", ":material/account_tree:", "Model", "Choose an architecture and its hyperparameters."),
    ("app_pages/train.py", ":material/model_training:", "Train", "Watch live learning curves; stop any time."),
    ("app_pages/evaluate.py", ":material/monitoring:", "Evaluate", "Metrics, confusion matrix and curves on held-out rows."),
    ("app_pages/generate.py", ":material/auto_awesome:", "Generate", "Synthetic rows or images, with a fidelity and privacy report; a VAE's latent map."),
    ("app_pages/runs.py", ":material/table_rows:", "Runs", "Every run in one table: filter, compare, re-run, rename or delete."),
    ("app_pages/predict.py", ":material/online_prediction:", "Predict", "Predictions for a new CSV from any finished run."),
]
for page, icon, title, text in steps:
    st.page_link(page, label=f"**{title}** — {text}", icon=icon)
