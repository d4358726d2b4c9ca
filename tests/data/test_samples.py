"""Bundled samples: written once under app_home(), read back like uploads, fit for their task."""

from __future__ import annotations

import pytest

from dl_core.data import samples
from dl_core.data.profile import profile_dataframe
from dl_core.data.samples import SAMPLES, load_sample, sample_path
from dl_core.data.task import check_target, detect_task
from dl_core.errors import DataError


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_EXPLORER_HOME", str(tmp_path))
    return tmp_path


def test_sample_order():
    assert list(SAMPLES) == ["breast_cancer", "wine", "diabetes", "churn", "digits", "seasonal"]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_loads_and_fits_its_task(name):
    sample = SAMPLES[name]
    df = load_sample(name)
    assert sample.target in df.columns
    assert detect_task(df[sample.target]) == sample.task
    check_target(df, sample.target, sample.task)
    assert sample.title and sample.description


def test_written_once_then_reread(home, monkeypatch):
    path = sample_path("wine")
    assert path == home / "samples" / "wine.csv"
    first = path.read_bytes()

    def no_rebuild():
        raise AssertionError("sample rebuilt although its file exists")

    monkeypatch.setattr(samples, "build_sample", lambda name: no_rebuild())
    assert sample_path("wine") == path
    assert path.read_bytes() == first
    assert load_sample("wine").shape == (178, 14)
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


def test_sample_targets():
    assert set(load_sample("breast_cancer")["target"]) == {"malignant", "benign"}
    assert set(load_sample("wine")["target"]) == {"class_0", "class_1", "class_2"}
    assert load_sample("diabetes")["progression"].dtype.kind == "f"


def test_churn_table():
    df = load_sample("churn")
    assert df.shape == (2000, 13)
    assert 0.2 <= (df["Churn"] == "Yes").mean() <= 0.3
    assert df["TotalCharges"].dtype.kind == "f"
    assert 0.005 <= df["TotalCharges"].isna().mean() <= 0.02
    gaps = df.isna().mean()
    assert sum(0.03 <= share <= 0.05 for share in gaps) >= 2
    kinds = {col.name: col.kind for col in profile_dataframe(df).columns}
    assert kinds["customerID"] == "id"
    assert kinds["SignupDate"] == "datetime"
    assert kinds["Contract"] == "categorical"
    assert kinds["Churn"] == "boolean"
    assert kinds["tenure"] == "numeric"


def test_churn_is_deterministic():
    assert samples.build_sample("churn").equals(samples.build_sample("churn"))


def test_unknown_sample():
    with pytest.raises(
        DataError, match="Unknown sample 'titanic'; expected one of breast_cancer, wine"
    ):
        sample_path("titanic")
