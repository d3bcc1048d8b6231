r"""Array core of the Borusyak–Jaravel–Spiess (2024) imputation estimator.

Everything here works on long integer-coded arrays (one entry per observed unit-period) and
never builds a dense dummy matrix. The untreated model

.. math:: Y_{it}(0) = \alpha_i + \lambda_t + X_{it}'\beta + \varepsilon_{it},
          \qquad (i, t) \in \Omega_0 = \{D_{it} = 0\}

is fitted by least squares on the untreated observations only. Its normal equations
:math:`A_0'A_0 z = A_0'b` (:math:`A_0` = unit dummies, time dummies, covariates on
:math:`\Omega_0`) are solved either

* ``method="direct"`` (default): exactly, by eliminating the unit block (a diagonal
  matrix) and Cholesky-factorising the small dense Schur complement in the time and
  covariate block, :math:`S = A_{T}'M_U A_{T}` of size
  :math:`(T + k) \times (T + k)`, built from the sparse unit × time incidence
  matrix (scipy.sparse); cost :math:`O(N k + U T + (T+k)^3)`; or
* ``method="ap"``: by alternating projections (block Gauss–Seidel over the unit, time and
  covariate blocks) until the largest change is below ``tol``; the number of sweeps is
  recorded.

The same solver gives the imputation weights of Theorem 3 for any linear target
:math:`\hat\tau_w = \sum_{\Omega_1} w_{it}\hat\tau_{it}`:
:math:`v_{\Omega_0} = -A_0 (A_0'A_0)^{-1} A_1' w`, :math:`v_{\Omega_1} = w`.

References
----------
Borusyak, K., Jaravel, X., Spiess, J. (2024). Revisiting event-study designs: robust and
efficient estimation. *Review of Economic Studies* 91(6), 3253–3285.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from agglomera.errors import EstimationError

__all__ = [
    "AVG_EFFECTS_BY",
    "ImputationFit",
    "UntreatedSystem",
    "bjs_variance",
    "fit_imputation",
    "lead_regression",
]

#: Partitions of the treated observations for the auxiliary :math:`\tilde\tau` (Theorem 3).
AVG_EFFECTS_BY: tuple[str, ...] = ("cohort_time", "cohort", "horizon", "all")

Method = Literal["direct", "ap"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


def _sums(codes: IntArray, values: np.ndarray, n: int) -> FloatArray:
    """Group sums of the columns of ``values`` (1-d or 2-d) by integer ``codes``."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n).astype(np.float64)
    out = np.empty((n, values.shape[1]), dtype=np.float64)
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n)
    return out


@dataclass
class UntreatedSystem:
    r"""Normal equations of the two-way fixed-effects (+ covariates) model on :math:`\Omega_0`.

    Parameters
    ----------
    unit, time : numpy.ndarray of int64
        Codes (``0..n_units-1``, ``0..n_times-1``) of the untreated observations.
    x : numpy.ndarray, shape (n0, k)
        Covariates of the untreated observations (``k`` may be 0).
    n_units, n_times : int
        Numbers of unit and time codes.
    method : {"direct", "ap"}, default "direct"
        Exact Schur-complement solve or alternating projections.
    tol : float, default 1e-12
        Convergence tolerance of ``"ap"``: largest absolute change of a coefficient in a
        sweep, relative to the largest coefficient.
    maxiter : int, default 100000
        Maximum number of ``"ap"`` sweeps.

    Notes
    -----
    Identification: the coefficients of one connected component of the bipartite
    unit–period graph of :math:`\Omega_0` are identified up to one constant, pinned by
    setting the first period of each component to zero. :math:`\alpha_i + \lambda_t` is
    identified iff unit ``i`` and period ``t`` both have untreated observations and lie in
    the same component (:meth:`identified`).
    """

    unit: IntArray
    time: IntArray
    x: FloatArray
    n_units: int
    n_times: int
    method: Method = "direct"
    tol: float = 1e-12
    maxiter: int = 100_000
    iterations: list[int] = field(default_factory=list)
    converged: bool = True

    def __post_init__(self) -> None:
        u, t, x = self.unit, self.time, self.x
        self.k = int(x.shape[1])
        self.n_u = np.bincount(u, minlength=self.n_units).astype(np.float64)
        self.n_t = np.bincount(t, minlength=self.n_times).astype(np.float64)
        self.inv_u = np.divide(1.0, self.n_u, out=np.zeros_like(self.n_u), where=self.n_u > 0)
        self.inv_t = np.divide(1.0, self.n_t, out=np.zeros_like(self.n_t), where=self.n_t > 0)
        ones = np.ones(u.size)
        self.B = sp.csr_matrix((ones, (u, t)), shape=(self.n_units, self.n_times))
        self.BT = self.B.T.tocsr()
        # components of the bipartite unit-period graph, through the period graph B'B
        _, tlab = connected_components(self.BT @ self.B, directed=False)
        first_t = np.full(self.n_units, -1, dtype=np.int64)
        first_t[u[::-1]] = t[::-1]
        self.unit_comp = np.where(first_t >= 0, tlab[np.maximum(first_t, 0)], -1)
        self.time_comp = np.where(self.n_t > 0, tlab, -2)
        self.xu = _sums(u, x, self.n_units) if self.k else np.zeros((self.n_units, 0))
        self.xt = _sums(t, x, self.n_times) if self.k else np.zeros((self.n_times, 0))
        self.xx = x.T @ x
        # one reference period per component that has periods
        has_t = self.n_t > 0
        ref = np.zeros(self.n_times, dtype=bool)
        seen: set[int] = set()
        for j in np.flatnonzero(has_t):
            c = int(self.time_comp[j])
            if c not in seen:
                seen.add(c)
                ref[j] = True
        self.n_components = len(seen)
        self.keep_t = has_t & ~ref
        if self.method == "direct":
            self._factorise()
        elif self.k:
            self._xx_factor = self._chol(self.xx, "covariates")

    # ------------------------------------------------------------------ direct solve
    def _chol(self, mat: FloatArray, what: str) -> tuple[FloatArray, bool]:
        scale = np.sqrt(np.clip(np.diag(mat), 1e-300, None))
        scaled = mat / scale[:, None] / scale[None, :]
        w = np.linalg.eigvalsh(scaled) if scaled.size else np.ones(1)
        if scaled.size and w.min() < 1e-11 * max(w.max(), 1.0):
            raise EstimationError(
                f"The untreated model is not identified: the {what} are collinear with the "
                "unit and period fixed effects (or with each other) on the untreated "
                "observations. Fix: drop covariates that are constant within units or "
                "periods, or collinear with others."
            )
        return sla.cho_factor(mat)

    def _factorise(self) -> None:
        kt = np.flatnonzero(self.keep_t)
        btdb = (self.BT.multiply(self.inv_u[None, :]).tocsr() @ self.B).toarray()
        stt = np.diag(self.n_t[kt]) - btdb[np.ix_(kt, kt)]
        if self.k:
            stx = self.xt[kt] - (self.BT @ (self.inv_u[:, None] * self.xu))[kt]
            sxx = self.xx - self.xu.T @ (self.inv_u[:, None] * self.xu)
            s = np.block([[stt, stx], [stx.T, sxx]])
        else:
            s = stt
        self._kt = kt
        self._factor = self._chol(s, "covariates") if s.size else None

    def solve(
        self, bu: FloatArray, bt: FloatArray, bx: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        r"""Solve :math:`A_0'A_0 z = (b_U, b_T, b_X)` (one or several right-hand sides).

        Parameters
        ----------
        bu : numpy.ndarray, shape (n_units, m)
            Unit block of the right-hand side.
        bt : numpy.ndarray, shape (n_times, m)
            Time block.
        bx : numpy.ndarray, shape (k, m)
            Covariate block.

        Returns
        -------
        tuple of numpy.ndarray
            ``(z_unit, z_time, z_x)`` with the reference periods pinned at 0 (direct) —
            fitted values :math:`A z` are unique where identified.
        """
        if self.method == "ap":
            return self._solve_ap(bu, bt, bx)
        m = bu.shape[1]
        zt = np.zeros((self.n_times, m))
        zx = np.zeros((self.k, m))
        kt = self._kt
        ub = self.inv_u[:, None] * bu
        rt = bt[kt] - (self.BT @ ub)[kt]
        if self.k:
            rx = bx - self.xu.T @ ub
            rhs = np.vstack([rt, rx])
        else:
            rhs = rt
        if self._factor is not None:
            sol = sla.cho_solve(self._factor, rhs)
            zt[kt] = sol[: kt.size]
            zx = sol[kt.size :]
        zu = self.inv_u[:, None] * (bu - self.B @ zt - self.xu @ zx)
        return zu, zt, zx

    # ------------------------------------------------------------------ alternating projections
    def _solve_ap(
        self, bu: FloatArray, bt: FloatArray, bx: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        m = bu.shape[1]
        zu = np.zeros((self.n_units, m))
        zt = np.zeros((self.n_times, m))
        zx = np.zeros((self.k, m))
        it = 0
        converged = False
        while it < self.maxiter:
            it += 1
            zu_new = self.inv_u[:, None] * (bu - self.B @ zt - self.xu @ zx)
            zt_new = self.inv_t[:, None] * (bt - self.BT @ zu_new - self.xt @ zx)
            if self.k:
                zx_new = sla.cho_solve(
                    self._xx_factor, bx - self.xu.T @ zu_new - self.xt.T @ zt_new
                )
            else:
                zx_new = zx
            change = max(
                float(np.abs(zu_new - zu).max(initial=0.0)),
                float(np.abs(zt_new - zt).max(initial=0.0)),
                float(np.abs(zx_new - zx).max(initial=0.0)),
            )
            scale = max(
                float(np.abs(zu_new).max(initial=0.0)),
                float(np.abs(zt_new).max(initial=0.0)),
                float(np.abs(zx_new).max(initial=0.0)),
                1e-300,
            )
            zu, zt, zx = zu_new, zt_new, zx_new
            if change <= self.tol * scale:
                converged = True
                break
        self.iterations.append(it)
        self.converged = self.converged and converged
        return zu, zt, zx

    # ------------------------------------------------------------------ helpers
    def rhs(
        self, unit: IntArray, time: IntArray, x: FloatArray, values: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Right-hand side :math:`A'b` for observations (unit, time, x) and columns ``values``."""
        vals = values if values.ndim == 2 else values[:, None]
        return (
            _sums(unit, vals, self.n_units),
            _sums(time, vals, self.n_times),
            x.T @ vals if self.k else np.zeros((0, vals.shape[1])),
        )

    def fitted(
        self,
        z: tuple[FloatArray, FloatArray, FloatArray],
        unit: IntArray,
        time: IntArray,
        x: FloatArray,
    ) -> FloatArray:
        """Fitted values :math:`A z` at observations (unit, time, x); shape (n, m)."""
        zu, zt, zx = z
        out = zu[unit] + zt[time]
        if self.k:
            out = out + x @ zx
        return out

    def identified(self, unit: IntArray, time: IntArray) -> np.ndarray:
        r"""Whether :math:`\alpha_i + \lambda_t` is identified for each (unit, time) pair."""
        return (
            (self.n_u[unit] > 0)
            & (self.n_t[time] > 0)
            & (self.unit_comp[unit] == self.time_comp[time])
        )


@dataclass
class ImputationFit:
    r"""Step 1 and 2 of the imputation estimator.

    Attributes
    ----------
    system : UntreatedSystem
        The fitted normal equations (reused for the variance weights).
    alpha, lam : numpy.ndarray
        Unit and period effects (reference period of each component = 0; NaN where not
        identified).
    beta : numpy.ndarray
        Covariate coefficients.
    resid0 : numpy.ndarray
        Step-1 residuals :math:`\hat\varepsilon_{it}` of the untreated observations.
    tau : numpy.ndarray
        :math:`\hat\tau_{it} = Y_{it} - \hat Y_{it}(0)` of the treated observations (NaN
        where not identified).
    identified : numpy.ndarray of bool
        Whether each treated observation's :math:`Y_{it}(0)` can be imputed.
    """

    system: UntreatedSystem
    alpha: FloatArray
    lam: FloatArray
    beta: FloatArray
    resid0: FloatArray
    tau: FloatArray
    identified: np.ndarray


def fit_imputation(
    y0: FloatArray,
    unit0: IntArray,
    time0: IntArray,
    x0: FloatArray,
    y1: FloatArray,
    unit1: IntArray,
    time1: IntArray,
    x1: FloatArray,
    *,
    n_units: int,
    n_times: int,
    method: Method = "direct",
    tol: float = 1e-12,
    maxiter: int = 100_000,
) -> ImputationFit:
    r"""Fit the untreated model on Ω₀ and impute the treatment effects on Ω₁.

    .. math::

        (\hat\alpha, \hat\lambda, \hat\beta) = \arg\min \sum_{\Omega_0}
        (Y_{it} - \alpha_i - \lambda_t - X_{it}'\beta)^2,\qquad
        \hat\tau_{it} = Y_{it} - \hat\alpha_i - \hat\lambda_t - X_{it}'\hat\beta
        \ \text{on}\ \Omega_1.

    Parameters
    ----------
    y0, unit0, time0, x0 : numpy.ndarray
        Outcome, unit code, time code and covariates (n0 × k) of the untreated observations.
    y1, unit1, time1, x1 : numpy.ndarray
        The same for the treated observations.
    n_units, n_times : int
        Numbers of codes.
    method : {"direct", "ap"}, default "direct"
        Solver (see :class:`UntreatedSystem`).
    tol, maxiter : float, int
        Alternating-projection tolerance and maximum number of sweeps.

    Returns
    -------
    ImputationFit
        Effects, residuals, imputed treatment effects and the identification mask.
    """
    system = UntreatedSystem(
        unit0, time0, x0, n_units, n_times, method=method, tol=tol, maxiter=maxiter
    )
    z = system.solve(*system.rhs(unit0, time0, x0, y0))
    resid0 = y0 - system.fitted(z, unit0, time0, x0)[:, 0]
    ident = system.identified(unit1, time1)
    tau = y1 - system.fitted(z, unit1, time1, x1)[:, 0]
    tau = np.where(ident, tau, np.nan)
    alpha = np.where(system.n_u > 0, z[0][:, 0], np.nan)
    lam = np.where(system.n_t > 0, z[1][:, 0], np.nan)
    return ImputationFit(system, alpha, lam, z[2][:, 0], resid0, tau, ident)


def bjs_variance(
    fit: ImputationFit,
    weights: FloatArray,
    *,
    unit0: IntArray,
    time0: IntArray,
    x0: FloatArray,
    unit1: IntArray,
    time1: IntArray,
    x1: FloatArray,
    cluster0: IntArray,
    cluster1: IntArray,
    n_clusters: int,
    groups1: IntArray,
    leave_out: bool = True,
    chunk: int = 8,
) -> tuple[FloatArray, dict[str, int]]:
    r"""Conservative clustered variance of Theorem 3 for several linear targets.

    For a target :math:`\hat\tau_w = \sum_{\Omega_1} w_{it}\hat\tau_{it}` the estimator is
    linear in :math:`Y`, :math:`\hat\tau_w = \sum_{it} v_{it} Y_{it}`, with
    :math:`v = w` on :math:`\Omega_1` and
    :math:`v_{\Omega_0} = -A_0(A_0'A_0)^{-1}A_1'w`. The variance is

    .. math::

        \hat\sigma^2_w = \sum_c \Big(\sum_{it \in c} v_{it}\,\tilde\varepsilon_{it}\Big)^2,

    with :math:`\tilde\varepsilon_{it} = \hat\varepsilon_{it}` (Step-1 residual) on
    :math:`\Omega_0` and :math:`\tilde\varepsilon_{it} = \hat\tau_{it} - \tilde\tau_{g(it)}`
    on :math:`\Omega_1`, where :math:`g` is the auxiliary group of the observation and (eq.
    8 of the paper, at the cluster level)

    .. math::

        \tilde\tau_g = \frac{\sum_c a_{cg} b_{cg}}{\sum_c a_{cg}^2},\qquad
        a_{cg} = \sum_{it \in c, g} v_{it},\ b_{cg} = \sum_{it \in c, g} v_{it}\hat\tau_{it}.

    With ``leave_out=True`` cluster :math:`c`'s own terms are removed,
    :math:`\tilde\tau_{g,-c} = \sum_{c' \ne c} a_{c'g}b_{c'g} / \sum_{c' \ne c} a_{c'g}^2`
    (Supplementary Appendix A.9); in a group with fewer than two clusters of non-zero
    weight the leave-out average is undefined and the ordinary one is used (counted in the
    returned diagnostics).

    Parameters
    ----------
    fit : ImputationFit
        From :func:`fit_imputation`.
    weights : numpy.ndarray or scipy.sparse matrix, shape (n1, m)
        Target weights on the treated observations (0 where not identified); sparse
        columns keep memory at the number of non-zero weights.
    unit0, time0, x0, unit1, time1, x1 : numpy.ndarray
        Codes and covariates of the untreated and treated observations.
    cluster0, cluster1 : numpy.ndarray of int64
        Cluster codes (``0..n_clusters-1``).
    n_clusters : int
        Number of clusters.
    groups1 : numpy.ndarray of int64
        Auxiliary-group code of each treated observation.
    leave_out : bool, default True
        Leave-cluster-out :math:`\tilde\tau`.
    chunk : int, default 8
        Targets solved at once (memory about ``n_clusters × chunk`` floats).

    Returns
    -------
    tuple
        ``(se, diagnostics)``: standard errors (m,) and ``{"single_cluster_groups": n}``.
    """
    sys_ = fit.system
    m = weights.shape[1]
    se = np.empty(m)
    tau = np.where(np.isfinite(fit.tau), fit.tau, 0.0)
    n_groups = int(groups1.max()) + 1 if groups1.size else 1
    key = cluster1.astype(np.int64) * n_groups + groups1
    single = 0
    # Untreated part of psi_c: sum_{it in c} v_it e_it with v = -(z_U[i] + z_T[t] + x'z_X).
    # Step-1 residuals sum to zero within every unit (unit dummies are in the model) and
    # clusters contain whole units, so the z_U term vanishes and
    # psi0_c = -(sum_t z_T[t] E_ct + z_X' sum_{it in c} x_it e_it), E_ct = sum_{i in c} e_it.
    e_ct = sp.csr_matrix((fit.resid0, (cluster0, time0)), shape=(n_clusters, sys_.n_times))
    xe_c = _sums(cluster0, x0 * fit.resid0[:, None], n_clusters) if sys_.k else None
    wcsc = sp.csc_matrix(weights)
    wcsc.eliminate_zeros()
    for start in range(0, m, chunk):
        cols = range(start, min(start + chunk, m))
        nz = [
            (
                wcsc.indices[wcsc.indptr[j] : wcsc.indptr[j + 1]],
                wcsc.data[wcsc.indptr[j] : wcsc.indptr[j + 1]],
            )
            for j in cols
        ]
        bu = np.column_stack([np.bincount(unit1[r], v, sys_.n_units) for r, v in nz]).astype(float)
        bt = np.column_stack([np.bincount(time1[r], v, sys_.n_times) for r, v in nz]).astype(float)
        bx = np.column_stack([x1[r].T @ v for r, v in nz]) if sys_.k else np.zeros((0, len(nz)))
        _, zt, zx = sys_.solve(bu, bt, bx)
        psi0 = -(e_ct @ zt)
        if xe_c is not None:
            psi0 -= xe_c @ zx
        for j, (rows, wj) in enumerate(nz):  # only observations with weight enter psi
            tj = tau[rows]
            ukey, kinv = np.unique(key[rows], return_inverse=True)
            kgroup = ukey % n_groups
            a = np.bincount(kinv, weights=wj, minlength=ukey.size)
            b = np.bincount(kinv, weights=wj * tj, minlength=ukey.size)
            num = np.bincount(kgroup, weights=a * b, minlength=n_groups)
            den = np.bincount(kgroup, weights=a * a, minlength=n_groups)
            npos = np.bincount(kgroup, minlength=n_groups)
            tt_group = np.divide(num, den, out=np.zeros(n_groups), where=den > 0)
            if leave_out:
                other = den[kgroup] - a * a
                ok = (npos[kgroup] >= 2) & (other > 0)
                tt_key = np.where(
                    ok, (num[kgroup] - a * b) / np.where(ok, other, 1.0), tt_group[kgroup]
                )
                single = max(single, int((npos == 1).sum()))
            else:
                tt_key = tt_group[kgroup]
            eps1 = tj - tt_key[kinv]
            psi = psi0[:, j] + np.bincount(cluster1[rows], weights=wj * eps1, minlength=n_clusters)
            se[start + j] = float(np.sqrt(psi @ psi))
    return se, {"single_cluster_groups": single}


def lead_regression(
    y0: FloatArray,
    unit0: IntArray,
    time0: IntArray,
    x0: FloatArray,
    lead_of: IntArray,
    n_leads: int,
    cluster0: IntArray,
    *,
    n_units: int,
    n_times: int,
    n_clusters: int,
) -> tuple[FloatArray, FloatArray, np.ndarray, dict[str, Any]]:
    r"""Pre-trend regression of the paper (Test 1): leads added to the untreated model.

    .. math::

        Y_{it} = \alpha_i + \lambda_t + X_{it}'\delta
                 + \sum_{k=1}^{K} \gamma_k\,1[t = g_i - a - k] + \varepsilon_{it},
                 \qquad (i, t) \in \Omega_0,

    estimated by Frisch–Waugh–Lovell: every regressor is residualised on the two-way
    fixed effects with the exact solver, :math:`\hat\gamma` comes from the residualised
    regression and its covariance is the CR1 cluster-robust sandwich

    .. math::

        \hat V = \frac{G}{G-1}\frac{N-1}{N-K}\,(\tilde Z'\tilde Z)^{-1}
                 \Big(\sum_c \tilde Z_c'\hat e_c \hat e_c'\tilde Z_c\Big)(\tilde Z'\tilde Z)^{-1},

    with :math:`K` = leads + covariates + the rank of the period effects and the constant
    (unit effects are nested in the clusters; reghdfe / fixest convention).

    Parameters
    ----------
    y0, unit0, time0, x0 : numpy.ndarray
        Untreated observations.
    lead_of : numpy.ndarray of int64
        Lead :math:`k \ge 1` of each untreated observation (0 = none: never treated or
        beyond the last lead).
    n_leads : int
        Number of leads :math:`K`.
    cluster0 : numpy.ndarray of int64
        Cluster codes.
    n_units, n_times, n_clusters : int
        Numbers of codes.

    Returns
    -------
    tuple
        ``(gamma, cov, kept, info)``: coefficients and covariance of the identified leads
        (NaN rows/columns for leads absorbed by the fixed effects), the kept mask and
        ``{"n_obs", "n_clusters", "dof_k"}``.
    """
    n, kx = y0.size, x0.shape[1]
    fe = UntreatedSystem(unit0, time0, np.zeros((n, 0)), n_units, n_times)
    z = np.empty((n, n_leads + kx + 1))
    for j in range(n_leads):
        z[:, j] = lead_of == j + 1
    z[:, n_leads : n_leads + kx] = x0
    z[:, -1] = y0
    norms = np.sqrt(np.einsum("ij,ij->j", z, z))
    zt_fe = fe.solve(*fe.rhs(unit0, time0, fe.x, z))[1]
    z -= zt_fe[time0]  # unit part added below, one gather at a time to bound memory
    zu_fe = fe.inv_u[:, None] * _sums(unit0, z, n_units)
    z -= zu_fe[unit0]
    del zt_fe, zu_fe
    gram = z[:, :-1].T @ z[:, :-1]
    kept = _independent(
        gram, norms[:-1] ** 2, order=[*range(n_leads, n_leads + kx), *range(n_leads)]
    )
    if not kept[n_leads:].all():
        raise EstimationError(
            "The pre-trend regression is not identified: covariates are collinear with the "
            "fixed effects on the untreated observations."
        )
    idx_all = np.flatnonzero(kept)
    yt = z[:, -1]
    zk = z[:, : n_leads + kx] if kept.all() else z[:, idx_all]
    xtx = gram[np.ix_(idx_all, idx_all)]
    coef = np.linalg.solve(xtx, zk.T @ yt)
    e = yt - zk @ coef
    scores = np.column_stack(
        [
            np.bincount(cluster0, weights=zk[:, j] * e, minlength=n_clusters)
            for j in range(zk.shape[1])
        ]
    )
    bread = np.linalg.inv(xtx)
    meat = scores.T @ scores
    dof_k = int(kept.sum()) + int((fe.n_t > 0).sum()) - fe.n_components + 1
    corr = n_clusters / (n_clusters - 1) * (n - 1) / (n - dof_k) if n_clusters > 1 else np.nan
    vk = corr * bread @ meat @ bread
    gamma = np.full(n_leads, np.nan)
    cov = np.full((n_leads, n_leads), np.nan)
    idx = np.flatnonzero(kept[:n_leads])
    gamma[idx] = coef[: idx.size]
    cov[np.ix_(idx, idx)] = vk[: idx.size, : idx.size]
    info = {"n_obs": int(n), "n_clusters": int(n_clusters), "dof_k": dof_k}
    return gamma, cov, kept[:n_leads], info


def _independent(gram: FloatArray, raw_sq: FloatArray, *, order: list[int]) -> np.ndarray:
    """Greedy choice of linearly independent columns (in ``order``) from their Gram matrix.

    A column is kept when the squared norm of its part orthogonal to the columns kept
    before it exceeds ``1e-9`` times its squared norm before the fixed effects were
    partialled out (``raw_sq``): columns absorbed by the fixed effects, alone or jointly
    with earlier ones, are dropped.
    """
    kept: list[int] = []
    for j in order:
        if kept:
            g = gram[kept, j]
            resid = gram[j, j] - g @ np.linalg.solve(gram[np.ix_(kept, kept)], g)
        else:
            resid = gram[j, j]
        if resid > 1e-9 * max(raw_sq[j], 1e-300):
            kept.append(j)
    mask = np.zeros(gram.shape[0], dtype=bool)
    mask[kept] = True
    return mask
