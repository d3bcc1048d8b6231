"""The ``[[figures]]`` step: maps on the shipped boundaries and time paths of a variable."""

from __future__ import annotations

from typing import Any

from agglomera.data.panel import Panel
from agglomera.errors import DataError, format_examples
from agglomera.study.sections import Section
from agglomera.study.spec import FigureSpec

__all__ = ["run_figures"]


def _year(panel: Panel, spec: FigureSpec) -> int:
    if spec.year is None:
        return int(panel.times[-1])
    if spec.year not in set(panel.times.tolist()):
        raise DataError(
            f"figures: year {spec.year} of '{spec.variable}' is not in the data "
            f"({panel.times[0]}–{panel.times[-1]})."
        )
    return int(spec.year)


def _one(panel: Panel, spec: FigureSpec, language: str) -> tuple[str, str, Any]:
    from agglomera.report.figures import lq_paths
    from agglomera.report.maps import bubble_map, choropleth

    frame = panel.to_frame()
    if spec.variable not in frame.columns:
        raise DataError(
            f"figures: '{spec.variable}' is not a column of the data. Available: "
            f"{format_examples(panel.variables, limit=12)}."
        )
    if spec.kind == "paths":
        highlight = list(spec.units) or None
        figure = lq_paths(
            frame,
            unit=panel.unit,
            time=panel.time,
            value=spec.variable,
            highlight=highlight,
            language=language,
            title=spec.title,
        )
        return f"paths_{spec.variable}", f"Time paths of {spec.variable} by unit.", figure
    year = _year(panel, spec)
    values = frame.loc[frame[panel.time] == year, [panel.unit, spec.variable]]
    values = values.assign(**{panel.unit: values[panel.unit].astype(str)})
    series = values.set_index(panel.unit)[spec.variable]
    title = spec.title or f"{spec.variable}, {year}"
    if spec.kind == "choropleth":
        figure = choropleth(series, classes=spec.classes, title=title, language=language)
        caption = f"{spec.variable} in {year} on the 2020 census boundaries."
    else:
        table = series.rename("value").rename_axis("adcode").reset_index()
        figure = bubble_map(table, sizes="value", colors="value", title=title, language=language)
        caption = f"{spec.variable} in {year}; bubble area proportional to the value."
    return f"{spec.kind}_{spec.variable}_{year}", caption, figure


def run_figures(panel: Panel, figures: list[FigureSpec], *, language: str) -> Section:
    """Draw every ``[[figures]]`` entry into one report section."""
    section = Section("figures", language)
    for spec in figures:
        name, caption, figure = _one(panel, spec, language)
        section.figure(name, caption, figure)
    section.method(
        "maps", "simplified 2020 census boundaries", "", "Lei Dong's census city file (MIT)"
    )
    return section
