r"""Sun–Abraham cohort effects from cohort × period cell means (no regression).

On a balanced panel without covariates, the saturated regression of Sun and Abraham
(2021),

.. math:: y_{it} = \alpha_i + \lambda_t + \sum_{g \in \mathcal G}\sum_{e \ne r}
          \delta_{g,e}\,1[g_i = g]\,1[t - g = e] + \varepsilon_{it},

is saturated within every treated cohort (all its periods but the reference period
:math:`g + r` have a free coefficient), so each treated cohort's block is fitted exactly
by its own unit effects and period means, and the period effects :math:`\lambda_t` are
identified by the control cohort :math:`C` alone. The coefficients are then 2×2
differences in differences of cell means,

.. math:: \hat\delta_{g,e} = (\bar y_{g,g+e} - \bar y_{g,g+r})
          - (\bar y_{C,g+e} - \bar y_{C,g+r}),

and the OLS residuals are the within-cohort two-way residuals
:math:`\hat u_{it} = y_{it} - \bar y_{i\cdot} - \bar y_{c(i),t} + \bar y_{c(i)\cdot\cdot}`.
Because :math:`\hat\delta = (\tilde X'\tilde X)^{-1}\tilde X' y` is the same linear map of
:math:`y` as the cell-mean formula, the regression's cluster score of unit :math:`i`,
:math:`(\tilde X'\tilde X)^{-1}\tilde X_i'\hat u_i`, is

.. math:: s_{i,(g,e)} = \frac{1[c(i) = g]}{n_g}(\hat u_{i,g+e} - \hat u_{i,g+r})
          - \frac{1[c(i) = C]}{n_C}(\hat u_{i,g+e} - \hat u_{i,g+r}),

and the CRV1 covariance is :math:`q \sum_{c} S_c S_c'` with :math:`S_c` the cluster sums of
:math:`s_i` and :math:`q` the small-sample factor of
:data:`agglomera.policy.twfe.SSC_CONVENTION`. Nothing of size :math:`N \times k` is formed
when clusters are units: :math:`\sum_i s_i s_i' = \sum_c M_c (\hat U_c'\hat U_c) M_c'`
cohort by cohort.

References
----------
Sun, L., Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175–199.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["CellFit", "cell_means_fit", "fast_path_blocker"]


@dataclass(frozen=True)
class CellFit:
    r"""Cohort × event-time effects of the saturated SA regression, from cell means.

    Attributes
    ----------
    cohort, rel_time : numpy.ndarray
        The cells :math:`(g, e)` (``rel_time`` after binning, when a window is used).
    delta : numpy.ndarray
        :math:`\hat\delta_{g,e}`.
    vcov_raw : numpy.ndarray
        :math:`\sum_c S_c S_c'` (multiply by the small-sample factor).
    n_obs : numpy.ndarray
        Observations per cell (the cohort size on a balanced panel).
    """

    cohort: np.ndarray
    rel_time: np.ndarray
    delta: np.ndarray
    vcov_raw: np.ndarray
    n_obs: np.ndarray


def fast_path_blocker(
    y: np.ndarray,
    unit_cohort: np.ndarray,
    times: np.ndarray,
    treated_cohorts: list[int],
    ref: int,
    window: tuple[int, int] | None,
) -> str | None:
    """Return why the cell-mean identity does not hold on these data (None: it holds).

    Parameters
    ----------
    y : numpy.ndarray, shape (n, T)
        Outcome of the estimation sample (units × periods).
    unit_cohort : numpy.ndarray, shape (n,)
        Cohort of each unit.
    times : numpy.ndarray, shape (T,)
        Periods.
    treated_cohorts : list of int
        Cohorts with cohort × event-time dummies.
    ref : int
        Reference event time.
    window : tuple of int or None
        Binning window.
    """
    if np.isnan(y).any():
        return "unbalanced sample (missing outcome values)"
    tset = {int(t) for t in times}
    for g in treated_cohorts:
        if g + ref not in tset:
            return f"the reference period {g + ref} of cohort {g} is not in the sample"
        if window is not None:
            raw = [int(t) - g for t in times]
            lo, hi = int(window[0]), int(window[1])
            if sum(e <= lo for e in raw) > 1 or sum(e >= hi for e in raw) > 1:
                return f"window={window} bins several event times of cohort {g}"
    return None


def cell_means_fit(
    y: np.ndarray,
    unit_cohort: np.ndarray,
    times: np.ndarray,
    treated_cohorts: list[int],
    control_cohort: int,
    ref: int,
    window: tuple[int, int] | None = None,
    clusters: np.ndarray | None = None,
) -> CellFit:
    r"""Compute :math:`\hat\delta_{g,e}` and their cluster-robust covariance from cell means.

    Parameters
    ----------
    y : numpy.ndarray, shape (n, T)
        Balanced outcome matrix of the estimation sample (no NaN; checked by
        :func:`fast_path_blocker`).
    unit_cohort : numpy.ndarray, shape (n,)
        Cohort of each unit (treated cohorts and ``control_cohort`` only).
    times : numpy.ndarray, shape (T,)
        Periods (columns of ``y``).
    treated_cohorts : list of int
        Treated cohorts, ascending.
    control_cohort : int
        The control cohort's code (0 = never treated).
    ref : int
        Reference event time :math:`r = -1 - \text{anticipation}`.
    window : tuple of int, optional
        Binning window; only relabels the endpoint cells (each must hold one event time).
    clusters : numpy.ndarray of int, optional
        Cluster code of each unit (constant within unit); None = clusters are units.

    Returns
    -------
    CellFit
        Cells ordered by cohort, then event time.
    """
    times = np.asarray(times, dtype=np.int64)
    n_t = times.size
    col = {int(t): j for j, t in enumerate(times)}
    cells_g: list[int] = []
    cells_e: list[int] = []
    cols_e: list[int] = []
    cols_r: list[int] = []
    for g in treated_cohorts:
        for t in times:
            e = int(t) - g
            if e == ref:
                continue
            label = e if window is None else min(max(e, int(window[0])), int(window[1]))
            cells_g.append(g)
            cells_e.append(label)
            cols_e.append(col[int(t)])
            cols_r.append(col[g + ref])
    k = len(cells_g)
    g_arr = np.asarray(cells_g, dtype=np.int64)
    ce = np.asarray(cols_e, dtype=np.int64)
    cr = np.asarray(cols_r, dtype=np.int64)
    rows = np.arange(k)

    order = np.argsort(unit_cohort, kind="stable")
    sorted_c = unit_cohort[order]
    groups = np.unique(sorted_c)
    starts = np.searchsorted(sorted_c, groups, side="left")
    stops = np.searchsorted(sorted_c, groups, side="right")
    means: dict[int, np.ndarray] = {}
    n_c: dict[int, int] = {}
    vcov = np.zeros((k, k))
    score_sums = None
    if clusters is not None:
        n_cl = int(clusters.max()) + 1
        score_sums = np.zeros((n_cl, k))
    for c, a, b in zip(groups.tolist(), starts.tolist(), stops.tolist(), strict=True):
        idx = order[a:b]
        block = y[idx]
        m_t = block.mean(axis=0)
        means[c], n_c[c] = m_t, idx.size
        resid = block - block.mean(axis=1, keepdims=True) - m_t[None, :] + m_t.mean()
        # M_c (k x T): rows of the cells this cohort's units enter, +-1/n_c at (g+e, g+r)
        sel = g_arr == c if c != control_cohort else np.ones(k, dtype=bool)
        sign = 1.0 if c != control_cohort else -1.0
        m_mat = np.zeros((k, n_t))
        r_sel = rows[sel]
        m_mat[r_sel, ce[sel]] += sign / idx.size
        m_mat[r_sel, cr[sel]] -= sign / idx.size
        if score_sums is None:
            gram = resid.T @ resid
            vcov += m_mat @ gram @ m_mat.T
        else:
            assert clusters is not None
            cl = clusters[idx]
            agg = sparse.csr_matrix(
                (np.ones(idx.size), (cl, np.arange(idx.size))),
                shape=(score_sums.shape[0], idx.size),
            )
            score_sums += np.asarray(agg @ (resid @ m_mat.T))
    if score_sums is not None:
        vcov = score_sums.T @ score_sums
    m_ctrl = means[control_cohort]
    delta = np.array(
        [
            (means[g][e] - means[g][r]) - (m_ctrl[e] - m_ctrl[r])
            for g, e, r in zip(cells_g, cols_e, cols_r, strict=True)
        ],
        dtype=float,
    )
    n_obs = np.array([n_c[g] for g in cells_g], dtype=float)
    return CellFit(
        cohort=g_arr,
        rel_time=np.asarray(cells_e, dtype=np.int64),
        delta=delta,
        vcov_raw=(vcov + vcov.T) / 2.0,
        n_obs=n_obs,
    )
