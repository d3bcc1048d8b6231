"""Reading single cell values: blanks, labels, numbers and years.

These small predicates and converters are shared by :mod:`agglomera.data.readers` and
:mod:`agglomera.data.yearbook`; they know nothing about files, sheets or tables.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any, TypeGuard

__all__ = [
    "blank",
    "drop_trailing_blank_rows",
    "filled",
    "first_text",
    "grouped_number_re",
    "is_int",
    "is_number",
    "normalise_label",
    "number_re",
    "whole_text",
    "year_of",
]

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
number_re = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_YEAR_TEXT_RE = re.compile(r"^((?:19|20)\d{2})(年|年度|年末|年底)?$")


def blank(value: Any) -> bool:
    """Return True for an empty cell: ``None``, NaN or a string of spaces."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def is_int(value: Any) -> TypeGuard[int]:
    """Return True for an ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def whole_text(value: Any) -> str:
    """Return ``str(value)``, printing whole floats without the decimal part (2018.0 → "2018")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normalise_label(text: Any) -> str:
    r"""Normalise a header label or mapping key for matching.

    Full-width ASCII characters (``（）／，：`` and full-width letters and digits) become
    their half-width forms and all whitespace (including the full-width space ``U+3000``
    and line breaks inside Excel cells) is removed. Numbers that are whole (``2018.0``)
    print without the decimal part.

    Parameters
    ----------
    text : Any
        A header cell, sheet name or mapping key.

    Returns
    -------
    str

    Examples
    --------
    >>> normalise_label(" 年末单位从业人员数（万人）")
    '年末单位从业人员数(万人)'
    >>> normalise_label("信息传输、计算机\n服务和软件业 / 从业人员")
    '信息传输、计算机服务和软件业/从业人员'
    """
    if text is None:
        return ""
    return "".join(whole_text(text).translate(_FULLWIDTH).split())


@cache
def grouped_number_re(sep: str) -> re.Pattern[str]:
    r"""Return the pattern of a number with thousands separator ``sep``, e.g. ``1,234.5``.

    With ``"."`` as the separator the decimal mark is a comma (``1.234,5``).

    Examples
    --------
    >>> bool(grouped_number_re(",").match("12,345.6")), bool(grouped_number_re(",").match("1,23"))
    (True, False)
    """
    if sep == ".":
        return re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
    s = re.escape(sep)
    return re.compile(rf"^[+-]?\d{{1,3}}({s}\d{{3}})+(\.\d+)?$")


def is_number(value: Any) -> bool:
    """Return True for a number or a text holding one (``"1.5"``, ``"1,234"``)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        text = normalise_label(value)
        return bool(number_re.match(text) or grouped_number_re(",").match(text))
    return False


def year_of(value: Any) -> int | None:
    """Return the year (1949-2100) a cell holds (``2018``, ``"2018年"``), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            return None
        year = int(value)
        return year if 1949 <= year <= 2100 else None
    if isinstance(value, str):
        match = _YEAR_TEXT_RE.match(normalise_label(value))
        return int(match.group(1)) if match else None
    return None


def filled(row: list[Any], skip: int | None = None) -> list[Any]:
    """Return the non-blank cells of ``row``, leaving out column ``skip``."""
    return [v for j, v in enumerate(row) if j != skip and not blank(v)]


def first_text(row: list[Any]) -> str:
    """Return the first non-blank cell of ``row`` as stripped text (``""`` if none)."""
    return next((str(v).strip() for v in row if not blank(v)), "")


def drop_trailing_blank_rows(rows: list[list[Any]]) -> None:
    """Remove the rows at the end of ``rows`` whose cells are all blank (in place)."""
    while rows and all(blank(v) for v in rows[-1]):
        rows.pop()
