"""Every CSV people download neutralises spreadsheet formulas; numbers stay numbers.

A text cell such as ``=cmd|' /C calc'!A0`` or ``@SUM(A1)`` runs when the CSV is opened in a
spreadsheet. Predictions copy the uploaded columns, run tables show names and params people
typed: each download writes such a cell with a leading ``'``.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import streamlit as st
from streamlit import config as st_config

from dl_core import cli, tracking
from tests.pages.apptest import open_app, recorded_downloads

CMD = "=cmd|' /C calc'!A0"
SUM = "@SUM(A1)"


def _csv(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data))


def _hostile_rows(seeded_runs) -> pd.DataFrame:
    new = seeded_runs["data"].drop(columns="label").head(6).copy()
    new["x1"] = new["x1"].to_numpy() * 0 - 3.5  # a negative number must stay a number
    new["comment"] = [CMD, SUM, "-x", "+1+1", "fine", "-2"]  # a column the model ignores
    return new


def test_predict_page_download_neutralises_formulas(seeded_runs):
    at = open_app("app_pages/predict.py")
    at.selectbox(key="predict_run").select(seeded_runs["runs"][0]).run()
    new = _hostile_rows(seeded_runs)
    with recorded_downloads() as files:
        at.file_uploader(key="predict_upload").set_value(
            ("hostile.csv", new.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [name] = [n for n in files if n.startswith("predictions-")]
    table = _csv(files[name])
    assert table["comment"].tolist() == ["'" + CMD, "'" + SUM, "'-x", "'+1+1", "fine", "-2"]
    assert table["x1"].tolist() == [-3.5] * 6 and table["x1"].dtype == float
    assert set(table["prediction"]) <= {"yes", "no"}


def test_cli_predict_output_neutralises_formulas(seeded_runs, tmp_path, capsys):
    src = tmp_path / "hostile.csv"
    _hostile_rows(seeded_runs).to_csv(src, index=False)
    out = tmp_path / "predictions.csv"
    assert cli.main(["predict", seeded_runs["runs"][0], str(src), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 6
    table = _csv(out.read_bytes())
    assert table["comment"].tolist()[:2] == ["'" + CMD, "'" + SUM]
    assert table["x1"].tolist() == [-3.5] * 6


def test_runs_table_download_neutralises_formulas():
    # Runs as anyone sharing the store can name them (no training needed for the table).
    for name, lr in ((CMD, "-0.5"), (SUM, "0.01")):
        run_id = tracking.start_run("formulas", run_name=name,
                                    params={"learning_rate": lr, "note": CMD},
                                    tags={tracking.TAG_KIND: "training", "dataset": SUM})
        tracking.log_metrics(run_id, {"test_accuracy": -3.5})
        tracking.end_run(run_id, "FINISHED")
    st.cache_data.clear()  # the runs listing is cached for 10 s
    at = open_app("app_pages/runs.py")
    at.multiselect(key="f_exp").select("formulas")
    with recorded_downloads() as files:
        at.run()
    assert not at.exception
    table = _csv(files["runs.csv"])
    assert sorted(table["run"]) == sorted(["'" + CMD, "'" + SUM])
    assert set(table["dataset"]) == {"'" + SUM} and set(table["param: note"]) == {"'" + CMD}
    assert sorted(table["param: learning_rate"]) == [-0.5, 0.01]  # numbers stay numbers
    assert table["test_accuracy"].tolist() == [-3.5, -3.5]


def test_streamlit_table_export_is_off():
    # Streamlit's own CSV export of a table writes cells unchanged; the app turns it off so
    # tables leave only through the buttons above.
    st_config.get_config_options(force_reparse=True)
    assert st_config.get_option("client.disableDataExport") is True
