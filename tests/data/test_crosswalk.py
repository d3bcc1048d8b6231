"""Sector crosswalk across GB/T 4754 vintages and consistent emp_it/emp_sci series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from agglomera import Panel
from agglomera.data import read_yearbook
from agglomera.data.crosswalk import sector_crosswalk, sector_series, yearbook_mapping
from agglomera.errors import DataError, SpecError


def test_table_names_and_sections() -> None:
    cw = sector_crosswalk().set_index("variable")
    assert cw.loc["emp_sci_1994", "name_cn"] == "科学研究和综合技术服务业"
    assert cw.loc["emp_sci_1994", "section"] == "N"
    assert cw.loc["emp_it_2002", "name_cn"] == "信息传输、计算机服务和软件业"
    assert cw.loc["emp_it_2002", "section"] == "G"
    assert cw.loc["emp_sci_2002", "name_cn"] == "科学研究、技术服务和地质勘查业"
    assert cw.loc["emp_it_2011", "name_cn"] == "信息传输、软件和信息技术服务业"
    assert cw.loc["emp_it_2011", "section"] == "I"
    assert cw.loc["emp_sci_2011", "name_cn"] == "科学研究和技术服务业"
    assert cw.loc["emp_sci_2011", "first_year"] == 2012
    assert pd.isna(cw.loc["emp_sci_2011", "last_year"])
    assert cw.loc["", "relation"] == "none"  # no IT sector in 1994
    full = sector_crosswalk()
    assert full["source"].str.contains("GB/T 4754").all()
    assert (full["name_en"] != "").sum() == 5


def test_yearbook_mapping() -> None:
    m = yearbook_mapping(template="{name_cn}(万人)")
    assert m == {
        "科学研究和综合技术服务业(万人)": "emp_sci_1994",
        "信息传输、计算机服务和软件业(万人)": "emp_it_2002",
        "科学研究、技术服务和地质勘查业(万人)": "emp_sci_2002",
        "信息传输、软件和信息技术服务业(万人)": "emp_it_2011",
        "科学研究和技术服务业(万人)": "emp_sci_2011",
    }
    assert yearbook_mapping(years=[2002], concepts=["emp_sci"]) == {
        "科学研究和综合技术服务业": "emp_sci_1994"
    }
    assert set(yearbook_mapping(years=[2011, 2012]).values()) == {
        "emp_it_2002",
        "emp_sci_2002",
        "emp_it_2011",
        "emp_sci_2011",
    }
    with pytest.raises(SpecError, match="unknown field"):
        yearbook_mapping(template="{name}")


def _vintage_panel() -> Panel:
    years = [2002, 2003, 2011, 2012, 2013]
    rows = []
    for city, base in (("330100", 10.0), ("330200", 5.0)):
        for y in years:
            rows.append(
                {
                    "adcode": city,
                    "year": y,
                    "emp_sci_1994": base if y <= 2002 else np.nan,
                    "emp_it_2002": base + 1 if 2003 <= y <= 2011 else np.nan,
                    "emp_sci_2002": base + 2 if 2003 <= y <= 2011 else np.nan,
                    "emp_it_2011": base + 3 if y >= 2012 else np.nan,
                    "emp_sci_2011": base + 4 if y >= 2012 else np.nan,
                    "emp_total": 100.0,
                }
            )
    return Panel(pd.DataFrame(rows), unit="adcode", time="year")


def test_series_drop_default() -> None:
    out = sector_series(_vintage_panel())
    assert out.times.tolist() == [2003, 2011, 2012, 2013]
    assert out.variables == ["emp_total", "emp_it", "emp_sci"]
    assert out.to_wide("emp_it").loc["330100"].tolist() == [11.0, 11.0, 13.0, 13.0]
    assert out.to_wide("emp_sci").loc["330200"].tolist() == [7.0, 7.0, 9.0, 9.0]
    assert out.provenance[-1] == (
        "sector_series (crosswalk of GB/T 4754 vintages): emp_it = 信息传输、计算机服务和软件业 "
        "(GB/T 4754-2002 G, emp_it_2002) 2003–2011 + 信息传输、软件和信息技术服务业 "
        "(GB/T 4754-2011 I, emp_it_2011) 2012–2013; emp_sci = 科学研究、技术服务和地质勘查业 "
        "(GB/T 4754-2002 M, emp_sci_2002) 2003–2011 + 科学研究和技术服务业 (GB/T 4754-2011 M, "
        "emp_sci_2011) 2012–2013; break_2002='drop': 2 rows of years ≤ 2002 removed "
        "(GB/T 4754-1994 has no IT sector)"
    )


def test_series_sci_only_and_error() -> None:
    out = sector_series(_vintage_panel(), break_2002="sci_only", keep_sources=True)
    wide_it = out.to_wide("emp_it")
    assert np.isnan(wide_it.loc["330100", 2002])
    assert out.to_wide("emp_sci").loc["330100"].tolist() == [10.0, 12.0, 12.0, 14.0, 14.0]
    assert "emp_sci_1994" in out
    assert "emp_it = missing 2002 (no emp_it sector in GB/T 4754-1994)" in out.provenance[-1]
    assert "break_2002='sci_only': 2 rows ≤ 2002 keep emp_sci" in out.provenance[-1]
    with pytest.raises(DataError, match="no separate IT sector"):
        sector_series(_vintage_panel(), break_2002="error")
    with pytest.raises(SpecError):
        sector_series(_vintage_panel(), break_2002="keep")  # type: ignore[arg-type]


def test_series_errors() -> None:
    df = _vintage_panel().to_frame()
    df.loc[(df["year"] == 2013) & (df["adcode"] == "330100"), "emp_it_2002"] = 1.0
    with pytest.raises(DataError, match=r"'emp_it_2002'.*outside its years 2003–2011"):
        sector_series(Panel(df, unit="adcode", time="year"))
    df = _vintage_panel().to_frame().drop(columns="emp_it_2011")
    with pytest.raises(DataError, match="covers 2012–2013 but has no column 'emp_it_2011'"):
        sector_series(Panel(df, unit="adcode", time="year"))
    renamed = _vintage_panel().to_frame().rename(columns={"emp_it_2011": "it_new"})
    out = sector_series(
        Panel(renamed, unit="adcode", time="year"), columns={"emp_it_2011": "it_new"}
    )
    assert out.to_wide("emp_it").loc["330100", 2013] == 13.0


def test_from_yearbook_sheets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.title = "2011"
    ws.append(["城市", "信息传输、计算机服务和软件业", "科学研究、技术服务和地质勘查业"])
    ws.append(["杭州市", 5.1, 3.2])
    ws2 = wb.create_sheet("2012")
    ws2.append(["城市", "信息传输、软件和信息技术服务业", "科学研究和技术服务业"])
    ws2.append(["杭州市", 6.4, 3.9])
    path = tmp_path / "sectors.xlsx"
    wb.save(path)
    mapping = yearbook_mapping(years=[2011, 2012])
    panel = read_yearbook(path, mapping=mapping, layout="sheet_per_year")
    out = sector_series(panel)
    assert out.to_wide("emp_it").loc["330100"].tolist() == [5.1, 6.4]
    assert out.to_wide("emp_sci").loc["330100"].tolist() == [3.2, 3.9]
