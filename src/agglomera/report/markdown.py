r"""GitHub-flavoured Markdown writer of report tables.

Cells are escaped with backslashes (``\\|``, ``\\*``, ``\\_``, ``\\<`` ...), so a pipe in a
city name does not split a cell, significance stars do not turn into emphasis and
``<script>`` stays text; a Markdown renderer shows the original strings.
"""

from __future__ import annotations

from agglomera.report.table import Table

__all__ = ["escape_markdown", "to_markdown", "unescape_markdown"]

_MD_SPECIALS = set("\\`*_[]<>|~$")


def escape_markdown(text: str) -> str:
    r"""Escape a string for a Markdown table cell.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text with ``\ ` * _ [ ] < > | ~ $`` backslash-escaped and line breaks as
        spaces: ``a|b`` → ``a\|b``, ``0.12***`` → ``0.12\*\*\*``.
    """
    out = []
    for ch in str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " "):
        out.append("\\" + ch if ch in _MD_SPECIALS else ch)
    return "".join(out)


def unescape_markdown(text: str) -> str:
    """Undo :func:`escape_markdown` (a backslash before punctuation is dropped).

    Parameters
    ----------
    text : str
        Escaped text.

    Returns
    -------
    str
        The original text.
    """
    out = []
    chars = iter(str(text))
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(nxt if nxt in _MD_SPECIALS else ch + nxt)
        else:
            out.append(ch)
    return "".join(out)


_ALIGN_RULE = {"l": ":---", "c": ":---:", "r": "---:"}


def to_markdown(table: Table, *, title: bool = True, notes: bool = True) -> str:
    """Render a table as a GitHub pipe table.

    Markdown has one header row: a column's group is written before its header
    (``TWFE (1)``); titled panels become bold spanning-style rows (title in the stub cell).

    Parameters
    ----------
    table : Table
        The table.
    title : bool, default True
        Print the title as a bold line above the table.
    notes : bool, default True
        Print the notes below the table, one paragraph each.

    Returns
    -------
    str
        The Markdown text.
    """
    headers = [
        escape_markdown(f"{c.group} {c.header}" if c.group is not None else c.header)
        for c in table.columns
    ]
    lines = []
    if title and table.title:
        lines += [f"**{escape_markdown(table.title)}**", ""]
    lines.append("| " + " | ".join([escape_markdown(table.stub), *headers]) + " |")
    aligns = [table.stub_align, *(c.align for c in table.columns)]
    lines.append("| " + " | ".join(_ALIGN_RULE[a] for a in aligns) + " |")
    blank = [""] * len(table.columns)
    for group in table.panels:
        if group.title is not None:
            lines.append("| " + " | ".join([f"**{escape_markdown(group.title)}**", *blank]) + " |")
        for row in group.rows:
            cells = [escape_markdown(row.label), *(escape_markdown(t) for t in row.texts)]
            lines.append("| " + " | ".join(cells) + " |")
    if notes and table.notes:
        for note in table.notes:
            lines += ["", escape_markdown(note)]
    return "\n".join(lines) + "\n"
