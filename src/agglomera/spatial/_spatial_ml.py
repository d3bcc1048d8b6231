r"""Likelihood core of the fixed-effects spatial panel models (Elhorst 2014, ch. 3).

Arrays are laid out period by period: ``y`` has shape ``(T, N)`` and regressors
``(T, N, k)``, units in the order of the weights matrix. The fixed effects are removed by
demeaning (the *direct approach*); spatial lags are formed on the original data and then
demeaned, so that the transformed equation is exactly the model with the fixed effects
concentrated out:

.. math:: Q y = \rho\, Q (I_T \otimes W) y + Q Z \beta + Q \varepsilon .

The log-determinant uses the eigenvalues :math:`\omega_i` of :math:`W` once:
:math:`\ln|I - \rho W| = \sum_i \ln|1 - \rho\omega_i|` (the real part of
:math:`\ln(1 - \rho\omega_i)`; complex eigenvalues come in conjugate pairs, so the sum is
the log of the positive determinant for :math:`\rho` between the reciprocals of the
smallest and the largest real eigenvalue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from agglomera.errors import DataError, EstimationError, format_examples

__all__: list[str] = []

EFFECTS = ("unit", "time", "twoway")


def _as_dense(w: Any, ids: Sequence[Any]) -> np.ndarray:
    """Return ``w`` as a dense float matrix ordered like ``ids``.

    ``w`` is a libpysal ``W`` (aligned by its ``id_order``) or a square array that is
    assumed to be ordered like ``ids`` (the panel's sorted unit ids).
    """
    ids = list(ids)
    n = len(ids)
    if hasattr(w, "full") and hasattr(w, "id_order"):
        full, order = w.full()
        order = list(order)
        pos = {k: i for i, k in enumerate(order)}
        missing = [u for u in ids if u not in pos]
        if missing:
            # libpysal often keys by str; try a string match before failing
            spos = {str(k): i for i, k in enumerate(order)}
            if all(str(u) in spos for u in ids):
                pos = {u: spos[str(u)] for u in ids}
            else:
                raise DataError(
                    f"w: panel units without a row in the weights object: "
                    f"{format_examples(missing)}. Fix: build W on the panel's unit ids "
                    "(e.g. adcodes as strings) or subset the panel to the units in W."
                )
        extra = len(order) - n
        if extra:
            raise DataError(
                f"w has {len(order)} units but the panel has {n}; {extra} units of W are "
                "not in the panel. Fix: subset W to the panel's units (islands and "
                "neighbours outside the sample change the row standardisation)."
            )
        idx = [pos[u] for u in ids]
        mat = np.asarray(full, dtype=float)[np.ix_(idx, idx)]
    else:
        mat = np.asarray(getattr(w, "to_numpy", lambda: w)(), dtype=float)
        if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
            raise DataError(f"w must be a square matrix or a libpysal W; got shape {mat.shape}.")
        if mat.shape[0] != n:
            raise DataError(
                f"w is {mat.shape[0]} × {mat.shape[0]} but the panel has {n} units. Fix: "
                "pass an N × N matrix ordered like the sorted unit ids, or a libpysal W."
            )
    if not np.all(np.isfinite(mat)):
        raise DataError("w contains NaN or infinite weights.")
    if np.any(np.diag(mat) != 0):
        bad = [ids[i] for i in np.flatnonzero(np.diag(mat) != 0)]
        raise DataError(
            f"w has non-zero diagonal entries (a unit is its own neighbour) for units "
            f"{format_examples(bad)}. Fix: set the diagonal to 0."
        )
    empty = np.flatnonzero(np.abs(mat).sum(axis=1) == 0)
    if empty.size:
        raise DataError(
            "w has units without neighbours (islands): "
            f"{format_examples([ids[i] for i in empty])}. "
            "Fix: connect them explicitly (e.g. to the nearest unit) or drop them from the panel."
        )
    return mat


def is_row_standardised(w: np.ndarray) -> bool:
    """Return True when every row of ``w`` sums to one."""
    return bool(np.allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-10))


def demean(a: np.ndarray, effects: str) -> np.ndarray:
    """Within transformation of an array shaped ``(T, N, ...)``."""
    out = a.copy()
    if effects in ("unit", "twoway"):
        out = out - a.mean(axis=0, keepdims=True)
    if effects in ("time", "twoway"):
        out = out - a.mean(axis=1, keepdims=True)
    if effects == "twoway":
        out = out + a.mean(axis=(0, 1), keepdims=True)
    return out


def lag(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Spatial lag of ``(T, N)`` or ``(T, N, k)`` arrays, period by period."""
    if a.ndim == 2:
        return a @ w.T
    return np.einsum("ij,tjk->tik", w, a)


@dataclass(frozen=True)
class Eigen:
    """Eigenvalues of W and the interval of admissible spatial parameters."""

    values: np.ndarray  # complex or real
    lower: float
    upper: float

    @classmethod
    def of(cls, w: np.ndarray) -> Eigen:
        """Eigenvalues of ``w`` (real arithmetic when ``w`` is symmetric)."""
        if np.allclose(w, w.T, rtol=0, atol=1e-14):
            vals: np.ndarray = np.linalg.eigvalsh(w)
        else:
            vals = np.linalg.eigvals(w)
            if np.all(np.abs(vals.imag) <= 1e-10 * max(1.0, np.abs(vals).max())):
                vals = vals.real
        scale = max(1.0, float(np.abs(vals).max()))
        real = np.real(vals[np.abs(np.imag(vals)) <= 1e-10 * scale])
        lo, hi = real.min(), real.max()
        if not (lo < 0 < hi):
            raise EstimationError(
                "w must have a negative and a positive real eigenvalue (a valid weights "
                f"matrix); its real eigenvalues range over [{lo:.4g}, {hi:.4g}]."
            )
        return cls(values=vals, lower=float(1.0 / lo), upper=float(1.0 / hi))

    def logdet(self, rho: float) -> float:
        r""":math:`\\ln|I - \\rho W|` from the eigenvalues."""
        return float(np.sum(np.log(np.abs(1.0 - rho * self.values))))


def maximise(profile: Any, eig: Eigen) -> float:
    """Maximise a concentrated log-likelihood over the admissible interval."""
    span = eig.upper - eig.lower
    lo, hi = eig.lower + 1e-8 * span, eig.upper - 1e-8 * span
    res = minimize_scalar(
        lambda r: -profile(r), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
    )
    r = float(res.x)
    if min(r - lo, hi - r) < 1e-6 * span:
        raise EstimationError(
            f"the spatial parameter hit the boundary of its admissible interval "
            f"({eig.lower:.4g}, {eig.upper:.4g}) at {r:.6g}; the model is not identified "
            "on these data (check W and the variables)."
        )
    return r


@dataclass(frozen=True)
class Design:
    """Demeaned data of one model: dependent, its spatial lag, regressors and their lag."""

    y: np.ndarray  # (T*N,) Q y
    wy: np.ndarray  # (T*N,) Q (I x W) y
    z: np.ndarray  # (T*N, k) Q Z
    wz: np.ndarray  # (T*N, k) Q (I x W) Z   (error models)
    n: int
    t: int
    n_eff: int  # cross-section size after the Lee-Yu transformation
    t_eff: int  # periods after the Lee-Yu transformation
    time_adjust: bool  # Lee-Yu transformation for time effects (drops W's unit eigenvalue)


def logdet_eff(eig: Eigen, rho: float, d: Design) -> float:
    """Jacobian term of the (possibly transformed) likelihood: T_eff ln|I_eff − ρW_eff|."""
    ld = eig.logdet(rho)
    if d.time_adjust:
        ld -= float(np.log(1.0 - rho))
    return d.t_eff * ld


def fit_lag(d: Design, eig: Eigen) -> tuple[float, np.ndarray, float, float]:
    """ML of ``Qy = ρ QWy + QZβ + e``: returns ρ, β, SSR and the log-likelihood."""
    zz = d.z.T @ d.z
    b0 = np.linalg.solve(zz, d.z.T @ d.y)
    b1 = np.linalg.solve(zz, d.z.T @ d.wy)
    e0, e1 = d.y - d.z @ b0, d.wy - d.z @ b1
    a, b, c = e0 @ e0, e0 @ e1, e1 @ e1
    m = d.n_eff * d.t_eff

    def profile(r: float) -> float:
        return -m / 2 * np.log(a - 2 * r * b + r * r * c) + logdet_eff(eig, r, d)

    rho = maximise(profile, eig)
    beta = b0 - rho * b1
    ssr = float(a - 2 * rho * b + rho * rho * c)
    return rho, beta, ssr, loglik(ssr, rho, d, eig)


def error_parts(d: Design, lam: float) -> tuple[np.ndarray, float]:
    """GLS coefficients and SSR of the spatial-error model at a given λ."""
    ys = d.y - lam * d.wy
    zs = d.z - lam * d.wz
    beta = np.linalg.lstsq(zs, ys, rcond=None)[0]
    e = ys - zs @ beta
    return beta, float(e @ e)


def fit_error(d: Design, eig: Eigen) -> tuple[float, np.ndarray, float, float]:
    """ML of ``Qy = QZβ + u``, ``u = λ W u + e``: returns λ, β, SSR and the log-likelihood."""
    m = d.n_eff * d.t_eff

    def profile(r: float) -> float:
        return -m / 2 * np.log(error_parts(d, r)[1]) + logdet_eff(eig, r, d)

    lam = maximise(profile, eig)
    beta, ssr = error_parts(d, lam)
    return lam, beta, ssr, loglik(ssr, lam, d, eig)


def loglik(ssr: float, r: float, d: Design, eig: Eigen, sigma2: float | None = None) -> float:
    """Gaussian log-likelihood at the ML variance ``ssr / (N_eff T_eff)`` (or ``sigma2``)."""
    m = d.n_eff * d.t_eff
    s2 = ssr / m if sigma2 is None else sigma2
    return float(-m / 2 * np.log(2 * np.pi * s2) + logdet_eff(eig, r, d) - ssr / (2 * s2))


def _traces(w: np.ndarray, r: float, time_adjust: bool) -> tuple[np.ndarray, float, float]:
    """G = W(I − rW)⁻¹ and tr(G), tr(GG + G'G) (in the Lee–Yu space when ``time_adjust``)."""
    n = w.shape[0]
    g = np.linalg.solve((np.eye(n) - r * w).T, w.T).T  # W (I - rW)^{-1}
    if time_adjust:
        gq = g - g.mean(axis=1, keepdims=True)  # G Q_N
        tr1 = float(np.trace(gq))
        tr2 = float(np.sum(gq * gq.T) + np.sum(gq * (gq - gq.mean(axis=0, keepdims=True))))
    else:
        tr1 = float(np.trace(g))
        tr2 = float(np.sum(g * g.T) + np.sum(g * g))
    return g, tr1, tr2


def information_lag(
    d: Design, w: np.ndarray, rho: float, beta: np.ndarray, sigma2: float
) -> np.ndarray:
    r"""Analytical information matrix of (β, ρ, σ²) for the spatial-lag models.

    Elhorst (2014, ch. 3; Elhorst 2010) with :math:`G = W(I - \rho W)^{-1}`:
    ``[[Z'Z/σ², Z'(I⊗G)Zβ/σ², 0], [·, T tr(GG + G'G) + ‖(I⊗G)Zβ‖²/σ², T tr(G)/σ²],
    [·, ·, NT/(2σ⁴)]]`` with T, N replaced by the Lee–Yu effective sizes where applicable.
    """
    k = d.z.shape[1]
    g, tr1, tr2 = _traces(w, rho, d.time_adjust)
    gzb2 = (d.z @ beta).reshape(d.t, d.n) @ g.T
    if d.time_adjust:  # Q_N G Z beta: the lag in the Lee-Yu transformed space
        gzb2 = gzb2 - gzb2.mean(axis=1, keepdims=True)
    gzb = gzb2.ravel()
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = d.z.T @ d.z / sigma2
    info[:k, k] = info[k, :k] = d.z.T @ gzb / sigma2
    info[k, k] = d.t_eff * tr2 + gzb @ gzb / sigma2
    info[k, k + 1] = info[k + 1, k] = d.t_eff * tr1 / sigma2
    info[k + 1, k + 1] = d.n_eff * d.t_eff / (2 * sigma2**2)
    return info


def information_error(d: Design, w: np.ndarray, lam: float, sigma2: float) -> np.ndarray:
    """Analytical information matrix of (β, λ, σ²) for the spatial-error models.

    Elhorst (2014, ch. 3): ``Z*'Z*/σ²`` with ``Z* = Q(Z − λ(I⊗W)Z)``; the λ/σ² block is
    ``[[T tr(GG + G'G), T tr(G)/σ²], [·, NT/(2σ⁴)]]`` with :math:`G = W(I - λW)^{-1}`;
    β is block-diagonal to (λ, σ²).
    """
    k = d.z.shape[1]
    _, tr1, tr2 = _traces(w, lam, d.time_adjust)
    zs = d.z - lam * d.wz
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = zs.T @ zs / sigma2
    info[k, k] = d.t_eff * tr2
    info[k, k + 1] = info[k + 1, k] = d.t_eff * tr1 / sigma2
    info[k + 1, k + 1] = d.n_eff * d.t_eff / (2 * sigma2**2)
    return info


def invert(info: np.ndarray) -> np.ndarray:
    """Inverse of an information matrix, with a clear error when it is singular."""
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError as err:
        raise EstimationError(
            "the information matrix is singular (collinear regressors, or a regressor "
            "without within variation after removing the fixed effects)."
        ) from err
    if np.any(np.diag(cov) <= 0):
        raise EstimationError("the information matrix is not positive definite.")
    return cov


def bias_correct_twoway(theta: np.ndarray, info: np.ndarray, n: int, t: int) -> np.ndarray:
    r"""Lee & Yu (2010) bias correction of the direct two-way estimator.

    With :math:`\theta = (\beta', \rho, \sigma^2)'` and :math:`\Sigma` the information
    matrix divided by :math:`NT`:
    :math:`\tilde\theta = \hat\theta + \Sigma^{-1}(0', 1/(1-\hat\rho), 1/(2\hat\sigma^2))'/N`,
    then :math:`\tilde\sigma^2 \times T/(T-1)` (the order-1/T bias of σ² from the unit
    effects). This is the correction of Elhorst's ``sar_panel_FE`` and R SDPDmod's
    ``SDPDm(..., effects = "twoways", LYtrans = TRUE)``.
    """
    k = theta.size - 2
    sig_inv = np.linalg.inv(info / (n * t))
    c = np.zeros(k + 2)
    c[k] = 1.0 / (1.0 - theta[k])
    c[k + 1] = 1.0 / (2.0 * theta[k + 1])
    out = theta + sig_inv @ c / n
    out[k + 1] *= t / (t - 1)
    return out
