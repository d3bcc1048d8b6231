"""Stata ``.dta`` files with variable labels, and Excel output.

:func:`read_dta` reads a ``.dta`` file into pandas and keeps the variable labels in
``df.attrs["labels"]``; :func:`write_dta` writes a DataFrame or a
:class:`~agglomera.data.Panel` with labels (Stata 14+ format 118, UTF-8, so Chinese
labels survive); :func:`write_xlsx` writes an Excel workbook with the data, the labels
and the panel's provenance. Reading Excel, CSV and Parquet is :func:`agglomera.data.read`.

Everything goes through pandas (``StataReader.variable_labels()``,
``DataFrame.to_stata(variable_labels=...)``, ``DataFrame.to_excel``); no extra
dependency is needed.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from agglomera.data._files import resolve_path
from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["read_dta", "stata_name", "write_dta", "write_xlsx"]

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_RESERVED = frozenset(
    {
        "_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int", "long",
        "_n", "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with",
    }
)  # fmt: skip
_MAX_LABEL = 80
_EXCEL_ROWS = 1_048_576
_EXCEL_COLS = 16_384


def read_dta(
    path: str | os.PathLike[str],
    *,
    columns: list[str] | None = None,
    convert_categoricals: bool = True,
) -> pd.DataFrame:
    """Read a Stata ``.dta`` file, keeping its variable labels.

    Parameters
    ----------
    path : str or path-like
        The file (any Stata format pandas reads: 104-119).
    columns : list of str, optional
        Columns to keep.
    convert_categoricals : bool, default True
        Turn labelled values into pandas categoricals (as :func:`pandas.read_stata`).

    Returns
    -------
    pandas.DataFrame
        ``attrs["labels"]`` maps each column to its variable label (empty labels left
        out), ``attrs["data_label"]`` holds the dataset label and ``attrs["source"]``
        the file. Stata types come back as Stata stores them: ``long`` → int32, nullable
        integers with missing values → float64, and string missing values → ``""``.

    Raises
    ------
    DataError
        If the file does not exist or is not a Stata file.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.dta"
    >>> write_dta(pd.DataFrame({"gdp": [1.0]}), path, labels={"gdp": "地区生产总值（万元）"})
    >>> read_dta(path).attrs["labels"]
    {'gdp': '地区生产总值（万元）'}
    """
    file = resolve_path(path)
    try:
        with pd.io.stata.StataReader(
            file, columns=columns, convert_categoricals=convert_categoricals
        ) as reader:
            frame = reader.read()  # type: ignore[attr-defined]
            labels = reader.variable_labels()
            data_label = reader.data_label
    except (ValueError, OSError, struct.error, EOFError, IndexError, KeyError) as exc:
        raise DataError(
            f"{str(file)!r} could not be read as a Stata .dta file ({exc}). Fix: check that "
            "it is a .dta file saved by Stata (formats 104-119)."
        ) from None
    frame.attrs["labels"] = {k: v for k, v in labels.items() if v and k in frame.columns}
    frame.attrs["data_label"] = data_label
    frame.attrs["source"] = str(file)
    return frame


def stata_name(name: str, taken: set[str] | None = None) -> str:
    """Suggest a valid Stata variable name for ``name`` (ASCII, ≤ 32 characters).

    Invalid characters become ``_``, a leading digit gets a ``_`` prefix, the result is
    cut to 32 characters; names with no ASCII letter or digit become ``var``. A suffix
    makes it unique among ``taken``.

    Examples
    --------
    >>> stata_name("2018 GDP (万元)")
    '_2018_GDP'
    >>> stata_name("从业人员")
    'var'
    """
    base = re.sub(r"[^A-Za-z0-9_]+", "_", str(name)).strip("_")
    if not re.search(r"[A-Za-z0-9]", base):
        base = "var"
    if base[0].isdigit():
        base = "_" + base
    if base in _RESERVED:
        base = base + "_"
    base = base[:32]
    taken = taken or set()
    out, i = base, 1
    while out in taken or out in _RESERVED:
        suffix = f"_{i}"
        out = base[: 32 - len(suffix)] + suffix
        i += 1
    return out


def _frame_of(data: Any, what: str) -> tuple[pd.DataFrame, Panel | None]:
    if isinstance(data, Panel):
        return data.to_frame(), data
    if isinstance(data, pd.DataFrame):
        return data.copy(), None
    raise SpecError(
        f"{what}: data must be a pandas DataFrame or a Panel; got {type(data).__name__}."
    )


def _labels_of(frame: pd.DataFrame, labels: Mapping[str, str] | None) -> dict[str, str]:
    merged = {str(k): str(v) for k, v in dict(frame.attrs.get("labels", {})).items()}
    merged.update({str(k): str(v) for k, v in (labels or {}).items()})
    unknown = [k for k in merged if k not in frame.columns]
    if labels and any(k in unknown for k in labels):
        raise DataError(
            f"labels name columns that are not in the data: "
            f"{format_examples([k for k in labels if k in unknown])}."
        )
    return {k: v for k, v in merged.items() if k in frame.columns}


def write_dta(
    data: pd.DataFrame | Panel,
    path: str | os.PathLike[str],
    *,
    labels: Mapping[str, str] | None = None,
    rename: Mapping[str, str] | None = None,
    data_label: str | None = None,
) -> None:
    """Write a DataFrame or a Panel to a Stata ``.dta`` file (format 118) with labels.

    Parameters
    ----------
    data : pandas.DataFrame or Panel
        The data (a Panel is written in long form, sorted by unit and time).
    path : str or path-like
        Output file; its folder must exist.
    labels : mapping of str to str, optional
        Column → variable label (≤ 80 characters; UTF-8, so Chinese is fine). Merged over
        ``data.attrs["labels"]`` (what :func:`read_dta` returns), so a read-modify-write
        cycle keeps the labels.
    rename : mapping of str to str, optional
        Column renames applied first (e.g. the suggestions of the error message); a
        renamed column without a label gets its old name as the label.
    data_label : str, optional
        Dataset label (≤ 80 characters); default for a Panel: ``"agglomera panel:
        unit=<unit>, time=<time>"``.

    Raises
    ------
    DataError
        If a column name is not a valid Stata name -- ASCII letters, digits and ``_``,
        not starting with a digit, at most 32 characters, not reserved -- listing each
        offending column with a suggested name (pass them as ``rename=``); if a label is
        longer than 80 characters; or if the folder does not exist.

    Notes
    -----
    pandas would otherwise rename invalid columns silently (with a warning); here it is
    an error. Stata has no missing value for strings: missing text is written as ``""``.
    The panel's provenance does not fit into a .dta file; write it with
    :func:`write_xlsx` or keep ``panel.provenance``.
    """
    frame, panel = _frame_of(data, "write_dta")
    file = _output(path, (".dta",))
    label_map = _labels_of(frame, labels)
    if rename:
        missing = [k for k in rename if k not in frame.columns]
        if missing:
            raise DataError(
                f"rename names columns that are not in the data: {format_examples(missing)}."
            )
        for old, new in rename.items():
            if old in label_map:
                label_map[new] = label_map.pop(old)
            else:
                label_map.setdefault(new, str(old)[:_MAX_LABEL])
        frame = frame.rename(columns=dict(rename))
    bad = [str(c) for c in frame.columns if not _NAME_RE.match(str(c)) or str(c) in _RESERVED]
    if bad:
        taken = {str(c) for c in frame.columns if str(c) not in bad}
        pairs = []
        for name in bad:
            new = stata_name(name, taken)
            taken.add(new)
            pairs.append(f"{name!r} → {new!r}")
        raise DataError(
            f"{len(bad)} column name(s) are not valid Stata names (ASCII letters, digits and "
            f"_, not starting with a digit, at most 32 characters, not reserved): "
            f"{', '.join(pairs[:10])}{' …' if len(pairs) > 10 else ''}. Fix: pass "
            "rename={old: new} (the old names become the variable labels)."
        )
    long_labels = [k for k, v in label_map.items() if len(v) > _MAX_LABEL]
    if long_labels:
        raise DataError(
            f"variable labels longer than {_MAX_LABEL} characters (Stata's limit) for "
            f"{format_examples(long_labels)}. Fix: shorten them."
        )
    if data_label is None and panel is not None:
        data_label = f"agglomera panel: unit={panel.unit}, time={panel.time}"
    if data_label is not None and len(data_label) > _MAX_LABEL:
        raise DataError(f"data_label has {len(data_label)} characters; Stata allows {_MAX_LABEL}.")
    try:
        frame.to_stata(
            file,
            write_index=False,
            version=118,
            variable_labels=label_map or None,
            data_label=data_label,
        )
    except (ValueError, TypeError, NotImplementedError) as exc:
        raise DataError(f"could not write {str(file)!r} as Stata: {exc}") from None


def write_xlsx(
    data: pd.DataFrame | Panel,
    path: str | os.PathLike[str],
    *,
    sheet: str = "data",
    labels: Mapping[str, str] | None = None,
    provenance: bool = True,
) -> None:
    r"""Write a DataFrame or a Panel to an Excel workbook (``.xlsx``).

    Parameters
    ----------
    data : pandas.DataFrame or Panel
        The data (a Panel in long form).
    path : str or path-like
        Output file (``.xlsx``); its folder must exist.
    sheet : str, default "data"
        Name of the data sheet (≤ 31 characters, none of ``[]:*?/\``).
    labels : mapping of str to str, optional
        Column → label, merged over ``data.attrs["labels"]``; written to a ``labels``
        sheet (columns ``variable``, ``label``).
    provenance : bool, default True
        For a Panel, write its provenance records to a ``provenance`` sheet (one per row).

    Raises
    ------
    DataError
        If the data exceed Excel's 1,048,576 rows or 16,384 columns, or the folder does
        not exist.
    SpecError
        If the sheet name is not allowed by Excel.

    Notes
    -----
    Read the data back with ``agglomera.data.read(path, sheet="data")`` (adcode columns
    are kept as text).
    """
    frame, panel = _frame_of(data, "write_xlsx")
    file = _output(path, (".xlsx",))
    if not sheet or len(sheet) > 31 or re.search(r"[\[\]:*?/\\]", sheet):
        raise SpecError(
            f"sheet={sheet!r} is not a valid Excel sheet name (1-31 characters, none of []:*?/\\)."
        )
    if len(frame) + 1 > _EXCEL_ROWS or frame.shape[1] > _EXCEL_COLS:
        raise DataError(
            f"{frame.shape[0]} rows × {frame.shape[1]} columns do not fit in an Excel sheet "
            f"({_EXCEL_ROWS} rows, {_EXCEL_COLS} columns). Fix: write Parquet or .dta instead."
        )
    label_map = _labels_of(frame, labels)
    extra = {"labels", "provenance"} & {sheet}
    if extra:
        raise SpecError(f"sheet={sheet!r} clashes with the {sheet!r} sheet written alongside.")
    with pd.ExcelWriter(file, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False)
        if label_map:
            pd.DataFrame({"variable": list(label_map), "label": list(label_map.values())}).to_excel(
                writer, sheet_name="labels", index=False
            )
        if provenance and panel is not None and panel.provenance:
            pd.DataFrame({"provenance": list(panel.provenance)}).to_excel(
                writer, sheet_name="provenance", index=False
            )


def _output(path: str | os.PathLike[str], extensions: tuple[str, ...]) -> Path:
    try:
        file = Path(os.fspath(path)).expanduser()
    except TypeError:
        raise SpecError(f"path must be a file name; got {type(path).__name__}.") from None
    if file.suffix.lower() not in extensions:
        raise SpecError(f"{str(file)!r} must end with {' or '.join(extensions)} for this writer.")
    if not file.parent.is_dir():
        raise DataError(f"folder {str(file.parent)!r} does not exist. Fix: create it first.")
    return file
