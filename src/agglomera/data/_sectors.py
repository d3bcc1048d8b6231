"""Talent-sector crosswalk inside ``read_yearbook``: vintages, sector headers and series.

:func:`load_crosswalk` turns the ``crosswalk=`` argument (the shipped table of
:func:`agglomera.data.crosswalk.sector_crosswalk` or a user table with the same columns)
and ``vintage=`` into a :class:`Crosswalk`; :func:`sector_keys` finds the sector headers of
the parsed tables (label → vintage variable); :func:`check_sectors` checks, once the
columns are chosen, that each header belongs to the vintage in force in its data years and
that every year has a column for every sector of its vintage; :func:`harmonise_sectors`
joins the vintage columns into one column per concept and applies ``break_2002``.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data._cells import blank, normalise_label, year_of
from agglomera.data._headers import Table
from agglomera.data._rows import row_kind
from agglomera.data._workbook import column_letter
from agglomera.data.crosswalk import CONCEPTS
from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "BREAK_OPTIONS",
    "Crosswalk",
    "Sector",
    "Vintage",
    "check_sectors",
    "harmonise_sectors",
    "load_crosswalk",
    "sector_keys",
]

BREAK_OPTIONS: tuple[str, ...] = ("drop", "sci_only", "error")
_REQUIRED = ("concept", "variable", "classification", "first_year", "last_year")
_NAMES = ("section", "name_cn", "name_en", "relation")
_UNIT_RE = re.compile(r"\([^()]*\)$")
_PREFIX_RE = re.compile(r"^(#|其中:|其中|[a-t][.、:]?(?=[\u4e00-\u9fff]))")


@dataclass(frozen=True)
class Sector:
    """One crosswalk row with a sector: the vintage variable and its printed names."""

    concept: str
    variable: str
    classification: str
    section: str
    name_cn: str
    name_en: str
    relation: str
    note: str

    @property
    def names(self) -> list[str]:
        return [n for n in (self.name_cn, self.name_en) if n]

    def describe(self) -> str:
        section = f" {self.section}" if self.section else ""
        return f"{self.name_cn or self.name_en} ({self.classification}{section}, {self.variable})"


@dataclass(frozen=True)
class Vintage:
    """A classification vintage: its data years and its sector (or None) per concept."""

    label: str
    classification: str
    first: int | None
    last: int | None
    sectors: dict[str, Sector | None]

    def covers(self, year: int) -> bool:
        return (self.first is None or self.first <= year) and (
            self.last is None or year <= self.last
        )

    @property
    def years(self) -> str:
        if self.first is None:
            return f"≤ {self.last}"
        if self.last is None:
            return f"{self.first}+"
        return f"{self.first}–{self.last}"


@dataclass
class Crosswalk:
    """The crosswalk used by one ``read_yearbook`` call."""

    source: str
    concepts: tuple[str, ...]
    vintages: list[Vintage]
    forced: Vintage | None
    break_2002: str
    by_variable: dict[str, tuple[Sector, Vintage]] = field(default_factory=dict)

    def vintage_of(self, year: int) -> Vintage | None:
        if self.forced is not None:
            return self.forced
        return next((v for v in self.vintages if v.covers(year)), None)

    def match(self, text: str) -> list[tuple[Sector, Vintage]]:
        """Sectors whose printed name is ``text`` or one of its ``/``-parts."""
        keys = {_key(text), *(_key(p) for p in text.split("/"))}
        return [
            (s, v) for s, v in self.by_variable.values() if any(_key(n) in keys for n in s.names)
        ]


def _key(text: str) -> str:
    out = normalise_label(text).casefold()
    out = _UNIT_RE.sub("", out)
    return _PREFIX_RE.sub("", out)


# ---------------------------------------------------------------------- the argument
def load_crosswalk(crosswalk: Any, vintage: Any, break_2002: Any) -> Crosswalk:
    """Validate ``crosswalk=``, ``vintage=`` and ``break_2002=`` and build the vintages."""
    from agglomera.data.crosswalk import sector_crosswalk

    if isinstance(crosswalk, pd.DataFrame):
        table, source = crosswalk, f"user crosswalk ({len(crosswalk)} rows)"
    elif crosswalk is True or (isinstance(crosswalk, str) and crosswalk == "talent"):
        table, source = sector_crosswalk(), "shipped talent-sector crosswalk (sector_crosswalk())"
    else:
        raise SpecError(
            f"crosswalk must be None, True or 'talent' (the shipped sector_crosswalk()) or a "
            f"DataFrame with the columns of sector_crosswalk(); got {crosswalk!r}."
        )
    break_2002 = "drop" if break_2002 is None else break_2002
    if break_2002 not in BREAK_OPTIONS:
        raise SpecError(
            f"break_2002={break_2002!r} is not allowed; allowed: 'drop', 'sci_only', 'error'."
        )
    vintages, by_variable = _vintages(table)
    concepts = tuple(vintages[0].sectors)
    forced = None
    vintage = "auto" if vintage is None else vintage
    if vintage != "auto":
        forced = _find_vintage(vintages, vintage)
    return Crosswalk(source, concepts, vintages, forced, break_2002, by_variable)


def _find_vintage(vintages: list[Vintage], wanted: Any) -> Vintage:
    text = str(wanted).replace("–", "-").replace(" ", "")
    for v in vintages:
        if text in (v.label, v.classification.replace(" ", "")):
            return v
    allowed = ", ".join(f"{v.label!r} ({v.classification}, data years {v.years})" for v in vintages)
    raise SpecError(
        f"vintage={wanted!r} is not a vintage of the crosswalk; allowed: 'auto', {allowed}."
    )


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _year(value: Any, column: str, row: int) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or not number.is_integer():
        raise SpecError(
            f"crosswalk row {row}: {column} must be a year or empty (open); got {value!r}."
        )
    return int(number)


def _vintages(table: pd.DataFrame) -> tuple[list[Vintage], dict[str, tuple[Sector, Vintage]]]:
    missing = [c for c in (*_REQUIRED, "name_cn", "name_en") if c not in table.columns]
    if missing:
        raise SpecError(
            f"the crosswalk lacks the columns {format_examples(missing)}. Fix: start from "
            "sector_crosswalk() (columns concept, variable, classification, first_year, "
            "last_year, section, name_cn, name_en, relation, source, note) and edit its rows."
        )
    if table.empty:
        raise SpecError("the crosswalk has no rows.")
    groups: dict[tuple[str, int | None, int | None], dict[str, Sector | None]] = {}
    for i, row in enumerate(table.to_dict("records")):
        concept = _text(row["concept"]).strip()
        variable = _text(row["variable"]).strip()
        cls = _text(row["classification"]).strip()
        first = _year(row["first_year"], "first_year", i)
        last = _year(row["last_year"], "last_year", i)
        if not concept or not cls:
            raise SpecError(f"crosswalk row {i}: concept and classification must be filled.")
        if first is not None and last is not None and first > last:
            raise SpecError(f"crosswalk row {i}: first_year {first} is after last_year {last}.")
        sector = None
        if variable:
            values = {k: _text(row.get(k, "")).strip() for k in (*_NAMES, "note")}
            if not values["name_cn"] and not values["name_en"]:
                raise SpecError(
                    f"crosswalk row {i} ({variable!r}) has neither name_cn nor name_en: the "
                    "header cannot be recognised. Fix: fill in the name as printed."
                )
            sector = Sector(concept, variable, cls, **values)
        slot = groups.setdefault((cls, first, last), {})
        if concept in slot:
            raise SpecError(
                f"the crosswalk has two rows for {concept!r} in {cls} ({first}–{last}). Fix: "
                "keep one row per concept and vintage."
            )
        slot[concept] = sector
    found = list(dict.fromkeys(str(c).strip() for c in table["concept"]))
    concepts = [c for c in CONCEPTS if c in found] + [c for c in found if c not in CONCEPTS]
    vintages = []
    for (cls, first, last), sectors in groups.items():
        absent = [c for c in concepts if c not in sectors]
        if absent:
            raise SpecError(
                f"the crosswalk has no row for {format_examples(absent)} in {cls}. Fix: add a "
                "row with an empty variable if that vintage has no such sector."
            )
        label = _label(first, last)
        vintages.append(Vintage(label, cls, first, last, {c: sectors[c] for c in concepts}))
    vintages.sort(key=lambda v: -math.inf if v.first is None else v.first)
    for a, b in itertools.pairwise(vintages):
        if a.last is None or b.first is None or a.last >= b.first:
            raise SpecError(
                f"the crosswalk vintages {a.label} ({a.classification}) and {b.label} "
                f"({b.classification}) overlap. Fix: make the data years disjoint."
            )
    by_variable: dict[str, tuple[Sector, Vintage]] = {}
    seen: dict[tuple[str, str], str] = {}
    for v in vintages:
        for s in v.sectors.values():
            if s is None:
                continue
            if s.variable in by_variable or s.variable in concepts:
                raise SpecError(
                    f"crosswalk variable {s.variable!r} is used twice (or is a concept name). "
                    "Fix: one variable name per sector and vintage."
                )
            by_variable[s.variable] = (s, v)
            for name in s.names:
                other = seen.setdefault((s.concept, _key(name)), s.variable)
                if other != s.variable:
                    raise SpecError(
                        f"the crosswalk names {name!r} for {s.concept!r} in two vintages "
                        f"({other!r} and {s.variable!r}). Fix: merge them into one row whose "
                        "years span both."
                    )
    return vintages, by_variable


def _label(first: int | None, last: int | None) -> str:
    if first is None:
        return f"{last}"
    if last is None:
        return f"{first}+"
    return f"{first}" if first == last else f"{first}-{last}"


# ---------------------------------------------------------------------- headers
def sector_keys(tables: list[Table], cw: Crosswalk, user: dict[str, str]) -> dict[str, str]:
    """Return normalised header label → vintage variable for the sector headers found.

    Labels in the user's mapping are left to it. With a forced vintage, a header of another
    vintage is an error.
    """
    out: dict[str, str] = {}
    for table in tables:
        for col in table.columns:
            if col.index in (table.city_col, table.year_col):
                continue
            texts = [col.label] if col.label else list(col.names)
            for text in texts:
                hits = cw.match(text)
                if hits:
                    break
            if not hits or text in user:
                continue
            if len({s.variable for s, _ in hits}) > 1:
                several = ", ".join(s.variable for s, _ in hits)
                raise DataError(
                    f"{table.sheet.where}, column {column_letter(col.index)}: header {text!r} "
                    f"matches several crosswalk sectors ({several}). "
                    f"Fix: pass mapping={{{text!r}: '<variable>'}}."
                )
            sector, vint = hits[0]
            if cw.forced is not None and vint is not cw.forced:
                target = cw.forced.sectors.get(sector.concept)
                fix = (
                    f"pass mapping={{{text!r}: {target.variable!r}}} if this edition prints it "
                    f"for the {cw.forced.classification} sector, or "
                    if target is not None
                    else ""
                )
                raise DataError(
                    f"{table.sheet.where}, column {column_letter(col.index)}: header {text!r} is "
                    f"the {vint.classification} name of {sector.concept} (vintage "
                    f"{vint.label!r}, data years {vint.years}), but vintage="
                    f"{cw.forced.label!r} ({cw.forced.classification}) was given. Fix: "
                    f"{fix}use vintage='auto' (each table by its data year), or pass a user "
                    "crosswalk."
                )
            if out.get(text, sector.variable) != sector.variable:
                raise DataError(f"header {text!r} matches two crosswalk sectors.")
            out[text] = sector.variable
    return out


def _column_years(
    table: Table, index: int, col_year: int | None, layout: str, na: set[str]
) -> set[int]:
    if layout == "years_as_columns":
        return set() if col_year is None else {col_year}
    if layout == "sheet_per_year":
        return set() if table.year is None else {table.year}
    years: set[int] = set()
    assert table.year_col is not None
    for row in table.sheet.rows[table.header[1] :]:
        if row_kind(row, table.city_col) is not None:
            continue
        y = year_of(row[table.year_col]) if table.year_col < len(row) else None
        if y is None:
            continue
        if index < 0:
            years.add(y)
            continue
        cell = row[index] if index < len(row) else None
        if not blank(cell) and normalise_label(cell) not in na:
            years.add(y)
    return years


def _table_years(table: Table, layout: str, na: set[str]) -> set[int]:
    if layout == "years_as_columns":
        return {y for _, y in table.chosen.values() if y is not None}
    return _column_years(table, -1, None, layout, na)


def check_sectors(
    tables: list[Table],
    cw: Crosswalk,
    layout: str,
    na: set[str],
    years_wanted: set[int] | None,
) -> list[str]:
    """Check the chosen sector columns against the vintages; return provenance records.

    Raises
    ------
    DataError
        A header of one vintage in data years of another (``vintage="auto"``), a year
        without a column for a sector of its vintage (the closest headers are named), a year
        in no vintage, or ``break_2002="error"`` and a year whose vintage lacks a sector.
    """
    used: dict[tuple[str, str], list[str]] = {}
    supplied: dict[str, set[int]] = {}
    first_at: dict[tuple[str, int], str] = {}
    years_by_table: list[tuple[Table, set[int]]] = []
    for table in tables:
        years = _table_years(table, layout, na)
        if years_wanted is not None:
            years &= years_wanted
        years_by_table.append((table, years))
        for index, (var, col_year) in table.chosen.items():
            if var not in cw.by_variable:
                continue
            sector, vint = cw.by_variable[var]
            col = table.columns[index]
            col_years = _column_years(table, index, col_year, layout, na)
            if years_wanted is not None:
                col_years &= years_wanted
            label = col.label or next(iter(col.names), "")
            if cw.forced is None:
                wrong = sorted(y for y in col_years if not vint.covers(y))
                if wrong:
                    raise DataError(_wrong_vintage(table, index, label, sector, vint, wrong, cw))
            elif vint is not cw.forced:
                raise DataError(
                    f"{table.sheet.where}, column {column_letter(index)} ({label!r}) is mapped "
                    f"to {var!r} of vintage {vint.label!r}, but vintage={cw.forced.label!r} was "
                    "given. Fix: map it to the variable of the given vintage, or use "
                    "vintage='auto'."
                )
            if layout == "long":  # the column serves every row of its vintage's years
                col_years = {y for y in years if cw.forced is not None or vint.covers(y)}
            here = f"{table.sheet.where} column {column_letter(index)} ({label!r})"
            for y in col_years:
                other = first_at.setdefault((var, y), here)
                if other != here:
                    raise DataError(
                        f"two headers give {var} ({sector.concept}) for {y}: {other} and "
                        f"{here}. Fix: read one table with sheet=..., or pass a user crosswalk "
                        "whose name is the full header to use (e.g. '<sector>/从业人员')."
                    )
            supplied.setdefault(var, set()).update(col_years)
            used.setdefault((label, var), []).append(table.sheet.where)
    all_years = sorted(set().union(*(y for _, y in years_by_table)))
    outside = [y for y in all_years if cw.vintage_of(y) is None]
    if outside:
        raise DataError(
            f"the data years {format_examples(outside)} are in no vintage of the crosswalk "
            f"({', '.join(f'{v.label}: {v.years}' for v in cw.vintages)}). Fix: add the "
            "vintage to the crosswalk, or leave the years out with year=[...]."
        )
    gaps = _gaps(all_years, cw)
    if gaps and cw.break_2002 == "error":
        concept, gap, gap_years = gaps[0]
        where = ", ".join(
            dict.fromkeys(t.sheet.where for t, ys in years_by_table if ys & set(gap_years))
        )
        raise DataError(
            f"{where} has data for {_span(gap_years)}, when the classification "
            f"({gap.classification}, vintage {gap.label!r}) has no separate {concept} sector. "
            "Fix: choose break_2002='drop' (leave those years out) or 'sci_only' (keep them with "
            f"{concept} missing), or pass year=[...] without them."
        )
    dropped = {y for _, _, ys in gaps for y in ys} if cw.break_2002 == "drop" else set()
    for year in all_years:
        if year in dropped:
            continue
        in_force = cw.vintage_of(year)
        assert in_force is not None
        for needed in in_force.sectors.values():
            if needed is not None and year not in supplied.get(needed.variable, set()):
                holding = [t for t, ys in years_by_table if year in ys]
                raise DataError(_missing_sector(year, in_force, needed, holding))
    records = [f"crosswalk: {cw.source}; " + _vintage_rule(cw)]
    for (label, var), wheres in used.items():
        sector, vint = cw.by_variable[var]
        relation = f", {sector.relation}" if sector.relation else ""
        records.append(
            f"crosswalk header {label!r} ({', '.join(dict.fromkeys(wheres))}) → {var} "
            f"→ {sector.concept}: {sector.classification} {sector.section} "
            f"{sector.name_cn or sector.name_en} (vintage {vint.label}{relation})"
        )
    return records


def _vintage_rule(cw: Crosswalk) -> str:
    if cw.forced is not None:
        v = cw.forced
        return (
            f"vintage={v.label!r} given: every table read as {v.classification} (its rule "
            f"years are {v.years}; other years are read under it by this choice)"
        )
    rule = ", ".join(f"{v.years} {v.classification}" for v in cw.vintages)
    return f"vintage='auto': each table or column by its data year ({rule})"


def _gaps(years: list[int], cw: Crosswalk) -> list[tuple[str, Vintage, list[int]]]:
    out: list[tuple[str, Vintage, list[int]]] = []
    for concept in cw.concepts:
        for vint in [cw.forced] if cw.forced is not None else cw.vintages:
            if vint.sectors.get(concept) is None:
                ys = [y for y in years if cw.vintage_of(y) is vint]
                if ys:
                    out.append((concept, vint, ys))
    return out


def _span(years: list[int]) -> str:
    lo, hi = min(years), max(years)
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _wrong_vintage(
    table: Table,
    index: int,
    label: str,
    sector: Sector,
    vint: Vintage,
    wrong: list[int],
    cw: Crosswalk,
) -> str:
    now = cw.vintage_of(wrong[0])
    expected = ""
    if now is not None:
        target = now.sectors.get(sector.concept)
        names = " or ".join(repr(n) for n in target.names) if target is not None else "none"
        expected = (
            f" in vintage {now.label!r} ({now.classification}), whose {sector.concept} "
            f"header is {names}"
        )
        fix_map = (
            f"pass mapping={{{label!r}: {target.variable!r}}} if the edition prints this name "
            f"for the {now.classification} sector; "
            if target is not None
            else ""
        )
    else:
        fix_map = ""
    return (
        f"{table.sheet.where}, column {column_letter(index)}: header {label!r} is the "
        f"{vint.classification} name of {sector.concept} (vintage {vint.label!r}, data years "
        f"{vint.years}), but it holds data for {format_examples(wrong)}{expected}. Fix: "
        f"{fix_map}pass vintage={vint.label!r} if the whole file uses that classification; "
        "or check the year of the sheet or column; or pass a user crosswalk."
    )


def _missing_sector(year: int, vint: Vintage, sector: Sector, tables: list[Table]) -> str:
    names = " or ".join(repr(n) for n in sector.names)
    keys = [_key(n) for n in sector.names]
    close: list[str] = []
    for table in tables:
        labels = [
            c.label
            for c in table.columns
            if c.label and c.index not in table.chosen and c.index != table.city_col
        ]
        for label in dict.fromkeys(labels):
            parts = [_key(p) for p in (label, *label.split("/"))]
            ratio = max(difflib.SequenceMatcher(None, k, p).ratio() for k in keys for p in parts)
            if ratio >= 0.6:
                close.append(label)
    where = ", ".join(dict.fromkeys(t.sheet.where for t in tables)) or "the file"
    hint = (
        f" Unknown header(s) that may be it: {format_examples(close)}."
        if close
        else " No header in the table is close to it."
    )
    example = close[0] if close else "<header as printed>"
    return (
        f"no column for {sector.concept} in {year} ({where}): under vintage {vint.label!r} "
        f"({vint.classification}{' section ' + sector.section if sector.section else ''}) the "
        f"header is {names}.{hint} Fix: pass mapping={{{example!r}: {sector.variable!r}}}, or "
        "crosswalk=<a DataFrame like sector_crosswalk()> with the name as printed; pass "
        f"vintage=... if the edition uses another classification, or year=[...] "
        "to leave the year out."
    )


# ---------------------------------------------------------------------- series
def harmonise_sectors(
    frame: pd.DataFrame, cw: Crosswalk
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Join the vintage columns into one column per concept; apply ``break_2002``.

    Returns the frame, the harmonised columns and the provenance records.
    """
    years = frame["year"].to_numpy()
    vints = [cw.vintage_of(int(y)) for y in years]
    notes: list[str] = []
    gap_rows = np.array(
        [v is not None and any(s is None for s in v.sectors.values()) for v in vints], dtype=bool
    )
    gap_text = "; ".join(
        f"{v.classification} (vintage {v.label}, data years {v.years}) has no "
        + ", ".join(c for c, s in v.sectors.items() if s is None)
        + " sector"
        for v in ([cw.forced] if cw.forced is not None else cw.vintages)
        if v is not None and any(s is None for s in v.sectors.values())
    )
    if cw.break_2002 == "drop":
        n = int(gap_rows.sum())
        notes.append(
            f"break_2002='drop': {n} rows removed ({gap_text})"
            if gap_text
            else "break_2002='drop': no rows in a vintage without a sector"
        )
        if n:
            keep = ~gap_rows
            frame = frame.loc[keep].reset_index(drop=True)
            vints = [v for v, k in zip(vints, keep, strict=True) if k]
            years = years[keep]
            if frame.empty:
                raise DataError(
                    "read_yearbook: no rows left after break_2002='drop' removed the years "
                    f"of a vintage without a sector ({gap_text}). Fix: break_2002='sci_only'."
                )
    parts_all: list[str] = []
    fed: list[Sector] = []
    result: dict[str, np.ndarray] = {}
    for concept in cw.concepts:
        values = np.full(len(frame), np.nan)
        parts: list[str] = []
        for vint in [cw.forced] if cw.forced is not None else cw.vintages:
            assert vint is not None
            inside = np.array([v is vint for v in vints], dtype=bool)
            if not inside.any():
                continue
            span = _span([int(y) for y in years[inside]])
            sector = vint.sectors[concept]
            if sector is None:
                parts.append(f"missing {span} (no {concept} sector in {vint.classification})")
                continue
            if sector.variable in frame.columns:
                data = pd.to_numeric(frame[sector.variable]).to_numpy(dtype=float)
                values[inside] = data[inside]
                fed.append(sector)
            parts.append(f"{sector.describe()} {span}")
        result[concept] = values
        parts_all.append(f"{concept} = " + " + ".join(parts))
    if cw.break_2002 == "sci_only":
        n = int(gap_rows.sum())
        notes.append(
            f"break_2002='sci_only': {n} rows kept with the missing sectors empty ({gap_text})"
            if gap_text
            else "break_2002='sci_only': no rows in a vintage without a sector"
        )

    if cw.break_2002 == "error":
        notes.append("break_2002='error': no year in a vintage without a sector")
    notes.extend(
        f"approximate match {s.describe()}: {s.note}" for s in fed if s.relation == "approximate"
    )
    frame = frame.drop(columns=[v for v in cw.by_variable if v in frame.columns])
    for concept in cw.concepts:
        frame[concept] = result[concept]
    record = "crosswalk series (GB/T 4754 vintages): " + "; ".join(parts_all)
    return frame, list(cw.concepts), [record, *notes]
