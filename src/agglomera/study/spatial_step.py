"""The ``[spatial]`` step: weights, Moran's I by year, LISA, a spatial panel model."""

from __future__ import annotations

from typing import Any

from agglomera.data.panel import Panel
from agglomera.errors import SpecError
from agglomera.study.sections import Section
from agglomera.study.spec import OutputSpec, SpatialSpec, WeightsSpec
from agglomera.study.values import frame_records, frame_table, number

__all__ = ["build_weights", "run_spatial"]


def build_weights(panel: Panel, spec: WeightsSpec) -> Any:
    """Weights over the panel's units (adcodes) from the reference coordinates."""
    from agglomera.spatial import weights

    units = [str(u) for u in panel.units]
    if spec.kind == "knn":
        if spec.k >= len(units):
            raise SpecError(
                f"spatial.weights.k = {spec.k} must be below the number of units ({len(units)})."
            )
        return weights.knn(units, spec.k, row_standardise=spec.row_standardise)
    if spec.kind == "distance":
        return weights.distance(
            units, power=spec.power, cutoff=spec.cutoff_km, row_standardise=spec.row_standardise
        )
    return weights.contiguity(units=units, row_standardise=spec.row_standardise, k=spec.k)


def _describe(spec: WeightsSpec) -> str:
    if spec.kind == "knn":
        return f"{spec.k} nearest neighbours (great-circle distance)"
    if spec.kind == "distance":
        cutoff = f", cutoff {spec.cutoff_km} km" if spec.cutoff_km else ""
        return f"inverse great-circle distance^{spec.power}{cutoff}"
    return f"queen contiguity of the census boundaries (islands: {spec.k} nearest neighbours)"


def run_spatial(
    panel: Panel, spec: SpatialSpec, outputs: OutputSpec, *, seed: int, language: str
) -> Section:
    """Run the spatial analyses and return their report section."""
    from agglomera.spatial import autocorrelation, figures

    section = Section("spatial", language)
    w = build_weights(panel, spec.weights)
    section.setting("spatial weights", spec, "weights", show=_describe)
    section.setting("row-standardised weights", spec.weights, "row_standardise")
    section.setting(
        "permutations (Moran, LISA)",
        spec,
        "permutations",
        "esda (global Moran); conditional permutation, Anselin (1995) (LISA, Gi*)",
    )
    frame = panel.to_frame()
    if spec.moran:
        section.heading("autocorrelation")
        results: dict[str, Any] = {}
        year = spec.lisa_year if spec.lisa_year is not None else int(panel.times[-1])
        for var in spec.moran:
            if var not in frame.columns:
                raise SpecError(f"spatial.moran: {var!r} is not a column of the data.")
            table = autocorrelation.moran_by_year(
                panel, var, w, permutations=spec.permutations, seed=seed
            )
            section.table(
                f"moran_{var}",
                frame_table(
                    table,
                    title=f"Global Moran's I of {var} by year",
                    digits=outputs.digits,
                    language=language,
                ),
            )
            local = autocorrelation.lisa(
                panel, var, w, year=year, permutations=spec.permutations, seed=seed
            )
            section.figure(
                f"moran_scatter_{var}",
                f"Moran scatter plot of {var}, {year}.",
                figures.moran_scatter(panel, var, w, year),
            )
            section.figure(
                f"lisa_{var}",
                f"LISA clusters of {var}, {year} (p < 0.05).",
                figures.lisa_map(local),
            )
            results[var] = {"moran": frame_records(table), "lisa": frame_records(local)}
        section.results["autocorrelation"] = results
    if spec.hotspots:
        _hotspots(panel, w, spec, section, seed=seed)
    if spec.centre:
        _centre(panel, spec, section, outputs=outputs, language=language)
    if spec.model is not None:
        _model(panel, w, spec, section, seed=seed, outputs=outputs, language=language)
    return section


def _check(panel: Panel, var: str, key: str) -> None:
    if var not in panel:
        raise SpecError(f"spatial.{key}: {var!r} is not a column of the data.")


def _hotspots(panel: Panel, w: Any, spec: SpatialSpec, section: Section, *, seed: int) -> None:
    from agglomera.spatial import figures
    from agglomera.spatial.hotspots import getis_ord

    section.heading("hotspots")
    year = spec.lisa_year if spec.lisa_year is not None else int(panel.times[-1])
    section.method(
        "hot spots",
        "Getis–Ord Gi* (self-weight = the row's largest weight)",
        "",
        "Ord and Getis (1995); permutation p-values",
    )
    out: dict[str, Any] = {}
    for var in spec.hotspots:
        _check(panel, var, "hotspots")
        frame = getis_ord(panel, var, w, year=year, permutations=spec.permutations, seed=seed)
        section.figure(
            f"hotspots_{var}",
            f"Hot and cold spots of {var}, {year} (p < 0.05).",
            figures.hotspot_map(frame, year=year),
        )
        out[var] = frame_records(frame)
    section.results["hotspots"] = out


def _centre(
    panel: Panel, spec: SpatialSpec, section: Section, *, outputs: OutputSpec, language: str
) -> None:
    from agglomera.spatial.centre import gravity_centre, std_ellipse
    from agglomera.spatial.figures_centre import centre_path_figure

    section.heading("centre")
    section.setting(
        "gravity centre",
        spec,
        "centre_method",
        "sphere: mean of 3-D unit vectors; planar: mean of longitude/latitude",
    )
    section.method(
        "standard deviational ellipse",
        "no √2 correction, n in the denominator",
        "",
        "CrimeStat convention; ArcGIS multiplies the axes by √2",
    )
    out: dict[str, Any] = {}
    for var in spec.centre:
        _check(panel, var, "centre")
        centre = gravity_centre(panel, var, method=spec.centre_method)
        ellipses = std_ellipse(panel, var)
        path = centre.to_frame()
        section.table(
            f"centre_{var}",
            frame_table(
                path,
                title=f"Gravity centre of {var} by year",
                digits=outputs.digits,
                language=language,
            ),
        )
        section.figure(
            f"centre_{var}",
            f"Gravity-centre path and standard deviational ellipses of {var}.",
            centre_path_figure(centre, ellipses),
        )
        out[var] = {"path": frame_records(path), "ellipses": frame_records(ellipses.to_frame())}
    section.results["centre"] = out


def _model(
    panel: Panel,
    w: Any,
    spec: SpatialSpec,
    section: Section,
    *,
    seed: int,
    outputs: OutputSpec,
    language: str,
) -> None:
    from agglomera.spatial.panel_models import panel_model

    m = spec.model
    assert m is not None
    result = panel_model(
        panel, y=m.y, x=list(m.x), w=w, model=m.model, effects=m.effects, lee_yu=m.lee_yu
    )
    section.heading("spatial_model")
    section.setting("spatial panel model", m, "model", "Elhorst (2014), ML")
    section.setting("spatial model fixed effects", m, "effects")
    section.setting("Lee–Yu bias correction", m, "lee_yu", "Lee and Yu (2010)")
    section.setting(
        "effects",
        m,
        "draws",
        "LeSage and Pace (2009, ch. 2.7); the SDM direct effect includes θ",
        show=lambda draws: f"LeSage–Pace, SEs from {draws} draws",
    )
    coef = result.to_frame()
    section.table(
        "spatial_model",
        frame_table(
            coef,
            title=f"Spatial panel model ({m.model.upper()})",
            digits=outputs.digits,
            language=language,
        ),
    )
    section.pre(result.summary())
    out: dict[str, Any] = {
        "rho": number(result.rho),
        "lam": number(result.lam),
        "loglik": number(result.loglik),
        "params": {str(k): number(v) for k, v in result.params.items()},
        "se": {str(k): number(v) for k, v in result.se.items()},
    }
    if m.model in ("sar", "sdm") and m.draws:
        effects = result.effects(draws=m.draws, seed=seed)
        table = effects.reset_index()
        section.table(
            "spatial_effects",
            frame_table(
                table,
                title="Direct, indirect and total effects",
                digits=outputs.digits,
                language=language,
            ),
        )
        out["effects"] = frame_records(table)
    section.results["model"] = out
