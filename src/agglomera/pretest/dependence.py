r"""Tests of cross-sectional dependence in panels: Pesaran CD, Breusch–Pagan LM, scaled LM.

All statistics are functions of the pairwise correlations :math:`\hat\rho_{ij}` of the
residuals of units *i* and *j* over their :math:`T_{ij}` common periods, as in R's
``plm::pcdtest`` (plm 2.6), whose conventions are followed (and reproduced to rounding
error; see ``tests/reference/pretest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.checks import require_panel
from agglomera.data.panel import Panel
from agglomera.errors import EstimationError, SpecError, format_examples
from agglomera.pretest.table import PretestResult, _check_values, _ols

__all__ = ["cross_section_dependence", "pesaran_cd"]

Model = Literal["unit", "pooling", "within"]
Test = Literal["cd", "lm", "sclm", "bcsclm"]
_NAMES = {
    "cd": ("Pesaran CD", "CD"),
    "lm": ("Breusch-Pagan LM", "chisq"),
    "sclm": ("Pesaran scaled LM", "z"),
    "bcsclm": ("Baltagi-Feng-Kao bias-corrected scaled LM", "z"),
}


def _residuals(panel: Panel, y: str, x: Sequence[str], model: Model) -> pd.DataFrame:
    """Residuals in long form (unit, time, e) of the chosen regression."""
    frame = panel.to_frame()
    units = frame[panel.unit].to_numpy()
    yv = frame[y].to_numpy(dtype=float)
    xv = frame[list(x)].to_numpy(dtype=float) if x else np.empty((len(frame), 0))
    resid = np.empty(len(frame))
    codes, uniq = pd.factorize(units, sort=True)
    if model == "unit":
        short = []
        for g in range(len(uniq)):
            rows = np.flatnonzero(codes == g)
            if len(rows) < xv.shape[1] + 2:
                short.append(uniq[g])
                continue
            design = np.column_stack([np.ones(len(rows)), xv[rows]])
            resid[rows] = _ols(design, yv[rows])[1]
        if short:
            raise EstimationError(
                f"pesaran_cd: units {format_examples(list(short))} have too few periods for a "
                f"unit-by-unit regression on {len(x)} regressors. Fix: use model='within'."
            )
    elif model == "pooling":
        design = np.column_stack([np.ones(len(frame)), xv])
        resid = _ols(design, yv)[1]
    else:
        counts = np.bincount(codes)

        def demean(a: np.ndarray) -> np.ndarray:
            sums = np.zeros((len(uniq), *a.shape[1:]))
            np.add.at(sums, codes, a)
            return a - (sums / counts.reshape(-1, *([1] * (a.ndim - 1))))[codes]

        yw = demean(yv)
        resid = _ols(demean(xv), yw)[1] if xv.shape[1] else yw
    return pd.DataFrame({"unit": units, "time": frame[panel.time].to_numpy(), "e": resid})


def _pairwise(wide: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete correlations and common-period counts of the columns of ``wide``."""
    present = ~np.isnan(wide)
    n = wide.shape[1]
    tij = present.T.astype(float) @ present.astype(float)
    if present.all():  # balanced: one matrix product
        centred = wide - wide.mean(axis=0)
        norms = np.sqrt(np.sum(centred**2, axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return (centred.T @ centred) / np.outer(norms, norms), tij
    rho = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(i):
            both = present[:, i] & present[:, j]
            if both.sum() < 2:
                continue
            a = wide[both, i] - wide[both, i].mean()
            b = wide[both, j] - wide[both, j].mean()
            denom = np.sqrt((a @ a) * (b @ b))
            rho[i, j] = (a @ b) / denom if denom > 0 else np.nan
    return rho, tij


def cross_section_dependence(
    residuals: pd.DataFrame | np.ndarray,
    *,
    test: Test = "cd",
    label: str = "residuals",
) -> PretestResult:
    r"""Cross-sectional dependence test on a matrix of residuals (periods × units).

    Parameters
    ----------
    residuals : pandas.DataFrame or numpy.ndarray
        Periods in rows, units in columns; NaN marks a period in which a unit is not
        observed (pairs use their common periods).
    test : {"cd", "lm", "sclm", "bcsclm"}, default "cd"
        Statistic (see Notes).
    label : str
        Name reported as the variable.

    Returns
    -------
    PretestResult
        ``meta`` holds ``pairs`` (number of pairs used), ``mean_rho`` and
        ``mean_abs_rho``.

    Notes
    -----
    Over the :math:`P` pairs :math:`i < j` with :math:`T_{ij} \ge 2` common periods:

    * Pesaran (2004, 2015) CD: :math:`\sqrt{1/P}\,\sum \sqrt{T_{ij}}\,\hat\rho_{ij}`,
      N(0, 1), two-sided;
    * Breusch–Pagan (1980) LM: :math:`\sum T_{ij}\hat\rho_{ij}^2`, :math:`\chi^2_P`;
    * Pesaran (2004) scaled LM: :math:`\sqrt{1/(2P)}\,\sum (T_{ij}\hat\rho_{ij}^2 - 1)`,
      N(0, 1), two-sided;
    * Baltagi, Feng & Kao (2012) bias-corrected scaled LM: the scaled LM minus
      :math:`N / (2(T - 1))` with :math:`T = \max T_{ij}` (meant for within residuals).

    References
    ----------
    Breusch, T. S. and Pagan, A. R. (1980). *Review of Economic Studies* 47, 239–253.
    Pesaran, M. H. (2004). General diagnostic tests for cross section dependence in
    panels. CESifo Working Paper 1229; (2015) *Econometric Reviews* 34, 1089–1117.
    Baltagi, B. H., Feng, Q. and Kao, C. (2012). *Journal of Econometrics* 170, 164–177.
    """
    if test not in _NAMES:
        raise SpecError(f"test must be one of {tuple(_NAMES)}; got {test!r}.")
    wide = np.asarray(residuals, dtype=float)
    if wide.ndim != 2 or wide.shape[1] < 2:
        raise EstimationError("cross-sectional dependence needs at least two units (columns).")
    n = wide.shape[1]
    rho, tij = _pairwise(wide)
    lower = np.tril(np.ones((n, n), dtype=bool), k=-1) & (tij > 1) & ~np.isnan(rho)
    pairs = int(lower.sum())
    if pairs == 0:
        raise EstimationError("no pair of units shares two or more periods.")
    r, t = rho[lower], tij[lower]
    df: int | None = None
    if test == "cd":
        stat = np.sqrt(1.0 / pairs) * np.sum(np.sqrt(t) * r)
        pvalue = 2 * stats.norm.sf(abs(stat))
    elif test == "lm":
        stat = np.sum(t * r**2)
        df = pairs
        pvalue = stats.chi2.sf(stat, pairs)
    else:
        stat = np.sqrt(1.0 / (2 * pairs)) * np.sum(t * r**2 - 1)
        if test == "bcsclm":
            stat -= n / (2 * (tij.max() - 1))
        pvalue = 2 * stats.norm.sf(abs(stat))
    name, stat_name = _NAMES[test]
    omitted = n * (n - 1) // 2 - pairs
    return PretestResult(
        test=name,
        variable=label,
        statistic_name=stat_name,
        statistic=float(stat),
        pvalue=float(pvalue),
        null="no cross-sectional dependence",
        deterministic="",
        lags=(),
        n_units=n,
        n_periods=wide.shape[0],
        df=df,
        meta={
            "pairs": pairs,
            "mean_rho": float(r.mean()),
            "mean_abs_rho": float(np.abs(r).mean()),
            "note": f"{omitted} pairs with < 2 common periods omitted" if omitted else "",
        },
    )


def pesaran_cd(
    panel: Panel,
    y: str,
    x: Sequence[str] = (),
    *,
    model: Model = "unit",
    test: Test = "cd",
) -> PretestResult:
    r"""Pesaran's CD test (or LM / scaled LM) of cross-sectional dependence.

    Parameters
    ----------
    panel : Panel
        Panel (may be unbalanced: pairs use their common periods) without missing values
        in ``y`` and ``x``.
    y : str
        Variable (or dependent variable of the regression).
    x : sequence of str, default ()
        Regressors. With none, the test is on ``y`` itself (its correlations across
        units).
    model : {"unit", "pooling", "within"}, default "unit"
        Residuals tested: ``"unit"`` — a separate OLS regression of ``y`` on an intercept
        and ``x`` for every unit (plm's default, ``model = NULL``; Pesaran 2004);
        ``"pooling"`` — pooled OLS with an intercept; ``"within"`` — the
        individual fixed-effects (within) regression.
    test : {"cd", "lm", "sclm", "bcsclm"}, default "cd"
        Statistic; see :func:`cross_section_dependence`. ``"bcsclm"`` requires
        ``model="within"``.

    Returns
    -------
    PretestResult
        Statistic, two-sided normal p-value (χ² for ``"lm"``); ``deterministic`` names
        the residual model.

    Notes
    -----
    :math:`CD = \sqrt{2/(N(N-1))}\,\sum_{i<j}\sqrt{T_{ij}}\,\hat\rho_{ij}` with
    :math:`\hat\rho_{ij}` the correlation of the residuals of units *i* and *j*; see
    :func:`cross_section_dependence` for the other statistics.

    References
    ----------
    Pesaran, M. H. (2004). General diagnostic tests for cross section dependence in
    panels. CESifo Working Paper 1229. Pesaran, M. H. (2015). Testing weak
    cross-sectional dependence in large panels. *Econometric Reviews* 34, 1089–1117.
    """
    fn = "pesaran_cd"
    panel = require_panel(panel, fn)
    if model not in ("unit", "pooling", "within"):
        raise SpecError(f"{fn}: model must be 'unit', 'pooling' or 'within'; got {model!r}.")
    if test == "bcsclm" and model != "within":
        raise SpecError(f"{fn}: test='bcsclm' requires model='within'.")
    x = list(x)
    _check_values(panel, [y, *x], fn)
    long = _residuals(panel, y, x, model)
    wide = long.pivot(index="time", columns="unit", values="e")
    label = f"{y} ~ {' + '.join(x)}" if x else y
    res = cross_section_dependence(wide.to_numpy(), test=test, label=label)
    meta = dict(res.meta)
    meta["model"] = model
    meta["units"] = tuple(wide.columns)
    return PretestResult(
        test=res.test,
        variable=label,
        statistic_name=res.statistic_name,
        statistic=res.statistic,
        pvalue=res.pvalue,
        null=res.null,
        deterministic=f"{model} residuals" if x else "",
        lags=(),
        n_units=res.n_units,
        n_periods=res.n_periods,
        df=res.df,
        meta=meta,
    )
