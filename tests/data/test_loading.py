"""read_csv: encodings, dialects, cleaning, and every error a person can run into."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dl_core.data.loading import COLUMN_NOTES, MISSING_MARKERS, read_csv
from dl_core.errors import DataError


def test_reads_plain_bytes_and_path(tmp_path):
    content = b"a,b,c\n1,2.5,x\n3,4.5,y\n"
    path = tmp_path / "plain.csv"
    path.write_bytes(content)
    for source in (content, path, str(path)):
        df = read_csv(source)
        assert list(df.columns) == ["a", "b", "c"]
        assert df["a"].tolist() == [1, 3]
        assert df["b"].dtype == np.float64
        assert df["c"].tolist() == ["x", "y"]
        assert isinstance(df.index, pd.RangeIndex)


def test_utf8_bom_is_stripped():
    df = read_csv("\ufeffname,score\nJosé,1\n".encode("utf-8"))
    assert list(df.columns) == ["name", "score"]
    assert df["name"].tolist() == ["José"]


def test_latin1_file_falls_back():
    df = read_csv("name;city\nMüller;Köln\nJosé;Málaga\n".encode("latin-1"))
    assert df["name"].tolist() == ["Müller", "José"]
    assert df["city"].tolist() == ["Köln", "Málaga"]


def test_utf16_excel_unicode_text():
    df = read_csv("a\tb\n1\t2\n".encode("utf-16"))
    assert df.to_dict("list") == {"a": [1], "b": [2]}


@pytest.mark.parametrize(
    "content",
    [b"a\tb\tc\n1\t2\tx, y\n3\t4\tz\n", b"a|b|c\n1|2|x, y\n3|4|z\n", b"a;b;c\n1;2;x, y\n3;4;z\n"],
    ids=["tab", "pipe", "semicolon"],
)
def test_detects_delimiter(content):
    df = read_csv(content)
    assert list(df.columns) == ["a", "b", "c"]
    assert df["a"].tolist() == [1, 3]
    assert df["c"].tolist() == ["x, y", "z"]


def test_semicolon_file_with_decimal_commas():
    df = read_csv(b"height;weight;name\n1,5;2,3;a\n1,75;80;b\n-0,5;70,25;c\n")
    assert df["height"].tolist() == [1.5, 1.75, -0.5]
    assert df["weight"].tolist() == [2.3, 80.0, 70.25]
    assert df["name"].tolist() == ["a", "b", "c"]


def test_excel_sep_hint_line():
    df = read_csv(b"sep=;\na;b\n1;2\n")
    assert df.to_dict("list") == {"a": [1], "b": [2]}


def test_quoted_fields_with_newlines_and_delimiters():
    df = read_csv(b'note,value\n"first line\nsecond line",1\n"a, b",2\n', max_bytes=10_000)
    assert df["note"].tolist() == ["first line\nsecond line", "a, b"]
    assert df["value"].tolist() == [1, 2]


def test_crlf_line_endings():
    df = read_csv(b"a,b\r\n1,2\r\n3,4\r\n")
    assert df.to_dict("list") == {"a": [1, 3], "b": [2, 4]}


def test_thousands_of_columns():
    n_cols = 3000
    header = ",".join(f"f{i}" for i in range(n_cols))
    rows = "\n".join(",".join(str(r * i) for i in range(n_cols)) for r in range(3))
    df = read_csv(f"{header}\n{rows}\n".encode())
    assert df.shape == (3, n_cols)
    assert df["f2999"].tolist() == [0, 2999, 5998]


def test_column_names_are_stripped_filled_and_unique():
    df = read_csv(b" a ,,a,b , a\n1,2,3,4,5\n")
    assert list(df.columns) == ["a", "column_2", "a.1", "b", "a.2"]


def test_missing_markers_become_nan():
    markers = [m for m in MISSING_MARKERS if m]
    body = "\n".join(f"{i},{m}" for i, m in enumerate(markers))
    df = read_csv(f"x,y\n{body}\n".encode())
    assert df["y"].isna().all()
    assert len(df) == len(markers)


def test_numbers_with_spaces_and_blanks_are_numeric():
    df = read_csv(b"a,b,c\n1, 12.5 ,x\n2, NA ,y\n3, 7 , \n4,,z\n")
    assert df["b"].dtype == np.float64
    assert df["b"].tolist()[0] == 12.5
    assert np.isnan(df["b"].tolist()[1])
    assert df["c"].tolist()[:2] == ["x", "y"]
    assert pd.isna(df["c"][2])


def test_infinities_become_missing():
    df = read_csv(b"a,b\n1,inf\n2,-inf\n3,1.5\n")
    assert df["b"].isna().tolist() == [True, True, False]


def test_text_values_are_stripped_and_stay_strings():
    df = read_csv(b"a,b\n yes ,1\nno  ,2\n12,3\n")
    assert df["a"].tolist() == ["yes", "no", "12"]
    assert pd.api.types.is_string_dtype(df["a"])


def test_dates_stay_strings():
    df = read_csv(b"day,v\n2024-01-01,1\n2024-01-02,2\n")
    assert df["day"].tolist() == ["2024-01-01", "2024-01-02"]


def test_short_rows_are_padded_and_empty_rows_dropped():
    df = read_csv(b"a,b,c\n1,2,3\n4\n,,\n\n5,6,\n")
    assert df["a"].tolist() == [1, 4, 5]
    assert df["b"].isna().tolist() == [False, True, False]
    assert df["c"].isna().tolist() == [False, True, True]


def test_trailing_empty_field_is_not_a_ragged_row():
    df = read_csv(b"a,b\n1,2,\n3,4,\n")
    assert df.to_dict("list") == {"a": [1, 3], "b": [2, 4]}


def test_ragged_rows_name_the_lines():
    content = b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n1,2,3,4,5\n"
    with pytest.raises(
        DataError, match=r"2 row\(s\) have more fields than the header's 3 columns"
    ) as err:
        read_csv(content)
    assert "line 3 (4 fields)" in str(err.value)
    assert "line 5 (5 fields)" in str(err.value)


def test_ragged_first_data_row_is_caught():
    # pandas would silently turn the first column into the index here.
    with pytest.raises(DataError, match=r"line 2 \(3 fields\)"):
        read_csv(b"a,b\n1,2,3\n4,5,6\n")


def test_ragged_line_numbers_count_quoted_newlines():
    with pytest.raises(DataError, match=r"line 4 \(3 fields\)"):
        read_csv(b'"multi\nline",b\n1,2\n3,4,5\n')


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\t"], ids=["zero-bytes", "whitespace"])
def test_empty_file(content):
    with pytest.raises(DataError, match="The file is empty"):
        read_csv(content)


def test_header_only():
    with pytest.raises(DataError, match=r"header row \(2 columns: a, b\) but no data rows"):
        read_csv(b"a,b\n")
    with pytest.raises(DataError, match="no data rows"):
        read_csv(b"a,b\n,\n\n")


def test_single_column():
    with pytest.raises(DataError, match="needs at least two columns: features and a target"):
        read_csv(b"value\n1\n2\n")


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02\x03abc,def\n",
        bytes(np.random.default_rng(0).integers(1, 256, 4000, dtype=np.uint8)),
    ],
    ids=["nul-bytes", "random-bytes"],
)
def test_binary_content(content):
    with pytest.raises(
        DataError, match=r"does not look like a CSV text file \(binary content found\)"
    ):
        read_csv(content)


def test_excel_workbook_gets_a_hint():
    with pytest.raises(DataError, match="Excel"):
        read_csv(b"PK\x03\x04\x14\x00\x06\x00" + bytes(100))


def test_file_too_large(tmp_path):
    content = b"a,b\n" + b"1,2\n" * 300_000  # 1.2 MB
    with pytest.raises(DataError, match=r"The file is 1\.1 MB, larger than the limit of 1\.0 MB"):
        read_csv(content, max_bytes=1024 * 1024)
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="larger than the limit"):
        read_csv(path, max_bytes=1024 * 1024)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="File not found"):
        read_csv(tmp_path / "nope.csv")


def test_unclosed_quote():
    with pytest.raises(DataError, match=r"Data row 1 opens a double quote"):
        read_csv(b'a,b\n"oops,1\n2,3\n')


def test_thousands_separators_are_read_as_numbers_with_a_note():
    content = (
        b'income,visits,code,city\n"57,689.59","1,234",12-345,Oslo\n"689.5",12,"1,23",Rome\n'
        b'"-1,000,000.25","12,345",A1,Oslo\n'
    )
    df = read_csv(content)
    assert df["income"].tolist() == [57689.59, 689.5, -1000000.25]
    assert df["visits"].tolist() == [1234, 12, 12345]
    # Codes that merely contain the separator stay text.
    assert df["code"].tolist() == ["12-345", "1,23", "A1"]
    notes = df.attrs[COLUMN_NOTES]
    assert set(notes) == {"income", "visits"}
    assert "'57,689.59' use ',' as a thousands separator" in notes["income"]


def test_decimal_comma_file_with_dot_thousands():
    df = read_csv("amount;units;label\n57.689,59;1.234;a\n689,5;12;b\n1.000.000,25;2;c\n"
                  "1 234,5;3;d\n".encode())
    assert df["units"].tolist() == [1234, 12, 2, 3]
    assert df["amount"].tolist() == ["57.689,59", "689,5", "1.000.000,25", "1 234,5"]  # mixed
    df = read_csv(b"amount;label\n57.689,59;a\n689,5;b\n-1.000.000,25;c\n")
    assert df["amount"].tolist() == [57689.59, 689.5, -1000000.25]
    assert "'57.689,59' use '.' as a thousands separator" in df.attrs[COLUMN_NOTES]["amount"]


@pytest.mark.parametrize(
    "values",
    [["1,234", "1234", "5,678"], ["12,34", "1,234", "5"], ["1,2345", "2,000", "3"],
     ["1,234,56", "2,000", "3"]],
    ids=["ungrouped-1234", "group-of-2", "group-of-4", "bad-tail"],
)
def test_inconsistent_grouping_stays_text(values):
    body = "\n".join(f'"{v}",{i}' for i, v in enumerate(values))
    df = read_csv(f"x,y\n{body}\n".encode())
    assert df["x"].tolist() == values
    assert df.attrs[COLUMN_NOTES] == {}
