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

The steps live in private modules: cell values in ``_cells``, table structure and column
labels in ``_headers``, label matching in ``_mapping``, row classification and values in
``_rows``; the sector crosswalk (``crosswalk=``) in ``_sectors``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from agglomera.data._cells import is_int, normalise_label, year_of
from agglomera.data._headers import SCOPES, Table, parse_table
from agglomera.data._mapping import resolve_mapping, unmapped_columns
from agglomera.data._rows import check_duplicates, collect, raise_bad_values
from agglomera.data._sectors import check_sectors, harmonise_sectors, load_crosswalk, sector_keys
from agglomera.data._workbook import CellGrid
from agglomera.data.crosswalk import Break2002
from agglomera.data.panel import Panel
from agglomera.data.readers import read_grids, resolve_path
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["DEFAULT_NA_VALUES", "LAYOUTS", "normalise_label", "read_yearbook"]

LAYOUTS: tuple[str, ...] = ("years_as_columns", "sheet_per_year", "long")
DEFAULT_NA_VALUES: tuple[str, ...] = ("—", "-", "–", "…", "..", "")

_YEAR_IN_NAME_RE = re.compile(r"(?<!\d)(19[4-9]\d|20\d{2})(?!\d)")


def read_yearbook(
    path: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
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
    crosswalk: bool | str | pd.DataFrame | None = None,
    vintage: str | None = None,
    break_2002: Break2002 | None = None,
) -> Panel:
    r"""Read a yearbook-style table (XLSX, CSV/TSV/TXT or Parquet) into a long Panel.

    Parameters
    ----------
    path : str or path-like
        The file.
    mapping : mapping of str to str, optional
        Required unless ``crosswalk`` is given. Source column label → variable name, e.g.
        ``{"年末单位从业人员数(万人)": "employment"}``. Labels are compared after
        :func:`normalise_label` (full-width brackets and spaces do not matter). For
        multi-row headers the label is the header parts joined by ``"/"`` without the
        year and scope parts (see the module notes), e.g.
        ``"信息传输、计算机服务和软件业/从业人员"``. A single-variable sheet with years as
        column headers is matched by its sheet name or title. Several labels may map to
        the same variable (a label renamed between yearbook editions). Columns that are
        not mapped are ignored and listed in the provenance. With ``crosswalk``, a label
        mapped to a crosswalk ``variable`` (``"emp_it_2011"``, …) is read as that vintage's
        sector, e.g. a header printed differently from the crosswalk names.
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
    crosswalk : True, "talent" or DataFrame, optional
        Build harmonised sector columns across GB/T 4754 classification vintages. ``True``
        or ``"talent"``: the shipped crosswalk of the talent-relevant sectors
        (:func:`agglomera.data.crosswalk.sector_crosswalk`), giving ``emp_it`` (IT
        services) and ``emp_sci`` (science and technology). A DataFrame: a user crosswalk
        with the same columns (at least ``concept``, ``variable``, ``classification``,
        ``first_year``, ``last_year``, ``name_cn``, ``name_en``; one row per concept and
        vintage, an empty ``variable`` where a vintage has no such sector). A header is a
        sector header when it, or one of its ``"/"``-parts, equals ``name_cn`` or
        ``name_en`` after :func:`normalise_label`, ignoring case, a trailing unit in
        brackets (``"(万人)"``) and a leading section letter or ``#``. Default ``None``:
        no crosswalk (only ``mapping``).
    vintage : {"auto", "2002", "2003-2011", "2012+"}, optional
        With ``crosswalk``: which classification the headers follow. ``"auto"``
        (default): each table, sheet or column by its data year, with the years of the
        crosswalk (≤ 2002: GB/T 4754-1994; 2003–2011: GB/T 4754-2002; 2012+:
        GB/T 4754-2011, whose names GB/T 4754-2017 keeps); a header of another vintage
        is an error. A vintage label (or the classification, ``"GB/T 4754-2011"``) reads
        every table under that classification whatever its year (recorded), e.g. an
        edition that printed the new names a year early. Note ``"2002"`` is the vintage
        of data years up to 2002 (GB/T 4754-1994), not GB/T 4754-2002.
    break_2002 : {"drop", "sci_only", "error"}, optional
        With ``crosswalk``: years whose vintage has no sector for a concept (GB/T 4754-1994,
        data years up to 2002, has no separate IT sector), exactly as in
        :func:`~agglomera.data.crosswalk.sector_series`. ``"drop"`` (default): those rows
        are removed (counted in the provenance); ``"sci_only"``: rows kept, ``emp_sci``
        from 科学研究和综合技术服务业 (an approximate match), ``emp_it`` missing;
        ``"error"``: raise if the file has such a year.

    Returns
    -------
    Panel
        Unit ``unit`` (adcodes, or names with ``harmonise=False``), time ``"year"``, one
        column per variable in ``mapping`` order (then, with ``crosswalk``, one column per
        concept: ``emp_it``, ``emp_sci``; the vintage columns are not kept).
        ``panel.provenance`` records the file, sheets, encoding, layout, header rows,
        mapping, unmapped columns, skipped rows, scope and thousands separator; with
        ``crosswalk`` also the crosswalk and vintage rule, every sector header with the
        sheet, vintage variable, classification, section and relation it was read as, the
        vintage column that fed each concept in which years, and the ``break_2002`` rule
        with the number of rows it removed or left incomplete.

    Raises
    ------
    DataError
        If the file cannot be read, a mapped label is not in the file (the available
        labels and close matches are listed), both 全市 and 市辖区 groups are present and
        ``scope`` is not given, the header cannot be detected, a value is not a number
        (the cell is named), or a city appears twice in one year (the rows are named).
        With ``crosswalk``: a sector header of one vintage holds data of another vintage's
        years, a year has no column for a sector of its vintage (the closest unknown
        headers, the vintage and the fix are named), a year is in no vintage, or
        ``break_2002="error"`` and the file reaches a vintage without a sector.
    SpecError
        For invalid arguments (unknown layout, empty mapping without ``crosswalk``, an
        invalid crosswalk table, unknown ``vintage`` or ``break_2002``, ``vintage`` or
        ``break_2002`` without ``crosswalk``, a mapping to ``emp_it``/``emp_sci``, …).

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
    if crosswalk is None and (vintage is not None or break_2002 is not None):
        raise SpecError(
            "vintage= and break_2002= apply to the sector crosswalk only. Fix: pass "
            "crosswalk=True (the shipped talent-sector crosswalk) or drop them."
        )
    cw = None if crosswalk is None else load_crosswalk(crosswalk, vintage, break_2002)
    keys = _check_arguments(
        {} if mapping is None and cw is not None else mapping,
        unit,
        layout,
        scope,
        thousands,
        header_rows,
        optional=cw is not None,
    )
    if cw is not None:
        _check_sector_names(keys, unit, cw.concepts, mapping or {})
    years_wanted = _years_wanted(year)
    na = {normalise_label(v) for v in (na_values or ())}
    sheets, encoding_used, kind = read_grids(file, sheet=sheet, encoding=encoding)
    notes: list[str] = []
    skipped_sheets: list[str] = []
    tables: list[Table] = []
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
            table = parse_table(sh, header_rows, city_column, layout, year_column, na)
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
    sector_notes: list[str] = []
    if cw is not None:
        try:
            found = sector_keys(tables, cw, keys)
        except DataError as exc:
            raise DataError(f"{str(file)!r}: {exc}") from None
        for label, var in found.items():
            keys.setdefault(label, var)
        if not keys:
            raise DataError(
                f"no sector header of the crosswalk in {str(file)!r} ("
                + "; ".join(
                    f"{t.sheet.where}: {format_examples(_labels(t), limit=8)}" for t in tables
                )
                + "). Fix: pass mapping={'<header>': '<crosswalk variable>'} or a user crosswalk."
            )
    quiet = frozenset(cw.by_variable) if cw is not None else frozenset()
    resolve_mapping(tables, keys, layout, scope, file, notes, quiet)
    used = [t for t in tables if t.chosen]
    if cw is not None:
        try:
            sector_notes = check_sectors(used, cw, layout, na, years_wanted)
        except DataError as exc:
            raise DataError(f"{str(file)!r}: {exc}") from None
    for t in tables:
        if not t.chosen:
            skipped_sheets.append(f"{t.sheet.where} (none of the mapped labels)")
    records, skipped_rows, bad = collect(used, layout, na, thousands, years_wanted)
    if bad:
        raise_bad_values(bad, file, thousands)
    variables = list(dict.fromkeys(keys.values()))
    if not records:
        raise DataError(
            f"no city rows with data found in {str(file)!r} for the mapped labels. "
            f"Skipped rows: {format_examples(skipped_rows)}. Fix: check header_rows= and "
            "city_column=."
        )
    long = pd.DataFrame(records, columns=["city", "year", "variable", "value", "ref"])
    long["unit"] = _units(long["city"], harmonise, province, file, notes)
    check_duplicates(long, file, unit)
    wide = long.pivot(index=["unit", "year"], columns="variable", values="value")
    wide = wide.reindex(columns=[v for v in variables if v in wide.columns])
    for v in variables:
        if v not in wide.columns:
            wide[v] = math.nan
    frame = wide.reset_index().rename(columns={"unit": unit})
    frame.columns.name = None
    frame = frame[[unit, "year", *variables]]
    frame["year"] = frame["year"].astype("int64")
    if cw is not None:
        frame, concepts, series_notes = harmonise_sectors(frame, cw)
        variables = [v for v in variables if v not in cw.by_variable] + concepts
        frame = frame[[unit, "year", *variables]]
        sector_notes += series_notes
    provenance = _provenance(
        file=file,
        kind=kind,
        encoding=encoding_used,
        layout=layout,
        used=used,
        scope=scope,
        thousands=thousands,
        skipped_sheets=skipped_sheets,
        skipped_rows=skipped_rows,
        notes=notes,
        unmapped=unmapped_columns(used),
        mapping=mapping or {},
    )
    provenance.extend(sector_notes)
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
    *,
    optional: bool = False,
) -> dict[str, str]:
    if layout not in LAYOUTS:
        raise SpecError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}; got {layout!r}.")
    if not isinstance(mapping, Mapping) or not (mapping or optional):
        raise SpecError(
            "mapping must be a non-empty dict of source column label → variable name, e.g. "
            "{'年末单位从业人员数(万人)': 'employment'} (it may be left out with crosswalk=True, "
            "which reads the talent-sector headers)."
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
    if header_rows is not None and (not is_int(header_rows) or header_rows < 1):
        raise SpecError(f"header_rows must be a positive int or None; got {header_rows!r}.")
    return keys


def _check_sector_names(
    keys: dict[str, str], unit: str, concepts: tuple[str, ...], mapping: Mapping[str, str]
) -> None:
    for label, var in mapping.items():
        if var in concepts:
            raise SpecError(
                f"mapping[{label!r}] = {var!r} is a column the crosswalk builds. Fix: map the "
                "label to the variable of its classification vintage (the 'variable' column "
                "of sector_crosswalk(), e.g. 'emp_it_2011'), or to another name."
            )
    if unit in concepts:
        raise SpecError(f"unit={unit!r} clashes with a crosswalk concept; choose another name.")


def _labels(table: Table) -> list[str]:
    return [c.label for c in table.columns if c.label and c.index != table.city_col]


def _years_wanted(year: Any) -> set[int] | None:
    if year is None:
        return None
    values = [year] if isinstance(year, (int, str)) else list(year)
    out = set()
    for v in values:
        y = year_of(v)
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


# ---------------------------------------------------------------------- units and provenance
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
        from agglomera.data.harmonise import harmonise_cities
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


def _provenance(
    *,
    file: Path,
    kind: str,
    encoding: str | None,
    layout: str,
    used: list[Table],
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
    out.append(f"thousands separator: {thousands!r}" if thousands else "thousands separator: none")
    out.append("unmapped columns ignored: " + (", ".join(map(repr, unmapped)) or "none"))
    if skipped_sheets:
        out.append("skipped sheets: " + "; ".join(skipped_sheets))
    out.append(f"skipped rows ({len(skipped_rows)}): " + ("; ".join(skipped_rows) or "none"))
    out.extend(notes)
    return out
