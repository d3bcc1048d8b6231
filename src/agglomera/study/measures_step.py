"""The ``[[measures]]`` step: new columns (location quotients, composite indices, logs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples
from agglomera.study.sections import Section
from agglomera.study.spec import MeasureSpec

__all__ = ["add_measures"]


def _require(panel: Panel, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in panel]
    if missing:
        raise DataError(
            f"{where}: columns {format_examples(missing)} are not in the data. Available: "
            f"{format_examples(panel.variables, limit=12)}."
        )


def _lq(panel: Panel, m: MeasureSpec, section: Section) -> pd.Series:
    from agglomera import measure

    if not m.value or m.total is None:
        raise SpecError(f"measures '{m.name}': location_quotient needs value = [...] and total.")
    _require(panel, [*m.value, m.total], f"measures '{m.name}'")
    frame = panel.to_frame()[[panel.unit, panel.time, *m.value, m.total]]
    out = measure.location_quotient(
        frame,
        region=panel.unit,
        time=panel.time,
        value=list(m.value),
        total=m.total,
        reference=m.reference,
    )
    section.setting(
        "location quotient: reference economy",
        m,
        "reference",
        "Isard (1960); LQ = (E_rit/E_rt)/(E_it/E_t)",
        subject=m.name,
    )
    return _aligned(panel, out.set_index([panel.unit, panel.time])["lq"])


def _composite(panel: Panel, m: MeasureSpec, section: Section) -> pd.Series:
    from agglomera import measure

    if not m.indicators:
        raise SpecError(f"measures '{m.name}': composite needs indicators = [...].")
    directions = m.directions or [1] * len(m.indicators)
    if len(directions) != len(m.indicators) or any(d not in (1, -1) for d in directions):
        raise SpecError(
            f"measures '{m.name}': directions must be +1/-1, one per indicator "
            f"({len(m.indicators)} indicators, got {directions})."
        )
    _require(panel, list(m.indicators), f"measures '{m.name}'")
    result = measure.entropy_weights(
        panel, dict(zip(m.indicators, directions, strict=True)), scope=m.scope
    )
    section.setting(
        "entropy-weight scope",
        m,
        "scope",
        "pooled min–max normalisation keeps scores comparable across years",
        subject=m.name,
    )
    weight_series = pd.Series(result.weights, dtype=float)
    section.results.setdefault("weights", {})[m.name] = {
        str(k): float(v) for k, v in weight_series.items()
    }
    weights = weight_series.rename("weight").rename_axis("indicator").reset_index()
    section.table(f"weights_{m.name}", _weights_table(weights, m.name, section))
    return _aligned(panel, result.scores)


def _aligned(panel: Panel, keyed: pd.Series) -> pd.Series:
    """Values of a (unit, time)-indexed series in the panel's row order."""
    index = pd.MultiIndex.from_frame(panel.to_frame()[[panel.unit, panel.time]])
    return keyed.reindex(index)


def _weights_table(weights: pd.DataFrame, name: str, section: Section) -> Any:
    from agglomera.report.table import Table

    return Table.from_frame(
        weights,
        title=f"Entropy weights of {name}",
        index="indicator",
        float_format="{:.4f}",
    )


def add_measures(
    panel: Panel, measures: list[MeasureSpec], *, language: str = "en"
) -> tuple[Panel, Section]:
    """Compute every ``[[measures]]`` entry and add it as a column (recorded in provenance).

    Returns
    -------
    (Panel, Section)
        The panel with the new columns and the measures section of the report.
    """
    section = Section("measures", language)
    for m in measures:
        if m.name in panel:
            raise SpecError(
                f"measures '{m.name}': the data already have a column of that name. Fix: "
                "choose another name."
            )
        if m.kind == "location_quotient":
            values = _lq(panel, m, section)
            note = f"{m.name} = location quotient of {' + '.join(m.value)} in {m.total}"
        elif m.kind == "composite":
            values = _composite(panel, m, section)
            note = f"{m.name} = entropy-weight composite of {', '.join(m.indicators)}"
        else:
            _require(panel, list(m.value[:1]), f"measures '{m.name}'")
            if len(m.value) != 1:
                raise SpecError(f"measures '{m.name}': log takes one column in value.")
            column = panel.to_frame()[m.value[0]]
            if (column <= 0).any():
                bad = panel.to_frame().loc[column <= 0, [panel.unit, panel.time]]
                raise DataError(
                    f"measures '{m.name}': log of non-positive values in {m.value[0]!r} at "
                    f"{format_examples(list(map(tuple, bad.to_numpy())))}."
                )
            values = pd.Series(np.log(column.to_numpy(dtype=float)))
            note = f"{m.name} = ln({m.value[0]})"
        panel = panel.with_columns(note=note, **{m.name: np.asarray(values, dtype=float)})
        section.text(note + ".")
    return panel, section
