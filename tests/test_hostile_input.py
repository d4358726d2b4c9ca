"""Hostile input beyond CSV content: run ids and artifact paths, unpickling, server settings.

Run ids and artifact paths a user supplies (CLI arguments; a tag in a shared store) never reach
a file outside the run; nothing a user supplies is unpickled; the server the app runs with
checks XSRF tokens and limits uploads.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from dl_core import cli, tracking
from dl_core.errors import DataError, TrackingError

ROOT = Path(__file__).resolve().parent.parent
BAD_RUN_IDS = ["../../etc/passwd", "/etc/passwd", "..", "a/b", "", "run id", "x" * 300,
               "abc\n", "é" * 32, "C:\\Windows"]
BAD_ARTIFACT_PATHS = ["../../mlflow.db", "/etc/passwd", "evaluation/../../../x", "..",
                      "C:\\secret.txt", "~/.ssh/id_rsa", "a\x00b", "..\\..\\x", " "]


@pytest.fixture(scope="module")
def run_with_a_report() -> str:
    run_id = tracking.start_run("hostile", run_name=None, params={}, tags={"arch": "fnn"})
    tracking.log_dict(run_id, {"accuracy": 0.75}, "evaluation/report.json")
    tracking.end_run(run_id, "FINISHED")
    return run_id


@pytest.mark.parametrize("run_id", BAD_RUN_IDS)
def test_a_path_is_never_taken_for_a_run_id(run_id):
    with pytest.raises(TrackingError, match="is not a run id"):
        tracking.get_run(run_id)
    with pytest.raises(TrackingError, match="is not a run id"):
        tracking.artifact_bytes(run_id, "evaluation/report.json")


def test_the_cli_refuses_a_path_as_run_id_with_one_line(tmp_path, capsys):
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n1,2\n")
    for args in (["predict", "../../etc/passwd", str(data), "--out", str(tmp_path / "p.csv")],
                 ["generate", "/etc/passwd", "--n", "5", "--out", str(tmp_path / "g.csv")]):
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert err.count("error:") == 1 and "is not a run id" in err and "Traceback" not in err


@pytest.mark.parametrize("path", BAD_ARTIFACT_PATHS)
def test_an_artifact_path_stays_inside_the_run(run_with_a_report, path):
    with pytest.raises(TrackingError, match="is not allowed"):
        tracking.artifact_bytes(run_with_a_report, path)
    with pytest.raises(TrackingError, match="is not allowed"):
        tracking.download_folder(run_with_a_report, path, Path("/tmp"))


def test_a_good_artifact_path_still_reads(run_with_a_report):
    assert tracking.load_json(run_with_a_report, "evaluation/report.json") == {"accuracy": 0.75}
    assert tracking.artifact_paths(run_with_a_report) == ["evaluation/report.json"]


def test_a_dataset_tag_never_names_a_file_outside_the_app_folder(tmp_path):
    from dl_core.data.storage import store_dataset, stored_dataset

    outside = tmp_path / "outside.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(outside)
    assert stored_dataset(f"../../../../../../{outside.with_suffix('')}") is None
    assert stored_dataset(None) is None
    path = store_dataset(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert stored_dataset(path.stem) == path


# -- nothing a user supplies is unpickled ---------------------------------------------------
# What would run code from a file: none of it appears in the app's code.
UNPICKLING = re.compile(
    r"\bpickle\.loads?\(|\bcloudpickle\b|\bdill\b|\bjoblib\.load\(|read_pickle\(|"
    r"allow_pickle\s*=\s*True|safe_mode\s*=\s*False|torch\.load\(|\bmarshal\.loads?\(|"
    r"\bshelve\b|\beval\(|\bexec\("  # np.load is safe: allow_pickle defaults to False
)


def test_no_code_path_unpickles_or_evaluates():
    found = []
    for folder in ("dl_core", "ui", "app_pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text().splitlines(), start=1):
                code = line.split("#", 1)[0]
                if UNPICKLING.search(code):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, found


class Payload:
    """A type no preprocessing is made of (what a tampered skops file would carry)."""


def test_preprocessing_with_an_unexpected_type_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    from dl_core.data.preprocessing import load_preprocessor

    path = tmp_path / "preprocessor.skops"
    sio.dump({"scaler": StandardScaler(), "extra": Payload()}, path)
    with pytest.raises(DataError, match="Refusing to load preprocessing with unexpected types"):
        load_preprocessor(path)


# -- the server's settings ------------------------------------------------------------------
def test_the_server_checks_xsrf_and_limits_uploads(monkeypatch):
    from streamlit import config as st_config

    # What `streamlit run` reads from the folder it starts in (the repo root, the image's /app).
    monkeypatch.chdir(ROOT)
    for name in [k for k in __import__("os").environ if k.startswith("STREAMLIT_SERVER_")]:
        monkeypatch.delenv(name)
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("server.enableXsrfProtection") is True
        assert st_config.get_option("server.enableCORS") is True
        assert st_config.get_option("server.maxUploadSize") == 200
        assert st_config.get_option("client.disableDataExport") is True
        assert st_config.get_option("client.showErrorDetails") == "none"
    finally:
        st_config.get_config_options(force_reparse=True)
