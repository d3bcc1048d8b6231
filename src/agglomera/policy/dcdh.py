r"""de Chaisemartin and D'Haultfœuille event-study DID (``DID_ℓ``) through moderndid.

:func:`estimate_dcdh` is what :func:`agglomera.policy.estimate` calls for
``estimator="dcdh"``. It hands a balanced :class:`~agglomera.policy.design.TreatmentDesign`
to ``moderndid.did_multiplegt`` (the Python port of R ``DIDmultiplegtDYN``) through the one
adapter module :mod:`agglomera.policy._moderndid`, and wraps the effects, placebos, their
influence-function covariance and the average total effect in a
:class:`~agglomera.policy.results.DIDResult`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, EstimationError, SpecError, format_examples
from agglomera.policy import _moderndid as adapter
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import (
    attgt_frame,
    check_choice,
    event_study_frame,
    normal_ci,
    normal_pvalue,
    wald_test,
)
from agglomera.policy.results import DIDResult

__all__ = ["estimate_dcdh"]

_RESERVED = ("data", "yname", "tname", "idname", "dname", "xformla", "ci_level", "cluster")


def estimate_dcdh(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: Literal["simple", "dynamic"] = "dynamic",
    effects: int | None = None,
    placebo: int | None = None,
    **options: Any,
) -> DIDResult:
    r"""Estimate the dCDH event-study effects :math:`\mathrm{DID}_\ell` and placebos.

    Parameters
    ----------
    design : TreatmentDesign
        Cohorts and sample; the panel must be balanced for ``outcome`` (build the design
        with ``balance="drop"``).
    outcome : str
        Numeric outcome column.
    controls : sequence of str, default ()
        Covariates (moderndid's ``xformla``): the outcome evolution is residualised on the
        first differences of the controls estimated among not-yet-switchers
        (de Chaisemartin and D'Haultfœuille 2024, Section 3.2).
    cluster : str, optional
        Column to cluster standard errors by (constant within unit); default the unit.
    alpha : float, default 0.05
        One minus the confidence level.
    aggregate : {"simple", "dynamic"}, default "dynamic"
        What ``att``/``se`` report: ``"dynamic"`` = the unweighted mean of the
        :math:`\mathrm{DID}_\ell`, :math:`\ell = 1..L` (as for every estimator of
        :func:`~agglomera.policy.estimate`); ``"simple"`` = dCDH's average total effect
        :math:`\delta` (switcher-weighted mean of the :math:`\mathrm{DID}_\ell`; with a
        binary absorbing treatment this is CS's ``"simple"`` aggregation with not-yet-
        treated controls).
    effects : int, optional
        Number of effects :math:`\ell = 1..L`; default every horizon some cohort reaches,
        :math:`L = t_T - \min_i g_i + 1`.
    placebo : int, optional
        Number of placebos; default the largest :math:`k` with a cohort that has both
        :math:`k` pre-periods before its base period and :math:`k` effects. 0 = none.
    **options
        Passed on to ``moderndid.did_multiplegt`` unchanged (e.g.
        ``only_never_switchers=True``, ``same_switchers=True``, ``normalized=True``,
        ``trends_lin=True``, ``less_conservative_se=True``).

    Returns
    -------
    DIDResult
        ``event_study`` uses event time :math:`e = \ell - 1` for effect :math:`\ell` and
        :math:`e = -k - 1` for placebo :math:`k`, with the reference period :math:`e = -1`
        (estimate 0, no SE); ``n`` = switchers. ``meta["event_study_vcov"]`` is the
        influence-function covariance of the event-study rows (NaN for the reference),
        ``meta["effects"]``/``meta["placebos"]`` moderndid's tables (horizon ℓ, estimate,
        SE, switchers, observations), ``meta["ate"]`` the average total effect;
        ``pretrend_pvalue`` is the Wald test that all placebos are zero. ``attgt`` is
        empty.

    Raises
    ------
    DataError
        Unbalanced panel (units named, fix ``design(..., balance="drop")``), missing
        control values, a cluster column that varies within unit.
    SpecError
        Bad ``aggregate``/``effects``/``placebo``, an option that the wrapper sets itself,
        ``balance="rcs"``.
    ImportError
        moderndid is not installed.

    Notes
    -----
    With :math:`F_g` the first period in which unit :math:`g`'s treatment changes and
    :math:`N^g_t` the number of units with the same baseline treatment that have not
    switched by :math:`t`,

    .. math::
        \mathrm{DID}_{g,\ell} = Y_{g,F_g-1+\ell} - Y_{g,F_g-1} - \frac{1}{N^g_{F_g-1+\ell}}
        \sum_{g':\, F_{g'} > F_g-1+\ell} (Y_{g',F_g-1+\ell} - Y_{g',F_g-1}),

    and :math:`\mathrm{DID}_\ell` averages :math:`\mathrm{DID}_{g,\ell}` over the switchers
    that reach horizon :math:`\ell`. Placebo :math:`k` replaces the outcome change by
    :math:`Y_{g,F_g-1-k} - Y_{g,F_g-1}` for the same switchers and controls as effect
    :math:`k`. With a binary, absorbing (staggered) treatment :math:`\mathrm{DID}_\ell`
    equals the Callaway–Sant'Anna event-time effect :math:`\theta(e = \ell - 1)` with
    not-yet-treated controls (checked on mpdta to 1e-10; the standard errors differ
    because dCDH's variance estimator is conservative). :math:`\mathrm{DID}_1` is the
    :math:`\mathrm{DID}_M` estimator of the 2020 paper when every switch is a first switch.

    References
    ----------
    de Chaisemartin, C., D'Haultfœuille, X. (2020). Two-way fixed effects estimators with
    heterogeneous treatment effects. *American Economic Review* 110(9), 2964–2996.
    de Chaisemartin, C., D'Haultfœuille, X. (2024). Difference-in-differences estimators
    of intertemporal treatment effects. *Review of Economics and Statistics* 106(6),
    1723–1736.
    """
    check_choice("aggregate", aggregate, ("simple", "dynamic"))
    if design.balance == "rcs":
        raise SpecError(
            "balance='rcs' is not available for estimator='dcdh' (moderndid needs a balanced "
            "panel). Use design(..., balance='drop')."
        )
    reserved = sorted(set(options) & set(_RESERVED))
    if reserved:
        raise SpecError(
            f"estimator='dcdh' sets {format_examples(reserved)} itself; use the arguments "
            "outcome, controls, cluster and alpha instead."
        )
    controls = tuple(controls)
    times = np.asarray(design.times, dtype=np.int64)
    treated_g = design.cohorts[design.cohorts > 0].to_numpy(dtype=np.int64)
    if treated_g.size == 0:
        raise DataError("estimator='dcdh' needs treated units (cohort > 0); the design has none.")
    max_effects = int(times[-1] - treated_g.min() + 1)
    max_placebo = _max_placebo(times, treated_g)
    effects = max_effects if effects is None else _positive("effects", effects, minimum=1)
    placebo = max_placebo if placebo is None else _positive("placebo", placebo, minimum=0)

    frame = adapter.balanced_frame(design, outcome, controls=controls, cluster=cluster)
    units = pd.Index(frame[design.unit].unique())
    clusters, n_clusters, cluster_name = _clusters(frame, design.unit, cluster, units)
    raw = adapter.did_multiplegt(
        frame,
        unit=design.unit,
        time=design.time,
        outcome=outcome,
        controls=controls,
        cluster=cluster,
        effects=effects,
        placebo=placebo,
        alpha=alpha,
        **options,
    )
    n_units = len(units)

    eff = _horizon_table(raw.effects)
    pl = _horizon_table(raw.placebos) if raw.placebos is not None else _horizon_table(None)
    notes: list[str] = []
    for name, tab in (("effect", eff), ("placebo", pl)):
        missing = tab.loc[~tab["estimable"], "horizon"].astype(int).tolist()
        if missing:
            notes.append(
                f"{name}(s) {format_examples(missing)} not estimable: no switcher reaches "
                "that horizon with a not-yet-switched comparison unit"
            )
    eff_ok, pl_ok = eff[eff["estimable"]], pl[pl["estimable"]]
    if eff_ok.empty:
        raise EstimationError("dCDH: no effect could be estimated: " + "; ".join(notes))

    inf_eff = _influence(raw.influence_effects, len(eff_ok), n_units, "effects")
    inf_pl = (
        _influence(raw.influence_placebos, len(pl_ok), n_units, "placebos")
        if len(pl_ok)
        else np.zeros((n_units, 0))
    )

    # ---- event study: placebos (e = -k-1), reference e = -1, effects (e = l-1)
    pl_sorted = pl_ok.sort_values("horizon")  # -P .. -1
    order_pl = np.argsort(pl_ok["horizon"].to_numpy())
    rel = np.concatenate(
        [pl_sorted["horizon"].to_numpy() - 1, [-1], eff_ok["horizon"].to_numpy() - 1]
    ).astype(np.int64)
    est = np.concatenate([pl_sorted["estimate"].to_numpy(), [0.0], eff_ok["estimate"].to_numpy()])
    se = np.concatenate([pl_sorted["se"].to_numpy(), [math.nan], eff_ok["se"].to_numpy()])
    n_sw = np.concatenate(
        [
            pl_sorted["n_switchers"].to_numpy(),
            [eff_ok["n_switchers"].to_numpy()[0]],
            eff_ok["n_switchers"].to_numpy(),
        ]
    ).astype(np.int64)
    es = event_study_frame(rel, est, se, n_sw, alpha=alpha)
    psi = np.column_stack([inf_pl[:, order_pl], np.zeros(n_units), inf_eff])
    vcov = _covariance(psi, clusters, n_units)
    ref = len(pl_sorted)
    vcov[ref, :] = math.nan
    vcov[:, ref] = math.nan

    if len(pl_ok):
        pre_stat, pre_df, pre_p = wald_test(pl_sorted["estimate"].to_numpy(), vcov[:ref, :ref])
    else:
        pre_stat, pre_df, pre_p = math.nan, 0, math.nan

    # ---- overall effect
    ate = raw.ate
    n_sw_eff = eff_ok["n_switchers"].to_numpy(dtype=float)
    if aggregate == "dynamic":
        w = np.full(len(eff_ok), 1.0 / len(eff_ok))
        att = float(eff_ok["estimate"].to_numpy() @ w)
        se_att = float(np.sqrt(_covariance(inf_eff @ w[:, None], clusters, n_units)[0, 0]))
    else:
        if ate is None:
            raise EstimationError("dCDH: moderndid returned no average total effect.")
        att = float(ate.estimate)
        se_att = float(ate.std_error)
        if clusters is not None:
            if options.get("normalized") or options.get("trends_lin"):
                raise SpecError(
                    "aggregate='simple' with cluster=... is not available together with "
                    "normalized=True or trends_lin=True (moderndid 0.2.0 does not cluster the "
                    "average total effect). Use aggregate='dynamic'."
                )
            w = n_sw_eff / n_sw_eff.sum()
            se_att = float(np.sqrt(_covariance(inf_eff @ w[:, None], clusters, n_units)[0, 0]))
            notes.append(
                "average total effect: clustered SE computed from moderndid's influence "
                "functions (moderndid 0.2.0 does not cluster it)"
            )
    ate_info = (
        None
        if ate is None
        else {
            "estimate": float(ate.estimate),
            "se": float(ate.std_error),
            "n_switchers": float(ate.n_switchers),
            "n_obs": float(ate.n_observations),
        }
    )
    joint = raw.placebo_joint_test
    meta: dict[str, Any] = {
        "estimator": "dcdh",
        "estimator_label": "de Chaisemartin–D'Haultfœuille DID_l",
        "outcome": outcome,
        "aggregate": aggregate,
        "alpha": alpha,
        "controls": list(controls),
        "conventions": {
            "comparison": "not-yet-switchers with the same baseline treatment"
            + (" (never-switchers only)" if options.get("only_never_switchers") else ""),
            "event_time": "effect l -> e = l - 1; placebo k -> e = -k - 1; e = -1 reference",
            "effects": effects,
            "placebo": placebo,
            "clustering": cluster_name,
            "variance": "influence function, sum_c (sum_i psi_i)^2 / N^2 (DIDmultiplegtDYN)",
            "balance": design.balance,
            "engine": f"moderndid {adapter.installed_version()} did_multiplegt",
            **{k: v for k, v in options.items() if k not in ("random_state",)},
        },
        "balance": design.balance,
        "rule": design.rule,
        "n_units": n_units,
        "n_obs": len(frame),
        "n_clusters": n_clusters,
        "n_switchers": int(raw.n_switchers),
        "n_never_switchers": int(raw.n_never_switchers),
        "dropped": list(design.meta.get("dropped", [])),
        "notes": notes,
        "effects": eff.drop(columns="estimable"),
        "placebos": pl.drop(columns="estimable"),
        "ate": ate_info,
        "event_study_vcov": vcov,
        "pretrend_wald": {"statistic": pre_stat, "df": pre_df, "pvalue": pre_p},
        "placebo_joint_test_moderndid": joint,
        "bootstrap": int(options.get("biters", 0)) if options.get("boot") else 0,
        "uniform_bands": False,
    }
    return DIDResult(
        att=att,
        se=se_att,
        ci=normal_ci(att, se_att, alpha),
        pvalue=normal_pvalue(att, se_att),
        event_study=es,
        attgt=attgt_frame(),
        pretrend_pvalue=float(pre_p),
        meta=meta,
    )


# ---------------------------------------------------------------------- helpers
def _positive(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SpecError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _max_placebo(times: np.ndarray, cohorts: np.ndarray) -> int:
    """Largest k with a cohort that has k pre-periods before g - 1 and k effects."""
    t1, t_last = int(times[0]), int(times[-1])
    best = 0
    for g in np.unique(cohorts):
        best = max(best, min(int(g) - t1 - 1, t_last - int(g) + 1))
    return best


def _horizon_table(part: Any) -> pd.DataFrame:
    cols = ["horizon", "estimate", "se", "n_switchers", "n_obs", "estimable"]
    if part is None:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols}).astype(
            {"estimable": bool, "horizon": np.int64}
        )
    est = np.asarray(part.estimates, dtype=float)
    n_sw = np.asarray(part.n_switchers, dtype=float)
    return pd.DataFrame(
        {
            "horizon": np.asarray(part.horizons, dtype=np.int64),
            "estimate": est,
            "se": np.asarray(part.std_errors, dtype=float),
            "n_switchers": n_sw.astype(np.int64),
            "n_obs": np.asarray(part.n_observations, dtype=float).astype(np.int64),
            "estimable": (n_sw > 0) & np.isfinite(est),
        }
    )


def _influence(inf: Any, k: int, n_units: int, what: str) -> np.ndarray:
    arr = None if inf is None else np.asarray(inf, dtype=float)
    if arr is None or arr.ndim != 2 or arr.shape != (n_units, k):
        shape = None if arr is None else arr.shape
        raise EstimationError(
            f"dCDH: moderndid's influence functions for the {what} have shape {shape}; "
            f"expected ({n_units}, {k}) (one row per unit, one column per estimable horizon)."
        )
    return arr


def _covariance(psi: np.ndarray, clusters: np.ndarray | None, n_units: int) -> np.ndarray:
    r"""Covariance :math:`N^{-2}\sum_c S_c S_c^\top`, :math:`S_c = \sum_{i\in c}\psi_i`."""
    if clusters is not None:
        sums = np.zeros((int(clusters.max()) + 1, psi.shape[1]))
        np.add.at(sums, clusters, psi)
        psi = sums
    return np.asarray(psi.T @ psi, dtype=float) / float(n_units) ** 2


def _clusters(
    frame: pd.DataFrame, unit: str, cluster: str | None, units: pd.Index
) -> tuple[np.ndarray | None, int, str]:
    if cluster is None or cluster == unit:
        return None, len(units), unit
    if frame[cluster].isna().any():
        raise DataError(f"cluster column {cluster!r} has missing values.")
    per_unit = frame.groupby(unit, sort=True)[cluster].nunique()
    varying = per_unit.index[per_unit.to_numpy() > 1]
    if len(varying):
        raise DataError(
            f"cluster column {cluster!r} must be constant within unit; it varies for "
            f"{len(varying)} units: {format_examples(list(varying))}."
        )
    first = frame.groupby(unit, sort=True)[cluster].first().reindex(units)
    codes, uniq = pd.factorize(first, sort=True)
    return codes.astype(np.int64), len(uniq), cluster
