"""Tests of agglomera.data.readers.read: formats, encodings and error messages."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

import agglomera
from agglomera.data import read
from agglomera.errors import DataError, SpecError

TABLE = "城市,adcode,gdp,员工\n杭州市,330100,18753.0,322.2\n宁波市,330200,14594.9,180.5\n"


def _write(tmp_path: Path, name: str, text: str, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _xlsx(tmp_path: Path, name: str, sheets: dict[str, list[list[object]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def _assert_clean(message: str) -> None:
    for fragment in ("Traceback", "pandas/", "openpyxl/", "pyarrow/", 'File "'):
        assert fragment not in message


def _check_table(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["城市", "adcode", "gdp", "员工"]
    assert df["城市"].tolist() == ["杭州市", "宁波市"]
    assert df["adcode"].tolist() == ["330100", "330200"]
    assert df["gdp"].tolist() == [18753.0, 14594.9]
    assert df["员工"].tolist() == [322.2, 180.5]


# ---------------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_csv_encodings_detected(tmp_path: Path, encoding: str, expected: str) -> None:
    path = _write(tmp_path, "t.csv", TABLE, encoding)
    df = read(path)
    _check_table(df)
    assert df.attrs["encoding"] == expected
    assert df.attrs["source"] == str(path)
    assert df.attrs["format"] == "csv"


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # 䶮 (U+4DAE) is in GB18030 but not in GBK
    text = "城市,note\n杭州市,䶮\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")
    df = read(_write(tmp_path, "t.csv", text, "gb18030"))
    assert df["note"].tolist() == ["䶮"]
    assert df.attrs["encoding"] == "gb18030"


def test_utf8_bom_not_in_column_name(tmp_path: Path) -> None:
    df = read(_write(tmp_path, "t.csv", TABLE, "utf-8-sig"))
    assert df.columns[0] == "城市"


def test_utf16_with_bom(tmp_path: Path) -> None:
    df = read(_write(tmp_path, "t.txt", TABLE.replace(",", "\t"), "utf-16"))
    _check_table(df)
    assert df.attrs["encoding"] == "utf-16"
    assert df.attrs["sep"] == "\t"


def test_explicit_encoding_honoured(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", TABLE, "gbk")
    df = read(path, encoding="gbk")
    _check_table(df)
    assert df.attrs["encoding"] == "gbk"


def test_explicit_wrong_encoding_shows_byte_offset(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", TABLE, "gbk")
    with pytest.raises(DataError) as info:
        read(path, encoding="utf-8")
    msg = str(info.value)
    assert "t.csv" in msg and "encoding='utf-8'" in msg
    assert "byte offset 0 (line 1)" in msg
    assert "invalid byte 0xb3" in msg  # first GBK byte of 城
    _assert_clean(msg)


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n1,2\n\x80\xff,3\n")
    with pytest.raises(DataError) as info:
        read(path)
    msg = str(info.value)
    assert "bad.csv" in msg
    assert "byte offset 8 (line 3)" in msg
    assert "UTF-8" in msg and "GB18030" in msg
    assert "encoding=" in msg  # the fix
    assert info.value.__cause__ is None


def test_unknown_encoding_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", TABLE, "utf-8")
    with pytest.raises(SpecError, match="unknown encoding 'gbk2'"):
        read(path, encoding="gbk2")


# ---------------------------------------------------------------------- delimiters and options
def test_tsv_sniffed(tmp_path: Path) -> None:
    df = read(_write(tmp_path, "t.tsv", TABLE.replace(",", "\t"), "utf-8"))
    _check_table(df)
    assert df.attrs["sep"] == "\t"


def test_semicolon_txt_sniffed_and_sep_given(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.txt", TABLE.replace(",", ";"), "gbk")
    _check_table(read(path))
    assert read(path).attrs["sep"] == ";"
    explicit = read(path, sep=";")
    _check_table(explicit)


def test_fullwidth_comma_is_not_a_delimiter(tmp_path: Path) -> None:
    text = "城市,说明\n杭州市,省会，副省级\n"
    df = read(_write(tmp_path, "t.csv", text, "utf-8"))
    assert df["说明"].tolist() == ["省会，副省级"]


def test_dtype_passthrough_keeps_leading_zeros(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "code,v\n010,1\n021,2\n", "utf-8")
    assert read(path)["code"].tolist() == [10, 21]
    assert read(path, dtype={"code": str})["code"].tolist() == ["010", "021"]


def test_adcode_dtype_can_be_overridden(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", TABLE, "utf-8")
    assert read(path, dtype={"adcode": "int64"})["adcode"].tolist() == [330100, 330200]


def test_na_values_and_thousands(tmp_path: Path) -> None:
    text = '城市,gdp\n杭州市,"18,753"\n宁波市,—\n'
    path = _write(tmp_path, "t.csv", text, "utf-8")
    df = read(path, na_values=["—"], thousands=",")
    assert df["gdp"].tolist()[0] == 18753
    assert math.isnan(df["gdp"].tolist()[1])
    raw = read(path)
    assert raw["gdp"].tolist() == ["18,753", "—"]


def test_header_row_and_no_header(tmp_path: Path) -> None:
    text = "表1 城市数据\n" + TABLE
    path = _write(tmp_path, "t.csv", text, "utf-8")
    _check_table(read(path, header=1))
    df = read(_write(tmp_path, "n.csv", "1,2\n3,4\n", "utf-8"), header=None)
    assert list(df.columns) == [0, 1]
    assert df[1].tolist() == [2, 4]


def test_columns_selection_and_order(tmp_path: Path) -> None:
    df = read(_write(tmp_path, "t.csv", TABLE, "utf-8"), columns=["gdp", "城市"])
    assert list(df.columns) == ["gdp", "城市"]
    assert df.attrs["encoding"] == "utf-8"


def test_top_level_alias(tmp_path: Path) -> None:
    _check_table(agglomera.read(_write(tmp_path, "t.csv", TABLE, "gbk")))


# ---------------------------------------------------------------------- Excel
def test_xlsx_sheets_by_name_index_and_default(tmp_path: Path) -> None:
    rows = [
        ["城市", "adcode", "gdp", "员工"],
        ["杭州市", 330100, 18753.0, 322.2],
        ["宁波市", 330200, 14594.9, 180.5],
    ]
    path = _xlsx(tmp_path, "t.xlsx", {"说明": [["本表数据"]], "数据": rows})
    for sheet in ("数据", 1, -1):
        df = read(path, sheet=sheet)
        _check_table(df)
        assert df.attrs["sheet"] == "数据"
        assert df.attrs["format"] == "xlsx"
    assert read(path).attrs["sheet"] == "说明"


def test_xlsx_header_na_values_and_trailing_blanks(tmp_path: Path) -> None:
    rows = [
        ["表1"],
        ["城市", "gdp", None],
        ["杭州市", 1.5, None],
        ["宁波市", "—", None],
        [None, None, None],
    ]
    df = read(_xlsx(tmp_path, "t.xlsx", {"S": rows}), header=1, na_values=["—"])
    assert list(df.columns) == ["城市", "gdp"]
    assert df["gdp"].tolist()[0] == 1.5 and math.isnan(df["gdp"].tolist()[1])


def test_xlsx_thousands_and_dtype(tmp_path: Path) -> None:
    rows = [["code", "v"], ["010", "1,234"], ["021", 5]]
    path = _xlsx(tmp_path, "t.xlsx", {"S": rows})
    df = read(path, thousands=",", dtype={"v": "float64"})
    assert df["code"].tolist() == ["010", "021"]
    assert df["v"].tolist() == [1234.0, 5.0]


def test_xlsx_unknown_sheet_lists_sheets(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, "book.xlsx", {"2018年": [["a", "b"], [1, 2]], "2019年": [["a"]]})
    with pytest.raises(DataError) as info:
        read(path, sheet="2020年")
    msg = str(info.value)
    assert "book.xlsx" in msg and "'2020年'" in msg
    assert "'2018年', '2019年'" in msg
    with pytest.raises(DataError, match="no sheet number 5"):
        read(path, sheet=5)


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, "t.xlsx", {"空": []})
    with pytest.raises(DataError, match=r"sheet '空' of .*t\.xlsx.* is empty"):
        read(path)


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    with pytest.raises(DataError) as info:
        read(path)
    msg = str(info.value)
    assert "broken.xlsx" in msg and "save it again as .xlsx" in msg
    assert info.value.__cause__ is None
    _assert_clean(msg)


# ---------------------------------------------------------------------- Parquet
def test_parquet_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"adcode": ["330100", "330200"], "year": [2018, 2019], "gdp": [1.5, float("nan")]}
    )
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    df = read(path)
    pd.testing.assert_frame_equal(df, frame)
    assert df.attrs["format"] == "parquet"
    assert read(path, columns=["gdp"]).columns.tolist() == ["gdp"]
    assert read(path, dtype={"year": "float64"})["year"].tolist() == [2018.0, 2019.0]
    with pytest.raises(DataError) as info:
        read(path, columns=["yaer"])
    assert "'yaer'" in str(info.value) and "did you mean 'year'" in str(info.value)


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1 garbage garbage")
    with pytest.raises(DataError) as info:
        read(path)
    msg = str(info.value)
    assert "p.parquet" in msg and "Parquet" in msg and "to_parquet" in msg
    _assert_clean(msg)


# ---------------------------------------------------------------------- error paths
def test_file_not_found_lists_close_names(tmp_path: Path) -> None:
    _write(tmp_path, "city_gdp.csv", TABLE, "utf-8")
    _write(tmp_path, "other.csv", TABLE, "utf-8")
    with pytest.raises(DataError) as info:
        read(tmp_path / "city_gpd.csv")
    msg = str(info.value)
    assert "file not found" in msg and "city_gpd.csv" in msg
    assert "'city_gdp.csv'" in msg and "other.csv" not in msg


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist either"):
        read(tmp_path / "nope" / "t.csv")


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a folder"):
        read(tmp_path)


def test_unsupported_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "yearbook.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError) as info:
        read(path)
    msg = str(info.value)
    assert "'.xls'" in msg and "yearbook.xls" in msg
    assert ".csv, .tsv, .txt, .xlsx, .xlsm, .parquet" in msg
    assert "save it as .xlsx" in msg


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"'.*empty.csv' is empty"):
        read(path)


def test_missing_columns_with_close_matches(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", TABLE, "utf-8")
    with pytest.raises(DataError) as info:
        read(path, columns=["城市", "gpd"])
    msg = str(info.value)
    assert "t.csv" in msg and "'gpd'" in msg and "did you mean 'gdp'" in msg
    assert "Available columns: '城市', 'adcode', 'gdp', '员工'" in msg


def test_ragged_rows_give_line_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "a,b\n1,2\n3,4,5\n", "utf-8")
    with pytest.raises(DataError) as info:
        read(path, sep=",")
    msg = str(info.value)
    assert "line 3 has 3 fields but the header has 2" in msg
    assert "sep=" in msg
    _assert_clean(msg)


def test_workbook_with_csv_extension(tmp_path: Path) -> None:
    xlsx = _xlsx(tmp_path, "t.xlsx", {"S": [["a", "b"], [1, 2]]})
    path = tmp_path / "t.csv"
    path.write_bytes(xlsx.read_bytes())
    with pytest.raises(DataError, match=r"rename it to \.xlsx"):
        read(path)


def test_options_that_do_not_apply(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", TABLE, "utf-8")
    with pytest.raises(SpecError, match="only to Excel files"):
        read(path, sheet="2018")
    xlsx = _xlsx(tmp_path, "t.xlsx", {"S": [["a", "b"], [1, 2]]})
    with pytest.raises(SpecError, match="only to text files"):
        read(xlsx, encoding="gbk")
