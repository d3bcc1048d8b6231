"""Spatial analysis: weights, spatial autocorrelation, spatial panel models and patterns.

* :mod:`~agglomera.spatial.weights` — inverse-distance, k-nearest-neighbour, economic,
  nested and contiguity weights (libpysal ``W``), built from the reference coordinates;
* :mod:`~agglomera.spatial.autocorrelation` and :mod:`~agglomera.spatial.hotspots` —
  Moran's I and Geary's C by year, LISA, bivariate Moran, Getis–Ord Gi*;
* :func:`panel_model` — SAR, SEM, SDM and SDEM with unit, time or two-way fixed effects by
  maximum likelihood (optional Lee–Yu correction), with LeSage–Pace effects, LM tests and
  Wald/LR tests of the SDM restrictions;
* :func:`gravity_centre` and :func:`std_ellipse` — where agglomeration sits and how it moves.
"""

from __future__ import annotations

from agglomera.spatial import weights
from agglomera.spatial.autocorrelation import bivariate_moran, geary_by_year, lisa, moran_by_year
from agglomera.spatial.centre import (
    CentreResult,
    EllipseResult,
    ellipse_xy,
    gravity_centre,
    std_ellipse,
)
from agglomera.spatial.effects import lag_effects
from agglomera.spatial.geodesy import bearing_deg, compass_label, great_circle_km
from agglomera.spatial.hotspots import getis_ord
from agglomera.spatial.lm_tests import lm_tests, sdm_restrictions
from agglomera.spatial.panel_models import SpatialPanelResult, panel_model

__all__ = [
    "CentreResult",
    "EllipseResult",
    "SpatialPanelResult",
    "bearing_deg",
    "bivariate_moran",
    "compass_label",
    "ellipse_xy",
    "geary_by_year",
    "getis_ord",
    "gravity_centre",
    "great_circle_km",
    "lag_effects",
    "lisa",
    "lm_tests",
    "moran_by_year",
    "panel_model",
    "sdm_restrictions",
    "std_ellipse",
    "weights",
]
