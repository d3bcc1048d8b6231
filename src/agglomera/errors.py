"""Exception hierarchy of agglomera and the argument checks shared by its modules.

Every error raised on purpose by agglomera derives from :class:`AgglomeraError`, so a
caller (or the command line) can catch user errors in one place. Messages name the
offending column or key, show the first few offending rows and say how to fix the input.
The argument checks (:func:`check_choice`, :func:`check_int`, :func:`check_alpha`) live
here, below every subpackage, so that any module can use them without import cycles.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

__all__ = [
    "AgglomeraError",
    "DataError",
    "EstimationError",
    "SpecError",
    "check_alpha",
    "check_choice",
    "check_int",
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


# ---------------------------------------------------------------------- argument checks
def check_choice(name: str, value: Any, allowed: Iterable[str], *, fn: str | None = None) -> None:
    """Raise :class:`SpecError` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    name : str
        Argument name (for the message).
    value : object
        The value given.
    allowed : iterable of str
        Allowed values.
    fn : str, optional
        Name of the calling function, prefixed to the message.
    """
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        who = f"{fn}: " if fn else ""
        raise SpecError(
            f"{who}{name}={value!r} is not allowed; allowed: {format_examples(allowed)}."
        )


def check_int(name: str, value: Any, *, minimum: int, fn: str | None = None) -> int:
    """Return ``value`` as an int; raise :class:`SpecError` unless it is an integer ≥ ``minimum``.

    Booleans are refused; numpy integers are accepted. ``fn`` (optional) names the calling
    function in the message.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        who = f"{fn}: " if fn else ""
        raise SpecError(f"{who}{name} must be an integer ≥ {minimum}; got {value!r}.")
    return int(value)


def check_alpha(alpha: Any, fn: str | None = None) -> float:
    """Return the significance level ``alpha`` as a float, or raise :class:`SpecError`.

    Parameters
    ----------
    alpha : object
        The value given; must be a real number in (0, 1) (booleans are refused).
    fn : str, optional
        Name of the calling function, prefixed to the message.
    """
    who = f"{fn}: " if fn else ""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise SpecError(f"{who}alpha must be a number in (0, 1); got {alpha!r}.")
    value = float(alpha)
    if not 0.0 < value < 1.0:
        raise SpecError(f"{who}alpha must be in (0, 1); got {alpha!r}.")
    return value
