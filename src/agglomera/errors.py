"""Exception hierarchy of agglomera.

Every error raised on purpose by agglomera derives from :class:`AgglomeraError`, so a
caller (or the command line) can catch user errors in one place. Messages name the
offending column or key, show the first few offending rows and say how to fix the input.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "AgglomeraError",
    "DataError",
    "EstimationError",
    "SpecError",
    "format_examples",
    "plain_scalar",
]


class AgglomeraError(Exception):
    """Base class of every error agglomera raises on purpose."""


class DataError(AgglomeraError, ValueError):
    """The input data violate a requirement (missing keys, bad types, duplicates, ...)."""


class SpecError(AgglomeraError, ValueError):
    """A study file, option or argument has a value that is not allowed."""


class EstimationError(AgglomeraError, RuntimeError):
    """An estimator cannot produce a result on the data it was given."""


def format_examples(items: Iterable[Any], *, limit: int = 5) -> str:
    """Format the first ``limit`` items for an error message, with a count of the rest.

    Parameters
    ----------
    items : iterable
        Offending keys, rows or values.
    limit : int, default 5
        How many to show.

    Returns
    -------
    str
        For example ``"'a', 'b', 'c' (and 4 more)"``.
    """
    listed = list(items)
    shown = ", ".join(_tuple_repr(x) if isinstance(x, tuple) else repr(x) for x in listed[:limit])
    rest = len(listed) - limit
    return f"{shown} (and {rest} more)" if rest > 0 else shown


def _tuple_repr(key: tuple[Any, ...]) -> str:
    return "(" + ", ".join(repr(plain_scalar(v)) for v in key) + ")"


def plain_scalar(value: Any) -> Any:
    """Turn numpy (or Arrow) scalars into Python scalars so messages read naturally."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value
