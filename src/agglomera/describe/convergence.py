r"""σ- and β-convergence of an indicator across cities (Barro & Sala-i-Martin 1992).

σ-convergence: the cross-sectional dispersion falls over time, measured by the coefficient
of variation :math:`CV_t = s_t / \bar y_t` and the standard deviation of logs
:math:`\sigma_t = \mathrm{sd}(\ln y_{it})` (both with ddof = 1), with an OLS trend test
(:math:`H_0`: no linear trend; a negative slope indicates σ-convergence).

β-convergence: units that start lower grow faster. The panel regression

.. math::

    \ln\frac{y_{i,t+\tau}}{y_{it}} = \beta \ln y_{it} + \gamma' X_{it} + \mu_i + \eta_t
    + \varepsilon_{it}

is *absolute* without controls :math:`X` and *conditional* with them; the fixed effects
are a parameter (``"none"``: a common intercept, the classic absolute convergence;
``"unit"``, ``"time"``, ``"twoway"``). :math:`\beta < 0` indicates convergence, with
implied speed :math:`\lambda = -\ln(1 + \beta)/\tau` and half-life
:math:`\ln 2 / \lambda` (years for annual data, :math:`\tau = 1`). With ``horizon`` equal
to the panel length minus one and ``fixed_effects="none"`` it is the cross-section
regression of total growth on the initial level.

Caveat: the unit fixed-effects regression of growth on the lagged level is a dynamic panel
(:math:`\ln y_{i,t+1} = (1+\beta)\ln y_{it} + \dots`) and is biased towards faster
convergence in short panels (Nickell 1981; bias of order :math:`1/T`). Report it with the
length of the panel in mind.

References
----------
.. [1] Barro, R. J. & Sala-i-Martin, X. (1992). Convergence. *Journal of Political
   Economy*, 100(2), 223–251.
.. [2] Nickell, S. (1981). Biases in dynamic models with fixed effects. *Econometrica*,
   49(6), 1417–1426.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from agglomera.data.panel import Panel
from agglomera.describe.summary import (
    _as_list,
    _check_panel,
    _group_frame,
    _require_positive,
    _require_vars,
    _values,
)
from agglomera.errors import DataError, SpecError

__all__ = ["BetaResult", "SigmaResult", "convergence"]

FixedEffects = Literal["none", "unit", "time", "twoway"]


@dataclass(frozen=True)
class SigmaResult:
    """σ-convergence (see :func:`convergence`).

    Attributes
    ----------
    by_year : pandas.DataFrame
        Time key, group (when ``by``), ``n``, ``mean``, ``sd``, ``cv``, ``sd_log``.
    trend : pandas.DataFrame
        OLS of each dispersion measure on time: group, ``measure`` ("cv", "sd_log"),
        ``slope`` (per period), ``se``, ``t``, ``pvalue`` (t with T − 2 df), ``n_periods``.
    var : str
        The variable.
    by : str or None
        The grouping column.
    meta : dict
        ``ddof`` (1).
    """

    by_year: pd.DataFrame
    trend: pd.DataFrame
    var: str
    by: str | None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return the dispersion by year (tidy)."""
        return self.by_year.copy()

    def table(self, digits: int = 4) -> pd.DataFrame:
        """Return the trend tests as a report table."""
        return self.trend.round(digits)

    def summary(self) -> str:
        """Return dispersion by year and the trend tests as text."""
        return (
            f"σ-convergence of {self.var} (CV and SD of logs, ddof=1)\n"
            + self.by_year.to_string(index=False, float_format="{:.4f}".format)
            + "\nTrend (OLS on time; negative slope = σ-convergence)\n"
            + self.trend.to_string(index=False, float_format="{:.4f}".format)
        )

    def _repr_html_(self) -> str:
        return f"<p>σ-convergence of {html.escape(self.var)}</p>" + self.trend.to_html(index=False)


@dataclass(frozen=True)
class BetaResult:
    """β-convergence (see :func:`convergence`).

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per group (``"all"`` when no ``by``; the pooled sample first when ``by``):
        ``group``, ``beta``, ``se``, ``t``, ``pvalue``, ``ci_low``, ``ci_high``, ``speed``
        (λ), ``half_life``, ``n_obs``, ``n_units``, ``r2``.
    params : pandas.DataFrame
        All slope coefficients (``ln y`` and controls) by group: ``group``, ``term``,
        ``estimate``, ``se``, ``t``, ``pvalue``.
    var : str
        The variable.
    meta : dict
        ``kind`` ("absolute"/"conditional"), ``controls``, ``fixed_effects``, ``horizon``,
        ``vcov``, ``n_dropped`` (rows without a growth rate or a control, by group), ``by``.
    """

    estimates: pd.DataFrame
    params: pd.DataFrame
    var: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def beta(self) -> float:
        """β of the first row (the whole sample)."""
        return float(self.estimates["beta"].iloc[0])

    @property
    def speed(self) -> float:
        """Implied convergence speed λ of the first row."""
        return float(self.estimates["speed"].iloc[0])

    @property
    def half_life(self) -> float:
        """Half-life ln 2 / λ of the first row."""
        return float(self.estimates["half_life"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """Return the β estimates with speed and half-life (one row per group)."""
        return self.estimates.copy()

    def table(self, digits: int = 4) -> pd.DataFrame:
        """Return the report table (β, SE, p, λ, half-life, N by group)."""
        cols = ["group", "beta", "se", "pvalue", "speed", "half_life", "n_obs", "n_units"]
        return self.estimates[cols].round(digits)

    def summary(self) -> str:
        """Return the estimates and conventions as text."""
        m = self.meta
        head = (
            f"{m.get('kind', '').capitalize()} β-convergence of {self.var}: "
            f"ln(y[t+{m.get('horizon')}]/y[t]) on ln y[t]"
            + (f" + {', '.join(m['controls'])}" if m.get("controls") else "")
            + f"; fixed effects: {m.get('fixed_effects')}; SE: {m.get('vcov')}"
        )
        return head + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        first = html.escape(self.summary().splitlines()[0])
        return f"<p>{first}</p>" + self.table().to_html(index=False)


def convergence(
    panel: Panel,
    var: str,
    *,
    kind: Literal["sigma", "beta"] = "sigma",
    conditional: Sequence[str] = (),
    by: str | None = None,
    fixed_effects: FixedEffects = "twoway",
    horizon: int = 1,
    vcov: Literal["cluster", "iid"] = "cluster",
    alpha: float = 0.05,
) -> SigmaResult | BetaResult:
    r"""σ- or β-convergence of ``var`` (Barro & Sala-i-Martin 1992).

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Strictly positive numeric variable (logs are taken).
    kind : {"sigma", "beta"}, default "sigma"
        Which concept (see the module docstring for the formulas).
    conditional : sequence of str, default ()
        Control variables :math:`X_{it}` (β only); empty = absolute convergence.
    by : str, optional
        Group column (``"region3"`` etc. joined from the reference when absent); each group
        is analysed separately (β: the whole sample first, labelled ``"all"``).
    fixed_effects : {"none", "unit", "time", "twoway"}, default "twoway"
        Fixed effects in the β regression.
    horizon : int, default 1
        :math:`\tau`, the growth horizon in periods.
    vcov : {"cluster", "iid"}, default "cluster"
        Standard errors: clustered by unit (CR1,
        :math:`\frac{G}{G-1}\frac{N-1}{N-K}` with :math:`K` counting the slopes and the
        fixed effects not nested in the unit — pyfixest's default small-sample correction)
        or classical.
    alpha : float, default 0.05
        Level of the confidence interval of β (t with G − 1 df when clustered, N − K
        otherwise).

    Returns
    -------
    SigmaResult or BetaResult

    Raises
    ------
    DataError
        If a variable is missing, ``var`` has non-positive values (rows named), or there
        are too few periods (β needs ``horizon + 1`` periods, ``horizon + 2`` with unit
        fixed effects; σ's trend test needs 3).
    """
    panel = _check_panel(panel)
    controls = [] if not conditional else _as_list(conditional)
    _require_vars(panel, [var, *controls])
    frame, group = _group_frame(panel, by)
    _require_positive(panel, frame, var, "convergence")
    if kind == "sigma":
        if controls:
            raise SpecError("conditional controls apply to β-convergence only (kind='beta').")
        return _sigma(panel, frame, var, group)
    if kind != "beta":
        raise SpecError(f"kind must be 'sigma' or 'beta'; got {kind!r}.")
    if fixed_effects not in ("none", "unit", "time", "twoway"):
        raise SpecError(
            f"fixed_effects must be 'none', 'unit', 'time' or 'twoway'; got {fixed_effects!r}."
        )
    if vcov not in ("cluster", "iid"):
        raise SpecError(f"vcov must be 'cluster' or 'iid'; got {vcov!r}.")
    if not isinstance(horizon, int) or horizon < 1:
        raise SpecError(f"horizon must be a positive integer; got {horizon!r}.")
    need = horizon + (2 if fixed_effects in ("unit", "twoway") else 1)
    if len(panel.times) < need:
        raise DataError(
            f"β-convergence with horizon {horizon} and fixed_effects={fixed_effects!r} needs "
            f"at least {need} periods; the panel has {len(panel.times)} "
            f"({', '.join(map(str, panel.times.tolist()))}). Fix: use a longer panel, a "
            "shorter horizon or fixed_effects='none'/'time'."
        )
    return _beta(panel, frame, var, controls, group, fixed_effects, horizon, vcov, alpha)


# ---------------------------------------------------------------------- sigma
def _sigma(panel: Panel, frame: pd.DataFrame, var: str, group: str | None) -> SigmaResult:
    if len(panel.times) < 3:
        raise DataError(
            f"σ-convergence needs at least 3 periods for the trend test; the panel has "
            f"{len(panel.times)}."
        )
    keys = [panel.time] if group is None else [group, panel.time]
    rows = []
    for key, part in frame.groupby(keys, sort=True, dropna=False):
        y = _values(part, var)
        y = y[~np.isnan(y)]
        row = dict(zip(keys, key, strict=True))
        n = y.size
        mean = float(y.mean()) if n else math.nan
        sd = float(np.std(y, ddof=1)) if n > 1 else math.nan
        sd_log = float(np.std(np.log(y), ddof=1)) if n > 1 else math.nan
        row.update(n=n, mean=mean, sd=sd, cv=sd / mean, sd_log=sd_log)
        rows.append(row)
    by_year = pd.DataFrame(rows)
    trend_rows = []
    groups = [(None, by_year)] if group is None else list(by_year.groupby(group, dropna=False))
    for g, part in groups:
        for measure in ("cv", "sd_log"):
            sub = part.dropna(subset=[measure])
            slope, se, t, p = _trend(sub[panel.time].to_numpy(float), sub[measure].to_numpy())
            row = {} if group is None else {group: g[0] if isinstance(g, tuple) else g}
            row.update(measure=measure, slope=slope, se=se, t=t, pvalue=p, n_periods=len(sub))
            trend_rows.append(row)
    return SigmaResult(
        by_year=by_year,
        trend=pd.DataFrame(trend_rows),
        var=var,
        by=group,
        meta={"ddof": 1},
    )


def _trend(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    n = t.size
    if n < 3:
        return (math.nan,) * 4
    x = np.column_stack([np.ones(n), t - t.mean()])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    s2 = float(resid @ resid) / (n - 2)
    se = math.sqrt(s2 / float(((t - t.mean()) ** 2).sum()))
    slope = float(coef[1])
    tstat = slope / se if se > 0 else math.nan
    p = float(2 * sps.t.sf(abs(tstat), n - 2)) if se > 0 else math.nan
    return slope, se, tstat, p


# ---------------------------------------------------------------------- beta
def _beta(
    panel: Panel,
    frame: pd.DataFrame,
    var: str,
    controls: list[str],
    group: str | None,
    fixed_effects: str,
    horizon: int,
    vcov: str,
    alpha: float,
) -> BetaResult:
    data = frame.copy()
    lev = np.log(_values(data, var))
    keyed = pd.Series(lev, index=pd.MultiIndex.from_arrays([data[panel.unit], data[panel.time]]))
    ahead = keyed.reindex(
        pd.MultiIndex.from_arrays([data[panel.unit], data[panel.time] + horizon])
    ).to_numpy()
    data["_growth"] = ahead - lev
    data["_lny"] = lev
    cols = ["_growth", "_lny", *controls]
    if group is None:
        samples: list[tuple[Any, pd.DataFrame]] = [("all", data)]
    else:
        samples = [("all", data)] + [
            (g[0] if isinstance(g, tuple) else g, part)
            for g, part in data.groupby(group, sort=True, dropna=False)
        ]
    est_rows, param_rows = [], []
    dropped: dict[str, int] = {}
    for label, part in samples:
        values = np.column_stack([_values(part, c) for c in cols])
        ok = ~np.isnan(values).any(axis=1)
        dropped[str(label)] = int((~ok).sum())
        used = part.loc[ok]
        fit = _ols_fe(
            values[ok, 0],
            values[ok, 1:],
            used[panel.unit].to_numpy(),
            used[panel.time].to_numpy(),
            fixed_effects,
            vcov,
        )
        names = [f"ln_{var}", *controls]
        dof = fit["dof"]
        for j, name in enumerate(names):
            b, s = float(fit["coef"][j]), float(fit["se"][j])
            t = b / s if s > 0 else math.nan
            p = float(2 * sps.t.sf(abs(t), dof)) if s > 0 else math.nan
            param_rows.append(
                {"group": label, "term": name, "estimate": b, "se": s, "t": t, "pvalue": p}
            )
        beta, se = float(fit["coef"][0]), float(fit["se"][0])
        crit = float(sps.t.ppf(1 - alpha / 2, dof))
        speed = -math.log1p(beta) / horizon if beta > -1 else math.nan
        half = math.log(2.0) / speed if speed > 0 else math.nan
        t = beta / se if se > 0 else math.nan
        est_rows.append(
            {
                "group": label,
                "beta": beta,
                "se": se,
                "t": t,
                "pvalue": float(2 * sps.t.sf(abs(t), dof)) if se > 0 else math.nan,
                "ci_low": beta - crit * se,
                "ci_high": beta + crit * se,
                "speed": speed,
                "half_life": half,
                "n_obs": int(ok.sum()),
                "n_units": int(used[panel.unit].nunique()),
                "r2": fit["r2"],
            }
        )
    return BetaResult(
        estimates=pd.DataFrame(est_rows),
        params=pd.DataFrame(param_rows),
        var=var,
        meta={
            "kind": "conditional" if controls else "absolute",
            "controls": list(controls),
            "fixed_effects": fixed_effects,
            "horizon": horizon,
            "vcov": "CR1 clustered by unit" if vcov == "cluster" else "iid",
            "n_dropped": dropped,
            "dropped_reason": "no value of ln y at t + horizon, or a missing control",
            "by": group,
        },
    )


def _dummies(codes: np.ndarray) -> tuple[np.ndarray, int]:
    idx, levels = pd.factorize(codes, sort=True)
    d = np.zeros((codes.size, len(levels)))
    d[np.arange(codes.size), idx] = 1.0
    return d[:, 1:], len(levels)


def _ols_fe(
    y: np.ndarray,
    x: np.ndarray,
    unit: np.ndarray,
    time: np.ndarray,
    fixed_effects: str,
    vcov: str,
) -> dict[str, Any]:
    """OLS of y on x with dummy fixed effects; slopes first in the result."""
    n, k = x.shape
    blocks = [x, np.ones((n, 1))]
    n_unit_fe = n_time_fe = 0
    if fixed_effects in ("unit", "twoway"):
        du, _ = _dummies(unit)
        blocks.append(du)
        n_unit_fe = du.shape[1]
    if fixed_effects in ("time", "twoway"):
        dt, _ = _dummies(time)
        blocks.append(dt)
        n_time_fe = dt.shape[1]
    design = np.column_stack(blocks)
    rank = int(np.linalg.matrix_rank(design))
    if rank < design.shape[1] or n <= rank:
        raise DataError(
            f"β-convergence regression is not identified ({n} observations, rank {rank} of "
            f"{design.shape[1]} columns): too few periods or units, or a control is collinear "
            "with the fixed effects."
        )
    xtx_inv = np.linalg.inv(design.T @ design)
    coef = xtx_inv @ design.T @ y
    resid = y - design @ coef
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - rss / tss if tss > 0 else math.nan
    if vcov == "iid":
        dof = n - design.shape[1]
        cov = xtx_inv * rss / dof
    else:
        codes, levels = pd.factorize(unit)
        g = len(levels)
        scores = np.zeros((g, design.shape[1]))
        np.add.at(scores, codes, design * resid[:, None])
        meat = scores.T @ scores
        # K: slopes + intercept + fixed effects not nested in the cluster (unit).
        k_eff = k + 1 + n_time_fe
        factor = g / (g - 1) * (n - 1) / (n - k_eff)
        cov = factor * xtx_inv @ meat @ xtx_inv
        dof = g - 1
    se = np.sqrt(np.diag(cov)[:k])
    return {"coef": coef[:k], "se": se, "dof": dof, "r2": r2, "n_unit_fe": n_unit_fe}
