r"""Panel smooth transition regression (PSTR): specification, estimation, evaluation.

The model of González, Teräsvirta, van Dijk and Yang (2017) lets the slope of a regressor
move smoothly between two extreme regimes as a transition variable crosses one or more
locations:

.. math::

    y_{it} = μ_i + β_0' x_{it} + β_1' x^{(n)}_{it}\, g(q_{it}; γ, c) + u_{it},
    \qquad g = \Bigl(1 + \exp\bigl(-\tfrac{γ}{s}\textstyle\prod_{j=1}^{m}(q_{it} - c_j)\bigr)
    \Bigr)^{-1}.

The individual effects are removed by the within transformation, β is concentrated out for
given (γ, c) (a least-squares regression), (γ, c) start from the best point of a grid and
are refined by a bounded quasi-Newton optimiser. The workflow follows the three stages of
González et al.: linearity tests and the choice of ``m``; estimation; evaluation (no
remaining nonlinearity, parameter constancy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, EstimationError, SpecError
from agglomera.interaction import _pstr_boot as _boot
from agglomera.interaction import _pstr_core as core
from agglomera.interaction import _pstr_spec as spec
from agglomera.interaction._pstr_result import PSTRResult

__all__ = ["PSTRResult", "pstr", "pstr_linearity"]


def pstr(
    panel: Panel,
    y: str,
    x: Sequence[str],
    *,
    nonlinear: Sequence[str],
    transition: str,
    m: int = 1,
    gamma_scale: Literal["std", "none"] = "std",
    gamma_bounds: tuple[float, float] = (0.01, 1000.0),
    c_bounds: tuple[float, float] = (0.01, 0.99),
    n_gamma: int = 25,
    n_c: int = 15,
    start: tuple[float, Sequence[float]] | None = None,
    method: str = "L-BFGS-B",
    tol: float = 1e-12,
    bread: Literal["hessian", "outer"] = "hessian",
    test_m: int = 3,
    remaining: Sequence[str] | None = None,
    remaining_m: int = 3,
    constancy_h: int = 3,
    bootstrap: int = 0,
    seed: int | None = None,
) -> PSTRResult:
    r"""Estimate a panel smooth transition regression (González et al. 2017).

    Parameters
    ----------
    panel : Panel
        Long panel; units need at least two observations (unbalanced panels are allowed).
    y : str
        Dependent variable.
    x : sequence of str
        Regressors of the linear part (β0), including any time dummies.
    nonlinear : sequence of str
        Regressors whose slope changes with the transition (β1); usually a subset of ``x``.
    transition : str
        Transition variable :math:`q` (for example a maturity indicator of the innovation
        system, or a lagged regressor).
    m : int, default 1
        Number of locations (1: two regimes, 2: the middle regime differs from both ends).
    gamma_scale : {"std", "none"}, default "std"
        Divisor :math:`s` of γ: ``"std"`` uses :math:`σ_q^m` (sample standard deviation of q,
        ddof = 1), as González et al. (2017) recommend, so that γ is free of the units of
        q; ``"none"`` uses 1, the parametrisation printed by the R package PSTR (1.x),
        whose γ = our ``gamma / scale``.
    gamma_bounds : (float, float), default (0.01, 1000)
        Admissible γ (in the ``gamma_scale`` convention); the grid is log-spaced in it and
        the optimiser works on log γ within it.
    c_bounds : (float, float), default (0.01, 0.99)
        Quantile levels of q bounding every location; the grid uses ``n_c`` equally spaced
        quantile levels inside.
    n_gamma, n_c : int, default 25 and 15
        Grid sizes. For m = 2 the grid holds every ordered pair of the c levels.
    start : (gamma, c), optional
        Start the optimiser here instead of at the best grid point.
    method : str, default "L-BFGS-B"
        Bounded method of :func:`scipy.optimize.minimize` (``"L-BFGS-B"``, ``"TNC"``,
        ``"SLSQP"``, ``"trust-constr"``) for the concentrated SSR (analytic gradient), or
        ``"none"``: no optimisation, (γ, c) are taken from ``start`` (β is still fitted) —
        to evaluate a published estimate or a point of the profile.
    tol : float, default 1e-12
        Optimiser tolerance (``ftol`` / ``gtol``).
    bread : {"hessian", "outer"}, default "hessian"
        Bread of the cluster-robust sandwich: the Hessian of :math:`\tfrac12 SSR` (as R
        PSTR) or its Gauss–Newton part :math:`J'J`.
    test_m : int, default 3
        Highest order of the linearity and sequence tests.
    remaining : sequence of str, optional
        Candidate transition variables for the test of no remaining nonlinearity
        (default: ``[transition]``); an empty list skips it.
    remaining_m : int, default 3
        Orders 1, …, ``remaining_m`` of that test.
    constancy_h : int, default 3
        Orders 1, …, ``constancy_h`` of the parameter-constancy test (0 skips it).
    bootstrap : int, default 0
        Number of wild bootstrap (WB, one Rademacher weight per observation) and wild
        cluster bootstrap (WCB, one weight per unit) samples for the linearity tests and the
        no-remaining-nonlinearity tests (columns ``wb_pvalue``, ``wcb_pvalue``; NaN when
        0). Each remaining-nonlinearity sample re-estimates the PSTR, so this is slow.
    seed : int, optional
        Seed of the bootstrap weights; the same seed gives the same p-values.

    Returns
    -------
    PSTRResult

    Raises
    ------
    DataError
        Missing columns, non-numeric or missing values (naming the keys), units with a
        single observation.
    SpecError
        Bad ``m``, bounds or options.
    EstimationError
        Regressors without within variation, or a singular Hessian.

    Notes
    -----
    *Estimation.* After the within transformation (the product :math:`x^{(n)}g` is demeaned
    for each (γ, c)), β is the least-squares fit of :math:`\tilde y` on
    :math:`[\tilde x, \widetilde{x^{(n)} g}]`; the concentrated SSR is minimised over
    (log γ, c) from the best grid point. Locations are sorted after estimation.

    *Standard errors.* :math:`V = H^{-1}\bigl(\sum_i s_i s_i'\bigr)H^{-1}` with
    :math:`s_i = \sum_t J_{it}\hat u_{it}` (:math:`J` the gradient of the regression
    function in (β0, β1, γ, c)) and :math:`H` the Hessian of :math:`\tfrac12 SSR`; no
    small-sample factor. This reproduces the standard errors printed by R PSTR.

    *Linearity tests.* First-order Taylor expansion of g around γ = 0: regress the
    residuals of the linear fixed-effects model on :math:`\tilde x`,
    :math:`\widetilde{x^{(n)}q}, …, \widetilde{x^{(n)}q^m}`. With
    :math:`SSR_0, SSR_1` the restricted and unrestricted sums of squares, ``r = mK``:
    :math:`LM_χ = NT(SSR_0 - SSR_1)/SSR_0 \sim χ^2_r`,
    :math:`LM_F = LM_χ (NT - N - k - r)/(NT r) \sim F(r, NT - N - k - r)`;
    the cluster-robust :math:`LM_χ^{HAC} = s'(\sum_i w_i w_i')^{-1}s` (Wooldridge's
    robust LM; R PSTR's HAC_X) with the added regressors partialled out. The sequence
    tests replace the restricted model by the one with the terms of order < i.

    *Evaluation.* No remaining nonlinearity: the residuals of the fitted PSTR are regressed
    on its gradient :math:`J` and :math:`\widetilde{x^{(n)} q_2^j}`, j = 1, …, h (additive
    second transition in :math:`q_2`, Taylor-expanded). Parameter constancy: the added
    terms are :math:`\widetilde{x^{(n)} t^j}` and :math:`\widetilde{x^{(n)} g\, t^j}`
    (β0 and β1 of the nonlinear-part regressors drift smoothly with time; t rescaled to
    [0, 1]). Same statistic family as the linearity tests with k replaced by the number of
    PSTR parameters.

    References
    ----------
    González, A., Teräsvirta, T., van Dijk, D. and Yang, Y. (2017). Panel smooth transition
    regression models. SSE/EFI Working Paper 604 (revised 2017).
    Yang, Y. PSTR: Panel Smooth Transition Regression Modelling, R package (CRAN).
    Hansen, B. E. (1999). Threshold effects in non-dynamic panels. *Journal of
    Econometrics* 93, 345–368 (the example data).
    """
    fn = "pstr"
    x = list(x)
    nonlinear = list(nonlinear)
    spec.check_options(fn, m, gamma_scale, gamma_bounds, c_bounds, n_gamma, n_c, bread, test_m)
    frame = spec.checked_frame(panel, y, x, nonlinear, transition, remaining, fn)
    q = frame[transition].to_numpy(float)
    if not np.std(q) > 0.0:
        raise DataError(f"{fn}: transition variable {transition!r} is constant.")
    scale = float(np.std(q, ddof=1) ** m) if gamma_scale == "std" else 1.0
    design = spec.design(frame, panel.unit, y, x, nonlinear, transition, scale, fn)
    groups, n_units = design.groups, design.n_units
    y_perp = design.y - design.qx @ (design.qx.T @ design.y)

    # --- specification: linearity and sequence tests -------------------------------------
    linearity, sequence, linear = spec.linearity(design, x, max(test_m, m))
    log_p = [spec.log_chi2_sf(a, b) for a, b in zip(sequence["lm_x"], sequence["df1"], strict=True)]
    m_selected = 2 if (len(log_p) >= 2 and int(np.argmin(log_p)) == 1) else 1
    if bootstrap < 0:
        raise SpecError(f"{fn}: bootstrap must be >= 0; got {bootstrap}.")
    rng = np.random.default_rng(seed)
    linearity = _with_bootstrap(linearity, design, max(test_m, m), bootstrap, rng)

    # --- estimation ---------------------------------------------------------------------
    c_lo, c_hi = (float(v) for v in np.quantile(q, c_bounds))
    lg_lo, lg_hi = np.log(gamma_bounds[0]), np.log(gamma_bounds[1])
    bounds = [(lg_lo, lg_hi)] + [(c_lo, c_hi)] * m
    if start is None:
        start_pt = spec.grid_start(
            design, y_perp, m, (lg_lo, lg_hi), (c_lo, c_hi), c_bounds, n_gamma, n_c
        )
    else:
        g0, c0 = float(start[0]), np.sort(np.asarray(start[1], float))
        if g0 <= 0 or c0.size != m:
            raise SpecError(f"{fn}: start must be (gamma > 0, {m} locations); got {start!r}.")
        start_pt = {"gamma": g0, "c": tuple(c0), "ssr": core.profile_ssr(design, y_perp, g0, c0)[0]}

    theta0 = np.r_[np.log(start_pt["gamma"]), np.asarray(start_pt["c"], float)]
    notes = []
    if method == "none":
        if start is None:
            raise SpecError(
                f"{fn}: method='none' evaluates the model at start; pass start=(gamma, c)."
            )
        theta, success = theta0, True
        notes.append("(gamma, c) fixed at start (method='none'); no optimisation.")
    else:
        theta, success, message = core.local_fit(design, y_perp, theta0, bounds, method, tol)
        if not success:
            notes.append(f"optimiser {method} did not report convergence: {message}")
    gamma = float(np.exp(theta[0]))
    c = np.sort(theta[1:])
    ssr, beta, resid, g = core.concentrated(design, gamma, c)

    width_lg = (lg_hi - lg_lo) * 1e-6
    if method != "none" and (theta[0] <= lg_lo + width_lg or theta[0] >= lg_hi - width_lg):
        notes.append(
            f"gamma = {gamma:.4g} is at the edge of gamma_bounds {gamma_bounds}: widen the bounds "
            "or consider a threshold model (gamma at the upper edge) or a linear model (lower)."
        )
    width_c = (c_hi - c_lo) * 1e-6
    for j, cj in enumerate(c):
        if method != "none" and (cj <= c_lo + width_c or cj >= c_hi - width_c):
            notes.append(
                f"c{j + 1} = {cj:.4g} is at the edge of its admissible interval [{c_lo:.4g}, "
                f"{c_hi:.4g}] (quantiles {c_bounds} of {transition!r}); standard errors that "
                "assume an interior optimum are unreliable there."
            )

    # --- covariance ---------------------------------------------------------------------
    jac, _ = core.jacobian(design, beta, gamma, c)
    h = core.hessian(design, beta, gamma, c, resid) if bread == "hessian" else jac.T @ jac
    try:
        h_inv = np.linalg.inv(h)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - degenerate fits only
        raise EstimationError(f"{fn}: singular Hessian at the estimate ({exc}).") from exc
    meat = core.cluster_meat(jac, resid, groups, n_units)
    cov = h_inv @ meat @ h_inv
    idx = pd.MultiIndex.from_tuples(
        [("beta0", v) for v in x]
        + [("beta1", v) for v in nonlinear]
        + [("transition", "gamma")]
        + [("transition", f"c{j + 1}") for j in range(m)],
        names=["part", "variable"],
    )
    se = pd.Series(np.sqrt(np.clip(np.diag(cov), 0.0, None)), index=idx, name="se")
    params = pd.Series(beta, index=idx[: len(beta)], name="estimate")

    # --- evaluation ---------------------------------------------------------------------
    rem_vars = [transition] if remaining is None else list(remaining)
    rem_rows, rem_added = [], []
    for var in rem_vars:
        qv = frame[var].to_numpy(float)
        qv = (qv - qv.mean()) / qv.std()
        for order in range(1, remaining_m + 1):
            added = core.within(
                np.hstack([design.xn * (qv**j)[:, None] for j in range(1, order + 1)]),
                groups,
                n_units,
            )
            lm = core.lm_statistics(jac, resid, added, groups, n_units, jac.shape[1])
            rem_rows.append({"variable": var, **spec.lm_row(order, lm)})
            rem_added.append(added)
    remaining_df = pd.DataFrame(rem_rows, columns=["variable", *spec.TEST_COLUMNS])
    remaining_df["wb_pvalue"] = np.nan
    remaining_df["wcb_pvalue"] = np.nan
    if bootstrap > 0 and rem_added:
        boot = _boot.remaining_pvalues(
            design,
            np.r_[np.log(gamma), c],
            bounds,
            "L-BFGS-B" if method == "none" else method,
            tol,
            rem_added,
            list(remaining_df["lm_x"]),
            bootstrap,
            rng,
        )
        remaining_df["wb_pvalue"] = boot["wb"]
        remaining_df["wcb_pvalue"] = boot["wcb"]
    times = frame[panel.time].to_numpy(float)
    t01 = (times - times.min()) / max(times.max() - times.min(), 1.0)
    con_rows = []
    for order in range(1, constancy_h + 1):
        blocks = []
        for j in range(1, order + 1):
            blocks += [design.xn * (t01**j)[:, None], design.xn * (g * t01**j)[:, None]]
        added = core.within(np.hstack(blocks), groups, n_units)
        lm = core.lm_statistics(jac, resid, added, groups, n_units, jac.shape[1])
        con_rows.append(spec.lm_row(order, lm))
    constancy_df = pd.DataFrame(con_rows, columns=spec.TEST_COLUMNS)

    row_m = linearity.loc[linearity["m"] == m].iloc[0]
    lin_m = {str(k): float(row_m[k]) for k in spec.TEST_COLUMNS}
    nt = len(frame)
    return PSTRResult(
        y=y,
        x=tuple(x),
        nonlinear=tuple(nonlinear),
        transition=transition,
        m=m,
        gamma=gamma,
        c=tuple(float(v) for v in c),
        params=params,
        se=se,
        cov=pd.DataFrame(cov, index=idx, columns=idx),
        gamma_scale=gamma_scale,
        scale=scale,
        lm_x=lin_m["lm_x"],
        lm_x_pvalue=lin_m["lm_x_pvalue"],
        lm_f=lin_m["lm_f"],
        lm_f_pvalue=lin_m["lm_f_pvalue"],
        lm_hac_x=lin_m["lm_hac_x"],
        lm_hac_x_pvalue=lin_m["lm_hac_x_pvalue"],
        lm_hac_f=lin_m["lm_hac_f"],
        lm_hac_f_pvalue=lin_m["lm_hac_f_pvalue"],
        linearity=linearity,
        sequence=sequence,
        m_selected=m_selected,
        remaining=remaining_df,
        constancy=constancy_df,
        linear=linear,
        ssr=ssr,
        sigma=float(np.sqrt(ssr / nt)),
        n_obs=nt,
        n_units=n_units,
        start={k: v for k, v in start_pt.items()},
        converged=success,
        notes=tuple(notes),
    )


def _with_bootstrap(
    table: pd.DataFrame,
    design: core._Design,
    test_m: int,
    draws: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Add WB / WCB p-values of the joint linearity tests (NaN without bootstrap)."""
    table = table.copy()
    table["wb_pvalue"] = np.nan
    table["wcb_pvalue"] = np.nan
    if draws > 0:
        qs = design.q / np.std(design.q, ddof=1)
        powers = [
            core.within(design.xn * (qs**j)[:, None], design.groups, design.n_units)
            for j in range(1, test_m + 1)
        ]
        sets = [np.hstack(powers[:order]) for order in range(1, test_m + 1)]
        boot = _boot.linearity_pvalues(design, sets, draws, rng)
        table["wb_pvalue"] = boot["wb"]
        table["wcb_pvalue"] = boot["wcb"]
    return table


def pstr_linearity(
    panel: Panel,
    y: str,
    x: Sequence[str],
    *,
    nonlinear: Sequence[str],
    transition: str,
    test_m: int = 3,
    bootstrap: int = 0,
    seed: int | None = None,
) -> pd.DataFrame:
    """Linearity and sequence LM tests alone (the specification stage of :func:`pstr`).

    Parameters
    ----------
    panel, y, x, nonlinear, transition
        As in :func:`pstr`.
    test_m : int, default 3
        Highest order of the Taylor expansion.
    bootstrap : int, default 0
        WB and WCB samples for the linearity rows (see :func:`pstr`).
    seed : int, optional
        Seed of the bootstrap weights.

    Returns
    -------
    pandas.DataFrame
        One row per test: ``test`` (``"linearity"``: H0 β*_1 = … = β*_m = 0;
        ``"sequence"``: H0 β*_m = 0 given the lower orders), ``m``, the χ² and F forms plain
        and cluster-robust with p-values, and ``df1``, ``df2``. The formulas are in
        :func:`pstr` (Notes).
    """
    fn = "pstr_linearity"
    x, nonlinear = list(x), list(nonlinear)
    spec.check_options(fn, 1, "none", (0.01, 1.0), (0.0, 1.0), 2, 2, "hessian", test_m)
    frame = spec.checked_frame(panel, y, x, nonlinear, transition, None, fn)
    design = spec.design(frame, panel.unit, y, x, nonlinear, transition, 1.0, fn)
    if bootstrap < 0:
        raise SpecError(f"{fn}: bootstrap must be >= 0; got {bootstrap}.")
    lin, seq, _ = spec.linearity(design, x, test_m)
    lin = _with_bootstrap(lin, design, test_m, bootstrap, np.random.default_rng(seed))
    seq = seq.assign(wb_pvalue=np.nan, wcb_pvalue=np.nan)
    return pd.concat(
        [lin.assign(test="linearity"), seq.assign(test="sequence")], ignore_index=True
    )[["test", *spec.TEST_COLUMNS, "wb_pvalue", "wcb_pvalue"]]
