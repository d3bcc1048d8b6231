"""Input parsing and numeric kernels behind :mod:`agglomera.measure.composite`.

Private: argument checks (directions, systems, weights, choices), preparation of the
indicator block, grouping by period, min–max normalisation and the entropy kernels.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from agglomera._frames import to_pandas
from agglomera.errors import DataError, SpecError, format_examples

_DIRECTION_WORDS = {"+": 1, "-": -1, "benefit": 1, "cost": -1, "positive": 1, "negative": -1}


def _hint(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=3)
    return f" (did you mean {format_examples(close)}?)" if close else ""


def _check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise SpecError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}."
        )


def _check_rescale(rescale: Any) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in rescale)
    except (TypeError, ValueError):
        raise SpecError(f"rescale must be a pair (a, b); got {rescale!r}.") from None
    if not (0 < a < b):
        raise SpecError(
            f"rescale must satisfy 0 < a < b; got {rescale!r}. Fix: e.g. rescale=(0.01, 0.99)."
        )
    return a, b


def _parse_directions(directions: Mapping[str, Any]) -> dict[str, int]:
    if not isinstance(directions, Mapping) or not directions:
        raise SpecError(
            "directions must be a non-empty mapping indicator → '+' or '-', "
            "e.g. {'ht_rd_exp': '+', 'energy_use': '-'}."
        )
    out: dict[str, int] = {}
    for col, raw in directions.items():
        value: int | None = None
        if isinstance(raw, str):
            value = _DIRECTION_WORDS.get(raw.strip().lower())
        elif isinstance(raw, int | float | np.integer | np.floating) and not isinstance(
            raw, bool | np.bool_
        ):
            value = int(raw) if raw in (1, -1) else None
        if value is None:
            raise SpecError(
                f"direction of {col!r} must be '+'/1/'benefit' or '-'/-1/'cost'; got {raw!r}."
            )
        out[str(col)] = value
    return out


def _parse_system(system: Mapping[str, Sequence[str]], known: list[str]) -> dict[str, list[str]]:
    if not isinstance(system, Mapping) or not system:
        raise SpecError("system must be a non-empty mapping subsystem → list of indicators.")
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for name, cols in system.items():
        if isinstance(cols, str) or not isinstance(cols, Sequence) or not cols:
            raise SpecError(f"subsystem {name!r} must list at least one indicator; got {cols!r}.")
        for c in cols:
            if c not in known:
                raise SpecError(
                    f"indicator {c!r} of subsystem {name!r} has no direction"
                    f"{_hint(str(c), known)}. Fix: add it to `directions`."
                )
            if c in seen:
                raise SpecError(
                    f"indicator {c!r} is in subsystems {seen[c]!r} and {name!r}; "
                    "an indicator may belong to one subsystem only."
                )
            seen[c] = str(name)
        out[str(name)] = [str(c) for c in cols]
    return out


def _prepare(
    data: Any, dirs: dict[str, int], time: str | None, scope: str, caller: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None, str | None]:
    """Return (frame, indicator values as float, periods or None, time column)."""
    from agglomera.data.panel import Panel

    if isinstance(data, Panel):
        frame = data.to_frame()
        frame.index = pd.MultiIndex.from_frame(frame[[data.unit, data.time]])
        time = time if time is not None else data.time
    else:
        frame = to_pandas(data, what="data")
    if len(frame) == 0:
        raise DataError(f"{caller}: data has no rows.")
    cols = [str(c) for c in frame.columns]
    needed = list(dirs) + ([time] if time is not None else [])
    for col in needed:
        if col not in frame.columns:
            raise DataError(
                f"{caller}: column {col!r} not found{_hint(col, cols)}. "
                f"Available: {format_examples(cols, limit=8)}."
            )
    if scope == "per_year" and time is None:
        raise SpecError(f"{caller}: scope='per_year' needs time= (the year column).")
    values = pd.DataFrame(index=frame.index)
    for col in dirs:
        s = frame[col]
        try:
            num = pd.to_numeric(s, errors="raise").astype(float)
        except (TypeError, ValueError):
            bad = s.index[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
            raise DataError(
                f"{caller}: indicator {col!r} is not numeric (rows {format_examples(bad)}). "
                "Fix: clean the column to numbers."
            ) from None
        missing = num.index[~np.isfinite(num.to_numpy())]
        if len(missing):
            raise DataError(
                f"{caller}: indicator {col!r} has {len(missing)} missing or infinite value(s) "
                f"(rows {format_examples(missing)}). Nothing is dropped or imputed: fix or "
                "remove these rows explicitly before computing the index."
            )
        values[col] = num
    periods = None
    if time is not None:
        periods = frame[time]
        if periods.isna().any():
            raise DataError(
                f"{caller}: time column {time!r} has missing values "
                f"(rows {format_examples(periods.index[periods.isna()])})."
            )
    return frame, values, periods, time


def _groups(
    periods: pd.Series | None, scope: str, n_rows: int
) -> Iterator[tuple[Hashable, np.ndarray]]:
    if scope == "pooled" or periods is None:
        yield None, np.arange(n_rows)
        return
    codes, uniques = pd.factorize(periods, sort=True)
    for k, key in enumerate(uniques):
        yield key, np.flatnonzero(codes == k)


def _by_scope(
    rows: dict[Hashable, np.ndarray], cols: list[str], time: str | None, name: str
) -> pd.Series | pd.DataFrame:
    """One vector (pooled: Series) or one row per period (per year: DataFrame)."""
    if list(rows) == [None]:
        return pd.Series(rows[None], index=cols, name=name)
    out = pd.DataFrame(np.vstack(list(rows.values())), index=list(rows), columns=cols)
    out.index.name = time
    return out


def _at_rows(table: pd.Series | pd.DataFrame, periods: pd.Series | None, n: int) -> np.ndarray:
    """Expand pooled or per-period values to one row per observation."""
    if isinstance(table, pd.Series):
        return np.tile(table.to_numpy(), (n, 1))
    assert periods is not None
    return table.loc[periods.to_numpy()].to_numpy()


def _minmax(
    block: pd.DataFrame, dirs: dict[str, int], key: Hashable, time: str | None
) -> pd.DataFrame:
    x = block.to_numpy(dtype=float)
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    const = [j for j, s in enumerate(span) if not s > 0]
    if const:
        name = list(dirs)[const[0]]
        where = "" if key is None else f" in {time} {key!r}"
        raise DataError(
            f"indicator {name!r} is constant{where} (max = min = {float(lo[const[0]])!r})"
            "; its min–max normalisation is undefined and it carries no information. "
            "Fix: drop the indicator" + ("" if key is None else " or use scope='pooled'") + "."
        )
    sign = np.array([dirs[c] for c in dirs])
    out = np.where(sign > 0, (x - lo) / span, (hi - x) / span)
    return pd.DataFrame(out, index=block.index, columns=list(dirs))


def _entropy(block: pd.DataFrame) -> np.ndarray:
    x = block.to_numpy(dtype=float)
    m = x.shape[0]
    p = x / x.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return np.asarray(-plogp.sum(axis=0) / np.log(m))


def _weights_from_entropy(e: np.ndarray) -> np.ndarray:
    d = 1.0 - e
    return np.asarray(d / d.sum())
