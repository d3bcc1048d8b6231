r"""Hausman (1978) test of fixed against random effects, as R's ``plm::phtest``.

The random-effects model uses the Swamy–Arora (1972) variance components, plm's default;
both covariance matrices are the classical (non-robust) ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from agglomera.data.checks import require_balanced, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import EstimationError
from agglomera.pretest.table import (
    PretestResult,
    _check_values,
    _ols,
)

__all__ = ["hausman"]


def hausman(panel: Panel, y: str, x: Sequence[str]) -> PretestResult:
    r"""Hausman test of fixed against random effects (are the slopes the same?).

    Parameters
    ----------
    panel : Panel
        A balanced panel without missing values in ``y`` and ``x``.
    y : str
        Dependent variable.
    x : sequence of str
        Regressors (time-varying; an intercept is added to the random-effects model).

    Returns
    -------
    PretestResult
        ``statistic`` is :math:`H`, χ² with ``df = len(x)`` under the null that the
        individual effects are uncorrelated with the regressors (random effects
        consistent and efficient). ``meta`` holds both coefficient vectors, ``theta`` and
        the variance components.

    Raises
    ------
    DataError
        Unbalanced panel (naming the units) or missing values.
    EstimationError
        Negative between-variance estimate (random effects degenerate to pooled OLS) or
        a singular variance difference.

    Notes
    -----
    Within (FE) estimate :math:`\hat\beta_{FE}` with
    :math:`\hat V_{FE} = \hat\sigma^2_\nu (\tilde X'\tilde X)^{-1}`,
    :math:`\hat\sigma^2_\nu = \tilde e'\tilde e/(NT - N - K)`. Swamy–Arora components:
    :math:`\hat\sigma^2_1 = T\,\bar e'\bar e/(N - K - 1)` from the between regression on
    unit means, :math:`\theta = 1 - \sqrt{\hat\sigma^2_\nu/\hat\sigma^2_1}`. The RE
    estimate is OLS of :math:`y_{it} - \theta\bar y_i` on
    :math:`(1 - \theta,\ x_{it} - \theta\bar x_i)` with
    :math:`\hat V_{RE} = s^2 (X^{*\prime}X^*)^{-1}`, :math:`s^2 = e^{*\prime}e^*/(NT - K - 1)`.
    Then

    .. math:: H = \bigl|(\hat\beta_{FE} - \hat\beta_{RE})'
              (\hat V_{FE} - \hat V_{RE})^{-1}(\hat\beta_{FE} - \hat\beta_{RE})\bigr|
              \sim \chi^2_K.

    The absolute value follows plm (the difference of the covariance matrices need not
    be positive definite in finite samples).

    References
    ----------
    Hausman, J. A. (1978). Specification tests in econometrics. *Econometrica* 46,
    1251–1271. Swamy, P. A. V. B. and Arora, S. S. (1972). *Econometrica* 40, 311–323.
    """
    fn = "hausman"
    panel = require_panel(panel, fn)
    x = list(x)
    if not x:
        raise EstimationError(f"{fn}: needs at least one regressor.")
    _check_values(panel, [y, *x], fn)
    require_balanced(panel, fn)
    frame = panel.to_frame()  # sorted by unit, time
    n, t = len(panel.units), len(panel.times)
    k = len(x)
    yv = frame[y].to_numpy(dtype=float).reshape(n, t)
    xv = frame[x].to_numpy(dtype=float).reshape(n, t, k)
    ybar, xbar = yv.mean(axis=1), xv.mean(axis=1)
    # within
    yw = (yv - ybar[:, None]).ravel()
    xw = (xv - xbar[:, None, :]).reshape(n * t, k)
    b_fe, e_w, inv_w = _ols(xw, yw)
    s2_nu = float(e_w @ e_w) / (n * t - n - k)
    v_fe = s2_nu * inv_w
    # between (unit means) -> Swamy-Arora sigma^2_1
    _, e_b, _ = _ols(np.column_stack([np.ones(n), xbar]), ybar)
    s2_one = t * float(e_b @ e_b) / (n - k - 1)
    s2_mu = (s2_one - s2_nu) / t
    if s2_mu <= 0:
        raise EstimationError(
            f"{fn}: the Swamy-Arora estimate of the individual-effect variance is not "
            f"positive ({s2_mu:.4g}); random effects collapse to pooled OLS and the Hausman "
            "contrast is not defined."
        )
    theta = 1.0 - np.sqrt(s2_nu / s2_one)
    ys = (yv - theta * ybar[:, None]).ravel()
    xs = np.column_stack(
        [np.full(n * t, 1.0 - theta), (xv - theta * xbar[:, None, :]).reshape(n * t, k)]
    )
    b_re_all, e_re, inv_re = _ols(xs, ys)
    s2_re = float(e_re @ e_re) / (n * t - k - 1)
    b_re, v_re = b_re_all[1:], s2_re * inv_re[1:, 1:]
    d = b_fe - b_re
    try:
        stat = float(abs(d @ np.linalg.solve(v_fe - v_re, d)))
    except np.linalg.LinAlgError as err:
        raise EstimationError(f"{fn}: V_FE - V_RE is singular.") from err
    return PretestResult(
        test="Hausman",
        variable=f"{y} ~ {' + '.join(x)}",
        statistic_name="chisq",
        statistic=stat,
        pvalue=float(stats.chi2.sf(stat, k)),
        null="random effects consistent (effects uncorrelated with regressors)",
        deterministic="FE (within) vs RE (Swamy-Arora)",
        lags=(),
        n_units=n,
        n_periods=t,
        df=k,
        meta={
            "b_fe": dict(zip(x, b_fe.tolist(), strict=True)),
            "b_re": dict(zip(x, b_re.tolist(), strict=True)),
            "re_intercept": float(b_re_all[0]),
            "theta": float(theta),
            "sigma2_idios": s2_nu,
            "sigma2_id": float(s2_mu),
        },
    )
