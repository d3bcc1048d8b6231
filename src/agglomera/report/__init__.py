"""Publication output: the report table model and its writers.

* :class:`Table` — one immutable table (title, label, columns with spanning groups, row
  groups/panels, notes) built by :meth:`Table.from_frame`, :meth:`Table.from_result` or
  :meth:`Table.regression` (from :class:`ModelColumn` s or DID results);
* writers, each a function of a table: :func:`to_latex` (booktabs), :func:`to_markdown`,
  :func:`to_html` (with :data:`THREE_LINE_CSS`), :func:`to_csv`, :func:`write_docx` /
  :func:`docx_bytes` (Word three-line tables);
* :mod:`~agglomera.report.labels` — the English/Chinese label sets;
* figures (:func:`placebo_figure`, :func:`coupling_paths`, :func:`lq_paths`,
  :func:`save_figure`), maps from the shipped boundaries (:func:`choropleth`,
  :func:`bubble_map`) and explicit CJK font registration (:func:`cjk_font`,
  :func:`apply_fonts`, :func:`font_status`).
"""

from __future__ import annotations

import importlib
from typing import Any

from agglomera.report.csv_table import to_csv
from agglomera.report.docx_table import docx_bytes, write_docx
from agglomera.report.html_table import THREE_LINE_CSS, to_html
from agglomera.report.labels import LABELS, label, star_note, translate
from agglomera.report.latex import escape_latex, to_latex
from agglomera.report.markdown import escape_markdown, to_markdown
from agglomera.report.models import ModelColumn
from agglomera.report.table import (
    Column,
    Row,
    RowGroup,
    Table,
    format_number,
    significance_stars,
)

__all__ = [
    "LABELS",
    "THREE_LINE_CSS",
    "Column",
    "ModelColumn",
    "Row",
    "RowGroup",
    "Table",
    "apply_fonts",
    "bubble_map",
    "choropleth",
    "cjk_font",
    "coupling_paths",
    "docx_bytes",
    "escape_latex",
    "escape_markdown",
    "font_status",
    "format_number",
    "label",
    "lq_paths",
    "placebo_figure",
    "save_figure",
    "significance_stars",
    "star_note",
    "to_csv",
    "to_html",
    "to_latex",
    "to_markdown",
    "translate",
    "write_docx",
]

#: Figure, map and font functions, imported on first use (they load matplotlib).
_LAZY = {
    "coupling_paths": "agglomera.report.figures",
    "lq_paths": "agglomera.report.figures",
    "placebo_figure": "agglomera.report.figures",
    "save_figure": "agglomera.report.figures",
    "apply_fonts": "agglomera.report.fonts",
    "cjk_font": "agglomera.report.fonts",
    "font_status": "agglomera.report.fonts",
    "bubble_map": "agglomera.report.maps",
    "choropleth": "agglomera.report.maps",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agglomera.report' has no attribute {name!r}")
