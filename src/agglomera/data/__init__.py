"""Data: the validated :class:`Panel`, readers and writers, names, boundaries and transforms.

Submodules are imported on first use:

- :func:`read`, :func:`read_yearbook` — CSV/TSV (encoding detection), XLSX, Parquet and
  yearbook-style wide tables;
- :func:`harmonise_cities` — city names to adcodes;
- :func:`harmonise_boundaries` — constant prefecture boundaries over the sample years;
- :func:`sector_crosswalk`, :func:`sector_series`, :func:`yearbook_mapping` — the talent
  sectors across GB/T 4754 vintages;
- :func:`read_dta`, :func:`write_dta`, :func:`write_xlsx` — Stata and Excel files;
- :mod:`agglomera.data.transforms` — recorded transforms (log, per capita, deflation,
  winsorising, interpolation, lags).
"""

from __future__ import annotations

import importlib
from typing import Any

from agglomera.data.panel import Panel

__all__ = [
    "BoundaryResult",
    "Panel",
    "harmonise_boundaries",
    "harmonise_cities",
    "read",
    "read_dta",
    "read_yearbook",
    "sector_crosswalk",
    "sector_series",
    "transforms",
    "write_dta",
    "write_xlsx",
    "yearbook_mapping",
]

_LAZY = {
    "read": "agglomera.data.readers",
    "read_yearbook": "agglomera.data.yearbook",
    "harmonise_cities": "agglomera.data.harmonise",
    "harmonise_boundaries": "agglomera.data.boundaries",
    "BoundaryResult": "agglomera.data.boundaries",
    "sector_crosswalk": "agglomera.data.crosswalk",
    "sector_series": "agglomera.data.crosswalk",
    "yearbook_mapping": "agglomera.data.crosswalk",
    "read_dta": "agglomera.data.stata",
    "write_dta": "agglomera.data.stata",
    "write_xlsx": "agglomera.data.stata",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "transforms":
        return importlib.import_module("agglomera.data.transforms")
    raise AttributeError(f"module 'agglomera.data' has no attribute {name!r}")
