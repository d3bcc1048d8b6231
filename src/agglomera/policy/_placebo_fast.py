r"""Matrix fast paths of randomization inference: all placebo draws at once.

Both functions take the outcome as a complete units × periods matrix (balanced panel, no
missing value) and a block of placebo cohort vectors, one row per draw, and return one
estimate per draw. They reproduce :func:`agglomera.policy.estimate` (``"twfe"`` and
``"cs"`` without covariates) draw by draw; ``tests/policy/test_placebo.py`` checks the
identity draw to 1e-10 and a sample of draws against direct re-estimation.

Notation: units :math:`i = 1..N`, periods :math:`t_1 < \dots < t_T`, a placebo cohort
vector :math:`g^*` (0 = never treated), :math:`D^*_{it} = 1[g^*_i > 0,\ t \ge g^*_i]`.

TWFE (:func:`twfe_draws`)
    On a balanced panel the two-way within transformation is exact in one pass,
    :math:`\tilde a_{it} = a_{it} - \bar a_{i\cdot} - \bar a_{\cdot t} + \bar a`, and by
    Frisch–Waugh–Lovell

    .. math:: \hat\beta^* = \frac{\tilde D^{*\prime} M \tilde y}
              {\tilde D^{*\prime} M \tilde D^*},\qquad
              M = I - \tilde X(\tilde X'\tilde X)^{-1}\tilde X'

    (:math:`M = I` without controls). :math:`r = M\tilde y` is fixed across draws and
    orthogonal to unit and period constants, so the numerator is
    :math:`\sum_i \sum_{t \ge g^*_i} r_{it} = \sum_i C_{i, k(g^*_i)}` with :math:`C` the
    right-cumulative sums of :math:`r` and :math:`k(g)` the index of the first period
    :math:`\ge g` — a gather, :math:`O(N)` per draw, no :math:`N \times T` array. With
    :math:`m_i = \#\{t \ge g^*_i\}` and :math:`c_t = \#\{i: D^*_{it} = 1\}`,

    .. math:: \tilde D^{*\prime}\tilde D^* = \sum_i m_i - \frac{1}{T}\sum_i m_i^2
              - \frac{1}{N}\sum_t c_t^2 + \frac{(\sum_i m_i)^2}{NT},

    and :math:`\tilde X'\tilde D^*` is again a gather of the right-cumulative sums of
    :math:`\tilde X`. Under the ``"units"`` and ``"timing"`` schemes the cohort sizes do
    not change, so the first four terms are the same in every draw.

Callaway–Sant'Anna without covariates, or with outcome regression (:func:`cs_draws`)
    Every ATT(g, t) is a difference of means, so all of them follow from the cohort sums
    :math:`S_{kt} = \sum_i 1[g^*_i = k]\,y_{it}` and sizes :math:`n_k` (never-treated
    units are cohort 0), computed for a block of draws as one matrix product of the
    one-hot cohort membership with :math:`y`. Post-treatment cells use the base period
    :math:`b = g - 1 - \delta` (the last period with :math:`t + \delta < g`) whatever the
    ``base_period`` option, and every overall aggregation uses post-treatment cells
    only:

    .. math:: ATT(g,t) = \frac{S_{gt} - S_{gb}}{n_g} -
              \frac{\sum_{k \in C(t)} (S_{kt} - S_{kb})}{\sum_{k \in C(t)} n_k},

    :math:`C(t) = \{0\}` (never treated) or :math:`\{0\} \cup \{k: k > t + \delta\}`
    (not yet treated). Aggregation weights are the cohort sizes, as in
    :func:`agglomera.policy._cs_aggregate.aggregate`. With covariates and ``method="reg"``
    the comparison units' regression of :math:`y_t - y_b` on :math:`(1, x_b)` needs
    :math:`\sum_{i \in C} x_{ib}x_{ib}'` and :math:`\sum_{i \in C} x_{ib} y_{is}`, again
    sums over cohorts from one matrix product per base period.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["chunks", "cs_draws", "twfe_draws"]

#: Default bound on the number of array elements held per block of draws.
CHUNK_ELEMENTS = 4_000_000


def chunks(n_draws: int, per_draw: int, budget: int = CHUNK_ELEMENTS) -> Iterator[slice]:
    """Yield slices of draws so that each block holds about ``budget`` elements."""
    step = max(1, budget // max(per_draw, 1))
    for start in range(0, n_draws, step):
        yield slice(start, min(n_draws, start + step))


def _within(a: np.ndarray) -> np.ndarray:
    """Two-way demeaning of a balanced ``(N, T)`` array (exact in one pass)."""
    return np.asarray(a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean())


def _right_cumsum(a: np.ndarray) -> np.ndarray:
    """``out[i, k] = a[i, k:].sum()`` for ``k = 0..T`` (``out[:, T] = 0``)."""
    n, t = a.shape
    out = np.zeros((n, t + 1))
    out[:, :t] = np.cumsum(a[:, ::-1], axis=1)[:, ::-1]
    return out


def start_index(cohort_draws: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the first treated period per unit and draw (``T`` = never treated)."""
    g = np.asarray(cohort_draws, dtype=np.int64)
    pos = np.searchsorted(np.asarray(times, dtype=np.int64), g, side="left")
    return np.where(g > 0, pos, times.size).astype(np.int64)


def twfe_draws(
    y: np.ndarray,
    cohort_draws: np.ndarray,
    times: np.ndarray,
    *,
    x: np.ndarray | None = None,
) -> np.ndarray:
    r"""TWFE coefficient :math:`\hat\beta^*` of every draw (balanced panel).

    Parameters
    ----------
    y : numpy.ndarray, shape (N, T)
        Complete outcome matrix.
    cohort_draws : numpy.ndarray of int, shape (R, N)
        Placebo cohort of each unit in each draw (0 = never treated).
    times : numpy.ndarray of int, shape (T,)
        Sorted periods.
    x : numpy.ndarray, shape (N, T, p), optional
        Complete control variables.

    Returns
    -------
    numpy.ndarray, shape (R,)
        NaN where :math:`\tilde D^*` is (numerically) collinear with the fixed effects and
        controls.
    """
    y = np.asarray(y, dtype=float)
    n, t = y.shape
    times = np.asarray(times, dtype=np.int64)
    r_y = _within(y)
    cum_x: np.ndarray | None = None
    xtx_inv = np.zeros((0, 0))
    if x is not None and x.shape[2]:
        xt = np.stack([_within(x[:, :, k]) for k in range(x.shape[2])], axis=2)
        flat = xt.reshape(n * t, -1)
        xtx = flat.T @ flat
        xtx_inv = np.linalg.pinv(xtx)
        gamma = xtx_inv @ (flat.T @ r_y.ravel())
        r_y = r_y - (flat @ gamma).reshape(n, t)
        cum_x = np.stack([_right_cumsum(xt[:, :, k]) for k in range(xt.shape[2])], axis=0)
    cum_y = _right_cumsum(r_y).ravel()
    offsets = np.arange(n, dtype=np.int64) * (t + 1)
    draws = np.asarray(cohort_draws, dtype=np.int64)
    out = np.empty(draws.shape[0])
    for block in chunks(draws.shape[0], n):
        k = start_index(draws[block], times)  # (R_b, N)
        flat_idx = k + offsets
        num = cum_y[flat_idx].sum(axis=1)
        m = (t - k).astype(float)
        s_m = m.sum(axis=1)
        rb = k.shape[0]
        shifted = (k + (np.arange(rb, dtype=np.int64) * (t + 1))[:, None]).ravel()
        counts = np.bincount(shifted, minlength=rb * (t + 1)).reshape(rb, t + 1)[:, :t]
        c_t = np.cumsum(counts, axis=1).astype(float)
        den = s_m - (m**2).sum(axis=1) / t - (c_t**2).sum(axis=1) / n + s_m**2 / (n * t)
        if cum_x is not None:
            a = np.stack([cx.ravel()[flat_idx].sum(axis=1) for cx in cum_x], axis=1)
            den = den - np.einsum("rp,pq,rq->r", a, xtx_inv, a)
        scale = max(float(s_m.max()) if s_m.size else 1.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[block] = np.where(den > 1e-10 * scale, num / den, np.nan)
    return out


def cs_draws(
    y: np.ndarray,
    cohort_draws: np.ndarray,
    times: np.ndarray,
    *,
    control_group: str = "never",
    anticipation: int = 0,
    aggregate: str = "simple",
    x: np.ndarray | None = None,
) -> np.ndarray:
    r"""Overall Callaway–Sant'Anna ATT of every draw (no covariates, or outcome regression).

    Parameters
    ----------
    y : numpy.ndarray, shape (N, T)
        Complete outcome matrix.
    cohort_draws : numpy.ndarray of int, shape (R, N)
        Placebo cohort of each unit in each draw (0 = never treated; every draw must
        have never-treated units).
    times : numpy.ndarray of int, shape (T,)
        Sorted periods.
    control_group : {"never", "notyet"}, default "never"
        Comparison units.
    anticipation : int, default 0
        :math:`\delta`.
    aggregate : {"simple", "dynamic", "group", "calendar"}, default "simple"
        The overall summary returned (R ``did::aggte``; ``"dynamic"`` = mean of the
        event-time effects :math:`e \ge 0`).
    x : numpy.ndarray, shape (N, T, p), optional
        Covariates for the outcome-regression estimator (``method="reg"``,
        ``DRDID::reg_did_panel``): in cell :math:`(g, t)` with base :math:`b`,
        :math:`\hat\beta_{tb}` is the OLS of :math:`y_t - y_b` on :math:`(1, x_b)` among
        the comparison units and :math:`ATT = \overline{\Delta y}_g - \bar x_{b,g}'
        \hat\beta_{tb}`. The comparison units' cross-products are sums over cohorts, so
        they too come from one matrix product per base period.

    Returns
    -------
    numpy.ndarray, shape (R,)
        NaN for a draw in which no post-treatment ATT(g, t) is estimable.
    """
    y = np.asarray(y, dtype=float)
    n, n_t = y.shape
    times = np.asarray(times, dtype=np.int64)
    draws = np.asarray(cohort_draws, dtype=np.int64)
    glist = np.unique(draws[draws > 0])
    n_g = glist.size
    out = np.full(draws.shape[0], np.nan)
    if n_g == 0:
        return out
    # base period and post-treatment cells of each cohort (universal base g - 1 - delta)
    base = np.full(n_g, -1, dtype=np.int64)
    for k, g in enumerate(glist.tolist()):
        pre = np.flatnonzero(times + anticipation < g)
        if pre.size:
            base[k] = int(pre[-1])
    post = (times[None, :] >= glist[:, None]) & (base[:, None] >= 0)  # (G, T)
    cols = np.arange(n_t)
    b_safe = np.where(base >= 0, base, 0)
    # control cohorts per period: columns 0 (never) .. G; row j = period index
    if control_group == "never":
        ctrl = np.zeros((n_t, n_g + 1))
        ctrl[:, 0] = 1.0
    else:
        later = glist[None, :] > (times[:, None] + anticipation)  # (T, G)
        ctrl = np.column_stack([np.ones(n_t), later.astype(float)])
    labels = np.arange(n_g + 1)
    for block in chunks(draws.shape[0], n * (n_g + 1)):
        kk = np.searchsorted(glist, draws[block])  # index into glist for treated
        kk = np.where(draws[block] > 0, kk + 1, 0)  # 0 = never, 1..G = cohorts
        rb = kk.shape[0]
        onehot = (kk[:, None, :] == labels[None, :, None]).astype(float)  # (R, G+1, N)
        sizes = onehot.sum(axis=2)  # (R, G+1)
        sums = (onehot.reshape(rb * (n_g + 1), n) @ y).reshape(rb, n_g + 1, n_t)
        # treated cohorts: mean of y_t - y_b
        s_tr = sums[:, 1:, :]  # (R, G, T)
        n_tr = sizes[:, 1:]  # (R, G)
        d_tr = s_tr - np.take_along_axis(s_tr, b_safe[None, :, None], axis=2)
        # controls: sums over control cohorts for each period j, evaluated at j and b_k
        c_sum = np.einsum("jk,rks->rjs", ctrl, sums)  # (R, T_j, T_s)
        c_n = sizes @ ctrl.T  # (R, T)
        c_at_t = c_sum[:, cols, cols]  # (R, T)
        c_at_b = c_sum[:, :, b_safe]  # (R, T_j, G) -> sums at base of cohort k
        d_c = c_at_t[:, None, :] - np.transpose(c_at_b, (0, 2, 1))  # (R, G, T)
        with np.errstate(invalid="ignore", divide="ignore"):
            if x is None:
                att = d_tr / n_tr[:, :, None] - d_c / c_n[:, None, :]
            else:
                att = d_tr / n_tr[:, :, None] - _reg_adjust(onehot, y, x, base, ctrl, n_tr)
        valid = post[None, :, :] & (n_tr[:, :, None] > 0) & (c_n[:, None, :] > 0)
        # a singular comparison regression makes estimate() fail: the whole draw is NaN
        broken = (valid & ~np.isfinite(att)).any(axis=(1, 2))
        w = np.where(valid, n_tr[:, :, None], 0.0)
        att = np.where(valid, att, 0.0)
        agg = _aggregate(att, w, valid, glist, times, aggregate)
        out[block] = np.where(broken, np.nan, agg)
    return out


def _reg_adjust(
    onehot: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    base: np.ndarray,
    ctrl: np.ndarray,
    n_tr: np.ndarray,
) -> np.ndarray:
    r"""Regression-predicted comparison change :math:`\bar x_{b,g}'\hat\beta_{tb}` per cell.

    Returns an ``(R, G, T)`` array (NaN where the comparison units' :math:`X'X` is
    singular, or for cohorts without a base period).
    """
    rb, n_c, n = onehot.shape
    n_t = y.shape[1]
    n_g = n_c - 1
    out = np.full((rb, n_g, n_t), np.nan)
    flat = onehot.reshape(rb * n_c, n)
    for b in np.unique(base[base >= 0]).tolist():
        xb = np.column_stack([np.ones(n), x[:, b, :]])  # (N, q)
        q = xb.shape[1]
        feats = np.concatenate(
            [
                (xb[:, :, None] * xb[:, None, :]).reshape(n, q * q),
                (xb[:, :, None] * y[:, None, :]).reshape(n, q * n_t),
            ],
            axis=1,
        )
        sums = (flat @ feats).reshape(rb, n_c, -1)
        xx = sums[:, :, : q * q].reshape(rb, n_c, q, q)
        xy = sums[:, :, q * q :].reshape(rb, n_c, q, n_t)
        xx_c = np.einsum("jc,rcab->rjab", ctrl, xx)  # (R, T, q, q)
        xy_c = np.einsum("jc,rcas->rjas", ctrl, xy)  # (R, T, q, T)
        cols = np.arange(n_t)
        rhs = xy_c[:, cols, :, cols].transpose(1, 0, 2) - xy_c[:, :, :, b]  # (R, T, q)
        cond = np.linalg.cond(xx_c)
        ok = np.isfinite(cond) & (cond < 1e12)
        safe = np.where(ok[..., None, None], xx_c, np.eye(q))
        beta = np.linalg.solve(safe, rhs[..., None])[..., 0]  # (R, T, q)
        beta = np.where(ok[..., None], beta, np.nan)
        mean_x = xx[:, 1:, 0, :]  # (R, G, q): sums of (1, x_b) per cohort (row 0 = 1 * x)
        for k in np.flatnonzero(base == b).tolist():
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, k, :] = np.einsum("rq,rjq->rj", mean_x[:, k, :], beta) / n_tr[:, k, None]
    return out


def _aggregate(
    att: np.ndarray,
    w: np.ndarray,
    valid: np.ndarray,
    glist: np.ndarray,
    times: np.ndarray,
    kind: str,
) -> np.ndarray:
    """Overall aggregation of post-treatment cells ``(R, G, T)`` (weights = cohort sizes)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "simple":
            return np.asarray((w * att).sum(axis=(1, 2)) / w.sum(axis=(1, 2)))
        if kind == "calendar":
            num = (w * att).sum(axis=1)  # (R, T)
            den = w.sum(axis=1)
            has = den > 0
            theta = np.where(has, num / np.where(has, den, 1.0), 0.0)
            return np.asarray(theta.sum(axis=1) / has.sum(axis=1))
        if kind == "group":
            cnt = valid.sum(axis=2)  # (R, G)
            has = cnt > 0
            theta = np.where(has, att.sum(axis=2) / np.where(has, cnt, 1), 0.0)
            wg = np.where(has, w.max(axis=2), 0.0)  # cohort size where the cohort has cells
            return np.asarray((wg * theta).sum(axis=1) / wg.sum(axis=1))
        if kind == "dynamic":
            e = times[None, :] - glist[:, None]  # (G, T)
            levels = np.unique(e)
            thetas = []
            present = []
            for lev in levels.tolist():
                if lev < 0:
                    continue
                sel = (e == lev)[None, :, :]
                num = (np.where(sel, w * att, 0.0)).sum(axis=(1, 2))
                den = (np.where(sel, w, 0.0)).sum(axis=(1, 2))
                has = den > 0
                thetas.append(np.where(has, num / np.where(has, den, 1.0), 0.0))
                present.append(has)
            if not thetas:
                return np.full(att.shape[0], np.nan)
            th = np.stack(thetas, axis=1)
            pr = np.stack(present, axis=1)
            return np.asarray(th.sum(axis=1) / pr.sum(axis=1))
    raise ValueError(f"unknown aggregation {kind!r}")
