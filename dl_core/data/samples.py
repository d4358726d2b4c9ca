"""Sample datasets to try the app without an upload.

Samples are written as CSV files under ``app_home()/samples`` the first time they are asked for,
then read back through :func:`~dl_core.data.loading.read_csv` like any upload, so they exercise
the same path a user's file takes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dl_core.data.loading import read_csv
from dl_core.errors import DataError
from dl_core.paths import app_home


@dataclass(frozen=True)
class Sample:
    """A bundled dataset.

    Attributes:
        name: Key in :data:`SAMPLES` and file stem.
        title: Short name for the UI.
        description: One or two sentences on what the data is and what to predict.
        target: Column to predict.
        task: One of ``dl_core.data.task.TASKS``.
        data_kind: One of ``dl_core.models.registry.DATA_KINDS``.
        time_column: The time column of a time series.
        lookback: Suggested window length for forecasting.
        horizon: Suggested forecast horizon.
    """

    name: str
    title: str
    description: str
    target: str
    task: str
    data_kind: str = "tabular"
    time_column: str | None = None
    lookback: int | None = None
    horizon: int | None = None


SAMPLES: dict[str, Sample] = {
    sample.name: sample
    for sample in (
        Sample(
            name="breast_cancer",
            title="Breast cancer (diagnosis)",
            description=(
                "569 tumours described by 30 measurements of cell nuclei (Wisconsin diagnostic "
                "data). Predict whether a tumour is malignant or benign."
            ),
            target="target",
            task="binary",
        ),
        Sample(
            name="wine",
            title="Wine (cultivar)",
            description=(
                "178 Italian wines described by 13 chemical measurements. Predict which of three "
                "cultivars each wine comes from."
            ),
            target="target",
            task="multiclass",
        ),
        Sample(
            name="diabetes",
            title="Diabetes (disease progression)",
            description=(
                "442 diabetes patients with age, sex, BMI, blood pressure and six blood serum "
                "measurements. Predict a measure of disease progression one year later."
            ),
            target="progression",
            task="regression",
        ),
        Sample(
            name="churn",
            title="Customer churn (synthetic)",
            description=(
                "2,000 telecom customers with contract, services, charges and support calls, "
                "including an ID column, dates and missing values like real exports. Predict "
                "whether a customer leaves (Churn)."
            ),
            target="Churn",
            task="binary",
        ),
        Sample(
            name="digits",
            title="Handwritten digits (8x8 images)",
            description=(
                "1,797 handwritten digits as 8x8 grey images, one row per image: a label and "
                "64 pixel columns (0-255). Predict the digit with a CNN, or make new digits "
                "with an image generator (conv_vae, dcgan)."
            ),
            target="label",
            task="multiclass",
            data_kind="image",
        ),
        Sample(
            name="seasonal",
            title="Hourly load (seasonal time series)",
            description=(
                "600 hourly readings with a daily cycle, a slow trend and noise (generated). "
                "Forecast the next 12 hours from the last 48."
            ),
            target="load",
            task="regression",
            data_kind="timeseries",
            time_column="timestamp",
            lookback=48,
            horizon=12,
        ),
    )
}


def sample_path(name: str) -> Path:
    """Returns the CSV file of sample ``name``, writing it on first use.

    The file is written to a temporary name and renamed, so a concurrent reader never sees a
    half-written file.

    Args:
        name: A key of :data:`SAMPLES`.

    Returns:
        ``app_home() / "samples" / f"{name}.csv"``.

    Raises:
        DataError: If ``name`` is not a sample.
    """
    if name not in SAMPLES:
        raise DataError(f"Unknown sample '{name}'; expected one of {', '.join(SAMPLES)}.")
    folder = app_home() / "samples"
    path = folder / f"{name}.csv"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    frame = build_sample(name)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file is not secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def build_sample(name: str) -> pd.DataFrame:
    """Generates sample ``name`` afresh (deterministic: the same frame every time)."""
    if name not in SAMPLES:
        raise DataError(f"Unknown sample '{name}'; expected one of {', '.join(SAMPLES)}.")
    return _BUILDERS[name]()


def load_sample(name: str) -> pd.DataFrame:
    """Reads sample ``name`` (see :func:`sample_path`) with :func:`read_csv`."""
    return read_csv(sample_path(name))


def _breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.copy()
    frame["target"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def _wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.data.copy()
    frame["target"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame


def _diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    # Unscaled: ages in years and sex as 1/2 read better than standardised values.
    bunch = load_diabetes(as_frame=True, scaled=False)
    frame = bunch.data.copy()
    frame["progression"] = bunch.target
    return frame


def _churn(n_rows: int = 2000, seed: int = 7) -> pd.DataFrame:
    """A synthetic telecom churn table in the spirit of the IBM Telco data.

    Churn is drawn from a logistic model of contract, tenure, internet service, payment method,
    support calls and seniority, so a good classifier reaches a ROC-AUC of about 0.8 to 0.85.
    """
    rng = np.random.default_rng(seed)
    n = n_rows
    numbers = rng.choice(np.arange(1000, 10000), size=n, replace=False)
    letters = rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), size=(n, 5))
    customer_id = [f"{num}-{''.join(chars)}" for num, chars in zip(numbers, letters)]

    gender = rng.choice(["Female", "Male"], size=n)
    senior = (rng.random(n) < 0.16).astype(int)
    partner = np.where(rng.random(n) < 0.48, "Yes", "No")
    tenure = np.clip(np.round(rng.gamma(1.3, 25.0, size=n)), 0, 72).astype(int)

    # Long-standing customers are more often on long contracts.
    p_long = 0.15 + 0.6 * tenure / 72
    u = rng.random(n)
    contract = np.where(
        u < 1 - p_long, "Month-to-month", np.where(u < 1 - p_long / 2, "One year", "Two year")
    )
    internet = rng.choice(["DSL", "Fiber optic", "No"], size=n, p=[0.34, 0.44, 0.22])
    payment = rng.choice(
        [
            "Electronic check",
            "Mailed check",
            "Bank transfer (automatic)",
            "Credit card (automatic)",
        ],
        size=n,
        p=[0.34, 0.23, 0.22, 0.21],
    )
    base = np.select([internet == "Fiber optic", internet == "DSL"], [85.0, 55.0], 22.0)
    monthly = np.round(np.clip(base + rng.normal(0, 9, size=n), 18.25, 118.75), 2)
    total = np.round(monthly * tenure * rng.uniform(0.95, 1.05, size=n), 2)
    support_calls = rng.poisson(1.2 + 0.8 * (internet == "Fiber optic"), size=n)
    signup_days = tenure * 30.4 + rng.integers(0, 30, size=n)
    signup = pd.Timestamp("2024-12-31") - pd.to_timedelta(np.round(signup_days), unit="D")

    logit = 1.2 * (
        1.0 * (contract == "Month-to-month")
        - 0.9 * (contract == "Two year")
        - 0.03 * tenure
        + 0.8 * (internet == "Fiber optic")
        - 0.4 * (internet == "No")
        + 0.5 * (payment == "Electronic check")
        + 0.35 * support_calls
        + 0.35 * senior
        - 0.2 * (partner == "Yes")
        + 0.006 * (monthly - 65)
    )
    # Pick the intercept so that about a quarter of customers churn.
    intercept = _intercept_for_rate(logit, 0.25)
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-(logit + intercept))), "Yes", "No")

    frame = pd.DataFrame(
        {
            "customerID": customer_id,
            "gender": gender,
            "SeniorCitizen": senior,
            "Partner": partner,
            "tenure": tenure,
            "Contract": contract,
            "InternetService": internet,
            "PaymentMethod": payment,
            "MonthlyCharges": monthly,
            "TotalCharges": total,
            "SupportCalls": pd.array(support_calls, dtype="Int64"),
            "SignupDate": signup.strftime("%Y-%m-%d"),
            "Churn": churn,
        }
    )
    # Gaps like real exports: blank TotalCharges for ~1% (new customers in the Telco data) and a
    # few percent missing in two more columns.
    frame["TotalCharges"] = frame["TotalCharges"].mask(rng.random(n) < 0.01)
    frame["PaymentMethod"] = frame["PaymentMethod"].mask(rng.random(n) < 0.04)
    frame["SupportCalls"] = frame["SupportCalls"].mask(rng.random(n) < 0.03)
    return frame


def _digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # 0..16 intensities as the 0..255 of an 8-bit image CSV.
    pixels = np.round(bunch.data * 255.0 / 16.0).astype(int)
    frame = pd.DataFrame(pixels, columns=[f"pixel{i}" for i in range(pixels.shape[1])])
    frame.insert(0, "label", bunch.target)
    return frame


def _seasonal(n: int = 600, season: int = 24, seed: int = 3) -> pd.DataFrame:
    """A daily cycle (period 24 h) on a slow trend, with a weaker weekly swing and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    load = (
        50.0 + 0.02 * t
        + 10.0 * np.sin(2 * np.pi * t / season)
        + 3.0 * np.sin(2 * np.pi * t / (7 * season))
        + rng.normal(0.0, 1.0, size=n)
    )
    stamps = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M"), "load": np.round(load, 3)})


def _intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    """Intercept b such that the mean of sigmoid(logit + b) is ``rate`` (bisection)."""
    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


_BUILDERS: dict[str, Callable[[], pd.DataFrame]] = {
    "breast_cancer": _breast_cancer,
    "wine": _wine,
    "diabetes": _diabetes,
    "churn": _churn,
    "digits": _digits,
    "seasonal": _seasonal,
}
