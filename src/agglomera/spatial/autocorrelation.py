r"""Spatial autocorrelation of a panel variable: global Moran's I and Geary's C by year, LISA.

Each year's cross-section is tested separately with pysal ``esda`` (optional extra
``spatial``). The weights are used **as given** -- in their current transform: the
constructors of :mod:`agglomera.spatial.weights` row-standardise by default -- after being
aligned to the units observed in the year (:func:`agglomera.spatial.weights.align`;
every year must cover exactly the units of ``w``, a year with missing values raises).

Global Moran's I (Moran 1950; Cliff & Ord 1981) with :math:`z_i = y_i - \bar y`,
:math:`S_0 = \sum_{ij} w_{ij}`:

.. math:: I = \frac{n}{S_0}\,\frac{\sum_{i}\sum_{j} w_{ij} z_i z_j}{\sum_i z_i^2},
          \qquad E[I] = -\frac{1}{n-1};

Geary's C (Geary 1954):

.. math:: C = \frac{(n-1)\sum_{ij} w_{ij}(y_i-y_j)^2}{2 S_0 \sum_i z_i^2},\qquad E[C]=1.

Inference under normality or randomisation (closed-form moments, two-sided normal
p-value) and by random permutation (pseudo p-value
:math:`(\min(M, R-M)+1)/(R+1)` for *M* of *R* permutations at least as large as the
observed value, esda's folded convention). Local Moran (LISA, Anselin 1995):
:math:`I_i = (n-1)\,z_i \sum_j w_{ij} z_j / \sum_k z_k^2` with conditional permutation,
drawn by :mod:`agglomera.spatial._permutation` (numpy; esda's numba kernel compiles for
tens of seconds in every new process).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.checks import require_panel
from agglomera.data.panel import Panel
from agglomera.errors import (
    DataError,
    SpecError,
    check_alpha,
    check_choice,
    check_int,
    format_examples,
)
from agglomera.spatial._permutation import conditional_pvalues
from agglomera.spatial.weights import align

__all__ = ["bivariate_moran", "geary_by_year", "lisa", "moran_by_year"]

Assumption = Literal["normality", "randomisation"]
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
NOT_SIGNIFICANT = "not significant"


def _esda() -> Any:
    try:
        return importlib.import_module("esda")
    except ImportError as exc:  # pragma: no cover - declared extra
        raise SpecError(
            "spatial autocorrelation needs esda: pip install 'agglomera[spatial]'."
        ) from exc


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Seed numpy's global generator (esda's global statistics use it), then restore it."""
    if seed is None:
        yield
        return
    # esda's global statistics draw from numpy's legacy global generator
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _check_args(panel: Any, variables: list[str], permutations: int, who: str) -> None:
    require_panel(panel, who)
    for var in variables:
        if var not in panel.to_frame().columns:
            raise DataError(
                f"{who}: variable {var!r} is not in the panel; variables are "
                f"{format_examples(panel.variables, limit=12)}."
            )
    check_int("permutations", permutations, minimum=0, fn=who)


def _years(panel: Panel, year: Any, who: str) -> list[Any]:
    times = sorted(pd.unique(panel.to_frame()[panel.time]))
    if year is None:
        return times
    wanted = list(year) if isinstance(year, list | tuple | range) else [year]
    absent = [y for y in wanted if y not in set(times)]
    if absent:
        raise DataError(
            f"{who}: year {format_examples(absent)} not in the panel; years are "
            f"{times[0]}–{times[-1]}."
        )
    return wanted


def _cross_section(
    panel: Panel, variables: list[str], year: Any, who: str
) -> tuple[list[str], np.ndarray]:
    """Units (as str, sorted) and values ``(n, len(variables))`` of one year."""
    frame = panel.to_frame()
    rows = frame[frame[panel.time] == year].sort_values(panel.unit, kind="mergesort")
    values = rows[variables].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        units = rows[panel.unit].to_numpy()[bad]
        raise DataError(
            f"{who}: missing or non-numeric {format_examples(variables)} in {year} for units "
            f"{format_examples(list(units))}. Spatial statistics need every unit of w; fix: "
            "fill the values or build w on the complete units (and subset the panel)."
        )
    return [str(u) for u in rows[panel.unit]], values


def _year_w(w: Any, ids: list[str], year: Any, who: str, diagonal: np.ndarray | None = None) -> Any:
    """Libpysal W of ``w`` aligned to ``ids`` in its current transform (transform 'O')."""
    try:
        dense = align(w, ids)
    except DataError as exc:
        raise DataError(f"{who}, year {year}: {exc}") from exc
    if diagonal is not None:
        dense = dense.copy()
        np.fill_diagonal(dense, diagonal)
    lw = importlib.import_module("libpysal.weights")
    neighbors: dict[str, list[str]] = {}
    weights: dict[str, list[float]] = {}
    for i, uid in enumerate(ids):
        cols = np.flatnonzero(dense[i])
        neighbors[uid] = [ids[j] for j in cols]
        weights[uid] = [float(dense[i, j]) for j in cols]
    return lw.W(neighbors, weights, id_order=ids, silence_warnings=True)


def _check_variation(y: np.ndarray, var: str, year: Any, who: str) -> None:
    if np.ptp(y) == 0:
        raise DataError(f"{who}: {var!r} is constant in {year}; autocorrelation is undefined.")


def _global_by_year(
    panel: Panel,
    var: str,
    w: Any,
    permutations: int,
    seed: int | None,
    assumption: Assumption,
    row: Callable[[np.ndarray, Any, bool], dict[str, float]],
    who: str,
) -> pd.DataFrame:
    """One row per year: ``<time>``, the statistic's ``row(y, w_year, normality)``, ``n``."""
    _check_args(panel, [var], permutations, who)
    check_choice("assumption", assumption, ("normality", "randomisation"), fn=who)
    _esda()  # the missing-extra error comes before any data error
    rows = []
    with _seeded(seed):
        for year in _years(panel, None, who):
            ids, values = _cross_section(panel, [var], year, who)
            y = values[:, 0]
            _check_variation(y, var, year, who)
            stat = row(y, _year_w(w, ids, year, who), assumption == "normality")
            rows.append({panel.time: year, **stat, "n": len(ids)})
    out = pd.DataFrame(rows)
    out.attrs["assumption"] = assumption
    return out


def moran_by_year(
    panel: Panel,
    var: str,
    w: Any,
    *,
    permutations: int = 999,
    seed: int | None = None,
    assumption: Assumption = "normality",
) -> pd.DataFrame:
    """Global Moran's I of ``var`` for every year of the panel.

    Parameters
    ----------
    panel : Panel
        City-year panel; every year must hold exactly the units of ``w``.
    var : str
        Variable to test.
    w : libpysal.weights.W or numpy.ndarray
        Spatial weights, used in their current transform (a square array must be ordered
        like the sorted units).
    permutations : int, default 999
        Random permutations for ``p_sim`` (0: none, ``p_sim`` is NaN).
    seed : int, optional
        Seed of the permutations; the same seed gives the same ``p_sim``.
    assumption : {"normality", "randomisation"}, default "normality"
        Null moments of ``z`` and ``p_norm`` (Cliff & Ord 1981); R ``spdep::moran.test``
        uses randomisation by default.

    Returns
    -------
    pandas.DataFrame
        One row per year: ``<time>``, ``I``, ``EI``, ``sd`` (null standard deviation),
        ``z``, ``p_norm`` (two-sided), ``p_sim``, ``n``; ``attrs["assumption"]``.

    References
    ----------
    Moran, P. A. P. (1950). Notes on continuous stochastic phenomena. *Biometrika* 37,
    17–23. Cliff, A. D. and Ord, J. K. (1981). *Spatial Processes*. Pion.
    """

    def row(y: np.ndarray, wy: Any, norm: bool) -> dict[str, float]:
        m = _esda().Moran(y, wy, transformation="O", permutations=permutations)
        return {
            "I": float(m.I),
            "EI": float(m.EI),
            "sd": float(m.seI_norm if norm else m.seI_rand),
            "z": float(m.z_norm if norm else m.z_rand),
            "p_norm": float(m.p_norm if norm else m.p_rand),
            "p_sim": float(m.p_sim) if permutations else np.nan,
        }

    return _global_by_year(panel, var, w, permutations, seed, assumption, row, "moran_by_year")


def geary_by_year(
    panel: Panel,
    var: str,
    w: Any,
    *,
    permutations: int = 999,
    seed: int | None = None,
    assumption: Assumption = "normality",
) -> pd.DataFrame:
    """Geary's C of ``var`` for every year of the panel.

    Parameters
    ----------
    panel, var, w, permutations, seed, assumption
        As in :func:`moran_by_year`. C < 1 means positive autocorrelation.

    Returns
    -------
    pandas.DataFrame
        One row per year: ``<time>``, ``C``, ``EC`` (= 1), ``sd``, ``z``, ``p_norm``
        (two-sided), ``p_sim``, ``n``.

    References
    ----------
    Geary, R. C. (1954). The contiguity ratio and statistical mapping. *The
    Incorporated Statistician* 5, 115–145.
    """

    def row(y: np.ndarray, wy: Any, norm: bool) -> dict[str, float]:
        g = _esda().Geary(y, wy, transformation="O", permutations=permutations)
        return {
            "C": float(g.C),
            "EC": float(g.EC),
            "sd": float(g.seC_norm if norm else g.seC_rand),
            "z": float(g.z_norm if norm else g.z_rand),
            # esda's Geary p-values are one-sided; report the two-sided one
            "p_norm": float(2 * stats.norm.sf(abs(g.z_norm if norm else g.z_rand))),
            "p_sim": float(g.p_sim) if permutations else np.nan,
        }

    return _global_by_year(panel, var, w, permutations, seed, assumption, row, "geary_by_year")


def lisa(
    panel: Panel,
    var: str,
    w: Any,
    *,
    year: Any,
    permutations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Local Moran's I (LISA) of ``var`` in one year, with cluster labels.

    Parameters
    ----------
    panel, var, w
        As in :func:`moran_by_year`.
    year : int
        The cross-section.
    permutations : int, default 999
        Conditional permutations for ``p_sim``. 0 skips them: ``p_sim`` is NaN and
        ``significant``/``cluster`` are missing (NA), only ``Ii`` and ``quadrant`` are
        computed.
    seed : int, optional
        Seed of the permutations (``numpy.random.default_rng(seed)``); the same seed
        gives the same ``p_sim``. The global numpy random state is not used.
    alpha : float, default 0.05
        Significance level of ``significant`` and ``cluster`` (no multiple-testing
        correction; see Notes).

    Returns
    -------
    pandas.DataFrame
        One row per unit: ``<unit>``, ``<time>``, ``value``, ``lag`` (spatial lag
        :math:`\sum_j w_{ij} y_j`), ``Ii``, ``z_i`` (standardised value), ``quadrant``
        (HH, LH, LL, HL: own value above/below the mean, spatial lag of the deviations
        above/below zero), ``p_sim``, ``significant`` (``p_sim < alpha``) and ``cluster``
        (the quadrant when significant, else ``"not significant"``). ``attrs`` holds
        ``var``, ``year``, ``alpha``, ``permutations``, ``seed``.

    Notes
    -----
    Anselin (1995): :math:`I_i = (n-1)\, z_i \sum_j w_{ij} z_j / \sum_k z_k^2`
    (esda's scaling; :math:`\sum_i I_i / (n-1) \cdot S_0/n` gives the global I with
    row-standardised weights). ``p_sim`` is the pseudo p-value of conditional
    permutation in the direction of the observed value,
    :math:`(\min(M, R-M)+1)/(R+1)` where *M* of *R* permuted :math:`I_i` are at least
    the observed one (GeoDa's and esda's convention). Conditional permutation holds
    :math:`z_i` fixed and gives its neighbours values drawn without replacement from
    the other :math:`n-1` units (:mod:`agglomera.spatial._permutation`, numpy; it
    follows esda's ``Moran_Local`` in distribution, not draw for draw). With *n* local
    tests about :math:`\alpha n` units are flagged by chance -- use a smaller
    ``alpha`` (e.g. Bonferroni ``alpha/n``) for a stricter map. A unit without
    neighbours (lag 0), or with :math:`z_i = 0`, has a degenerate permutation
    distribution: ``p_sim`` is 1 and it is never significant.

    References
    ----------
    Anselin, L. (1995). Local indicators of spatial association -- LISA.
    *Geographical Analysis* 27, 93–115.
    """
    who = "lisa"
    _check_args(panel, [var], permutations, who)
    check_alpha(alpha, who)
    (year,) = _years(panel, year, who)
    ids, values = _cross_section(panel, [var], year, who)
    y = values[:, 0]
    _check_variation(y, var, year, who)
    wy = _year_w(w, ids, year, who)
    # closed-form part only: with permutations=0 esda runs no (numba) permutation code
    m = _esda().Moran_Local(y, wy, transformation="O", permutations=0)
    dense = align(w, ids)
    quadrant = pd.Series(m.q).map(QUADRANTS).to_numpy()
    isolated = ~(dense != 0).any(axis=1)
    if permutations:
        z = np.asarray(m.z, dtype=float)
        # I_i = (n - 1) z_i (lag of z)_i / sum z^2 moves with the lag as sign(z_i) does
        p_sim = conditional_pvalues(z, dense, np.sign(z), permutations, np.random.default_rng(seed))
        flags = (p_sim < alpha) & ~isolated
        significant = pd.array(flags, dtype="boolean")
        cluster: list[Any] = [
            q if f else NOT_SIGNIFICANT for q, f in zip(quadrant, flags, strict=True)
        ]
    else:
        p_sim = np.full(len(ids), np.nan)
        significant = pd.array([pd.NA] * len(ids), dtype="boolean")
        cluster = [None] * len(ids)
    out = pd.DataFrame(
        {
            panel.unit: ids,
            panel.time: year,
            "value": y,
            "lag": dense @ y,
            "Ii": np.asarray(m.Is, dtype=float),
            "z_i": np.asarray(m.z, dtype=float),
            "quadrant": quadrant,
            "p_sim": p_sim,
            "significant": significant,
            "cluster": pd.Series(cluster, dtype=object),
        }
    )
    out.attrs.update(
        {"var": var, "year": year, "alpha": alpha, "permutations": permutations, "seed": seed}
    )
    return out


def bivariate_moran(
    panel: Panel,
    x: str,
    y: str,
    w: Any,
    *,
    year: Any,
    permutations: int = 999,
    seed: int | None = None,
) -> pd.DataFrame:
    r"""Bivariate Moran's I between ``x`` and the spatial lag of ``y`` in one year.

    Parameters
    ----------
    panel, w
        As in :func:`moran_by_year`.
    x, y : str
        The variable at the unit and the variable whose spatial lag is taken (e.g.
        talent agglomeration here vs industry agglomeration in the neighbours).
    year : int or list of int
        Year(s) of the cross-section.
    permutations : int, default 999
        Permutations of ``y`` for ``p_sim`` (at least 1).
    seed : int, optional
        Seed of the permutations.

    Returns
    -------
    pandas.DataFrame
        One row per year: ``<time>``, ``x``, ``y``, ``I``, ``EI_sim``, ``z_sim``,
        ``p_sim``, ``n``.

    Notes
    -----
    :math:`I_{xy} = \sum_i z^x_i \sum_j w_{ij} z^y_j / (n - 1)` with both variables
    standardised by their sample standard deviation (ddof = 1), as in esda
    ``Moran_BV`` and GeoDa (Anselin, Syabri & Smirnov 2002). Only permutation
    inference is available.

    References
    ----------
    Anselin, L., Syabri, I. and Smirnov, O. (2002). Visualizing multivariate spatial
    correlation with dynamically linked windows. In *New Tools for Spatial Data
    Analysis*, CSISS, Santa Barbara.
    """
    who = "bivariate_moran"
    _check_args(panel, [x, y], permutations, who)
    if permutations < 1:
        raise SpecError(f"{who}: permutations must be at least 1; got {permutations}.")
    esda = _esda()
    rows = []
    with _seeded(seed):
        for yr in _years(panel, year, who):
            ids, values = _cross_section(panel, [x, y], yr, who)
            _check_variation(values[:, 0], x, yr, who)
            _check_variation(values[:, 1], y, yr, who)
            m = esda.Moran_BV(
                values[:, 0],
                values[:, 1],
                _year_w(w, ids, yr, who),
                transformation="O",
                permutations=permutations,
            )
            rows.append(
                {
                    panel.time: yr,
                    "x": x,
                    "y": y,
                    "I": float(m.I),
                    "EI_sim": float(m.EI_sim),
                    "z_sim": float(m.z_sim),
                    "p_sim": float(m.p_sim),
                    "n": len(ids),
                }
            )
    return pd.DataFrame(rows)
