"""Excel workbooks (openpyxl) and raw cell grids.

:func:`open_workbook` and :func:`select_sheet` load an XLSX/XLSM file and pick a sheet with
clear errors; :class:`CellGrid` holds the raw cells and merged ranges of one sheet (or of
a text or Parquet file) and names cells in messages; :func:`workbook_grids` reads the
grids of a workbook's sheets. Re-exported by :mod:`agglomera.data.readers`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agglomera.data._cells import is_int
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["CellGrid", "column_letter", "open_workbook", "select_sheet", "workbook_grids"]


@dataclass
class CellGrid:
    """The raw cells of one sheet (or text file), with its merged ranges.

    Attributes
    ----------
    name : str or None
        Sheet name (``None`` for text and Parquet files).
    rows : list of list
        Cell values row by row (``None`` for empty cells; text files give strings).
    merges : list of tuple of int
        Merged ranges as 0-based inclusive ``(first_row, first_col, last_row, last_col)``.
    where : str
        How messages refer to the grid, e.g. ``"sheet '2018年'"``.
    is_text : bool
        True for text and Parquet files (positions are "line N, field M").
    """

    name: str | None
    rows: list[list[Any]]
    merges: list[tuple[int, int, int, int]]
    where: str
    is_text: bool

    def cell(self, row: int, col: int) -> str:
        """Refer to a cell by 0-based position, e.g. ``"sheet 'S' cell C5"``."""
        if self.is_text:
            return f"{self.where} line {row + 1}, field {col + 1}"
        return f"{self.where} cell {column_letter(col)}{row + 1}"

    def row_ref(self, row: int) -> str:
        """Refer to a row by 0-based position, e.g. ``"sheet 'S' row 5"``."""
        return f"{self.where} {'line' if self.is_text else 'row'} {row + 1}"


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based column index (0 → ``"A"``, 27 → ``"AB"``)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def open_workbook(file: Path, *, read_only: bool) -> Any:
    """Open an XLSX/XLSM workbook with openpyxl (cached values, not formulas).

    Parameters
    ----------
    file : pathlib.Path
        The workbook.
    read_only : bool
        Use openpyxl's streaming mode (faster, but merged ranges are not available).

    Returns
    -------
    openpyxl.Workbook

    Raises
    ------
    DataError
        If the file is not a readable workbook (corrupt, truncated, password-protected or
        another format with an Excel extension).
    """
    import warnings

    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(file, read_only=read_only, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, XML and its own errors
        head = file.read_bytes()[:8]
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            why = "it is an old .xls workbook or an encrypted (password-protected) one"
            fix = "open it in Excel or LibreOffice, remove any password and save it as .xlsx"
        else:
            why = f"the workbook container is damaged or not XLSX ({type(exc).__name__})"
            fix = "open it in Excel or LibreOffice and save it again as .xlsx"
        message = f"cannot read {str(file)!r} as an Excel workbook: {why}. Fix: {fix}."
        raise DataError(message) from None


def select_sheet(workbook: Any, sheet: str | int | None, file: Path) -> Any:
    """Return the worksheet named or numbered ``sheet`` (default: the first one).

    Parameters
    ----------
    workbook : openpyxl.Workbook
        An open workbook.
    sheet : str or int, optional
        Sheet name (exact, then ignoring surrounding spaces) or 0-based index.
    file : pathlib.Path
        For the error message.

    Raises
    ------
    DataError
        If there is no such sheet; the message lists the sheets.
    """
    names = list(workbook.sheetnames)
    if sheet is None:
        return workbook[names[0]]
    if is_int(sheet):
        if -len(names) <= sheet < len(names):
            return workbook[names[sheet]]
        raise DataError(
            f"{str(file)!r} has {len(names)} sheets; there is no sheet number {sheet} "
            f"(0-based). Sheets: {format_examples(names, limit=30)}. Fix: pass a name or an "
            "index from this list."
        )
    if isinstance(sheet, str):
        if sheet in names:
            return workbook[sheet]
        stripped = {n.strip(): n for n in names}
        if sheet.strip() in stripped:
            return workbook[stripped[sheet.strip()]]
        close = difflib.get_close_matches(sheet, names, 3, 0.4)
        hint = f" Did you mean {format_examples(close)}?" if close else ""
        raise DataError(
            f"{str(file)!r} has no sheet named {sheet!r}.{hint} Sheets: "
            f"{format_examples(names, limit=30)}. Fix: pass one of these names or an index."
        )
    raise SpecError(f"sheet must be a sheet name (str) or a 0-based index (int); got {sheet!r}.")


def workbook_grids(file: Path, sheet: Any) -> list[CellGrid]:
    """Return the cells and merged ranges of every sheet, or of those in ``sheet``."""
    wb = open_workbook(file, read_only=False)
    try:
        if sheet is None:
            selected = [wb[name] for name in wb.sheetnames]
        elif isinstance(sheet, (str, int)):
            selected = [select_sheet(wb, sheet, file)]
        else:
            selected = [select_sheet(wb, s, file) for s in sheet]
        out = []
        for ws in selected:
            rows = [
                list(r)
                for r in ws.iter_rows(
                    min_row=1,
                    min_col=1,
                    max_row=ws.max_row,
                    max_col=ws.max_column,
                    values_only=True,
                )
            ]
            merges = [
                (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
                for m in ws.merged_cells.ranges
            ]
            out.append(CellGrid(ws.title, rows, merges, f"sheet {ws.title!r}", False))
        return out
    finally:
        wb.close()
