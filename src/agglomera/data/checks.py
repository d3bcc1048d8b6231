"""Input checks shared by the estimators: a Panel, numeric complete columns, balance.

Every estimator that needs a :class:`~agglomera.data.panel.Panel` with complete numeric
series (pre-tests, Granger, threshold and smooth-transition models, spatial panel models,
...) checks it here, so that the error names the column, the first offending (unit, time)
keys and the fix in the same words everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, format_examples

__all__ = ["require_balanced", "require_finite", "require_panel"]

_FIX = (
    "Fix: drop those units or periods explicitly with panel.subset(...), or fill the gaps "
    "with a recorded transform."
)
_FIX_INF = "Fix: set them to missing or correct the source (e.g. a log of zero)."


def require_panel(panel: Any, fn: str) -> Panel:
    """Return ``panel`` if it is an agglomera :class:`Panel`; raise DataError otherwise.

    Parameters
    ----------
    panel : object
        The value given.
    fn : str
        Name of the calling function, used in the message.
    """
    if not isinstance(panel, Panel):
        raise DataError(
            f"{fn}: expected an agglomera Panel, got {type(panel).__name__}. Fix: wrap the "
            "data with agglomera.Panel(df, unit=..., time=...)."
        )
    return panel


def require_finite(
    panel: Panel,
    columns: Iterable[str],
    fn: str,
    *,
    why: str = "Nothing is dropped silently.",
    allow_missing: bool = False,
) -> None:
    """Raise DataError unless every column exists, is numeric and has no missing values.

    Parameters
    ----------
    panel : Panel
        The data.
    columns : iterable of str
        Columns to check (duplicates are checked once).
    fn : str
        Name of the calling function, used in the message.
    why : str, optional
        Why the caller needs complete data (one sentence, shown before the fix).
    allow_missing : bool, default False
        Accept missing values (NaN) and refuse only infinite ones, for estimators that
        handle gaps themselves.
    """
    frame = panel.to_frame()
    for col in dict.fromkeys(columns):
        panel.column(col)  # a helpful DataError when absent
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            shown = frame.loc[values.notna(), [panel.unit, panel.time, col]].head(5)
            raise DataError(
                f"{fn}: column {col!r} must be numeric; it has dtype {values.dtype}, e.g. "
                f"({panel.unit}, {panel.time}, value) "
                f"{format_examples(list(shown.itertuples(index=False, name=None)))}. "
                "Fix: convert it with pd.to_numeric."
            )
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(arr) if allow_missing else ~np.isfinite(arr)
        if bad.any():
            keys = frame.loc[bad, [panel.unit, panel.time]]
            what, fix = ("infinite", _FIX_INF) if allow_missing else ("missing or infinite", _FIX)
            raise DataError(
                f"{fn}: column {col!r} has {int(bad.sum())} {what} values at "
                f"({panel.unit}, {panel.time}) "
                f"{format_examples(list(keys.itertuples(index=False, name=None)))}. {why} {fix}"
            )


def require_balanced(panel: Panel, fn: str, *, why: str = "") -> None:
    """Raise DataError when some units lack periods, naming them and their missing periods.

    ``why`` (optional, one sentence) says why the caller needs balance; it is shown before
    the fix.
    """
    if panel.is_balanced:
        return
    bal = panel.balance()
    short = bal[bal["n_periods"] < len(panel.times)]
    shown = [
        f"{u!r} (missing {format_examples(m, limit=3)})"
        for u, m in zip(short.index[:5], short["missing_periods"][:5], strict=True)
    ]
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    raise DataError(
        f"{fn} requires a balanced panel; {len(short)} units lack periods: "
        f"{'; '.join(shown)}{more}. {why + ' ' if why else ''}Fix: inspect panel.balance() "
        "and restrict to a balanced sub-panel with panel.subset(units=..., times=...)."
    )
