r"""Aggregations of the Callaway–Sant'Anna ATT(g, t) cells (R ``did``'s ``aggte``).

Simple, dynamic (event study), group and calendar aggregations are weighted averages of the
cells; each is built as one linear map of the cell estimates and of the cohort-share
indicators, so that estimates, influence functions (with R's weight influence function)
and bootstrap draws all come from the same matrix. Cells come from
:func:`agglomera.policy._cs_core.att_gt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from agglomera.policy._cs_core import AttGT

__all__ = ["Aggregation", "aggregate", "cohort_positions"]


@dataclass(frozen=True)
class Aggregation:
    r"""One aggregation of ATT(g, t): its components and the overall summary.

    Attributes
    ----------
    kind : str
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    labels : numpy.ndarray
        Event time, cohort or period of each component (empty for ``"simple"``).
    estimates : numpy.ndarray
        Component estimates.
    inf : numpy.ndarray, shape (n, len(labels))
        Component influence functions (including the weight influence function).
    n_units : numpy.ndarray
        Units of the cohorts behind each component.
    overall : float
        The overall summary (``"dynamic"``: mean of the effects with :math:`e \ge 0`).
    overall_inf : numpy.ndarray, shape (n,)
        Its influence function.
    cell_weights, cohort_terms : numpy.ndarray, shapes (K, L + 1) and (C + 1, L + 1)
        The linear map behind ``inf`` (columns: the ``L`` components, then the overall
        summary): ``[inf, overall_inf] = res.inf @ cell_weights + cohort_terms[c_i]``, with
        :math:`c_i` the position of unit :math:`i`'s cohort among the ``C`` cohorts
        (``C`` for never-treated units). Used by the multiplier bootstrap.
    """

    kind: str
    labels: np.ndarray
    estimates: np.ndarray
    inf: np.ndarray = field(repr=False)
    n_units: np.ndarray
    overall: float
    overall_inf: np.ndarray = field(repr=False)
    cell_weights: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    cohort_terms: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))


def cohort_positions(cohort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted treated cohorts and each unit's position among them (C if none)."""
    cohort = np.asarray(cohort, dtype=np.int64)
    glist = np.unique(cohort[cohort > 0])
    upos = np.full(cohort.size, glist.size, dtype=np.int64)
    treated = cohort > 0
    upos[treated] = np.searchsorted(glist, cohort[treated])
    return glist, upos


def _weights(
    res: AttGT, keep: np.ndarray, pg_cell: np.ndarray, glist: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Weighted average :math:`\sum_k w_k ATT_k` with :math:`w_k = p_{g_k}/\sum p` and its map.

    The weight influence function (R ``did::wif``) simplifies to
    :math:`S^{-1}\sum_{k} (1[G_i = g_k] - p_{g_k})(ATT_k - \hat\theta) =
    S^{-1}\sum_{k: g_k = G_i}(ATT_k - \hat\theta)` because :math:`\sum_k p_{g_k}(ATT_k -
    \hat\theta) = 0`: a per-cohort term. Returns the estimate, the cell weights (K,) and
    the cohort terms (C + 1,).
    """
    w_full = np.zeros(res.att.size)
    contrib = np.zeros(glist.size + 1)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return math.nan, w_full, contrib
    pk = pg_cell[idx]
    s = float(pk.sum())
    w = pk / s
    theta = float(w @ res.att[idx])
    w_full[idx] = w
    np.add.at(contrib, np.searchsorted(glist, res.group[idx]), res.att[idx] - theta)
    return theta, w_full, contrib / s


def aggregate(
    res: AttGT,
    cohort: np.ndarray,
    kind: str,
    *,
    group_wif: Literal["did", "cohort"] = "did",
) -> Aggregation:
    r"""Aggregate ATT(g, t) as R ``did::aggte`` does, with the weight influence function.

    With :math:`p_g = n^{-1}\sum_i 1[G_i = g]` and post-treatment cells :math:`g \le t`:

    * ``"simple"``: :math:`\theta = \sum_{g \le t} p_g ATT(g,t) / \sum_{g \le t} p_g`;
    * ``"dynamic"``: :math:`\theta(e) = \sum_{t - g = e} p_g ATT(g,t) / \sum_{t-g=e} p_g`
      for every event time :math:`e` (pre-periods included); overall = mean of
      :math:`\theta(e)` over :math:`e \ge 0`;
    * ``"group"``: :math:`\theta(g) = \text{mean}_{t \ge g} ATT(g,t)`; overall
      :math:`\sum_g p_g \theta(g) / \sum_g p_g`;
    * ``"calendar"``: :math:`\theta(t) = \sum_{g \le t} p_g ATT(g,t) / \sum_{g\le t} p_g`
      for :math:`t \ge \min g`; overall = mean of :math:`\theta(t)`.

    Weights estimated from the sample shares carry their own influence function
    (``wif``), added to the components of ``"simple"``, ``"dynamic"`` and ``"calendar"``
    and to the overall ``"group"`` effect. Every influence function is linear in the
    cell influence functions plus a per-cohort term; the map is built first and applied
    with one matrix product (``cell_weights``, ``cohort_terms``).

    Parameters
    ----------
    res : AttGT
        Output of :func:`att_gt`.
    cohort : numpy.ndarray of int, shape (n,)
        Cohort of each unit (the same units as ``res.inf`` rows).
    kind : {"simple", "dynamic", "group", "calendar"}
        Aggregation.
    group_wif : {"did", "cohort"}, default "did"
        Weight influence function of the overall ``"group"`` effect. ``"did"`` reproduces
        R ``did``'s ``compute.aggte`` exactly, which indexes the cohort indicator of the
        :math:`k`-th weight by the cohort of the :math:`k`-th *group-time cell*
        (``group[k]``) rather than of the :math:`k`-th cohort (``glist[k]``);
        ``"cohort"`` uses the cohort's own indicator (the textbook delta method).

    Returns
    -------
    Aggregation
    """
    cohort = np.asarray(cohort, dtype=np.int64)
    n = cohort.size
    glist, upos = cohort_positions(cohort)
    pg = np.array([float(np.mean(cohort == g)) for g in glist])
    pos = np.searchsorted(glist, res.group)
    pg_cell = pg[pos] if res.group.size else np.zeros(0)
    sizes = np.bincount(upos, minlength=glist.size + 1)[: glist.size]
    post = res.post
    usable = np.isfinite(res.att)
    n_k, n_c = res.att.size, glist.size + 1
    if kind == "simple":
        keep = post & usable
        theta, w, c = _weights(res, keep, pg_cell, glist)
        keep_g = np.unique(res.group[keep])
        n_units = np.array([int(sizes[np.searchsorted(glist, keep_g)].sum())])
        labels = np.zeros(0, dtype=np.int64)
        est = np.array([theta])
        cw, ct = np.column_stack([w, w]), np.column_stack([c, c])
        nu, overall = n_units, theta
    elif kind in ("dynamic", "calendar"):
        if kind == "dynamic":
            e_all = res.time - res.group
            labels = np.unique(e_all[usable])
            keeps = [(e_all == e) & usable for e in labels.tolist()]
        else:
            tl = np.unique(res.time)
            tl = tl[tl >= (res.group.min() if res.group.size else 0)]
            keeps = [(res.time == t) & post & usable for t in tl.tolist()]
            labels = np.asarray(
                [t for t, k in zip(tl.tolist(), keeps, strict=True) if k.any()], np.int64
            )
            keeps = [k for k in keeps if k.any()]
        est = np.empty(labels.size)
        cw, ct = np.zeros((n_k, labels.size + 1)), np.zeros((n_c, labels.size + 1))
        nu = np.empty(labels.size, dtype=np.int64)
        for i, keep in enumerate(keeps):
            est[i], cw[:, i], ct[:, i] = _weights(res, keep, pg_cell, glist)
            nu[i] = int(sizes[np.searchsorted(glist, res.group[keep])].sum())
        summary = labels >= 0 if kind == "dynamic" else np.ones(labels.size, dtype=bool)
        if summary.any():
            overall = float(est[summary].mean())
            cw[:, -1] = cw[:, :-1][:, summary].mean(axis=1)
            ct[:, -1] = ct[:, :-1][:, summary].mean(axis=1)
        else:
            overall = math.nan
    elif kind == "group":
        cols_l: list[np.ndarray] = []
        labels_l: list[int] = []
        est_l: list[float] = []
        for g in glist.tolist():
            keep = (res.group == g) & post & usable
            if not keep.any():
                continue
            labels_l.append(g)
            est_l.append(float(res.att[keep].mean()))
            cols_l.append(keep / float(keep.sum()))
        labels = np.asarray(labels_l, dtype=np.int64)
        est = np.asarray(est_l)
        nu = sizes[np.searchsorted(glist, labels)].astype(np.int64)
        cw = np.column_stack([*cols_l, np.zeros(n_k)]) if cols_l else np.zeros((n_k, 1))
        ct = np.zeros((n_c, labels.size + 1))
        if labels.size == 0:
            overall = math.nan
        else:
            pgg = pg[np.searchsorted(glist, labels)]
            s = float(pgg.sum())
            overall = float(pgg @ est / s)
            cw[:, -1] = cw[:, :-1] @ (pgg / s)
            contrib = np.zeros(n_c)
            if group_wif == "cohort":
                contrib[np.searchsorted(glist, labels)] = est - overall
            else:
                # R: wif(keepers = 1:length(glist), pg = pgg, G, group) uses group[k], the
                # cohort of the k-th ATT(g,t) cell, for the k-th cohort weight:
                # sum_k (1[G_i = group[k]] - pgg[k]) (est[k] - overall)
                dev = est - overall
                np.add.at(contrib, np.searchsorted(glist, res.group[: labels.size]), dev)
                contrib -= float(pgg @ dev)
            ct[:, -1] = contrib / s
    else:
        raise ValueError(f"unknown aggregation {kind!r}")
    inf = np.asarray(res.inf @ cw)
    inf += ct[upos]
    comp = inf[:, :-1] if kind != "simple" else inf[:, :1]
    return Aggregation(
        kind,
        labels,
        est,
        comp,
        nu,
        overall,
        inf[:, -1] if np.isfinite(overall) else np.zeros(n),
        cw,
        ct,
    )


# ---------------------------------------------------------------------- bootstrap
