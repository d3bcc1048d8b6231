"""Summary statistics of panel variables: the descriptive-statistics table (Table 1).

Every empirical paper opens with a table of N, mean, standard deviation, minimum,
percentiles and maximum of its variables, often by group (east / central / west, treated
vs control cities, sub-periods). :func:`summary` produces it from a :class:`~agglomera.Panel`
with the conventions stated: the standard deviation uses ``ddof=1`` (the sample standard
deviation, as pandas ``describe`` and Stata ``summarize``), percentiles are linear
interpolations between order statistics (numpy's default, pandas ``quantile``), and missing
values are counted per variable (``missing``) rather than silently dropped (``n`` is the
number of non-missing values the statistics are computed from).

The module also holds the small input checks shared by the other ``describe`` modules.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["SummaryResult", "summary"]

_REFERENCE_GROUPS = ("region3", "region4", "province_cn", "province_en")


# ---------------------------------------------------------------------- shared checks
def _check_panel(panel: Any) -> Panel:
    if not isinstance(panel, Panel):
        raise DataError(
            f"expected an agglomera.Panel, got {type(panel).__name__}. Fix: build one with "
            "agglomera.Panel(data, unit=..., time=...)."
        )
    return panel


def _as_list(vars: str | Sequence[str]) -> list[str]:
    if isinstance(vars, str):
        return [vars]
    listed = list(vars)
    if not listed:
        raise SpecError("no variables given. Fix: pass one column name or a list of them.")
    return listed


def _require_vars(panel: Panel, vars: Sequence[str], *, numeric: bool = True) -> None:
    """Raise a DataError naming variables that are absent (with close matches) or not numeric."""
    columns = [str(c) for c in panel.to_frame().columns]
    for var in vars:
        if var not in panel:
            close = difflib.get_close_matches(str(var), columns, n=3, cutoff=0.5)
            hint = f" Did you mean {format_examples(close)}?" if close else ""
            raise DataError(
                f"variable {var!r} is not in the panel.{hint} Available: "
                f"{format_examples(panel.variables, limit=20)}."
            )
        if var in (panel.unit, panel.time):
            raise DataError(f"{var!r} is a key column of the panel, not a variable.")
    if numeric:
        frame = panel.to_frame()
        for var in vars:
            col = frame[var]
            if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                raise DataError(
                    f"variable {var!r} is not numeric (dtype {col.dtype}). Fix: convert it "
                    "or choose a numeric column."
                )


def _values(frame: pd.DataFrame, var: str) -> np.ndarray:
    return np.asarray(frame[var].to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _require_positive(panel: Panel, frame: pd.DataFrame, var: str, what: str) -> None:
    """Raise a DataError naming the (unit, time) rows where ``var`` is ≤ 0."""
    values = _values(frame, var)
    bad = ~np.isnan(values) & (values <= 0)
    if bad.any():
        rows = frame.loc[bad, [panel.unit, panel.time, var]]
        shown = ", ".join(
            f"{u!r}/{t}: {v!r}" for u, t, v in rows.head(5).itertuples(index=False, name=None)
        )
        more = f" (and {int(bad.sum()) - 5} more)" if bad.sum() > 5 else ""
        raise DataError(
            f"{what} takes logarithms, but {var!r} has {int(bad.sum())} non-positive values "
            f"(unit/time: value) {shown}{more}. Fix: drop or correct those rows (e.g. "
            "panel.subset(where=...)) or use a strictly positive transform of the variable."
        )


def _group_frame(panel: Panel, by: str | None) -> tuple[pd.DataFrame, str | None]:
    """Return the panel's frame with the grouping column ``by`` (joined when a reference one)."""
    frame = panel.to_frame()
    if by is None:
        return frame, None
    if by in (panel.unit, panel.time):
        return frame, by
    if by not in frame.columns:
        if by in _REFERENCE_GROUPS:
            frame = panel.join_reference([by]).to_frame()
        else:
            close = difflib.get_close_matches(str(by), [str(c) for c in frame.columns], n=3)
            hint = f" Did you mean {format_examples(close)}?" if close else ""
            raise DataError(
                f"grouping column {by!r} is not in the panel.{hint} Reference columns "
                f"{format_examples(_REFERENCE_GROUPS)} are joined from reference.cities() "
                "through the adcode unit when absent; other groups (treated, period) must "
                "be added as a column first (panel.with_columns(...))."
            )
    return frame, by


def _percentile_name(q: float) -> str:
    value = 100.0 * q
    text = f"{value:.10g}"
    return f"p{text}"


def _check_percentiles(percentiles: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(q) for q in percentiles)
    bad = [q for q in out if not 0.0 <= q <= 1.0]
    if bad:
        raise SpecError(
            f"percentiles must lie in [0, 1]; got {format_examples(bad)}. Fix: e.g. "
            "percentiles=(0.25, 0.5, 0.75)."
        )
    return out


# ---------------------------------------------------------------------- result
@dataclass(frozen=True)
class SummaryResult:
    """Descriptive statistics of panel variables (see :func:`summary`).

    Attributes
    ----------
    stats : pandas.DataFrame
        One row per variable (and group): ``variable``, the group column when ``by`` was
        given, ``n`` (non-missing values), ``missing``, ``mean``, ``sd`` (ddof=1), ``min``,
        one column per percentile (``p25``, ``p50``, ...), ``max``.
    vars : tuple of str
        The variables, in the order given.
    by : str or None
        The grouping column.
    percentiles : tuple of float
        The percentiles reported.
    meta : dict
        Conventions: ``ddof`` (1), ``percentile_method`` ("linear"), ``n_rows``.
    """

    stats: pd.DataFrame
    vars: tuple[str, ...]
    by: str | None
    percentiles: tuple[float, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return the statistics as a tidy DataFrame (a copy of :attr:`stats`)."""
        return self.stats.copy()

    def table(self, digits: int = 3, *, labels: dict[str, str] | None = None) -> pd.DataFrame:
        """Return the report table ("Table 1"): display column names, rounded values.

        Parameters
        ----------
        digits : int, default 3
            Decimals of the statistics (``N`` and ``Missing`` stay integers).
        labels : dict, optional
            Display names for the variables (e.g. ``{"lq": "LQ of high-tech talent"}``).
        """
        frame = self.stats.copy()
        frame["variable"] = frame["variable"].map(lambda v: (labels or {}).get(v, v))
        names = {"variable": "Variable", "n": "N", "missing": "Missing", "mean": "Mean"}
        names.update({"sd": "SD", "min": "Min", "max": "Max"})
        if self.by is not None:
            names[self.by] = self.by
        for q in self.percentiles:
            col = _percentile_name(q)
            names[col] = "Median" if q == 0.5 else col.upper()
        numeric = [c for c in frame.columns if c not in ("variable", "n", "missing", self.by)]
        frame[numeric] = frame[numeric].round(digits)
        return frame.rename(columns=names).reset_index(drop=True)

    def summary(self) -> str:
        """Return a plain-text rendering of the table with the conventions."""
        head = (
            f"Summary statistics ({len(self.vars)} variables, {self.meta.get('n_rows')} rows"
            + (f", by {self.by}" if self.by else "")
            + "); SD with ddof=1; percentiles by linear interpolation."
        )
        return head + "\n" + self.table(4).to_string(index=False)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary().splitlines()[0])}</p>" + self.table(4).to_html(
            index=False
        )


# ---------------------------------------------------------------------- function
def summary(
    panel: Panel,
    vars: str | Sequence[str],
    *,
    by: str | None = None,
    percentiles: Sequence[float] = (0.25, 0.5, 0.75),
) -> SummaryResult:
    r"""Descriptive statistics of panel variables, optionally by group.

    Parameters
    ----------
    panel : Panel
        The data.
    vars : str or sequence of str
        Numeric variables to describe.
    by : str, optional
        Grouping column: any column of the panel (e.g. ``treated``, ``period``, the time
        key), or ``"region3"`` / ``"region4"`` / ``"province_cn"`` / ``"province_en"``,
        which are joined from :func:`agglomera.reference.cities` through the adcode unit
        when the panel does not have them. Rows with a missing group form their own group
        (labelled NA); nothing is dropped.
    percentiles : sequence of float, default (0.25, 0.5, 0.75)
        Percentiles to report, in [0, 1].

    Returns
    -------
    SummaryResult
        ``stats`` with ``n``, ``missing``, ``mean``, ``sd``, ``min``, percentiles, ``max``.

    Raises
    ------
    DataError
        If a variable is not in the panel (with close matches) or not numeric.

    Notes
    -----
    For the :math:`n` non-missing values :math:`x_1, \dots, x_n` of a variable (in a group):
    mean :math:`\bar x = n^{-1}\sum_i x_i`, standard deviation
    :math:`s = \sqrt{\sum_i (x_i - \bar x)^2 / (n - 1)}` (ddof = 1; NaN when n < 2), and the
    :math:`q`-percentile by linear interpolation between the order statistics at position
    :math:`q (n - 1)` (Hyndman & Fan type 7, numpy and pandas' default). ``missing`` counts
    the NaN values that were left out.

    Examples
    --------
    >>> from agglomera import datasets, describe
    >>> bay = datasets.zhejiang_bay().panel
    >>> res = describe.summary(bay, ["ht_rd_exp", "rd_staff_per10k"])
    >>> res.to_frame()[["variable", "n", "missing"]].values.tolist()
    [['ht_rd_exp', 104, 0], ['rd_staff_per10k', 104, 0]]
    """
    panel = _check_panel(panel)
    names = _as_list(vars)
    _require_vars(panel, names)
    qs = _check_percentiles(percentiles)
    frame, group = _group_frame(panel, by)
    rows: list[dict[str, Any]] = []
    if group is None:
        parts: list[tuple[Any, pd.DataFrame]] = [(None, frame)]
    else:
        parts = list(frame.groupby(group, sort=True, dropna=False))
    for var in names:
        for key, part in parts:
            values = _values(part, var)
            row: dict[str, Any] = {"variable": var}
            if group is not None:
                row[group] = key[0] if isinstance(key, tuple) else key
            row.update(_describe(values, qs))
            rows.append(row)
    stats = pd.DataFrame(rows)
    return SummaryResult(
        stats=stats,
        vars=tuple(names),
        by=group,
        percentiles=qs,
        meta={"ddof": 1, "percentile_method": "linear", "n_rows": panel.n_obs},
    )


def _describe(values: np.ndarray, qs: tuple[float, ...]) -> dict[str, Any]:
    present = values[~np.isnan(values)]
    n = int(present.size)
    out: dict[str, Any] = {"n": n, "missing": int(values.size - n)}
    if n == 0:
        out.update({"mean": np.nan, "sd": np.nan, "min": np.nan})
        out.update({_percentile_name(q): np.nan for q in qs})
        out["max"] = np.nan
        return out
    out["mean"] = float(np.mean(present))
    out["sd"] = float(np.std(present, ddof=1)) if n > 1 else np.nan
    out["min"] = float(np.min(present))
    for q in qs:
        out[_percentile_name(q)] = float(np.quantile(present, q))
    out["max"] = float(np.max(present))
    return out
