"""Engine layer shared by the measures (internal).

Every measure in :mod:`agglomera.measure` runs one narwhals code path on whatever frame the
user passes. This module holds the four small pieces that make that possible:

``as_frame(data)``
    Wrap pandas, polars (eager or lazy), pyarrow, a DuckDB relation, a PySpark DataFrame
    or a narwhals frame as a narwhals frame. A ``str`` or :class:`os.PathLike` naming a
    CSV or Parquet file (globs allowed, e.g. ``"data/*.parquet"``) is scanned lazily as a
    DuckDB relation on DuckDB's default connection, so nothing is read until the query runs.
``finish(frame, data)`` and ``like_input(result, data)``
    Return a result in the native kind of the input: a narwhals result computed on the
    input's own engine (``finish``) or a small pandas result computed after collecting
    (``like_input``). pandas → pandas, polars → polars, polars LazyFrame → LazyFrame,
    pyarrow → Table, DuckDB → relation, Spark → Spark DataFrame, file path → pandas.
``require_columns(frame, columns, fn_name)``
    Raise :class:`~agglomera.errors.DataError` naming missing columns, with close matches.
``check_nonnegative_numeric(frame, columns)``
    Raise :class:`~agglomera.errors.DataError` for non-numeric, missing or negative values,
    naming the column and showing the first offending rows. One aggregate query on lazy
    engines (one scan of the data), a second one only when something is wrong.
"""

from __future__ import annotations

import difflib
import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import pandas as pd

from agglomera.errors import DataError, format_examples, plain_scalar

__all__ = [
    "AnyFrame",
    "as_frame",
    "check_nonnegative_numeric",
    "collect_pandas",
    "finish",
    "is_path",
    "like_input",
    "require_columns",
]

AnyFrame = nw.DataFrame[Any] | nw.LazyFrame[Any]
"""A narwhals eager or lazy frame."""

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst")


def is_path(data: Any) -> bool:
    """Return whether ``data`` is a file path or glob (``str`` or :class:`os.PathLike`)."""
    return isinstance(data, str | os.PathLike)


def as_frame(data: Any, *, what: str = "data") -> AnyFrame:
    """Return ``data`` as a narwhals frame without copying or collecting it.

    Parameters
    ----------
    data : DataFrame-like, str or os.PathLike
        pandas or polars DataFrame, polars LazyFrame, pyarrow Table, DuckDB relation,
        PySpark DataFrame, narwhals frame, or the path (or glob) of CSV / Parquet files.
        Paths are scanned lazily with DuckDB (``duckdb.read_parquet`` /
        ``duckdb.read_csv`` on the default connection); the suffix decides the reader:
        ``.parquet``/``.pq``/``.parq`` or ``.csv``/``.tsv``/``.txt`` (optionally ``.gz``).
    what : str, default "data"
        Name of the argument, used in error messages.

    Returns
    -------
    narwhals.DataFrame or narwhals.LazyFrame
        Eager for pandas, polars and pyarrow; lazy for polars LazyFrame, DuckDB, PySpark
        and paths.

    Raises
    ------
    DataError
        If ``data`` is not a supported frame, a path matches no file or has an unknown
        suffix.
    """
    if isinstance(data, nw.DataFrame | nw.LazyFrame):
        return data
    if is_path(data):
        return nw.from_native(_scan_path(data, what=what))
    try:
        return nw.from_native(data)
    except TypeError:
        raise DataError(
            f"{what} must be a dataframe (pandas, polars, pyarrow, DuckDB relation or PySpark) "
            f"or the path of CSV/Parquet files; got {type(data).__name__}. "
            "Fix: pass a DataFrame, e.g. pandas.DataFrame(...), or a path such as "
            "'data/*.parquet'."
        ) from None


def _scan_path(path: str | os.PathLike[str], *, what: str) -> Any:
    import duckdb

    text = os.fspath(path)
    if not glob.glob(text) and not Path(text).exists():
        raise DataError(f"{what}: no file matches {text!r}. Fix: check the path or glob pattern.")
    lower = text.lower()
    if lower.endswith(_PARQUET_SUFFIXES):
        return duckdb.read_parquet(text)
    if lower.endswith(_CSV_SUFFIXES):
        return duckdb.read_csv(text)
    raise DataError(
        f"{what}: cannot tell the file format of {text!r}. Fix: use a path ending in "
        f"one of {format_examples(_PARQUET_SUFFIXES + _CSV_SUFFIXES, limit=10)}, or read the "
        "file yourself (agglomera.read) and pass the frame."
    )


def collect_pandas(frame: AnyFrame) -> pd.DataFrame:
    """Collect a narwhals frame (eager or lazy, any engine) into pandas.

    Lazy frames are collected through Arrow (``collect("pyarrow")``), which avoids the
    pandas-version-specific conversions of DuckDB and Spark.
    """
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect("pyarrow")
    out = frame.to_pandas()
    if not isinstance(out.index, pd.RangeIndex):
        out = out.reset_index(drop=True)
    return out


def finish(frame: AnyFrame, data: Any) -> Any:
    """Return a narwhals result ``frame`` as the native kind of the input ``data``.

    Parameters
    ----------
    frame : narwhals.DataFrame or narwhals.LazyFrame
        Result computed from ``as_frame(data)`` on the same engine.
    data : object
        The user's original input.

    Returns
    -------
    object
        The native frame (lazy stays lazy: DuckDB relation, polars LazyFrame, Spark
        DataFrame), a narwhals frame when the input was one, or a pandas DataFrame when
        ``data`` was a path.
    """
    if is_path(data):
        return collect_pandas(frame)
    if isinstance(data, nw.DataFrame | nw.LazyFrame):
        return frame
    native = nw.to_native(frame)
    if isinstance(native, pd.DataFrame) and not isinstance(native.index, pd.RangeIndex):
        native = native.reset_index(drop=True)
    return native


def like_input(result: pd.DataFrame, data: Any) -> Any:
    """Return a (small) pandas ``result`` in the native kind of the input ``data``.

    Parameters
    ----------
    result : pandas.DataFrame
        Result computed in pandas, e.g. after collecting an aggregate.
    data : object
        The user's original input: pandas → pandas, polars DataFrame → polars DataFrame,
        polars LazyFrame → LazyFrame, pyarrow Table → Table, DuckDB relation → relation
        (on DuckDB's default connection), PySpark DataFrame → PySpark DataFrame (same
        session), narwhals frame → narwhals frame of the same backend, path → pandas.

    Returns
    -------
    object
        ``result`` converted; pandas results are returned as they are.
    """
    if is_path(data) or isinstance(data, pd.DataFrame):
        return result
    if isinstance(data, nw.DataFrame | nw.LazyFrame):
        return nw.from_native(like_input(result, nw.to_native(data)))
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        import polars as pl

        out = pl.from_pandas(result)
        return out.lazy() if isinstance(data, pl.LazyFrame) else out
    import pyarrow as pa

    table = pa.Table.from_pandas(result, preserve_index=False)
    if module == "pyarrow":
        return table
    if module == "duckdb":
        import duckdb

        return duckdb.from_arrow(table)
    if module == "pyspark":
        session = data.sparkSession
        try:
            return session.createDataFrame(table)
        except (TypeError, ValueError):  # Spark < 4 cannot take an Arrow table
            return session.createDataFrame(result)
    raise DataError(f"cannot return a result like a {type(data).__name__}")


def require_columns(frame: AnyFrame, columns: Sequence[str], fn_name: str) -> None:
    """Raise :class:`DataError` if any of ``columns`` is not in ``frame``.

    Parameters
    ----------
    frame : narwhals.DataFrame or narwhals.LazyFrame
        The data.
    columns : sequence of str
        Required column names.
    fn_name : str
        Name of the calling function, shown in the message.

    Raises
    ------
    DataError
        Naming each missing column with close matches (case-insensitive matches first)
        and the available columns.
    """
    names = list(frame.collect_schema().names())
    missing = [c for c in columns if c not in names]
    if not missing:
        return
    lowered = {n.lower(): n for n in names}
    hints = []
    for col in missing:
        close = []
        if col.lower() in lowered:
            close.append(lowered[col.lower()])
        close += [
            m for m in difflib.get_close_matches(col, names, n=3, cutoff=0.6) if m not in close
        ]
        hint = f"did you mean {format_examples(close)}?" if close else "no similar column"
        hints.append(f"{col!r} ({hint})")
    raise DataError(
        f"{fn_name}: column{'s' if len(missing) > 1 else ''} not found in data: "
        f"{'; '.join(hints)}. Available columns: {format_examples(names, limit=12)}. "
        "Fix: pass the right column name."
    )


def check_nonnegative_numeric(
    frame: AnyFrame,
    columns: Sequence[str],
    *,
    fn_name: str = "agglomera",
    allow_null: bool = False,
) -> None:
    """Raise :class:`DataError` unless ``columns`` are numeric, non-missing and ``>= 0``.

    Parameters
    ----------
    frame : narwhals.DataFrame or narwhals.LazyFrame
        The data.
    columns : sequence of str
        Columns holding counts such as employment (checked to exist first).
    fn_name : str, default "agglomera"
        Name of the calling function, shown in the message.
    allow_null : bool, default False
        Accept missing values (null, or NaN in float columns). By default they are an
        error: agglomera neither drops nor imputes them.

    Raises
    ------
    DataError
        For a non-numeric column (its dtype and how to cast it), missing values (how many)
        or negative values (the column, how many, the smallest value and the first few
        offending rows).

    Notes
    -----
    The dtype check reads the schema only. Values are checked with one aggregate query
    (one scan on lazy engines); the offending rows are fetched only when there are any.
    """
    columns = list(dict.fromkeys(columns))
    require_columns(frame, columns, fn_name)
    schema = frame.collect_schema()
    for col in columns:
        dtype = schema[col]
        if not dtype.is_numeric():
            raise DataError(
                f"{fn_name}: column {col!r} must be numeric (counts such as employment); "
                f"it has dtype {dtype}. Fix: clean and cast it, e.g. "
                f"pandas.to_numeric(df[{col!r}]), before calling {fn_name}."
            )
    exprs = []
    for i, col in enumerate(columns):
        c = nw.col(col)
        exprs.append(c.min().alias(f"__min{i}"))
        bad = c.is_null()
        if schema[col].is_float():
            bad = bad | c.is_nan()
        exprs.append(bad.cast(nw.Int64).sum().alias(f"__null{i}"))
    row = _first_row(frame.select(*exprs))
    for i, col in enumerate(columns):
        n_null = int(row[f"__null{i}"] or 0)
        if n_null and not allow_null:
            raise DataError(
                f"{fn_name}: column {col!r} has {n_null} missing value(s) (null or NaN); "
                "agglomera does not drop or impute them. Fix: fill them (e.g. with 0 if "
                "missing means no employment) or drop those rows explicitly."
            )
        lowest = row[f"__min{i}"]
        if lowest is not None and lowest == lowest and lowest < 0:
            offending = frame.filter(nw.col(col) < 0)
            count = _first_row(offending.select(nw.len().alias("n")))["n"]
            examples = collect_pandas(offending.head(5)).to_dict("records")
            raise DataError(
                f"{fn_name}: column {col!r} has {count} negative value(s) (smallest "
                f"{plain_scalar(lowest)}); employment counts must be >= 0. First rows: "
                f"{format_examples(examples)}. Fix: correct or drop these rows."
            )


def _first_row(frame: AnyFrame) -> dict[str, Any]:
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect("pyarrow")
    return {k: plain_scalar(v[0]) for k, v in frame.to_dict(as_series=False).items()}
