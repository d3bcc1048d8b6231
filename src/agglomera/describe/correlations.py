r"""Correlation matrices with significance stars (pooled and within) and variance inflation.

:func:`correlations` gives Pearson or Spearman correlations of panel variables with
two-sided p-values and the starred display table papers print under the descriptive
statistics; ``within=True`` first removes each unit's mean (the variation a unit fixed-effects
model uses). :func:`vif` gives variance inflation factors of a regressor set.

Degrees of freedom of the within correlation
--------------------------------------------
Let :math:`\tilde x_{it} = x_{it} - \bar x_i` and :math:`\tilde y_{it} = y_{it} - \bar y_i`
over the :math:`N` rows where both are observed, from :math:`G` units. The within
correlation :math:`r_w = \sum \tilde x \tilde y / \sqrt{\sum \tilde x^2 \sum \tilde y^2}` is
the correlation of the residuals of :math:`x` and :math:`y` on the :math:`G` unit dummies.
By Frisch–Waugh–Lovell, the slope of :math:`y` on :math:`x` and the unit dummies equals the
slope of :math:`\tilde y` on :math:`\tilde x`, and its t statistic is
:math:`t = r_w \sqrt{\nu / (1 - r_w^2)}` with the residual degrees of freedom of the
dummy regression, :math:`\nu = N - G - 1` (N observations, G dummy coefficients and one
slope). That is the convention here; the pooled correlation uses the familiar
:math:`\nu = N - 2` (intercept and slope). Using :math:`N - 2` for within correlations
overstates significance because the :math:`G` unit means were estimated.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from agglomera.data.panel import Panel
from agglomera.describe.summary import _as_list, _check_panel, _require_vars, _values
from agglomera.errors import DataError, SpecError

__all__ = ["CorrelationResult", "correlations", "stars_for", "vif"]

Method = Literal["pearson", "spearman"]


def stars_for(pvalue: float, stars: Sequence[float] = (0.1, 0.05, 0.01)) -> str:
    """Return the significance stars of a p-value.

    One star per threshold the p-value is strictly below: with the default
    ``(0.1, 0.05, 0.01)``, ``p < 0.01`` gives ``"***"``, ``p < 0.05`` ``"**"`` and
    ``p < 0.1`` ``"*"``. NaN gives ``""``.
    """
    if pvalue is None or math.isnan(pvalue):
        return ""
    return "*" * sum(1 for level in stars if pvalue < level)


@dataclass(frozen=True)
class CorrelationResult:
    """Correlation matrix with p-values (see :func:`correlations`).

    Attributes
    ----------
    r : pandas.DataFrame
        Correlation matrix (variables × variables).
    pvalue : pandas.DataFrame
        Two-sided p-values of zero correlation (t test with ``df`` degrees of freedom;
        0 on the diagonal).
    n : pandas.DataFrame
        Number of rows each correlation uses.
    df : pandas.DataFrame
        Degrees of freedom of each test: ``n − 2`` pooled, ``n − G − 1`` within (G units).
    method : str
        ``"pearson"`` or ``"spearman"``.
    within : bool
        True when each variable was demeaned by unit.
    stars : tuple of float
        Significance levels for the stars in :meth:`table`.
    meta : dict
        ``missing`` ("pairwise"/"listwise"), ``n_rows``, ``n_units``.
    """

    r: pd.DataFrame
    pvalue: pd.DataFrame
    n: pd.DataFrame
    df: pd.DataFrame
    method: str
    within: bool
    stars: tuple[float, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per pair (``var1`` before ``var2``): ``r``, ``pvalue``, ``n``, ``df``."""
        names = list(self.r.index)
        rows = []
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                rows.append(
                    {
                        "var1": a,
                        "var2": b,
                        "r": float(self.r.loc[a, b]),
                        "pvalue": float(self.pvalue.loc[a, b]),
                        "n": int(self.n.loc[a, b]),
                        "df": int(self.df.loc[a, b]),
                    }
                )
        return pd.DataFrame(rows, columns=["var1", "var2", "r", "pvalue", "n", "df"])

    def table(self, digits: int = 3, *, lower: bool = True) -> pd.DataFrame:
        """Return the display matrix: coefficients with stars, as strings.

        Parameters
        ----------
        digits : int, default 3
            Decimals.
        lower : bool, default True
            Show the lower triangle only (upper cells empty), as papers print it.
        """
        names = list(self.r.index)
        out = pd.DataFrame("", index=names, columns=names, dtype=object)
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if lower and j > i:
                    continue
                if i == j:
                    out.loc[a, b] = "1"
                    continue
                value = float(self.r.loc[a, b])
                if math.isnan(value):
                    out.loc[a, b] = ""
                    continue
                mark = stars_for(float(self.pvalue.loc[a, b]), self.stars)
                out.loc[a, b] = f"{value:.{digits}f}{mark}"
        out.index.name = "variable"
        return out.reset_index()

    def summary(self) -> str:
        """Return the starred matrix with a note on method, sample and stars."""
        levels = ", ".join(
            f"{'*' * (k + 1)} p<{lvl:g}" for k, lvl in enumerate(sorted(self.stars, reverse=True))
        )
        kind = "within (demeaned by unit)" if self.within else "pooled"
        head = (
            f"{self.method.capitalize()} correlations, {kind}; missing values "
            f"{self.meta.get('missing')}; {levels}; df = "
            + ("N - G - 1" if self.within else "N - 2")
            + "."
        )
        return head + "\n" + self.table().to_string(index=False)

    def _repr_html_(self) -> str:
        first = html.escape(self.summary().splitlines()[0])
        return f"<p>{first}</p>" + self.table().to_html(index=False)


def correlations(
    panel: Panel,
    vars: Sequence[str],
    *,
    method: Method = "pearson",
    within: bool = False,
    stars: Sequence[float] = (0.1, 0.05, 0.01),
    missing: Literal["pairwise", "listwise"] = "pairwise",
) -> CorrelationResult:
    r"""Pearson or Spearman correlation matrix with p-values, pooled or within units.

    Parameters
    ----------
    panel : Panel
        The data.
    vars : sequence of str
        Numeric variables (at least two).
    method : {"pearson", "spearman"}, default "pearson"
        Spearman is the Pearson correlation of the ranks (average ranks for ties).
    within : bool, default False
        Demean each variable by unit before correlating (over the rows used for the pair).
        Spearman within ranks the demeaned values.
    stars : sequence of float, default (0.1, 0.05, 0.01)
        Levels for one, two, three stars (strictly below).
    missing : {"pairwise", "listwise"}, default "pairwise"
        ``"pairwise"`` uses, for each pair, the rows where both are observed (pandas'
        ``DataFrame.corr``); ``"listwise"`` the rows where all ``vars`` are observed. The
        number of rows of each pair is in ``n``.

    Returns
    -------
    CorrelationResult

    Raises
    ------
    DataError
        If a variable is missing (with close matches) or not numeric.

    Notes
    -----
    p-values are two-sided, from :math:`t = r\sqrt{\nu/(1-r^2)} \sim t_\nu` with
    :math:`\nu = N - 2` pooled (identical to ``scipy.stats.pearsonr`` / ``spearmanr``) and
    :math:`\nu = N - G - 1` within, derived in the module docstring (Frisch–Waugh–Lovell on
    the regression with unit dummies).
    """
    panel = _check_panel(panel)
    names = _as_list(vars)
    if len(names) < 2:
        raise SpecError("correlations need at least two variables.")
    if method not in ("pearson", "spearman"):
        raise SpecError(f"method must be 'pearson' or 'spearman'; got {method!r}.")
    if missing not in ("pairwise", "listwise"):
        raise SpecError(f"missing must be 'pairwise' or 'listwise'; got {missing!r}.")
    _require_vars(panel, names)
    frame = panel.to_frame()
    data = np.column_stack([_values(frame, v) for v in names])
    units = pd.factorize(frame[panel.unit])[0]
    base = ~np.isnan(data).any(axis=1) if missing == "listwise" else None
    k = len(names)
    r = np.eye(k)
    p = np.zeros((k, k))
    n_mat = np.zeros((k, k), dtype=int)
    df_mat = np.zeros((k, k), dtype=int)
    for i in range(k):
        n_mat[i, i] = int((~np.isnan(data[:, i]) if base is None else base).sum())
        for j in range(i + 1, k):
            mask = (~np.isnan(data[:, i]) & ~np.isnan(data[:, j])) if base is None else base
            x, y, g = data[mask, i], data[mask, j], units[mask]
            n = int(mask.sum())
            if within:
                x, y = _demean(x, g), _demean(y, g)
                dof = n - len(np.unique(g)) - 1
            else:
                dof = n - 2
            if method == "spearman":
                x, y = sps.rankdata(x), sps.rankdata(y)
            rij = _pearson(x, y)
            pij = _pvalue(rij, dof)
            r[i, j] = r[j, i] = rij
            p[i, j] = p[j, i] = pij
            n_mat[i, j] = n_mat[j, i] = n
            df_mat[i, j] = df_mat[j, i] = dof
    labels = pd.Index(names)
    return CorrelationResult(
        r=pd.DataFrame(r, index=labels, columns=labels),
        pvalue=pd.DataFrame(p, index=labels, columns=labels),
        n=pd.DataFrame(n_mat, index=labels, columns=labels),
        df=pd.DataFrame(df_mat, index=labels, columns=labels),
        method=method,
        within=bool(within),
        stars=tuple(float(s) for s in stars),
        meta={"missing": missing, "n_rows": panel.n_obs, "n_units": len(panel.units)},
    )


def _demean(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    sums = np.bincount(groups, weights=x)
    counts = np.bincount(groups)
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    return np.asarray(x - means[groups])


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2:
        return math.nan
    xd, yd = x - x.mean(), y - y.mean()
    denom = math.sqrt(float(xd @ xd) * float(yd @ yd))
    if denom == 0.0:
        return math.nan
    return float(np.clip((xd @ yd) / denom, -1.0, 1.0))


def _pvalue(r: float, dof: int) -> float:
    if math.isnan(r) or dof < 1:
        return math.nan
    if abs(r) == 1.0:
        return 0.0
    t = r * math.sqrt(dof / (1.0 - r * r))
    return float(2.0 * sps.t.sf(abs(t), dof))


def vif(panel: Panel, vars: Sequence[str]) -> pd.DataFrame:
    r"""Variance inflation factors of a set of regressors.

    Parameters
    ----------
    panel : Panel
        The data.
    vars : sequence of str
        The regressors (at least two). Rows where any is missing are left out (listwise);
        how many is recorded in ``result.attrs["n_dropped"]``.

    Returns
    -------
    pandas.DataFrame
        One row per variable: ``variable``, ``vif``, ``r2`` (of the auxiliary regression),
        ``tolerance`` (:math:`1 - R_j^2`). ``attrs`` hold ``n_obs`` and ``n_dropped``.

    Notes
    -----
    :math:`\mathrm{VIF}_j = 1 / (1 - R_j^2)` where :math:`R_j^2` is from the OLS regression
    (with intercept) of regressor :math:`j` on the others — the convention of Stata's
    ``estat vif`` and of statsmodels' ``variance_inflation_factor`` applied to a design with
    a constant. Equivalently, the diagonal of the inverse correlation matrix. A perfectly
    collinear regressor has VIF = inf.

    Raises
    ------
    DataError
        If a variable is missing or not numeric, or fewer complete rows than regressors + 1.
    """
    panel = _check_panel(panel)
    names = _as_list(vars)
    if len(names) < 2:
        raise SpecError("vif needs at least two regressors.")
    _require_vars(panel, names)
    frame = panel.to_frame()
    data = np.column_stack([_values(frame, v) for v in names])
    keep = ~np.isnan(data).any(axis=1)
    x = data[keep]
    n = x.shape[0]
    if n <= len(names):
        raise DataError(
            f"vif: only {n} rows have all of {names} observed; need more than {len(names)}."
        )
    rows = []
    for j, name in enumerate(names):
        y = x[:, j]
        others = np.column_stack([np.ones(n), np.delete(x, j, axis=1)])
        beta, *_ = np.linalg.lstsq(others, y, rcond=None)
        resid = y - others @ beta
        tss = float(((y - y.mean()) ** 2).sum())
        r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else math.nan
        value = math.inf if r2 >= 1.0 - 1e-15 else 1.0 / (1.0 - r2)
        rows.append({"variable": name, "vif": value, "r2": r2, "tolerance": 1.0 - r2})
    out = pd.DataFrame(rows, columns=["variable", "vif", "r2", "tolerance"])
    out.attrs["n_obs"] = n
    out.attrs["n_dropped"] = int((~keep).sum())
    return out
