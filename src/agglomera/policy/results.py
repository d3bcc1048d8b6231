"""Result object shared by every difference-in-differences estimator."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["ATTGT_COLUMNS", "EVENT_STUDY_COLUMNS", "DIDResult"]

EVENT_STUDY_COLUMNS = ("rel_time", "estimate", "se", "ci_low", "ci_high", "n")
ATTGT_COLUMNS = ("cohort", "time", "estimate", "se")


@dataclass(frozen=True)
class DIDResult:
    """Estimate of a (staggered) difference-in-differences design.

    Attributes
    ----------
    att : float
        The aggregated average treatment effect on the treated for the requested
        aggregation (``"simple"``, ``"dynamic"`` = average of the post-treatment event-time
        effects, ``"group"``, ``"calendar"``; for TWFE the coefficient of the treatment
        indicator).
    se : float
        Its standard error (analytic, or bootstrap when ``meta["bootstrap"] > 0``).
    ci : tuple of float
        ``(low, high)`` confidence interval at level ``1 − alpha``.
    pvalue : float
        Two-sided p-value of ``att = 0``.
    event_study : pandas.DataFrame
        Columns ``rel_time``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``n`` (units
        contributing); empty when the estimator has no event-time profile. Confidence
        bands are uniform when ``meta["uniform_bands"]`` is true.
    attgt : pandas.DataFrame
        Columns ``cohort``, ``time``, ``estimate``, ``se``: group-time effects where the
        estimator defines them (empty otherwise).
    pretrend_pvalue : float
        p-value of the joint test that all pre-treatment event-time effects are zero
        (NaN when there are none).
    meta : dict
        Estimator, outcome, conventions (control group, base period, method, anticipation,
        clustering, small-sample correction), the balance rule, numbers of units and
        observations used, and every deliberate drop with its reason (``meta["dropped"]``).
    """

    att: float
    se: float
    ci: tuple[float, float]
    pvalue: float
    event_study: pd.DataFrame = field(repr=False)
    attgt: pd.DataFrame = field(repr=False)
    pretrend_pvalue: float = math.nan
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def estimator(self) -> str:
        """Short name of the estimator (``"cs"``, ``"twfe"``, ...)."""
        return str(self.meta.get("estimator", ""))

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy one-row summary: estimator, aggregation, att, se, CI, p-value."""
        return pd.DataFrame(
            [
                {
                    "estimator": self.estimator,
                    "outcome": self.meta.get("outcome"),
                    "aggregate": self.meta.get("aggregate"),
                    "att": self.att,
                    "se": self.se,
                    "ci_low": self.ci[0],
                    "ci_high": self.ci[1],
                    "pvalue": self.pvalue,
                    "pretrend_pvalue": self.pretrend_pvalue,
                    "n_units": self.meta.get("n_units"),
                    "n_obs": self.meta.get("n_obs"),
                }
            ]
        )

    def summary(self) -> str:
        """Return a plain-text summary with the conventions used."""
        alpha = self.meta.get("alpha", 0.05)
        level = round(100 * (1 - float(alpha)))
        lines = [
            f"{self.meta.get('estimator_label', self.estimator)} — outcome "
            f"{self.meta.get('outcome')!s}, aggregation {self.meta.get('aggregate')!s}",
            f"  ATT = {self.att:.6g}  (SE {self.se:.6g}; {level}% CI "
            f"[{self.ci[0]:.6g}, {self.ci[1]:.6g}]; p = {self.pvalue:.4g})",
        ]
        if not math.isnan(self.pretrend_pvalue):
            lines.append(f"  joint pre-trend test: p = {self.pretrend_pvalue:.4g}")
        conventions = self.meta.get("conventions", {})
        if conventions:
            lines.append(
                "  conventions: " + "; ".join(f"{k} = {v}" for k, v in conventions.items())
            )
        for note in self.meta.get("dropped", []):
            lines.append(f"  dropped: {note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"
