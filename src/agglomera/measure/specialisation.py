r"""Specialisation and concentration indices on a region × industry employment matrix.

Every function takes a long frame (one row per region × industry [× time], or microdata
that are summed first), computes the index per period when ``time`` is given and returns
a small frame of the same kind as the input (pandas, polars, pyarrow, DuckDB, PySpark).

Notation: :math:`E_{ri}` is employment of industry *i* in region *r*;
:math:`E_{r\cdot}`, :math:`E_{\cdot i}`, :math:`E` are the region, industry and grand totals.

* localisation (one row per industry): the industry's regional distribution
  :math:`s_{ri} = E_{ri}/E_{\cdot i}` against a reference distribution over regions
  :math:`x_r` (``reference="sample"``: :math:`E_{r\cdot}/E`; ``"uniform"``: :math:`1/n`;
  or a column such as population);
* specialisation (one row per region): the region's industry mix
  :math:`s_{ri} = E_{ri}/E_{r\cdot}` against a reference mix :math:`x_i`
  (``"sample"``: :math:`E_{\cdot i}/E`; ``"rest"``: the sample without the region;
  or a table of national employment by industry).

See ``docs/measure-indices.md`` for the conventions each reference implementation uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.measure import _matrix as mx

__all__ = [
    "dagum_gini",
    "diversity",
    "herfindahl",
    "hoover",
    "hoover_gini",
    "krugman",
    "locational_gini",
    "spatial_gini_raw",
    "theil",
]

# --------------------------------------------------------------------------- public indices


def krugman(
    data: Any,
    *,
    region: str,
    industry: str,
    value: str,
    time: str | None = None,
    reference: Any = "sample",
    pairs: bool = False,
    totals: Any = None,
    reference_total: float | Mapping[Any, float] | None = None,
) -> Any:
    r"""Krugman specialisation index, absolute (region vs reference) or bilateral.

    .. math::

        K_r = \sum_i \left| s_{ri} - x_i \right|, \qquad
        K_{rq} = \sum_i \left| s_{ri} - s_{qi} \right|, \qquad
        s_{ri} = E_{ri} / E_{r\cdot},

    bounded by 0 (same industry mix) and 2 (no industry in common).

    Parameters
    ----------
    data : DataFrame-like or path
        Long frame with one row per region × industry (× time); duplicates are summed.
    region, industry, value : str
        Column names; ``value`` is employment (non-negative numbers).
    time : str, optional
        Compute the index per period.
    reference : {"sample", "rest"} or DataFrame, default "sample"
        Reference industry mix :math:`x_i`: ``"sample"`` = all regions in the data pooled
        (EconGeo ``krugman_index``); ``"rest"`` = the other regions (Krugman 1991 compares
        a region with the rest of the country); a frame with columns ``industry``
        (+ ``time``) and one value column = national employment by industry (REAT
        ``krugman.spec``). Industries only in the reference count as zero in the regions.
    pairs : bool, default False
        Return the bilateral index for every pair of regions instead (``reference`` is
        then not used).
    totals : DataFrame, optional
        Columns ``region`` (+ ``time``) and one value column: each region's total
        employment, used as the share denominator when the data hold only some sectors.
        Shares then need not sum to 1 and K may exceed its usual bounds.
    reference_total : float or mapping time → float, optional
        Total employment of the reference economy (the same idea for a reference frame).

    Returns
    -------
    DataFrame
        One row per region (``region``, ``time``, ``krugman``), or with ``pairs=True`` one
        row per pair (``<region>_a``, ``<region>_b``, ``time``, ``krugman``).

    References
    ----------
    Krugman, P. (1991). *Geography and Trade*. MIT Press, Appendix D.
    """
    fn = "krugman"
    rows: list[dict[str, Any]] = []
    if pairs:
        if not (isinstance(reference, str) and reference == "sample") or (
            reference_total is not None
        ):
            raise SpecError(
                f"{fn}: pairs=True compares regions with each other; reference and "
                "reference_total do not apply."
            )
        ra, rb = f"{region}_a", f"{region}_b"
        for sl, S, _ in mx.specialisation_setup(
            data,
            fn_name=fn,
            region=region,
            industry=industry,
            value=value,
            time=time,
            reference="sample",
            totals=totals,
        ):
            for p, q in combinations(range(len(sl.rows)), 2):
                row = {ra: sl.rows[p], rb: sl.rows[q]}
                if time is not None:
                    row[time] = sl.time
                row["krugman"] = float(np.abs(S[p] - S[q]).sum())
                rows.append(row)
        return mx.finish(rows, [ra, rb, *([time] if time else []), "krugman"], data)
    for sl, S, X in mx.specialisation_setup(
        data,
        fn_name=fn,
        region=region,
        industry=industry,
        value=value,
        time=time,
        reference=reference,
        totals=totals,
        reference_total=reference_total,
    ):
        k = np.abs(S - X).sum(axis=1)
        for r, label in enumerate(sl.rows):
            rows.append(mx.make_row(region, label, time, sl.time, krugman=float(k[r])))
    return mx.finish(rows, [*mx.key_columns(region, time), "krugman"], data)


def hoover(
    data: Any,
    *,
    region: str,
    industry: str,
    value: str,
    time: str | None = None,
    orientation: str = "localisation",
    reference: Any = "sample",
    percent: bool = False,
    totals: Any = None,
    reference_total: float | Mapping[Any, float] | None = None,
) -> Any:
    r"""Hoover coefficient of localisation (per industry) or specialisation (per region).

    .. math::

        \text{localisation: } HC_i = \tfrac12 \sum_r \left| s_{ri} - x_r \right|, \qquad
        \text{specialisation: } HS_r = \tfrac12 \sum_i \left| s_{ri} - x_i \right|
        = K_r / 2,

    the share of the industry's (region's) employment that would have to move to match
    the reference distribution; in [0, 1).

    Parameters
    ----------
    data, region, industry, value, time
        As in :func:`krugman`.
    orientation : {"localisation", "specialisation"}, default "localisation"
        ``"localisation"``: one row per industry, regional shares against ``x_r``;
        ``"specialisation"``: one row per region (EconGeo ``spec_coeff``).
    reference : str or DataFrame, default "sample"
        Localisation: ``"sample"`` (regions' share of total employment), ``"uniform"``
        (1/n; EconGeo ``hoover_index`` without ``pop``) or a column name (e.g.
        population, constant within region; EconGeo ``hoover_index(ind, pop)``).
        Specialisation: as in :func:`krugman`.
    percent : bool, default False
        Multiply by 100 (EconGeo reports ``hoover_index`` in percent).
    totals, reference_total
        Specialisation only; as in :func:`krugman`.

    Returns
    -------
    DataFrame
        ``industry`` (or ``region``), ``time``, ``hoover``.

    References
    ----------
    Hoover, E. M. (1936). The measurement of industrial localization. *Review of
    Economics and Statistics*, 18(4), 162–171.
    """
    fn = "hoover"
    scale = 100.0 if percent else 1.0
    rows: list[dict[str, Any]] = []
    if mx.check_orientation(orientation, fn) == "localisation":
        if totals is not None or reference_total is not None:
            raise SpecError(f"{fn}: totals/reference_total apply to orientation='specialisation'.")
        for t, label, s, x in mx.localisation_units(
            data,
            fn_name=fn,
            region=region,
            industry=industry,
            value=value,
            time=time,
            reference=reference,
        ):
            rows.append(
                mx.make_row(
                    industry, label, time, t, hoover=scale * 0.5 * float(np.abs(s - x).sum())
                )
            )
        return mx.finish(rows, [*mx.key_columns(industry, time), "hoover"], data)
    for sl, S, X in mx.specialisation_setup(
        data,
        fn_name=fn,
        region=region,
        industry=industry,
        value=value,
        time=time,
        reference=reference,
        totals=totals,
        reference_total=reference_total,
    ):
        h = 0.5 * np.abs(S - X).sum(axis=1) * scale
        for r, label in enumerate(sl.rows):
            rows.append(mx.make_row(region, label, time, sl.time, hoover=float(h[r])))
    return mx.finish(rows, [*mx.key_columns(region, time), "hoover"], data)


def _gini_value(a: np.ndarray, w: np.ndarray, method: str, fn: str) -> float:
    if method == "lorenz":
        return mx.lorenz_gini(a, w)
    if np.any(w <= 0):
        raise DataError(
            f"{fn}: method='lq' needs positive reference shares (a location quotient with a "
            "zero reference is undefined). Fix: drop the units with a zero reference or use "
            "method='lorenz'."
        )
    return mx.md_gini(a / w)


def locational_gini(
    data: Any,
    *,
    region: str,
    industry: str,
    value: str,
    time: str | None = None,
    orientation: str = "localisation",
    reference: Any = "sample",
    method: str = "lorenz",
    scale: str = "gini",
    small_sample: bool = False,
) -> Any:
    r"""Locational Gini coefficient (Krugman 1991) and its specialisation twin.

    ``method="lorenz"`` (default) reads the Gini off the Lorenz curve of the industry's
    regional shares :math:`s_r` against the reference shares :math:`x_r`, with regions
    ordered by their location quotient :math:`s_r/x_r`:

    .. math:: G = 1 - \sum_k x_{(k)} \left(S_{k} + S_{k-1}\right),
              \qquad S_k = \sum_{l \le k} s_{(l)} .

    ``method="lq"`` is the ordinary (unweighted) mean-difference Gini of the location
    quotients, every region counting once:

    .. math:: G = \frac{\sum_r \sum_q |LQ_r - LQ_q|}{2 n^2 \overline{LQ}} .

    Parameters
    ----------
    data, region, industry, value, time
        As in :func:`krugman`.
    orientation : {"localisation", "specialisation"}, default "localisation"
        One row per industry (spread over regions) or per region (spread over industries).
    reference : str or DataFrame, default "sample"
        As in :func:`hoover`.
    method : {"lorenz", "lq"}, default "lorenz"
        ``"lorenz"``: reference-weighted Lorenz curve (Krugman 1991; EconGeo
        ``locational_gini``); ``"lq"``: unweighted Gini of the LQs (REAT ``gini.conc``
        and ``gini.spec``). They agree when the reference is uniform.
    scale : {"gini", "area"}, default "gini"
        ``"gini"``: area between the diagonal and the Lorenz curve divided by 1/2, in
        [0, 1); ``"area"``: the area itself, in [0, 1/2), as Krugman (1991, p. 56) and
        EconGeo's ``locational_gini`` report it. EconGeo's ``gini`` is ``scale="gini"``.
    small_sample : bool, default False
        Multiply by n/(n − 1) (n = number of regions or industries) so that one unit
        holding everything gives 1; REAT and EconGeo do not.

    Returns
    -------
    DataFrame
        ``industry`` (or ``region``), ``time``, ``locational_gini``.

    References
    ----------
    Krugman, P. (1991). *Geography and Trade*. MIT Press, ch. 2 and Appendix D.
    """
    fn = "locational_gini"
    if method not in ("lorenz", "lq"):
        raise SpecError(f"{fn}: method must be 'lorenz' or 'lq'; got {method!r}.")
    if scale not in ("gini", "area"):
        raise SpecError(f"{fn}: scale must be 'gini' or 'area'; got {scale!r}.")
    factor = 0.5 if scale == "area" else 1.0

    def adjust(g: float, n: int) -> float:
        g *= factor
        return g * n / (n - 1) if small_sample and n > 1 else g

    rows: list[dict[str, Any]] = []
    if mx.check_orientation(orientation, fn) == "localisation":
        for t, label, s, x in mx.localisation_units(
            data,
            fn_name=fn,
            region=region,
            industry=industry,
            value=value,
            time=time,
            reference=reference,
        ):
            g = adjust(_gini_value(s, x, method, fn), s.size)
            rows.append(mx.make_row(industry, label, time, t, locational_gini=g))
        return mx.finish(rows, [*mx.key_columns(industry, time), "locational_gini"], data)
    for sl, S, X in mx.specialisation_setup(
        data,
        fn_name=fn,
        region=region,
        industry=industry,
        value=value,
        time=time,
        reference=reference,
    ):
        for r, label in enumerate(sl.rows):
            g = adjust(_gini_value(S[r], np.asarray(X[r]), method, fn), S.shape[1])
            rows.append(mx.make_row(region, label, time, sl.time, locational_gini=g))
    return mx.finish(rows, [*mx.key_columns(region, time), "locational_gini"], data)


def hoover_gini(
    data: Any,
    *,
    region: str,
    value: str,
    industry: str | None = None,
    time: str | None = None,
    reference: str = "sample",
) -> Any:
    r"""Hoover–Gini: Gini of a regional distribution against a reference distribution.

    The Lorenz-curve Gini of :func:`locational_gini` (``method="lorenz"``,
    ``scale="gini"``): regions ordered by :math:`s_r / x_r`,
    :math:`G = 1 - \sum_k x_{(k)} (S_k + S_{k-1})`, in [0, 1). With
    ``reference="uniform"`` it is the ordinary Gini of the counts (EconGeo ``gini``).

    Parameters
    ----------
    data : DataFrame-like or path
        One row per region (× industry) (× time).
    region, value : str
        Region and value (e.g. employment) columns.
    industry : str, optional
        Industry column: one row per industry in the result. Without it the ``value``
        column is one distribution (EconGeo ``hoover_gini(ind, pop)``).
    time : str, optional
        Compute per period.
    reference : str, default "sample"
        ``"sample"`` (regions' share of all employment in the data; needs ``industry``),
        ``"uniform"``, or a column name such as population (constant within region).

    Returns
    -------
    DataFrame
        ``industry`` (if given), ``time``, ``hoover_gini``.

    References
    ----------
    Hoover, E. M. (1936). The measurement of industrial localization. *Review of
    Economics and Statistics*, 18(4), 162–171.
    """
    rows: list[dict[str, Any]] = []
    for t, label, s, x in mx.localisation_units(
        data,
        fn_name="hoover_gini",
        region=region,
        industry=industry,
        value=value,
        time=time,
        reference=reference,
    ):
        row: dict[str, Any] = {} if industry is None else {industry: label}
        if time is not None:
            row[time] = t
        row["hoover_gini"] = mx.lorenz_gini(s, x)
        rows.append(row)
    cols = ([] if industry is None else [industry]) + ([time] if time else []) + ["hoover_gini"]
    return mx.finish(rows, cols, data)


def spatial_gini_raw(
    data: Any,
    *,
    region: str,
    industry: str,
    value: str,
    time: str | None = None,
    reference: str = "sample",
) -> Any:
    r"""Raw spatial concentration :math:`\sum_r (s_{ri} - x_r)^2` — *not* a Gini coefficient.

    Many applied papers call this sum of squared share gaps the "spatial Gini
    coefficient"; it is the raw geographic concentration :math:`G` of Ellison and
    Glaeser (1997, eq. 1) and Krugman (1991). It is not bounded by 1 in the Gini sense,
    is not scale-free in the number of regions and does not correct for plant size;
    use :func:`locational_gini` for a Gini and
    :func:`~agglomera.measure.ellison_glaeser` for a plant-corrected index.

    Parameters
    ----------
    data, region, industry, value, time
        As in :func:`krugman`.
    reference : str, default "sample"
        As in :func:`hoover` (localisation).

    Returns
    -------
    DataFrame
        ``industry``, ``time``, ``spatial_gini_raw``.

    References
    ----------
    Ellison, G., & Glaeser, E. L. (1997). Geographic concentration in U.S. manufacturing
    industries: a dartboard approach. *Journal of Political Economy*, 105(5), 889–927.
    """
    rows: list[dict[str, Any]] = []
    for t, label, s, x in mx.localisation_units(
        data,
        fn_name="spatial_gini_raw",
        region=region,
        industry=industry,
        value=value,
        time=time,
        reference=reference,
    ):
        rows.append(
            mx.make_row(industry, label, time, t, spatial_gini_raw=float(np.sum((s - x) ** 2)))
        )
    return mx.finish(rows, [*mx.key_columns(industry, time), "spatial_gini_raw"], data)


def _share_units(
    data: Any,
    *,
    fn_name: str,
    region: str,
    industry: str,
    value: str,
    time: str | None,
    orientation: str,
) -> Iterator[tuple[Any, Any, np.ndarray]]:
    long = mx.load(data, fn_name=fn_name, keys=[region, industry], value=value, time=time)
    loc = mx.check_orientation(orientation, fn_name) == "localisation"
    for sl in mx.slices(long, row=region, col=industry, value=value, time=time):
        if loc:
            mx.zero_lines(sl, fn_name=fn_name, axis=0, what="industries", fix=mx.LOC_FIX, time=time)
            for j, label in enumerate(sl.cols):
                yield sl.time, label, sl.values[:, j] / sl.values[:, j].sum()
        else:
            mx.zero_lines(sl, fn_name=fn_name, axis=1, what="regions", fix=mx.REG_FIX, time=time)
            for r, label in enumerate(sl.rows):
                yield sl.time, label, sl.values[r] / sl.values[r].sum()


def herfindahl(
    data: Any,
    *,
    region: str,
    industry: str,
    value: str,
    time: str | None = None,
    orientation: str = "specialisation",
    normalised: bool = False,
) -> Any:
    r"""Herfindahl–Hirschman index of a region's industry mix or an industry's regions.

    .. math:: H = \sum_k s_k^2 \in [1/n, 1], \qquad
              H^* = \frac{H - 1/n}{1 - 1/n} \in [0, 1] \text{ (normalised)},

    with :math:`s_k` the shares over the *n* industries (specialisation) or regions
    (localisation) of the period's matrix, zeros included.

    Parameters
    ----------
    data, region, industry, value, time
        As in :func:`krugman`.
    orientation : {"specialisation", "localisation"}, default "specialisation"
        One row per region (EconGeo ``herfindahl``) or per industry.
    normalised : bool, default False
        Return :math:`H^*` (REAT ``herf(..., coefnorm = TRUE)``); NaN when n = 1.

    Returns
    -------
    DataFrame
        ``region`` (or ``industry``), ``time``, ``herfindahl``.

    References
    ----------
    Hirschman, A. O. (1964). The paternity of an index. *American Economic Review*,
    54(5), 761; Herfindahl, O. C. (1950). *Concentration in the steel industry*.
    """
    fn = "herfindahl"
    key = region if orientation == "specialisation" else industry
    rows: list[dict[str, Any]] = []
    for t, label, s in _share_units(
        data,
        fn_name=fn,
        region=region,
        industry=industry,
        value=value,
        time=time,
        orientation=orientation,
    ):
        h = float(np.sum(s**2))
        n = s.size
        if normalised:
            h = (h - 1.0 / n) / (1.0 - 1.0 / n) if n > 1 else math.nan
        rows.append(mx.make_row(key, label, time, t, herfindahl=h))
    return mx.finish(rows, [*mx.key_columns(key, time), "herfindahl"], data)


def diversity(
    data: Any,
    *,
    region: str,
    industry: str,
    value: str,
    base: float,
    time: str | None = None,
    orientation: str = "specialisation",
    normalised: bool = False,
) -> Any:
    r"""Shannon entropy (diversity) of a region's industry mix or an industry's regions.

    .. math:: D = -\sum_k s_k \log_b s_k \quad (0 \log 0 = 0), \qquad
              D^* = D / \log_b n \text{ (normalised, in [0, 1])} .

    Parameters
    ----------
    data, region, industry, value, time
        As in :func:`krugman`.
    base : float
        Logarithm base, required because the literature disagrees: 2 (bits; EconGeo
        ``entropy``), ``math.e`` (nats; Theil 1967) or 10.
    orientation : {"specialisation", "localisation"}, default "specialisation"
        One row per region (industrial diversity) or per industry (spatial spread).
    normalised : bool, default False
        Divide by :math:`\log_b n` (relative entropy; independent of ``base``).

    Returns
    -------
    DataFrame
        ``region`` (or ``industry``), ``time``, ``entropy``.

    References
    ----------
    Theil, H. (1967). *Economics and Information Theory*. North-Holland;
    Shannon, C. E. (1948). A mathematical theory of communication.
    """
    fn = "diversity"
    if not (isinstance(base, int | float) and base > 0 and base != 1):
        raise SpecError(f"{fn}: base must be a positive number other than 1; got {base!r}.")
    key = region if orientation == "specialisation" else industry
    rows: list[dict[str, Any]] = []
    for t, label, s in _share_units(
        data,
        fn_name=fn,
        region=region,
        industry=industry,
        value=value,
        time=time,
        orientation=orientation,
    ):
        d = mx.entropy(s, base)
        if normalised:
            d = d / (math.log(s.size) / math.log(base)) if s.size > 1 else math.nan
        rows.append(mx.make_row(key, label, time, t, entropy=d))
    return mx.finish(rows, [*mx.key_columns(key, time), "entropy"], data)


def theil(
    data: Any,
    *,
    region: str,
    value: str,
    industry: str | None = None,
    time: str | None = None,
    group: str | None = None,
    reference: str = "uniform",
) -> Any:
    r"""Theil index with its exact between/within decomposition by a region group.

    .. math::

        T = \sum_r s_r \ln\frac{s_r}{x_r}
          = \underbrace{\sum_g S_g \ln\frac{S_g}{X_g}}_{\text{between}}
          + \underbrace{\sum_g S_g\, T_g}_{\text{within}},

    with :math:`s_r` the region's share of the value, :math:`x_r` its reference share,
    :math:`S_g, X_g` the group sums and :math:`T_g` the Theil index inside group *g*.
    With ``reference="uniform"`` (:math:`x_r = 1/n`) this is Theil's (1967) T of the
    value across regions, as pysal ``inequality.theil.TheilD`` computes it.

    Parameters
    ----------
    data : DataFrame-like or path
        One row per region (× industry) (× time).
    region, value : str
        Region and value columns.
    industry : str, optional
        One result row per industry (the industry's distribution over regions).
    time : str, optional
        Compute per period.
    group : str, optional
        Column with the region's group (e.g. ``region3``: east/central/west), constant
        within region; adds ``between`` and ``within`` (they sum to ``theil``).
    reference : str, default "uniform"
        ``"uniform"``, ``"sample"`` (regions' share of all employment; needs
        ``industry``) or a column name (e.g. population).

    Returns
    -------
    DataFrame
        ``industry`` (if given), ``time``, ``theil`` [, ``between``, ``within``].

    References
    ----------
    Theil, H. (1967). *Economics and Information Theory*. North-Holland.
    """
    fn = "theil"
    ref_col = mx.loc_ref_columns(reference, fn)
    keys = [region] if industry is None else [region, industry]
    if industry is None and reference == "sample":
        raise SpecError(
            f"{fn}: without industry=, reference='sample' compares the value with itself. "
            "Fix: use reference='uniform' or a reference column."
        )
    long = mx.load(
        data,
        fn_name=fn,
        keys=keys,
        value=value,
        time=time,
        numeric_constant=ref_col,
        constant=[group] if group else [],
        constant_within=region,
    )
    col = industry if industry is not None else mx.ALL
    if industry is None:
        long[col] = mx.ALL
    extra = ref_col + ([group] if group else [])
    rows: list[dict[str, Any]] = []
    for sl in mx.slices(long, row=region, col=col, value=value, time=time, extra=extra):
        mx.zero_lines(sl, fn_name=fn, axis=0, what="industries", fix=mx.LOC_FIX, time=time)
        if reference == "sample":
            mx.zero_lines(sl, fn_name=fn, axis=1, what="regions", fix=mx.REG_FIX, time=time)
        x = mx.loc_reference(sl, reference, fn, time)
        labels = sl.extra[group].to_numpy() if group else None
        for j, label in enumerate(sl.cols):
            s = sl.values[:, j] / sl.values[:, j].sum()
            row: dict[str, Any] = {} if industry is None else {industry: label}
            if time is not None:
                row[time] = sl.time
            row["theil"] = mx.theil_t(s, x)
            if labels is not None:
                between = within = 0.0
                for g in pd.unique(labels):
                    m = labels == g
                    sg, xg = s[m].sum(), x[m].sum()
                    if sg > 0:
                        between += sg * math.log(sg / xg)
                        within += sg * mx.theil_t(s[m] / sg, x[m] / xg)
                row["between"] = between
                row["within"] = within
            rows.append(row)
    cols = ([] if industry is None else [industry]) + ([time] if time else []) + ["theil"]
    if group:
        cols += ["between", "within"]
    return mx.finish(rows, cols, data)


def dagum_gini(
    data: Any,
    *,
    region: str,
    value: str,
    group: str,
    time: str | None = None,
) -> Any:
    r"""Dagum (1997) Gini decomposition: within, net between and transvariation.

    For *n* regions in *k* groups (sizes :math:`n_j`, means :math:`\bar y_j`,
    :math:`p_j = n_j/n`, :math:`s_j = n_j \bar y_j / (n \bar y)`):

    .. math::

        G = \frac{\sum_i\sum_r |y_i - y_r|}{2 n^2 \bar y}
          = G_w + G_{nb} + G_t,\qquad
        G_w = \sum_j G_{jj}\, p_j s_j,

        G_{nb} = \sum_{j<h} G_{jh} (p_j s_h + p_h s_j) D_{jh},\qquad
        G_t = \sum_{j<h} G_{jh} (p_j s_h + p_h s_j) (1 - D_{jh}),

    with :math:`G_{jh} = \sum_i\sum_r |y_{ji} - y_{hr}| / (n_j n_h (\bar y_j + \bar y_h))`,
    :math:`D_{jh} = (d_{jh} - p_{jh}) / (d_{jh} + p_{jh})` for the richer group *j*,
    :math:`d_{jh}` (:math:`p_{jh}`) the mean positive (negative) gap
    :math:`y_{ji} - y_{hr}`. *G* is the ordinary mean-difference Gini (no n/(n−1)), and
    the identity holds exactly.

    Parameters
    ----------
    data : DataFrame-like or path
        One row per region (× time) with the value (e.g. an LQ or an agglomeration score).
    region, value : str
        Region and value columns (value non-negative, positive mean).
    group : str
        Group column (e.g. ``region3``: east/central/west), constant within region.
    time : str, optional
        Decompose per period.

    Returns
    -------
    DataFrame
        ``time`` (if given), ``gini``, ``within``, ``between_net``, ``transvariation``
        and their shares of ``gini`` (``share_within``, ``share_between_net``,
        ``share_transvariation``).

    References
    ----------
    Dagum, C. (1997). A new approach to the decomposition of the Gini income inequality
    ratio. *Empirical Economics*, 22(4), 515–531.
    """
    fn = "dagum_gini"
    long = mx.load(
        data,
        fn_name=fn,
        keys=[region],
        value=value,
        time=time,
        constant=[group],
        constant_within=region,
    )
    dup = long[long["__n"] > 1]
    if len(dup):
        raise DataError(
            f"{fn}: expected one row per {region}{'' if time is None else ' × ' + time}; "
            f"duplicates for {format_examples(dup[region])}. Fix: aggregate them first."
        )
    rows: list[dict[str, Any]] = []
    periods = [None] if time is None else list(mx.ordered(long[time]))
    for t in periods:
        part = long if time is None else long[long[time] == t]
        y = part[value].to_numpy(dtype="float64")
        if y.sum() <= 0:
            raise DataError(f"{fn}: the value column sums to zero; the Gini is undefined.")
        res = mx.dagum_parts(y, part[group].to_numpy())
        row: dict[str, Any] = {} if time is None else {time: t}
        row.update(res)
        for k in ("within", "between_net", "transvariation"):
            row[f"share_{k}"] = res[k] / res["gini"] if res["gini"] > 0 else math.nan
        rows.append(row)
    cols = ([time] if time else []) + [
        "gini",
        "within",
        "between_net",
        "transvariation",
        "share_within",
        "share_between_net",
        "share_transvariation",
    ]
    return mx.finish(rows, cols, data)
