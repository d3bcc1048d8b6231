"""Sector crosswalk of the talent-relevant sectors across GB/T 4754 vintages.

The China City Statistical Yearbook reports year-end employment by sector under the
industrial classification in force in the data year:

========== ============== ====================================== ==============================
data years classification IT services                            science and technology
========== ============== ====================================== ==============================
≤ 2002     GB/T 4754-1994 (none: split over G and K)             N 科学研究和综合技术服务业
2003–2011  GB/T 4754-2002 G 信息传输、计算机服务和软件业         M 科学研究、技术服务和地质勘查业
2012+      GB/T 4754-2011 I 信息传输、软件和信息技术服务业       M 科学研究和技术服务业
========== ============== ====================================== ==============================

(GB/T 4754-2017 keeps the 2011 names and letters of both sections.) :func:`sector_crosswalk`
returns the shipped table (Chinese and English names as printed, section letters, sources
and notes); :func:`yearbook_mapping` gives a :func:`~agglomera.data.read_yearbook`
``mapping`` that reads each vintage into its own column; :func:`sector_series` joins the
vintage columns into consistent ``emp_it`` and ``emp_sci`` series, with the 2002 break
(no separate IT sector) handled by an explicit option. ``read_yearbook(...,
crosswalk=True)`` does both in one step (recognising the headers of each vintage, with
``vintage=`` and the same ``break_2002`` options) and also takes a user crosswalk with the
columns of :func:`sector_crosswalk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["CONCEPTS", "Break2002", "sector_crosswalk", "sector_series", "yearbook_mapping"]

#: The harmonised sector concepts of the crosswalk.
CONCEPTS: tuple[str, ...] = ("emp_it", "emp_sci")

Break2002 = Literal["drop", "sci_only", "error"]

_DTYPES = {
    "concept": "str",
    "variable": "str",
    "classification": "str",
    "first_year": "Int64",
    "last_year": "Int64",
    "section": "str",
    "name_cn": "str",
    "name_en": "str",
    "relation": "str",
    "source": "str",
    "note": "str",
}


@cache
def _table() -> pd.DataFrame:
    path = resources.files("agglomera.reference").joinpath("data", "sector_crosswalk.csv")
    with path.open("rb") as fh:
        frame = pd.read_csv(
            fh,
            dtype=_DTYPES,
            encoding="utf-8",
            keep_default_na=False,
            na_values={"first_year": [""], "last_year": [""]},
        )
    return frame


def sector_crosswalk() -> pd.DataFrame:
    """Return the crosswalk of the talent-relevant sectors across classification vintages.

    Returns
    -------
    pandas.DataFrame
        One row per (concept, vintage): ``concept`` (``emp_it`` or ``emp_sci``),
        ``variable`` (the column name :func:`yearbook_mapping` reads the vintage into;
        empty when the vintage has no such sector), ``classification`` (GB/T 4754-1994,
        -2002, -2011), ``first_year`` and ``last_year`` (data years, nullable Int64; NA =
        open), ``section`` (letter), ``name_cn`` and ``name_en`` (as printed in the China
        City Statistical Yearbook and the NBS English headings), ``relation`` to the
        harmonised concept (exact / renamed / approximate / none), ``source`` and
        ``note``.

    Notes
    -----
    Years are data years; the yearbook edition is the following year (the 2013 edition
    reports 2012). Sources: GB/T 4754-1994, GB/T 4754-2002, GB/T 4754-2011 and
    GB/T 4754-2017 *Industrial classification for national economic activities*
    (国民经济行业分类), National Bureau of Statistics of China.

    Examples
    --------
    >>> from agglomera.data.crosswalk import sector_crosswalk
    >>> cw = sector_crosswalk()
    >>> cw.loc[cw["variable"] == "emp_it_2011", ["section", "name_cn"]].values.tolist()
    [['I', '信息传输、软件和信息技术服务业']]
    """
    return _table().copy()


def yearbook_mapping(
    *,
    template: str = "{name_cn}",
    concepts: Sequence[str] = CONCEPTS,
    years: Iterable[int] | None = None,
) -> dict[str, str]:
    """Return a :func:`~agglomera.data.read_yearbook` mapping for the sector columns.

    Parameters
    ----------
    template : str, default "{name_cn}"
        How the column label is printed, formatted with the crosswalk row (``name_cn``,
        ``name_en``, ``section``), e.g. ``"{name_cn}(万人)"`` when the unit is part of the
        label or ``"{name_cn}/从业人员"`` for a merged two-row header.
    concepts : sequence of str, default ("emp_it", "emp_sci")
        Which concepts to map.
    years : iterable of int, optional
        Data years in the file: only the vintages in force in one of them are mapped (a
        label that is not in the file makes ``read_yearbook`` fail). Default: all.

    Returns
    -------
    dict
        Source label → vintage column (``emp_it_2002``, ``emp_sci_2011``, ...). Pass it
        to ``read_yearbook(..., mapping=...)`` and then the panel to
        :func:`sector_series`. Labels of vintages absent from a file make
        ``read_yearbook`` fail: pass ``years=`` (or your own mapping to the same column
        names).

    Examples
    --------
    >>> m = yearbook_mapping(concepts=["emp_it"])
    >>> m["信息传输、计算机服务和软件业"]
    'emp_it_2002'
    """
    unknown = [c for c in concepts if c not in CONCEPTS]
    if unknown:
        raise SpecError(f"unknown concepts {format_examples(unknown)}; allowed: {CONCEPTS}.")
    table = _table()
    rows = table[table["concept"].isin(list(concepts)) & (table["variable"] != "")]
    if years is not None:
        wanted = [int(y) for y in years]
        keep = [
            any(_in_vintage(y, _year(a), _year(b)) for y in wanted)
            for a, b in zip(rows["first_year"], rows["last_year"], strict=True)
        ]
        rows = rows[keep]
    out: dict[str, str] = {}
    for row in rows.itertuples(index=False):
        try:
            label = template.format(name_cn=row.name_cn, name_en=row.name_en, section=row.section)
        except (KeyError, IndexError) as exc:
            raise SpecError(
                f"template {template!r} uses an unknown field {exc}; use {{name_cn}}, "
                "{name_en} or {section}."
            ) from None
        out[label] = str(row.variable)
    return out


def sector_series(
    panel: Panel,
    *,
    break_2002: Break2002 = "drop",
    columns: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    keep_sources: bool = False,
) -> Panel:
    """Build consistent ``emp_it`` and ``emp_sci`` series from vintage-specific columns.

    In each year the column of the classification in force is used (see
    :func:`sector_crosswalk`): 2003–2011 from ``emp_it_2002``/``emp_sci_2002``, 2012+
    from ``emp_it_2011``/``emp_sci_2011``.

    Parameters
    ----------
    panel : Panel
        Holds the vintage columns (as read with :func:`yearbook_mapping`).
    break_2002 : {"drop", "sci_only", "error"}, default "drop"
        What to do with years up to 2002, when the 1994 classification has no IT sector.
        ``"drop"`` (default): rows of those years are removed from the panel, so the
        sample starts in 2003 with both series on a comparable footing (recorded).
        ``"sci_only"``: keep the rows; ``emp_sci`` takes 科学研究和综合技术服务业
        (section N of GB/T 4754-1994, an approximate match: it excludes geological
        prospecting) from ``emp_sci_1994`` and ``emp_it`` is missing (recorded; a talent
        measure that adds both sectors is then missing for those years). ``"error"``:
        raise if the panel has any year up to 2002.
    columns : mapping of str to str, optional
        Crosswalk variable → panel column, when the panel's columns have other names
        (e.g. ``{"emp_it_2002": "it_old"}``).
    names : mapping of str to str, optional
        Names of the result columns (default ``{"emp_it": "emp_it", "emp_sci":
        "emp_sci"}``).
    keep_sources : bool, default False
        Keep the vintage columns (by default they are removed).

    Returns
    -------
    Panel
        With the two series; one provenance record says which column fed which years and
        how the 2002 break was handled.

    Raises
    ------
    DataError
        If the panel covers a vintage's years but lacks its column, a vintage column has
        values outside its vintage's years (a label read for the wrong years), a result
        name already exists, or ``break_2002="error"`` and the panel reaches 2002.
    SpecError
        If ``break_2002`` is not allowed.
    """
    if break_2002 not in ("drop", "sci_only", "error"):
        raise SpecError(
            f"break_2002={break_2002!r} is not allowed; allowed: 'drop', 'sci_only', 'error'."
        )
    table = _table()
    cols = {v: v for v in table["variable"] if v}
    for key, col in (columns or {}).items():
        if key not in cols:
            raise SpecError(f"columns has unknown key {key!r}; allowed: {sorted(cols)}.")
        cols[key] = col
    out_names = {"emp_it": "emp_it", "emp_sci": "emp_sci", **(names or {})}
    frame = panel.to_frame()
    time = panel.time
    years = frame[time].to_numpy()
    notes: list[str] = []
    early = years <= 2002
    if early.any():
        if break_2002 == "error":
            raise DataError(
                f"the panel has {int(early.sum())} rows in years up to 2002, when the "
                "classification (GB/T 4754-1994) has no separate IT sector. Fix: choose "
                "break_2002='drop' (start in 2003) or 'sci_only' (keep 2002 science series "
                "only, IT missing)."
            )
        if break_2002 == "drop":
            notes.append(
                f"break_2002='drop': {int(early.sum())} rows of years ≤ 2002 removed "
                "(GB/T 4754-1994 has no IT sector)"
            )
            frame = frame.loc[~early].reset_index(drop=True)
            if frame.empty:
                raise DataError("sector_series: no rows left after dropping years ≤ 2002.")
            years = frame[time].to_numpy()
    used: list[str] = []
    results: dict[str, np.ndarray] = {}
    descr: list[str] = []
    for concept in CONCEPTS:
        values = np.full(len(frame), np.nan)
        parts = []
        for row in table[table["concept"] == concept].itertuples(index=False):
            first, last = _year(row.first_year), _year(row.last_year)
            lo = -np.inf if first is None else first
            hi = np.inf if last is None else last
            inside = (years >= lo) & (years <= hi)
            span = _span(years[inside])
            if not row.variable:
                if inside.any():
                    parts.append(f"missing {span} (no {concept} sector in {row.classification})")
                continue
            col = cols[str(row.variable)]
            if col not in frame.columns:
                if inside.any():
                    raise DataError(
                        f"the panel covers {span} but has no column {col!r} "
                        f"({row.name_cn}, {row.classification} section {row.section}). Fix: "
                        "read it with yearbook_mapping() or pass columns={"
                        f"{row.variable!r}: 'your_column'}}."
                    )
                continue
            used.append(col)
            data = pd.to_numeric(frame[col], errors="raise").to_numpy(dtype=float)
            stray = ~inside & ~np.isnan(data)
            if stray.any():
                keys = frame.loc[stray, [panel.unit, time]].head(5)
                raise DataError(
                    f"column {col!r} ({row.name_cn}, {row.classification}) has values outside "
                    f"its years {_bounds(first, last)}: "
                    f"{format_examples(list(keys.itertuples(index=False, name=None)))}. Fix: "
                    "check which yearbook label each year was read from."
                )
            if inside.any():
                values[inside] = data[inside]
                parts.append(f"{row.name_cn} ({row.classification} {row.section}, {col}) {span}")
        results[concept] = values
        descr.append(f"{out_names[concept]} = " + " + ".join(parts))
    if break_2002 == "sci_only" and early.any():
        notes.append(
            f"break_2002='sci_only': {int(early.sum())} rows ≤ 2002 keep emp_sci from "
            "科学研究和综合技术服务业 (approximate: excludes 地质勘查) and have emp_it missing"
        )
    if not keep_sources:
        frame = frame.drop(columns=[c for c in dict.fromkeys(used)])
    clash = [n for n in out_names.values() if n in frame.columns]
    if clash:
        raise DataError(
            f"sector_series: the panel already has {format_examples(clash)}. Fix: pass "
            "names={'emp_it': ..., 'emp_sci': ...}."
        )
    for concept in CONCEPTS:
        frame[out_names[concept]] = results[concept]
    note = "sector_series (crosswalk of GB/T 4754 vintages): " + "; ".join(descr + notes)
    return Panel(frame, unit=panel.unit, time=time, provenance=(*panel.provenance, note))


def _span(years: np.ndarray) -> str:
    if len(years) == 0:
        return "no years"
    lo, hi = int(years.min()), int(years.max())
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def _in_vintage(year: int, first: int | None, last: int | None) -> bool:
    return (first is None or first <= year) and (last is None or year <= last)


def _year(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def _bounds(first: int | None, last: int | None) -> str:
    lo = "…" if first is None else str(first)
    hi = "…" if last is None else str(last)
    return f"{lo}–{hi}"
