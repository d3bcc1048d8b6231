r"""Distribution dynamics: kernel densities by year, Markov chains, spatial and LISA Markov.

Quah (1993) argued that convergence regressions hide how the whole cross-sectional
distribution moves; the tools here describe it:

* :func:`kernel_density` — Gaussian kernel density of an indicator in each year (the data of
  the 3-D / ridge plots in Chinese regional papers);
* :func:`markov` — transition matrix between classes (quantile classes, fixed breaks such as
  the coupling-coordination grades) with steady state and mean first passage times;
:func:`markov` is computed here (no optional dependency) and checked against ``giddy`` in
the tests; the spatial chains (:func:`~agglomera.describe.spatial_markov`,
:func:`~agglomera.describe.lisa_markov`) live in :mod:`agglomera.describe.spatial_dynamics`.

References
----------
.. [1] Quah, D. (1993). Empirical cross-section dynamics in economic growth. *European
   Economic Review*, 37(2–3), 426–434.
.. [2] Rey, S. J. (2001). Spatial empirics for economic growth and convergence.
   *Geographical Analysis*, 33(3), 195–214.
.. [3] Kemeny, J. G. & Snell, J. L. (1976). *Finite Markov Chains*. Springer (mean first
   passage times).
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components

from agglomera.data.panel import Panel
from agglomera.describe.summary import _check_panel, _require_vars, _values
from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "MarkovResult",
    "kernel_density",
    "markov",
    "mean_first_passage",
    "recurrent_steady_states",
    "steady_state",
]


# ---------------------------------------------------------------------- kernel density
def kernel_density(
    panel: Panel,
    var: str,
    *,
    bandwidth: Literal["scott", "silverman"] | float = "scott",
    grid: Sequence[float] | np.ndarray | None = None,
    n_grid: int = 200,
    cut: float = 3.0,
) -> pd.DataFrame:
    r"""Gaussian kernel density of ``var`` in each period, on a common grid.

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable.
    bandwidth : {"scott", "silverman"} or float, default "scott"
        Rule for the kernel standard deviation :math:`h` in each year, or a fixed
        :math:`h` in the units of ``var`` (same in all years).
    grid : array-like, optional
        Evaluation points (default: ``n_grid`` points from the pooled minimum − ``cut``·h
        to the pooled maximum + ``cut``·h, h the largest bandwidth across years).
    n_grid : int, default 200
        Grid size when ``grid`` is not given.
    cut : float, default 3.0
        Grid extension in bandwidths beyond the data.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (period, grid point): the time key, ``x``, ``density``,
        ``bandwidth`` (h of that year), ``n`` (values used). ``attrs["missing"]`` maps
        periods to the number of missing values left out.

    Raises
    ------
    DataError
        If a period has fewer than two observed values or no variation (the density is
        undefined); the periods are named.

    Notes
    -----
    :math:`\hat f_t(x) = \frac{1}{n_t h_t}\sum_i \phi\left(\frac{x - x_{it}}{h_t}\right)`
    with :math:`h_t = c\,s_t`, :math:`s_t` the sample standard deviation (ddof = 1) and
    :math:`c = n_t^{-1/5}` (Scott) or :math:`(3 n_t / 4)^{-1/5}` (Silverman) — the
    conventions of ``scipy.stats.gaussian_kde`` (its ``bw_method`` factor :math:`c`), so a
    float bandwidth :math:`h` corresponds to ``bw_method = h / s_t``.
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    if not (bandwidth in ("scott", "silverman") or _is_number(bandwidth)):
        raise SpecError(f"bandwidth must be 'scott', 'silverman' or a number; got {bandwidth!r}.")
    if _is_number(bandwidth) and not float(bandwidth) > 0:
        raise SpecError(f"a numeric bandwidth must be positive; got {bandwidth!r}.")
    frame = panel.to_frame()
    values = _values(frame, var)
    times = frame[panel.time].to_numpy()
    per_year: dict[int, np.ndarray] = {}
    missing: dict[int, int] = {}
    bad: list[int] = []
    for t in panel.times.tolist():
        y = values[times == t]
        ok = y[~np.isnan(y)]
        missing[int(t)] = int(y.size - ok.size)
        if ok.size < 2 or np.std(ok) == 0:
            bad.append(int(t))
        per_year[int(t)] = ok
    if bad:
        raise DataError(
            f"kernel_density: {var!r} has fewer than two distinct observed values in periods "
            f"{format_examples(bad)}; the density is undefined. Fix: drop those periods with "
            "panel.subset(times=...)."
        )
    widths = {t: _bandwidth(y, bandwidth) for t, y in per_year.items()}
    if grid is None:
        pooled = np.concatenate(list(per_year.values()))
        h = max(widths.values())
        points = np.linspace(pooled.min() - cut * h, pooled.max() + cut * h, int(n_grid))
    else:
        points = np.asarray(grid, dtype=float).ravel()
    parts = []
    for t, y in per_year.items():
        h = widths[t]
        z = (points[:, None] - y[None, :]) / h
        dens = np.exp(-0.5 * z * z).sum(axis=1) / (y.size * h * math.sqrt(2.0 * math.pi))
        parts.append(
            pd.DataFrame({panel.time: t, "x": points, "density": dens, "bandwidth": h, "n": y.size})
        )
    out = pd.concat(parts, ignore_index=True)
    out.attrs["missing"] = missing
    out.attrs["bandwidth_rule"] = bandwidth
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _bandwidth(y: np.ndarray, rule: Any) -> float:
    if _is_number(rule):
        return float(rule)
    n = y.size
    factor = n ** (-1.0 / 5.0) if rule == "scott" else (n * 3.0 / 4.0) ** (-1.0 / 5.0)
    return float(factor * np.std(y, ddof=1))


# ---------------------------------------------------------------------- chain algebra
def steady_state(p: np.ndarray) -> np.ndarray:
    r"""Return the stationary distribution :math:`\pi` of a transition matrix.

    Solves :math:`\pi P = \pi`, :math:`\sum_j \pi_j = 1`. Returns NaNs when the solution is
    not unique (more than one recurrent class; see :func:`recurrent_steady_states`).

    Parameters
    ----------
    p : numpy.ndarray
        (k, k) row-stochastic matrix.
    """
    states = recurrent_steady_states(p)
    if states.shape[0] != 1:
        return np.full(np.asarray(p).shape[0], np.nan)
    return np.asarray(states[0])


def recurrent_steady_states(p: np.ndarray) -> np.ndarray:
    r"""Return one stationary distribution per recurrent class of the chain.

    A reducible chain has one stationary distribution concentrated on each closed
    communicating (recurrent) class; any mixture of them is stationary too. This returns the
    extreme ones, one row per recurrent class ordered by the class's lowest state, as
    ``giddy``'s ``steady_state`` does for reducible chains.

    Parameters
    ----------
    p : numpy.ndarray
        (k, k) row-stochastic matrix.

    Returns
    -------
    numpy.ndarray
        (r, k), r the number of recurrent classes.
    """
    p = np.asarray(p, dtype=float)
    k = p.shape[0]
    rows = []
    for members in _recurrent_classes(p):
        sub = p[np.ix_(members, members)]
        m = members.size
        a = np.vstack([sub.T - np.eye(m), np.ones((1, m))])
        b = np.zeros(m + 1)
        b[-1] = 1.0
        pi, *_ = np.linalg.lstsq(a, b, rcond=None)
        pi = np.where(np.abs(pi) < 1e-15, 0.0, pi)
        full = np.zeros(k)
        full[members] = pi / pi.sum()
        rows.append(full)
    return np.array(rows).reshape(len(rows), k)


def _recurrent_classes(p: np.ndarray) -> list[np.ndarray]:
    """Return the closed communicating classes (state indices), by lowest state."""
    n_comp, labels = connected_components(p > 0, directed=True, connection="strong")
    out = []
    for c in range(n_comp):
        members = labels == c
        if p[np.ix_(members, ~members)].sum() == 0:
            out.append(np.flatnonzero(members))
    return sorted(out, key=lambda idx: int(idx[0]))


def mean_first_passage(p: np.ndarray) -> np.ndarray | None:
    r"""Mean first passage times of an irreducible chain (Kemeny & Snell 1976).

    :math:`M = (I - Z + E Z_{dg}) D` with the fundamental matrix
    :math:`Z = (I - P + \mathbf{1}\pi)^{-1}`, :math:`D = \mathrm{diag}(1/\pi)`; the diagonal
    holds the mean recurrence times :math:`1/\pi_j` (as ``giddy.ergodic.mfpt``). Returns
    None when the chain is not irreducible.
    """
    p = np.asarray(p, dtype=float)
    k = p.shape[0]
    n_comp, _ = connected_components(p > 0, directed=True, connection="strong")
    if n_comp != 1:
        return None
    pi = steady_state(p)
    z = np.linalg.inv(np.eye(k) - p + np.outer(np.ones(k), pi))
    m = (np.eye(k) - z + np.outer(np.ones(k), np.diag(z))) @ np.diag(1.0 / pi)
    m[np.diag_indices(k)] = 1.0 / pi
    return np.asarray(m)


# ---------------------------------------------------------------------- classes
def _mapclassify_quantiles(values: np.ndarray, k: int) -> np.ndarray:
    """Quantile upper bounds as ``mapclassify.Quantiles`` computes them (unique)."""
    w = 100.0 / k
    pcts = np.arange(w, 100 + w, w)
    if pcts[-1] > 100.0:
        pcts[-1] = 100.0
    ordered = np.sort(values)
    n = ordered.size
    bounds = []
    for pct in pcts:
        idx = pct / 100.0 * (n - 1)
        lo = int(idx)
        frac = idx % 1
        if frac == 0 or lo + 1 >= n:
            bounds.append(float(ordered[min(lo, n - 1)]))
        else:
            a, b = ordered[lo], ordered[lo + 1]
            bounds.append(float(a + (b - a) * frac))
    return np.unique(np.array(bounds))


def _classify(
    panel: Panel,
    frame: pd.DataFrame,
    y: np.ndarray,
    *,
    classes: int,
    breaks: Any,
    pooled_quantiles: bool,
    closed: str,
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Return class ids (−1 for missing), labels and the break information."""
    ok = ~np.isnan(y)
    ids = np.full(y.size, -1, dtype=int)
    info: dict[str, Any] = {}
    if breaks is None or (isinstance(breaks, str) and breaks == "quantile"):
        if not isinstance(classes, int) or classes < 2:
            raise SpecError(f"classes must be an integer ≥ 2; got {classes!r}.")
        info["breaks"] = "quantile"
        if pooled_quantiles:
            bounds = _mapclassify_quantiles(y[ok], classes)
            ids[ok] = np.searchsorted(bounds, y[ok], side="left")
            info["upper_bounds"] = bounds.tolist()
            k = bounds.size
        else:
            times = frame[panel.time].to_numpy()
            per: dict[int, list[float]] = {}
            fewest = classes
            for t in np.unique(times):
                sel = ok & (times == t)
                bounds = _mapclassify_quantiles(y[sel], classes)
                fewest = min(fewest, bounds.size)
                ids[sel] = np.searchsorted(bounds, y[sel], side="left")
                per[int(t)] = bounds.tolist()
            info["upper_bounds"] = per
            k = int(ids.max()) + 1 if (ids >= 0).any() else classes
            if fewest < classes:
                info["note"] = f"ties: some years have only {fewest} distinct quantiles"
        if pooled_quantiles and k < classes:
            info["note"] = f"ties: only {k} distinct quantiles, {k} classes instead of {classes}"
        labels = [f"Q{j + 1}" for j in range(k)]
        info["closed"] = "right"
        return ids, labels, info
    if isinstance(breaks, str):
        if breaks != "coupling":
            raise SpecError(
                f"breaks must be None, 'quantile', 'coupling' or a sequence; got {breaks!r}."
            )
        from agglomera.measure.coupling import coupling_grades

        grades = coupling_grades()
        edges = np.r_[grades["lower"].to_numpy(float), grades["upper"].to_numpy(float)[-1]]
        labels = [str(x) for x in grades["label_en"]]
        closed = "left"
        # grade D exactly as measure.coupling_coordination does (rounded to 12 decimals)
        y = np.where(ok, np.round(y, 12), y)
    else:
        edges = np.asarray(list(breaks), dtype=float)
        if edges.size < 3 or np.any(np.diff(edges) <= 0):
            raise SpecError(
                "fixed breaks must be at least three strictly increasing class edges "
                f"[e0, e1, ..., ek]; got {list(edges)}. Use -inf/inf for open ends."
            )
        labels = [_interval(a, b, closed, j, edges.size - 1) for j, (a, b) in
                  enumerate(itertools.pairwise(edges))]  # fmt: skip
    outside = ok & ((y < edges[0]) | (y > edges[-1]))
    if outside.any():
        rows = frame.loc[outside, [panel.unit, panel.time]].head(5)
        raise DataError(
            f"markov: {int(outside.sum())} values lie outside the breaks [{edges[0]}, "
            f"{edges[-1]}], e.g. (unit, time) {format_examples(list(rows.itertuples(False, None)))}"
            ". Fix: widen the outer edges (use -inf/inf)."
        )
    if closed == "left":
        cls = np.searchsorted(edges, y[ok], side="right") - 1
        cls = np.minimum(cls, edges.size - 2)
    elif closed == "right":
        cls = np.searchsorted(edges, y[ok], side="left") - 1
        cls = np.maximum(cls, 0)
    else:
        raise SpecError(f"closed must be 'left' or 'right'; got {closed!r}.")
    ids[ok] = cls
    info.update(breaks="fixed", edges=edges.tolist(), closed=closed)
    return ids, labels, info


def _interval(a: float, b: float, closed: str, j: int, k: int) -> str:
    if closed == "left":
        right = "]" if j == k - 1 else ")"
        return f"[{a:g}, {b:g}{right}"
    left = "[" if j == 0 else "("
    return f"{left}{a:g}, {b:g}]"


# ---------------------------------------------------------------------- Markov result
def _square(values: np.ndarray, labels: Sequence[str]) -> pd.DataFrame:
    """Return a (from × to) DataFrame with the class labels."""
    return pd.DataFrame(
        values, index=pd.Index(list(labels), name="from"), columns=pd.Index(list(labels), name="to")
    )


def _tidy_matrix(counts: pd.DataFrame, probs: pd.DataFrame) -> pd.DataFrame:
    labels = [str(c) for c in counts.index]
    k = len(labels)
    return pd.DataFrame(
        {
            "from": np.repeat(labels, k),
            "to": np.tile(labels, k),
            "count": counts.to_numpy(dtype=int).ravel(),
            "probability": probs.to_numpy(dtype=float).ravel(),
        }
    )


def _matrix_table(counts: pd.DataFrame, probs: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = probs.round(digits).copy()
    out.insert(0, "n", counts.sum(axis=1).astype(int))
    out.index.name = "from"
    return out.reset_index()


@dataclass(frozen=True)
class MarkovResult:
    """Markov transition matrix of classes of a panel variable (see :func:`markov`).

    Attributes
    ----------
    counts : pandas.DataFrame
        Transition counts, rows = class in t, columns = class in t+1.
    probabilities : pandas.DataFrame
        Row-normalised counts (a row without transitions is NaN).
    steady_state : pandas.Series
        Ergodic distribution (NaN when it is not unique).
    recurrent_states : pandas.DataFrame
        One stationary distribution per recurrent class (one row when the chain has a
        unique steady state; several for a reducible chain, e.g. an absorbing top class).
    mfpt : pandas.DataFrame or None
        Mean first passage times (diagonal = mean recurrence time); None unless the chain
        on the visited classes is irreducible.
    initial, final : pandas.Series
        Class shares in the first and last period.
    classes : pandas.DataFrame
        The class of each (unit, time): unit key, time key, ``value``, ``class`` (label;
        missing where the value is missing).
    labels : tuple of str
        Class labels in order.
    meta : dict
        ``breaks`` information (quantile bounds or edges, ``closed``), ``n_transitions``,
        ``n_skipped`` (pairs with a missing value), ``visited`` classes, notes.
    """

    counts: pd.DataFrame
    probabilities: pd.DataFrame
    steady_state: pd.Series
    recurrent_states: pd.DataFrame
    mfpt: pd.DataFrame | None
    initial: pd.Series
    final: pd.Series
    classes: pd.DataFrame = field(repr=False)
    labels: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (from, to) pair: ``from``, ``to``, ``count``, ``probability``."""
        return _tidy_matrix(self.counts, self.probabilities)

    def table(self, digits: int = 3) -> pd.DataFrame:
        """Return the report table: rows = class in t, ``n`` transitions, probabilities."""
        return _matrix_table(self.counts, self.probabilities, digits)

    def summary(self) -> str:
        """Return the matrix, the steady state and the conventions as text."""
        steady = ", ".join(f"{k}: {v:.3f}" for k, v in self.steady_state.items())
        head = (
            f"Markov transition matrix ({self.meta.get('breaks')} classes, "
            f"{self.meta.get('n_transitions')} transitions, {self.meta.get('n_skipped')} "
            f"skipped for missing values)"
        )
        return head + "\n" + self.table(4).to_string(index=False) + f"\nSteady state: {steady}"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary().splitlines()[0])}</p>" + self.table(4).to_html(
            index=False
        )


def markov(
    panel: Panel,
    var: str,
    *,
    classes: int = 4,
    breaks: Literal["quantile", "coupling"] | Sequence[float] | None = None,
    pooled_quantiles: bool = True,
    closed: Literal["left", "right"] = "left",
    relative: bool = False,
) -> MarkovResult:
    r"""Discrete Markov chain of classes of ``var`` between consecutive years.

    Parameters
    ----------
    panel : Panel
        The data (unbalanced allowed: only pairs (t, t+1) with both values observed count).
    var : str
        Numeric variable.
    classes : int, default 4
        Number of quantile classes (ignored for fixed breaks).
    breaks : None, "quantile", "coupling" or sequence of float
        ``None``/``"quantile"``: quantile classes (upper bounds at the
        :math:`100j/k`-th percentiles, a value :math:`x` in class :math:`j` when
        :math:`q_{j-1} < x \le q_j`, as ``mapclassify.Quantiles``). ``"coupling"``: the ten
        coupling-coordination grades of :func:`agglomera.measure.coupling_grades`
        (:math:`lower \le D < upper`, grade 10 includes 1; values rounded to 12 decimals
        first, exactly as :func:`agglomera.measure.coupling_coordination` grades them).
        A sequence: class edges :math:`[e_0, \dots, e_k]` (use ``-inf``/``inf`` for open
        ends).
    pooled_quantiles : bool, default True
        Quantiles of all years pooled (the classes are absolute; a class can fill up over
        time) or of each year separately (relative position in that year's distribution).
    closed : {"left", "right"}, default "left"
        For a sequence of edges: ``"left"`` :math:`e_j \le x < e_{j+1}` (the last class
        includes :math:`e_k`); ``"right"`` :math:`e_j < x \le e_{j+1}` (the first includes
        :math:`e_0`).
    relative : bool, default False
        Divide each year's values by that year's cross-sectional mean first (Quah 1993;
        Rey 2001), which removes the common trend.

    Returns
    -------
    MarkovResult

    Notes
    -----
    The maximum-likelihood transition probabilities are
    :math:`\hat p_{ij} = n_{ij} / \sum_j n_{ij}`, :math:`n_{ij}` the number of units in
    class :math:`i` in year :math:`t` and class :math:`j` in :math:`t+1`, pooled over years
    (a time-homogeneous chain). The steady state solves :math:`\pi P = \pi` on the classes
    that are visited; classes never visited get share 0, and a class visited only in the
    last year (an empty row) is made absorbing for this purpose, as ``giddy`` does
    (``fill_empty_classes``). Mean first passage times follow Kemeny & Snell (1976).
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    frame = panel.to_frame()
    y = _values(frame, var)
    if relative:
        y = _relative(frame, panel, y)
    ids, labels, info = _classify(
        panel,
        frame,
        y,
        classes=classes,
        breaks=breaks,
        pooled_quantiles=pooled_quantiles,
        closed=closed,
    )
    k = len(labels)
    keyed = pd.Series(ids, index=pd.MultiIndex.from_arrays([frame[panel.unit], frame[panel.time]]))
    nxt = keyed.reindex(
        pd.MultiIndex.from_arrays([frame[panel.unit], frame[panel.time] + 1])
    ).to_numpy()
    has_next = ~np.isnan(nxt.astype(float))
    nxt_i = np.where(has_next, nxt, -1).astype(int)
    pair = has_next & (ids >= 0) & (nxt_i >= 0)
    skipped = int((has_next & ~pair).sum())
    counts = np.zeros((k, k))
    np.add.at(counts, (ids[pair], nxt_i[pair]), 1.0)
    chain = _chain(counts)
    probs, steady, mfpt, notes = chain.probs, chain.steady, chain.mfpt, chain.notes
    times = frame[panel.time].to_numpy()
    t0, t1 = panel.times.min(), panel.times.max()
    initial = _shares(ids[(times == t0) & (ids >= 0)], labels)
    final = _shares(ids[(times == t1) & (ids >= 0)], labels)
    class_frame = frame[[panel.unit, panel.time]].copy()
    class_frame["value"] = y
    class_frame["class"] = pd.array([labels[i] if i >= 0 else pd.NA for i in ids], dtype="string")
    meta = dict(info)
    meta.update(
        n_transitions=int(counts.sum()),
        n_skipped=skipped,
        relative=relative,
        notes=notes + ([info["note"]] if "note" in info else []),
    )
    return MarkovResult(
        counts=_square(counts.astype(int), labels),
        probabilities=_square(probs, labels),
        steady_state=pd.Series(steady, index=pd.Index(labels, name="class"), name="steady_state"),
        recurrent_states=_recurrent_frame(chain.recurrent, labels),
        mfpt=None if mfpt is None else _square(mfpt, labels),
        initial=initial,
        final=final,
        classes=class_frame,
        labels=tuple(labels),
        meta=meta,
    )


def _recurrent_frame(states: np.ndarray, labels: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        states,
        index=pd.RangeIndex(states.shape[0], name="recurrent_class"),
        columns=pd.Index(labels, name="class"),
    )


def _relative(frame: pd.DataFrame, panel: Panel, y: np.ndarray) -> np.ndarray:
    means = pd.Series(y).groupby(frame[panel.time].to_numpy()).transform("mean").to_numpy()
    return np.asarray(y / means)


def _shares(ids: np.ndarray, labels: list[str]) -> pd.Series:
    counts = np.bincount(ids, minlength=len(labels)).astype(float)
    total = counts.sum()
    return pd.Series(counts / total if total else counts, index=pd.Index(labels, name="class"))


@dataclass(frozen=True)
class _Chain:
    probs: np.ndarray
    steady: np.ndarray
    recurrent: np.ndarray
    mfpt: np.ndarray | None
    notes: list[str]


def _chain(counts: np.ndarray) -> _Chain:
    """Probabilities, steady state(s) and mfpt from transition counts (visited classes only)."""
    k = counts.shape[0]
    rows = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = counts / rows[:, None]
    probs[rows == 0] = np.nan
    notes: list[str] = []
    visited = (rows > 0) | (counts.sum(axis=0) > 0)
    steady = np.zeros(k)
    recurrent = np.zeros((0, k))
    mfpt_full: np.ndarray | None = None
    if visited.any():
        sub = np.nan_to_num(probs[np.ix_(visited, visited)], nan=0.0)
        empty = sub.sum(axis=1) == 0
        if empty.any():
            sub[np.flatnonzero(empty), np.flatnonzero(empty)] = 1.0
            notes.append("classes entered only in the last period were made absorbing")
        states = recurrent_steady_states(sub)
        recurrent = np.zeros((states.shape[0], k))
        recurrent[:, visited] = states
        if states.shape[0] != 1:
            notes.append(
                f"{states.shape[0]} recurrent classes: the steady state is not unique (one "
                "distribution per recurrent class in recurrent_states)"
            )
            steady[:] = np.nan
        else:
            steady = recurrent[0].copy()
            m = mean_first_passage(sub)
            if m is not None:
                mfpt_full = np.full((k, k), np.nan)
                mfpt_full[np.ix_(visited, visited)] = m
            else:
                notes.append("chain not irreducible: no mean first passage times")
    if (~visited).any():
        notes.append(f"{int((~visited).sum())} classes never visited (steady-state share 0)")
    return _Chain(probs, steady, recurrent, mfpt_full, notes)
