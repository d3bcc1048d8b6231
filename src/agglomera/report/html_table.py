r"""HTML writer of report tables: a ``<table>`` fragment and a three-line CSS snippet.

Every string is escaped with :func:`html.escape` (quotes included), so a city name such
as ``<script>`` is shown, never run. The fragment carries classes (``ag-table``,
``ag-groups``, ``ag-panel``, ``ag-se``, ``ag-notes``) that :data:`THREE_LINE_CSS` styles as a
three-line table: 1.5 pt rules above the header and under the body (the notes sit below
the bottom rule), 0.75 pt under the header, and thin 0.5 pt rules under spanning group
headers and between row groups (as LaTeX's ``\cmidrule``/``\midrule``); the HTML report
embeds the constant once in its ``<style>``.
"""

from __future__ import annotations

import html

from agglomera.report.table import Table

__all__ = ["THREE_LINE_CSS", "to_html"]

THREE_LINE_CSS = """\
table.ag-table { border-collapse: collapse; border-top: 1.5pt solid #000; margin: 0.5em 0;
  font-variant-numeric: tabular-nums; }
table.ag-table caption { caption-side: top; font-weight: bold; padding-bottom: 0.4em; }
table.ag-table th, table.ag-table td { padding: 0.15em 0.8em; border: none; }
table.ag-table thead tr:last-child th { border-bottom: 0.75pt solid #000; }
table.ag-table tr.ag-groups th.ag-span { border-bottom: 0.5pt solid #000; }
table.ag-table tbody + tbody tr:first-child > * { border-top: 0.5pt solid #000; }
table.ag-table tbody:last-of-type tr:last-child > * { border-bottom: 1.5pt solid #000; }
table.ag-table tr.ag-panel th { font-style: italic; font-weight: normal; text-align: left; }
table.ag-table .ag-l { text-align: left; }
table.ag-table .ag-c { text-align: center; }
table.ag-table .ag-r { text-align: right; }
table.ag-table tfoot td { font-size: 0.85em; text-align: left; padding-top: 0.4em; }
"""


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def to_html(table: Table, *, table_class: str = "ag-table") -> str:
    """Render a table as an HTML ``<table>`` fragment.

    Parameters
    ----------
    table : Table
        The table.
    table_class : str, default "ag-table"
        Class of the ``<table>`` element (the CSS of :data:`THREE_LINE_CSS` targets
        ``ag-table``).

    Returns
    -------
    str
        ``<table class="ag-table" id="label">`` with ``<caption>`` (the title), ``<thead>``
        (group row with ``colspan``, header row), one ``<tbody>`` per row group (a titled
        group starts with a ``tr.ag-panel`` row) and the notes in ``<tfoot>``.
    """
    width = table.n_columns
    ident = f' id="{_esc(table.label)}"' if table.label else ""
    lang = ' lang="zh"' if table.language == "zh" else ""
    out = [f'<table class="{_esc(table_class)}"{ident}{lang}>']
    if table.title:
        out.append(f"<caption>{_esc(table.title)}</caption>")
    out.append("<thead>")
    spans = table.header_groups()
    if spans:
        cells = ["<th></th>"]
        for group, first, last in spans:
            n = last - first + 1
            if group is None:
                cells.extend(["<th></th>"] * n)
            else:
                cells.append(f'<th class="ag-span ag-c" colspan="{n}">{_esc(group)}</th>')
        out.append('<tr class="ag-groups">' + "".join(cells) + "</tr>")
    heads = [f'<th class="ag-{table.stub_align}">{_esc(table.stub)}</th>']
    heads += [f'<th class="ag-{c.align}">{_esc(c.header)}</th>' for c in table.columns]
    out.append("<tr>" + "".join(heads) + "</tr>")
    out.append("</thead>")
    for block in table.panels:
        out.append("<tbody>")
        if block.title is not None:
            out.append(f'<tr class="ag-panel"><th colspan="{width}">{_esc(block.title)}</th></tr>')
        for row in block.rows:
            cls = f' class="ag-{row.kind}"' if row.kind != "body" else ""
            cells = [f'<th class="ag-{table.stub_align}" scope="row">{_esc(row.label)}</th>']
            cells += [
                f'<td class="ag-{c.align}">{_esc(t)}</td>'
                for c, t in zip(table.columns, row.texts, strict=True)
            ]
            out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
        out.append("</tbody>")
    if table.notes:
        notes = "<br>".join(_esc(n) for n in table.notes)
        out.append(f'<tfoot><tr><td class="ag-notes" colspan="{width}">{notes}</td></tr></tfoot>')
    out.append("</table>")
    return "\n".join(out) + "\n"
