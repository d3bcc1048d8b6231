r"""Wild cluster bootstrap for the TWFE DID coefficient (few-cluster inference).

With a few dozen clusters, or few *treated* clusters, cluster-robust (CRV1) t-tests
over-reject. :func:`wild_bootstrap` reports the wild cluster bootstrap-t p-value and
confidence interval of the TWFE coefficient :math:`\beta` of
:math:`y_{it} = \alpha_i + \lambda_t + \beta D_{it} + X_{it}'\gamma + \varepsilon_{it}`
next to the conventional ones.

Algorithm (Cameron, Gelbach and Miller 2008; "WCR11" of MacKinnon, Nielsen and Webb
2023): with the null :math:`\beta = \beta_0` imposed, residuals :math:`\tilde u` of the
restricted model are multiplied cluster by cluster by weights :math:`v_g^{*}` —
Rademacher (:math:`\pm 1`, probability 1/2) or Webb's six-point distribution
(:math:`\pm\sqrt{1/2}, \pm 1, \pm\sqrt{3/2}`, probability 1/6 each; Webb 2023, better
with fewer than ~12 clusters, where Rademacher has only :math:`2^G` distinct draws) —
:math:`y^{*} = \tilde X\tilde\beta + \tilde u \odot v^{*}_{g(i)}`; each draw gives a
CRV1 t-statistic :math:`t^{*}_r`, and the symmetric p-value is
:math:`\#\{|t^{*}_r| \ge |t|\}/R`. The computation is pyfixest's ``Feols.wildboottest``
(the ``wildboottest`` package; fixed effects are projected out first).

The confidence interval inverts the test: the set of :math:`\beta_0` with p-value above
:math:`\alpha`, found by bisection on :math:`y - \beta_0 D` with the same seed (so the
same weights) at every :math:`\beta_0`. With ``impose_null=False`` (WCU) the bootstrap-t
interval :math:`\hat\beta \pm q^{*}_{1-\alpha}\,\widehat{se}` is used instead, with
:math:`q^{*}` the quantile of :math:`|t^{*}|`.

References
----------
Cameron, A. C., Gelbach, J. B., Miller, D. L. (2008). Bootstrap-based improvements for
inference with clustered errors. *Review of Economics and Statistics* 90(3), 414–427.
Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered errors.
*Canadian Journal of Economics* 56(3), 839–858.
MacKinnon, J. G., Nielsen, M. Ø., Webb, M. D. (2023). Fast and reliable jackknife and
bootstrap methods for cluster-robust inference. *Journal of Applied Econometrics* 38(5),
671–694.
"""

from __future__ import annotations

import html
import importlib.util
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import EstimationError, SpecError
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import check_choice

__all__ = ["WILD_WEIGHTS", "WildBootstrapResult", "wild_bootstrap"]

#: Allowed values of ``weights``.
WILD_WEIGHTS: tuple[str, ...] = ("rademacher", "webb")


@dataclass(frozen=True)
class WildBootstrapResult:
    """Wild cluster bootstrap inference for the TWFE coefficient, beside the CRV1 one.

    Attributes
    ----------
    att, se : float
        TWFE coefficient and its CRV1 standard error (:func:`~agglomera.policy.estimate`
        convention).
    ci, pvalue : tuple of float, float
        Conventional (normal) interval and p-value.
    wild_pvalue : float
        Wild cluster bootstrap-t p-value (symmetric).
    wild_ci : tuple of float
        Wild bootstrap interval (test inversion, or bootstrap-t when
        ``impose_null=False``).
    t_stat : float
        The t-statistic the bootstrap compares with (pyfixest ``wildboottest``'s
        small-sample scaling).
    meta : dict
        ``weights``, ``draws``, ``seed``, ``impose_null``, ``n_clusters``, ``alpha``,
        ``ci_method``, ``engine``.
    """

    att: float
    se: float
    ci: tuple[float, float]
    pvalue: float
    wild_pvalue: float
    wild_ci: tuple[float, float]
    t_stat: float
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return two rows, ``conventional`` (CRV1) and ``wild`` (bootstrap)."""
        return pd.DataFrame(
            {
                "inference": ["conventional (CRV1)", f"wild bootstrap ({self.meta['weights']})"],
                "att": [self.att, self.att],
                "ci_low": [self.ci[0], self.wild_ci[0]],
                "ci_high": [self.ci[1], self.wild_ci[1]],
                "pvalue": [self.pvalue, self.wild_pvalue],
                "n_clusters": [self.meta.get("n_clusters")] * 2,
            }
        )

    def summary(self) -> str:
        """Return a plain-text comparison of conventional and wild bootstrap inference."""
        level = round(100 * (1 - float(self.meta.get("alpha", 0.05))))
        return "\n".join(
            [
                f"TWFE ATT = {self.att:.6g} (SE {self.se:.6g}), {self.meta.get('n_clusters')} "
                "clusters",
                f"  conventional CRV1: p = {self.pvalue:.4g}; {level}% CI "
                f"[{self.ci[0]:.6g}, {self.ci[1]:.6g}]",
                f"  wild cluster bootstrap ({self.meta['weights']}, {self.meta['draws']} draws, "
                f"{'null imposed' if self.meta['impose_null'] else 'null not imposed'}): "
                f"p = {self.wild_pvalue:.4g}; {level}% CI "
                f"[{self.wild_ci[0]:.6g}, {self.wild_ci[1]:.6g}]",
            ]
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def wild_bootstrap(
    design: TreatmentDesign,
    outcome: str,
    *,
    weights: str = "rademacher",
    draws: int = 9999,
    seed: int = 0,
    impose_null: bool = True,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    ci: bool = True,
) -> WildBootstrapResult:
    r"""Wild cluster bootstrap p-value and CI of the TWFE coefficient.

    Parameters
    ----------
    design : TreatmentDesign
        The design.
    outcome : str
        Outcome column.
    weights : {"rademacher", "webb"}, default "rademacher"
        Bootstrap weight distribution (module docstring).
    draws : int, default 9999
        Bootstrap replications.
    seed : int, default 0
        Seed of the weights.
    impose_null : bool, default True
        Impose :math:`H_0` when generating the bootstrap samples (WCR, recommended).
    controls : sequence of str, default ()
        Covariates of the TWFE regression.
    cluster : str, optional
        Cluster column (default the unit).
    alpha : float, default 0.05
        Interval level :math:`1 - \alpha`.
    ci : bool, default True
        Compute the wild bootstrap interval (test inversion costs about 30 extra
        bootstraps).

    Returns
    -------
    WildBootstrapResult

    Raises
    ------
    SpecError
        For unknown weights or bad ``draws``/``seed``.
    EstimationError
        When the ``wildboottest`` package is not installed (pyfixest does not declare it).
    """
    check_choice("weights", weights, WILD_WEIGHTS)
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 99:
        raise SpecError(f"draws must be an integer >= 99; got {draws!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpecError(f"seed must be an integer; got {seed!r}.")
    if importlib.util.find_spec("wildboottest") is None:  # pragma: no cover - environment
        raise EstimationError(
            "wild_bootstrap() needs the `wildboottest` package (pyfixest does not declare "
            "it). Fix: pip install wildboottest."
        )
    from agglomera.policy import twfe
    from agglomera.policy.estimation import estimate

    conv = estimate(
        design, outcome, estimator="twfe", controls=controls, cluster=cluster, alpha=alpha
    )
    data = twfe._prepare(design, outcome, tuple(controls), cluster)
    frame = data.frame
    d = design.treated().to_numpy(dtype=float)[data.rows]
    frame["treat_d"] = d
    y0 = frame["y"].to_numpy(dtype=float).copy()
    n_cl = int(frame["cl_id"].nunique())

    def run(beta0: float, null: bool) -> tuple[float, float, np.ndarray]:
        frame["y"] = y0 - beta0 * d
        return _wcb(frame, data.x_names, weights, int(draws), int(seed), null)

    t_stat, p_wild, t_boot = run(0.0, bool(impose_null))
    frame["y"] = y0
    att, se = conv.att, conv.se
    wild_ci = (math.nan, math.nan)
    method = "none"
    if ci and math.isfinite(se) and se > 0:
        if impose_null:
            method = "test inversion (bisection, same seed at every null value)"

            def pval(b0: float) -> float:
                return run(b0, True)[1]

            lo = _bound(pval, att, -se, alpha)
            hi = _bound(pval, att, se, alpha)
            wild_ci = (lo, hi)
        else:
            method = "bootstrap-t (symmetric, quantile of |t*|)"
            q = float(np.quantile(np.abs(t_boot), 1 - alpha))
            se_w = abs(att / t_stat) if t_stat else se
            wild_ci = (att - q * se_w, att + q * se_w)
        frame["y"] = y0
    return WildBootstrapResult(
        att=att,
        se=se,
        ci=conv.ci,
        pvalue=conv.pvalue,
        wild_pvalue=p_wild,
        wild_ci=wild_ci,
        t_stat=t_stat,
        meta={
            "weights": weights,
            "draws": int(draws),
            "seed": int(seed),
            "impose_null": bool(impose_null),
            "n_clusters": n_cl,
            "alpha": alpha,
            "ci_method": method,
            "engine": "pyfixest Feols.wildboottest (wildboottest package), bootstrap_type 11",
            "outcome": outcome,
            "cluster": data.cluster,
        },
    )


def _wcb(
    frame: pd.DataFrame, x_names: list[str], weights: str, draws: int, seed: int, null: bool
) -> tuple[float, float, np.ndarray]:
    import pyfixest as pf

    from agglomera.policy.twfe import SSC_CONVENTION, normalise_formula

    formula = normalise_formula(f"y ~ {' + '.join(['treat_d', *x_names])} | unit_id + time_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(formula, data=frame, vcov={"CRV1": "cl_id"}, ssc=pf.ssc(**SSC_CONVENTION))
        res, t_boot = fit.wildboottest(
            reps=draws,
            cluster="cl_id",
            param="treat_d",
            weights_type=weights,
            impose_null=null,
            seed=seed,
            return_bootstrapped_t_stats=True,
        )
    return float(res["t value"]), float(res["Pr(>|t|)"]), np.asarray(t_boot, dtype=float)


def _bound(pval: Any, att: float, step: float, alpha: float) -> float:
    """Find where the p-value crosses ``alpha`` moving from ``att`` in direction ``step``."""
    inside = att
    outside = att + step
    for _ in range(30):
        if pval(outside) <= alpha:
            break
        inside, outside = outside, outside + 2 * (outside - att)
    else:  # pragma: no cover - p-value never falls below alpha
        return math.nan
    for _ in range(10):  # bracket / 1024
        mid = (inside + outside) / 2
        if pval(mid) > alpha:
            inside = mid
        else:
            outside = mid
    return (inside + outside) / 2
