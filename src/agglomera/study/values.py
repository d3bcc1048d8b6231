"""Shared helpers of the study steps: JSON-safe numbers and report tables of frames."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from agglomera.report.table import Table

__all__ = ["frame_records", "frame_table", "number"]

#: Columns printed as plain integers (no thousands separator): years and codes.
PLAIN_COLUMNS = ("year", "time", "period", "cohort", "rel_time", "step", "lags", "df")


def number(value: Any) -> float | None:
    """Return a JSON-safe float (None for NaN or missing)."""
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a DataFrame as JSON-safe records (NaN → None, numpy scalars → Python)."""
    records = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            item = value.item() if hasattr(value, "item") else value
            if (isinstance(item, float) and math.isnan(item)) or item is pd.NA or item is pd.NaT:
                item = None
            clean[str(key)] = item
        records.append(clean)
    return records


def frame_table(
    frame: pd.DataFrame,
    *,
    title: str,
    digits: int,
    language: str,
    plain: Sequence[str] = (),
) -> Table:
    """Return a report table of a tidy frame: ``digits`` decimals, years printed plainly.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per table row; the first column is the stub.
    title : str
        Caption.
    digits : int
        Decimals of real numbers.
    language : {"en", "zh"}
        Label language.
    plain : sequence of str
        Further integer columns printed without thousands separators (e.g. the time
        column of the panel); :data:`PLAIN_COLUMNS` always are.
    """
    from agglomera.report.table import Table

    formats = {c: "{}" for c in frame.columns if c in (*PLAIN_COLUMNS, *plain)}
    return Table.from_frame(
        frame,
        title=title,
        index=False,
        float_format=f"{{:.{digits}f}}",
        formats=formats,
        language=language,
    )
