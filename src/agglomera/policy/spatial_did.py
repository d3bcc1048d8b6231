r"""Spatial difference-in-differences: direct effects on treated units and spillovers on neighbours.

A place-based policy can spill over to nearby untreated places (talent moves to, or away
from, neighbouring cities). Using those neighbours as controls then biases the DID, and
the spillover is itself of interest. Following Clarke (2017) and Butts (2021), untreated
units are split by their **exposure** to treated units:

* *treated* — units with a cohort :math:`g_i > 0` in the design;
* *exposed* — never-treated units (cohort 0) near a treated unit (within a distance band,
  or contiguity neighbours), exposed from the *onset* year :math:`o_i` (by default the
  year the earliest-treated such neighbour is treated);
* *far* — never-treated units with no treated unit within the band: the comparison group;
* *inner* — with a band :math:`(d_{lo}, d_{hi})`, :math:`d_{lo} > 0`, never-treated units
  closer than :math:`d_{lo}` to a treated unit are neither exposed in the band nor clean
  controls; they are left out and counted.

The direct effect (on the treated) and the spillover effect (on the exposed) are then
estimated together by TWFE,

.. math:: y_{it} = \alpha_i + \lambda_t + \beta D_{it} + \gamma S_{it} + \varepsilon_{it},
          \qquad S_{it} = 1[i\ \text{exposed},\ t \ge o_i],

or by its event-study form, or with the heterogeneity-robust estimators of
:func:`agglomera.policy.estimate` on two separate designs (treated vs far; exposed, with
cohort :math:`o_i`, vs far).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, check_choice, format_examples
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import cluster_ids, did_result
from agglomera.policy.results import DIDResult
from agglomera.policy.triple import derived_design
from agglomera.policy.twfe import (
    FEFit,
    bin_event_time,
    ev_name,
    event_study_fit,
    fit_fixed_effects,
    fit_meta,
    sqrt_var,
)

__all__ = ["SPATIAL_DID_ESTIMATORS", "SpatialDIDResult", "exposure_table", "spatial_did"]

#: Estimators of :func:`spatial_did`.
SPATIAL_DID_ESTIMATORS: tuple[str, ...] = ("twfe", "event_study", "cs", "sa", "bjs")

Exposure = Literal["distance", "contiguity"]
Onset = Literal["earliest", "nearest"]


@dataclass(frozen=True)
class SpatialDIDResult:
    """Direct and spillover effects of a spatial DID (from :func:`spatial_did`).

    Attributes
    ----------
    direct : DIDResult
        Effect on the treated units (comparison: far units).
    spillover : DIDResult
        Effect on the exposed never-treated units (comparison: far units).
    units : pandas.DataFrame
        One row per unit of the design: ``unit``, ``cohort``, ``status`` (``"treated"``,
        ``"exposed"``, ``"far"``, ``"inner"``), ``onset`` (exposure onset year, 0 if not
        exposed), ``nearest_treated``, ``distance_km`` (to the nearest treated unit; NaN for
        contiguity exposure or treated units).
    counts : dict
        ``n_treated``, ``n_exposed``, ``n_far``, ``n_inner`` and ``exposed_by_onset``.
    meta : dict
        Exposure rule, band, onset rule, estimator and notes.
    """

    direct: DIDResult = field(repr=False)
    spillover: DIDResult = field(repr=False)
    units: pd.DataFrame = field(repr=False)
    counts: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per effect (``direct``, ``spillover``) with att, se, CI, p-value."""
        rows = []
        for name, res in (("direct", self.direct), ("spillover", self.spillover)):
            rows.append(
                {
                    "effect": name,
                    "estimator": res.estimator,
                    "att": res.att,
                    "se": res.se,
                    "ci_low": res.ci[0],
                    "ci_high": res.ci[1],
                    "pvalue": res.pvalue,
                    "n_units": self.counts["n_treated" if name == "direct" else "n_exposed"],
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Return a plain-text summary: exposure rule, counts and both effects."""
        c = self.counts
        lines = [
            f"Spatial DID — {self.meta['estimator_label']}, outcome {self.meta['outcome']!s}",
            f"  exposure: {self.meta['exposure_rule']}",
            f"  units: {c['n_treated']} treated, {c['n_exposed']} exposed, {c['n_far']} far "
            f"(controls), {c['n_inner']} inner (left out)",
        ]
        for name, res in (("direct", self.direct), ("spillover", self.spillover)):
            lines.append(
                f"  {name:9s} = {res.att:.6g} (SE {res.se:.6g}; CI [{res.ci[0]:.6g}, "
                f"{res.ci[1]:.6g}]; p = {res.pvalue:.4g})"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


# ---------------------------------------------------------------------- exposure
def exposure_table(
    design: TreatmentDesign,
    *,
    exposure: Exposure = "distance",
    band_km: tuple[float, float] = (0.0, 150.0),
    coords: pd.DataFrame | None = None,
    neighbours: Any = None,
    onset: Onset = "earliest",
) -> pd.DataFrame:
    """Classify the design's units as treated / exposed / far / inner (see :func:`spatial_did`).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit``, ``cohort``, ``status``, ``onset``, ``nearest_treated``,
        ``distance_km``; one row per unit of the design in its order.
    """
    check_choice("exposure", exposure, ("distance", "contiguity"))
    check_choice("onset", onset, ("earliest", "nearest"))
    units = design.units
    g = design.cohorts.reindex(units).to_numpy(dtype=np.int64)
    treated = g > 0
    n = len(units)
    status = np.where(treated, "treated", "far").astype(object)
    onset_arr = np.zeros(n, dtype=np.int64)
    nearest: list[Any] = [None] * n
    dist_out = np.full(n, np.nan)
    if exposure == "distance":
        if neighbours is not None:
            raise SpecError("neighbours= is for exposure='contiguity'; use band_km for distance.")
        lo, hi = _band(band_km)
        from agglomera.spatial.geodesy import coordinates, great_circle_km

        xy = coordinates(pd.Index(units, name=design.unit), coords)
        lon, lat = xy["lon"].to_numpy(), xy["lat"].to_numpy()
        t_idx = np.flatnonzero(treated)
        d = great_circle_km(lon[:, None], lat[:, None], lon[None, t_idx], lat[None, t_idx])
        d = np.atleast_2d(np.asarray(d, dtype=float))
        for i in np.flatnonzero(~treated):
            di = d[i]
            k = int(np.argmin(di))
            nearest[i] = units[t_idx[k]]
            dist_out[i] = float(di[k])
            if di[k] < lo:
                status[i] = "inner"
                continue
            inband = (di >= lo) & (di <= hi)
            if not inband.any():
                continue
            status[i] = "exposed"
            cand = t_idx[inband]
            if onset == "earliest":
                onset_arr[i] = int(g[cand].min())
            else:
                dd = di[inband]
                closest = cand[dd == dd.min()]
                onset_arr[i] = int(g[closest].min())
        for i in np.flatnonzero(treated):
            nearest[i] = None
        meta_rule = (
            f"never-treated units within [{lo:g}, {hi:g}] km (great circle) of a treated unit; "
            f"onset = first treatment year of the {onset} treated unit in the band"
        )
    else:
        if onset == "nearest":
            raise SpecError(
                "onset='nearest' needs distances; with exposure='contiguity' use onset='earliest'."
            )
        nb = _neighbour_lists(units, neighbours)
        pos = {u: j for j, u in enumerate(units)}
        for i in np.flatnonzero(~treated):
            js = [pos[v] for v in nb[i] if v in pos and treated[pos[v]]]
            if js:
                status[i] = "exposed"
                onset_arr[i] = int(min(g[j] for j in js))
                nearest[i] = units[min(js, key=lambda j: (g[j], j))]
        meta_rule = (
            "never-treated units with a first-order neighbour that is treated; onset = first "
            "treatment year of the earliest-treated neighbour"
        )
    out = pd.DataFrame(
        {
            "unit": list(units),
            "cohort": g,
            "status": status.astype(str),
            "onset": onset_arr,
            "nearest_treated": nearest,
            "distance_km": dist_out,
        }
    )
    out.attrs["rule"] = meta_rule
    return out


def _band(band_km: Any) -> tuple[float, float]:
    if (
        not isinstance(band_km, (tuple, list))
        or len(band_km) != 2
        or not all(isinstance(b, (int, float, np.integer, np.floating)) for b in band_km)
    ):
        raise SpecError(f"band_km must be a pair (low, high) in km; got {band_km!r}.")
    lo, hi = float(band_km[0]), float(band_km[1])
    if not (0.0 <= lo < hi and math.isfinite(hi)):
        raise SpecError(f"band_km must satisfy 0 <= low < high < inf; got {band_km!r}.")
    return lo, hi


def _neighbour_lists(units: pd.Index, neighbours: Any) -> list[list[Any]]:
    if neighbours is None:
        raise SpecError(
            "exposure='contiguity' needs neighbours=: a mapping unit -> neighbouring units, a "
            "libpysal W, or a square 0/1 array ordered like design.units."
        )
    if hasattr(neighbours, "neighbors") and isinstance(neighbours.neighbors, Mapping):
        neighbours = neighbours.neighbors
    if isinstance(neighbours, Mapping):
        unknown = [k for k in neighbours if k not in set(units)]
        lists = [list(neighbours.get(u, [])) for u in units]
        del unknown  # keys outside the design (e.g. dropped units) carry no exposure
        return lists
    arr = np.asarray(neighbours)
    if arr.ndim != 2 or arr.shape != (len(units), len(units)):
        raise SpecError(
            f"neighbours array must be square with one row per design unit ({len(units)}); got "
            f"shape {arr.shape}."
        )
    keys = list(units)
    return [[keys[int(j)] for j in np.flatnonzero(arr[i] != 0) if j != i] for i in range(len(keys))]


# ---------------------------------------------------------------------- estimator
def spatial_did(
    design: TreatmentDesign,
    outcome: str,
    *,
    exposure: Exposure = "distance",
    band_km: tuple[float, float] = (0.0, 150.0),
    coords: pd.DataFrame | None = None,
    neighbours: Any = None,
    onset: Onset = "earliest",
    estimator: str = "twfe",
    controls: Sequence[str] = (),
    cluster: str | None = None,
    alpha: float = 0.05,
    window: tuple[int, int] | None = None,
    **options: Any,
) -> SpatialDIDResult:
    r"""Estimate the direct effect on treated units and the spillover on their neighbours.

    Parameters
    ----------
    design : TreatmentDesign
        From :func:`agglomera.policy.design` (e.g. ``policy="innovative_city"``).
    outcome : str
        Outcome column of ``design.panel``.
    exposure : {"distance", "contiguity"}, default "distance"
        ``"distance"``: a never-treated unit is exposed when a treated unit lies within
        ``band_km`` (great-circle distance between unit coordinates, bounds inclusive);
        ``"contiguity"``: when one of its first-order ``neighbours`` is treated.
    band_km : tuple of float, default (0, 150)
        Distance band :math:`[d_{lo}, d_{hi}]` in km. 150 km is roughly one hour by
        high-speed rail or two by road between Chinese prefecture cities; state the band
        and vary it as a robustness check.
    coords : pandas.DataFrame, optional
        ``lon``/``lat`` by unit; default :func:`agglomera.reference.cities` (adcodes).
    neighbours : mapping, libpysal W or array, optional
        First-order neighbours for ``exposure="contiguity"`` (a square array is ordered
        like ``design.units``).
    onset : {"earliest", "nearest"}, default "earliest"
        Exposure onset :math:`o_i`: the first treatment year of the earliest-treated unit
        in the band, or of the nearest treated unit in the band (distance only).
    estimator : {"twfe", "event_study", "cs", "sa", "bjs"}, default "twfe"
        ``"twfe"``: one regression with both indicators :math:`D_{it}` and
        :math:`S_{it}` on treated, exposed and far units. ``"event_study"``: relative-time
        dummies for both (:math:`t - g_i` for treated, :math:`t - o_i` for exposed units),
        reference period :math:`-1 - \text{anticipation}`; ``att`` = mean of the
        post-period coefficients. ``"cs"``, ``"sa"``, ``"bjs"``: two separate staggered
        designs estimated with :func:`agglomera.policy.estimate`: treated vs far units
        (exposed and inner units left out) for the direct effect, and exposed units with
        cohort :math:`o_i` vs far units (treated and inner left out) for the spillover.
    controls : sequence of str, default ()
        Covariates (TWFE forms: linear; robust estimators: passed on).
    cluster : str, optional
        Cluster column (default the unit).
    alpha : float, default 0.05
        One minus the confidence level.
    window : tuple of int, optional
        ``(-k, m)`` bins for the event-study forms.
    **options
        Passed to :func:`agglomera.policy.estimate` for the robust estimators.

    Returns
    -------
    SpatialDIDResult

    Raises
    ------
    DataError
        When there are no exposed or no far units (naming the band), or for units
        without coordinates.

    Notes
    -----
    Exposure is only assigned to units that are **never treated within the window**:
    a pilot's own pre-treatment periods are not coded exposed (modelling them would need
    a third status for "not-yet-treated but exposed" units and contaminates the pilots'
    base periods). Treated units are the design's units with a cohort, so pilots
    removed by the design's coding rules are not sources of exposure; this is recorded
    in ``meta["notes"]`` when the design dropped units. Identification requires that far
    units are unaffected (no spillover beyond the band) and parallel trends of treated,
    exposed and far units in the absence of the policy. The TWFE forms inherit the
    staggered-adoption bias of TWFE when effects vary by cohort or over time; the robust
    estimators do not.

    References
    ----------
    Clarke, D. (2017). Estimating difference-in-differences in the presence of spillovers.
    MPRA Paper 81604.
    Butts, K. (2021). Difference-in-differences estimation with spatial spillovers.
    arXiv:2105.03737.
    Callaway, B., Sant'Anna, P. H. C. (2021). *Journal of Econometrics* 225(2), 200–230.
    """
    if not isinstance(design, TreatmentDesign):
        raise SpecError(f"spatial_did() needs a TreatmentDesign; got {type(design).__name__}.")
    check_choice("estimator", estimator, SPATIAL_DID_ESTIMATORS)
    table = exposure_table(
        design,
        exposure=exposure,
        band_km=band_km,
        coords=coords,
        neighbours=neighbours,
        onset=onset,
    )
    status = table["status"].to_numpy()
    counts: dict[str, Any] = {
        "n_treated": int((status == "treated").sum()),
        "n_exposed": int((status == "exposed").sum()),
        "n_far": int((status == "far").sum()),
        "n_inner": int((status == "inner").sum()),
        "exposed_by_onset": {
            int(k): int(v)
            for k, v in table.loc[status == "exposed", "onset"].value_counts().sort_index().items()
        },
    }
    rule = str(table.attrs.get("rule", ""))
    where = f"band_km={band_km!r}" if exposure == "distance" else "the neighbours given"
    if counts["n_exposed"] == 0:
        raise DataError(
            f"no never-treated unit is exposed under {where}; the spillover is not "
            "identified. Fix: widen the band or check the coordinates/neighbours."
        )
    if counts["n_far"] == 0:
        raise DataError(
            f"no far (unexposed never-treated) unit is left under {where}: there is no clean "
            "comparison group. Fix: narrow the band."
        )
    notes: list[str] = []
    if design.meta.get("n_dropped_units", 0):
        notes.append(
            f"{design.meta['n_dropped_units']} units dropped by the design are neither "
            "sources of exposure nor controls"
        )
    if isinstance(controls, str):
        controls = (controls,)
    if estimator in ("twfe", "event_study"):
        if options:
            raise SpecError(
                f"estimator={estimator!r} does not take option(s) "
                f"{format_examples(sorted(options))}."
            )
        direct, spill = _twfe(
            design, outcome, table, estimator, tuple(controls), cluster, alpha, window
        )
        label = "TWFE with treatment and exposure indicators" + (
            " (event study)" if estimator == "event_study" else ""
        )
    else:
        direct, spill = _robust(
            design, outcome, table, estimator, tuple(controls), cluster, alpha, window, options
        )
        label = (
            f"{direct.meta.get('estimator_label', estimator)} on two designs (treated vs far; "
            "exposed vs far)"
        )
    for res, kind in ((direct, "direct"), (spill, "spillover")):
        res.meta["spatial_did"] = {"effect": kind, "exposure_rule": rule, **counts}
    meta = {
        "estimator": estimator,
        "estimator_label": label,
        "outcome": outcome,
        "exposure": exposure,
        "band_km": tuple(float(b) for b in band_km) if exposure == "distance" else None,
        "onset": onset,
        "exposure_rule": rule,
        "notes": notes,
        "dropped": [
            *design.meta.get("dropped", []),
            *(
                [
                    f"{counts['n_inner']} inner units (closer than the band to a treated unit) "
                    "left out"
                ]
                if counts["n_inner"]
                else []
            ),
        ],
    }
    return SpatialDIDResult(direct=direct, spillover=spill, units=table, counts=counts, meta=meta)


def _twfe(
    design: TreatmentDesign,
    outcome: str,
    table: pd.DataFrame,
    estimator: str,
    controls: tuple[str, ...],
    cluster: str | None,
    alpha: float,
    window: tuple[int, int] | None,
) -> tuple[DIDResult, DIDResult]:
    frame0 = design.panel.to_frame()
    unit, time = design.unit, design.time
    info = table.set_index("unit")
    st = info["status"].reindex(frame0[unit]).to_numpy()
    keep = st != "inner"
    y = frame0[outcome]
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        raise DataError(f"outcome {outcome!r} must be numeric; it has dtype {y.dtype}.")
    miss = y.isna().to_numpy() & keep
    if miss.any():
        keys = frame0.loc[miss, [unit, time]].head(5)
        raise DataError(
            f"outcome {outcome!r} has {int(miss.sum())} missing values, e.g. (unit, time) "
            f"{format_examples(list(keys.itertuples(index=False, name=None)))}. Nothing is "
            "dropped silently. Fix: drop those rows explicitly."
        )
    f = frame0.loc[keep].reset_index(drop=True)
    st = st[keep]
    g = info["cohort"].reindex(f[unit]).to_numpy(dtype=np.int64)
    o = info["onset"].reindex(f[unit]).to_numpy(dtype=np.int64)
    tt = f[time].to_numpy(dtype=np.int64)
    cl = cluster or unit
    if cl not in f.columns:
        raise DataError(f"cluster column {cl!r} not found.")
    frame = pd.DataFrame(
        {
            "y": f[outcome].to_numpy(dtype=float),
            "unit_id": pd.factorize(f[unit], sort=True)[0],
            "time_id": tt,
            "cl_id": cluster_ids(f[cl], cl, f[[unit, time]]),
        }
    )
    x_names: list[str] = []
    if controls:
        cov = design.covariate_frame(controls).loc[keep].reset_index(drop=True)
        for j, c in enumerate(controls):
            frame[f"x_{j}"] = cov[c].to_numpy(dtype=float)
            x_names.append(f"x_{j}")
    is_t, is_e = st == "treated", st == "exposed"
    base = {
        "outcome": outcome,
        "alpha": alpha,
        "balance": design.balance,
        "rule": design.rule,
        "anticipation": design.anticipation,
        "n_units": int(frame["unit_id"].nunique()),
        "engine": "pyfixest.feols",
        "dropped": list(design.meta.get("dropped", [])),
    }
    if estimator == "twfe":
        frame["d_direct"] = (is_t & (tt >= g)).astype(float)
        frame["s_spill"] = (is_e & (tt >= o)).astype(float)
        fit = fit_fixed_effects(
            frame, ["d_direct", "s_spill", *x_names], ["unit_id", "time_id"], "cl_id"
        )
        out = []
        for nm, label in (("d_direct", "direct effect"), ("s_spill", "spillover effect")):
            k = fit.names.index(nm)
            meta = _meta(
                base,
                fit,
                cl,
                controls,
                f"spatial_twfe_{label.split()[0]}",
                f"Spatial DID TWFE — {label}",
            )
            meta["aggregate"] = "simple"
            out.append(
                did_result(float(fit.coef[k]), sqrt_var(fit.vcov[k, k]), alpha=alpha, meta=meta)
            )
        return out[0], out[1]

    ref = -1 - design.anticipation
    rel_d = bin_event_time(np.where(is_t, (tt - g).astype(float), np.nan), window, ref)
    rel_s = bin_event_time(np.where(is_e, (tt - o).astype(float), np.nan), window, ref)
    sets = []
    for rel, prefix in ((rel_d, "evd"), (rel_s, "evs")):
        levels = sorted({int(e) for e in rel[~np.isnan(rel)]} - {ref})
        names = [ev_name(e, prefix) for e in levels]
        for e, nm in zip(levels, names, strict=True):
            frame[nm] = (rel == e).astype(float)
        sets.append((rel, levels, names))
    regs = [nm for _, _, names in sets for nm in names]
    fit = fit_fixed_effects(frame, [*regs, *x_names], ["unit_id", "time_id"], "cl_id")
    out = []
    uid = frame["unit_id"].to_numpy()
    for (rel, levels, names), label in zip(
        sets, ("direct effect", "spillover effect"), strict=True
    ):
        ev = event_study_fit(fit, levels, names, rel, uid, ref, alpha)
        meta = _meta(
            base,
            fit,
            cl,
            controls,
            f"spatial_event_study_{label.split()[0]}",
            f"Spatial DID event study — {label}",
        )
        meta["aggregate"] = "dynamic"
        meta["collinear"] = ev.collinear
        meta["conventions"].update(
            reference_period=ref, att="mean of the post-treatment coefficients e >= 0"
        )
        out.append(ev.result(alpha, meta))
    return out[0], out[1]


def _meta(
    base: dict[str, Any],
    fit: FEFit,
    cluster: str,
    controls: tuple[str, ...],
    est: str,
    label: str,
) -> dict[str, Any]:
    conventions = {
        "fixed_effects": "unit, time",
        "cluster": cluster,
        "controls": ", ".join(controls) or "none",
        "comparison": "far units (never treated, no treated unit within the band)",
    }
    return fit_meta(
        base,
        fit,
        conventions,
        coefficient_names=True,
        estimator=est,
        estimator_label=label,
    )


def _robust(
    design: TreatmentDesign,
    outcome: str,
    table: pd.DataFrame,
    estimator: str,
    controls: tuple[str, ...],
    cluster: str | None,
    alpha: float,
    window: tuple[int, int] | None,
    options: dict[str, Any],
) -> tuple[DIDResult, DIDResult]:
    from agglomera.policy.estimation import estimate

    status = table.set_index("unit")["status"]
    onset = table.set_index("unit")["onset"]
    opts = dict(options)
    if window is not None:
        opts["window"] = window
    out = []
    for kind, members in (("direct", ("treated", "far")), ("spillover", ("exposed", "far"))):
        units = [u for u in design.units if status[u] in members]
        panel = design.panel.subset(units=units)
        f = panel.to_frame()
        if kind == "direct":
            coh = design.cohorts.reindex(f[design.unit]).to_numpy(dtype=np.int64)
        else:
            coh = onset.reindex(f[design.unit]).to_numpy(dtype=np.int64)
        panel = panel.with_columns(note=f"spatial DID {kind} design", sdid_cohort=coh)
        d2 = derived_design(design, panel, "sdid_cohort")
        res = estimate(
            d2,
            outcome,
            estimator=estimator,
            controls=controls,
            cluster=cluster,
            alpha=alpha,
            **opts,
        )
        res.meta["estimator_label"] = (
            f"{res.meta.get('estimator_label', estimator)} — {kind} effect "
            f"({members[0]} vs far units)"
        )
        res.meta["dropped"] = [
            *design.meta.get("dropped", []),
            f"{len(design.units) - len(units)} units of other exposure status left out of the "
            f"{kind} design",
            *res.meta.get("dropped", []),
        ]
        out.append(res)
    return out[0], out[1]
