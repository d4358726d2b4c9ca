"""Tabular data: robust CSV loading, column profiling, task detection and sample datasets."""

from dl_core.data.loading import MISSING_MARKERS, read_csv
from dl_core.data.profile import KINDS, ColumnProfile, DataProfile, profile_dataframe
from dl_core.data.samples import SAMPLES, Sample, load_sample, sample_path
from dl_core.data.task import TASKS, check_target, detect_task

__all__ = [
    "KINDS",
    "MISSING_MARKERS",
    "SAMPLES",
    "TASKS",
    "ColumnProfile",
    "DataProfile",
    "Sample",
    "check_target",
    "detect_task",
    "load_sample",
    "profile_dataframe",
    "read_csv",
    "sample_path",
]
