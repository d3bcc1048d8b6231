"""Command line: ``agglomera …`` (a thin shell over the Python API).

Exit codes: 0 success, 1 unexpected failure, 2 user error (a one-line message on stderr;
the traceback only with ``--debug``).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agglomera._version import __version__
from agglomera.errors import AgglomeraError

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
    """Run the demonstration on the shipped example data and write its outputs to OUT."""
    from agglomera._demo import run_demo

    run_demo(out, quiet=bool(ctx.find_root().params.get("quiet")))


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
