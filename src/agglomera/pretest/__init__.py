"""Panel pre-tests: unit roots, cross-sectional dependence, fixed vs random effects.

Reviewers expect these before a panel VAR, a Granger test or a spatial model. Every test
returns a frozen :class:`PretestResult`; :func:`pretests` gathers them into one table for
the report. Numbers agree with R's ``plm`` (``purtest``, ``cipstest``, ``pcdtest``,
``phtest``); the reference values and the R script are in ``tests/reference/pretest``.
"""

from __future__ import annotations

from agglomera.pretest.dependence import cross_section_dependence, pesaran_cd
from agglomera.pretest.hausman import hausman
from agglomera.pretest.table import PretestResult, pretests
from agglomera.pretest.unit_root import cips, im_pesaran_shin, levin_lin_chu

__all__ = [
    "PretestResult",
    "cips",
    "cross_section_dependence",
    "hausman",
    "im_pesaran_shin",
    "levin_lin_chu",
    "pesaran_cd",
    "pretests",
]
