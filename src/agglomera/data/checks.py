"""Input checks shared by the estimators: numeric, complete columns and balanced panels.

Every estimator that needs complete numeric series (pre-tests, Granger, threshold and
smooth-transition models, ...) checks them here, so that the error names the column, the
first offending (unit, time) keys and the fix in the same words everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, format_examples

__all__ = ["require_balanced", "require_finite"]

_FIX = (
    "Fix: drop those units or periods explicitly with panel.subset(...), or fill the gaps "
    "with a recorded transform."
)


def require_finite(
    panel: Panel, columns: Iterable[str], fn: str, *, why: str = "Nothing is dropped silently."
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
    """
    frame = panel.to_frame()
    for col in dict.fromkeys(columns):
        panel.column(col)  # a helpful DataError when absent
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DataError(f"{fn}: column {col!r} must be numeric; it has dtype {values.dtype}.")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if bad.any():
            keys = frame.loc[bad, [panel.unit, panel.time]]
            raise DataError(
                f"{fn}: column {col!r} has {int(bad.sum())} missing or infinite values at "
                f"({panel.unit}, {panel.time}) "
                f"{format_examples(list(keys.itertuples(index=False, name=None)))}. {why} {_FIX}"
            )


def require_balanced(panel: Panel, fn: str) -> None:
    """Raise DataError when some units lack periods, naming them and their missing periods."""
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
        f"{'; '.join(shown)}{more}. Fix: inspect panel.balance() and restrict to a balanced "
        "sub-panel with panel.subset(units=..., times=...)."
    )
