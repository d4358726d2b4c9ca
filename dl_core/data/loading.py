"""Robust reading of real-world CSV files.

Uploads arrive as bytes in whatever encoding and dialect the user's spreadsheet wrote: UTF-8 with
or without a BOM, Windows-1252, semicolons with decimal commas, tabs, quoted newlines, stray
spaces and a zoo of missing-value markers. :func:`read_csv` turns all of that into a clean
DataFrame, or raises a :class:`~dl_core.errors.DataError` that tells the user what to fix.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dl_core.errors import DataError

MISSING_MARKERS: tuple[str, ...] = (
    "",
    "NA",
    "N/A",
    "na",
    "n/a",
    "NaN",
    "nan",
    "null",
    "NULL",
    "None",
    "none",
    "?",
    "-",
    "#N/A",
)

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe ('|')"}
_BINARY_MESSAGE = (
    "This file does not look like a CSV text file (binary content found). "
    "Upload a comma-, semicolon- or tab-separated text file."
)
_MB = 1024 * 1024
# Enough text to see the header and a few dozen rows, however wide the file is.
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_MAX_CHARS = 8 * _MB
_SAMPLE_MIN_LINES = 30
# Name of the spare column that catches fields beyond the header (see _parse).
_EXTRA = "\x00extra"
_COMMA_DECIMAL = re.compile(r"[-+]?\d+,\d+|[-+]?\d{1,3}(?:[. \u00a0\u202f]\d{3})+,\d+")
_DOT_DECIMAL = re.compile(r"[-+]?\d*\.\d+|[-+]?\d{1,3}(?:,\d{3})+\.\d+")
#: The thousands separators that go with each decimal mark ("57,689.59", "57.689,59").
_THOUSANDS = {".": (",",), ",": (".", " ", "\u00a0", "\u202f")}
#: ``DataFrame.attrs`` key of ``{column: note}``: what reading did to a column (the profile
#: shows it; Parquet keeps ``attrs``, so the note follows the table to the training job).
COLUMN_NOTES = "dl_explorer.column_notes"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_NON_BLANK = re.compile(r"\S")
_SEP_HINT = re.compile(r"sep=(.)[ \t]*\r?\n")


def read_csv(source: bytes | str | os.PathLike, *, max_bytes: int | None = None) -> pd.DataFrame:
    """Read a CSV file the way a person would expect, whatever program wrote it.

    The encoding (UTF-8, UTF-8 with BOM, UTF-16 with BOM, else Windows-1252/Latin-1), the
    delimiter (``,`` ``;`` tab ``|``) and a decimal comma are detected. Column names are stripped,
    empty ones become ``column_<position>`` and duplicates are made unique (``a``, ``a.1``). Values
    in :data:`MISSING_MARKERS` (after stripping spaces) become missing; a column becomes numeric
    when every non-missing value parses as a number (infinities become missing), including
    numbers written with a consistent thousands separator (``"57,689.59"``, ``57.689,59`` with a
    decimal comma, ``1 234``): such columns get a note in ``df.attrs[COLUMN_NOTES]``. Rows
    shorter than the header are padded with missing values; rows that are entirely empty are
    dropped. Dates stay strings.

    Args:
        source: The file's bytes (an upload), a path, or an object with ``read()`` returning
            bytes. A ``str`` is a path, unless it contains a newline: then it is the CSV text.
        max_bytes: Largest accepted file size in bytes; ``None`` for no limit.

    Returns:
        A DataFrame with a default ``RangeIndex``.

    Raises:
        DataError: If the file is missing, too large, empty, binary, has no data rows, fewer than
            two columns, or rows with more fields than the header.
    """
    text = _read_text(source, max_bytes)
    if _blank(text):
        raise DataError(
            "The file is empty. Expected a header row with column names followed by data rows; "
            "check that you picked the right file and that it was saved with its contents."
        )
    # One newline convention lets the header be cut off by counting "\n" (see _after_line).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = None
    line_offset = 0
    hint = _SEP_HINT.match(text)
    if hint and hint.group(1) in DELIMITERS:
        # Excel writes "sep=;" as a first line to announce the delimiter.
        delimiter, text, line_offset = hint.group(1), text[hint.end() :], 1

    sample, truncated = _sample(text)
    if delimiter is None:
        delimiter = _detect_delimiter(sample, truncated)
    records = _records(sample, delimiter, truncated)
    header, header_lines = _read_header(sample, delimiter)
    body = _after_line(text, header_lines)
    names = _clean_names(header)
    if len(names) < 2:
        shown = header[0].strip() if header else ""
        raise DataError(
            f"The file needs at least two columns: features and a target. Found 1 column "
            f"('{_shorten(shown, 60)}'). Separate values with commas, semicolons, tabs or '|', "
            "one row per line."
        )
    no_rows = DataError(
        f"The file has a header row ({len(names)} columns: {_list_names(names)}) but no data "
        "rows. Add at least one row of values below the header."
    )
    if _blank(body):
        raise no_rows
    decimal = _detect_decimal(records[1:], delimiter)
    df = _parse(body, delimiter, decimal, names, line_offset + header_lines)
    notes: dict[str, str] = {}
    for name in df.columns:
        if not (pd.api.types.is_numeric_dtype(df[name]) or pd.api.types.is_bool_dtype(df[name])):
            df[name], note = _clean_text_column(df[name], decimal)
            if note:
                notes[name] = note
        if pd.api.types.is_float_dtype(df[name]):
            # "inf" parses as a number but breaks every scaler downstream: treat it as missing.
            infinite = np.isinf(df[name].to_numpy())
            if infinite.any():
                df[name] = df[name].mask(infinite)
    df = df.dropna(how="all").reset_index(drop=True)
    if df.empty:
        raise no_rows
    df.attrs[COLUMN_NOTES] = notes
    return df


def _read_text(source: Any, max_bytes: int | None) -> str:
    """Returns the decoded text of ``source``, checking its size first."""
    if isinstance(source, str) and "\n" in source:
        data = source.encode("utf-8")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"File not found: '{path}'. Check the path and try again.")
        _check_size(path.stat().st_size, max_bytes)
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise DataError(
            f"Cannot read a CSV from a {type(source).__name__}; expected the file's bytes or a path."
        )
    _check_size(len(data), max_bytes)
    return _decode(data)


def _check_size(n_bytes: int, max_bytes: int | None) -> None:
    if max_bytes is not None and n_bytes > max_bytes:
        raise DataError(
            f"The file is {_mb(n_bytes)}, larger than the limit of {_mb(max_bytes)}. "
            "Upload a smaller file (for example a sample of the rows) or raise the limit."
        )


def _mb(n_bytes: int) -> str:
    mb = n_bytes / _MB
    return f"{mb:.1f} MB" if mb >= 0.1 else f"{mb:.3g} MB"


def _decode(data: bytes) -> str:
    """Decodes bytes as UTF-8, UTF-16 (with BOM) or Windows-1252/Latin-1; rejects binary data."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with BOM (it contains NUL bytes by design).
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(_BINARY_MESSAGE) from None
    else:
        data = data.removeprefix(codecs.BOM_UTF8)
        _check_not_binary_format(data)
        if b"\x00" in data[:8192]:
            raise DataError(_binary_message(data))
        for encoding in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    text = text.lstrip("\ufeff")
    head = text[:_SAMPLE_CHARS]
    if head and len(_CONTROL_CHARS.findall(head)) > 0.05 * len(head):
        raise DataError(_binary_message(data))
    start = head[:200].lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<?xml")):
        kind = "an XML file" if start.startswith("<?xml") else "a web page (HTML)"
        raise DataError(f"This file is {kind}, not a CSV. Save the table itself as a CSV "
                        "(comma-, semicolon- or tab-separated text) and upload that.")
    return text


# What a file that is not a CSV starts with (its "magic number"), and what to do instead. The
# content decides, never the name: a PNG renamed data.csv is still a PNG.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook or a zip archive: in Excel use File > Save As > CSV, "
                     "or unzip it first."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls): in Excel use File > "
                                         "Save As > CSV."),
    (b"\x89PNG\r\n\x1a\n", "a PNG image."),
    (b"\xff\xd8\xff", "a JPEG image."),
    (b"GIF8", "a GIF image."),
    (b"%PDF-", "a PDF document: export the table from the program that made it as CSV."),
    (b"\x1f\x8b", "a gzip archive: decompress it first."),
    (b"BZh", "a bzip2 archive: decompress it first."),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract it first."),
    (b"Rar!", "a RAR archive: extract it first."),
    (b"PAR1", "a Parquet file: save it as CSV first (pandas: df.to_csv)."),
    (b"SQLite format 3\x00", "an SQLite database: export a table as CSV first."),
    (b"\x80\x02", "a Python pickle, which is never loaded here: save the table as CSV."),
    (b"\x80\x03", "a Python pickle, which is never loaded here: save the table as CSV."),
    (b"\x80\x04", "a Python pickle, which is never loaded here: save the table as CSV."),
    (b"\x80\x05", "a Python pickle, which is never loaded here: save the table as CSV."),
    (b"\x93NUMPY", "a NumPy array file, which is never loaded here: save the table as CSV."),
)


def _check_not_binary_format(data: bytes) -> None:
    """Raises a DataError naming the format of a known non-CSV file (by content)."""
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise DataError(f"{_BINARY_MESSAGE} It looks like {what}")


def _binary_message(data: bytes) -> str:
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return f"{_BINARY_MESSAGE} It looks like {what}"
    return _BINARY_MESSAGE


def _sample(text: str) -> tuple[str, bool]:
    """Returns the start of ``text`` (at least the first few dozen lines) and if it was cut."""
    end = 0
    for _ in range(_SAMPLE_MIN_LINES):
        newline = text.find("\n", end) + 1
        if newline == 0:  # fewer lines than that: all of them (a wide header is not cut)
            end = len(text)
            break
        end = newline
        if end >= _SAMPLE_MAX_CHARS:
            break
    end = max(_SAMPLE_CHARS, min(end, _SAMPLE_MAX_CHARS))
    return text[:end], end < len(text)


def _records(sample: str, delimiter: str, truncated: bool, limit: int = 200) -> list[list[str]]:
    """Non-blank records of ``sample``; the last one is dropped when the sample was cut."""
    records: list[list[str]] = []
    try:
        for record in csv.reader(
            io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True
        ):
            if record and any(field.strip() for field in record):
                records.append(record)
                if len(records) > limit:
                    break
    except csv.Error:
        pass  # a cut quoted field or an oversized field: judge on what parsed
    if truncated and len(records) > 1:
        records.pop()
    return records


def _read_header(sample: str, delimiter: str) -> tuple[list[str], int]:
    """Returns the first non-blank record's fields and the line it ends on."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        for record in reader:
            if record and any(field.strip() for field in record):
                return record, reader.line_num
    except csv.Error as err:
        raise DataError(
            f'The header row could not be read ({err}). Check for an unclosed double quote (").'
        ) from None
    return [], 0


def _after_line(text: str, n_lines: int) -> str:
    """Returns ``text`` without its first ``n_lines`` lines."""
    end = 0
    for _ in range(n_lines):
        end = text.find("\n", end) + 1
        if end == 0:
            return ""
    return text[end:]


def _blank(text: str) -> bool:
    return _NON_BLANK.search(text) is None


def _detect_delimiter(sample: str, truncated: bool) -> str:
    """Picks the delimiter whose rows most consistently have the header's (>1) field count.

    Ties (say ``a;b`` lines that also hold one comma each) are settled by ``csv.Sniffer`` and then
    by the order of :data:`DELIMITERS`.
    """
    scores = {}
    for delimiter in DELIMITERS:
        records = _records(sample, delimiter, truncated)
        if not records or len(records[0]) < 2:
            scores[delimiter] = (0.0, 0)
            continue
        n_fields = len(records[0])
        rows = records[1:]
        consistent = sum(len(row) == n_fields for row in rows) / len(rows) if rows else 1.0
        scores[delimiter] = (consistent, 1)
    best = max(scores.values())
    if best == (0.0, 0):
        return ","
    tied = [d for d in DELIMITERS if scores[d] == best]
    if len(tied) > 1:
        try:
            sniffed = csv.Sniffer().sniff(sample[:20_000], delimiters="".join(DELIMITERS)).delimiter
        except csv.Error:
            sniffed = None
        if sniffed in tied:
            return sniffed
    return tied[0]


def _detect_decimal(rows: list[list[str]], delimiter: str) -> str:
    """Returns ``","`` when a non-comma-separated file writes numbers like ``1,5``."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in rows:
        for field in row:
            field = field.strip()
            comma += bool(_COMMA_DECIMAL.fullmatch(field))
            dot += bool(_DOT_DECIMAL.fullmatch(field))
    return "," if comma > dot else "."


def _clean_names(header: list[str]) -> list[str]:
    """Strips names, names empty ones ``column_<position>`` and makes duplicates unique."""
    names = [name.strip() or f"column_{i}" for i, name in enumerate(header, start=1)]
    taken: set[str] = set()
    unique = []
    for name in names:
        candidate, k = name, 0
        while candidate in taken:
            k += 1
            candidate = f"{name}.{k}"
        taken.add(candidate)
        unique.append(candidate)
    return unique


def _parse(
    body: str, delimiter: str, decimal: str, names: list[str], line_offset: int
) -> pd.DataFrame:
    """Parses the data rows with pandas' C parser; raises on rows longer than the header.

    One spare column beyond the header catches a surplus field: without it pandas silently turns
    the first column into the index (or drops data) when the first data row is longer.
    """
    try:
        # Bytes feed pandas' C parser directly; a StringIO is re-encoded chunk by chunk.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.BytesIO(body.encode("utf-8")),
                encoding="utf-8",
                sep=delimiter,
                header=None,
                names=[*names, _EXTRA],
                index_col=False,
                na_values=list(MISSING_MARKERS),
                keep_default_na=False,
                skipinitialspace=True,
                skip_blank_lines=True,
                decimal=decimal,
                low_memory=False,
                engine="c",
            )
    except pd.errors.ParserError as err:
        _raise_long_rows(body, delimiter, len(names), line_offset)
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(err))
        if unclosed:
            raise DataError(
                f'Data row {int(unclosed.group(1)) + 1} opens a double quote (") that is never '
                "closed, so the rest of the file reads as one value. Close or remove that quote."
            ) from None
        raise DataError(
            f'The file could not be parsed as CSV ({err}). Check for an unclosed double quote (") '
            "or rows with more values than the header."
        ) from None
    extra = df.pop(_EXTRA)
    # pandas warns (and drops the fields) when a row is longer still: "1,2,,x" under "a,b"
    # leaves the spare column empty and loses "x".
    dropped = any("loss of data" in str(w.message) for w in caught)
    if dropped or extra.notna().any():
        _raise_long_rows(body, delimiter, len(names), line_offset)
    return df


def _raise_long_rows(body: str, delimiter: str, n_cols: int, line_offset: int) -> None:
    """Raises a DataError naming the lines with more (non-empty) fields than the header.

    ``line_offset`` is the number of file lines before ``body``, so that line numbers are the ones
    an editor shows.
    """
    long_rows = []
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, skipinitialspace=True)
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            # Trailing empty fields ("1,2,") are harmless: only surplus values count.
            if len(record) > n_cols and any(f.strip() for f in record[n_cols:]):
                long_rows.append((start + line_offset, len(record)))
    except csv.Error:
        pass
    if not long_rows:
        return
    shown = ", ".join(f"line {line} ({n} fields)" for line, n in long_rows[:5])
    more = f" and {len(long_rows) - 5} more" if len(long_rows) > 5 else ""
    sep = _DELIMITER_NAMES[delimiter]
    raise DataError(
        f"{len(long_rows)} row(s) have more fields than the header's {n_cols} columns: "
        f"{shown}{more}. A value that contains the {sep} separator must be wrapped in double "
        "quotes; fix or remove those lines, or add the missing column names to the header."
    )


def _clean_text_column(column: pd.Series, decimal: str) -> tuple[pd.Series, str | None]:
    """Strips values, turns missing markers into NaN and numbers-as-text into numbers.

    Returns:
        The cleaned column and a note when numbers had to be read past thousands separators.
    """
    values = column.astype("str").str.strip()
    values = values.mask(values.isin(MISSING_MARKERS))
    present = values.dropna()
    if present.empty:
        return pd.Series(float("nan"), index=column.index, name=column.name), None
    # Grouping first: in a decimal-comma file "1.234" is one thousand two hundred and
    # thirty-four, not 1.234.
    grouped = _grouped_numbers(present, decimal)
    if grouped is not None:
        numbers, separator = grouped
        example = present[present.str.contains(separator, regex=False)].iloc[0]
        shown = f"'{separator}'" if separator.strip() else "a space"
        note = (f"read as numbers: values like '{example}' use {shown} as a thousands "
                f"separator and '{decimal}' as the decimal mark")
        return numbers.reindex(column.index), note
    if decimal == ",":
        as_numbers = values.str.replace(",", ".", regex=False)
    else:
        as_numbers = values
    # A cheap look at the first values spares parsing whole columns of words.
    head = as_numbers.dropna().iloc[:200]
    if pd.to_numeric(head, errors="coerce").notna().all():
        numbers = pd.to_numeric(as_numbers, errors="coerce")
        if numbers.notna().sum() == len(present):
            return numbers, None
    return values, None


def _grouped_numbers(present: pd.Series, decimal: str) -> tuple[pd.Series, str] | None:
    """``present`` (stripped, non-missing text) read as numbers written with a thousands
    separator, and that separator; None unless every value follows one grouping pattern.

    Digits must come in groups of exactly 3 after a leading group of 1 to 3, and values of 1000
    or more must be grouped (``1,234`` and ``999`` but never ``1234`` or ``12,34``), so codes
    and free text that merely contain the separator stay text.
    """
    dec = re.escape(decimal)
    for separator in _THOUSANDS[decimal]:
        sep = re.escape(separator)
        pattern = rf"[-+]?\d{{1,3}}(?:{sep}\d{{3}})*(?:{dec}\d+)?"
        # The first values rule out most text columns before the whole column is matched.
        if not present.iloc[:200].str.fullmatch(pattern).all():
            continue
        if not present.str.contains(separator, regex=False).any():
            continue
        if not present.str.fullmatch(pattern).all():
            continue
        plain = present.str.replace(separator, "", regex=False)
        if decimal != ".":
            plain = plain.str.replace(decimal, ".", regex=False)
        return pd.to_numeric(plain), separator
    return None


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _list_names(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")
