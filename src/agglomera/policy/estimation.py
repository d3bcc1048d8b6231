r"""One entry point for every DID estimator, shared argument checks and shared inference.

:func:`estimate` validates its arguments once and dispatches to the estimator modules:

==================  ======================================================  ======================
``estimator``       method                                                  module
==================  ======================================================  ======================
``"cs"``            Callaway and Sant'Anna (2021) group-time ATTs (own)     ``policy.cs``
``"sa"``            Sun and Abraham (2021) interaction-weighted             ``policy.sa``
``"bjs"``           Borusyak, Jaravel and Spiess (2024) imputation          ``policy.imputation``
``"twfe"``          static two-way fixed effects                            ``policy.twfe``
``"event_study"``   dynamic TWFE with relative-time dummies                 ``policy.twfe``
``"dcdh"``          de Chaisemartin and D'Haultfœuille, through moderndid    ``policy.dcdh``
==================  ======================================================  ======================

The helpers :func:`normal_ci`, :func:`normal_pvalue`, :func:`wald_test`,
:func:`event_study_frame`, :func:`attgt_frame` and :func:`cluster_codes` are shared by the
estimator modules so that every result computes confidence intervals, p-values and the
joint pre-trend test the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.errors import (
    DataError,
    SpecError,
    check_alpha,
    check_choice,
    check_int,
    format_examples,
)
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.results import ATTGT_COLUMNS, EVENT_STUDY_COLUMNS, DIDResult

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_PRETREND_TEST",
    "ESTIMATORS",
    "PRETREND_TESTS",
    "attgt_frame",
    "check_alpha",
    "check_choice",
    "check_int",
    "cluster_codes",
    "cluster_ids",
    "estimate",
    "event_study_frame",
    "normal_ci",
    "normal_pvalue",
    "pretrend_test_result",
    "sup_t_test",
    "wald_f_test",
    "wald_test",
]

#: Estimators known to :func:`estimate`.
ESTIMATORS: tuple[str, ...] = ("cs", "sa", "bjs", "twfe", "event_study", "dcdh")
#: Aggregations of group-time effects.
AGGREGATIONS: tuple[str, ...] = ("simple", "dynamic", "group", "calendar")
METHODS: tuple[str, ...] = ("dr", "ipw", "reg")
CONTROL_GROUPS: tuple[str, ...] = ("never", "notyet")
BASE_PERIODS: tuple[str, ...] = ("varying", "universal")
#: Joint pre-trend tests of :func:`estimate` (``pretrend_test``).
PRETREND_TESTS: tuple[str, ...] = ("bootstrap", "f", "wald")
#: Default pre-trend test: the only one near its nominal size in the null simulation.
DEFAULT_PRETREND_TEST = "bootstrap"
#: Number of draws of the sup-t pre-trend test when no bootstrap draws are stored.
PRETREND_DRAWS = 9999


def estimate(
    design: TreatmentDesign,
    outcome: str,
    *,
    estimator: str = "cs",
    controls: Sequence[str] = (),
    method: str = "dr",
    control_group: str = "never",
    base_period: str = "varying",
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: str = "simple",
    bootstrap: int = 0,
    seed: int | None = None,
    pretrend_test: str = DEFAULT_PRETREND_TEST,
    **options: Any,
) -> DIDResult:
    r"""Estimate the effect of a staggered treatment with the chosen DID estimator.

    Parameters
    ----------
    design : TreatmentDesign
        From :func:`agglomera.policy.design`: cohorts, sample and balance rule.
    outcome : str
        Numeric outcome column of ``design.panel``.
    estimator : {"cs", "sa", "bjs", "twfe", "event_study", "dcdh"}, default "cs"
        ``"cs"`` Callaway and Sant'Anna (2021); ``"sa"`` Sun and Abraham (2021);
        ``"bjs"`` Borusyak, Jaravel and Spiess (2024) imputation; ``"twfe"`` the static
        two-way fixed-effects regression :math:`y_{it} = \alpha_i + \lambda_t + \beta
        D_{it} + \varepsilon_{it}`; ``"event_study"`` its dynamic version with
        relative-time dummies. ``"dcdh"``: de Chaisemartin and D'Haultfœuille (2020, 2024)
        event-study estimators through moderndid 0.2.0 (optional extra ``dcdh``; balanced
        panels; comparisons are always not-yet switchers, so ``control_group`` is recorded
        as ignored).
    controls : sequence of str, default ()
        Numeric covariates (missing values are an error, never dropped silently).
    method : {"dr", "ipw", "reg"}, default "dr"
        CS only: doubly robust, inverse probability weighting or outcome regression.
    control_group : {"never", "notyet"}, default "never"
        CS (and BJS where it applies): never-treated or not-yet-treated comparison units.
        For ``"sa"`` the control cohort is ``"never"`` (never-treated units) or ``"last"``
        (the last-treated cohort, with the periods from its treatment on dropped).
    base_period : {"varying", "universal"}, default "varying"
        CS only: base period of pre-treatment ATT(g, t) (R ``did``'s ``base_period``).
    cluster : str, optional
        Column to cluster standard errors by; default the unit.
    alpha : float, default 0.05
        Confidence intervals have level :math:`1 - \alpha`.
    aggregate : {"simple", "dynamic", "group", "calendar"}, default "simple"
        Aggregation reported as ``att``/``se``. ``"dynamic"`` = the average of the
        post-treatment event-time effects :math:`e \ge 0`. TWFE reports its coefficient
        (``"simple"`` only); the TWFE event study and SA support ``"simple"`` and
        ``"dynamic"``.
    bootstrap : int, default 0
        Multiplier-bootstrap draws (CS); 0 = analytic standard errors.
    seed : int, optional
        Seed of the bootstrap (and of the draws of ``pretrend_test="bootstrap"``, seed 0
        when None, so that the default p-value is reproducible).
    pretrend_test : {"bootstrap", "f", "wald"}, default "bootstrap"
        Joint test that all pre-treatment event-time effects (leads) are zero, reported
        as ``pretrend_pvalue`` (details in ``meta["pretrend_test"]``; see
        :func:`pretrend_test_result`): ``"wald"`` :math:`W \sim \chi^2_k`; ``"f"``
        :math:`W/k \sim F(k, G-1)`; ``"bootstrap"`` the sup-t test
        :math:`\max_e |\hat\theta_e|/\widehat{se}_e` against simulated draws with a
        small-sample t scaling. The default is the only one of the three with a size
        near 5 % in the null simulation of ``docs/policy.md`` ("Pre-trend test").
        Not used by ``"twfe"`` (no leads); ``"bjs"`` keeps its own lead-regression
        :math:`F(K, G-1)` test (Borusyak et al. 2024, Test 1) and records other choices
        as ignored.
    **options
        Estimator-specific options, e.g. ``window=(-k, m)`` for ``"event_study"`` and
        ``"sa"`` (endpoints binned), passed on unchanged.

    Returns
    -------
    DIDResult
        ``meta`` records the estimator, conventions, balance rule, units and observations
        used, and every drop with its reason; arguments that the chosen estimator does
        not use are listed in ``meta["ignored"]``.

    Raises
    ------
    SpecError
        For an unknown estimator or an argument value that is not allowed (naming the
        argument, the value and the allowed values).
    DataError
        For a missing or non-numeric outcome, control or cluster column.

    Notes
    -----
    Why not TWFE alone: with staggered adoption and effects that differ across cohorts or
    grow with exposure, the TWFE coefficient is a weighted average of 2×2 comparisons some
    of which use already-treated units as controls, with possibly negative weights
    (de Chaisemartin and D'Haultfœuille 2020; Goodman-Bacon 2021); see
    :func:`agglomera.policy.bacon_decomposition`.

    References
    ----------
    Callaway, B., Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics* 225(2), 200–230.
    Sun, L., Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
    heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175–199.
    Borusyak, K., Jaravel, X., Spiess, J. (2024). Revisiting event-study designs: robust
    and efficient estimation. *Review of Economic Studies* 91(6), 3253–3285.
    de Chaisemartin, C., D'Haultfœuille, X. (2020). Two-way fixed effects estimators with
    heterogeneous treatment effects. *American Economic Review* 110(9), 2964–2996.
    """
    if not isinstance(design, TreatmentDesign):
        raise SpecError(
            f"estimate() needs a TreatmentDesign from agglomera.policy.design(...); got "
            f"{type(design).__name__}."
        )
    check_choice("estimator", estimator, ESTIMATORS)
    check_choice("aggregate", aggregate, AGGREGATIONS)
    check_choice("method", method, METHODS)
    allowed_cg = ("never", "last") if estimator == "sa" else CONTROL_GROUPS
    check_choice("control_group", control_group, allowed_cg)
    check_choice("base_period", base_period, BASE_PERIODS)
    check_choice("pretrend_test", pretrend_test, PRETREND_TESTS)
    alpha = check_alpha(alpha)
    bootstrap = check_int("bootstrap", bootstrap, minimum=0)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise SpecError(f"seed must be an integer or None; got {seed!r}.")
    controls = _check_controls(design, controls)
    _check_outcome(design, outcome)
    if cluster is not None:
        _check_column(design, cluster, "cluster")

    if estimator == "dcdh":
        from agglomera.policy.dcdh import estimate_dcdh

        if seed is not None and bootstrap:
            options.setdefault("random_state", seed)
        if bootstrap:
            options.setdefault("boot", True)
            options.setdefault("biters", bootstrap)
        ignored = _ignored(method=method, base_period=base_period)
        if control_group != "never":
            ignored["control_group"] = control_group
        dcdh_result = estimate_dcdh(
            design,
            outcome,
            controls=controls,
            cluster=cluster,
            alpha=alpha,
            aggregate=cast(Literal["simple", "dynamic"], aggregate),
            **options,
        )
        if ignored:
            dcdh_result.meta.setdefault("ignored", ignored)
        return pretrend_test_result(dcdh_result, pretrend_test, seed=seed)
    if estimator == "cs":
        from agglomera.policy.cs import estimate_cs  # type: ignore[import-not-found,unused-ignore]

        result: DIDResult = estimate_cs(
            design,
            outcome,
            controls=controls,
            method=cast(Literal["dr", "ipw", "reg"], method),
            control_group=cast(Literal["never", "notyet"], control_group),
            base_period=cast(Literal["varying", "universal"], base_period),
            cluster=cluster,
            alpha=alpha,
            aggregate=cast(Literal["simple", "dynamic", "group", "calendar"], aggregate),
            bootstrap=bootstrap,
            seed=seed,
            **options,
        )
        return pretrend_test_result(result, pretrend_test, seed=seed)
    if estimator == "bjs":
        from agglomera.policy.imputation import (  # type: ignore[import-not-found,unused-ignore]
            estimate_bjs,
        )

        ignored = _ignored(method=method, base_period=base_period, bootstrap=bootstrap)
        result = estimate_bjs(
            design,
            outcome,
            controls=controls,
            cluster=cluster,
            alpha=alpha,
            aggregate=aggregate,
            **options,
        )
        if pretrend_test not in ("f", DEFAULT_PRETREND_TEST):
            ignored["pretrend_test"] = pretrend_test
        if ignored:
            result.meta.setdefault("ignored", ignored)
        result.meta.setdefault(
            "pretrend_test",
            {"test": "f", "notes": ["BJS Test 1: leads in the untreated model, F(K, G-1)"]},
        )
        return result

    from agglomera.policy import twfe

    if bootstrap:
        raise SpecError(
            f"bootstrap={bootstrap} is not available for estimator={estimator!r} (analytic "
            "cluster-robust standard errors only). Use bootstrap=0."
        )
    allowed_options: tuple[str, ...] = ()
    if estimator == "sa":
        allowed_options = ("window", "engine")
    elif estimator != "twfe":
        allowed_options = ("window",)
    unknown = sorted(set(options) - set(allowed_options))
    if unknown:
        raise SpecError(
            f"estimator={estimator!r} does not take the option(s) {format_examples(unknown)}; "
            f"allowed options: {format_examples(allowed_options) or 'none'}."
        )
    ignored = _ignored(method=method, base_period=base_period)
    if estimator != "sa" and control_group != "never":
        ignored["control_group"] = control_group
    if estimator == "twfe":
        result = twfe.estimate_twfe(
            design,
            outcome,
            controls=controls,
            cluster=cluster,
            alpha=alpha,
            aggregate=aggregate,
            **options,
        )
    elif estimator == "event_study":
        result = twfe.estimate_event_study(
            design,
            outcome,
            controls=controls,
            cluster=cluster,
            alpha=alpha,
            aggregate=aggregate,
            **options,
        )
    else:
        result = twfe.estimate_sa(
            design,
            outcome,
            controls=controls,
            control_group=control_group,
            cluster=cluster,
            alpha=alpha,
            aggregate=aggregate,
            **options,
        )
    if ignored:
        result.meta["ignored"] = ignored
    if estimator == "twfe":
        return result
    return pretrend_test_result(result, pretrend_test, seed=seed)


# ---------------------------------------------------------------------- argument checks
def _check_column(design: TreatmentDesign, column: str, role: str) -> None:
    if not isinstance(column, str):
        raise SpecError(f"{role} must be a column name; got {column!r}.")
    if column not in design.panel:
        try:
            design.panel.column(column)
        except DataError as exc:
            raise DataError(f"{role}: {exc}") from None
    values = design.panel.column(column)
    if values.isna().any():
        raise DataError(
            f"{role} column {column!r} has {int(values.isna().sum())} missing values. Fix: "
            "fill them or drop those rows explicitly before building the design."
        )


def _check_outcome(design: TreatmentDesign, outcome: str) -> None:
    if not isinstance(outcome, str):
        raise SpecError(f"outcome must be a column name; got {outcome!r}.")
    design.outcome_matrix(outcome)  # raises DataError for missing/non-numeric columns


def _check_controls(design: TreatmentDesign, controls: Any) -> tuple[str, ...]:
    if controls is None:
        return ()
    if isinstance(controls, str):
        controls = (controls,)
    out = tuple(controls)
    bad = [c for c in out if not isinstance(c, str)]
    if bad:
        raise SpecError(f"controls must be column names; got {format_examples(bad)}.")
    if out:
        design.covariate_frame(out)  # raises DataError for missing columns / values
    return out


def _ignored(**kwargs: Any) -> dict[str, Any]:
    defaults = {"method": "dr", "base_period": "varying", "bootstrap": 0}
    return {k: v for k, v in kwargs.items() if v != defaults.get(k)}


# ---------------------------------------------------------------------- shared inference
def did_result(
    att: float,
    se: float,
    *,
    alpha: float,
    meta: dict[str, Any],
    event_study: pd.DataFrame | None = None,
    attgt: pd.DataFrame | None = None,
    pretrend_pvalue: float = math.nan,
) -> DIDResult:
    """Assemble a :class:`DIDResult` with the normal CI and p-value of ``att``.

    Missing tables become the empty event-study / ATT(g,t) frames with the standard columns.
    """
    return DIDResult(
        att=att,
        se=se,
        ci=normal_ci(att, se, alpha),
        pvalue=normal_pvalue(att, se),
        event_study=(
            event_study
            if event_study is not None
            else event_study_frame([], [], [], [], alpha=alpha)
        ),
        attgt=attgt if attgt is not None else attgt_frame(),
        pretrend_pvalue=float(pretrend_pvalue),
        meta=meta,
    )


def normal_ci(estimate: float, se: float, alpha: float = 0.05) -> tuple[float, float]:
    r"""Return the normal interval :math:`\hat\theta \pm z_{1-\alpha/2}\,\widehat{se}`.

    Parameters
    ----------
    estimate, se : float
        Point estimate and standard error.
    alpha : float, default 0.05
        One minus the confidence level.

    Returns
    -------
    tuple of float
        ``(low, high)``; NaN when the SE is not finite.
    """
    if not (math.isfinite(estimate) and math.isfinite(se)):
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return (float(estimate - z * se), float(estimate + z * se))


def normal_pvalue(estimate: float, se: float) -> float:
    r"""Return the two-sided normal p-value :math:`2\,(1 - \Phi(|\hat\theta / \widehat{se}|))`.

    Returns NaN when ``se`` is zero or not finite.
    """
    if not (math.isfinite(estimate) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2.0 * stats.norm.sf(abs(estimate / se)))


def wald_test(
    estimates: Sequence[float] | np.ndarray, cov: np.ndarray, *, rtol: float = 1e-10
) -> tuple[float, int, float]:
    r"""Joint Wald test that a vector of estimates is zero (e.g. all pre-trend leads).

    .. math:: W = \hat\theta^\top \hat V^{+} \hat\theta \sim \chi^2_{r},\qquad
              r = \operatorname{rank}(\hat V),

    with :math:`\hat V^{+}` the Moore–Penrose pseudo-inverse, so that a singular
    covariance (e.g. collinear leads) is handled by testing the identified directions.

    Parameters
    ----------
    estimates : array-like, shape (k,)
        Estimates.
    cov : numpy.ndarray, shape (k, k)
        Their covariance matrix.
    rtol : float, default 1e-10
        Relative cut-off for singular values in the pseudo-inverse and the rank.

    Returns
    -------
    tuple
        ``(statistic, df, pvalue)``; ``(nan, 0, nan)`` when there is nothing to test.
    """
    theta = np.asarray(estimates, dtype=float).ravel()
    v = np.asarray(cov, dtype=float).reshape(theta.size, theta.size)
    keep = np.isfinite(theta)
    theta, v = theta[keep], v[np.ix_(keep, keep)]
    if theta.size == 0 or not np.isfinite(v).all():
        return (math.nan, 0, math.nan)
    v = (v + v.T) / 2.0
    rank = int(np.linalg.matrix_rank(v, rtol=rtol)) if v.any() else 0
    if rank == 0:
        return (math.nan, 0, math.nan)
    stat = float(theta @ np.linalg.pinv(v, rcond=rtol, hermitian=True) @ theta)
    return (stat, rank, float(stats.chi2.sf(stat, rank)))


def wald_f_test(
    estimates: Sequence[float] | np.ndarray,
    cov: np.ndarray,
    n_clusters: int,
    *,
    rtol: float = 1e-10,
) -> tuple[float, int, int, float]:
    r"""F version of :func:`wald_test` for cluster-robust covariances.

    .. math:: F = W / r \sim F(r, G - 1),

    with :math:`W` and :math:`r` from :func:`wald_test` and :math:`G` the number of
    clusters (Stata's ``test`` after ``vce(cluster)``; fixest ``wald``).

    Parameters
    ----------
    estimates : array-like, shape (k,)
        Estimates.
    cov : numpy.ndarray, shape (k, k)
        Their cluster-robust covariance.
    n_clusters : int
        Number of clusters :math:`G` (at least 2).
    rtol : float, default 1e-10
        Passed to :func:`wald_test`.

    Returns
    -------
    tuple
        ``(F, r, G - 1, pvalue)``; ``(nan, 0, G - 1, nan)`` when there is nothing to test.
    """
    stat, rank, _ = wald_test(estimates, cov, rtol=rtol)
    df2 = int(n_clusters) - 1
    if rank == 0 or df2 < 1 or not math.isfinite(stat):
        return (math.nan, rank, df2, math.nan)
    f_stat = stat / rank
    return (f_stat, rank, df2, float(stats.f.sf(f_stat, rank, df2)))


def sup_t_test(
    estimates: Sequence[float] | np.ndarray,
    se: Sequence[float] | np.ndarray,
    *,
    cov: np.ndarray | None = None,
    draws: np.ndarray | None = None,
    df: float | None = None,
    n_draws: int = PRETREND_DRAWS,
    seed: int = 0,
) -> tuple[float, float, int]:
    r"""Sup-t test that all estimates are zero, from bootstrap or Gaussian draws.

    .. math:: T = \max_k |\hat\theta_k| / \widehat{se}_k,\qquad
              p = \frac{1 + \#\{b: \max_k |\theta^*_{bk}| / \widehat{se}_k \ge T\}}{1 + B},

    with :math:`\theta^*_b` the centred draws given (e.g. multiplier-bootstrap draws of
    :math:`\hat\theta^* - \hat\theta`) or, without them, :math:`\theta^*_b \sim N(0, \hat V)`.
    With ``df`` = :math:`\nu` every draw is divided by :math:`\sqrt{\chi^2_\nu / \nu}`
    (one :math:`\chi^2` per draw), i.e. a multivariate-t reference that allows for the
    estimation noise of :math:`\widehat{se}` when it rests on :math:`\nu + 1` clusters.

    Parameters
    ----------
    estimates, se : array-like, shape (k,)
        Estimates and their standard errors (entries with a non-finite or zero SE are
        left out).
    cov : numpy.ndarray, shape (k, k), optional
        Covariance for Gaussian draws (needed when ``draws`` is None).
    draws : numpy.ndarray, shape (B, k), optional
        Centred draws.
    df : float, optional
        Degrees of freedom :math:`\nu` of the t scaling; None = no scaling.
    n_draws : int, default :data:`PRETREND_DRAWS`
        Gaussian draws :math:`B`.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng` (Gaussian draws and the :math:`\chi^2`).

    Returns
    -------
    tuple
        ``(T, pvalue, B)``; ``(nan, nan, 0)`` when there is nothing to test.

    References
    ----------
    Montiel Olea, J. L., Plagborg-Møller, M. (2019). Simultaneous confidence bands:
    theory, implementation, and an application to SVARs. *Journal of Applied
    Econometrics* 34(1), 1–17.
    """
    theta = np.asarray(estimates, dtype=float).ravel()
    s = np.asarray(se, dtype=float).ravel()
    keep = np.isfinite(theta) & np.isfinite(s) & (s > 0)
    if not keep.any():
        return (math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    if draws is not None:
        sim = np.asarray(draws, dtype=float)[:, keep]
    else:
        if cov is None:
            raise SpecError("sup_t_test needs draws or cov.")
        v = np.asarray(cov, dtype=float).reshape(theta.size, theta.size)[np.ix_(keep, keep)]
        w, q = np.linalg.eigh((v + v.T) / 2.0)
        root = q * np.sqrt(np.clip(w, 0.0, None))
        sim = rng.standard_normal((int(n_draws), int(keep.sum()))) @ root.T
    if df is not None:
        sim = sim / np.sqrt(rng.chisquare(float(df), size=sim.shape[0]) / float(df))[:, None]
    stat = float(np.max(np.abs(theta[keep]) / s[keep]))
    sup = np.max(np.abs(sim) / s[keep], axis=1)
    b = int(sup.size)
    return (stat, float((1 + np.sum(sup >= stat)) / (1 + b)), b)


def pretrend_test_result(result: DIDResult, test: str, *, seed: int | None = None) -> DIDResult:
    r"""Return ``result`` with ``pretrend_pvalue`` from the chosen joint pre-trend test.

    The leads are the event-study rows listed in ``meta["pretrend_rel_times"]`` (TWFE
    event study, Sun–Abraham) or, where that is absent, the rows with :math:`e < 0` whose
    variance in ``meta["event_study_vcov"]`` is positive (CS, dCDH); their covariance is
    that block of ``meta["event_study_vcov"]``. Tests (``k`` leads, ``G`` clusters,
    :math:`W` the Wald statistic of :func:`wald_test`):

    - ``"wald"``: :math:`W \sim \chi^2_k`;
    - ``"f"``: :math:`W / k \sim F(k, G - 1)` (:func:`wald_f_test`);
    - ``"bootstrap"``: sup-t (:func:`sup_t_test`) against the estimator's bootstrap draws
      of the leads when ``meta["bootstrap_event_study_draws"]`` holds them, else against
      :data:`PRETREND_DRAWS` draws from :math:`N(0, \hat V)`; every draw is scaled by
      :math:`\sqrt{\chi^2_\nu/\nu}`, :math:`\nu = \min(n_{min}, c_{min}, G) - 1` with
      :math:`n_{min}` the fewest treated units behind any lead (event-study column
      ``n``) and :math:`c_{min}` the fewest comparison units behind a pre-treatment
      cell (CS ``meta["cells"]``, SA's control cohort), because the leads' standard
      errors are estimated from those units' variation. With one unit on either side
      (:math:`\nu = 0`) the p-value is NaN and a note says why.

    Parameters
    ----------
    result : DIDResult
        An estimate with an event study and ``meta["event_study_vcov"]``.
    test : {"bootstrap", "f", "wald"}
        The test.
    seed : int, optional
        Seed of the simulated draws (0 when None).

    Returns
    -------
    DIDResult
        A copy with ``pretrend_pvalue`` replaced and ``meta["pretrend_test"]`` (test,
        statistic, degrees of freedom, number of leads, draws, seed, notes) added.
    """
    check_choice("pretrend_test", test, PRETREND_TESTS)
    meta = dict(result.meta)
    es = result.event_study
    vcov = meta.get("event_study_vcov")
    info: dict[str, Any] = {"test": test, "notes": []}
    if vcov is None or es.empty:
        info["notes"].append("no event-study covariance: the estimator's own test is kept")
        meta["pretrend_test"] = info
        return replace(result, meta=meta)
    v_all = np.asarray(vcov, dtype=float)
    rel = es["rel_time"].to_numpy()
    if "pretrend_rel_times" in meta:
        pre = np.isin(rel, np.asarray(meta["pretrend_rel_times"], dtype=np.int64))
    else:
        pre = (rel < 0) & (np.diag(v_all) > 0)
    theta = es["estimate"].to_numpy(dtype=float)[pre]
    v = v_all[np.ix_(pre, pre)]
    n_lead = es["n"].to_numpy()[pre]
    g = int(meta.get("n_clusters", 0) or 0)
    info.update(leads=[int(e) for e in rel[pre]], k=int(pre.sum()), n_clusters=g)
    n_treated = int(n_lead.min()) if pre.sum() else 0
    n_control = _fewest_comparison_units(meta)
    info.update(fewest_treated_units=n_treated, fewest_comparison_units=n_control)
    n_fewest = n_treated if n_control is None else min(n_treated, n_control)
    if pre.sum() and n_fewest < 2:
        info["notes"].append(
            f"a lead rests on {n_fewest} treated or comparison unit(s): its "
            "variance is not estimable and no joint test is valid (bootstrap: p = NaN)"
        )
    p = math.nan
    if test == "wald":
        stat, df1, p = wald_test(theta, v)
        info.update(statistic=stat, df=df1, distribution="chi2(k)")
    elif test == "f":
        stat, df1, df2, p = wald_f_test(theta, v, g)
        info.update(statistic=stat, df=(df1, df2), distribution="F(k, G-1)")
    else:
        nu = min(n_fewest, g) - 1 if pre.sum() else 0
        draws = meta.get("bootstrap_event_study_draws")
        se = es["se"].to_numpy(dtype=float)[pre]
        source = "estimator's bootstrap draws"
        if draws is None:
            se = np.sqrt(np.clip(np.diag(v), 0.0, None))
            source = f"{PRETREND_DRAWS} draws from N(0, V)"
        else:
            draws = np.asarray(draws, dtype=float)[:, pre]
        seed_used = 0 if seed is None else int(seed)
        if nu >= 1:
            stat, p, b = sup_t_test(theta, se, cov=v, draws=draws, df=nu, seed=seed_used)
        else:
            stat, b = math.nan, 0
        info.update(
            statistic=stat,
            df=nu,
            distribution="sup-t, draws scaled by sqrt(chi2(nu)/nu)",
            draws=b,
            source=source,
            seed=seed_used,
        )
    info["pvalue"] = p
    meta["pretrend_test"] = info
    return replace(result, pretrend_pvalue=float(p), meta=meta)


def _fewest_comparison_units(meta: dict[str, Any]) -> int | None:
    """Fewest comparison units behind a pre-treatment cell (None if not recorded)."""
    cells = meta.get("cells")
    if isinstance(cells, pd.DataFrame) and {"time", "cohort", "n_control"} <= set(cells):
        pre = cells["time"] < cells["cohort"]
        if pre.any():
            return int(cells.loc[pre, "n_control"].min())
    if "n_control_units" in meta:
        return int(meta["n_control_units"])
    return None


def event_study_frame(
    rel_time: Sequence[int] | np.ndarray,
    estimate: Sequence[float] | np.ndarray,
    se: Sequence[float] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    *,
    alpha: float = 0.05,
    crit: float | None = None,
) -> pd.DataFrame:
    r"""Build the standard event-study table of :class:`DIDResult`.

    Parameters
    ----------
    rel_time, estimate, se, n : array-like
        Event time :math:`e`, effect, standard error and number of units contributing.
    alpha : float, default 0.05
        Pointwise level when ``crit`` is None.
    crit : float, optional
        Critical value for the band (e.g. a bootstrap sup-t value for uniform bands);
        default the normal :math:`z_{1-\alpha/2}`.

    Returns
    -------
    pandas.DataFrame
        Columns ``rel_time``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n`` sorted by
        ``rel_time``.
    """
    est = np.asarray(estimate, dtype=float)
    s = np.asarray(se, dtype=float)
    c = float(stats.norm.ppf(1.0 - alpha / 2.0)) if crit is None else float(crit)
    frame = pd.DataFrame(
        {
            "rel_time": np.asarray(rel_time, dtype=np.int64),
            "estimate": est,
            "se": s,
            "ci_low": est - c * s,
            "ci_high": est + c * s,
            "n": np.asarray(n, dtype=np.int64),
        },
        columns=list(EVENT_STUDY_COLUMNS),
    )
    return frame.sort_values("rel_time", kind="mergesort").reset_index(drop=True)


def attgt_frame(
    cohort: Sequence[int] | np.ndarray = (),
    time: Sequence[int] | np.ndarray = (),
    estimate: Sequence[float] | np.ndarray = (),
    se: Sequence[float] | np.ndarray = (),
) -> pd.DataFrame:
    """Build the standard ATT(g, t) table (``cohort``, ``time``, ``estimate``, ``se``).

    Called without arguments it returns the empty table with the right columns.
    """
    frame = pd.DataFrame(
        {
            "cohort": np.asarray(cohort, dtype=np.int64),
            "time": np.asarray(time, dtype=np.int64),
            "estimate": np.asarray(estimate, dtype=float),
            "se": np.asarray(se, dtype=float),
        },
        columns=list(ATTGT_COLUMNS),
    )
    return frame.sort_values(["cohort", "time"], kind="mergesort").reset_index(drop=True)


def cluster_codes(design: TreatmentDesign, cluster: str | None) -> tuple[str, np.ndarray]:
    """Return the cluster variable's name and integer codes aligned with ``panel.to_frame()``.

    Parameters
    ----------
    design : TreatmentDesign
        The design.
    cluster : str or None
        Column to cluster by; None = the unit.

    Returns
    -------
    tuple
        ``(name, codes)`` with ``codes`` an int64 array (0..G-1) per row.
    """
    name = design.unit if cluster is None else cluster
    frame = design.panel.to_frame()
    return name, cluster_ids(design.panel.column(name), name, frame[[design.unit, design.time]])


def cluster_ids(values: pd.Series, name: str, keys: pd.DataFrame | None = None) -> np.ndarray:
    """Return integer cluster codes (0..G-1, sorted) of ``values``; refuse missing values.

    ``pd.factorize`` codes a missing value as -1, which a clustered variance would treat as
    one more cluster; every estimator therefore codes its clusters here.

    Parameters
    ----------
    values : pandas.Series
        The cluster column, one value per row.
    name : str
        Column name (for the message).
    keys : pandas.DataFrame, optional
        Row keys aligned with ``values`` (e.g. unit and time), shown for the offending rows.

    Returns
    -------
    numpy.ndarray
        int64 codes, one per row.
    """
    bad = values.isna().to_numpy()
    if bad.any():
        where = ""
        if keys is not None:
            rows = keys.loc[bad].head(5).itertuples(index=False, name=None)
            where = f" at ({', '.join(map(str, keys.columns))}) {format_examples(list(rows))}"
        raise DataError(
            f"cluster column {name!r} has {int(bad.sum())} missing values{where}. Missing "
            "values are not grouped into a cluster of their own. Fix: fill them or drop those "
            "rows explicitly."
        )
    codes, _ = pd.factorize(values, sort=True)
    return codes.astype(np.int64)
