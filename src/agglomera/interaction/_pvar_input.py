"""Input checks of the panel VAR and the layout of a panel on the calendar grid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.checks import require_finite, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, check_choice, check_int, format_examples

__all__ = ["check_int", "check_spec", "grid"]  # check_int is re-exported from agglomera.errors


def check_spec(
    panel: Any,
    variables: Sequence[str],
    lags: Any,
    transform: Any,
    steps: Any,
    instrument_lags: Any,
    collapse: Any,
    exog: Sequence[str],
) -> dict[str, Any]:
    require_panel(panel, "panel_var")
    if isinstance(variables, str):
        raise SpecError(f"variables must be a list of column names; got the string {variables!r}.")
    names = list(variables)
    exog_l = [exog] if isinstance(exog, str) else list(exog)
    if len(names) < 1:
        raise SpecError("variables must name at least one column.")
    dup = sorted({x for x in names + exog_l if (names + exog_l).count(x) > 1})
    if dup:
        raise SpecError(f"columns listed twice in variables/exog: {format_examples(dup)}.")
    frame_cols = set(panel.variables)
    missing = [c for c in names + exog_l if c not in frame_cols]
    if missing:
        raise DataError(
            f"panel_var: column(s) {format_examples(missing)} not in the panel; available: "
            f"{format_examples(sorted(frame_cols), limit=10)}."
        )
    require_finite(
        panel,
        names + exog_l,
        "panel_var",
        why="Missing values are gaps the GMM skips; infinite values are errors.",
        allow_missing=True,
    )
    lags = check_int("lags", lags, minimum=1)
    check_choice("transform", transform, ("fod", "fd"), fn="panel_var")
    if steps not in (1, 2) or isinstance(steps, bool):
        raise SpecError(f"steps must be 1 (one-step) or 2 (two-step); got {steps!r}.")
    try:
        lo, hi = (int(v) for v in instrument_lags)
    except (TypeError, ValueError) as err:
        raise SpecError(
            f"instrument_lags must be a pair (first, last); got {instrument_lags!r}."
        ) from err
    if lo < 2 or hi < lo:
        raise SpecError(
            f"instrument_lags must satisfy 2 ≤ first ≤ last; got {instrument_lags!r} (lag 1 "
            "is correlated with the transformed error)."
        )
    if not isinstance(collapse, bool):
        raise SpecError(f"collapse must be True or False; got {collapse!r}.")
    if len(panel.units) < 2:
        raise DataError("panel_var needs at least two units.")
    return {
        "variables": names,
        "exog": exog_l,
        "lags": lags,
        "transform": transform,
        "steps": int(steps),
        "instrument_lags": (lo, hi),
        "collapse": collapse,
    }


def grid(
    panel: Panel, names: list[str], exog: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """Lay the panel on units × the full calendar range of periods (gaps = NaN)."""
    frame = panel.to_frame()
    units = panel.units
    times = panel.times
    periods = np.arange(int(times.min()), int(times.max()) + 1)
    ui = units.get_indexer(pd.Index(frame[panel.unit]))
    ti = frame[panel.time].to_numpy(dtype=np.int64) - periods[0]
    levels = np.full((units.size, periods.size, len(names)), np.nan)
    levels[ui, ti] = frame[names].to_numpy(dtype=float, na_value=np.nan)
    ex = np.full((units.size, periods.size, len(exog)), np.nan)
    if exog:
        ex[ui, ti] = frame[exog].to_numpy(dtype=float, na_value=np.nan)
    return levels, ex, periods, units
