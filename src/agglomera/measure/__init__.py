"""Agglomeration measures: location quotients, specialisation and concentration indices,
composite indicators (entropy weights, TOPSIS) and coupling coordination.

Every function that transforms data accepts pandas, polars, pyarrow, DuckDB relations and
PySpark DataFrames (through narwhals) and returns the same kind of frame.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = (
    "location_quotient",
    "specialisation",
    "plant_concentration",
    "composite",
    "coupling",
)


def __getattr__(name: str) -> Any:
    for module_name in _MODULES:
        try:
            module = importlib.import_module(f"agglomera.measure.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"agglomera.measure.{module_name}":
                continue
            raise
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module 'agglomera.measure' has no attribute {name!r}")
