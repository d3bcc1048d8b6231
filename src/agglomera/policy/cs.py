r"""Callaway and Sant'Anna (2021) staggered DID on a :class:`TreatmentDesign` (own core).

:func:`estimate_cs` is what :func:`agglomera.policy.estimation` calls for
``estimator="cs"``: it turns the design into arrays, runs the vectorised core
(:mod:`agglomera.policy._cs_core`) and wraps the result in a
:class:`~agglomera.policy.results.DIDResult`. Conventions follow R ``did`` (2.x) with
``DRDID`` for the per-cell estimators; the validation against R's mpdta numbers and the
Python peers is in ``tests/policy/test_cs*.py`` and ``tests/reference/policy/PROVENANCE.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.policy import _cs_aggregate as aggregation
from agglomera.policy import _cs_bootstrap as bootstrap_core
from agglomera.policy import _cs_core as core
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import (
    attgt_frame,
    did_result,
    event_study_frame,
    wald_test,
)
from agglomera.policy.results import DIDResult

__all__ = ["estimate_cs"]

_LABELS = {"dr": "doubly robust", "ipw": "normalised IPW", "reg": "outcome regression"}


def estimate_cs(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    method: Literal["dr", "ipw", "reg"] = "dr",
    control_group: Literal["never", "notyet"] = "never",
    base_period: Literal["varying", "universal"] = "varying",
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: Literal["simple", "dynamic", "group", "calendar"] = "simple",
    bootstrap: int = 0,
    seed: int | None = None,
    bootstrap_weights: Literal["mammen", "rademacher"] = "mammen",
    group_wif: Literal["did", "cohort"] = "did",
    trim_level: float = 0.995,
) -> DIDResult:
    r"""Estimate group-time ATTs and their aggregations (Callaway and Sant'Anna 2021).

    Parameters
    ----------
    design : TreatmentDesign
        Cohorts, sample, anticipation :math:`\delta` and balance rule.
    outcome : str
        Numeric outcome column.
    controls : sequence of str, default ()
        Covariates; the value in the earlier period of each 2×2 comparison is used (R
        ``did`` with panel data). Missing values raise :class:`DataError`.
    method : {"dr", "ipw", "reg"}, default "dr"
        Per-cell estimator: traditional doubly robust (``DRDID::drdid_panel``, R ``did``'s
        default), normalised IPW (``std_ipw_did_panel``) or outcome regression
        (``reg_did_panel``). Without controls all three are the DiD of means
        :math:`ATT(g,t) = E[Y_t - Y_b \mid G = g] - E[Y_t - Y_b \mid C = 1]`.
    control_group : {"never", "notyet"}, default "never"
        Never treated (:math:`G = 0`) or not yet treated (:math:`G = 0` or
        :math:`G > \max(t, b) + \delta`, excluding the cohort itself). Without
        never-treated units, ``"notyet"`` follows R: periods :math:`t \ge \max G - \delta`
        are dropped and the last cohort serves as comparison (recorded in ``meta``).
    base_period : {"varying", "universal"}, default "varying"
        Pre-treatment cells compare :math:`t` with :math:`t-1` (``"varying"``) or with
        :math:`g - 1 - \delta` (``"universal"``); post-treatment cells always use
        :math:`b = g - 1 - \delta`.
    cluster : str, optional
        Column constant within unit to cluster by (units nested in clusters); default the
        unit.
    alpha : float, default 0.05
        One minus the confidence level.
    aggregate : {"simple", "dynamic", "group", "calendar"}, default "simple"
        Which aggregation gives ``att`` and ``se`` (``"dynamic"``: the mean of the
        event-time effects :math:`e \ge 0`). Every aggregation is computed and stored in
        ``meta["aggregations"]``.
    bootstrap : int, default 0
        Multiplier-bootstrap draws; 0 = analytic influence-function standard errors.
        With draws, standard errors are bootstrap ones and the event-study and ATT(g,t)
        bands are uniform (sup-t; ``meta["uniform_bands"]``).
    seed : int, optional
        Seed of the bootstrap.
    bootstrap_weights : {"mammen", "rademacher"}, default "mammen"
        Multiplier distribution (R ``did`` uses Mammen).
    group_wif : {"did", "cohort"}, default "did"
        Weight influence function of the overall group effect; ``"did"`` reproduces R
        (see :func:`agglomera.policy._cs_aggregate.aggregate`).
    trim_level : float, default 0.995
        Propensity-score trimming of comparison units (DRDID).

    Returns
    -------
    DIDResult
        ``attgt`` has every ATT(g,t) with its SE; ``event_study`` the dynamic
        aggregation; ``pretrend_pvalue`` the Wald test that all pre-treatment event-time
        effects are zero (:math:`\chi^2` with the influence-function covariance,
        pseudo-inverse). ``meta`` holds the conventions, ``aggregations`` (tables of
        all four), ``skipped_cells``, ``dropped`` and the counts of units.

    Raises
    ------
    DataError
        Controls with missing values, a cluster column that varies within unit, no
        never-treated units with ``control_group="never"``.
    SpecError
        ``balance="rcs"`` (not implemented for this estimator) or bad options.
    EstimationError
        Collinear covariates (named) or a propensity score that does not converge.

    Notes
    -----
    Aggregation weights (R ``did::aggte``), with :math:`p_g` the sample share of cohort
    :math:`g`: simple :math:`\sum_{g\le t} p_g ATT(g,t)/\sum_{g\le t} p_g`; event time
    :math:`\theta(e) = \sum_{t-g=e} p_g ATT(g,t)/\sum_{t-g=e} p_g`; group
    :math:`\theta(g) = \overline{ATT(g,t)}_{t \ge g}`, overall :math:`\sum_g p_g
    \theta(g)/\sum_g p_g`; calendar :math:`\theta(t) = \sum_{g \le t} p_g
    ATT(g,t)/\sum_{g\le t} p_g`, overall the mean over :math:`t`. The estimation of
    :math:`p_g` enters the standard errors through the weight influence function.

    References
    ----------
    Callaway, B., Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics* 225(2), 200–230.
    Sant'Anna, P. H. C., Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. *Journal of Econometrics* 219(1), 101–122.
    """
    if design.balance == "rcs":
        raise SpecError(
            "balance='rcs' (repeated cross-sections, R did's allow_unbalanced_panel = TRUE) "
            "is not implemented for estimator='cs'. Use balance='drop' (R did's default: "
            "units not observed in every period are dropped) or balance='pairwise' (each "
            "ATT(g,t) uses the units observed in both of its periods)."
        )
    if bootstrap_weights not in ("mammen", "rademacher"):
        raise SpecError(
            f"bootstrap_weights={bootstrap_weights!r} is not allowed; allowed: 'mammen', "
            "'rademacher'."
        )
    if group_wif not in ("did", "cohort"):
        raise SpecError(f"group_wif={group_wif!r} is not allowed; allowed: 'did', 'cohort'.")
    controls = tuple(controls)
    dropped: list[str] = list(design.meta.get("dropped", []))
    notes: list[str] = []

    wide = design.outcome_matrix(outcome)
    units = wide.index
    times = np.asarray(design.times, dtype=np.int64)
    y = wide.to_numpy(dtype=float)
    cohort = design.cohorts.reindex(units).to_numpy(dtype=np.int64)

    # ---- missing outcome values under the balance rule
    gaps = np.isnan(y).any(axis=1)
    n_gap = int(gaps.sum())
    rows_kept: np.ndarray | None = None
    periods_kept: np.ndarray | None = None
    if n_gap and design.balance == "drop":
        lost = list(units[gaps])
        dropped.append(
            f"{n_gap} units with a missing {outcome!r} in some period (balance='drop': the "
            f"panel is balanced for this outcome, as R did does): {format_examples(lost)}"
        )
        keep = ~gaps
        y, cohort, units = y[keep], cohort[keep], units[keep]
        rows_kept = keep
    elif n_gap:
        notes.append(
            f"{n_gap} units miss {outcome!r} in some period (balance='pairwise': each "
            "ATT(g,t) uses the units observed in both of its periods)"
        )

    # ---- no never-treated units
    delta = int(design.anticipation)
    if not (cohort == 0).any():
        if control_group == "never":
            raise DataError(
                "control_group='never' needs never-treated units (cohort 0), and this sample "
                "has none. Fix: control_group='notyet'."
            )
        g_max = int(cohort.max())
        keep_t = times < g_max - delta
        notes.append(
            f"no never-treated units: as R did does, periods >= {g_max - delta} (last cohort "
            f"{g_max} minus anticipation) are dropped and cohort {g_max} is the comparison group"
        )
        y, times = y[:, keep_t], times[keep_t]
        periods_kept = keep_t
        cohort = np.where(cohort == g_max, 0, cohort)

    # ---- covariates and clusters
    x = None
    if controls:
        # units × periods × controls; time-invariant controls are kept as one period
        # (the core then shares the covariate fits across the cells of a cohort)
        x = design._covariate_array(controls, collapse=True)
        if x.shape[1] > 1 and periods_kept is not None:
            x = x[:, periods_kept, :]
        if rows_kept is not None:
            x = x[rows_kept]
    clusters, n_clusters, cluster_name = _clusters(design, cluster, units)

    res = core.att_gt(
        y,
        cohort,
        times,
        x=x,
        covariate_names=controls,
        method=method,
        control_group=control_group,
        base_period=base_period,
        anticipation=delta,
        trim_level=trim_level,
    )
    if res.att.size == 0:
        raise DataError(
            "no ATT(g,t) could be estimated: "
            + "; ".join(f"({s['group']}, {s['time']}): {s['reason']}" for s in res.skipped)
        )
    aggs = {
        k: aggregation.aggregate(res, cohort, k, group_wif=group_wif)
        for k in ("simple", "dynamic", "group", "calendar")
    }

    # ---- analytic standard errors
    cell_se = core.cluster_se(res.inf, clusters)
    cell_se[res.reference] = math.nan
    dyn = aggs["dynamic"]
    dyn_se = core.cluster_se(dyn.inf, clusters)
    chosen = aggs[aggregate]
    att = float(chosen.overall)
    se = float(core.cluster_se(chosen.overall_inf, clusters)[0])
    agg_se = {k: core.cluster_se(a.inf, clusters) for k, a in aggs.items()}
    agg_overall_se = {
        k: float(core.cluster_se(a.overall_inf, clusters)[0]) for k, a in aggs.items()
    }

    crit_es: float | None = None
    crit_cells: float | None = None
    es_draws: np.ndarray | None = None
    if bootstrap:
        k_c, k_e = res.att.size, dyn.labels.size
        # every bootstrapped statistic is linear in the cell influence functions and
        # per-cohort indicators: draw for those columns and combine (exact)
        _, upos = aggregation.cohort_positions(cohort)
        n_g = dyn.cohort_terms.shape[0]  # treated cohorts + "never treated"
        indicators = np.zeros((upos.size, n_g), order="F")
        indicators[np.arange(upos.size), upos] = 1.0
        combine = np.vstack(
            [
                np.column_stack(
                    [np.eye(k_c), dyn.cell_weights[:, :-1], chosen.cell_weights[:, -1]]
                ),
                np.column_stack(
                    [np.zeros((n_g, k_c)), dyn.cohort_terms[:, :-1], chosen.cohort_terms[:, -1]]
                ),
            ]
        )
        boot = bootstrap_core.multiplier_bootstrap(
            (res.inf, indicators),
            combine=combine,
            draws=bootstrap,
            seed=seed,
            clusters=clusters,
            blocks={
                "attgt": np.flatnonzero(~res.reference),
                "event_study": np.arange(k_c, k_c + k_e),
            },
            alpha=alpha,
            weights=bootstrap_weights,
        )
        cell_se = np.where(res.reference, math.nan, boot.se[:k_c])
        dyn_se = boot.se[k_c : k_c + k_e]
        se = float(boot.se[-1])
        crit_es = boot.crit["event_study"]
        crit_cells = boot.crit["attgt"]
        es_draws = boot.values[:, k_c : k_c + k_e]  # event-study columns, rel_time order

    # ---- event study and pre-trend test
    ref_e = -1 - delta
    dyn_est = dyn.estimates.copy()
    dyn_se = np.where((dyn.labels == ref_e) & (base_period == "universal"), math.nan, dyn_se)
    es = event_study_frame(dyn.labels, dyn_est, dyn_se, dyn.n_units, alpha=alpha, crit=crit_es)
    pre = (dyn.labels < 0) & np.isfinite(dyn_se)
    pre_stat, pre_df, pre_p = (
        wald_test(dyn_est[pre], core.covariance(dyn.inf[:, pre], clusters))
        if pre.any()
        else (math.nan, 0, math.nan)
    )

    attgt = attgt_frame(res.group, res.time, res.att, cell_se)
    if crit_cells is not None:
        attgt = attgt.assign(
            ci_low=attgt["estimate"] - crit_cells * attgt["se"],
            ci_high=attgt["estimate"] + crit_cells * attgt["se"],
        )

    tables = {
        k: pd.DataFrame(
            {"label": a.labels, "estimate": a.estimates, "se": agg_se[k], "n": a.n_units}
        )
        for k, a in aggs.items()
        if k != "simple"
    }
    meta: dict[str, Any] = {
        "estimator": "cs",
        "estimator_label": "Callaway–Sant'Anna ("
        + (_LABELS[method] if controls else "unconditional")
        + ")",
        "outcome": outcome,
        "aggregate": aggregate,
        "alpha": alpha,
        "controls": list(controls),
        "conventions": {
            "method": method if controls else f"{method} (no covariates: DiD of means)",
            "control_group": control_group,
            "base_period": base_period,
            "anticipation": delta,
            "clustering": cluster_name,
            "small_sample_correction": "none (influence-function variance, as R did)",
            "covariates_period": "earlier period of each 2x2 (R did panel2cs2)",
            "balance": design.balance,
            "group_wif": group_wif,
            "trim_level": trim_level,
        },
        "balance": design.balance,
        "rule": design.rule,
        "n_units": int(y.shape[0]),
        "n_obs": int(np.isfinite(y).sum()),
        "n_clusters": n_clusters,
        "event_study_vcov": core.covariance(dyn.inf, clusters),
        "bootstrap_event_study_draws": es_draws,
        "n_units_missing_outcome": n_gap,
        "dropped": dropped,
        "notes": notes,
        "skipped_cells": [s for s in res.skipped if not s.get("trimmed")],
        "trimmed_cells": [s for s in res.skipped if s.get("trimmed")],
        "cells": pd.DataFrame(
            {
                "cohort": res.group,
                "time": res.time,
                "base": res.base,
                "n_treated": res.n_treated,
                "n_control": res.n_control,
            }
        ),
        "aggregations": {
            "overall": {k: {"att": a.overall, "se": agg_overall_se[k]} for k, a in aggs.items()},
            **tables,
        },
        "pretrend_wald": {"statistic": pre_stat, "df": pre_df, "pvalue": pre_p},
        "bootstrap": int(bootstrap),
        "bootstrap_weights": bootstrap_weights if bootstrap else None,
        "seed": seed,
        "uniform_bands": bool(bootstrap),
        "critical_value_event_study": crit_es,
        "critical_value_attgt": crit_cells,
    }
    return did_result(
        att,
        se,
        alpha=alpha,
        event_study=es,
        attgt=attgt,
        pretrend_pvalue=float(pre_p),
        meta=meta,
    )


def _clusters(
    design: TreatmentDesign, cluster: str | None, units: pd.Index
) -> tuple[np.ndarray | None, int, str]:
    """Cluster codes per unit (None = the unit itself); clusters must nest units."""
    if cluster is None or cluster == design.unit:
        return None, len(units), design.unit
    frame = design.panel.to_frame()
    if cluster not in frame.columns:
        design.panel.column(cluster)  # DataError with close matches
    values = frame[[design.unit, cluster]]
    if values[cluster].isna().any():
        bad = values.loc[values[cluster].isna(), design.unit].unique()[:5]
        raise DataError(
            f"cluster column {cluster!r} has missing values (units {format_examples(list(bad))})."
        )
    per_unit = values.groupby(design.unit, sort=False)[cluster].nunique()
    varying = per_unit.index[per_unit.to_numpy() > 1]
    if len(varying):
        raise DataError(
            f"cluster column {cluster!r} must be constant within unit (units nested in "
            f"clusters); it varies for {len(varying)} units: "
            f"{format_examples(list(varying))}. Fix: use a time-invariant grouping."
        )
    first = values.groupby(design.unit, sort=False)[cluster].first().reindex(units)
    codes, uniq = pd.factorize(first, sort=True)
    return codes.astype(np.int64), len(uniq), cluster
