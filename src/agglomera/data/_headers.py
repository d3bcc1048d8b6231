"""Yearbook table structure: title rows, header detection and column labels.

:func:`parse_table` finds, in one :class:`~agglomera.data._workbook.CellGrid`, the title
rows, the header rows (those above the first row with a city name and a number, unless
``header_rows=`` is given) and, for every column, its label: the header parts joined by
``"/"`` after forward-filling merged cells, with the year and the 全市/市辖区 scope taken
out. It also picks the city column (and the year column of a long table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agglomera.data._cells import (
    blank,
    drop_trailing_blank_rows,
    filled,
    first_text,
    is_int,
    is_number,
    normalise_label,
    year_of,
)
from agglomera.data._workbook import CellGrid
from agglomera.errors import DataError, format_examples

__all__ = ["SCOPES", "Column", "Table", "parse_table"]

SCOPES: tuple[str, ...] = ("全市", "市辖区")

_TITLE_PREFIX_RE = re.compile(r"^表[0-9A-Za-z.\-—–]+")
_CODE_WORDS = frozenset({"adcode", "行政区划代码", "区划代码", "城市代码", "代码", "code"})
_NAME_WORDS = frozenset(
    {
        "城市",
        "地区",
        "城市名",
        "城市名称",
        "地区名称",
        "名称",
        "地级市",
        "市",
        "地市",
        "city",
        "cities",
        "region",
        "name",
        "prefecture",
    }
)
_YEAR_WORDS = frozenset({"year", "年份", "年度", "年", "时间", "统计年度"})
_HEADER_WORDS = (
    _CODE_WORDS
    | _NAME_WORDS
    | frozenset(
        {
            "序号",
            "编号",
            "年份",
            "年度",
            "年",
            "指标",
            "项目",
            "单位",
            "省份",
            "省",
            "省区市",
            "area",
            "year",
            "no",
            "no.",
            "id",
        }
    )
)


@dataclass
class Column:
    """One column of a table: 0-based index, label, year, scope and the names it matches."""

    index: int
    label: str
    year: int | None
    scope: str | None
    names: tuple[str, ...]


@dataclass
class Table:
    """One parsed table: its grid, header rows ``[start, stop)`` and columns.

    ``chosen`` maps the index of each mapped column to its variable and year; it is filled
    in by the mapping step.
    """

    sheet: CellGrid
    header: tuple[int, int]
    auto: bool
    titles: list[str]
    city_col: int
    columns: list[Column]
    year: int | None = None
    year_col: int | None = None
    chosen: dict[int, tuple[str, int | None]] = field(default_factory=dict)


def _is_header_word(text: str) -> bool:
    low = text.lower()
    if low in _HEADER_WORDS:
        return True
    parts = [p for p in re.split(r"[\\/＼|]", low) if p]
    return len(parts) > 1 and any(p in _HEADER_WORDS for p in parts)


def _is_data_row(row: list[Any], label_col: int, na: set[str]) -> bool:
    if label_col >= len(row) or blank(row[label_col]):
        return False
    if _is_header_word(normalise_label(row[label_col])):
        return False
    values = filled(row, skip=label_col)
    if not any(is_number(v) or normalise_label(v) in na for v in values):
        return False
    years = [year_of(v) for v in values]
    is_year_row = len(values) >= 2 and all(y is not None for y in years)
    return not (is_year_row and len(set(years)) == len(years))


def parse_table(
    sh: CellGrid,
    header_rows: int | None,
    city_column: str | int | None,
    layout: str,
    year_column: str | int | None,
    na: set[str],
) -> Table:
    """Find the title and header rows, the column labels and the city (and year) column.

    Trailing blank rows are removed from ``sh.rows``.

    Raises
    ------
    DataError
        If the grid is empty, has no header or no data rows, or a given column is absent.
    """
    rows = sh.rows
    drop_trailing_blank_rows(rows)
    if not rows:
        raise DataError(f"{sh.where} is empty. Fix: choose another sheet.")
    label_col = city_column if isinstance(city_column, int) else 0
    start = 0
    titles: list[str] = []
    while start < len(rows) and len(filled(rows[start])) <= 1:
        text = first_text(rows[start])
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
        while stop - 1 > start and not filled(rows[stop - 1], skip=label_col):
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
    table = Table(sh, (start, stop), auto, titles, city, columns)
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
            if not blank(grid[i][c]) or blank(grid[i][c - 1]) or c - 1 == label_col:
                continue
            if c == label_col or all(blank(grid[k][c]) for k in range(i + 1, len(grid))):
                continue
            if any(grid[k][c] != grid[k][c - 1] for k in range(i)):
                continue
            below, left_below = grid[i + 1][c], grid[i + 1][c - 1]
            if (
                not blank(below)
                and not blank(left_below)
                and ((year_of(below) is None) != (year_of(left_below) is None))
            ):
                continue
            grid[i][c] = grid[i][c - 1]
    return grid


def _column(index: int, raw_parts: list[Any], titles: list[str], sheet: str | None) -> Column:
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
        y = year_of(raw)
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
        names = [*titles, *([normalise_label(sheet)] if sheet else [])]
        if scope:
            names += [f"{n}/{scope}" for n in names]
    return Column(index, label, year, scope, tuple(dict.fromkeys(n for n in names if n)))


def _find_column(
    columns: list[Column],
    given: str | int | None,
    codes: frozenset[str],
    names: frozenset[str],
    sh: CellGrid,
    argument: str,
) -> int:
    if is_int(given):
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
    columns: list[Column], given: str | int | None, sh: CellGrid, city: int
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
