r"""Numerical core of the fixed-effect panel threshold model (Hansen 1999).

Everything here works on the within-transformed data of a balanced panel with the
observations sorted by the threshold variable, so that the sum of squared residuals
:math:`S(\gamma)` of every candidate threshold comes from cumulative sums instead of one
regression per grid point.

For a demeaned vector :math:`v` (zero mean within every unit) and the within-transformed
regime regressor :math:`Z(\gamma) = \operatorname{within}(x_r\,1\{q \le \gamma\})`,

.. math:: Z(\gamma)'v = \sum_{it} x_{r,it}\,1\{q_{it} \le \gamma\}\,v_{it},\qquad
          Z(\gamma)'Z(\gamma) = \sum_{it} x_{r,it}x_{r,it}'1\{q_{it} \le \gamma\}
          - \sum_i s_i(\gamma)s_i(\gamma)'/T,

with :math:`s_i(\gamma) = \sum_t x_{r,it}1\{q_{it} \le \gamma\}`; both are running sums
over the observations in the order of :math:`q`. With the fixed part :math:`A` (the other
regressors, :math:`x_r` itself and the regime regressors of thresholds already found)
and :math:`r = M_A y`, Frisch–Waugh–Lovell gives

.. math:: S(\gamma) = r'r - c(\gamma)'D(\gamma)^{-1}c(\gamma),\quad
          c = Z'r,\quad D = Z'Z - Z'A(A'A)^{-1}A'Z.

Many bootstrap samples are handled at once (columns of ``y``); only ``c`` depends on
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Design", "SequenceFit", "fit_sequence", "regressors", "search", "ssr_fixed"]


@dataclass(frozen=True)
class Design:
    """Within-transformed balanced panel sorted by the threshold variable.

    Arrays are in the original (unit-major) row order unless named ``*_s`` (sorted).
    """

    n_units: int
    n_periods: int
    unit: np.ndarray  # (N,) unit index 0..n-1
    q: np.ndarray  # (N,) threshold variable
    xr: np.ndarray  # (N, kr) regime regressors, raw
    base: np.ndarray  # (N, kx + kr) within-transformed x and x_r
    order: np.ndarray  # (N,) argsort of q (stable)
    ends: np.ndarray  # (G,) sorted positions closing a run of tied q values
    counts: np.ndarray  # (G,) observations with q <= candidate
    values: np.ndarray  # (G,) candidate thresholds (distinct values of q)
    zz: np.ndarray  # (G, kr, kr) Z(gamma)'Z(gamma) at each candidate
    candidates: np.ndarray  # (C,) indexes into ends allowed by the grid option

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.q.shape[0])


def within(values: np.ndarray, n_units: int, n_periods: int) -> np.ndarray:
    """Subtract unit means from unit-major stacked rows (balanced panel)."""
    shaped = values.reshape(n_units, n_periods, -1)
    return (shaped - shaped.mean(axis=1, keepdims=True)).reshape(values.shape)


def make_design(
    x: np.ndarray, xr: np.ndarray, q: np.ndarray, n_units: int, n_periods: int, grid: int | None
) -> Design:
    """Sort by ``q``, find the distinct candidates and precompute :math:`Z'Z` on them."""
    n_obs = q.shape[0]
    unit = np.repeat(np.arange(n_units), n_periods)
    base = within(np.column_stack([x, xr]), n_units, n_periods)
    order = np.argsort(q, kind="mergesort")
    qs = q[order]
    ends = np.flatnonzero(np.r_[qs[1:] != qs[:-1], True])
    counts = ends + 1
    values = qs[ends]
    # Z'Z: running sum of x x' minus the change in sum_i s_i s_i' / T
    xs = xr[order]
    us = unit[order]
    by_unit = np.argsort(us, kind="mergesort")
    cum = np.cumsum(xs[by_unit], axis=0)
    first = np.r_[True, us[by_unit][1:] != us[by_unit][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(n_obs), 0))
    # running sum within the unit, excluding the observation itself
    prefix_by_unit = (cum - xs[by_unit]) - (cum[start] - xs[by_unit][start])
    s_prev = np.empty_like(xs)
    s_prev[by_unit] = prefix_by_unit
    outer = xs[:, :, None] * xs[:, None, :]
    cross = s_prev[:, :, None] * xs[:, None, :]
    delta = (cross + np.swapaxes(cross, 1, 2) + outer) / n_periods
    zz = np.cumsum(outer - delta, axis=0)[ends]
    if grid is None:
        candidates = np.arange(len(ends))
    else:
        pos = np.floor(np.arange(1, grid + 1) * n_obs / (grid + 1)).astype(int)
        candidates = np.unique(np.searchsorted(ends, np.minimum(pos, n_obs - 1)))
    return Design(
        n_units=n_units,
        n_periods=n_periods,
        unit=unit,
        q=q,
        xr=xr,
        base=base,
        order=order,
        ends=ends,
        counts=counts,
        values=values,
        zz=zz,
        candidates=candidates,
    )


def regime_column(design: Design, gamma: float) -> np.ndarray:
    r"""Within-transformed :math:`x_r 1\{q \le \gamma\}` (N, kr)."""
    raw = design.xr * (design.q <= gamma)[:, None]
    return within(raw, design.n_units, design.n_periods)


def regressors(design: Design, fixed: Sequence[float]) -> np.ndarray:
    """Return the fixed part :math:`A` = [within x, within x_r, regime columns of ``fixed``]."""
    cols = [design.base] + [regime_column(design, g) for g in fixed]
    return np.column_stack(cols)


def _allowed(design: Design, fixed: Sequence[float], min_count: int) -> np.ndarray:
    """Candidates (indexes into ``design.ends``) leaving every regime >= ``min_count`` obs."""
    n_obs = design.n_obs
    fixed_counts = np.sort(
        [int(np.searchsorted(design.q[design.order], g, side="right")) for g in fixed]
    )
    cand = design.candidates
    c = design.counts[cand]
    bounds = np.r_[0, fixed_counts, n_obs]
    idx = np.searchsorted(bounds, c, side="left")  # bounds[idx-1] < c <= bounds[idx]
    lower = bounds[np.maximum(idx - 1, 0)]
    upper = bounds[np.minimum(idx, len(bounds) - 1)]
    ok = (c - lower >= min_count) & (upper - c >= min_count)
    ok &= ~np.isin(c, fixed_counts)
    return cand[ok]


def search(
    design: Design,
    y: np.ndarray,
    fixed: Sequence[float],
    min_count: int,
    *,
    path: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    r"""Grid search for one more threshold given ``fixed`` ones, for every column of ``y``.

    Parameters
    ----------
    design : Design
    y : ndarray (N, B)
        Within-transformed dependent variable(s), original row order.
    fixed : sequence of float
        Thresholds already in the model.
    min_count : int
        Minimum number of observations per regime.
    path : bool
        Also return :math:`S(\gamma)` at every allowed candidate (N_c, B).

    Returns
    -------
    gamma : ndarray (B,)
    ssr : ndarray (B,)
    ssr_path : ndarray (N_c, B) or None
    allowed : ndarray of candidate indexes (into ``design.values``)
    """
    allowed = _allowed(design, fixed, min_count)
    if allowed.size == 0:
        raise ValueError("no admissible threshold candidate")
    a = regressors(design, fixed)
    ata_inv = np.linalg.inv(a.T @ a)
    r = y - a @ (ata_inv @ (a.T @ y))
    rr = np.einsum("nb,nb->b", r, r)
    xs = design.xr[design.order]
    sel = design.ends[allowed]
    za = np.cumsum(xs[:, :, None] * a[design.order][:, None, :], axis=0)[sel]  # (C, kr, kA)
    d = design.zz[allowed] - za @ ata_inv @ np.swapaxes(za, 1, 2)
    c = np.cumsum(xs[:, :, None] * r[design.order][:, None, :], axis=0)[sel]  # (C, kr, B)
    if d.shape[1] == 1:
        gain = c[:, 0, :] ** 2 / d[:, 0, 0][:, None]
    else:
        sol = np.linalg.solve(d, c)
        gain = np.einsum("ckb,ckb->cb", c, sol)
    ssr = rr[None, :] - gain
    best = np.argmin(ssr, axis=0)
    cols = np.arange(y.shape[1])
    return (
        design.values[allowed][best],
        ssr[best, cols],
        ssr if path else None,
        allowed,
    )


def ssr_fixed(design: Design, y: np.ndarray, fixed: Sequence[float]) -> np.ndarray:
    """SSR of the model with the thresholds ``fixed`` (columns of ``y``)."""
    a = regressors(design, fixed)
    beta = np.linalg.lstsq(a, y, rcond=None)[0]
    e = y - a @ beta
    return np.einsum("nb,nb->b", e, e)


@dataclass(frozen=True)
class SequenceFit:
    """Sequential estimates for every column of ``y``.

    ``ssr[k]`` is the SSR of the model with ``k`` thresholds that enters the F test of
    ``k`` against ``k + 1``; ``gammas[k]`` are the ``k`` reported thresholds (stage order).
    """

    ssr: list[np.ndarray]  # k = 0..n, each (B,)
    ssr_test: list[np.ndarray]  # k = 1..n: SSR of the k-threshold model used in F_k
    gammas: list[np.ndarray]  # k = 1..n: (B, k)


def _grouped_search(
    design: Design, y: np.ndarray, fixed: np.ndarray, min_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Search one more threshold, where the fixed thresholds differ by column."""
    n_b = y.shape[1]
    gamma = np.empty(n_b)
    ssr = np.empty(n_b)
    if fixed.shape[1] == 0:
        g, s, _, _ = search(design, y, (), min_count)
        return g, s
    keys, inverse = np.unique(fixed, axis=0, return_inverse=True)
    for k, key in enumerate(keys):
        cols = np.flatnonzero(inverse.ravel() == k)
        g, s, _, _ = search(design, y[:, cols], tuple(key), min_count)
        gamma[cols] = g
        ssr[cols] = s
    return gamma, ssr


def fit_sequence(design: Design, y: np.ndarray, n: int, min_counts: Sequence[int]) -> SequenceFit:
    r"""Hansen's sequential estimator up to ``n`` thresholds, vectorised over columns.

    Stage 1 minimises :math:`S_1(\gamma)`; stage 2 minimises :math:`S_2^r(\gamma_2)
    = S(\hat\gamma_1, \gamma_2)` and refines :math:`\hat\gamma_1^r = \arg\min
    S(\gamma_1, \hat\gamma_2^r)`; stage 3 searches given both refined thresholds. The
    F statistic for ``k`` against ``k + 1`` compares the ``k``-threshold SSR (at the
    refined estimates) with the stage ``k + 1`` minimum.
    """
    n_b = y.shape[1]
    s0 = ssr_fixed(design, y, ())
    ssr = [s0]
    ssr_test: list[np.ndarray] = []
    gammas: list[np.ndarray] = []
    g1, s1 = _grouped_search(design, y, np.empty((n_b, 0)), min_counts[0])
    ssr_test.append(s1)
    gammas.append(g1[:, None])
    ssr.append(s1)
    if n >= 2:
        g2, s2 = _grouped_search(design, y, g1[:, None], min_counts[1])
        ssr_test.append(s2)
        g1r, s2r = _grouped_search(design, y, g2[:, None], min_counts[0])
        gammas.append(np.column_stack([g1r, g2]))
        ssr.append(s2r)
    if n >= 3:
        g3, s3 = _grouped_search(design, y, gammas[1], min_counts[2])
        ssr_test.append(s3)
        gammas.append(np.column_stack([gammas[1], g3]))
        ssr.append(s3)
    return SequenceFit(ssr=ssr, ssr_test=ssr_test, gammas=gammas)
