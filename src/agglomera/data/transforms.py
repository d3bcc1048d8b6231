"""Recorded transforms of a :class:`~agglomera.data.Panel`.

Every function returns a **new** panel with one more provenance record that says exactly
what was done (the formula, the options and how many values were affected), so that the
report's methods section can list the data preparation step by step. Nothing is
imputed, clipped or dropped without a record; interpolated cells are flagged per cell.

Functions: :func:`log`, :func:`per_capita`, :func:`per_10k`, :func:`deflate`,
:func:`winsorise`, :func:`interpolate`, :func:`lag`, :func:`lead`, :func:`diff`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel, _as_adcode
from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "deflate",
    "diff",
    "interpolate",
    "lag",
    "lead",
    "log",
    "per_10k",
    "per_capita",
    "winsorise",
]


# ---------------------------------------------------------------------- helpers
def _values(panel: Panel, var: str) -> np.ndarray:
    values = panel.column(var)
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise DataError(f"column {var!r} must be numeric; it has dtype {values.dtype}.")
    return values.to_numpy(dtype=float)


def _target(panel: Panel, name: str, *, replace_ok: str | None = None) -> None:
    if name in (panel.unit, panel.time):
        raise DataError(f"the result name {name!r} is a key column. Fix: choose another name=.")
    if name in panel and name != replace_ok:
        raise DataError(
            f"column {name!r} already exists. Fix: pass name= (or drop the column first)."
        )


def _keys(panel: Panel, mask: np.ndarray) -> str:
    frame = panel.to_frame()
    keys = frame.loc[mask, [panel.unit, panel.time]]
    return format_examples(list(keys.itertuples(index=False, name=None)))


def _n_missing(values: np.ndarray) -> str:
    n = int(np.isnan(values).sum())
    return f"; {n} missing" if n else ""


# ---------------------------------------------------------------------- scale transforms
def log(panel: Panel, var: str, *, name: str | None = None, offset: float = 0.0) -> Panel:
    """Add the natural logarithm ``ln(var + offset)``.

    Parameters
    ----------
    panel : Panel
        The panel.
    var : str
        Numeric variable.
    name : str, optional
        Result column (default ``ln_{var}``).
    offset : float, default 0.0
        Added before taking the log (e.g. 1 for counts with zeros); recorded.

    Raises
    ------
    DataError
        If ``var + offset`` is zero or negative somewhere (the rows are named) -- the log
        is never silently missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from agglomera import Panel
    >>> p = Panel(pd.DataFrame({"c": ["a"], "t": [2010], "x": [1.0]}), unit="c", time="t")
    >>> log(p, "x").provenance[-1]
    'log: ln_x = ln(x); 1 values'
    """
    name = name or f"ln_{var}"
    _target(panel, name)
    x = _values(panel, var) + offset
    bad = x <= 0
    if bad.any():
        raise DataError(
            f"log: {var}{' + ' + format(offset, 'g') if offset else ''} is zero or negative in "
            f"{int(bad.sum())} rows: {_keys(panel, bad)}. Fix: pass offset= (recorded) or set "
            "those values to missing explicitly."
        )
    formula = f"ln({var} + {offset:g})" if offset else f"ln({var})"
    note = f"log: {name} = {formula}; {int((~np.isnan(x)).sum())} values{_n_missing(x)}"
    return panel.with_columns(note, **{name: np.log(x)})


def per_capita(
    panel: Panel,
    var: str,
    population: str,
    *,
    name: str | None = None,
    scale: float = 1.0,
) -> Panel:
    """Add ``scale × var / population``.

    Parameters
    ----------
    panel : Panel
        The panel.
    var, population : str
        Numerator and population columns.
    name : str, optional
        Result column (default ``{var}_pc``).
    scale : float, default 1.0
        Multiplier, e.g. 10,000 when GRP is in 万元 and population in persons; recorded.

    Raises
    ------
    DataError
        If the population is zero or negative somewhere (the rows are named).
    """
    name = name or f"{var}_pc"
    _target(panel, name)
    num = _values(panel, var)
    pop = _values(panel, population)
    bad = pop <= 0
    if bad.any():
        raise DataError(
            f"per_capita: {population!r} is zero or negative in {int(bad.sum())} rows: "
            f"{_keys(panel, bad)}."
        )
    values = scale * num / pop
    factor = f"{scale:g} × " if scale != 1.0 else ""
    note = f"per_capita: {name} = {factor}{var} / {population}{_n_missing(values)}"
    return panel.with_columns(note, **{name: values})


def per_10k(
    panel: Panel,
    var: str,
    population: str,
    *,
    population_unit: Literal["persons", "10k"],
    name: str | None = None,
) -> Panel:
    """Add ``var`` per 10,000 people (e.g. professional and technical personnel per 10k).

    Parameters
    ----------
    panel : Panel
        The panel.
    var, population : str
        Count and population columns.
    population_unit : {"persons", "10k"}
        Unit of ``population`` -- required, because yearbooks report population in 万人
        (``"10k"``: the result is ``var / population``) while censuses count persons
        (``"persons"``: ``10000 × var / population``).
    name : str, optional
        Result column (default ``{var}_per10k``).

    Raises
    ------
    SpecError
        If ``population_unit`` is not allowed.
    DataError
        If the population is zero or negative somewhere.
    """
    if population_unit not in ("persons", "10k"):
        raise SpecError(
            f"population_unit={population_unit!r} is not allowed; use 'persons' or '10k' "
            "(population in 万人)."
        )
    name = name or f"{var}_per10k"
    _target(panel, name)
    num = _values(panel, var)
    pop = _values(panel, population)
    bad = pop <= 0
    if bad.any():
        raise DataError(
            f"per_10k: {population!r} is zero or negative in {int(bad.sum())} rows: "
            f"{_keys(panel, bad)}."
        )
    if population_unit == "persons":
        values = 10000.0 * num / pop
        formula = f"10000 × {var} / {population} (population in persons)"
    else:
        values = num / pop
        formula = f"{var} / {population} (population in 10,000 persons)"
    note = f"per_10k: {name} = {formula}{_n_missing(values)}"
    return panel.with_columns(note, **{name: values})


# ---------------------------------------------------------------------- deflation
def _province_keys() -> tuple[dict[str, str], dict[str, str]]:
    """Return (adcode → province_cn, any province label → province_cn)."""
    from agglomera import reference
    from agglomera.data.harmonise import _short_province

    table = reference.cities()
    of_city = dict(zip(table["adcode"], table["province_cn"], strict=True))
    labels: dict[str, str] = {}
    for cols in zip(table["province_cn"], table["province_en"], table["province_iso"], strict=True):
        cn = str(cols[0])
        for label in (*cols, _short_province(cn)):
            if isinstance(label, str) and label:
                labels[label.casefold()] = cn
    return of_city, labels


def deflate(
    panel: Panel,
    var: str,
    price_index: pd.DataFrame,
    *,
    base_year: int,
    by: Literal["province", "nation"] = "province",
    index_type: Literal["level", "previous_year"] = "level",
    name: str | None = None,
    index_column: str = "index",
    province_column: str = "province",
    year_column: str = "year",
) -> Panel:
    """Express ``var`` in constant prices of ``base_year`` with a user price index.

    ``var_real[i, t] = var[i, t] / (P[g, t] / P[g, base_year])`` where ``g`` is the
    province of city ``i`` (``by="province"``) or the nation (``by="nation"``).

    Parameters
    ----------
    panel : Panel
        Unit column = city adcodes (their province comes from
        :func:`agglomera.reference.cities`) when ``by="province"``.
    var : str
        Nominal variable (current prices).
    price_index : pandas.DataFrame
        Columns ``province_column`` (``by="province"``; Chinese full or short names,
        English names or ISO 3166-2 codes), ``year_column`` and ``index_column``.
    base_year : int
        The year whose prices the result is expressed in (must be in the index).
    by : {"province", "nation"}, default "province"
        Which index applies to a city.
    index_type : {"level", "previous_year"}, default "level"
        ``"level"``: an index with any fixed base (e.g. 2000 = 100). ``"previous_year"``:
        the chained index (上年 = 100) that yearbooks print; it is cumulated within each
        province first, which needs consecutive years.
    name : str, optional
        Result column (default ``{var}_real``).
    index_column, province_column, year_column : str
        Column names in ``price_index``.

    Raises
    ------
    DataError
        If province-years (or years) needed by the panel or the base year are missing from
        the index (they are named), a province label is unknown, the index is not
        positive, a chained index has gaps, or a unit is not a city adcode.

    Notes
    -----
    The CPI (居民消费价格指数) or the GDP deflator by province are the usual choices;
    the choice is the user's and is recorded with the base year.
    """
    if by not in ("province", "nation"):
        raise SpecError(f"by={by!r} is not allowed; use 'province' or 'nation'.")
    if index_type not in ("level", "previous_year"):
        raise SpecError(
            f"index_type={index_type!r} is not allowed; use 'level' or 'previous_year'."
        )
    name = name or f"{var}_real"
    _target(panel, name)
    x = _values(panel, var)
    need = [year_column, index_column] + ([province_column] if by == "province" else [])
    missing_cols = [c for c in need if c not in price_index.columns]
    if missing_cols:
        raise DataError(
            f"deflate: price_index lacks column(s) {format_examples(missing_cols)}; it has "
            f"{format_examples(list(price_index.columns))}. Fix: pass index_column=, "
            "province_column=, year_column=."
        )
    idx = price_index[need].copy()
    idx[year_column] = pd.to_numeric(idx[year_column], errors="raise").astype("int64")
    idx[index_column] = pd.to_numeric(idx[index_column], errors="raise").astype(float)
    frame = panel.to_frame()
    if by == "province":
        of_city, labels = _province_keys()
        codes = frame[panel.unit].map(_as_adcode)
        unknown_units = sorted({c for c in codes if c not in of_city})
        if unknown_units:
            raise DataError(
                f"deflate(by='province'): units that are not city adcodes: "
                f"{format_examples(unknown_units)}. Fix: harmonise the units to adcodes, or "
                "use by='nation'."
            )
        groups = codes.map(of_city).to_numpy()
        raw = idx[province_column].astype(str).str.strip()
        bad_labels = sorted({p for p in raw if p.casefold() not in labels})
        if bad_labels:
            raise DataError(
                f"deflate: unknown province labels in price_index: {format_examples(bad_labels)}. "
                "Fix: use Chinese names (浙江省 or 浙江), English names or ISO codes (CN-ZJ)."
            )
        idx["_g"] = [labels[p.casefold()] for p in raw]
    else:
        groups = np.full(len(frame), "nation", dtype=object)
        idx["_g"] = "nation"
    dup = idx.duplicated(["_g", year_column], keep=False)
    if dup.any():
        pairs = list(
            idx.loc[dup, ["_g", year_column]].drop_duplicates().itertuples(index=False, name=None)
        )
        raise DataError(
            f"deflate: price_index has duplicate (province, year) rows: {format_examples(pairs)}."
        )
    if (idx[index_column] <= 0).any() or idx[index_column].isna().any():
        raise DataError("deflate: the price index must be positive and not missing.")
    if index_type == "previous_year":
        idx = idx.sort_values(["_g", year_column])
        gaps = idx.groupby("_g")[year_column].apply(lambda s: bool((s.diff().dropna() != 1).any()))
        if gaps.any():
            raise DataError(
                f"deflate(index_type='previous_year'): years are not consecutive for "
                f"{format_examples(list(gaps[gaps].index))}; a chained index cannot be cumulated "
                "across a gap."
            )
        idx[index_column] = idx.groupby("_g")[index_column].transform(
            lambda s: (s / 100.0).cumprod()
        )
    level = idx.set_index(["_g", year_column])[index_column]
    years = frame[panel.time].to_numpy()
    need_keys = set(zip(groups, years, strict=True)) | {(g, base_year) for g in set(groups)}
    absent = sorted(k for k in need_keys if k not in level.index)
    if absent:
        what = "province-years" if by == "province" else "years"
        shown = absent if by == "province" else [k[1] for k in absent]
        raise DataError(
            f"deflate: the price index lacks {len(absent)} {what} the panel needs (base year "
            f"{base_year} included): {format_examples(shown, limit=10)}. Fix: extend the index."
        )
    p_t = level.reindex(pd.MultiIndex.from_arrays([groups, years])).to_numpy()
    p_0 = level.reindex(
        pd.MultiIndex.from_arrays([groups, np.full(len(years), base_year)])
    ).to_numpy()
    values = x / (p_t / p_0)
    scope = (
        "by province (city → province from the reference table)" if by == "province" else "national"
    )
    kind = (
        "level index" if index_type == "level" else "chained previous-year = 100 index, cumulated"
    )
    note = (
        f"deflate: {name} = {var} / (P[t] / P[{base_year}]) with the user price index {scope}, "
        f"{kind}; constant {base_year} prices{_n_missing(values)}"
    )
    return panel.with_columns(note, **{name: values})


# ---------------------------------------------------------------------- outliers and gaps
def winsorise(
    panel: Panel,
    var: str,
    limits: tuple[float, float] = (0.01, 0.99),
    *,
    by: Literal["year", "pooled"] = "year",
    name: str | None = None,
    method: str = "linear",
) -> Panel:
    """Clip ``var`` to its ``limits`` quantiles, by year or pooled.

    Parameters
    ----------
    panel : Panel
        The panel.
    var : str
        Numeric variable.
    limits : (float, float), default (0.01, 0.99)
        Lower and upper quantiles (0 ≤ low < high ≤ 1).
    by : {"year", "pooled"}, default "year"
        Quantiles per period (cross-sectional, the usual choice for trending variables)
        or over all rows.
    name : str, optional
        Result column (default ``{var}_w``, as Stata's ``winsor2``); pass ``name=var`` to
        replace the variable.
    method : str, default "linear"
        Quantile definition passed to :func:`numpy.quantile` (``"linear"`` = Hyndman and
        Fan type 7). Stata's ``winsor2`` uses ``_pctile`` (type 2 with averaging,
        ``method="averaged_inverted_cdf"``), so counts may differ slightly.

    Notes
    -----
    Missing values are ignored in the quantiles and stay missing. Reference: Hyndman, R. J.
    and Fan, Y. (1996), "Sample quantiles in statistical packages", *The American
    Statistician* 50(4), 361-365.
    """
    low, high = limits
    if not 0.0 <= low < high <= 1.0:
        raise SpecError(f"limits must satisfy 0 ≤ low < high ≤ 1; got {limits!r}.")
    if by not in ("year", "pooled"):
        raise SpecError(f"by={by!r} is not allowed; use 'year' or 'pooled'.")
    name = name or f"{var}_w"
    _target(panel, name, replace_ok=var)
    x = _values(panel, var)
    times = panel.to_frame()[panel.time].to_numpy()
    groups = (
        [np.ones(len(x), dtype=bool)] if by == "pooled" else [times == t for t in np.unique(times)]
    )
    lo_b = np.full(len(x), np.nan)
    hi_b = np.full(len(x), np.nan)
    for g in groups:
        vals = x[g & ~np.isnan(x)]
        if len(vals):
            q = np.quantile(vals, [low, high], method=method)  # type: ignore[call-overload]
            lo_b[g], hi_b[g] = q[0], q[1]
    with np.errstate(invalid="ignore"):
        n_low = int(np.sum(x < lo_b))
        n_high = int(np.sum(x > hi_b))
    values = np.where(x < lo_b, lo_b, np.where(x > hi_b, hi_b, x))
    how = "by year" if by == "year" else "pooled"
    target = "" if name == var else f" → {name}"
    note = (
        f"winsorise({var}, {low * 100:g}%/{high * 100:g}%, {how}){target}: {n_low + n_high} "
        f"values clipped ({n_low} low, {n_high} high); quantiles: numpy {method!r}"
    )
    return panel.with_columns(note, **{name: values})


def interpolate(
    panel: Panel,
    var: str,
    method: Literal["linear", "geometric"] = "linear",
    limit_interior: bool = True,
    *,
    max_gap: int | None = None,
    name: str | None = None,
) -> Panel:
    """Fill missing values of ``var`` within each unit along calendar time, flagged per cell.

    Parameters
    ----------
    panel : Panel
        The panel. Only existing rows with a missing value are filled; periods in which a
        unit has no row are not created.
    var : str
        Numeric variable.
    method : {"linear", "geometric"}, default "linear"
        ``"linear"``: linear in the year between the nearest observed values before and
        after. ``"geometric"``: linear in ``log(var)`` (constant growth; values must be
        positive).
    limit_interior : bool, default True
        Fill only interior gaps (with an observed value on both sides). ``False`` also
        fills leading and trailing gaps with the nearest observed value (constant
        extension), counted separately in the record.
    max_gap : int, optional
        Longest interior gap (in years) to fill; longer gaps stay missing (recorded).
    name : str, optional
        Result column (default: ``var`` is filled in place). The flag column
        ``{name}_interpolated`` (bool) is True exactly for the filled cells.

    Raises
    ------
    DataError
        If the flag column already exists or ``method="geometric"`` meets a non-positive
        value.
    """
    if method not in ("linear", "geometric"):
        raise SpecError(f"method={method!r} is not allowed; use 'linear' or 'geometric'.")
    if max_gap is not None and (not isinstance(max_gap, int) or max_gap < 1):
        raise SpecError(f"max_gap must be a positive int or None; got {max_gap!r}.")
    name = name or var
    flag = f"{name}_interpolated"
    _target(panel, name, replace_ok=var)
    _target(panel, flag)
    x = _values(panel, var)
    if method == "geometric":
        bad = x <= 0
        if bad.any():
            raise DataError(
                f"interpolate(method='geometric'): {var!r} is zero or negative in "
                f"{int(bad.sum())} rows: {_keys(panel, bad)}."
            )
    frame = panel.to_frame()
    t_all = frame[panel.time].to_numpy(dtype=float)
    units = frame[panel.unit].to_numpy()
    out = x.copy()
    filled = np.zeros(len(x), dtype=bool)
    n_interior = n_edge = n_long = 0
    touched: set[Any] = set()
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    ends = np.r_[starts[1:], len(units)]
    for a, b in zip(starts, ends, strict=True):
        y = x[a:b] if method == "linear" else np.log(x[a:b])
        t = t_all[a:b]
        obs = ~np.isnan(y)
        miss = np.flatnonzero(~obs)
        if not len(miss) or not obs.any():
            continue
        t_obs, y_obs = t[obs], y[obs]
        for i in miss:
            before = t_obs[t_obs < t[i]]
            after = t_obs[t_obs > t[i]]
            if len(before) and len(after):
                if max_gap is not None and after[0] - before[-1] - 1 > max_gap:
                    n_long += 1
                    continue
                val = np.interp(t[i], t_obs, y_obs)
                n_interior += 1
            elif limit_interior:
                continue
            else:
                val = y_obs[0] if not len(before) else y_obs[-1]
                n_edge += 1
            out[a + i] = val if method == "linear" else np.exp(val)
            filled[a + i] = True
            touched.add(units[a])
    how = "linear in year" if method == "linear" else "log-linear in year (constant growth)"
    scope = "interior gaps only" if limit_interior else "interior gaps; edges by nearest value"
    extra = f", {n_edge} edge cells" if not limit_interior else ""
    extra += f"; {n_long} cells in gaps longer than {max_gap} years left missing" if n_long else ""
    target = "" if name == var else f" → {name}"
    note = (
        f"interpolate({var}, {how}, {scope}){target}: {n_interior + n_edge} cells filled in "
        f"{len(touched)} units ({n_interior} interior{extra}); flagged in {flag}"
    )
    return panel.with_columns(note, **{name: out, flag: filled})


# ---------------------------------------------------------------------- time operations
def _time_op(panel: Panel, var: str, k: int, kind: str, name: str | None) -> Panel:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise SpecError(f"{kind}: k must be a positive integer; got {k!r}.")
    k = int(k)
    _values(panel, var)
    prefix = {"lag": "L", "lead": "F", "diff": "D"}[kind]
    name = name or f"{prefix}{k}_{var}"
    _target(panel, name)
    if kind == "lag":
        values = panel.lag(var, k).to_numpy(dtype=float)
        formula = f"{var} in year t−{k} of the same unit"
    elif kind == "lead":
        values = panel.lead(var, k).to_numpy(dtype=float)
        formula = f"{var} in year t+{k} of the same unit"
    else:
        values = panel.diff(var, k).to_numpy(dtype=float)
        formula = f"{var}[t] − {var}[t−{k}] within unit"
    n = int(np.isnan(values).sum())
    note = (
        f"{kind}: {name} = {formula} (calendar years, not rows); {n} missing where the "
        "other year is not observed"
    )
    return panel.with_columns(note, **{name: values})


def lag(panel: Panel, var: str, k: int = 1, *, name: str | None = None) -> Panel:
    """Add ``L{k}_{var}``, the value in year ``t − k`` of the same unit (calendar lag)."""
    return _time_op(panel, var, k, "lag", name)


def lead(panel: Panel, var: str, k: int = 1, *, name: str | None = None) -> Panel:
    """Add ``F{k}_{var}``, the value in year ``t + k`` of the same unit."""
    return _time_op(panel, var, k, "lead", name)


def diff(panel: Panel, var: str, k: int = 1, *, name: str | None = None) -> Panel:
    """Add ``D{k}_{var} = var[t] − var[t − k]`` within unit (missing across gaps)."""
    return _time_op(panel, var, k, "diff", name)
