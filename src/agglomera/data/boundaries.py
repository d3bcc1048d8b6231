"""Constant-boundary city panels: renames, merges and splits of prefectures over time.

Chinese prefecture-level units change during a 2002–2019 panel: 地区 become 市 with a new
code (毕节地区 522400 → 毕节市 520500, 2011), a city is merged into another (莱芜 371200
into 济南 370100, January 2019) or abolished and split (巢湖 341400 among 合肥, 芜湖 and
马鞍山, 2011). :func:`harmonise_boundaries` maps every unit of a panel to a constant set
of prefectures over the sample years, using the validity years and successor codes of
:func:`agglomera.reference.cities`, and records every change it applies.

Kinds of change (from the reference table):

* **rename** -- the successor code was created the year after the old code was retired
  (same territory, e.g. 毕节地区 → 毕节市, 思茅地区 → 思茅市/普洱市, 469003 → 460400 儋州):
  the rows are re-keyed to the newest code, for every sample (no territory changes);
* **merge** -- the successor already existed (莱芜 → 济南): relevant when the sample
  reaches a year after the retired code's last valid year;
* **split** -- the retired unit was divided among several units (巢湖 → 合肥/芜湖/马鞍山):
  there is no single successor, so the rule must be stated.

Territory transfers between units that keep their codes (e.g. 中卫 2003 formed from
parts of 吴忠 and 固原) are not in the reference table and are not adjusted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel, _as_adcode
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["SPLITS", "BoundaryResult", "harmonise_boundaries"]

#: Retired units split among several successors (retired code → receiving codes). The
#: reference table's ``successor_adcode`` of these is the largest receiver only.
SPLITS: dict[str, tuple[str, ...]] = {
    # 巢湖 2011: 居巢区 (county-level 巢湖市) and 庐江县 → 合肥; 无为县 → 芜湖;
    # 和县 and 含山县 → 马鞍山 (国函〔2011〕84号).
    "341400": ("340100", "340200", "340500"),
}

_AGGREGATES = ("sum", "target", "recompute", "drop")
Aggregate = str | Callable[[pd.DataFrame], Any]

_CHANGE_COLUMNS = [
    "unit_from",
    "name_from",
    "unit_to",
    "name_to",
    "kind",
    "action",
    "years",
    "rows",
    "note",
]


@dataclass(frozen=True)
class BoundaryResult:
    """Result of :func:`harmonise_boundaries`.

    Attributes
    ----------
    panel : Panel
        The panel on constant boundaries; its last provenance record lists every change.
    changes : pandas.DataFrame
        One row per change applied: ``unit_from``, ``name_from``, ``unit_to``
        (``;``-separated for split shares, empty when dropped), ``name_to``, ``kind``
        (rename/merge/split/created), ``action`` (rekeyed/folded/assigned/shared/dropped/
        kept), ``years`` (span of the rows concerned), ``rows`` and ``note``.
    target_year : int
        Boundaries are those in force at the end of this year (the last sample year).
    rule : str
        The rule as given, in words.
    """

    panel: Panel
    changes: pd.DataFrame
    target_year: int
    rule: str

    def summary(self) -> str:
        """Return the provenance record of the harmonisation (one line)."""
        return self.panel.provenance[-1]

    def to_frame(self) -> pd.DataFrame:
        """Return the changes table (a copy)."""
        return self.changes.copy()


@dataclass
class _Ref:
    name: dict[str, str]
    valid_from: dict[str, int | None]
    valid_to: dict[str, int | None]
    successor: dict[str, str]


def _reference() -> _Ref:
    from agglomera import reference

    table = reference.cities()
    name = dict(zip(table["adcode"], table["name_cn"], strict=True))

    def _years(col: str) -> dict[str, int | None]:
        return {
            a: (None if pd.isna(v) else int(v))
            for a, v in zip(table["adcode"], table[col], strict=True)
        }

    successor = {
        a: str(s)
        for a, s in zip(table["adcode"], table["successor_adcode"], strict=True)
        if isinstance(s, str) and s
    }
    return _Ref(name, _years("valid_from"), _years("valid_to"), successor)


def _kind(code: str, ref: _Ref) -> str:
    if code in SPLITS:
        return "split"
    succ = ref.successor[code]
    end = ref.valid_to[code]
    if end is not None and ref.valid_from.get(succ) == end + 1:
        return "rename"
    return "merge"


def _valid(code: str, year: int, ref: _Ref) -> bool:
    start, end = ref.valid_from.get(code), ref.valid_to.get(code)
    return (start is None or start <= year) and (end is None or year <= end)


def _span(years: Iterable[int]) -> str:
    ys = sorted(set(years))
    if not ys:
        return ""
    return f"{ys[0]}" if ys[0] == ys[-1] else f"{ys[0]}–{ys[-1]}"


def harmonise_boundaries(
    panel: Panel,
    *,
    rule: str | Mapping[str, Any] = "successor",
    years: Iterable[int] | None = None,
    aggregate: Mapping[str, Aggregate] | None = None,
) -> BoundaryResult:
    """Map the units of a city panel to constant prefecture boundaries over the sample.

    Boundaries are those in force at the end of the last sample year ``T``. Renamed codes
    (same territory) are always re-keyed to the newest code. A merged or split unit is
    handled only when the sample reaches a year after its last valid year (a panel that
    ends in 2018 keeps 莱芜 as a unit of its own).

    Parameters
    ----------
    panel : Panel
        Unit column = 6-digit city adcodes (str or int), as in
        :func:`agglomera.reference.cities` (old codes such as 341400, 371200, 522400
        included).
    rule : {"successor", "drop"} or mapping, default "successor"
        ``"successor"``: merged units are folded into their successor for every year
        (莱芜 → 济南, so 济南 has 2019 boundaries throughout); split units (巢湖) have no
        single successor and are **dropped** (recorded). ``"drop"``: merged and split
        units are dropped (the receiving unit then has a boundary break, which is
        recorded). A mapping ``{retired_adcode: how}`` sets the rule per code, others
        follow ``"successor"``; ``how`` is ``"successor"``, ``"drop"``, an adcode (assign
        everything to that unit -- for a split this is an approximation and warns) or a
        mapping of shares ``{adcode: share}`` summing to 1 (user split shares, e.g.
        population shares of the receiving units). ``"successor"`` for a split code
        assigns it to the reference's largest receiver (合肥 for 巢湖) with a warning.
    years : iterable of int, optional
        The sample years (default: the panel's). Rows of other years are dropped and
        recorded; ``T`` is the largest year.
    aggregate : mapping of str to rule, optional
        How each variable is combined when units are folded or split -- required for every
        variable as soon as one fold or split is applied (ratios cannot be summed):
        ``"sum"`` (extensive variables: employment, GDP, population; split shares multiply
        the value), ``"target"`` (keep the receiving unit's own value, for labels),
        ``"recompute"`` (set to missing in the affected rows, to recompute from summed
        components, e.g. a location quotient), ``"drop"`` (remove the variable) or a
        callable ``f(frame) -> values`` evaluated on the harmonised frame, used for the
        affected rows (e.g. ``lambda f: f.emp_hi / f.emp_total``).

    Returns
    -------
    BoundaryResult
        ``.panel`` (provenance extended by one record listing every change) and
        ``.changes`` (one row per change).

    Raises
    ------
    DataError
        If a unit is not a known adcode (listing them), a renamed code and its new code
        both have a row in the same year, ``aggregate`` names a variable the panel does
        not have or sums a text column, or split shares do not sum to 1.
    SpecError
        If a rule is not allowed, or a variable has no aggregation rule while a fold or
        split is applied.

    Notes
    -----
    In a folded (unit, year) the expected members are the codes mapped to the unit that
    are valid in that year (e.g. 济南 and 莱芜 before 2019). A ``"sum"`` is the
    share-weighted sum of the members' values; it is missing when a member's value or
    row is missing (an incomplete sum is never reported as a total). Changes follow
    the State Council approvals recorded in the reference table (巢湖: 国函〔2011〕84号;
    莱芜: 国函〔2019〕4号).

    Examples
    --------
    >>> import pandas as pd
    >>> from agglomera import Panel
    >>> from agglomera.data.boundaries import harmonise_boundaries
    >>> df = pd.DataFrame({"adcode": ["370100", "371200", "370100"],
    ...                    "year": [2018, 2018, 2019], "emp": [100.0, 20.0, 125.0]})
    >>> res = harmonise_boundaries(Panel(df, unit="adcode", time="year"),
    ...                            aggregate={"emp": "sum"})
    >>> res.panel.to_wide("emp").values.tolist()
    [[120.0, 125.0]]
    """
    if not isinstance(panel, Panel):
        raise SpecError(f"panel must be an agglomera Panel; got {type(panel).__name__}.")
    ref = _reference()
    default, per_code = _parse_rule(rule, ref)
    frame = panel.to_frame()
    unit, time = panel.unit, panel.time
    original_units = frame[unit]
    codes = original_units.map(_as_adcode)
    unknown = sorted({c for c in codes.unique() if c not in ref.name})
    if unknown:
        raise DataError(
            f"harmonise_boundaries: units in {unit!r} that are not city adcodes of the "
            f"reference table: {format_examples(unknown, limit=10)}. Fix: map names to "
            "adcodes with agglomera.data.harmonise_cities(...), or remove these units."
        )
    frame[unit] = codes
    changes: list[dict[str, Any]] = []
    if not all(isinstance(v, str) for v in original_units):
        changes.append(
            _change(
                "",
                "",
                "",
                "",
                "",
                "converted",
                "",
                len(frame),
                "unit codes converted to 6-character adcode strings",
            )
        )
    if years is not None:
        wanted = sorted({int(y) for y in years})
        if not wanted:
            raise SpecError("years must hold at least one year.")
        outside = ~frame[time].isin(wanted)
        if outside.all():
            raise DataError(f"harmonise_boundaries: no rows in years {_span(wanted)}.")
        if outside.any():
            changes.append(
                _change(
                    "",
                    "",
                    "",
                    "",
                    "",
                    "dropped",
                    _span(frame.loc[outside, time]),
                    int(outside.sum()),
                    f"rows outside the sample years {_span(wanted)}",
                )
            )
            frame = frame.loc[~outside].reset_index(drop=True)
    else:
        wanted = sorted(int(t) for t in frame[time].unique())
    first, last = wanted[0], wanted[-1]

    # --- where each code goes ---------------------------------------------------------
    plan: dict[str, dict[str, float]] = {}
    folded_codes: set[str] = set()
    for code in sorted(frame[unit].unique()):
        plan[code], folded = _destination(
            code, last, default, per_code, ref, changes, frame, unit, time
        )
        if folded:
            folded_codes.add(code)

    for code in sorted(plan):
        start = ref.valid_from.get(code)
        if start is not None and start > first and code not in ref.successor:
            if any(ref.successor.get(c) == code for c in plan):
                continue
            rows = frame[unit] == code
            changes.append(
                _change(
                    code,
                    ref.name[code],
                    code,
                    ref.name[code],
                    "created",
                    "kept",
                    _span(frame.loc[rows, time]),
                    int(rows.sum()),
                    _created_note(code, start, ref),
                )
            )

    # --- build the harmonised frame ---------------------------------------------------
    long = frame.assign(
        _target=frame[unit].map(lambda c: list(plan[c].items())),
    ).explode("_target")
    long = long[long["_target"].notna()].copy()
    long["_share"] = [t[1] for t in long["_target"]]
    long["_target"] = [t[0] for t in long["_target"]]
    long["_from"] = long[unit]
    dup = long[~long["_from"].isin(folded_codes)].duplicated(["_target", time], keep=False)
    if dup.any():
        clash = long[~long["_from"].isin(folded_codes)].loc[dup, ["_from", "_target", time]]
        pairs = [f"{f}→{t} in {y}" for f, t, y in clash.head(6).itertuples(index=False, name=None)]
        raise DataError(
            "harmonise_boundaries: a renamed code and its new code both have rows in the same "
            f"year: {format_examples(pairs)}. Fix: keep one row per territory and year."
        )
    members: dict[str, set[str]] = {}
    for code, dest in plan.items():
        for target in dest:
            members.setdefault(target, {target}).add(code)
    affected_targets = {t for c in folded_codes for t in plan[c]}
    variables = panel.variables
    rules = _aggregate_rules(aggregate, variables, bool(affected_targets), frame)

    keys = long[["_target", time]].drop_duplicates()
    flags: dict[tuple[str, int], bool] = {}
    for target, year in keys.itertuples(index=False, name=None):
        if target not in affected_targets:
            continue
        expected = {c for c in members[target] if _valid(c, int(year), ref)}
        flags[(target, int(year))] = bool(expected & folded_codes)
    present_folded = long.loc[long["_from"].isin(folded_codes), ["_target", time]]
    for target, year in present_folded.itertuples(index=False, name=None):
        flags[(target, int(year))] = True
    is_aff = np.array(
        [flags.get((t, int(y)), False) for t, y in zip(long["_target"], long[time], strict=True)],
        dtype=bool,
    )
    passthrough = long.loc[~is_aff].drop(columns=[unit]).rename(columns={"_target": unit})
    passthrough = passthrough[[unit, time, *variables]]
    out_rows: list[dict[str, Any]] = []
    n_incomplete = 0
    for key, group in long.loc[is_aff].groupby(["_target", time], sort=True):
        target, year = cast(tuple[str, int], key)
        row: dict[str, Any] = {unit: target, time: int(year)}
        expected = {c for c in members[target] if _valid(c, int(year), ref)}
        incomplete = not expected <= set(group["_from"])
        n_incomplete += incomplete
        own = group[group["_from"] == target]
        for v in variables:
            how = rules[v]
            if how == "sum":
                vals = group[v].to_numpy(dtype=float) * group["_share"].to_numpy(dtype=float)
                row[v] = math.nan if incomplete or np.isnan(vals).any() else float(vals.sum())
            elif how == "target":
                row[v] = own[v].iloc[0] if len(own) else np.nan
            else:  # recompute, callable (filled below), drop (removed below)
                row[v] = np.nan
        out_rows.append(row)
    n_affected = len(out_rows)
    folded_frame = pd.DataFrame(out_rows, columns=[unit, time, *variables])
    parts = [p for p in (passthrough, folded_frame) if len(p)]
    if not parts:
        raise DataError("harmonise_boundaries: every row was dropped by the rule.")
    result = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()
    result = result.sort_values([unit, time], kind="mergesort").reset_index(drop=True)
    mask = pd.MultiIndex.from_frame(result[[unit, time]]).isin(
        pd.MultiIndex.from_frame(folded_frame[[unit, time]])
    )
    for v, how in rules.items():
        if callable(how) and mask.any():
            values = np.asarray(how(result.copy()))
            result.loc[mask, v] = values[mask]
    if affected_targets:
        result = result.drop(columns=[v for v, how in rules.items() if how == "drop"])

    agg_note = ""
    if affected_targets:
        desc = ", ".join(
            f"{v} {'by user function' if callable(h) else h}" for v, h in rules.items()
        )
        agg_note = (
            f"; {n_affected} folded unit-years ({desc}"
            + (f"; {n_incomplete} with a missing member → sums missing" if n_incomplete else "")
            + ")"
        )
    table = pd.DataFrame(changes, columns=_CHANGE_COLUMNS)
    listed = "; ".join(_describe(c) for c in changes) or "no changes needed"
    note = (
        f"harmonise_boundaries(rule={_rule_text(rule)}, years {first}–{last}, boundaries of "
        f"end-{last}): {listed}{agg_note}"
    )
    new = Panel(result, unit=unit, time=time, provenance=(*panel.provenance, note))
    return BoundaryResult(panel=new, changes=table, target_year=last, rule=_rule_text(rule))


# ---------------------------------------------------------------------- rules
def _parse_rule(rule: Any, ref: _Ref) -> tuple[str, dict[str, Any]]:
    if isinstance(rule, str):
        if rule not in ("successor", "drop"):
            raise SpecError(
                f"rule={rule!r} is not allowed; allowed: 'successor', 'drop' or a mapping "
                "{retired_adcode: 'successor' | 'drop' | adcode | {adcode: share}}."
            )
        return rule, {}
    if not isinstance(rule, Mapping):
        raise SpecError(f"rule must be 'successor', 'drop' or a mapping; got {rule!r}.")
    per_code: dict[str, Any] = {}
    for key, how in rule.items():
        code = _as_adcode(key)
        if code not in ref.successor:
            retired = sorted(ref.successor)
            raise SpecError(
                f"rule has key {key!r}, which is not a retired code of the reference table; "
                f"retired codes: {format_examples(retired, limit=len(retired))}."
            )
        if isinstance(how, Mapping):
            shares = {_as_adcode(k): float(s) for k, s in how.items()}
            bad = [k for k in shares if k not in ref.name or k in ref.successor]
            if bad:
                raise DataError(
                    f"rule[{key!r}] shares name codes that are not current city adcodes: "
                    f"{format_examples(bad)}."
                )
            total = sum(shares.values())
            if any(s < 0 for s in shares.values()) or abs(total - 1.0) > 1e-9:
                raise DataError(
                    f"rule[{key!r}] shares must be non-negative and sum to 1; they sum to "
                    f"{total:.6g}. Fix: normalise them (e.g. by the receivers' population)."
                )
            per_code[code] = shares
        elif how in ("successor", "drop"):
            per_code[code] = how
        elif isinstance(how, str | int) and _as_adcode(how) in ref.name:
            per_code[code] = _as_adcode(how)
        else:
            raise SpecError(
                f"rule[{key!r}] = {how!r} is not allowed; use 'successor', 'drop', an adcode "
                "or a mapping {adcode: share}."
            )
    return "successor", per_code


def _rule_text(rule: Any) -> str:
    if isinstance(rule, str):
        return repr(rule)
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in rule.items()) + "}"


def _destination(
    code: str,
    last: int,
    default: str,
    per_code: dict[str, Any],
    ref: _Ref,
    changes: list[dict[str, Any]],
    frame: pd.DataFrame,
    unit: str,
    time: str,
) -> tuple[dict[str, float], bool]:
    """Return ``{target: share}`` for one code (empty = dropped) and whether it is folded."""
    rows = frame[unit] == code
    span, n = _span(frame.loc[rows, time]), int(rows.sum())
    current = code
    while current in ref.successor:
        kind = _kind(current, ref)
        end = ref.valid_to[current]
        succ = ref.successor[current]
        how = per_code.get(current, "successor" if kind == "rename" else default)
        if kind == "rename":
            if how == "drop":
                changes.append(
                    _change(
                        code, ref.name[code], "", "", kind, "dropped", span, n, "dropped by rule"
                    )
                )
                return {}, False
            changes.append(
                _change(
                    code,
                    ref.name[code],
                    _final(succ, ref),
                    ref.name[_final(succ, ref)],
                    kind,
                    "rekeyed",
                    span,
                    n,
                    f"{ref.name[current]} became {ref.name[succ]} {succ} in "
                    f"{(end or 0) + 1} (same territory)",
                )
            )
            current = succ
            continue
        if end is None or end >= last:
            break  # the sample ends before the merge or split
        receivers = SPLITS.get(current, (succ,))
        recv = "/".join(receivers)
        if how == "drop" or (kind == "split" and how == "successor" and current not in per_code):
            why = (
                f"split among {recv} in {end + 1}: no single successor"
                if kind == "split"
                else f"merged into {succ} in {end + 1}; {succ} has a boundary break in {end + 1}"
            )
            changes.append(_change(code, ref.name[code], "", "", kind, "dropped", span, n, why))
            return {}, False
        if isinstance(how, dict):
            targets = ";".join(f"{k}:{v:g}" for k, v in how.items())
            changes.append(
                _change(
                    code,
                    ref.name[code],
                    targets,
                    "",
                    kind,
                    "shared",
                    span,
                    n,
                    f"{'split among ' + recv if kind == 'split' else 'merged into ' + succ}"
                    f" in {end + 1}; user shares",
                )
            )
            return dict(how), True
        target = succ if how == "successor" else how
        if kind == "merge" and target != succ:
            raise SpecError(
                f"rule[{current!r}] = {how!r}: {ref.name[current]} {current} was merged into "
                f"{succ}; use 'successor' or 'drop'."
            )
        if kind == "split":
            msg = (
                f"{ref.name[current]} {current} was split among {recv} in {end + 1}; all of "
                f"it is assigned to {target} (an approximation)"
            )
            warnings.warn(msg, UserWarning, stacklevel=3)
            changes.append(
                _change(
                    code, ref.name[code], target, ref.name[target], kind, "assigned", span, n, msg
                )
            )
        else:
            changes.append(
                _change(
                    code,
                    ref.name[code],
                    target,
                    ref.name[target],
                    kind,
                    "folded",
                    span,
                    n,
                    f"merged into {succ} in {end + 1}",
                )
            )
        return {_final(target, ref): 1.0}, True
    return {current: 1.0}, False


def _created_note(code: str, start: int, ref: _Ref) -> str:
    preds = sorted(c for c, s in ref.successor.items() if s == code)
    if preds:
        pred = ", ".join(f"{p} {ref.name[p]}" for p in preds)
        return f"code in use from {start}; earlier years would carry {pred} (not in the panel)"
    return f"unit created in {start}: no rows before (unbalanced)"


def _final(code: str, ref: _Ref) -> str:
    while code in ref.successor and _kind(code, ref) == "rename":
        code = ref.successor[code]
    return code


def _aggregate_rules(
    aggregate: Mapping[str, Aggregate] | None,
    variables: list[str],
    needed: bool,
    frame: pd.DataFrame,
) -> dict[str, Aggregate]:
    given = dict(aggregate or {})
    extra = [v for v in given if v not in variables]
    if extra:
        raise DataError(
            f"aggregate names variables that are not in the panel: {format_examples(extra)}. "
            f"Variables: {format_examples(variables, limit=20)}."
        )
    for v, how in given.items():
        if not callable(how) and how not in _AGGREGATES:
            raise SpecError(
                f"aggregate[{v!r}] = {how!r} is not allowed; use 'sum', 'target', 'recompute', "
                "'drop' or a callable f(frame) -> values."
            )
        if how == "sum" and not pd.api.types.is_numeric_dtype(frame[v]):
            raise DataError(f"aggregate[{v!r}] = 'sum' but {v!r} is not numeric.")
    if needed:
        missing = [v for v in variables if v not in given]
        if missing:
            raise SpecError(
                "units are folded or split, so every variable needs an aggregation rule; none "
                f"for {format_examples(missing, limit=20)}. Fix: aggregate={{'emp_total': "
                "'sum', 'talent_lq': 'recompute', ...}} ('sum' for extensive variables, "
                "'recompute' or a callable for ratios, 'target', 'drop')."
            )
    return {v: given.get(v, "target") for v in variables}


def _change(
    unit_from: str,
    name_from: str,
    unit_to: str,
    name_to: str,
    kind: str,
    action: str,
    years: str,
    rows: int,
    note: str,
) -> dict[str, Any]:
    return {
        "unit_from": unit_from,
        "name_from": name_from,
        "unit_to": unit_to,
        "name_to": name_to,
        "kind": kind,
        "action": action,
        "years": years,
        "rows": rows,
        "note": note,
    }


def _describe(c: dict[str, Any]) -> str:
    head = f"{c['unit_from']} {c['name_from']}".strip()
    if c["action"] in ("rekeyed", "folded", "assigned"):
        return (
            f"{head} → {c['unit_to']} {c['name_to']} {c['action']} ({c['kind']}, "
            f"{c['rows']} rows {c['years']}: {c['note']})"
        )
    if c["action"] == "shared":
        return f"{head} shared {c['unit_to']} ({c['kind']}, {c['rows']} rows {c['years']})"
    if c["action"] == "dropped" and head:
        return f"{head} dropped ({c['kind']}, {c['rows']} rows {c['years']}: {c['note']})"
    if c["action"] == "kept":
        return f"{head} kept ({c['note']})"
    return f"{c['note']} ({c['rows']} rows {c['years']})".strip()
