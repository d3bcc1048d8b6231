r"""Composite indicators: entropy weights, TOPSIS, obstacle degree and hierarchical indices.

These are the building blocks of the indicator systems used in the Chinese regional-science
literature (high-tech industry agglomeration, talent agglomeration, ...): indicators are
normalised direction-aware, weighted objectively by their Shannon entropy, and aggregated
into subsystem scores that then feed :func:`agglomera.measure.coupling_coordination`.

Conventions that papers disagree on are parameters (``scope``: pooled vs per-year
normalisation; ``zeros``: 0·ln0 = 0, shift or rescale; TOPSIS normalisation); the defaults
and the reasons are in each function's Notes and in ``docs/measure-composite.md``.

References: Shannon (1948); Hwang & Yoon (1981); Wang Shujia et al. (2021) — see the
functions' docstrings.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera._frames import to_pandas
from agglomera.errors import DataError, SpecError, format_examples
from agglomera.measure._composite_core import (
    _at_rows,
    _by_scope,
    _check_choice,
    _check_rescale,
    _entropy,
    _groups,
    _minmax,
    _parse_directions,
    _parse_system,
    _prepare,
    _weights_from_entropy,
)

__all__ = [
    "CompositeResult",
    "EntropyResult",
    "TopsisResult",
    "composite_index",
    "entropy_weights",
    "obstacle_degree",
    "topsis",
]

Scope = Literal["pooled", "per_year"]
Zeros = Literal["ln0", "shift", "rescale"]


class _Printable(ABC):
    """Shared ``summary`` / ``_repr_html_`` from a heading and a table."""

    @abstractmethod
    def _heading(self) -> str:
        """Return a one-line description of the result."""

    @abstractmethod
    def _table(self) -> pd.DataFrame:
        """Return the main table shown by ``summary``."""

    def summary(self) -> str:
        """Return a plain-text summary: the conventions and the main table."""
        table = self._table()
        return self._heading() + "\n" + table.to_string(float_format="{:.4f}".format)

    def _repr_html_(self) -> str:
        table = self._table().to_html(float_format="{:.4f}".format)
        return f"<p>{html.escape(self._heading())}</p>{table}"


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class EntropyResult(_Printable):
    r"""Entropy weights and scores (see :func:`entropy_weights`).

    Attributes
    ----------
    weights : pandas.Series or pandas.DataFrame
        Weight of each indicator (sums to 1). With ``scope="per_year"`` a DataFrame
        (year × indicator), one row of weights per year.
    scores : pandas.Series
        Composite score of each row, :math:`S_i = \sum_j w_j x'_{ij}`, aligned to the
        input's index.
    normalised : pandas.DataFrame
        The normalised values :math:`x'_{ij}` after zero handling (the values that enter the
        entropy and the scores), aligned to the input's index.
    entropy, divergence : pandas.Series or pandas.DataFrame
        Entropy :math:`e_j` and divergence :math:`d_j = 1 - e_j` (per year when
        ``scope="per_year"``).
    directions : dict
        Indicator → +1 (benefit) or −1 (cost).
    periods : pandas.Series or None
        The time of each row when a time column was given.
    meta : dict
        The conventions used: ``scope``, ``zeros``, ``shift``, ``rescale``, ``time``,
        ``n_rows``.
    """

    weights: pd.Series | pd.DataFrame
    scores: pd.Series
    normalised: pd.DataFrame
    entropy: pd.Series | pd.DataFrame
    divergence: pd.Series | pd.DataFrame
    directions: dict[str, int]
    periods: pd.Series | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def indicators(self) -> list[str]:
        """Indicator names in the order of ``directions``."""
        return list(self.directions)

    def row_weights(self) -> pd.DataFrame:
        """Return the weights that apply to each row (row × indicator).

        With pooled scope every row has the same weights; per year each row gets the
        weights of its year.
        """
        values = _at_rows(self.weights, self.periods, len(self.normalised))
        return pd.DataFrame(values, index=self.normalised.index, columns=self.indicators)

    def to_frame(self) -> pd.DataFrame:
        """Return a tidy table of the weights.

        One row per indicator (and year, per-year scope) with ``direction``, ``entropy``,
        ``divergence`` and ``weight``.
        """
        if isinstance(self.weights, pd.DataFrame):
            parts = {"entropy": self.entropy, "divergence": self.divergence, "weight": self.weights}
            out = pd.DataFrame({k: pd.DataFrame(v).stack() for k, v in parts.items()})
            out.index = out.index.set_names([self.meta.get("time") or "time", "indicator"])
            out = out.reset_index()
            out.insert(2, "direction", out["indicator"].map(self.directions))
            return out
        return pd.DataFrame(
            {
                "indicator": self.indicators,
                "direction": [self.directions[c] for c in self.indicators],
                "entropy": self.entropy.to_numpy(),
                "divergence": self.divergence.to_numpy(),
                "weight": self.weights.to_numpy(),
            }
        )

    def _heading(self) -> str:
        return (
            f"Entropy weights: {len(self.indicators)} indicators, {self.meta.get('n_rows')} rows; "
            f"scope={self.meta.get('scope')}, zeros={self.meta.get('zeros')}"
        )

    def _table(self) -> pd.DataFrame:
        return self.to_frame()


@dataclass(frozen=True)
class TopsisResult(_Printable):
    r"""TOPSIS relative closeness (see :func:`topsis`).

    Attributes
    ----------
    scores : pandas.Series
        Relative closeness :math:`C_i = D_i^- / (D_i^+ + D_i^-)` ∈ [0, 1].
    d_plus, d_minus : pandas.Series
        Euclidean distance of each row to the positive and negative ideal point.
    ideal, anti_ideal : pandas.Series or pandas.DataFrame
        Positive and negative ideal points in the weighted normalised space (per year, a
        DataFrame year × indicator).
    weighted : pandas.DataFrame
        The weighted normalised matrix :math:`v_{ij} = w_j r_{ij}`.
    weights : pandas.Series
        Weights used, normalised to sum to 1.
    directions : dict
        Indicator → +1 (benefit) or −1 (cost).
    meta : dict
        ``normalisation``, ``scope``, ``time``, ``n_rows``.
    """

    scores: pd.Series
    d_plus: pd.Series
    d_minus: pd.Series
    ideal: pd.Series | pd.DataFrame
    anti_ideal: pd.Series | pd.DataFrame
    weighted: pd.DataFrame
    weights: pd.Series
    directions: dict[str, int]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per input row with ``d_plus``, ``d_minus``, ``score`` and ``rank``.

        Rank 1 is closest to the ideal; ties share the average rank, as R's ``rank``.
        """
        return pd.DataFrame(
            {
                "d_plus": self.d_plus,
                "d_minus": self.d_minus,
                "score": self.scores,
                "rank": self.scores.rank(ascending=False, method="average"),
            }
        )

    def _heading(self) -> str:
        return (
            f"TOPSIS: {len(self.weights)} indicators, {self.meta.get('n_rows')} rows; "
            f"normalisation={self.meta.get('normalisation')}, scope={self.meta.get('scope')}"
        )

    def _table(self) -> pd.DataFrame:
        return self.to_frame()


@dataclass(frozen=True)
class CompositeResult(_Printable):
    r"""Hierarchical composite index (see :func:`composite_index`).

    Attributes
    ----------
    scores : pandas.DataFrame
        One column per subsystem: the subsystem score of each row (in [0, 1] for
        ``zeros="ln0"`` or ``"rescale"``).
    overall : pandas.Series
        :math:`\sum_s \omega_s S_s`, the weighted sum of the subsystem scores.
    overall_weights : pandas.Series
        Subsystem weights :math:`\omega_s` (sum to 1).
    subsystems : dict
        Subsystem name → the :class:`EntropyResult` (or :class:`TopsisResult`) of its
        indicators.
    system : dict
        Subsystem name → list of indicators.
    meta : dict
        ``method`` and the conventions passed through.
    """

    scores: pd.DataFrame
    overall: pd.Series
    overall_weights: pd.Series
    subsystems: dict[str, EntropyResult | TopsisResult]
    system: dict[str, list[str]]
    meta: dict[str, Any] = field(default_factory=dict)

    def weights(self) -> pd.DataFrame:
        """Return the indicator weights, one row per indicator.

        ``weight_within`` is the weight inside the subsystem (per-year weights are averaged
        over the years), ``weight_overall`` that weight × the subsystem's weight.
        """
        rows = []
        for name, result in self.subsystems.items():
            w = result.weights if isinstance(result.weights, pd.Series) else result.weights.mean()
            share = float(self.overall_weights[name])
            rows += [
                (name, ind, result.directions[str(ind)], float(v), float(v) * share)
                for ind, v in w.items()
            ]
        cols = ["subsystem", "indicator", "direction", "weight_within", "weight_overall"]
        return pd.DataFrame(rows, columns=cols)

    def to_frame(self) -> pd.DataFrame:
        """Return the subsystem scores and the overall score, one row per input row."""
        out = self.scores.copy()
        out["overall"] = self.overall
        return out

    def _heading(self) -> str:
        return (
            f"Composite index ({self.meta.get('method')}): {len(self.system)} subsystems, "
            f"{len(self.scores)} rows"
        )

    def _table(self) -> pd.DataFrame:
        return self.weights()


# ---------------------------------------------------------------------------- public API
def entropy_weights(
    data: Any,
    directions: Mapping[str, Any],
    *,
    time: str | None = None,
    scope: Scope = "pooled",
    zeros: Zeros = "ln0",
    shift: float = 0.01,
    rescale: tuple[float, float] = (0.01, 0.99),
) -> EntropyResult:
    r"""Entropy (Shannon) weights of indicators and the weighted composite scores.

    Parameters
    ----------
    data : DataFrame-like or Panel
        Rows = observations (city–years), columns = indicators (and the time column when
        ``scope="per_year"``). pandas, polars, pyarrow, DuckDB or PySpark (converted to
        pandas), or an :class:`agglomera.Panel` (then ``time`` defaults to the panel's time
        and the results are indexed by (unit, time)).
    directions : mapping
        Indicator → direction: ``"+"``, ``1`` or ``"benefit"`` (larger is better);
        ``"-"``, ``-1`` or ``"cost"`` (smaller is better). The keys are the indicator set.
    time : str, optional
        Time column; required for ``scope="per_year"``.
    scope : {"pooled", "per_year"}, default "pooled"
        ``"pooled"`` takes the minimum and maximum of each indicator over all rows (all
        units and years) and computes one set of weights — the default, because only then
        are scores comparable across years. ``"per_year"`` normalises and weights each year
        separately (weights vary by year; scores of different years are on different scales).
    zeros : {"ln0", "shift", "rescale"}, default "ln0"
        Handling of zero normalised values in :math:`p\ln p`: ``"ln0"`` keeps the min–max
        values and uses :math:`0 \ln 0 = 0`; ``"shift"`` uses :math:`x' + \text{shift}`;
        ``"rescale"`` uses :math:`a + (b - a)x'` with ``(a, b) = rescale``. The scores use
        the same transformed values (so with ``"shift"`` they can exceed 1 by up to
        ``shift``).
    shift : float, default 0.01
        Constant added with ``zeros="shift"`` (must be > 0).
    rescale : tuple of float, default (0.01, 0.99)
        Target interval with ``zeros="rescale"`` (``0 < a < b``).

    Returns
    -------
    EntropyResult
        ``weights``, ``scores``, ``normalised``, ``entropy``, ``divergence``, ``meta``.

    Raises
    ------
    DataError
        For a missing, non-numeric or non-finite indicator (naming the column and the
        first offending rows), or a constant indicator (max = min, so its min–max
        normalisation is undefined; per year: naming the year).
    SpecError
        For an unknown direction, scope or zero handling, or ``scope="per_year"`` without
        ``time``.

    Notes
    -----
    With :math:`m` rows (per year: the rows of that year) and indicators :math:`j`,

    .. math::

        x'_{ij} = \frac{x_{ij} - \min_i x_{ij}}{\max_i x_{ij} - \min_i x_{ij}} \;(+),\qquad
        x'_{ij} = \frac{\max_i x_{ij} - x_{ij}}{\max_i x_{ij} - \min_i x_{ij}} \;(-),

    .. math::

        p_{ij} = \frac{x'_{ij}}{\sum_i x'_{ij}},\quad
        e_j = -\frac{1}{\ln m}\sum_i p_{ij}\ln p_{ij},\quad
        d_j = 1 - e_j,\quad w_j = \frac{d_j}{\sum_k d_k},\quad S_i = \sum_j w_j x'_{ij}.

    Min–max normalisation is invariant to a positive rescaling or a shift of an
    indicator, so negative raw values are fine. Rows are never dropped.

    References
    ----------
    .. [1] Shannon, C. E. (1948). A mathematical theory of communication. *Bell System
       Technical Journal*, 27(3), 379–423.
    .. [2] Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making*. Springer
       (entropy weighting of attributes, ch. 4).

    Examples
    --------
    >>> import pandas as pd
    >>> from agglomera.measure import entropy_weights
    >>> d = pd.DataFrame([[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4],
    ...                   [275, 32, 8, 4], [225, 16, 16, 2]], columns=list("abcd"))
    >>> r = entropy_weights(d, {"a": "-", "b": "+", "c": "+", "d": "+"})
    >>> r.weights.round(4).tolist()
    [0.1578, 0.4386, 0.2655, 0.1381]
    """
    _check_choice("scope", scope, ("pooled", "per_year"))
    _check_choice("zeros", zeros, ("ln0", "shift", "rescale"))
    if zeros == "shift" and not (np.isfinite(shift) and shift > 0):
        raise SpecError(f"shift must be a positive number; got {shift!r}. Fix: e.g. shift=0.01.")
    if zeros == "rescale":
        a, b = _check_rescale(rescale)
    dirs = _parse_directions(directions)
    _, values, periods, time = _prepare(data, dirs, time, scope, "entropy_weights")

    normalised = pd.DataFrame(index=values.index, columns=list(dirs), dtype=float)
    weight_rows: dict[Hashable, np.ndarray] = {}
    entropy_rows: dict[Hashable, np.ndarray] = {}
    for key, pos in _groups(periods, scope, len(values)):
        block = _minmax(values.iloc[pos], dirs, key, time)
        if zeros == "shift":
            block = block + shift
        elif zeros == "rescale":
            block = a + (b - a) * block
        normalised.iloc[pos] = block
        entropy_rows[key] = _entropy(block)
        weight_rows[key] = _weights_from_entropy(entropy_rows[key])

    cols = list(dirs)
    entropy = _by_scope(entropy_rows, cols, time, "entropy")
    weights = _by_scope(weight_rows, cols, time, "weight")
    row_weights = _at_rows(weights, periods, len(values))
    scores = pd.Series((normalised.to_numpy(float) * row_weights).sum(axis=1), index=values.index)
    return EntropyResult(
        weights=weights,
        scores=scores.rename("score"),
        normalised=normalised,
        entropy=entropy,
        divergence=(1.0 - entropy).rename("divergence")
        if isinstance(entropy, pd.Series)
        else 1.0 - entropy,
        directions=dirs,
        periods=periods,
        meta=dict(
            method="entropy",
            scope=scope,
            zeros=zeros,
            time=time,
            n_rows=len(values),
            shift=shift if zeros == "shift" else None,
            rescale=tuple(rescale) if zeros == "rescale" else None,
        ),
    )


def topsis(
    data: Any,
    directions: Mapping[str, Any],
    *,
    weights: Any = None,
    normalisation: Literal["vector", "minmax"] = "vector",
    time: str | None = None,
    scope: Scope = "pooled",
) -> TopsisResult:
    r"""TOPSIS relative closeness to the ideal solution (Hwang & Yoon 1981).

    Parameters
    ----------
    data : DataFrame-like or Panel
        Rows = alternatives (city–years), columns = indicators.
    directions : mapping
        Indicator → ``"+"``/``1``/``"benefit"`` or ``"-"``/``-1``/``"cost"``.
    weights : sequence, mapping, pandas.Series or EntropyResult, optional
        Indicator weights (default: equal). They are normalised to sum to 1, as R
        ``topsis::topsis`` does; the closeness is invariant to that, the distances are not.
        An :class:`EntropyResult` with pooled scope gives entropy-weighted TOPSIS.
    normalisation : {"vector", "minmax"}, default "vector"
        ``"vector"``: :math:`r_{ij} = x_{ij} / \sqrt{\sum_i x_{ij}^2}` (Hwang & Yoon; needs
        non-negative values), directions enter through the ideal points.
        ``"minmax"``: direction-aware min–max as in :func:`entropy_weights` (every
        indicator becomes "larger is better").
    time : str, optional
        Time column; required for ``scope="per_year"``.
    scope : {"pooled", "per_year"}, default "pooled"
        ``"pooled"``: normalisation and ideal points over all rows (panel-pooled), so that
        closeness is comparable over years; ``"per_year"``: each year separately.

    Returns
    -------
    TopsisResult

    Raises
    ------
    DataError
        Missing or non-numeric values; negative values or an all-zero column with vector
        normalisation; a constant column with min–max normalisation.
    SpecError
        Bad directions, weights or options.

    Notes
    -----
    .. math::

        v_{ij} = w_j r_{ij},\quad
        v_j^+ = \max_i v_{ij}\ (+),\ \min_i v_{ij}\ (-),\quad
        v_j^- = \min_i v_{ij}\ (+),\ \max_i v_{ij}\ (-),

    .. math::

        D_i^\pm = \sqrt{\sum_j (v_{ij} - v_j^\pm)^2},\qquad C_i = \frac{D_i^-}{D_i^+ + D_i^-}.

    Reproduces R ``topsis::topsis(decision, weights, impacts)`` (vector normalisation).

    References
    ----------
    .. [1] Hwang, C.-L., & Yoon, K. (1981). *Multiple Attribute Decision Making: Methods and
       Applications*. Berlin: Springer.
    """
    _check_choice("normalisation", normalisation, ("vector", "minmax"))
    _check_choice("scope", scope, ("pooled", "per_year"))
    dirs = _parse_directions(directions)
    _, values, periods, time = _prepare(data, dirs, time, scope, "topsis")
    cols = list(dirs)
    w = _parse_weights(weights, cols)
    sign = np.array([dirs[c] for c in cols], dtype=float)

    if normalisation == "vector":
        negative = values.columns[(values < 0).any()].tolist()
        if negative:
            col = negative[0]
            rows = values.index[values[col] < 0]
            raise DataError(
                f"topsis: indicator {col!r} has negative values (rows {format_examples(rows)}); "
                "vector normalisation needs non-negative data. Fix: use "
                "normalisation='minmax' or transform the indicator."
            )

    weighted = pd.DataFrame(index=values.index, columns=cols, dtype=float)
    ideal_rows: dict[Hashable, np.ndarray] = {}
    anti_rows: dict[Hashable, np.ndarray] = {}
    for key, pos in _groups(periods, scope, len(values)):
        sub = values.iloc[pos]
        if normalisation == "vector":
            norm = np.sqrt((sub.to_numpy() ** 2).sum(axis=0))
            zero = [c for c, n in zip(cols, norm, strict=True) if n == 0]
            if zero:
                where = "" if key is None else f" in {time} {key!r}"
                raise DataError(
                    f"topsis: indicator {zero[0]!r} is zero in every row{where}; its vector "
                    "normalisation is undefined. Fix: drop the indicator."
                )
            r = sub.to_numpy() / norm
            best_sign = sign
        else:
            r = _minmax(sub, dirs, key, time).to_numpy()
            best_sign = np.ones_like(sign)
        v = r * w.to_numpy()
        vmax, vmin = v.max(axis=0), v.min(axis=0)
        ideal_rows[key] = np.where(best_sign > 0, vmax, vmin)
        anti_rows[key] = np.where(best_sign > 0, vmin, vmax)
        weighted.iloc[pos] = v

    ideal = _by_scope(ideal_rows, cols, time, "ideal")
    anti = _by_scope(anti_rows, cols, time, "anti_ideal")
    v_all = weighted.to_numpy(dtype=float)
    d_plus = np.sqrt(((v_all - _at_rows(ideal, periods, len(v_all))) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v_all - _at_rows(anti, periods, len(v_all))) ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        closeness = d_minus / (d_plus + d_minus)
    idx = values.index
    return TopsisResult(
        scores=pd.Series(closeness, index=idx, name="score"),
        d_plus=pd.Series(d_plus, index=idx, name="d_plus"),
        d_minus=pd.Series(d_minus, index=idx, name="d_minus"),
        ideal=ideal,
        anti_ideal=anti,
        weighted=weighted,
        weights=w,
        directions=dirs,
        meta=dict(
            method="topsis",
            normalisation=normalisation,
            scope=scope,
            time=time,
            n_rows=len(values),
        ),
    )


def obstacle_degree(
    result_or_normalised: Any,
    weights: Any = None,
    *,
    system: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    r"""Obstacle degree of each indicator (or subsystem) for each row.

    Parameters
    ----------
    result_or_normalised : EntropyResult, CompositeResult or pandas.DataFrame
        An entropy result (its min–max values and weights are used; with ``zeros="shift"``
        or ``"rescale"`` the transformation is undone first so that :math:`x' \in [0,1]`),
        a composite result (indicator weights = within-subsystem weight × subsystem weight;
        entropy method only) or a frame of normalised values in [0, 1].
    weights : sequence, mapping or pandas.Series, optional
        Indicator weights; required for a DataFrame, ignored for results.
    system : mapping, optional
        Subsystem → indicators. When given, the obstacle degrees are summed within each
        subsystem (the subsystem obstacle degree).

    Returns
    -------
    pandas.DataFrame
        Rows as in the input, one column per indicator (or subsystem); each row sums to 1.
        A row with no deviation at all (every :math:`x'_{ij} = 1`) has no obstacle and is
        NaN (0/0).

    Notes
    -----
    With factor contribution :math:`w_j` and deviation :math:`I_{ij} = 1 - x'_{ij}`,

    .. math:: O_{ij} = \frac{w_j (1 - x'_{ij})}{\sum_j w_j (1 - x'_{ij})},

    the obstacle-degree model as used in the Chinese regional-science literature (障碍度
    模型; e.g. in coupling-coordination studies reviewed by Wang Shujia et al. 2021).
    """
    if isinstance(result_or_normalised, EntropyResult):
        x = _undo_zero_handling(result_or_normalised)
        w_rows = result_or_normalised.row_weights()
    elif isinstance(result_or_normalised, CompositeResult):
        comp = result_or_normalised
        parts, wparts = [], []
        for name, sub in comp.subsystems.items():
            if not isinstance(sub, EntropyResult):
                raise SpecError(
                    "obstacle_degree needs a composite index computed with method='entropy'."
                )
            parts.append(_undo_zero_handling(sub))
            wparts.append(sub.row_weights() * float(comp.overall_weights[name]))
        x = pd.concat(parts, axis=1)
        w_rows = pd.concat(wparts, axis=1)
    else:
        x = to_pandas(result_or_normalised, what="result_or_normalised").astype(float)
        if weights is None:
            raise SpecError("obstacle_degree: pass weights= for a frame of normalised values.")
        w = _parse_weights(weights, list(x.columns), normalise=False)
        outside = (x < 0) | (x > 1) | x.isna()
        if outside.to_numpy().any():
            col = x.columns[outside.any()][0]
            raise DataError(
                f"obstacle_degree: column {col!r} has values outside [0, 1] or missing "
                f"(rows {format_examples(x.index[outside[col]])}). Fix: pass min–max "
                "normalised values."
            )
        w_rows = pd.DataFrame(_at_rows(w, None, len(x)), index=x.index, columns=x.columns)
    contribution = w_rows * (1.0 - x)
    total = contribution.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = contribution.div(total.where(total > 0), axis=0)
    if system is not None:
        sys = _parse_system(system, list(out.columns))
        out = pd.DataFrame({name: out[cols].sum(axis=1, min_count=1) for name, cols in sys.items()})
    return out


def composite_index(
    data: Any,
    system: Mapping[str, Sequence[str]],
    directions: Mapping[str, Any],
    *,
    method: Literal["entropy", "topsis"] = "entropy",
    time: str | None = None,
    scope: Scope = "pooled",
    zeros: Zeros = "ln0",
    shift: float = 0.01,
    rescale: tuple[float, float] = (0.01, 0.99),
    normalisation: Literal["vector", "minmax"] = "minmax",
    overall_weights: Any = None,
) -> CompositeResult:
    r"""Hierarchical composite index: indicators → subsystem scores → overall score.

    Parameters
    ----------
    data : DataFrame-like or Panel
        Rows = observations, columns include every indicator of ``system``.
    system : mapping
        Subsystem name → list of indicators, e.g. ``{"industry": [...], "talent": [...]}``.
        An indicator may belong to one subsystem only.
    directions : mapping
        Indicator → direction (see :func:`entropy_weights`); must cover every indicator.
    method : {"entropy", "topsis"}, default "entropy"
        ``"entropy"``: subsystem score :math:`U_s = \sum_{j \in s} w_j^{(s)} x'_{ij}` with
        entropy weights computed *within* the subsystem (so :math:`U_s \in [0, 1]` for
        ``zeros="ln0"``/``"rescale"``, as coupling coordination requires).
        ``"topsis"``: entropy-weighted TOPSIS closeness within the subsystem
        (normalisation ``normalisation``).
    time, scope, zeros, shift, rescale
        As in :func:`entropy_weights`; ``scope`` also sets the TOPSIS ideal points.
    normalisation : {"minmax", "vector"}, default "minmax"
        TOPSIS normalisation (``method="topsis"`` only).
    overall_weights : None, "entropy", sequence or mapping, optional
        Weights of the subsystems in the overall score. ``None``: equal weights;
        ``"entropy"``: entropy weights of the subsystem scores (benefit direction, pooled
        over all rows, same ``zeros``);
        otherwise explicit weights (normalised to sum to 1).

    Returns
    -------
    CompositeResult
        ``scores`` (row × subsystem), ``overall``, ``overall_weights``, ``subsystems``
        (the per-subsystem results) and :meth:`CompositeResult.weights`.

    Notes
    -----
    Weighting each subsystem on its own (rather than one entropy weighting over all
    indicators, whose weights would then be summed within subsystems) keeps every
    subsystem score on [0, 1]; this is the input convention of the coupling coordination
    degree model (Wang Shujia et al. 2021).
    """
    _check_choice("method", method, ("entropy", "topsis"))
    dirs = _parse_directions(directions)
    sys = _parse_system(system, list(dirs))
    keep = [c for cols in sys.values() for c in cols]
    unused = [c for c in dirs if c not in keep]
    if unused:
        raise SpecError(
            f"composite_index: indicator(s) {format_examples(unused)} have a direction but "
            "belong to no subsystem. Fix: add them to `system` or remove them from `directions`."
        )
    frame, _, _, time = _prepare(data, dirs, time, scope, "composite_index")
    results: dict[str, EntropyResult | TopsisResult] = {}
    scores = pd.DataFrame(index=frame.index)
    for name, cols in sys.items():
        sub_dirs = {c: dirs[c] for c in cols}
        ent = entropy_weights(
            frame, sub_dirs, time=time, scope=scope, zeros=zeros, shift=shift, rescale=rescale
        )
        if method == "entropy":
            results[name] = ent
            scores[name] = ent.scores.to_numpy()
        else:
            if scope == "per_year":
                assert time is not None and isinstance(ent.weights, pd.DataFrame)
                column = np.full(len(frame), np.nan)
                for year in ent.weights.index:
                    mask = (frame[time] == year).to_numpy()
                    top_year = topsis(
                        frame.loc[mask],
                        sub_dirs,
                        weights=ent.weights.loc[year],
                        normalisation=normalisation,
                    )
                    column[mask] = top_year.scores.to_numpy()
                scores[name] = column
                results[name] = ent
            else:
                top = topsis(frame, sub_dirs, weights=ent, normalisation=normalisation, time=time)
                results[name] = top
                scores[name] = top.scores.to_numpy()
    names = list(sys)
    if isinstance(overall_weights, str):
        if overall_weights != "entropy":
            raise SpecError(
                f"overall_weights must be None, 'entropy' or weights; got {overall_weights!r}."
            )
        ow_res = entropy_weights(
            scores, dict.fromkeys(names, 1), zeros=zeros, shift=shift, rescale=rescale
        )
        ow = pd.Series(ow_res.weights)
    else:  # None → equal weights
        ow = _parse_weights(overall_weights, names)
    ow = ow.rename("weight")
    overall = (scores[names] * ow.to_numpy()).sum(axis=1).rename("overall")
    return CompositeResult(
        scores=scores,
        overall=overall,
        overall_weights=ow,
        subsystems=results,
        system=sys,
        meta=dict(
            method=method,
            scope=scope,
            zeros=zeros,
            time=time,
            normalisation=normalisation if method == "topsis" else None,
            overall_weights=ow.to_dict(),
        ),
    )


def _parse_weights(weights: Any, cols: list[str], *, normalise: bool = True) -> pd.Series:
    if weights is None:
        return pd.Series(1.0 / len(cols), index=cols, name="weight")
    if isinstance(weights, EntropyResult):
        if isinstance(weights.weights, pd.DataFrame):
            raise SpecError(
                "weights from a per-year EntropyResult vary by year; pass one year's weights "
                "(result.weights.loc[year]) or use scope='pooled'."
            )
        weights = weights.weights
    if isinstance(weights, Mapping | pd.Series):
        lookup = {str(k): v for k, v in weights.items()}
        keys = list(lookup)
        missing = [c for c in cols if c not in keys]
        extra = [k for k in keys if k not in cols]
        if missing or extra:
            raise SpecError(
                "weights must have exactly one entry per indicator; "
                f"missing {format_examples(missing) or '-'}; "
                f"unknown {format_examples(extra) or '-'}."
            )
        arr = np.array([float(lookup[c]) for c in cols])
    else:
        try:
            arr = np.asarray(weights, dtype=float).ravel()
        except (TypeError, ValueError):
            raise SpecError(f"weights must be numbers; got {weights!r}.") from None
        if arr.size != len(cols):
            raise SpecError(
                f"weights has {arr.size} values but there are {len(cols)} indicators "
                f"({format_examples(cols)})."
            )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
        raise SpecError(
            f"weights must be finite, non-negative and not all zero; got {arr.tolist()}."
        )
    if normalise:
        arr = arr / arr.sum()
    return pd.Series(arr, index=cols, name="weight")


def _undo_zero_handling(result: EntropyResult) -> pd.DataFrame:
    x = result.normalised
    if result.meta.get("zeros") == "shift":
        return x - float(result.meta["shift"])
    if result.meta.get("zeros") == "rescale":
        a, b = result.meta["rescale"]
        return (x - a) / (b - a)
    return x
