r"""Goodman-Bacon decomposition of the staggered TWFE estimate into 2×2 DIDs.

On a balanced panel without covariates the TWFE coefficient of
:math:`y_{it} = \alpha_i + \lambda_t + \beta D_{it} + \varepsilon_{it}` is exactly a weighted
average of all 2×2 difference-in-differences between timing groups,

.. math:: \hat\beta^{TWFE} = \sum_{k} s_{kU}\hat\beta_{kU}
          + \sum_{k < l} \left(s^{k}_{kl}\hat\beta^{k}_{kl} + s^{l}_{kl}\hat\beta^{l}_{kl}\right),
          \qquad \sum s = 1,

with timing groups :math:`k` (first treated in :math:`g_k`), never-treated group
:math:`U`, unit shares :math:`n`, and treated-time shares :math:`\bar D_k = \#\{t \ge g_k\}/T`
(Goodman-Bacon 2021, Theorem 1):

* treated vs never treated: :math:`s_{kU} \propto (n_k + n_U)^2\,n_{kU}(1 - n_{kU})\,
  \bar D_k (1 - \bar D_k)`, :math:`n_{kU} = n_k / (n_k + n_U)`;
* earlier vs later treated (:math:`g_k < g_l`; :math:`l` not yet treated is the control,
  periods :math:`t < g_l`): :math:`s^k_{kl} \propto ((n_k + n_l)(1 - \bar D_l))^2\,
  n_{kl}(1 - n_{kl})\,\frac{\bar D_k - \bar D_l}{1 - \bar D_l}\,
  \frac{1 - \bar D_k}{1 - \bar D_l}`;
* later vs earlier treated (the already-treated :math:`k` is the control, periods
  :math:`t \ge g_k`; the "forbidden" comparison that biases TWFE when effects change
  over time): :math:`s^l_{kl} \propto ((n_k + n_l)\bar D_k)^2\,n_{kl}(1 - n_{kl})\,
  \frac{\bar D_l}{\bar D_k}\,\frac{\bar D_k - \bar D_l}{\bar D_k}`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.policy.design import TreatmentDesign

__all__ = ["COMPARISON_TYPES", "BaconResult", "bacon_decomposition"]

#: Labels of the three kinds of 2×2 comparison.
COMPARISON_TYPES: tuple[str, ...] = (
    "treated vs never treated",
    "earlier vs later treated",
    "later vs earlier treated",
)


@dataclass(frozen=True)
class BaconResult:
    """Goodman-Bacon decomposition of a TWFE estimate.

    Attributes
    ----------
    comparisons : pandas.DataFrame
        One row per 2×2 comparison: ``type`` (one of :data:`COMPARISON_TYPES`),
        ``treated`` (cohort of the group whose treatment switches on), ``control`` (cohort
        of the comparison group; 0 = never treated), ``estimate`` (the 2×2 DID) and
        ``weight`` (summing to one).
    twfe : float
        The TWFE coefficient; equals ``(weight * estimate).sum()``.
    meta : dict
        Outcome, numbers of units and periods, the design's rule and drops.
    """

    comparisons: pd.DataFrame = field(repr=False)
    twfe: float
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def by_type(self) -> pd.DataFrame:
        """Return total weight and weighted average estimate per comparison type."""
        c = self.comparisons
        rows = []
        for kind in COMPARISON_TYPES:
            sub = c[c["type"] == kind]
            w = float(sub["weight"].sum())
            avg = float((sub["weight"] * sub["estimate"]).sum() / w) if w > 0 else np.nan
            rows.append({"type": kind, "weight": w, "estimate": avg, "n_comparisons": len(sub)})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Return the comparisons table (a copy)."""
        return self.comparisons.copy()

    def summary(self) -> str:
        """Return a plain-text summary of the decomposition."""
        lines = [
            f"Goodman-Bacon decomposition — outcome {self.meta.get('outcome')!s}: "
            f"TWFE = {self.twfe:.6g}"
        ]
        for row in self.by_type().itertuples(index=False):
            lines.append(
                f"  {row.type}: weight {row.weight:.4f}, average 2x2 estimate "
                f"{row.estimate:.6g} ({row.n_comparisons} comparisons)"
            )
        return "\n".join(lines)


def bacon_decomposition(design: TreatmentDesign, outcome: str) -> BaconResult:
    r"""Decompose the TWFE estimate into 2×2 DIDs and their weights (Goodman-Bacon 2021).

    Parameters
    ----------
    design : TreatmentDesign
        A design on a balanced panel (``balance="drop"``, the default, balances it).
    outcome : str
        Outcome column; must have no missing values.

    Returns
    -------
    BaconResult
        The comparisons with their estimates and weights, and the TWFE coefficient
        (computed by two-way demeaning; equal to ``(weight * estimate).sum()`` up to
        rounding).

    Raises
    ------
    DataError
        If the panel is not balanced or the outcome has missing values (the decomposition
        is exact only on a balanced panel).

    Notes
    -----
    The formulas are in the module docstring. Negative-weight problems of TWFE come from
    the "later vs earlier treated" comparisons: when effects grow with exposure, the
    already-treated control's outcome still moves with its own treatment effect, pulling
    the estimate down (de Chaisemartin and D'Haultfœuille 2020).

    References
    ----------
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment
    timing. *Journal of Econometrics* 225(2), 254–277.
    """
    if not isinstance(design, TreatmentDesign):
        raise SpecError(f"bacon_decomposition() needs a TreatmentDesign; got {type(design)}.")
    y = design.outcome_matrix(outcome)
    if not design.panel.is_balanced:
        raise DataError(
            "bacon_decomposition() needs a balanced panel (the decomposition is exact only "
            "then); this design's panel is unbalanced. Fix: build the design with "
            "balance='drop' (the default)."
        )
    missing = y.isna().any(axis=1)
    if missing.any():
        raise DataError(
            f"bacon_decomposition(): {outcome!r} is missing for {int(missing.sum())} units, "
            f"e.g. {format_examples(list(y.index[missing.to_numpy()]))}. Fix: drop them "
            "explicitly (Panel.subset) and rebuild the design."
        )
    ymat = y.to_numpy(dtype=float)
    times = design.times
    t_len = len(times)
    g = design.cohorts.reindex(y.index).to_numpy(dtype=np.int64)
    n_all = len(g)
    groups = sorted({int(v) for v in g[g > 0]})
    means = {k: ymat[g == k].mean(axis=0) for k in groups}
    share = {k: float((g == k).sum()) / n_all for k in groups}
    dbar = {k: float((times >= k).mean()) for k in groups}
    has_never = bool((g == 0).any())
    if has_never:
        means[0] = ymat[g == 0].mean(axis=0)
        share[0] = float((g == 0).sum()) / n_all

    rows: list[dict[str, Any]] = []

    def did(treat: int, ctrl: int, before: np.ndarray, after: np.ndarray) -> float:
        dt = means[treat][after].mean() - means[treat][before].mean()
        dc = means[ctrl][after].mean() - means[ctrl][before].mean()
        return float(dt - dc)

    for k in groups:
        if has_never:
            n_ku = share[k] / (share[k] + share[0])
            w = (share[k] + share[0]) ** 2 * n_ku * (1 - n_ku) * dbar[k] * (1 - dbar[k])
            rows.append(
                {
                    "type": COMPARISON_TYPES[0],
                    "treated": k,
                    "control": 0,
                    "estimate": did(k, 0, times < k, times >= k),
                    "weight": w,
                }
            )
    for i, k in enumerate(groups):
        for gl in groups[i + 1 :]:
            n_kl = share[k] / (share[k] + share[gl])
            dk, dl = dbar[k], dbar[gl]
            w_k = (
                ((share[k] + share[gl]) * (1 - dl)) ** 2
                * n_kl
                * (1 - n_kl)
                * ((dk - dl) / (1 - dl))
                * ((1 - dk) / (1 - dl))
            )
            w_l = (
                ((share[k] + share[gl]) * dk) ** 2
                * n_kl
                * (1 - n_kl)
                * (dl / dk)
                * ((dk - dl) / dk)
            )
            pre, mid, post = times < k, (times >= k) & (times < gl), times >= gl
            rows.append(
                {
                    "type": COMPARISON_TYPES[1],
                    "treated": k,
                    "control": gl,
                    "estimate": did(k, gl, pre, mid),
                    "weight": w_k,
                }
            )
            rows.append(
                {
                    "type": COMPARISON_TYPES[2],
                    "treated": gl,
                    "control": k,
                    "estimate": did(gl, k, mid, post),
                    "weight": w_l,
                }
            )
    comparisons = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    total = float(comparisons["weight"].sum())
    comparisons["weight"] = comparisons["weight"] / total
    comparisons = comparisons[comparisons["weight"] > 0].reset_index(drop=True)
    comparisons[["treated", "control"]] = comparisons[["treated", "control"]].astype(np.int64)

    d = (g[:, None] > 0) & (times[None, :] >= g[:, None])
    dd = d.astype(float)
    dd = dd - dd.mean(axis=1, keepdims=True) - dd.mean(axis=0, keepdims=True) + dd.mean()
    twfe = float((dd * ymat).sum() / (dd * dd).sum())
    meta = {
        "outcome": outcome,
        "n_units": n_all,
        "n_periods": t_len,
        "rule": design.rule,
        "dropped": list(design.meta.get("dropped", [])),
        "weights": "Goodman-Bacon (2021) Theorem 1, balanced panel, no covariates",
    }
    return BaconResult(comparisons=comparisons, twfe=twfe, meta=meta)
