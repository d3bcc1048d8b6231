"""Input checks, design construction, grid start and linearity tests of the PSTR."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from agglomera.data.checks import require_finite, require_panel
from agglomera.errors import DataError, EstimationError, SpecError, check_choice, format_examples
from agglomera.interaction import _pstr_core as core

__all__: list[str] = []

TEST_COLUMNS = [
    "m",
    "lm_x",
    "lm_x_pvalue",
    "lm_f",
    "lm_f_pvalue",
    "lm_hac_x",
    "lm_hac_x_pvalue",
    "lm_hac_f",
    "lm_hac_f_pvalue",
    "df1",
    "df2",
]


def design(
    frame: pd.DataFrame,
    unit: str,
    y: str,
    x: list[str],
    nonlinear: list[str],
    transition: str,
    scale: float,
    fn: str,
) -> core._Design:
    groups = pd.factorize(frame[unit], sort=False)[0]
    n_units = int(groups.max()) + 1
    xw = core.within(frame[x].to_numpy(float), groups, n_units)
    check_rank(fn, xw, x)
    norms = np.sqrt((xw**2).sum(axis=0))
    chol = np.linalg.cholesky((xw / norms).T @ (xw / norms))
    qx = np.linalg.solve(chol, (xw / norms).T).T  # orthonormal basis of the columns of x
    return core._Design(
        y=core.within(frame[y].to_numpy(float), groups, n_units),
        x=xw,
        xn=frame[nonlinear].to_numpy(float),
        q=frame[transition].to_numpy(float),
        groups=groups,
        n_units=n_units,
        scale=scale,
        qx=qx,
    )


def log_chi2_sf(stat: float, df: int) -> float:
    """Log P(χ²_df > stat), with the leading asymptotic term where scipy underflows."""
    value = float(stats.chi2.logsf(stat, df))
    if np.isfinite(value):
        return value
    half = 0.5 * stat
    return float(-half + (0.5 * df - 1.0) * np.log(half) - special.gammaln(0.5 * df))


def lm_row(order: int, lm: core._LM) -> dict[str, Any]:
    return {
        "m": order,
        "lm_x": lm.lm_x,
        "lm_x_pvalue": lm.lm_x_pvalue,
        "lm_f": lm.lm_f,
        "lm_f_pvalue": lm.lm_f_pvalue,
        "lm_hac_x": lm.lm_hac_x,
        "lm_hac_x_pvalue": lm.lm_hac_x_pvalue,
        "lm_hac_f": lm.lm_hac_f,
        "lm_hac_f_pvalue": lm.lm_hac_f_pvalue,
        "df1": lm.df1,
        "df2": lm.df2,
    }


def linearity(
    design: core._Design, x: list[str], test_m: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Linearity and sequence tests, and the linear fixed-effects fit (the null model)."""
    groups, n_units = design.groups, design.n_units
    qs = design.q / np.std(design.q, ddof=1)  # the LM statistics are scale invariant
    powers = [
        core.within(design.xn * (qs**j)[:, None], groups, n_units) for j in range(1, test_m + 1)
    ]
    beta0 = core.ols(design.x, design.y)
    e0 = design.y - design.x @ beta0
    k = design.x.shape[1]
    bread = np.linalg.inv(design.x.T @ design.x)
    v0 = bread @ core.cluster_meat(design.x, e0, groups, n_units) @ bread
    linear = pd.DataFrame(
        {"estimate": beta0, "se": np.sqrt(np.diag(v0))}, index=pd.Index(x, name="variable")
    )
    lin_rows, seq_rows = [], []
    for order in range(1, test_m + 1):
        added = np.hstack(powers[:order])
        lin_rows.append(lm_row(order, core.lm_statistics(design.x, e0, added, groups, n_units, k)))
        base = np.hstack([design.x, *powers[: order - 1]])
        e = core.residualise(base, design.y)
        lm = core.lm_statistics(base, e, powers[order - 1], groups, n_units, base.shape[1])
        seq_rows.append(lm_row(order, lm))
    return (
        pd.DataFrame(lin_rows, columns=TEST_COLUMNS),
        pd.DataFrame(seq_rows, columns=TEST_COLUMNS),
        linear,
    )


def grid_start(
    design: core._Design,
    y_perp: np.ndarray,
    m: int,
    lg: tuple[float, float],
    c_range: tuple[float, float],
    c_bounds: tuple[float, float],
    n_gamma: int,
    n_c: int,
) -> dict[str, Any]:
    """Best (γ, c) on a grid: γ log-spaced, c on quantile levels of q (ordered tuples)."""
    gammas = np.exp(np.linspace(lg[0], lg[1], n_gamma))
    levels = np.linspace(c_bounds[0], c_bounds[1], n_c)
    c_values = np.clip(np.quantile(design.q, levels), c_range[0], c_range[1])
    best: dict[str, Any] = {"gamma": float("nan"), "c": (), "ssr": np.inf}
    for cs in itertools.combinations(np.unique(c_values), m):
        c_arr = np.asarray(cs, float)
        for gam in gammas:
            ssr = core.profile_ssr(design, y_perp, float(gam), c_arr)[0]
            if ssr < best["ssr"]:
                best = {"gamma": float(gam), "c": tuple(float(v) for v in c_arr), "ssr": ssr}
    if not np.isfinite(best["ssr"]):  # pragma: no cover - only with degenerate data
        raise EstimationError("pstr: the grid search found no finite sum of squares.")
    return best


def check_options(
    fn: str,
    m: int,
    gamma_scale: str,
    gamma_bounds: tuple[float, float],
    c_bounds: tuple[float, float],
    n_gamma: int,
    n_c: int,
    bread: str,
    test_m: int,
) -> None:
    if not isinstance(m, int | np.integer) or not 1 <= m <= 3:
        raise SpecError(f"{fn}: m must be 1, 2 or 3 (number of locations); got {m!r}.")
    check_choice("gamma_scale", gamma_scale, ("std", "none"), fn=fn)
    check_choice("bread", bread, ("hessian", "outer"), fn=fn)
    if not (0 < gamma_bounds[0] < gamma_bounds[1]):
        raise SpecError(f"{fn}: gamma_bounds must satisfy 0 < low < high; got {gamma_bounds!r}.")
    if not (0.0 <= c_bounds[0] < c_bounds[1] <= 1.0):
        raise SpecError(
            f"{fn}: c_bounds are quantile levels with 0 <= low < high <= 1; got {c_bounds!r}."
        )
    if n_gamma < 2 or n_c < m + 1:
        raise SpecError(f"{fn}: need n_gamma >= 2 and n_c >= m + 1; got {n_gamma}, {n_c}.")
    if test_m < 1:
        raise SpecError(f"{fn}: test_m must be at least 1; got {test_m}.")


def checked_frame(
    panel: Any,
    y: str,
    x: list[str],
    nonlinear: list[str],
    transition: str,
    remaining: Sequence[str] | None,
    fn: str,
) -> pd.DataFrame:
    require_panel(panel, fn)
    if not x:
        raise SpecError(f"{fn}: x (the linear-part regressors) is empty.")
    if not nonlinear:
        raise SpecError(f"{fn}: nonlinear (the regressors whose slope switches) is empty.")
    if y in x or y in nonlinear:
        raise SpecError(f"{fn}: the dependent variable {y!r} is also listed as a regressor.")
    for name, cols in (("x", x), ("nonlinear", nonlinear)):
        dup = sorted({v for v in cols if cols.count(v) > 1})
        if dup:
            raise SpecError(f"{fn}: {name} lists {format_examples(dup)} more than once.")
    extra = list(remaining or [])
    columns = list(dict.fromkeys([y, *x, *nonlinear, transition, *extra]))
    require_finite(panel, columns, fn, why="PSTR never drops observations silently.")
    frame = panel.to_frame()
    frame = frame.sort_values([panel.unit, panel.time], kind="stable").reset_index(drop=True)
    counts = frame.groupby(panel.unit, sort=False).size()
    single = counts[counts < 2]
    if len(single):
        raise DataError(
            f"{fn}: units {format_examples(list(single.index))} have a single observation, "
            "which the within transformation reduces to zero. Fix: drop them explicitly "
            "with panel.subset(...)."
        )
    return frame


def check_rank(fn: str, xw: np.ndarray, names: list[str]) -> None:
    norms = np.sqrt((xw**2).sum(axis=0))
    flat = [n for n, v in zip(names, norms, strict=True) if v <= 1e-10 * max(norms.max(), 1.0)]
    if flat:
        raise EstimationError(
            f"{fn}: regressors {format_examples(flat)} do not vary within units; the "
            "individual effects absorb them. Fix: remove them from x."
        )
    scaled = xw / norms
    eig = np.linalg.eigvalsh(scaled.T @ scaled)
    if eig.min() <= 1e-10 * eig.max():
        raise EstimationError(
            f"{fn}: the within-transformed regressors {format_examples(names)} are collinear "
            "(for example a full set of time dummies). Fix: drop one dummy or the collinear "
            "column."
        )
