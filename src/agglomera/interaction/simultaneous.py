r"""Simultaneous equations: 2SLS and 3SLS, with a spatial-lag variant.

A system of :math:`G` linear equations :math:`y_g = X_g\beta_g + u_g` shares one set of
exogenous variables (the instruments :math:`Z`, with a constant); every right-hand
variable that is not an instrument is endogenous. The estimators follow R's
``systemfit`` (Henningsen & Hamann 2007) so that the numbers can be checked against it;
the residual-covariance degrees-of-freedom convention is the ``resid_cov`` argument. With
``spatial="lag"`` the spatial lags of the endogenous variables enter as further
endogenous regressors and spatial lags of the instruments as further instruments
(Kelejian & Prucha 2004), for a cross-section or a panel stacked by period.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.panel import Panel
from agglomera.errors import (
    DataError,
    EstimationError,
    SpecError,
    check_choice,
    check_int,
    format_examples,
)

__all__ = ["SimultaneousResult", "simultaneous"]

CONST = "const"
_NAME = re.compile(r"^[A-Za-z_\u0080-\uffff][\w.\u0080-\uffff]*$")


@dataclass(frozen=True)
class SimultaneousResult:
    r"""Result of :func:`simultaneous`.

    Attributes
    ----------
    params, se, tvalues, pvalues : pandas.Series
        Indexed by a MultiIndex (``equation``, ``variable``) in the order of the
        equations and of their regressors (``const`` first when present). p-values are
        two-sided from Student's t with ``df_resid`` degrees of freedom (as systemfit).
    cov : pandas.DataFrame
        Covariance of all coefficients (same MultiIndex on both axes). Block-diagonal
        for 2SLS.
    resid_cov : pandas.DataFrame
        Residual covariance of the final residuals (equation × equation) under the
        ``resid_cov`` convention.
    sigma : pandas.DataFrame
        Residual covariance of the 2SLS residuals used as the 3SLS weight (for 2SLS:
        the same as ``resid_cov``).
    resid : pandas.DataFrame
        Residuals, one column per equation, rows aligned with the data.
    r2 : pandas.Series
        :math:`1 - e'e / \sum (y - \bar y)^2` per equation.
    method : str
        ``"3sls"`` or ``"2sls"``.
    resid_cov_method : str
        ``"dof"`` or ``"nodof"``.
    regressors, endog : dict
        Regressors and endogenous regressors of each equation (after the spatial
        lags are added).
    instruments : list of str
        Instruments common to the system (``const`` first).
    df_resid : pandas.Series
        Degrees of freedom of the t tests per equation.
    n_obs : int
        Observations per equation.
    spatial : str or None
        ``"lag"`` or None.
    notes : dict
        Further details (``w_lags`` and the spatial terms added to each equation).
    """

    params: pd.Series
    se: pd.Series
    tvalues: pd.Series
    pvalues: pd.Series
    cov: pd.DataFrame
    resid_cov: pd.DataFrame
    sigma: pd.DataFrame
    resid: pd.DataFrame
    r2: pd.Series
    method: str
    resid_cov_method: str
    regressors: dict[str, list[str]]
    endog: dict[str, list[str]]
    instruments: list[str]
    df_resid: pd.Series
    n_obs: int
    spatial: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy table: equation, variable, estimate, se, t, pvalue."""
        out = pd.DataFrame(
            {
                "estimate": self.params,
                "se": self.se,
                "t": self.tvalues,
                "pvalue": self.pvalues,
            }
        )
        return out.reset_index()

    def summary(self) -> str:
        """Return a plain-text summary, one block per equation."""
        label = {"3sls": "Three-stage least squares", "2sls": "Two-stage least squares"}
        lines = [
            f"{label[self.method]} ({len(self.regressors)} equations, {self.n_obs} obs each); "
            f"residual covariance: {self.resid_cov_method}"
            + (f"; spatial: {self.spatial}" if self.spatial else ""),
            f"Instruments: {', '.join(self.instruments)}",
        ]
        for eq, names in self.regressors.items():
            lines.append("")
            endog = ", ".join(self.endog[eq]) or "none"
            lines.append(f"Equation {eq} (R² = {self.r2[eq]:.4f}; endogenous: {endog})")
            width = max(len(n) for n in names)
            for name in names:
                key = (eq, name)
                lines.append(
                    f"  {name:<{width}} {self.params[key]:14.6f} ({self.se[key]:.6f})  "
                    f"t = {self.tvalues[key]:8.3f}  p = {self.pvalues[key]:.4f}"
                )
        return "\n".join(lines)


def simultaneous(
    equations: Mapping[str, str],
    *,
    data: Any,
    method: Literal["3sls", "2sls"] = "3sls",
    resid_cov: Literal["dof", "nodof"] = "dof",
    instruments: Sequence[str] | str | None = None,
    w: Any = None,
    spatial: Literal["lag"] | None = None,
    w_lags: int = 2,
) -> SimultaneousResult:
    r"""Estimate a system of simultaneous equations by 3SLS or equation-by-equation 2SLS.

    Parameters
    ----------
    equations : mapping of str to str
        Equation name → formula ``"y ~ x1 + x2"`` of column names (``+ 0`` or ``- 1``
        drops the constant). Transform variables (logs, products) into columns first.
    data : pandas.DataFrame or Panel
        The observations (a cross-section or a panel pooled over periods).
    method : {"3sls", "2sls"}, default "3sls"
    resid_cov : {"dof", "nodof"}, default "dof"
        Degrees-of-freedom correction of the residual covariance
        :math:`\hat\sigma_{gh} = e_g'e_h / d_{gh}`: ``dof`` divides by
        :math:`\sqrt{(T - k_g)(T - k_h)}`, R systemfit's default
        ``methodResidCov = "geomean"``; ``nodof`` divides by :math:`T` (systemfit
        ``"noDfCor"``, linearmodels' ``IV3SLS`` default). It enters the 3SLS weight and
        every standard error.
    instruments : sequence of str or str
        The exogenous variables of the system, common to all equations, as a list or a
        one-sided formula ``"~ income + farmPrice + trend"`` (systemfit's ``inst``). A
        constant is always added. Right-hand variables that are not instruments are
        endogenous. Required.
    w : numpy.ndarray or libpysal.weights.W, optional
        Spatial weights for ``spatial="lag"`` (used as given; row-standardise first if
        wanted). An array is ordered like the units: the rows of a DataFrame, or
        ``data.units`` (sorted) for a Panel. A libpysal ``W`` is aligned by its ids
        (``w.id_order``) to the DataFrame index or the panel's units.
    spatial : {"lag"} or None, default None
        ``"lag"`` adds to each equation the spatial lag of its dependent variable and of
        each of its endogenous regressors (named ``W_<var>``) as endogenous regressors,
        and :math:`WZ, W^2Z, \dots, W^{w\_lags}Z` of the instruments as instruments.
        A Panel must be balanced; ``w`` then applies within each period (block-diagonal).
    w_lags : int, default 2
        Highest power of ``w`` applied to the instruments.

    Returns
    -------
    SimultaneousResult

    Raises
    ------
    SpecError
        Malformed formulas, missing instruments or options out of range.
    DataError
        Unknown, non-numeric or missing values (naming the rows), ``w`` not matching
        the units.
    EstimationError
        An under-identified equation (fewer excluded instruments than endogenous
        regressors) or collinear regressors.

    Notes
    -----
    With :math:`P_Z = Z(Z'Z)^{-1}Z'` and :math:`\hat X_g = P_Z X_g`, 2SLS is
    :math:`b_g = (\hat X_g'\hat X_g)^{-1}\hat X_g'y_g` with residuals
    :math:`e_g = y_g - X_g b_g` and covariance
    :math:`\hat\sigma_{gg}(\hat X_g'\hat X_g)^{-1}`. 3SLS stacks the system with
    :math:`\hat\Sigma` from the 2SLS residuals:

    .. math:: b = \bigl(\hat X'(\hat\Sigma^{-1}\otimes I_T)\hat X\bigr)^{-1}
              \hat X'(\hat\Sigma^{-1}\otimes I_T)\,y,\qquad
              \widehat{\operatorname{Var}}(b) = \bigl(\hat X'(\hat\Sigma^{-1}\otimes I_T)
              \hat X\bigr)^{-1},

    systemfit's default ``method3sls = "GLS"``. t tests use :math:`T - k_g` degrees of
    freedom for the coefficients of equation :math:`g`, as systemfit.

    The spatial variant is the generalised spatial 2SLS/3SLS of Kelejian & Prucha
    (1998, 2004) without the spatial-error step: :math:`Wy` terms are instrumented by
    :math:`[Z, WZ, W^2Z]`.

    References
    ----------
    Zellner, A. and Theil, H. (1962). Three-stage least squares. *Econometrica* 30,
    54–78. Henningsen, A. and Hamann, J. D. (2007). systemfit: a package for estimating
    systems of simultaneous equations in R. *Journal of Statistical Software* 23(4).
    Kelejian, H. H. and Prucha, I. R. (1998). *Journal of Real Estate Finance and
    Economics* 17, 99–121; (2004). Estimation of simultaneous systems of spatially
    interrelated cross sectional equations. *Journal of Econometrics* 118, 27–50.
    """
    fn = "simultaneous"
    check_choice("method", method, ("3sls", "2sls"), fn=fn)
    if resid_cov not in ("dof", "nodof"):
        raise SpecError(
            f"{fn}: resid_cov must be 'dof' (systemfit 'geomean') or 'nodof' (systemfit "
            f"'noDfCor'); got {resid_cov!r}."
        )
    if spatial not in (None, "lag"):
        raise SpecError(f"{fn}: spatial must be None or 'lag'; got {spatial!r}.")
    specs = _parse_equations(fn, equations)
    inst = _parse_instruments(fn, instruments)
    frame, index = _frame(fn, data)
    used = list(dict.fromkeys([v for lhs, rhs, _ in specs.values() for v in [lhs, *rhs]] + inst))
    _check_columns(fn, frame, used)
    endog = {eq: [v for v in rhs if v not in inst] for eq, (_, rhs, _) in specs.items()}
    notes: dict[str, Any] = {}
    columns = {v: frame[v].to_numpy(dtype=float) for v in used}
    if spatial == "lag":
        lag = _lag_operator(fn, data, frame, w)
        check_int("w_lags", w_lags, minimum=1, fn=fn)
        added: dict[str, list[str]] = {}
        for eq, (lhs, rhs, const) in specs.items():
            new = [f"W_{v}" for v in [lhs, *endog[eq]]]
            added[eq] = new
            specs[eq] = (lhs, [*rhs, *new], const)
            endog[eq] = [*endog[eq], *new]
            for v in [lhs, *endog[eq][: -len(new)]]:
                columns[f"W_{v}"] = lag(columns[v])
        lagged_inst: list[str] = []
        for v in inst:
            current = columns[v]
            for p in range(1, int(w_lags) + 1):
                current = lag(current)
                name = f"W{p}_{v}" if p > 1 else f"W_{v}"
                columns[name] = current
                lagged_inst.append(name)
        clash = sorted(
            set(lagged_inst + [n for v in added.values() for n in v]) & set(frame.columns)
        )
        if clash:
            raise SpecError(
                f"{fn}: spatial lags would be named like existing columns "
                f"{format_examples(clash)}; rename those columns."
            )
        inst = [*inst, *lagged_inst]
        notes["w_lags"] = int(w_lags)
        notes["spatial_terms"] = added
    zmat = np.column_stack([np.ones(len(frame)), *[columns[v] for v in inst]])
    inst_names = [CONST, *inst]
    if np.linalg.matrix_rank(zmat) < zmat.shape[1]:
        raise EstimationError(f"{fn}: the instruments {inst_names} are collinear.")
    ys, xs, names = [], [], {}
    for eq, (lhs, rhs, const) in specs.items():
        cols = ([np.ones(len(frame))] if const else []) + [columns[v] for v in rhs]
        names[eq] = ([CONST] if const else []) + list(rhs)
        ys.append(columns[lhs])
        xs.append(np.column_stack(cols))
        excluded = len(inst_names) - sum(1 for v in names[eq] if v in inst_names)
        if excluded < len(endog[eq]):
            raise EstimationError(
                f"{fn}: equation {eq!r} is under-identified: {len(endog[eq])} endogenous "
                f"regressors ({', '.join(endog[eq])}) but only {excluded} excluded "
                "instruments. Fix: add exogenous variables excluded from this equation to "
                "`instruments`."
            )
    est = _estimate(fn, ys, xs, zmat, list(specs), method, resid_cov)
    keys = [(eq, v) for eq in specs for v in names[eq]]
    midx = pd.MultiIndex.from_tuples(keys, names=["equation", "variable"])
    eqs = pd.Index(list(specs), name="equation")
    df_series = pd.Series(est["df"], index=eqs, name="df_resid")
    df_per_coef = np.concatenate(
        [[d] * len(names[eq]) for eq, d in zip(specs, est["df"], strict=True)]
    )
    se = np.sqrt(np.diag(est["cov"]))
    tv = est["b"] / se
    pv = 2 * stats.t.sf(np.abs(tv), df_per_coef)
    return SimultaneousResult(
        params=pd.Series(est["b"], index=midx, name="coef"),
        se=pd.Series(se, index=midx, name="se"),
        tvalues=pd.Series(tv, index=midx, name="t"),
        pvalues=pd.Series(pv, index=midx, name="pvalue"),
        cov=pd.DataFrame(est["cov"], index=midx, columns=midx),
        resid_cov=pd.DataFrame(est["resid_cov"], index=eqs, columns=eqs),
        sigma=pd.DataFrame(est["sigma"], index=eqs, columns=eqs),
        resid=pd.DataFrame(est["resid"], index=index, columns=eqs),
        r2=pd.Series(est["r2"], index=eqs, name="r2"),
        method=method,
        resid_cov_method=resid_cov,
        regressors=names,
        endog=endog,
        instruments=inst_names,
        df_resid=df_series,
        n_obs=len(frame),
        spatial=spatial,
        notes=notes,
    )


# ---------------------------------------------------------------------- estimation
def _resid_cov(e: np.ndarray, ks: Sequence[int], convention: str) -> np.ndarray:
    """Residual covariance ``e'e / d`` with systemfit's ``geomean`` or ``noDfCor`` divisor."""
    n_obs = e.shape[0]
    if convention == "dof":
        dof = n_obs - np.asarray(ks, dtype=float)
        return (e.T @ e) / np.sqrt(np.outer(dof, dof))
    return (e.T @ e) / n_obs


def _estimate(
    fn: str,
    ys: list[np.ndarray],
    xs: list[np.ndarray],
    zmat: np.ndarray,
    eqs: list[str],
    method: str,
    convention: str,
) -> dict[str, Any]:
    n_obs = zmat.shape[0]
    q, _ = np.linalg.qr(zmat)
    xhat = [q @ (q.T @ x) for x in xs]
    ks = [x.shape[1] for x in xs]
    for eq, xh, k in zip(eqs, xhat, ks, strict=True):
        if np.linalg.matrix_rank(xh) < k:
            raise EstimationError(
                f"{fn}: the instrumented regressors of equation {eq!r} are collinear "
                "(a regressor repeated, or an endogenous regressor not moved by the instruments)."
            )
    b2 = [np.linalg.solve(xh.T @ xh, xh.T @ y) for xh, y in zip(xhat, ys, strict=True)]
    e2 = np.column_stack([y - x @ b for y, x, b in zip(ys, xs, b2, strict=True)])
    sigma = _resid_cov(e2, ks, convention)
    offsets = np.r_[0, np.cumsum(ks)]
    total = int(offsets[-1])
    cov: np.ndarray
    if method == "2sls":
        cov = np.zeros((total, total))
        for g, xh in enumerate(xhat):
            sl = slice(offsets[g], offsets[g + 1])
            cov[sl, sl] = sigma[g, g] * np.linalg.inv(xh.T @ xh)
        b = np.concatenate(b2)
        resid = e2
        df = [n_obs - k for k in ks]
    else:
        try:
            s_inv = np.linalg.inv(sigma)
        except np.linalg.LinAlgError as err:
            raise EstimationError(f"{fn}: the 2SLS residual covariance is singular.") from err
        lhs = np.zeros((total, total))
        rhs = np.zeros(total)
        for g, xg in enumerate(xhat):
            rows = slice(offsets[g], offsets[g + 1])
            for h, xh in enumerate(xhat):
                cols = slice(offsets[h], offsets[h + 1])
                lhs[rows, cols] = s_inv[g, h] * (xg.T @ xh)
                rhs[rows] += s_inv[g, h] * (xg.T @ ys[h])
        cov = np.asarray(np.linalg.inv(lhs), dtype=float)
        b = cov @ rhs
        resid = np.column_stack(
            [ys[g] - xs[g] @ b[offsets[g] : offsets[g + 1]] for g in range(len(xs))]
        )
        df = [n_obs - k for k in ks]
    resid_cov = _resid_cov(resid, ks, convention)
    r2 = [
        1 - float(resid[:, g] @ resid[:, g]) / float(((ys[g] - ys[g].mean()) ** 2).sum())
        for g in range(len(xs))
    ]
    return {
        "b": b,
        "cov": cov,
        "sigma": sigma,
        "resid": resid,
        "resid_cov": resid_cov,
        "df": df,
        "r2": r2,
    }


# ---------------------------------------------------------------------- parsing and checks
def _terms(fn: str, text: str, where: str) -> tuple[list[str], bool]:
    """Split ``a + b + 0`` into names and whether a constant is kept."""
    const = True
    names: list[str] = []
    raw = text.replace("- 1", "+ -1").replace("-1", "+ -1")
    for part in (p.strip() for p in raw.split("+")):
        if not part:
            continue
        if part in ("0", "-1"):
            const = False
        elif part == "1":
            const = True
        elif _NAME.match(part):
            names.append(part)
        else:
            raise SpecError(
                f"{fn}: term {part!r} in {where} is not a column name; formulas take plain "
                "column names joined by '+'. Fix: compute transformed variables (logs, "
                "products) as columns first."
            )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecError(f"{fn}: {where} repeats {format_examples(dup)}.")
    return names, const


def _parse_equations(
    fn: str, equations: Mapping[str, str]
) -> dict[str, tuple[str, list[str], bool]]:
    if not isinstance(equations, Mapping) or not equations:
        raise SpecError(
            f"{fn}: equations must be a non-empty mapping name -> formula, e.g. "
            "{'demand': 'consump ~ price + income'}."
        )
    out: dict[str, tuple[str, list[str], bool]] = {}
    for eq, formula in equations.items():
        if not isinstance(formula, str) or formula.count("~") != 1:
            raise SpecError(
                f"{fn}: equation {eq!r} must be a formula string 'y ~ x1 + x2'; got {formula!r}."
            )
        lhs_text, rhs_text = formula.split("~")
        lhs = lhs_text.strip()
        if not _NAME.match(lhs):
            raise SpecError(
                f"{fn}: the left-hand side of equation {eq!r} must be one column name; got {lhs!r}."
            )
        rhs, const = _terms(fn, rhs_text, f"equation {eq!r}")
        if lhs in rhs:
            raise SpecError(f"{fn}: equation {eq!r} has {lhs!r} on both sides.")
        if not rhs and not const:
            raise SpecError(f"{fn}: equation {eq!r} has no regressors.")
        out[str(eq)] = (lhs, rhs, const)
    return out


def _parse_instruments(fn: str, instruments: Sequence[str] | str | None) -> list[str]:
    if instruments is None:
        raise SpecError(
            f"{fn}: `instruments` is required: list the exogenous variables of the whole "
            "system, e.g. instruments=['income', 'farmPrice', 'trend'] or "
            "'~ income + farmPrice + trend'. Right-hand variables not listed are endogenous."
        )
    if isinstance(instruments, str):
        text = instruments.strip()
        text = text[1:] if text.startswith("~") else text
        names, _ = _terms(fn, text, "instruments")
        return names
    names = [str(v) for v in instruments]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SpecError(f"{fn}: instruments repeat {format_examples(dup)}.")
    return names


def _frame(fn: str, data: Any) -> tuple[pd.DataFrame, pd.Index]:
    if isinstance(data, Panel):
        frame = data.to_frame()
        index = pd.MultiIndex.from_frame(frame[[data.unit, data.time]])
        return frame, index
    if isinstance(data, pd.DataFrame):
        if not data.index.is_unique:
            raise DataError(
                f"{fn}: the DataFrame index identifies the units and must be unique; "
                f"duplicated: {format_examples(data.index[data.index.duplicated()].unique())}."
            )
        return data, data.index
    raise DataError(
        f"{fn}: data must be a pandas DataFrame or an agglomera Panel; got {type(data).__name__}."
    )


def _check_columns(fn: str, frame: pd.DataFrame, used: list[str]) -> None:
    missing = [v for v in used if v not in frame.columns]
    if missing:
        hints = {
            v: difflib.get_close_matches(v, [str(c) for c in frame.columns], n=1) for v in missing
        }
        hint = "; ".join(
            f"{v!r} (did you mean {h[0]!r}?)" if h else repr(v) for v, h in hints.items()
        )
        raise DataError(f"{fn}: unknown columns {hint}. Available: {list(frame.columns)}.")
    for v in used:
        col = frame[v]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise DataError(f"{fn}: column {v!r} must be numeric; it has dtype {col.dtype}.")
        bad = ~np.isfinite(col.to_numpy(dtype=float))
        if bad.any():
            raise DataError(
                f"{fn}: column {v!r} has {int(bad.sum())} missing or infinite values at rows "
                f"{format_examples(frame.index[bad])}. Nothing is dropped silently. Fix: drop "
                "those rows explicitly before estimating."
            )


def _weights_matrix(fn: str, w: Any, ids: Sequence[Any]) -> np.ndarray:
    """Square weights aligned to ``ids`` (array as given; libpysal W by its ids)."""
    n = len(ids)
    if w is None:
        raise SpecError(f"{fn}: spatial='lag' needs `w` (a square array or a libpysal W).")
    if hasattr(w, "full") and hasattr(w, "id_order"):
        full, w_ids = w.full()
        w_ids = list(w_ids)
        pos = {i: k for k, i in enumerate(w_ids)}
        absent = [i for i in ids if i not in pos]
        extra = sorted(set(w_ids) - set(ids), key=str)
        if absent or extra:
            raise DataError(
                f"{fn}: the ids of `w` do not match the units of the data: units without "
                f"weights {format_examples(absent)}; weights without data "
                f"{format_examples(extra)}. Fix: build `w` on exactly the units of the data."
            )
        take = np.array([pos[i] for i in ids])
        return np.asarray(full, dtype=float)[np.ix_(take, take)]
    arr = np.asarray(w, dtype=float)
    if arr.ndim != 2 or arr.shape != (n, n):
        raise DataError(
            f"{fn}: `w` must be a square array of shape ({n}, {n}) ordered like the units; "
            f"got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{fn}: `w` contains missing or infinite values.")
    return arr


def _lag_operator(fn: str, data: Any, frame: pd.DataFrame, w: Any) -> Any:
    """Return ``v -> W v`` on the row order of ``frame`` (by period for a panel)."""
    if isinstance(data, Panel):
        if not data.is_balanced:
            raise DataError(
                f"{fn}: spatial='lag' on a panel needs a balanced panel (W applies within "
                "each period). Fix: restrict with panel.subset(...)."
            )
        units = list(data.units)
        wmat = _weights_matrix(fn, w, units)
        n_units, n_times = len(units), len(data.times)

        def lag_panel(v: np.ndarray) -> np.ndarray:
            return (wmat @ v.reshape(n_units, n_times)).ravel()

        return lag_panel
    wmat = _weights_matrix(fn, w, list(frame.index))

    def lag_cross(v: np.ndarray) -> np.ndarray:
        return wmat @ v

    return lag_cross
