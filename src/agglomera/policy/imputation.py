r"""Borusyak–Jaravel–Spiess (2024) imputation estimator of staggered treatment effects.

:func:`estimate_bjs` turns a :class:`~agglomera.policy.TreatmentDesign` into long arrays,
runs the array core (:mod:`agglomera.policy._imputation_core`) and returns a
:class:`~agglomera.policy.DIDResult`. It is what ``agglomera.policy.estimate(...,
estimator="bjs")`` calls.

Steps (BJS 2024, Section 4): (1) fit :math:`Y_{it} = \alpha_i + \lambda_t + X_{it}'\beta
+ \varepsilon_{it}` on the untreated observations :math:`\Omega_0 = \{t < g_i - a\}`
(not yet treated, never treated; :math:`a` = anticipation); (2) impute
:math:`\hat Y_{it}(0)` and :math:`\hat\tau_{it} = Y_{it} - \hat Y_{it}(0)` on every treated
observation; (3) average :math:`\hat\tau_{it}` with the weights of the requested
aggregation; (4) conservative clustered variance of Theorem 3; (5) the pre-trend test
(Test 1): lead indicators added to the untreated model, joint Wald test.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from agglomera.errors import EstimationError, SpecError, format_examples
from agglomera.policy._imputation_core import (
    AVG_EFFECTS_BY,
    bjs_variance,
    fit_imputation,
    lead_regression,
)
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import (
    attgt_frame,
    check_choice,
    cluster_codes,
    did_result,
    event_study_frame,
)
from agglomera.policy.results import DIDResult

__all__ = ["estimate_bjs"]

_AGGREGATES = ("simple", "dynamic", "group", "calendar")


def estimate_bjs(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: str = "simple",
    horizons: Sequence[int] | None = None,
    pretrend_periods: int | None = None,
    avg_effects_by: str = "cohort_time",
    leave_out: bool = True,
    unidentified: str = "drop",
    solver: str = "direct",
    tol: float = 1e-12,
    maxiter: int = 100_000,
    attgt: bool = True,
) -> DIDResult:
    r"""Estimate staggered treatment effects by imputation (Borusyak, Jaravel & Spiess 2024).

    Parameters
    ----------
    design : TreatmentDesign
        From :func:`agglomera.policy.design` (cohorts, anticipation, balance rule).
    outcome : str
        Numeric outcome column. Missing values are excluded from every step and counted in
        ``meta["missing_outcome"]`` and ``meta["dropped"]`` (never silently).
    controls : sequence of str, default ()
        Time-varying covariates :math:`X_{it}` of the untreated model (their coefficients
        are estimated on :math:`\Omega_0` only).
    cluster : str, optional
        Cluster column (constant within units, e.g. a province); default the unit.
    alpha : float, default 0.05
        Level :math:`1-\alpha` of the normal confidence intervals.
    aggregate : {"simple", "dynamic", "group", "calendar"}, default "simple"
        Target reported as ``att``: ``"simple"`` — equal weight on every treated
        observation with :math:`t \ge g_i`; ``"dynamic"`` — the average over the event
        times :math:`e \ge 0` (or ``horizons``) of the per-horizon effects;
        ``"group"`` — cohort effects averaged with weights proportional to cohort sizes
        (R ``did``); ``"calendar"`` — the average over periods of the per-period effects.
    horizons : sequence of int, optional
        Non-negative event times to report (event study and the ``"dynamic"`` target);
        default every available one.
    pretrend_periods : int, optional
        Number :math:`K` of leads (periods :math:`g - a - 1, \dots, g - a - K`) in the
        pre-trend regression; default all available but the farthest one; 0 = no test.
    avg_effects_by : {"cohort_time", "cohort", "horizon", "all"}, default "cohort_time"
        Partition of the treated observations for :math:`\tilde\tau` in the variance
        (Stata ``did_imputation`` ``avgeffectsby``; its default is cohort × period).
        Coarser partitions help with small cohorts (more conservative).
    leave_out : bool, default True
        Leave-cluster-out :math:`\tilde\tau` (BJS 2024, Supplementary Appendix A.9; Stata
        option ``leaveout``); False = the plain eq. (8) average (R ``didimputation`` and
        diff-diff's default).
    unidentified : {"drop", "error"}, default "drop"
        Treated observations whose :math:`Y(0)` cannot be imputed — units with no
        untreated observation, periods without untreated observations, different
        connected components — are dropped from every target and recorded in
        ``meta["not_identified"]`` and ``meta["dropped"]`` (Stata's ``autosample``), or
        raise :class:`~agglomera.errors.EstimationError`.
    solver : {"direct", "ap"}, default "direct"
        Exact sparse Schur-complement solve or alternating projections (``tol``,
        ``maxiter``; sweeps recorded in ``meta["solver"]``).
    tol : float, default 1e-12
        Relative convergence tolerance of ``solver="ap"``.
    maxiter : int, default 100000
        Maximum number of alternating-projection sweeps.
    attgt : bool, default True
        Also estimate every ATT(g, t) with its standard error (one variance solve per
        cell).

    Returns
    -------
    DIDResult
        ``att``, ``se``, ``ci``, ``pvalue`` for the target; ``event_study`` with the
        imputed horizons :math:`e \ge -a` and, as negative ``rel_time`` rows
        :math:`-a-1, \dots, -a-K`, the lead coefficients of the pre-trend regression
        (a different estimator: see ``meta["event_study_note"]``); ``attgt``;
        ``pretrend_pvalue`` (joint Wald test of the leads, :math:`F(K, G-1)`); ``meta``.

    Raises
    ------
    SpecError
        For a bad argument value.
    EstimationError
        When nothing can be imputed, with ``unidentified="error"`` when some treated
        observation cannot be imputed, or when covariates are collinear with the fixed
        effects.

    Notes
    -----
    Point estimate: :math:`\hat\tau_w = \sum_{\Omega_1} w_{it}\hat\tau_{it}`, which equals
    :math:`\sum_{it} v_{it}Y_{it}` with :math:`v_{\Omega_0} = -A_0(A_0'A_0)^{-1}A_1'w`.
    Variance (Theorem 3), clustered by :math:`c`:

    .. math::

        \hat\sigma^2 = \sum_c\Big(\sum_{it\in c} v_{it}\tilde\varepsilon_{it}\Big)^2,\quad
        \tilde\varepsilon_{it} = \begin{cases}\hat\varepsilon_{it} & \Omega_0\\
        \hat\tau_{it} - \tilde\tau_{g(it)} & \Omega_1\end{cases},\quad
        \tilde\tau_g = \frac{\sum_c a_{cg}b_{cg}}{\sum_c a_{cg}^2},

    :math:`a_{cg} = \sum_{it\in c,g} v_{it}`, :math:`b_{cg} = \sum_{it\in c,g}
    v_{it}\hat\tau_{it}`; with ``leave_out`` cluster :math:`c`'s own terms are removed
    from :math:`\tilde\tau_g` when it is applied to :math:`c`. No small-sample factor.
    With anticipation :math:`a > 0` the observations :math:`g-a \le t < g` leave
    :math:`\Omega_0`; their imputed effects are event-study rows :math:`-a..-1` and are not
    part of the ``"simple"``/``"group"``/``"calendar"`` targets (R ``did``'s
    post-treatment convention; diff-diff includes them in its overall ATT).

    References
    ----------
    Borusyak, K., Jaravel, X., Spiess, J. (2024). Revisiting event-study designs: robust
    and efficient estimation. *Review of Economic Studies* 91(6), 3253–3285.
    """
    t_start = _time.perf_counter()
    check_choice("aggregate", aggregate, _AGGREGATES)
    check_choice("avg_effects_by", avg_effects_by, AVG_EFFECTS_BY)
    check_choice("unidentified", unidentified, ("drop", "error"))
    check_choice("solver", solver, ("direct", "ap"))
    if not isinstance(leave_out, bool):
        raise SpecError(f"leave_out must be True or False; got {leave_out!r}.")
    if pretrend_periods is not None and (
        isinstance(pretrend_periods, bool)
        or not isinstance(pretrend_periods, (int, np.integer))
        or pretrend_periods < 0
    ):
        raise SpecError(
            f"pretrend_periods must be a non-negative integer or None; got {pretrend_periods!r}."
        )
    if horizons is not None:
        hz = sorted({int(h) for h in horizons})
        if not hz or hz[0] < 0:
            raise SpecError(
                f"horizons must be non-empty non-negative event times; got {horizons!r}. "
                "Pre-treatment rows come from the pre-trend regression (pretrend_periods)."
            )
    controls = (controls,) if isinstance(controls, str) else tuple(controls or ())

    frame = design.panel.to_frame()
    unit_codes = design.units.get_indexer(pd.Index(frame[design.unit]))
    times = np.asarray(design.times, dtype=np.int64)
    t_val = frame[design.time].to_numpy(dtype=np.int64)
    time_codes = np.searchsorted(times, t_val).astype(np.int64)
    g = design.cohorts.reindex(frame[design.unit]).to_numpy(dtype=np.int64)
    a = int(design.anticipation)
    y_all = pd.to_numeric(frame[outcome], errors="raise").to_numpy(dtype=float)
    if controls:
        x_all = design.covariate_frame(controls)[list(controls)].to_numpy(dtype=float)
    else:
        x_all = np.zeros((len(frame), 0))
    cl_name, cl_all = cluster_codes(design, cluster)
    _check_nested(cl_all, unit_codes, cl_name)
    n_clusters = int(cl_all.max()) + 1 if cl_all.size else 0

    treated_all = (g > 0) & (t_val >= g - a)
    observed = np.isfinite(y_all)
    dropped = list(design.meta.get("dropped", []))
    missing = {
        "untreated": int((~observed & ~treated_all).sum()),
        "treated": int((~observed & treated_all).sum()),
    }
    if missing["untreated"] or missing["treated"]:
        dropped.append(
            f"{missing['untreated'] + missing['treated']} observations with missing "
            f"{outcome!r} excluded ({missing['untreated']} untreated, {missing['treated']} "
            "treated): they enter neither the untreated model nor any target"
        )
    m0 = observed & ~treated_all
    m1 = observed & treated_all
    if not m0.any():
        raise EstimationError(
            f"No untreated observation of {outcome!r}: the untreated model cannot be fitted."
        )
    if not m1.any():
        raise EstimationError(f"No treated observation of {outcome!r}: nothing to impute.")
    u0, t0, x0, y0, c0 = unit_codes[m0], time_codes[m0], x_all[m0], y_all[m0], cl_all[m0]
    u1, t1, x1, y1, c1 = unit_codes[m1], time_codes[m1], x_all[m1], y_all[m1], cl_all[m1]
    g1 = g[m1]
    tv1 = t_val[m1]
    e1 = tv1 - g1

    fit = fit_imputation(
        y0, u0, t0, x0, y1, u1, t1, x1,
        n_units=len(design.units), n_times=times.size, method=solver,  # type: ignore[arg-type]
        tol=tol, maxiter=maxiter,
    )  # fmt: skip
    ident = fit.identified
    not_identified = _not_identified(fit, u1, t1, g1, tv1, design, times)
    if not_identified:
        cells = format_examples([(d["cohort"], d["time"]) for d in not_identified])
        text = (
            f"{int((~ident).sum())} treated observations whose Y(0) cannot be imputed "
            f"(cohort, period: {cells}); reasons in meta['not_identified']"
        )
        if unidentified == "error":
            raise EstimationError(
                text + ". Fix: drop those units/periods, or pass unidentified='drop' to "
                "estimate the effect on the imputable observations only."
            )
        dropped.append(text + " — dropped from every target (the estimand changes)")
    if not ident.any():
        raise EstimationError("No treated observation can be imputed (see the design).")

    post = ident & (e1 >= 0)
    if not post.any():
        raise EstimationError("No post-treatment observation (t >= g) can be imputed.")
    targets, labels = _targets(aggregate, post, ident, e1, g1, tv1, u1, horizons, attgt)
    w = sp.hstack(targets, format="csc")
    att_all = w.T @ np.where(ident, fit.tau, 0.0)
    groups1 = _aux_groups(avg_effects_by, g1, tv1, e1)
    se_all, diag = bjs_variance(
        fit, w, unit0=u0, time0=t0, x0=x0, unit1=u1, time1=t1, x1=x1,
        cluster0=c0, cluster1=c1, n_clusters=n_clusters, groups1=groups1, leave_out=leave_out,
    )  # fmt: skip

    att, se = float(att_all[0]), float(se_all[0])
    # event study: imputed horizons
    es_rows: list[tuple[int, float, float, int]] = []
    attgt_rows: list[tuple[int, int, float, float]] = []
    for j, lab in enumerate(labels):
        if lab[0] == "h":
            h = int(lab[1])
            n_units = int(np.unique(u1[ident & (e1 == h)]).size)
            es_rows.append((h, float(att_all[j]), float(se_all[j]), n_units))
        elif lab[0] == "gt":
            attgt_rows.append((int(lab[1]), int(lab[2]), float(att_all[j]), float(se_all[j])))
    # pre-trend regression
    pre = _pretrend(
        design, pretrend_periods, g[m0], t_val[m0], y0, u0, t0, x0, c0, n_clusters, times
    )
    for k, (gam, s, n_u) in pre["rows"].items():
        es_rows.append((-a - k, gam, s, n_u))
    es = event_study_frame(
        [r[0] for r in es_rows], [r[1] for r in es_rows], [r[2] for r in es_rows],
        [r[3] for r in es_rows], alpha=alpha,
    )  # fmt: skip
    at = attgt_frame(*zip(*attgt_rows, strict=True)) if attgt_rows else attgt_frame()

    solver_meta: dict[str, Any] = {"method": solver}
    if solver == "ap":
        solver_meta.update(
            tol=tol,
            iterations=list(fit.system.iterations),
            converged=bool(fit.system.converged),
        )
    notes = []
    if diag["single_cluster_groups"] and leave_out:
        notes.append(
            f"{diag['single_cluster_groups']} auxiliary group(s) ({avg_effects_by}) have a "
            "single cluster with non-zero weight: the leave-out average is undefined there and "
            "their residuals are zero (variance may be understated); consider "
            "avg_effects_by='horizon' or 'cohort'"
        )
    meta: dict[str, Any] = {
        "estimator": "bjs",
        "estimator_label": "Imputation DID (Borusyak, Jaravel & Spiess 2024)",
        "outcome": outcome,
        "aggregate": aggregate,
        "alpha": alpha,
        "controls": list(controls),
        "n_units": int(np.unique(unit_codes[observed]).size),
        "n_obs": int(observed.sum()),
        "n_untreated_obs": int(m0.sum()),
        "n_treated_obs": int(m1.sum()),
        "n_target_obs": int(post.sum()),
        "n_clusters": n_clusters,
        "balance": design.balance,
        "rule": design.rule,
        "conventions": {
            "untreated_set": "never treated and not yet treated (t < g - anticipation)",
            "anticipation": a,
            "variance": "BJS (2024) Theorem 3 conservative, clustered, no small-sample factor",
            "avg_effects_by": avg_effects_by,
            "leave_out": leave_out,
            "cluster": cl_name,
            "pretrend": "Test 1: leads in the untreated model, CR1 clustered, F(K, G-1)",
        },
        "solver": solver_meta,
        "missing_outcome": missing,
        "not_identified": not_identified,
        "dropped": dropped,
        "pretrend": pre["info"],
        "targets": {
            str(lab): (float(att_all[j]), float(se_all[j])) for j, lab in enumerate(labels)
        },
        "event_study_note": (
            "rows with rel_time >= -anticipation are imputation estimates (BJS Theorem 3 "
            "SEs); rows below are lead coefficients of the pre-trend regression on the "
            "untreated observations (CR1 clustered SEs), not imputation estimates"
        ),
        "notes": notes,
        "seconds": _time.perf_counter() - t_start,
    }
    return did_result(
        att,
        se,
        alpha=alpha,
        event_study=es,
        attgt=at,
        pretrend_pvalue=float(pre["info"].get("pvalue", math.nan)),
        meta=meta,
    )


# ---------------------------------------------------------------------- helpers
def _check_nested(cl: np.ndarray, unit: np.ndarray, name: str) -> None:
    per_unit = pd.Series(cl).groupby(unit).nunique()
    bad = per_unit.index[per_unit.to_numpy() > 1]
    if len(bad):
        raise SpecError(
            f"cluster column {name!r} varies within units ({len(bad)} units). BJS clusters "
            "must contain whole units (e.g. the unit itself or its province)."
        )


def _targets(
    aggregate: str,
    post: np.ndarray,
    ident: np.ndarray,
    e1: np.ndarray,
    g1: np.ndarray,
    tv1: np.ndarray,
    u1: np.ndarray,
    horizons: Sequence[int] | None,
    attgt: bool,
) -> tuple[list[sp.csc_matrix], list[tuple[Any, ...]]]:
    """Weight vectors of the main target (first), the event-study horizons and ATT(g, t)."""

    def mean_of(mask: np.ndarray) -> sp.csc_matrix:
        rows = np.flatnonzero(mask)
        vals = np.full(rows.size, 1.0 / max(rows.size, 1))
        return sp.csc_matrix((vals, (rows, np.zeros(rows.size, dtype=np.int64))), (mask.size, 1))

    def average(cols: list[sp.csc_matrix], shares: Sequence[float] | None = None) -> Any:
        shares = [1.0 / len(cols)] * len(cols) if shares is None else shares
        out = cols[0] * shares[0]
        for c, sh in zip(cols[1:], shares[1:], strict=True):
            out = out + c * sh
        return out

    avail = sorted({int(h) for h in e1[post]})
    hz = (
        avail if horizons is None else [h for h in sorted({int(h) for h in horizons}) if h in avail]
    )
    if horizons is not None and not hz:
        raise SpecError(f"none of horizons={list(horizons)!r} is available; available: {avail}.")
    by_h = {h: mean_of(post & (e1 == h)) for h in hz}
    if aggregate == "simple":
        main = mean_of(post)
    elif aggregate == "dynamic":
        main = average([by_h[h] for h in hz])
    elif aggregate == "group":
        cohorts = sorted({int(c) for c in g1[post]})
        sizes = np.array([np.unique(u1[post & (g1 == c)]).size for c in cohorts], float)
        main = average([mean_of(post & (g1 == c)) for c in cohorts], list(sizes / sizes.sum()))
    else:
        periods = sorted({int(t) for t in tv1[post]})
        main = average([mean_of(post & (tv1 == t)) for t in periods])
    targets = [sp.csc_matrix(main)]
    labels: list[tuple[Any, ...]] = [("att", aggregate)]
    pre_h = sorted({int(h) for h in e1[ident & (e1 < 0)]})  # anticipation window
    for h in pre_h:
        targets.append(mean_of(ident & (e1 == h)))
        labels.append(("h", h))
    for h in hz:
        targets.append(by_h[h])
        labels.append(("h", h))
    if attgt:
        cells = sorted({(int(c), int(t)) for c, t in zip(g1[ident], tv1[ident], strict=True)})
        for c, t in cells:
            targets.append(mean_of(ident & (g1 == c) & (tv1 == t)))
            labels.append(("gt", c, t))
    return targets, labels


def _aux_groups(by: str, g1: np.ndarray, tv1: np.ndarray, e1: np.ndarray) -> np.ndarray:
    if by == "cohort_time":
        keys = pd.MultiIndex.from_arrays([g1, tv1])
        return pd.factorize(keys)[0].astype(np.int64)
    if by == "cohort":
        return pd.factorize(g1)[0].astype(np.int64)
    if by == "horizon":
        return pd.factorize(e1)[0].astype(np.int64)
    return np.zeros(g1.size, dtype=np.int64)


def _not_identified(
    fit: Any,
    u1: np.ndarray,
    t1: np.ndarray,
    g1: np.ndarray,
    tv1: np.ndarray,
    design: TreatmentDesign,
    times: np.ndarray,
) -> list[dict[str, Any]]:
    bad = ~fit.identified
    if not bad.any():
        return []
    sys_ = fit.system
    no_unit = sys_.n_u[u1] == 0
    no_time = sys_.n_t[t1] == 0
    frame = pd.DataFrame(
        {
            "cohort": g1[bad],
            "time": tv1[bad],
            "unit": np.asarray(design.units)[u1[bad]],
            "reason": np.where(
                no_unit[bad],
                "unit has no untreated observation (unit effect not identified)",
                np.where(
                    no_time[bad],
                    "no untreated observation in this period (period effect not identified)",
                    "unit and period in different connected components of the untreated sample",
                ),
            ),
        }
    )
    out = []
    for key, sub in frame.groupby(["cohort", "time", "reason"], sort=True):
        c, t, r = key
        out.append(
            {
                "cohort": int(c),  # type: ignore[call-overload]
                "time": int(t),  # type: ignore[call-overload]
                "n_obs": len(sub),
                "reason": str(r),
                "units": [_plain(v) for v in sub["unit"].iloc[:5]],
            }
        )
    return out


def _plain(v: Any) -> Any:
    item = getattr(v, "item", None)
    return item() if callable(item) else v


def _pretrend(
    design: TreatmentDesign,
    pretrend_periods: int | None,
    g0: np.ndarray,
    tv0: np.ndarray,
    y0: np.ndarray,
    u0: np.ndarray,
    t0: np.ndarray,
    x0: np.ndarray,
    c0: np.ndarray,
    n_clusters: int,
    times: np.ndarray,
) -> dict[str, Any]:
    a = int(design.anticipation)
    k_of = np.where(g0 > 0, (g0 - a) - tv0, 0)  # lead k >= 1 for eventually treated
    k_avail = int(k_of.max(initial=0))
    k = max(k_avail - 1, 0) if pretrend_periods is None else min(int(pretrend_periods), k_avail)
    empty = {"rows": {}, "info": {"leads": [], "pvalue": math.nan, "reason": ""}}
    if k == 0:
        empty["info"]["reason"] = "no lead requested or available"
        return empty
    lead_of = np.where(k_of <= k, k_of, 0).astype(np.int64)
    gamma, cov, kept, info = lead_regression(
        y0, u0, t0, x0, lead_of, k, c0,
        n_units=len(design.units), n_times=times.size, n_clusters=n_clusters,
    )  # fmt: skip
    idx = np.flatnonzero(kept)
    q = idx.size
    out_info: dict[str, Any] = {
        "leads": [int(j + 1) for j in range(k)],
        "rel_time": [-a - (j + 1) for j in range(k)],
        "absorbed": [-a - (int(j) + 1) for j in np.flatnonzero(~kept)],
        **info,
    }
    if q:
        gk = gamma[idx]
        vk = cov[np.ix_(idx, idx)]
        wald = float(gk @ np.linalg.solve(vk, gk))
        dfd = max(n_clusters - 1, 1)
        out_info.update(
            wald=wald,
            df=q,
            fstat=wald / q,
            pvalue=float(stats.f.sf(wald / q, q, dfd)),
            pvalue_chi2=float(stats.chi2.sf(wald, q)),
            df_denominator=dfd,
        )
    else:
        out_info.update(pvalue=math.nan, reason="every lead is absorbed by the fixed effects")
    rows = {}
    for j in range(k):
        n_u = int(np.unique(u0[k_of == j + 1]).size)
        se = math.sqrt(max(cov[j, j], 0.0)) if np.isfinite(cov[j, j]) else math.nan
        rows[j + 1] = (float(gamma[j]), se, n_u)
    return {"rows": rows, "info": out_info}
