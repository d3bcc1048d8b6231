"""Finding input files and telling their format from the extension.

:func:`resolve_path` turns a user path into an existing file (or a :class:`DataError` that
lists close file names); :func:`file_kind` maps the extension to ``"text"``, ``"excel"``
or ``"parquet"``. Both are re-exported by :mod:`agglomera.data.readers`.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "EXCEL_EXTENSIONS",
    "PARQUET_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "file_kind",
    "resolve_path",
]

TEXT_EXTENSIONS: tuple[str, ...] = (".csv", ".tsv", ".txt")
EXCEL_EXTENSIONS: tuple[str, ...] = (".xlsx", ".xlsm")
PARQUET_EXTENSIONS: tuple[str, ...] = (".parquet", ".pq")
SUPPORTED_EXTENSIONS: tuple[str, ...] = TEXT_EXTENSIONS + EXCEL_EXTENSIONS + PARQUET_EXTENSIONS


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
