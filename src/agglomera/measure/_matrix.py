"""Long frame → region × industry matrices, and back (internal).

The index functions in :mod:`agglomera.measure.specialisation` and
:mod:`agglomera.measure.plant_concentration` share one data path:

1. :func:`load` validates the input through the engine layer (any frame kind narwhals
   supports, or a file path), sums the value over the key columns (long microdata are
   summed first) and collects the small aggregate to pandas;
2. :func:`slices` cuts the aggregate into one dense matrix per time period
   (rows × columns, absent combinations = 0);
3. the caller computes the index with numpy (the numeric cores :func:`lorenz_gini`,
   :func:`md_gini`, :func:`entropy`, :func:`theil_t`, :func:`dagum_parts` live here too) and
   returns the small result through :func:`finish`, which converts it to the frame kind of
   the input.

:func:`localisation_units` and :func:`specialisation_setup` turn a period's matrix into the
share vectors of the two orientations, with their reference distributions.

Conventions (documented in ``docs/measure-indices.md``): a region (industry) belongs to the
matrix of period *t* when it has at least one row in period *t*; a region–industry pair with
no row counts as zero employment; nothing else is filled in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "LOC_FIX",
    "REG_FIX",
    "Slice",
    "check_orientation",
    "dagum_parts",
    "entropy",
    "finish",
    "key_columns",
    "load",
    "localisation_units",
    "lorenz_gini",
    "make_row",
    "md_gini",
    "ordered",
    "reference_frame",
    "slices",
    "specialisation_setup",
    "theil_t",
    "zero_lines",
]

ALL = "__agglomera_all__"


@dataclass(frozen=True)
class Slice:
    """One period's dense matrix: ``values[i, j]`` = value of row label i, column label j."""

    time: Any
    rows: pd.Index
    cols: pd.Index
    values: np.ndarray
    extra: dict[str, pd.Series]


def load(
    data: Any,
    *,
    fn_name: str,
    keys: Sequence[str],
    value: str,
    time: str | None,
    constant: Sequence[str] = (),
    numeric_constant: Sequence[str] = (),
    constant_within: str | None = None,
    squares: bool = False,
) -> pd.DataFrame:
    """Validate ``data``, sum ``value`` by ``keys`` (+ ``time``) and collect to pandas.

    ``constant`` (and ``numeric_constant``, which must also be non-negative numbers) are
    columns that must take one value within each ``constant_within`` (+ ``time``) group,
    e.g. a region's population or its east/central/west group. ``squares=True`` adds
    ``__sq``, the sum of squared values (plant Herfindahls without collecting plants);
    ``__n`` is always the number of input rows in the group.
    """
    import narwhals as nw

    from agglomera.measure._engine import (
        as_frame,
        check_nonnegative_numeric,
        collect_pandas,
        require_columns,
    )

    group_keys = [*keys] + ([time] if time is not None else [])
    _check_distinct(fn_name, [*group_keys, value, *constant, *numeric_constant])
    frame = as_frame(data)
    require_columns(frame, [*group_keys, value, *constant, *numeric_constant], fn_name)
    check_nonnegative_numeric(frame, [value, *numeric_constant], fn_name=fn_name)
    aggs = [nw.col(value).sum()]
    aggs.append(nw.len().alias("__n"))
    if squares:
        frame = frame.with_columns(
            (nw.col(value).cast(nw.Float64) * nw.col(value).cast(nw.Float64)).alias("__sq")
        )
        aggs.append(nw.col("__sq").sum())
    for col in [*constant, *numeric_constant]:
        aggs.append(nw.col(col).min().alias(f"__min_{col}"))
        aggs.append(nw.col(col).max().alias(f"__max_{col}"))
    if constant:
        nulls = collect_pandas(frame.select(*(nw.col(c).null_count() for c in constant)))
        for col in constant:
            if int(nulls[col].iloc[0]):
                raise DataError(
                    f"{fn_name}: column {col!r} has {int(nulls[col].iloc[0])} missing "
                    "value(s). Fix: fill or drop them first."
                )
    out = collect_pandas(frame.group_by(group_keys).agg(*aggs))
    for key in group_keys:
        bad = out[out[key].isna()]
        if len(bad):
            raise DataError(
                f"{fn_name}: column {key!r} has missing values (null keys). "
                "Fix: drop or fill those rows before computing the index."
            )
    within = [constant_within] if constant_within is not None else list(keys)
    within = within + ([time] if time is not None else [])
    for col in [*constant, *numeric_constant]:
        per = out.groupby(within, sort=False, dropna=False).agg(
            lo=(f"__min_{col}", "min"), hi=(f"__max_{col}", "max")
        )
        varying = per[per["lo"] != per["hi"]]
        if len(varying):
            raise DataError(
                f"{fn_name}: column {col!r} must take a single value within each "
                f"{' × '.join(within)}; it varies for {format_examples(varying.index)}. "
                f"Fix: give one {col} per {within[0]}."
            )
        out[col] = out[f"__min_{col}"]
        out = out.drop(columns=[f"__min_{col}", f"__max_{col}"])
    out[value] = out[value].astype("float64")
    return out


def _check_distinct(fn_name: str, columns: Sequence[str]) -> None:
    seen: dict[str, str] = {}
    for col in columns:
        low = col.lower()
        if low in seen:
            raise SpecError(
                f"{fn_name}: the same column {col!r} is used for two roles "
                f"(or differs from {seen[low]!r} only by case). Fix: name distinct columns."
            )
        seen[low] = col


def ordered(values: pd.Series) -> pd.Index:
    """Return the distinct values, sorted when they are comparable (else first-seen order)."""
    uniq = pd.unique(values)
    try:
        return pd.Index(sorted(uniq))
    except TypeError:
        return pd.Index(uniq)


def slices(
    long: pd.DataFrame,
    *,
    row: str,
    col: str,
    value: str,
    time: str | None,
    extra: Sequence[str] = (),
) -> Iterator[Slice]:
    """Yield one dense ``row × col`` matrix per period (one slice when ``time`` is None).

    ``extra`` columns (constant within ``row``) are returned as Series indexed by row label.
    """
    if time is None:
        groups: list[tuple[Any, pd.DataFrame]] = [(None, long)]
    else:
        groups = [(t, long[long[time] == t]) for t in ordered(long[time])]
    for t, part in groups:
        rows = ordered(part[row])
        cols = ordered(part[col])
        values = np.zeros((len(rows), len(cols)))
        values[rows.get_indexer(pd.Index(part[row])), cols.get_indexer(pd.Index(part[col]))] = part[
            value
        ].to_numpy(dtype="float64")
        ext = {name: part.drop_duplicates(row).set_index(row)[name].reindex(rows) for name in extra}
        yield Slice(time=t, rows=rows, cols=cols, values=values, extra=ext)


def zero_lines(
    sl: Slice, *, fn_name: str, axis: int, what: str, fix: str, time: str | None
) -> None:
    """Raise DataError when a row (``axis=1`` sums) or column (``axis=0``) total is zero."""
    totals = sl.values.sum(axis=axis)
    labels = sl.rows if axis == 1 else sl.cols
    zero = labels[totals <= 0]
    if len(zero):
        when = f" in {time} = {sl.time!r}" if time is not None else ""
        raise DataError(
            f"{fn_name}: {what} with zero total employment{when}: {format_examples(zero)}; "
            f"their shares are undefined. Fix: {fix}"
        )


def reference_frame(
    reference: Any,
    *,
    fn_name: str,
    key: str,
    value: str,
    time: str | None,
) -> pd.DataFrame:
    """Collect a reference table (``key`` [+ ``time``] and one value column) to pandas.

    The value column is ``value`` when present, else the only other column.
    """
    from agglomera.measure._engine import as_frame

    frame = as_frame(reference)
    columns = list(frame.columns)
    needed = [key] + ([time] if time is not None else [])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise DataError(
            f"{fn_name}: the reference table needs column(s) {format_examples(missing)}; "
            f"it has {format_examples(columns, limit=10)}."
        )
    others = [c for c in columns if c not in needed]
    if value in others:
        vcol = value
    elif len(others) == 1:
        vcol = others[0]
    else:
        raise DataError(
            f"{fn_name}: cannot tell which column of the reference table holds the values "
            f"(expected {value!r} or exactly one column besides {format_examples(needed)}; "
            f"found {format_examples(others)})."
        )
    long = load(reference, fn_name=f"{fn_name} (reference)", keys=[key], value=vcol, time=time)
    return long.rename(columns={vcol: "__ref"})[[*needed, "__ref"]]


def check_orientation(orientation: str, fn_name: str) -> str:
    """Validate an ``orientation`` argument."""
    if orientation not in ("localisation", "specialisation"):
        raise SpecError(
            f"{fn_name}: orientation must be 'localisation' (one row per industry) or "
            f"'specialisation' (one row per region); got {orientation!r}."
        )
    return orientation


def finish(rows: list[dict[str, Any]], columns: list[str], data: Any) -> Any:
    """Build the pandas result and return it in the frame kind of ``data``."""
    from agglomera.measure._engine import like_input

    result = pd.DataFrame(rows, columns=columns)
    return like_input(result, data)


LOC_FIX = "drop the industry (it has no employment in that period) or check the value column."
REG_FIX = (
    "drop the region (it has no employment in that period), or check that the value "
    "column and the region keys are right."
)


# --------------------------------------------------------------------------- numeric cores


def lorenz_gini(a: np.ndarray, w: np.ndarray) -> float:
    """Gini from the Lorenz curve of shares ``a`` against reference shares ``w``.

    Units are ordered by ``a / w`` (units with ``w = 0`` and ``a > 0`` last);
    ``G = 1 - sum_k w_(k) (A_k + A_{k-1})`` with ``A`` the cumulative ``a``.
    """
    a = a / a.sum()
    w = w / w.sum()
    keep = (a > 0) | (w > 0)
    a, w = a[keep], w[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(w > 0, a / np.where(w > 0, w, 1.0), np.inf)
    order = np.argsort(ratio, kind="stable")
    cum = np.cumsum(a[order])
    prev = np.concatenate(([0.0], cum[:-1]))
    return float(1.0 - np.sum(w[order] * (cum + prev)))


def md_gini(v: np.ndarray) -> float:
    """Mean-difference Gini ``sum_ij |v_i - v_j| / (2 n^2 mean)`` (no n/(n-1))."""
    v = np.sort(v)
    n = v.size
    total = v.sum()
    if total <= 0:
        return math.nan
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * v) / (n * total) - (n + 1) / n)


def entropy(a: np.ndarray, base: float) -> float:
    p = a[a > 0] / a.sum()
    return float(-np.sum(p * np.log(p)) / math.log(base)) + 0.0  # no -0.0


def theil_t(a: np.ndarray, w: np.ndarray) -> float:
    """Theil T ``sum a log(a / w)`` (shares; ``0 log 0 = 0``)."""
    pos = a > 0
    return float(np.sum(a[pos] * np.log(a[pos] / w[pos])))


# --------------------------------------------------------------------------- shared plumbing


def check_reference_name(reference: Any, allowed: tuple[str, ...], fn_name: str) -> None:
    """Raise SpecError unless ``reference`` is one of the ``allowed`` keywords."""
    if isinstance(reference, str) and reference in allowed:
        return
    raise SpecError(
        f"{fn_name}: reference must be one of {format_examples(allowed)} or a frame of "
        f"reference employment by industry; got {reference!r}."
    )


def loc_ref_columns(reference: Any, fn_name: str) -> list[str]:
    """Validate a localisation ``reference``; return the reference column, if any."""
    if not isinstance(reference, str):
        raise SpecError(
            f"{fn_name}: for localisation, reference must be 'sample', 'uniform' or the name "
            f"of a column (e.g. population); got a {type(reference).__name__}. A reference "
            "table by industry applies to orientation='specialisation'."
        )
    if reference == "rest":
        raise SpecError(
            f"{fn_name}: reference='rest' applies to orientation='specialisation'; for "
            "localisation use 'sample', 'uniform' or a column name."
        )
    return [] if reference in ("sample", "uniform") else [reference]


def loc_reference(sl: Slice, reference: str, fn_name: str, time: str | None) -> np.ndarray:
    """Return the reference distribution over regions for localisation (sums to 1)."""
    if reference == "sample":
        x = sl.values.sum(axis=1)
    elif reference == "uniform":
        x = np.ones(len(sl.rows))
    else:
        x = sl.extra[reference].to_numpy(dtype="float64")
        if np.any(x <= 0):
            bad = sl.rows[x <= 0]
            when = f" in {time} = {sl.time!r}" if time is not None else ""
            raise DataError(
                f"{fn_name}: the reference column {reference!r} is zero for region(s) "
                f"{format_examples(bad)}{when}; the reference shares must be positive. "
                "Fix: drop those regions or correct the reference column."
            )
    return x / x.sum()


def localisation_units(
    data: Any,
    *,
    fn_name: str,
    region: str,
    industry: str | None,
    value: str,
    time: str | None,
    reference: str,
) -> Iterator[tuple[Any, Any, np.ndarray, np.ndarray]]:
    """Yield ``(time, industry, s, x)``: the industry's regional shares and the reference."""
    ref_col = loc_ref_columns(reference, fn_name)
    if industry is None and reference == "sample":
        raise SpecError(
            f"{fn_name}: without industry=, reference='sample' compares the value with "
            "itself. Fix: pass reference='uniform' or a reference column (e.g. population)."
        )
    keys = [region] if industry is None else [region, industry]
    long = load(
        data,
        fn_name=fn_name,
        keys=keys,
        value=value,
        time=time,
        numeric_constant=ref_col,
        constant_within=region,
    )
    col = industry
    if industry is None:
        col = ALL
        long[col] = ALL
    assert col is not None
    for sl in slices(long, row=region, col=col, value=value, time=time, extra=ref_col):
        zero_lines(sl, fn_name=fn_name, axis=0, what="industries", fix=LOC_FIX, time=time)
        if reference == "sample":
            zero_lines(sl, fn_name=fn_name, axis=1, what="regions", fix=REG_FIX, time=time)
        x = loc_reference(sl, reference, fn_name, time)
        shares = sl.values / sl.values.sum(axis=0, keepdims=True)
        for j, label in enumerate(sl.cols):
            yield sl.time, (None if industry is None else label), shares[:, j], x


def totals_lookup(
    totals: Any, *, fn_name: str, region: str, value: str, time: str | None
) -> pd.Series | None:
    if totals is None:
        return None
    tl = reference_frame(totals, fn_name=fn_name, key=region, value=value, time=time)
    index = [region] + ([time] if time is not None else [])
    return tl.set_index(index)["__ref"]


def reference_total_for(reference_total: Any, t: Any, fn_name: str) -> float | None:
    if reference_total is None:
        return None
    if isinstance(reference_total, Mapping):
        if t not in reference_total:
            raise DataError(f"{fn_name}: reference_total has no entry for period {t!r}.")
        return float(reference_total[t])
    return float(reference_total)


def specialisation_setup(
    data: Any,
    *,
    fn_name: str,
    region: str,
    industry: str,
    value: str,
    time: str | None,
    reference: Any,
    totals: Any = None,
    reference_total: Any = None,
    allowed: tuple[str, ...] = ("sample", "rest"),
) -> Iterator[tuple[Slice, np.ndarray, np.ndarray]]:
    """Yield ``(slice, S, X)``: regions' industry shares and the reference shares (R × I)."""
    ref_long: pd.DataFrame | None = None
    if isinstance(reference, str):
        check_reference_name(reference, allowed, fn_name)
    else:
        ref_long = reference_frame(reference, fn_name=fn_name, key=industry, value=value, time=time)
    long = load(data, fn_name=fn_name, keys=[region, industry], value=value, time=time)
    tot = totals_lookup(totals, fn_name=fn_name, region=region, value=value, time=time)
    for sl in slices(long, row=region, col=industry, value=value, time=time):
        zero_lines(sl, fn_name=fn_name, axis=1, what="regions", fix=REG_FIX, time=time)
        values = sl.values
        cols = sl.cols
        ref_vec: np.ndarray | None = None
        if ref_long is not None:
            part = ref_long if time is None else ref_long[ref_long[time] == sl.time]
            ref = part.groupby(industry, sort=False)["__ref"].sum()
            missing = cols.difference(ref.index)
            if len(missing):
                raise DataError(
                    f"{fn_name}: industries {format_examples(missing)} are in the data but "
                    f"not in the reference table"
                    f"{'' if time is None else f' for {time} = {sl.time!r}'}. "
                    "Fix: add them to the reference table (or drop them from the data)."
                )
            extra = ref.index.difference(cols)
            if len(extra):  # industries only in the reference count as zero in every region
                cols = cols.append(extra)
                values = np.hstack([values, np.zeros((values.shape[0], len(extra)))])
            ref_vec = ref.reindex(cols).to_numpy(dtype="float64")
            sl = Slice(sl.time, sl.rows, cols, values, sl.extra)
        if tot is None:
            row_tot = values.sum(axis=1)
        else:
            keys = (
                list(sl.rows)
                if time is None
                else list(zip(sl.rows, [sl.time] * len(sl.rows), strict=True))
            )
            found = tot.reindex(keys)
            if found.isna().any():
                absent = found.index[found.isna()]
                raise DataError(
                    f"{fn_name}: totals has no row for {format_examples(absent)}. "
                    "Fix: give a total for every region (and period)."
                )
            row_tot = found.to_numpy(dtype="float64")
            if np.any(row_tot <= 0):
                raise DataError(f"{fn_name}: totals must be positive.")
        S = values / row_tot[:, None]
        if ref_vec is not None:
            rt = reference_total_for(reference_total, sl.time, fn_name)
            X1 = ref_vec / (ref_vec.sum() if rt is None else rt)
            X = np.broadcast_to(X1, S.shape)
        elif reference == "sample":
            X = np.broadcast_to(values.sum(axis=0) / row_tot.sum(), S.shape)
        else:  # rest of the sample
            if len(sl.rows) < 2:
                raise DataError(f"{fn_name}: reference='rest' needs at least two regions.")
            X = (values.sum(axis=0)[None, :] - values) / (row_tot.sum() - row_tot)[:, None]
        yield sl, S, X


def key_columns(key: str, time: str | None) -> list[str]:
    return [key] + ([time] if time is not None else [])


def make_row(key: str, label: Any, time: str | None, t: Any, **values: Any) -> dict[str, Any]:
    out: dict[str, Any] = {key: label}
    if time is not None:
        out[time] = t
    out.update(values)
    return out


def dagum_parts(y: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Dagum (1997) decomposition of the mean-difference Gini of ``y`` by ``groups``."""
    # Every component is scale invariant: divide by the maximum first so that tiny values
    # cannot underflow the means (e.g. a subnormal total divided by n becomes 0).
    y = y / y.max()
    n = y.size
    mean = y.mean()
    labels = list(pd.unique(groups))
    parts = [y[groups == g] for g in labels]
    means = np.array([p.mean() for p in parts])
    sizes = np.array([p.size for p in parts], dtype=float)
    p_share = sizes / n
    s_share = sizes * means / (n * mean)
    gini = float(np.abs(y[:, None] - y[None, :]).sum() / (2 * n * y.sum()))
    within = 0.0
    for k, part in enumerate(parts):
        if means[k] == 0:  # a group of zeros: no inequality inside it (and weight s_j = 0)
            continue
        gjj = np.abs(part[:, None] - part[None, :]).sum() / (2 * part.size**2 * means[k])
        within += gjj * p_share[k] * s_share[k]
    net = trans = 0.0
    for j, h in combinations(range(len(parts)), 2):
        diff = parts[j][:, None] - parts[h][None, :]
        m = diff.size
        if means[j] + means[h] == 0:
            continue
        gjh = np.abs(diff).sum() / (m * (means[j] + means[h]))
        d_up = np.clip(diff, 0, None).sum() / m  # y_j > y_h
        d_down = np.clip(-diff, 0, None).sum() / m
        total = d_up + d_down
        djh = abs(d_up - d_down) / total if total > 0 else 0.0  # relative economic affluence
        weight = gjh * (p_share[j] * s_share[h] + p_share[h] * s_share[j])
        net += weight * djh
        trans += weight * (1.0 - djh)
    return {
        "gini": gini,
        "within": float(within),
        "between_net": float(net),
        "transvariation": float(trans),
    }
