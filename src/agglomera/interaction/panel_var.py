r"""Panel vector autoregression estimated by GMM (Holtz-Eakin, Newey & Rosen 1988).

:func:`panel_var` fits

.. math:: y_{it} = \mu_i + \sum_{l=1}^{p} A_l y_{i,t-l} + C s_{it} + \varepsilon_{it}

to a panel, removing the unit effects :math:`\mu_i` by forward orthogonal deviations
(FOD, Arellano & Bover 1995) or first differences and instrumenting the transformed lags
with lagged levels (GMM-style). The estimator, its instruments, the one weighting matrix
for the whole system and the Windmeijer (2005) corrected two-step standard errors are
those of R ``panelvar::pvargmm`` (Sigmund & Ferstl 2021) without system instruments;
Stata's ``pvar`` (Abrigo & Love 2016) is the same model family. :func:`select_order`
gives Andrews & Lu (2001) moment-and-model selection criteria as Stata ``pvarsoc``;
:class:`PanelVARResult` carries impulse responses with Monte Carlo or unit-bootstrap
bands, variance decompositions, Granger tests and the stability check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.panel import Panel
from agglomera.errors import EstimationError, SpecError, check_choice
from agglomera.interaction import _pvar_gmm as core
from agglomera.interaction._pvar_input import check_int, check_spec, grid
from agglomera.interaction._pvar_irf import (
    bootstrap_draws,
    bootstrap_weights,
    fevd_from_coef,
    irf_from_coef,
    montecarlo_draws,
    percentile_bands,
    safe_irfs,
)

__all__ = ["HansenJ", "PanelVARResult", "bootstrap_weights", "panel_var", "select_order"]


class HansenJ(NamedTuple):
    """Hansen (1982) test of the overidentifying restrictions."""

    statistic: float
    df: int
    pvalue: float


@dataclass(frozen=True)
class _Internals:
    design: core.PVARDesign
    products: core.UnitProducts
    groups: np.ndarray  # indices of units with at least one equation row


@dataclass(frozen=True)
class PanelVARResult:
    r"""Estimated panel VAR (see :func:`panel_var`).

    Attributes
    ----------
    variables : tuple of str
        Endogenous variables = equations, in the order given.
    exog : tuple of str
        Strictly exogenous regressors.
    lags, transform, steps, instrument_lags, collapse
        The options used.
    coef, se : DataFrame
        Coefficients and standard errors; index = equation (dependent variable),
        columns ``L1.<var>``, ``L2.<var>``, … then the exogenous variables. Two-step
        standard errors are Windmeijer-corrected; one-step ones are robust.
    vcov : DataFrame
        Covariance of the coefficients, labelled ``"<equation>:<regressor>"``.
    sigma : DataFrame
        Residual covariance :math:`\hat\Sigma = \hat E'\hat E/(n - K)` of the transformed
        equations (``panelvar``'s ``vcov``); halved under FD, whose errors
        :math:`\Delta\varepsilon` have covariance :math:`2\Sigma`.
    hansen_j : HansenJ
        Statistic, degrees of freedom (moments − parameters) and p-value.
    eigenvalues : ndarray
        Eigenvalues of the companion matrix (complex), largest modulus first.
    n_obs, n_groups, n_instruments : int
        Equation rows (unit-periods) used, units with at least one row, moment
        conditions (instruments × equations).
    dropped : Mapping
        Unit-periods of the grid not used, by reason.
    notes : tuple of str
        Conventions applied on this sample (generalised inverses, gaps).
    """

    variables: tuple[str, ...]
    exog: tuple[str, ...]
    lags: int
    transform: str
    steps: int
    instrument_lags: tuple[int, int]
    collapse: bool
    coef: pd.DataFrame
    se: pd.DataFrame
    vcov: pd.DataFrame
    sigma: pd.DataFrame
    hansen_j: HansenJ
    eigenvalues: np.ndarray
    n_obs: int
    n_groups: int
    n_instruments: int
    dropped: Mapping[str, int]
    notes: tuple[str, ...]
    _internals: _Internals = field(repr=False, compare=False)

    @property
    def moduli(self) -> np.ndarray:
        """Moduli of the companion-matrix eigenvalues (largest first)."""
        return np.abs(self.eigenvalues)

    @property
    def stable(self) -> bool:
        """True when every companion eigenvalue lies strictly inside the unit circle."""
        return bool(np.all(self.moduli < 1.0))

    # ------------------------------------------------------------------ inference
    def granger(self) -> pd.DataFrame:
        r"""Wald tests that the lags of a variable do not enter an equation.

        For each equation and each other variable, :math:`W = r'V_{rr}^{-1}r` on the
        ``lags`` coefficients of that variable (χ² with ``lags`` df), plus ``"ALL"``
        (all other variables jointly), as Stata ``pvargranger``.

        Returns
        -------
        DataFrame
            Columns ``equation``, ``excluded``, ``chi2``, ``df``, ``pvalue``.
        """
        m = len(self.variables)
        names = list(self.coef.columns)
        theta_index = {(j, k): k * m + j for j in range(m) for k in range(len(names))}
        v = self.vcov.to_numpy()
        rows = []
        for j, eq in enumerate(self.variables):
            others = [x for x in self.variables if x != eq]
            groups = [(x, [x]) for x in others]
            if len(others) > 1:
                groups.append(("ALL", others))
            for label, excl in groups:
                cols = [names.index(f"L{lag}.{x}") for x in excl for lag in range(1, self.lags + 1)]
                idx = [theta_index[(j, k)] for k in cols]
                r = self.coef.iloc[j, cols].to_numpy(dtype=float)
                stat = float(r @ np.linalg.solve(v[np.ix_(idx, idx)], r))
                df = len(idx)
                rows.append((eq, label, stat, df, float(stats.chi2.sf(stat, df))))
        return pd.DataFrame(rows, columns=["equation", "excluded", "chi2", "df", "pvalue"])

    def _ordering(self, ordering: Sequence[str] | None) -> list[int]:
        if ordering is None:
            return list(range(len(self.variables)))
        order = list(ordering)
        if sorted(order) != sorted(self.variables) or len(set(order)) != len(order):
            raise SpecError(
                f"ordering must list each of the variables {list(self.variables)} exactly "
                f"once; got {order}."
            )
        return [self.variables.index(x) for x in order]

    def irf(
        self,
        steps: int = 10,
        *,
        kind: str = "orthogonal",
        ordering: Sequence[str] | None = None,
        bands: str | None = "montecarlo",
        draws: int = 500,
        level: float = 0.95,
        seed: int = 0,
    ) -> pd.DataFrame:
        r"""Impulse responses with percentile bands.

        Parameters
        ----------
        steps : int, default 10
            Last horizon; step 0 is the impact response.
        kind : {"orthogonal", "generalized"}
            Cholesky-orthogonalised responses to one-standard-deviation shocks in
            ``ordering`` (earlier variables affect later ones on impact, not vice versa),
            or Pesaran & Shin (1998) generalised responses (order-free).
        ordering : sequence of str, optional
            Cholesky ordering; default the variable order given to :func:`panel_var`. It
            is recorded in ``frame.attrs["ordering"]``.
        bands : {"montecarlo", "bootstrap", None}
            ``"montecarlo"``: coefficients drawn from :math:`N(\hat b, \hat V)` with
            :math:`\Sigma` held at its estimate (Stata ``pvarirf, mc()``);
            ``"bootstrap"``: units resampled with replacement and the model re-estimated
            (``panelvar::bootstrap_irf``), :math:`\Sigma` re-estimated each time.
        draws : int, default 500
        level : float, default 0.95
            Coverage of the equal-tailed percentile band.
        seed : int, default 0

        Returns
        -------
        DataFrame
            Columns ``impulse``, ``response``, ``step``, ``irf``, ``lower``, ``upper``;
            ``attrs`` records kind, ordering, bands, draws, level, seed and failed draws.
        """
        steps = check_int("steps", steps, minimum=0)
        check_choice("kind", kind, ("orthogonal", "generalized"))
        if bands not in ("montecarlo", "bootstrap", None):
            raise SpecError(f"bands must be 'montecarlo', 'bootstrap' or None; got {bands!r}.")
        if not 0.0 < float(level) < 1.0:
            raise SpecError(f"level must lie strictly between 0 and 1; got {level!r}.")
        order = self._ordering(ordering)
        coef = self.coef.to_numpy()
        sigma = self.sigma.to_numpy()
        point = irf_from_coef(coef, sigma, lags=self.lags, steps=steps, kind=kind, ordering=order)
        lower = upper = np.full_like(point, np.nan)
        failed = 0
        if bands is not None:
            draws = check_int("draws", draws, minimum=2)
            b_coef, b_sigma = self._draws(bands, draws, seed)
            sims = safe_irfs(b_coef, b_sigma, self.lags, steps, kind, order)
            lower, upper, failed = percentile_bands(sims, float(level))
        m = len(self.variables)
        h, i, j = np.meshgrid(np.arange(steps + 1), np.arange(m), np.arange(m), indexing="ij")
        names = np.asarray(self.variables, dtype=object)
        frame = pd.DataFrame(
            {
                "impulse": names[j.ravel()],
                "response": names[i.ravel()],
                "step": h.ravel(),
                "irf": point.ravel(),
                "lower": lower.ravel(),
                "upper": upper.ravel(),
            }
        )
        frame["impulse"] = pd.Categorical(frame["impulse"], categories=list(self.variables))
        frame["response"] = pd.Categorical(frame["response"], categories=list(self.variables))
        frame = frame.sort_values(["impulse", "response", "step"], kind="mergesort")
        frame = frame.reset_index(drop=True)
        frame["impulse"] = frame["impulse"].astype(str)
        frame["response"] = frame["response"].astype(str)
        frame.attrs.update(
            kind=kind,
            ordering=[self.variables[k] for k in order] if kind == "orthogonal" else None,
            bands=bands,
            draws=draws if bands else 0,
            level=float(level),
            seed=seed,
            failed_draws=failed,
        )
        return frame

    def _draws(self, bands: str, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        if bands == "montecarlo":
            return montecarlo_draws(
                self.coef.to_numpy(), self.vcov.to_numpy(), self.sigma.to_numpy(), draws, seed
            )
        it = self._internals
        return bootstrap_draws(
            it.design,
            it.products,
            it.groups,
            steps=self.steps,
            sigma_divisor=2.0 if self.transform == "fd" else 1.0,
            draws=draws,
            seed=seed,
        )

    def fevd(self, steps: int = 10, *, ordering: Sequence[str] | None = None) -> pd.DataFrame:
        r"""Forecast-error variance decomposition of the orthogonalised shocks.

        Parameters
        ----------
        steps : int, default 10
            Largest forecast horizon :math:`h` (1 = one step ahead, the impact period).
        ordering : sequence of str, optional
            Cholesky ordering (default the variable order; recorded in ``attrs``).

        Returns
        -------
        DataFrame
            Columns ``response``, ``impulse``, ``horizon``, ``share``; shares of each
            response sum to 1 at every horizon.

        Notes
        -----
        :math:`\omega_{ij}(h) = \sum_{s<h}\Psi_{s,ij}^2/\sum_k\sum_{s<h}\Psi_{s,ik}^2`
        (Lütkepohl 2005, eq. 2.3.37), as statsmodels ``fevd`` and ``panelvar``.
        """
        steps = check_int("steps", steps, minimum=1)
        order = self._ordering(ordering)
        dec = fevd_from_coef(
            self.coef.to_numpy(),
            self.sigma.to_numpy(),
            lags=self.lags,
            horizons=steps,
            ordering=order,
        )
        m = len(self.variables)
        h, i, j = np.meshgrid(np.arange(steps), np.arange(m), np.arange(m), indexing="ij")
        names = np.asarray(self.variables, dtype=object)
        frame = pd.DataFrame(
            {
                "response": names[i.ravel()],
                "impulse": names[j.ravel()],
                "horizon": h.ravel() + 1,
                "share": dec.ravel(),
            }
        )
        frame.attrs["ordering"] = [self.variables[k] for k in order]
        return frame

    # ------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table: equation, regressor, coef, se, z, pvalue, 95 % bounds."""
        coef = self.coef.stack()
        se = self.se.stack()
        z = coef / se
        out = pd.DataFrame(
            {
                "coef": coef,
                "se": se,
                "z": z,
                "pvalue": 2.0 * stats.norm.sf(np.abs(z)),
                "ci_lower": coef - 1.959963984540054 * se,
                "ci_upper": coef + 1.959963984540054 * se,
            }
        )
        out.index.names = ["equation", "regressor"]
        return out.reset_index()

    def summary(self) -> str:
        """Plain-text summary: options, sample, coefficients, Hansen J and stability."""
        step_name = "two-step (Windmeijer SEs)" if self.steps == 2 else "one-step (robust SEs)"
        lines = [
            f"Panel VAR({self.lags}) by GMM — {self.transform.upper()}, {step_name}",
            f"Variables: {', '.join(self.variables)}"
            + (f"; exogenous: {', '.join(self.exog)}" if self.exog else ""),
            f"Instruments: lags {self.instrument_lags[0]}..{self.instrument_lags[1]} of the "
            f"levels, {'collapsed' if self.collapse else 'GMM-style (uncollapsed)'}; "
            f"{self.n_instruments} moment conditions",
            f"Observations: {self.n_obs}   groups: {self.n_groups}",
            "",
        ]
        frame = self.to_frame()
        lines.append(
            frame.to_string(index=False, float_format=lambda v: f"{v: .6f}", justify="right")
        )
        j = self.hansen_j
        lines += [
            "",
            f"Hansen J = {j.statistic:.4f}, df = {j.df}, p = {j.pvalue:.4f}",
            "Companion eigenvalue moduli: "
            + ", ".join(f"{v:.4f}" for v in self.moduli)
            + ("  (stable)" if self.stable else "  (NOT stable)"),
        ]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


# ---------------------------------------------------------------------- public API
def panel_var(
    panel: Panel,
    variables: Sequence[str],
    *,
    lags: int = 1,
    transform: str = "fod",
    steps: int = 2,
    instrument_lags: tuple[int, int] = (2, 99),
    collapse: bool = False,
    exog: Sequence[str] = (),
) -> PanelVARResult:
    r"""Estimate a panel VAR by GMM (one weighting matrix for the whole system).

    Parameters
    ----------
    panel : Panel
        Long panel; gaps in time and missing values are allowed (see Notes).
    variables : sequence of str
        Endogenous variables; their order is the equation order and the default
        Cholesky ordering of :meth:`PanelVARResult.irf`.
    lags : int, default 1
        VAR order :math:`p`.
    transform : {"fod", "fd"}, default "fod"
        Forward orthogonal deviations or first differences to remove unit effects.
    steps : {1, 2}, default 2
        One-step or two-step GMM.
    instrument_lags : (int, int), default (2, 99)
        Lags of the levels used as instruments, counted as in ``xtabond2``/``panelvar``
        (the FOD value of period :math:`t` is stored in period :math:`t+1`, so under FOD
        lag 2 is :math:`y_{t-1}`; under FD it is :math:`y_{t-2}`). The first must be ≥ 2.
    collapse : bool, default False
        One instrument per lag and variable (Roodman 2009) instead of one per period.
    exog : sequence of str, default ()
        Strictly exogenous variables, transformed like the others and used as their own
        instruments.

    Returns
    -------
    PanelVARResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, infinite values, fewer than two units.
    SpecError
        Invalid options.
    EstimationError
        Too few periods for the lags and instruments (fewer moments than parameters,
        or no usable rows).

    Notes
    -----
    Moments :math:`E[Z_i'\tilde\varepsilon_i] = 0` with :math:`\tilde\cdot` the FOD
    (Helmert) or FD transform. One-step :math:`\hat b_1` uses
    :math:`\Lambda = \sum_i Z_i'HZ_i \otimes I_m` (equation-by-equation GMM); two-step
    :math:`\hat b_2` uses :math:`\hat D = \sum_i g_i(\hat b_1)g_i(\hat b_1)'` for the whole
    system, with the Windmeijer (2005) finite-sample corrected covariance. As in
    ``panelvar``, a weighting matrix whose smallest absolute eigenvalue is below 1e-9 is
    inverted with the Moore–Penrose inverse (recorded in ``notes``).

    **Gaps.** The panel is laid on the full calendar grid of periods; missing
    unit-periods are missing values. FOD uses, for each variable, the mean of the
    *available* future values with the scale :math:`\sqrt{k/(k+1)}`, :math:`k` = their
    number; a lag is missing when the lagged or the current value of its variable is
    missing (``panelvar``); FD needs both periods. Equation rows with a missing
    transformed value are dropped and counted in ``dropped``; missing instruments are 0.

    References
    ----------
    Holtz-Eakin, D., Newey, W. and Rosen, H. S. (1988). Estimating vector autoregressions
    with panel data. *Econometrica* 56, 1371–1395. Arellano, M. and Bover, O. (1995).
    *J. Econometrics* 68, 29–51. Windmeijer, F. (2005). *J. Econometrics* 126, 25–51.
    Abrigo, M. R. M. and Love, I. (2016). Estimation of panel vector autoregression in
    Stata. *Stata Journal* 16, 778–804. Sigmund, M. and Ferstl, R. (2021). Panel vector
    autoregression in R with the package panelvar. *Quarterly Review of Economics and
    Finance* 80, 693–720.
    """
    spec = check_spec(panel, variables, lags, transform, steps, instrument_lags, collapse, exog)
    levels, ex, periods, units = grid(panel, spec["variables"], spec["exog"])
    return _estimate(levels, ex, periods, units, spec)


def _estimate(
    levels: np.ndarray,
    ex: np.ndarray,
    periods: np.ndarray,
    units: pd.Index,
    spec: dict[str, Any],
    *,
    first_slot: int | None = None,
    row_mask: np.ndarray | None = None,
) -> PanelVARResult:
    names, exog = spec["variables"], spec["exog"]
    lags = spec["lags"]
    start = lags + 1 if first_slot is None else first_slot
    if periods.size <= start:
        raise EstimationError(
            f"panel_var: too few periods ({periods.size}, {periods[0]}-{periods[-1]}) for "
            f"lags={lags}: the transformation and the lags need at least {start + 1}. "
            "Fix: use fewer lags or a longer panel."
        )
    design = core.build_design(
        levels,
        ex,
        periods,
        names=names,
        exog_names=exog,
        lags=lags,
        transform=spec["transform"],
        instrument_lags=spec["instrument_lags"],
        collapse=spec["collapse"],
        first_slot=first_slot,
        row_mask=row_mask,
    )
    m, k, el = len(names), len(design.regressors), len(design.instruments)
    n_rows = int(design.used.sum())
    if el < k:
        raise EstimationError(
            f"panel_var: {el} instruments per equation for {k} regressors — too few moment "
            f"conditions with {periods.size} periods, lags={lags} and "
            f"instrument_lags={spec['instrument_lags']}. Fix: widen instrument_lags, use "
            "collapse=False, fewer lags or a longer panel."
        )
    if n_rows <= k:
        raise EstimationError(
            f"panel_var: only {n_rows} usable unit-periods for {k} regressors per equation "
            f"(a panel of {periods.size} periods loses {lags + 1} to the lags and the "
            "transformation). Fix: use fewer lags or a longer panel."
        )
    groups = np.flatnonzero(design.used.any(axis=1))
    if groups.size < 2:
        raise EstimationError("panel_var: fewer than two units have usable unit-periods.")
    products = core.unit_products(design)
    fit = core.fit_gmm(
        products, core.zhz_sum(design), steps=spec["steps"], sigma_divisor=_divisor(spec)
    )
    regs = list(design.regressors)
    coef = pd.DataFrame(fit.coef, index=pd.Index(names, name="equation"), columns=regs)
    se_vec = np.sqrt(np.clip(np.diag(fit.vcov), 0.0, None))
    se = pd.DataFrame(se_vec.reshape(k, m).T, index=coef.index, columns=regs)
    labels = [f"{names[j]}:{regs[kk]}" for kk in range(k) for j in range(m)]
    vcov = pd.DataFrame(fit.vcov, index=labels, columns=labels)
    eig = _companion_eigenvalues(fit.coef, lags)
    total = levels.shape[0] * design.used.shape[1]
    dropped = {"missing transformed value or lag": int(total - n_rows)}
    notes = []
    if fit.generalised:
        notes.append(
            "Moore-Penrose inverse used for the "
            + " and ".join(fit.generalised)
            + " (smallest |eigenvalue| < 1e-9, as panelvar)."
        )
    if fit.n_moments > groups.size:
        notes.append(
            f"{fit.n_moments} moment conditions exceed the {groups.size} units: the two-step "
            "weighting matrix is singular (and Hansen J is not informative); use fewer "
            "instrument lags, collapse=True or more units."
        )
    return PanelVARResult(
        variables=tuple(names),
        exog=tuple(exog),
        lags=lags,
        transform=spec["transform"],
        steps=spec["steps"],
        instrument_lags=spec["instrument_lags"],
        collapse=spec["collapse"],
        coef=coef,
        se=se,
        vcov=vcov,
        sigma=pd.DataFrame(fit.sigma, index=names, columns=names),
        hansen_j=HansenJ(
            fit.hansen, fit.hansen_df, float(stats.chi2.sf(fit.hansen, fit.hansen_df))
        ),
        eigenvalues=eig,
        n_obs=fit.n_obs,
        n_groups=int(groups.size),
        n_instruments=fit.n_moments,
        dropped=MappingProxyType(dropped),
        notes=tuple(notes),
        _internals=_Internals(
            design=design,
            products=products,
            groups=groups,
        ),
    )


def _divisor(spec: dict[str, Any]) -> float:
    """Var(Δε) = 2Σ under first differences; FOD is orthonormal."""
    return 2.0 if spec["transform"] == "fd" else 1.0


def _companion_eigenvalues(coef: np.ndarray, lags: int) -> np.ndarray:
    m = coef.shape[0]
    comp = np.zeros((m * lags, m * lags))
    comp[:m, :] = coef[:, : m * lags]
    if lags > 1:
        comp[m:, :-m] = np.eye(m * (lags - 1))
    eig = np.linalg.eigvals(comp)
    return eig[np.argsort(-np.abs(eig), kind="mergesort")]


def select_order(
    panel: Panel,
    variables: Sequence[str],
    *,
    max_lags: int = 3,
    transform: str = "fod",
    steps: int = 2,
    instrument_lags: tuple[int, int] = (2, 99),
    collapse: bool = False,
    exog: Sequence[str] = (),
    hq_factor: float = 2.1,
) -> pd.DataFrame:
    r"""Lag-order selection by Andrews & Lu (2001) MMSC and the overall CD (Stata ``pvarsoc``).

    Every order :math:`p = 1, \dots,` ``max_lags`` is estimated on the **same sample**:
    the equation rows usable by the ``max_lags`` model (the first ``max_lags − p``
    periods of smaller models are dropped), with the same instrument set, so that the
    moment conditions :math:`c` are fixed and only the parameters :math:`b = m^2p + mq`
    change.

    Returns
    -------
    DataFrame
        Indexed by ``lags``: ``cd``, ``hansen_j``, ``df``, ``pvalue``, ``mbic``, ``maic``,
        ``mqic``, ``n_obs``; ``attrs["selected"]`` holds the order minimising each
        criterion.

    Notes
    -----
    :math:`MBIC = J - (c-b)\ln n`, :math:`MAIC = J - 2(c-b)`,
    :math:`MQIC = J - Q(c-b)\ln\ln n` with :math:`Q` = ``hq_factor`` (2.1, as
    ``panelvar::Andrews_Lu_MMSC``) and :math:`n` the number of equation rows.
    :math:`CD = 1 - \det\hat\Sigma_\varepsilon/\det\hat\Sigma_{\tilde y}`, both covariances
    of the transformed equations in the common sample.
    """
    max_lags = check_int("max_lags", max_lags, minimum=1)
    spec = check_spec(panel, variables, max_lags, transform, steps, instrument_lags, collapse, exog)
    levels, ex, periods, units = grid(panel, spec["variables"], spec["exog"])
    top = _estimate(levels, ex, periods, units, spec)
    mask = top._internals.design.used
    rows = []
    for p in range(1, max_lags + 1):
        res = _estimate(
            levels, ex, periods, units, {**spec, "lags": p}, first_slot=max_lags + 1, row_mask=mask
        )
        d = res._internals.design
        yv = d.y[d.used]
        cov_y = np.cov(yv, rowvar=False, ddof=0)
        cov_e = np.cov(yv - d.x[d.used] @ res.coef.to_numpy().T, rowvar=False, ddof=0)
        cd = 1.0 - np.linalg.det(np.atleast_2d(cov_e)) / np.linalg.det(np.atleast_2d(cov_y))
        j, df = res.hansen_j.statistic, res.hansen_j.df
        n = res.n_obs
        rows.append(
            {
                "lags": p,
                "cd": float(cd),
                "hansen_j": j,
                "df": df,
                "pvalue": res.hansen_j.pvalue,
                "mbic": j - df * np.log(n),
                "maic": j - 2.0 * df,
                "mqic": j - hq_factor * df * np.log(np.log(n)),
                "n_obs": n,
            }
        )
    out = pd.DataFrame(rows).set_index("lags")
    out.attrs["selected"] = {
        c: int(np.argmin(out[c].to_numpy())) + 1 for c in ("mbic", "maic", "mqic")
    }
    out.attrs["common_sample"] = f"equation rows usable with {max_lags} lags"
    return out
