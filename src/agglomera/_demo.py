"""The ``agglomera demo`` job: the two seed studies' data on the shipped example datasets.

The demo builds the example panels of both seed studies, states the pilot coding rule,
measures talent agglomeration and the Bay Area industry–talent coupling, and writes every
table to the output directory (CSV) with a Markdown summary. It is a thin composition of
public API calls; the numbers it prints are the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["DemoOutputs", "run_demo"]

BAY_INDUSTRY = ("ht_rd_exp", "ht_exports", "ht_industrialisation")
BAY_TALENT = ("prof_tech_per10k", "rd_staff_per10k", "patents_per10k_emp")


@dataclass(frozen=True)
class DemoOutputs:
    """Tables computed by the demo (also written as CSV files)."""

    pilots_by_batch: pd.DataFrame
    cohorts: pd.DataFrame
    talent_lq_by_region: pd.DataFrame
    bay_coupling: pd.DataFrame
    coding_rule: str
    files: tuple[Path, ...]


def compute_demo(seed: int = 0) -> tuple[DemoOutputs, dict[str, pd.DataFrame]]:
    """Compute the demo tables without writing anything.

    Returns
    -------
    (DemoOutputs, dict)
        The summary tables and the full frames to be written (name → frame).
    """
    from agglomera import datasets, measure, reference

    pilots = reference.pilots("innovative_city")
    by_batch = (
        pilots.assign(approval_year=pilots["approval_year"].astype("string").fillna("unverified"))
        .groupby(["approval_year", "status"], dropna=False)
        .size()
        .rename("units")
        .reset_index()
    )

    city = datasets.innovative_city(scope="prefecture", seed=seed)
    frame = city.to_frame()
    coding_rule = str(city.truth.get("coding_rule", ""))
    first_rows = frame.drop_duplicates("adcode")
    cohorts = (
        first_rows[first_rows["treat_year"] > 0]
        .groupby("treat_year")
        .agg(cities=("adcode", "size"), names=("name_en", lambda s: ", ".join(sorted(s))))
        .reset_index()
        .rename(columns={"treat_year": "cohort"})
        .astype({"cohort": "string"})
    )
    never = int((first_rows["treat_year"] == 0).sum())
    never_row = pd.DataFrame(
        {"cohort": ["not treated by 2019"], "cities": [never], "names": ["(not listed)"]}
    )
    cohorts = pd.concat([cohorts, never_row], ignore_index=True)

    lq = measure.location_quotient(
        frame[["adcode", "year", "emp_it", "emp_sci", "emp_total"]],
        region="adcode",
        time="year",
        value=["emp_it", "emp_sci"],
        total="emp_total",
        reference="sample",
    )
    frame = frame.merge(lq[["adcode", "year", "lq"]], on=["adcode", "year"], how="left")
    frame["pilot"] = frame["treat_year"].gt(0).map({True: "pilot", False: "not a pilot by 2019"})
    by_region = (
        frame[frame["year"].isin([city.panel.times.min(), city.panel.times.max()])]
        .pivot_table(index=["region3", "pilot"], columns="year", values="lq", aggfunc="mean")
        .reset_index()
    )
    by_region.columns = [str(c) if not isinstance(c, str) else c for c in by_region.columns]

    bay = datasets.zhejiang_bay(seed=seed)
    bay_frame = bay.panel.join_reference(("name_en",)).to_frame()
    directions = dict.fromkeys((*BAY_INDUSTRY, *BAY_TALENT), "+")
    system = {"industry": list(BAY_INDUSTRY), "talent": list(BAY_TALENT)}
    scores = measure.composite_index(bay_frame, system, directions)
    coupling = measure.coupling_coordination(scores, form="standard")
    bay_coupling = pd.concat(
        [
            bay_frame[["adcode", "year", "name_en"]].reset_index(drop=True),
            coupling.to_frame().reset_index(drop=True),
        ],
        axis=1,
    )

    outputs = DemoOutputs(
        pilots_by_batch=by_batch,
        cohorts=cohorts,
        talent_lq_by_region=by_region,
        bay_coupling=bay_coupling,
        coding_rule=coding_rule,
        files=(),
    )
    frames = {
        "pilots": pilots,
        "innovative_city_panel": frame,
        "zhejiang_bay_panel": bay_frame,
        "zhejiang_bay_coupling": bay_coupling,
    }
    return outputs, frames


def run_demo(out: Path, *, quiet: bool = False, seed: int = 0) -> DemoOutputs:
    """Run the demo and write its tables to ``out``.

    Parameters
    ----------
    out : Path
        Output directory (created if needed).
    quiet : bool, default False
        Print nothing but errors.
    seed : int, default 0
        Seed of the example data.
    """
    from rich.console import Console

    console = Console(quiet=quiet)
    outputs, frames = compute_demo(seed)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in {
        **frames,
        "pilots_by_batch": outputs.pilots_by_batch,
        "cohorts": outputs.cohorts,
        "talent_lq_by_region": outputs.talent_lq_by_region,
    }.items():
        path = out / f"{name}.csv"
        table.to_csv(path, index=False)
        written.append(path)
    summary = out / "summary.md"
    summary.write_text(_markdown(outputs), encoding="utf-8")
    written.append(summary)

    console.rule("agglomera demo")
    last_year = outputs.bay_coupling["year"].max()
    last = outputs.bay_coupling[outputs.bay_coupling["year"] == last_year]
    console.print(_rich_table(outputs.pilots_by_batch, "Innovative-city pilot registry"))
    console.print(f"[bold]Treatment coding rule[/bold]: {outputs.coding_rule}\n")
    console.print(_rich_table(outputs.cohorts, "Cohorts in the prefecture-level example panel"))
    console.print(_rich_table(outputs.talent_lq_by_region, "Mean talent LQ by region"))
    bay_columns = ["name_en", "industry", "talent", "C", "D", "grade_en", "lagging"]
    console.print(
        _rich_table(last[bay_columns], f"Zhejiang Bay Area coupling coordination, {last_year}")
    )
    console.print(
        "The example data are simulated on real geography and real pilot years.\n"
        f"Wrote {len(written)} files to {out}/"
    )
    return DemoOutputs(
        pilots_by_batch=outputs.pilots_by_batch,
        cohorts=outputs.cohorts,
        talent_lq_by_region=outputs.talent_lq_by_region,
        bay_coupling=outputs.bay_coupling,
        coding_rule=outputs.coding_rule,
        files=tuple(written),
    )


def _markdown(outputs: DemoOutputs) -> str:
    last_year = outputs.bay_coupling["year"].max()
    last = outputs.bay_coupling[outputs.bay_coupling["year"] == last_year]
    return (
        "\n\n".join(
            [
                "# agglomera demo",
                "The example data are simulated on real geography (adcodes, regions, census "
                "population) and real innovative-city pilot years; see docs/datasets.md.",
                "## Innovative-city pilot registry",
                _markdown_table(outputs.pilots_by_batch),
                f"**Treatment coding rule.** {outputs.coding_rule}",
                "## Cohorts in the prefecture-level example panel",
                _markdown_table(outputs.cohorts),
                "## Mean talent location quotient by region",
                _markdown_table(outputs.talent_lq_by_region),
                f"## Zhejiang Bay Area coupling coordination, {last_year}",
                _markdown_table(last),
            ]
        )
        + "\n"
    )


def _markdown_table(frame: pd.DataFrame) -> str:
    """Render a small frame as a GitHub Markdown table (floats to 3 decimals)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.3f}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _rich_table(frame: pd.DataFrame, title: str) -> object:
    """Turn a small frame into a rich Table for the console (floats to 3 decimals)."""
    from rich.table import Table

    table = Table(title=title, title_style="bold", title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    return table
