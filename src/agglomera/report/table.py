"""The report table model: one immutable :class:`Table` that every writer renders.

A table is a *stub* (the first column: variable names, coefficient names, statistics),
body :class:`Column` s (header text, an optional spanning group header, alignment) and
row groups (:class:`RowGroup`, printed as "Panel A: East" blocks or as the coefficient /
statistics blocks of a regression table), plus a title, a cross-reference label and notes.
Cells are strings already formatted or numbers that a row formats with its format spec,
so the writers (LaTeX, Markdown, HTML, CSV, Word) never decide how a number looks; they
only lay the strings out and escape them for their format.

Two constructors cover the tables of a paper:

* :meth:`Table.from_frame` / :meth:`Table.from_result` — descriptive tables (summary
  statistics, starred correlation matrices) from a tidy DataFrame or a result with
  ``table()``;
* :meth:`Table.regression` — regression and DID tables from :class:`ModelColumn` s
  (coefficients with stars, standard errors in parentheses, fixed-effect rows, statistics),
  with the star and standard-error conventions written into the notes in the table's
  language.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from agglomera.errors import SpecError, format_examples
from agglomera.report.labels import check_language, star_note, translate
from agglomera.report.labels import label as _label
from agglomera.report.models import ModelColumn

__all__ = [
    "Cell",
    "Column",
    "Row",
    "RowGroup",
    "Table",
    "format_number",
    "significance_stars",
]

Cell = str | float | int | None
Align = Literal["l", "c", "r"]
_ALIGNS = ("l", "c", "r")
_LABEL_RE = re.compile(r"^[A-Za-z0-9:_.\-]+$")
_SE_STYLES = ("parentheses", "brackets", "below", "beside")
_INT_STATS = {"n_obs", "n_units", "n_clusters", "n", "nobs"}


# ---------------------------------------------------------------------- formatting
def significance_stars(pvalue: float | None, levels: Sequence[float] = (0.1, 0.05, 0.01)) -> str:
    """Return the significance stars of a p-value.

    One star per level the p-value is strictly below (``p < 0.01`` gives ``"***"`` with
    the default levels), the rule of :func:`agglomera.describe.stars_for`. ``None`` and NaN
    give ``""``.

    Parameters
    ----------
    pvalue : float or None
        The p-value.
    levels : sequence of float, default (0.1, 0.05, 0.01)
        Significance levels.

    Returns
    -------
    str
        ``""``, ``"*"``, ``"**"``, ...
    """
    if pvalue is None or math.isnan(float(pvalue)):
        return ""
    return "*" * sum(1 for level in levels if float(pvalue) < level)


def format_number(
    value: Any,
    fmt: str = "{:.3f}",
    *,
    int_format: str = "{:,}",
    na_rep: str = "",
) -> str:
    """Format one cell value as display text.

    Strings pass through; integers (and integral numpy values) use ``int_format``
    (thousands separators by default); other numbers use ``fmt``; ``None``/NaN give
    ``na_rep``; booleans are not special-cased here (see :meth:`Table.from_frame`).
    A negative zero after rounding prints without its sign (``-0.000`` → ``0.000``).

    Parameters
    ----------
    value : object
        The cell.
    fmt : str, default "{:.3f}"
        :meth:`str.format` pattern for real numbers.
    int_format : str, default "{:,}"
        Pattern for integers.
    na_rep : str, default ""
        Text of a missing value.

    Returns
    -------
    str
        The display text.
    """
    if value is None:
        return na_rep
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return int_format.format(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return na_rep
        text = fmt.format(number)
        if text.startswith("-") and _is_zero_text(text[1:]):
            text = text[1:]
        return text
    try:
        if pd.isna(value):
            return na_rep
    except (TypeError, ValueError):
        pass
    return str(value)


def _is_zero_text(text: str) -> bool:
    digits = [c for c in text if c.isdigit()]
    return bool(digits) and all(c == "0" for c in digits)


# ---------------------------------------------------------------------- model parts
@dataclass(frozen=True)
class Column:
    r"""A body column of a :class:`Table`.

    Attributes
    ----------
    header : str
        Header text (e.g. ``"(1)"``, ``"Mean"``).
    group : str or None
        Spanning header printed above; adjacent columns with the same group share one
        spanning cell (LaTeX ``\\multicolumn`` + ``\\cmidrule``, HTML ``colspan``).
    align : {"l", "c", "r"}
        Alignment of the column's cells.
    """

    header: str
    group: str | None = None
    align: Align = "c"

    def __post_init__(self) -> None:
        if self.align not in _ALIGNS:
            raise SpecError(f"Column.align must be 'l', 'c' or 'r'; got {self.align!r}.")


@dataclass(frozen=True)
class Row:
    """A body row: the stub label and one cell per body column.

    Attributes
    ----------
    label : str
        Stub text (empty for the standard-error row under a coefficient).
    cells : tuple
        One cell per column: a string shown as is, or a number formatted with ``fmt``
        (integers with thousands separators), ``None``/NaN shown as ``na_rep``.
    fmt : str
        :meth:`str.format` pattern of the numeric cells.
    na_rep : str
        Text of missing cells.
    kind : str
        What the row holds (``"body"``, ``"coef"``, ``"se"``, ``"fe"``, ``"stat"``);
        writers may style by it, the CSV keeps it out.
    """

    label: str
    cells: tuple[Cell, ...]
    fmt: str = "{:.3f}"
    na_rep: str = ""
    kind: str = "body"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cells", tuple(self.cells))
        object.__setattr__(self, "label", str(self.label))

    @property
    def texts(self) -> tuple[str, ...]:
        """The cells as display strings."""
        return tuple(format_number(c, self.fmt, na_rep=self.na_rep) for c in self.cells)


@dataclass(frozen=True)
class RowGroup:
    """A block of rows, separated from the previous block by a rule.

    Attributes
    ----------
    rows : tuple of Row
        The rows.
    title : str or None
        Panel title printed as a spanning row above the block (``"Panel A: East"``);
        ``None`` for an untitled block (e.g. the statistics block of a regression table).
    """

    rows: tuple[Row, ...]
    title: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(self.rows))


# ---------------------------------------------------------------------- model columns


# ---------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Table:
    r"""A publication table, independent of the output format.

    Attributes
    ----------
    title : str
        Caption printed above the table.
    columns : tuple of Column
        The body columns (the stub is not one of them).
    panels : tuple of RowGroup
        Row groups in order; a rule separates consecutive groups and a titled group prints
        its title as a spanning row.
    stub : str
        Header of the first (stub) column.
    label : str or None
        Cross-reference key (LaTeX ``\\label``, HTML ``id``): letters, digits, ``: _ . -``.
    notes : tuple of str
        Notes printed below the table, one per line.
    language : {"en", "zh"}
        Language of the labels the table wrote itself; writers use it for document
        settings (e.g. the Word language tag).
    stub_align : {"l", "c", "r"}
        Alignment of the stub column.
    """

    title: str
    columns: tuple[Column, ...]
    panels: tuple[RowGroup, ...]
    stub: str = ""
    label: str | None = None
    notes: tuple[str, ...] = ()
    language: str = "en"
    stub_align: Align = "l"

    def __post_init__(self) -> None:
        columns = tuple(c if isinstance(c, Column) else Column(str(c)) for c in self.columns)
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "panels", tuple(self.panels))
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes if str(n)))
        check_language(self.language)
        if self.stub_align not in _ALIGNS:
            raise SpecError(f"stub_align must be 'l', 'c' or 'r'; got {self.stub_align!r}.")
        if self.label is not None and not _LABEL_RE.match(self.label):
            raise SpecError(
                f"label {self.label!r} may only hold letters, digits and ':', '_', '.', '-' "
                "(it becomes a LaTeX \\label and an HTML id). Fix: e.g. label='tab:did'."
            )
        width = len(columns)
        for group in self.panels:
            for row in group.rows:
                if len(row.cells) != width:
                    raise SpecError(
                        f"row {row.label!r} has {len(row.cells)} cells but the table has "
                        f"{width} columns ({format_examples([c.header for c in columns])})."
                    )

    # ------------------------------------------------------------------ views
    @property
    def rows(self) -> tuple[Row, ...]:
        """All body rows, in order, across the row groups."""
        return tuple(row for group in self.panels for row in group.rows)

    @property
    def n_columns(self) -> int:
        """Number of columns including the stub."""
        return len(self.columns) + 1

    def header_groups(self) -> list[tuple[str | None, int, int]]:
        """Spans of the group header row: ``(group, first, last)`` body-column positions.

        Adjacent columns with the same group form one span; columns without a group form
        spans with ``group=None``. Empty when no column has a group.
        """
        if all(c.group is None for c in self.columns):
            return []
        spans: list[tuple[str | None, int, int]] = []
        for i, column in enumerate(self.columns):
            if spans and spans[-1][0] == column.group and column.group is not None:
                spans[-1] = (column.group, spans[-1][1], i)
            else:
                spans.append((column.group, i, i))
        return spans

    def to_frame(self) -> pd.DataFrame:
        """Return the body as display strings: the stub column, then one per body column.

        Column names are the headers, prefixed by the group (``"TWFE / (1)"``) when the
        column has one; a ``panel`` column comes first when a row group is titled.
        """
        names = [
            f"{c.group} / {c.header}" if c.group is not None else c.header for c in self.columns
        ]
        stub = self.stub or "variable"
        titled = any(g.title is not None for g in self.panels)
        records = []
        for group in self.panels:
            for row in group.rows:
                record = [row.label, *row.texts]
                records.append([group.title or "", *record] if titled else record)
        columns = (["panel"] if titled else []) + [stub, *names]
        return pd.DataFrame(records, columns=pd.Index(columns), dtype=object)

    # ------------------------------------------------------------------ writers
    def to_latex(self, **options: Any) -> str:
        """Return LaTeX booktabs code (see :func:`agglomera.report.to_latex`)."""
        from agglomera.report.latex import to_latex

        return to_latex(self, **options)

    def to_markdown(self, **options: Any) -> str:
        """Return a GitHub Markdown table (see :func:`agglomera.report.to_markdown`)."""
        from agglomera.report.markdown import to_markdown

        return to_markdown(self, **options)

    def to_html(self, **options: Any) -> str:
        """Return an HTML ``<table>`` fragment (see :func:`agglomera.report.to_html`)."""
        from agglomera.report.html_table import to_html

        return to_html(self, **options)

    def to_csv(self, path: str | Path | None = None, **options: Any) -> str:
        """Return (and optionally write) the CSV body (see :func:`agglomera.report.to_csv`)."""
        from agglomera.report.csv_table import to_csv

        return to_csv(self, path, **options)

    def to_docx(self, path: str | Path, **options: Any) -> Path:
        """Write a Word document with this table (see :func:`agglomera.report.write_docx`)."""
        from agglomera.report.docx_table import write_docx

        return write_docx([self], path, **options)

    def _repr_html_(self) -> str:
        from agglomera.report.html_table import THREE_LINE_CSS, to_html

        return f"<style>{THREE_LINE_CSS}</style>" + to_html(self)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        title: str = "",
        float_format: str = "{:.3f}",
        int_format: str = "{:,}",
        index: bool | str = True,
        formats: Mapping[str, str] | None = None,
        column_groups: Mapping[str, str] | None = None,
        align: Align = "c",
        panels: str | None = None,
        na_rep: str = "",
        notes: Iterable[str] = (),
        label: str | None = None,
        stub: str | None = None,
        language: str = "en",
    ) -> Table:
        """Build a table from a DataFrame (summary statistics, correlation matrices, ...).

        Parameters
        ----------
        df : pandas.DataFrame
            One row per table row. Numeric cells are formatted here, strings kept as is.
        title : str, default ""
            Caption.
        float_format : str, default "{:.3f}"
            Pattern of real numbers.
        int_format : str, default "{:,}"
            Pattern of integer columns (thousands separators: ``1,234``).
        index : bool or str, default True
            Where the stub (row labels) comes from: ``True`` — the frame's index, except a
            default unnamed ``RangeIndex`` (as returned by the ``table()`` methods of
            agglomera results), in which case the first column; ``False`` — the first
            column; a column name — that column.
        formats : mapping, optional
            Pattern per column (the stub column included), overriding
            ``float_format``/``int_format``.
        column_groups : mapping, optional
            Spanning group header per column name.
        align : {"l", "c", "r"}, default "c"
            Alignment of the body columns.
        panels : str, optional
            Column whose values split the rows into titled panels ("Panel A: East", in
            order of first appearance); the column is not printed.
        na_rep : str, default ""
            Text of missing cells.
        notes : iterable of str, default ()
            Notes below the table.
        label : str, optional
            Cross-reference key.
        stub : str, optional
            Stub header; default the index name or the stub column's name.
        language : {"en", "zh"}, default "en"
            With ``"zh"``, headers that are known English labels ("Variable", "N", "Mean",
            "SD", "Min", "Median", "Max", ...) are translated (变量, 观测值, 均值, ...);
            booleans print 是/否.

        Returns
        -------
        Table
        """
        lang = check_language(language)
        if not isinstance(df, pd.DataFrame):
            raise SpecError(f"Table.from_frame needs a pandas DataFrame; got {type(df).__name__}.")
        frame = df.copy()
        panel_values: list[Any] | None = None
        if panels is not None:
            if panels not in frame.columns:
                raise SpecError(
                    f"panels column {panels!r} is not in the frame; columns: "
                    f"{format_examples(frame.columns)}."
                )
            panel_values = ["NA" if _missing(v) else v for v in frame[panels]]
            frame = frame.drop(columns=[panels])
        default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
        if isinstance(index, str):
            if index not in frame.columns:
                raise SpecError(
                    f"index column {index!r} is not in the frame; columns: "
                    f"{format_examples(frame.columns)}."
                )
            stub_values, stub_name = list(frame[index]), index
            frame = frame.drop(columns=[index])
        elif index and not default_index:
            stub_values = list(frame.index)
            stub_name = "" if frame.index.name is None else str(frame.index.name)
        else:
            if frame.shape[1] == 0:
                raise SpecError("the frame has no column to use as row labels.")
            first = frame.columns[0]
            stub_values, stub_name = list(frame[first]), str(first)
            frame = frame.drop(columns=[first])
        formats = dict(formats or {})
        groups = dict(column_groups or {})
        columns = tuple(
            Column(
                translate(str(c), lang),
                None if groups.get(str(c)) is None else translate(str(groups[str(c)]), lang),
                align,
            )
            for c in frame.columns
        )
        texts: list[list[str]] = []
        for name in frame.columns:
            series = frame[name]
            is_int = pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(
                series
            )
            fmt = formats.get(str(name), int_format if is_int else float_format)
            col: list[str] = []
            for value in series.tolist():
                if isinstance(value, bool):
                    col.append(_label("yes" if value else "no", lang))
                elif is_int and not isinstance(value, str) and not _missing(value):
                    col.append(fmt.format(int(value)))
                else:
                    col.append(format_number(value, fmt, int_format=fmt, na_rep=na_rep))
            texts.append(col)
        stub_fmt = formats.get(stub_name)
        stub_texts = [
            format_number(
                v,
                stub_fmt or float_format,
                int_format=stub_fmt or "{:,}",
                na_rep=na_rep,
            )
            for v in stub_values
        ]
        rows = [
            Row(stub_texts[i], tuple(col[i] for col in texts), na_rep=na_rep)
            for i in range(len(stub_texts))
        ]
        if panel_values is None:
            blocks: tuple[RowGroup, ...] = (RowGroup(tuple(rows)),)
        else:
            order: list[Any] = []
            for value in panel_values:
                if value not in order:
                    order.append(value)
            blocks = tuple(
                RowGroup(
                    tuple(r for r, v in zip(rows, panel_values, strict=True) if v == value),
                    title=_label("panel", lang).format(
                        letter=string.ascii_uppercase[k % 26],
                        title=format_number(value, float_format, na_rep="NA"),
                    ),
                )
                for k, value in enumerate(order)
            )
        return cls(
            title=title,
            columns=columns,
            panels=blocks,
            stub=translate(stub if stub is not None else stub_name, lang),
            label=label,
            notes=tuple(notes),
            language=lang,
        )

    @classmethod
    def from_result(
        cls,
        result: Any,
        *,
        title: str | None = None,
        digits: int = 3,
        language: str = "en",
        **options: Any,
    ) -> Table:
        """Build the report table of an agglomera result.

        * A result with ``att``/``se``/``pvalue`` (:class:`~agglomera.policy.DIDResult`)
          gives a one-column :meth:`regression` table.
        * Otherwise ``result.table(digits=digits)`` (``result.table()`` when it takes no
          ``digits``; e.g. :class:`~agglomera.describe.SummaryResult`,
          :class:`~agglomera.describe.CorrelationResult`) is passed to :meth:`from_frame`
          with ``float_format`` of ``digits`` decimals; a result with star levels
          (``result.stars``, correlations) gets the star note.
        * A DataFrame is passed to :meth:`from_frame` directly.

        Parameters
        ----------
        result : object
            The result.
        title : str, optional
            Caption; default "Summary statistics" / "描述性统计", "Correlation matrix" /
            "相关系数矩阵" or "Regression results" / "回归结果" by the result's kind.
        digits : int, default 3
            Decimals.
        language : {"en", "zh"}, default "en"
            Language of the labels.
        **options
            Passed to :meth:`from_frame` or :meth:`regression`.

        Returns
        -------
        Table
        """
        lang = check_language(language)
        if hasattr(result, "att") and hasattr(result, "pvalue"):
            return cls.regression(
                [result],
                title=title if title is not None else _label("regression_title", lang),
                digits=digits,
                language=lang,
                **options,
            )
        if isinstance(result, pd.DataFrame):
            frame = result
        elif callable(getattr(result, "table", None)):
            params = inspect.signature(result.table).parameters
            frame = result.table(digits=digits) if "digits" in params else result.table()
        else:
            raise SpecError(
                f"Table.from_result needs a result with table() (or a DIDResult or a "
                f"DataFrame); got {type(result).__name__}."
            )
        kind = type(result).__name__
        if title is None:
            key = {"SummaryResult": "summary_title", "CorrelationResult": "correlation_title"}
            title = _label(key[kind], lang) if kind in key else ""
        notes = list(options.pop("notes", ()))
        levels = getattr(result, "stars", None)
        if isinstance(levels, tuple) and levels and not callable(levels):
            notes.append(star_note(levels, lang))
        options.setdefault("float_format", f"{{:.{int(digits)}f}}")
        return cls.from_frame(frame, title=title, notes=notes, language=lang, **options)

    @classmethod
    def regression(
        cls,
        models: Sequence[Any],
        *,
        title: str = "",
        coef_names: Mapping[str, str] | None = None,
        keep: Sequence[str] | None = None,
        stars: Sequence[float] = (0.1, 0.05, 0.01),
        se_style: str = "parentheses",
        se_position: str | None = None,
        inference: Literal["se", "t"] = "se",
        stats: Sequence[str] = ("n_obs", "r2"),
        stat_names: Mapping[str, str] | None = None,
        fixed_effects: Mapping[str, Sequence[bool | str]] | None = None,
        column_groups: Sequence[str | None] | None = None,
        numbered: bool = True,
        language: str = "en",
        digits: int = 3,
        notes: Iterable[str] = (),
        se_note: str | None = None,
        label: str | None = None,
        stub: str = "",
    ) -> Table:
        """Build a regression / DID table, one column per model.

        Parameters
        ----------
        models : sequence
            :class:`ModelColumn` s, :class:`~agglomera.policy.DIDResult` s, mappings or
            fitted models (see :meth:`ModelColumn.from_any`).
        title : str, default ""
            Caption.
        coef_names : mapping, optional
            Display name per term (``{"treated_post": "DID"}``). Terms without one use the
            label set (``treated_post`` → "Treated × Post" / "试点城市 × 政策后", ``const``
            → "Constant" / "常数项"), else the term itself.
        keep : sequence of str, optional
            Terms to show, in this order; default every term, in order of first appearance.
        stars : sequence of float, default (0.1, 0.05, 0.01)
            Significance levels: one star per level the p-value is strictly below.
        se_style : {"parentheses", "brackets", "below", "beside"}, default "parentheses"
            Enclosure of the standard error: ``(0.045)`` or ``[0.045]``. ``"below"`` and
            ``"beside"`` are shorthands for parentheses at that position.
        se_position : {"below", "beside"}, optional
            The standard error on its own row under the estimate (default) or in the same
            cell after it (``0.123*** (0.045)``).
        inference : {"se", "t"}, default "se"
            Print standard errors or t statistics (estimate / SE) under the estimates.
        stats : sequence of str, default ("n_obs", "r2")
            Statistic rows, by key of :attr:`ModelColumn.stats`. Integers print with
            thousands separators, floats with ``digits`` decimals; a missing value is blank
            and a statistic no model reports is left out.
        stat_names : mapping, optional
            Display names of statistics (default: "Observations"/"观测值", "R²", ...).
        fixed_effects : mapping, optional
            Row label → one entry per model: ``True``/``False`` print "Yes"/"No" (是/否),
            strings as is. Known labels ("Unit FE", "Year FE", ``"unit_fe"``) are
            translated to the table's language ("城市固定效应", "年份固定效应").
        column_groups : sequence, optional
            Spanning header per model; default the model names (adjacent equal names share
            one span). Pass ``[None, ...]`` for no group row.
        numbered : bool, default True
            Headers ``(1)``, ``(2)``, ...; with ``False`` the headers are the model names
            and there is no group row unless ``column_groups`` is given.
        language : {"en", "zh"}, default "en"
            Language of the labels and automatic notes.
        digits : int, default 3
            Decimals of estimates, standard errors and float statistics.
        notes : iterable of str, default ()
            Further notes, after the automatic standard-error and star notes.
        se_note : str, optional
            Replaces the automatic standard-error note (e.g. "Standard errors clustered by
            city in parentheses."). Pass ``""`` to omit it.
        label : str, optional
            Cross-reference key.
        stub : str, default ""
            Stub header.

        Returns
        -------
        Table
            Row groups: the coefficients (estimate row of kind ``"coef"`` and, below, the
            ``"se"`` row), then fixed-effect rows (``"fe"``) and statistics (``"stat"``).
        """
        lang = check_language(language)
        if isinstance(models, (Mapping, ModelColumn)) or not isinstance(models, Sequence):
            models = [models]
        cols = [ModelColumn.from_any(m) for m in models]
        if not cols:
            raise SpecError("Table.regression needs at least one model.")
        if se_style not in _SE_STYLES:
            raise SpecError(
                f"se_style must be one of {format_examples(_SE_STYLES)}; got {se_style!r}."
            )
        position = se_position or (se_style if se_style in ("below", "beside") else "below")
        if position not in ("below", "beside"):
            raise SpecError(f"se_position must be 'below' or 'beside'; got {se_position!r}.")
        if inference not in ("se", "t"):
            raise SpecError(f"inference must be 'se' or 't'; got {inference!r}.")
        left, right = ("[", "]") if se_style == "brackets" else ("(", ")")
        fmt = f"{{:.{int(digits)}f}}"
        levels = tuple(float(s) for s in stars)
        terms = list(keep) if keep is not None else _terms(cols)
        missing = [t for t in terms if not any(t in c.coef for c in cols)]
        if missing:
            raise SpecError(
                f"keep names terms no model has: {format_examples(missing)}. Terms: "
                f"{format_examples(_terms(cols), limit=20)}."
            )
        names = dict(coef_names or {})
        coef_rows: list[Row] = []
        for term in terms:
            estimates: list[str] = []
            seconds: list[str] = []
            for col in cols:
                if term not in col.coef:
                    estimates.append("")
                    seconds.append("")
                    continue
                est = col.coef[term]
                estimates.append(
                    format_number(est, fmt) + significance_stars(col.pvalue.get(term), levels)
                )
                se = col.se.get(term)
                if se is None or math.isnan(se):
                    seconds.append("")
                else:
                    value = se if inference == "se" else (est / se if se else math.nan)
                    seconds.append(f"{left}{format_number(value, fmt)}{right}")
            name = names.get(term) or translate(term, lang)
            if position == "beside":
                cells = tuple(f"{e} {s}".strip() for e, s in zip(estimates, seconds, strict=True))
                coef_rows.append(Row(name, cells, kind="coef"))
            else:
                coef_rows.append(Row(name, tuple(estimates), kind="coef"))
                coef_rows.append(Row("", tuple(seconds), kind="se"))
        extra: list[Row] = []
        for fe_label, values in (fixed_effects or {}).items():
            listed = list(values)
            if len(listed) != len(cols):
                raise SpecError(
                    f"fixed_effects[{fe_label!r}] has {len(listed)} entries for {len(cols)} "
                    "models; give one per model (True/False or text)."
                )
            cells = tuple(
                _label("yes" if v else "no", lang) if isinstance(v, bool) else str(v)
                for v in listed
            )
            extra.append(Row(translate(str(fe_label), lang), cells, kind="fe"))
        snames = dict(stat_names or {})
        for key in stats:
            cells = tuple(_stat_text(c.stats.get(key), key, fmt) for c in cols)
            if not any(cells):
                continue  # no model reports it (e.g. R² of a DID estimator)
            extra.append(Row(snames.get(key) or _label(key, lang), cells, kind="stat"))
        groups_given = column_groups is not None
        groups: list[str | None] = (
            list(column_groups) if column_groups is not None else [c.name or None for c in cols]
        )
        if len(groups) != len(cols):
            raise SpecError(
                f"column_groups has {len(groups)} entries for {len(cols)} models; give one per "
                "model (None for no group)."
            )
        if numbered:
            columns = tuple(Column(f"({k + 1})", g if g else None) for k, g in enumerate(groups))
        else:
            columns = tuple(
                Column(c.name, (g if g else None) if groups_given else None)
                for c, g in zip(cols, groups, strict=True)
            )
        auto: list[str] = []
        if se_note is None:
            key = ("se" if inference == "se" else "t") + (
                "_brackets" if se_style == "brackets" else "_parentheses"
            )
            auto.append(_label(key, lang))
        elif se_note:
            auto.append(se_note)
        if levels:
            auto.append(star_note(levels, lang))
        blocks = [RowGroup(tuple(coef_rows))]
        if extra:
            blocks.append(RowGroup(tuple(extra)))
        return cls(
            title=title,
            columns=columns,
            panels=tuple(blocks),
            stub=stub,
            label=label,
            notes=(*auto, *notes),
            language=lang,
        )


def _terms(cols: Sequence[ModelColumn]) -> list[str]:
    out: list[str] = []
    for col in cols:
        out.extend(t for t in col.coef if t not in out)
    return out


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _stat_text(value: Any, key: str, fmt: str) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, float) and value.is_integer() and key in _INT_STATS:
        return f"{int(value):,}"
    return format_number(value, fmt)
