r"""Spatial distribution dynamics: spatial Markov and LISA Markov chains (through giddy).

* :func:`spatial_markov` — transition matrices conditional on the neighbours' class
  (Rey 2001);
* :func:`lisa_markov` — transitions between LISA scatter-plot quadrants (Rey 2001).

Both need pysal's ``giddy`` and ``libpysal`` (optional extra ``spatial``); the class
definitions and chain statistics are shared with :func:`agglomera.describe.markov`.

References
----------
.. [1] Rey, S. J. (2001). Spatial empirics for economic growth and convergence.
   *Geographical Analysis*, 33(3), 195–214.
"""

from __future__ import annotations

import copy
import importlib
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.describe.dynamics import (
    _chain,
    _matrix_table,
    _recurrent_frame,
    _square,
    _tidy_matrix,
)
from agglomera.describe.summary import _check_panel, _require_vars
from agglomera.errors import DataError, EstimationError, format_examples

__all__ = [
    "LISA_QUADRANTS",
    "LisaMarkovResult",
    "SpatialMarkovResult",
    "lisa_markov",
    "spatial_markov",
]

#: Quadrant codes of giddy's LISA Markov (1 HH, 2 LH, 3 LL, 4 HL).
LISA_QUADRANTS: tuple[str, ...] = ("HH", "LH", "LL", "HL")


def _giddy_markov() -> Any:
    try:
        return importlib.import_module("giddy.markov")
    except ImportError as exc:  # pragma: no cover - exercised only without giddy
        raise EstimationError(
            "spatial_markov and lisa_markov need pysal's giddy and libpysal: "
            "pip install giddy libpysal."
        ) from exc


def _weights(panel: Panel, w: Any) -> Any:
    """Return a row-standardised libpysal W aligned to ``panel.units`` (a copy)."""
    try:
        util = importlib.import_module("libpysal.weights")
    except ImportError as exc:  # pragma: no cover
        raise EstimationError("spatial chains need libpysal: pip install libpysal.") from exc
    units = list(panel.units)
    if isinstance(w, np.ndarray) or (hasattr(w, "shape") and not hasattr(w, "neighbors")):
        arr = np.asarray(w, dtype=float)
        if arr.shape != (len(units), len(units)):
            raise DataError(
                f"w is a {arr.shape} array; the panel has {len(units)} units. Fix: pass a "
                "square array aligned to panel.units (sorted) or a libpysal W with the unit ids."
            )
        out = util.full2W(arr, ids=units)
    elif hasattr(w, "neighbors"):
        ids = [str(i) for i in w.id_order]
        want = [str(u) for u in units]
        missing = sorted(set(want) - set(ids))
        extra = sorted(set(ids) - set(want))
        if missing or extra:
            raise DataError(
                f"w ids do not match the panel's units: missing {format_examples(missing)}; "
                f"extra {format_examples(extra)}. Fix: build w on exactly the panel's units."
            )
        full, full_ids = w.full()
        pos = {str(i): j for j, i in enumerate(full_ids)}
        order = [pos[u] for u in want]
        out = util.full2W(np.asarray(full)[np.ix_(order, order)], ids=units)
    else:
        raise DataError(f"w must be a libpysal W or a square array; got {type(w).__name__}.")
    islands = [u for u, nb in out.neighbors.items() if not nb]
    if islands:
        raise DataError(
            f"w has units without neighbours (islands): {format_examples(islands)}; the "
            "spatial lag is undefined for them. Fix: use k-nearest-neighbour or distance weights."
        )
    out = copy.deepcopy(out)
    out.transform = "r"
    return out


def _balanced_matrix(panel: Panel, var: str, relative: bool) -> np.ndarray:
    wide = panel.to_wide(var)
    if wide.isna().to_numpy().any():
        rows, cols = np.nonzero(wide.isna().to_numpy())
        keys = [(wide.index[int(r)], wide.columns[int(c)]) for r, c in zip(rows, cols, strict=True)]
        raise DataError(
            f"spatial Markov chains need a balanced panel without missing {var!r}; missing at "
            f"(unit, time) {format_examples(keys)}. Fix: subset to complete units/years."
        )
    y = wide.to_numpy(dtype=float)
    if relative:
        y = y / y.mean(axis=0, keepdims=True)
    return np.asarray(y)


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Seed numpy's global generator (giddy draws from it) and restore it afterwards."""
    state = np.random.get_state()  # noqa: NPY002 (giddy uses the global generator)
    if seed is not None:
        np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@dataclass(frozen=True)
class SpatialMarkovResult:
    """Spatial Markov chain (see :func:`spatial_markov`).

    Attributes
    ----------
    counts, probabilities : dict of str to pandas.DataFrame
        Transition counts and probabilities conditional on the neighbours' (spatial lag)
        class, keyed by lag-class label.
    overall : pandas.DataFrame
        Unconditional transition probabilities (giddy's ``p``).
    steady_states : pandas.DataFrame
        Rows = lag class, columns = class: steady state of each conditional matrix.
    tests : pandas.DataFrame
        Homogeneity tests of Bickenbach & Bode (2003): ``Q`` and ``LR`` with p-values and
        degrees of freedom, and Rey's chi-square sum ``x2`` with its p-value.
    labels, lag_labels : tuple of str
        Class labels.
    meta : dict
        Cut-offs, ``permutations``, ``seed``, ``relative``.
    """

    counts: dict[str, pd.DataFrame]
    probabilities: dict[str, pd.DataFrame]
    overall: pd.DataFrame
    steady_states: pd.DataFrame
    tests: pd.DataFrame
    labels: tuple[str, ...]
    lag_labels: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (lag class, from, to): ``count`` and ``probability``."""
        rows = []
        for lag in self.lag_labels:
            c, p = self.counts[lag], self.probabilities[lag]
            for a in self.labels:
                for b in self.labels:
                    rows.append(
                        {"lag_class": lag, "from": a, "to": b, "count": c.at[a, b],
                         "probability": p.at[a, b]}
                    )  # fmt: skip
        return pd.DataFrame(rows)

    def table(self, digits: int = 3) -> pd.DataFrame:
        """Return the stacked conditional matrices."""
        parts = []
        for lag in self.lag_labels:
            part = _matrix_table(self.counts[lag], self.probabilities[lag], digits)
            part.insert(0, "lag_class", lag)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> str:
        """Return the conditional matrices and the homogeneity tests as text."""
        return (
            "Spatial Markov chain (Rey 2001), conditional on the neighbours' class\n"
            + self.table(4).to_string(index=False)
            + "\n"
            + self.tests.to_string(index=False)
        )

    def _repr_html_(self) -> str:
        return "<p>Spatial Markov chain</p>" + self.table(4).to_html(index=False)


def spatial_markov(
    panel: Panel,
    var: str,
    w: Any,
    *,
    classes: int = 4,
    lag_classes: int | None = None,
    breaks: Literal["quantile"] | Sequence[float] = "quantile",
    lag_breaks: Literal["quantile"] | Sequence[float] | None = None,
    pooled_quantiles: bool = True,
    relative: bool = False,
    permutations: int = 0,
    seed: int | None = None,
) -> SpatialMarkovResult:
    r"""Spatial Markov chain: transitions conditional on the neighbours' class (Rey 2001).

    Computed by ``giddy.markov.Spatial_Markov``.

    Parameters
    ----------
    panel : Panel
        Balanced panel without missing ``var``.
    var : str
        Numeric variable.
    w : libpysal.weights.W or numpy.ndarray
        Spatial weights; a W whose ids are the panel's units, or a square array aligned to
        ``panel.units`` (sorted). A row-standardised copy is used (the spatial lag is the
        neighbours' average); the caller's object is not modified.
    classes, lag_classes : int
        Number of quantile classes of the variable and of its spatial lag (default: same).
    breaks, lag_breaks : "quantile" or sequence of float
        Quantile classes, or interior cut-offs :math:`c_1 < \dots < c_{k-1}` in giddy's
        convention (:math:`x \le c_j` is class :math:`j`, the top class is open).
    pooled_quantiles : bool, default True
        Pooled quantiles (giddy ``fixed=True``) or per year.
    relative : bool, default False
        Divide by each year's cross-sectional mean first.
    permutations : int, default 0
        Random permutations for the pseudo p-value of the chi-square sum (giddy).
    seed : int, optional
        Seed of the permutations (giddy uses numpy's global generator; it is seeded and
        restored).

    Returns
    -------
    SpatialMarkovResult

    Notes
    -----
    For lag class :math:`l`, :math:`\hat p_{ij|l} = n_{ij|l} / \sum_j n_{ij|l}` where
    :math:`n_{ij|l}` counts units in class :math:`i` whose neighbours were in lag class
    :math:`l` in year :math:`t` and that moved to class :math:`j` in :math:`t+1`.
    Homogeneity (:math:`p_{ij|l} = p_{ij}` for all :math:`l`) is tested with the
    likelihood-ratio and Q statistics of Bickenbach & Bode (2003).
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    gm = _giddy_markov()
    y = _balanced_matrix(panel, var, relative)
    weights = _weights(panel, w)
    k = int(classes)
    m = int(lag_classes if lag_classes is not None else classes)
    cutoffs = None if isinstance(breaks, str) else list(breaks)
    lag_cut = None
    if lag_breaks is not None and not isinstance(lag_breaks, str):
        lag_cut = list(lag_breaks)
    options = {"permutations": int(permutations), "fixed": bool(pooled_quantiles)}
    with _seeded(seed):
        sm = gm.Spatial_Markov(
            y, weights, k=k, m=m, cutoffs=cutoffs, lag_cutoffs=lag_cut, variable_name=var, **options
        )
    k, m = int(sm.k), int(sm.m)
    labels = [f"C{j + 1}" for j in range(k)]
    lag_labels = [f"L{j + 1}" for j in range(m)]
    chains = [_chain(np.asarray(sm.T[i], dtype=float)) for i in range(m)]
    counts = {lag: _square(sm.T[i].astype(int), labels) for i, lag in enumerate(lag_labels)}
    probs = {lag: _square(chains[i].probs, labels) for i, lag in enumerate(lag_labels)}
    steady = pd.DataFrame(
        [c.steady for c in chains],
        index=pd.Index(lag_labels, name="lag_class"),
        columns=pd.Index(labels, name="class"),
    )
    tests = pd.DataFrame(
        [
            {"test": "LR", "statistic": float(sm.LR), "pvalue": float(sm.LR_p_value),
             "df": float(sm.dof_hom)},
            {"test": "Q", "statistic": float(sm.Q), "pvalue": float(sm.Q_p_value),
             "df": float(sm.dof_hom)},
            {"test": "x2", "statistic": float(sm.x2), "pvalue": float(sm.x2_pvalue),
             "df": float(sm.x2_dof)},
        ]
    )  # fmt: skip
    if permutations:
        tests["perm_pvalue"] = [math.nan, math.nan, float(sm.x2_rpvalue)]
    return SpatialMarkovResult(
        counts=counts,
        probabilities=probs,
        overall=_square(np.asarray(sm.p, dtype=float), labels),
        steady_states=steady,
        tests=tests,
        labels=tuple(labels),
        lag_labels=tuple(lag_labels),
        meta={
            "cutoffs": None if sm.cutoffs is None else np.asarray(sm.cutoffs).tolist(),
            "lag_cutoffs": None if sm.lag_cutoffs is None else np.asarray(sm.lag_cutoffs).tolist(),
            "permutations": int(permutations),
            "seed": seed,
            "relative": relative,
            "units": list(panel.units),
            "times": panel.times.tolist(),
        },
    )


@dataclass(frozen=True)
class LisaMarkovResult:
    """Markov chain of LISA quadrants (see :func:`lisa_markov`).

    Attributes
    ----------
    counts, probabilities : pandas.DataFrame
        4 × 4 transitions between quadrants HH, LH, LL, HL.
    steady_state : pandas.Series
        Ergodic distribution over the quadrants (NaN when not unique).
    recurrent_states : pandas.DataFrame
        One stationary distribution per recurrent class (see :class:`MarkovResult`).
    quadrants : pandas.DataFrame
        Unit key, time key, ``quadrant`` label of each observation.
    independence : dict
        Chi-square test that a unit's own move and its neighbours' move are independent
        (``statistic``, ``pvalue``, ``df``; giddy ``chi_2``).
    meta : dict
        ``permutations``, ``significance_level``, ``seed``.
    """

    counts: pd.DataFrame
    probabilities: pd.DataFrame
    steady_state: pd.Series
    recurrent_states: pd.DataFrame
    quadrants: pd.DataFrame = field(repr=False)
    independence: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (from, to) quadrant pair with ``count`` and ``probability``."""
        return _tidy_matrix(self.counts, self.probabilities)

    def table(self, digits: int = 3) -> pd.DataFrame:
        """Return the report table (rows = quadrant in t, ``n``, probabilities)."""
        return _matrix_table(self.counts, self.probabilities, digits)

    def summary(self) -> str:
        """Return the matrix and the independence test as text."""
        ind = self.independence
        return (
            "LISA Markov chain (quadrants HH, LH, LL, HL)\n"
            + self.table(4).to_string(index=False)
            + f"\nIndependence of own and neighbours' moves: chi2 = {ind.get('statistic'):.3f}, "
            f"df = {ind.get('df')}, p = {ind.get('pvalue'):.4f}"
        )

    def _repr_html_(self) -> str:
        return "<p>LISA Markov chain</p>" + self.table(4).to_html(index=False)


def lisa_markov(
    panel: Panel,
    var: str,
    w: Any,
    *,
    permutations: int = 0,
    significance_level: float = 0.05,
    relative: bool = False,
    seed: int | None = None,
) -> LisaMarkovResult:
    r"""Markov chain of Moran scatter-plot (LISA) quadrants (Rey 2001), via giddy.

    Parameters
    ----------
    panel : Panel
        Balanced panel without missing ``var``.
    var : str
        Numeric variable.
    w : libpysal.weights.W or numpy.ndarray
        Spatial weights aligned to the units (see :func:`spatial_markov`); row-standardised.
    permutations : int, default 0
        Permutations of the local Moran statistics (for significant moves).
    significance_level : float, default 0.05
        Level for the significant-move classification.
    relative : bool, default False
        Divide by each year's mean first.
    seed : int, optional
        Seed for the permutations.

    Returns
    -------
    LisaMarkovResult

    Notes
    -----
    In each year a unit is in quadrant HH (1: high value, high neighbours), LH (2), LL (3)
    or HL (4) of the Moran scatter plot of :math:`z_{it}` against :math:`\sum_j w_{ij}
    z_{jt}`; transitions between consecutive years are counted as in :func:`markov`.
    """
    panel = _check_panel(panel)
    _require_vars(panel, [var])
    gm = _giddy_markov()
    y = _balanced_matrix(panel, var, relative)
    weights = _weights(panel, w)
    with _seeded(seed):
        lm = gm.LISA_Markov(
            y, weights, permutations=int(permutations), significance_level=significance_level
        )
    labels = list(LISA_QUADRANTS)
    counts = np.asarray(lm.transitions, dtype=float)
    chain = _chain(counts)
    wide = panel.to_wide(var)
    q = np.asarray(lm.q)
    quad_frame = pd.DataFrame(
        {
            panel.unit: np.repeat(wide.index.to_numpy(), q.shape[1]),
            panel.time: np.tile(wide.columns.to_numpy(), q.shape[0]),
            "quadrant": [labels[int(c) - 1] for c in q.ravel()],
        }
    )
    chi = lm.chi_2
    return LisaMarkovResult(
        counts=_square(counts.astype(int), labels),
        probabilities=_square(chain.probs, labels),
        steady_state=pd.Series(chain.steady, index=pd.Index(labels, name="quadrant")),
        recurrent_states=_recurrent_frame(chain.recurrent, labels),
        quadrants=quad_frame,
        independence={"statistic": float(chi[0]), "pvalue": float(chi[1]), "df": float(chi[2])},
        meta={
            "permutations": int(permutations),
            "significance_level": significance_level,
            "seed": seed,
            "relative": relative,
            "notes": chain.notes,
        },
    )
