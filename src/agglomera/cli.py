"""Command line: ``agglomera …`` (a thin shell over the Python API).

Exit codes: 0 success, 1 unexpected failure, 2 user error (a one-line message on stderr;
the traceback only with ``--debug``).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from agglomera._version import __version__
from agglomera.errors import AgglomeraError, SpecError

app = typer.Typer(
    name="agglomera",
    help="High-tech talent and industry agglomeration: measures, policy evaluation, reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
reference_app = typer.Typer(help="Print the shipped China reference tables.", no_args_is_help=True)
app.add_typer(reference_app, name="reference")


class TableFormat(StrEnum):
    """Output formats for tables printed to stdout."""

    csv = "csv"
    json = "json"


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"agglomera {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only errors.")] = False,
) -> None:
    """Agglomera command line."""


def _emit_table(frame: object, fmt: TableFormat) -> None:
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    if fmt is TableFormat.csv:
        sys.stdout.write(frame.to_csv(index=False))
    else:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, indent=1) + "\n")


@reference_app.command("pilots")
def reference_pilots(
    policy: Annotated[str, typer.Option(help="Policy registry.")] = "innovative_city",
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.csv,
) -> None:
    """Print the pilot registry (one row per pilot unit, with sources)."""
    from agglomera import reference

    _emit_table(reference.pilots(policy), fmt)


@reference_app.command("cities")
def reference_cities(
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.csv,
) -> None:
    """Print the city table (adcodes, names, regions, coordinates, census population)."""
    from agglomera import reference

    _emit_table(reference.cities(), fmt)


@app.command("demo")
def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo outputs.")] = Path(
        "agglomera-demo"
    ),
) -> None:
    """Run both seed studies on the shipped example data and write their reports to OUT."""
    from agglomera._demo import run_demo

    run_demo(out, quiet=bool(ctx.find_root().params.get("quiet")))


@app.command("run")
def run(
    ctx: typer.Context,
    study: Annotated[Path, typer.Argument(help="The study file (TOML).")],
    out: Annotated[Path | None, typer.Option("--out", help="Output directory.")] = None,
) -> None:
    """Run a study file and write report.html, tables, figures and results.json to OUT."""
    from agglomera.study import run_study, write_report

    quiet = bool(ctx.find_root().params.get("quiet"))
    target = out if out is not None else Path(study.stem + "-report")
    report = _with_status(lambda note: run_study(study, progress=note), quiet, study.name)
    files = write_report(report, target, study_file=study)
    if not quiet:
        typer.echo(f"wrote {len(files)} files to {target}/ (open {target / 'report.html'})")


def _with_status(job: Any, quiet: bool, label: str) -> Any:
    """Run ``job(progress)`` with a rich status line naming the current step."""
    if quiet:
        return job(None)
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(f"{label}: starting") as status:
        return job(lambda step: status.update(f"{label}: {step}"))


class Estimator(StrEnum):
    """Estimators of ``agglomera did``."""

    twfe = "twfe"
    event_study = "event_study"
    cs = "cs"
    sa = "sa"
    bjs = "bjs"


@app.command("did")
def did(
    data: Annotated[Path, typer.Argument(help="CSV, Parquet, XLSX or Stata file (long panel).")],
    unit: Annotated[str, typer.Option(help="Unit column.")],
    time: Annotated[str, typer.Option(help="Time column.")],
    cohort: Annotated[str, typer.Option(help="First-treatment period column (0 = never).")],
    outcome: Annotated[str, typer.Option(help="Outcome column.")],
    estimator: Annotated[Estimator, typer.Option(help="Estimator.")] = Estimator.cs,
    control_group: Annotated[str, typer.Option(help="never or notyet (CS, BJS).")] = "never",
    control: Annotated[list[str] | None, typer.Option(help="Covariate (repeatable).")] = None,
    cluster: Annotated[str | None, typer.Option(help="Cluster column (default unit).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Estimate one staggered DID on a data file and print the result."""
    import json

    from agglomera import Panel, policy
    from agglomera.data.readers import read
    from agglomera.data.stata import read_dta
    from agglomera.study.policy_step import did_numbers

    if not data.is_file():
        raise SpecError(f"data file {str(data)!r} not found.")
    frame = read_dta(data) if data.suffix.lower() == ".dta" else read(data)
    panel = Panel(frame, unit=unit, time=time)
    design = policy.design(panel, cohort=cohort)
    options: dict[str, Any] = {"controls": list(control or ()), "cluster": cluster}
    if estimator.value in ("cs", "bjs"):
        options["control_group"] = control_group
    result = policy.estimate(design, outcome, estimator=estimator.value, **options)
    if as_json:
        document = {"estimator": estimator.value, "outcome": outcome, **did_numbers(result)}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False))
    else:
        typer.echo(result.summary())


measure_app = typer.Typer(help="Agglomeration measures on a data file.", no_args_is_help=True)
app.add_typer(measure_app, name="measure")


@measure_app.command("lq")
def measure_lq(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file (or a glob of them).")],
    region: Annotated[str, typer.Option(help="Region column.")],
    value: Annotated[list[str], typer.Option(help="Sector column(s) summed (repeatable).")],
    total: Annotated[str, typer.Option(help="Total employment column.")],
    time: Annotated[str | None, typer.Option(help="Time column.")] = None,
    reference: Annotated[str, typer.Option(help="sample or national.")] = "sample",
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.csv,
) -> None:
    """Compute location quotients (wide form: sector columns over a total column)."""
    from agglomera import measure

    result = measure.location_quotient(
        str(data),
        region=region,
        time=time,
        value=list(value),
        total=total,
        reference=reference,
    )
    _emit_table(result, fmt)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``agglomera`` command; maps errors to exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="agglomera")
    except AgglomeraError as exc:
        if debug:
            raise
        message = " ".join(str(exc).split())
        typer.echo(f"error: {message}", err=True)
        raise SystemExit(2) from None
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"unexpected error ({type(exc).__name__}): {exc}. Run again with --debug for the "
            "traceback and report it.",
            err=True,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
