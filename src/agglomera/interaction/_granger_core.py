r"""Numerical core of the Dumitrescu–Hurlin test: batched unit regressions and the bootstrap.

Every function works on arrays whose last axis is time and whose leading axes are units
(and, in the bootstrap, replications), so that all unit-by-unit regressions of a panel are
solved in one batched QR decomposition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agglomera.errors import EstimationError, format_examples

__all__: list[str] = []

#: Largest number of float64 cells a batched design may hold at once in the bootstrap.
_CHUNK_CELLS = 4_000_000


def lag_stack(z: np.ndarray, k: int, start: int) -> np.ndarray:
    """Lags 1..k of ``z`` (..., T) for the periods ``start..T-1``: shape (..., T-start, k)."""
    t_len = z.shape[-1]
    return np.stack([z[..., start - j : t_len - j] for j in range(1, k + 1)], axis=-1)


def design(y: np.ndarray, x: np.ndarray | None, k: int, start: int) -> np.ndarray:
    """Design [1, y lags 1..k, (x lags 1..k)] for the periods ``start..T-1``."""
    ylags = lag_stack(y, k, start)
    parts = [np.ones((*ylags.shape[:-1], 1)), ylags]
    if x is not None:
        xlags = lag_stack(x, k, start)
        parts.append(np.broadcast_to(xlags, (*ylags.shape[:-2], *xlags.shape[-2:])))
    return np.concatenate(parts, axis=-1)


def rss(xmat: np.ndarray, yvec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residual sums of squares of batched OLS and a per-regression full-rank flag."""
    q, r = np.linalg.qr(xmat)
    fitted = q @ np.einsum("...np,...n->...p", q, yvec)[..., None]
    resid = yvec - fitted[..., 0]
    diag = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    full_rank = diag.min(axis=-1) > 1e-10 * np.maximum(diag.max(axis=-1), 1e-300)
    return np.einsum("...n,...n->...", resid, resid), full_rank


def unit_wald(y: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit Wald statistics of H0: the k lags of x do not enter the equation of y.

    ``y`` has shape (..., N, T) and ``x`` (N, T) or the same shape as ``y``. Returns the
    Wald statistics (..., N) and the full-rank flags. The regressions use the periods
    k..T-1 (0-based), i.e. T − k observations, with 2k + 1 coefficients; the Wald
    statistic with the OLS covariance :math:`s^2 (X'X)^{-1}`,
    :math:`s^2 = RSS_u / (T - k - 2k - 1)`, equals
    :math:`(RSS_r - RSS_u) / s^2` (k times the F statistic).
    """
    t_len = y.shape[-1]
    dof = t_len - k - (2 * k + 1)
    yvec = y[..., k:]
    rss_u, ok_u = rss(design(y, x, k, k), yvec)
    rss_r, ok_r = rss(design(y, None, k, k), yvec)
    ok = ok_u & ok_r & (rss_u > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        wald = (rss_r - rss_u) / (rss_u / dof)
    return wald, ok


def check_rank(ok: np.ndarray, units: Sequence[Any], what: str) -> None:
    """Raise EstimationError naming the units whose regression is singular or exact."""
    bad = [units[int(i)] for i in np.flatnonzero(~ok)]
    if bad:
        raise EstimationError(
            f"dumitrescu_hurlin: the unit regressions of {what} are singular or fit exactly "
            f"for units {format_examples(bad)} (a constant series, collinear lags, or too "
            "many lags for the number of periods). Fix: drop those units with "
            "panel.subset(...) or use fewer lags."
        )


def information_criterion(
    y: np.ndarray, x: np.ndarray, max_lags: int, criterion: str
) -> np.ndarray:
    r"""Mean over units of AIC/BIC of the unrestricted regressions, K = 1..max_lags.

    All candidates use the same periods max_lags..T-1 (n = T − max_lags observations), so
    their criteria are comparable: per unit :math:`n \ln(RSS/n) + c\,(2K + 1)` with
    :math:`c = 2` (AIC) or :math:`\ln n` (BIC).
    """
    n = y.shape[-1] - max_lags
    penalty = 2.0 if criterion == "aic" else float(np.log(n))
    out = np.empty(max_lags)
    for k in range(1, max_lags + 1):
        r, _ = rss(design(y, x, k, max_lags), y[..., max_lags:])
        with np.errstate(divide="ignore"):
            out[k - 1] = float(np.mean(n * np.log(r / n) + penalty * (2 * k + 1)))
    return out


def null_fit(y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit OLS of y on [1, y lags 1..k]: coefficients (N, k+1) and residuals (N, T-k)."""
    xmat = design(y, None, k, k)
    yvec = y[..., k:]
    q, r = np.linalg.qr(xmat)
    qty = np.einsum("...np,...n->...p", q, yvec)
    beta = np.linalg.solve(r, qty[..., None])[..., 0]
    resid = yvec - np.einsum("...np,...p->...n", xmat, beta)
    return beta, resid


def block_indices(rng: np.random.Generator, reps: int, n: int, block_length: int) -> np.ndarray:
    """Moving-block bootstrap indices into 0..n-1: shape (reps, n)."""
    n_blocks = -(-n // block_length)
    starts = rng.integers(0, n - block_length + 1, size=(reps, n_blocks))
    idx = starts[:, :, None] + np.arange(block_length)[None, None, :]
    return idx.reshape(reps, -1)[:, :n]


def bootstrap_wbar(
    y: np.ndarray,
    x: np.ndarray,
    k: int,
    reps: int,
    block_length: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Bootstrap distribution of W̄ under H0 (Dumitrescu & Hurlin 2012, Sect. 6.2).

    Each replication draws the residual periods of the null model (blocks of
    ``block_length`` consecutive periods, the same periods for every unit) and a block of
    k consecutive observed periods as initial values, rebuilds y recursively from the
    fitted null model with x held fixed, and recomputes W̄.
    """
    n_units, t_len = y.shape
    n = t_len - k
    beta, resid = null_fit(y, k)
    const, gamma = beta[:, 0], beta[:, 1:]  # gamma[:, j-1] multiplies lag j
    chunk = max(1, _CHUNK_CELLS // max(1, n_units * n * (2 * k + 1)))
    out = np.empty(reps)
    done = 0
    while done < reps:
        b = min(chunk, reps - done)
        idx = block_indices(rng, b, n, block_length)  # (b, n)
        shocks = resid[:, idx].transpose(1, 0, 2)  # (b, N, n)
        start = rng.integers(0, t_len - k + 1, size=b)
        ystar = np.empty((b, n_units, t_len))
        ystar[:, :, :k] = y[:, start[:, None] + np.arange(k)].transpose(1, 0, 2)
        for t in range(k, t_len):
            lags = ystar[:, :, t - k : t][:, :, ::-1]  # lag 1 first
            ystar[:, :, t] = const + np.einsum("bnj,nj->bn", lags, gamma) + shocks[:, :, t - k]
        wald, ok = unit_wald(ystar, x, k)
        wald = np.where(ok, wald, np.nan)
        out[done : done + b] = wald.mean(axis=-1)
        done += b
    return out
