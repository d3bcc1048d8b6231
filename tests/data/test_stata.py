"""Stata .dta (with variable labels) and Excel round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.data import read
from agglomera.data.stata import read_dta, stata_name, write_dta, write_xlsx
from agglomera.errors import DataError, SpecError


def _panel() -> Panel:
    df = pd.DataFrame(
        {
            "adcode": ["330100", "330100", "320100"],
            "year": [2018, 2019, 2018],
            "emp": [322.2, 345.6, np.nan],
            "name": ["杭州", "杭州", "南京"],
        }
    )
    return Panel(df, unit="adcode", time="year", provenance=["read: test", "log: none"])


def test_dta_round_trip_with_labels(tmp_path: Path) -> None:
    path = tmp_path / "panel.dta"
    labels = {"emp": "年末单位从业人员数（万人）", "adcode": "行政区划代码"}
    write_dta(_panel(), path, labels=labels)
    back = read_dta(path)
    assert back.attrs["labels"] == labels
    assert back.attrs["data_label"] == "agglomera panel: unit=adcode, time=year"
    expected = _panel().to_frame()
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    # read-modify-write keeps the labels without passing them again
    back["emp2"] = back["emp"] * 2
    write_dta(back, tmp_path / "again.dta", labels={"emp2": "twice"})
    again = read_dta(tmp_path / "again.dta")
    assert again.attrs["labels"] == {**labels, "emp2": "twice"}


def test_dta_invalid_names_named_with_suggestions(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {"从业人员": [1.0], "2018gdp": [2.0], "a" * 40: [3.0], "ok_name": [4.0], "in": [5.0]}
    )
    with pytest.raises(DataError) as info:
        write_dta(df, tmp_path / "x.dta")
    msg = str(info.value)
    assert "4 column name(s) are not valid Stata names" in msg
    assert "'从业人员' → 'var'" in msg
    assert "'2018gdp' → '_2018gdp'" in msg
    assert f"'{'a' * 40}' → '{'a' * 32}'" in msg
    assert "'in' → 'in_'" in msg
    assert "ok_name" not in msg
    write_dta(
        df,
        tmp_path / "x.dta",
        rename={"从业人员": "emp", "2018gdp": "gdp2018", "a" * 40: "a", "in": "in_"},
    )
    back = read_dta(tmp_path / "x.dta")
    assert list(back.columns) == ["emp", "gdp2018", "a", "ok_name", "in_"]
    assert back.attrs["labels"]["emp"] == "从业人员"


def test_dta_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="80 characters"):
        write_dta(pd.DataFrame({"x": [1]}), tmp_path / "x.dta", labels={"x": "l" * 81})
    with pytest.raises(DataError, match="not in the data"):
        write_dta(pd.DataFrame({"x": [1]}), tmp_path / "x.dta", labels={"y": "l"})
    with pytest.raises(SpecError, match=r"\.dta"):
        write_dta(pd.DataFrame({"x": [1]}), tmp_path / "x.csv")
    bad = tmp_path / "bad.dta"
    bad.write_bytes(b"not a stata file at all")
    with pytest.raises(DataError, match="could not be read as a Stata"):
        read_dta(bad)


def test_stata_name_unique() -> None:
    assert stata_name("gdp per capita") == "gdp_per_capita"
    assert stata_name("x", {"x"}) == "x_1"


def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "panel.xlsx"
    write_xlsx(_panel(), path, labels={"emp": "从业人员（万人）"})
    back = read(path, sheet="data")
    pd.testing.assert_frame_equal(back, _panel().to_frame(), check_dtype=False)
    assert back["adcode"].tolist() == ["320100", "330100", "330100"]
    prov = read(path, sheet="provenance")
    assert prov["provenance"].tolist() == ["read: test", "log: none"]
    lab = read(path, sheet="labels")
    assert lab.to_dict("records") == [{"variable": "emp", "label": "从业人员（万人）"}]
    with pytest.raises(SpecError, match="sheet name"):
        write_xlsx(_panel(), path, sheet="a/b")
