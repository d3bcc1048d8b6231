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

The low-level helpers (:func:`decode_text`, :func:`text_rows`, :func:`open_workbook`,
:func:`select_sheet`) are shared with :mod:`agglomera.data.yearbook`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

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

TEXT_EXTENSIONS: tuple[str, ...] = (".csv", ".tsv", ".txt")
EXCEL_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xlsm")
PARQUET_EXTENSIONS: tuple[str, ...] = (".parquet", ".pq")
SUPPORTED_EXTENSIONS: tuple[str, ...] = TEXT_EXTENSIONS + EXCEL_EXTENSIONS + PARQUET_EXTENSIONS

_DELIMITERS = (",", "\t", ";", "|")
_ADCODE_NAMES = frozenset(
    {"adcode", "行政区划代码", "区划代码", "城市代码", "citycode", "city_code"}
)
_THOUSANDS_RE = {
    ",": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"),
    " ": re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d+)?$"),
    "'": re.compile(r"^[+-]?\d{1,3}('\d{3})+(\.\d+)?$"),
    ".": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"),
}


# ---------------------------------------------------------------------- public entry point
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
        frame = _read_text(
            file,
            encoding=encoding,
            na_values=na_values,
            dtype=dtype,
            header=header,
            sep=sep,
            thousands=thousands,
        )
    elif kind == "excel":
        frame = _read_excel(
            file, sheet=sheet, na_values=na_values, dtype=dtype, header=header, thousands=thousands
        )
    else:
        frame = _read_parquet(file, dtype=dtype, columns=columns)
    if columns is not None:
        frame = _select_columns(frame, columns, file)
    frame.attrs["source"] = str(file)
    return frame


# ---------------------------------------------------------------------- paths and formats
def resolve_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` to an existing regular file.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    pathlib.Path
        The same path (not resolved against symlinks).

    Raises
    ------
    DataError
        If the file does not exist (listing close names in the same folder), the folder
        does not exist, or the path is a folder.
    """
    try:
        file = Path(os.fspath(path)).expanduser()
    except TypeError:
        raise SpecError(
            f"path must be a file name (str or pathlib.Path); got {type(path).__name__}."
        ) from None
    if file.is_dir():
        raise DataError(f"{str(file)!r} is a folder, not a file. Fix: give the path of one file.")
    if file.is_file():
        return file
    folder = file.parent
    if not folder.is_dir():
        raise DataError(
            f"file not found: {str(file)!r}; the folder {str(folder)!r} does not exist either. "
            f"Fix: check the path (current working directory: {os.getcwd()!r})."
        )
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    lowered = {n.lower(): n for n in names}
    close = [lowered[n] for n in difflib.get_close_matches(file.name.lower(), lowered, 5, 0.6)]
    if close:
        hint = f" Similar files in {str(folder)!r}: {format_examples(close)}."
    elif names:
        hint = f" Files in {str(folder)!r}: {format_examples(names, limit=8)}."
    else:
        hint = f" The folder {str(folder)!r} has no files."
    raise DataError(f"file not found: {str(file)!r}.{hint} Fix: correct the file name or path.")


def file_kind(file: Path) -> str:
    """Return ``"text"``, ``"excel"`` or ``"parquet"`` for a file name.

    Raises
    ------
    DataError
        For an unsupported extension; the message lists the supported ones.
    """
    suffix = file.suffix.lower()
    if suffix in TEXT_EXTENSIONS:
        return "text"
    if suffix in EXCEL_EXTENSIONS:
        return "excel"
    if suffix in PARQUET_EXTENSIONS:
        return "parquet"
    advice = {
        ".xls": "open it in Excel or LibreOffice and save it as .xlsx",
        ".et": "open it in WPS and save it as .xlsx",
        ".json": "load it with pandas.read_json(...) and pass the frame on",
        ".dta": "load it with pandas.read_stata(...) and pass the frame on",
        ".sav": "load it with pandas.read_spss(...) and pass the frame on",
        ".gz": "decompress it first (the text inside must be .csv, .tsv or .txt)",
        ".zip": "extract it first",
    }.get(suffix, "convert it to one of these formats, or rename it if the extension is wrong")
    shown = suffix or "(no extension)"
    raise DataError(
        f"unsupported file type {shown!r} for {str(file)!r}. Supported: "
        f"{', '.join(SUPPORTED_EXTENSIONS)}. Fix: {advice}."
    )


# ---------------------------------------------------------------------- text files
def decode_text(file: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text file, detecting the encoding when it is not given.

    Parameters
    ----------
    file : pathlib.Path
        The file.
    encoding : str, optional
        Encoding to use exactly. Default: UTF-16/UTF-8 byte-order mark, then strict
        UTF-8, then strict GB18030.

    Returns
    -------
    text : str
        The decoded text (without a byte-order mark).
    encoding : str
        The encoding used: the one given, or ``"utf-16"``, ``"utf-8-sig"``, ``"utf-8"``
        or ``"gb18030"``.

    Raises
    ------
    DataError
        If the file is empty, binary (an Excel or Parquet file with a text extension) or
        cannot be decoded; the message shows the first bad byte, its offset and line.
    """
    raw = file.read_bytes()
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise DataError(
            f"the file {str(file)!r} is empty (no data). Fix: check that it was saved or "
            "downloaded completely."
        )
    _check_not_binary(file, raw, check_nul=encoding is None)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SpecError(
                f"unknown encoding {encoding!r} for {str(file)!r}. Fix: use a Python codec "
                "name such as 'utf-8', 'gb18030', 'gbk', 'big5' or 'utf-16'."
            ) from None
        try:
            return raw.decode(encoding), encoding
        except UnicodeError as exc:
            where = _decode_position(raw, exc)
            raise DataError(
                f"cannot decode {str(file)!r} with encoding={encoding!r}: {where}. Fix: "
                "omit encoding= to let agglomera detect UTF-8 or GB18030/GBK, or pass the "
                "right one (e.g. 'gb18030', 'big5', 'utf-16')."
            ) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeError as exc:
            where = _decode_position(raw, exc)
            raise DataError(
                f"{str(file)!r} starts with a UTF-16 byte-order mark but is not valid UTF-16: "
                f"{where}. Fix: re-save the file as UTF-8."
            ) from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeError as exc:
            where = _decode_position(raw, exc)
            raise DataError(
                f"{str(file)!r} starts with a UTF-8 byte-order mark but is not valid UTF-8: "
                f"{where}. Fix: re-save the file as UTF-8, or pass encoding= explicitly."
            ) from None
    failures = []
    for candidate in ("utf-8", "gb18030"):
        try:
            return raw.decode(candidate), candidate
        except UnicodeError as exc:
            failures.append(f"as {candidate.upper()}: {_decode_position(raw, exc)}")
    raise DataError(
        f"cannot decode {str(file)!r} ({'; '.join(failures)}). Fix: pass the encoding, e.g. "
        "read(..., encoding='big5') for Traditional Chinese or encoding='latin-1', or "
        "re-save the file as UTF-8."
    )


def _decode_position(raw: bytes, exc: UnicodeError) -> str:
    start = getattr(exc, "start", None)
    if not isinstance(start, int):
        return str(exc)
    line = raw[:start].count(b"\n") + 1
    bad = f"0x{raw[start]:02x}" if start < len(raw) else "end of file"
    return f"invalid byte {bad} at byte offset {start} (line {line})"


def _check_not_binary(file: Path, raw: bytes, *, check_nul: bool) -> None:
    head = raw[:8]
    if head.startswith(b"PK\x03\x04"):
        actual = "an Excel workbook or another zip archive"
        fix = "rename it to .xlsx if it is a workbook"
    elif head.startswith(b"PAR1"):
        actual = "a Parquet file"
        fix = "rename it to .parquet"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        actual = "an old Excel (.xls) workbook"
        fix = "open it in Excel or LibreOffice and save it as .xlsx"
    elif check_nul and b"\x00" in raw[:4096] and not raw.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        actual = "a binary file (it contains NUL bytes)"
        fix = "check that this is the right file; UTF-16 text needs a byte-order mark"
    else:
        return
    raise DataError(
        f"{str(file)!r} has a text extension ({file.suffix}) but is {actual}. Fix: {fix}."
    )


def _sniff_delimiter(text: str, suffix: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    best: tuple[float, int, int] | None = None
    chosen = "\t" if suffix == ".tsv" else ","
    for rank, delim in enumerate(_DELIMITERS):
        if not any(delim in ln for ln in lines):
            continue
        counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        width = max(set(counts), key=counts.count)
        if width < 2:
            continue
        share = counts.count(width) / len(counts)
        score = (share, width, -rank)
        if best is None or score > best:
            best, chosen = score, delim
    return chosen


def text_rows(
    file: Path, *, encoding: str | None = None, sep: str | None = None
) -> tuple[list[list[str | None]], str, str]:
    """Split a text file into rows of cells (empty cells are ``None``).

    Parameters
    ----------
    file : pathlib.Path
        The file.
    encoding : str, optional
        As for :func:`decode_text`.
    sep : str, optional
        Delimiter; sniffed when omitted.

    Returns
    -------
    rows : list of list
        One list of cell strings per line (ragged rows are padded with ``None``).
    encoding : str
        The encoding used.
    sep : str
        The delimiter used.
    """
    text, used = decode_text(file, encoding)
    delim = sep if sep is not None else _sniff_delimiter(text, file.suffix.lower())
    rows: list[list[str | None]] = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        rows.append([cell if cell.strip() else None for cell in row])
    width = max((len(r) for r in rows), default=0)
    return [r + [None] * (width - len(r)) for r in rows], used, delim


def _read_text(
    file: Path,
    *,
    encoding: str | None,
    na_values: Sequence[str] | None,
    dtype: Any,
    header: int | None,
    sep: str | None,
    thousands: str | None,
) -> pd.DataFrame:
    text, used = decode_text(file, encoding)
    delim = sep if sep is not None else _sniff_delimiter(text, file.suffix.lower())
    _check_header_arg(header)
    names: list[str] = []
    if header is not None:
        first = [ln for ln in text.splitlines()[header : header + 1]]
        names = next(csv.reader(first, delimiter=delim), []) if first else []
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            header=header,
            dtype=_with_adcode_dtype(names, dtype),
            na_values=list(na_values) if na_values is not None else None,
            thousands=thousands,
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"the file {str(file)!r} has no rows or columns to read (after skipping "
            f"{header or 0} rows). Fix: check the file and the header= argument."
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError(_parser_message(file, str(exc), delim)) from None
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"cannot convert the columns of {str(file)!r} with dtype={dtype!r}: "
            f"{_first_line(exc)}. Fix: correct dtype= or clean the column."
        ) from None
    frame.attrs.update({"format": "csv", "encoding": used, "sep": delim})
    return frame


def _parser_message(file: Path, detail: str, delim: str) -> str:
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delim, repr(delim))
    if match:
        expected, line, saw = match.groups()
        where = f"line {line} has {saw} fields but the header has {expected}"
    else:
        where = _first_line(detail)
    return (
        f"cannot split {str(file)!r} into columns with the {shown} delimiter: {where}. Fix: "
        "pass the delimiter explicitly (sep=','), quote fields that contain it, or remove "
        "notes below the table."
    )


def _first_line(exc: object) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_header_arg(header: Any) -> None:
    if header is not None and (not isinstance(header, int) or isinstance(header, bool)):
        raise SpecError(
            f"header must be a row number (int, 0-based) or None; got {header!r}. For "
            "multi-row yearbook headers use agglomera.read_yearbook(...)."
        )
    if header is not None and header < 0:
        raise SpecError(f"header must be >= 0 or None; got {header!r}.")


def _is_adcode_name(name: Any) -> bool:
    text = str(name).strip().lower()
    return text in _ADCODE_NAMES or text.endswith("_adcode")


def _with_adcode_dtype(names: Sequence[Any], dtype: Any) -> Any:
    codes = [n for n in names if _is_adcode_name(n)]
    if not codes:
        return dtype
    if dtype is None:
        return dict.fromkeys(codes, str)
    if isinstance(dtype, Mapping):
        return {**dict.fromkeys(codes, str), **dtype}
    return dtype


# ---------------------------------------------------------------------- Excel
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
    if isinstance(sheet, int) and not isinstance(sheet, bool):
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


def _read_excel(
    file: Path,
    *,
    sheet: str | int | None,
    na_values: Sequence[str] | None,
    dtype: Any,
    header: int | None,
    thousands: str | None,
) -> pd.DataFrame:
    _check_header_arg(header)
    workbook = open_workbook(file, read_only=True)
    try:
        ws = select_sheet(workbook, sheet, file)
        title = ws.title
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    finally:
        workbook.close()
    while rows and all(_blank(v) for v in rows[-1]):
        rows.pop()
    skip = header or 0
    if len(rows) <= skip:
        raise DataError(
            f"sheet {title!r} of {str(file)!r} is empty"
            + (f" below row {skip}" if skip else "")
            + ". Fix: choose another sheet (sheet=...) or check the header= row."
        )
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows[skip:]]
    if header is None:
        head: list[Any] = list(range(width))
        body = rows
    else:
        head, body = _header_names(rows[0]), rows[1:]
    keep = [j for j in range(width) if not _unnamed(head[j]) or any(not _blank(r[j]) for r in body)]
    head = [head[j] for j in keep]
    missing = {str(v).strip() for v in (na_values or ())}
    cleaned = [[_excel_cell(r[j], missing, thousands) for j in keep] for r in body]
    frame = pd.DataFrame.from_records(cleaned, columns=head) if cleaned else pd.DataFrame(
        columns=head
    )
    for col in frame.columns:
        if _is_adcode_name(col) and not (isinstance(dtype, Mapping) and col in dtype):
            frame[col] = _codes_as_text(frame[col])
    if dtype is not None:
        frame = _apply_dtype(frame, dtype, file)
    frame.attrs.update({"format": "xlsx", "sheet": title})
    return frame


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _unnamed(name: Any) -> bool:
    return isinstance(name, str) and name.startswith("Unnamed: ")


def _header_names(cells: Sequence[Any]) -> list[Any]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for j, value in enumerate(cells):
        if _blank(value):
            name = f"Unnamed: {j}"
        elif isinstance(value, float) and value.is_integer():
            name = str(int(value))
        else:
            name = str(value)
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _excel_cell(value: Any, missing: set[str], thousands: str | None) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text or text in missing:
            return None
        pattern = _THOUSANDS_RE.get(thousands or ",") or _generic_thousands(thousands or ",")
        if thousands is not None and pattern.match(text):
            body = text.replace(thousands, "")
            if thousands == ".":
                body = body.replace(",", ".")
            return float(body)
    return value


def _generic_thousands(sep: str) -> re.Pattern[str]:
    s = re.escape(sep)
    return re.compile(rf"^[+-]?\d{{1,3}}({s}\d{{3}})+(\.\d+)?$")


def _codes_as_text(values: pd.Series) -> pd.Series:
    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()

    return pd.Series([one(v) for v in values.tolist()], index=values.index, dtype="str")


def _apply_dtype(frame: pd.DataFrame, dtype: Any, file: Path) -> pd.DataFrame:
    if isinstance(dtype, Mapping):
        unknown = [c for c in dtype if c not in frame.columns]
        if unknown:
            raise DataError(_missing_columns_message(unknown, frame.columns, file, "dtype="))
    try:
        return frame.astype(dtype)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"cannot convert the columns of {str(file)!r} with dtype={dtype!r}: "
            f"{_first_line(exc)}. Fix: correct dtype= or clean the column."
        ) from None


# ---------------------------------------------------------------------- Parquet
def _read_parquet(file: Path, *, dtype: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(file)
        names = list(meta.schema_arrow.names)
        if columns is not None:
            missing = [c for c in columns if c not in names]
            if missing:
                raise DataError(_missing_columns_message(missing, names, file, "columns="))
        table = meta.read(columns=list(columns) if columns is not None else None)
        frame = table.to_pandas()
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise DataError(
            f"cannot read {str(file)!r} as a Parquet file: the file is damaged, truncated or "
            f"not Parquet ({type(exc).__name__}). Fix: write it again (e.g. "
            "DataFrame.to_parquet) or check the extension."
        ) from None
    if dtype is not None:
        frame = _apply_dtype(frame, dtype, file)
    frame.attrs.update({"format": "parquet"})
    return frame


# ---------------------------------------------------------------------- columns
def _select_columns(frame: pd.DataFrame, columns: Sequence[str], file: Path) -> pd.DataFrame:
    if isinstance(columns, str):
        raise SpecError(f"columns must be a list of names; got the string {columns!r}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(_missing_columns_message(missing, frame.columns, file, "columns="))
    attrs = dict(frame.attrs)
    out = frame.loc[:, list(columns)]
    out.attrs.update(attrs)
    return out


def _missing_columns_message(
    missing: Sequence[Any], available: Sequence[Any] | pd.Index, file: Path, argument: str
) -> str:
    cols = [str(c) for c in available]
    hints = []
    for name in missing:
        close = difflib.get_close_matches(str(name), cols, 3, 0.5)
        if close:
            hints.append(f"{name!r} → did you mean {format_examples(close)}?")
    hint = (" " + " ".join(hints)) if hints else ""
    return (
        f"{str(file)!r} has no column {format_examples(missing)} (asked for by {argument}).{hint} "
        f"Available columns: {format_examples(cols, limit=20)}. Fix: correct the names in "
        f"{argument} (or the header= row)."
    )


# ---------------------------------------------------------------------- raw cell grids
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
        return _workbook_grids(file, sheet), None, "xlsx"
    if sheet is not None:
        raise SpecError(f"sheet= applies only to Excel files; {file.name!r} is not a workbook.")
    where = f"file {file.name!r}"
    if kind == "parquet":
        frame = _read_parquet(file, dtype=None, columns=None)
        rows = [list(frame.columns), *frame.astype(object).to_numpy().tolist()]
        return [CellGrid(None, rows, [], where, True)], None, "parquet"
    cells, used, _ = text_rows(file, encoding=encoding)
    return [CellGrid(None, list(cells), [], where, True)], used, "csv"


def _workbook_grids(file: Path, sheet: Any) -> list[CellGrid]:
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
                    min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
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
