r"""Triple differences (DDD): a policy aimed at one group *within* each treated unit.

Example: the innovative-city pilot should raise high-tech employment in a pilot city more
than other sectors' employment in the same city. With long data on unit :math:`i` (city) ×
group :math:`s` (sector) × period :math:`t` and :math:`H_s = 1[s \text{ is targeted}]`,
the DDD regression with the full set of two-way fixed effects is

.. math:: y_{ist} = \mu_{is} + \eta_{st} + \kappa_{it} + \beta\,D_{it}H_s
          + \varepsilon_{ist},\qquad D_{it} = 1[g_i > 0,\ t \ge g_i],

where the unit×period effects :math:`\kappa_{it}` absorb every city-level shock
(including the city-wide effect of the policy), :math:`\eta_{st}` sector-wide shocks and
:math:`\mu_{is}` city-sector levels. Identification needs only that the *gap* between
targeted and other groups evolves in parallel in treated and control units (Olden and
Møen 2022).

The fixed-effect regressions are estimated with pyfixest with the project's explicit
small-sample convention (:data:`agglomera.policy.twfe.SSC_CONVENTION`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, EstimationError, SpecError, check_choice, format_examples
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.design import design as make_design
from agglomera.policy.estimation import cluster_ids, did_result
from agglomera.policy.results import DIDResult
from agglomera.policy.twfe import (
    bin_event_time,
    ev_name,
    event_study_fit,
    fit_fixed_effects,
    fit_meta,
    sqrt_var,
)

__all__ = ["DDD_ESTIMATORS", "difference_panel", "triple_differences"]

#: Estimators of :func:`triple_differences`.
DDD_ESTIMATORS: tuple[str, ...] = ("twfe", "event_study", "cs", "sa", "bjs")

_SSC_TEXT = (
    "CRV1, G/(G-1)*(N-1)/(N-K), K = slopes + fixed effects not nested in the clusters "
    "(pyfixest.ssc(k_adj=True, k_fixef='nonnested', G_adj=True, G_df='min'))"
)


def derived_design(design: TreatmentDesign, panel: Panel, cohort: str) -> TreatmentDesign:
    """Design on a panel derived from ``design``'s, with its anticipation and balance.

    The warning about single-unit cohorts is not repeated (``design`` gave it).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="cohorts with a single unit", category=UserWarning
        )
        return make_design(
            panel,
            cohort=cohort,
            anticipation=design.anticipation,
            balance=cast(Any, design.balance),
        )


# ---------------------------------------------------------------------- data preparation
@dataclass
class _Long:
    frame: pd.DataFrame  # unit, time, group, y (+ controls), sorted
    targeted: np.ndarray  # bool per row
    dropped: list[str]
    groups: list[Any]
    exposed: list[Any]


def _long_data(
    design: TreatmentDesign,
    data: pd.DataFrame,
    outcome: str,
    third: str,
    exposed: Any,
    controls: Sequence[str],
    cluster: str | None,
) -> _Long:
    if not isinstance(data, pd.DataFrame):
        raise SpecError(
            "data must be a pandas DataFrame in long form (unit, time, group, outcome); got "
            f"{type(data).__name__}."
        )
    unit, time = design.unit, design.time
    needed = [unit, time, third, outcome, *controls, *([cluster] if cluster else [])]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise DataError(
            f"data lacks column(s) {format_examples(missing)} (needs the design's unit "
            f"{unit!r} and time {time!r}, the group column {third!r}, the outcome and any "
            f"controls); columns present: {format_examples(list(data.columns), limit=12)}."
        )
    frame = data[list(dict.fromkeys(needed))].copy()
    dup = frame.duplicated([unit, time, third], keep=False)
    if dup.any():
        keys = frame.loc[dup, [unit, time, third]].drop_duplicates().head(5)
        raise DataError(
            f"data has {int(dup.sum())} rows with a repeated (unit, time, {third}) key, e.g. "
            f"{format_examples(list(keys.itertuples(index=False, name=None)))}. Fix: "
            "aggregate to one row per unit, period and group."
        )
    for c in [outcome, *controls]:
        v = frame[c]
        if not pd.api.types.is_numeric_dtype(v) or pd.api.types.is_bool_dtype(v):
            raise DataError(f"column {c!r} must be numeric; it has dtype {v.dtype}.")
        bad = v.isna().to_numpy()
        if bad.any():
            keys = frame.loc[bad, [unit, time, third]].head(5)
            raise DataError(
                f"column {c!r} has {int(bad.sum())} missing values, e.g. (unit, time, "
                f"{third}) {format_examples(list(keys.itertuples(index=False, name=None)))}. "
                "Nothing is dropped silently. Fix: drop or fill those rows explicitly."
            )
    dropped: list[str] = []
    in_design = frame[unit].isin(design.units).to_numpy()
    if not in_design.all():
        out_units = frame.loc[~in_design, unit].unique()
        dropped.append(
            f"{int((~in_design).sum())} rows of {len(out_units)} units not in the design "
            f"(dropped by its coding/balance rules or absent from its panel), e.g. "
            f"{format_examples(list(out_units))}"
        )
        frame = frame.loc[in_design]
    t = frame[time]
    bad_t = ~t.isin(design.times)
    if bad_t.any():
        raise DataError(
            f"data has periods outside the design's window ({design.times[0]}–"
            f"{design.times[-1]}): {format_examples(sorted(t[bad_t].unique().tolist()))}. "
            "Fix: restrict data to the design's periods."
        )
    groups = sorted(frame[third].dropna().unique().tolist(), key=str)
    if frame[third].isna().any():
        raise DataError(f"group column {third!r} has missing values.")
    wanted = list(exposed) if isinstance(exposed, (list, tuple, set)) else [exposed]
    unknown = [g for g in wanted if g not in groups]
    if unknown:
        raise SpecError(
            f"targeted group(s) {format_examples(unknown)} not found in {third!r}; its values "
            f"are {format_examples(groups)}."
        )
    if len(set(wanted)) == len(groups):
        raise SpecError(
            f"every value of {third!r} is listed as targeted; DDD needs at least one "
            "untargeted comparison group."
        )
    frame = frame.sort_values([unit, third, time], kind="mergesort").reset_index(drop=True)
    return _Long(
        frame=frame,
        targeted=frame[third].isin(wanted).to_numpy(),
        dropped=dropped,
        groups=groups,
        exposed=wanted,
    )


def difference_panel(
    design: TreatmentDesign,
    data: pd.DataFrame,
    outcome: str,
    *,
    third: str,
    exposed: Any,
) -> Panel:
    r"""Within-unit difference :math:`\Delta y_{it} = \bar y_{it}^{H} - \bar y_{it}^{O}` as a Panel.

    :math:`\bar y^H` is the mean outcome over the targeted groups and :math:`\bar y^O`
    over the other groups of unit *i* in period *t*. The panel has the design's unit and
    time columns, ``ddd_diff`` and ``cohort`` (the design's cohorts).

    Raises
    ------
    DataError
        When a unit-period lacks a targeted or an untargeted group (keys named).
    """
    long = _long_data(design, data, outcome, third, exposed, (), None)
    f = long.frame
    unit, time = design.unit, design.time
    f = f.assign(_side=np.where(long.targeted, "targeted", "other"))
    means = f.groupby([unit, time, "_side"], sort=True)[outcome].mean().unstack("_side")
    means = means.reindex(columns=["targeted", "other"])
    gap = means.isna().any(axis=1)
    if gap.any():
        keys = list(means.index[gap.to_numpy()][:5])
        raise DataError(
            f"{int(gap.sum())} (unit, time) cells lack a targeted or an untargeted group, e.g. "
            f"{format_examples(keys)}; the within-unit difference is undefined there. Fix: "
            "complete or drop those cells explicitly."
        )
    diff = (means["targeted"] - means["other"]).rename("ddd_diff").reset_index()
    diff["cohort"] = design.cohorts.reindex(diff[unit]).to_numpy(dtype=np.int64)
    return Panel(
        diff,
        unit=unit,
        time=time,
        numeric=["ddd_diff", "cohort"],
        provenance=(
            f"triple differences: mean {outcome!r} of targeted groups {long.exposed!r} minus "
            f"the mean of the other values of {third!r}",
        ),
    )


# ---------------------------------------------------------------------- estimator
def triple_differences(
    design: TreatmentDesign,
    outcome: str,
    *,
    third: str,
    data: pd.DataFrame,
    exposed: Any,
    estimator: str = "twfe",
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    window: tuple[int, int] | None = None,
    **options: Any,
) -> DIDResult:
    r"""Triple-difference (DDD) estimate of a staggered policy aimed at one group within units.

    Parameters
    ----------
    design : TreatmentDesign
        Unit-level design (cohorts :math:`g_i`) from :func:`agglomera.policy.design`.
    outcome : str
        Outcome column of ``data``.
    third : str
        Column of ``data`` with the third dimension (e.g. sector).
    data : pandas.DataFrame
        Long data: the design's unit and time columns, ``third``, the outcome (and
        controls); one row per (unit, period, group). Rows of units that are not in the
        design are dropped and recorded in ``meta["dropped"]``.
    exposed : value or list of values
        The value(s) of ``third`` targeted by the policy (:math:`H_s = 1`); every other
        value is a within-unit comparison group.
    estimator : {"twfe", "event_study", "cs", "sa", "bjs"}, default "twfe"
        ``"twfe"``: the fully interacted regression above, :math:`\hat\beta` reported as
        ``att``. ``"event_study"``: :math:`\sum_{e \ne r}\beta_e 1[t - g_i = e] H_s` in place
        of :math:`\beta D_{it}H_s` (:math:`r = -1 - \text{anticipation}`), ``att`` = mean of
        :math:`\beta_e, e \ge 0`. ``"cs"``, ``"sa"``, ``"bjs"``: heterogeneity-robust DDD
        computed as the DID of the within-unit difference :math:`\Delta y_{it} = \bar
        y^H_{it} - \bar y^O_{it}` (:func:`difference_panel`) with
        :func:`agglomera.policy.estimate` (Callaway–Sant'Anna, Sun–Abraham, or the BJS
        imputation estimator).
    controls : sequence of str, default ()
        Covariates at the unit × group × period level (TWFE forms only).
    cluster : str, optional
        Cluster column of ``data`` (default: the unit).
    alpha : float, default 0.05
        One minus the confidence level.
    window : tuple of int, optional
        ``(-k, m)``: bin event times in the event-study form (as in
        :func:`agglomera.policy.estimate`).
    **options
        Passed to :func:`agglomera.policy.estimate` for the robust estimators
        (``control_group``, ``aggregate``, ``method``, ``base_period``, ``bootstrap``,
        ``seed``, ``window`` …).

    Returns
    -------
    DIDResult
        ``meta`` records the estimator, formula, groups, targeted groups, numbers of
        units/groups/rows, the design's drops and the rows dropped here.

    Notes
    -----
    **When the TWFE DDD is biased.** With two groups and a balanced panel, the TWFE DDD
    coefficient equals the static TWFE DID coefficient of the within-unit difference
    :math:`\Delta y_{it}` (the unit×period effects remove everything common to the
    groups). It therefore inherits every problem of staggered TWFE: :math:`\hat\beta` is a
    variance-weighted average of 2×2 comparisons that include already-treated units as
    controls, so when the DDD effect differs across cohorts or changes with time since
    treatment it can be far from any average effect, even of the wrong sign
    (Goodman-Bacon 2021; de Chaisemartin and D'Haultfœuille 2020; for DDD,
    Strezhnev 2023). The event-study form is contaminated the same way (Sun and Abraham
    2021). ``estimator="cs"`` (or ``"sa"``, ``"bjs"``) avoids the forbidden comparisons
    by applying the heterogeneity-robust estimator to :math:`\Delta y_{it}`; with more than
    two groups the difference uses group means (equal weights within each side), which
    the TWFE DDD does not, so the two then differ in weighting as well.

    References
    ----------
    Olden, A., Møen, J. (2022). The triple difference estimator. *The Econometrics
    Journal* 25(3), 531–553.
    Strezhnev, A. (2023). Decomposing triple-differences regression under staggered
    adoption. arXiv:2307.02735.
    Gruber, J. (1994). The incidence of mandated maternity benefits. *American Economic
    Review* 84(3), 622–641.
    """
    if not isinstance(design, TreatmentDesign):
        raise SpecError(
            f"triple_differences() needs a TreatmentDesign; got {type(design).__name__}."
        )
    check_choice("estimator", estimator, DDD_ESTIMATORS)
    if not isinstance(third, str):
        raise SpecError(f"third must be a column name; got {third!r}.")
    if isinstance(controls, str):
        controls = (controls,)
    controls = tuple(controls)
    if estimator in ("cs", "sa", "bjs"):
        if controls:
            raise SpecError(
                f"controls are not available for estimator={estimator!r} on the within-unit "
                "difference (they vary by group); use estimator='twfe' or 'event_study', or "
                "difference the controls yourself and call agglomera.policy.estimate."
            )
        if cluster is not None:
            raise SpecError(
                f"cluster is not available for estimator={estimator!r}: the within-unit "
                "difference has one row per unit and period and is clustered by unit."
            )
        return _robust(design, data, outcome, third, exposed, estimator, alpha, window, options)
    if options:
        raise SpecError(
            f"estimator={estimator!r} does not take option(s) {format_examples(sorted(options))}."
        )
    return _twfe(design, data, outcome, third, exposed, estimator, controls, cluster, alpha, window)


def _robust(
    design: TreatmentDesign,
    data: pd.DataFrame,
    outcome: str,
    third: str,
    exposed: Any,
    estimator: str,
    alpha: float,
    window: tuple[int, int] | None,
    options: dict[str, Any],
) -> DIDResult:
    from agglomera.policy.estimation import estimate

    panel = difference_panel(design, data, outcome, third=third, exposed=exposed)
    d2 = derived_design(design, panel, "cohort")
    if window is not None:
        options = {**options, "window": window}
    result = estimate(d2, "ddd_diff", estimator=estimator, alpha=alpha, **options)
    long = _long_data(design, data, outcome, third, exposed, (), None)
    meta = result.meta
    meta["estimator"] = f"ddd_{estimator}"
    meta["estimator_label"] = (
        f"Triple differences: {meta.get('estimator_label', estimator)} on the within-unit "
        "difference (targeted minus other groups)"
    )
    meta["outcome"] = outcome
    meta["ddd"] = {
        "third": third,
        "groups": long.groups,
        "exposed": long.exposed,
        "difference": "mean over targeted groups minus mean over the other groups",
        "n_rows_long": len(long.frame),
    }
    meta["dropped"] = [*long.dropped, *meta.get("dropped", [])]
    return result


def _twfe(
    design: TreatmentDesign,
    data: pd.DataFrame,
    outcome: str,
    third: str,
    exposed: Any,
    estimator: str,
    controls: Sequence[str],
    cluster: str | None,
    alpha: float,
    window: tuple[int, int] | None,
) -> DIDResult:
    long = _long_data(design, data, outcome, third, exposed, controls, cluster)
    f = long.frame
    unit, time = design.unit, design.time
    u_id = pd.factorize(f[unit], sort=True)[0]
    s_id = pd.factorize(f[third].astype(str), sort=True)[0]
    t_id = pd.factorize(f[time], sort=True)[0]
    n_t = int(t_id.max()) + 1
    n_s = int(s_id.max()) + 1
    frame = pd.DataFrame(
        {
            "y": f[outcome].to_numpy(dtype=float),
            "us_id": u_id * n_s + s_id,
            "st_id": s_id * n_t + t_id,
            "ut_id": u_id * n_t + t_id,
            "cl_id": cluster_ids(f[cluster or unit], cluster or unit, f[[unit, time, third]]),
        }
    )
    g = design.cohorts.reindex(f[unit]).to_numpy(dtype=np.int64)
    tt = f[time].to_numpy(dtype=np.int64)
    h = long.targeted.astype(float)
    x_names = []
    for j, c in enumerate(controls):
        frame[f"x_{j}"] = f[c].to_numpy(dtype=float)
        x_names.append(f"x_{j}")
    fixef = ["us_id", "st_id", "ut_id"]
    base_meta: dict[str, Any] = {
        "outcome": outcome,
        "alpha": alpha,
        "balance": design.balance,
        "rule": design.rule,
        "anticipation": design.anticipation,
        "n_units": int(pd.Series(u_id).nunique()),
        "n_groups": n_s,
        "ddd": {"third": third, "groups": long.groups, "exposed": long.exposed},
        "engine": "pyfixest.feols",
        "dropped": [*design.meta.get("dropped", []), *long.dropped],
        "n_dropped_units": design.meta.get("n_dropped_units", 0),
    }
    if estimator == "twfe":
        frame["ddd"] = ((g > 0) & (tt >= g)).astype(float) * h
        fit = fit_fixed_effects(frame, ["ddd", *x_names], fixef, "cl_id")
        if "ddd" not in fit.names:
            raise EstimationError("the DDD indicator is collinear with the fixed effects.")
        k = fit.names.index("ddd")
        meta = fit_meta(base_meta, fit, _conventions(cluster or unit, controls))
        meta.update(estimator="ddd_twfe", estimator_label="Triple differences (TWFE DDD)")
        meta["aggregate"] = "simple"
        return did_result(float(fit.coef[k]), sqrt_var(fit.vcov[k, k]), alpha=alpha, meta=meta)

    ref = -1 - design.anticipation
    rel = bin_event_time(np.where(g > 0, (tt - g).astype(float), np.nan), window, ref)
    levels = sorted({int(e) for e in rel[~np.isnan(rel)]} - {ref})
    extra_ref: list[int] = []
    if not (design.cohorts == 0).any() and levels and window is None:
        extra_ref = [levels[0]]
        levels = levels[1:]
    names = [ev_name(e) for e in levels]
    for e, nm in zip(levels, names, strict=True):
        frame[nm] = (rel == e).astype(float) * h
    fit = fit_fixed_effects(frame, [*names, *x_names], fixef, "cl_id")
    ev = event_study_fit(fit, levels, names, rel, u_id, ref, alpha)
    meta = fit_meta(base_meta, fit, _conventions(cluster or unit, controls))
    meta.update(
        estimator="ddd_event_study",
        estimator_label="Triple differences, event study (TWFE DDD)",
        aggregate="dynamic",
        collinear=ev.collinear,
        coefficients=dict(zip(ev.levels, ev.beta.tolist(), strict=True)),
    )
    meta["conventions"].update(
        reference_period=ref,
        extra_reference_period=extra_ref[0] if extra_ref else "none",
        window="none" if window is None else f"{window}: endpoints binned",
        att="mean of the post-treatment coefficients e >= 0",
    )
    return ev.result(alpha, meta)


def _conventions(cluster: str, controls: Iterable[str]) -> dict[str, Any]:
    return {
        "fixed_effects": "unit x group, group x time, unit x time",
        "cluster": cluster,
        "small_sample_correction": _SSC_TEXT,
        "controls": ", ".join(controls) or "none",
    }
