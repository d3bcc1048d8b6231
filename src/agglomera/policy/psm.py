r"""PSM-DID: propensity-score matching on pre-treatment covariates, then DID.

Steps of :func:`psm_did`:

1. **Propensity score** (Rosenbaum and Rubin 1983): a logit of the ever-treated indicator
   :math:`T_i = 1[g_i > 0]` on the covariates,
   :math:`p(x) = \Lambda(\beta_0 + x'\beta)`, fitted by iteratively reweighted least
   squares (Newton–Raphson; identical to ``statsmodels.Logit`` to convergence tolerance).

   - ``by_year=False`` (pooled, unit-level): the covariates are each unit's values in the
     **base year** (default: the first period, before any cohort), so they cannot be
     affected by the policy; units are matched once and kept in every period;
   - ``by_year=True`` (period-by-period, "逐期匹配"): one logit and one matching per
     period on that period's covariates; a unit-period row is kept when it is matched in
     that period. Covariates after treatment can be affected by the policy; the
     pooled version is the safer default.

2. **Matching** on the score, with replacement, restricted to common support
   (treated units with :math:`p` outside :math:`[\min_{C} p, \max_{C} p]` are dropped,
   psmatch2's ``common``):

   - ``"nearest"``: each treated unit's ``k`` nearest controls within the caliper
     :math:`|p_i - p_j| \le c` (absolute, on the score); treated units without a control
     inside the caliper are unmatched; control weights :math:`w_j = \sum_i 1[j \in
     N(i)]/|N(i)|`;
   - ``"kernel"`` (Heckman, Ichimura and Todd 1997): every control within bandwidth
     :math:`h` (= ``caliper``) of a treated unit gets the Epanechnikov weight
     :math:`K((p_j - p_i)/h)` normalised per treated unit, summed over treated units.

3. **Balance table**: for each covariate, means of treated and controls before and after
   matching (controls weighted by :math:`w_j`), the standardised bias
   :math:`SB = 100\,(\bar x_T - \bar x_C) / \sqrt{(s^2_T + s^2_C)/2}` with the
   *unmatched* variances in the denominator in both columns (Rosenbaum and Rubin 1985;
   psmatch2/pstest), its reduction in %, and two-sample t-tests (Welch; after matching
   with weighted control moments and Kish's effective sample size
   :math:`(\sum w)^2 / \sum w^2`).

4. **DID on the matched sample**: :func:`~agglomera.policy.estimate` on the design
   restricted to matched units (pooled) or matched rows (by year, balance rule
   ``"pairwise"`` when rows go missing), unweighted — the practice of the applied
   literature; the matching weights are in :attr:`PSMResult.matches`.

References
----------
Rosenbaum, P. R., Rubin, D. B. (1983). The central role of the propensity score in
observational studies for causal effects. *Biometrika* 70(1), 41–55.
Rosenbaum, P. R., Rubin, D. B. (1985). Constructing a control group using multivariate
matched sampling methods that incorporate the propensity score. *The American
Statistician* 39(1), 33–38.
Heckman, J. J., Ichimura, H., Todd, P. E. (1997). Matching as an econometric evaluation
estimator: evidence from evaluating a job training programme. *Review of Economic
Studies* 64(4), 605–654.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.errors import DataError, EstimationError, SpecError
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import check_choice, estimate
from agglomera.policy.results import DIDResult
from agglomera.policy.robustness import rebuild_design

__all__ = ["MATCHING_METHODS", "PSMResult", "logit_irls", "psm_did"]

#: Allowed values of ``method``.
MATCHING_METHODS: tuple[str, ...] = ("nearest", "kernel")


@dataclass(frozen=True)
class PSMResult:
    """Propensity scores, matches, balance and the DID on the matched sample.

    Attributes
    ----------
    did : DIDResult
        DID on the matched sample.
    balance : pandas.DataFrame
        One row per covariate: ``covariate``, ``mean_treated``, ``mean_control_before``,
        ``mean_control_after``, ``bias_before``, ``bias_after`` (standardised bias, %),
        ``bias_reduction`` (%), ``t_before``, ``p_before``, ``t_after``, ``p_after``
        (pooled: over units; by year: over unit-periods).
    scores : pandas.DataFrame
        Common-support data: ``unit`` (and ``period`` when by year), ``treated``,
        ``pscore``, ``on_support``, ``matched``, ``weight`` — for the density plots of the
        score before and after matching.
    design : TreatmentDesign
        The matched design the DID was estimated on.
    logit : pandas.DataFrame
        Coefficients of the (pooled) propensity logit: ``term``, ``estimate``, ``se``
        (by year: one block per ``period``).
    meta : dict
        ``method``, ``k``, ``caliper``, ``by_year``, ``base_year``, ``covariates``,
        ``n_treated``, ``n_matched_treated``, ``n_off_support``, ``n_controls_used``,
        ``estimator``.
    """

    did: DIDResult = field(repr=False)
    balance: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    design: TreatmentDesign = field(repr=False)
    logit: pd.DataFrame = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return the balance table (one row per covariate)."""
        return self.balance.copy()

    def summary(self) -> str:
        """Return the matching summary, the balance table and the matched DID."""
        m = self.meta
        lines = [
            f"PSM-DID — {m['method']} matching (k = {m['k']}, caliper {m['caliper']}), "
            + ("by year" if m["by_year"] else f"pooled, base year {m['base_year']}"),
            f"  treated: {m['n_treated']}, off support: {m['n_off_support']}, matched: "
            f"{m['n_matched_treated']}; controls used: {m['n_controls_used']}",
            "  covariate            bias before  bias after  reduction  p before  p after",
        ]
        for r in self.balance.itertuples(index=False):
            lines.append(
                f"  {r.covariate!s:<20} {r.bias_before:>10.2f}% {r.bias_after:>10.2f}% "
                f"{r.bias_reduction:>9.1f}% {r.p_before:>9.3g} {r.p_after:>8.3g}"
            )
        lines.append(
            f"  DID on the matched sample ({self.did.estimator}): ATT = {self.did.att:.6g} "
            f"(SE {self.did.se:.6g}; p = {self.did.pvalue:.4g})"
        )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def psm_did(
    design: TreatmentDesign,
    outcome: str,
    *,
    covariates: Sequence[str],
    method: str = "nearest",
    k: int = 1,
    caliper: float = 0.05,
    by_year: bool = False,
    base_year: int | None = None,
    estimator: str = "twfe",
    **estimate_options: Any,
) -> PSMResult:
    """Propensity-score matching on pre-treatment covariates, then DID on the matched sample.

    Parameters
    ----------
    design : TreatmentDesign
        The design.
    outcome : str
        Outcome column.
    covariates : sequence of str
        Numeric covariates of the propensity logit.
    method : {"nearest", "kernel"}, default "nearest"
        Nearest-neighbour 1:k with caliper, or Epanechnikov kernel matching.
    k : int, default 1
        Neighbours per treated unit (``"nearest"``).
    caliper : float, default 0.05
        Maximum score distance (``"nearest"``) or kernel bandwidth (``"kernel"``).
    by_year : bool, default False
        Pooled unit-level matching on base-year covariates, or period-by-period matching.
    base_year : int, optional
        Base year of the pooled version (default: the first period). Must precede the
        earliest cohort.
    estimator : str, default "twfe"
        Estimator of :func:`~agglomera.policy.estimate` for the matched DID.
    **estimate_options
        Passed to :func:`~agglomera.policy.estimate`.

    Returns
    -------
    PSMResult

    Raises
    ------
    SpecError
        For bad ``method``, ``k``, ``caliper`` or ``base_year``.
    DataError
        For missing/non-numeric covariates, or when no treated unit is matched.
    EstimationError
        When the logit does not converge (perfect separation).
    """
    check_choice("method", method, MATCHING_METHODS)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise SpecError(f"k must be a positive integer; got {k!r}.")
    if not isinstance(caliper, (int, float)) or isinstance(caliper, bool) or not caliper > 0:
        raise SpecError(f"caliper must be a positive number; got {caliper!r}.")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise SpecError("covariates must name at least one column.")
    cov = design.covariate_frame(covariates)
    treated_unit = (design.cohorts > 0).astype(int)
    first_cohort = int(design.cohorts[design.cohorts > 0].min())
    if base_year is None:
        base_year = int(design.times[0])
    if int(base_year) not in set(design.times.tolist()):
        raise SpecError(f"base_year={base_year!r} is not a period of the design.")
    if not by_year and int(base_year) >= first_cohort:
        raise SpecError(
            f"base_year={base_year} is not before the earliest cohort {first_cohort}: the "
            "covariates could be affected by the policy. Choose an earlier base year."
        )

    unit, time = design.unit, design.time
    if not by_year:
        base = cov[cov[time] == int(base_year)].set_index(unit).reindex(design.units)
        if base[covariates].isna().any().any():
            raise DataError(f"some units have no row in base year {base_year}.")
        x = base[covariates].to_numpy(dtype=float)
        t = treated_unit.reindex(design.units).to_numpy()
        ps, logit = _propensity(x, t, covariates)
        match = _match(ps, t, method, int(k), float(caliper))
        scores = pd.DataFrame({"unit": design.units, "treated": t, "pscore": ps, **match})
        keep_units = list(design.units[match["weight"] > 0])
        if not (t[match["weight"] > 0] == 1).any():
            raise DataError("no treated unit was matched; widen the caliper.")
        panel = design.panel.subset(units=keep_units)
        balance = _balance(x, t, match["weight"], covariates)
        balance_rows = None
        n_single = 0
    else:
        parts, logits, xs, ts, ws = [], [], [], [], []
        t_row_all = treated_unit.reindex(cov[unit]).to_numpy()
        keep_rows = np.zeros(len(cov), dtype=bool)
        for period in design.times:
            rows = np.flatnonzero(cov[time].to_numpy() == period)
            x = cov.iloc[rows][covariates].to_numpy(dtype=float)
            t = t_row_all[rows]
            ps, lg = _propensity(x, t, covariates)
            match = _match(ps, t, method, int(k), float(caliper))
            lg.insert(0, "period", int(period))
            logits.append(lg)
            part = pd.DataFrame(
                {
                    "unit": cov.iloc[rows][unit].to_numpy(),
                    "period": int(period),
                    "treated": t,
                    "pscore": ps,
                    **match,
                }
            )
            parts.append(part)
            keep_rows[rows] = match["weight"] > 0
            xs.append(x)
            ts.append(t)
            ws.append(match["weight"])
        scores = pd.concat(parts, ignore_index=True)
        logit = pd.concat(logits, ignore_index=True)
        if not ((scores["treated"] == 1) & (scores["weight"] > 0)).any():
            raise DataError("no treated unit-period was matched; widen the caliper.")
        balance = _balance(np.vstack(xs), np.concatenate(ts), np.concatenate(ws), covariates)
        frame = design.panel.to_frame()
        key = pd.MultiIndex.from_arrays([cov[unit], cov[time]])
        kept = set(key[keep_rows])
        mask = np.array(
            [(u, tt) in kept for u, tt in zip(frame[unit], frame[time], strict=True)], dtype=bool
        )
        # a unit matched in a single period has no within-unit variation (a singleton of
        # the unit fixed effect): drop it, and record how many
        counts = pd.Series(mask).groupby(frame[unit].to_numpy()).transform("sum").to_numpy()
        singletons = mask & (counts == 1)
        n_single = int(singletons.sum())
        mask &= ~singletons
        panel = design.panel.subset(where=mask)
        balance_rows = int(mask.sum())

    is_t = scores["treated"].to_numpy() == 1
    n_treated = int(is_t.sum())
    off = int((is_t & ~scores["on_support"].to_numpy()).sum())
    matched_t = int((is_t & scores["matched"].to_numpy()).sum())
    used_c = int((~is_t & (scores["weight"].to_numpy() > 0)).sum())
    record = {
        "check": "psm",
        "description": (
            f"PSM ({method}, k = {k}, caliper {caliper}, "
            f"{'by year' if by_year else f'pooled on {base_year} covariates'}): kept "
            f"{matched_t} matched treated and {used_c} matched controls"
            + (
                f" ({balance_rows} rows; {n_single} units matched in a single period dropped)"
                if balance_rows is not None
                else ""
            )
        ),
    }
    balance_rule = "pairwise" if by_year and design.balance == "drop" else None
    matched_design = rebuild_design(design, panel, record=record, balance=balance_rule)
    did = estimate(matched_design, outcome, estimator=estimator, **estimate_options)
    meta = {
        "method": method,
        "k": int(k),
        "caliper": float(caliper),
        "by_year": bool(by_year),
        "base_year": None if by_year else int(base_year),
        "covariates": covariates,
        "n_treated": n_treated,
        "n_off_support": off,
        "n_matched_treated": matched_t,
        "n_controls_used": used_c,
        "estimator": estimator,
        "did_weights": "unweighted DID on the matched units/rows",
    }
    return PSMResult(
        did=did,
        balance=balance,
        scores=scores,
        design=matched_design,
        logit=logit,
        meta=meta,
    )


# ---------------------------------------------------------------------- logit
def logit_irls(
    x: np.ndarray, y: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    r"""Fit a logit by iteratively reweighted least squares (Newton–Raphson).

    :math:`\beta \leftarrow \beta + (X'WX)^{-1}X'(y - p)`, :math:`W = \mathrm{diag}(p(1-p))`.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, k)
        Design matrix (include the constant).
    y : numpy.ndarray, shape (n,)
        0/1 outcome.
    tol : float, default 1e-10
        Convergence tolerance on the largest coefficient change.
    max_iter : int, default 100
        Iteration limit.

    Returns
    -------
    tuple of numpy.ndarray
        Coefficients and their covariance :math:`(X'WX)^{-1}` (observed information).

    Raises
    ------
    EstimationError
        When the fit does not converge or the information matrix is singular (perfect
        separation or collinear covariates).
    """
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -35, 35)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        info = x.T @ (x * w[:, None])
        try:
            step = np.linalg.solve(info, x.T @ (y - p))
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "propensity logit: singular information matrix (collinear covariates or "
                "perfect separation)."
            ) from exc
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            eta = np.clip(x @ beta, -35, 35)
            p = 1.0 / (1.0 + np.exp(-eta))
            info = x.T @ (x * (p * (1 - p))[:, None])
            return beta, np.linalg.inv(info)
    raise EstimationError(
        "propensity logit did not converge (perfect separation?). Fix: drop or coarsen the "
        "covariates that predict treatment perfectly."
    )


def _propensity(x: np.ndarray, t: np.ndarray, names: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    if t.min() == t.max():
        raise DataError("propensity logit needs both treated and untreated units.")
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = np.column_stack([np.ones(len(x)), (x - mu) / sd])  # standardised for stability
    beta_z, cov_z = logit_irls(z, t.astype(float))
    # back to the original scale: b_j = bz_j / sd_j, b0 = bz_0 - sum bz_j mu_j / sd_j
    jac = np.zeros((z.shape[1], z.shape[1]))
    jac[0, 0] = 1.0
    jac[0, 1:] = -mu / sd
    jac[1:, 1:] = np.diag(1.0 / sd)
    beta = jac @ beta_z
    cov = jac @ cov_z @ jac.T
    ps = 1.0 / (1.0 + np.exp(-np.clip(z @ beta_z, -35, 35)))
    table = pd.DataFrame({"term": ["const", *names], "estimate": beta, "se": np.sqrt(np.diag(cov))})
    return ps, table


# ---------------------------------------------------------------------- matching
def _match(
    ps: np.ndarray, t: np.ndarray, method: str, k: int, caliper: float
) -> dict[str, np.ndarray]:
    treated = np.flatnonzero(t == 1)
    controls = np.flatnonzero(t == 0)
    pc = ps[controls]
    lo, hi = pc.min(), pc.max()
    on_support = np.ones(len(ps), dtype=bool)
    on_support[treated] = (ps[treated] >= lo) & (ps[treated] <= hi)
    weight = np.zeros(len(ps))
    matched = np.zeros(len(ps), dtype=bool)
    for i in treated[on_support[treated]]:
        dist = np.abs(pc - ps[i])
        if method == "nearest":
            order = np.argsort(dist, kind="stable")[:k]
            order = order[dist[order] <= caliper]
            if order.size == 0:
                continue
            weight[controls[order]] += 1.0 / order.size
        else:
            u = dist / caliper
            kern = np.where(u < 1, 0.75 * (1 - u**2), 0.0)
            if kern.sum() <= 0:
                continue
            weight[controls] += kern / kern.sum()
        matched[i] = True
        weight[i] = 1.0
    return {"on_support": on_support, "matched": matched, "weight": weight}


# ---------------------------------------------------------------------- balance
def _balance(x: np.ndarray, t: np.ndarray, w: np.ndarray, names: list[str]) -> pd.DataFrame:
    rows = []
    is_t = t == 1
    mt_mask = is_t & (w > 0)
    mc_mask = ~is_t & (w > 0)
    for j, name in enumerate(names):
        xt, xc = x[is_t, j], x[~is_t, j]
        denom = math.sqrt((xt.var(ddof=1) + xc.var(ddof=1)) / 2)
        bias_b = 100 * (xt.mean() - xc.mean()) / denom if denom > 0 else math.nan
        t_b, p_b = stats.ttest_ind(xt, xc, equal_var=False)
        xt_a = x[mt_mask, j]
        xc_a, wc = x[mc_mask, j], w[mc_mask]
        mean_c = float(np.average(xc_a, weights=wc))
        var_c = float(np.average((xc_a - mean_c) ** 2, weights=wc))
        n_eff = wc.sum() ** 2 / np.sum(wc**2)
        bias_a = 100 * (xt_a.mean() - mean_c) / denom if denom > 0 else math.nan
        se_a = math.sqrt(xt_a.var(ddof=1) / xt_a.size + var_c * n_eff / (n_eff - 1) / n_eff)
        t_a = (xt_a.mean() - mean_c) / se_a if se_a > 0 else math.nan
        df_a = max(min(xt_a.size, n_eff) - 1, 1)
        p_a = float(2 * stats.t.sf(abs(t_a), df_a)) if math.isfinite(t_a) else math.nan
        rows.append(
            {
                "covariate": name,
                "mean_treated": float(xt.mean()),
                "mean_control_before": float(xc.mean()),
                "mean_treated_after": float(xt_a.mean()),
                "mean_control_after": mean_c,
                "bias_before": float(bias_b),
                "bias_after": float(bias_a),
                "bias_reduction": float(100 * (1 - abs(bias_a) / abs(bias_b)))
                if bias_b
                else math.nan,
                "t_before": float(t_b),
                "p_before": float(p_b),
                "t_after": float(t_a),
                "p_after": p_a,
            }
        )
    return pd.DataFrame(rows)
