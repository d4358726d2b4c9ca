"""Every run of the store as one frame, kept current by reading only the runs that changed.

A team's store grows to thousands of runs, and reading them all through MLflow costs seconds
(10,000 runs: ~3.4 s from SQLite, more through a tracking server). A :class:`RunsIndex` reads
everything once, then on each later read asks MLflow, filtering server side, only for the runs
that may have changed since: started or ended since the last read, not ended yet, or named by
the caller (an edit this app made), plus the ids in MLflow's bin and the active experiments.

MLflow keeps no "last modified" time on a run, so an edit made elsewhere (the MLflow UI, another
app) to a run that had already ended, or a single run restored from the bin, is seen at the
next full read: every ``full_every_s``
seconds, or when asked (the Runs page's Refresh button).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import pandas as pd

from dl_core import compare, tracking


class RunsIndex:
    """The runs of one store; safe to share between threads (one read at a time).

    Args:
        full_every_s: Seconds after which the next read is a full one again.
        margin_s: How far before the last read's start a later read looks back, so a run
            stamped by a client whose clock lags (or one that started or ended during the
            last read) is not missed.
    """

    def __init__(self, full_every_s: float = 300.0, margin_s: float = 60.0) -> None:
        self.full_every_s = full_every_s
        self.margin_s = margin_s
        self._lock = threading.Lock()
        self._frame: pd.DataFrame | None = None
        self._since_ms = 0
        self._full_at = 0.0
        self._changed: set[str] = set()
        self._experiments: set[str] = set()
        self.last_read = ""  # "full" or "changes": what the latest frame() did

    def reload(self) -> None:
        """Make the next read a full one."""
        with self._lock:
            self._frame = None

    def mark_changed(self, run_ids: Iterable[str]) -> None:
        """Runs edited since their end (renamed, tagged, deleted): read again next time."""
        with self._lock:
            self._changed.update(run_ids)

    def frame(self) -> pd.DataFrame:
        """Every active run, as :func:`dl_core.compare.runs_frame` builds it, newest first.

        Raises:
            TrackingError: if the store cannot be searched.
        """
        with self._lock:
            started = time.time()
            full = (self._frame is None
                    or time.monotonic() - self._full_at > self.full_every_s)
            names = tracking.experiments()
            if full:
                frame = compare.runs_frame(tracking.search_run_records())
                self._full_at = time.monotonic()
            else:
                changed = tracking.changed_run_records(self._since_ms, self._changed)
                # A new or restored experiment may bring runs older than the last read.
                appeared = [e for e in names if e not in self._experiments]
                if appeared:
                    seen = {r["run_id"] for r in changed}
                    changed += [r for r in tracking.search_run_records(appeared)
                                if r["run_id"] not in seen]
                frame = self._merge(changed, tracking.deleted_run_ids(), names)
            self._frame, self._changed, self._experiments = frame, set(), set(names)
            self._since_ms = int((started - self.margin_s) * 1000)
            self.last_read = "full" if full else "changes"
            return frame

    def _merge(self, changed: list[dict], deleted: set[str],
               names: dict[str, str]) -> pd.DataFrame:
        old = self._frame
        replaced = {r["run_id"] for r in changed} | deleted
        keep = old[~old["run_id"].isin(replaced) & old["experiment_id"].isin(list(names))]
        if changed:
            new = compare.runs_frame(changed)
            columns = list(keep.columns) + [c for c in new.columns if c not in keep.columns]
            merged = pd.concat([new, keep], ignore_index=True)[columns]
            # A column all-missing in the new rows comes back as objects (None); keep the full
            # read's dtype so the frame equals what a full read gives.
            for column in keep.columns:
                if merged[column].dtype != keep[column].dtype:
                    try:
                        merged[column] = merged[column].astype(keep[column].dtype)
                    except (TypeError, ValueError):
                        pass
        else:
            merged = keep.copy()
        merged["experiment"] = merged["experiment_id"].map(names)  # renamed experiments
        # MLflow's order: newest first, ties by run id.
        merged = merged.sort_values(["start_time", "run_id"], ascending=[False, True],
                                    na_position="last", kind="stable")
        return merged.reset_index(drop=True)
