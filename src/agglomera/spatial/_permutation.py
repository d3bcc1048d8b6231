r"""Conditional randomisation of local spatial statistics (Anselin 1995), in numpy.

The local Moran :math:`I_i` and the Getis–Ord :math:`G_i`/:math:`G_i^*` of unit *i*
depend on the other units only through the spatial lag of its neighbours,

.. math:: L_i = \sum_{j \ne i} w_{ij} x_j ,

and are monotone in :math:`L_i` once :math:`x_i` is held fixed (:math:`I_i` increases
with :math:`L_i` when :math:`z_i > 0` and decreases when :math:`z_i < 0`; :math:`G_i`
and :math:`G_i^*` increase, their denominators being fixed). Conditional randomisation
keeps :math:`x_i` (and a self-weight :math:`w_{ii}`) in place and assigns to the
:math:`k_i` neighbours of *i*, in the order of the weights, :math:`k_i` values drawn
without replacement from the other :math:`n-1` units. Every ordered :math:`k_i`-tuple of
distinct other units is equally likely; each unit has its own independent draws.

Under this null the lag has mean and variance (sampling without replacement from the
pool :math:`x_{-i}` with mean :math:`\mu_{-i}` and variance :math:`\sigma^2_{-i}`, ddof
0, :math:`N = n - 1`, :math:`W_i = \sum_j w_{ij}`, :math:`S_{1i} = \sum_j w_{ij}^2`)

.. math:: E[L_i] = W_i\,\mu_{-i},\qquad
          \operatorname{Var}[L_i] = \sigma^2_{-i}\,\frac{N S_{1i} - W_i^2}{N - 1},

which for Moran's :math:`I_i` are Sokal, Oden & Thomson's (1998) eqs. A7–A8.

The pseudo p-value is the folded one-sided value of esda (``Moran_Local``/``G_Local``,
alternative ``"directed"``) and GeoDa, with ties counted on both sides: with
:math:`M_{\ge}` and :math:`M_{\le}` of the *R* simulated statistics at least as large and
at most as large as the observed one, :math:`p = (\min(M_{\ge}, M_{\le}) + 1)/(R + 1)`.
Without ties :math:`M_{\le} = R - M_{\ge}` and this is esda's value exactly. With ties —
frequent when there are few units, e.g. when the observed neighbourhood is the most
extreme one possible — esda's :math:`\min(M_{\ge}, R - M_{\ge})` counts the ties in one
direction only and can report :math:`1/(R+1)` for a neighbourhood that one permutation in
35 reproduces; counting them on both sides keeps the test conservative. A simulated lag
counts as tied with the observed one when they differ by less than :math:`10^{-10}` of the
largest possible lag, :math:`\sum_j |w_{ij}| \max_j |x_j|` (a permutation that reproduces
the observed neighbourhood is a tie in exact arithmetic; the summation order only adds
rounding). A unit whose conditional distribution is degenerate — every simulated value
ties with the observed one: no neighbours, :math:`z_i = 0` for :math:`I_i`, or a pool of
identical values — gets :math:`p = 1` by the same rule.

Draws come from ``numpy.random.default_rng(seed)`` (PCG64); the global numpy random state
is not touched. Units are processed in order of increasing number of neighbours, in
chunks of at most about two million draws, so memory stays bounded (n = 3000 units with
999 permutations use well under 500 MB).

References
----------
Anselin, L. (1995). Local indicators of spatial association -- LISA. *Geographical
Analysis* 27, 93–115.
Sokal, R. R., Oden, N. L. and Thomson, B. A. (1998). Local spatial autocorrelation in a
biological model. *Geographical Analysis* 30, 331–354.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conditional_lags", "conditional_pvalues", "folded_pvalues", "sample_positions"]

#: Largest number of drawn indices held at once (per chunk of units).
MAX_DRAWS = 2_000_000
#: Relative tolerance for ties between a simulated and the observed lag.
TIE_RTOL = 1e-10


def sample_positions(rng: np.random.Generator, rows: int, k: int, pool: int) -> np.ndarray:
    """``rows`` independent ordered samples of ``k`` distinct integers from ``range(pool)``.

    Each row is uniform over the ``pool! / (pool - k)!`` ordered tuples. Small ``k``
    (``k * k <= 4 * pool``) draws with replacement and redraws every entry that repeats
    an earlier entry of its row until none does; the procedure only compares values for
    equality, so its result is invariant under relabelling the pool and hence uniform.
    Larger ``k`` shuffles ``range(pool)`` row by row (Fisher–Yates) and keeps the first
    ``k`` entries.
    """
    if not 0 <= k <= pool:
        raise ValueError(f"k must be in [0, pool]; got k={k}, pool={pool}.")
    if k == 0 or rows == 0:
        return np.zeros((rows, k), dtype=np.int64)
    if k * k > 4 * pool:
        out = np.broadcast_to(np.arange(pool, dtype=np.int64), (rows, pool)).copy()
        rng.permuted(out, axis=1, out=out)
        return np.ascontiguousarray(out[:, :k])
    idx = rng.integers(0, pool, size=(rows, k), dtype=np.int64)
    todo = np.arange(rows)
    while todo.size and k > 1:
        sub = idx[todo]
        order = np.argsort(sub, axis=1, kind="stable")
        ranked = np.take_along_axis(sub, order, axis=1)
        repeat = np.zeros(sub.shape, dtype=bool)
        # a stable sort keeps equal values in row order: all but the first are repeats
        np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
        has = repeat.any(axis=1)
        todo, repeat, sub = todo[has], repeat[has], sub[has]
        if not todo.size:
            break
        sub[repeat] = rng.integers(0, pool, size=int(repeat.sum()), dtype=np.int64)
        idx[todo] = sub
    return idx


def _neighbours(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Off-diagonal weights of each row, padded with zeros to the largest row, and counts."""
    mask = weights != 0
    np.fill_diagonal(mask, False)
    k = mask.sum(axis=1)
    vals = np.zeros((len(weights), int(k.max()) if k.size else 0))
    for i in np.flatnonzero(k):
        vals[i, : k[i]] = weights[i, mask[i]]
    return vals, k


def _chunk(width: int, pool: int, permutations: int) -> int:
    """Units per chunk when the widest has ``width`` neighbours."""
    held = width if width * width <= 4 * pool else pool
    return max(1, MAX_DRAWS // (permutations * held))


def conditional_lags(
    values: np.ndarray, weights: np.ndarray, permutations: int, rng: np.random.Generator
) -> np.ndarray:
    r"""Simulate the neighbour lags :math:`\sum_{j \ne i} w_{ij} x_{\pi(j)}` of every unit.

    Parameters
    ----------
    values : numpy.ndarray
        ``(n,)`` values :math:`x` (standardised or not: the lag is affine in them).
    weights : numpy.ndarray
        ``(n, n)`` weights; the diagonal (a self-weight, held fixed) is ignored.
    permutations : int
        Number *R* of conditional permutations.
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    numpy.ndarray
        ``(n, R)`` simulated lags (zeros for a unit without neighbours).
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    vals, k = _neighbours(np.asarray(weights, dtype=float))
    out = np.zeros((n, permutations))
    if permutations == 0 or n < 2:
        return out
    pool = n - 1
    order = np.argsort(k, kind="stable")
    order = order[k[order] > 0]
    start = 0
    while start < len(order):
        stop = min(len(order), start + _chunk(int(k[order[start]]), pool, permutations))
        stop = min(stop, start + _chunk(int(k[order[stop - 1]]), pool, permutations))
        units = order[start:stop]
        width = int(k[units].max())
        draws = sample_positions(rng, len(units) * permutations, width, pool)
        draws = draws.reshape(len(units), permutations, width)
        # position p among the other units is unit p, or p + 1 once past unit i
        draws += draws >= units[:, None, None]
        out[units] = np.matmul(x[draws], vals[units, :width, None])[:, :, 0]
        start = stop
    return out


def folded_pvalues(
    observed: np.ndarray,
    simulated: np.ndarray,
    direction: np.ndarray,
    tolerance: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Pseudo p-value of each row of ``simulated``: folded, ties counted on both sides.

    Parameters
    ----------
    observed : numpy.ndarray
        ``(n,)`` observed lags.
    simulated : numpy.ndarray
        ``(n, R)`` simulated lags.
    direction : numpy.ndarray
        ``(n,)`` sign with which the statistic moves with the lag (+1, -1; 0 for a
        statistic that does not depend on it).
    tolerance : numpy.ndarray or float
        Absolute tolerance per unit for a tie.

    Returns
    -------
    numpy.ndarray
        ``(min(M_ge, M_le) + 1) / (R + 1)`` with *M_ge* (*M_le*) the simulated statistics
        at least (at most) as large as the observed one; 1 where every simulated value
        ties with it.
    """
    r = simulated.shape[1]
    tol = np.broadcast_to(np.asarray(tolerance, dtype=float), observed.shape)[:, None]
    diff = simulated - observed[:, None]
    tie = np.abs(diff) <= tol
    signed = diff * np.sign(direction)[:, None]
    larger = ((signed > 0) | tie).sum(axis=1)
    smaller = ((signed < 0) | tie).sum(axis=1)
    p = (np.minimum(larger, smaller) + 1.0) / (r + 1.0)
    return np.where(np.sign(direction) == 0, 1.0, np.minimum(p, 1.0))


def conditional_pvalues(
    values: np.ndarray,
    weights: np.ndarray,
    direction: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Conditional-permutation pseudo p-values of a local statistic monotone in the lag.

    Parameters
    ----------
    values, weights, permutations, rng
        As in :func:`conditional_lags`.
    direction : numpy.ndarray
        ``(n,)`` +1 where the statistic increases with the lag of unit *i*, -1 where it
        decreases, 0 where it does not depend on it.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` p-values (see :func:`folded_pvalues`).
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    self_weight = np.diag(w)
    observed = w @ x - self_weight * x
    simulated = conditional_lags(x, w, permutations, rng)
    tolerance = TIE_RTOL * (np.abs(w).sum(axis=1) - np.abs(self_weight)) * np.abs(x).max()
    return folded_pvalues(observed, simulated, np.asarray(direction, dtype=float), tolerance)
