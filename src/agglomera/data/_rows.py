"""Yearbook data rows: which rows to skip, and the numbers in the rest.

:func:`row_kind` classifies the rows that hold no city (blank rows, footnotes such as
注：… and 资料来源：…, sub-totals such as 全国 and 合计, region and province headings);
:func:`collect` turns the other rows of the mapped columns into long records, and
:func:`raise_bad_values` and :func:`check_duplicates` report cells that are not numbers
and cities that appear twice in one year.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from agglomera.data._cells import (
    blank,
    filled,
    first_text,
    grouped_number_re,
    normalise_label,
    number_re,
    whole_text,
    year_of,
)
from agglomera.data._headers import Table
from agglomera.errors import DataError

__all__ = ["check_duplicates", "collect", "raise_bad_values", "row_kind"]

_FOOTNOTE_RE = re.compile(r"^(注|资料来源|数据来源|来源|说明|备注|附注|note|notes|source)", re.I)
_SUBTOTAL_RE = re.compile(
    r"^(全国|合计|总计|小计|总体|全省|全区|其中|地级以上城市|全部城市)|(合计|总计|小计|平均)$"
)
_REGION_RE = re.compile(r"^(东部|中部|西部|东北|华东|华北|华中|华南|西南|西北)(地区)?$")
_PROVINCES = (
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
)
_PROVINCE_NAMES = frozenset(
    {"内蒙古", "广西", "西藏", "宁夏", "新疆", "广西自治区", "宁夏自治区", "新疆自治区"}
).union(_PROVINCES, (p.removesuffix("省") for p in _PROVINCES))


def row_kind(row: list[Any], city_col: int) -> str | None:
    """Return why a row holds no city data (``"footnote"``, ``"sub-total"``, …), else None."""
    label = row[city_col] if city_col < len(row) else None
    others = filled(row, skip=city_col)
    if blank(label):
        if not others:
            return "blank row"
        first = normalise_label(others[0])
        if _FOOTNOTE_RE.match(first):
            return "footnote"
        return "row without a city name"
    text = normalise_label(label)
    if _FOOTNOTE_RE.match(text):
        return "footnote"
    if _SUBTOTAL_RE.search(text) or _REGION_RE.match(text):
        return "sub-total"
    if text in _PROVINCE_NAMES:
        return "province total" if others else "province heading"
    if not others:
        return "heading without values"
    return None


def _parse_value(value: Any, na: set[str], thousands: str | None) -> tuple[float, bool]:
    if blank(value):
        return math.nan, True
    if isinstance(value, bool):
        return math.nan, False
    if isinstance(value, (int, float)):
        return float(value), True
    if isinstance(value, str):
        text = normalise_label(value)
        if text in na:
            return math.nan, True
        if number_re.match(text):
            return float(text), True
        if thousands is not None:
            stripped = text.replace(thousands, "")
            if number_re.match(stripped) and (
                thousands != "," or grouped_number_re(",").match(text)
            ):
                return float(stripped), True
    return math.nan, False


def collect(
    tables: list[Table],
    layout: str,
    na: set[str],
    thousands: str | None,
    years_wanted: set[int] | None,
) -> tuple[list[tuple[Any, ...]], list[str], list[tuple[str, Any]]]:
    """Return the records ``(city, year, variable, value, row)``, skipped rows and bad cells."""
    records: list[tuple[Any, ...]] = []
    skipped: list[str] = []
    bad: list[tuple[str, Any]] = []
    for t in tables:
        sh = t.sheet
        for r in range(t.header[1], len(sh.rows)):
            row = sh.rows[r]
            kind = row_kind(row, t.city_col)
            if kind is not None:
                if kind != "blank row":
                    shown = first_text(row)
                    shown = shown if len(shown) <= 30 else shown[:29] + "…"
                    skipped.append(f"{sh.row_ref(r)} {shown!r} ({kind})")
                else:
                    skipped.append(f"{sh.row_ref(r)} (blank row)")
                continue
            city = "".join(whole_text(row[t.city_col]).split())
            row_year = t.year
            if layout == "long":
                assert t.year_col is not None
                cell = row[t.year_col] if t.year_col < len(row) else None
                row_year = year_of(cell)
                if row_year is None:
                    raise DataError(
                        f"{sh.cell(r, t.year_col)} should hold a year but holds {cell!r}. "
                        "Fix: correct the cell, or pass year_column= if this is not the year "
                        "column."
                    )
            for c, (var, col_year) in t.chosen.items():
                y = col_year if layout == "years_as_columns" else row_year
                if y is None or (years_wanted is not None and y not in years_wanted):
                    continue
                cell = row[c] if c < len(row) else None
                value, ok = _parse_value(cell, na, thousands)
                if not ok:
                    bad.append((sh.cell(r, c), cell))
                records.append((city, y, var, value, sh.row_ref(r)))
    return records, skipped, bad


def raise_bad_values(bad: list[tuple[str, Any]], file: Path, thousands: str | None) -> None:
    """Raise a :class:`DataError` naming the first cells that are not numbers."""
    shown = "; ".join(f"{where}: {value!r}" for where, value in bad[:5])
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    grouped = any(
        isinstance(v, str) and grouped_number_re(",").match(normalise_label(v)) for _, v in bad
    )
    fixes = []
    if grouped and thousands is None:
        fixes.append("pass thousands=',' to read numbers such as '1,234'")
    fixes.append("add placeholders to na_values=[...] (they become missing values)")
    fixes.append("or correct the cells")
    raise DataError(
        f"{str(file)!r}: {len(bad)} mapped cells are not numbers: {shown}{more}. Fix: "
        + ", ".join(fixes)
        + "."
    )


def check_duplicates(long: pd.DataFrame, file: Path, unit: str) -> None:
    """Raise a :class:`DataError` if a unit appears twice for a year and variable."""
    dup = long.duplicated(["unit", "year", "variable"], keep=False)
    if not dup.any():
        return
    rows = long.loc[dup]
    first = rows.iloc[0]
    same = rows[(rows["unit"] == first["unit"]) & (rows["year"] == first["year"])]
    same = same.drop_duplicates("ref")
    places = ", ".join(
        f"{ref} ({city!r})" for city, ref in zip(same["city"], same["ref"], strict=True)
    )
    others = rows.drop_duplicates(["unit", "year"])
    more = f" ({len(others) - 1} more city-years are duplicated)" if len(others) > 1 else ""
    code = f" ({unit} {first['unit']!r})" if first["unit"] != first["city"] else ""
    raise DataError(
        f"{str(file)!r}: city {first['city']!r}{code} appears more than "
        f"once for {int(first['year'])}: {places}{more}. Fix: delete the duplicate row, or keep "
        "one of two names that denote the same city."
    )
