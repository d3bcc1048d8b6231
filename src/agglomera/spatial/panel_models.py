r"""Fixed-effects spatial panel models by maximum likelihood (SAR, SEM, SDM, SDEM).

Models (Elhorst 2014, ch. 3), for periods :math:`t = 1..T` and :math:`N` units:

* SAR: :math:`y_t = \rho W y_t + X_t\beta + \mu + \alpha_t\iota + \varepsilon_t`
* SDM: :math:`y_t = \rho W y_t + X_t\beta + W X_t\theta + \mu + \alpha_t\iota + \varepsilon_t`
* SEM: :math:`y_t = X_t\beta + \mu + \alpha_t\iota + u_t,\ u_t = \lambda W u_t + \varepsilon_t`
* SDEM: SEM with :math:`W X_t\theta` added,

with unit effects :math:`\mu`, time effects :math:`\alpha_t` or both, removed by
demeaning and estimated by concentrated maximum likelihood (see
:mod:`agglomera.spatial._spatial_ml`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.checks import require_balanced, require_finite, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples
from agglomera.spatial import _spatial_ml as ml

__all__ = ["SpatialPanelResult", "panel_model"]

MODELS = ("sar", "sem", "sdm", "sdem")


@dataclass(frozen=True)
class _Fit:
    """Internal state kept for effects, tests and refits (not part of the public API)."""

    design: ml.Design
    w: np.ndarray
    eig: ml.Eigen
    cov_full: np.ndarray  # covariance of (params..., spatial, sigma2)
    panel: Panel
    y: str
    x: tuple[str, ...]


@dataclass(frozen=True)
class SpatialPanelResult:
    """Result of :func:`panel_model`.

    Attributes
    ----------
    model, effects_fe : str
        Model (``"sar"``, ``"sem"``, ``"sdm"``, ``"sdem"``) and fixed effects.
    rho, lam : float
        Spatial-lag coefficient (SAR/SDM) and spatial-error coefficient (SEM/SDEM);
        the other one is NaN.
    rho_se, lam_se : float
        Their standard errors (NaN when not in the model).
    params, se : pandas.Series
        Coefficients by name; spatial lags of regressors are named ``W.<x>``.
    sigma2 : float
        Error variance (ML; Lee–Yu corrected when ``lee_yu``).
    loglik : float
        Log-likelihood at the estimates (of the transformed model when ``lee_yu``).
    n_obs, n_units, n_periods : int
    lee_yu : bool
    cov : pandas.DataFrame
        Covariance of the coefficients and the spatial parameter, from the inverse of
        the analytical information matrix.
    """

    model: str
    effects_fe: str
    rho: float
    lam: float
    rho_se: float
    lam_se: float
    params: pd.Series
    se: pd.Series
    sigma2: float
    sigma2_se: float
    loglik: float
    n_obs: int
    n_units: int
    n_periods: int
    lee_yu: bool
    cov: pd.DataFrame
    notes: tuple[str, ...] = ()
    _fit: _Fit | None = field(default=None, repr=False, compare=False)

    @property
    def spatial(self) -> float:
        """The model's spatial parameter (ρ for SAR/SDM, λ for SEM/SDEM)."""
        return self.rho if self.model in ("sar", "sdm") else self.lam

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: ``term``, ``estimate``, ``se``, ``z``, ``pvalue``."""
        name = "rho" if self.model in ("sar", "sdm") else "lambda"
        est = pd.concat([self.params, pd.Series({name: self.spatial})])
        se = pd.concat([self.se, pd.Series({name: self.rho_se if name == "rho" else self.lam_se})])
        z = est / se
        return pd.DataFrame(
            {
                "term": est.index,
                "estimate": est.to_numpy(),
                "se": se.to_numpy(),
                "z": z.to_numpy(),
                "pvalue": 2 * stats.norm.sf(np.abs(z.to_numpy())),
            }
        )

    def summary(self) -> str:
        """Plain-text summary."""
        fe = {"unit": "unit", "time": "time", "twoway": "unit and time"}[self.effects_fe]
        lines = [
            f"Spatial panel {self.model.upper()} with {fe} fixed effects (ML"
            + (", Lee-Yu corrected)" if self.lee_yu else ")"),
            f"N = {self.n_units}, T = {self.n_periods}, observations = {self.n_obs}",
            f"log-likelihood = {self.loglik:.4f}, sigma2 = {self.sigma2:.6g}",
            "",
            self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.6f}"),
        ]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def effects(self, draws: int = 1000, seed: int | None = 0) -> pd.DataFrame:
        """LeSage–Pace direct, indirect and total effects (see :func:`effects.effects`)."""
        from agglomera.spatial.effects import effects

        return effects(self, draws=draws, seed=seed)


def panel_model(
    panel: Panel,
    *,
    y: str,
    x: Sequence[str],
    w: Any,
    model: Literal["sar", "sem", "sdm", "sdem"] = "sar",
    effects: Literal["unit", "time", "twoway"] = "unit",
    lee_yu: bool = False,
) -> SpatialPanelResult:
    r"""Estimate a fixed-effects spatial panel model by maximum likelihood.

    Parameters
    ----------
    panel : Panel
        Balanced panel without missing values in ``y`` and ``x``.
    y : str
        Dependent variable.
    x : sequence of str
        Regressors (time-varying; no constant — the fixed effects absorb it).
    w : libpysal.weights.W or array
        Spatial weights. A ``W`` is aligned to the panel's units by id; a square array
        must be ordered like the sorted unit ids (``panel.units``). Used as given (row
        standardise it yourself; the Lee–Yu time-effects transformation requires a
        row-standardised matrix).
    model : {"sar", "sem", "sdm", "sdem"}, default "sar"
    effects : {"unit", "time", "twoway"}, default "unit"
    lee_yu : bool, default False
        Lee & Yu (2010) correction of the incidental-parameter bias. ``effects="unit"``:
        the transformation approach with :math:`T-1` periods (same ρ and β; σ² times
        :math:`T/(T-1)`; information matrix with :math:`T-1`). ``"time"``: the
        transformation approach with :math:`N-1` units (the unit eigenvalue of W leaves
        the Jacobian, so ρ changes). ``"twoway"``: the bias-corrected direct estimator
        (Lee & Yu 2010; Elhorst's ``sar_panel_FE``; R SDPDmod ``LYtrans = TRUE``), see
        :func:`agglomera.spatial._spatial_ml.bias_correct_twoway`.

    Returns
    -------
    SpatialPanelResult

    Raises
    ------
    SpecError
        Unknown ``model`` or ``effects``.
    DataError
        Unbalanced panel, missing values, unknown columns, a weights matrix that does not
        match the units, islands.
    EstimationError
        Spatial parameter at the boundary, singular information matrix.

    Notes
    -----
    Concentrated log-likelihood of the lag models on demeaned data
    (Elhorst 2014, ch. 3):

    .. math:: \ln L(\rho) = C - \tfrac{NT}{2}\ln\,(e_0 - \rho e_1)'(e_0 - \rho e_1)
              + T \ln|I_N - \rho W|,

    :math:`e_0, e_1` the residuals of :math:`Qy` and :math:`Q(I_T\otimes W)y` on the
    demeaned regressors. The error models concentrate β(λ) by GLS on
    :math:`Q(y - \lambda W y)`, :math:`Q(Z - \lambda W Z)`. Spatial lags are formed on
    the raw data and then demeaned (the exact fixed-effects likelihood). Standard errors
    come from the inverse of the analytical information matrix of (β, ρ or λ, σ²)
    given in Elhorst (2014, ch. 3) / Lee & Yu (2010, the direct approach), evaluated at
    the estimates.

    References
    ----------
    Elhorst, J. P. (2014). *Spatial Econometrics: From Cross-Sectional Data to Spatial
    Panels*. Springer, ch. 3. Lee, L.-F. and Yu, J. (2010). Estimation of spatial
    autoregressive panel data models with fixed effects. *Journal of Econometrics* 154,
    165–185. LeSage, J. and Pace, R. K. (2009). *Introduction to Spatial Econometrics*.
    CRC Press.
    """
    if model not in MODELS:
        raise SpecError(f"model must be one of {MODELS}; got {model!r}.")
    if effects not in ml.EFFECTS:
        raise SpecError(f"effects must be one of {ml.EFFECTS}; got {effects!r}.")
    fit_data = _prepare(panel, y, list(x), w, model, effects, lee_yu)
    return _estimate(fit_data, model, effects, lee_yu)


def _prepare(
    panel: Panel,
    y: str,
    x: list[str],
    w: Any,
    model: str,
    effects: str,
    lee_yu: bool,
) -> tuple[ml.Design, np.ndarray, ml.Eigen, Panel, str, tuple[str, ...], list[str]]:
    require_panel(panel, "panel_model")
    if not x:
        raise SpecError("x: give at least one regressor.")
    if y in x:
        raise SpecError(f"y ({y!r}) is also listed in x.")
    if len(set(x)) != len(x):
        raise SpecError(f"x has duplicate names: {x}.")
    for c in (y, *x):
        if c not in panel:
            raise DataError(f"column {c!r} is not in the panel; variables are {panel.variables}.")
    require_balanced(
        panel, "panel_model", why="When dropping units, drop their rows and columns of W too."
    )
    require_finite(panel, (y, *x), "panel_model", why="Spatial ML needs a complete balanced panel.")
    frame = panel.to_frame()
    units = panel.units
    n, t = len(units), len(panel.times)
    if (effects != "time" and t < 2) or (effects != "unit" and n < 3):
        raise DataError(
            f"{effects} fixed effects need at least 2 periods and 3 units; got T = {t}, N = {n}."
        )
    wmat = ml._as_dense(w, units.tolist())
    frame = frame.sort_values([panel.time, panel.unit], kind="mergesort")
    yv = frame[y].to_numpy(dtype=float).reshape(t, n)
    xv = frame[x].to_numpy(dtype=float).reshape(t, n, len(x))
    names = list(x)
    if model in ("sdm", "sdem"):
        xv = np.concatenate([xv, ml.lag(wmat, xv)], axis=2)
        names += [f"W.{v}" for v in x]
    time_adjust = lee_yu and effects == "time"
    if time_adjust and not ml.is_row_standardised(wmat):
        raise SpecError(
            "lee_yu=True with effects='time' needs a row-standardised W (the "
            "transformation removes its unit eigenvalue). Fix: row-standardise W."
        )
    n_eff = n - 1 if time_adjust else n
    t_eff = t - 1 if (lee_yu and effects == "unit") else t
    z = ml.demean(xv, effects).reshape(t * n, -1)
    sd = z.std(axis=0)
    flat = [names[j] for j in np.flatnonzero(sd <= 1e-12 * (1 + np.abs(xv).max()))]
    if flat:
        raise DataError(
            f"regressors without variation after removing the {effects} fixed effects: "
            f"{format_examples(flat)}. Fix: drop them (they are absorbed by the fixed effects)."
        )
    design = ml.Design(
        y=ml.demean(yv, effects).ravel(),
        wy=ml.demean(ml.lag(wmat, yv), effects).ravel(),
        z=z,
        wz=ml.demean(ml.lag(wmat, xv), effects).reshape(t * n, -1),
        n=n,
        t=t,
        n_eff=n_eff,
        t_eff=t_eff,
        time_adjust=time_adjust,
    )
    return design, wmat, ml.Eigen.of(wmat), panel, y, tuple(x), names


def _estimate(
    prepared: tuple[ml.Design, np.ndarray, ml.Eigen, Panel, str, tuple[str, ...], list[str]],
    model: str,
    effects: str,
    lee_yu: bool,
) -> SpatialPanelResult:
    d, wmat, eig, panel, y, x, names = prepared
    lag_model = model in ("sar", "sdm")
    if lag_model:
        spatial, beta, ssr, ll = ml.fit_lag(d, eig)
    else:
        spatial, beta, ssr, ll = ml.fit_error(d, eig)
    sigma2 = ssr / (d.n_eff * d.t_eff)
    notes: list[str] = []

    def info_at(s: float, b: np.ndarray, s2: float) -> np.ndarray:
        if lag_model:
            return ml.information_lag(d, wmat, s, b, s2)
        return ml.information_error(d, wmat, s, s2)

    info = info_at(spatial, beta, sigma2)
    if lee_yu and effects == "twoway":
        theta = ml.bias_correct_twoway(np.r_[beta, spatial, sigma2], info, d.n, d.t)
        k = beta.size
        beta, spatial, sigma2 = theta[:k], float(theta[k]), float(theta[k + 1])
        if not eig.lower < spatial < eig.upper:
            from agglomera.errors import EstimationError

            raise EstimationError(
                f"the bias-corrected spatial parameter {spatial:.4g} lies outside the "
                f"admissible interval ({eig.lower:.4g}, {eig.upper:.4g})."
            )
        resid_ssr = _ssr_at(d, spatial, beta, lag_model)
        ll = ml.loglik(resid_ssr, spatial, d, eig, sigma2=sigma2)
        info = info_at(spatial, beta, sigma2)
        notes.append(
            "Lee-Yu (2010) bias-corrected direct estimator; log-likelihood evaluated at "
            "the corrected parameters."
        )
    cov = ml.invert(info)
    k = beta.size
    se_all = np.sqrt(np.diag(cov))
    sname = "rho" if lag_model else "lambda"
    cov_df = pd.DataFrame(cov[: k + 1, : k + 1], index=[*names, sname], columns=[*names, sname])
    return SpatialPanelResult(
        model=model,
        effects_fe=effects,
        rho=float(spatial) if lag_model else float("nan"),
        lam=float("nan") if lag_model else float(spatial),
        rho_se=float(se_all[k]) if lag_model else float("nan"),
        lam_se=float("nan") if lag_model else float(se_all[k]),
        params=pd.Series(beta, index=names, name="estimate"),
        se=pd.Series(se_all[:k], index=names, name="se"),
        sigma2=float(sigma2),
        sigma2_se=float(se_all[k + 1]),
        loglik=float(ll),
        n_obs=d.n * d.t,
        n_units=d.n,
        n_periods=d.t,
        lee_yu=bool(lee_yu),
        cov=cov_df,
        notes=tuple(notes),
        _fit=_Fit(design=d, w=wmat, eig=eig, cov_full=cov, panel=panel, y=y, x=x),
    )


def _ssr_at(d: ml.Design, spatial: float, beta: np.ndarray, lag_model: bool) -> float:
    if lag_model:
        e = d.y - spatial * d.wy - d.z @ beta
    else:
        e = (d.y - spatial * d.wy) - (d.z - spatial * d.wz) @ beta
    return float(e @ e)
