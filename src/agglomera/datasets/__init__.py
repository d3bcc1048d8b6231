"""Example data: seeded generators on real cities and real pilot years, with a documented DGP.

Every generator returns simulated numbers on **real geography and real policy dates**:
6-digit administrative codes, regions and census population from
:mod:`agglomera.reference`, and the real national innovative-city pilot years. The
data-generating process of each generator is written out in its docstring, in the
returned object's ``description`` and in ``docs/datasets.md``; the true parameters and
effects are returned alongside the data (``ExampleData.truth``) so that estimators can be
checked against them.

- :func:`innovative_city` — city-year panel for the staggered innovative-city pilot
  (talent location quotient, controls, mechanisms; heterogeneous, dynamic effects).
- :func:`zhejiang_bay` — the eight Zhejiang Bay Area cities with industry and talent
  indicators driven by a known two-variable panel VAR(1).
- :func:`firm_microdata` — large firm-year microdata (in memory or written chunk by chunk
  to Parquet) for aggregation benchmarks.
"""

from __future__ import annotations

from agglomera.datasets._common import ExampleData
from agglomera.datasets.innovative_city import innovative_city, talent_lq_formula
from agglomera.datasets.microdata import (
    INDUSTRY_SHARES,
    expected_industry_shares,
    firm_microdata,
)
from agglomera.datasets.zhejiang_bay import zhejiang_bay

__all__ = [
    "INDUSTRY_SHARES",
    "ExampleData",
    "expected_industry_shares",
    "firm_microdata",
    "innovative_city",
    "talent_lq_formula",
    "zhejiang_bay",
]
