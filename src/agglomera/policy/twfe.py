r"""TWFE, the dynamic TWFE event study and Sun–Abraham's saturated regression, via pyfixest.

All three are least-squares regressions with unit and period fixed effects,

.. math:: y_{it} = \alpha_i + \lambda_t + X_{it}'\gamma + (\text{treatment terms}) +
          \varepsilon_{it},

estimated with :func:`pyfixest.feols` and cluster-robust (CRV1) standard errors, by unit
unless another ``cluster`` column is given.

Small-sample correction (passed explicitly, never left to pyfixest's default)
    :data:`SSC_CONVENTION`: ``pyfixest.ssc(k_adj=True, k_fixef="nonnested", G_adj=True,
    G_df="min")``, i.e. :math:`V = \frac{G}{G-1}\frac{N-1}{N-K} V_0` with :math:`K` the
    number of slope coefficients plus the fixed-effect parameters that are *not* nested in
    the clusters (a fixed effect nested in the clusters counts one, for the intercept it
    absorbs). With unit fixed effects and clusters by unit, :math:`K = k + T`. This is R
    fixest's default (``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)``) and
    Stata ``reghdfe, vce(cluster unit)``'s. After each fit the factor pyfixest applied is
    checked against this formula and the covariance rescaled if they differ (recorded in
    ``meta["ssc_rescaled"]``): in one process, importing diff-diff changed pyfixest 0.60's
    clustered SE as if the fixed effects were no longer counted.

Formula strings are built here with single spaces (pyfixest 0.60 gave different
clustered SEs when only whitespace changed) and use internal column names, so any column
name is safe.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, EstimationError, SpecError, format_examples
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import (
    did_result,
    event_study_frame,
    wald_test,
)
from agglomera.policy.results import DIDResult

__all__ = [
    "SSC_CONVENTION",
    "bin_event_time",
    "estimate_event_study",
    "estimate_sa",
    "estimate_twfe",
    "ev_name",
    "fit_meta",
    "normalise_formula",
    "small_sample_factor",
]

#: The small-sample correction passed to pyfixest (see the module docstring).
SSC_CONVENTION: dict[str, Any] = {
    "k_adj": True,
    "k_fixef": "nonnested",
    "G_adj": True,
    "G_df": "min",
}
_SSC_TEXT = (
    "CRV1, G/(G-1)*(N-1)/(N-K), K = slopes + fixed effects not nested in the clusters "
    "(+1 per nested fixed effect) = R fixest default = Stata reghdfe vce(cluster); "
    "pyfixest.ssc(k_adj=True, k_fixef='nonnested', G_adj=True, G_df='min')"
)


# ---------------------------------------------------------------------- public estimators
def estimate_twfe(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: str = "simple",
) -> DIDResult:
    r"""Estimate the static TWFE DID :math:`y_{it} = \alpha_i + \lambda_t + \beta D_{it}`.

    Parameters
    ----------
    design : TreatmentDesign
        Treatment design; :math:`D_{it} = 1[g_i > 0, t \ge g_i]`
        (:meth:`~TreatmentDesign.treated`).
    outcome : str
        Outcome column.
    controls : sequence of str, default ()
        Covariates added linearly.
    cluster : str, optional
        Cluster column (default: the unit).
    alpha : float, default 0.05
        One minus the confidence level.
    aggregate : {"simple"}, default "simple"
        TWFE reports its single coefficient; other aggregations are not defined.

    Returns
    -------
    DIDResult
        ``att`` = :math:`\hat\beta`; ``event_study`` and ``attgt`` empty.

    Notes
    -----
    With staggered adoption :math:`\hat\beta` is a variance-weighted average of all 2×2
    DIDs, including "forbidden" ones that use already-treated units as controls
    (Goodman-Bacon 2021); when effects grow with exposure those comparisons pull it
    towards zero or beyond, and some ATT(g, t) receive negative weights
    (de Chaisemartin and D'Haultfœuille 2020). Use it as the benchmark reviewers expect,
    next to a heterogeneity-robust estimator.

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment
    timing. *Journal of Econometrics* 225(2), 254–277.
    de Chaisemartin, C., D'Haultfœuille, X. (2020). *American Economic Review* 110(9),
    2964–2996.
    """
    if aggregate != "simple":
        raise SpecError(
            f"aggregate={aggregate!r} is not defined for estimator='twfe' (one coefficient); "
            "allowed: 'simple'. Use estimator='event_study', 'sa' or 'cs' for dynamic effects."
        )
    data = _prepare(design, outcome, controls, cluster)
    frame = data.frame
    frame["treat_d"] = design.treated().to_numpy(dtype=float)[data.rows]
    fit = _fit(["treat_d", *data.x_names], frame)
    if "treat_d" not in fit.names:
        raise EstimationError(
            "the treatment indicator is collinear with the fixed effects (and controls); "
            "TWFE is not identified on this design."
        )
    att = float(fit.coef[fit.names.index("treat_d")])
    se = sqrt_var(fit.vcov[fit.names.index("treat_d"), fit.names.index("treat_d")])
    meta = _meta(design, outcome, data, fit, "twfe", "Two-way fixed effects (TWFE)", alpha)
    meta["aggregate"] = "simple"
    return did_result(
        att,
        se,
        alpha=alpha,
        meta=meta,
    )


def estimate_event_study(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: str = "dynamic",
    window: tuple[int, int] | None = None,
) -> DIDResult:
    r"""Dynamic TWFE event study with relative-time dummies.

    .. math:: y_{it} = \alpha_i + \lambda_t + \sum_{e \ne r} \beta_e\,1[t - g_i = e]
              + \varepsilon_{it},\qquad r = -1 - \text{anticipation},

    never-treated units having all dummies zero.

    Parameters
    ----------
    design : TreatmentDesign
        Treatment design.
    outcome : str
        Outcome column.
    controls : sequence of str, default ()
        Covariates added linearly.
    cluster : str, optional
        Cluster column (default: the unit).
    alpha : float, default 0.05
        One minus the confidence level.
    aggregate : {"dynamic", "simple"}, default "dynamic"
        ``att`` is the equally weighted mean of the post-treatment coefficients
        :math:`\beta_e, e \ge 0` (``"dynamic"``), or their mean weighted by the number of
        treated observations at each :math:`e` (``"simple"``).
    window : tuple of int, optional
        ``(-k, m)`` with :math:`k \ge 1, m \ge 0`: event times :math:`e \le -k` share one
        dummy (labelled :math:`-k`) and :math:`e \ge m` share one (labelled :math:`m`);
        the binned endpoints average over all the event times they contain. Default: one
        dummy per observed event time.

    Returns
    -------
    DIDResult
        ``event_study`` has one row per estimated :math:`e` (the reference period is
        omitted); ``pretrend_pvalue`` is the joint Wald test of all leads
        :math:`e < r`; the anticipation periods :math:`r < e < 0` are neither leads nor
        part of ``att``.

    Notes
    -----
    Without never-treated units the full set of relative-time dummies is collinear with
    the unit and period effects (a linear trend in :math:`t - g_i`); the most negative
    event time is then omitted as well (Borusyak, Jaravel and Spiess 2024), recorded in
    ``meta["conventions"]``. Under heterogeneous effects the lead and lag coefficients are
    contaminated by other periods' effects (Sun and Abraham 2021); see
    :func:`estimate_sa`.

    References
    ----------
    Sun, L., Abraham, S. (2021). *Journal of Econometrics* 225(2), 175–199.
    """
    if aggregate not in ("dynamic", "simple"):
        raise SpecError(
            f"aggregate={aggregate!r} is not defined for estimator='event_study'; allowed: "
            "'dynamic', 'simple'."
        )
    data = _prepare(design, outcome, controls, cluster)
    frame = data.frame
    ref = -1 - design.anticipation
    rel = bin_event_time(design.event_time().to_numpy(dtype=float)[data.rows], window, ref)
    levels = sorted({int(e) for e in rel[~np.isnan(rel)]} - {ref})
    extra_ref: list[int] = []
    if not (design.cohorts == 0).any() and levels and window is None:
        extra_ref = [levels[0]]
        levels = levels[1:]
    names = [ev_name(e) for e in levels]
    for e, name in zip(levels, names, strict=True):
        frame[name] = (rel == e).astype(float)
    fit = _fit([*names, *data.x_names], frame)
    ev = event_study_fit(
        fit,
        levels,
        names,
        rel,
        frame["unit_id"].to_numpy(),
        ref,
        alpha,
        obs_weighted=aggregate == "simple",
    )
    if ev.collinear:
        warnings.warn(
            f"event-time dummies {ev.collinear} are collinear with the fixed effects and were "
            "dropped (they join the reference period); recorded in meta['collinear']. "
            "Consider window=(-k, m) to bin the sparse endpoints.",
            UserWarning,
            stacklevel=3,
        )
    meta = _meta(
        design, outcome, data, fit, "event_study", "TWFE event study (dynamic TWFE)", alpha
    )
    meta["aggregate"] = aggregate
    meta["conventions"].update(
        reference_period=ref,
        window="none (one dummy per event time)"
        if window is None
        else f"{window}: endpoints binned",
        extra_reference_period=extra_ref[0] if extra_ref else "none",
        att=(
            "mean of the post-treatment coefficients e >= 0"
            if aggregate == "dynamic"
            else "mean of the post-treatment coefficients weighted by treated observations"
        ),
    )
    meta["collinear"] = ev.collinear
    meta["coefficients"] = dict(zip(ev.levels, ev.beta.tolist(), strict=True))
    meta["event_study_vcov"] = ev.vcov
    meta["pretrend_rel_times"] = [int(e) for e in ev.levels if e < ref]
    return ev.result(alpha, meta)


def estimate_sa(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    control_group: str = "never",
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: str = "dynamic",
    window: tuple[int, int] | None = None,
    engine: str = "auto",
) -> DIDResult:
    """Sun–Abraham interaction-weighted event study: :func:`agglomera.policy.sa.estimate_sa`.

    Kept here so that ``twfe.estimate_sa`` stays importable; the arguments and the result
    are documented in :mod:`agglomera.policy.sa`.
    """
    from agglomera.policy.sa import estimate_sa as _estimate_sa

    return _estimate_sa(
        design,
        outcome,
        controls=controls,
        control_group=control_group,
        cluster=cluster,
        alpha=alpha,
        aggregate=aggregate,
        window=window,
        engine=engine,
    )


# ---------------------------------------------------------------------- pyfixest plumbing
def normalise_formula(formula: str) -> str:
    """Collapse all whitespace in a formula to single spaces (pyfixest 0.60 is sensitive).

    Parameters
    ----------
    formula : str
        A pyfixest formula.

    Returns
    -------
    str
        The formula with runs of whitespace replaced by one space and no padding.
    """
    return " ".join(formula.split())


def small_sample_factor(
    n_obs: int, n_clusters: int, n_coef: int, fe_levels: Sequence[int], fe_nested: Sequence[bool]
) -> float:
    r"""Cluster small-sample factor :math:`\frac{G}{G-1}\frac{N-1}{N-K}` of :data:`SSC_CONVENTION`.

    Parameters
    ----------
    n_obs : int
        Observations :math:`N`.
    n_clusters : int
        Clusters :math:`G`.
    n_coef : int
        Slope coefficients :math:`k`.
    fe_levels : sequence of int
        Levels of each fixed effect.
    fe_nested : sequence of bool
        Whether each fixed effect is nested in the clusters.

    Returns
    -------
    float
        The factor, with :math:`K = k + \sum_f L_f - (F - 1) - \sum_{f\ nested} (L_f - 1)`
        (fixest's ``fixef.K = "nested"``; for unit and period effects with clusters by
        unit, :math:`K = k + T`).
    """
    n_fe = len(fe_levels)
    k_fe = sum(fe_levels) - (n_fe - 1 if n_fe > 1 else 0)
    nested_levels = sum(lv for lv, nest in zip(fe_levels, fe_nested, strict=True) if nest)
    n_nested = sum(bool(x) for x in fe_nested)
    k = n_coef + k_fe - nested_levels + n_nested
    return (n_clusters / (n_clusters - 1)) * ((n_obs - 1) / (n_obs - k))


@dataclass
class _Prepared:
    frame: pd.DataFrame
    rows: np.ndarray  # positions in design.panel.to_frame() kept
    x_names: list[str]
    cluster: str
    dropped: list[str]
    controls: list[str]


@dataclass
class FEFit:
    """Coefficients and clustered covariance of a pyfixest fit (internal)."""

    names: list[str]
    coef: np.ndarray
    vcov: np.ndarray
    n_obs: int
    n_clusters: int
    ssc: float
    ssc_rescaled: bool
    formula: str


def _prepare(
    design: TreatmentDesign,
    outcome: str,
    controls: Sequence[str],
    cluster: str | None,
    *,
    where: np.ndarray | None = None,
) -> _Prepared:
    frame = design.panel.to_frame()
    y = design.outcome_matrix(outcome)  # validates the outcome column
    del y
    values = frame[outcome].to_numpy(dtype=float)
    keep = ~np.isnan(values)
    if where is not None:
        keep &= where
    dropped: list[str] = []
    miss = np.isnan(values)
    if miss.any():
        units = frame.loc[miss, design.unit].unique()
        dropped.append(
            f"{int(miss.sum())} rows with missing {outcome!r} ({len(units)} units, e.g. "
            f"{format_examples(list(units))}) left out of the regression"
        )
    cluster_name = design.unit if cluster is None else cluster
    if cluster_name not in frame.columns:
        raise DataError(f"cluster column {cluster_name!r} not found.")
    out = pd.DataFrame(
        {
            "y": values,
            "unit_id": pd.factorize(frame[design.unit], sort=True)[0],
            "time_id": frame[design.time].to_numpy(dtype=np.int64),
            "cl_id": pd.factorize(frame[cluster_name], sort=True)[0],
        }
    )
    x_names: list[str] = []
    if controls:
        cov = design.covariate_frame(controls)
        for j, c in enumerate(controls):
            name = f"x_{j}"
            out[name] = cov[c].to_numpy(dtype=float)
            x_names.append(name)
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        raise EstimationError(f"no rows with a non-missing {outcome!r} to estimate on.")
    return _Prepared(
        frame=out.iloc[rows].reset_index(drop=True),
        rows=rows,
        x_names=x_names,
        cluster=cluster_name,
        dropped=dropped,
        controls=list(controls),
    )


def fit_fixed_effects(
    frame: pd.DataFrame, regressors: Sequence[str], fixef: Sequence[str], cluster: str
) -> FEFit:
    """Fit ``y ~ regressors | fixef`` with CRV1 by ``cluster`` (integer id columns).

    The small-sample factor is the one of :data:`SSC_CONVENTION`; after the fit the
    factor pyfixest applied is compared with :func:`small_sample_factor` and the
    covariance rescaled if they differ (recorded as ``ssc_rescaled``).
    """
    import pyfixest as pf

    if not regressors:
        raise EstimationError("no regressors to estimate (no treatment variation).")
    formula = normalise_formula(f"y ~ {' + '.join(regressors)} | {' + '.join(fixef)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        # collinear regressors are reported in meta (collinear / collinear_controls)
        warnings.filterwarnings("ignore", message="(?s).*multicollinearity", category=UserWarning)
        warnings.filterwarnings("ignore", message="(?s).*invalid value", category=RuntimeWarning)
        fit = pf.feols(formula, data=frame, vcov={"CRV1": cluster}, ssc=pf.ssc(**SSC_CONVENTION))
        names = [str(n) for n in fit._coefnames]
        coef = np.asarray(fit.coef().reindex(names).to_numpy(), dtype=float)
        vcov = np.asarray(fit._vcov, dtype=float).reshape(len(names), len(names))
    n_obs = int(fit._N)
    if n_obs != len(frame):  # pragma: no cover - pyfixest dropped rows (singletons)
        raise EstimationError(
            f"pyfixest used {n_obs} of {len(frame)} rows (singleton fixed effects?); "
            "agglomera does not drop rows silently."
        )
    n_cl = int(frame[cluster].nunique())
    levels = [int(frame[f].nunique()) for f in fixef]
    nested = [bool(frame.groupby(f)[cluster].nunique().max() == 1) for f in fixef]
    expected = small_sample_factor(n_obs, n_cl, len(names), levels, nested)
    reported = float(np.asarray(getattr(fit, "_ssc", np.nan), dtype=float).ravel()[0])
    rescaled = False
    if math.isfinite(reported) and abs(reported / expected - 1.0) > 1e-12:
        vcov = vcov * (expected / reported)
        rescaled = True
    return FEFit(names, coef, vcov, n_obs, n_cl, expected, rescaled, formula)


def _fit(regressors: Sequence[str], frame: pd.DataFrame) -> FEFit:
    """Fit with unit and period fixed effects, clusters ``cl_id`` (a :func:`_prepare` frame)."""
    return fit_fixed_effects(frame, regressors, ["unit_id", "time_id"], "cl_id")


def sqrt_var(values: Any) -> Any:
    """Return square roots of variances; rounding-level negatives become 0, others NaN.

    Rounding-level negatives occur e.g. for a one-unit cohort's exactly fitted cells under
    clustering.
    """
    arr = np.asarray(values, dtype=float)
    scale = max(float(np.nanmax(np.abs(arr))) if arr.size else 0.0, 1e-300)
    arr = np.where((arr < 0) & (arr > -1e-10 * scale), 0.0, arr)
    with np.errstate(invalid="ignore"):
        out = np.sqrt(arr)
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------- helpers
def bin_event_time(rel: np.ndarray, window: tuple[int, int] | None, ref: int) -> np.ndarray:
    """Return event times with those beyond ``window = (-k, m)`` binned into its endpoints.

    Checks that ``window`` is a pair of integers with ``-k < ref`` (the reference period
    stays estimable) and ``m >= 0``; NaN (never-treated rows) stays NaN. ``window=None``
    returns ``rel`` unchanged.
    """
    if window is None:
        return rel
    if (
        not isinstance(window, (tuple, list))
        or len(window) != 2
        or not all(isinstance(w, (int, np.integer)) for w in window)
    ):
        raise SpecError(f"window must be a pair of integers (-k, m); got {window!r}.")
    lo, hi = int(window[0]), int(window[1])
    if not (lo < ref and hi >= 0):
        raise SpecError(
            f"window={window!r} must satisfy -k < {ref} (the reference period) and m >= 0."
        )
    out = rel.copy()
    finite = ~np.isnan(out)
    out[finite] = np.clip(out[finite], lo, hi)
    return out


def _unbinned(cell_e: np.ndarray, window: tuple[int, int] | None) -> np.ndarray:
    if window is None:
        return np.ones(cell_e.size, dtype=bool)
    return (cell_e > int(window[0])) & (cell_e < int(window[1]))


def ev_name(e: int, prefix: str = "ev") -> str:
    """Regressor name of event time ``e`` (``ev_m2``, ``ev_p0``)."""
    return f"{prefix}_m{-e}" if e < 0 else f"{prefix}_p{e}"


def _sa_name(g: int, e: int) -> str:
    return f"sa_{g}_{ev_name(e)}"


def fit_meta(
    base: dict[str, Any],
    fit: FEFit,
    conventions: dict[str, Any],
    *,
    coefficient_names: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """Return result metadata: ``base``, then ``fields``, the fit's size/SE facts, conventions.

    Parameters
    ----------
    base : dict
        Design facts (outcome, alpha, balance, ...), copied first.
    fit : FEFit
        The fixed-effects fit.
    conventions : dict
        The conventions shown with the result (fixed effects, cluster, controls, ...).
    coefficient_names : bool, default False
        Also record the fit's regressor names.
    **fields
        Further entries (e.g. ``estimator``, ``estimator_label``), placed before the fit's.
    """
    meta = dict(base)
    meta.update(fields)
    meta.update(
        n_obs=fit.n_obs,
        n_clusters=fit.n_clusters,
        formula=fit.formula,
        small_sample_factor=fit.ssc,
        ssc_rescaled=fit.ssc_rescaled,
    )
    if coefficient_names:
        meta["coefficient_names"] = list(fit.names)
    meta["conventions"] = dict(conventions)
    return meta


@dataclass
class EventStudyFit:
    """Event-time coefficients of an :class:`FEFit` with their summaries (internal)."""

    levels: list[int]  # estimated event times
    collinear: list[int]  # event times whose dummy the fit dropped
    beta: np.ndarray
    vcov: np.ndarray
    frame: pd.DataFrame  # event_study_frame
    att: float
    se: float
    pretrend_pvalue: float

    def result(self, alpha: float, meta: dict[str, Any]) -> DIDResult:
        """Return the :class:`DIDResult` of the ATT with this event study and pre-trend test."""
        return did_result(
            self.att,
            self.se,
            alpha=alpha,
            event_study=self.frame,
            pretrend_pvalue=self.pretrend_pvalue,
            meta=meta,
        )


def event_study_fit(
    fit: FEFit,
    levels: Sequence[int],
    names: Sequence[str],
    rel: np.ndarray,
    unit_ids: np.ndarray,
    ref: int,
    alpha: float,
    *,
    obs_weighted: bool = False,
) -> EventStudyFit:
    r"""Coefficients of the event-time dummies ``names`` (event times ``levels``) in ``fit``.

    ``rel`` is the event time of each row (NaN outside the treated), ``unit_ids`` its unit.
    The ATT is the mean of the coefficients at event times >= 0 (weighted by the rows at
    each event time when ``obs_weighted``); the pre-trend p-value is the joint Wald test of
    the coefficients at event times before ``ref``.
    """
    est_levels = [e for e, nm in zip(levels, names, strict=True) if nm in fit.names]
    collinear = [e for e, nm in zip(levels, names, strict=True) if nm not in fit.names]
    idx = [fit.names.index(nm) for nm in names if nm in fit.names]
    beta, vcov = fit.coef[idx], fit.vcov[np.ix_(idx, idx)]
    n_units = [int(np.unique(unit_ids[rel == e]).size) for e in est_levels]
    es = event_study_frame(est_levels, beta, sqrt_var(np.diag(vcov)), n_units, alpha=alpha)
    lv = np.asarray(est_levels)
    n_obs = np.array([int((rel == e).sum()) for e in est_levels], dtype=float)
    att, se = _linear_combination(beta, vcov, lv >= 0, n_obs if obs_weighted else None)
    pre = lv < ref
    _, _, p_pre = wald_test(beta[pre], vcov[np.ix_(pre, pre)])
    return EventStudyFit(est_levels, collinear, beta, vcov, es, att, se, p_pre)


def _linear_combination(
    beta: np.ndarray, vcov: np.ndarray, mask: np.ndarray, weights: np.ndarray | None
) -> tuple[float, float]:
    if not mask.any():
        return (math.nan, math.nan)
    w = np.where(mask, 1.0 if weights is None else weights, 0.0).astype(float)
    w = w / w.sum()
    return (float(w @ beta), float(sqrt_var(w @ vcov @ w)))


def _meta(
    design: TreatmentDesign,
    outcome: str,
    data: _Prepared,
    fit: FEFit,
    estimator: str,
    label: str,
    alpha: float,
) -> dict[str, Any]:
    frame = data.frame
    return {
        "estimator": estimator,
        "estimator_label": label,
        "outcome": outcome,
        "alpha": alpha,
        "balance": design.balance,
        "rule": design.rule,
        "anticipation": design.anticipation,
        "n_units": int(frame["unit_id"].nunique()),
        "n_obs": fit.n_obs,
        "n_clusters": fit.n_clusters,
        "formula": fit.formula,
        "small_sample_factor": fit.ssc,
        "ssc_rescaled": fit.ssc_rescaled,
        "engine": "pyfixest.feols",
        "conventions": {
            "cluster": data.cluster,
            "small_sample_correction": _SSC_TEXT,
            "controls": ", ".join(data.controls) or "none",
        },
        "dropped": [*design.meta.get("dropped", []), *data.dropped],
        "collinear_controls": [
            c for c, x in zip(data.controls, data.x_names, strict=True) if x not in fit.names
        ],
        "n_dropped_units": design.meta.get("n_dropped_units", 0),
    }
