r"""Current situation and trends: rankings, growth rates, top/bottom groups, regional paths.

The functions return tidy pandas DataFrames (one row per unit, year or group), ready for a
report table or a figure in :mod:`agglomera.describe.figures`:

* :func:`rankings` — rank of each city in each year with the change from the year before;
* :func:`growth` — average annual growth rate per city (compound or mean of annual rates);
* :func:`top_bottom` — the top and bottom ``n`` cities in each year;
* :func:`regional_means` — east / central / west (or any group) means over time;
* :func:`share_above` — the share of cities above a threshold (LQ > 1: specialised).

Missing values are never dropped silently: a city with a missing value in a year has no rank
in that year (and ``n`` columns say how many values each statistic uses).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.describe.summary import (
    _check_panel,
    _group_frame,
    _require_positive,
    _require_vars,
    _values,
)
from agglomera.errors import DataError, SpecError

__all__ = ["growth", "rankings", "regional_means", "share_above", "top_bottom"]


def rankings(
    panel: Panel,
    var: str,
    *,
    ascending: bool = False,
    top: int | None = None,
    method: Literal["min", "average", "first", "dense", "max"] = "min",
) -> pd.DataFrame:
    """Rank the units by ``var`` in every period, with the rank change.

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable to rank by.
    ascending : bool, default False
        False: rank 1 = the largest value (the usual league table).
    top : int, optional
        Keep only the rows ranked ``≤ top`` in each period (ties at the cut are kept).
    method : {"min", "average", "first", "dense", "max"}, default "min"
        Tie rule (pandas ``rank``); "min" gives competition ranking (1, 2, 2, 4).

    Returns
    -------
    pandas.DataFrame
        Columns: the unit key, the time key, ``value``, ``rank``, ``n`` (units ranked in
        that period), ``rank_change`` (rank in t−1 minus rank in t: positive = moved up;
        NaN when the unit was not ranked in t−1) and ``change_since_first`` (rank in the
        unit's first ranked period minus the current rank). Units with a missing value are
        not ranked in that period (they appear with NaN ``rank``).
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    if top is not None and (not isinstance(top, int) or top < 1):
        raise SpecError(f"top must be a positive integer; got {top!r}.")
    frame = panel.to_frame()[[panel.unit, panel.time, var]].rename(columns={var: "value"})
    frame["value"] = _values(frame, "value")
    grouped = frame.groupby(panel.time)["value"]
    frame["rank"] = grouped.rank(ascending=ascending, method=method)
    frame["n"] = grouped.transform("count").astype(int)
    keyed = frame.set_index([panel.unit, panel.time])["rank"]
    prev_keys = pd.MultiIndex.from_arrays([frame[panel.unit], frame[panel.time] - 1])
    frame["rank_change"] = keyed.reindex(prev_keys).to_numpy() - frame["rank"].to_numpy()
    first = frame.dropna(subset=["rank"]).groupby(panel.unit)["rank"].first()
    frame["change_since_first"] = frame[panel.unit].map(first).to_numpy() - frame["rank"]
    frame = frame.sort_values([panel.time, "rank", panel.unit], na_position="last")
    if top is not None:
        frame = frame[frame["rank"] <= top]
    return frame.reset_index(drop=True)


def growth(
    panel: Panel,
    var: str,
    *,
    kind: Literal["cagr", "mean_annual"] = "cagr",
    start: int | None = None,
    end: int | None = None,
) -> pd.DataFrame:
    r"""Average annual growth rate of ``var`` for each unit.

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Strictly positive numeric variable.
    kind : {"cagr", "mean_annual"}, default "cagr"
        ``"cagr"``: compound annual growth rate between the unit's first and last observed
        values in the window, :math:`g = (y_{t_1}/y_{t_0})^{1/(t_1 - t_0)} - 1`.
        ``"mean_annual"``: arithmetic mean of the year-on-year rates
        :math:`y_t / y_{t-1} - 1` over consecutive observed years.
    start, end : int, optional
        Window (default: the panel's first and last period).

    Returns
    -------
    pandas.DataFrame
        One row per unit: the unit key, ``start`` and ``end`` (the years actually used),
        ``value_start``, ``value_end``, ``n_years`` (``end − start``), ``n_rates`` (annual
        rates averaged; ``mean_annual``), ``growth``. A unit with fewer than two observed
        values has NaN growth.

    Raises
    ------
    DataError
        If ``var`` has non-positive values in the window (the rows are named).
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    if kind not in ("cagr", "mean_annual"):
        raise SpecError(f"kind must be 'cagr' or 'mean_annual'; got {kind!r}.")
    frame = panel.to_frame()
    lo = int(panel.times.min()) if start is None else int(start)
    hi = int(panel.times.max()) if end is None else int(end)
    if lo >= hi:
        raise SpecError(f"growth: start ({lo}) must be before end ({hi}).")
    frame = frame[(frame[panel.time] >= lo) & (frame[panel.time] <= hi)]
    _require_positive(panel, frame, var, "growth")
    frame = frame[[panel.unit, panel.time, var]].copy()
    frame[var] = _values(frame, var)
    keyed = frame.set_index([panel.unit, panel.time])[var]
    prev = keyed.reindex(pd.MultiIndex.from_arrays([frame[panel.unit], frame[panel.time] - 1]))
    frame["rate"] = frame[var].to_numpy() / prev.to_numpy() - 1.0
    rows = []
    for unit, part in frame.groupby(panel.unit, sort=True):
        obs = part.dropna(subset=[var])
        row: dict[str, Any] = {panel.unit: unit}
        if len(obs) < 2:
            row.update(start=np.nan, end=np.nan, value_start=np.nan, value_end=np.nan)
            row.update(n_years=0, n_rates=0, growth=np.nan)
            rows.append(row)
            continue
        t0, t1 = int(obs[panel.time].iloc[0]), int(obs[panel.time].iloc[-1])
        y0, y1 = float(obs[var].iloc[0]), float(obs[var].iloc[-1])
        rates = part["rate"].dropna().to_numpy()
        if kind == "cagr":
            value = (y1 / y0) ** (1.0 / (t1 - t0)) - 1.0
        else:
            value = float(rates.mean()) if rates.size else math.nan
        row.update(start=t0, end=t1, value_start=y0, value_end=y1, n_years=t1 - t0)
        row.update(n_rates=int(rates.size), growth=value)
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["kind"] = kind
    return out


def top_bottom(
    panel: Panel,
    var: str,
    *,
    n: int = 5,
    times: list[int] | None = None,
) -> pd.DataFrame:
    """Return the top ``n`` and bottom ``n`` units by ``var`` in each period.

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable.
    n : int, default 5
        Size of each group (``2n`` must not exceed the number of ranked units, otherwise
        the groups would overlap).
    times : list of int, optional
        Periods to report (default: all).

    Returns
    -------
    pandas.DataFrame
        Columns: the time key, ``group`` ("top"/"bottom"), ``position`` (1 = most extreme),
        the unit key, ``value``. Ties are broken by unit order (stable).
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    if not isinstance(n, int) or n < 1:
        raise SpecError(f"n must be a positive integer; got {n!r}.")
    frame = panel.to_frame()[[panel.unit, panel.time, var]].rename(columns={var: "value"})
    frame["value"] = _values(frame, "value")
    frame = frame.dropna(subset=["value"])
    wanted = panel.times.tolist() if times is None else [int(t) for t in times]
    parts = []
    for t in wanted:
        part = frame[frame[panel.time] == t]
        if 2 * n > len(part):
            raise DataError(
                f"top_bottom: period {t} has {len(part)} units with {var!r} observed; "
                f"n={n} needs at least {2 * n}. Fix: use a smaller n."
            )
        ordered = part.sort_values("value", ascending=False, kind="mergesort")
        top = ordered.head(n).assign(group="top", position=np.arange(1, n + 1))
        bottom = ordered.iloc[::-1].head(n).assign(group="bottom", position=np.arange(1, n + 1))
        parts.extend([top, bottom])
    out = pd.concat(parts, ignore_index=True)
    return out[[panel.time, "group", "position", panel.unit, "value"]]


def regional_means(
    panel: Panel,
    var: str,
    *,
    by: str = "region3",
    weights: str | None = None,
) -> pd.DataFrame:
    r"""Mean of ``var`` by region (or any group) and period.

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable.
    by : str, default "region3"
        Grouping column; ``"region3"`` (east/central/west), ``"region4"`` and the province
        columns are joined from :func:`agglomera.reference.cities` via the adcode unit when
        the panel does not have them.
    weights : str, optional
        Column of weights (e.g. population) for a weighted mean
        :math:`\sum w y / \sum w` over the rows where both are observed.

    Returns
    -------
    pandas.DataFrame
        Columns: the time key, the group column, ``mean``, ``sd`` (ddof=1, unweighted),
        ``n`` (units with ``var`` observed), ``missing``.
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var] + ([weights] if weights else []))
    frame, group = _group_frame(panel, by)
    assert group is not None
    rows = []
    for (t, g), part in frame.groupby([panel.time, group], sort=True, dropna=False):
        y = _values(part, var)
        ok = ~np.isnan(y)
        if weights is not None:
            w = _values(part, weights)
            ok &= ~np.isnan(w)
            mean = float(np.sum(w[ok] * y[ok]) / np.sum(w[ok])) if ok.any() else math.nan
        else:
            mean = float(y[ok].mean()) if ok.any() else math.nan
        sd = float(np.std(y[ok], ddof=1)) if ok.sum() > 1 else math.nan
        rows.append(
            {panel.time: t, group: g, "mean": mean, "sd": sd, "n": int(ok.sum()),
             "missing": int((~ok).sum())}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=[panel.time, group, "mean", "sd", "n", "missing"])


def share_above(
    panel: Panel,
    var: str,
    threshold: float = 1.0,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Share of units with ``var`` strictly above ``threshold`` in each period.

    With a location quotient and the default threshold 1 this is the share of cities
    specialised in the sector (LQ > 1).

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable.
    threshold : float, default 1.0
        Cut-off; a value equal to it does not count as above.
    by : str, optional
        Grouping column (``region3`` etc. joined from the reference when absent).

    Returns
    -------
    pandas.DataFrame
        Columns: the time key, the group column (when ``by``), ``n`` (units with ``var``
        observed), ``n_above``, ``share`` (``n_above / n``), ``missing``.
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    frame, group = _group_frame(panel, by)
    keys = [panel.time] if group is None else [panel.time, group]
    rows = []
    for key, part in frame.groupby(keys, sort=True, dropna=False):
        y = _values(part, var)
        ok = ~np.isnan(y)
        above = int((y[ok] > threshold).sum())
        row = dict(zip(keys, key, strict=True))
        row.update(
            n=int(ok.sum()),
            n_above=above,
            share=above / ok.sum() if ok.any() else math.nan,
            missing=int((~ok).sum()),
        )
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*keys, "n", "n_above", "share", "missing"])
    out.attrs["threshold"] = float(threshold)
    return out
