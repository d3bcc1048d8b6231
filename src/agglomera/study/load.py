"""Load the study data (example dataset, file or DuckDB SQL) into a Panel with provenance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples
from agglomera.study.sections import Section
from agglomera.study.spec import DataSpec

__all__ = ["load_data"]


def _example(spec: DataSpec, seed: int) -> tuple[Panel, str]:
    from agglomera import datasets

    options = dict(spec.example_options)
    options.setdefault("seed", seed)
    generator = getattr(datasets, str(spec.example))
    try:
        data = generator(**options)
    except TypeError as exc:
        raise SpecError(
            f"data.example_options {options!r} do not fit datasets.{spec.example}: {exc}."
        ) from None
    return data.panel, f"example dataset {data.name} (simulated data)"


def _file(spec: DataSpec, base: Path) -> tuple[pd.DataFrame, str]:
    from agglomera.data.readers import read
    from agglomera.data.stata import read_dta

    path = (base / str(spec.file)).resolve()
    if not path.is_file():
        raise SpecError(f"data.file = {spec.file!r}: no such file (looked in {base}).")
    frame = read_dta(path) if path.suffix.lower() == ".dta" else read(path)
    return frame, f"file {path.name}"


def _sql(spec: DataSpec, base: Path) -> tuple[pd.DataFrame, str]:
    import duckdb

    query = str(spec.sql).replace("{dir}", str(base))
    try:
        relation = duckdb.sql(query)
    except duckdb.Error as exc:
        raise SpecError(f"data.sql failed in DuckDB: {exc}") from None
    if relation is None:
        raise SpecError("data.sql must be a query that returns rows (a SELECT).")
    frame = relation.df()
    return frame, f"DuckDB SQL: {' '.join(query.split())}"


def load_data(
    spec: DataSpec, *, base: Path, seed: int, language: str = "en"
) -> tuple[Panel, Section]:
    """Build the study panel and the data section of the report.

    Parameters
    ----------
    spec : DataSpec
        The ``[data]`` table.
    base : Path
        Folder the relative paths are resolved against (the study file's folder).
    seed : int
        The study seed (passed to an example generator unless its options set one).
    language : {"en", "zh"}, default "en"
        Report language.

    Returns
    -------
    (Panel, Section)
        The panel and the data section.
    """
    section = Section("data", language)
    if spec.example is not None:
        panel, origin = _example(spec, seed)
        frame = panel.to_frame()
        unit, time = spec.unit or panel.unit, spec.time or panel.time
        notes = list(panel.provenance)
    else:
        frame, origin = _file(spec, base) if spec.file is not None else _sql(spec, base)
        unit, time = str(spec.unit), str(spec.time)
        notes = []
    if spec.rename:
        missing = [old for old in spec.rename.values() if old not in frame.columns]
        if missing:
            raise DataError(
                f"data.rename refers to columns {format_examples(missing)} that the data do "
                f"not have. Available: {format_examples(list(frame.columns), limit=12)}."
            )
        frame = frame.rename(columns={old: new for new, old in spec.rename.items()})
        notes.append(f"renamed columns: {spec.rename}")
    for key, column in (("unit", unit), ("time", time)):
        if column not in frame.columns:
            raise DataError(
                f"data.{key} = {column!r} is not a column of the data. Available: "
                f"{format_examples(list(frame.columns), limit=12)}."
            )
    if spec.years is not None:
        lo, hi = spec.years
        before = len(frame)
        frame = frame[frame[time].between(lo, hi)]
        notes.append(f"kept years {lo}–{hi}: {before - len(frame)} of {before} rows dropped")
    panel = Panel(frame, unit=unit, time=time, labels=spec.labels, provenance=[origin, *notes])
    section.text(
        f"Source: {origin}. {len(panel.units)} units × {len(panel.times)} periods "
        f"({panel.times[0]}–{panel.times[-1]}), {panel.n_obs} rows, "
        f"{'balanced' if panel.is_balanced else 'unbalanced'}."
    )
    if spec.example is not None:
        section.text(
            "The data are simulated on real geography (adcodes, census population, pilot "
            "years); do not cite the values as facts about the cities."
        )
    section.results["source"] = origin
    section.results["n_units"] = len(panel.units)
    section.results["n_periods"] = len(panel.times)
    section.results["n_obs"] = panel.n_obs
    return panel, section
