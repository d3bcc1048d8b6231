"""Conversion of supported dataframe types to pandas (internal)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agglomera.errors import DataError

__all__ = ["to_pandas"]


def to_pandas(data: Any, *, what: str = "data") -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame.

    pandas frames are returned as they are (no copy). polars, pyarrow, DuckDB relations
    and PySpark frames are converted through narwhals (lazy frames are collected).

    Parameters
    ----------
    data : DataFrame-like
        pandas, polars (eager or lazy), pyarrow Table, DuckDB relation or PySpark DataFrame.
    what : str
        Name of the argument, for the error message.

    Raises
    ------
    DataError
        If ``data`` is not a supported dataframe type.
    """
    if isinstance(data, pd.DataFrame):
        return data
    import narwhals as nw

    try:
        frame = nw.from_native(data)
    except TypeError:
        raise DataError(
            f"{what} must be a dataframe (pandas, polars, pyarrow, DuckDB or PySpark); "
            f"got {type(data).__name__}. Fix: pass a DataFrame, e.g. pandas.DataFrame(...)."
        ) from None
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()
