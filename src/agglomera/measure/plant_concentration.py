r"""Plant-level concentration: Ellison–Glaeser and Maurel–Sédillot γ, co-agglomeration.

Input is plant (firm, establishment) microdata: one row per plant with its industry,
region and employment. For industry *i* with plants *k* (employment shares
:math:`z_k`) the indices combine

* the raw geographic concentration :math:`G = \sum_r (s_r - x_r)^2`, with :math:`s_r`
  the industry's employment share in region *r* and :math:`x_r` the region's share of
  aggregate employment;
* the plant Herfindahl :math:`H = \sum_k z_k^2`.

Region shares :math:`x_r`: with ``region_totals=None`` they are pooled from the plant
employment of *all industries in the data* (REAT ``ellison.a2``); otherwise they come from
the supplied totals (e.g. all employment in the region, REAT ``ellison.a``). Regions with
a total but no plants of the industry count with :math:`s_r = 0`.

An industry with a single plant (or one plant holding all its employment) has
:math:`H = 1`: γ is undefined. Its row gets ``gamma = NaN`` and a ``note`` saying so
(nothing is dropped). Plant rows are never collected: the engine sums employment, squared
employment and the row count by industry × region, so DuckDB/Spark microdata stay where
they are (:math:`H = \sum_k e_k^2 / (\sum_k e_k)^2`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.measure import _matrix as mx

__all__ = ["coagglomeration", "ellison_glaeser", "maurel_sedillot"]

_SINGLE = "single plant (or one plant holds all employment): H = 1, so gamma is undefined"


def _region_shares(
    plants: pd.DataFrame,
    *,
    region: str,
    value: str,
    region_totals: Any,
    time: str | None,
    t: Any,
    fn: str,
) -> pd.Series:
    """Return the reference shares x_r (Series indexed by region) for period ``t``."""
    if region_totals is None:
        x = plants.groupby(region, sort=True)[value].sum()
    else:
        if isinstance(region_totals, Mapping):
            x = pd.Series(dict(region_totals), dtype="float64")
        elif isinstance(region_totals, pd.Series):
            x = region_totals.astype("float64")
        else:
            tl = mx.reference_frame(region_totals, fn_name=fn, key=region, value=value, time=time)
            if time is not None:
                tl = tl[tl[time] == t]
            x = tl.groupby(region, sort=False)["__ref"].sum()
        if x.isna().any() or (x < 0).any():
            raise DataError(f"{fn}: region_totals must be non-negative numbers without gaps.")
        missing = pd.Index(plants[region].unique()).difference(x.index)
        if len(missing):
            raise DataError(
                f"{fn}: regions {format_examples(missing)} have plants but no entry in "
                "region_totals. Fix: give a total for every region in the plant data."
            )
    if x.sum() <= 0:
        raise DataError(f"{fn}: total employment is zero; region shares are undefined.")
    return x / x.sum()


def _industries(
    plants: Any,
    *,
    fn: str,
    industry: str,
    region: str,
    value: str,
    time: str | None,
    region_totals: Any,
) -> Iterator[tuple[Any, Any, np.ndarray, np.ndarray, float, int, float]]:
    """Yield ``(time, industry, s, x, H, n_plants, E_i)`` for every industry (and period).

    Plants are never collected: the engine sums employment, squared employment and the
    row count by industry × region (× time); ``H = sum(e_k^2) / (sum e_k)^2``.
    """
    df = mx.load(
        plants,
        fn_name=fn,
        keys=[industry, region],
        value=value,
        time=time,
        squares=True,
    )
    periods = [None] if time is None else list(mx.ordered(df[time]))
    for t in periods:
        part = df if time is None else df[df[time] == t]
        x = _region_shares(
            part, region=region, value=value, region_totals=region_totals, time=time, t=t, fn=fn
        )
        labels = mx.ordered(part[industry])
        groups = dict(tuple(part.groupby(industry, sort=False)))
        for label in labels:
            rows = groups[label]
            total = float(rows[value].sum())
            if total <= 0:
                when = "" if time is None else f" in {time} = {t!r}"
                raise DataError(
                    f"{fn}: industry {label!r} has zero total employment{when}; its shares are "
                    "undefined. Fix: drop the industry or check the value column."
                )
            by_region = rows.groupby(region)[value].sum() / total
            s = by_region.reindex(x.index, fill_value=0.0).to_numpy()
            H = float(rows["__sq"].sum()) / total**2
            yield t, label, s, x.to_numpy(), H, int(rows["__n"].sum()), total


def _frame_out(rows: list[dict[str, Any]], industry: str, time: str | None, data: Any) -> Any:
    cols = [industry] + ([time] if time else []) + ["gamma", "G", "H", "n_plants", "note"]
    return mx.finish(rows, cols, data)


def _eg_gamma(G: float, H: float, sx2: float) -> float:
    if H >= 1.0:
        return math.nan
    return (G - (1.0 - sx2) * H) / ((1.0 - sx2) * (1.0 - H))


def ellison_glaeser(
    plants: Any,
    *,
    industry: str,
    region: str,
    value: str,
    region_totals: Any = None,
    time: str | None = None,
) -> Any:
    r"""Ellison–Glaeser (1997) index of geographic concentration γ by industry.

    .. math::

        G = \sum_r (s_r - x_r)^2, \qquad H = \sum_k z_k^2, \qquad
        \gamma = \frac{G - \left(1 - \sum_r x_r^2\right) H}
                      {\left(1 - \sum_r x_r^2\right)(1 - H)} .

    Parameters
    ----------
    plants : DataFrame-like or path
        One row per plant: industry, region, employment.
    industry, region, value : str
        Column names (``value`` = plant employment, non-negative).
    region_totals : DataFrame, Series or mapping, optional
        Aggregate employment by region (frame: ``region`` [+ ``time``] and one value
        column). ``None`` (default): pooled plant employment over all industries in
        ``plants`` (REAT ``ellison.a2``). Pass the regions' total employment for the
        EG (1997) definition of :math:`x_r` as the region's share of all employment
        (REAT ``ellison.a`` with ``E_j``).
    time : str, optional
        Compute per period.

    Returns
    -------
    DataFrame
        ``industry``, ``time``, ``gamma``, ``G`` (raw concentration), ``H`` (plant
        Herfindahl), ``n_plants`` (rows of ``plants`` in the industry), ``note`` (why γ
        is NaN, else an empty string).

    Notes
    -----
    γ ≈ 0: as concentrated as plants thrown at random (dartboard); γ > 0.05 is often
    read as highly localised. An industry with one plant (H = 1) gets γ = NaN with a note.

    References
    ----------
    Ellison, G., & Glaeser, E. L. (1997). Geographic concentration in U.S. manufacturing
    industries: a dartboard approach. *Journal of Political Economy*, 105(5), 889–927.
    """
    return _gamma_by_industry(
        plants,
        fn="ellison_glaeser",
        industry=industry,
        region=region,
        value=value,
        time=time,
        region_totals=region_totals,
        formula=_eg_formula,
    )


def maurel_sedillot(
    plants: Any,
    *,
    industry: str,
    region: str,
    value: str,
    region_totals: Any = None,
    time: str | None = None,
) -> Any:
    r"""Maurel–Sédillot (1999) index of geographic concentration γ by industry.

    .. math::

        G_{MS} = \frac{\sum_r s_r^2 - \sum_r x_r^2}{1 - \sum_r x_r^2}, \qquad
        \gamma_{MS} = \frac{G_{MS} - H}{1 - H} .

    Arguments and region-share conventions as in :func:`ellison_glaeser`. The ``G``
    column holds :math:`G_{MS}` (not the EG raw concentration).

    Returns
    -------
    DataFrame
        ``industry``, ``time``, ``gamma``, ``G``, ``H``, ``n_plants``, ``note``.

    References
    ----------
    Maurel, F., & Sédillot, B. (1999). A measure of the geographic concentration in
    French manufacturing industries. *Regional Science and Urban Economics*, 29(5),
    575–604.
    """
    return _gamma_by_industry(
        plants,
        fn="maurel_sedillot",
        industry=industry,
        region=region,
        value=value,
        time=time,
        region_totals=region_totals,
        formula=_ms_formula,
    )


def _eg_formula(s: np.ndarray, x: np.ndarray, H: float) -> tuple[float, float]:
    """Ellison–Glaeser (γ, G) from industry shares ``s``, region shares ``x`` and H."""
    G = float(np.sum((s - x) ** 2))
    return _eg_gamma(G, H, float(np.sum(x**2))), G


def _ms_formula(s: np.ndarray, x: np.ndarray, H: float) -> tuple[float, float]:
    """Maurel–Sédillot (γ, G_MS) from industry shares ``s``, region shares ``x`` and H."""
    sx2 = float(np.sum(x**2))
    G = (float(np.sum(s**2)) - sx2) / (1.0 - sx2)
    return ((G - H) / (1.0 - H) if H < 1.0 else math.nan), G


def _gamma_by_industry(
    plants: Any,
    *,
    fn: str,
    industry: str,
    region: str,
    value: str,
    time: str | None,
    region_totals: Any,
    formula: Callable[[np.ndarray, np.ndarray, float], tuple[float, float]],
) -> Any:
    """One row per industry (and period): ``gamma``, ``G``, ``H``, ``n_plants``, ``note``."""
    rows: list[dict[str, Any]] = []
    for t, label, s, x, H, n_plants, _ in _industries(
        plants,
        fn=fn,
        industry=industry,
        region=region,
        value=value,
        time=time,
        region_totals=region_totals,
    ):
        gamma, G = formula(s, x, H)
        row: dict[str, Any] = {industry: label}
        if time is not None:
            row[time] = t
        row.update(gamma=gamma, G=G, H=H, n_plants=n_plants, note=_SINGLE if H >= 1.0 else "")
        rows.append(row)
    return _frame_out(rows, industry, time, plants)


def coagglomeration(
    plants: Any,
    *,
    industry: str,
    region: str,
    value: str,
    industries: Sequence[Any] | None = None,
    region_totals: Any = None,
    time: str | None = None,
) -> Any:
    r"""Ellison–Glaeser (1997) co-agglomeration index :math:`\gamma^c` of a set of industries.

    For industries :math:`j \in U` with employment weights :math:`w_j` (share of the
    group's employment), plant Herfindahls :math:`H_j` and EG indices :math:`\gamma_j`:

    .. math::

        G = \sum_r (s_r - x_r)^2, \quad H = \sum_j w_j^2 H_j, \quad
        \gamma^c = \frac{G / (1 - \sum_r x_r^2) - H - \sum_j \gamma_j w_j^2 (1 - H_j)}
                        {1 - \sum_j w_j^2},

    with :math:`s_r` the group's employment share in region *r* (EG 1997, eq. 9).

    Parameters
    ----------
    plants, industry, region, value, region_totals, time
        As in :func:`ellison_glaeser`.
    industries : sequence, optional
        The set *U* (two or more industries): one result row. ``None``: every pair of
        industries in the data, one row per pair.

    Returns
    -------
    DataFrame
        With ``industries=None``: ``<industry>_a``, ``<industry>_b`` (one row per pair);
        otherwise ``industries`` (the labels joined by ``" + "``); then ``time``,
        ``gamma_c``, ``G`` (of the group), ``H`` (:math:`\sum_j w_j^2 H_j`), ``note``
        (why ``gamma_c`` is NaN: a single-plant industry in the set).

    References
    ----------
    Ellison, G., & Glaeser, E. L. (1997). Geographic concentration in U.S. manufacturing
    industries: a dartboard approach. *Journal of Political Economy*, 105(5), 889–927.
    """
    fn = "coagglomeration"
    per: dict[Any, dict[Any, tuple[np.ndarray, np.ndarray, float, float]]] = {}
    for t, label, s, x, H, _, total in _industries(
        plants,
        fn=fn,
        industry=industry,
        region=region,
        value=value,
        time=time,
        region_totals=region_totals,
    ):
        per.setdefault(t, {})[label] = (s, x, H, total)
    rows: list[dict[str, Any]] = []
    for t, inds in per.items():
        if industries is None:
            sets: list[tuple[Any, ...]] = list(combinations(list(inds), 2))
        else:
            chosen = tuple(industries)
            if len(chosen) < 2:
                raise SpecError(f"{fn}: industries must name at least two industries.")
            unknown = [c for c in chosen if c not in inds]
            if unknown:
                raise DataError(
                    f"{fn}: industries {format_examples(unknown)} are not in the plant data"
                    f"{'' if time is None else f' for {time} = {t!r}'}; available: "
                    f"{format_examples(list(inds), limit=10)}."
                )
            sets = [chosen]
        for combo in sets:
            emp = np.array([inds[c][3] for c in combo])
            w = emp / emp.sum()
            x = inds[combo[0]][1]
            sx2 = float(np.sum(x**2))
            s_group = sum(w[k] * inds[c][0] for k, c in enumerate(combo))
            G = float(np.sum((s_group - x) ** 2))
            Hj = np.array([inds[c][2] for c in combo])
            gam = np.array(
                [
                    _eg_gamma(float(np.sum((inds[c][0] - x) ** 2)), Hj[k], sx2)
                    for k, c in enumerate(combo)
                ]
            )
            H = float(np.sum(w**2 * Hj))
            note = ""
            if np.isnan(gam).any():
                gamma_c = math.nan
                singles = [c for k, c in enumerate(combo) if Hj[k] >= 1.0]
                note = f"single-plant industries {format_examples(singles)}: gamma undefined"
            else:
                gamma_c = (G / (1.0 - sx2) - H - float(np.sum(gam * w**2 * (1.0 - Hj)))) / (
                    1.0 - float(np.sum(w**2))
                )
            row: dict[str, Any] = (
                {f"{industry}_a": combo[0], f"{industry}_b": combo[1]}
                if industries is None
                else {"industries": " + ".join(str(c) for c in combo)}
            )
            if time is not None:
                row[time] = t
            row.update(gamma_c=gamma_c, G=G, H=H, note=note)
            rows.append(row)
    keys = [f"{industry}_a", f"{industry}_b"] if industries is None else ["industries"]
    cols = keys + ([time] if time else []) + ["gamma_c", "G", "H", "note"]
    return mx.finish(rows, cols, plants)
