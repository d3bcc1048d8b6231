"""The ``[interaction]`` step: coupling dynamics, panel Granger causality, panel VAR."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agglomera.data.panel import Panel
from agglomera.study.sections import Section
from agglomera.study.spec import InteractionSpec, OutputSpec
from agglomera.study.values import frame_records, frame_table, number

__all__ = ["run_interaction"]


def _demeaned(panel: Panel, columns: list[str]) -> tuple[Panel, list[str]]:
    """Add ``<column>_dm`` = column minus its year mean (recorded in provenance)."""
    frame = panel.to_frame()
    new = {
        f"{c}_dm": (frame[c] - frame.groupby(panel.time)[c].transform("mean")).to_numpy()
        for c in columns
    }
    note = "year means removed from " + ", ".join(columns) + " (suffix _dm)"
    return panel.with_columns(note=note, **new), list(new)


def run_interaction(
    panel: Panel, spec: InteractionSpec, outputs: OutputSpec, *, seed: int, language: str
) -> Section:
    """Run the interaction analyses and return their report section."""
    section = Section("interaction", language)
    industry, talent = spec.industry, spec.talent
    if spec.coupling is not None:
        _coupling(panel, spec, section, outputs, language)
    work, (ind, tal) = panel, (industry, talent)
    if spec.granger is not None or spec.panel_var is not None:
        section.setting(
            "time effects before Granger / panel VAR",
            spec,
            "demean_time",
            "removes common shocks and trends shared by all cities",
            show=lambda on: "year means removed" if on else "none",
        )
        if spec.demean_time:
            work, (ind, tal) = _demeaned(panel, [industry, talent])
    if spec.granger is not None:
        _granger(work, ind, tal, spec, section, seed=seed)
    if spec.panel_var is not None:
        _panel_var(work, ind, tal, spec, section, seed=seed)
    return section


def _coupling(
    panel: Panel, spec: InteractionSpec, section: Section, outputs: OutputSpec, language: str
) -> None:
    from agglomera.interaction.coupling_dynamics import coupling_dynamics
    from agglomera.report.figures import coupling_paths

    c = spec.coupling
    assert c is not None
    result = coupling_dynamics(
        panel,
        spec.industry,
        spec.talent,
        form=c.form,
        alpha=c.alpha,
        beta=1.0 - c.alpha,
        region=c.region,
        names=("industry", "talent"),
    )
    section.heading("coupling")
    section.setting(
        "coupling degree formula",
        c,
        "form",
        "standard C = 2√(U1U2)/(U1+U2); corrected: Wang Shujia et al. (2021)",
    )
    section.setting("weight of industry in T", c, "alpha")
    frame = result.frame
    by_year = frame.groupby(panel.time)[["C", "T", "D"]].mean().reset_index()
    section.table(
        "coupling_by_year",
        frame_table(
            by_year,
            title="Coupling coordination, mean over cities",
            digits=outputs.digits,
            language=language,
        ),
    )
    last = frame[frame[panel.time] == frame[panel.time].max()]
    columns = [panel.unit, "C", "T", "D", "grade_zh" if language == "zh" else "grade_en", "lagging"]
    section.table(
        "coupling_last_year",
        frame_table(
            last[columns],
            title=f"Coupling coordination by city, {int(last[panel.time].iloc[0])}",
            digits=outputs.digits,
            language=language,
        ),
    )
    section.pre(result.summary())
    section.figure(
        "coupling_paths",
        "Coupling coordination degree D by city over time.",
        coupling_paths(
            frame,
            unit=panel.unit,
            time=panel.time,
            value="D",
            grades="classes",
            language=language,
        ),
    )
    section.results["coupling"] = {
        "by_year": frame_records(by_year),
        "frame": frame_records(frame[[panel.unit, panel.time, "C", "T", "D", "grade"]]),
        "transitions": frame_records(result.transitions().reset_index()),
    }


def _granger(
    panel: Panel,
    industry: str,
    talent: str,
    spec: InteractionSpec,
    section: Section,
    *,
    seed: int,
) -> None:
    from agglomera.interaction.granger import dumitrescu_hurlin

    g = spec.granger
    assert g is not None
    result = dumitrescu_hurlin(
        panel, talent, industry, lags=g.lags, bootstrap=g.bootstrap, seed=seed
    )
    section.heading("granger")
    section.method(
        "Granger test", "Dumitrescu–Hurlin (2012)", "", "Z̃ uses T − K usable periods, as R plm"
    )
    section.setting("Granger lags", g, "lags")
    table = result.to_frame()
    section.table(
        "granger",
        frame_table(table, title="Panel Granger causality", digits=4, language=section.language),
    )
    section.pre(result.summary())
    directions = {}
    for r in (result, result.reverse):
        if r is None:
            continue
        directions[f"{r.x} -> {r.y}"] = {
            "wbar": number(r.wbar),
            "zbar": number(r.zbar),
            "zbar_pvalue": number(r.zbar_pvalue),
            "ztilde": number(r.ztilde),
            "ztilde_pvalue": number(r.ztilde_pvalue),
            "lags": int(r.lags),
        }
    section.results["granger"] = directions


def _panel_var(
    panel: Panel,
    industry: str,
    talent: str,
    spec: InteractionSpec,
    section: Section,
    *,
    seed: int,
) -> None:
    from agglomera.interaction.figures import irf_figure
    from agglomera.interaction.panel_var import panel_var

    v = spec.panel_var
    assert v is not None
    variables = [industry, talent]
    result = panel_var(
        panel,
        variables,
        lags=v.lags,
        transform=v.transform,
        steps=v.steps,
        instrument_lags=v.instrument_lags,
        collapse=v.collapse,
    )
    section.heading("panel_var")
    ordering = list(v.ordering) if v.ordering else variables
    section.setting("panel VAR transformation", v, "transform", "Arellano and Bover (1995)")
    section.setting("panel VAR GMM steps", v, "steps", "two-step with Windmeijer (2005) SEs")
    section.setting(
        "panel VAR instruments",
        v,
        "instrument_lags",
        "Holtz-Eakin, Newey and Rosen (1988); collapsing: Roodman (2009)",
        show=lambda lags: f"lags {lags[0]}–{lags[1]}",
    )
    section.setting("panel VAR instrument collapsing", v, "collapse", "Roodman (2009)")
    section.setting("IRF identification", v, "irf", "Cholesky in the ordering below")
    section.method(
        "Cholesky ordering",
        ordering,
        variables,
        "the first variable is not affected contemporaneously by shocks to the later ones",
    )
    section.setting("IRF bands", v, "bands")
    section.setting("IRF band draws", v, "draws")
    coef = result.to_frame()
    section.table(
        "panel_var",
        frame_table(
            coef, title="Panel VAR coefficients (GMM)", digits=4, language=section.language
        ),
    )
    section.pre(result.summary())
    granger = result.granger()
    section.table(
        "panel_var_granger",
        frame_table(
            granger, title="Panel VAR Granger causality (Wald)", digits=4, language=section.language
        ),
    )
    irf = result.irf(
        steps=v.irf_steps,
        kind=v.irf,
        ordering=ordering,
        bands=v.bands if v.draws else None,
        draws=v.draws,
        seed=seed,
    )
    section.figure("irf", f"Impulse responses ({v.irf}) with {v.bands} bands.", irf_figure(irf))
    fevd = result.fevd(v.irf_steps, ordering=ordering)
    hansen: Any = result.hansen_j
    section.results["panel_var"] = {
        "coefficients": frame_records(coef),
        "hansen_j": {
            "statistic": number(hansen.statistic),
            "df": int(hansen.df),
            "pvalue": number(hansen.pvalue),
        },
        "stable": bool(result.stable),
        "granger": frame_records(granger),
        "irf": frame_records(irf),
        "fevd": frame_records(
            fevd.reset_index() if not isinstance(fevd.index, pd.RangeIndex) else fevd
        ),
        "n_obs": int(result.n_obs),
    }
