r"""Vectorised array core of the Callaway and Sant'Anna (2021) staggered DID estimator.

Everything here works on NumPy arrays (units × periods); :mod:`agglomera.policy.cs`
turns a :class:`~agglomera.policy.design.TreatmentDesign` into these arrays and the
result back into a :class:`~agglomera.policy.results.DIDResult`. There is no Python loop
over units: each group-time cell is a handful of vector operations over the units of
that cell, and the loop runs over cells only.

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
    p1 = float(d.mean())
    mu1 = float(dy[d].mean())
    mu0 = float(dy[~d].mean())
    inf = np.where(d, (dy - mu1) / p1, -(dy - mu0) / (1.0 - p1))
    return mu1 - mu0, inf


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
    m = dy.size
    df = d.astype(float)
    ctrl = ~d
    n_trim = 0
    if method in ("reg", "dr"):
        x0 = x[ctrl]
        _check_rank(x0, names, f"outcome regression of cell {label} (comparison units)")
        xpx = (x0.T @ x0) / m
        beta = _solve(xpx * m, x0.T @ dy[ctrl])
        out = x @ beta
        resid_ols = np.where(ctrl, dy - out, 0.0)

        def asy_ols(vec: np.ndarray) -> np.ndarray:
            return np.asarray(resid_ols * (x @ _solve(xpx, vec)))

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

    if method == "reg":
        w = df
        eta_t = float(np.mean(w * dy) / np.mean(w))
        eta_c = float(np.mean(w * out) / np.mean(w))
        inf_treat = (w * dy - w * eta_t) / np.mean(w)
        m1 = np.mean(w[:, None] * x, axis=0)
        inf_control = (w * out - w * eta_c + asy_ols(m1)) / np.mean(w)
        return eta_t - eta_c, np.asarray(inf_treat - inf_control), n_trim
    if method == "ipw":
        eta_t = float(np.mean(w_t * dy) / np.mean(w_t))
        eta_c = float(np.mean(w_c * dy) / np.mean(w_c))
        inf_treat = (w_t * dy - w_t * eta_t) / np.mean(w_t)
        m2 = np.mean((w_c * (dy - eta_c))[:, None] * x, axis=0)
        inf_c2 = (df - ps) * (x @ (hess_inv @ m2))
        inf_control = (w_c * dy - w_c * eta_c + inf_c2) / np.mean(w_c)
        return eta_t - eta_c, np.asarray(inf_treat - inf_control), n_trim
    # doubly robust (drdid_panel)
    r = dy - out
    eta_t = float(np.mean(w_t * r) / np.mean(w_t))
    eta_c = float(np.mean(w_c * r) / np.mean(w_c))
    m1 = np.mean(w_t[:, None] * x, axis=0)
    inf_treat = (w_t * r - w_t * eta_t - asy_ols(m1)) / np.mean(w_t)
    m2 = np.mean((w_c * (r - eta_c))[:, None] * x, axis=0)
    inf_c2 = (df - ps) * (x @ (hess_inv @ m2))
    m3 = np.mean(w_c[:, None] * x, axis=0)
    inf_control = (w_c * r - w_c * eta_c + inf_c2 - asy_ols(m3)) / np.mean(w_c)
    return eta_t - eta_c, np.asarray(inf_treat - inf_control), n_trim


# ---------------------------------------------------------------------- all cells
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
    x : numpy.ndarray, shape (n, T, p), optional
        Covariates by unit and period (no intercept). The cell :math:`(g, t)` with base
        :math:`b` uses the values of period :math:`\min(t, b)`, as R ``did`` does for
        panel data (``panel2cs2`` keeps the earlier period's row).
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
    n, _n_t = y.shape
    groups = np.unique(cohort[cohort > 0])
    cells, skipped = _cells(groups, times, anticipation, base_period)
    k_max = len(cells)
    inf = np.zeros((n, k_max))
    out_g: list[int] = []
    out_t: list[int] = []
    out_b: list[int] = []
    att: list[float] = []
    n_tr: list[int] = []
    n_co: list[int] = []
    ref: list[bool] = []
    trimmed: list[dict[str, object]] = []
    observed = ~np.isnan(y)
    never = cohort == 0
    col = 0
    for g, j, b in cells:
        assert b is not None
        t = int(times[j])
        label = f"(g={g}, t={t})"
        if j == b:  # universal base: the reference period itself
            out_g.append(g)
            out_t.append(t)
            out_b.append(int(times[b]))
            att.append(0.0)
            n_tr.append(int((cohort == g).sum()))
            n_co.append(0)
            ref.append(True)
            col += 1
            continue
        treated = cohort == g
        if control_group == "never":
            control = never
        else:
            cut = int(times[max(j, b)]) + anticipation
            control = never | ((cohort > cut) & ~treated)
        use = (treated | control) & observed[:, j] & observed[:, b]
        d = treated[use]
        nt = int(d.sum())
        nc = int(d.size - nt)
        if nt == 0 or nc == 0:
            who = "units of the cohort" if nt == 0 else "comparison units"
            skipped.append(
                {"group": g, "time": t, "reason": f"no {who} observed in {t} and {int(times[b])}"}
            )
            continue
        dy = y[use, j] - y[use, b]
        if x is None:
            a, psi = _cell_unconditional(dy, d)
        else:
            xj = x[use, min(j, b), :]
            xx = np.column_stack([np.ones(xj.shape[0]), xj])
            a, psi, n_trim = _cell_covariates(dy, d, xx, method, trim_level, covariate_names, label)
            if n_trim:
                trimmed.append({"group": g, "time": t, "n_trimmed": n_trim})
        m = dy.size
        inf[use, col] = psi * (n / m)
        out_g.append(g)
        out_t.append(t)
        out_b.append(int(times[b]))
        att.append(a)
        n_tr.append(nt)
        n_co.append(nc)
        ref.append(False)
        col += 1
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
        att=np.asarray(att, dtype=float),
        inf=inf[:, :col],
        n_treated=np.asarray(n_tr, dtype=np.int64),
        n_control=np.asarray(n_co, dtype=np.int64),
        reference=np.asarray(ref, dtype=bool),
        skipped=skipped,
        n=n,
    )


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
    """

    kind: str
    labels: np.ndarray
    estimates: np.ndarray
    inf: np.ndarray = field(repr=False)
    n_units: np.ndarray
    overall: float
    overall_inf: np.ndarray = field(repr=False)


def _weighted(
    res: AttGT,
    keep: np.ndarray,
    pg_cell: np.ndarray,
    unit_group_pos: np.ndarray,
    glist: np.ndarray,
) -> tuple[float, np.ndarray]:
    r"""Weighted average :math:`\sum_k w_k ATT_k` with :math:`w_k = p_{g_k}/\sum p` and its IF.

    The weight influence function (R ``did::wif``) simplifies to
    :math:`S^{-1}\sum_{k} (1[G_i = g_k] - p_{g_k})(ATT_k - \hat\theta) =
    S^{-1}\sum_{k: g_k = G_i}(ATT_k - \hat\theta)` because :math:`\sum_k p_{g_k}(ATT_k -
    \hat\theta) = 0`; it is evaluated per cohort and looked up per unit (O(n)).
    """
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return math.nan, np.zeros(res.n)
    pk = pg_cell[idx]
    s = float(pk.sum())
    w = pk / s
    theta = float(w @ res.att[idx])
    psi = res.inf[:, idx] @ w
    contrib = np.zeros(glist.size + 1)
    np.add.at(contrib, np.searchsorted(glist, res.group[idx]), res.att[idx] - theta)
    return theta, np.asarray(psi + contrib[unit_group_pos] / s)


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
    and to the overall ``"group"`` effect.

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
    glist = np.unique(cohort[cohort > 0])
    pg = np.array([float(np.mean(cohort == g)) for g in glist])
    pos = np.searchsorted(glist, res.group)
    pg_cell = pg[pos] if res.group.size else np.zeros(0)
    # unit -> position of its cohort in glist (len(glist) = "not a cohort")
    upos = np.full(n, glist.size, dtype=np.int64)
    treated = cohort > 0
    upos[treated] = np.searchsorted(glist, cohort[treated])
    sizes = np.bincount(upos, minlength=glist.size + 1)[: glist.size]
    post = res.post
    usable = np.isfinite(res.att)
    if kind == "simple":
        theta, psi = _weighted(res, post & usable, pg_cell, upos, glist)
        keep_g = np.unique(res.group[post & usable])
        n_units = np.array([int(sizes[np.searchsorted(glist, keep_g)].sum())])
        return Aggregation(
            kind, np.zeros(0, dtype=np.int64), np.array([theta]), psi[:, None], n_units, theta, psi
        )
    if kind == "dynamic":
        e_all = res.time - res.group
        labels = np.unique(e_all[usable])
        est = np.empty(labels.size)
        infs = np.zeros((n, labels.size))
        nu = np.empty(labels.size, dtype=np.int64)
        for i, e in enumerate(labels.tolist()):
            keep = (e_all == e) & usable
            est[i], infs[:, i] = _weighted(res, keep, pg_cell, upos, glist)
            nu[i] = int(sizes[np.searchsorted(glist, res.group[keep])].sum())
        pos_e = labels >= 0
        overall = float(est[pos_e].mean()) if pos_e.any() else math.nan
        o_inf = infs[:, pos_e].mean(axis=1) if pos_e.any() else np.zeros(n)
        return Aggregation(kind, labels, est, infs, nu, overall, o_inf)
    if kind == "group":
        labels_l: list[int] = []
        est_l: list[float] = []
        cols: list[np.ndarray] = []
        for g in glist.tolist():
            keep = (res.group == g) & post & usable
            if not keep.any():
                continue
            labels_l.append(g)
            est_l.append(float(res.att[keep].mean()))
            cols.append(res.inf[:, keep].mean(axis=1))
        labels = np.asarray(labels_l, dtype=np.int64)
        est = np.asarray(est_l)
        infs = np.column_stack(cols) if cols else np.zeros((n, 0))
        nu = sizes[np.searchsorted(glist, labels)].astype(np.int64)
        if labels.size == 0:
            return Aggregation(kind, labels, est, infs, nu, math.nan, np.zeros(n))
        pgg = pg[np.searchsorted(glist, labels)]
        s = float(pgg.sum())
        overall = float(pgg @ est / s)
        o_inf = infs @ (pgg / s)
        if group_wif == "cohort":
            contrib = np.zeros(glist.size + 1)
            contrib[np.searchsorted(glist, labels)] = est - overall
            o_inf = o_inf + contrib[upos] / s
        else:
            # R: wif(keepers = 1:length(glist), pg = pgg, G, group) uses group[k], the
            # cohort of the k-th ATT(g,t) cell, for the k-th cohort weight
            ind_groups = res.group[: labels.size]
            wif = np.zeros(n)
            for k in range(labels.size):
                ind = (cohort == ind_groups[k]).astype(float)
                wif += (ind - pgg[k]) * (est[k] - overall)
            o_inf = o_inf + wif / s
        return Aggregation(kind, labels, est, infs, nu, overall, np.asarray(o_inf))
    if kind == "calendar":
        tl = np.unique(res.time)
        tl = tl[tl >= (res.group.min() if res.group.size else 0)]
        est_l = []
        cols = []
        nl: list[int] = []
        labels_l = []
        for t in tl.tolist():
            keep = (res.time == t) & post & usable
            if not keep.any():
                continue
            th, ps = _weighted(res, keep, pg_cell, upos, glist)
            labels_l.append(t)
            est_l.append(th)
            cols.append(ps)
            nl.append(int(sizes[np.searchsorted(glist, res.group[keep])].sum()))
        labels = np.asarray(labels_l, dtype=np.int64)
        est = np.asarray(est_l)
        infs = np.column_stack(cols) if cols else np.zeros((n, 0))
        overall = float(est.mean()) if est.size else math.nan
        o_inf = infs.mean(axis=1) if est.size else np.zeros(n)
        return Aggregation(kind, labels, est, infs, np.asarray(nl, dtype=np.int64), overall, o_inf)
    raise ValueError(f"unknown aggregation {kind!r}")


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
    """

    se: np.ndarray
    crit: dict[str, float]
    draws: int


def _mammen(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    s5 = math.sqrt(5.0)
    p = (s5 + 1.0) / (2.0 * s5)
    u = rng.random(shape)
    return np.where(u < p, -(s5 - 1.0) / 2.0, (s5 + 1.0) / 2.0)


def multiplier_bootstrap(
    inf: np.ndarray,
    *,
    draws: int,
    seed: int | None,
    clusters: np.ndarray | None = None,
    blocks: dict[str, np.ndarray] | None = None,
    alpha: float = 0.05,
    weights: Literal["mammen", "rademacher"] = "mammen",
    chunk_elements: int = 20_000_000,
) -> BootstrapResult:
    r"""Multiplier bootstrap of linear statistics with influence functions ``inf``.

    Each draw is :math:`\hat\theta^*_k - \hat\theta_k = n^{-1}\sum_c V_c S_{ck}` with
    :math:`S_{ck} = \sum_{i\in c}\psi_{ik}` and i.i.d. weights :math:`V_c` (Mammen's
    two-point weights, R ``did``'s choice, or Rademacher), the same draws for every column.
    Standard errors are the IQR-based scale of R ``did::mboot`` (quantile type 1); the
    uniform critical value of a block of columns is the :math:`1 - \alpha` quantile of
    :math:`\max_k |\hat\theta^*_k - \hat\theta_k| / \widehat{se}_k` (columns with NaN or
    zero SE left out).

    Parameters
    ----------
    inf : numpy.ndarray, shape (n, K)
        Influence functions.
    draws : int
        Number of draws :math:`B`.
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; same seed, same numbers.
    clusters : numpy.ndarray of int, optional
        Cluster codes per unit (weights drawn per cluster).
    blocks : dict of str to numpy.ndarray, optional
        Column indices whose uniform critical value is wanted.
    alpha : float
        Level of the uniform bands.
    weights : {"mammen", "rademacher"}
        Multiplier distribution.
    chunk_elements : int
        Draws are made in chunks of about this many weights (memory bound).

    Returns
    -------
    BootstrapResult
    """
    psi = np.asarray(inf, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    n = psi.shape[0]
    s = _cluster_sums(psi, clusters) if clusters is not None else psi
    n_c = s.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty((draws, psi.shape[1]))
    step = max(1, chunk_elements // max(n_c, 1))
    for start in range(0, draws, step):
        stop = min(draws, start + step)
        if weights == "mammen":
            v = _mammen(rng, (stop - start, n_c))
        else:
            v = rng.integers(0, 2, size=(stop - start, n_c)) * 2.0 - 1.0
        out[start:stop] = v @ s / n
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
    return BootstrapResult(se=se, crit=crit, draws=draws)
