r"""Multiplier bootstrap of the Callaway–Sant'Anna influence functions (R ``did``).

Draws Mammen (default, as R ``did``) or Rademacher weights per cluster, in chunks, and
multiplies them into the influence functions; returns IQR-based standard errors and
uniform (sup-t) critical values per block of statistics, and keeps the draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from agglomera.policy._cs_core import SE_FLOOR, cluster_sums

__all__ = ["MAMMEN_HIGH", "MAMMEN_LOW", "MAMMEN_P", "BootstrapResult", "multiplier_bootstrap"]


@dataclass(frozen=True)
class BootstrapResult:
    r"""Multiplier-bootstrap standard errors and uniform critical values.

    Attributes
    ----------
    se : numpy.ndarray, shape (K,)
        :math:`\text{IQR}(\hat\theta^*_k - \hat\theta_k) / (z_{0.75} - z_{0.25})`.
    crit : dict
        Uniform (sup-t) critical value per block name.
    draws : int
        Number of draws.
    values : numpy.ndarray, shape (draws, K)
        The bootstrap draws :math:`\hat\theta^*_k - \hat\theta_k` (e.g. for a sup-t test).
    """

    se: np.ndarray
    crit: dict[str, float]
    draws: int
    values: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)


_S5 = math.sqrt(5.0)
#: Mammen's two-point weights: ``MAMMEN_LOW`` with probability ``MAMMEN_P``, else high.
MAMMEN_LOW, MAMMEN_HIGH = -(_S5 - 1.0) / 2.0, (_S5 + 1.0) / 2.0
MAMMEN_P = (_S5 + 1.0) / (2.0 * _S5)


def _mammen(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    u = rng.random(shape)
    return np.where(u < MAMMEN_P, MAMMEN_LOW, MAMMEN_HIGH)


def multiplier_bootstrap(
    inf: np.ndarray | Sequence[np.ndarray],
    *,
    draws: int,
    seed: int | None,
    clusters: np.ndarray | None = None,
    blocks: dict[str, np.ndarray] | None = None,
    alpha: float = 0.05,
    weights: Literal["mammen", "rademacher"] = "mammen",
    chunk_elements: int = 20_000_000,
    combine: np.ndarray | None = None,
) -> BootstrapResult:
    r"""Multiplier bootstrap of linear statistics with influence functions ``inf``.

    Each draw is :math:`\hat\theta^*_k - \hat\theta_k = n^{-1}\sum_c V_c S_{ck}` with
    :math:`S_{ck} = \sum_{i\in c}\psi_{ik}` and i.i.d. weights :math:`V_c` (Mammen's
    two-point weights, R ``did``'s choice, or Rademacher), the same draws for every column.
    Standard errors are the IQR-based scale of R ``did::mboot`` (quantile type 1); the
    uniform critical value of a block of columns is the :math:`1 - \alpha` quantile of
    :math:`\max_k |\hat\theta^*_k - \hat\theta_k| / \widehat{se}_k` (columns with NaN or
    zero SE left out).

    The weights are drawn in chunks of draws (the same random stream whatever the chunk
    size) and enter as a 0/1 matrix :math:`M`: with two-point weights
    :math:`V = a + (b - a) M`, so :math:`V^\top S = a\,1^\top S + (b - a) M^\top S`,
    one matrix product per chunk.

    Parameters
    ----------
    inf : numpy.ndarray, shape (n, K), or sequence of such arrays
        Influence functions (a sequence: blocks of columns, side by side).
    draws : int
        Number of draws :math:`B`.
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; same seed, same numbers.
    clusters : numpy.ndarray of int, optional
        Cluster codes per unit (weights drawn per cluster).
    blocks : dict of str to numpy.ndarray, optional
        Column indices (of the output columns) whose uniform critical value is wanted.
    alpha : float
        Level of the uniform bands.
    weights : {"mammen", "rademacher"}
        Multiplier distribution.
    chunk_elements : int
        Draws are made in chunks of about this many weights (memory bound).
    combine : numpy.ndarray, shape (K, J), optional
        The statistics are linear combinations of the columns: influence functions
        ``inf @ combine`` (the draws are combined, ``inf @ combine`` is never formed).

    Returns
    -------
    BootstrapResult
    """
    parts = [inf] if isinstance(inf, np.ndarray) else list(inf)
    psis = []
    for part in parts:
        psi = np.asarray(part, dtype=float)
        psis.append(psi[:, None] if psi.ndim == 1 else psi)
    n = psis[0].shape[0]
    # (n_c × K) sums per cluster (or unit)
    st = [cluster_sums(p, clusters) if clusters is not None else p for p in psis]
    n_c = st[0].shape[0]
    colsum = np.concatenate([x.sum(axis=0) for x in st])
    n_out = combine.shape[1] if combine is not None else colsum.size
    rng = np.random.default_rng(seed)
    out = np.empty((draws, n_out))
    step = max(1, chunk_elements // max(n_c, 1))
    buffer = np.empty((min(step, draws), n_c)) if weights == "mammen" else None
    for start in range(0, draws, step):
        stop = min(draws, start + step)
        if buffer is not None:
            m = buffer[: stop - start]
            rng.random(out=m)
            np.greater_equal(m, MAMMEN_P, out=m)  # 1[u >= p]: the high weight
            lo, span = MAMMEN_LOW, MAMMEN_HIGH - MAMMEN_LOW
        else:
            m = rng.integers(0, 2, size=(stop - start, n_c)).astype(float)
            lo, span = -1.0, 2.0
        # (draws × n_c) @ (n_c × K): this orientation keeps OpenBLAS's threads busy
        # (the transposed product with a short output is erratic on shared cores)
        ms = np.concatenate([m @ x for x in st], axis=1)
        ms *= span
        ms += lo * colsum
        if combine is not None:
            ms = ms @ combine
        out[start:stop] = ms / n
    q75 = np.quantile(out, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(out, 0.25, axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se <= SE_FLOOR, np.nan, se)
    crit: dict[str, float] = {}
    for name, cols in (blocks or {}).items():
        cols = np.asarray(cols, dtype=np.int64)
        cols = cols[np.isfinite(se[cols])]
        if cols.size == 0:
            crit[name] = math.nan
            continue
        sup = np.max(np.abs(out[:, cols] / se[cols]), axis=1)
        crit[name] = float(np.quantile(sup, 1.0 - alpha, method="inverted_cdf"))
    return BootstrapResult(se=se, crit=crit, draws=draws, values=out)
