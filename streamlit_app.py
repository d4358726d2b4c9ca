"""DL Explorer: the router. Page config, session defaults, navigation; nothing else."""

import streamlit as st

from ui import state

st.set_page_config(page_title="DL Explorer", page_icon=":material/neurology:", layout="wide")
state.init_defaults()

pages = {
    "Workflow": [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("app_pages/data.py", title="Data", icon=":material/table_view:", url_path="data"),
        st.Page("app_pages/model.py", title="Model", icon=":material/account_tree:", url_path="model"),
        st.Page("app_pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
        st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/monitoring:", url_path="evaluate"),
        st.Page("app_pages/generate.py", title="Generate", icon=":material/auto_awesome:", url_path="generate"),
    ],
    "Experiments": [
        st.Page("app_pages/runs.py", title="Runs", icon=":material/table_rows:", url_path="runs"),
        st.Page("app_pages/predict.py", title="Predict", icon=":material/online_prediction:", url_path="predict"),
    ],
}
st.navigation(pages).run()
