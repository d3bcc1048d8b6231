r"""Fixed-effect panel threshold regression (Hansen 1999).

.. math:: y_{it} = \mu_i + x_{it}'\theta + \sum_{j=1}^{m+1}
          x_{r,it}'\beta_j\,1\{\gamma_{j-1} < q_{it} \le \gamma_j\} + e_{it},
          \qquad \gamma_0 = -\infty,\ \gamma_{m+1} = \infty,

estimated by the within transformation and a sequential grid search on the sum of squared
residuals, with bootstrap F tests for the number of thresholds and likelihood-ratio
confidence sets for the thresholds. The numerical core (cumulative sums over the sorted
threshold variable, many bootstrap samples at once) is in
:mod:`agglomera.interaction._threshold_search`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.checks import require_balanced, require_finite, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import EstimationError, SpecError, check_choice, check_int, format_examples
from agglomera.interaction import _threshold_search as core

__all__ = ["ThresholdResult", "lr_critical_value", "threshold"]

_TEST_NAMES = ("single", "double", "triple")
CovType = Literal["homoskedastic", "white", "cluster"]


def lr_critical_value(level: float) -> float:
    r"""Hansen's (2000) critical value :math:`c(\alpha) = -2\ln(1 - \sqrt{1 - \alpha})`.

    Parameters
    ----------
    level : float
        Confidence level :math:`1 - \alpha` (e.g. 0.95 gives 7.35).

    Returns
    -------
    float
    """
    alpha = 1.0 - level
    return float(-2.0 * np.log(1.0 - np.sqrt(1.0 - alpha)))


@dataclass(frozen=True)
class ThresholdResult:
    r"""Result of :func:`threshold`.

    Attributes
    ----------
    thresholds : pandas.Series
        Estimated thresholds in the order they were found (``gamma1``, ``gamma2``, …;
        Hansen's stage order, so ``gamma2`` may be below ``gamma1``). With two or more
        thresholds ``gamma1`` is the refined estimate :math:`\hat\gamma_1^r`.
    ci : pandas.DataFrame
        ``lower`` and ``upper`` of the likelihood-ratio confidence set at ``level``
        (smallest and largest candidate with :math:`LR(\gamma) \le c(\alpha)`).
    f_stats, pvalues : pandas.Series
        F statistics and bootstrap p-values of the tests of ``k`` against ``k + 1``
        thresholds, indexed ``single`` (0 vs 1), ``double`` (1 vs 2), ``triple`` (2 vs 3).
        p-values are NaN when ``bootstrap=0``.
    crit : pandas.DataFrame
        Bootstrap critical values of the F tests at 10 %, 5 % and 1 %.
    params, se, tvalues, param_pvalues : pandas.Series
        Slopes of the model with all estimated thresholds: the regime-independent
        regressors, then ``<regime var>_r<j>`` for regime ``j`` = 1, 2, … in increasing
        order of the threshold variable. p-values from the normal distribution.
    regimes : pandas.DataFrame
        Bounds (``lower`` < q ≤ ``upper``) and number of observations of each regime.
    lr_path : pandas.DataFrame
        Long table ``threshold``, ``gamma``, ``lr`` of the LR statistic over the grid for
        each reported threshold (for the LR figure), with ``critical`` = :math:`c(\alpha)`.
    ssr : pandas.Series
        Sum of squared residuals of the models with 0, 1, … thresholds.
    cov_type : str
        Coefficient covariance (``homoskedastic``, ``white`` or ``cluster``).
    n_units, n_periods, n_obs : int
    level : float
    settings : dict
        Trimming, grid, bootstrap replications, seed and the bootstrap F draws.
    """

    thresholds: pd.Series
    ci: pd.DataFrame
    f_stats: pd.Series
    pvalues: pd.Series
    crit: pd.DataFrame
    params: pd.Series
    se: pd.Series
    tvalues: pd.Series
    param_pvalues: pd.Series
    regimes: pd.DataFrame
    lr_path: pd.DataFrame
    ssr: pd.Series
    cov_type: str
    n_units: int
    n_periods: int
    n_obs: int
    level: float
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one tidy table: thresholds (with CI), F tests, then coefficients.

        Columns: ``section`` (``threshold``, ``test``, ``coef``), ``term``, ``estimate``,
        ``se``, ``statistic``, ``pvalue``, ``lower``, ``upper``.
        """
        rows: list[dict[str, Any]] = []
        for name, value in _items(self.thresholds):
            rows.append(
                {
                    "section": "threshold",
                    "term": name,
                    "estimate": value,
                    "lower": self.ci.loc[name, "lower"],
                    "upper": self.ci.loc[name, "upper"],
                }
            )
        for name, value in _items(self.f_stats):
            rows.append(
                {
                    "section": "test",
                    "term": name,
                    "statistic": value,
                    "pvalue": self.pvalues[name],
                }
            )
        for name, value in _items(self.params):
            rows.append(
                {
                    "section": "coef",
                    "term": name,
                    "estimate": value,
                    "se": self.se[name],
                    "statistic": self.tvalues[name],
                    "pvalue": self.param_pvalues[name],
                }
            )
        cols = ["section", "term", "estimate", "se", "statistic", "pvalue", "lower", "upper"]
        return pd.DataFrame(rows).reindex(columns=cols)

    def summary(self) -> str:
        """Return a plain-text summary (thresholds, tests, coefficients)."""
        lines = [
            f"Fixed-effect panel threshold model (Hansen 1999): {len(self.thresholds)} "
            f"threshold(s); {self.n_units} units × {self.n_periods} periods = {self.n_obs} obs.",
            f"{self.level:.0%} LR confidence sets; covariance: {self.cov_type}; "
            f"bootstrap: {self.settings.get('bootstrap', 0)} replications.",
            "",
            "Thresholds:",
        ]
        for name, value in _items(self.thresholds):
            lo, hi = self.ci.loc[name, ["lower", "upper"]].to_numpy(dtype=float)
            lines.append(f"  {name:<8} {value:12.6g}   [{lo:.6g}, {hi:.6g}]")
        lines.append("Tests (k vs k+1 thresholds):")
        for name, value in _items(self.f_stats):
            p = self.pvalues[name]
            ptxt = f"{p:.4f}" if np.isfinite(p) else "n/a"
            lines.append(f"  {name:<8} F = {value:10.4f}   bootstrap p = {ptxt}")
        lines.append("Coefficients:")
        width = max(len(str(n)) for n in self.params.index)
        for name, value in _items(self.params):
            lines.append(
                f"  {name:<{width}} {value:12.6f} ({self.se[name]:.6f})  t = "
                f"{self.tvalues[name]:8.3f}"
            )
        return "\n".join(lines)


def _items(series: pd.Series) -> list[tuple[str, float]]:
    return [(str(k), float(v)) for k, v in zip(series.index, series.to_numpy(), strict=True)]


def threshold(
    panel: Panel,
    y: str,
    x: Sequence[str],
    *,
    regime: str | Sequence[str],
    q: str,
    n_thresholds: int = 1,
    trim: float | Sequence[float] = 0.01,
    grid: int | None = None,
    bootstrap: int = 300,
    seed: int | None = None,
    cov: CovType = "homoskedastic",
    level: float = 0.95,
    sigma2: Literal["within", "nobs"] = "within",
) -> ThresholdResult:
    r"""Estimate Hansen's (1999) fixed-effect panel threshold model.

    Parameters
    ----------
    panel : Panel
        Balanced panel without missing values in the variables used (lag regressors
        beforehand, e.g. with :meth:`Panel.lag`, and drop the first period explicitly).
    y : str
        Dependent variable.
    x : sequence of str
        Regressors whose slopes do not switch (may be empty).
    regime : str or sequence of str
        Regressor(s) whose slopes switch with the threshold variable.
    q : str
        Threshold variable.
    n_thresholds : {1, 2, 3}, default 1
        Number of thresholds to estimate; the F tests of ``k`` against ``k + 1``
        thresholds are reported for every ``k < n_thresholds``.
    trim : float or sequence of float, default 0.01
        Minimum share of the observations in every regime, per stage (one value for all
        stages or one per threshold). Hansen (1999) used 1 % for the first two thresholds
        and 5 % for the third.
    grid : int or None, default None
        None searches every distinct value of ``q`` (the exact minimiser; cheap here).
        An integer restricts the candidates to the values of ``q`` at the
        ``k/(grid + 1)`` sample quantiles, ``k = 1..grid`` (Hansen used 400 quantiles).
    bootstrap : int, default 300
        Replications of the fixed-regressor bootstrap per test (0 = no p-values).
    seed : int or None
        Seed of the bootstrap.
    cov : {"homoskedastic", "white", "cluster"}, default "homoskedastic"
        Covariance of the slopes given the thresholds: ``homoskedastic`` (Hansen's, with
        :math:`s^2 = SSR/(N(T-1) - K)` as R plm's within estimator), ``white``
        (HC0 on the within data) or ``cluster`` by unit (Arellano with Stata's
        small-sample factor :math:`G/(G-1)\cdot(NT-1)/(NT-K)`, R plm's ``type = "sss"``).
    level : float, default 0.95
        Confidence level of the threshold confidence sets.
    sigma2 : {"within", "nobs"}, default "within"
        Divisor of :math:`\hat\sigma^2 = S/d` in the F and LR statistics: ``within``
        uses Hansen's (1999) formula :math:`d = n(T-1)` with :math:`T` the periods of
        ``panel``; ``nobs`` uses :math:`d = nT`, the number of observations. Hansen's
        application counted the year lost to the lagged regressors in :math:`T`, so
        his :math:`n(T-1)` equals the number of observations used (``nobs`` here).
        Bootstrap p-values do not depend on this choice; F values and LR sets do.

    Returns
    -------
    ThresholdResult

    Raises
    ------
    DataError
        Unknown, non-numeric or missing columns (naming the keys) or an unbalanced panel.
    SpecError
        Invalid option values.
    EstimationError
        Too few observations for the trimming, or a singular design.

    Notes
    -----
    All variables are within-transformed *after* forming the regime regressors
    :math:`x_{r,it}1\{q_{it} \le \gamma\}`. For one threshold :math:`\hat\gamma_1 =
    \arg\min S_1(\gamma)` over the admissible candidates. For two, :math:`\hat\gamma_2 =
    \arg\min S(\hat\gamma_1, \gamma)` and the refinement :math:`\hat\gamma_1^r = \arg\min
    S(\gamma, \hat\gamma_2)` (Hansen 1999, Sect. 4, after Bai 1997); a third is searched
    given both. The test of ``k`` against ``k + 1`` thresholds is

    .. math:: F_{k+1} = \frac{S_k - S_{k+1}}{\hat\sigma^2},\qquad
              \hat\sigma^2 = \frac{S_{k+1}}{N(T-1)},

    with :math:`S_k` the SSR of the ``k``-threshold model (at the refined estimates) and
    :math:`S_{k+1}` the minimum of the stage-``k + 1`` search. Its p-value comes from
    Hansen's fixed-regressor bootstrap: regressors and ``q`` held fixed, the residual
    vectors of the ``k + 1``-threshold model resampled by unit with replacement, added to
    the fitted values of the ``k``-threshold model, and the whole sequential estimation
    repeated on each bootstrap sample. The confidence set of a threshold is
    :math:`\{\gamma: LR(\gamma) = (S(\gamma) - S(\hat\gamma))/\hat\sigma^2 \le c(\alpha)\}`,
    :math:`c(\alpha) = -2\ln(1 - \sqrt{1 - \alpha})` (Hansen 2000), with the other
    thresholds held at their estimates and :math:`\hat\sigma^2 = S(\hat\gamma)/(N(T-1))`.
    Regimes are :math:`\gamma_{j-1} < q \le \gamma_j`.

    References
    ----------
    Hansen, B. E. (1999). Threshold effects in non-dynamic panels: estimation, testing,
    and inference. *Journal of Econometrics* 93, 345–368.
    Hansen, B. E. (2000). Sample splitting and threshold estimation. *Econometrica* 68,
    575–603. Bai, J. (1997). Estimating multiple breaks one at a time. *Econometric
    Theory* 13, 315–352.
    """
    fn = "threshold"
    regimes = [regime] if isinstance(regime, str) else list(regime)
    x = [x] if isinstance(x, str) else list(x)
    trims = _check_options(fn, n_thresholds, trim, grid, bootstrap, cov, level, regimes)
    check_choice("sigma2", sigma2, ("within", "nobs"), fn=fn)
    frame = _check_data(fn, panel, [y, *x, *regimes, q])
    overlap = sorted(set(x) & set(regimes))
    if overlap:
        raise SpecError(
            f"{fn}: {format_examples(overlap)} appear in both x and regime; a regressor "
            "either switches with the threshold (regime) or not (x)."
        )
    n_units, n_periods = len(panel.units), len(panel.times)
    n_obs = n_units * n_periods
    xv = frame[x].to_numpy(dtype=float).reshape(n_obs, len(x))
    xr = frame[regimes].to_numpy(dtype=float)
    qv = frame[q].to_numpy(dtype=float)
    yv = frame[y].to_numpy(dtype=float)
    design = core.make_design(xv, xr, qv, n_units, n_periods, grid)
    if np.linalg.matrix_rank(design.base) < design.base.shape[1]:
        raise EstimationError(
            f"{fn}: the within-transformed regressors {x + regimes} are collinear (a "
            "regressor constant within units is absorbed by the fixed effects)."
        )
    min_counts = [int(np.ceil(t * n_obs)) for t in trims]
    if sum(min_counts[:n_thresholds]) + min_counts[0] > n_obs:
        raise EstimationError(
            f"{fn}: {n_obs} observations cannot hold {n_thresholds + 1} regimes of at least "
            f"{min_counts} observations; lower `trim` or n_thresholds."
        )
    yw = core.within(yv[:, None], n_units, n_periods)
    try:
        fit = core.fit_sequence(design, yw, n_thresholds, min_counts)
    except ValueError as err:
        raise EstimationError(
            f"{fn}: no admissible threshold candidate with trim={trims}: "
            f"{q!r} has too few distinct values for {n_thresholds} threshold(s)."
        ) from err
    # Hansen's sigma^2 = S / (n(T - 1)): n units, T periods, one mean lost per unit
    denom = float(n_units * (n_periods - 1)) if sigma2 == "within" else float(n_obs)
    f_stats = np.array(
        [
            (fit.ssr[k][0] - fit.ssr_test[k][0]) / (fit.ssr_test[k][0] / denom)
            for k in range(n_thresholds)
        ]
    )
    gammas = [float(g) for g in fit.gammas[n_thresholds - 1][0]]
    names = [f"gamma{j + 1}" for j in range(n_thresholds)]
    crit_value = lr_critical_value(level)
    conditions = _ci_conditions(fit, n_thresholds)
    ci_rows, paths = _confidence_sets(design, yw, conditions, min_counts, denom, crit_value, names)
    boot_f, pvals, crit = _bootstrap(
        design, yw, fit, f_stats, n_thresholds, min_counts, denom, bootstrap, seed
    )
    coef = _slopes(design, yw, gammas, x, regimes, cov, n_units, n_periods)
    tests = list(_TEST_NAMES[:n_thresholds])
    bounds = np.r_[-np.inf, np.sort(gammas), np.inf]
    regime_table = pd.DataFrame(
        {
            "lower": bounds[:-1],
            "upper": bounds[1:],
            "n_obs": [int(np.sum((qv > lo) & (qv <= hi))) for lo, hi in itertools.pairwise(bounds)],
        },
        index=pd.Index([f"r{j + 1}" for j in range(n_thresholds + 1)], name="regime"),
    )
    return ThresholdResult(
        thresholds=pd.Series(gammas, index=names, name="threshold"),
        ci=pd.DataFrame(ci_rows, index=names, columns=["lower", "upper"]),
        f_stats=pd.Series(f_stats, index=tests, name="F"),
        pvalues=pd.Series(pvals, index=tests, name="pvalue"),
        crit=pd.DataFrame(crit, index=tests, columns=["10%", "5%", "1%"]),
        params=coef["params"],
        se=coef["se"],
        tvalues=coef["tvalues"],
        param_pvalues=coef["pvalues"],
        regimes=regime_table,
        lr_path=paths,
        ssr=pd.Series(
            [float(s[0]) for s in fit.ssr],
            index=[f"{k} thresholds" for k in range(n_thresholds + 1)],
        ),
        cov_type=cov,
        n_units=n_units,
        n_periods=n_periods,
        n_obs=n_obs,
        level=level,
        settings={
            "trim": trims[:n_thresholds],
            "min_obs_per_regime": min_counts[:n_thresholds],
            "grid": grid,
            "bootstrap": bootstrap,
            "seed": seed,
            "bootstrap_f": boot_f,
            "lr_critical_value": crit_value,
            "sigma2": sigma2,
            "sigma2_divisor": denom,
        },
    )


# ---------------------------------------------------------------------- pieces
def _ci_conditions(fit: core.SequenceFit, n_thresholds: int) -> list[list[float]]:
    """Thresholds held fixed in the LR criterion of each reported threshold.

    One threshold: none. Two or three: ``gamma1`` (refined) given ``gamma2``; ``gamma2``
    given the first-stage ``gamma1`` (Hansen's :math:`S_2^r`); ``gamma3`` given both
    refined double-threshold estimates.
    """
    if n_thresholds == 1:
        return [[]]
    g1_stage1 = float(fit.gammas[0][0, 0])
    g1r, g2 = (float(g) for g in fit.gammas[1][0])
    out = [[g2], [g1_stage1]]
    if n_thresholds == 3:
        out.append([g1r, g2])
    return out


def _confidence_sets(
    design: core.Design,
    yw: np.ndarray,
    conditions: list[list[float]],
    min_counts: list[int],
    denom: float,
    crit_value: float,
    names: list[str],
) -> tuple[list[list[float]], pd.DataFrame]:
    """LR path and confidence set of each threshold given the ``conditions``."""
    rows: list[list[float]] = []
    frames: list[pd.DataFrame] = []
    for j, name in enumerate(names):
        others = conditions[j]
        _, ssr_min, path, allowed = core.search(design, yw, others, min_counts[j], path=True)
        assert path is not None
        lr = (path[:, 0] - ssr_min[0]) / (ssr_min[0] / denom)
        values = design.values[allowed]
        inside = values[lr <= crit_value]
        rows.append([float(inside.min()), float(inside.max())])
        frames.append(
            pd.DataFrame({"threshold": name, "gamma": values, "lr": lr, "critical": crit_value})
        )
    return rows, pd.concat(frames, ignore_index=True)


def _bootstrap(
    design: core.Design,
    yw: np.ndarray,
    fit: core.SequenceFit,
    f_stats: np.ndarray,
    n_thresholds: int,
    min_counts: list[int],
    denom: float,
    reps: int,
    seed: int | None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Hansen's fixed-regressor bootstrap of every F test (residuals resampled by unit)."""
    nan = np.full(n_thresholds, np.nan)
    if reps == 0:
        return {}, nan, np.full((n_thresholds, 3), np.nan)
    rng = np.random.default_rng(seed)
    n, t = design.n_units, design.n_periods
    draws: dict[str, np.ndarray] = {}
    pvals = np.empty(n_thresholds)
    crit = np.empty((n_thresholds, 3))
    for k in range(n_thresholds):
        null_g = [float(g) for g in fit.gammas[k - 1][0]] if k > 0 else []
        alt_g = [float(g) for g in fit.gammas[k][0]]
        a_null = core.regressors(design, null_g)
        fitted = a_null @ np.linalg.lstsq(a_null, yw, rcond=None)[0]
        a_alt = core.regressors(design, alt_g)
        resid = (yw - a_alt @ np.linalg.lstsq(a_alt, yw, rcond=None)[0]).reshape(n, t)
        pick = rng.integers(0, n, size=(reps, n))
        ystar = fitted + resid[pick].reshape(reps, n * t).T
        bfit = core.fit_sequence(design, ystar, k + 1, min_counts)
        fb = (bfit.ssr[k] - bfit.ssr_test[k]) / (bfit.ssr_test[k] / denom)
        draws[_TEST_NAMES[k]] = fb
        pvals[k] = float(np.mean(fb >= f_stats[k]))
        crit[k] = np.quantile(fb, [0.90, 0.95, 0.99])
    return draws, pvals, crit


def _slopes(
    design: core.Design,
    yw: np.ndarray,
    gammas: list[float],
    x: list[str],
    regimes: list[str],
    cov: str,
    n_units: int,
    n_periods: int,
) -> dict[str, pd.Series]:
    """Within OLS given the thresholds, reparametrised into one slope per regime."""
    bounds = np.r_[-np.inf, np.sort(gammas), np.inf]
    cols = [design.base[:, : len(x)]]
    names = list(x)
    for j in range(len(bounds) - 1):
        inside = (design.q > bounds[j]) & (design.q <= bounds[j + 1])
        cols.append(core.within(design.xr * inside[:, None], n_units, n_periods))
        names += [f"{r}_r{j + 1}" for r in regimes]
    xmat = np.column_stack(cols)
    yvec = yw[:, 0]
    xtx_inv = np.linalg.inv(xmat.T @ xmat)
    beta = xtx_inv @ (xmat.T @ yvec)
    e = yvec - xmat @ beta
    n_obs, k = xmat.shape
    if cov == "homoskedastic":
        s2 = float(e @ e) / (n_obs - n_units - k)
        vcov = s2 * xtx_inv
    elif cov == "white":
        meat = (xmat * e[:, None] ** 2).T @ xmat
        vcov = xtx_inv @ meat @ xtx_inv
    else:
        scores = (xmat * e[:, None]).reshape(n_units, n_periods, k).sum(axis=1)
        factor = n_units / (n_units - 1) * (n_obs - 1) / (n_obs - k)
        vcov = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    se = np.sqrt(np.diag(vcov))
    tv = beta / se
    idx = pd.Index(names, name="term")
    return {
        "params": pd.Series(beta, index=idx, name="coef"),
        "se": pd.Series(se, index=idx, name="se"),
        "tvalues": pd.Series(tv, index=idx, name="t"),
        "pvalues": pd.Series(2 * stats.norm.sf(np.abs(tv)), index=idx, name="pvalue"),
    }


# ---------------------------------------------------------------------- checks
def _check_options(
    fn: str,
    n_thresholds: int,
    trim: float | Sequence[float],
    grid: int | None,
    bootstrap: int,
    cov: str,
    level: float,
    regimes: list[str],
) -> list[float]:
    if n_thresholds not in (1, 2, 3) or isinstance(n_thresholds, bool):
        raise SpecError(f"{fn}: n_thresholds must be 1, 2 or 3; got {n_thresholds!r}.")
    if not regimes:
        raise SpecError(f"{fn}: `regime` must name at least one regressor whose slope switches.")
    if isinstance(trim, (int, float, np.floating, np.integer)):
        trims = [float(trim)] * 3
    else:
        trims = [float(v) for v in trim]
    if len(trims) < n_thresholds:
        raise SpecError(
            f"{fn}: trim has {len(trims)} values for {n_thresholds} thresholds; give one value "
            "or one per threshold, e.g. trim=(0.01, 0.01, 0.05)."
        )
    trims = (trims + [trims[-1]] * 3)[:3]
    if any(not 0 < t < 0.5 for t in trims):
        raise SpecError(f"{fn}: every trim share must lie in (0, 0.5); got {trims[:n_thresholds]}.")
    if grid is not None and (not isinstance(grid, (int, np.integer)) or grid < 10):
        raise SpecError(f"{fn}: grid must be None (all distinct values) or an integer >= 10.")
    check_int("bootstrap", bootstrap, minimum=0, fn=fn)
    check_choice("cov", cov, ("homoskedastic", "white", "cluster"), fn=fn)
    if not 0 < level < 1:
        raise SpecError(f"{fn}: level must lie in (0, 1); got {level!r}.")
    return trims


def _check_data(fn: str, panel: Panel, columns: list[str]) -> pd.DataFrame:
    require_panel(panel, fn)
    require_finite(
        panel, columns, fn, why="The threshold model needs a balanced panel and drops nothing."
    )
    require_balanced(
        panel,
        fn,
        why="The fixed-effect threshold model needs it: the bootstrap resamples whole units.",
    )
    return panel.to_frame()
