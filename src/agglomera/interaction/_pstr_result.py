"""Result object of :func:`agglomera.interaction.pstr.pstr`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["PSTRResult"]


@dataclass(frozen=True)
class PSTRResult:
    r"""Estimated panel smooth transition regression with its specification and evaluation tests.

    Attributes
    ----------
    gamma : float
        Slope (smoothness) of the transition, in the convention of ``gamma_scale``: with
        ``"std"`` the exponent is :math:`γ/σ_q^m\prod_j(q - c_j)`; the slope per unit of
        ``q`` is ``gamma / scale``.
    c : tuple of float
        Locations :math:`c_1 \le \dots \le c_m`, in units of the transition variable.
    params : pandas.Series
        β with a two-level index ``(part, variable)``: ``part`` is ``"beta0"`` (linear part,
        the first extreme regime g = 0) or ``"beta1"`` (the change of the slope between the
        two extreme regimes; the slope at g = 1 is β0 + β1).
    se : pandas.Series
        Cluster-robust (by unit) standard errors of ``params`` and of
        ``("transition", "gamma")``, ``("transition", "c1")``, ….
    cov : pandas.DataFrame
        Covariance matrix of all parameters (same index as ``se``).
    gamma_scale : str
        ``"std"`` or ``"none"``; ``scale`` is the divisor used (:math:`σ_q^m` or 1).
    lm_x, lm_f, lm_hac_x, lm_hac_f : float
        Linearity tests (H0: no transition) for the estimated ``m`` — χ² and F forms, plain
        and cluster-robust; the p-values are in the ``*_pvalue`` attributes.
    linearity : pandas.DataFrame
        Linearity tests for m = 1, …, ``test_m`` (H0: β*_1 = … = β*_m = 0), with wild
        (``wb_pvalue``) and wild cluster (``wcb_pvalue``) bootstrap p-values when requested.
    sequence : pandas.DataFrame
        Sequence tests for choosing m (H0: β*_i = 0 given β*_{i+1} = … = 0), i = 1, …, ``test_m``.
    m_selected : int
        The m suggested by the sequence (González et al.): 2 if the sequence test of order 2
        rejects most strongly (smallest χ²-form p-value, compared on the log scale so that
        p-values below floating-point range still rank), otherwise 1.
    remaining : pandas.DataFrame
        LM tests of no remaining nonlinearity (an additive second transition in the named
        variable), by variable and order; ``wb_pvalue`` / ``wcb_pvalue`` as for ``linearity``.
    constancy : pandas.DataFrame
        LM tests of parameter constancy against smoothly time-varying β0 and β1.
    linear : pandas.DataFrame
        The linear fixed-effects model (the null of the linearity tests): ``estimate`` and
        cluster-robust ``se`` by regressor.
    ssr, sigma : float
        Residual sum of squares and :math:`\sqrt{SSR/NT}`.
    n_obs, n_units : int
        Observations and units.
    start : dict
        The grid point the optimiser started from (``gamma``, ``c``, ``ssr``).
    converged : bool
        Whether the optimiser reported success.
    notes : tuple of str
        Warnings, for example a location estimated at the edge of its admissible interval.
    """

    y: str
    x: tuple[str, ...]
    nonlinear: tuple[str, ...]
    transition: str
    m: int
    gamma: float
    c: tuple[float, ...]
    params: pd.Series
    se: pd.Series
    cov: pd.DataFrame
    gamma_scale: str
    scale: float
    lm_x: float
    lm_x_pvalue: float
    lm_f: float
    lm_f_pvalue: float
    lm_hac_x: float
    lm_hac_x_pvalue: float
    lm_hac_f: float
    lm_hac_f_pvalue: float
    linearity: pd.DataFrame
    sequence: pd.DataFrame
    m_selected: int
    remaining: pd.DataFrame
    constancy: pd.DataFrame
    linear: pd.DataFrame
    ssr: float
    sigma: float
    n_obs: int
    n_units: int
    start: dict[str, Any]
    converged: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def gamma_se(self) -> float:
        """Standard error of ``gamma``."""
        return float(self.se[("transition", "gamma")])

    @property
    def c_se(self) -> tuple[float, ...]:
        """Standard errors of the locations."""
        return tuple(float(self.se[("transition", f"c{j + 1}")]) for j in range(self.m))

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: ``part``, ``variable``, ``estimate``, ``se``, ``t``, ``pvalue``.

        ``part`` is ``beta0``, ``beta1``, ``beta0+beta1`` (the slope in the second extreme
        regime, with its standard error from ``cov``) or ``transition`` (γ and c).
        """
        rows = []
        for key, est in zip(self.params.index, self.params.to_numpy(), strict=True):
            part, var = str(key[0]), str(key[1])
            rows.append((part, var, float(est), float(self.se[(part, var)])))
        for var in self.nonlinear:
            if var in self.x:
                i0, i1 = ("beta0", var), ("beta1", var)
                v = (
                    self.cov.loc[[i0], [i0]].to_numpy()[0, 0]
                    + self.cov.loc[[i1], [i1]].to_numpy()[0, 0]
                    + 2.0 * self.cov.loc[[i0], [i1]].to_numpy()[0, 0]
                )
                est = float(self.params[i0] + self.params[i1])
                rows.append(("beta0+beta1", var, est, float(np.sqrt(v))))
        rows.append(("transition", "gamma", self.gamma, self.gamma_se))
        for j, (cj, sj) in enumerate(zip(self.c, self.c_se, strict=True)):
            rows.append(("transition", f"c{j + 1}", cj, sj))
        out = pd.DataFrame(rows, columns=["part", "variable", "estimate", "se"])
        out["t"] = out["estimate"] / out["se"]
        out["pvalue"] = 2.0 * stats.norm.sf(np.abs(out["t"]))
        return out

    def summary(self) -> str:
        """Text summary: specification tests, estimates, evaluation tests."""
        frame = self.to_frame()
        lines = [
            f"Panel smooth transition regression: {self.y} on {', '.join(self.x)}",
            f"nonlinear part: {', '.join(self.nonlinear)}; transition variable "
            f"{self.transition!r}, m = {self.m} (sequence suggests m = {self.m_selected})",
            f"N = {self.n_units}, NT = {self.n_obs}; SSR = {self.ssr:.6g}, "
            f"sigma = {self.sigma:.6g}",
            f"gamma = {self.gamma:.6g} ({self.gamma_se:.4g}) with gamma_scale={self.gamma_scale!r}"
            f" (divisor {self.scale:.6g}); c = "
            + ", ".join(f"{cj:.6g} ({sj:.4g})" for cj, sj in zip(self.c, self.c_se, strict=True)),
            "standard errors: cluster-robust by unit (sandwich, Hessian bread, no df correction)",
            "",
            "Linearity tests (H0: linear model)",
            self.linearity.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            "Sequence for choosing m",
            self.sequence.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            "",
            frame.to_string(index=False, float_format=lambda v: f"{v:.6g}"),
        ]
        if not self.remaining.empty:
            lines += [
                "",
                "No remaining nonlinearity (additive second transition)",
                self.remaining.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            ]
        if not self.constancy.empty:
            lines += [
                "",
                "Parameter constancy (smoothly time-varying beta0, beta1)",
                self.constancy.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            ]
        if self.notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"
