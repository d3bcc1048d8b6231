"""Policy evaluation: treatment designs and (staggered) difference-in-differences.

Build a :func:`design` (cohorts, sample, coding and balance rules) once, then call
:func:`estimate` with any estimator (``"cs"``, ``"sa"``, ``"bjs"``, ``"twfe"``,
``"event_study"``); :func:`bacon_decomposition` shows why TWFE is biased under staggered
adoption with heterogeneous effects.
"""

from agglomera.policy.bacon import BaconResult, bacon_decomposition
from agglomera.policy.design import TreatmentDesign, design
from agglomera.policy.estimation import estimate
from agglomera.policy.results import DIDResult

__all__ = [
    "BaconResult",
    "DIDResult",
    "TreatmentDesign",
    "bacon_decomposition",
    "design",
    "estimate",
]
