"""Location quotients, average location quotient, Hachman index and per-capita densities.

All functions accept pandas, polars (eager or lazy), pyarrow, DuckDB relations, PySpark
DataFrames or the path of CSV / Parquet files (scanned lazily by DuckDB), and return the
same kind of frame (a path gives pandas). The heavy step — summing (micro)data to one row
per region × industry × time cell, with the checks of the input folded into the same
query — runs on the input's own engine through narwhals; the cell table, which is small by
construction, is collected and finished in one code path for every engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.measure._engine import (
    as_frame,
    check_nonnegative_numeric,
    collect_pandas,
    finish,
    like_input,
    require_columns,
)

__all__ = ["average_lq", "density_per_10k", "hachman", "location_quotient"]

_PREFIX = "__agg_"


@dataclass(frozen=True)
class _Spec:
    """Validated arguments of a location-quotient call."""

    fn_name: str
    region: str
    time: str | None
    industry: str | None
    values: tuple[str, ...]
    total: str | None  # a column of the data
    total_frame: Any  # a frame of region totals, or None
    groups: Mapping[Any, Sequence[Any]] | None

    @property
    def long(self) -> bool:
        return self.industry is not None

    @property
    def cell_keys(self) -> list[str]:
        return [k for k in (self.region, self.industry, self.time) if k is not None]

    @property
    def region_keys(self) -> list[str]:
        return [k for k in (self.region, self.time) if k is not None]

    @property
    def reference_keys(self) -> list[str]:
        return [k for k in (self.industry, self.time) if k is not None]


def location_quotient(
    data: Any,
    *,
    region: str,
    time: str | None,
    value: str | Sequence[str],
    industry: str | None = None,
    total: str | Any | None = None,
    reference: str | Any = "sample",
    keep_shares: bool = False,
    industry_groups: Mapping[Any, Sequence[Any]] | None = None,
) -> Any:
    r"""Employment-share location quotient by region × (industry) × time.

    .. math::

        LQ_{rit} = \frac{E_{rit} / E_{rt}}{E_{it} / E_t}

    where :math:`E_{rit}` is employment of sector *i* in region *r* at time *t*,
    :math:`E_{rt}` the region's total employment, and :math:`E_{it} / E_t` the reference
    share of sector *i* (Isard 1960; Florence 1948). LQ > 1 means the sector is more
    concentrated in the region than in the reference economy.

    Parameters
    ----------
    data : DataFrame-like or str or os.PathLike
        pandas, polars (eager or lazy), pyarrow, DuckDB relation, PySpark DataFrame, or
        the path / glob of CSV or Parquet files (scanned lazily with DuckDB).
    region : str
        Region column (e.g. city adcode).
    time : str or None
        Time column (e.g. year); ``None`` for a cross-section.
    value : str or sequence of str
        **Long form** (``industry`` given): the one employment column. **Wide form**
        (``industry=None``): one column or a list of sector columns whose sum is the
        numerator, e.g. ``["emp_it", "emp_sci"]`` for high-tech talent (IT services +
        science and technology).
    industry : str, optional
        Sector column; gives the long form. Rows are summed per region × industry × time
        first, so microdata (several rows per cell, e.g. one per firm) and aggregated
        panels (one row per cell) take the same call.
    total : str or DataFrame-like, optional
        Region total employment :math:`E_{rt}`. A column name, or a frame with the
        ``region`` (and ``time``) columns plus exactly one other numeric column.
        Wide form: required; a column is summed per region × time like the values
        (one row per region and year in a panel). Long form: if ``None``,
        :math:`E_{rt}` is the sum over the industries present in the data; a column must
        repeat the region's total on every row of the region × time (checked).
    reference : "sample" or DataFrame-like, default "sample"
        Reference share :math:`E_{it}/E_t`.

        * ``"sample"`` (default): sums over the regions in the data, per time (and
          industry): :math:`E_{it} = \sum_r E_{rit}`, :math:`E_t = \sum_r E_{rt}`. This is
          the convention of EconGeo's ``location_quotient``; with a national sample it
          equals national totals, with a subset of cities it does not.
        * A frame of national (or other reference) figures, keyed by ``time`` (and
          ``industry`` in the long form) — the same column names as ``data`` — with
          either a column ``share`` holding :math:`E_{it}/E_t` directly, or totals:
          the ``value`` column(s) (summed) and a total column (named like ``total`` when
          that is a column name, else ``total``). In the long form a missing total
          column means :math:`E_t` = sum of the reference's industries per time. Every
          time (and industry) of the data must be present, once.
    keep_shares : bool, default False
        Also return ``region_share`` (:math:`E_{rit}/E_{rt}`) and ``reference_share``
        (:math:`E_{it}/E_t`).
    industry_groups : mapping, optional
        Long form only: combine sectors before computing LQs, e.g.
        ``{"talent": ["I", "M"]}`` (IT services + science / technology). Sectors not
        listed keep their own code; :math:`E_{rt}` is unchanged.

    Returns
    -------
    DataFrame-like
        Same kind as ``data`` (pandas for a path), one row per cell present in the data,
        sorted by the keys: the key columns, the summed ``value`` column(s), the total
        column when ``total`` names one, ``lq`` and, with ``keep_shares``, the two shares.
        pandas results carry the conventions used in ``attrs["agglomera"]``; other
        kinds carry nothing hidden — the conventions are the arguments above.

    Raises
    ------
    DataError
        Missing columns (with close matches), non-numeric, missing (null/NaN) or negative
        employment (column and first rows), missing keys, a region total that is zero or
        smaller than its sector employment, an inconsistent total column, a zero
        reference share, or a reference frame missing times / industries (named).
    SpecError
        Contradictory arguments.

    Notes
    -----
    * Cells absent from the data get no row (their LQ would be 0); nothing is filled in.
    * Lazy inputs (DuckDB, Spark, polars LazyFrame, paths) are executed when the function
      is called — one aggregate query, one scan — so that bad input fails here; the
      result is returned in the input's kind (a DuckDB relation on DuckDB's default
      connection, a Spark DataFrame of the same session).
    * A zero region total or a zero reference share is an error, not NaN: an LQ is not
      defined there, and dropping the row silently would hide it.

    References
    ----------
    Florence, P. S. (1948). *Investment, Location and Size of Plant*. Cambridge UP.
    Isard, W. (1960). *Methods of Regional Analysis*. MIT Press, ch. 7.
    Balland, P.-A. (2017). Economic Geography in R: Introduction to the EconGeo package.
    Papers in Evolutionary Economic Geography 17.09 (``location_quotient``).
    Wieland, T. (2019). REAT: Regional Economic Analysis Toolbox (R package, ``locq``).

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"city": ["A", "B"], "year": [2020, 2020],
    ...                       "emp_it": [30, 10], "emp_sci": [20, 10],
    ...                       "emp_total": [500, 500]})
    >>> location_quotient(panel, region="city", time="year",
    ...                   value=["emp_it", "emp_sci"], total="emp_total")["lq"].tolist()
    [1.4285714285714286, 0.5714285714285714]
    """
    spec = _make_spec("location_quotient", region, time, value, industry, total, industry_groups)
    table, info = _lq_table(data, spec, reference)
    cols = [*spec.cell_keys, *spec.values]
    if spec.total is not None:
        cols.append(spec.total)
    cols.append("lq")
    if keep_shares:
        cols += ["region_share", "reference_share"]
    out = table[cols].reset_index(drop=True)
    out.attrs["agglomera"] = info
    return like_input(out, data)


def average_lq(
    data: Any,
    *,
    region: str,
    time: str | None,
    value: str,
    industry: str,
    total: str | Any | None = None,
    reference: str | Any = "sample",
    industry_groups: Mapping[Any, Sequence[Any]] | None = None,
) -> Any:
    r"""Employment-weighted average location quotient of each region (and time).

    .. math::

        \overline{LQ}_{rt} = \sum_i s_{rit} \, LQ_{rit}, \qquad
        s_{rit} = E_{rit} / E_{rt}

    i.e. :math:`\sum_i s_{rit}^2 / (E_{it}/E_t)`. It is 1 when the region has the
    reference's sector structure and grows with specialisation in sectors that are rare
    in the reference. EconGeo's ``location_quotient_avg``; its inverse is the Hachman
    index (:func:`hachman`). Arguments as in :func:`location_quotient` (long form).

    Returns
    -------
    DataFrame-like
        Same kind as ``data``: ``region`` (and ``time``) and ``average_lq``.

    References
    ----------
    Balland, P.-A. (2017). EconGeo, ``location_quotient_avg``.
    """
    spec = _make_spec("average_lq", region, time, value, industry, total, industry_groups)
    out = _weighted_lq(data, spec, reference).rename(columns={"_avg": "average_lq"})
    return like_input(out[[*spec.region_keys, "average_lq"]], data)


def hachman(
    data: Any,
    *,
    region: str,
    time: str | None,
    value: str,
    industry: str,
    total: str | Any | None = None,
    reference: str | Any = "sample",
    industry_groups: Mapping[Any, Sequence[Any]] | None = None,
) -> Any:
    r"""Hachman index of how closely a region's sector structure resembles the reference.

    .. math::

        HI_{rt} = \Big( \sum_i s_{rit} \, LQ_{rit} \Big)^{-1}, \qquad
        s_{rit} = E_{rit} / E_{rt}

    with :math:`LQ_{rit}` as in :func:`location_quotient`. :math:`0 < HI \le 1`; 1 when
    the region's shares equal the reference shares (Hachman 1994; Mulligan & Schmidt
    2005, who weight the LQs by the region's own sector shares). Identical to EconGeo's
    ``hachman`` (the inverse of ``location_quotient_avg``). Arguments as in
    :func:`location_quotient` (long form).

    Returns
    -------
    DataFrame-like
        Same kind as ``data``: ``region`` (and ``time``) and ``hachman``.

    References
    ----------
    Hachman, F. C. (1994). *Economic Report to the Governor*. Utah State Office of
    Planning and Budget.
    Mulligan, G. F., & Schmidt, C. (2005). A note on localization and specialization.
    *Growth and Change*, 36(4), 565–576.
    Balland, P.-A. (2017). EconGeo, ``hachman``.
    """
    spec = _make_spec("hachman", region, time, value, industry, total, industry_groups)
    out = _weighted_lq(data, spec, reference)
    out["hachman"] = 1.0 / out["_avg"]
    return like_input(out[[*spec.region_keys, "hachman"]], data)


def density_per_10k(
    data: Any,
    value: str | Sequence[str],
    population: str,
    *,
    name: str | None = None,
    population_unit: float = 1.0,
) -> Any:
    r"""Per-capita density per 10,000 people, row by row.

    .. math::

        d = 10\,000 \times \frac{\sum_k x_k}{P \times u}

    with :math:`x_k` the ``value`` column(s), :math:`P` the population column and
    :math:`u` = ``population_unit`` persons per population unit — e.g. ``10_000`` for
    Chinese yearbooks, which report 年末总人口 in 万人 (then :math:`d = x / P`).
    Used for talent indicators such as professional & technical personnel or R&D
    scientists and engineers per 10,000 people.

    Parameters
    ----------
    data : DataFrame-like or str or os.PathLike
        Any supported frame kind or a CSV / Parquet path.
    value : str or sequence of str
        Count column(s); several are summed.
    population : str
        Population column (must be > 0).
    name : str, optional
        Result column; default ``"<value>_per_10k"`` (``"per_10k"`` for several values).
    population_unit : float, default 1.0
        Persons per unit of ``population``.

    Returns
    -------
    DataFrame-like
        ``data`` with the new column, same kind (lazy inputs stay lazy; a path gives
        pandas).

    Raises
    ------
    DataError
        Missing, non-numeric, missing-valued or negative columns, or a zero population
        (with the first rows).
    """
    values = [value] if isinstance(value, str) else list(value)
    if not values:
        raise SpecError("density_per_10k: value must name at least one column")
    if not population_unit > 0:
        raise SpecError("density_per_10k: population_unit must be > 0")
    frame = as_frame(data)
    check_nonnegative_numeric(frame, [*values, population], fn_name="density_per_10k")
    zero = frame.filter(nw.col(population) == 0)
    examples = collect_pandas(zero.head(5))
    if len(examples):
        raise DataError(
            f"density_per_10k: column {population!r} is 0 in some rows; a density is not "
            f"defined there. First rows: {format_examples(examples.to_dict('records'))}. "
            "Fix: correct the population or drop those rows."
        )
    out_name = name or (f"{values[0]}_per_10k" if isinstance(value, str) else "per_10k")
    numerator = nw.sum_horizontal(*values) if len(values) > 1 else nw.col(values[0])
    result = frame.with_columns(
        (numerator.cast(nw.Float64) * (10_000.0 / population_unit) / nw.col(population))
        .cast(nw.Float64)
        .alias(out_name)
    )
    return finish(result, data)


# ----------------------------------------------------------------------------- internals


def _make_spec(
    fn_name: str,
    region: str,
    time: str | None,
    value: str | Sequence[str],
    industry: str | None,
    total: Any,
    groups: Mapping[Any, Sequence[Any]] | None,
) -> _Spec:
    values = (value,) if isinstance(value, str) else tuple(value)
    if not values:
        raise SpecError(f"{fn_name}: value must name at least one column")
    if industry is not None and len(values) != 1:
        raise SpecError(
            f"{fn_name}: with industry={industry!r} (long form) value must be one "
            f"employment column, got {list(values)}. Fix: pass industry_groups to combine "
            "sectors, or use the wide form (industry=None, value=[...], total=...)."
        )
    if industry is None and total is None:
        raise SpecError(
            f"{fn_name}: the wide form (industry=None) needs total=, the column (or frame) "
            "of the region's total employment."
        )
    if groups is not None and industry is None:
        raise SpecError(f"{fn_name}: industry_groups needs the long form (industry=...)")
    names = [region, *values] + [k for k in (time, industry) if k is not None]
    if isinstance(total, str):
        names.append(total)
    if len(set(names)) != len(names):
        raise SpecError(f"{fn_name}: region, time, industry, value and total must differ")
    total_col = total if isinstance(total, str) else None
    total_frame = None if total is None or isinstance(total, str) else total
    return _Spec(fn_name, region, time, industry, values, total_col, total_frame, groups)


def _cells(data: Any, spec: _Spec) -> pd.DataFrame:
    """Sum the data to cells on its own engine (one query) and validate them.

    Returns pandas with the cell keys, float sums of the value columns, the region total
    ``_E_rt`` (when ``total`` names a column) and nothing else.
    """
    frame = as_frame(data)
    numeric = [*spec.values] + ([spec.total] if spec.total else [])
    require_columns(frame, [*spec.cell_keys, *numeric], spec.fn_name)
    schema = frame.collect_schema()
    for col in numeric:
        if not schema[col].is_numeric():
            check_nonnegative_numeric(frame, [col], fn_name=spec.fn_name)  # raises
    # One aggregate query. A null becomes -1 before the minimum, so one extra aggregate
    # per column catches both missing and negative values (NaN shows in the sum); the
    # detailed message (which rows) costs a second query only when something is wrong.
    checks = {f"{_PREFIX}chk{i}": nw.col(col).fill_null(-1) for i, col in enumerate(numeric)}
    aggs = []
    for i, col in enumerate(numeric):
        aggs += [
            nw.col(col).sum().alias(f"{_PREFIX}sum{i}"),
            nw.col(f"{_PREFIX}chk{i}").min().alias(f"{_PREFIX}min{i}"),
        ]
    if spec.total and spec.long:
        aggs.append(nw.col(spec.total).max().alias(f"{_PREFIX}max"))
    query = frame.with_columns(**checks).group_by(*spec.cell_keys).agg(*aggs)
    cells = _collect_float(query, [f"{_PREFIX}sum{i}" for i in range(len(numeric))])

    for key in spec.cell_keys:
        if cells[key].isna().any():
            missing = frame.filter(nw.col(key).is_null()).select(nw.len().alias("n"))
            n_missing = int(collect_pandas(missing)["n"].iloc[0])
            raise DataError(
                f"{spec.fn_name}: column {key!r} has {n_missing} missing value(s); every row "
                "needs a region, industry and time. Fix: fill or drop those rows."
            )
    for i, col in enumerate(numeric):
        sums = cells[f"{_PREFIX}sum{i}"]
        if sums.isna().any() or (cells[f"{_PREFIX}min{i}"].astype("float64") < 0).any():
            check_nonnegative_numeric(frame, [col], fn_name=spec.fn_name)  # names rows
            raise DataError(f"{spec.fn_name}: column {col!r} has missing or negative values")
        cells[col] = sums
    if spec.total and spec.long:
        _check_constant_total(cells, spec, len(spec.values))
    return cells


def _collect_float(frame: Any, columns: list[str]) -> pd.DataFrame:
    """Collect to pandas with ``columns`` as float64 (integer sums may come as decimals)."""
    if isinstance(frame, nw.LazyFrame):
        import pyarrow as pa

        table = frame.collect("pyarrow").to_native()
        for name in columns:
            idx = table.schema.get_field_index(name)
            table = table.set_column(idx, name, table.column(name).cast(pa.float64()))
        return table.to_pandas()
    out = collect_pandas(frame)
    return out.astype({name: "float64" for name in columns})


def _check_constant_total(cells: pd.DataFrame, spec: _Spec, i: int) -> None:
    assert spec.total is not None
    keys = spec.region_keys
    lo = cells.groupby(keys, dropna=False)[f"{_PREFIX}min{i}"].transform("min")
    hi = cells.groupby(keys, dropna=False)[f"{_PREFIX}max"].transform("max")
    bad = cells.loc[lo.astype("float64") != hi.astype("float64"), keys].drop_duplicates()
    if len(bad):
        raise DataError(
            f"{spec.fn_name}: the total column {spec.total!r} is not constant within "
            f"region × time for {len(bad)} key(s): "
            f"{format_examples(_keys(bad))}. In the long form "
            "it must repeat the region's total employment on every row. Fix: pass the "
            "region totals as a frame (total=...), or total=None to use the sum of sectors."
        )
    cells[spec.total] = cells[f"{_PREFIX}min{i}"].astype("float64")


def _region_totals(cells: pd.DataFrame, spec: _Spec) -> pd.Series:
    """E_rt aligned with ``cells``."""
    keys = spec.region_keys
    if spec.total is not None:
        return cells[spec.total]
    if spec.total_frame is None:  # long form: sum over the industries in the data
        return cells.groupby(keys, dropna=False)[spec.values[0]].transform("sum")
    totals = collect_pandas(as_frame(spec.total_frame, what="total"))
    what = "total frame"
    require_columns(nw.from_native(totals), keys, f"{spec.fn_name} ({what})")
    others = [c for c in totals.columns if c not in keys]
    if len(others) != 1:
        raise DataError(
            f"{spec.fn_name}: the total frame must have the columns {keys} and exactly one "
            f"column of region totals; it has {list(totals.columns)}."
        )
    check_nonnegative_numeric(nw.from_native(totals), others, fn_name=f"{spec.fn_name} ({what})")
    _check_unique(totals, keys, spec.fn_name, what)
    merged = _merge_keys(cells[keys], totals, keys, spec.fn_name, what)
    _check_present(merged[others[0]].isna(), cells[keys], spec.fn_name, what)
    return merged[others[0]].astype("float64").set_axis(cells.index)


def _reference_shares(cells: pd.DataFrame, spec: _Spec, reference: Any) -> pd.Series:
    """E_it / E_t aligned with ``cells`` (``cells`` holds ``_E_rit`` and ``_E_rt``)."""
    rkeys = spec.reference_keys
    if isinstance(reference, str):
        if reference != "sample":
            raise SpecError(
                f"{spec.fn_name}: reference must be 'sample' or a frame of reference "
                f"totals/shares; got {reference!r}."
            )
        e_it = _sum_by(cells, rkeys, "_E_rit")
        per_region = cells.drop_duplicates(spec.region_keys)
        if spec.time is None:
            return e_it / float(per_region["_E_rt"].sum())
        return e_it / _align(per_region, cells, spec.time, "_E_rt")
    ref = collect_pandas(as_frame(reference, what="reference"))
    what = "reference frame"
    fn = f"{spec.fn_name} ({what})"
    ref_nw = nw.from_native(ref)
    if "share" in ref.columns:
        require_columns(ref_nw, rkeys, fn)
        check_nonnegative_numeric(ref_nw, ["share"], fn_name=fn)
        ref = ref.assign(_share=ref["share"].astype("float64"))
    else:
        total_col = spec.total if spec.total and spec.total in ref.columns else "total"
        need = [*rkeys, *spec.values]
        if total_col in ref.columns or not spec.long:
            need.append(total_col)
        require_columns(ref_nw, need, fn)
        check_nonnegative_numeric(ref_nw, need[len(rkeys) :], fn_name=fn)
        num = ref[list(spec.values)].astype("float64").sum(axis=1)
        den: pd.Series | float
        if total_col in ref.columns:
            den = ref[total_col].astype("float64")
        elif spec.time:  # long form without a total column: sum over reference industries
            den = num.groupby(ref[spec.time]).transform("sum")
        else:
            den = float(num.sum())
        ref = ref.assign(_share=num / den)
    ref = ref[[*rkeys, "_share"]]
    if spec.groups:  # shares of a group add up: the denominator E_t is common
        ref = _apply_groups(ref, spec, ["_share"])
    if not rkeys:
        if len(ref) != 1:
            raise DataError(f"{fn}: a cross-section without industries needs exactly one row")
        return pd.Series(float(ref["_share"].iloc[0]), index=cells.index)
    _check_unique(ref, rkeys, spec.fn_name, what)
    merged = _merge_keys(cells[rkeys], ref[[*rkeys, "_share"]], rkeys, spec.fn_name, what)
    _check_present(merged["_share"].isna(), cells[rkeys], spec.fn_name, what)
    return merged["_share"].set_axis(cells.index)


def _sum_by(frame: pd.DataFrame, keys: list[str], col: str) -> pd.Series:
    if not keys:
        return pd.Series(frame[col].sum(), index=frame.index)
    return frame.groupby(keys, dropna=False)[col].transform("sum")


def _align(source: pd.DataFrame, target: pd.DataFrame, key: str, col: str) -> pd.Series:
    sums = source.groupby(key, dropna=False)[col].sum()
    return target[key].map(sums).astype("float64")


def _apply_groups(frame: pd.DataFrame, spec: _Spec, cols: list[str]) -> pd.DataFrame:
    """Recode industries into ``spec.groups`` and re-sum ``cols`` per key."""
    assert spec.industry is not None and spec.groups is not None
    mapping: dict[Any, Any] = {}
    for label, members in spec.groups.items():
        for code in members:
            if code in mapping:
                raise SpecError(f"{spec.fn_name}: industry {code!r} is in two groups")
            mapping[code] = label
    present = set(frame[spec.industry].unique())
    absent = [c for c in mapping if c not in present]
    if absent:
        raise DataError(
            f"{spec.fn_name}: industry_groups names industries not in the data: "
            f"{format_examples(absent)}. Fix: check the codes in column {spec.industry!r}."
        )
    recoded = frame[spec.industry].map(lambda c: mapping.get(c, c))
    keys = [k for k in frame.columns if k not in cols and not k.startswith(_PREFIX)]
    return (
        frame.assign(**{spec.industry: recoded})
        .groupby(keys, dropna=False, sort=False)[cols]
        .sum()
        .reset_index()
    )


def _keys(frame: pd.DataFrame) -> list[Any]:
    """Key values for a message: plain values for one column, tuples for several."""
    if frame.shape[1] == 1:
        return frame.iloc[:, 0].tolist()
    return list(frame.itertuples(index=False, name=None))


def _check_unique(frame: pd.DataFrame, keys: list[str], fn_name: str, what: str) -> None:
    dup = frame.loc[frame.duplicated(keys, keep=False), keys].drop_duplicates()
    if len(dup):
        raise DataError(
            f"{fn_name}: the {what} has several rows for {len(dup)} key(s) of {keys}: "
            f"{format_examples(_keys(dup))}. Fix: one row per key."
        )


def _merge_keys(
    left: pd.DataFrame, right: pd.DataFrame, keys: list[str], fn_name: str, what: str
) -> pd.DataFrame:
    """Left-join ``right`` on ``keys``; key type mismatches become a DataError."""
    try:
        return left.merge(right, on=keys, how="left", validate="many_to_one")
    except ValueError as exc:
        types = {k: (str(left[k].dtype), str(right[k].dtype)) for k in keys}
        raise DataError(
            f"{fn_name}: the keys of the {what} do not match the data's types "
            f"(data, {what}): {types}. Fix: cast them alike, e.g. years as integers. "
            f"({exc})"
        ) from None


def _check_present(missing: pd.Series, keys: pd.DataFrame, fn_name: str, what: str) -> None:
    if not missing.any():
        return
    absent = keys.loc[missing.to_numpy()].drop_duplicates()
    shown = _keys(absent)
    raise DataError(
        f"{fn_name}: the {what} lacks {len(absent)} key(s) of {list(keys.columns)} that "
        f"are in the data: {format_examples(shown)}. Fix: supply them, or drop those rows "
        "from the data."
    )


def _lq_table(data: Any, spec: _Spec, reference: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    cells = _cells(data, spec)
    value_sum = cells[list(spec.values)].sum(axis=1)
    cells["_E_rit"] = value_sum
    cells["_E_rt"] = _region_totals(cells, spec)
    if spec.groups:
        keep = [*spec.cell_keys, *spec.values, "_E_rit", "_E_rt"]
        sum_cols = [*spec.values, "_E_rit"]
        rt = cells[[*spec.region_keys, "_E_rt"]].drop_duplicates(spec.region_keys)
        cells = _apply_groups(cells[[k for k in keep if k != "_E_rt"]], spec, sum_cols)
        cells = cells.merge(rt, on=spec.region_keys, how="left")
        if spec.total:
            cells[spec.total] = cells["_E_rt"]
    zero = cells.loc[cells["_E_rt"] <= 0, spec.region_keys].drop_duplicates()
    if len(zero):
        raise DataError(
            f"{spec.fn_name}: {len(zero)} region × time key(s) have zero total employment, "
            "where an LQ is not defined: "
            f"{format_examples(_keys(zero))}. "
            "Fix: drop those regions (or check the total column)."
        )
    over = cells.loc[cells["_E_rit"] > cells["_E_rt"] * (1 + 1e-12), spec.cell_keys]
    if len(over):
        raise DataError(
            f"{spec.fn_name}: sector employment exceeds the region total in {len(over)} "
            f"cell(s): {format_examples(_keys(over))}. "
            "Fix: check that total is the region's total employment."
        )
    cells["region_share"] = cells["_E_rit"] / cells["_E_rt"]
    cells["reference_share"] = _reference_shares(cells, spec, reference)
    zero_ref = cells.loc[~(cells["reference_share"] > 0), spec.reference_keys].drop_duplicates()
    if len(zero_ref):
        raise DataError(
            f"{spec.fn_name}: the reference share is 0 for {len(zero_ref)} key(s) of "
            f"{spec.reference_keys or 'the sample'}: "
            f"{format_examples(_keys(zero_ref))}; an LQ is not "
            "defined there. Fix: drop those industries / years."
        )
    cells["lq"] = cells["region_share"] / cells["reference_share"]
    cells = cells.sort_values(spec.cell_keys, kind="stable").reset_index(drop=True)
    info = {
        "measure": spec.fn_name,
        "formula": "(E_rit / E_rt) / (E_it / E_t)",
        "reference": "sample" if isinstance(reference, str) else "frame",
        "region_total": (
            f"column {spec.total!r}"
            if spec.total
            else "frame"
            if spec.total_frame is not None
            else "sum over industries in the data"
        ),
        "cells": len(cells),
    }
    return cells, info


def _weighted_lq(data: Any, spec: _Spec, reference: Any) -> pd.DataFrame:
    cells, _ = _lq_table(data, spec, reference)
    cells["_w"] = cells["region_share"] * cells["lq"]
    out = cells.groupby(spec.region_keys, sort=True)["_w"].sum().reset_index()
    return out.rename(columns={"_w": "_avg"})
