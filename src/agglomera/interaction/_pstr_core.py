r"""Numerical core of the panel smooth transition regression (PSTR).

Within transformation, the logistic transition function with its first and second
derivatives, the concentrated least-squares objective, the analytic Hessian and the
cluster-robust sandwich, and the LM auxiliary-regression statistics shared by the
linearity and evaluation tests. The public entry point is
:func:`agglomera.interaction.pstr.pstr`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

__all__: list[str] = []

Array = np.ndarray


@dataclass(frozen=True)
class _Design:
    """Arrays of one PSTR specification, rows ordered by unit then time."""

    y: Array  # within-transformed dependent variable (n,)
    x: Array  # within-transformed linear-part regressors (n, k)
    xn: Array  # raw (not demeaned) nonlinear-part regressors (n, kn)
    q: Array  # transition variable (n,)
    groups: Array  # integer unit codes 0..N-1 (n,), rows of a unit are contiguous
    n_units: int
    scale: float  # divisor of gamma: sd(q)**m or 1
    qx: Array  # orthonormal basis of the columns of x (n, rank)


def _starts(groups: Array) -> Array:
    return np.r_[0, np.flatnonzero(np.diff(groups)) + 1]


def within(a: Array, groups: Array, n_units: int) -> Array:
    """Subtract unit means (the within transformation) from each column of ``a``.

    The rows of a unit must be contiguous (the caller sorts by unit, then time).
    """
    n = a.shape[0]
    a2 = a.reshape(n, -1).astype(float)
    starts = _starts(groups)
    counts = np.diff(np.r_[starts, n])
    means = np.add.reduceat(a2, starts, axis=0) / counts[:, None]
    return (a2 - np.repeat(means, counts, axis=0)).reshape(a.shape)


def transition_terms(
    q: Array, gamma: float, c: Array, scale: float
) -> tuple[Array, Array, Array, Array, Array]:
    r"""Logistic transition :math:`g` and its derivatives with respect to (γ, c).

    :math:`g = 1/(1 + \exp(-a z))` with :math:`a = γ/s`, :math:`z = \prod_j (q - c_j)`.

    Returns
    -------
    g : (n,)
    dg : (n, 1 + m) first derivatives, columns (γ, c_1, ..., c_m)
    d2g : (n, 1 + m, 1 + m) second derivatives
    z, a : the index and the slope (for callers that need them)
    """
    m = len(c)
    diffs = q[:, None] - c[None, :]
    z = np.prod(diffs, axis=1)
    a = gamma / scale
    g = 0.5 * (1.0 + np.tanh(0.5 * a * z))  # overflow-free logistic
    h = g * (1.0 - g)
    h2 = h * (1.0 - 2.0 * g)  # d h / d(az)
    # dz/dc_j and d2z/dc_j dc_k
    zj = np.empty((q.size, m))
    for j in range(m):
        zj[:, j] = -np.prod(np.delete(diffs, j, axis=1), axis=1) if m > 1 else -1.0
    zjk = np.zeros((q.size, m, m))
    for j in range(m):
        for k in range(m):
            if j != k:
                zjk[:, j, k] = np.prod(np.delete(diffs, [j, k], axis=1), axis=1) if m > 2 else 1.0
    # derivatives of the index u = a z
    du = np.empty((q.size, 1 + m))
    du[:, 0] = z / scale
    du[:, 1:] = a * zj
    d2u = np.zeros((q.size, 1 + m, 1 + m))
    d2u[:, 0, 1:] = zj / scale
    d2u[:, 1:, 0] = zj / scale
    d2u[:, 1:, 1:] = a * zjk
    dg = h[:, None] * du
    d2g = h2[:, None, None] * du[:, :, None] * du[:, None, :] + h[:, None, None] * d2u
    return g, dg, d2g, z, np.asarray(a)


def concentrated(design: _Design, gamma: float, c: Array) -> tuple[float, Array, Array, Array]:
    """Least squares of ``y`` on ``[x, within(xn * g)]`` for given (γ, c).

    Returns the SSR, the coefficients (β0 then β1), the residuals and ``g``.
    """
    g = transition_terms(design.q, gamma, c, design.scale)[0]
    z = np.hstack([design.x, within(design.xn * g[:, None], design.groups, design.n_units)])
    beta = ols(z, design.y)
    resid = design.y - z @ beta
    return float(resid @ resid), beta, resid, g


def profile_ssr(design: _Design, y_perp: Array, gamma: float, c: Array) -> tuple[float, Array]:
    r"""Concentrated SSR by Frisch–Waugh (``x`` partialled out once) and its gradient.

    The gradient is with respect to (γ, c) by the envelope theorem,
    :math:`\partial SSR/\partial θ = -2\sum_{it} r_{it}\,(x^{(n)}_{it}{}'β_1)\,
    \partial g_{it}/\partial θ`.
    """
    g, dg, _, _, _ = transition_terms(design.q, gamma, c, design.scale)
    w = within(design.xn * g[:, None], design.groups, design.n_units)
    w_perp = w - design.qx @ (design.qx.T @ w)
    b1 = ols(w_perp, y_perp)
    resid = y_perp - w_perp @ b1
    grad = -2.0 * (resid * (design.xn @ b1)) @ dg
    return float(resid @ resid), grad


def jacobian(design: _Design, beta: Array, gamma: float, c: Array) -> tuple[Array, Array]:
    """Differentiate the within-transformed regression function.

    Returns ``J`` (n, p) with columns (β0, β1, γ, c_1, ..., c_m) and ``g``.
    """
    k = design.x.shape[1]
    kn = design.xn.shape[1]
    g, dg, _, _, _ = transition_terms(design.q, gamma, c, design.scale)
    b1 = beta[k : k + kn]
    xb1 = design.xn @ b1
    cols = [
        design.x,
        within(design.xn * g[:, None], design.groups, design.n_units),
        within(xb1[:, None] * dg, design.groups, design.n_units),
    ]
    return np.hstack(cols), g


def hessian(design: _Design, beta: Array, gamma: float, c: Array, resid: Array) -> Array:
    r"""Analytic Hessian of :math:`\tfrac12\,SSR` in (β0, β1, γ, c).

    :math:`H = J'J - \sum_{it} r_{it}\,\partial^2 f_{it}/\partial θ\partial θ'`; because the
    residuals have zero unit means, the within transformation can be dropped from the
    second-derivative term.
    """
    k = design.x.shape[1]
    kn = design.xn.shape[1]
    jac, _ = jacobian(design, beta, gamma, c)
    _, dg, d2g, _, _ = transition_terms(design.q, gamma, c, design.scale)
    b1 = beta[k : k + kn]
    xb1 = design.xn @ b1
    p = jac.shape[1]
    second = np.zeros((p, p))
    # d2 f / d beta1 d theta = xn * dg
    cross = (design.xn * resid[:, None]).T @ dg  # (kn, 1+m)
    second[k : k + kn, k + kn :] = cross
    second[k + kn :, k : k + kn] = cross.T
    second[k + kn :, k + kn :] = np.einsum("n,nij->ij", resid * xb1, d2g)
    return jac.T @ jac - second


def residualise(base: Array, mat: Array) -> Array:
    """Residuals of the least-squares projection of ``mat`` on the columns of ``base``.

    Normal equations on norm-scaled columns (the bases here are tall and full rank; this is
    much cheaper than a QR of the tall matrix when BLAS threads are contended).
    """
    return mat - base @ ols(base, mat)


def ols(base: Array, target: Array) -> Array:
    """Least-squares coefficients by normal equations on norm-scaled columns."""
    norms = np.sqrt((base**2).sum(axis=0))
    norms[norms == 0.0] = 1.0
    scaled = base / norms
    coef = np.linalg.solve(scaled.T @ scaled, scaled.T @ target)
    return coef / (norms[:, None] if coef.ndim == 2 else norms)


def cluster_meat(jac: Array, resid: Array, groups: Array, n_units: int) -> Array:
    """Sum over units of the outer product of the unit score sums."""
    scores = np.add.reduceat(jac * resid[:, None], _starts(groups), axis=0)
    return scores.T @ scores


@dataclass(frozen=True)
class _LM:
    lm_x: float
    lm_x_pvalue: float
    lm_f: float
    lm_f_pvalue: float
    lm_hac_x: float
    lm_hac_x_pvalue: float
    lm_hac_f: float
    lm_hac_f_pvalue: float
    df1: int
    df2: int


def lm_statistics(
    base: Array, resid: Array, added: Array, groups: Array, n_units: int, n_params: int
) -> _LM:
    r"""LM statistics for adding the columns ``added`` to a model with gradient ``base``.

    With :math:`SSR_0 = e'e` (the residuals of the null model) and :math:`SSR_1` from the
    regression of ``e`` on ``[base, added]``:

    * :math:`LM_χ = NT (SSR_0 - SSR_1)/SSR_0 \sim χ^2_{r}`, ``r`` = number of added columns;
    * :math:`LM_F = LM_χ (NT - N - p - r)/(NT\, r) \sim F(r, NT - N - p - r)`;
    * cluster-robust (by unit): :math:`LM^{HAC}_χ = s'(\sum_i w_i w_i')^{-1}s` with
      :math:`\tilde W` the added columns after partialling out ``base``,
      :math:`s = \tilde W'e`, :math:`w_i = \sum_t \tilde W_{it} e_{it}`; its F form uses
      the same factor as :math:`LM_F`.
    """
    nt = resid.size
    ssr0 = float(resid @ resid)
    w_tilde = residualise(base, added)
    gram = w_tilde.T @ w_tilde
    eig = np.linalg.eigvalsh(gram / np.sqrt(np.outer(np.diag(gram), np.diag(gram)) + 1e-300))
    r = int((eig > 1e-10 * eig.max()).sum())  # columns collinear with the null model add nothing
    s = w_tilde.T @ resid
    # SSR0 - SSR1 = s' (W~'W~)^{-1} s (Frisch–Waugh)
    drop = float(s @ np.linalg.pinv(gram) @ s)
    lm_x = nt * drop / ssr0
    df2 = nt - n_units - n_params - r
    factor = df2 / (nt * r)
    meat = cluster_meat(w_tilde, resid, groups, n_units)
    hac = float(s @ np.linalg.pinv(meat) @ s)
    return _LM(
        lm_x=lm_x,
        lm_x_pvalue=float(stats.chi2.sf(lm_x, r)),
        lm_f=lm_x * factor,
        lm_f_pvalue=float(stats.f.sf(lm_x * factor, r, df2)),
        lm_hac_x=hac,
        lm_hac_x_pvalue=float(stats.chi2.sf(hac, r)),
        lm_hac_f=hac * factor,
        lm_hac_f_pvalue=float(stats.f.sf(hac * factor, r, df2)),
        df1=r,
        df2=df2,
    )


def local_fit(
    design: _Design,
    y_perp: Array,
    theta0: Array,
    bounds: list[tuple[float, float]],
    method: str,
    tol: float,
) -> tuple[Array, bool, str]:
    """Minimise the concentrated SSR over θ = (log γ, c) from ``theta0`` within ``bounds``.

    Returns θ (the start if the optimiser did not improve on it), the success flag and the
    optimiser's message.
    """

    def objective(theta: Array) -> tuple[float, Array]:
        gam = float(np.exp(theta[0]))
        ssr, grad = profile_ssr(design, y_perp, gam, theta[1:])
        grad = grad.copy()
        grad[0] *= gam
        return ssr, grad

    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    theta0 = np.clip(theta0, lo, hi)
    opts: dict[str, Any] = {"maxiter": 2000}
    if method == "L-BFGS-B":
        opts.update(ftol=tol, gtol=tol)
    res = optimize.minimize(objective, theta0, jac=True, method=method, bounds=bounds, options=opts)
    f0 = objective(theta0)[0]
    theta = res.x if res.fun <= f0 else theta0
    return np.asarray(theta, float), bool(res.success), str(res.message)
