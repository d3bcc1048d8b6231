"""Regenerate the figures of docs/policy-robustness.md from the example data.

Run from the repository root: ``.venv/bin/python scripts/make_doc_figures.py``. The figures
are deterministic (seeded example data and placebo draws) and written to ``docs/figures/``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import agglomera as ag
from agglomera.policy.figures import event_study_figure, group_estimates_figure

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    example = ag.datasets.innovative_city(scope="prefecture", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        design = ag.policy.design(example.panel, cohort="treat_year")
        cs = ag.policy.estimate(design, "talent_lq", estimator="cs", aggregate="dynamic")
        bjs = ag.policy.estimate(design, "talent_lq", estimator="bjs", aggregate="dynamic")
        placebo = ag.policy.placebo(
            design, "talent_lq", estimator="twfe", draws=1000, scheme="units", seed=0
        )
        het = ag.policy.heterogeneity(
            design, "talent_lq", by="region3", estimator="cs", test="bootstrap", draws=199, seed=0
        )

    fig = event_study_figure(
        {"Callaway–Sant'Anna": cs, "BJS imputation": bjs},
        title="Innovative-city pilot and the talent LQ (example data)",
    )
    fig.savefig(OUT / "event_study.png", dpi=120)

    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    placebo.plot(ax=fig.add_subplot())
    fig.tight_layout()
    fig.savefig(OUT / "placebo_density.png", dpi=120)

    rows = [
        (str(r.group), float(r.att), float(r.ci_low), float(r.ci_high))
        for r in het.groups.itertuples(index=False)
    ]
    fig = group_estimates_figure(
        rows, title="Effect by region (CS, split samples)", truth=example.truth["att_by_region"]
    )
    fig.savefig(OUT / "heterogeneity.png", dpi=120)


if __name__ == "__main__":
    main()
