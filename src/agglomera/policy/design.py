r"""Treatment design of a (staggered) difference-in-differences study.

:func:`design` turns a :class:`~agglomera.data.Panel` and a treatment coding into a
:class:`TreatmentDesign`: one first-treatment period (cohort) :math:`g_i` per unit, with
:math:`g_i = 0` for units never treated within the panel's window. Every estimator of
:mod:`agglomera.policy` takes the design, so the coding rule, the balance rule and every
unit removed on purpose are recorded once and carried into each result.

Notation: units :math:`i`, periods :math:`t \in \{t_1, \dots, t_T\}`, cohort
:math:`g_i`; the post-treatment indicator is :math:`D_{it} = 1[g_i > 0,\ t \ge g_i]` and
event time is :math:`e_{it} = t - g_i` (undefined for never-treated units). Treatment is
absorbing (staggered adoption): once treated, a unit stays treated.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["BALANCE_RULES", "TreatmentDesign", "design"]

#: Allowed values of ``balance``.
BALANCE_RULES: tuple[str, ...] = ("drop", "pairwise", "rcs")
_ALWAYS_RULES = ("error", "drop")

BalanceRule = Literal["drop", "pairwise", "rcs"]

_BALANCE_TEXT = {
    "drop": (
        "balance='drop': units not observed in every period were dropped (R did's default "
        "allow_unbalanced_panel = FALSE)"
    ),
    "pairwise": (
        "balance='pairwise': all units kept; each 2x2 comparison uses the units observed in "
        "both of its periods"
    ),
    "rcs": (
        "balance='rcs': rows treated as repeated cross-sections (R did's "
        "allow_unbalanced_panel = TRUE)"
    ),
}


@dataclass(frozen=True, eq=False)
class TreatmentDesign:
    r"""Cohorts, sample and conventions of a staggered DID study (built by :func:`design`).

    Attributes
    ----------
    panel : Panel
        The panel after every drop made by :func:`design` (dropped pilots, always-treated
        units when ``always_treated="drop"``, units not observed in every period when
        ``balance="drop"``).
    unit, time : str
        Names of the unit and time columns.
    units : pandas.Index
        Sorted units of :attr:`panel`.
    times : numpy.ndarray
        Sorted periods (int64) of :attr:`panel`.
    cohorts : pandas.Series
        First-treatment period per unit (int64, indexed by unit, name ``"cohort"``);
        0 = never treated within the window.
    anticipation : int
        Number of periods before :math:`g` in which units may already react. The treatment
        indicator is unaffected; estimators shift their base period to
        :math:`g - 1 - \text{anticipation}` and exclude not-yet-treated controls with
        :math:`g - \text{anticipation} \le t`.
    balance : {"drop", "pairwise", "rcs"}
        Rule for unbalanced panels (see :func:`design`).
    rule : str
        The treatment coding rule in words (with the reference registry's rule when
        ``policy=`` was used) and the balance rule.
    meta : dict
        ``source`` (``"cohort"``, ``"treatment"`` or ``"policy"``), ``column``,
        ``dropped`` (human-readable strings, one per reason), ``n_dropped_units``,
        ``dropped_units`` (dict reason → list of keys), ``after_window`` (units whose cohort
        is after the last period, coded 0), ``always_treated`` (units dropped because they
        are treated in every period they are observed), ``singleton_cohorts``,
        ``n_units``, ``n_obs``, ``balanced`` (rows) and, for ``policy=``, ``policy``,
        ``reference_rule``, ``not_in_registry`` (count of units coded never treated because
        the registry does not list them) and ``uncoded`` (the registry's note on pilots it
        cannot code).
    """

    panel: Panel = field(repr=False)
    unit: str
    time: str
    units: pd.Index = field(repr=False)
    times: np.ndarray = field(repr=False)
    cohorts: pd.Series = field(repr=False)
    anticipation: int = 0
    balance: str = "drop"
    rule: str = ""
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ cohorts
    def cohort_sizes(self) -> pd.Series:
        """Count the units of each cohort (treated cohorts only, sorted; index ``cohort``)."""
        treated = self.cohorts[self.cohorts > 0]
        sizes = treated.value_counts().sort_index()
        sizes.index = pd.Index(sizes.index.astype(np.int64), name="cohort")
        sizes.name = "n_units"
        return sizes.astype(np.int64)

    def never_treated(self) -> pd.Index:
        """Units never treated within the window (cohort 0)."""
        return pd.Index(self.cohorts.index[self.cohorts.to_numpy() == 0], name=self.unit)

    def treated_units(self) -> pd.Index:
        """Units treated within the window (cohort > 0)."""
        return pd.Index(self.cohorts.index[self.cohorts.to_numpy() > 0], name=self.unit)

    # ------------------------------------------------------------------ row-aligned series
    def _row_cohorts(self) -> np.ndarray:
        frame = self.panel.to_frame()
        return np.asarray(self.cohorts.reindex(frame[self.unit]).to_numpy(), dtype=np.int64)

    def event_time(self) -> pd.Series:
        """Event time :math:`t - g_i` aligned with ``panel.to_frame()`` rows.

        Returns
        -------
        pandas.Series
            Float (NaN for never-treated units), name ``"event_time"``.
        """
        t = self.panel.to_frame()[self.time].to_numpy(dtype=np.int64)
        g = self._row_cohorts()
        values = np.where(g > 0, (t - g).astype(float), np.nan)
        return pd.Series(values, name="event_time")

    def treated(self) -> pd.Series:
        r"""Post-treatment indicator :math:`D_{it} = 1[g_i > 0,\ t \ge g_i]` by row.

        The indicator switches on in the cohort period itself, whatever ``anticipation``
        is: anticipation only moves the estimators' base period (to
        :math:`g - 1 - \text{anticipation}`), it does not recode treatment.

        Returns
        -------
        pandas.Series
            int64 0/1 aligned with ``panel.to_frame()`` rows, name ``"treated"``.
        """
        t = self.panel.to_frame()[self.time].to_numpy(dtype=np.int64)
        g = self._row_cohorts()
        return pd.Series(((g > 0) & (t >= g)).astype(np.int64), name="treated")

    # ------------------------------------------------------------------ data access
    def _key_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the unit and time keys of every row of :attr:`panel` (its row order)."""
        unit = self.panel.column(self.unit).to_numpy()
        time = self.panel.column(self.time).to_numpy(dtype=np.int64)
        return unit, time

    def _wide_positions(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Row and column of every panel row in the units × times table.

        ``None`` when the panel is the full, sorted grid (row ``k`` is unit ``k // T``,
        period ``k % T``): a plain reshape then gives the table. Rows whose unit or period
        is not in :attr:`units` / :attr:`times` get position -1 (left out, as a pivot
        followed by a reindex leaves them out).
        """
        unit, time = self._key_arrays()
        units = self.units.to_numpy()
        times = np.asarray(self.times, dtype=np.int64)
        n_u, n_t = units.size, times.size
        if unit.size == n_u * n_t and n_u and n_t:
            grid = unit.reshape(n_u, n_t)
            if (
                np.array_equal(time.reshape(n_u, n_t), np.broadcast_to(times, (n_u, n_t)))
                and np.array_equal(grid[:, 0], units)
                and bool((grid == grid[:, :1]).all())
            ):
                return None
        # the panel is sorted by unit, then time: each unit is one run of rows
        change = np.flatnonzero(unit[1:] != unit[:-1]) + 1 if unit.size else np.zeros(0, int)
        starts = np.concatenate([[0], change]).astype(np.int64) if unit.size else change
        if starts.size == n_u and np.array_equal(unit[starts], units):
            rows = np.repeat(np.arange(n_u, dtype=np.int64), np.diff(np.append(starts, unit.size)))
        else:
            rows = np.asarray(self.units.get_indexer(pd.Index(unit)), dtype=np.int64)
        cols = np.searchsorted(times, time).astype(np.int64)
        inside = cols < n_t
        inside[inside] = times[cols[inside]] == time[inside]
        cols[~inside] = -1
        rows[cols < 0] = -1
        return rows, cols

    def _to_wide(
        self, values: np.ndarray, positions: tuple[np.ndarray, np.ndarray] | None
    ) -> np.ndarray:
        """Scatter row-aligned float ``values`` into a units × times array (NaN = no row)."""
        n_u, n_t = len(self.units), len(self.times)
        if positions is None:
            return np.array(values, dtype=float).reshape(n_u, n_t)
        rows, cols = positions
        out = np.full((n_u, n_t), np.nan)
        ok = rows >= 0
        out[rows[ok], cols[ok]] = values[ok]
        return out

    def outcome_matrix(self, outcome: str) -> pd.DataFrame:
        """Return the outcome as a units × times table.

        Parameters
        ----------
        outcome : str
            A numeric column of :attr:`panel`.

        Returns
        -------
        pandas.DataFrame
            Index :attr:`units` (in that order), columns :attr:`times`; float, NaN where a
            unit has no row in a period or its value is missing. Estimators must report
            the units they lose because of missing values.

        Raises
        ------
        DataError
            If the column does not exist or is not numeric.
        """
        if outcome not in self.panel:
            self.panel.column(outcome)  # raises DataError with close matches
        if outcome in (self.unit, self.time):
            raise DataError(f"outcome {outcome!r} is a key column of the panel.")
        values = self.panel.column(outcome)
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DataError(
                f"outcome {outcome!r} must be numeric; it has dtype {values.dtype}. Fix: "
                "convert it (and replace text placeholders by missing values)."
            )
        y = values.to_numpy(dtype=float, na_value=np.nan)
        wide = self._to_wide(y, self._wide_positions())
        index = pd.Index(self.units, name=self.unit)
        columns = pd.Index(np.asarray(self.times), name=self.time)
        return pd.DataFrame(wide, index=index, columns=columns, copy=False)

    def covariate_frame(self, controls: Sequence[str]) -> pd.DataFrame:
        """Return the unit, time and control columns of every row of :attr:`panel`.

        Parameters
        ----------
        controls : sequence of str
            Numeric columns.

        Returns
        -------
        pandas.DataFrame
            Columns ``unit``, ``time`` and the controls (float), in ``panel.to_frame()``
            row order.

        Raises
        ------
        DataError
            If a control is missing, not numeric or has missing values (listing the first
            (unit, time) keys): nothing is dropped silently.
        """
        columns: dict[str, Any] = {
            self.unit: self.panel.column(self.unit),
            self.time: self.panel.column(self.time),
        }
        frame = pd.DataFrame(columns)
        for c, values in self._control_columns(controls).items():
            frame[c] = values
        return frame

    def _control_columns(self, controls: Sequence[str]) -> dict[str, pd.Series]:
        """Validate the controls (see :meth:`covariate_frame`); return them as float columns."""
        if isinstance(controls, str):
            controls = (controls,)
        controls = list(controls)
        missing_cols = [c for c in controls if c not in self.panel]
        if missing_cols:
            self.panel.column(missing_cols[0])  # DataError with close matches
        keys = [c for c in controls if c in (self.unit, self.time)]
        if keys:
            raise DataError(f"controls {format_examples(keys)} are key columns of the panel.")
        out: dict[str, pd.Series] = {}
        for c in controls:
            values = self.panel.column(c)
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                raise DataError(
                    f"control {c!r} must be numeric; it has dtype {values.dtype}. Fix: convert "
                    "it or encode categories as dummies."
                )
            bad = values.isna().to_numpy()
            if bad.any():
                unit, time = self._key_arrays()
                rows = list(zip(unit[bad][:5].tolist(), time[bad][:5].tolist(), strict=True))
                raise DataError(
                    f"control {c!r} has {int(bad.sum())} missing values, e.g. (unit, time) "
                    f"{format_examples(rows)}. "
                    "Nothing is dropped silently. Fix: impute or drop those rows explicitly "
                    "(Panel.subset(where=...)) before building the design."
                )
            out[c] = values.astype(float)
        return out

    def _covariate_array(self, controls: Sequence[str], *, collapse: bool = False) -> np.ndarray:
        """Return the controls as a units × times × controls float array (CS estimator).

        Validates like :meth:`covariate_frame`; the rows follow :attr:`units`, the columns
        :attr:`times`, NaN where a unit has no row in a period. With ``collapse=True`` and
        every control equal in all periods of each unit (exact comparison; a missing row
        counts as a difference), the result has a single period: units × 1 × controls.
        """
        columns = self._control_columns(controls)
        positions = self._wide_positions()
        wides: list[np.ndarray] = []
        constant = collapse
        for values in columns.values():
            wide = self._to_wide(values.to_numpy(dtype=float), positions)
            if constant and bool((wide == wide[:, :1]).all()):
                wide = wide[:, :1].copy()
            elif constant:
                constant = False
                wides = [np.broadcast_to(w, wide.shape) for w in wides]
            wides.append(wide)
        if not wides:
            return np.zeros((len(self.units), 1 if collapse else len(self.times), 0))
        return np.stack(wides, axis=2)

    # ------------------------------------------------------------------ reporting
    def summary(self) -> str:
        """Return a plain-text description: window, cohorts, controls, rule and drops."""
        sizes = self.cohort_sizes()
        times = self.times
        lines = [
            f"Treatment design — {len(self.units)} units × {len(times)} periods "
            f"({times[0]}–{times[-1]}), {self.panel.n_obs} rows, balance={self.balance!r}, "
            f"anticipation={self.anticipation}",
            "  cohorts: "
            + (", ".join(f"{g}: {n}" for g, n in sizes.items()) if len(sizes) else "none"),
            f"  never treated within the window: {len(self.never_treated())}",
            f"  rule: {self.rule}",
        ]
        for note in self.meta.get("dropped", []):
            lines.append(f"  dropped: {note}")
        for note in self.meta.get("notes", []):
            lines.append(f"  note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------- constructor
def design(
    panel: Panel,
    *,
    cohort: str | None = None,
    policy: str | None = None,
    treatment: str | None = None,
    anticipation: int = 0,
    balance: BalanceRule = "drop",
    districts: Literal["municipality", "drop"] = "municipality",
    county_level: Literal["parent", "drop"] = "parent",
    unverified: Any = "drop",
    always_treated: Literal["error", "drop"] = "error",
) -> TreatmentDesign:
    r"""Build the treatment design of a staggered DID study.

    Give exactly one of ``cohort``, ``treatment`` or ``policy``.

    Parameters
    ----------
    panel : Panel
        The study panel (unit, time, outcome and controls).
    cohort : str, optional
        Column with the first-treatment period of each unit; ``0`` or missing = never
        treated. Must be constant within unit.
    policy : {"innovative_city"}, optional
        Code cohorts from the shipped registry with
        :func:`agglomera.reference.treatment_years` (``districts``, ``county_level`` and
        ``unverified`` are passed on), joined on the unit as 6-digit adcode strings. Units
        the registry lists in ``attrs["dropped"]`` are **removed** from the sample (they
        are valid neither as treated nor as controls) and recorded; units not in the
        registry are never treated.
    treatment : str, optional
        A 0/1 column ``D_it``; the cohort is the first period with ``D = 1``. It is an
        error when ``D`` switches off again (the estimators assume absorbing treatment).
    anticipation : int, default 0
        Periods of anticipation :math:`\delta \ge 0`; estimators use
        :math:`g - 1 - \delta` as the base period.
    balance : {"drop", "pairwise", "rcs"}, default "drop"
        Rule for units not observed in every period. ``"drop"`` balances the panel by
        dropping them — the default of R ``did`` (``allow_unbalanced_panel = FALSE``), so
        that the estimand matches R's; ``"pairwise"`` keeps every unit and each 2×2
        comparison uses the units observed in both of its periods; ``"rcs"`` treats the
        rows as repeated cross-sections (R ``did``'s ``allow_unbalanced_panel = TRUE``).
        Units with a *missing outcome value* (a row that exists) are not dropped here: see
        :meth:`TreatmentDesign.outcome_matrix`.
    districts, county_level, unverified
        Coding rules of :func:`agglomera.reference.treatment_years` (``policy=`` only).
    always_treated : {"error", "drop"}, default "error"
        Units treated in every period in which they are observed (cohort at or before
        their first period; for a balanced panel, :math:`0 < g_i \le t_1`) have no
        untreated period: an error by default, or dropped and recorded with ``"drop"``.

    Returns
    -------
    TreatmentDesign

    Raises
    ------
    SpecError
        For a bad argument value, or not exactly one of ``cohort``/``treatment``/``policy``.
    DataError
        When a cohort is not constant within unit, is not an integer period, a treatment
        indicator switches off, units are always treated (``always_treated="error"``),
        there is no treated unit, or there is no untreated comparison group (neither
        never-treated nor not-yet-treated units). Messages name the units.

    Warns
    -----
    UserWarning
        For cohorts with a single unit (their effects rest on one unit; clustered
        inference is fragile).

    Notes
    -----
    Cohorts later than the last period are coded 0 (never treated within the window) and
    listed in ``meta["after_window"]``; with ``anticipation > 0``, units with
    :math:`t_T < g_i \le t_T + \delta` may already react inside the window and are dropped
    (recorded). Treatment is assumed absorbing (staggered adoption; Callaway and
    Sant'Anna 2021; Sun and Abraham 2021).

    Examples
    --------
    >>> from agglomera import datasets, policy
    >>> ex = datasets.innovative_city("prefecture", seed=0)
    >>> d = policy.design(ex.panel, policy="innovative_city")
    >>> int(d.cohorts.loc["440300"])
    2008
    """
    if not isinstance(panel, Panel):
        raise SpecError(
            f"design() needs an agglomera Panel; got {type(panel).__name__}. Fix: "
            "agglomera.Panel(df, unit=..., time=...)."
        )
    given = [n for n, v in (("cohort", cohort), ("treatment", treatment), ("policy", policy)) if v]
    if len(given) != 1:
        raise SpecError(
            "design() needs exactly one of cohort=<first-treatment column>, "
            "treatment=<0/1 column> or policy='innovative_city'; got "
            + (", ".join(given) if given else "none")
            + "."
        )
    if balance not in BALANCE_RULES:
        raise SpecError(
            f"balance={balance!r} is not allowed; allowed: {format_examples(BALANCE_RULES)}."
        )
    if always_treated not in _ALWAYS_RULES:
        raise SpecError(
            f"always_treated={always_treated!r} is not allowed; allowed: "
            f"{format_examples(_ALWAYS_RULES)}."
        )
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)):
        raise SpecError(f"anticipation must be a non-negative integer; got {anticipation!r}.")
    anticipation = int(anticipation)
    if anticipation < 0:
        raise SpecError(f"anticipation must be a non-negative integer; got {anticipation}.")

    unit, time = panel.unit, panel.time
    frame = panel.to_frame()
    meta: dict[str, Any] = {"dropped_units": {}, "notes": []}
    drop_keys: dict[str, list[Any]] = {}

    if cohort is not None:
        raw = _cohorts_from_column(frame, unit, cohort)
        rule = (
            f"cohort: first-treatment period from column {cohort!r} (0 or missing = never treated)"
        )
        meta.update(source="cohort", column=cohort)
    elif treatment is not None:
        raw = _cohorts_from_indicator(frame, unit, time, treatment)
        rule = (
            f"cohort: first period with {treatment!r} = 1 (absorbing treatment; units never "
            "at 1 are never treated)"
        )
        meta.update(source="treatment", column=treatment)
    else:
        raw, rule, removed = _cohorts_from_policy(
            frame, unit, str(policy), districts, county_level, unverified, meta
        )
        if removed:
            drop_keys["removed by the pilot coding rule (partly treated or unverified year)"] = (
                removed
            )

    # ---- drop the registry's excluded units first
    dropped_now = {u for keys in drop_keys.values() for u in keys}
    keep = raw.index[~raw.index.isin(list(dropped_now))]
    raw = raw.loc[keep]

    t_first, t_last = int(panel.times.min()), int(panel.times.max())

    # ---- cohorts after the window
    after = raw[(raw > t_last + anticipation)]
    if len(after):
        meta["after_window"] = list(after.index)
        meta["notes"].append(
            f"{len(after)} units with first treatment after the last period {t_last} are coded "
            f"never treated within the window: {_listing(_labels(after))}"
        )
        raw = raw.where(~raw.index.isin(after.index), 0)
    else:
        meta["after_window"] = []
    anticipating = raw[(raw > t_last) & (raw <= t_last + anticipation)]
    if len(anticipating):
        drop_keys[
            f"first treatment after {t_last} but within the anticipation horizon "
            f"({anticipation}): neither treated nor clean controls"
        ] = list(anticipating.index)
        raw = raw.drop(anticipating.index)

    # ---- balance
    obs = frame.groupby(unit, sort=True)[time].agg(["min", "size"])
    obs = obs.loc[raw.index]
    if balance == "drop":
        short = obs.index[obs["size"].to_numpy() < len(panel.times)]
        if len(short):
            drop_keys[
                f"not observed in every period {t_first}–{t_last} (balance='drop', R did's default)"
            ] = list(short)
            raw = raw.drop(short)
            obs = obs.drop(short)

    # ---- always treated (treated in every observed period)
    first_obs = obs["min"].to_numpy(dtype=np.int64)
    g_arr = raw.to_numpy(dtype=np.int64)
    always = raw.index[(g_arr > 0) & (g_arr <= first_obs)]
    if len(always):
        desc = [f"{_key(u)} (cohort {int(raw.loc[u])})" for u in always]
        if always_treated == "error":
            raise DataError(
                f"{len(always)} units are treated in every period in which they are observed "
                f"(cohort at or before their first period; the panel starts in {t_first}): "
                f"{_listing(desc)}. They have no untreated period, so no DID "
                "comparison identifies their effect. Fix: design(..., always_treated='drop') "
                "to drop and record them, or extend the panel backwards."
            )
        drop_keys[
            "treated in every observed period (cohort <= first period; always_treated='drop')"
        ] = list(always)
        meta["always_treated"] = list(always)
        raw = raw.drop(always)
    else:
        meta["always_treated"] = []

    # ---- the sample after drops
    all_dropped = [u for keys in drop_keys.values() for u in keys]
    if all_dropped:
        remaining = [u for u in panel.units if u not in set(all_dropped)]
        if not remaining:
            raise DataError("design(): every unit was dropped; see the rules above.")
        panel = panel.subset(units=remaining)
        panel = _note(panel, f"design: dropped {len(set(all_dropped))} units")
    cohorts = raw.reindex(panel.units).astype(np.int64)
    cohorts.name = "cohort"
    cohorts.index.name = unit

    _check_comparisons(cohorts, anticipation)
    sizes = cohorts[cohorts > 0].value_counts().sort_index()
    singletons = [int(g) for g in sizes.index[sizes.to_numpy() == 1]]
    meta["singleton_cohorts"] = singletons
    if singletons:
        members = [f"{g}: {_key(cohorts.index[cohorts.to_numpy() == g][0])}" for g in singletons]
        warnings.warn(
            f"cohorts with a single unit: {_listing(members)}. Their effects rest on "
            "one unit and clustered standard errors are unreliable for them.",
            UserWarning,
            stacklevel=2,
        )

    dropped_text = [
        f"{len(keys)} units {reason}: {format_examples(_plain(keys))}"
        for reason, keys in drop_keys.items()
        if keys
    ]
    meta["dropped"] = dropped_text
    meta["dropped_units"] = {reason: _plain(keys) for reason, keys in drop_keys.items()}
    meta["n_dropped_units"] = len(set(all_dropped))
    meta["n_units"] = len(panel.units)
    meta["n_obs"] = panel.n_obs
    meta["balanced"] = panel.is_balanced
    full_rule = f"{rule}; {_BALANCE_TEXT[balance]}"
    if anticipation:
        full_rule += f"; anticipation = {anticipation} period(s)"
    return TreatmentDesign(
        panel=panel,
        unit=unit,
        time=time,
        units=pd.Index(panel.units, name=unit),
        times=panel.times,
        cohorts=cohorts,
        anticipation=anticipation,
        balance=balance,
        rule=full_rule,
        meta=meta,
    )


# ---------------------------------------------------------------------- cohort sources
def _cohorts_from_column(frame: pd.DataFrame, unit: str, column: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(f"cohort column {column!r} not found; available: {list(frame.columns)}.")
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise DataError(
            f"cohort column {column!r} must hold first-treatment periods (e.g. 2010; 0 or "
            f"missing = never treated); it has dtype {values.dtype}. If it is a 0/1 "
            f"treatment indicator, use design(..., treatment={column!r}) instead."
        )
    arr = values.to_numpy(dtype=float)
    arr = np.where(np.isnan(arr), 0.0, arr)
    bad = (arr != np.round(arr)) | (arr < 0) | ~np.isfinite(arr)
    if bad.any():
        rows = frame.loc[bad, [unit, column]].head(5)
        raise DataError(
            f"cohort column {column!r} must hold whole non-negative periods; got "
            f"{format_examples(list(rows.itertuples(index=False, name=None)))} (unit, value)."
        )
    if set(np.unique(arr).tolist()) <= {0.0, 1.0} and (arr == 1).any():
        raise DataError(
            f"cohort column {column!r} holds only 0 and 1: it looks like a treatment "
            f"indicator, not first-treatment periods. Fix: design(..., treatment={column!r})."
        )
    tmp = pd.DataFrame({"u": frame[unit].to_numpy(), "g": arr})
    span = tmp.groupby("u", sort=True)["g"].agg(["min", "max"])
    varying = span.index[span["min"].to_numpy() != span["max"].to_numpy()]
    if len(varying):
        desc = [f"{_key(u)}: {int(span.loc[u, 'min'])}..{int(span.loc[u, 'max'])}" for u in varying]
        raise DataError(
            f"cohort column {column!r} must be constant within unit (the first-treatment "
            f"period); it varies for {len(varying)} units: {_listing(desc)}. If the "
            "column was built from a 0/1 indicator that switches on and off, pass that "
            f"indicator as design(..., treatment='<0/1 column>') instead, which checks it."
        )
    out = span["min"].astype(np.int64)
    out.index.name = unit
    return out


def _cohorts_from_indicator(frame: pd.DataFrame, unit: str, time: str, column: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(f"treatment column {column!r} not found; available: {list(frame.columns)}.")
    values = frame[column]
    if values.isna().any():
        rows = frame.loc[values.isna().to_numpy(), [unit, time]].head(5)
        raise DataError(
            f"treatment column {column!r} has missing values at (unit, time) "
            f"{format_examples(list(rows.itertuples(index=False, name=None)))}. Fix: code "
            "them 0 or 1."
        )
    arr = values.to_numpy(dtype=float)
    if not set(np.unique(arr).tolist()) <= {0.0, 1.0}:
        raise DataError(
            f"treatment column {column!r} must be 0/1; it holds "
            f"{format_examples(sorted(set(np.unique(arr).tolist()) - {0.0, 1.0}))}. If it "
            f"holds first-treatment periods, use design(..., cohort={column!r})."
        )
    tmp = pd.DataFrame({"u": frame[unit].to_numpy(), "t": frame[time].to_numpy(), "d": arr})
    tmp = tmp.sort_values(["u", "t"], kind="mergesort")
    running = tmp.groupby("u", sort=False)["d"].cummax().to_numpy()
    off = (running == 1) & (tmp["d"].to_numpy() == 0)
    if off.any():
        bad = tmp.loc[off, ["u", "t"]].drop_duplicates("u").head(5)
        raise DataError(
            f"treatment column {column!r} switches off (1 then 0) for "
            f"{tmp.loc[off, 'u'].nunique()} units, e.g. (unit, first period back at 0) "
            f"{format_examples(list(bad.itertuples(index=False, name=None)))}. The "
            "staggered estimators assume absorbing treatment. Fix: recode the indicator to "
            "stay 1 after first treatment (an intention-to-treat coding) or study the "
            "switching units separately."
        )
    first = tmp[tmp["d"] == 1].groupby("u", sort=True)["t"].min()
    units = pd.Index(tmp["u"].unique()).sort_values()
    out = first.reindex(units).fillna(0).astype(np.int64)
    out.index.name = unit
    return out


def _cohorts_from_policy(
    frame: pd.DataFrame,
    unit: str,
    policy: str,
    districts: Any,
    county_level: Any,
    unverified: Any,
    meta: dict[str, Any],
) -> tuple[pd.Series, str, list[Any]]:
    from agglomera import reference

    years = reference.treatment_years(
        policy, districts=districts, county_level=county_level, unverified=unverified
    )
    registry = {str(k): int(v) for k, v in years.items()}
    dropped = {str(a) for a in years.attrs.get("dropped", [])}
    units = pd.Index(frame[unit].unique()).sort_values()
    codes = [_adcode(u) for u in units]
    g = np.array([registry.get(c, 0) for c in codes], dtype=np.int64)
    removed = [u for u, c in zip(units, codes, strict=True) if c in dropped]
    reasons = years.attrs.get("dropped_reasons", {})
    meta.update(
        source="policy",
        policy=policy,
        reference_rule=str(years.attrs.get("rule", "")),
        uncoded=str(years.attrs.get("uncoded", "")),
        not_in_registry=int(sum(c not in registry and c not in dropped for c in codes)),
        removed_reasons={
            str(u): str(reasons.get(c, ""))
            for u, c in zip(units, codes, strict=True)
            if c in dropped
        },
    )
    if not (g > 0).any() and not removed:
        raise DataError(
            f"no unit of the panel's {unit!r} column is a {policy} pilot (first units: "
            f"{format_examples(list(units[:5]))}). Units are matched as 6-digit adcode "
            "strings. Fix: map city names to adcodes with agglomera.data.harmonise_cities."
        )
    rule = (
        f"cohort: first pilot year from reference.treatment_years({policy!r}, "
        f"districts={districts!r}, county_level={county_level!r}, unverified={unverified!r}) "
        f"joined on {unit!r} as adcodes; units not in the registry are never treated; "
        f"reference rule: {meta['reference_rule']}"
    )
    out = pd.Series(g, index=units, name="cohort")
    out.index.name = unit
    return out, rule, removed


# ---------------------------------------------------------------------- checks and helpers
def _check_comparisons(cohorts: pd.Series, anticipation: int) -> None:
    g = cohorts.to_numpy(dtype=np.int64)
    treated = g[g > 0]
    if treated.size == 0:
        raise DataError(
            "no unit is treated within the window: every cohort is 0 (after the drops "
            "recorded in the design). Fix: check the cohort coding and the panel's years."
        )
    if (g == 0).any():
        return
    # not-yet-treated comparison: some cohort still untreated (incl. anticipation) when
    # the earliest cohort is first treated
    g_min = int(treated.min())
    if not (treated - anticipation > g_min).any():
        raise DataError(
            f"no untreated comparison units: no unit is never treated and every treated unit "
            f"is treated from {g_min} on (cohorts: {sorted(set(treated.tolist()))}"
            + (f", anticipation {anticipation}" if anticipation else "")
            + "), so neither never-treated nor not-yet-treated units exist. Fix: add "
            "never-treated units or extend the panel."
        )


def _adcode(value: Any) -> str:
    if isinstance(value, (int, np.integer)):
        return f"{int(value):06d}"
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return f"{int(value):06d}"
    return str(value).strip()


def _plain(keys: Sequence[Any]) -> list[Any]:
    return [k.item() if hasattr(k, "item") else k for k in keys]


def _labels(series: pd.Series) -> list[str]:
    return [f"{_key(u)} ({int(v)})" for u, v in series.items()]


def _listing(items: Sequence[str], limit: int = 5) -> str:
    """Join pre-formatted descriptions, showing the first ``limit`` and a count of the rest."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return f"{shown} (and {len(items) - limit} more)" if len(items) > limit else shown


def _key(value: Any) -> str:
    """Repr of a unit key as a plain Python scalar (``'a'``, ``8001``)."""
    return repr(value.item() if hasattr(value, "item") else value)


def _note(panel: Panel, text: str) -> Panel:
    """Return ``panel`` with a provenance record added (no data change)."""
    return panel.with_columns(note=text)
