"""Datasets handed to background jobs: written once as Parquet, named by their content."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from dl_core.paths import app_home


def content_hash(df: pd.DataFrame) -> str:
    """A short, stable hash of a table's content (logged so runs on the same data group)."""
    h = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    h.update("\x1f".join(map(str, df.columns)).encode())
    return h.hexdigest()[:16]


def store_dataset(df: pd.DataFrame) -> Path:
    """Save ``df`` under the app folder (idempotent) and return the file's path."""
    folder = app_home() / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{content_hash(df)}.parquet"
    if not path.exists():
        tmp = path.with_suffix(f".{id(df)}.tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(path)
    return path


def stored_dataset(content_hash_: object) -> Path | None:
    """The stored dataset with this content hash; None if absent or not a hash (a run's tag
    is data from the store: "../../x" must not name a file outside the app folder)."""
    text = str(content_hash_)
    if len(text) != 16 or any(c not in "0123456789abcdef" for c in text):
        return None
    path = app_home() / "datasets" / f"{text}.parquet"
    return path if path.exists() else None


def load_dataset(path: str | Path) -> pd.DataFrame:
    """Read a dataset handed to a job (Parquet written by the app, or a CSV)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    from dl_core.data.loading import read_csv

    return read_csv(path)
