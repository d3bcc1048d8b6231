r"""Robustness helpers: derived treatment designs for the standard DID checks.

Each helper takes a :class:`~agglomera.policy.design.TreatmentDesign` and returns a **new**
design (the input is never modified) whose ``meta["robustness"]`` lists every change as a
dict (``check``, ``description`` and the details) and whose ``meta["dropped"]`` gains a
human-readable line per drop, so that every estimate on it carries the record:

- :func:`exclude` — drop units (e.g. the four municipalities, or cities under a concurrent
  policy listed in a user registry) or periods;
- :func:`fake_timing` — the fake-timing (in-time placebo) test: treatment moved ``k``
  periods earlier on the pre-treatment sample;
- :func:`drop_never_treated` — identify from timing only (not-yet-treated comparisons).

*Alternative outcomes* need no helper: call
:func:`~agglomera.policy.estimate` with another outcome column on the same design.

The derived design is rebuilt with :func:`~agglomera.policy.design.design` from the
cohorts of the input design (``cohort=``), with the same anticipation and balance rule, so
every check of the constructor runs again (e.g. cohorts that fall after the new last
period are coded never treated and noted; units treated in every remaining period are
dropped with ``always_treated="drop"`` and recorded).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples
from agglomera.policy.design import TreatmentDesign, design

__all__ = ["drop_never_treated", "exclude", "fake_timing", "rebuild_design"]

_COHORT_COL = "_agglomera_cohort"
#: City-level adcodes of the four municipalities (Beijing, Tianjin, Shanghai, Chongqing).
MUNICIPALITIES: tuple[str, ...] = ("110100", "120100", "310100", "500100")


def rebuild_design(
    base: TreatmentDesign,
    panel: Panel,
    *,
    record: dict[str, Any],
    cohorts: pd.Series | None = None,
    balance: str | None = None,
    quiet: bool = False,
) -> TreatmentDesign:
    """Rebuild a design on a changed panel, keeping the base design's conventions.

    Parameters
    ----------
    base : TreatmentDesign
        The design whose cohorts, anticipation and balance rule are kept.
    panel : Panel
        The new panel (a subset of ``base.panel``, possibly with new columns).
    record : dict
        The change, stored in ``meta["robustness"]``; needs ``check`` and ``description``.
    cohorts : pandas.Series, optional
        New cohorts by unit (default: ``base.cohorts``).
    balance : str, optional
        New balance rule (default: ``base.balance``).
    quiet : bool, default False
        Suppress the constructor's warnings (single-unit cohorts), e.g. inside loops.

    Returns
    -------
    TreatmentDesign
        ``meta`` = the base meta updated by the new constructor's, with ``robustness``
        (list of records) and ``dropped`` (base drops, this change, new drops).
    """
    if _COHORT_COL in panel:
        raise DataError(f"the panel already has a column {_COHORT_COL!r}; rename it.")
    g = base.cohorts if cohorts is None else cohorts
    frame = panel.to_frame()
    values = g.reindex(frame[panel.unit]).to_numpy(dtype=float)
    work = panel.with_columns(note=f"robustness: {record['check']}", **{_COHORT_COL: values})
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore", UserWarning)
        new = design(
            work,
            cohort=_COHORT_COL,
            anticipation=base.anticipation,
            balance=balance or base.balance,  # type: ignore[arg-type]
            always_treated="drop",
        )
    keep_cols = [c for c in work.to_frame().columns if c != _COHORT_COL]
    clean = new.panel.subset(variables=[c for c in keep_cols if c not in (panel.unit, panel.time)])
    meta = dict(base.meta)
    meta.update({k: v for k, v in new.meta.items() if k not in ("dropped", "dropped_units")})
    meta["robustness"] = [*base.meta.get("robustness", []), record]
    new_drops = [d.replace(f"'{_COHORT_COL}'", "the cohorts") for d in new.meta.get("dropped", [])]
    meta["dropped"] = [*base.meta.get("dropped", []), record["description"], *new_drops]
    units_meta = dict(base.meta.get("dropped_units", {}))
    units_meta.update(new.meta.get("dropped_units", {}))
    if record.get("units"):
        units_meta[record["description"]] = list(record["units"])
    meta["dropped_units"] = units_meta
    notes = [*base.meta.get("notes", []), *new.meta.get("notes", [])]
    meta["notes"] = list(dict.fromkeys(notes))
    rule = base.rule + f"; robustness: {record['description']}"
    return TreatmentDesign(
        panel=clean,
        unit=new.unit,
        time=new.time,
        units=new.units,
        times=new.times,
        cohorts=new.cohorts,
        anticipation=new.anticipation,
        balance=new.balance,
        rule=rule,
        meta=meta,
    )


def exclude(
    design: TreatmentDesign,
    *,
    units: Any = None,
    periods: Iterable[int] | None = None,
) -> TreatmentDesign:
    """Drop units or periods from a design (exclusion checks).

    Parameters
    ----------
    design : TreatmentDesign
        The design.
    units : None, "municipalities", sequence of unit keys or pandas.DataFrame, optional
        Units to drop. ``"municipalities"`` = Beijing, Tianjin, Shanghai and Chongqing
        (city-level adcodes 110100, 120100, 310100, 500100; the usual check that the
        provincial-level cities do not drive the result). A DataFrame is a user registry
        of a *concurrent policy* (e.g. low-carbon or smart-city pilots): every unit listed
        in its column named like the design's unit (or ``"adcode"``) is dropped, whatever
        its year, so that the remaining treated and control units are not exposed to it.
        Keys that are not in the design are ignored and counted in the record.
    periods : iterable of int, optional
        Periods to drop (e.g. the 2008–2009 financial crisis). Cohorts after the new last
        period become never treated (noted); units treated in every remaining period are
        dropped and recorded.

    Returns
    -------
    TreatmentDesign
        ``meta["robustness"][-1]`` = ``{"check": "exclude", "description", "units",
        "periods", "not_in_design"}``.

    Raises
    ------
    SpecError
        If neither ``units`` nor ``periods`` is given, or ``units`` has an unsupported type.
    DataError
        If a registry frame has no unit column, a period is not in the design, or no
        treated unit or comparison unit is left.
    """
    if units is None and periods is None:
        raise SpecError("exclude(): give units=... and/or periods=...; both are None.")
    keys = _unit_keys(design, units)
    present = [u for u in design.units if _as_key(u) in {_as_key(k) for k in keys}]
    not_in = len({_as_key(k) for k in keys}) - len(present)
    drop_t: list[int] = []
    if periods is not None:
        drop_t = sorted({int(t) for t in periods})
        unknown = sorted(set(drop_t) - set(design.times.tolist()))
        if unknown:
            raise DataError(
                f"exclude(periods=...): {format_examples(unknown)} not in the design's periods "
                f"{int(design.times[0])}–{int(design.times[-1])}."
            )
    keep_units = [u for u in design.units if u not in set(present)]
    keep_times = [int(t) for t in design.times if int(t) not in set(drop_t)]
    if not keep_units or not keep_times:
        raise DataError("exclude(): nothing left after the exclusions.")
    panel = design.panel.subset(
        units=keep_units if present else None, times=keep_times if drop_t else None
    )
    label = "municipalities" if isinstance(units, str) else "listed units"
    parts = []
    if units is not None:
        parts.append(f"excluded {len(present)} {label}: {format_examples(_plain(present))}")
    if drop_t:
        parts.append(f"excluded periods {format_examples(drop_t)}")
    record = {
        "check": "exclude",
        "description": "; ".join(parts),
        "units": _plain(present),
        "periods": drop_t,
        "not_in_design": int(not_in),
    }
    return rebuild_design(design, panel, record=record)


def fake_timing(
    design: TreatmentDesign,
    years: int = 2,
    *,
    sample: str = "pre_treatment",
) -> TreatmentDesign:
    r"""Fake-timing (in-time placebo) design: treatment moved ``years`` periods earlier.

    Every treated unit gets the placebo cohort :math:`\tilde g_i = g_i - k`. The sample is
    restricted so that no true treatment period enters (the usual practice, e.g. Topalova
    2010; Cai, Chen and Gong 2016, *Journal of Comparative Economics*):

    - ``sample="pre_treatment"`` (default): treated units keep only their rows with
      :math:`t < g_i` (never-treated units keep every row). The panel becomes unbalanced
      by construction, so a design with ``balance="drop"`` is rebuilt with
      ``balance="pairwise"`` (each 2×2 comparison uses the units observed in both of its
      periods; TWFE uses all rows) — recorded;
    - ``sample="window"``: keep only the periods before the earliest true cohort
      (:math:`t < \min_i g_i`), a balanced panel; placebo cohorts falling after that
      window become never treated.

    The placebo estimate should be close to zero: a significant effect signals pre-trends
    or anticipation. Placebo cohorts at or before the first period are always treated and
    dropped (recorded).

    Parameters
    ----------
    design : TreatmentDesign
        The design.
    years : int, default 2
        Shift :math:`k \ge 1`.
    sample : {"pre_treatment", "window"}, default "pre_treatment"
        Sample restriction (see above).

    Returns
    -------
    TreatmentDesign
        ``meta["robustness"][-1]`` = ``{"check": "fake_timing", "years", "sample",
        "description", "rows_dropped"}``.

    Raises
    ------
    SpecError
        For ``years < 1`` or an unknown ``sample``.
    DataError
        When no placebo-treated unit with an untreated period is left.
    """
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise SpecError(f"years must be a positive integer (the shift k); got {years!r}.")
    if sample not in ("pre_treatment", "window"):
        raise SpecError(f"sample={sample!r} is not allowed; allowed: 'pre_treatment', 'window'.")
    k = int(years)
    g = design.cohorts
    fake = g.where(g == 0, g - k).astype(np.int64)
    frame = design.panel.to_frame()
    t = frame[design.time].to_numpy(dtype=np.int64)
    g_row = g.reindex(frame[design.unit]).to_numpy(dtype=np.int64)
    balance: str | None = None
    if sample == "pre_treatment":
        keep = (g_row == 0) | (t < g_row)
        if design.balance == "drop":
            balance = "pairwise"
    else:
        first = int(g[g > 0].min())
        keep = t < first
    panel = design.panel.subset(where=keep)
    desc = (
        f"fake timing: treatment moved {k} period(s) earlier; sample = "
        + (
            "rows before each treated unit's true first treatment (never treated: all rows)"
            if sample == "pre_treatment"
            else f"periods before the earliest true cohort {int(g[g > 0].min())}"
        )
        + (" (balance='pairwise')" if balance else "")
    )
    record = {
        "check": "fake_timing",
        "years": k,
        "sample": sample,
        "description": desc,
        "rows_dropped": int((~keep).sum()),
    }
    return rebuild_design(design, panel, record=record, cohorts=fake, balance=balance)


def drop_never_treated(design: TreatmentDesign) -> TreatmentDesign:
    """Drop the never-treated units: identification from treatment timing only.

    Estimators then need not-yet-treated comparisons (``control_group="notyet"`` for CS;
    TWFE and BJS use them automatically; Sun–Abraham needs ``control_group="last"``).

    Parameters
    ----------
    design : TreatmentDesign
        The design.

    Returns
    -------
    TreatmentDesign
        ``meta["robustness"][-1]`` = ``{"check": "drop_never_treated", "units", ...}``.

    Raises
    ------
    DataError
        When the design has no never-treated unit, or no not-yet-treated comparison is left
        (a single cohort).
    """
    never = design.never_treated()
    if len(never) == 0:
        raise DataError("drop_never_treated(): the design has no never-treated units.")
    keep = [u for u in design.units if u not in set(never)]
    if not keep:
        raise DataError("drop_never_treated(): every unit is never treated.")
    panel = design.panel.subset(units=keep)
    record = {
        "check": "drop_never_treated",
        "description": f"dropped the {len(never)} never-treated units",
        "units": _plain(list(never)),
    }
    return rebuild_design(design, panel, record=record)


# ---------------------------------------------------------------------- helpers
def _unit_keys(design: TreatmentDesign, units: Any) -> list[Any]:
    if units is None:
        return []
    if isinstance(units, str):
        if units != "municipalities":
            raise SpecError(
                f"units={units!r} is not allowed; allowed: None, 'municipalities', a sequence "
                "of unit keys or a registry DataFrame with a unit column."
            )
        return list(MUNICIPALITIES)
    if isinstance(units, pd.DataFrame):
        for col in (design.unit, "adcode"):
            if col in units.columns:
                return list(units[col].dropna().unique())
        raise DataError(
            f"exclude(units=<registry frame>): the frame needs a column {design.unit!r} or "
            f"'adcode'; it has {format_examples(list(units.columns))}."
        )
    if isinstance(units, (Sequence, pd.Index, np.ndarray, set)):
        return list(units)
    raise SpecError(
        f"units must be None, 'municipalities', a sequence of unit keys or a DataFrame; got "
        f"{type(units).__name__}."
    )


def _as_key(value: Any) -> str:
    if isinstance(value, (int, np.integer)):
        return f"{int(value):06d}"
    return str(value).strip()


def _plain(keys: Sequence[Any]) -> list[Any]:
    return [k.item() if hasattr(k, "item") else k for k in keys]
