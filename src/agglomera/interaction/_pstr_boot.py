r"""Wild bootstrap (WB) and wild cluster bootstrap (WCB) p-values for the PSTR LM tests.

Both resample the residuals of the model under the null with Rademacher weights — one
weight per observation (WB, robust to heteroskedasticity) or one per unit (WCB, robust to
heteroskedasticity and dependence within units) — rebuild the dependent variable, re-fit
the null model and recompute :math:`LM_χ`. The p-value is the share of bootstrap statistics
at least as large as the observed one (González et al. 2017, Sec. 4; R PSTR's
``WCB_LinTest`` / ``WCB_HETest`` follow the same design).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agglomera.interaction import _pstr_core as core

__all__: list[str] = []

Array = np.ndarray
_CHUNK = 100


def _weights(
    rng: np.random.Generator, groups: Array, n_units: int, draws: int, cluster: bool
) -> Array:
    if cluster:
        v = rng.choice(np.array([-1.0, 1.0]), size=(n_units, draws))
        return v[groups]
    return rng.choice(np.array([-1.0, 1.0]), size=(groups.size, draws))


def _lm_x(base: Array, resid: Array, added: Array) -> float:
    w_tilde = core.residualise(base, added)
    s = w_tilde.T @ resid
    return float(resid.size * (s @ np.linalg.pinv(w_tilde.T @ w_tilde) @ s) / (resid @ resid))


def linearity_pvalues(
    design: core._Design, added_sets: list[Array], draws: int, rng: np.random.Generator
) -> dict[str, list[float]]:
    """WB and WCB p-values of :math:`LM_χ` for each set of added regressors (null: linear FE)."""
    x, groups, n_units = design.x, design.groups, design.n_units
    e0 = core.residualise(x, design.y)
    nt = e0.size
    prepared = []
    for added in added_sets:
        w_tilde = core.residualise(x, added)
        gram_inv = np.linalg.pinv(w_tilde.T @ w_tilde)
        s = w_tilde.T @ e0
        prepared.append((w_tilde, gram_inv, nt * float(s @ gram_inv @ s) / float(e0 @ e0)))
    out: dict[str, list[float]] = {}
    for scheme, cluster in (("wb", False), ("wcb", True)):
        exceed = np.zeros(len(added_sets))
        done = 0
        while done < draws:
            b = min(_CHUNK, draws - done)
            v = _weights(rng, groups, n_units, b, cluster)
            e_star = core.residualise(x, core.within(e0[:, None] * v, groups, n_units))
            ssr0 = (e_star**2).sum(axis=0)
            for j, (w_tilde, gram_inv, observed) in enumerate(prepared):
                s = w_tilde.T @ e_star
                lm = nt * (s * (gram_inv @ s)).sum(axis=0) / ssr0
                exceed[j] += float((lm >= observed).sum())
            done += b
        out[scheme] = list(exceed / draws)
    return out


def remaining_pvalues(
    design: core._Design,
    theta: Array,
    bounds: list[tuple[float, float]],
    method: str,
    tol: float,
    added_sets: list[Array],
    observed: list[float],
    draws: int,
    rng: np.random.Generator,
) -> dict[str, list[float]]:
    """WB and WCB p-values of the no-remaining-nonlinearity :math:`LM_χ` (null: fitted PSTR).

    Every bootstrap sample re-estimates (γ, c) by the local optimiser started at the
    estimate (no grid), then β, the gradient and the statistic.
    """
    groups, n_units = design.groups, design.n_units
    gamma, c = float(np.exp(theta[0])), theta[1:]
    _, _, resid, _ = core.concentrated(design, gamma, c)
    fitted = design.y - resid
    out: dict[str, list[float]] = {}
    for scheme, cluster in (("wb", False), ("wcb", True)):
        exceed = np.zeros(len(added_sets))
        v_all = _weights(rng, groups, n_units, draws, cluster)
        for b in range(draws):
            y_star = fitted + core.within(resid * v_all[:, b], groups, n_units)
            d_star = dataclasses.replace(design, y=y_star)
            y_perp = y_star - design.qx @ (design.qx.T @ y_star)
            th, _, _ = core.local_fit(d_star, y_perp, theta, bounds, method, tol)
            g_b, c_b = float(np.exp(th[0])), np.sort(th[1:])
            _, beta_b, resid_b, _ = core.concentrated(d_star, g_b, c_b)
            jac_b, _ = core.jacobian(d_star, beta_b, g_b, c_b)
            for j, added in enumerate(added_sets):
                exceed[j] += float(_lm_x(jac_b, resid_b, added) >= observed[j])
        out[scheme] = list(exceed / draws)
    return out
