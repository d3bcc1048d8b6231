"""Studies: one TOML file describes a study; one call runs it and writes the report.

* :func:`load_study` / :func:`parse_study` — validate a study file (unknown keys rejected);
* :func:`run_study` — data → measures → policy / interaction / spatial analyses, returning
  a :class:`StudyReport` in memory;
* :func:`write_report` — ``report.html``, tables (LaTeX, Markdown, CSV, Word), figures
  (PNG, SVG), ``results.json`` and the study file.

The command line's ``agglomera run STUDY.toml --out DIR`` is these three calls.
"""

from __future__ import annotations

from agglomera.study.runner import run_study, software_versions
from agglomera.study.sections import FigureItem, MethodEntry, Section, StudyReport, TableItem
from agglomera.study.spec import StudySpec, load_study, parse_study
from agglomera.study.writer import render_html, results_document, write_report

__all__ = [
    "FigureItem",
    "MethodEntry",
    "Section",
    "StudyReport",
    "StudySpec",
    "TableItem",
    "load_study",
    "parse_study",
    "render_html",
    "results_document",
    "run_study",
    "software_versions",
    "write_report",
]
