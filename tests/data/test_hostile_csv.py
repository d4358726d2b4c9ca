"""Generated CSVs (hostile and odd) through loading, profiling and task detection.

Whatever bytes arrive, the user gets a table (profiled, with a task for every column that can
be a target) or one clear :class:`DLExplorerError`; never another exception.
"""

from __future__ import annotations

import codecs
import string

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dl_core.data import profile_dataframe, read_csv
from dl_core.data.task import TASKS, check_target, detect_task, guess_target
from dl_core.errors import DataError, DLExplorerError

DELIMITERS = [",", ";", "\t", "|", " ", ":"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]
NEWLINES = ["\n", "\r\n", "\r"]
HUGE = 200_000  # characters in a "huge" cell

# Cells people's files hold: numbers in every notation, missing markers, dates, formulas,
# quotes, delimiters and newlines inside values, control characters, and the occasional huge one.
cells = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "?", "-", "null", "inf", "-inf", "1,5", "1.234,5", "57,689.59",
                     "1 234", "2024-01-31", "31/01/2024", "TRUE", "no", "=1+1", "@SUM(A1)",
                     '"', '""', "'", "\\", "\x00", "\ufeff", "é", "日本", "\x1a"]),
    st.text(alphabet=string.printable + "éü€日\u00a0\u202f", max_size=12),
    st.text(max_size=6),  # any unicode, including surrogates-free oddities
    st.integers(1, 3).map(lambda k: "x" * (HUGE * k // 3)),
)
header_names = st.one_of(
    st.sampled_from(["", " ", "target", "label", "y", "id", "a", "a", "price", "is_ok", "sep=;"]),
    st.text(alphabet=string.ascii_letters + " _-.", max_size=8),
)


def _quote(cell: str, delimiter: str, quoting: str) -> str:
    if quoting == "always" or (quoting == "needed" and any(
            c in cell for c in (delimiter, '"', "\n", "\r"))):
        return '"' + cell.replace('"', '""') + '"'
    return cell  # "never": a broken file, as some exporters write


@st.composite
def csv_files(draw) -> bytes:
    delimiter = draw(st.sampled_from(DELIMITERS))
    newline = draw(st.sampled_from(NEWLINES))
    quoting = draw(st.sampled_from(["needed", "always", "never"]))
    n_cols = draw(st.sampled_from([1, 2, 2, 3, 3, 4, 6]))
    header = draw(st.lists(header_names, min_size=n_cols, max_size=n_cols))
    column_kinds = draw(st.lists(st.sampled_from(["int", "float", "text", "any"]),
                                 min_size=n_cols, max_size=n_cols))
    by_kind = {"int": st.integers(-1000, 1000).map(str),
               "float": st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.3f}"),
               "text": st.sampled_from(["red", "green", "blue", "", "NA"]), "any": cells}
    n_rows = draw(st.integers(0, 40))
    rows = []
    for _ in range(n_rows):
        row = [draw(by_kind[k]) for k in column_kinds]
        if draw(st.integers(0, 9)) == 0:  # ragged rows: short or long
            row = row[: draw(st.integers(0, n_cols))] + draw(st.lists(cells, max_size=2))
        rows.append(row)
    lines = [delimiter.join(_quote(c, delimiter, quoting) for c in r) for r in [header, *rows]]
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 3]))
    encoding = draw(st.sampled_from(ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 14)) == 0:  # damage: truncate, or splice in raw bytes
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=64))
    return data


def _load_profile_detect(data: bytes) -> None:
    df = read_csv(data, max_bytes=5 * 1024 * 1024)
    assert isinstance(df, pd.DataFrame) and len(df) and df.shape[1] >= 2
    assert df.columns.is_unique and all(isinstance(c, str) and c for c in df.columns)
    profile = profile_dataframe(df)
    assert profile.n_rows == len(df) and len(profile.columns) == df.shape[1]
    guess_target(df)
    for name in df.columns:
        try:
            task = detect_task(df[name])
        except DLExplorerError:
            continue  # an all-missing column: a clear message
        assert task in TASKS
        try:
            check_target(df, name, task)
        except DLExplorerError:
            pass  # too few rows, a single class...: a clear message


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(csv_files())
@example(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")  # an image renamed .csv
@example(b"PK\x03\x04\x14\x00\x06\x00")  # a workbook or zip renamed .csv
@example(codecs.BOM_UTF16_LE + "a\tb\n1\t2\n".encode("utf-16-le"))
@example(b"a,b\n" + b"1," + b"9" * 400_000 + b"\n")  # a huge number
@example(b'a,b\n"1,2\n3,4\n')  # an unclosed quote
@example(b",\n,\n")  # empty header names, empty cells
@example(b"a,a,a\n1,2,3\n")  # duplicate headers
@example(b"sep=|\nx|y\n1|2\n")
@example(b"a,b\n1,2,,x\n")  # a surplus value after an empty one (was silently dropped)
@example(b"<!DOCTYPE html><html><table><tr><td>a</td></tr></table></html>")
def test_any_csv_gives_a_table_or_one_clear_error(data):
    try:
        _load_profile_detect(data)
    except DLExplorerError as exc:
        message = str(exc)
        assert message and "Traceback" not in message and len(message) < 2000


WIDE = 6_000  # "feature_NNNN," x 6,000: a 77 KB header


def test_a_wide_header_is_read_whole():
    # A header longer than the 64 KB sample in a file of few lines used to be cut short, and
    # the data row then "had more fields than the header".
    header = ",".join(f"feature_{i}" for i in range(WIDE))
    df = read_csv(f"{header}\n{','.join('1' * WIDE)}\n{','.join('2' * WIDE)}\n".encode())
    assert df.shape == (2, WIDE) and df.columns[-1] == f"feature_{WIDE - 1}"


def test_a_value_past_an_empty_surplus_field_is_not_lost():
    with pytest.raises(DataError, match=r"more fields than the header's 2 columns: line 3"):
        read_csv(b"a,b\n1,2\n3,4,,lost\n")


NOT_CSV = [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "a PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "a JPEG image"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "an Excel workbook or a zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "an old Excel workbook"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "a gzip archive"),
    (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins", "a Python pickle"),
    (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'", "a NumPy array file"),
    (b"PAR1\x15\x04\x15\x10", "a Parquet file"),
    (b"<!DOCTYPE html>\n<html><body><table><tr><td>a,b</td></tr></table>", "a web page"),
]


@pytest.mark.parametrize(("data", "what"), NOT_CSV, ids=[w for _, w in NOT_CSV])
def test_a_file_that_is_not_a_csv_is_named_by_its_content(data, what):
    with pytest.raises(DataError, match=what):
        read_csv(data)
