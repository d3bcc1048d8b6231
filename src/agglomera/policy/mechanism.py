r"""Mechanism analysis: the policy's effect on a mediator, or the legacy three-step test.

Two modes of :func:`mechanism`:

``"causal"`` (default, recommended)
    Estimate the policy's effect on the mediator :math:`M` with the same design and
    estimator as the main result, :math:`\hat a = \widehat{ATT}_M`. It is identified under
    the same parallel-trends assumption as the main effect (for :math:`M`), and the link
    from :math:`M` to the outcome is argued from theory and prior evidence rather than
    estimated by conditioning on :math:`M`. This is the approach Jiang Ting (2022)
    recommends for Chinese applied work.

``"three_step"`` (legacy Baron and Kenny 1986 sequence)
    1. total effect :math:`c`: the policy's effect on the outcome (chosen estimator);
    2. :math:`a`: the policy's effect on the mediator (chosen estimator);
    3. :math:`y_{it} = \alpha_i + \lambda_t + c' D_{it} + b M_{it} + \varepsilon_{it}`
       (TWFE, clustered by unit with :data:`~agglomera.policy.twfe.SSC_CONVENTION`);

    the indirect effect :math:`a \cdot b` with a cluster (unit) bootstrap percentile
    interval and bootstrap standard error (each draw re-estimates :math:`a` with the
    chosen estimator and :math:`b` by TWFE on the resampled units). The result stores a
    warning (:data:`THREE_STEP_WARNING`): step 3 is not causally identified.

References
----------
Baron, R. M., Kenny, D. A. (1986). The moderator–mediator variable distinction in social
psychological research. *Journal of Personality and Social Psychology* 51(6), 1173–1182.
Jiang Ting 江艇 (2022). 因果推断经验研究中的中介效应与调节效应. *中国工业经济* (Journal of
China Industrial Economics) 2022(5), 100–120.
Imai, K., Keele, L., Tingley, D. (2010). A general approach to causal mediation analysis.
*Psychological Methods* 15(4), 309–334.
"""

from __future__ import annotations

import dataclasses
import html
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import check_choice, estimate, normal_ci, normal_pvalue
from agglomera.policy.results import DIDResult

__all__ = ["MECHANISM_MODES", "THREE_STEP_WARNING", "MechanismResult", "mechanism"]

#: Allowed values of ``mode``.
MECHANISM_MODES: tuple[str, ...] = ("causal", "three_step")
TRANSFORMS: tuple[str, ...] = ("none", "log", "log1p")

#: Stored in three-step results: why step 3 is not causally identified.
THREE_STEP_WARNING = (
    "Step 3 (outcome on treatment and mediator) is not causally identified: the mediator is "
    "a post-treatment variable, itself affected by the policy, and is endogenous to the "
    "outcome (unobserved city-year shocks move both), so conditioning on it opens "
    "collider/confounding paths and b, c' and a*b are biased unless sequential ignorability "
    "holds (Imai, Keele and Tingley 2010), which the DID design does not deliver. Report "
    "the policy's effect on the mediator (mode='causal'; Jiang Ting 2022) and argue the "
    "mediator-outcome link from theory and prior evidence."
)


@dataclass(frozen=True)
class MechanismResult:
    r"""Effect of the policy on a mediator (and, for ``"three_step"``, the legacy sequence).

    Attributes
    ----------
    mode : str
        ``"causal"`` or ``"three_step"``.
    mediator : DIDResult
        The policy's effect on the mediator (:math:`a`).
    total : DIDResult or None
        The policy's effect on the outcome (:math:`c`) when ``outcome`` was given.
    steps : pandas.DataFrame
        Tidy table (see :meth:`to_frame`): ``step``, ``term``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``pvalue``.
    indirect : float
        :math:`a \cdot b` (three-step; NaN otherwise).
    indirect_se : float
        Its bootstrap standard error.
    indirect_ci : tuple of float
        Its bootstrap percentile interval.
    draws : numpy.ndarray
        Bootstrap draws of ``(a, b)`` (draws × 2); empty for ``"causal"``.
    warning : str
        :data:`THREE_STEP_WARNING` for ``"three_step"``, empty otherwise.
    meta : dict
        ``mediator``, ``outcome``, ``estimator``, ``transform``, ``bootstrap``, ``seed``,
        ``failed_draws``, ``step3_formula``.
    """

    mode: str
    mediator: DIDResult = field(repr=False)
    total: DIDResult | None = field(repr=False)
    steps: pd.DataFrame = field(repr=False)
    indirect: float = math.nan
    indirect_se: float = math.nan
    indirect_ci: tuple[float, float] = (math.nan, math.nan)
    draws: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)
    warning: str = ""
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return the tidy table of every step (one row per estimated term)."""
        return self.steps.copy()

    def summary(self) -> str:
        """Return a plain-text summary (with the identification warning for three-step)."""
        lines = [
            f"Mechanism ({self.mode}) — mediator {self.meta.get('mediator')!s}"
            + (f", outcome {self.meta['outcome']}" if self.meta.get("outcome") else "")
            + f", estimator {self.meta.get('estimator')!s}"
        ]
        for row in self.steps.itertuples(index=False):
            lines.append(
                f"  {row.step!s:<22} {row.term!s:<10} {row.estimate:.6g} (SE {row.se:.6g}; "
                f"CI [{row.ci_low:.6g}, {row.ci_high:.6g}]; p = {row.pvalue:.4g})"
            )
        if self.warning:
            lines.append(f"  WARNING: {self.warning}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def mechanism(
    design: TreatmentDesign,
    mediator: str,
    *,
    outcome: str | None = None,
    mode: str = "causal",
    estimator: str = "cs",
    transform: str = "none",
    bootstrap: int = 499,
    seed: int = 0,
    **estimate_options: Any,
) -> MechanismResult:
    r"""Estimate a mechanism: the policy's effect on a mediator (or Baron–Kenny steps).

    Parameters
    ----------
    design : TreatmentDesign
        The design of the main analysis.
    mediator : str
        Mediator column (e.g. ``"rd_exp"``).
    outcome : str, optional
        Outcome column; required for ``"three_step"``; with ``"causal"`` the total effect
        on it is reported alongside.
    mode : {"causal", "three_step"}, default "causal"
        See the module docstring.
    estimator : str, default "cs"
        Estimator of :func:`~agglomera.policy.estimate` for the effects on the outcome
        and the mediator (step 3 is always a TWFE regression).
    transform : {"none", "log", "log1p"}, default "none"
        Applied to the mediator before estimation (``"log"`` needs positive values); the
        effect on :math:`\ln M` is approximately a proportional effect.
    bootstrap : int, default 499
        Cluster-bootstrap draws of :math:`a \cdot b` (three-step only; 0 = none).
    seed : int, default 0
        Seed of the bootstrap.
    **estimate_options
        Passed to :func:`~agglomera.policy.estimate` (``controls``, ``control_group``,
        ``alpha``, ...; ``controls`` are also added to step 3).

    Returns
    -------
    MechanismResult

    Raises
    ------
    SpecError
        For an unknown ``mode``/``transform``, ``"three_step"`` without ``outcome``, or bad
        ``bootstrap``/``seed``.
    DataError
        For a missing or non-numeric mediator, or non-positive values under ``"log"``.
    """
    check_choice("mode", mode, MECHANISM_MODES)
    check_choice("transform", transform, TRANSFORMS)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise SpecError(f"bootstrap must be a non-negative integer; got {bootstrap!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpecError(f"seed must be an integer; got {seed!r}.")
    if mode == "three_step" and outcome is None:
        raise SpecError("mode='three_step' needs outcome=<column> (steps 1 and 3).")
    alpha = float(estimate_options.get("alpha", 0.05))
    work, m_col = _with_mediator(design, mediator, transform)

    a_res = estimate(work, m_col, estimator=estimator, **estimate_options)
    total = (
        estimate(work, outcome, estimator=estimator, **estimate_options)
        if outcome is not None
        else None
    )
    rows = []
    if total is not None:
        rows.append(_row("total effect (c)", "D", total.att, total.se, alpha))
    rows.append(_row(f"effect on {m_col} (a)", "D", a_res.att, a_res.se, alpha))
    meta: dict[str, Any] = {
        "mediator": mediator,
        "mediator_column": m_col,
        "outcome": outcome,
        "estimator": estimator,
        "transform": transform,
        "bootstrap": 0,
        "seed": int(seed),
        "failed_draws": 0,
    }
    if mode == "causal":
        return MechanismResult(
            mode=mode,
            mediator=a_res,
            total=total,
            steps=pd.DataFrame(rows),
            meta=meta,
        )

    assert outcome is not None
    controls = _controls(estimate_options)
    c_prime, b, v, formula = _step3(work, outcome, m_col, controls)
    rows.append(_row("step 3: direct (c')", "D", c_prime, math.sqrt(v[0, 0]), alpha))
    rows.append(_row("step 3: mediator (b)", m_col, b, math.sqrt(v[1, 1]), alpha))
    indirect = a_res.att * b
    meta["step3_formula"] = formula
    draws = np.empty((0, 2))
    se_ab, ci_ab = math.nan, (math.nan, math.nan)
    if bootstrap:
        draws = _bootstrap_ab(
            work, outcome, m_col, estimator, controls, estimate_options, int(bootstrap), int(seed)
        )
        ok = draws[np.isfinite(draws).all(axis=1)]
        meta["failed_draws"] = int(draws.shape[0] - ok.shape[0])
        meta["bootstrap"] = int(bootstrap)
        if ok.shape[0] > 1:
            ab = ok[:, 0] * ok[:, 1]
            se_ab = float(np.std(ab, ddof=1))
            lo, hi = np.quantile(ab, [alpha / 2, 1 - alpha / 2])
            ci_ab = (float(lo), float(hi))
    rows.append(
        {
            "step": "indirect (a*b)",
            "term": "a*b",
            "estimate": indirect,
            "se": se_ab,
            "ci_low": ci_ab[0],
            "ci_high": ci_ab[1],
            "pvalue": normal_pvalue(indirect, se_ab),
        }
    )
    return MechanismResult(
        mode=mode,
        mediator=a_res,
        total=total,
        steps=pd.DataFrame(rows),
        indirect=float(indirect),
        indirect_se=se_ab,
        indirect_ci=ci_ab,
        draws=draws,
        warning=THREE_STEP_WARNING,
        meta=meta,
    )


# ---------------------------------------------------------------------- helpers
def _row(step: str, term: str, est: float, se: float, alpha: float) -> dict[str, Any]:
    lo, hi = normal_ci(est, se, alpha)
    return {
        "step": step,
        "term": term,
        "estimate": float(est),
        "se": float(se),
        "ci_low": lo,
        "ci_high": hi,
        "pvalue": normal_pvalue(est, se),
    }


def _controls(options: dict[str, Any]) -> tuple[str, ...]:
    c = options.get("controls", ()) or ()
    return (c,) if isinstance(c, str) else tuple(c)


def _with_mediator(
    design: TreatmentDesign, mediator: str, transform: str
) -> tuple[TreatmentDesign, str]:
    design.outcome_matrix(mediator)  # validates: exists, numeric
    if transform == "none":
        return design, mediator
    values = design.panel.column(mediator).to_numpy(dtype=float)
    if transform == "log":
        bad = values <= 0
        if np.any(bad):
            raise DataError(
                f"transform='log' needs positive {mediator!r}; {int(bad.sum())} values are "
                "<= 0. Fix: transform='log1p' or recode."
            )
        new = np.log(values)
    else:
        if np.any(values < 0):
            raise DataError(f"transform='log1p' needs non-negative {mediator!r}.")
        new = np.log1p(values)
    name = f"{transform}_{mediator}"
    if name in design.panel:
        raise DataError(f"the panel already has a column {name!r}; rename it.")
    panel = design.panel.with_columns(note=f"mechanism: {name}", **{name: new})
    # same rows, units and periods: only the panel gains the transformed column
    return dataclasses.replace(design, panel=panel), name


def _step3(
    design: TreatmentDesign, outcome: str, m_col: str, controls: tuple[str, ...]
) -> tuple[float, float, np.ndarray, str]:
    from agglomera.policy import twfe

    data = twfe._prepare(design, outcome, (m_col, *controls), None)
    frame = data.frame
    frame["treat_d"] = design.treated().to_numpy(dtype=float)[data.rows]
    fit = twfe._fit(["treat_d", *data.x_names], frame)
    need = ["treat_d", data.x_names[0]]
    if any(n not in fit.names for n in need):
        raise DataError(
            "step 3: the treatment or the mediator is collinear with the fixed effects."
        )
    idx = [fit.names.index(n) for n in need]
    return (
        float(fit.coef[idx[0]]),
        float(fit.coef[idx[1]]),
        fit.vcov[np.ix_(idx, idx)],
        fit.formula,
    )


def _step3_b(
    y: np.ndarray, d: np.ndarray, m: np.ndarray, x: np.ndarray, ui: np.ndarray, ti: np.ndarray
) -> float:
    """Coefficient of the mediator in the TWFE regression, by alternating projections."""
    cols = np.column_stack([y, d, m, x]) if x.size else np.column_stack([y, d, m])
    z = _demean(cols, ui, ti)
    beta, *_ = np.linalg.lstsq(z[:, 1:], z[:, 0], rcond=None)
    return float(beta[1])


def _demean(a: np.ndarray, ui: np.ndarray, ti: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Two-way within transformation (exact in one sweep on a balanced panel)."""
    out = a - a.mean(axis=0)
    nu, nt = int(ui.max()) + 1, int(ti.max()) + 1
    cu = np.bincount(ui, minlength=nu)[:, None]
    ct = np.bincount(ti, minlength=nt)[:, None]
    for _ in range(1000):
        mu = np.zeros((nu, out.shape[1]))
        np.add.at(mu, ui, out)
        out = out - (mu / cu)[ui]
        mt = np.zeros((nt, out.shape[1]))
        np.add.at(mt, ti, out)
        step = (mt / ct)[ti]
        out = out - step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(out))):
            break
    return out


def _bootstrap_ab(
    design: TreatmentDesign,
    outcome: str,
    m_col: str,
    estimator: str,
    controls: tuple[str, ...],
    options: dict[str, Any],
    draws: int,
    seed: int,
) -> np.ndarray:
    from agglomera.policy.heterogeneity import bootstrap_design

    rng = np.random.default_rng(seed)
    treated = (design.cohorts.to_numpy() > 0).astype(int)
    strata = [np.flatnonzero(treated == s) for s in (0, 1)]
    out = np.full((draws, 2), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(draws):
            sample = np.sort(
                np.concatenate([rng.choice(s, size=s.size, replace=True) for s in strata if s.size])
            )
            try:
                boot, _ = bootstrap_design(design, sample)
                a = estimate(boot, m_col, estimator=estimator, **options).att
                frame = boot.panel.to_frame()
                cols = [outcome, m_col, *controls]
                ok = frame[cols].notna().all(axis=1).to_numpy()
                f = frame.loc[ok]
                ui = pd.factorize(f[boot.unit])[0]
                ti = pd.factorize(f[boot.time])[0]
                d = boot.treated().to_numpy(dtype=float)[ok]
                x = f[list(controls)].to_numpy(dtype=float) if controls else np.empty(0)
                b = _step3_b(
                    f[outcome].to_numpy(dtype=float), d, f[m_col].to_numpy(dtype=float), x, ui, ti
                )
                out[r] = (a, b)
            except (DataError, SpecError, ValueError, np.linalg.LinAlgError):
                continue
    return out
