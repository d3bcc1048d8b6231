"""How industry and talent agglomeration drive each other.

Coupling dynamics, panel Granger causality (Dumitrescu–Hurlin), panel VAR by GMM,
simultaneous equations (2SLS/3SLS and spatial variants), panel threshold and panel
smooth-transition regressions.
"""

from __future__ import annotations

from agglomera.interaction.coupling_dynamics import CouplingDynamics, coupling_dynamics
from agglomera.interaction.figures import irf_figure
from agglomera.interaction.granger import DHResult, dumitrescu_hurlin
from agglomera.interaction.panel_var import HansenJ, PanelVARResult, panel_var, select_order
from agglomera.interaction.pstr import PSTRResult, pstr, pstr_linearity
from agglomera.interaction.simultaneous import SimultaneousResult, simultaneous
from agglomera.interaction.threshold import ThresholdResult, threshold

__all__ = [
    "CouplingDynamics",
    "DHResult",
    "HansenJ",
    "PSTRResult",
    "PanelVARResult",
    "SimultaneousResult",
    "ThresholdResult",
    "coupling_dynamics",
    "dumitrescu_hurlin",
    "irf_figure",
    "panel_var",
    "pstr",
    "pstr_linearity",
    "select_order",
    "simultaneous",
    "threshold",
]
