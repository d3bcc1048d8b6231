r"""LeSage–Pace direct, indirect and total effects of spatial panel models.

For the lag models (SAR, SDM) the matrix of partial derivatives of
:math:`E[y_t]` with respect to regressor :math:`k` is

.. math:: S_k(W) = (I_N - \rho W)^{-1}(\beta_k I_N + \theta_k W)

(:math:`\theta_k = 0` in the SAR). The *average direct effect* is
:math:`N^{-1}\operatorname{tr} S_k`, which includes :math:`\theta_k` through the diagonal
of :math:`(I - \rho W)^{-1}W` (feedback through neighbours); the *average total effect* is
:math:`N^{-1}\iota' S_k \iota` (:math:`(\beta_k + \theta_k)/(1 - \rho)` for a
row-standardised W); indirect = total − direct (LeSage & Pace 2009, ch. 2.7;
Elhorst 2014, ch. 2.7). For SEM the effects are β (no spillover); for SDEM direct = β,
indirect = θ.

Inference follows LeSage & Pace (2009, ch. 2.7): ``R`` parameter vectors are drawn from
the asymptotic normal distribution of the ML estimates and the effects are computed for
each draw; the standard errors are the standard deviations over the draws. The point
estimates reported in ``direct``/``indirect``/``total`` are the closed-form effects *at
the ML estimates*; the means of the draws are reported separately (``*_mean``) — R
SDPDmod and spdep print the means of the draws as the estimates.

The draws are cheap because W is decomposed once: the average direct effect needs only
the eigenvalues, :math:`N^{-1}\operatorname{tr}(I-\rho W)^{-1} = N^{-1}\sum_j
1/(1-\rho\lambda_j)` and :math:`N^{-1}\operatorname{tr}(I-\rho W)^{-1}W =
N^{-1}\sum_j \lambda_j/(1-\rho\lambda_j)` (an ``R × N`` array for all draws); the
average total effect is :math:`(\beta_k+\theta_k)/(1-\rho)` for a row-standardised W,
otherwise one triangular solve per draw with the Schur form of W. The result at the
estimates is checked against a direct inverse; if they disagree (an ill-conditioned W),
every draw is solved directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agglomera.errors import EstimationError, SpecError

if TYPE_CHECKING:
    from agglomera.spatial.panel_models import SpatialPanelResult

__all__ = ["effects", "lag_effects"]

_COLUMNS = [
    "direct",
    "indirect",
    "total",
    "direct_se",
    "indirect_se",
    "total_se",
    "direct_mean",
    "indirect_mean",
    "total_mean",
]


def lag_effects(
    w: np.ndarray, rho: float, beta: np.ndarray, theta: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Closed-form average direct, indirect and total effects of a lag model.

    Parameters
    ----------
    w : ndarray
        N × N weights.
    rho : float
        Spatial-lag coefficient.
    beta : ndarray
        Coefficients of the regressors (k).
    theta : ndarray, optional
        Coefficients of their spatial lags (SDM); zeros when omitted (SAR).

    Returns
    -------
    direct, indirect, total : ndarray
        One value per regressor: :math:`N^{-1}\operatorname{tr}S_k`,
        total − direct and :math:`N^{-1}\iota'S_k\iota`, with
        :math:`S_k = (I-\rho W)^{-1}(\beta_k I + \theta_k W)`.
    """
    n = w.shape[0]
    beta = np.asarray(beta, dtype=float)
    theta = np.zeros_like(beta) if theta is None else np.asarray(theta, dtype=float)
    sinv = np.linalg.inv(np.eye(n) - rho * w)
    siw = sinv @ w
    d_i, d_w = np.trace(sinv) / n, np.trace(siw) / n
    t_i, t_w = sinv.sum() / n, siw.sum() / n
    direct = beta * d_i + theta * d_w
    total = beta * t_i + theta * t_w
    return direct, total - direct, total


class _EigenWeights:
    r"""Per-draw traces and sums of (I − ρW)⁻¹ and (I − ρW)⁻¹W from one decomposition of W.

    Traces need only the eigenvalues: :math:`\operatorname{tr} f(W) = \sum_j f(\lambda_j)`.
    Sums: for a row-standardised W, :math:`\iota'(I-\rho W)^{-1}\iota = N/(1-\rho)`;
    otherwise one triangular solve per draw with the complex Schur form
    :math:`W = ZTZ^H` (no eigenvectors, which can be ill-conditioned for asymmetric W).
    """

    def __init__(self, w: np.ndarray, values: np.ndarray) -> None:
        self.n = w.shape[0]
        self.values = values
        self.row_standardised = bool(np.allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-12))
        if not self.row_standardised:
            from scipy.linalg import schur

            t, z = schur(w.astype(complex), output="complex")
            ones = np.ones(self.n)
            self._t, self._left = t, ones @ z
            a = z.conj().T @ ones
            self._rhs = np.column_stack([a, t @ a])

    def scalars(self, rho: np.ndarray) -> tuple[np.ndarray, ...]:
        """(mean diag S⁻¹, mean diag S⁻¹W, mean sum S⁻¹, mean sum S⁻¹W) for each ρ."""
        rho = np.asarray(rho, dtype=float)
        f = 1.0 / (1.0 - np.outer(rho, self.values))
        d_i = np.real(f.sum(axis=1)) / self.n
        d_w = np.real((f * self.values).sum(axis=1)) / self.n
        if self.row_standardised:
            t_i = 1.0 / (1.0 - rho)
            return d_i, d_w, t_i, t_i.copy()
        from scipy.linalg import solve_triangular

        sums = np.empty((rho.size, 2))
        eye = np.eye(self.n)
        for r, rr in enumerate(rho):
            sol = solve_triangular(eye - rr * self._t, self._rhs)
            sums[r] = np.real(self._left @ sol) / self.n
        return d_i, d_w, sums[:, 0], sums[:, 1]


def effects(result: SpatialPanelResult, *, draws: int = 1000, seed: int | None = 0) -> pd.DataFrame:
    r"""Direct, indirect and total effects with simulated standard errors.

    Parameters
    ----------
    result : SpatialPanelResult
        A fitted model from :func:`agglomera.spatial.panel_models.panel_model`.
    draws : int, default 1000
        Number of parameter draws from :math:`N(\\hat\\theta, \\hat V)` for the standard
        errors (lag models). ``0`` gives the point estimates only (NaN SEs).
    seed : int or None, default 0
        Seed of the draws; the same seed gives the same numbers.

    Returns
    -------
    pandas.DataFrame
        Indexed by regressor, columns ``direct``, ``indirect``, ``total`` (closed form at
        the ML estimates), ``direct_se``, ``indirect_se``, ``total_se`` (SD over the
        draws) and ``direct_mean``, ``indirect_mean``, ``total_mean`` (means of the
        draws). ``attrs`` records the method. For SEM/SDEM the effects are linear in the
        coefficients and their SEs are exact (from the covariance matrix); the means equal
        the point estimates.
    """
    fit = result._fit
    if fit is None:
        raise EstimationError("this result carries no fitted data; re-run panel_model.")
    if not isinstance(draws, (int, np.integer)) or draws < 0 or draws == 1:
        raise SpecError(f"draws must be 0 or an integer ≥ 2; got {draws!r}.")
    names = list(fit.x)
    k = len(names)
    est = result.params.to_numpy()
    beta = est[:k]
    theta = est[k:] if result.model in ("sdm", "sdem") else np.zeros(k)
    cov = result.cov.to_numpy()
    out = pd.DataFrame(index=pd.Index(names, name="variable"), columns=_COLUMNS, dtype=float)
    if result.model in ("sem", "sdem"):
        ind = theta
        vb = np.diag(cov)[:k]
        vt = np.diag(cov)[k : 2 * k] if result.model == "sdem" else np.zeros(k)
        cbt = np.diag(cov[:k, k : 2 * k]) if result.model == "sdem" else np.zeros(k)
        out["direct"] = out["direct_mean"] = beta
        out["indirect"] = out["indirect_mean"] = ind
        out["total"] = out["total_mean"] = beta + ind
        out["direct_se"] = np.sqrt(vb)
        out["indirect_se"] = np.sqrt(vt)
        out["total_se"] = np.sqrt(vb + vt + 2 * cbt)
        out.attrs.update(
            point="coefficients (no spatial multiplier in error models)",
            se="exact, from the covariance of the ML estimates",
        )
        return out

    w = fit.w
    rho = result.rho
    direct, indirect, total = lag_effects(w, rho, beta, theta)
    out["direct"], out["indirect"], out["total"] = direct, indirect, total
    out.attrs.update(
        point="closed form at the ML estimates",
        se=f"standard deviation over {draws} draws from the asymptotic normal distribution "
        "of (beta, theta, rho) (LeSage & Pace 2009, ch. 2.7)",
        draws=int(draws),
        seed=seed,
    )
    if draws == 0:
        return out

    # parameter draws: (beta, [theta], rho) from N(estimate, cov)
    mean = np.r_[est, rho]
    chol = np.linalg.cholesky(cov)
    rng = np.random.default_rng(seed)
    par = mean + rng.standard_normal((draws, mean.size)) @ chol.T
    lo, hi = fit.eig.lower, fit.eig.upper
    outside = (par[:, -1] <= lo) | (par[:, -1] >= hi)
    n_redrawn = 0
    for _ in range(100):  # truncate to the admissible interval of rho
        if not outside.any():
            break
        n_redrawn += int(outside.sum())
        par[outside] = mean + rng.standard_normal((int(outside.sum()), mean.size)) @ chol.T
        outside = (par[:, -1] <= lo) | (par[:, -1] >= hi)
    rhos = par[:, -1]
    b_d = par[:, :k]
    t_d = par[:, k : 2 * k] if result.model == "sdm" else np.zeros_like(b_d)

    eg = _EigenWeights(w, np.asarray(fit.eig.values))
    d_i, d_w, t_i, t_w = eg.scalars(np.array([rho]))
    check = np.r_[beta * d_i + theta * d_w, beta * t_i + theta * t_w]
    ref = np.r_[direct, total]
    if np.all(np.abs(check - ref) <= 1e-8 * (1 + np.abs(ref))):
        d_i, d_w, t_i, t_w = eg.scalars(rhos)
        method = "eigenvalues of W" + ("" if eg.row_standardised else " and its Schur form")
    else:  # ill-conditioned eigenvectors: solve each draw
        n = w.shape[0]
        sc = np.empty((4, draws))
        for r, rr in enumerate(rhos):
            sinv = np.linalg.inv(np.eye(n) - rr * w)
            siw = sinv @ w
            sc[:, r] = np.trace(sinv), np.trace(siw), sinv.sum(), siw.sum()
        d_i, d_w, t_i, t_w = sc / n
        method = "direct solve per draw"
    dir_d = b_d * d_i[:, None] + t_d * d_w[:, None]
    tot_d = b_d * t_i[:, None] + t_d * t_w[:, None]
    ind_d = tot_d - dir_d
    for name, arr in (("direct", dir_d), ("indirect", ind_d), ("total", tot_d)):
        out[f"{name}_se"] = arr.std(axis=0, ddof=1)
        out[f"{name}_mean"] = arr.mean(axis=0)
    out.attrs.update(method=method, redrawn=n_redrawn)
    return out
