"""Building pandas DataFrames from text, Excel and Parquet files for :func:`read`.

One private reader per format (:func:`read_text_frame`, :func:`read_excel_frame`,
:func:`read_parquet_frame`) plus what they share: the ``header=`` check, adcode-like
columns kept as text, ``dtype=`` conversion and column selection, each failure turned
into a :class:`~agglomera.errors.DataError` that names the file.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from agglomera.data._cells import (
    blank,
    drop_trailing_blank_rows,
    grouped_number_re,
    is_int,
    whole_text,
)
from agglomera.data._text import decode_and_sniff
from agglomera.data._workbook import open_workbook, select_sheet
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["read_excel_frame", "read_parquet_frame", "read_text_frame", "select_columns"]

_ADCODE_NAMES = frozenset(
    {"adcode", "行政区划代码", "区划代码", "城市代码", "citycode", "city_code"}
)


# ---------------------------------------------------------------------- text
def read_text_frame(
    file: Path,
    *,
    encoding: str | None,
    na_values: Sequence[str] | None,
    dtype: Any,
    header: int | None,
    sep: str | None,
    thousands: str | None,
) -> pd.DataFrame:
    """Read a CSV/TSV/TXT file with pandas (encoding detected, delimiter sniffed)."""
    text, used, delim = decode_and_sniff(file, encoding, sep)
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
        raise _dtype_error(file, dtype, exc) from None
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
    if header is not None and not is_int(header):
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
def read_excel_frame(
    file: Path,
    *,
    sheet: str | int | None,
    na_values: Sequence[str] | None,
    dtype: Any,
    header: int | None,
    thousands: str | None,
) -> pd.DataFrame:
    """Read one sheet of an XLSX/XLSM workbook (cached values) into a DataFrame."""
    _check_header_arg(header)
    workbook = open_workbook(file, read_only=True)
    try:
        ws = select_sheet(workbook, sheet, file)
        title = ws.title
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    finally:
        workbook.close()
    drop_trailing_blank_rows(rows)  # openpyxl gives no NaN: blank is None or spaces here
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
    keep = [j for j in range(width) if not _unnamed(head[j]) or any(not blank(r[j]) for r in body)]
    head = [head[j] for j in keep]
    missing = {str(v).strip() for v in (na_values or ())}
    cleaned = [[_excel_cell(r[j], missing, thousands) for j in keep] for r in body]
    frame = (
        pd.DataFrame.from_records(cleaned, columns=head) if cleaned else pd.DataFrame(columns=head)
    )
    for col in frame.columns:
        if _is_adcode_name(col) and not (isinstance(dtype, Mapping) and col in dtype):
            frame[col] = _codes_as_text(frame[col])
    if dtype is not None:
        frame = _apply_dtype(frame, dtype, file)
    frame.attrs.update({"format": "xlsx", "sheet": title})
    return frame


def _unnamed(name: Any) -> bool:
    return isinstance(name, str) and name.startswith("Unnamed: ")


def _header_names(cells: Sequence[Any]) -> list[Any]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for j, value in enumerate(cells):
        name = f"Unnamed: {j}" if blank(value) else whole_text(value)
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
        if thousands is not None and grouped_number_re(thousands).match(text):
            body = text.replace(thousands, "")
            if thousands == ".":
                body = body.replace(",", ".")
            return float(body)
    return value


def _codes_as_text(values: pd.Series) -> pd.Series:
    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        return whole_text(v).strip()

    return pd.Series([one(v) for v in values.tolist()], index=values.index, dtype="str")


# ---------------------------------------------------------------------- Parquet
def read_parquet_frame(file: Path, *, dtype: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    """Read a Parquet file with pyarrow (only ``columns`` when given)."""
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


# ---------------------------------------------------------------------- dtype and columns
def _apply_dtype(frame: pd.DataFrame, dtype: Any, file: Path) -> pd.DataFrame:
    if isinstance(dtype, Mapping):
        unknown = [c for c in dtype if c not in frame.columns]
        if unknown:
            raise DataError(_missing_columns_message(unknown, frame.columns, file, "dtype="))
    try:
        return frame.astype(dtype)
    except (ValueError, TypeError) as exc:
        raise _dtype_error(file, dtype, exc) from None


def _dtype_error(file: Path, dtype: Any, exc: Exception) -> DataError:
    return DataError(
        f"cannot convert the columns of {str(file)!r} with dtype={dtype!r}: "
        f"{_first_line(exc)}. Fix: correct dtype= or clean the column."
    )


def select_columns(frame: pd.DataFrame, columns: Sequence[str], file: Path) -> pd.DataFrame:
    """Keep ``columns`` of ``frame`` in this order (and its ``attrs``)."""
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
