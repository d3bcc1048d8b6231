"""A validated long-format panel: one row per (unit, time), any number of variables.

The :class:`Panel` is what every estimator in agglomera consumes. Construction checks the
keys and the types once, so that the estimators can trust them:

* the unit and time columns exist and have no missing values;
* time is integer-like (years, e.g. ``2010`` or ``2010.0``; not ``"2010"`` or dates);
* (unit, time) is unique;
* a text column that mixes numbers with text (``"1,234"``, ``"—"``, ``"n/a"``) is an
  error, because it is almost always a numeric column with placeholders in it;
* no two columns differ only by case (case-insensitive engines such as Spark would
  merge them).

Missing values in the variables are kept and reported by :meth:`Panel.missing`; they are
never dropped or imputed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from agglomera._frames import to_pandas
from agglomera.errors import DataError, format_examples

__all__ = ["Panel"]


class Panel:
    """Validated long panel of units (cities) observed over integer time periods (years).

    Parameters
    ----------
    data : DataFrame-like
        Long-format data, one row per unit and period: pandas, polars, pyarrow, DuckDB or
        PySpark (converted to pandas once).
    unit : str
        Column identifying the unit (for China city panels, the 6-digit adcode as a string).
    time : str
        Column with the period; must be integer-like (years).
    numeric : sequence of str, optional
        Columns that must be numeric; any text value in them is an error.
    labels : sequence of str, optional
        Text columns that may legitimately mix digits and words (for example a column of
        notes); they are exempt from the mixed-type check.
    provenance : sequence of str, optional
        Records of how the data were obtained or transformed (kept and extended by the
        methods that derive new panels; shown in reports).

    Raises
    ------
    DataError
        For empty data, a missing key column, missing keys, non-integer time, duplicate
        (unit, time) pairs, text in numeric columns or columns that differ only by case.
        The message names the column, shows the first offending keys and says how to fix it.

    Examples
    --------
    >>> import pandas as pd
    >>> from agglomera import Panel
    >>> df = pd.DataFrame({"city": ["330100", "330100", "330200"],
    ...                    "year": [2010, 2011, 2010], "lq": [1.2, 1.3, 0.9]})
    >>> p = Panel(df, unit="city", time="year")
    >>> p.is_balanced
    False
    >>> p.lag("lq").tolist()
    [nan, 1.2, nan]
    """

    __slots__ = ("_frame", "_provenance", "_time", "_unit")

    def __init__(
        self,
        data: Any,
        *,
        unit: str,
        time: str,
        numeric: Sequence[str] = (),
        labels: Sequence[str] = (),
        provenance: Sequence[str] = (),
    ) -> None:
        frame = to_pandas(data)
        _check_not_empty(frame)
        _check_column_names(frame, (unit, time, *numeric, *labels))
        if unit == time:
            raise DataError(f"unit and time must be different columns; both are {unit!r}.")
        frame = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
        _check_keys_present(frame, unit, time)
        frame[time] = _integer_time(frame[time], time)
        _check_unique(frame, unit, time)
        _check_numeric(frame, unit, time, numeric=numeric, labels=labels)
        if _is_sorted(frame, unit, time):  # already in (unit, time) order: no sorted copy
            frame = frame.reset_index(drop=True)
        else:
            frame = frame.sort_values([unit, time], kind="mergesort").reset_index(drop=True)
        self._frame = frame
        self._unit = unit
        self._time = time
        self._provenance = tuple(provenance)

    # ------------------------------------------------------------------ basic attributes
    @property
    def unit(self) -> str:
        """Name of the unit column."""
        return self._unit

    @property
    def time(self) -> str:
        """Name of the time column."""
        return self._time

    @property
    def units(self) -> pd.Index:
        """Sorted unique units."""
        return pd.Index(self._frame[self._unit].unique(), name=self._unit)

    @property
    def times(self) -> np.ndarray:
        """Sorted unique periods (int64)."""
        return np.sort(self._frame[self._time].unique()).astype(np.int64)

    @property
    def variables(self) -> list[str]:
        """Columns other than the unit and time keys, in their original order."""
        return [c for c in self._frame.columns if c not in (self._unit, self._time)]

    @property
    def n_obs(self) -> int:
        """Number of (unit, time) rows."""
        return len(self._frame)

    @property
    def is_balanced(self) -> bool:
        """True when every unit is observed in every period of the panel (rows, not values)."""
        return self.n_obs == len(self.units) * len(self.times)

    @property
    def provenance(self) -> tuple[str, ...]:
        """Records of where the data came from and what was done to them."""
        return self._provenance

    def __len__(self) -> int:
        return self.n_obs

    def __contains__(self, column: object) -> bool:
        return column in self._frame.columns

    def __repr__(self) -> str:
        times = self.times
        span = f"{times[0]}–{times[-1]}" if len(times) else "no periods"
        balance = "balanced" if self.is_balanced else "unbalanced"
        return (
            f"Panel({len(self.units)} units × {len(times)} periods ({span}), {self.n_obs} rows, "
            f"{balance}; unit={self._unit!r}, time={self._time!r}; variables={self.variables})"
        )

    def _repr_html_(self) -> str:
        import html

        head = self._frame.head(10).to_html(index=False, escape=True)
        return f"<p>{html.escape(repr(self))}</p>{head}"

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the data as a pandas DataFrame sorted by unit and time.

        The copy is copy-on-write (pandas ≥ 3): it shares memory with the panel until either
        side is modified, so reading large panels costs no second copy, and changing the
        returned frame never changes the panel.
        """
        return self._frame.copy(deep=False)

    def column(self, name: str) -> pd.Series:
        """Return one column (a copy) in the panel's row order.

        Raises
        ------
        DataError
            If the column does not exist (with close matches).
        """
        self._require(name)
        return self._frame[name].copy(deep=False)

    def to_wide(self, var: str) -> pd.DataFrame:
        """Return ``var`` as a unit × time table (rows = units, columns = periods).

        Periods in which a unit is not observed are NaN in the table.
        """
        self._require(var)
        wide = self._frame.pivot(index=self._unit, columns=self._time, values=var)
        wide.columns.name = self._time
        return wide

    @classmethod
    def from_wide(
        cls,
        wide: pd.DataFrame,
        *,
        var: str,
        unit: str = "unit",
        time: str = "time",
        dropna: bool = False,
    ) -> Panel:
        """Build a panel from a unit × time table (the inverse of :meth:`to_wide`).

        Parameters
        ----------
        wide : pandas.DataFrame
            Rows = units (index), columns = integer-like periods.
        var : str
            Name for the values.
        unit, time : str
            Names for the key columns of the result.
        dropna : bool, default False
            Drop cells that are NaN (unit not observed). By default they are kept as
            missing values of ``var``.
        """
        long = wide.rename_axis(index=unit, columns=time).stack(future_stack=True)
        frame = pd.Series(long, name=var).reset_index()
        if dropna:
            frame = frame.dropna(subset=[var])
        return cls(frame, unit=unit, time=time)

    # ------------------------------------------------------------------ information
    def missing(self) -> pd.DataFrame:
        """Count missing values per variable.

        Returns
        -------
        pandas.DataFrame
            One row per variable with ``n_missing``, ``share`` and ``first_keys`` (the first
            (unit, time) pairs where the value is missing).
        """
        rows = []
        for var in self.variables:
            mask = self._frame[var].isna().to_numpy()
            keys = self._frame.loc[mask, [self._unit, self._time]].head(5)
            rows.append(
                {
                    "variable": var,
                    "n_missing": int(mask.sum()),
                    "share": float(mask.mean()) if len(mask) else 0.0,
                    "first_keys": list(keys.itertuples(index=False, name=None)),
                }
            )
        return pd.DataFrame(rows, columns=["variable", "n_missing", "share", "first_keys"])

    def balance(self) -> pd.DataFrame:
        """Describe each unit's coverage of the panel's periods.

        Returns
        -------
        pandas.DataFrame
            Indexed by unit with ``n_periods``, ``first``, ``last`` and ``missing_periods``
            (the panel periods in which the unit has no row).
        """
        all_times = set(self.times.tolist())
        grouped = self._frame.groupby(self._unit, sort=True)[self._time]
        out = pd.DataFrame(
            {
                "n_periods": grouped.size(),
                "first": grouped.min(),
                "last": grouped.max(),
                "missing_periods": grouped.agg(lambda s: sorted(all_times - set(s.tolist()))),
            }
        )
        out.index.name = self._unit
        return out

    # ------------------------------------------------------------------ time operations
    def lag(self, var: str, k: int = 1) -> pd.Series:
        """Value of ``var`` in period ``t − k`` of the same unit, aligned with :meth:`to_frame`.

        Lags follow the calendar, not the row position: when the unit has no row in
        ``t − k`` (a gap or the first period) the lag is NaN. A negative ``k`` is a lead.

        Parameters
        ----------
        var : str
            Variable to lag.
        k : int, default 1
            Number of periods.

        Returns
        -------
        pandas.Series
            Named ``L{k}.{var}`` (``F{k}.{var}`` for leads).
        """
        self._require(var)
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise DataError(f"lag order k must be an integer; got {k!r}.")
        k = int(k)
        keyed = pd.Series(
            self._frame[var].to_numpy(),
            index=pd.MultiIndex.from_arrays([self._frame[self._unit], self._frame[self._time]]),
        )
        target = pd.MultiIndex.from_arrays([self._frame[self._unit], self._frame[self._time] - k])
        values = keyed.reindex(target).to_numpy()
        name = f"L{k}.{var}" if k >= 0 else f"F{-k}.{var}"
        return pd.Series(values, index=self._frame.index, name=name)

    def lead(self, var: str, k: int = 1) -> pd.Series:
        """Value of ``var`` in period ``t + k`` of the same unit (see :meth:`lag`)."""
        return self.lag(var, -k)

    def diff(self, var: str, k: int = 1) -> pd.Series:
        """Difference ``var_t − var_{t−k}`` within unit (NaN where the lag is missing)."""
        lagged = self.lag(var, k)
        return pd.Series(
            self._frame[var].to_numpy() - lagged.to_numpy(),
            index=self._frame.index,
            name=f"D{k}.{var}",
        )

    # ------------------------------------------------------------------ derived panels
    def subset(
        self,
        *,
        units: Iterable[Any] | None = None,
        times: Iterable[int] | None = None,
        variables: Sequence[str] | None = None,
        where: Any = None,
    ) -> Panel:
        """Return a panel restricted to some units, periods, variables or rows.

        Parameters
        ----------
        units : iterable, optional
            Units to keep; every one must be in the panel.
        times : iterable of int, optional
            Periods to keep; every one must be in the panel.
        variables : sequence of str, optional
            Variables to keep (the keys are always kept).
        where : boolean array-like, optional
            Row mask aligned with :meth:`to_frame`.

        Raises
        ------
        DataError
            If a unit, period or variable is not in the panel, or the result is empty.
        """
        frame = self._frame
        mask = np.ones(len(frame), dtype=bool)
        notes = []
        if units is not None:
            wanted = list(units)
            unknown = [u for u in wanted if u not in set(self.units)]
            if unknown:
                raise DataError(
                    f"subset: units not in the panel's {self._unit!r} column: "
                    f"{format_examples(unknown)}. Fix: check the codes (units are compared "
                    "exactly, so '330100' and 330100 differ)."
                )
            mask &= frame[self._unit].isin(wanted).to_numpy()
            notes.append(f"{len(set(wanted))} units")
        if times is not None:
            wanted_t = [int(t) for t in times]
            unknown_t = sorted(set(wanted_t) - set(self.times.tolist()))
            if unknown_t:
                raise DataError(
                    f"subset: periods not in the panel's {self._time!r} column: "
                    f"{format_examples(unknown_t)}. The panel covers {self.times.min()}–"
                    f"{self.times.max()}."
                )
            mask &= frame[self._time].isin(wanted_t).to_numpy()
            notes.append(f"periods {min(wanted_t)}–{max(wanted_t)}")
        if where is not None:
            where_arr = np.asarray(where)
            if where_arr.dtype != bool or where_arr.shape != (len(frame),):
                raise DataError(
                    "subset: `where` must be a boolean mask with one entry per row of "
                    f"to_frame() ({len(frame)} rows); got dtype {where_arr.dtype}, "
                    f"shape {where_arr.shape}."
                )
            mask &= where_arr
            notes.append("row mask")
        columns = list(frame.columns)
        if variables is not None:
            for v in variables:
                self._require(v)
            columns = [
                self._unit,
                self._time,
                *[v for v in variables if v not in (self._unit, self._time)],
            ]
        if not mask.any():
            raise DataError("subset: no rows left after subsetting. Fix: widen the selection.")
        note = "subset: " + (", ".join(notes) if notes else "variables")
        return self._derive(frame.loc[mask, columns], note)

    def with_columns(self, note: str | None = None, **columns: Any) -> Panel:
        """Return a panel with new or replaced variables.

        Parameters
        ----------
        note : str, optional
            Provenance record for the change (default: the list of columns).
        **columns
            Arrays or Series aligned with :meth:`to_frame` (same length and order).
        """
        frame = self._frame.copy()
        for name, values in columns.items():
            if name in (self._unit, self._time):
                raise DataError(f"with_columns cannot replace the key column {name!r}.")
            arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
            if arr.shape[:1] != (len(frame),):
                raise DataError(
                    f"with_columns: {name!r} has {arr.shape[0] if arr.ndim else 1} values; "
                    f"the panel has {len(frame)} rows. Fix: align it with to_frame()."
                )
            frame[name] = arr
        return self._derive(frame, note or f"with_columns: {', '.join(columns)}")

    def join_reference(
        self,
        columns: Sequence[str] = ("name_cn", "name_en", "province_cn", "region4", "region3"),
        *,
        table: str = "cities",
    ) -> Panel:
        """Add columns of a shipped reference table, matched on the unit (city adcode).

        Parameters
        ----------
        columns : sequence of str
            Columns of :func:`agglomera.reference.cities` to add.
        table : {"cities"}
            Reference table to join.

        Raises
        ------
        DataError
            If a unit is not a known adcode (listing them; fix with
            :func:`agglomera.data.harmonise_cities`), or a column would overwrite one of the
            panel's.
        """
        from agglomera import reference

        if table != "cities":
            raise DataError(f"join_reference: unknown table {table!r}; allowed: 'cities'.")
        ref = reference.cities().set_index("adcode")
        unknown_cols = [c for c in columns if c not in ref.columns]
        if unknown_cols:
            raise DataError(
                f"join_reference: {format_examples(unknown_cols)} not in the cities table; "
                f"available: {', '.join(ref.columns)}."
            )
        clash = [c for c in columns if c in self._frame.columns]
        if clash:
            raise DataError(
                f"join_reference: the panel already has {format_examples(clash)}. Fix: rename "
                "or drop them first."
            )
        codes = self._frame[self._unit].map(_as_adcode)
        outside = ~codes.isin(ref.index)
        unmatched = sorted(set(self._frame.loc[outside, self._unit].tolist()), key=str)
        if unmatched:
            raise DataError(
                f"join_reference: units in {self._unit!r} that are not city adcodes: "
                f"{format_examples(unmatched)}. Fix: map names to adcodes with "
                "agglomera.data.harmonise_cities(...) first."
            )
        frame = self._frame.copy()
        for col in columns:
            frame[col] = ref[col].reindex(codes.to_numpy()).to_numpy()
        return self._derive(frame, f"join_reference: {', '.join(columns)} from reference.{table}")

    # ------------------------------------------------------------------ helpers
    def _derive(self, frame: pd.DataFrame, note: str) -> Panel:
        new = object.__new__(Panel)
        new._frame = frame.reset_index(drop=True)
        new._unit = self._unit
        new._time = self._time
        new._provenance = (*self._provenance, note)
        return new

    def _require(self, name: str) -> None:
        if name not in self._frame.columns:
            raise DataError(_missing_column_message(name, self._frame.columns))


# ---------------------------------------------------------------------- validation helpers
def _missing_column_message(name: str, columns: Iterable[Any]) -> str:
    cols = [str(c) for c in columns]
    close = difflib.get_close_matches(str(name), cols, n=3, cutoff=0.5)
    hint = f" Did you mean {format_examples(close)}?" if close else ""
    return f"column {name!r} not found.{hint} Available columns: {format_examples(cols, limit=20)}."


def _is_sorted(frame: pd.DataFrame, unit: str, time: str) -> bool:
    """Whether the rows are already ordered by unit, then time (keys are unique)."""
    if isinstance(frame[unit].dtype, pd.CategoricalDtype):  # category order, not values
        return False
    units = frame[unit].to_numpy()
    times = frame[time].to_numpy()
    if len(units) < 2:
        return True
    try:
        same = units[1:] == units[:-1]
        ordered = (units[1:] > units[:-1]) | (same & (times[1:] > times[:-1]))
    except TypeError:  # mixed types in the unit column: let sort_values decide
        return False
    return bool(np.all(ordered))


def _check_not_empty(frame: pd.DataFrame) -> None:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DataError(
            f"the data are empty ({frame.shape[0]} rows, {frame.shape[1]} columns). "
            "Fix: check the file or the filter that produced them."
        )


def _check_column_names(frame: pd.DataFrame, required: Iterable[str]) -> None:
    for name in required:
        if name not in frame.columns:
            raise DataError(_missing_column_message(name, frame.columns))
    names = [str(c) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"duplicate column names: {format_examples(dupes)}. Fix: rename them.")
    folded: dict[str, list[str]] = {}
    for n in names:
        folded.setdefault(n.casefold(), []).append(n)
    clashes = [tuple(v) for v in folded.values() if len(v) > 1]
    if clashes:
        raise DataError(
            f"columns that differ only by case: {format_examples(clashes)}. Case-insensitive "
            "engines (Spark, SQL) would merge them. Fix: rename one of each pair."
        )


def _check_keys_present(frame: pd.DataFrame, unit: str, time: str) -> None:
    for key in (unit, time):
        bad = frame[key].isna().to_numpy()
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"column {key!r} has {bad.sum()} missing values (rows "
                f"{format_examples(rows.tolist())}). Keys may not be missing. Fix: fill them "
                "or drop those rows explicitly before building the panel."
            )


def _integer_time(values: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        raise DataError(f"time column {name!r} is boolean; it must hold integer periods (years).")
    if pd.api.types.is_integer_dtype(values):
        return values.astype(np.int64)
    if pd.api.types.is_float_dtype(values):
        arr = values.to_numpy(dtype=float)
        frac = arr != np.round(arr)
        if frac.any():
            rows = np.flatnonzero(frac)
            raise DataError(
                f"time column {name!r} must be integer-like (years); rows "
                f"{format_examples(rows.tolist())} hold {format_examples(arr[rows].tolist())}. "
                "Fix: use whole periods (e.g. 2010)."
            )
        return values.astype(np.int64)
    if pd.api.types.is_datetime64_any_dtype(values):
        raise DataError(
            f"time column {name!r} holds dates; it must hold integer periods. Fix: "
            f"df[{name!r}] = df[{name!r}].dt.year."
        )
    examples = values.head(3).tolist()
    raise DataError(
        f"time column {name!r} must be integer-like (years); it has dtype {values.dtype} "
        f"(e.g. {format_examples(examples)}). Fix: convert it, e.g. "
        f"df[{name!r}] = df[{name!r}].astype(int)."
    )


def _check_unique(frame: pd.DataFrame, unit: str, time: str) -> None:
    dup = frame.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        keys = frame.loc[dup, [unit, time]].drop_duplicates()
        n_keys = len(keys)
        raise DataError(
            f"({unit!r}, {time!r}) must identify rows; {n_keys} pairs occur more than once, "
            f"e.g. {format_examples(list(keys.itertuples(index=False, name=None)))}. Fix: "
            "aggregate or remove the duplicates (or add the missing key, e.g. industry)."
        )


def _is_text_dtype(values: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)


def _check_numeric(
    frame: pd.DataFrame,
    unit: str,
    time: str,
    *,
    numeric: Sequence[str],
    labels: Sequence[str],
) -> None:
    for col in frame.columns:
        if col in (unit, time) or col in labels:
            continue
        values = frame[col]
        if not _is_text_dtype(values):
            continue
        present = values.notna().to_numpy()
        parsed = pd.to_numeric(values.where(present), errors="coerce")
        parsable = parsed.notna().to_numpy()
        bad = present & ~parsable
        mixed = bad.any() and parsable.any()
        if bad.any() and (col in numeric or mixed):
            rows = frame.loc[bad, [unit, time, col]].head(5)
            shown = ", ".join(
                f"{u!r}/{t}: {v!r}" for u, t, v in rows.itertuples(index=False, name=None)
            )
            raise DataError(
                f"column {col!r} should be numeric but {int(bad.sum())} values are text "
                f"(unit/time: value) {shown}. Fix: replace placeholders with missing values "
                "(e.g. read(..., na_values=['—', '-'])) and remove thousands separators; if the "
                f"column is meant to be text, pass labels=[{col!r}]."
            )
    for col in numeric:
        if col in (unit, time):
            continue
        values = frame[col]
        if pd.api.types.is_bool_dtype(values):
            raise DataError(f"column {col!r} should be numeric but is boolean.")


def _as_adcode(value: Any) -> str:
    """Normalise an adcode given as int or string to a 6-character string."""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):06d}"
    return str(value).strip()
