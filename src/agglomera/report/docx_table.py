"""Word (.docx) writer: three-line tables (三线表) through python-docx.

Chinese journals (and many English ones) want the "three-line table": a 1.5 pt rule above
the header, a 0.75 pt rule under it, a 1.5 pt rule under the body, and no other lines. The
rules are written explicitly into the XML — ``w:tblBorders`` on the table and
``w:tcBorders`` on every cell, ``w:sz`` in eighths of a point (12 = 1.5 pt, 6 = 0.75 pt),
every vertical and inner border ``nil`` — so that the look does not depend on Word's
table styles. Text is Times New Roman for Latin characters and 宋体 (SimSun, the
``eastAsia`` font) for Chinese, 10.5 pt (五号); the title is bold above the table, the notes
are 9 pt (小五) below it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agglomera.errors import SpecError
from agglomera.report.labels import check_language, label
from agglomera.report.table import Table

__all__ = ["docx_bytes", "write_docx"]

TOP_RULE = 12  # eighths of a point: 1.5 pt
HEADER_RULE = 6  # 0.75 pt
BOTTOM_RULE = 12  # 1.5 pt

_TBL_AFTER_BORDERS = ("shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription")
_TC_AFTER_BORDERS = ("shd", "noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark")


def _require_docx() -> Any:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - exercised only without python-docx
        raise SpecError(
            "writing Word tables needs python-docx. Fix: pip install python-docx."
        ) from exc
    return docx


def _borders(tag: str, edges: dict[str, int | None]) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for edge, size in edges.items():
        border = OxmlElement(f"w:{edge}")
        if size is None:
            border.set(qn("w:val"), "nil")
        else:
            border.set(qn("w:val"), "single")
            border.set(qn("w:sz"), str(size))
            border.set(qn("w:space"), "0")
            border.set(qn("w:color"), "000000")
        element.append(border)
    return element


def _put(parent: Any, element: Any, successors: tuple[str, ...]) -> None:
    """Insert ``element`` into ``parent`` before its first schema successor (or append)."""
    from docx.oxml.ns import qn

    for old in parent.findall(element.tag):
        parent.remove(old)
    names = {qn(f"w:{s}") for s in successors}
    for index, child in enumerate(parent):
        if child.tag in names:
            parent.insert(index, element)
            return
    parent.append(element)


def _font(run: Any, size: float, latin: str, east_asia: str) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.size = Pt(size)
    run.font.name = latin
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _write_cell(
    cell: Any,
    text: str,
    align: str,
    fonts: tuple[float, str, str],
    *,
    italic: bool = False,
) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    paragraph.alignment = {
        "l": WD_ALIGN_PARAGRAPH.LEFT,
        "c": WD_ALIGN_PARAGRAPH.CENTER,
        "r": WD_ALIGN_PARAGRAPH.RIGHT,
    }[align]
    _tight(paragraph)
    run = paragraph.add_run(text)
    run.italic = italic or None
    _font(run, *fonts)


def _tight(paragraph: Any) -> None:
    fmt = paragraph.paragraph_format
    fmt.space_before = 0
    fmt.space_after = 0
    fmt.line_spacing = 1.0


def _add_table(
    document: Any, table: Table, number: int | None, language: str, sizes: dict[str, Any]
) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    body = (sizes["size"], sizes["latin"], sizes["east_asia"])
    small = (sizes["notes_size"], sizes["latin"], sizes["east_asia"])
    caption = table.title
    if number is not None:
        prefix = label("table", language).format(number=number)
        caption = f"{prefix}  {caption}" if caption else prefix
    if caption:
        para = document.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.keep_with_next = True
        run = para.add_run(caption)
        run.bold = True
        _font(run, *body)

    spans = table.header_groups()
    n_head = 2 if spans else 1
    lines: list[tuple[str, Any]] = []  # ("panel", title) or ("row", Row)
    for block in table.panels:
        if block.title is not None:
            lines.append(("panel", block.title))
        lines.extend(("row", row) for row in block.rows)
    n_rows = n_head + len(lines)
    grid = document.add_table(rows=n_rows, cols=table.n_columns)
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = True
    aligns = [table.stub_align, *(c.align for c in table.columns)]

    if spans:
        row = grid.rows[0]
        _write_cell(row.cells[0], "", "l", body)
        for group, first, last in spans:
            if group is None:
                for i in range(first, last + 1):
                    _write_cell(row.cells[i + 1], "", "c", body)
                continue
            cell = row.cells[first + 1]
            if last > first:
                cell = cell.merge(row.cells[last + 1])
            _write_cell(cell, group, "c", body)
    head = grid.rows[n_head - 1]
    headers = [table.stub, *(c.header for c in table.columns)]
    for i, text in enumerate(headers):
        _write_cell(head.cells[i], text, aligns[i], body)
    for k, (kind, item) in enumerate(lines):
        row = grid.rows[n_head + k]
        if kind == "panel":
            cell = row.cells[0].merge(row.cells[-1])
            _write_cell(cell, str(item), "l", body, italic=True)
            continue
        for i, text in enumerate([item.label, *item.texts]):
            _write_cell(row.cells[i], text, aligns[i], body)

    tbl_pr = grid._tbl.tblPr
    _put(
        tbl_pr,
        _borders(
            "w:tblBorders",
            {
                "top": TOP_RULE,
                "left": None,
                "bottom": BOTTOM_RULE,
                "right": None,
                "insideH": None,
                "insideV": None,
            },
        ),
        _TBL_AFTER_BORDERS,
    )
    last = n_rows - 1
    for r, row in enumerate(grid.rows):
        bottom = BOTTOM_RULE if r == last else HEADER_RULE if r == n_head - 1 else None
        edges = {
            "top": TOP_RULE if r == 0 else None,
            "left": None,
            "bottom": bottom,
            "right": None,
        }
        for tc in row._tr.findall(qn("w:tc")):
            _put(tc.get_or_add_tcPr(), _borders("w:tcBorders", edges), _TC_AFTER_BORDERS)

    for note in table.notes:
        para = document.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.LEFT
        _tight(para)
        _font(para.add_run(note), *small)


def _set_defaults(document: Any, language: str, sizes: dict[str, Any]) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = document.styles["Normal"]
    style.font.name = sizes["latin"]
    style.font.size = Pt(sizes["size"])
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), sizes["east_asia"])
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        from docx.oxml import OxmlElement

        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN" if language == "zh" else "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def docx_bytes(
    tables: Table | Iterable[Table],
    *,
    language: str | None = None,
    numbered: bool = False,
    size: float = 10.5,
    notes_size: float = 9.0,
    latin_font: str = "Times New Roman",
    east_asia_font: str = "宋体",
) -> bytes:
    """Return a Word document holding one or several three-line tables.

    Parameters
    ----------
    tables : Table or iterable of Table
        The tables, in order (an empty paragraph separates them).
    language : {"en", "zh"}, optional
        Document language (``w:lang``) and the caption prefix when ``numbered``; default
        the first table's language.
    numbered : bool, default False
        Prefix the titles with "Table 1" / "表 1", ... (Word does not number them itself).
    size : float, default 10.5
        Font size of the title and the table in points (10.5 pt = 五号).
    notes_size : float, default 9.0
        Font size of the notes (9 pt = 小五).
    latin_font : str, default "Times New Roman"
        Font of Latin characters (``w:ascii``/``w:hAnsi``).
    east_asia_font : str, default "宋体"
        Font of Chinese characters (``w:eastAsia``; SimSun).

    Returns
    -------
    bytes
        The ``.docx`` file content.
    """
    docx = _require_docx()
    listed = [tables] if isinstance(tables, Table) else list(tables)
    if not listed or not all(isinstance(t, Table) for t in listed):
        raise SpecError("write_docx needs a Table or a non-empty list of Table objects.")
    lang = check_language(language if language is not None else listed[0].language)
    sizes = {
        "size": float(size),
        "notes_size": float(notes_size),
        "latin": latin_font,
        "east_asia": east_asia_font,
    }
    document = docx.Document()
    _set_defaults(document, lang, sizes)
    for k, table in enumerate(listed):
        if k > 0:
            document.add_paragraph()
        _add_table(document, table, k + 1 if numbered else None, lang, sizes)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_docx(
    tables: Table | Iterable[Table],
    path: str | Path,
    *,
    language: str | None = None,
    **options: Any,
) -> Path:
    """Write one or several three-line tables into a Word ``.docx`` file.

    Parameters
    ----------
    tables : Table or iterable of Table
        The tables.
    path : str or Path
        Output file.
    language : {"en", "zh"}, optional
        Document language; default the first table's.
    **options
        ``numbered``, ``size``, ``notes_size``, ``latin_font``, ``east_asia_font`` (see
        :func:`docx_bytes`).

    Returns
    -------
    Path
        The path written.
    """
    out = Path(path)
    out.write_bytes(docx_bytes(tables, language=language, **options))
    return out
