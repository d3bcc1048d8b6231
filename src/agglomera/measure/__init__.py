"""Agglomeration measures: location quotients, indices, composite indicators and coupling.

Location quotients and the specialisation/concentration indices accept pandas, polars,
pyarrow, DuckDB relations, PySpark DataFrames and CSV/Parquet paths or globs (through
narwhals; files are scanned lazily by DuckDB) and return the same kind of frame. Composite
indicators and coupling coordination work on a city × indicator table and return frozen
results.

Modules: :mod:`~agglomera.measure.location_quotients`,
:mod:`~agglomera.measure.specialisation`, :mod:`~agglomera.measure.plant_concentration`,
:mod:`~agglomera.measure.composite`, :mod:`~agglomera.measure.coupling`.
"""

from __future__ import annotations

from agglomera.measure.composite import (
    CompositeResult,
    EntropyResult,
    TopsisResult,
    composite_index,
    entropy_weights,
    obstacle_degree,
    topsis,
)
from agglomera.measure.coupling import CouplingResult, coupling_coordination, coupling_grades
from agglomera.measure.location_quotients import (
    average_lq,
    density_per_10k,
    hachman,
    location_quotient,
)
from agglomera.measure.plant_concentration import (
    coagglomeration,
    ellison_glaeser,
    maurel_sedillot,
)
from agglomera.measure.specialisation import (
    dagum_gini,
    diversity,
    herfindahl,
    hoover,
    hoover_gini,
    krugman,
    locational_gini,
    spatial_gini_raw,
    theil,
)

__all__ = [
    "CompositeResult",
    "CouplingResult",
    "EntropyResult",
    "TopsisResult",
    "average_lq",
    "coagglomeration",
    "composite_index",
    "coupling_coordination",
    "coupling_grades",
    "dagum_gini",
    "density_per_10k",
    "diversity",
    "ellison_glaeser",
    "entropy_weights",
    "hachman",
    "herfindahl",
    "hoover",
    "hoover_gini",
    "krugman",
    "location_quotient",
    "locational_gini",
    "maurel_sedillot",
    "obstacle_degree",
    "spatial_gini_raw",
    "theil",
    "topsis",
]
