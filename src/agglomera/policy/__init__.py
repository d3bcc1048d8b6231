"""Policy evaluation: treatment designs and (staggered) difference-in-differences.

Build a :func:`design` (cohorts, sample, coding and balance rules) once, then call
:func:`estimate` with any estimator (``"cs"``, ``"sa"``, ``"bjs"``, ``"twfe"``,
``"event_study"``); :func:`bacon_decomposition` shows why TWFE is biased under staggered
adoption with heterogeneous effects.
"""

from agglomera.policy.bacon import BaconResult, bacon_decomposition
from agglomera.policy.design import TreatmentDesign, design
from agglomera.policy.estimation import estimate
from agglomera.policy.heterogeneity import HeterogeneityResult, heterogeneity
from agglomera.policy.honest import HonestResult, honest_did
from agglomera.policy.mechanism import MechanismResult, mechanism
from agglomera.policy.placebo import PlaceboResult, draw_cohorts, placebo
from agglomera.policy.psm import PSMResult, psm_did
from agglomera.policy.results import DIDResult
from agglomera.policy.robustness import drop_never_treated, exclude, fake_timing
from agglomera.policy.spatial_did import SpatialDIDResult, exposure_table, spatial_did
from agglomera.policy.triple import difference_panel, triple_differences
from agglomera.policy.wild_bootstrap import WildBootstrapResult, wild_bootstrap

__all__ = [
    "BaconResult",
    "DIDResult",
    "HeterogeneityResult",
    "HonestResult",
    "MechanismResult",
    "PSMResult",
    "PlaceboResult",
    "SpatialDIDResult",
    "TreatmentDesign",
    "WildBootstrapResult",
    "bacon_decomposition",
    "design",
    "difference_panel",
    "draw_cohorts",
    "drop_never_treated",
    "estimate",
    "exclude",
    "exposure_table",
    "fake_timing",
    "heterogeneity",
    "honest_did",
    "mechanism",
    "placebo",
    "psm_did",
    "spatial_did",
    "triple_differences",
    "wild_bootstrap",
]
