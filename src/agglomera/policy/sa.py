r"""Sun–Abraham (2021) interaction-weighted event study: cell means or the saturated regression.

Step 1 estimates the cohort × event-time effects :math:`\delta_{g,e}` of the saturated
regression (see :func:`estimate_sa`) either from cohort × period cell means
(:mod:`agglomera.policy._sa_core`, O(N) memory; balanced samples without covariates) or
through pyfixest (:mod:`agglomera.policy.twfe`'s plumbing, with the same small-sample
convention :data:`agglomera.policy.twfe.SSC_CONVENTION`); ``meta["path"]`` records which.
Step 2 averages them with the cohorts' shares at each event time.

References
----------
Sun, L., Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175–199.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError
from agglomera.policy import _sa_core
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import attgt_frame, did_result, event_study_frame, wald_test
from agglomera.policy.results import DIDResult
from agglomera.policy.twfe import (
    _SSC_TEXT,
    _fit,
    _meta,
    _prepare,
    _sa_name,
    _unbinned,
    bin_event_time,
    normalise_formula,
    small_sample_factor,
    sqrt_var,
)

__all__ = ["estimate_sa"]


def estimate_sa(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    control_group: str = "never",
    cluster: str | None = None,
    alpha: float = 0.05,
    aggregate: str = "dynamic",
    window: tuple[int, int] | None = None,
    engine: str = "auto",
) -> DIDResult:
    r"""Sun–Abraham interaction-weighted (IW) event study.

    Step 1, the saturated regression on the treated cohorts :math:`g \in \mathcal G` and
    the control cohort :math:`C`:

    .. math:: y_{it} = \alpha_i + \lambda_t + \sum_{g \in \mathcal G}\sum_{e \ne r}
              \delta_{g,e}\,1[g_i = g]\,1[t - g = e] + \varepsilon_{it},
              \qquad r = -1 - \text{anticipation}.

    Step 2, the IW estimate at event time :math:`e` averages the cohort effects with the
    cohorts' shares of the observations at :math:`e`,
    :math:`\hat\nu_e = \sum_g \hat w_{g,e}\hat\delta_{g,e}`,
    :math:`\hat w_{g,e} = n_{g,e} / \sum_{h} n_{h,e}`.

    Parameters
    ----------
    design : TreatmentDesign
        Treatment design.
    outcome : str
        Outcome column.
    controls : sequence of str, default ()
        Covariates added linearly.
    control_group : {"never", "last"}, default "never"
        Control cohort :math:`C`: the never-treated units, or the last-treated cohort (then
        never-treated units are not used and the periods :math:`t \ge g_{last} -
        \text{anticipation}` are dropped), as in Sun and Abraham (2021) when no unit is
        never treated.
    cluster : str, optional
        Cluster column (default: the unit).
    alpha : float, default 0.05
        One minus the confidence level.
    aggregate : {"dynamic", "simple"}, default "dynamic"
        ``"dynamic"``: the mean of :math:`\hat\nu_e` over :math:`e \ge 0`; ``"simple"``:
        the mean of the post-treatment cells :math:`\hat\delta_{g,e}, e \ge 0`, weighted
        by their numbers of observations (cohort-share weights; R ``did``'s "simple").
    window : tuple of int, optional
        ``(-k, m)``: bin :math:`e \le -k` and :math:`e \ge m` within each cohort.
    engine : {"auto", "cell_means", "pyfixest"}, default "auto"
        ``"cell_means"``: the cohort effects as 2×2 DIDs of cohort × period means and
        their CRV1 covariance from per-unit scores (:mod:`agglomera.policy._sa_core`;
        O(N) memory); valid on a balanced sample without covariates, clusters constant
        within units, every treated cohort observed in its reference period, and no
        window that bins two event times of one cohort. ``"pyfixest"``: the saturated
        regression. ``"auto"`` takes the cell means where they are valid and the
        regression otherwise; ``meta["path"]`` records which ran (and
        ``meta["path_reason"]`` why the regression was used).

    Returns
    -------
    DIDResult
        ``event_study`` = :math:`\hat\nu_e`; ``attgt`` = :math:`\hat\delta_{g,e}` at
        ``time`` :math:`g + e` (unbinned cells).

    Notes
    -----
    Standard errors treat the weights :math:`\hat w_{g,e}` as fixed (as fixest's
    ``sunab`` aggregation does), so they omit the weights' sampling variance that Sun and
    Abraham's Proposition 6 adds. On a balanced panel without covariates and with
    never-treated controls, :math:`\hat\delta_{g,e}` for :math:`e \ge 0` equals Callaway
    and Sant'Anna's ATT(g, g + e) with never-treated controls, because both are the long
    difference against period :math:`g - 1`; pre-period :math:`\hat\delta_{g,e}` are long
    differences against :math:`g - 1`, whereas CS with ``base_period="varying"`` reports
    short differences :math:`t` vs :math:`t - 1`.

    References
    ----------
    Sun, L., Abraham, S. (2021). Estimating dynamic treatment effects in event studies
    with heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175–199.
    """
    if aggregate not in ("dynamic", "simple"):
        raise SpecError(
            f"aggregate={aggregate!r} is not available for estimator='sa'; allowed: "
            "'dynamic', 'simple'. Use estimator='cs' for 'group' and 'calendar'."
        )
    if control_group not in ("never", "last"):
        raise SpecError(
            f"control_group={control_group!r} is not allowed for estimator='sa'; allowed: "
            "'never', 'last'."
        )
    cohorts = design.cohorts
    treated_cohorts = sorted({int(g) for g in cohorts[cohorts > 0]})
    extra_drops: list[str] = []
    where = None
    if control_group == "never":
        if not (cohorts == 0).any():
            raise SpecError(
                "estimator='sa' with control_group='never' needs never-treated units and the "
                "design has none. Fix: control_group='last' (the last-treated cohort as "
                "control)."
            )
        control_cohort: int = 0
    else:
        if len(treated_cohorts) < 2:
            raise SpecError(
                "control_group='last' needs at least two treated cohorts; the design has "
                f"{treated_cohorts}."
            )
        control_cohort = treated_cohorts[-1]
        treated_cohorts = treated_cohorts[:-1]
        frame0 = design.panel.to_frame()
        g_row = cohorts.reindex(frame0[design.unit]).to_numpy()
        cutoff = control_cohort - design.anticipation
        keep = (frame0[design.time].to_numpy() < cutoff) & (g_row != 0)
        n_never = int((cohorts == 0).sum())
        extra_drops.append(
            f"{int((~keep).sum())} rows dropped for the last-treated control cohort "
            f"{control_cohort}: periods >= {cutoff} and the {n_never} never-treated units"
        )
        where = keep
    if engine not in ("auto", "cell_means", "pyfixest"):
        raise SpecError(
            f"engine={engine!r} is not allowed for estimator='sa'; allowed: 'auto', "
            "'cell_means', 'pyfixest'."
        )
    ref = -1 - design.anticipation
    cells_fit = None
    blocker = "engine='pyfixest' requested"
    if engine != "pyfixest":
        cells_fit, blocker = _sa_cell_means(
            design, outcome, controls, cluster, treated_cohorts, control_cohort, ref, window
        )
        if cells_fit is None and engine == "cell_means":
            raise SpecError(
                f"engine='cell_means' is not available here: {blocker}. Use engine='auto' "
                "(falls back to the saturated regression) or 'pyfixest'."
            )
    if cells_fit is not None:
        fast, meta = cells_fit
        meta["alpha"] = alpha
        meta["dropped"].extend(extra_drops)
        cells = list(zip(fast.cohort.tolist(), fast.rel_time.tolist(), strict=True))
        delta = fast.delta
        v_cells = fast.vcov_raw * meta["small_sample_factor"]
        n_cell = fast.n_obs
        collinear: list[tuple[int, int]] = []
        cell_e = fast.rel_time
        cell_g = fast.cohort
        e_levels = sorted(set(cell_e.tolist()))
        n_units = [int(n_cell[cell_e == e].sum()) for e in e_levels]
    else:
        data = _prepare(design, outcome, controls, cluster, where=where)
        data.dropped.extend(extra_drops)
        frame = data.frame
        rel = bin_event_time(design.event_time().to_numpy(dtype=float)[data.rows], window, ref)
        g_rows = cohorts.reindex(design.panel.to_frame()[design.unit]).to_numpy()[data.rows]

        cells = []
        for g in treated_cohorts:
            in_g = g_rows == g
            for e in sorted({int(x) for x in rel[in_g]} - {ref}):
                cells.append((g, e))
        names = [_sa_name(g, e) for g, e in cells]
        for (g, e), name in zip(cells, names, strict=True):
            frame[name] = ((g_rows == g) & (rel == e)).astype(float)
        fit = _fit([*names, *data.x_names], frame)
        present = [i for i, nm in enumerate(names) if nm in fit.names]
        collinear = [cells[i] for i in range(len(cells)) if i not in set(present)]
        if collinear:
            warnings.warn(
                f"cohort x event-time cells {collinear} are collinear with the fixed effects "
                "and were dropped; recorded in meta['collinear'].",
                UserWarning,
                stacklevel=4,
            )
        cells = [cells[i] for i in present]
        idx = [fit.names.index(names[i]) for i in present]
        delta = fit.coef[idx]
        v_cells = fit.vcov[np.ix_(idx, idx)]
        n_cell = np.array([int(((g_rows == g) & (rel == e)).sum()) for g, e in cells], dtype=float)
        cell_e = np.array([e for _, e in cells], dtype=np.int64)
        cell_g = np.array([g for g, _ in cells], dtype=np.int64)
        e_levels = sorted(set(cell_e.tolist()))
        unit_rows = frame["unit_id"].to_numpy()
        treated_rows = np.isin(g_rows, treated_cohorts)
        n_units = [int(np.unique(unit_rows[treated_rows & (rel == e)]).size) for e in e_levels]
        meta = _meta(design, outcome, data, fit, "sa", "Sun–Abraham interaction-weighted", alpha)
        meta["path"] = "pyfixest"
        meta["path_reason"] = blocker

    # IW aggregation by event time
    weights = np.zeros((len(e_levels), len(cells)))
    for k, e in enumerate(e_levels):
        mask = cell_e == e
        weights[k, mask] = n_cell[mask] / n_cell[mask].sum()
    nu = weights @ delta
    v_nu = weights @ v_cells @ weights.T
    es = event_study_frame(e_levels, nu, sqrt_var(np.diag(v_nu)), n_units, alpha=alpha)

    e_arr = np.asarray(e_levels)
    if aggregate == "dynamic":
        post = (e_arr >= 0).astype(float)
        w = post / post.sum() if post.sum() else post
        a_vec = w @ weights
    else:
        post_cells = (cell_e >= 0).astype(float) * n_cell
        a_vec = post_cells / post_cells.sum() if post_cells.sum() else post_cells
    att = float(a_vec @ delta) if a_vec.sum() else math.nan
    se = float(sqrt_var(a_vec @ v_cells @ a_vec)) if a_vec.sum() else math.nan
    pre = e_arr < ref
    _, _, p_pre = wald_test(nu[pre], v_nu[np.ix_(pre, pre)])

    unbinned = _unbinned(cell_e, window)
    attgt = attgt_frame(
        cell_g[unbinned],
        cell_g[unbinned] + cell_e[unbinned],
        delta[unbinned],
        sqrt_var(np.diag(v_cells))[unbinned],
    )
    meta["aggregate"] = aggregate
    meta["conventions"].update(
        reference_period=ref,
        control_cohort="never treated"
        if control_cohort == 0
        else f"last treated ({control_cohort})",
        window="none" if window is None else f"{window}: endpoints binned within cohort",
        weights="cohort shares of the observations at each event time, treated as fixed",
    )
    meta["collinear"] = collinear
    meta["cells"] = pd.DataFrame(
        {"cohort": cell_g, "rel_time": cell_e, "estimate": delta, "n_obs": n_cell}
    )
    meta["event_study_vcov"] = v_nu
    meta["n_control_units"] = int((cohorts == control_cohort).sum())
    meta["pretrend_rel_times"] = [int(e) for e in e_arr[pre]]
    return did_result(
        att,
        se,
        alpha=alpha,
        event_study=es,
        attgt=attgt,
        pretrend_pvalue=p_pre,
        meta=meta,
    )


def _sa_cell_means(
    design: TreatmentDesign,
    outcome: str,
    controls: Sequence[str],
    cluster: str | None,
    treated_cohorts: list[int],
    control_cohort: int,
    ref: int,
    window: tuple[int, int] | None,
) -> tuple[tuple[_sa_core.CellFit, dict[str, Any]] | None, str]:
    """Run the cell-mean SA core when its identity holds; else return (None, reason)."""
    if controls:
        return None, "covariates (the cell-mean identity holds without covariates only)"
    if window is not None:
        bin_event_time(np.zeros(0), window, ref)  # validates the window
    wide = design.outcome_matrix(outcome)
    times = np.asarray(wide.columns, dtype=np.int64)
    unit_cohort = design.cohorts.reindex(wide.index).to_numpy(dtype=np.int64)
    dropped: list[str] = []
    if control_cohort == 0:
        keep_u = np.ones(unit_cohort.size, dtype=bool)
        keep_t = np.ones(times.size, dtype=bool)
    else:
        keep_u = unit_cohort != 0
        keep_t = times < control_cohort - design.anticipation
    y = wide.to_numpy(dtype=float)[np.ix_(keep_u, keep_t)]
    times = times[keep_t]
    unit_cohort = unit_cohort[keep_u]
    blocker = _sa_core.fast_path_blocker(y, unit_cohort, times, treated_cohorts, ref, window)
    if blocker is not None:
        return None, blocker
    cluster_name = design.unit if cluster is None else cluster
    clusters: np.ndarray | None = None
    n_clusters = int(y.shape[0])
    if cluster_name != design.unit:
        frame = design.panel.to_frame()
        if cluster_name not in frame.columns:
            raise DataError(f"cluster column {cluster_name!r} not found.")
        per_unit = frame.groupby(design.unit, sort=False)[cluster_name].nunique()
        if int(per_unit.max()) > 1:
            return None, f"cluster column {cluster_name!r} varies within units"
        first = frame.groupby(design.unit, sort=False)[cluster_name].first()
        codes = pd.factorize(first.reindex(wide.index[keep_u]), sort=True)[0]
        clusters = codes.astype(np.int64)
        n_clusters = int(clusters.max()) + 1
    fast = _sa_core.cell_means_fit(
        y, unit_cohort, times, treated_cohorts, control_cohort, ref, window, clusters
    )
    n_obs = int(y.size)
    k = int(fast.delta.size)
    ssc = small_sample_factor(
        n_obs, n_clusters, k, [int(y.shape[0]), int(times.size)], [True, n_clusters == 1]
    )
    names = [_sa_name(g, e) for g, e in zip(fast.cohort, fast.rel_time, strict=True)]
    meta: dict[str, Any] = {
        "estimator": "sa",
        "estimator_label": "Sun–Abraham interaction-weighted",
        "outcome": outcome,
        "alpha": math.nan,
        "balance": design.balance,
        "rule": design.rule,
        "anticipation": design.anticipation,
        "n_units": int(y.shape[0]),
        "n_obs": n_obs,
        "n_clusters": n_clusters,
        "formula": normalise_formula(f"y ~ {' + '.join(names)} | unit_id + time_id"),
        "small_sample_factor": ssc,
        "ssc_rescaled": False,
        "engine": "agglomera cell means (policy._sa_core)",
        "path": "cell_means",
        "conventions": {
            "cluster": cluster_name,
            "small_sample_correction": _SSC_TEXT,
            "controls": "none",
        },
        "dropped": [*design.meta.get("dropped", []), *dropped],
        "collinear_controls": [],
        "n_dropped_units": design.meta.get("n_dropped_units", 0),
    }
    return (fast, meta), ""
