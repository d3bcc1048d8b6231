"""CSV writer of report tables: the body as displayed, one row per table row."""

from __future__ import annotations

from pathlib import Path

from agglomera.report.table import Table

__all__ = ["to_csv"]


def to_csv(table: Table, path: str | Path | None = None, *, encoding: str = "utf-8-sig") -> str:
    r"""Return the table body as CSV text, and write it to ``path`` when given.

    The columns are those of :meth:`Table.to_frame`: ``panel`` (only when a row group is
    titled), the stub, then one column per body column named by its header (prefixed by
    its group, ``"TWFE / (1)"``). Cells are the display strings (``"0.123***"``,
    ``"(0.045)"``, ``"1,234"``); title and notes are not part of the CSV.

    Parameters
    ----------
    table : Table
        The table.
    path : str or Path, optional
        File to write.
    encoding : str, default "utf-8-sig"
        Encoding of the file: UTF-8 with a byte-order mark, so that Excel opens Chinese
        labels correctly. The returned text has no BOM.

    Returns
    -------
    str
        The CSV text (``\\n`` line endings).
    """
    text = table.to_frame().to_csv(index=False, lineterminator="\n")
    if path is not None:
        Path(path).write_text(text, encoding=encoding, newline="")
    return text
