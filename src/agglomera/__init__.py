"""agglomera: high-tech talent and industry agglomeration in cities.

Measure agglomeration (location quotients, concentration indices, composite indicators,
coupling coordination), evaluate place-based policies such as China's staggered national
innovative-city pilot with modern difference-in-differences, analyse the two-way link
between industry and talent agglomeration, and write publication-ready reports.

Subpackages are imported on first use: ``agglomera.reference``, ``agglomera.datasets``,
``agglomera.data``, ``agglomera.measure``, ``agglomera.policy``,
``agglomera.describe``, ``agglomera.pretest``, ``agglomera.interaction``,
``agglomera.spatial``, ``agglomera.report`` and ``agglomera.study``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agglomera import errors
from agglomera._version import __version__
from agglomera.data.panel import Panel

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Panel", "__version__", "errors", "read", "read_yearbook"]

_SUBPACKAGES = {
    "data",
    "datasets",
    "reference",
    "measure",
    "policy",
    "describe",
    "pretest",
    "interaction",
    "spatial",
    "report",
    "study",
}


def read(path: Any, **options: Any) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file into a pandas DataFrame.

    See :func:`agglomera.data.read` for the options.
    """
    from agglomera.data.readers import read as _read

    return _read(path, **options)


def read_yearbook(path: Any, **options: Any) -> Panel:
    """Read a yearbook-style wide table into a :class:`Panel`.

    See :func:`agglomera.data.read_yearbook` for the options.
    """
    from agglomera.data.yearbook import read_yearbook as _read_yearbook

    return _read_yearbook(path, **options)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"agglomera.{name}")
    raise AttributeError(f"module 'agglomera' has no attribute {name!r}")
