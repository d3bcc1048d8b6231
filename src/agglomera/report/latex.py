r"""LaTeX booktabs writer of report tables.

The output needs only the ``booktabs`` package (``\toprule``, ``\midrule``,
``\cmidrule``, ``\bottomrule``); with ``threeparttable=True`` it also needs
``threeparttable``. Every string of the table is escaped (``& % $ # _ { } ~ ^ \ < >``),
so city names and labels are data, never LaTeX code. Chinese text is passed through
unchanged: compile a document with Chinese tables with XeLaTeX (or LuaLaTeX) and the
``ctex`` package (``\documentclass{ctexart}`` or ``\usepackage{ctex}``).
"""

from __future__ import annotations

from agglomera.report.table import Table

__all__ = ["escape_latex", "to_latex"]

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "²": r"\textsuperscript{2}",
    "×": r"\ensuremath{\times}",
    "\n": " ",
    "\r": " ",
}


def escape_latex(text: str) -> str:
    r"""Escape a string for LaTeX text mode.

    Parameters
    ----------
    text : str
        Any text (a city name, a label, a note).

    Returns
    -------
    str
        ``R&D 10%`` → ``R\&D 10\%``; ``~``, ``^`` and ``\`` become
        ``\textasciitilde{}``, ``\textasciicircum{}``, ``\textbackslash{}``; ``<``/``>``
        become ``\textless{}``/``\textgreater{}`` (they print as ¡/¿ in the default font
        encoding otherwise); ``²`` and ``×`` become ``\textsuperscript{2}`` and
        ``\ensuremath{\times}`` so that pdfLaTeX compiles English tables too.
    """
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def _protect(text: str) -> str:
    r"""Keep a leading ``[`` or ``*`` from being read as an argument of ``\\`` or ``\item``."""
    return "{}" + text if text[:1] in ("[", "*") else text


def _line(cells: list[str]) -> str:
    return " & ".join([_protect(cells[0]), *cells[1:]]) + r" \\"


def to_latex(
    table: Table,
    *,
    threeparttable: bool = False,
    placement: str = "htbp",
    section_rules: bool = True,
    notes_size: str = r"\footnotesize",
) -> str:
    r"""Render a table as a LaTeX ``table`` environment with booktabs rules.

    Parameters
    ----------
    table : Table
        The table.
    threeparttable : bool, default False
        Wrap the tabular in ``threeparttable`` and print the notes as ``tablenotes`` items
        (needs ``\usepackage{threeparttable}``); by default the notes are a
        ``\footnotesize`` paragraph under the tabular (booktabs only).
    placement : str, default "htbp"
        Float placement.
    section_rules : bool, default True
        Put a ``\midrule`` between row groups (coefficients / statistics, panels).
    notes_size : str, default "\\footnotesize"
        Font size command of the notes.

    Returns
    -------
    str
        The LaTeX code: ``\begin{table}``, ``\caption`` (the title), ``\label``, then
        ``\toprule``, the group header with ``\multicolumn`` and ``\cmidrule(lr){a-b}``, the
        header, ``\midrule``, the body, ``\bottomrule``, and the notes.
    """
    width = table.n_columns
    spec = table.stub_align + "".join(c.align for c in table.columns)
    out = [rf"\begin{{table}}[{placement}]", r"\centering"]
    if table.title:
        out.append(rf"\caption{{{escape_latex(table.title)}}}")
    if table.label:
        out.append(rf"\label{{{table.label}}}")
    if threeparttable:
        out.append(r"\begin{threeparttable}")
    out += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    spans = table.header_groups()
    if spans:
        cells = [""]
        rules = []
        for group, first, last in spans:
            n = last - first + 1
            if group is None:
                cells.extend([""] * n)
                continue
            cells.append(rf"\multicolumn{{{n}}}{{c}}{{{escape_latex(group)}}}")
            rules.append(rf"\cmidrule(lr){{{first + 2}-{last + 2}}}")
        out.append(_line(cells))
        out.append(" ".join(rules))
    out.append(_line([escape_latex(table.stub), *(escape_latex(c.header) for c in table.columns)]))
    out.append(r"\midrule")
    for k, block in enumerate(table.panels):
        if k > 0 and section_rules:
            out.append(r"\midrule")
        if block.title is not None:
            out.append(
                rf"\multicolumn{{{width}}}{{l}}{{\textit{{{escape_latex(block.title)}}}}} \\"
            )
        for row in block.rows:
            out.append(_line([escape_latex(row.label), *(escape_latex(t) for t in row.texts)]))
    out += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        if threeparttable:
            out.append(r"\begin{tablenotes}[flushleft]")
            out.append(notes_size)
            out += [rf"\item {_protect(escape_latex(note))}" for note in table.notes]
            out.append(r"\end{tablenotes}")
        else:
            body = r"\par ".join(escape_latex(note) for note in table.notes)
            out.append(r"\par\smallskip")
            out.append(rf"{{{notes_size}\raggedright {body}\par}}")
    if threeparttable:
        out.append(r"\end{threeparttable}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"
