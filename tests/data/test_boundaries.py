"""Constant-boundary harmonisation on a synthetic panel with 巢湖, 莱芜 and 毕节地区."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.data.boundaries import harmonise_boundaries
from agglomera.errors import DataError, SpecError

YEARS = [2009, 2010, 2011, 2018, 2019]


def _panel() -> Panel:
    rows = []
    # 济南 370100 and 莱芜 371200 (merged 2019: no 莱芜 row in 2019)
    for y in YEARS:
        rows.append(("370100", y, 100.0 + y - 2009, 10.0))
        if y <= 2018:
            rows.append(("371200", y, 20.0, 1.0))
    # 合肥/芜湖/马鞍山 and 巢湖 341400 (split 2011)
    for y in YEARS:
        rows.append(("340100", y, 200.0, 30.0))
        rows.append(("340200", y, 80.0, 4.0))
        rows.append(("340500", y, 50.0, 2.0))
        if y <= 2010:
            rows.append(("341400", y, 40.0, 2.0))
    # 毕节地区 522400 until 2010, 毕节市 520500 from 2011 (rename)
    for y in YEARS:
        rows.append(("522400" if y <= 2010 else "520500", y, 60.0 + y - 2009, 3.0))
    df = pd.DataFrame(rows, columns=["adcode", "year", "emp_total", "emp_hi"])
    df["share_hi"] = df["emp_hi"] / df["emp_total"]
    return Panel(df, unit="adcode", time="year", provenance=["synthetic"])


AGG = {"emp_total": "sum", "emp_hi": "sum", "share_hi": "recompute"}


def test_default_rule_folds_laiwu_drops_chaohu_rekeys_bijie() -> None:
    res = harmonise_boundaries(_panel(), aggregate=AGG)
    out = res.panel.to_frame().set_index(["adcode", "year"])
    assert sorted(res.panel.units) == ["340100", "340200", "340500", "370100", "520500"]
    # 济南 before 2019 = 济南 + 莱芜; 2019 unchanged
    assert out.loc[("370100", 2009), "emp_total"] == 120.0
    assert out.loc[("370100", 2018), "emp_total"] == 109.0 + 20.0
    assert out.loc[("370100", 2018), "emp_hi"] == 11.0
    assert out.loc[("370100", 2019), "emp_total"] == 110.0
    # ratio recomputed → missing in the 4 folded rows, untouched elsewhere
    assert out.loc[("370100", 2010), "share_hi"] != out.loc[("370100", 2010), "share_hi"]
    assert out.loc[("370100", 2019), "share_hi"] == pytest.approx(10.0 / 110.0)
    # 巢湖 dropped, 合肥 untouched
    assert out.loc[("340100", 2009), "emp_total"] == 200.0
    # 毕节 re-keyed: one unit, 5 years, values kept
    assert out.loc["520500", "emp_total"].tolist() == [60.0, 61.0, 62.0, 69.0, 70.0]
    ch = res.changes.set_index("unit_from")
    assert ch.loc["371200", "action"] == "folded"
    assert ch.loc["371200", "rows"] == 4
    assert ch.loc["341400", "action"] == "dropped"
    assert ch.loc["341400", "rows"] == 2
    assert ch.loc["522400", "action"] == "rekeyed"
    assert ch.loc["522400", "unit_to"] == "520500"
    note = res.panel.provenance[-1]
    assert res.panel.provenance[0] == "synthetic"
    assert note.startswith("harmonise_boundaries(rule='successor', years 2009–2019")
    assert "371200 莱芜市 → 370100 济南市 folded (merge, 4 rows 2009–2018" in note
    assert (
        "341400 巢湖市 dropped (split, 2 rows 2009–2010: split among 340100/340200/340500" in note
    )
    assert "522400 毕节地区 → 520500 毕节市 rekeyed (rename" in note
    assert "4 folded unit-years (emp_total sum, emp_hi sum, share_hi recompute)" in note


def test_split_shares_and_callable_recompute() -> None:
    shares = {"341400": {"340100": 0.5, "340200": 0.25, "340500": 0.25}}
    agg = {**AGG, "share_hi": lambda f: f["emp_hi"] / f["emp_total"]}
    res = harmonise_boundaries(_panel(), rule=shares, aggregate=agg)
    out = res.panel.to_frame().set_index(["adcode", "year"])
    assert out.loc[("340100", 2010), "emp_total"] == 220.0
    assert out.loc[("340200", 2010), "emp_total"] == 90.0
    assert out.loc[("340500", 2009), "emp_hi"] == 2.5
    assert out.loc[("340100", 2011), "emp_total"] == 200.0
    assert out.loc[("340100", 2010), "share_hi"] == pytest.approx(31.0 / 220.0)
    assert out.loc[("370100", 2009), "share_hi"] == pytest.approx(11.0 / 120.0)
    assert res.changes.set_index("unit_from").loc["341400", "action"] == "shared"


def test_assign_split_to_one_city_warns() -> None:
    with pytest.warns(UserWarning, match="split among 340100/340200/340500"):
        res = harmonise_boundaries(_panel(), rule={"341400": "340100"}, aggregate=AGG)
    out = res.panel.to_frame().set_index(["adcode", "year"])
    assert out.loc[("340100", 2009), "emp_total"] == 240.0
    assert "assigned" in res.panel.provenance[-1]


def test_drop_rule_drops_merged_units() -> None:
    res = harmonise_boundaries(_panel(), rule="drop")
    assert "371200" not in set(res.panel.units)
    out = res.panel.to_frame().set_index(["adcode", "year"])
    assert out.loc[("370100", 2009), "emp_total"] == 100.0
    assert "370100 has a boundary break in 2019" in res.panel.provenance[-1]
    assert "520500" in set(res.panel.units)  # renames are re-keyed under every rule
    assert "341400" not in set(res.panel.units)


def test_sample_ending_before_merge_keeps_units() -> None:
    res = harmonise_boundaries(_panel(), years=[2009, 2010])
    assert {"341400", "371200"} <= set(res.panel.units)
    assert "520500" in set(res.panel.units)  # renames always re-keyed
    dropped = res.changes[res.changes["unit_from"] == ""]
    assert dropped["rows"].tolist() == [3 + 2 + 9 + 3]  # 2011, 2018, 2019 rows


def test_incomplete_member_gives_missing_sum() -> None:
    df = _panel().to_frame()
    df = df[~((df["adcode"] == "371200") & (df["year"] == 2010))]
    res = harmonise_boundaries(Panel(df, unit="adcode", time="year"), aggregate=AGG)
    out = res.panel.to_frame().set_index(["adcode", "year"])
    assert np.isnan(out.loc[("370100", 2010), "emp_total"])
    assert "1 with a missing member → sums missing" in res.panel.provenance[-1]


def test_errors() -> None:
    with pytest.raises(SpecError, match="none for 'share_hi'"):
        harmonise_boundaries(_panel(), aggregate={"emp_total": "sum", "emp_hi": "sum"})
    with pytest.raises(SpecError, match="not allowed"):
        harmonise_boundaries(_panel(), aggregate={**AGG, "share_hi": "mean"})
    bad = _panel().to_frame()
    bad.loc[0, "adcode"] = "999900"
    with pytest.raises(DataError, match="'999900'"):
        harmonise_boundaries(Panel(bad, unit="adcode", time="year"), aggregate=AGG)
    clash = _panel().to_frame()
    extra = clash[clash["adcode"] == "522400"].assign(adcode="520500")
    with pytest.raises(DataError, match="522400→520500 in 2009"):
        harmonise_boundaries(
            Panel(pd.concat([clash, extra]), unit="adcode", time="year"), aggregate=AGG
        )
    with pytest.raises(DataError, match="sum to 1"):
        harmonise_boundaries(_panel(), rule={"341400": {"340100": 0.5}}, aggregate=AGG)
    with pytest.raises(SpecError, match="not a retired code"):
        harmonise_boundaries(_panel(), rule={"330100": "drop"})
    with pytest.raises(SpecError, match="was merged into 370100"):
        harmonise_boundaries(_panel(), rule={"371200": "340100"}, aggregate=AGG)


def test_integer_codes_are_converted_and_recorded() -> None:
    df = _panel().to_frame()
    df["adcode"] = df["adcode"].astype(int)
    res = harmonise_boundaries(Panel(df, unit="adcode", time="year"), aggregate=AGG)
    assert all(isinstance(u, str) for u in res.panel.units)
    assert "converted to 6-character adcode strings" in res.panel.provenance[-1]


def test_yearbook_to_constant_boundaries_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    from agglomera.data import read_yearbook
    from agglomera.data.crosswalk import sector_series, yearbook_mapping

    sheets = {
        2010: (
            "信息传输、计算机服务和软件业",
            "科学研究、技术服务和地质勘查业",
            [("济南市", 160.4, 4.0, 4.4), ("莱芜市", 20.6, 0.2, 0.3), ("巢湖市", 28.0, 0.3, 0.2),
             ("合肥市", 150.2, 3.1, 5.2), ("毕节地区", 22.5, 0.4, 0.3)],
        ),
        2019: (
            "信息传输、软件和信息技术服务业",
            "科学研究和技术服务业",
            [("济南市", 215.3, 9.6, 7.7), ("合肥市", 190.7, 6.9, 8.8), ("毕节市", 35.1, 0.8, 0.5)],
        ),
    }  # fmt: skip
    wb = Workbook()
    for i, (year, (it, sci, rows)) in enumerate(sheets.items()):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = f"{year}年"
        ws.append(["城市", "全市", None, None, "市辖区", None, None])
        ws.append([None, "年末单位从业人员数", it, sci, "年末单位从业人员数", it, sci])
        ws.merge_cells("B1:D1")
        ws.merge_cells("E1:G1")
        ws.append(["全国", 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
        for row in rows:
            ws.append([*row, 0.0, 0.0, 0.0])
    path = tmp_path / "yearbook.xlsx"
    wb.save(path)
    mapping = {"年末单位从业人员数": "emp_total", **yearbook_mapping(years=[2010, 2019])}
    panel = read_yearbook(path, mapping=mapping, layout="sheet_per_year", scope="全市")
    panel = sector_series(panel)
    res = harmonise_boundaries(
        panel, aggregate={"emp_total": "sum", "emp_it": "sum", "emp_sci": "sum"}
    )
    out = res.panel.to_frame().set_index(["adcode", "year"])
    assert sorted(res.panel.units) == ["340100", "370100", "520500"]
    assert out.loc[("370100", 2010), "emp_total"] == pytest.approx(181.0)
    assert out.loc[("370100", 2010), "emp_it"] == pytest.approx(4.2)
    assert out.loc[("370100", 2019), "emp_sci"] == 7.7
    assert out.loc[("520500", 2010), "emp_total"] == 22.5
    assert "scope: 全市" in res.panel.provenance
    assert res.changes["action"].tolist() == ["dropped", "folded", "rekeyed"]


def test_units_created_during_the_sample_are_listed() -> None:
    df = pd.DataFrame(
        {
            "adcode": ["460100", "460100", "460300", "460400"],
            "year": [2010, 2015, 2015, 2015],
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    res = harmonise_boundaries(Panel(df, unit="adcode", time="year"))
    ch = res.changes.set_index("unit_from")
    assert ch.loc["460300", "note"] == "unit created in 2012: no rows before (unbalanced)"
    assert ch.loc["460400", "note"] == (
        "code in use from 2015; earlier years would carry 469003 儋州市 (not in the panel)"
    )
    assert res.panel.to_frame()["x"].tolist() == [1.0, 2.0, 3.0, 4.0]
