r"""Estimation core of the panel VAR by GMM (first-difference / forward-orthogonal GMM).

The data are laid out on a rectangular grid (units × calendar periods, gaps as missing)
and reduced to per-unit cross products, so that the one-step and two-step estimators,
the Windmeijer (2005) correction and the re-estimations of a unit bootstrap are sums
over units of small matrices. The conventions follow R ``panelvar::pvargmm``
(Sigmund & Ferstl 2021) with ``system_instruments = FALSE``:

* forward orthogonal deviations (Helmert) use the available future values of each
  variable; the transformed value of period :math:`t` is stored in period :math:`t + 1`
  (as in Stata ``xtabond2`` and ``panelvar``), so that instrument lags are counted as
  for first differences (``instrument_lags=(2, ...)`` makes :math:`y_{t-1}` the most
  recent instrument of the transformed period-:math:`t` equation);
* a lagged regressor is missing where the current value of its variable is missing
  (``panelvar``'s ``panel_lag``) before it is transformed;
* GMM-style instruments are the levels of the dependent variables; a missing
  instrument is set to 0; an equation row with a missing transformed dependent
  variable or regressor is dropped (its instruments are set to 0);
* one weighting matrix for the whole system:
  :math:`\Lambda = \sum_i Z_i' H Z_i \otimes I_m` in the first step (:math:`H = I` for
  FOD, the tridiagonal (2, −1) matrix for FD) and
  :math:`\hat D = \sum_i g_i(\hat b_1) g_i(\hat b_1)'` in the second step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "GMMFit",
    "PVARDesign",
    "UnitProducts",
    "batch_inverse",
    "build_design",
    "fit_gmm",
    "ginv",
    "helmert",
    "refit_batch",
    "unit_products",
    "zhz_sum",
    "zhz_units",
]

_PANELVAR_TOL = 1e-9  # panelvar's `tol`: smallest |eigenvalue| before a generalised inverse


@dataclass(frozen=True)
class PVARDesign:
    """Transformed data of a panel VAR on the slot grid (one row per equation period).

    Arrays are ``(N, R, ·)`` with ``R`` equation slots per unit; rows that are not used
    (missing data) are zero in ``y``, ``x`` and ``z``.
    """

    y: np.ndarray  # (N, R, m) transformed dependent variables
    x: np.ndarray  # (N, R, K) transformed regressors
    z: np.ndarray  # (N, R, L) instruments
    used: np.ndarray  # (N, R) bool
    h: np.ndarray | None  # (R, R) FD weighting kernel; None = identity (FOD)
    slot_periods: np.ndarray  # (R,) calendar period of each slot (stored convention)
    regressors: tuple[str, ...]
    instruments: tuple[str, ...]


def helmert(a: np.ndarray) -> np.ndarray:
    r"""Forward orthogonal deviations along axis 1, stored one period later.

    ``out[:, t + 1] = sqrt(k/(k+1)) * (a[:, t] - mean of the k non-missing a[:, s], s > t)``;
    ``out[:, 0]`` and periods without any later value are missing.
    """
    vals = np.where(np.isnan(a), 0.0, a)
    cnt = (~np.isnan(a)).astype(float)
    # sums over s > t
    fsum = np.flip(np.cumsum(np.flip(vals, axis=1), axis=1), axis=1)
    fcnt = np.flip(np.cumsum(np.flip(cnt, axis=1), axis=1), axis=1)
    fsum = np.concatenate([fsum[:, 1:], np.zeros_like(fsum[:, :1])], axis=1)
    fcnt = np.concatenate([fcnt[:, 1:], np.zeros_like(fcnt[:, :1])], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = np.sqrt(fcnt / (fcnt + 1.0)) * (a - fsum / fcnt)
    dev = np.where(fcnt > 0, dev, np.nan)
    out = np.full_like(a, np.nan)
    out[:, 1:] = dev[:, :-1]
    return out


def first_difference(a: np.ndarray) -> np.ndarray:
    """First differences along axis 1 (``out[:, 0]`` missing)."""
    out = np.full_like(a, np.nan)
    out[:, 1:] = a[:, 1:] - a[:, :-1]
    return out


def build_design(
    levels: np.ndarray,
    exog: np.ndarray,
    periods: np.ndarray,
    *,
    names: list[str],
    exog_names: list[str],
    lags: int,
    transform: str,
    instrument_lags: tuple[int, int],
    collapse: bool,
    first_slot: int | None = None,
    row_mask: np.ndarray | None = None,
) -> PVARDesign:
    """Transform the grid data and build regressors and GMM-style instruments.

    Parameters
    ----------
    levels : (N, T, m) array
        Dependent variables in levels on the calendar grid (NaN = missing).
    exog : (N, T, q) array
        Strictly exogenous variables (transformed and instrumented by themselves).
    periods : (T,) array
        Calendar periods of the grid.
    first_slot : int, optional
        First 0-based grid index used as an equation slot (default ``lags + 1``); a later
        start keeps the estimation sample common across lag orders.
    row_mask : (N, R) bool array, optional
        Rows allowed (intersected with the rows that have data).
    """
    n, t_len, m = levels.shape
    q = exog.shape[2]
    tf = helmert if transform == "fod" else first_difference
    start = lags + 1 if first_slot is None else first_slot
    slots = np.arange(start, t_len)
    r = slots.size
    y_tr = np.stack([tf(levels[:, :, v]) for v in range(m)], axis=2)[:, slots]
    x_parts = []
    reg_names = []
    for lag in range(1, lags + 1):
        for v in range(m):
            series = np.full((n, t_len), np.nan)
            series[:, lag:] = levels[:, :-lag, v]
            series[np.isnan(levels[:, :, v])] = np.nan  # panelvar: lag missing if current is
            x_parts.append(tf(series)[:, slots])
            reg_names.append(f"L{lag}.{names[v]}")
    exog_tr = [tf(exog[:, :, k])[:, slots] for k in range(q)]
    x_parts.extend(exog_tr)
    reg_names.extend(exog_names)
    x_tr = np.stack(x_parts, axis=2)
    used = ~(np.isnan(y_tr).any(axis=2) | np.isnan(x_tr).any(axis=2))
    if row_mask is not None:
        used &= row_mask

    lo, hi = instrument_lags
    lvl0 = np.where(np.isnan(levels), 0.0, levels)
    z_cols: list[np.ndarray] = []
    z_names: list[str] = []
    if collapse:
        max_d = min(hi, int(slots.max()))
        for d in range(lo, max_d + 1):
            for v in range(m):
                col = np.zeros((n, r))
                ok = slots - d >= 0
                col[:, ok] = lvl0[:, slots[ok] - d, v]
                z_cols.append(col)
                z_names.append(f"L{d}.{names[v]}")
    else:
        for j, s in enumerate(slots):
            for d in range(lo, min(hi, int(s)) + 1):
                for v in range(m):
                    col = np.zeros((n, r))
                    col[:, j] = lvl0[:, s - d, v]
                    z_cols.append(col)
                    z_names.append(f"L{d}.{names[v]}@{periods[s]}")
    for k, ex in enumerate(exog_tr):
        z_cols.append(np.where(np.isnan(ex), 0.0, ex))
        z_names.append(exog_names[k])
    z = np.stack(z_cols, axis=2) if z_cols else np.zeros((n, r, 0))
    mask = used[:, :, None]
    y_tr = np.where(mask, y_tr, 0.0)
    x_tr = np.where(mask, x_tr, 0.0)
    z = np.where(mask, z, 0.0)
    h = None
    if transform == "fd":
        h = 2.0 * np.eye(r) - np.eye(r, k=1) - np.eye(r, k=-1)
    return PVARDesign(
        y=y_tr,
        x=x_tr,
        z=z,
        used=used,
        h=h,
        slot_periods=periods[slots],
        regressors=tuple(reg_names),
        instruments=tuple(z_names),
    )


@dataclass(frozen=True)
class UnitProducts:
    """Per-unit cross products; sums (possibly weighted) give every GMM quantity."""

    zx: np.ndarray  # (N, L, K)
    zy: np.ndarray  # (N, L, m)
    xx: np.ndarray  # (N, K, K)
    xy: np.ndarray  # (N, K, m)
    yy: np.ndarray  # (N, m, m)
    nobs: np.ndarray  # (N,)


def unit_products(d: PVARDesign) -> UnitProducts:
    """Per-unit cross products ``Z_i'X_i``, ``Z_i'Y_i``, ``X_i'X_i``, ``X_i'Y_i``, ``Y_i'Y_i``."""
    return UnitProducts(
        zx=np.einsum("nrl,nrk->nlk", d.z, d.x, optimize=True),
        zy=np.einsum("nrl,nrk->nlk", d.z, d.y, optimize=True),
        xx=np.einsum("nrl,nrk->nlk", d.x, d.x, optimize=True),
        xy=np.einsum("nrl,nrk->nlk", d.x, d.y, optimize=True),
        yy=np.einsum("nrl,nrk->nlk", d.y, d.y, optimize=True),
        nobs=d.used.sum(axis=1).astype(float),
    )


def zhz_sum(d: PVARDesign, weights: np.ndarray | None = None) -> np.ndarray:
    r"""First-step kernel :math:`\sum_i w_i Z_i' H Z_i` (``H = I`` for FOD)."""
    zw = d.z if weights is None else d.z * weights[:, None, None]
    if d.h is None:
        return np.einsum("nrl,nrk->lk", zw, d.z, optimize=True)
    return np.einsum("nrl,rs,nsk->lk", zw, d.h, d.z, optimize=True)


def zhz_units(d: PVARDesign) -> np.ndarray:
    """Per-unit first-step kernels ``(N, L, L)``."""
    if d.h is None:
        return np.einsum("nrl,nrk->nlk", d.z, d.z, optimize=True)
    return np.einsum("nrl,rs,nsk->nlk", d.z, d.h, d.z, optimize=True)


def inverse(a: np.ndarray, *, generalised: str = "auto") -> tuple[np.ndarray, bool]:
    """Inverse of a symmetric matrix; the Moore–Penrose inverse when it is singular.

    ``generalised="auto"`` follows ``panelvar``: a generalised inverse (relative
    tolerance √ε, as ``MASS::ginv``) when the smallest absolute eigenvalue is below 1e-9;
    ``"always"`` always uses it. Returns the inverse and whether it was generalised.
    """
    if generalised == "always" or (
        generalised == "auto" and np.min(np.abs(np.linalg.eigvalsh(a))) < _PANELVAR_TOL
    ):
        return ginv(a), True
    return np.linalg.inv(a), False


def ginv(a: np.ndarray) -> np.ndarray:
    """Moore–Penrose inverse with ``MASS::ginv``'s tolerance (√ε relative to the largest)."""
    return np.linalg.pinv(a, rtol=np.sqrt(np.finfo(float).eps), hermitian=True)


@dataclass(frozen=True)
class GMMFit:
    """Point estimates, covariance and diagnostics of one GMM fit."""

    coef1: np.ndarray  # (m, K) one-step
    coef: np.ndarray  # (m, K) reported (one- or two-step)
    vcov: np.ndarray  # (Km, Km), parameter order k*m + j (regressor-major)
    hansen: float
    hansen_df: int
    sigma: np.ndarray  # (m, m) residual covariance of the transformed equations
    n_obs: int
    n_moments: int
    generalised: tuple[str, ...]


def fit_gmm(p: UnitProducts, zhz: np.ndarray, *, steps: int, sigma_divisor: float = 1.0) -> GMMFit:
    r"""One- or two-step system GMM with the Windmeijer-corrected two-step covariance.

    Notes
    -----
    With :math:`S_{ZX} = \sum_i Z_i'X_i` (L×K), :math:`G = S_{ZX} \otimes I_m`,
    :math:`s = \mathrm{vec}(\sum_i Z_i'Y_i)` and :math:`A = \sum_i Z_i'HZ_i`:

    one step :math:`\hat b_1 = (G'\Lambda^{-1}G)^{-1}G'\Lambda^{-1}s`,
    :math:`\Lambda = A \otimes I_m` (equation by equation 2SLS-type), robust covariance
    :math:`V_1 = B_1 G'\Lambda^{-1}\hat D\Lambda^{-1}G B_1`;
    two step :math:`\hat b_2 = (G'\hat D^{-1}G)^{-1}G'\hat D^{-1}s` with
    :math:`\hat D = \sum_i g_i(\hat b_1)g_i(\hat b_1)'`,
    :math:`g_i(b) = \mathrm{vec}(Z_i'(Y_i - X_i\Phi'))`; covariance
    :math:`B_2 + F B_2 + B_2 F' + F V_1 F'` (Windmeijer 2005) with
    :math:`F_{\cdot j} = -B_2 G'\hat D^{-1}(\partial\hat D/\partial b_j)\hat D^{-1}g(\hat b_2)`.
    Hansen :math:`J = g(\hat b)'\hat D^{-1}g(\hat b)` with :math:`L m - K m` degrees of
    freedom (for one-step estimates, :math:`g` is evaluated at :math:`\hat b_1`).
    The residual covariance is :math:`\hat E'\hat E/((n - K)\,c)` with
    :math:`c` = ``sigma_divisor`` (2 for first differences, whose errors have twice the
    variance of the level errors; 1 for FOD, an orthonormal transform).
    """
    n, el, k = p.zx.shape
    m = p.zy.shape[2]
    szx = p.zx.sum(axis=0)
    szy = p.zy.sum(axis=0)
    eye = np.eye(m)
    gen: list[str] = []
    a_inv, g1 = inverse(zhz)
    if g1:
        gen.append("first-step weighting matrix")
    m1 = szx.T @ a_inv @ szx
    b1_inv = ginv(m1)
    coef1_t = b1_inv @ szx.T @ a_inv @ szy  # (K, m)
    g_units = (p.zy - np.einsum("nlk,kj->nlj", p.zx, coef1_t)).reshape(n, el * m)
    dmat = g_units.T @ g_units
    big_g = np.kron(szx, eye)  # (Lm, Km)
    lam_inv = np.kron(a_inv, eye)
    bread1 = np.linalg.inv(big_g.T @ lam_inv @ big_g)
    sand = big_g.T @ lam_inv
    v1 = bread1 @ sand @ dmat @ sand.T @ bread1
    s = szy.ravel()
    d_inv, g2 = inverse(dmat)
    if g2:
        gen.append("second-step weighting matrix")
    if steps == 1:
        coef_t = coef1_t
        vcov = v1
        gbar = s - big_g @ coef1_t.ravel()
    else:
        m2 = big_g.T @ d_inv @ big_g
        b2 = ginv(m2)
        theta2 = b2 @ big_g.T @ d_inv @ s
        coef_t = theta2.reshape(k, m)
        gbar = s - big_g @ theta2
        # Windmeijer: F = V' (sum_i a_i G_i + Gamma' C), V = D^-1 G B2, u = D^-1 g(b2)
        u = d_inv @ gbar
        vmat = d_inv @ big_g @ b2
        a_i = g_units @ u  # (N,)
        part1 = np.kron(np.einsum("n,nlk->lk", a_i, p.zx), eye)
        u_mat = u.reshape(el, m)
        c_units = np.einsum("nlk,lj->nkj", p.zx, u_mat).reshape(n, k * m)
        part2 = g_units.T @ c_units
        f = vmat.T @ (part1 + part2)
        vcov = b2 + f @ b2 + b2 @ f.T + f @ v1 @ f.T
    hansen = float(gbar @ d_inv @ gbar)
    coef = coef_t.T
    # residual covariance of the transformed equations (panelvar's vcov: / (n - K))
    ee = (
        p.yy.sum(axis=0)
        - coef_t.T @ p.xy.sum(axis=0)
        - p.xy.sum(axis=0).T @ coef_t
        + coef_t.T @ p.xx.sum(axis=0) @ coef_t
    )
    n_obs = int(p.nobs.sum())
    sigma = ee / ((n_obs - k) * sigma_divisor)
    return GMMFit(
        coef1=coef1_t.T,
        coef=coef,
        vcov=vcov,
        hansen=hansen,
        hansen_df=el * m - k * m,
        sigma=sigma,
        n_obs=n_obs,
        n_moments=el * m,
        generalised=tuple(gen),
    )


def batch_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`inverse` with ``generalised="auto"`` for a stack of symmetric matrices.

    Each matrix gets ``panelvar``'s rule separately (Moore–Penrose inverse with relative
    tolerance √ε when its smallest absolute eigenvalue is below 1e-9). Returns the
    inverses and a boolean array saying which were generalised.
    """
    vals, vecs = np.linalg.eigh(a)
    absval = np.abs(vals)
    singular = absval.min(axis=-1) < _PANELVAR_TOL
    cutoff = np.sqrt(np.finfo(float).eps) * absval.max(axis=-1, keepdims=True)
    keep = np.where(singular[:, None], absval > cutoff, absval > 0)
    inv_vals = np.where(keep, 1.0 / np.where(keep, vals, 1.0), 0.0)
    return (vecs * inv_vals[:, None, :]) @ np.swapaxes(vecs, 1, 2), singular


def refit_batch(
    p: UnitProducts,
    zhz_u: np.ndarray,
    weights: np.ndarray,
    *,
    steps: int,
    sigma_divisor: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Re-estimate coefficients and residual covariance for a stack of unit weights.

    ``weights`` ``(B, N)`` are the number of times each unit is drawn (a unit bootstrap
    sample); the estimates equal those of :func:`fit_gmm` on the resampled panel with
    every copy of a unit treated as a separate unit, including the choice of a
    generalised inverse for each weighting matrix (:func:`batch_inverse`). Returns
    ``coef`` ``(B, m, K)`` and ``sigma`` ``(B, m, m)``.
    """
    n, el, k = p.zx.shape
    m = p.zy.shape[2]
    b = weights.shape[0]
    w = weights.astype(float)
    szx = (w @ p.zx.reshape(n, -1)).reshape(b, el, k)
    szy = (w @ p.zy.reshape(n, -1)).reshape(b, el, m)
    a_mat = (w @ zhz_u.reshape(n, -1)).reshape(b, el, el)
    a_inv, _ = batch_inverse(a_mat)
    za = np.swapaxes(szx, 1, 2) @ a_inv  # (B, K, L)
    m1 = za @ szx
    coef1 = np.linalg.pinv(m1, rtol=np.sqrt(np.finfo(float).eps), hermitian=True) @ (za @ szy)
    if steps == 1:
        coef_t = coef1
    else:
        # g_i(b1) for every draw: (B, N, L*m)
        g = (p.zy[None] - np.einsum("nlk,bkj->bnlj", p.zx, coef1, optimize=True)).reshape(
            b, n, el * m
        )
        dmat = np.swapaxes(g * w[:, :, None], 1, 2) @ g
        d_inv, _ = batch_inverse(dmat)
        big_g = np.einsum("blk,ij->blikj", szx, np.eye(m)).reshape(b, el * m, k * m)
        gd = np.swapaxes(big_g, 1, 2) @ d_inv  # (B, Km, Lm)
        m2 = gd @ big_g
        rhs = gd @ szy.reshape(b, el * m, 1)
        theta = np.linalg.pinv(m2, rtol=np.sqrt(np.finfo(float).eps), hermitian=True) @ rhs
        coef_t = theta.reshape(b, k, m)
    yy = np.einsum("bn,nij->bij", w, p.yy)
    xy = np.einsum("bn,nij->bij", w, p.xy)
    xx = np.einsum("bn,nij->bij", w, p.xx)
    ct = np.swapaxes(coef_t, 1, 2)
    ee = yy - ct @ xy - np.swapaxes(xy, 1, 2) @ coef_t + ct @ xx @ coef_t
    nobs = w @ p.nobs
    sigma = ee / ((nobs - k) * sigma_divisor)[:, None, None]
    return ct, sigma
