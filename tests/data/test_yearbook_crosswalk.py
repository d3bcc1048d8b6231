"""read_yearbook(..., crosswalk=...): talent sectors across GB/T 4754 vintages.

The workbooks are built here with openpyxl in the layout of table 2-7 of the China City
Statistical Yearbook (年末单位从业人员, by sector, 全市 and 市辖区 groups, 万人): the 2003
edition (data year 2002, GB/T 4754-1994: no IT sector), the 2009 edition (2008,
GB/T 4754-2002) and the 2016 edition (2015, GB/T 4754-2011). Expected values are the
cells typed below and their hand-computed sums.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from agglomera.data.crosswalk import sector_crosswalk, sector_series, yearbook_mapping
from agglomera.data.panel import Panel
from agglomera.data.yearbook import read_yearbook
from agglomera.errors import DataError, SpecError

# Sector headers as printed in each edition (others are unmapped sectors of the same table).
SECTORS = {
    2002: ["交通运输、仓储及邮电通信业", "社会服务业", "科学研究和综合技术服务业"],
    2008: ["信息传输、计算机服务和软件业", "金融业", "科学研究、技术服务和地质勘查业"],
    2015: ["信息传输、软件和信息技术服务业", "金融业", "科学研究和技术服务业"],
}
# 全市 values per city: total, then the three sectors above (万人); 市辖区 = 0.8 × 全市.
VALUES = {
    2002: {"合肥市": [95.0, 6.1, 3.3, 2.9], "济南市": [110.0, 7.2, 4.1, 3.8]},
    2008: {"合肥市": [120.5, 2.4, 2.6, 4.4], "济南市": [140.2, 3.5, 3.9, 4.1]},
    2015: {"合肥市": [170.3, 5.8, 4.0, 7.9], "济南市": [190.6, 8.2, 5.1, 6.6]},
}
HEFEI, JINAN = "340100", "370100"
# Hand-computed talent = IT + science (全市), by city and year.
TALENT = {
    (HEFEI, 2008): 6.8,  # 2.4 + 4.4 (2.6 is 金融业)
    (JINAN, 2008): 7.6,  # 3.5 + 4.1
    (HEFEI, 2015): 13.7,  # 5.8 + 7.9
    (JINAN, 2015): 14.8,  # 8.2 + 6.6
}


def _sheet_rows(year: int, sectors: list[str] | None = None) -> list[list[object]]:
    names = sectors or SECTORS[year]
    head = ["年末单位从业人员数(万人)", *(f"{n}(万人)" for n in names)]
    rows: list[list[object]] = [
        [f"2-7 按行业分的年末单位从业人员（{year}年）"],
        [None, None, None, None, None, None, None, None, "单位：万人"],
        ["城　市", "全　市", None, None, None, "市辖区", None, None, None],
        [None, *head, *head],
        ["全国", 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        ["安徽省", None, None, None, None, None, None, None, None],
    ]
    for city in ("合肥市", "济南市"):
        if city == "济南市":
            rows.append(["山东省", None, None, None, None, None, None, None, None])
        full = VALUES[year][city]
        rows.append([city, *full, *(round(0.8 * v, 2) for v in full)])
    rows.append(["注：从业人员不含私营单位和个体。"])
    return rows


_MERGES = ["A3:A4", "B3:E3", "F3:I3"]


def _by_year(tmp_path: Path, years: tuple[int, ...] = (2002, 2008, 2015), **over: object) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for year in years:
        ws = wb.create_sheet(f"{year}年")
        rows = over.get(str(year)) or _sheet_rows(year)
        for row in rows:  # type: ignore[attr-defined]
            ws.append(row)
        for ref in _MERGES:
            ws.merge_cells(ref)
    path = tmp_path / "城市统计年鉴_分行业从业人员.xlsx"
    wb.save(path)
    return path


def _years_as_columns(tmp_path: Path, english: bool = False) -> Path:
    """One compiled sheet: each sector header merged over the years it is printed in."""
    cw = sector_crosswalk().set_index("variable")
    name = "name_en" if english else "name_cn"
    blocks = [
        ("年末单位从业人员数(万人)", [2002, 2008, 2015], 0),
        (cw.loc["emp_sci_1994", name], [2002], 3),
        (cw.loc["emp_it_2002", name], [2008], 1),
        (cw.loc["emp_sci_2002", name], [2008], 3),
        (cw.loc["emp_it_2011", name], [2015], 1),
        (cw.loc["emp_sci_2011", name], [2015], 3),
    ]
    top: list[object] = ["城市"]
    sub: list[object] = [None]
    merges = ["A2:A3"]
    for label, years, _ in blocks:
        start = len(top) + 1
        top += [label] + [None] * (len(years) - 1)
        sub += years
        if len(years) > 1:
            merges.append(f"{_letter(start)}2:{_letter(start + len(years) - 1)}2")
    rows: list[list[object]] = [["表 从业人员（全市，万人）"], top, sub]
    for city in ("合肥市", "济南市"):
        row: list[object] = [city]
        for _, years, pos in blocks:
            row += [VALUES[y][city][pos] for y in years]
        rows.append(row)
    rows.append(["资料来源：中国城市统计年鉴2003、2009、2016。"])
    wb = Workbook()
    ws = wb.active
    ws.title = "从业人员"
    for r in rows:
        ws.append(r)
    for ref in merges:
        ws.merge_cells(ref)
    path = tmp_path / ("compiled_en.xlsx" if english else "compiled.xlsx")
    wb.save(path)
    return path


def _letter(col: int) -> str:
    return chr(ord("A") + col - 1)


def _cell(panel: Panel, unit: str, year: int, var: str) -> float:
    return float(panel.to_frame().set_index([panel.unit, panel.time]).loc[(unit, year), var])


def _prov(panel: Panel) -> str:
    return "\n".join(panel.provenance)


# ---------------------------------------------------------------------- sheet per year
def test_sheet_per_year_three_vintages_drop(tmp_path: Path) -> None:
    panel = read_yearbook(
        _by_year(tmp_path),
        mapping={"年末单位从业人员数(万人)": "emp_total"},
        layout="sheet_per_year",
        scope="全市",
        crosswalk=True,
    )
    assert panel.variables == ["emp_total", "emp_it", "emp_sci"]
    assert panel.times.tolist() == [2008, 2015]  # 2002 dropped (default break_2002="drop")
    for (unit, year), talent in TALENT.items():
        total = _cell(panel, unit, year, "emp_it") + _cell(panel, unit, year, "emp_sci")
        assert total == pytest.approx(talent, rel=1e-12, abs=0)
    assert _cell(panel, HEFEI, 2008, "emp_it") == 2.4
    assert _cell(panel, JINAN, 2015, "emp_sci") == 6.6
    assert _cell(panel, JINAN, 2015, "emp_total") == 190.6
    prov = _prov(panel)
    assert "crosswalk: shipped talent-sector crosswalk (sector_crosswalk())" in prov
    assert "vintage='auto': each table or column by its data year" in prov
    assert (
        "crosswalk header '信息传输、计算机服务和软件业(万人)' (sheet '2008年') → emp_it_2002 → "
        "emp_it: GB/T 4754-2002 G 信息传输、计算机服务和软件业 (vintage 2003-2011, exact)"
    ) in prov
    assert (
        "crosswalk header '科学研究和技术服务业(万人)' (sheet '2015年') → emp_sci_2011 → "
        "emp_sci: GB/T 4754-2011 M 科学研究和技术服务业 (vintage 2012+, renamed)"
    ) in prov
    assert (
        "emp_it = 信息传输、计算机服务和软件业 (GB/T 4754-2002 G, emp_it_2002) 2008 + "
        "信息传输、软件和信息技术服务业 (GB/T 4754-2011 I, emp_it_2011) 2015"
    ) in prov
    assert (
        "break_2002='drop': 2 rows removed (GB/T 4754-1994 (vintage 2002, data years ≤ 2002) "
        "has no emp_it sector)"
    ) in prov
    assert "has no column in" not in prov  # other vintages' headers are not noted per sheet


def test_sheet_per_year_same_as_mapping_plus_sector_series(tmp_path: Path) -> None:
    path = _by_year(tmp_path)
    mapping = {
        "年末单位从业人员数(万人)": "emp_total",
        **yearbook_mapping(template="{name_cn}(万人)", years=[2002, 2008, 2015]),
    }
    by_hand = sector_series(
        read_yearbook(path, mapping=mapping, layout="sheet_per_year", scope="市辖区"),
        break_2002="sci_only",
    )
    option = read_yearbook(
        path,
        mapping={"年末单位从业人员数(万人)": "emp_total"},
        layout="sheet_per_year",
        scope="市辖区",
        crosswalk="talent",
        break_2002="sci_only",
    )
    pd.testing.assert_frame_equal(option.to_frame(), by_hand.to_frame())
    assert _cell(option, HEFEI, 2002, "emp_sci") == 2.32  # 市辖区 = 0.8 × 2.9
    assert math.isnan(_cell(option, HEFEI, 2002, "emp_it"))
    prov = _prov(option)
    assert "emp_it = missing 2002 (no emp_it sector in GB/T 4754-1994)" in prov
    assert "break_2002='sci_only': 2 rows kept with the missing sectors empty" in prov
    assert "approximate match 科学研究和综合技术服务业 (GB/T 4754-1994 N, emp_sci_1994)" in prov


def test_sheet_per_year_break_error(tmp_path: Path) -> None:
    path = _by_year(tmp_path)
    with pytest.raises(DataError) as info:
        read_yearbook(
            path, layout="sheet_per_year", scope="全市", crosswalk=True, break_2002="error"
        )
    msg = str(info.value)
    assert (
        "sheet '2002年' has data for 2002" in msg
        and "GB/T 4754-1994" in msg
        and "no separate emp_it" in msg
    )
    assert "break_2002='drop'" in msg and "'sci_only'" in msg
    panel = read_yearbook(
        path, layout="sheet_per_year", scope="全市", crosswalk=True, break_2002="error", year=[2008]
    )
    assert panel.variables == ["emp_it", "emp_sci"]
    assert "break_2002='error': no year in a vintage without a sector" in _prov(panel)


# ---------------------------------------------------------------------- years as columns
@pytest.mark.parametrize("english", [False, True])
def test_years_as_columns_compiled_sheet(tmp_path: Path, english: bool) -> None:
    panel = read_yearbook(
        _years_as_columns(tmp_path, english),
        mapping={"年末单位从业人员数(万人)": "emp_total"},
        crosswalk=True,
        break_2002="sci_only",
    )
    assert panel.times.tolist() == [2002, 2008, 2015]
    for (unit, year), talent in TALENT.items():
        total = _cell(panel, unit, year, "emp_it") + _cell(panel, unit, year, "emp_sci")
        assert total == pytest.approx(talent, rel=1e-12, abs=0)
    assert _cell(panel, JINAN, 2002, "emp_sci") == 3.8
    assert math.isnan(_cell(panel, JINAN, 2002, "emp_it"))
    assert _cell(panel, HEFEI, 2002, "emp_total") == 95.0
    # Header labels are recorded as normalised (spaces removed), like every yearbook label.
    header = "InformationTransmission,Software" if english else "信息传输、软件和信息技术服务业"
    assert f"crosswalk header '{header}" in _prov(panel)
    dropped = read_yearbook(_years_as_columns(tmp_path, english), crosswalk=True)
    assert dropped.times.tolist() == [2008, 2015]
    assert dropped.variables == ["emp_it", "emp_sci"]


def test_years_as_columns_wrong_vintage_header(tmp_path: Path) -> None:
    path = _years_as_columns(tmp_path)
    wb_rows = pd.read_excel(path, header=None)
    assert wb_rows.iloc[1, 5] == "信息传输、计算机服务和软件业"
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb.active["F3"] = 2012  # the 2002-vintage IT header now over data year 2012
    wb.save(path)
    with pytest.raises(DataError) as info:
        read_yearbook(path, crosswalk=True)
    msg = str(info.value)
    assert "column F: header '信息传输、计算机服务和软件业'" in msg
    assert "vintage '2003-2011'" in msg and "holds data for 2012" in msg
    assert "vintage '2012+' (GB/T 4754-2011)" in msg
    assert "mapping={'信息传输、计算机服务和软件业': 'emp_it_2011'}" in msg


# ---------------------------------------------------------------------- unknown headers
def test_unknown_sector_header_error_and_fixes(tmp_path: Path) -> None:
    odd = ["信息传输、软件和信息技术服务", "金融业", "科学研究和技术服务业"]
    path = _by_year(tmp_path, (2008, 2015), **{"2015": _sheet_rows(2015, odd)})
    with pytest.raises(DataError) as info:
        read_yearbook(path, layout="sheet_per_year", scope="全市", crosswalk=True)
    msg = str(info.value)
    assert "no column for emp_it in 2015 (sheet '2015年')" in msg
    assert "vintage '2012+' (GB/T 4754-2011 section I)" in msg
    assert "Unknown header(s) that may be it: '信息传输、软件和信息技术服务(万人)'" in msg
    assert "mapping={'信息传输、软件和信息技术服务(万人)': 'emp_it_2011'}" in msg
    assert "crosswalk=" in msg
    fixed = read_yearbook(
        path,
        layout="sheet_per_year",
        scope="全市",
        crosswalk=True,
        mapping={"信息传输、软件和信息技术服务(万人)": "emp_it_2011"},
    )
    assert _cell(fixed, HEFEI, 2015, "emp_it") == 5.8
    assert "'信息传输、软件和信息技术服务(万人)' → 'emp_it_2011'" in _prov(fixed)
    user = sector_crosswalk()
    user.loc[user["variable"] == "emp_it_2011", "name_cn"] = "信息传输、软件和信息技术服务"
    own = read_yearbook(path, layout="sheet_per_year", scope="全市", crosswalk=user)
    pd.testing.assert_frame_equal(own.to_frame(), fixed.to_frame())
    assert "crosswalk: user crosswalk (6 rows)" in _prov(own)


def test_forced_vintage(tmp_path: Path) -> None:
    # A 2011 sheet printed with the GB/T 4754-2011 names.
    path = _by_year(tmp_path, (2015,))
    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("2011年")
    for row in _sheet_rows(2015):
        ws.append(row)
    for ref in _MERGES:
        ws.merge_cells(ref)
    wb.save(path)
    with pytest.raises(DataError, match=r"holds data for 2011.*pass vintage='2012\+'"):
        read_yearbook(path, layout="sheet_per_year", scope="全市", crosswalk=True)
    panel = read_yearbook(
        path, layout="sheet_per_year", scope="全市", crosswalk=True, vintage="2012+"
    )
    assert _cell(panel, HEFEI, 2011, "emp_it") == 5.8
    assert "vintage='2012+' given: every table read as GB/T 4754-2011" in _prov(panel)
    same = read_yearbook(
        path, layout="sheet_per_year", scope="全市", crosswalk=True, vintage="GB/T 4754-2011"
    )
    pd.testing.assert_frame_equal(same.to_frame(), panel.to_frame())
    with pytest.raises(DataError, match=r"header '信息传输、软件和信息技术服务业\(万人\)' is the"):
        read_yearbook(path, layout="sheet_per_year", scope="全市", crosswalk=True, vintage="2002")


# ---------------------------------------------------------------------- argument errors
def test_argument_errors(tmp_path: Path) -> None:
    path = _by_year(tmp_path, (2008,))
    kw: dict[str, object] = {"layout": "sheet_per_year", "scope": "全市"}
    with pytest.raises(SpecError, match="crosswalk must be None, True or 'talent'"):
        read_yearbook(path, crosswalk="it", **kw)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"vintage='2005' is not a vintage.*'2003-2011'"):
        read_yearbook(path, crosswalk=True, vintage="2005", **kw)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="break_2002='combined' is not allowed"):
        read_yearbook(path, crosswalk=True, break_2002="combined", **kw)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="apply to the sector crosswalk only"):
        read_yearbook(path, mapping={"金融业(万人)": "fin"}, break_2002="drop", **kw)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"non-empty dict.*crosswalk=True"):
        read_yearbook(path, **kw)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"mapping\['IT'\] = 'emp_it' is a column the crosswalk"):
        read_yearbook(path, mapping={"IT": "emp_it"}, crosswalk=True, **kw)  # type: ignore[arg-type]
    bad = sector_crosswalk().drop(columns="name_en")
    with pytest.raises(SpecError, match="lacks the columns 'name_en'"):
        read_yearbook(path, crosswalk=bad, **kw)  # type: ignore[arg-type]
    overlap = sector_crosswalk()
    overlap.loc[overlap["variable"].isin(["emp_it_2011", "emp_sci_2011"]), "first_year"] = 2011
    with pytest.raises(SpecError, match="overlap"):
        read_yearbook(path, crosswalk=overlap, **kw)  # type: ignore[arg-type]
    gap = sector_crosswalk()
    gap = gap[gap["variable"] != "emp_sci_2002"]
    with pytest.raises(SpecError, match="no row for 'emp_sci' in GB/T 4754-2002"):
        read_yearbook(path, crosswalk=gap, **kw)  # type: ignore[arg-type]


def test_existing_behaviour_unchanged(tmp_path: Path) -> None:
    path = _by_year(tmp_path, (2008,))
    panel = read_yearbook(
        path, mapping={"金融业(万人)": "fin"}, layout="sheet_per_year", scope="全市"
    )
    assert panel.variables == ["fin"]
    assert _cell(panel, JINAN, 2008, "fin") == 3.9
    assert not any(p.startswith("crosswalk") for p in panel.provenance)


# ---------------------------------------------------------------------- long layout
def _long_csv(tmp_path: Path, stray: bool = False) -> Path:
    head = "城市,年份,信息传输、计算机服务和软件业,科学研究、技术服务和地质勘查业,"
    head += "信息传输、软件和信息技术服务业,科学研究和技术服务业\n"
    lines = []
    for city in ("合肥市", "济南市"):
        a = VALUES[2008][city]
        b = VALUES[2015][city]
        lines.append(f"{city},2008,{a[1]},{a[3]},—,—")
        new = f"{a[1]}" if stray and city == "济南市" else "—"
        lines.append(f"{city},2015,{new},—,{b[1]},{b[3]}")
    path = tmp_path / ("long_stray.csv" if stray else "long.csv")
    path.write_bytes((head + "\n".join(lines) + "\n").encode("gbk"))
    return path


def test_long_layout(tmp_path: Path) -> None:
    panel = read_yearbook(_long_csv(tmp_path), layout="long", crosswalk=True)
    for (unit, year), talent in TALENT.items():
        total = _cell(panel, unit, year, "emp_it") + _cell(panel, unit, year, "emp_sci")
        assert total == pytest.approx(talent, rel=1e-12, abs=0)
    with pytest.raises(DataError, match=r"column C: header '信息传输、计算机服务和软件业'.*2015"):
        read_yearbook(_long_csv(tmp_path, stray=True), layout="long", crosswalk=True)


def test_sheet_per_variable_titles(tmp_path: Path) -> None:
    """Years as columns, one sheet per sector, the sector named only by the sheet title."""
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {
        "表1": ("信息传输、计算机服务和软件业", 1),
        "表2": ("科学研究、技术服务和地质勘查业", 3),
    }
    for title, (heading, pos) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append([heading])
        ws.append(["城市", 2008])
        for city in ("合肥市", "济南市"):
            ws.append([city, VALUES[2008][city][pos]])
    path = tmp_path / "per_variable.xlsx"
    wb.save(path)
    panel = read_yearbook(path, crosswalk=True)
    assert _cell(panel, HEFEI, 2008, "emp_it") + _cell(panel, HEFEI, 2008, "emp_sci") == (
        pytest.approx(TALENT[(HEFEI, 2008)], rel=1e-12, abs=0)
    )
    assert "crosswalk header '信息传输、计算机服务和软件业' (sheet '表1')" in _prov(panel)


def test_forced_vintage_rejects_other_vintage_mapping(tmp_path: Path) -> None:
    path = _by_year(tmp_path, (2015,))
    with pytest.raises(DataError, match=r"mapped to 'emp_it_2002' of vintage '2003-2011'"):
        read_yearbook(
            path,
            layout="sheet_per_year",
            scope="全市",
            crosswalk=True,
            vintage="2012+",
            mapping={"金融业(万人)": "emp_it_2002"},
        )


def test_header_variants_section_letter_english_unit(tmp_path: Path) -> None:
    names = [
        "G 信息传输、计算机服务和软件业",
        "金融业",
        "Scientific Research, Technical Services and Geologic Prospecting",
    ]
    path = _by_year(tmp_path, (2008,), **{"2008": _sheet_rows(2008, names)})
    panel = read_yearbook(path, layout="sheet_per_year", scope="全市", crosswalk=True)
    total = _cell(panel, JINAN, 2008, "emp_it") + _cell(panel, JINAN, 2008, "emp_sci")
    assert total == pytest.approx(TALENT[(JINAN, 2008)], rel=1e-12, abs=0)
    assert "crosswalk header 'G信息传输、计算机服务和软件业(万人)'" in _prov(panel)


def test_two_headers_for_one_sector(tmp_path: Path) -> None:
    """A wage table next to the employment table: both print the sector name."""
    wb = Workbook()
    ws = wb.active
    ws.title = "从业人员"
    ws.append(["城市", "信息传输、计算机服务和软件业/从业人员"])
    ws.append([None, 2008])
    ws.append(["合肥市", 2.4])
    ws2 = wb.create_sheet("工资")
    ws2.append(["城市", "信息传输、计算机服务和软件业/平均工资(元)"])
    ws2.append([None, 2008])
    ws2.append(["合肥市", 41000])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    with pytest.raises(DataError, match=r"two headers give emp_it_2002 \(emp_it\) for 2008"):
        read_yearbook(path, crosswalk=True)
