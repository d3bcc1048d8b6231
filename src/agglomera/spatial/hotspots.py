r"""Hot-spot analysis with the local Getis–Ord statistics :math:`G_i` and :math:`G_i^*`.

For unit *i* with weights :math:`w_{ij}` (for :math:`G_i^*` the unit itself is included
with self-weight :math:`w_{ii}`),

.. math:: G_i^* = \frac{\sum_j w_{ij} y_j}{\sum_j y_j},\qquad
          z_i = \frac{\sum_j w_{ij} y_j - \bar y\, W_i}
                     {s\sqrt{\left(n S_{1i} - W_i^2\right)/(n-1)}},

with :math:`W_i = \sum_j w_{ij}`, :math:`S_{1i} = \sum_j w_{ij}^2`, :math:`\bar y` and
:math:`s` (ddof = 0) the mean and standard deviation over all *n* units (Ord & Getis
1995, eq. 3.3, valid for any non-negative weights). :math:`G_i` excludes unit *i* from
the sums, the mean, the standard deviation and *n* (:math:`n-1` units, :math:`n-2` in
the variance), as R ``spdep::localG``. The z-score does not change when a row of
weights is multiplied by a constant, so binary and row-standardised weights give the
same z; ``G`` is reported for the weights as given (their current transform); for
:math:`G_i^*` with row-standardised weights the rows are standardised again after the
self-weight is added, so that they still sum to one (esda's convention).

The closed form is computed here: ``esda.G_Local``'s analytical variance assumes binary
weights (it uses the row sum where :math:`S_{1i}` belongs) and is not used. The
permutation p-value ``p_sim`` is that of conditional permutation (Anselin 1995): the
unit's own value and self-weight stay in place, its neighbours receive values drawn
without replacement from the other :math:`n-1` units, and
:math:`p = (\min(M, R-M)+1)/(R+1)` with *M* of *R* simulated statistics at least as
large as the observed one (esda's ``G_Local`` convention). The draws are made by
:mod:`agglomera.spatial._permutation` in numpy (esda's numba kernel compiles for tens of
seconds in every new process); they follow ``G_Local`` in distribution, not draw for
draw. As :math:`G_i` and :math:`G_i^*` are increasing in :math:`\sum_{j \ne i} w_{ij}
y_j`, ``p_sim`` is invariant to row scaling and does not depend on ``star`` or
``self_weight``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, check_alpha, check_choice
from agglomera.spatial._permutation import conditional_pvalues
from agglomera.spatial.autocorrelation import (
    NOT_SIGNIFICANT,
    _check_args,
    _check_variation,
    _cross_section,
    _years,
)
from agglomera.spatial.weights import align

__all__ = ["getis_ord"]


def getis_ord(
    panel: Panel,
    var: str,
    w: Any,
    *,
    year: Any = None,
    permutations: int = 999,
    seed: int | None = None,
    star: bool = True,
    self_weight: Literal["max"] | float = "max",
    alpha: float = 0.05,
    inference: Literal["sim", "norm"] = "sim",
) -> pd.DataFrame:
    r"""Local Getis–Ord :math:`G_i^*` (or :math:`G_i`) hot spots for every unit-year.

    Parameters
    ----------
    panel : Panel
        City-year panel; every year used must hold exactly the units of ``w``.
    var : str
        Variable (non-negative, e.g. a location quotient).
    w : libpysal.weights.W or numpy.ndarray
        Spatial weights with a zero diagonal (see :mod:`agglomera.spatial.weights`).
    year : int or list of int, optional
        Year(s); default all years.
    permutations : int, default 999
        Conditional permutations for ``p_sim`` (0: none; then use ``inference="norm"``).
    seed : int, optional
        Seed of the permutations (``numpy.random.default_rng(seed)``, one generator
        drawn from year after year); the same seed gives the same ``p_sim``. The global
        numpy random state is not used.
    star : bool, default True
        :math:`G_i^*` (the unit is part of its own neighbourhood) or :math:`G_i`.
    self_weight : "max" or float, default "max"
        Self-weight :math:`w_{ii}` of :math:`G_i^*`: ``"max"`` = the largest weight of
        the row (1 for binary weights, as R ``spdep::include.self``; esda's rule), or a
        positive number in the scale of ``w``'s current transform.
    alpha : float, default 0.05
        Significance level of ``hotspot``.
    inference : {"sim", "norm"}, default "sim"
        Which p-value decides ``hotspot``: the permutation ``p_sim`` (one-sided, folded)
        or the two-sided normal ``p_norm`` of ``z``.

    Returns
    -------
    pandas.DataFrame
        One row per unit-year: ``<unit>``, ``<time>``, ``value``, ``G``, ``z``,
        ``p_norm``, ``p_sim``, ``hotspot`` ("hot" if ``z > 0``, "cold" if ``z < 0`` and
        the chosen p-value is below ``alpha``, else "not significant"). ``attrs`` holds
        the arguments.

    Notes
    -----
    No multiple-testing correction is applied; with many units use a smaller ``alpha``
    (e.g. ``alpha / n``).

    References
    ----------
    Getis, A. and Ord, J. K. (1992). The analysis of spatial association by use of
    distance statistics. *Geographical Analysis* 24, 189–206.
    Ord, J. K. and Getis, A. (1995). Local spatial autocorrelation statistics:
    distributional issues and an application. *Geographical Analysis* 27, 286–306.
    """
    who = "getis_ord"
    _check_args(panel, [var], permutations, who)
    check_alpha(alpha, who)
    check_choice("inference", inference, ("sim", "norm"), fn=who)
    if inference == "sim" and permutations < 1:
        raise SpecError(
            f"{who}: inference='sim' needs permutations >= 1; got {permutations}. Fix: "
            "permutations=999 or inference='norm'."
        )
    if not (self_weight == "max" or (isinstance(self_weight, int | float) and self_weight > 0)):
        raise SpecError(
            f"{who}: self_weight must be 'max' or a positive number; got {self_weight!r}."
        )
    rng = np.random.default_rng(seed)
    frames = []
    for yr in _years(panel, year, who):
        ids, values = _cross_section(panel, [var], yr, who)
        y = values[:, 0]
        _check_variation(y, var, yr, who)
        if (y < 0).any():
            raise DataError(
                f"{who}: {var!r} has negative values in {yr}; G is defined for non-negative "
                "variables. Fix: use a level or shift the variable."
            )
        dense = align(w, ids)
        if np.any(np.diag(dense) != 0):
            raise DataError(f"{who}: w has a non-zero diagonal; pass weights without self-links.")
        diagonal = None
        if star:
            rowmax = dense.max(axis=1)
            diagonal = (
                np.where(rowmax > 0, rowmax, 1.0)
                if self_weight == "max"
                else np.full(len(ids), float(self_weight))
            )
        g_stat, z = _closed_form(dense, y, diagonal)
        p_norm = 2 * stats.norm.sf(np.abs(z))
        if permutations:
            # G_i* = (lag + w_ii y_i) / sum(y), G_i = lag / (sum(y) - y_i): both move with
            # the neighbours' lag as the sign of their (fixed) denominator
            denominator = np.full(len(y), y.sum()) if star else y.sum() - y
            p_sim = conditional_pvalues(y, dense, np.sign(denominator), permutations, rng)
        else:
            p_sim = np.full(len(ids), np.nan)
        p = p_sim if inference == "sim" else p_norm
        label = np.where(p < alpha, np.where(z > 0, "hot", "cold"), NOT_SIGNIFICANT)
        frames.append(
            pd.DataFrame(
                {
                    panel.unit: ids,
                    panel.time: yr,
                    "value": y,
                    "G": g_stat,
                    "z": z,
                    "p_norm": p_norm,
                    "p_sim": p_sim,
                    "hotspot": label,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(
        {
            "var": var,
            "star": star,
            "self_weight": self_weight,
            "alpha": alpha,
            "inference": inference,
            "permutations": permutations,
            "seed": seed,
        }
    )
    return out


def _closed_form(
    dense: np.ndarray, y: np.ndarray, diagonal: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """G and its z-score (Ord & Getis 1995) for every unit; see the module docstring."""
    n = len(y)
    if diagonal is not None:
        b = dense.copy()
        np.fill_diagonal(b, diagonal)
        sums = dense.sum(axis=1)
        if np.allclose(sums[sums > 0], 1.0, rtol=1e-12, atol=0):
            b = b / b.sum(axis=1, keepdims=True)  # keep row-standardised rows summing to 1
        wi = b.sum(axis=1)
        s1 = (b**2).sum(axis=1)
        lag = b @ y
        g = lag / y.sum()
        mean, sd = y.mean(), y.std()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (lag - mean * wi) / (sd * np.sqrt((n * s1 - wi**2) / (n - 1)))
        return g, z
    wi = dense.sum(axis=1)
    s1 = (dense**2).sum(axis=1)
    lag = dense @ y
    rest = y.sum() - y
    g = lag / rest
    mean = rest / (n - 1)
    sd = np.sqrt(((y**2).sum() - y**2) / (n - 1) - mean**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (lag - mean * wi) / (sd * np.sqrt(((n - 1) * s1 - wi**2) / (n - 2)))
    return g, z
