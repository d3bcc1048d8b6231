"""Text files: encoding detection and decoding, delimiter sniffing, rows of cells.

Encoding detection (when no encoding is given): a UTF-16 byte-order mark, then a UTF-8
byte-order mark, then strict UTF-8, then strict GB18030 (a superset of GBK and GB2312).
:func:`decode_text` and :func:`text_rows` are re-exported by
:mod:`agglomera.data.readers`.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from agglomera.errors import DataError, SpecError

__all__ = ["decode_and_sniff", "decode_text", "sniff_delimiter", "text_rows"]

_DELIMITERS = (",", "\t", ";", "|")


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
        problem = f"cannot decode {str(file)!r} with encoding={encoding!r}"
        fix = (
            "omit encoding= to let agglomera detect UTF-8 or GB18030/GBK, or pass the "
            "right one (e.g. 'gb18030', 'big5', 'utf-16')."
        )
        return _decode_or_raise(raw, encoding, problem, fix), encoding
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problem = f"{str(file)!r} starts with a UTF-16 byte-order mark but is not valid UTF-16"
        return _decode_or_raise(raw, "utf-16", problem, "re-save the file as UTF-8."), "utf-16"
    if raw.startswith(codecs.BOM_UTF8):
        problem = f"{str(file)!r} starts with a UTF-8 byte-order mark but is not valid UTF-8"
        fix = "re-save the file as UTF-8, or pass encoding= explicitly."
        return _decode_or_raise(raw, "utf-8-sig", problem, fix), "utf-8-sig"
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


def _decode_or_raise(raw: bytes, encoding: str, problem: str, fix: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeError as exc:
        where = _decode_position(raw, exc)
        raise DataError(f"{problem}: {where}. Fix: {fix}") from None


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
    elif (
        check_nul
        and b"\x00" in raw[:4096]
        and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        actual = "a binary file (it contains NUL bytes)"
        fix = "check that this is the right file; UTF-16 text needs a byte-order mark"
    else:
        return
    raise DataError(
        f"{str(file)!r} has a text extension ({file.suffix}) but is {actual}. Fix: {fix}."
    )


def sniff_delimiter(text: str, suffix: str) -> str:
    r"""Return the delimiter among ``, \t ; |`` that splits most lines into equal widths.

    Falls back to tab for ``.tsv`` and to comma otherwise.
    """
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


def decode_and_sniff(file: Path, encoding: str | None, sep: str | None) -> tuple[str, str, str]:
    """Return the text, the encoding used and the delimiter (``sep`` or sniffed)."""
    text, used = decode_text(file, encoding)
    delim = sep if sep is not None else sniff_delimiter(text, file.suffix.lower())
    return text, used, delim


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
    text, used, delim = decode_and_sniff(file, encoding, sep)
    rows: list[list[str | None]] = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        rows.append([cell if cell.strip() else None for cell in row])
    width = max((len(r) for r in rows), default=0)
    return [r + [None] * (width - len(r)) for r in rows], used, delim
