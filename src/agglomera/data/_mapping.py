"""Yearbook mapping: which column holds which variable (and year) in each table.

:func:`resolve_mapping` matches the normalised mapping labels against the column labels of
every table, applies ``scope=`` to 全市/市辖区 column groups, and records the chosen
columns in ``Table.chosen``; :func:`unmapped_columns` lists the columns left out, for provenance.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from agglomera.data._cells import blank
from agglomera.data._headers import Table
from agglomera.data._workbook import column_letter
from agglomera.errors import DataError, format_examples

__all__ = ["resolve_mapping", "unmapped_columns"]


def resolve_mapping(
    tables: list[Table],
    keys: dict[str, str],
    layout: str,
    scope: str | None,
    file: Path,
    notes: list[str],
    quiet: frozenset[str] = frozenset(),
) -> None:
    """Fill in ``chosen`` of each table from ``keys`` (normalised label → variable).

    Variables in ``quiet`` are not noted as missing from a sheet of ``"sheet_per_year"``
    (the sector columns of other classification vintages).

    Raises
    ------
    DataError
        If a label is missing, its scope is ambiguous or not present, a column lacks the
        year that ``layout="years_as_columns"`` needs, or two columns give one variable.
    """
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
                if var not in present and var not in quiet:
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


def _missing_labels_message(missing: list[str], tables: list[Table], file: Path) -> str:
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


def unmapped_columns(tables: list[Table]) -> list[str]:
    """Return the labels of the columns with a header or data that are not mapped."""
    out: list[str] = []
    for t in tables:
        for c in t.columns:
            if c.index in t.chosen or c.index in (t.city_col, t.year_col):
                continue
            has_data = any(
                c.index < len(row) and not blank(row[c.index])
                for row in t.sheet.rows[t.header[1] :]
            )
            if not c.label and not c.year and not has_data:
                continue
            name = c.label or f"column {column_letter(c.index)} (no header)"
            if c.scope:
                name = f"{name}/{c.scope}"
            out.append(name)
    return list(dict.fromkeys(out))
