r"""Vectorised array core of the Callaway and Sant'Anna (2021) staggered DID estimator.

Everything here works on NumPy arrays (units × periods): the ATT(g, t) cells and their
influence functions, and cluster-robust variances; the aggregations are in
:mod:`agglomera.policy._cs_aggregate` and the multiplier bootstrap in
:mod:`agglomera.policy._cs_bootstrap`. :mod:`agglomera.policy.cs`
turns a :class:`~agglomera.policy.design.TreatmentDesign` into these arrays and the
result back into a :class:`~agglomera.policy.results.DIDResult`. There is no Python loop
over units, and no work is repeated across cells: cells with the same units, cohort and
covariate rows (e.g. all cells of a cohort with never-treated comparisons, a balanced
panel and time-invariant covariates) form one block, whose rank checks, outcome-regression
Gram matrix, propensity-score logit, weights and Hessian are computed once; only
:math:`\Delta Y` differs between the block's cells (see :func:`_cells_covariates`).

Notation
--------
Units :math:`i = 1, \dots, n` with cohort :math:`G_i` (first treated period, 0 = never
treated), periods :math:`t_1 < \dots < t_T`, anticipation :math:`\delta`. For a cell
:math:`(g, t)` with base period :math:`b` the 2×2 sample is the cohort :math:`D_i =
1[G_i = g]` and the comparison units :math:`C_i`, and :math:`\Delta Y_i = Y_{it} -
Y_{ib}` (the later minus the earlier period).

* base period (R ``did``): post-treatment cells (:math:`t \ge g`) use :math:`b = g - 1 -
  \delta` (the last period with :math:`t + \delta < g`); pre-treatment cells use
  :math:`b = t_{j-1}` (``"varying"``, short differences) or :math:`b = g - 1 - \delta`
  (``"universal"``; the cell :math:`t = b` is the reference, ATT 0 with zero influence).
* comparison units: never treated, :math:`C_i = 1[G_i = 0]` (``"never"``), or not yet
  treated, :math:`C_i = 1[G_i = 0 \lor (G_i > \max(t, b) + \delta \land G_i \ne g)]`
  (``"notyet"``).

Per-cell estimators (Sant'Anna and Zhao 2020; R ``DRDID`` with unit weights), with
covariates :math:`X_i` (intercept included) taken from the earlier period of the pair:

* unconditional: :math:`\widehat{ATT} = \bar{\Delta Y}_{D=1} - \bar{\Delta Y}_{C=1}`
  (all three methods coincide);
* ``"reg"`` (outcome regression, ``reg_did_panel``): :math:`\hat\beta` from OLS of
  :math:`\Delta Y` on :math:`X` among comparison units,
  :math:`\widehat{ATT} = \bar{\Delta Y}_{D=1} - \overline{X\hat\beta}_{D=1}`;
* ``"ipw"`` (normalised / Hájek IPW, ``std_ipw_did_panel``): logit propensity
  :math:`\hat p(X)`, :math:`\widehat{ATT} = \frac{\sum D\Delta Y}{\sum D} -
  \frac{\sum w_0 \Delta Y}{\sum w_0}`, :math:`w_0 = (1-D)\hat p/(1-\hat p)`;
* ``"dr"`` (traditional doubly robust, ``drdid_panel``, R ``did``'s default):
  :math:`\widehat{ATT} = \frac{\sum D(\Delta Y - X\hat\beta)}{\sum D} -
  \frac{\sum w_0(\Delta Y - X\hat\beta)}{\sum w_0}`.

As in DRDID, :math:`\hat p` is capped at :math:`1 - 10^{-6}` and comparison units with
:math:`\hat p \ge 0.995` get weight 0 (``trim_level``). Influence functions include the
estimation effect of :math:`\hat\beta` and of the logit coefficients. The cell influence
function is scaled by :math:`n / n_{gt}` (units in the cell) so that every column of the
influence matrix is on the full-sample scale: :math:`\widehat{ATT} - ATT \approx
n^{-1}\sum_i \psi_i`, and :math:`\widehat{se} = \sqrt{\sum_i \psi_i^2}/n` (R ``did``).

References
----------
Callaway, B., Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. *Journal of Econometrics* 225(2), 200–230.
Sant'Anna, P. H. C., Zhao, J. (2020). Doubly robust difference-in-differences estimators.
*Journal of Econometrics* 219(1), 101–122.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from agglomera.errors import EstimationError, format_examples

__all__ = [
    "AttGT",
    "att_gt",
    "cluster_se",
    "cluster_sums",
    "covariance",
]

Method = Literal["dr", "ipw", "reg"]
ControlGroup = Literal["never", "notyet"]
BasePeriod = Literal["varying", "universal"]
#: R ``did`` sets standard errors at or below this value to NA.
SE_FLOOR = math.sqrt(np.finfo(float).eps) * 10.0


@dataclass(frozen=True)
class AttGT:
    r"""Group-time average treatment effects and their influence functions.

    Attributes
    ----------
    group, time, base : numpy.ndarray, shape (K,)
        Cohort :math:`g`, period :math:`t` and base period :math:`b` of each cell.
    att : numpy.ndarray, shape (K,)
        :math:`\widehat{ATT}(g, t)` (0 for the reference cell of a universal base).
    inf : numpy.ndarray, shape (n, K)
        Influence functions on the full-sample scale (zero outside the cell's units).
    n_treated, n_control : numpy.ndarray, shape (K,)
        Units of the cohort and comparison units used by each cell.
    reference : numpy.ndarray of bool, shape (K,)
        True for the reference cell :math:`t = b` (universal base; no SE).
    skipped : list of dict
        Cells that could not be estimated, with ``group``, ``time`` and ``reason``.
    n : int
        Number of units (rows of ``inf``).
    """

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    att: np.ndarray
    inf: np.ndarray = field(repr=False)
    n_treated: np.ndarray
    n_control: np.ndarray
    reference: np.ndarray
    skipped: list[dict[str, object]] = field(default_factory=list)
    n: int = 0

    @property
    def post(self) -> np.ndarray:
        r"""True for post-treatment cells (:math:`g \le t`)."""
        return np.asarray(self.group <= self.time)


# ---------------------------------------------------------------------- cell estimators
def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.solve(a, b))


def _logit(x: np.ndarray, d: np.ndarray, *, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
    """Fit a logit by Newton–Raphson (IRLS) and return the fitted probabilities."""
    beta = np.zeros(x.shape[1])
    # start from the intercept-only fit for stability (x[:, 0] is the intercept)
    p1 = float(d.mean())
    beta[0] = math.log(p1 / (1.0 - p1))
    for _ in range(max_iter):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        grad = x.T @ (d - p)
        hess = (x * w[:, None]).T @ x
        step = _solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(beta))):
            break
    else:
        raise EstimationError(
            "propensity-score logit did not converge (perfect or quasi-perfect separation of "
            "the cohort from its comparison units by the covariates)."
        )
    if not np.isfinite(beta).all() or np.max(np.abs(beta)) > 1e6:
        raise EstimationError("propensity-score logit diverged (separation by the covariates).")
    return np.asarray(1.0 / (1.0 + np.exp(-(x @ beta))))


def _cell_unconditional(dy: np.ndarray, d: np.ndarray) -> tuple[float, np.ndarray]:
    """2×2 DiD of means and its influence function (mean form over the cell)."""
    att, psi = _cells_unconditional(dy[:, None], d)
    return float(att[0]), np.asarray(psi[:, 0])


def _cells_unconditional(dy: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DiD of means of several cells sharing units ``d`` (``dy`` has one column per cell)."""
    p1 = float(d.mean())
    mu1 = np.mean(dy[d], axis=0)
    mu0 = np.mean(dy[~d], axis=0)
    inf = np.where(d[:, None], (dy - mu1) / p1, -(dy - mu0) / (1.0 - p1))
    return np.asarray(mu1 - mu0), np.asarray(inf)


def _check_rank(x: np.ndarray, names: Sequence[str], what: str) -> None:
    if x.shape[0] == 0:
        raise EstimationError(f"{what}: no observations.")
    rank = int(np.linalg.matrix_rank(x))
    if rank < x.shape[1]:
        raise EstimationError(
            f"{what}: the covariates are collinear (or constant) among these units: "
            f"{format_examples(_collinear(x, names))}. Fix: drop or combine them."
        )


def _collinear(x: np.ndarray, names: Sequence[str]) -> list[str]:
    """Name the columns involved in an exact linear dependence (null space of ``x``)."""
    scale = np.where(np.abs(x).max(axis=0) > 0, np.abs(x).max(axis=0), 1.0)
    _, sv, vt = np.linalg.svd(x / scale, full_matrices=False)
    tol = sv.max() * max(x.shape) * np.finfo(float).eps if sv.size else 0.0
    null = vt[sv <= tol] if sv.size else np.zeros((0, x.shape[1]))
    if x.shape[1] > sv.size:
        null = np.vstack([null, np.eye(x.shape[1])[sv.size :]])
    involved = np.flatnonzero((np.abs(null) > 1e-8).any(axis=0))
    labels = ["(intercept)", *names]
    return [labels[j] for j in involved.tolist()] or list(names)


def _cell_covariates(
    dy: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    method: Method,
    trim_level: float,
    names: Sequence[str],
    label: str,
) -> tuple[float, np.ndarray, int]:
    """One 2×2 cell with covariates (x includes the intercept); mean-form IF.

    Returns the ATT, the influence function over the cell's units and the number of
    comparison units trimmed by the propensity score.
    """
    att, psi, n_trim = _cells_covariates(
        np.asarray(dy, dtype=float)[:, None], d, x, method, trim_level, names, label
    )
    return float(att[0]), np.asarray(psi[:, 0]), n_trim


def _colmean_x(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Return ``mean(a[:, k, None] * x, axis=0)`` for every column ``k`` of ``a`` (K × p)."""
    return np.stack([np.mean(a[:, k][:, None] * x, axis=0) for k in range(a.shape[1])])


def _cells_covariates(
    dy: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    method: Method,
    trim_level: float,
    names: Sequence[str],
    label: str,
) -> tuple[np.ndarray, np.ndarray, int]:
    r"""Several 2×2 cells with the same units, cohort indicator and covariates.

    ``dy`` holds one column :math:`\Delta Y` per cell. Everything that does not involve
    :math:`\Delta Y` — the rank checks, the Gram matrix :math:`X_0^\top X_0` of the
    outcome regression, the propensity-score logit, the trimming, the weights and the
    inverse Hessian — depends only on (``d``, ``x``) and is computed once; the outcome
    regressions of all cells are one solve with a right-hand side per cell.

    Returns the ATTs (K,), the mean-form influence functions (m × K) and the number of
    comparison units trimmed (the same for every cell: trimming depends on the score).
    """
    m = dy.shape[0]
    df = d.astype(float)
    ctrl = ~d
    n_trim = 0
    if method in ("reg", "dr"):
        x0 = x[ctrl]
        _check_rank(x0, names, f"outcome regression of cell {label} (comparison units)")
        xpx = (x0.T @ x0) / m
        beta = _solve(xpx * m, x0.T @ dy[ctrl])
        out = (beta.T @ x.T).T  # x @ beta, in the (column-major) layout of dy

    if method in ("ipw", "dr"):
        _check_rank(x, names, f"propensity score of cell {label}")
        try:
            ps = _logit(x, df)
        except EstimationError as exc:
            raise EstimationError(f"cell {label}: {exc}") from None
        ps = np.minimum(ps, 1.0 - 1e-6)
        trim = np.where(ctrl, ps < trim_level, True)
        n_trim = int((~trim).sum())
        wps = ps * (1.0 - ps)
        hess_inv = np.linalg.inv((x * wps[:, None]).T @ x) * m
        w_t = trim * df
        w_c = trim * ps * (1.0 - df) / (1.0 - ps)
        mw_t, mw_c = np.mean(w_t), np.mean(w_c)
        wt, wc = w_t[:, None], w_c[:, None]
        score = (df - ps)[:, None]

    if method == "reg":
        resid_ols = np.where(ctrl[:, None], dy - out, 0.0)

        def asy_ols(vec: np.ndarray) -> np.ndarray:
            return np.asarray(resid_ols * (x @ _solve(xpx, vec))[:, None])

        w = df[:, None]
        mw = np.mean(df)
        eta_t = np.mean(w * dy, axis=0) / mw
        eta_c = np.mean(w * out, axis=0) / mw
        inf_treat = (w * dy - w * eta_t) / mw
        m1 = np.mean(w * x, axis=0)
        inf_control = (w * out - w * eta_c + asy_ols(m1)) / mw
        return np.asarray(eta_t - eta_c), np.asarray(inf_treat - inf_control), n_trim
    if method == "ipw":
        eta_t = np.mean(wt * dy, axis=0) / mw_t
        eta_c = np.mean(wc * dy, axis=0) / mw_c
        inf_treat = (wt * dy - wt * eta_t) / mw_t
        m2 = _colmean_x(wc * (dy - eta_c), x)
        inf_c2 = score * (x @ (hess_inv @ m2.T))
        inf_control = (wc * dy - wc * eta_c + inf_c2) / mw_c
        return np.asarray(eta_t - eta_c), np.asarray(inf_treat - inf_control), n_trim
    # doubly robust (drdid_panel), with each (m × K) pass done once:
    # psi = w_t (r - eta_t) / E w_t - w_c (r - eta_c) / E w_c - (D - p) x' H^{-1} m2 / E w_c
    #       - (1 - D) r x' (X_0'X_0/m)^{-1} (m1 / E w_t - m3 / E w_c),   r = dy - x beta
    r = np.subtract(dy, out, out=out)
    eta_t = (w_t @ r) / m / mw_t
    eta_c = (w_c @ r) / m / mw_c
    m1 = np.mean(wt * x, axis=0)
    m3 = np.mean(wc * x, axis=0)
    a_c = r - eta_c
    m2 = (a_c.T @ (wc * x)) / m
    psi = r - eta_t
    psi *= (w_t / mw_t)[:, None]
    a_c *= (w_c / mw_c)[:, None]
    psi -= a_c
    del a_c
    corr = ((hess_inv @ m2.T / mw_c).T @ x.T).T
    corr *= score
    psi -= corr
    del corr
    q = np.where(ctrl, x @ _solve(xpx, m1 / mw_t - m3 / mw_c), 0.0)
    r *= q[:, None]
    psi -= r
    return np.asarray(eta_t - eta_c), psi, n_trim


# ---------------------------------------------------------------------- all cells
_BlockKey = tuple[int, int | None, int | None, bytes]


def _cells(
    groups: np.ndarray, times: np.ndarray, anticipation: int, base_period: BasePeriod
) -> tuple[list[tuple[int, int, int | None]], list[dict[str, object]]]:
    """Enumerate (g, t_index, base_index) as R ``did::att_gt`` does."""
    cells: list[tuple[int, int, int | None]] = []
    skipped: list[dict[str, object]] = []
    n_t = times.size
    start = 1 if base_period == "varying" else 0
    for g in groups.tolist():
        pre = np.flatnonzero(times + anticipation < g)
        b_univ = int(pre[-1]) if pre.size else None
        for j in range(start, n_t):
            t = int(times[j])
            if g <= t or base_period == "universal":
                if b_univ is None:
                    skipped.append(
                        {
                            "group": g,
                            "time": t,
                            "reason": f"no pre-treatment period before {g} - 1 - anticipation",
                        }
                    )
                    if g <= t:
                        break
                    continue
                cells.append((g, j, b_univ))
            else:
                cells.append((g, j, j - 1))
    return cells, skipped


def att_gt(
    y: np.ndarray,
    cohort: np.ndarray,
    times: np.ndarray,
    *,
    x: np.ndarray | None = None,
    covariate_names: Sequence[str] = (),
    method: Method = "dr",
    control_group: ControlGroup = "never",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    trim_level: float = 0.995,
) -> AttGT:
    r"""Estimate every group-time ATT(g, t) with its influence function.

    Parameters
    ----------
    y : numpy.ndarray, shape (n, T)
        Outcome by unit and period; NaN = not observed (a unit enters a cell only when
        it is observed in both periods of the cell, the ``"pairwise"`` rule; a balanced
        matrix has no NaN).
    cohort : numpy.ndarray of int, shape (n,)
        First-treatment period :math:`G_i` (0 = never treated).
    times : numpy.ndarray of int, shape (T,)
        Sorted periods.
    x : numpy.ndarray, shape (n, T, p) or (n, 1, p), optional
        Covariates by unit and period (no intercept). The cell :math:`(g, t)` with base
        :math:`b` uses the values of period :math:`\min(t, b)`, as R ``did`` does for
        panel data (``panel2cs2`` keeps the earlier period's row). A single period means
        time-invariant covariates (the same rows for every period).
    covariate_names : sequence of str
        Names of the ``p`` covariates (for error messages).
    method : {"dr", "ipw", "reg"}
        Per-cell estimator (see the module notes); without covariates all three are the
        DiD of means.
    control_group : {"never", "notyet"}
        Never-treated or not-yet-treated comparison units.
    base_period : {"varying", "universal"}
        Base period of pre-treatment cells.
    anticipation : int
        :math:`\delta`.
    trim_level : float, default 0.995
        Comparison units with propensity score at or above this level get weight 0.

    Returns
    -------
    AttGT
        Cells in R's order (by cohort, then period); cells without treated or
        comparison units are listed in ``skipped`` and left out.
    """
    y = np.asarray(y, dtype=float)
    cohort = np.asarray(cohort, dtype=np.int64)
    times = np.asarray(times, dtype=np.int64)
    n, n_t = y.shape
    groups = np.unique(cohort[cohort > 0])
    cells, skipped = _cells(groups, times, anticipation, base_period)
    observed = ~np.isnan(y)
    balanced = bool(observed.all())
    never = cohort == 0
    xs, invariant = _covariate_periods(x, n_t)

    # ---- pass 1: the units of every cell; cells with the same units, cohort and
    # covariate rows form one block (estimated together, see _cells_covariates)
    treated_of: dict[int, np.ndarray] = {}
    # key: (cohort, not-yet cut-off, covariate period, units of the cell as bytes)
    blocks: dict[_BlockKey, list[int]] = {}
    block_use: dict[_BlockKey, np.ndarray] = {}
    counts: dict[_BlockKey, tuple[int, int]] = {}
    plan: list[tuple[str, _BlockKey | None]] = []
    for g, j, b in cells:
        assert b is not None
        if j == b:  # universal base: the reference period itself
            plan.append(("reference", None))
            continue
        if g not in treated_of:
            treated_of[g] = cohort == g
        treated = treated_of[g]
        if control_group == "never":
            control = never
            cut: int | None = None
        else:
            cut = int(times[max(j, b)]) + anticipation
            control = never | ((cohort > cut) & ~treated)
        use = treated | control
        if not balanced:
            use = use & observed[:, j] & observed[:, b]
        key: _BlockKey = (g, cut, None if invariant else min(j, b), use.tobytes())
        if key not in counts:
            nt = int(np.count_nonzero(treated[use]))
            counts[key] = (nt, int(np.count_nonzero(use)) - nt)
        nt, nc = counts[key]
        if nt == 0 or nc == 0:
            who = "units of the cohort" if nt == 0 else "comparison units"
            t = int(times[j])
            skipped.append(
                {"group": g, "time": t, "reason": f"no {who} observed in {t} and {int(times[b])}"}
            )
            plan.append(("skipped", None))
            continue
        blocks.setdefault(key, []).append(len(plan))
        block_use.setdefault(key, use)
        plan.append(("cell", key))

    # ---- pass 2: estimate block by block (in order of first appearance)
    k_max = sum(1 for kind, _ in plan if kind != "skipped")
    col_of: dict[int, int] = {}
    col = 0
    for i, (kind, _) in enumerate(plan):
        if kind != "skipped":
            col_of[i] = col
            col += 1
    inf = np.zeros((n, k_max), order="F")
    att = np.zeros(k_max)
    n_trim_of: dict[int, int] = {}
    for key, members in blocks.items():
        use = block_use[key]
        g = key[0]
        d = treated_of[g][use]
        ys = y[use]
        m = ys.shape[0]
        dy = np.empty((m, len(members)), order="F")
        for k, i in enumerate(members):
            _, j, b = cells[i]
            assert b is not None
            dy[:, k] = ys[:, j] - ys[:, b]
        del ys
        if xs is None:
            a, psi = _cells_unconditional(dy, d)
        else:
            _, j0, b0 = cells[members[0]]
            assert b0 is not None
            xj = xs[use] if invariant else xs[use, min(j0, b0), :]
            xx = np.column_stack([np.ones(xj.shape[0]), xj])
            label = f"(g={g}, t={int(times[j0])})"
            a, psi, n_trim = _cells_covariates(
                dy, d, xx, method, trim_level, covariate_names, label
            )
            if n_trim:
                n_trim_of.update(dict.fromkeys(members, n_trim))
        rows = np.flatnonzero(use)
        for k, i in enumerate(members):
            att[col_of[i]] = a[k]
            inf[rows, col_of[i]] = psi[:, k] * (n / m)

    out_g: list[int] = []
    out_t: list[int] = []
    out_b: list[int] = []
    n_tr: list[int] = []
    n_co: list[int] = []
    ref: list[bool] = []
    trimmed: list[dict[str, object]] = []
    for i, (kind, cell_key) in enumerate(plan):
        if kind == "skipped":
            continue
        g, j, b = cells[i]
        assert b is not None
        out_g.append(g)
        out_t.append(int(times[j]))
        out_b.append(int(times[b]))
        if kind == "reference":
            n_tr.append(int((cohort == g).sum()))
            n_co.append(0)
            ref.append(True)
            continue
        assert cell_key is not None
        n_tr.append(counts[cell_key][0])
        n_co.append(counts[cell_key][1])
        ref.append(False)
        if n_trim_of.get(i):
            trimmed.append({"group": g, "time": int(times[j]), "n_trimmed": n_trim_of[i]})
    if trimmed:
        skipped.extend(
            {
                "group": r["group"],
                "time": r["time"],
                "reason": f"{r['n_trimmed']} comparison units trimmed (p >= {trim_level})",
                "trimmed": True,
            }
            for r in trimmed
        )
    return AttGT(
        group=np.asarray(out_g, dtype=np.int64),
        time=np.asarray(out_t, dtype=np.int64),
        base=np.asarray(out_b, dtype=np.int64),
        att=att,
        inf=inf,
        n_treated=np.asarray(n_tr, dtype=np.int64),
        n_control=np.asarray(n_co, dtype=np.int64),
        reference=np.asarray(ref, dtype=bool),
        skipped=skipped,
        n=n,
    )


def _covariate_periods(x: np.ndarray | None, n_t: int) -> tuple[np.ndarray | None, bool]:
    """Return the covariates and whether they are time-invariant.

    Time-invariant covariates (every unit has the same values in every period, or
    ``x`` has a single period) are returned as an (n, p) array: the covariate rows of a
    cell then depend only on its units, not on its periods.
    """
    if x is None:
        return None, True
    x = np.asarray(x, dtype=float)
    if x.ndim != 3 or x.shape[1] not in (1, n_t):
        raise ValueError(f"x must have shape (n, {n_t}, p) or (n, 1, p); got {x.shape}.")
    if x.shape[1] == 1 or bool((x == x[:, :1, :]).all()):
        return np.ascontiguousarray(x[:, 0, :]), True
    return x, False


# ---------------------------------------------------------------------- standard errors
def cluster_se(inf: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    r"""Analytic standard errors from influence functions, optionally clustered.

    .. math:: \widehat{se}_k = \frac{1}{n}\sqrt{\sum_c \Big(\sum_{i \in c}
              \psi_{ik}\Big)^2}

    (unit-level clusters give R ``did``'s :math:`\sqrt{\overline{\psi^2}/n}`). No
    small-sample factor. Values at or below :math:`10\sqrt{\epsilon}` become NaN, as in R.

    Parameters
    ----------
    inf : numpy.ndarray, shape (n,) or (n, K)
        Influence functions.
    clusters : numpy.ndarray of int, shape (n,), optional
        Cluster codes 0..C-1 per unit.

    Returns
    -------
    numpy.ndarray, shape (K,)
    """
    psi = np.asarray(inf, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    n = psi.shape[0]
    if clusters is not None:
        psi = cluster_sums(psi, clusters)
    se = np.sqrt(np.einsum("ik,ik->k", psi, psi)) / n
    return np.where(se <= SE_FLOOR, np.nan, se)


def cluster_sums(psi: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    codes = np.asarray(clusters, dtype=np.int64)
    out = np.zeros((int(codes.max()) + 1, psi.shape[1]))
    np.add.at(out, codes, psi)
    return out


def covariance(inf: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    r"""Covariance :math:`n^{-2}\sum_c S_c S_c^\top` of estimators with IFs ``inf``."""
    psi = np.asarray(inf, dtype=float)
    n = psi.shape[0]
    if clusters is not None:
        psi = cluster_sums(psi, clusters)
    return np.asarray(psi.T @ psi) / n**2


# ---------------------------------------------------------------------- aggregations
