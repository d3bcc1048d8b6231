"""Current situation and trends: descriptive statistics, correlations, distribution dynamics.

One module per family:

* :mod:`~agglomera.describe.summary` — :func:`summary` (the descriptive-statistics table);
* :mod:`~agglomera.describe.correlations` — :func:`correlations` (Pearson/Spearman, pooled
  or within, with stars) and :func:`vif`;
* :mod:`~agglomera.describe.trends` — :func:`rankings`, :func:`growth`,
  :func:`top_bottom`, :func:`regional_means`, :func:`share_above`;
* :mod:`~agglomera.describe.dynamics` — :func:`kernel_density`, :func:`markov`,
  :func:`spatial_markov`, :func:`lisa_markov` (the last two through pysal ``giddy``);
* :mod:`~agglomera.describe.convergence` — :func:`convergence` (σ and β);
* :mod:`~agglomera.describe.figures` — matplotlib figures for the report (imported on
  first use so that matplotlib is only needed for figures).

Results are frozen dataclasses with ``to_frame()``, ``table()`` and ``summary()`` where a
result has several parts (summary statistics, correlations, Markov chains, convergence);
the single-table functions of :mod:`~agglomera.describe.trends`, :func:`vif` and
:func:`kernel_density` return a tidy pandas DataFrame.
"""

from __future__ import annotations

import importlib
from typing import Any

from agglomera.describe.convergence import BetaResult, SigmaResult, convergence
from agglomera.describe.correlations import CorrelationResult, correlations, stars_for, vif
from agglomera.describe.dynamics import (
    MarkovResult,
    kernel_density,
    markov,
    mean_first_passage,
    recurrent_steady_states,
    steady_state,
)
from agglomera.describe.grey import GreyResult, grey_relational
from agglomera.describe.spatial_dynamics import (
    LisaMarkovResult,
    SpatialMarkovResult,
    lisa_markov,
    spatial_markov,
)
from agglomera.describe.summary import SummaryResult, summary
from agglomera.describe.trends import (
    growth,
    rankings,
    regional_means,
    share_above,
    top_bottom,
)

__all__ = [
    "BetaResult",
    "CorrelationResult",
    "GreyResult",
    "LisaMarkovResult",
    "MarkovResult",
    "SigmaResult",
    "SpatialMarkovResult",
    "SummaryResult",
    "convergence",
    "correlations",
    "figures",
    "grey_relational",
    "growth",
    "kernel_density",
    "lisa_markov",
    "markov",
    "mean_first_passage",
    "rankings",
    "recurrent_steady_states",
    "regional_means",
    "share_above",
    "spatial_markov",
    "stars_for",
    "steady_state",
    "summary",
    "top_bottom",
    "vif",
]


def __getattr__(name: str) -> Any:
    if name == "figures":
        return importlib.import_module("agglomera.describe.figures")
    raise AttributeError(f"module 'agglomera.describe' has no attribute {name!r}")
