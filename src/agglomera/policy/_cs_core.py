r"""Vectorised array core of the Callaway and Sant'Anna (2021) staggered DID estimator.

Everything here works on NumPy arrays (units × periods); :mod:`agglomera.policy.cs`
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
from scipy import stats

from agglomera.errors import EstimationError, format_examples

__all__ = [
    "Aggregation",
    "AttGT",
    "BootstrapResult",
    "aggregate",
    "att_gt",
    "cluster_se",
    "multiplier_bootstrap",
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
        psi = _cluster_sums(psi, clusters)
    se = np.sqrt(np.einsum("ik,ik->k", psi, psi)) / n
    return np.where(se <= SE_FLOOR, np.nan, se)


def _cluster_sums(psi: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    codes = np.asarray(clusters, dtype=np.int64)
    out = np.zeros((int(codes.max()) + 1, psi.shape[1]))
    np.add.at(out, codes, psi)
    return out


def covariance(inf: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    r"""Covariance :math:`n^{-2}\sum_c S_c S_c^\top` of estimators with IFs ``inf``."""
    psi = np.asarray(inf, dtype=float)
    n = psi.shape[0]
    if clusters is not None:
        psi = _cluster_sums(psi, clusters)
    return np.asarray(psi.T @ psi) / n**2


# ---------------------------------------------------------------------- aggregations
@dataclass(frozen=True)
class Aggregation:
    r"""One aggregation of ATT(g, t): its components and the overall summary.

    Attributes
    ----------
    kind : str
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    labels : numpy.ndarray
        Event time, cohort or period of each component (empty for ``"simple"``).
    estimates : numpy.ndarray
        Component estimates.
    inf : numpy.ndarray, shape (n, len(labels))
        Component influence functions (including the weight influence function).
    n_units : numpy.ndarray
        Units of the cohorts behind each component.
    overall : float
        The overall summary (``"dynamic"``: mean of the effects with :math:`e \ge 0`).
    overall_inf : numpy.ndarray, shape (n,)
        Its influence function.
    cell_weights, cohort_terms : numpy.ndarray, shapes (K, L + 1) and (C + 1, L + 1)
        The linear map behind ``inf`` (columns: the ``L`` components, then the overall
        summary): ``[inf, overall_inf] = res.inf @ cell_weights + cohort_terms[c_i]``, with
        :math:`c_i` the position of unit :math:`i`'s cohort among the ``C`` cohorts
        (``C`` for never-treated units). Used by the multiplier bootstrap.
    """

    kind: str
    labels: np.ndarray
    estimates: np.ndarray
    inf: np.ndarray = field(repr=False)
    n_units: np.ndarray
    overall: float
    overall_inf: np.ndarray = field(repr=False)
    cell_weights: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    cohort_terms: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))


def cohort_positions(cohort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted treated cohorts and each unit's position among them (C if none)."""
    cohort = np.asarray(cohort, dtype=np.int64)
    glist = np.unique(cohort[cohort > 0])
    upos = np.full(cohort.size, glist.size, dtype=np.int64)
    treated = cohort > 0
    upos[treated] = np.searchsorted(glist, cohort[treated])
    return glist, upos


def _weights(
    res: AttGT, keep: np.ndarray, pg_cell: np.ndarray, glist: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Weighted average :math:`\sum_k w_k ATT_k` with :math:`w_k = p_{g_k}/\sum p` and its map.

    The weight influence function (R ``did::wif``) simplifies to
    :math:`S^{-1}\sum_{k} (1[G_i = g_k] - p_{g_k})(ATT_k - \hat\theta) =
    S^{-1}\sum_{k: g_k = G_i}(ATT_k - \hat\theta)` because :math:`\sum_k p_{g_k}(ATT_k -
    \hat\theta) = 0`: a per-cohort term. Returns the estimate, the cell weights (K,) and
    the cohort terms (C + 1,).
    """
    w_full = np.zeros(res.att.size)
    contrib = np.zeros(glist.size + 1)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return math.nan, w_full, contrib
    pk = pg_cell[idx]
    s = float(pk.sum())
    w = pk / s
    theta = float(w @ res.att[idx])
    w_full[idx] = w
    np.add.at(contrib, np.searchsorted(glist, res.group[idx]), res.att[idx] - theta)
    return theta, w_full, contrib / s


def aggregate(
    res: AttGT,
    cohort: np.ndarray,
    kind: str,
    *,
    group_wif: Literal["did", "cohort"] = "did",
) -> Aggregation:
    r"""Aggregate ATT(g, t) as R ``did::aggte`` does, with the weight influence function.

    With :math:`p_g = n^{-1}\sum_i 1[G_i = g]` and post-treatment cells :math:`g \le t`:

    * ``"simple"``: :math:`\theta = \sum_{g \le t} p_g ATT(g,t) / \sum_{g \le t} p_g`;
    * ``"dynamic"``: :math:`\theta(e) = \sum_{t - g = e} p_g ATT(g,t) / \sum_{t-g=e} p_g`
      for every event time :math:`e` (pre-periods included); overall = mean of
      :math:`\theta(e)` over :math:`e \ge 0`;
    * ``"group"``: :math:`\theta(g) = \text{mean}_{t \ge g} ATT(g,t)`; overall
      :math:`\sum_g p_g \theta(g) / \sum_g p_g`;
    * ``"calendar"``: :math:`\theta(t) = \sum_{g \le t} p_g ATT(g,t) / \sum_{g\le t} p_g`
      for :math:`t \ge \min g`; overall = mean of :math:`\theta(t)`.

    Weights estimated from the sample shares carry their own influence function
    (``wif``), added to the components of ``"simple"``, ``"dynamic"`` and ``"calendar"``
    and to the overall ``"group"`` effect. Every influence function is linear in the
    cell influence functions plus a per-cohort term; the map is built first and applied
    with one matrix product (``cell_weights``, ``cohort_terms``).

    Parameters
    ----------
    res : AttGT
        Output of :func:`att_gt`.
    cohort : numpy.ndarray of int, shape (n,)
        Cohort of each unit (the same units as ``res.inf`` rows).
    kind : {"simple", "dynamic", "group", "calendar"}
        Aggregation.
    group_wif : {"did", "cohort"}, default "did"
        Weight influence function of the overall ``"group"`` effect. ``"did"`` reproduces
        R ``did``'s ``compute.aggte`` exactly, which indexes the cohort indicator of the
        :math:`k`-th weight by the cohort of the :math:`k`-th *group-time cell*
        (``group[k]``) rather than of the :math:`k`-th cohort (``glist[k]``);
        ``"cohort"`` uses the cohort's own indicator (the textbook delta method).

    Returns
    -------
    Aggregation
    """
    cohort = np.asarray(cohort, dtype=np.int64)
    n = cohort.size
    glist, upos = cohort_positions(cohort)
    pg = np.array([float(np.mean(cohort == g)) for g in glist])
    pos = np.searchsorted(glist, res.group)
    pg_cell = pg[pos] if res.group.size else np.zeros(0)
    sizes = np.bincount(upos, minlength=glist.size + 1)[: glist.size]
    post = res.post
    usable = np.isfinite(res.att)
    n_k, n_c = res.att.size, glist.size + 1
    if kind == "simple":
        keep = post & usable
        theta, w, c = _weights(res, keep, pg_cell, glist)
        keep_g = np.unique(res.group[keep])
        n_units = np.array([int(sizes[np.searchsorted(glist, keep_g)].sum())])
        labels = np.zeros(0, dtype=np.int64)
        est = np.array([theta])
        cw, ct = np.column_stack([w, w]), np.column_stack([c, c])
        nu, overall = n_units, theta
    elif kind in ("dynamic", "calendar"):
        if kind == "dynamic":
            e_all = res.time - res.group
            labels = np.unique(e_all[usable])
            keeps = [(e_all == e) & usable for e in labels.tolist()]
        else:
            tl = np.unique(res.time)
            tl = tl[tl >= (res.group.min() if res.group.size else 0)]
            keeps = [(res.time == t) & post & usable for t in tl.tolist()]
            labels = np.asarray(
                [t for t, k in zip(tl.tolist(), keeps, strict=True) if k.any()], np.int64
            )
            keeps = [k for k in keeps if k.any()]
        est = np.empty(labels.size)
        cw, ct = np.zeros((n_k, labels.size + 1)), np.zeros((n_c, labels.size + 1))
        nu = np.empty(labels.size, dtype=np.int64)
        for i, keep in enumerate(keeps):
            est[i], cw[:, i], ct[:, i] = _weights(res, keep, pg_cell, glist)
            nu[i] = int(sizes[np.searchsorted(glist, res.group[keep])].sum())
        summary = labels >= 0 if kind == "dynamic" else np.ones(labels.size, dtype=bool)
        if summary.any():
            overall = float(est[summary].mean())
            cw[:, -1] = cw[:, :-1][:, summary].mean(axis=1)
            ct[:, -1] = ct[:, :-1][:, summary].mean(axis=1)
        else:
            overall = math.nan
    elif kind == "group":
        cols_l: list[np.ndarray] = []
        labels_l: list[int] = []
        est_l: list[float] = []
        for g in glist.tolist():
            keep = (res.group == g) & post & usable
            if not keep.any():
                continue
            labels_l.append(g)
            est_l.append(float(res.att[keep].mean()))
            cols_l.append(keep / float(keep.sum()))
        labels = np.asarray(labels_l, dtype=np.int64)
        est = np.asarray(est_l)
        nu = sizes[np.searchsorted(glist, labels)].astype(np.int64)
        cw = np.column_stack([*cols_l, np.zeros(n_k)]) if cols_l else np.zeros((n_k, 1))
        ct = np.zeros((n_c, labels.size + 1))
        if labels.size == 0:
            overall = math.nan
        else:
            pgg = pg[np.searchsorted(glist, labels)]
            s = float(pgg.sum())
            overall = float(pgg @ est / s)
            cw[:, -1] = cw[:, :-1] @ (pgg / s)
            contrib = np.zeros(n_c)
            if group_wif == "cohort":
                contrib[np.searchsorted(glist, labels)] = est - overall
            else:
                # R: wif(keepers = 1:length(glist), pg = pgg, G, group) uses group[k], the
                # cohort of the k-th ATT(g,t) cell, for the k-th cohort weight:
                # sum_k (1[G_i = group[k]] - pgg[k]) (est[k] - overall)
                dev = est - overall
                np.add.at(contrib, np.searchsorted(glist, res.group[: labels.size]), dev)
                contrib -= float(pgg @ dev)
            ct[:, -1] = contrib / s
    else:
        raise ValueError(f"unknown aggregation {kind!r}")
    inf = np.asarray(res.inf @ cw)
    inf += ct[upos]
    comp = inf[:, :-1] if kind != "simple" else inf[:, :1]
    return Aggregation(
        kind,
        labels,
        est,
        comp,
        nu,
        overall,
        inf[:, -1] if np.isfinite(overall) else np.zeros(n),
        cw,
        ct,
    )


# ---------------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class BootstrapResult:
    r"""Multiplier-bootstrap standard errors and uniform critical values.

    Attributes
    ----------
    se : numpy.ndarray, shape (K,)
        :math:`\text{IQR}(\hat\theta^*_k - \hat\theta_k) / (z_{0.75} - z_{0.25})`.
    crit : dict
        Uniform (sup-t) critical value per block name.
    draws : int
        Number of draws.
    values : numpy.ndarray, shape (draws, K)
        The bootstrap draws :math:`\hat\theta^*_k - \hat\theta_k` (e.g. for a sup-t test).
    """

    se: np.ndarray
    crit: dict[str, float]
    draws: int
    values: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)


_S5 = math.sqrt(5.0)
#: Mammen's two-point weights: ``MAMMEN_LOW`` with probability ``MAMMEN_P``, else high.
MAMMEN_LOW, MAMMEN_HIGH = -(_S5 - 1.0) / 2.0, (_S5 + 1.0) / 2.0
MAMMEN_P = (_S5 + 1.0) / (2.0 * _S5)


def _mammen(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    u = rng.random(shape)
    return np.where(u < MAMMEN_P, MAMMEN_LOW, MAMMEN_HIGH)


def multiplier_bootstrap(
    inf: np.ndarray | Sequence[np.ndarray],
    *,
    draws: int,
    seed: int | None,
    clusters: np.ndarray | None = None,
    blocks: dict[str, np.ndarray] | None = None,
    alpha: float = 0.05,
    weights: Literal["mammen", "rademacher"] = "mammen",
    chunk_elements: int = 20_000_000,
    combine: np.ndarray | None = None,
) -> BootstrapResult:
    r"""Multiplier bootstrap of linear statistics with influence functions ``inf``.

    Each draw is :math:`\hat\theta^*_k - \hat\theta_k = n^{-1}\sum_c V_c S_{ck}` with
    :math:`S_{ck} = \sum_{i\in c}\psi_{ik}` and i.i.d. weights :math:`V_c` (Mammen's
    two-point weights, R ``did``'s choice, or Rademacher), the same draws for every column.
    Standard errors are the IQR-based scale of R ``did::mboot`` (quantile type 1); the
    uniform critical value of a block of columns is the :math:`1 - \alpha` quantile of
    :math:`\max_k |\hat\theta^*_k - \hat\theta_k| / \widehat{se}_k` (columns with NaN or
    zero SE left out).

    The weights are drawn in chunks of draws (the same random stream whatever the chunk
    size) and enter as a 0/1 matrix :math:`M`: with two-point weights
    :math:`V = a + (b - a) M`, so :math:`V^\top S = a\,1^\top S + (b - a) M^\top S`,
    one matrix product per chunk.

    Parameters
    ----------
    inf : numpy.ndarray, shape (n, K), or sequence of such arrays
        Influence functions (a sequence: blocks of columns, side by side).
    draws : int
        Number of draws :math:`B`.
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; same seed, same numbers.
    clusters : numpy.ndarray of int, optional
        Cluster codes per unit (weights drawn per cluster).
    blocks : dict of str to numpy.ndarray, optional
        Column indices (of the output columns) whose uniform critical value is wanted.
    alpha : float
        Level of the uniform bands.
    weights : {"mammen", "rademacher"}
        Multiplier distribution.
    chunk_elements : int
        Draws are made in chunks of about this many weights (memory bound).
    combine : numpy.ndarray, shape (K, J), optional
        The statistics are linear combinations of the columns: influence functions
        ``inf @ combine`` (the draws are combined, ``inf @ combine`` is never formed).

    Returns
    -------
    BootstrapResult
    """
    parts = [inf] if isinstance(inf, np.ndarray) else list(inf)
    psis = []
    for part in parts:
        psi = np.asarray(part, dtype=float)
        psis.append(psi[:, None] if psi.ndim == 1 else psi)
    n = psis[0].shape[0]
    # (n_c × K) sums per cluster (or unit)
    st = [_cluster_sums(p, clusters) if clusters is not None else p for p in psis]
    n_c = st[0].shape[0]
    colsum = np.concatenate([x.sum(axis=0) for x in st])
    n_out = combine.shape[1] if combine is not None else colsum.size
    rng = np.random.default_rng(seed)
    out = np.empty((draws, n_out))
    step = max(1, chunk_elements // max(n_c, 1))
    buffer = np.empty((min(step, draws), n_c)) if weights == "mammen" else None
    for start in range(0, draws, step):
        stop = min(draws, start + step)
        if buffer is not None:
            m = buffer[: stop - start]
            rng.random(out=m)
            np.greater_equal(m, MAMMEN_P, out=m)  # 1[u >= p]: the high weight
            lo, span = MAMMEN_LOW, MAMMEN_HIGH - MAMMEN_LOW
        else:
            m = rng.integers(0, 2, size=(stop - start, n_c)).astype(float)
            lo, span = -1.0, 2.0
        # (draws × n_c) @ (n_c × K): this orientation keeps OpenBLAS's threads busy
        # (the transposed product with a short output is erratic on shared cores)
        ms = np.concatenate([m @ x for x in st], axis=1)
        ms *= span
        ms += lo * colsum
        if combine is not None:
            ms = ms @ combine
        out[start:stop] = ms / n
    q75 = np.quantile(out, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(out, 0.25, axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se <= SE_FLOOR, np.nan, se)
    crit: dict[str, float] = {}
    for name, cols in (blocks or {}).items():
        cols = np.asarray(cols, dtype=np.int64)
        cols = cols[np.isfinite(se[cols])]
        if cols.size == 0:
            crit[name] = math.nan
            continue
        sup = np.max(np.abs(out[:, cols] / se[cols]), axis=1)
        crit[name] = float(np.quantile(sup, 1.0 - alpha, method="inverted_cdf"))
    return BootstrapResult(se=se, crit=crit, draws=draws, values=out)
