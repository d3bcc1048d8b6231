"""The ``[policy]`` step: design, estimators, inference, robustness, heterogeneity, mechanisms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agglomera.data.panel import Panel
from agglomera.study.sections import Section
from agglomera.study.spec import OutputSpec, PolicySpec
from agglomera.study.values import frame_records, frame_table, number

__all__ = ["ESTIMATOR_NAMES", "did_numbers", "estimator_options", "run_policy"]

#: Display names and references of the DID estimators.
ESTIMATOR_NAMES: dict[str, tuple[str, str]] = {
    "twfe": ("TWFE", "two-way fixed effects (pyfixest)"),
    "event_study": ("TWFE event study", "relative-time dummies, reference period −1"),
    "cs": ("CS", "Callaway and Sant'Anna (2021), R did conventions"),
    "sa": ("SA", "Sun and Abraham (2021), interaction-weighted"),
    "bjs": ("BJS", "Borusyak, Jaravel and Spiess (2024) imputation"),
    "dcdh": ("dCDH", "de Chaisemartin and D'Haultfœuille (2020, 2024)"),
}


def did_numbers(result: Any) -> dict[str, Any]:
    """Return the numbers of a DIDResult shown in the report."""
    return {
        "att": number(result.att),
        "se": number(result.se),
        "ci_low": number(result.ci[0]),
        "ci_high": number(result.ci[1]),
        "pvalue": number(result.pvalue),
        "pretrend_pvalue": number(result.pretrend_pvalue),
        "n_units": result.meta.get("n_units"),
        "n_obs": result.meta.get("n_obs"),
        "event_study": frame_records(result.event_study),
    }


def estimator_options(spec: PolicySpec, name: str) -> dict[str, Any]:
    """Return the options of ``policy.estimate`` that the study sets for estimator ``name``.

    Every estimation of the study (main table, placebo, robustness, heterogeneity,
    mechanisms, spatial DID) uses these, so that its columns differ only in what they vary.
    """
    options: dict[str, Any] = {"controls": list(spec.controls), "cluster": spec.cluster}
    if name in ("cs", "bjs"):
        options["control_group"] = spec.control_group
    if name == "cs":
        options["method"] = spec.method
    if name in ("event_study", "sa") and spec.window is not None:
        options["window"] = tuple(spec.window)
    return options


def _defaults(spec: PolicySpec, section: Section) -> None:
    coding = (
        f"registry 'innovative_city' (unverified: {spec.unverified}, districts: "
        f"{spec.districts}, county-level: {spec.county_level})"
        if spec.policy
        else f"cohort column {spec.cohort!r}"
    )
    section.method("treatment coding", coding, "", "agglomera.reference.treatment_years")
    section.setting(
        "unverified pilot years",
        spec,
        "unverified",
        "drop: neither treated nor control (no year can be verified)",
    )
    section.setting(
        "comparison group",
        spec,
        "control_group",
        "Callaway and Sant'Anna (2021); not-yet-treated keeps a comparison group when all "
        "units are eventually treated",
    )
    section.setting(
        "unbalanced panels",
        spec,
        "balance",
        "R did allow_unbalanced_panel = FALSE",
    )
    section.setting(
        "units treated in every period",
        spec,
        "always_treated",
        "error: they have no untreated period; drop: removed and recorded",
    )
    section.setting(
        "joint pre-trend test",
        spec,
        "pretrend_test",
        "bootstrap: sup-t over the leads, size checked under parallel trends (docs/policy.md); "
        "wald: χ² as R did",
    )
    section.setting("anticipation periods", spec, "anticipation")
    section.setting("CS estimation method", spec, "method", "Sant'Anna and Zhao (2020)")
    section.setting(
        "standard errors clustered by",
        spec,
        "cluster",
        "Bertrand, Duflo and Mullainathan (2004)",
        show=lambda cluster: cluster or "unit",
    )


def run_policy(
    panel: Panel,
    spec: PolicySpec,
    outputs: OutputSpec,
    *,
    seed: int,
    language: str,
    progress: Callable[[str], None] | None = None,
) -> Section:
    """Run the policy evaluation and return its report section.

    ``progress`` (optional) is called with a short status text during long loops (the
    placebo draws); the command line shows it.
    """
    from agglomera import policy
    from agglomera.policy.figures import event_study_figure
    from agglomera.report.table import Table

    section = Section("policy", language)
    coding: dict[str, Any] = (
        {
            "districts": spec.districts,
            "county_level": spec.county_level,
            "unverified": spec.unverified,
        }
        if spec.policy
        else {}
    )
    design = policy.design(
        panel,
        policy=spec.policy,
        cohort=spec.cohort,
        anticipation=spec.anticipation,
        balance=spec.balance,
        always_treated=spec.always_treated,
        **coding,
    )
    section.heading("design")
    section.pre(design.summary())
    _defaults(spec, section)
    results: dict[str, Any] = {}
    for name in spec.estimators:
        options = estimator_options(spec, name)
        results[name] = policy.estimate(
            design,
            spec.outcome,
            estimator=name,
            pretrend_test=spec.pretrend_test,
            seed=seed,
            **options,
        )
    section.results["design"] = {
        "n_units": len(design.cohorts),
        "n_never_treated": len(design.never_treated()),
        "cohorts": {str(k): int(v) for k, v in design.cohort_sizes().items()},
        "rule": design.rule,
    }
    section.results["estimates"] = {k: did_numbers(r) for k, r in results.items()}
    section.heading("estimates")
    section.text(
        "Estimators: "
        + "; ".join(f"{ESTIMATOR_NAMES[k][0]} — {ESTIMATOR_NAMES[k][1]}" for k in results)
        + "."
    )
    from agglomera.report.models import ModelColumn

    columns = [
        ModelColumn.from_did(r, stats=("n_obs", "n_units", "pretrend_pvalue"))
        for r in results.values()
    ]
    table = Table.regression(
        columns,
        title=f"Effect of the policy on {spec.outcome}",
        stats=("n_obs", "n_units", "pretrend_pvalue"),
        column_groups=[ESTIMATOR_NAMES[k][0] for k in results],
        stars=tuple(outputs.stars),
        se_style=outputs.se_style,
        digits=outputs.digits,
        language=language,
        label="tab:policy_main",
    )
    section.table("main", table)
    dynamic = {ESTIMATOR_NAMES[k][0]: r for k, r in results.items() if len(r.event_study)}
    if dynamic:
        section.figure(
            "event_study",
            "Event-study estimates with 95% confidence intervals "
            "(reference period: the estimator's own base period).",
            event_study_figure(dynamic, title=f"Dynamic effects on {spec.outcome}"),
        )
    _inference(design, spec, section, seed=seed, progress=progress)
    _robustness(design, spec, section, outputs, language)
    _heterogeneity(design, spec, section, seed=seed)
    _mechanisms(design, spec, section, seed=seed)
    _spatial_did(design, spec, section, outputs, language)
    return section


def _spatial_did(
    design: Any, spec: PolicySpec, section: Section, outputs: OutputSpec, language: str
) -> None:
    from agglomera import policy
    from agglomera.report.table import Table

    s = spec.spatial_did
    if s is None:
        return
    result = policy.spatial_did(
        design,
        spec.outcome,
        band_km=s.band_km,
        estimator=s.estimator,
        **estimator_options(spec, s.estimator),
    )
    section.heading("spatial_did")
    section.setting(
        "spillover exposure",
        s,
        "band_km",
        "great-circle distance between reference coordinates; exposure from the first "
        "treatment in the band",
        show=lambda band: f"untreated units within {band[0]:g}–{band[1]:g} km of a treated unit",
    )
    section.table(
        "spatial_did",
        Table.regression(
            [result.direct, result.spillover],
            title="Direct and spillover effects",
            column_groups=["pilots", "neighbours"],
            stars=tuple(outputs.stars),
            se_style=outputs.se_style,
            digits=outputs.digits,
            language=language,
        ),
    )
    section.pre(result.summary())
    section.results["spatial_did"] = {
        "direct": did_numbers(result.direct),
        "spillover": did_numbers(result.spillover),
        "counts": {str(k): v for k, v in result.counts.items()},
    }


def _inference(
    design: Any,
    spec: PolicySpec,
    section: Section,
    *,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> None:
    from agglomera import policy

    if spec.placebo is None and spec.wild_bootstrap is None:
        return
    section.heading("inference")
    if spec.placebo is not None:
        p = spec.placebo
        extra = estimator_options(spec, p.estimator)
        extra.pop("controls")
        placebo = policy.placebo(
            design,
            spec.outcome,
            estimator=p.estimator,
            draws=p.draws,
            scheme=p.scheme,
            seed=seed,
            controls=list(spec.controls),
            p_value=p.p_value,
            progress=_draw_counter(progress, "placebo draws"),
            **extra,
        )
        section.setting("placebo re-assignment scheme", p, "scheme", "Heß (2017) ritest")
        section.setting("placebo p-value rule", p, "p_value", "share: Stata ritest")
        section.setting("placebo estimator", p, "estimator")
        section.results["placebo"] = {
            "estimate": number(placebo.estimate),
            "p_value": number(placebo.p_value),
            "draws": p.draws,
            "n_failed": placebo.meta.get("n_failed"),
            "seed": seed,
        }
        section.pre(placebo.summary())
        figure = _placebo_figure(placebo)
        if figure is not None:
            section.figure(
                "placebo",
                f"Distribution of {p.draws} placebo estimates; the line marks the actual estimate.",
                figure,
            )
    if spec.wild_bootstrap is not None:
        w = spec.wild_bootstrap
        wild = policy.wild_bootstrap(
            design,
            spec.outcome,
            weights=w.weights,
            draws=w.draws,
            seed=seed,
            controls=list(spec.controls),
            cluster=spec.cluster,
        )
        section.setting(
            "wild bootstrap weights", w, "weights", "Cameron, Gelbach and Miller (2008)"
        )
        section.results["wild_bootstrap"] = {
            "att": number(wild.att),
            "wild_pvalue": number(wild.wild_pvalue),
            "wild_ci_low": number(wild.wild_ci[0]),
            "wild_ci_high": number(wild.wild_ci[1]),
            "draws": w.draws,
        }
        section.pre(wild.summary())


def _draw_counter(
    progress: Callable[[str], None] | None, label: str
) -> Callable[[int, int], None] | bool:
    """Turn a status callback into the ``progress(done, total)`` of a loop (or False)."""
    if progress is None:
        return False
    report = progress

    def counter(done: int, total: int) -> None:
        report(f"{label} {done}/{total}")

    return counter


def _placebo_figure(placebo: Any) -> Any:
    try:
        from agglomera.report.figures import placebo_figure
    except ImportError:  # pragma: no cover - the report extra is part of the package
        return None
    return placebo_figure(placebo)


def _robustness(
    design: Any, spec: PolicySpec, section: Section, outputs: OutputSpec, language: str
) -> None:
    from agglomera import policy
    from agglomera.report.table import Table

    r = spec.robustness
    if r is None:
        return
    checks: dict[str, Any] = {}
    section.heading("robustness")
    if r.bacon:
        bacon = policy.bacon_decomposition(design, spec.outcome)
        section.results["bacon"] = {
            "twfe": number(bacon.twfe),
            "comparisons": frame_records(bacon.to_frame()),
        }
        section.pre(bacon.summary())
    estimator = "cs" if "cs" in spec.estimators else spec.estimators[0]
    options = estimator_options(spec, estimator)
    options["pretrend_test"] = spec.pretrend_test
    if r.exclude_units:
        checks["excluding " + ", ".join(r.exclude_units)] = policy.estimate(
            policy.exclude(design, units=list(r.exclude_units)),
            spec.outcome,
            estimator=estimator,
            **options,
        )
    for k in r.fake_timing:
        checks[f"treatment {k} years earlier (placebo)"] = policy.estimate(
            policy.fake_timing(design, k), spec.outcome, estimator=estimator, **options
        )
    if r.drop_never_treated:
        checks["without never-treated units"] = policy.estimate(
            policy.drop_never_treated(design), spec.outcome, estimator=estimator, **options
        )
    if checks:
        section.results["robustness"] = {k: did_numbers(v) for k, v in checks.items()}
        section.table(
            "robustness",
            Table.regression(
                list(checks.values()),
                title="Robustness checks",
                column_groups=list(checks),
                stars=tuple(outputs.stars),
                se_style=outputs.se_style,
                digits=outputs.digits,
                language=language,
            ),
        )


def _heterogeneity(design: Any, spec: PolicySpec, section: Section, *, seed: int) -> None:
    from agglomera import policy

    h = spec.heterogeneity
    if h is None:
        return
    het = policy.heterogeneity(
        design,
        spec.outcome,
        by=h.by,
        estimator=h.estimator,
        seed=seed,
        **estimator_options(spec, h.estimator),
    )
    section.results["heterogeneity"] = {
        "groups": frame_records(het.groups),
        "test": het.test,
        "statistic": number(het.statistic),
        "df": int(het.df),
        "pvalue": number(het.pvalue),
    }
    section.heading("heterogeneity")
    section.table(
        "heterogeneity",
        frame_table(het.groups, title=f"Effects by {h.by}", digits=3, language=section.language),
    )
    section.pre(het.summary())


def _mechanisms(design: Any, spec: PolicySpec, section: Section, *, seed: int) -> None:
    from agglomera import policy

    m = spec.mechanisms
    if m is None:
        return
    out: dict[str, Any] = {}
    section.heading("mechanisms")
    for mediator in m.mediators:
        res = policy.mechanism(
            design,
            mediator,
            outcome=spec.outcome,
            mode=m.mode,
            seed=seed,
            bootstrap=m.bootstrap,
            **estimator_options(spec, "cs"),
        )
        out[mediator] = {
            "effect_on_mediator": did_numbers(res.mediator),
            "indirect": number(res.indirect),
            "indirect_se": number(res.indirect_se),
        }
        section.pre(res.summary())
    section.setting(
        "mechanism analysis",
        m,
        "mode",
        "causal: the policy's effect on the mediator; three_step: Baron and Kenny (1986)",
    )
    section.results["mechanisms"] = out
