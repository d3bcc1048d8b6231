"""Turn yearbook-style tables (China City Statistical Yearbook and the like) into a Panel.

Yearbook tables are wide, have merged multi-row headers, section headings (province
names), sub-total rows (全国, 合计) and footnotes (注：…, 资料来源：…). :func:`read_yearbook`
reads them into a long :class:`~agglomera.data.Panel` keyed by city (``adcode``) and
``year``, and records in the panel's provenance every choice it made and every row it
skipped.

Labels of merged multi-row headers are the header parts joined with ``"/"`` after
forward-filling merged cells (year and 全市/市辖区 parts are taken out); the header rows are
detected as the rows above the first row with a city name and a number. The full rules,
with examples, are in ``docs/data.md`` ("Bringing real yearbook data") and in the notes of
:func:`read_yearbook`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from agglomera.data.panel import Panel
from agglomera.data.readers import CellGrid, column_letter, read_grids, resolve_path
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["DEFAULT_NA_VALUES", "LAYOUTS", "normalise_label", "read_yearbook"]

LAYOUTS: tuple[str, ...] = ("years_as_columns", "sheet_per_year", "long")
DEFAULT_NA_VALUES: tuple[str, ...] = ("—", "-", "–", "…", "..", "")
SCOPES: tuple[str, ...] = ("全市", "市辖区")

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_YEAR_TEXT_RE = re.compile(r"^((?:19|20)\d{2})(年|年度|年末|年底)?$")
_YEAR_IN_NAME_RE = re.compile(r"(?<!\d)(19[4-9]\d|20\d{2})(?!\d)")
_TITLE_PREFIX_RE = re.compile(r"^表[0-9A-Za-z.\-—–]+")
_FOOTNOTE_RE = re.compile(r"^(注|资料来源|数据来源|来源|说明|备注|附注|note|notes|source)", re.I)
_SUBTOTAL_RE = re.compile(
    r"^(全国|合计|总计|小计|总体|全省|全区|其中|地级以上城市|全部城市)|(合计|总计|小计|平均)$"
)
_REGION_RE = re.compile(r"^(东部|中部|西部|东北|华东|华北|华中|华南|西南|西北)(地区)?$")
_HEADER_WORDS = frozenset(
    {
        "城市", "地区", "市", "地市", "城市名", "城市名称", "地区名称", "名称", "地级市",
        "序号", "编号", "代码", "行政区划代码", "区划代码", "城市代码", "年份", "年度", "年",
        "指标", "项目", "单位", "省份", "省", "省区市", "city", "cities", "region", "name",
        "area", "prefecture", "adcode", "code", "year", "no", "no.", "id",
    }
)
_CODE_WORDS = frozenset({"adcode", "行政区划代码", "区划代码", "城市代码", "代码", "code"})
_NAME_WORDS = frozenset(
    {"城市", "地区", "城市名", "城市名称", "地区名称", "名称", "地级市", "市", "地市", "city",
     "cities", "region", "name", "prefecture"}
)
_YEAR_WORDS = frozenset({"year", "年份", "年度", "年", "时间", "统计年度"})
_PROVINCES = (
    "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省",
    "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区",
    "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区",
)
_PROVINCE_NAMES = frozenset(
    [*_PROVINCES, *(p.removesuffix("省") for p in _PROVINCES), "内蒙古", "广西", "西藏",
     "宁夏", "新疆", "广西自治区", "宁夏自治区", "新疆自治区"]
)


# ---------------------------------------------------------------------- small helpers
def normalise_label(text: Any) -> str:
    r"""Normalise a header label or mapping key for matching.

    Full-width ASCII characters (``（）／，：`` and full-width letters and digits) become
    their half-width forms and all whitespace (including the full-width space ``U+3000``
    and line breaks inside Excel cells) is removed. Numbers that are whole (``2018.0``)
    print without the decimal part.

    Parameters
    ----------
    text : Any
        A header cell, sheet name or mapping key.

    Returns
    -------
    str

    Examples
    --------
    >>> normalise_label(" 年末单位从业人员数（万人）")
    '年末单位从业人员数(万人)'
    >>> normalise_label("信息传输、计算机\n服务和软件业 / 从业人员")
    '信息传输、计算机服务和软件业/从业人员'
    """
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return "".join(str(text).translate(_FULLWIDTH).split())


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        text = normalise_label(value)
        return bool(_NUMBER_RE.match(text) or _GROUPED_RE.match(text))
    return False


def _year_of(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return None
        year = int(value)
        return year if 1949 <= year <= 2100 else None
    if isinstance(value, str):
        match = _YEAR_TEXT_RE.match(normalise_label(value))
        return int(match.group(1)) if match else None
    return None


def _city_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "".join(str(value).split())


def _is_header_word(text: str) -> bool:
    low = text.lower()
    if low in _HEADER_WORDS:
        return True
    parts = [p for p in re.split(r"[\\/＼|]", low) if p]
    return len(parts) > 1 and any(p in _HEADER_WORDS for p in parts)


# ---------------------------------------------------------------------- data structures
@dataclass
class _Column:
    index: int
    label: str
    year: int | None
    scope: str | None
    names: tuple[str, ...]


@dataclass
class _Table:
    sheet: CellGrid
    header: tuple[int, int]
    auto: bool
    titles: list[str]
    city_col: int
    columns: list[_Column]
    year: int | None = None
    year_col: int | None = None
    chosen: dict[int, tuple[str, int | None]] = field(default_factory=dict)


# ---------------------------------------------------------------------- public function
def read_yearbook(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str],
    unit: str = "adcode",
    layout: str = "years_as_columns",
    year: int | Sequence[int] | None = None,
    header_rows: int | None = None,
    harmonise: bool = True,
    province: str | None = None,
    sheet: str | int | Sequence[str | int] | None = None,
    encoding: str | None = None,
    na_values: Sequence[str] | None = DEFAULT_NA_VALUES,
    scope: str | None = None,
    thousands: str | None = None,
    city_column: str | int | None = None,
    year_column: str | int | None = None,
) -> Panel:
    r"""Read a yearbook-style table (XLSX, CSV/TSV/TXT or Parquet) into a long Panel.

    Parameters
    ----------
    path : str or path-like
        The file.
    mapping : mapping of str to str
        Source column label → variable name, e.g.
        ``{"年末单位从业人员数(万人)": "employment"}``. Labels are compared after
        :func:`normalise_label` (full-width brackets and spaces do not matter). For
        multi-row headers the label is the header parts joined by ``"/"`` without the
        year and scope parts (see the module notes), e.g.
        ``"信息传输、计算机服务和软件业/从业人员"``. A single-variable sheet with years as
        column headers is matched by its sheet name or title. Several labels may map to
        the same variable (a label renamed between yearbook editions). Columns that are
        not mapped are ignored and listed in the provenance.
    unit : str, default "adcode"
        Name of the unit column of the result.
    layout : {"years_as_columns", "sheet_per_year", "long"}
        ``"years_as_columns"``: rows are cities, each variable has one column per year
        (years as sub-headers under a merged variable label, or one variable per sheet
        with years as the column headers). ``"sheet_per_year"``: one sheet per year,
        named by the year (``"2018"``, ``"2018年"``), rows are cities and columns are
        variables; a single-year CSV or sheet takes its year from ``year=`` or the file
        name. ``"long"``: one row per city and year with a year column.
    year : int or sequence of int, optional
        Years to keep (others are skipped and recorded). For ``"sheet_per_year"`` a
        single int is the year of a table whose sheet or file name carries no year.
    header_rows : int, optional
        Number of header rows, counted from the first row with two or more filled cells
        (title rows above are never header rows). Detected by default.
    harmonise : bool, default True
        Turn city names into 6-character adcodes with
        :func:`agglomera.data.harmonise_cities`. With ``False`` the unit column holds
        the names as printed (whitespace removed). Labels that are already 6-digit
        codes are used as they are.
    province : str, optional
        Passed to :func:`agglomera.data.harmonise_cities` to resolve ambiguous names.
    sheet : str, int or sequence of them, optional
        Excel sheets to read (names or 0-based indices). Default: every sheet; for
        ``"sheet_per_year"`` every sheet named by a year. Sheets that hold none of the
        mapped labels are skipped and recorded.
    encoding : str, optional
        Text files only; default: detected (UTF-8 with or without BOM, then GB18030).
    na_values : sequence of str, default ("—", "-", "–", "…", "..", "")
        Cell texts that mean "not available"; they become missing values.
    scope : {"全市", "市辖区"}, optional
        Which column group to use when a variable is given for the whole city (全市) and
        for the city proper (市辖区). Required when both groups are present.
    thousands : str, optional
        Thousands separator to remove from numbers (``","`` reads ``"1,234"`` as 1234).
        By default such values are an error.
    city_column : str or int, optional
        The column holding city names or codes (label or 0-based index). Default: the
        first column labelled like a code (adcode, 行政区划代码), else like a name (城市,
        地区, …), else the first column.
    year_column : str or int, optional
        ``"long"`` only: the year column. Default: the column labelled year, 年份, 年度, 年.

    Returns
    -------
    Panel
        Unit ``unit`` (adcodes, or names with ``harmonise=False``), time ``"year"``, one
        column per variable in ``mapping`` order. ``panel.provenance`` records the file,
        sheets, encoding, layout, header rows, mapping, unmapped columns, skipped rows,
        scope and thousands separator.

    Raises
    ------
    DataError
        If the file cannot be read, a mapped label is not in the file (the available
        labels and close matches are listed), both 全市 and 市辖区 groups are present and
        ``scope`` is not given, the header cannot be detected, a value is not a number
        (the cell is named), or a city appears twice in one year (the rows are named).
    SpecError
        For invalid arguments (unknown layout, empty mapping, …).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from agglomera.data import read_yearbook
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> text = ("城市,年末单位从业人员数(万人),\n,2018,2019\n全国,17258,17162\n"
    ...         "杭州市,322.2,345.6\n宁波市,180.5,—\n注：不含私营单位。\n")
    >>> _ = (folder / "employment.csv").write_bytes(text.encode("gbk"))
    >>> panel = read_yearbook(folder / "employment.csv",
    ...                       mapping={"年末单位从业人员数（万人）": "employment"},
    ...                       harmonise=False)
    >>> panel.to_wide("employment").loc[["杭州市", "宁波市"]].values.tolist()
    [[322.2, 345.6], [180.5, nan]]
    """
    file = resolve_path(path)
    keys = _check_arguments(mapping, unit, layout, scope, thousands, header_rows)
    years_wanted = _years_wanted(year)
    na = {normalise_label(v) for v in (na_values or ())}
    sheets, encoding_used, kind = read_grids(file, sheet=sheet, encoding=encoding)
    notes: list[str] = []
    skipped_sheets: list[str] = []
    tables: list[_Table] = []
    explicit = sheet is not None or len(sheets) == 1
    for sh in sheets:
        sheet_year: int | None = None
        if layout == "sheet_per_year":
            sheet_year = _sheet_year(sh, file, year, len(sheets), notes)
            if sheet_year is None:
                skipped_sheets.append(f"{sh.where} (its name holds no year)")
                continue
            if years_wanted is not None and sheet_year not in years_wanted:
                skipped_sheets.append(f"{sh.where} (year {sheet_year} not requested)")
                continue
        try:
            table = _parse_table(sh, header_rows, city_column, layout, year_column, na)
        except DataError as exc:
            if explicit or sheet_year is not None:
                raise
            skipped_sheets.append(f"{sh.where} (not a table: {str(exc).split('. Fix')[0]})")
            continue
        table.year = sheet_year
        tables.append(table)
    if not tables:
        raise DataError(
            f"no table to read in {str(file)!r} with layout={layout!r}: "
            + "; ".join(skipped_sheets)
            + ". Fix: pass sheet=... (and year=... for a single-year table) or another layout."
        )
    _resolve_mapping(tables, keys, layout, scope, file, notes)
    used = [t for t in tables if t.chosen]
    for t in tables:
        if not t.chosen:
            skipped_sheets.append(f"{t.sheet.where} (none of the mapped labels)")
    records, skipped_rows, bad = _collect(used, layout, na, thousands, years_wanted)
    if bad:
        _raise_bad_values(bad, file, thousands)
    variables = list(dict.fromkeys(keys.values()))
    if not records:
        raise DataError(
            f"no city rows with data found in {str(file)!r} for the mapped labels. "
            f"Skipped rows: {format_examples(skipped_rows)}. Fix: check header_rows= and "
            "city_column=."
        )
    long = pd.DataFrame(records, columns=["city", "year", "variable", "value", "ref"])
    long["unit"] = _units(long["city"], harmonise, province, file, notes)
    _check_duplicates(long, file, unit)
    wide = long.pivot(index=["unit", "year"], columns="variable", values="value")
    wide = wide.reindex(columns=[v for v in variables if v in wide.columns])
    for v in variables:
        if v not in wide.columns:
            wide[v] = math.nan
    frame = wide.reset_index().rename(columns={"unit": unit})
    frame.columns.name = None
    frame = frame[[unit, "year", *variables]]
    frame["year"] = frame["year"].astype("int64")
    provenance = _provenance(
        file=file, kind=kind, encoding=encoding_used, layout=layout, used=used,
        scope=scope, thousands=thousands, skipped_sheets=skipped_sheets,
        skipped_rows=skipped_rows, notes=notes, unmapped=_unmapped(used), mapping=mapping,
    )
    try:
        return Panel(frame, unit=unit, time="year", numeric=variables, provenance=provenance)
    except DataError as exc:
        raise DataError(f"{str(file)!r}: {exc}") from None


# ---------------------------------------------------------------------- arguments
def _check_arguments(
    mapping: Any,
    unit: Any,
    layout: Any,
    scope: Any,
    thousands: Any,
    header_rows: Any,
) -> dict[str, str]:
    if layout not in LAYOUTS:
        raise SpecError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}; got {layout!r}.")
    if not isinstance(mapping, Mapping) or not mapping:
        raise SpecError(
            "mapping must be a non-empty dict of source column label → variable name, e.g. "
            "{'年末单位从业人员数(万人)': 'employment'}."
        )
    if not isinstance(unit, str) or not unit or unit == "year":
        raise SpecError(f"unit must be a column name other than 'year'; got {unit!r}.")
    keys: dict[str, str] = {}
    originals: dict[str, str] = {}
    for label, var in mapping.items():
        if not isinstance(var, str) or not var.strip():
            raise SpecError(f"mapping[{label!r}] must be a variable name (str); got {var!r}.")
        if var in (unit, "year"):
            raise SpecError(
                f"mapping[{label!r}] = {var!r} clashes with the key columns ({unit!r}, 'year'). "
                "Fix: choose another variable name."
            )
        norm = normalise_label(label)
        if not norm:
            raise SpecError(f"mapping has an empty source label {label!r}.")
        if norm in keys and keys[norm] != var:
            raise SpecError(
                f"mapping labels {originals[norm]!r} and {label!r} are the same after "
                f"normalisation ({norm!r}) but map to {keys[norm]!r} and {var!r}."
            )
        keys[norm] = var
        originals[norm] = str(label)
    if scope is not None and scope not in SCOPES:
        raise SpecError(f"scope must be '全市', '市辖区' or None; got {scope!r}.")
    if thousands is not None and (not isinstance(thousands, str) or len(thousands) != 1):
        raise SpecError(f"thousands must be one character such as ','; got {thousands!r}.")
    if header_rows is not None and (
        not isinstance(header_rows, int) or isinstance(header_rows, bool) or header_rows < 1
    ):
        raise SpecError(f"header_rows must be a positive int or None; got {header_rows!r}.")
    return keys


def _years_wanted(year: Any) -> set[int] | None:
    if year is None:
        return None
    values = [year] if isinstance(year, (int, str)) else list(year)
    out = set()
    for v in values:
        y = _year_of(v)
        if y is None:
            raise SpecError(f"year must be a year such as 2018 or a list of years; got {year!r}.")
        out.add(y)
    return out


# ---------------------------------------------------------------------- loading
def _sheet_year(sh: CellGrid, file: Path, year: Any, n_sheets: int, notes: list[str]) -> int | None:
    if sh.name is not None:
        found = set(_YEAR_IN_NAME_RE.findall(normalise_label(sh.name)))
        if len(found) == 1:
            return int(found.pop())
    if isinstance(year, int) and n_sheets == 1:
        notes.append(f"year {year} of {sh.where} given by year=")
        return year
    if sh.name is None:
        found = set(_YEAR_IN_NAME_RE.findall(normalise_label(file.stem)))
        if len(found) == 1:
            y = int(found.pop())
            notes.append(f"year {y} of {sh.where} taken from the file name")
            return y
        raise DataError(
            f"layout='sheet_per_year' needs the year of {str(file)!r}, but the file name "
            "holds no single year. Fix: pass year=2018 (the year of the table)."
        )
    return None


# ---------------------------------------------------------------------- table structure
def _filled(row: list[Any], skip: int | None = None) -> int:
    return sum(1 for j, v in enumerate(row) if j != skip and not _blank(v))


def _is_data_row(row: list[Any], label_col: int, na: set[str]) -> bool:
    if label_col >= len(row) or _blank(row[label_col]):
        return False
    if _is_header_word(normalise_label(row[label_col])):
        return False
    values = [v for j, v in enumerate(row) if j != label_col and not _blank(v)]
    if not any(_is_number(v) or normalise_label(v) in na for v in values):
        return False
    years = [_year_of(v) for v in values]
    is_year_row = len(values) >= 2 and all(y is not None for y in years)
    return not (is_year_row and len(set(years)) == len(years))


def _parse_table(
    sh: CellGrid,
    header_rows: int | None,
    city_column: str | int | None,
    layout: str,
    year_column: str | int | None,
    na: set[str],
) -> _Table:
    rows = sh.rows
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise DataError(f"{sh.where} is empty. Fix: choose another sheet.")
    label_col = city_column if isinstance(city_column, int) else 0
    start = 0
    titles: list[str] = []
    while start < len(rows) and _filled(rows[start]) <= 1:
        text = next((str(v).strip() for v in rows[start] if not _blank(v)), "")
        if text:
            titles.append(text)
        start += 1
    if start == len(rows):
        raise DataError(f"{sh.where} has no table (no row with two or more filled cells).")
    if header_rows is not None:
        stop = start + header_rows
        if stop >= len(rows):
            raise DataError(
                f"{sh.where}: header_rows={header_rows} leaves no data rows. Fix: lower it."
            )
        auto = False
    else:
        candidates = range(start, len(rows))
        data = next((r for r in candidates if _is_data_row(rows[r], label_col, na)), None)
        if data is None:
            raise DataError(
                f"{sh.where}: cannot find where the header ends (no row with a city name and "
                "numbers). Fix: pass header_rows=N and, if the city names are not in the "
                "first column, city_column=..."
            )
        stop = data
        while stop - 1 > start and _filled(rows[stop - 1], skip=label_col) == 0:
            stop -= 1
        if stop == start:
            raise DataError(
                f"{sh.where}: the first row with two or more filled cells "
                f"({sh.row_ref(start)}) already looks like data, so there is no header. "
                "Fix: pass header_rows=N (the number of header rows)."
            )
        auto = True
    grid = _header_grid(sh, start, stop, label_col)
    width = max(len(r) for r in rows)
    columns = []
    title_names = [normalise_label(t) for t in titles]
    title_names += [_TITLE_PREFIX_RE.sub("", t) for t in title_names]
    for c in range(width):
        raw_parts = [grid[i][c] if c < len(grid[i]) else None for i in range(len(grid))]
        columns.append(_column(c, raw_parts, title_names, sh.name))
    city = _find_column(columns, city_column, _CODE_WORDS, _NAME_WORDS, sh, "city_column")
    table = _Table(sh, (start, stop), auto, titles, city, columns)
    if layout == "long":
        table.year_col = _find_year_column(columns, year_column, sh, city)
    return table


def _header_grid(sh: CellGrid, start: int, stop: int, label_col: int) -> list[list[Any]]:
    width = max(len(r) for r in sh.rows)
    grid = [list(sh.rows[r]) + [None] * (width - len(sh.rows[r])) for r in range(start, stop)]
    horizontal = False
    for r0, c0, r1, c1 in sh.merges:
        if r1 < start or r0 >= stop:
            continue
        value = sh.rows[r0][c0] if c0 < len(sh.rows[r0]) else None
        horizontal = horizontal or c1 > c0
        for r in range(max(r0, start), min(r1, stop - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                grid[r - start][c] = value
    if horizontal:
        return grid
    for i in range(len(grid) - 1):
        for c in range(1, width):
            if not _blank(grid[i][c]) or _blank(grid[i][c - 1]) or c - 1 == label_col:
                continue
            if c == label_col or all(_blank(grid[k][c]) for k in range(i + 1, len(grid))):
                continue
            if any(grid[k][c] != grid[k][c - 1] for k in range(i)):
                continue
            below, left_below = grid[i + 1][c], grid[i + 1][c - 1]
            if not _blank(below) and not _blank(left_below) and (
                (_year_of(below) is None) != (_year_of(left_below) is None)
            ):
                continue
            grid[i][c] = grid[i][c - 1]
    return grid


def _column(index: int, raw_parts: list[Any], titles: list[str], sheet: str | None) -> _Column:
    parts: list[str] = []
    year: int | None = None
    scope: str | None = None
    scoped: list[str] = []
    previous = None
    for raw in raw_parts:
        text = normalise_label(raw)
        if not text or text == previous:
            continue
        previous = text
        y = _year_of(raw)
        if y is not None and year is None:
            year = y
            continue
        if text in SCOPES:
            scope = text
            scoped.append(text)
            continue
        parts.append(text)
        scoped.append(text)
    label = "/".join(parts)
    names = [label, "/".join(scoped)]
    if not label:
        names = [*titles, *( [normalise_label(sheet)] if sheet else [])]
        if scope:
            names += [f"{n}/{scope}" for n in names]
    return _Column(index, label, year, scope, tuple(dict.fromkeys(n for n in names if n)))


def _find_column(
    columns: list[_Column],
    given: str | int | None,
    codes: frozenset[str],
    names: frozenset[str],
    sh: CellGrid,
    argument: str,
) -> int:
    if isinstance(given, int) and not isinstance(given, bool):
        if not 0 <= given < len(columns):
            raise DataError(
                f"{sh.where} has {len(columns)} columns; {argument}={given} is outside them."
            )
        return given
    if isinstance(given, str):
        wanted = normalise_label(given)
        for col in columns:
            if wanted in (col.label, *col.names):
                return col.index
        raise DataError(
            f"{sh.where} has no column labelled {given!r} ({argument}=). Labels: "
            f"{format_examples([c.label for c in columns if c.label], limit=20)}."
        )
    for words in (codes, names):
        for col in columns:
            if col.label.lower() in words and col.year is None:
                return col.index
    return 0


def _find_year_column(
    columns: list[_Column], given: str | int | None, sh: CellGrid, city: int
) -> int:
    if given is not None:
        return _find_column(columns, given, frozenset(), frozenset(), sh, "year_column")
    for col in columns:
        if col.label.lower() in _YEAR_WORDS and col.index != city:
            return col.index
    raise DataError(
        f"{sh.where}: layout='long' needs a year column, but none is labelled year, 年份, "
        f"年度 or 年. Labels: {format_examples([c.label for c in columns if c.label], limit=20)}. "
        "Fix: pass year_column='...'."
    )


# ---------------------------------------------------------------------- mapping
def _resolve_mapping(
    tables: list[_Table],
    keys: dict[str, str],
    layout: str,
    scope: str | None,
    file: Path,
    notes: list[str],
) -> None:
    found: set[str] = set()
    scoped_any = False
    for table in tables:
        taken: dict[tuple[str, int | None], str] = {}
        skip = {table.city_col, table.year_col}
        for key, var in keys.items():
            cols = [c for c in table.columns if c.index not in skip and key in c.names]
            if not cols:
                continue
            found.add(key)
            scopes = {c.scope for c in cols}
            scoped_any = scoped_any or scopes != {None}
            explicit = all(c.scope is None or key.endswith(f"/{c.scope}") for c in cols)
            if not explicit and len(scopes - {None}) > 0:
                if scope is None and len(scopes) > 1:
                    raise DataError(
                        f"{table.sheet.where} of {str(file)!r} gives {key!r} for both the whole "
                        "city (全市) and the city proper (市辖区). Fix: pass scope='全市' or "
                        "scope='市辖区' (or map the label with the group, e.g. "
                        f"{key + '/全市'!r})."
                    )
                if scope is not None:
                    cols = [c for c in cols if c.scope == scope]
                    if not cols:
                        raise DataError(
                            f"{table.sheet.where} of {str(file)!r} has no {scope!r} column group "
                            f"for {key!r} (groups: {format_examples(sorted(scopes - {None}))}). "
                            "Fix: choose another scope."
                        )
            elif scope is None and not explicit and scopes != {None}:
                group = next(iter(scopes - {None}))
                notes.append(f"{key!r} in {table.sheet.where}: only the {group} group; used")
            elif scope is not None and scopes == {None}:
                notes.append(
                    f"{key!r} in {table.sheet.where} has no 全市/市辖区 groups; used as is"
                )
            if layout == "years_as_columns":
                yearless = [c for c in cols if c.year is None]
                if yearless:
                    raise DataError(
                        f"{table.sheet.where} of {str(file)!r}: column "
                        f"{column_letter(yearless[0].index)} ({key!r}) has no year in its "
                        "header, which layout='years_as_columns' needs. Fix: for a table with "
                        "one year use layout='sheet_per_year' with year=...; check header_rows=."
                    )
            for col in cols:
                slot = (var, col.year if layout == "years_as_columns" else None)
                if slot in taken:
                    other = taken[slot]
                    year_txt = f" for {slot[1]}" if slot[1] is not None else ""
                    raise DataError(
                        f"{table.sheet.where} of {str(file)!r} has two columns for {var!r}"
                        f"{year_txt}: {other} and column {column_letter(col.index)} "
                        f"({col.label!r}). Fix: map only one of the labels, or pass scope=."
                    )
                taken[slot] = f"column {column_letter(col.index)} ({col.label!r})"
                table.chosen[col.index] = (var, col.year)
        if layout == "sheet_per_year" and table.chosen:
            present = {var for var, _ in table.chosen.values()}
            for var in dict.fromkeys(keys.values()):
                if var not in present:
                    notes.append(
                        f"{var!r} has no column in {table.sheet.where}: missing for {table.year}"
                    )
    if scope is not None and not scoped_any:
        raise DataError(
            f"scope={scope!r} was given but {str(file)!r} has no 全市/市辖区 column groups for "
            "the mapped labels. Fix: drop scope=, or check the header rows (header_rows=)."
        )
    missing = [k for k in keys if k not in found]
    if missing:
        raise DataError(_missing_labels_message(missing, tables, file))


def _missing_labels_message(missing: list[str], tables: list[_Table], file: Path) -> str:
    available: list[str] = []
    for t in tables:
        for c in t.columns:
            if c.index != t.city_col:
                available.extend(n for n in c.names if n)
    available = list(dict.fromkeys(available))
    hints = []
    for key in missing:
        close = difflib.get_close_matches(key, available, 3, 0.4)
        if close:
            hints.append(f"for {key!r} did you mean {format_examples(close)}?")
    hint = (" " + " ".join(h[0].upper() + h[1:] for h in hints)) if hints else ""
    return (
        f"mapped label(s) {format_examples(missing)} not found in {str(file)!r}.{hint} "
        f"Labels in the file: {format_examples(available, limit=25)}. Fix: copy the label "
        "from this list into mapping (merged headers are joined with '/'), or set "
        "header_rows= if the header was detected wrongly."
    )


# ---------------------------------------------------------------------- rows and values
def _row_kind(row: list[Any], city_col: int) -> str | None:
    label = row[city_col] if city_col < len(row) else None
    others = [v for j, v in enumerate(row) if j != city_col and not _blank(v)]
    if _blank(label):
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
    if _blank(value):
        return math.nan, True
    if isinstance(value, bool):
        return math.nan, False
    if isinstance(value, (int, float)):
        return float(value), True
    if isinstance(value, str):
        text = normalise_label(value)
        if text in na:
            return math.nan, True
        if _NUMBER_RE.match(text):
            return float(text), True
        if thousands is not None:
            stripped = text.replace(thousands, "")
            if _NUMBER_RE.match(stripped) and (thousands != "," or _GROUPED_RE.match(text)):
                return float(stripped), True
    return math.nan, False


def _collect(
    tables: list[_Table],
    layout: str,
    na: set[str],
    thousands: str | None,
    years_wanted: set[int] | None,
) -> tuple[list[tuple[Any, ...]], list[str], list[tuple[str, Any]]]:
    records: list[tuple[Any, ...]] = []
    skipped: list[str] = []
    bad: list[tuple[str, Any]] = []
    for t in tables:
        sh = t.sheet
        for r in range(t.header[1], len(sh.rows)):
            row = sh.rows[r]
            kind = _row_kind(row, t.city_col)
            if kind is not None:
                if kind != "blank row":
                    shown = next((str(v).strip() for v in row if not _blank(v)), "")
                    shown = shown if len(shown) <= 30 else shown[:29] + "…"
                    skipped.append(f"{sh.row_ref(r)} {shown!r} ({kind})")
                else:
                    skipped.append(f"{sh.row_ref(r)} (blank row)")
                continue
            city = _city_text(row[t.city_col])
            row_year = t.year
            if layout == "long":
                assert t.year_col is not None
                cell = row[t.year_col] if t.year_col < len(row) else None
                row_year = _year_of(cell)
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


def _raise_bad_values(bad: list[tuple[str, Any]], file: Path, thousands: str | None) -> None:
    shown = "; ".join(f"{where}: {value!r}" for where, value in bad[:5])
    more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    grouped = any(isinstance(v, str) and _GROUPED_RE.match(normalise_label(v)) for _, v in bad)
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


def _units(
    cities: pd.Series, harmonise: bool, province: str | None, file: Path, notes: list[str]
) -> pd.Series:
    names = list(dict.fromkeys(cities.tolist()))
    if all(re.fullmatch(r"\d{6}", n) for n in names):
        notes.append("city column holds 6-digit codes; used as adcodes")
        return cities.astype("str")
    if not harmonise:
        notes.append("harmonise=False: the unit column holds the city names as printed")
        return cities.astype("str")
    try:
        from agglomera.data import harmonise_cities
    except ImportError:
        raise SpecError(
            "city-name harmonisation (agglomera.data.harmonise) is not available in this "
            "installation. Fix: pass harmonise=False to keep the names."
        ) from None
    try:
        codes = harmonise_cities(names, province=province)
    except DataError as exc:
        raise DataError(
            f"{str(file)!r}: {exc} (Pass harmonise=False to keep the names as printed.)"
        ) from None
    lookup = dict(zip(names, [str(c) for c in codes.tolist()], strict=True))
    prov = f", province={province!r}" if province else ""
    notes.append(f"city names → adcodes with harmonise_cities({len(names)} names{prov})")
    return cities.map(lookup).astype("str")


def _check_duplicates(long: pd.DataFrame, file: Path, unit: str) -> None:
    dup = long.duplicated(["unit", "year", "variable"], keep=False)
    if not dup.any():
        return
    rows = long.loc[dup]
    first = rows.iloc[0]
    same = rows[(rows["unit"] == first["unit"]) & (rows["year"] == first["year"])]
    same = same.drop_duplicates("ref")
    places = ", ".join(f"{ref} ({city!r})" for city, ref in zip(same["city"], same["ref"],
                                                                 strict=True))
    others = rows.drop_duplicates(["unit", "year"])
    more = f" ({len(others) - 1} more city-years are duplicated)" if len(others) > 1 else ""
    code = f" ({unit} {first['unit']!r})" if first["unit"] != first["city"] else ""
    raise DataError(
        f"{str(file)!r}: city {first['city']!r}{code} appears more than "
        f"once for {int(first['year'])}: {places}{more}. Fix: delete the duplicate row, or keep "
        "one of two names that denote the same city."
    )


# ---------------------------------------------------------------------- provenance
def _unmapped(tables: list[_Table]) -> list[str]:
    out: list[str] = []
    for t in tables:
        for c in t.columns:
            if c.index in t.chosen or c.index in (t.city_col, t.year_col):
                continue
            has_data = any(
                c.index < len(row) and not _blank(row[c.index])
                for row in t.sheet.rows[t.header[1] :]
            )
            if not c.label and not c.year and not has_data:
                continue
            name = c.label or f"column {column_letter(c.index)} (no header)"
            if c.scope:
                name = f"{name}/{c.scope}"
            out.append(name)
    return list(dict.fromkeys(out))


def _provenance(
    *,
    file: Path,
    kind: str,
    encoding: str | None,
    layout: str,
    used: list[_Table],
    scope: str | None,
    thousands: str | None,
    skipped_sheets: list[str],
    skipped_rows: list[str],
    notes: list[str],
    unmapped: list[str],
    mapping: Mapping[str, str],
) -> list[str]:
    sheets = [t.sheet.name for t in used if t.sheet.name is not None]
    out = [f"read_yearbook: file {str(file)!r} ({kind})"]
    if sheets:
        out.append(f"sheets: {', '.join(map(repr, sheets))}")
    if encoding is not None:
        out.append(f"encoding: {encoding}")
    out.append(f"layout: {layout}")
    headers = []
    for t in used:
        a, b = t.header
        how = "detected" if t.auto else "given"
        titles = f"; title rows {format_examples(t.titles)}" if t.titles else ""
        headers.append(f"{t.sheet.where}: rows {a + 1}-{b} ({b - a}, {how}){titles}")
    out.append("header rows: " + "; ".join(headers))
    out.append("mapping: " + ", ".join(f"{k!r} → {v!r}" for k, v in mapping.items()))
    out.append(f"scope: {scope if scope is not None else 'none given'}")
    out.append(
        f"thousands separator: {thousands!r}" if thousands else "thousands separator: none"
    )
    out.append("unmapped columns ignored: " + (", ".join(map(repr, unmapped)) or "none"))
    if skipped_sheets:
        out.append("skipped sheets: " + "; ".join(skipped_sheets))
    out.append(
        f"skipped rows ({len(skipped_rows)}): " + ("; ".join(skipped_rows) or "none")
    )
    out.extend(notes)
    return out
