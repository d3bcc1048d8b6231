"""Tests of agglomera.data.yearbook.read_yearbook on yearbook-like files made here."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

import agglomera
from agglomera.data import Panel, read_yearbook
from agglomera.data.yearbook import normalise_label
from agglomera.errors import DataError, SpecError

EMP = "年末单位从业人员数(万人)"
GDP = "地区生产总值(万元)"


def _xlsx(
    tmp_path: Path,
    name: str,
    sheets: dict[str, list[list[object]]],
    merges: dict[str, list[str]] | None = None,
) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for ref in (merges or {}).get(title, []):
            ws.merge_cells(ref)
    path = tmp_path / name
    wb.save(path)
    return path


def _csv(tmp_path: Path, name: str, text: str, encoding: str = "gbk") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _cell(panel: Panel, unit: str, year: int, var: str) -> float:
    frame = panel.to_frame().set_index([panel.unit, panel.time])
    return float(frame.loc[(unit, year), var])


def _prov(panel: Panel) -> str:
    return "\n".join(panel.provenance)


def _clean(message: str) -> None:
    for fragment in ("Traceback", "pandas/", "openpyxl/", 'File "'):
        assert fragment not in message


# ---------------------------------------------------------------------- a realistic workbook
def _city_yearbook(tmp_path: Path) -> Path:
    """Two variables, each merged over year sub-columns, as in 中国城市统计年鉴 extracts."""
    rows: list[list[object]] = [
        ["表2-1  全市年末单位从业人员与地区生产总值"],
        [None, None, None, None, "单位：万人，万元"],
        ["城  市", EMP, None, "地区生产总值\n(万元)", None, "备注"],
        [None, 2018, 2019, 2018, 2019, None],
        ["全国", 17258.2, 17162.0, 9.0e8, 9.9e8, None],
        ["浙江省", None, None, None, None, None],
        ["杭　州", 322.2, 345.6, 135094600, 153730500, "省会"],
        ["宁波市", 180.5, "—", 107458300, 119850000, None],
        [None, None, None, None, None, None],
        ["温州市", 120.0, 125.5, "…", 65000000, None],
        ["合计", 622.7, 471.1, None, None, None],
        ["注：从业人员不含私营单位和个体。", None, None, None, None, None],
        ["资料来源：中国城市统计年鉴。", None, None, None, None, None],
    ]
    merges = ["A3:A4", "B3:C3", "D3:E3", "F3:F4"]
    return _xlsx(tmp_path, "城市统计年鉴.xlsx", {"表2-1": rows}, {"表2-1": merges})


MAPPING = {"年末单位从业人员数（万人）": "employment", "地区生产总值 (万元)": "gdp"}


def test_merged_two_row_header_values_land_in_cells(tmp_path: Path) -> None:
    panel = read_yearbook(_city_yearbook(tmp_path), mapping=MAPPING, harmonise=False)
    assert panel.unit == "adcode" and panel.time == "year"
    assert panel.variables == ["employment", "gdp"]
    assert sorted(panel.units) == ["宁波市", "杭州", "温州市"]
    assert panel.times.tolist() == [2018, 2019]
    assert _cell(panel, "杭州", 2018, "employment") == 322.2
    assert _cell(panel, "杭州", 2019, "employment") == 345.6
    assert _cell(panel, "杭州", 2019, "gdp") == 153730500.0
    assert _cell(panel, "宁波市", 2018, "employment") == 180.5
    assert math.isnan(_cell(panel, "宁波市", 2019, "employment"))  # "—"
    assert math.isnan(_cell(panel, "温州市", 2018, "gdp"))  # "…"
    assert _cell(panel, "温州市", 2019, "gdp") == 65000000.0
    assert panel.n_obs == 6


def test_skipped_rows_and_header_recorded(tmp_path: Path) -> None:
    panel = read_yearbook(_city_yearbook(tmp_path), mapping=MAPPING, harmonise=False)
    prov = _prov(panel)
    assert "城市统计年鉴.xlsx" in prov
    assert "sheets: '表2-1'" in prov
    assert "layout: years_as_columns" in prov
    assert "sheet '表2-1': rows 3-4 (2, detected)" in prov
    assert "title rows '表2-1  全市年末单位从业人员与地区生产总值', '单位：万人，万元'" in prov
    assert "row 5 '全国' (sub-total)" in prov
    assert "row 6 '浙江省' (province heading)" in prov
    assert "row 9 (blank row)" in prov
    assert "row 11 '合计' (sub-total)" in prov
    assert "row 12 '注：从业人员不含私营单位和个体。' (footnote)" in prov
    assert "row 13 '资料来源：中国城市统计年鉴。' (footnote)" in prov
    assert "skipped rows (6)" in prov
    assert "unmapped columns ignored: '备注'" in prov
    assert "'年末单位从业人员数（万人）' → 'employment'" in prov
    assert "thousands separator: none" in prov
    assert "harmonise=False" in prov


def test_top_level_alias_and_year_filter(tmp_path: Path) -> None:
    panel = agglomera.read_yearbook(
        _city_yearbook(tmp_path), mapping={EMP: "employment"}, harmonise=False, year=2019
    )
    assert panel.times.tolist() == [2019]
    assert panel.to_wide("employment")[2019].to_dict() == {
        "宁波市": pytest.approx(float("nan"), nan_ok=True),
        "杭州": 345.6,
        "温州市": 125.5,
    }


def test_explicit_header_rows(tmp_path: Path) -> None:
    panel = read_yearbook(
        _city_yearbook(tmp_path), mapping={EMP: "employment"}, harmonise=False, header_rows=2
    )
    assert "rows 3-4 (2, given)" in _prov(panel)
    assert _cell(panel, "温州市", 2018, "employment") == 120.0
    with pytest.raises(DataError) as info:
        read_yearbook(
            _city_yearbook(tmp_path), mapping={EMP: "employment"}, harmonise=False, header_rows=1
        )
    msg = str(info.value)  # with one header row the years are not part of the header
    assert "has no year in its header" in msg and "header_rows" in msg


def test_three_row_header_joined_with_slash(tmp_path: Path) -> None:
    it = "信息传输、计算机服务和软件业"
    rows: list[list[object]] = [
        ["地区", it, None, None, None, "科学研究和技术服务业", None],
        [None, "从业人员", None, "平均工资", None, "从业人员", None],
        [None, "2018年", "2019年", "2018年", "2019年", "2018年", "2019年"],
        ["杭州市", 1.1, 1.2, 20.1, 20.2, 3.1, 3.2],
        ["宁波市", 2.1, 2.2, 30.1, 30.2, 4.1, 4.2],
    ]
    merges = ["A1:A3", "B1:E1", "F1:G1", "B2:C2", "D2:E2", "F2:G2"]
    path = _xlsx(tmp_path, "industry.xlsx", {"S": rows}, {"S": merges})
    mapping = {f"{it}/从业人员": "it_emp", "科学研究和技术服务业 / 从业人员": "sci_emp"}
    panel = read_yearbook(path, mapping=mapping, harmonise=False)
    assert _cell(panel, "宁波市", 2019, "it_emp") == 2.2
    assert _cell(panel, "杭州市", 2018, "sci_emp") == 3.1
    assert "'信息传输、计算机服务和软件业/平均工资'" in _prov(panel)  # unmapped, listed
    assert "rows 1-3 (3, detected)" in _prov(panel)


def test_csv_gbk_header_without_merges(tmp_path: Path) -> None:
    text = (
        "城市,年末单位从业人员数（万人）,,地区生产总值（万元）,\n"
        ",2018,2019,2018,2019\n"
        "全国,17258.2,17162.0,1,2\n"
        "杭州市,322.2,345.6,135094600,153730500\n"
        "宁波市,180.5,181.5,107458300,119850000\n"
        "注：本表按户籍人口计算。,,,,\n"
    )
    panel = read_yearbook(_csv(tmp_path, "t.csv", text), mapping=MAPPING, harmonise=False)
    assert _cell(panel, "杭州市", 2019, "employment") == 345.6
    assert _cell(panel, "宁波市", 2018, "gdp") == 107458300.0
    prov = _prov(panel)
    assert "encoding: gb18030" in prov
    assert "line 3 '全国' (sub-total)" in prov
    assert "line 6 '注：本表按户籍人口计算。' (footnote)" in prov


def test_utf8_bom_tsv(tmp_path: Path) -> None:
    text = "城市\t年末单位从业人员数(万人)\t\n\t2018\t2019\n杭州市\t322.2\t345.6\n"
    path = _csv(tmp_path, "t.tsv", text, "utf-8-sig")
    panel = read_yearbook(path, mapping={EMP: "employment"}, harmonise=False)
    assert _cell(panel, "杭州市", 2018, "employment") == 322.2
    assert "encoding: utf-8-sig" in _prov(panel)


def test_single_header_row_of_years_and_sheet_name_label(tmp_path: Path) -> None:
    sheets: dict[str, list[list[object]]] = {
        "地区生产总值": [["城市", 2018, 2019], ["杭州市", 1.0, 2.0], ["宁波市", 3.0, 4.0]],
        "Sheet2": [
            ["表3-2 年末总人口（万人）"],
            ["地区", "2018", "2019"],
            ["杭州市", 10.0, 20.0],
            ["宁波市", 30.0, 40.0],
        ],
        "说明": [["本表数据来自统计年鉴。"]],
    }
    path = _xlsx(tmp_path, "vars.xlsx", sheets)
    panel = read_yearbook(
        path, mapping={"地区生产总值": "gdp", "年末总人口(万人)": "pop"}, harmonise=False
    )
    assert _cell(panel, "宁波市", 2019, "gdp") == 4.0
    assert _cell(panel, "杭州市", 2019, "pop") == 20.0
    prov = _prov(panel)
    assert "sheets: '地区生产总值', 'Sheet2'" in prov
    assert "skipped sheets: sheet '说明' (not a table" in prov


# ---------------------------------------------------------------------- sheet per year
def _sheet_per_year(tmp_path: Path) -> Path:
    head = [["城市", "从业人员", None, "地区生产总值(万元)"], [None, "总数", "信息业", None]]
    merges = ["A1:A2", "B1:C1", "D1:D2"]
    sheets: dict[str, list[list[object]]] = {
        "说明": [["数据说明"], ["单位：万人"]],
        "2018年": [*head, ["杭州市", 322.2, 11.1, 135094600], ["宁波市", 180.5, 5.5, 107458300]],
        "2019年": [
            *head,
            ["全国", 1, 2, 3],
            ["宁波市", 181.5, 5.6, 119850000],
            ["杭州市", 345.6, 12.2, "—"],
            ["注：信息业指信息传输、软件和信息技术服务业。", None, None, None],
        ],
    }
    return _xlsx(tmp_path, "by_year.xlsx", sheets, {"2018年": merges, "2019年": merges})


def test_sheet_per_year(tmp_path: Path) -> None:
    mapping = {"从业人员/总数": "employment", "从业人员/信息业": "it", GDP: "gdp"}
    panel = read_yearbook(
        _sheet_per_year(tmp_path), mapping=mapping, layout="sheet_per_year", harmonise=False
    )
    assert panel.is_balanced and panel.times.tolist() == [2018, 2019]
    assert _cell(panel, "杭州市", 2018, "employment") == 322.2
    assert _cell(panel, "杭州市", 2019, "employment") == 345.6
    assert _cell(panel, "宁波市", 2019, "it") == 5.6
    assert _cell(panel, "宁波市", 2018, "gdp") == 107458300.0
    assert math.isnan(_cell(panel, "杭州市", 2019, "gdp"))
    prov = _prov(panel)
    assert "sheets: '2018年', '2019年'" in prov
    assert "sheet '说明' (its name holds no year)" in prov
    assert "sheet '2019年' row 3 '全国' (sub-total)" in prov
    assert "sheet '2019年' row 6 '注：信息业指信息传输、软件和信息技术服务业。' (footnote)" in prov


def test_sheet_per_year_selected_sheet_and_year_filter(tmp_path: Path) -> None:
    path = _sheet_per_year(tmp_path)
    one = read_yearbook(
        path,
        mapping={"从业人员/总数": "e"},
        layout="sheet_per_year",
        sheet="2019年",
        harmonise=False,
    )
    assert one.times.tolist() == [2019]
    filt = read_yearbook(
        path,
        mapping={"从业人员/总数": "e"},
        layout="sheet_per_year",
        year=[2018],
        harmonise=False,
    )
    assert filt.times.tolist() == [2018]
    assert "year 2019 not requested" in _prov(filt)


def test_single_year_csv_year_from_argument_or_file_name(tmp_path: Path) -> None:
    text = "城市,地区生产总值(万元)\n杭州市,135094600\n宁波市,107458300\n"
    path = _csv(tmp_path, "gdp.csv", text)
    panel = read_yearbook(
        path, mapping={GDP: "gdp"}, layout="sheet_per_year", year=2018, harmonise=False
    )
    assert _cell(panel, "宁波市", 2018, "gdp") == 107458300.0
    named = _csv(tmp_path, "城市统计年鉴2019.csv", text)
    panel = read_yearbook(named, mapping={GDP: "gdp"}, layout="sheet_per_year", harmonise=False)
    assert panel.times.tolist() == [2019]
    assert "taken from the file name" in _prov(panel)
    with pytest.raises(DataError, match="pass year=2018"):
        read_yearbook(path, mapping={GDP: "gdp"}, layout="sheet_per_year", harmonise=False)


# ---------------------------------------------------------------------- long layout
def test_long_layout_csv_and_parquet(tmp_path: Path) -> None:
    text = "城市,年份,GDP,人口\n杭州市,2018,1.5,10\n杭州市,2019,1.6,11\n宁波市,2018,2.5,20\n"
    panel = read_yearbook(
        _csv(tmp_path, "long.csv", text, "utf-8"),
        mapping={"GDP": "gdp", "人口": "pop"},
        layout="long",
        harmonise=False,
    )
    assert _cell(panel, "杭州市", 2019, "gdp") == 1.6
    assert _cell(panel, "宁波市", 2018, "pop") == 20.0
    assert not panel.is_balanced
    frame = pd.DataFrame({"adcode": ["330100", "330200"], "year": [2018, 2018], "gdp": [1.5, 2.5]})
    frame.to_parquet(tmp_path / "long.parquet")
    panel = read_yearbook(tmp_path / "long.parquet", mapping={"gdp": "gdp"}, layout="long")
    assert _cell(panel, "330200", 2018, "gdp") == 2.5
    assert "6-digit codes; used as adcodes" in _prov(panel)


def test_long_layout_bad_year_cell(tmp_path: Path) -> None:
    text = "城市,年份,GDP\n杭州市,2018,1.5\n宁波市,二〇一八,2.5\n"
    with pytest.raises(DataError) as info:
        read_yearbook(
            _csv(tmp_path, "long.csv", text),
            mapping={"GDP": "g"},
            layout="long",
            harmonise=False,
        )
    assert "line 3, field 2 should hold a year but holds '二〇一八'" in str(info.value)


# ---------------------------------------------------------------------- scope 全市 / 市辖区
def _scoped(tmp_path: Path) -> Path:
    rows: list[list[object]] = [
        ["城市", GDP, None, "年末总人口(万人)", None],
        [None, "全市", "市辖区", "全市", "市辖区"],
        ["杭州市", 1000.0, 800.0, 10.0, 8.0],
        ["宁波市", 2000.0, 1500.0, 20.0, 15.0],
    ]
    return _xlsx(tmp_path, "scope.xlsx", {"2018": rows}, {"2018": ["A1:A2", "B1:C1", "D1:E1"]})


def test_scope_required_when_both_groups(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_yearbook(
            _scoped(tmp_path), mapping={GDP: "gdp"}, layout="sheet_per_year", harmonise=False
        )
    msg = str(info.value)
    assert "全市" in msg and "市辖区" in msg and "scope='全市'" in msg and "scope.xlsx" in msg


def test_scope_selects_group_and_is_recorded(tmp_path: Path) -> None:
    mapping = {GDP: "gdp", "年末总人口(万人)": "pop"}
    for scope, gdp, pop in (("市辖区", 1500.0, 15.0), ("全市", 2000.0, 20.0)):
        panel = read_yearbook(
            _scoped(tmp_path),
            mapping=mapping,
            layout="sheet_per_year",
            scope=scope,
            harmonise=False,
        )
        assert _cell(panel, "宁波市", 2018, "gdp") == gdp
        assert _cell(panel, "宁波市", 2018, "pop") == pop
        assert f"scope: {scope}" in _prov(panel)
    both = read_yearbook(
        _scoped(tmp_path),
        mapping={f"{GDP}/全市": "gdp_all", f"{GDP}/市辖区": "gdp_proper"},
        layout="sheet_per_year",
        harmonise=False,
    )
    assert _cell(both, "杭州市", 2018, "gdp_all") == 1000.0
    assert _cell(both, "杭州市", 2018, "gdp_proper") == 800.0


def test_scope_without_groups_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no 全市/市辖区 column groups"):
        read_yearbook(_city_yearbook(tmp_path), mapping={EMP: "e"}, scope="全市", harmonise=False)


# ---------------------------------------------------------------------- error paths
def test_missing_label_lists_available_and_close_matches(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_yearbook(
            _city_yearbook(tmp_path), mapping={"年末单位从业人数(万人)": "e"}, harmonise=False
        )
    msg = str(info.value)
    assert "'年末单位从业人数(万人)' not found" in msg and "城市统计年鉴.xlsx" in msg
    assert "did you mean '年末单位从业人员数(万人)'" in msg
    assert "'地区生产总值(万元)'" in msg and "'备注'" in msg
    assert "joined with '/'" in msg
    _clean(msg)


def test_duplicate_city_in_a_year_names_sheet_and_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["城市", GDP],
        ["杭州市", 1.0],
        ["宁波市", 2.0],
        ["杭州市", 3.0],
    ]
    path = _xlsx(tmp_path, "dup.xlsx", {"2018年": rows})
    with pytest.raises(DataError) as info:
        read_yearbook(path, mapping={GDP: "gdp"}, layout="sheet_per_year", harmonise=False)
    msg = str(info.value)
    assert "'杭州市'" in msg and "2018" in msg
    assert "sheet '2018年' row 2" in msg and "sheet '2018年' row 4" in msg
    assert "dup.xlsx" in msg


def test_thousands_separator_error_and_option(tmp_path: Path) -> None:
    text = '城市,地区生产总值(万元),\n,2018,2019\n杭州市,"135,094,600",2\n宁波市,3,4\n'
    path = _csv(tmp_path, "t.csv", text)
    with pytest.raises(DataError) as info:
        read_yearbook(path, mapping={GDP: "gdp"}, harmonise=False)
    msg = str(info.value)
    assert "line 3, field 2: '135,094,600'" in msg and "thousands=','" in msg
    panel = read_yearbook(path, mapping={GDP: "gdp"}, harmonise=False, thousands=",")
    assert _cell(panel, "杭州市", 2018, "gdp") == 135094600.0
    assert "thousands separator: ','" in _prov(panel)


def test_text_value_names_the_cell(tmp_path: Path) -> None:
    rows: list[list[object]] = [["城市", GDP], ["杭州市", 1.0], ["宁波市", "缺"]]
    path = _xlsx(tmp_path, "t.xlsx", {"2018": rows})
    with pytest.raises(DataError) as info:
        read_yearbook(path, mapping={GDP: "g"}, layout="sheet_per_year", harmonise=False)
    msg = str(info.value)
    assert "sheet '2018' cell B3: '缺'" in msg and "na_values" in msg
    panel = read_yearbook(
        path, mapping={GDP: "g"}, layout="sheet_per_year", harmonise=False, na_values=["缺"]
    )
    assert math.isnan(_cell(panel, "宁波市", 2018, "g"))


def test_header_not_found(tmp_path: Path) -> None:
    rows: list[list[object]] = [["城市", "说明"], ["杭州市", "省会"]]
    path = _xlsx(tmp_path, "t.xlsx", {"S": rows})
    with pytest.raises(DataError) as info:
        read_yearbook(path, mapping={"说明": "x"}, sheet="S", harmonise=False)
    msg = str(info.value)
    assert "cannot find where the header ends" in msg and "header_rows=" in msg


def test_unknown_sheet_and_bad_arguments(tmp_path: Path) -> None:
    path = _sheet_per_year(tmp_path)
    with pytest.raises(DataError, match="Sheets: '说明', '2018年', '2019年'"):
        read_yearbook(path, mapping={"x": "y"}, sheet="2020年", harmonise=False)
    with pytest.raises(SpecError, match="layout must be one of"):
        read_yearbook(path, mapping={"x": "y"}, layout="wide")
    with pytest.raises(SpecError, match="non-empty dict"):
        read_yearbook(path, mapping={})
    with pytest.raises(SpecError, match="scope must be"):
        read_yearbook(path, mapping={"x": "y"}, scope="市区")
    with pytest.raises(SpecError, match="clashes with the key columns"):
        read_yearbook(path, mapping={"x": "year"})


def test_missing_file_and_unsupported_format(tmp_path: Path) -> None:
    _sheet_per_year(tmp_path)
    with pytest.raises(DataError, match=r"Similar files .*'by_year\.xlsx'"):
        read_yearbook(tmp_path / "by-year.xlsx", mapping={"x": "y"})
    bad = tmp_path / "old.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError, match=r"save it as \.xlsx"):
        read_yearbook(bad, mapping={"x": "y"})


def test_codes_in_city_column_used_as_adcodes(tmp_path: Path) -> None:
    text = "行政区划代码,城市,GDP,\n,,2018,2019\n330100,杭州市,1,2\n330200,宁波市,3,4\n"
    panel = read_yearbook(_csv(tmp_path, "t.csv", text), mapping={"GDP": "gdp"})
    assert _cell(panel, "330200", 2019, "gdp") == 4.0
    assert list(panel.units) == ["330100", "330200"]
    assert "'城市'" in _prov(panel)  # the name column is listed as unmapped


def test_normalise_label() -> None:
    assert normalise_label(" 年末单位从业人员数（万人）\n") == EMP
    assert normalise_label("城　市") == "城市"
    assert normalise_label(2018.0) == "2018"


# ---------------------------------------------------------------------- harmonisation
def test_harmonise_names_to_adcodes(tmp_path: Path) -> None:
    text = "城市,年末单位从业人员数(万人),\n,2018,2019\n杭州市,322.2,345.6\n宁波,180.5,181.5\n"
    panel = read_yearbook(_csv(tmp_path, "t.csv", text), mapping={EMP: "employment"})
    assert list(panel.units) == ["330100", "330200"]
    assert _cell(panel, "330100", 2019, "employment") == 345.6
    assert _cell(panel, "330200", 2018, "employment") == 180.5
    assert "harmonise_cities" in _prov(panel)


def test_harmonise_two_names_of_one_city_are_duplicates(tmp_path: Path) -> None:
    text = "城市,年末单位从业人员数(万人),\n,2018,2019\n杭州市,1,2\n杭州,3,4\n"
    with pytest.raises(DataError) as info:
        read_yearbook(_csv(tmp_path, "t.csv", text), mapping={EMP: "employment"})
    msg = str(info.value)
    assert "330100" in msg and "line 3" in msg and "line 4" in msg


def test_renamed_label_between_editions_maps_to_one_variable(tmp_path: Path) -> None:
    new = "城镇单位从业人员期末人数(万人)"
    sheets: dict[str, list[list[object]]] = {
        "2018": [["城市", EMP], ["杭州市", 322.2]],
        "2019": [["城市", new], ["杭州市", 345.6]],
    }
    path = _xlsx(tmp_path, "t.xlsx", sheets)
    mapping = {EMP: "employment", new: "employment"}
    panel = read_yearbook(path, mapping=mapping, layout="sheet_per_year", harmonise=False)
    assert panel.to_wide("employment").loc["杭州市"].tolist() == [322.2, 345.6]
    both = _xlsx(tmp_path, "b.xlsx", {"2018": [["城市", EMP, new], ["杭州市", 1.0, 2.0]]})
    with pytest.raises(DataError, match="two columns for 'employment'"):
        read_yearbook(both, mapping=mapping, layout="sheet_per_year", harmonise=False)


def test_csv_header_blank_after_group_is_not_filled_across_kinds(tmp_path: Path) -> None:
    text = "城市,GDP,,\n,2018,2019,备注\n杭州市,1,2,省会\n"
    panel = read_yearbook(_csv(tmp_path, "t.csv", text), mapping={"GDP": "g"}, harmonise=False)
    assert panel.to_wide("g").loc["杭州市"].tolist() == [1.0, 2.0]
    assert "unmapped columns ignored: '备注'" in _prov(panel)


def test_first_city_with_only_placeholders_is_not_a_header_row(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["城市", GDP, None],
        [None, 2018, 2019],
        ["北京市", "—", "—"],
        ["天津市", 1.0, 2.0],
    ]
    path = _xlsx(tmp_path, "t.xlsx", {"S": rows}, {"S": ["A1:A2", "B1:C1"]})
    panel = read_yearbook(path, mapping={GDP: "gdp"}, harmonise=False)
    assert "rows 1-2 (2, detected)" in _prov(panel)
    assert math.isnan(_cell(panel, "北京市", 2019, "gdp"))
    assert _cell(panel, "天津市", 2019, "gdp") == 2.0


def test_sheet_per_year_variable_missing_in_one_year_is_recorded(tmp_path: Path) -> None:
    sheets: dict[str, list[list[object]]] = {
        "2018": [["城市", GDP, "人口"], ["杭州市", 1.0, 10.0]],
        "2019": [["城市", GDP], ["杭州市", 2.0]],
    }
    path = _xlsx(tmp_path, "t.xlsx", sheets)
    panel = read_yearbook(
        path, mapping={GDP: "gdp", "人口": "pop"}, layout="sheet_per_year", harmonise=False
    )
    assert math.isnan(_cell(panel, "杭州市", 2019, "pop"))
    assert "'pop' has no column in sheet '2019': missing for 2019" in _prov(panel)


def test_year_sheet_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    sheets: dict[str, list[list[object]]] = {
        "2018": [["城市", GDP], ["杭州市", 1.0]],
        "2019": [["城市", "说明"], ["杭州市", "见下表"]],
    }
    path = _xlsx(tmp_path, "t.xlsx", sheets)
    with pytest.raises(DataError, match="sheet '2019': cannot find where the header ends"):
        read_yearbook(path, mapping={GDP: "gdp"}, layout="sheet_per_year", harmonise=False)
