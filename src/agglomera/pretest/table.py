"""Result object shared by the panel pre-tests, input checks, and the report table.

:class:`PretestResult` is the frozen result every pre-test returns; :func:`pretests` runs a
battery of them on several variables and returns one row per variable × test for the
report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.checks import require_finite
from agglomera.data.panel import Panel
from agglomera.errors import AgglomeraError, DataError, SpecError, check_choice, format_examples

__all__ = ["PretestResult", "pretests"]

_COLUMNS = [
    "variable",
    "test",
    "null",
    "statistic_name",
    "statistic",
    "pvalue",
    "pvalue_bound",
    "df",
    "lags",
    "deterministic",
    "n_units",
    "n_periods",
    "decision",
    "note",
]


@dataclass(frozen=True)
class PretestResult:
    """Outcome of one panel pre-test (unit root, cross-sectional dependence or Hausman).

    Attributes
    ----------
    test : str
        Name of the test, e.g. ``"Levin-Lin-Chu"``.
    variable : str
        Tested variable (or the model, ``"y ~ x1 + x2"``).
    statistic_name : str
        Name of the statistic (``"z"``, ``"W_tbar"``, ``"CIPS"``, ``"CD"``, ``"chisq"``).
    statistic : float
        Value of the statistic.
    pvalue : float
        p-value. For CIPS it is interpolated in tables and bounded to [0.01, 0.10]; see
        ``pvalue_bound``.
    null : str
        The null hypothesis in words.
    deterministic : str
        Deterministic terms (``"none"``, ``"intercept"``, ``"trend"``) or the residual model.
    lags : tuple of int
        Augmentation lags used per unit (empty where not applicable).
    n_units, n_periods : int
        Units and periods of the panel the test used.
    df : int or None
        Degrees of freedom of a χ² statistic.
    pvalue_bound : str
        ``"<"`` or ``">"`` when the p-value is a table bound (CIPS below 1 % or above
        10 %), else ``""``.
    meta : Mapping
        Further details (per-unit statistics, table values, options), read-only.
    """

    test: str
    variable: str
    statistic_name: str
    statistic: float
    pvalue: float
    null: str
    deterministic: str
    lags: tuple[int, ...]
    n_units: int
    n_periods: int
    df: int | None = None
    pvalue_bound: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def reject(self, alpha: float = 0.05) -> bool:
        """Whether the null is rejected at level ``alpha`` (False when the p-value is NaN)."""
        if np.isnan(self.pvalue):
            return False
        if self.pvalue_bound == "<" and alpha >= self.pvalue:
            return True
        if self.pvalue_bound == ">" and alpha <= self.pvalue:
            return False
        return bool(self.pvalue < alpha)

    def decision(self, alpha: float = 0.05) -> str:
        """``"reject H0"``, ``"do not reject H0"`` at level ``alpha``, or ``"n/a"``."""
        if np.isnan(self.pvalue):
            return "n/a"
        return "reject H0" if self.reject(alpha) else "do not reject H0"

    def lags_label(self) -> str:
        """Lags as text: one number when all units share it, else ``min–max (mean m)``."""
        if not self.lags:
            return ""
        lo, hi = min(self.lags), max(self.lags)
        if lo == hi:
            return str(lo)
        return f"{lo}–{hi} (mean {np.mean(self.lags):.2f})"

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Return a one-row tidy table (the columns of :func:`pretests`)."""
        row = {
            "variable": self.variable,
            "test": self.test,
            "null": self.null,
            "statistic_name": self.statistic_name,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "pvalue_bound": self.pvalue_bound,
            "df": self.df,
            "lags": self.lags_label(),
            "deterministic": self.deterministic,
            "n_units": self.n_units,
            "n_periods": self.n_periods,
            "decision": self.decision(alpha),
            "note": str(self.meta.get("note", "")),
        }
        return pd.DataFrame([row], columns=_COLUMNS)

    def table(self, digits: int = 4, alpha: float = 0.05) -> pd.DataFrame:
        """Return the report row: test, statistic, p-value (with bound), lags, decision."""
        p = f"{self.pvalue:.{digits}f}" if np.isfinite(self.pvalue) else ""
        return pd.DataFrame(
            [
                {
                    "Variable": self.variable,
                    "Test": self.test,
                    "Statistic": round(self.statistic, digits),
                    "p-value": f"{self.pvalue_bound}{p}",
                    "Lags": self.lags_label(),
                    "Deterministic": self.deterministic,
                    f"Decision ({alpha:.0%})": self.decision(alpha),
                }
            ]
        )

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(self.test)}</p>" + self.table().to_html(index=False)

    def summary(self, alpha: float = 0.05) -> str:
        """Return a short plain-text report of the test."""
        p = f"{self.pvalue_bound}{self.pvalue:.4g}" if self.pvalue_bound else f"{self.pvalue:.4g}"
        lines = [
            f"{self.test} — {self.variable}",
            f"H0: {self.null}",
            f"{self.statistic_name} = {self.statistic:.4f}, p = {p}"
            + (f", df = {self.df}" if self.df is not None else ""),
            f"deterministic terms: {self.deterministic}; lags: {self.lags_label() or 'n/a'}",
            f"{self.n_units} units × {self.n_periods} periods; {self.decision(alpha)} at "
            f"{alpha:.0%}",
        ]
        note = self.meta.get("note")
        if note:
            lines.append(f"note: {note}")
        return "\n".join(lines)


# ---------------------------------------------------------------------- input helpers
_NOTHING_DROPPED = "Pre-tests never drop observations silently."


def _check_values(panel: Panel, columns: Sequence[str], fn: str) -> None:
    """Raise DataError when a column is not numeric or has missing values (naming keys)."""
    require_finite(panel, columns, fn, why=_NOTHING_DROPPED)


def _unit_series(panel: Panel, var: str, fn: str) -> list[tuple[Any, np.ndarray]]:
    """Per-unit series in time order; interior gaps in the periods are an error."""
    require_finite(panel, [var], fn, why=_NOTHING_DROPPED)
    frame = panel.to_frame()
    out: list[tuple[Any, np.ndarray]] = []
    gaps: list[Any] = []
    for unit, grp in frame.groupby(panel.unit, sort=True):
        times = grp[panel.time].to_numpy()
        if len(times) > 1 and np.any(np.diff(times) != 1):
            gaps.append(unit)
        out.append((unit, grp[var].to_numpy(dtype=float)))
    if gaps:
        raise DataError(
            f"{fn}: units with gaps in {panel.time!r} (a lag would jump over the gap): "
            f"{format_examples(gaps)}. Fix: drop or split those units, or interpolate the gap "
            "with a recorded transform."
        )
    return out


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares: coefficients, residuals and (X'X)^{-1} (full column rank required)."""
    q, r = np.linalg.qr(x)
    if x.shape[1] and np.min(np.abs(np.diag(r))) <= 1e-10 * np.max(np.abs(np.diag(r))):
        from agglomera.errors import EstimationError

        raise EstimationError(
            "a regression in the pre-test has collinear regressors (too many lags for the "
            "number of periods?). Fix: use fewer lags."
        )
    beta = np.linalg.solve(r, q.T @ y)
    rinv = np.linalg.solve(r, np.eye(r.shape[0]))
    return beta, y - x @ beta, rinv @ rinv.T


# ---------------------------------------------------------------------- report table
def pretests(
    panel: Panel,
    vars: Sequence[str],
    *,
    tests: Sequence[str] = ("llc", "ips", "cips", "cd"),
    exo: Literal["intercept", "trend"] = "intercept",
    lags: str | int = "aic",
    max_lags: int | None = None,
    cips_lags: int = 1,
    alpha: float = 0.05,
    model: tuple[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Run the panel pre-tests on several variables and return the report table.

    Parameters
    ----------
    panel : Panel
        The panel.
    vars : sequence of str
        Variables to test (unit roots and, with ``"cd"``, cross-sectional dependence of
        each series).
    tests : sequence of {"llc", "ips", "cips", "cd"}
        Tests per variable. Levin–Lin–Chu, Im–Pesaran–Shin and CIPS test a unit root;
        ``"cd"`` is Pesaran's CD test on the series itself.
    exo : {"intercept", "trend"}
        Deterministic terms of the unit-root regressions (CIPS: ``"drift"`` for
        ``"intercept"``).
    lags, max_lags :
        Lag selection of LLC and IPS (see :func:`levin_lin_chu`).
    cips_lags : int, default 1
        Augmentation lags of CIPS.
    alpha : float, default 0.05
        Level of the decision column.
    model : (y, x) tuple, optional
        When given, adds the CD test on the residuals of the unit-by-unit regression of
        ``y`` on ``x`` and the Hausman test of fixed against random effects.

    Returns
    -------
    pandas.DataFrame
        One row per variable × test with ``statistic``, ``pvalue``, ``lags``,
        ``deterministic``, ``decision`` (at ``alpha``) and a ``note``. A test that cannot
        run on a variable (for example too few periods) gives a row with NaN statistic
        and the reason in ``note``; invalid input (missing values, unbalanced panel where
        required) raises :class:`~agglomera.errors.DataError`.
    """
    from agglomera.pretest.dependence import pesaran_cd
    from agglomera.pretest.hausman import hausman
    from agglomera.pretest.unit_root import cips, im_pesaran_shin, levin_lin_chu

    known = {"llc", "ips", "cips", "cd"}
    unknown = [t for t in tests if t not in known]
    if unknown:
        raise SpecError(f"pretests: unknown tests {format_examples(unknown)}; allowed: {known}.")
    check_choice("exo", exo, ("intercept", "trend"), fn="pretests")
    ctype: Literal["drift", "trend"] = "drift" if exo == "intercept" else "trend"
    frames: list[pd.DataFrame] = []

    def run(name: str, variable: str, call: Any) -> None:
        try:
            res: PretestResult = call()
        except DataError:
            raise
        except AgglomeraError as err:
            row: dict[str, Any] = dict.fromkeys(_COLUMNS)
            row.update(variable=variable, test=name, statistic=np.nan, pvalue=np.nan, note=str(err))
            frames.append(pd.DataFrame([row], columns=_COLUMNS))
            return
        frames.append(res.to_frame(alpha))

    for var in vars:
        for t in tests:
            if t == "llc":
                run(
                    "Levin-Lin-Chu",
                    var,
                    lambda v=var: levin_lin_chu(panel, v, exo=exo, lags=lags, max_lags=max_lags),
                )
            elif t == "ips":
                run(
                    "Im-Pesaran-Shin",
                    var,
                    lambda v=var: im_pesaran_shin(panel, v, exo=exo, lags=lags, max_lags=max_lags),
                )
            elif t == "cips":
                run("Pesaran CIPS", var, lambda v=var: cips(panel, v, lags=cips_lags, type=ctype))
            else:
                run("Pesaran CD", var, lambda v=var: pesaran_cd(panel, v))
    if model is not None:
        y, x = model
        label = f"{y} ~ {' + '.join(x)}"
        run("Pesaran CD", label, lambda: pesaran_cd(panel, y, x))
        run("Hausman", label, lambda: hausman(panel, y, x))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_COLUMNS)
    return out
