"""Read CSV/TSV/TXT, Excel (XLSX/XLSM) and Parquet files into pandas with clear errors.

:func:`read` is the single entry point (also ``agglomera.read`` and
``agglomera.data.read``). It detects the encoding of text files without any external
dependency, sniffs the delimiter, keeps adcode-like columns as text and turns every
failure (missing file, wrong extension, empty or corrupt file, undecodable bytes, unknown
sheet, missing columns) into an :class:`agglomera.errors.DataError` whose one-paragraph
message names the file and says how to fix it.

Encoding detection for text files (when ``encoding`` is not given):

1. a UTF-16 byte-order mark (``FF FE`` / ``FE FF``, what Excel writes for "Unicode text")
   → ``"utf-16"``;
2. a UTF-8 byte-order mark (``EF BB BF``, Excel's "CSV UTF-8") → ``"utf-8-sig"``
   (the mark is removed);
3. strict UTF-8 → ``"utf-8"``;
4. strict GB18030 → ``"gb18030"`` (a superset of GBK and GB2312, so files saved as
   "ANSI" by Chinese-locale Windows or Excel decode correctly).

The encoding used is stored in ``df.attrs["encoding"]`` and the file in
``df.attrs["source"]``.

:func:`read_grids` gives the raw cells of a file for :mod:`agglomera.data.yearbook`. The
low-level helpers live in private modules and are re-exported here: paths and formats in
``_files`` (:func:`resolve_path`, :func:`file_kind`), text decoding in ``_text``
(:func:`decode_text`, :func:`text_rows`), workbooks and grids in ``_workbook``
(:func:`open_workbook`, :func:`select_sheet`, :class:`CellGrid`), DataFrame building in
``_loaders``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from agglomera.data._files import (
    EXCEL_EXTENSIONS,
    PARQUET_EXTENSIONS,
    SUPPORTED_EXTENSIONS,
    TEXT_EXTENSIONS,
    file_kind,
    resolve_path,
)
from agglomera.data._loaders import (
    read_excel_frame,
    read_parquet_frame,
    read_text_frame,
    select_columns,
)
from agglomera.data._text import decode_text, text_rows
from agglomera.data._workbook import (
    CellGrid,
    column_letter,
    open_workbook,
    select_sheet,
    workbook_grids,
)
from agglomera.errors import DataError, SpecError

__all__ = [
    "EXCEL_EXTENSIONS",
    "PARQUET_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "CellGrid",
    "column_letter",
    "decode_text",
    "file_kind",
    "open_workbook",
    "read",
    "read_grids",
    "resolve_path",
    "select_sheet",
    "text_rows",
]


def read(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    na_values: Sequence[str] | None = None,
    dtype: Any = None,
    columns: Sequence[str] | None = None,
    header: int | None = 0,
    sep: str | None = None,
    thousands: str | None = None,
) -> pd.DataFrame:
    r"""Read a CSV/TSV/TXT, XLSX/XLSM or Parquet file into a pandas DataFrame.

    Parameters
    ----------
    path : str or path-like
        The file. The format follows the extension: ``.csv``, ``.tsv``, ``.txt`` (text;
        delimiter sniffed), ``.xlsx``, ``.xlsm`` (Excel, read with openpyxl; cached
        formula values are used), ``.parquet``, ``.pq`` (pyarrow).
    sheet : str or int, optional
        Excel only: sheet name or 0-based index. Default: the first sheet.
    encoding : str, optional
        Text only: the encoding to use (honoured exactly, e.g. ``"gbk"``, ``"big5"``).
        By default it is detected: UTF-16 or UTF-8 byte-order mark, then strict UTF-8,
        then GB18030 (superset of GBK). Recorded in ``df.attrs["encoding"]``.
    na_values : sequence of str, optional
        Extra strings to read as missing, e.g. ``["—", "-", "…"]`` for yearbook
        placeholders. For Excel files, text cells equal to one of them (after stripping
        spaces) become missing; empty text cells are always missing.
    dtype : type, str or mapping, optional
        Passed through to pandas (``read_csv(dtype=...)``; ``astype`` for Excel and
        Parquet), e.g. ``{"code": str}`` to keep leading zeros.
    columns : sequence of str, optional
        Columns to keep, in this order. A name that is not in the file is an error that
        lists close matches.
    header : int or None, default 0
        Row (0-based) holding the column names; rows above it are skipped. ``None``: no
        header, columns are numbered ``0, 1, …``. Ignored for Parquet.
    sep : str, optional
        Text only: the delimiter. By default it is sniffed among ``, \t ; |`` (``.tsv``
        falls back to tab, others to comma). Recorded in ``df.attrs["sep"]``.
    thousands : str, optional
        Thousands separator in numbers, e.g. ``","`` to read ``"1,234"`` as 1234. By
        default numbers with separators stay text.

    Returns
    -------
    pandas.DataFrame
        With ``attrs`` ``"source"`` (the path), ``"format"`` (``"csv"``, ``"xlsx"`` or
        ``"parquet"``) and, as applicable, ``"encoding"``, ``"sep"`` and ``"sheet"``.

    Raises
    ------
    DataError
        If the file does not exist (close file names in the same folder are listed), has
        an unsupported extension, is empty, cannot be decoded (the byte offset is shown),
        is a corrupt workbook or Parquet file, has no such sheet (the sheets are listed)
        or lacks a requested column (close matches are listed).
    SpecError
        If an option does not apply to the file type (e.g. ``sheet`` for a CSV).

    Notes
    -----
    Columns named like administrative codes (``adcode``, ``行政区划代码``, ``区划代码``,
    ``城市代码``, ``city_code``; case-insensitive) are read as text unless ``dtype``
    says otherwise, so that codes compare equal to the 6-character strings used by
    :mod:`agglomera.reference`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from agglomera.data import read
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "gdp.csv").write_bytes("城市,adcode,gdp\n杭州市,330100,1.8\n".encode("gbk"))
    >>> df = read(folder / "gdp.csv")
    >>> df.attrs["encoding"], df["adcode"].tolist(), df["gdp"].tolist()
    ('gb18030', ['330100'], [1.8])
    """
    file = resolve_path(path)
    kind = file_kind(file)
    if file.stat().st_size == 0:
        raise DataError(
            f"the file {str(file)!r} is empty (0 bytes). Fix: check that it was saved or "
            "downloaded completely."
        )
    if kind != "excel" and sheet is not None:
        raise SpecError(
            f"sheet={sheet!r} applies only to Excel files; {file.name!r} is a "
            f"{file.suffix} file. Fix: drop the sheet argument."
        )
    if kind != "text":
        for name, value in (("encoding", encoding), ("sep", sep)):
            if value is not None:
                raise SpecError(
                    f"{name}={value!r} applies only to text files (.csv, .tsv, .txt); "
                    f"{file.name!r} is a {file.suffix} file. Fix: drop the {name} argument."
                )
    if thousands is not None and (len(thousands) != 1 or thousands.isdigit()):
        raise SpecError(f"thousands must be a single non-digit character; got {thousands!r}.")
    if kind == "text":
        frame = read_text_frame(
            file,
            encoding=encoding,
            na_values=na_values,
            dtype=dtype,
            header=header,
            sep=sep,
            thousands=thousands,
        )
    elif kind == "excel":
        frame = read_excel_frame(
            file, sheet=sheet, na_values=na_values, dtype=dtype, header=header, thousands=thousands
        )
    else:
        frame = read_parquet_frame(file, dtype=dtype, columns=columns)
    if columns is not None:
        frame = select_columns(frame, columns, file)
    frame.attrs["source"] = str(file)
    return frame


def read_grids(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | Sequence[str | int] | None = None,
    encoding: str | None = None,
) -> tuple[list[CellGrid], str | None, str]:
    """Read the raw cells of a file, one :class:`CellGrid` per sheet.

    Parameters
    ----------
    path : str or path-like
        XLSX/XLSM (every sheet, or those named in ``sheet``), CSV/TSV/TXT or Parquet (one
        grid; the column names are the first row).
    sheet : str, int or sequence of them, optional
        Excel sheets to read; default all.
    encoding : str, optional
        Text files: as for :func:`read`.

    Returns
    -------
    grids : list of CellGrid
    encoding : str or None
        The encoding used for a text file.
    format : str
        ``"xlsx"``, ``"csv"`` or ``"parquet"``.
    """
    file = resolve_path(path)
    kind = file_kind(file)
    if file.stat().st_size == 0:
        raise DataError(f"the file {str(file)!r} is empty (0 bytes). Fix: check the download.")
    if kind == "excel":
        if encoding is not None:
            raise SpecError(f"encoding= applies only to text files; {file.name!r} is a workbook.")
        return workbook_grids(file, sheet), None, "xlsx"
    if sheet is not None:
        raise SpecError(f"sheet= applies only to Excel files; {file.name!r} is not a workbook.")
    where = f"file {file.name!r}"
    if kind == "parquet":
        frame = read_parquet_frame(file, dtype=None, columns=None)
        rows = [list(frame.columns), *frame.astype(object).to_numpy().tolist()]
        return [CellGrid(None, rows, [], where, True)], None, "parquet"
    cells, used, _ = text_rows(file, encoding=encoding)
    return [CellGrid(None, list(cells), [], where, True)], used, "csv"
