r"""Specification tests for fixed-effects spatial panel models.

* :func:`lm_tests` — LM-lag, LM-error and their robust versions (Anselin, Bera, Florax &
  Yoon 1996; panel form of Elhorst 2014, ch. 3.5 / Debarsy & Ertur 2010) on the residuals
  of the non-spatial fixed-effects regression.
* :func:`sdm_restrictions` — Wald and LR tests of the spatial Durbin model against the
  SAR (:math:`\theta = 0`) and the SEM (:math:`\theta + \rho\beta = 0`, the common-factor
  restriction) (Elhorst 2014, ch. 3.6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.panel import Panel
from agglomera.errors import SpecError
from agglomera.spatial import _spatial_ml as ml

__all__ = ["SpecTestResult", "lm_tests", "sdm_restrictions"]


@dataclass(frozen=True)
class SpecTestResult:
    """Table of test statistics (``to_frame()``: ``test``, ``statistic``, ``df``, ``pvalue``)."""

    table: pd.DataFrame
    description: str

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the table."""
        return self.table.copy()

    def summary(self) -> str:
        """Plain-text summary."""
        return self.description + "\n" + self.table.to_string(index=False)

    def __getitem__(self, test: str) -> float:
        """Statistic of one test by name."""
        row = self.table.loc[self.table["test"] == test, "statistic"]
        return float(row.to_numpy(dtype=float)[0])

    def pvalue(self, test: str) -> float:
        """p-value of one test by name."""
        row = self.table.loc[self.table["test"] == test, "pvalue"]
        return float(row.to_numpy(dtype=float)[0])


def lm_tests(
    panel: Panel,
    *,
    y: str,
    x: Sequence[str],
    w: Any,
    effects: Literal["unit", "time", "twoway"] = "unit",
) -> SpecTestResult:
    r"""LM tests for a spatial lag and a spatial error in a fixed-effects panel regression.

    Parameters
    ----------
    panel, y, x, w, effects
        As in :func:`agglomera.spatial.panel_models.panel_model`.

    Returns
    -------
    SpecTestResult
        Rows ``LM-lag``, ``robust LM-lag``, ``LM-error``, ``robust LM-error``; χ²(1).

    Notes
    -----
    With :math:`e` the residuals of OLS of :math:`Qy` on :math:`QX`,
    :math:`\hat\sigma^2 = e'e/(NT)`, :math:`\mathbf W = I_T\otimes W`,
    :math:`T_W = \operatorname{tr}(WW + W'W)`, :math:`M = I - QX(X'QX)^{-1}X'Q` and
    :math:`J = [(\mathbf W QX\hat\beta)'M(\mathbf W QX\hat\beta)
    + T\,T_W\hat\sigma^2]/\hat\sigma^2`, :math:`g_\rho = e'\mathbf W Qy/\hat\sigma^2`,
    :math:`g_\lambda = e'\mathbf W e/\hat\sigma^2`:

    .. math::
        LM_\rho = \frac{g_\rho^2}{J},\quad
        LM_\lambda = \frac{g_\lambda^2}{T\,T_W},

    .. math::
        LM^*_\rho = \frac{(g_\rho - g_\lambda)^2}{J - T\,T_W},\quad
        LM^*_\lambda = \frac{(g_\lambda - (T T_W/J)\,g_\rho)^2}{T\,T_W\,(1 - T T_W/J)}.

    Spatial lags are formed on the raw data and then demeaned. The ML variance
    :math:`e'e/(NT)` is used (Elhorst's ``LMsarsem_panel``); pysal spreg's panel LM
    functions use :math:`e'e/(NT-K)` and pooled OLS with a constant.

    References
    ----------
    Anselin, L., Bera, A. K., Florax, R. and Yoon, M. J. (1996). Simple diagnostic tests
    for spatial dependence. *Regional Science and Urban Economics* 26, 77–104.
    Elhorst, J. P. (2014). *Spatial Econometrics*, ch. 3. Springer.
    """
    from agglomera.spatial.panel_models import _prepare

    if effects not in ml.EFFECTS:
        raise SpecError(f"effects must be one of {ml.EFFECTS}; got {effects!r}.")
    d, w_mat, _, _, _, _, _ = _prepare(panel, y, list(x), w, "sar", effects, False)
    n, t = d.n, d.t
    z = d.z
    beta = np.linalg.lstsq(z, d.y, rcond=None)[0]
    e = d.y - z @ beta
    s2 = float(e @ e) / (n * t)
    we = ml.demean(ml.lag(w_mat, e.reshape(t, n)), effects).ravel()
    tw = float(np.sum(w_mat * w_mat.T) + np.sum(w_mat * w_mat))
    wxb = ml.demean(ml.lag(w_mat, (z @ beta).reshape(t, n)), effects).ravel()
    proj = z @ np.linalg.lstsq(z, wxb, rcond=None)[0]
    j = (float(wxb @ (wxb - proj)) + t * tw * s2) / s2
    g_lag = float(e @ d.wy) / s2
    g_err = float(e @ we) / s2
    stat = {
        "LM-lag": g_lag**2 / j,
        "robust LM-lag": (g_lag - g_err) ** 2 / (j - t * tw),
        "LM-error": g_err**2 / (t * tw),
        "robust LM-error": (g_err - t * tw / j * g_lag) ** 2 / (t * tw * (1 - t * tw / j)),
    }
    table = pd.DataFrame(
        {
            "test": list(stat),
            "statistic": list(stat.values()),
            "df": 1,
            "pvalue": [float(stats.chi2.sf(v, 1)) for v in stat.values()],
        }
    )
    return SpecTestResult(
        table=table,
        description=f"LM tests on the residuals of the {effects} fixed-effects regression "
        f"of {y} (N = {n}, T = {t}); H0: no spatial lag / no spatial error.",
    )


def sdm_restrictions(result: Any) -> SpecTestResult:
    r"""Wald and LR tests of the SDM against the SAR and the SEM.

    Parameters
    ----------
    result : SpatialPanelResult
        A fitted ``model="sdm"`` result.

    Returns
    -------
    SpecTestResult
        Rows ``Wald theta=0``, ``LR theta=0`` (SDM vs SAR) and
        ``Wald theta+rho*beta=0``, ``LR theta+rho*beta=0`` (SDM vs SEM), χ²(k).

    Notes
    -----
    Wald: :math:`g'(\nabla g\,\hat V\,\nabla g')^{-1}g` with :math:`g = \theta` or
    :math:`g = \theta + \rho\beta` (gradient :math:`[\rho I_k,\ I_k,\ \beta]` with respect
    to :math:`(\beta, \theta, \rho)`). LR: :math:`2(\ln L_{SDM} - \ln L_{R})`, the
    restricted model (SAR or SEM) re-estimated with the same fixed effects and Lee–Yu
    setting (Elhorst 2014, ch. 3.6; Burridge 1981 for the common-factor hypothesis).
    With ``lee_yu=True`` and two-way effects the log-likelihoods are evaluated at the
    bias-corrected parameters, which are not maxima; the Wald tests are then preferable.
    """
    from agglomera.spatial.panel_models import _estimate, _prepare

    if result.model != "sdm":
        raise SpecError(f"sdm_restrictions needs a model='sdm' result; got {result.model!r}.")
    fit = result._fit
    k = len(fit.x)
    est = result.params.to_numpy()
    beta, theta, rho = est[:k], est[k:], result.rho
    cov = result.cov.to_numpy()
    rows = []
    g1 = theta
    jac1 = np.hstack([np.zeros((k, k)), np.eye(k), np.zeros((k, 1))])
    g2 = theta + rho * beta
    jac2 = np.hstack([rho * np.eye(k), np.eye(k), beta[:, None]])
    lls = {}
    for model in ("sar", "sem"):
        prep = _prepare(
            fit.panel, fit.y, list(fit.x), fit.w, model, result.effects_fe, result.lee_yu
        )
        lls[model] = _estimate(prep, model, result.effects_fe, result.lee_yu).loglik
    for label, g, jac, restricted in (
        ("theta=0", g1, jac1, "sar"),
        ("theta+rho*beta=0", g2, jac2, "sem"),
    ):
        wald = float(g @ np.linalg.solve(jac @ cov @ jac.T, g))
        lr = 2.0 * (result.loglik - lls[restricted])
        rows.append({"test": f"Wald {label}", "statistic": wald, "df": k})
        rows.append({"test": f"LR {label}", "statistic": lr, "df": k})
    table = pd.DataFrame(rows)
    table["pvalue"] = [
        float(stats.chi2.sf(s, dfk)) for s, dfk in zip(table["statistic"], table["df"], strict=True)
    ]
    return SpecTestResult(
        table=table,
        description="SDM restrictions: theta = 0 (SAR) and theta + rho*beta = 0 (SEM).",
    )
