r"""Coupling coordination of two subsystems over a panel, and how its grade moves.

For every unit-year the coupling degree C, the comprehensive development index T and the
coordination degree D of two subsystem scores (e.g. high-tech industry agglomeration U1
and talent agglomeration U2) are computed with
:func:`agglomera.measure.coupling_coordination`; D is classified into coordination grades,
the relative development degree U1/U2 says which subsystem lags, and the grades of
consecutive years are cross-tabulated into transition matrices (overall or by region).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.checks import require_finite, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, check_choice, format_examples
from agglomera.measure.coupling import classify_grades, coupling_coordination, coupling_grades

__all__ = ["CouplingDynamics", "coupling_dynamics"]

Form = Literal["standard", "k", "corrected"]
_FORMS = ("standard", "k", "corrected")


@dataclass(frozen=True)
class CouplingDynamics:
    """Coupling coordination per unit-year and its grade transitions.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per unit-year: the unit and time columns, the region column (when given),
        the two subsystem scores, ``C``, ``T``, ``D``, ``grade`` (level, 1 = lowest),
        ``grade_en``, ``grade_zh``, ``relative`` (U1/U2) and ``lagging``
        (``"<u1 name> lagging"``, ``"<u2 name> lagging"`` or ``"synchronous"``).
    grades : pandas.DataFrame
        The grade table used (``level``, ``lower``, ``upper``, ``label_en``,
        ``label_zh``).
    unit, time : str
        Names of the unit and time columns.
    region : str or None
        Name of the region column.
    names : tuple of str
        Names of the two subsystems (used in the ``lagging`` labels).
    form : str
        ``"standard"``, ``"k"`` or ``"corrected"`` (the ``form`` of
        :func:`agglomera.measure.coupling_coordination`).
    meta : dict
        ``alpha``, ``beta``, ``k``, ``relative`` rule, ``tolerance`` and ``notes``.
    """

    frame: pd.DataFrame
    grades: pd.DataFrame
    unit: str
    time: str
    region: str | None
    names: tuple[str, str]
    form: str
    meta: dict[str, Any] = field(default_factory=dict)

    def pairs(self) -> pd.DataFrame:
        """Return the consecutive-year pairs of each unit with their grades.

        Columns: unit, ``from_time``, ``to_time``, ``from_grade``, ``to_grade`` and the
        region (its value in the first year) when given. Only pairs of adjacent periods
        (t, t + 1) count; a unit missing a year contributes no pair across the gap.
        """
        cols = [self.unit, self.time, "grade"] + ([self.region] if self.region else [])
        cur = self.frame[cols]
        nxt = cur[[self.unit, self.time, "grade"]].rename(
            columns={self.time: "to_time", "grade": "to_grade"}
        )
        cur = cur.rename(columns={self.time: "from_time", "grade": "from_grade"})
        cur = cur.assign(to_time=cur["from_time"] + 1)
        out = cur.merge(nxt, on=[self.unit, "to_time"], how="inner")
        order = [self.unit, "from_time", "to_time", "from_grade", "to_grade"]
        if self.region:
            order.append(self.region)
        return out[order].reset_index(drop=True)

    def transitions(self, by: str | None = None, *, shares: bool = False) -> pd.DataFrame:
        """Transition matrix of grades between consecutive years.

        Parameters
        ----------
        by : str, optional
            A column of :attr:`frame` (typically the region column) to tabulate by; its
            value in the origin year is used. Default: one matrix over all units.
        shares : bool, default False
            Row shares (each row sums to 1; NaN for a grade never left from) instead of
            counts.

        Returns
        -------
        pandas.DataFrame
            Rows = grade in year t (``from_grade``), columns = grade in year t + 1
            (``to_grade``), every level of :attr:`grades` in both; with ``by`` the rows are
            a MultiIndex (group, ``from_grade``).
        """
        levels = self.grades["level"].to_list()
        pairs = self.pairs()
        if by is not None:
            if by not in self.frame.columns:
                raise SpecError(
                    f"transitions: by={by!r} is not a column of the result frame; available: "
                    f"{format_examples(list(self.frame.columns), limit=12)}."
                )
            if by not in pairs.columns:
                origin = self.frame[[self.unit, self.time, by]].rename(
                    columns={self.time: "from_time"}
                )
                pairs = pairs.merge(origin, on=[self.unit, "from_time"], how="left")

        def matrix(p: pd.DataFrame) -> pd.DataFrame:
            counts = pd.crosstab(p["from_grade"], p["to_grade"]).reindex(
                index=levels, columns=levels, fill_value=0
            )
            counts.index.name, counts.columns.name = "from_grade", "to_grade"
            counts = counts.astype(np.int64)
            if not shares:
                return counts
            totals = counts.sum(axis=1).astype(float)
            return counts.div(totals.where(totals > 0), axis=0)

        if by is None:
            return matrix(pairs)
        groups = sorted(self.frame[by].dropna().unique().tolist())
        return pd.concat({g: matrix(pairs[pairs[by] == g]) for g in groups}, names=[by])

    def summary(self) -> str:
        """Return a plain-text summary: mean D by period, grades, lagging, mobility."""
        f = self.frame
        lines = [
            f"Coupling dynamics ({self.form} form) of {self.names[0]} and {self.names[1]}: "
            f"{f[self.unit].nunique()} units, {f[self.time].nunique()} periods, {len(f)} rows",
            f"mean C = {f['C'].mean():.4f}, mean T = {f['T'].mean():.4f}, "
            f"mean D = {f['D'].mean():.4f}",
            "mean D by period: "
            + ", ".join(f"{t}: {d:.4f}" for t, d in f.groupby(self.time)["D"].mean().items()),
        ]
        labels = dict(zip(self.grades["level"], self.grades["label_en"], strict=True))
        counts = f["grade"].value_counts().sort_index()
        lines += [f"  grade {lvl} {labels[lvl]}: {n}" for lvl, n in counts.items()]
        lines += [f"  {lab}: {n}" for lab, n in f["lagging"].value_counts().sort_index().items()]
        pairs = self.pairs()
        if len(pairs):
            up = int((pairs["to_grade"] > pairs["from_grade"]).sum())
            down = int((pairs["to_grade"] < pairs["from_grade"]).sum())
            lines.append(
                f"{len(pairs)} year-to-year transitions: {len(pairs) - up - down} stay, "
                f"{up} up, {down} down"
            )
        lines += [f"note: {n}" for n in self.meta.get("notes", [])]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Return :attr:`frame` (a copy)."""
        return self.frame.copy()

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


def coupling_dynamics(
    panel: Panel,
    u1: str,
    u2: str,
    *,
    form: Form | str = "standard",
    alpha: float = 0.5,
    beta: float = 0.5,
    region: str | None = None,
    grades: pd.DataFrame | Sequence[float] | None = None,
    k: float = 2,
    relative: Literal["ratio", "difference"] = "ratio",
    tolerance: float = 0.1,
    names: tuple[str, str] | None = None,
) -> CouplingDynamics:
    r"""Coupling coordination of two subsystems per unit-year, with grade transitions.

    Parameters
    ----------
    panel : Panel
        Panel with the two subsystem scores (may be unbalanced).
    u1, u2 : str
        Columns with the subsystem scores :math:`U_1, U_2 \in [0, 1]` (e.g. composite
        indices from :func:`agglomera.measure.entropy_weights`).
    form : {"standard", "k", "corrected"}, default "standard"
        Form of the coupling degree C, as in :func:`agglomera.measure.coupling_coordination`
        (``"k"``: Liao's form with the coefficient ``k``).
    alpha, beta : float, default 0.5, 0.5
        Weights of :math:`U_1` and :math:`U_2` in :math:`T = \alpha U_1 + \beta U_2`
        (non-negative, summing to 1).
    region : str, optional
        Column with a region for :meth:`CouplingDynamics.transitions` by region.
    grades : DataFrame or sequence of float, optional
        Coordination grades of D. Default: the ten grades of Liao (1999) in steps of 0.1
        (:func:`agglomera.measure.coupling_grades`, 极度失调 extreme imbalance for
        D < 0.1 up to 优质协调 quality coordination for D ≥ 0.9). A DataFrame needs columns
        ``level``, ``lower`` (increasing, the first 0) and may have ``label_en``,
        ``label_zh``; a sequence gives the interior cut points in (0, 1) (levels 1, 2, …,
        labelled ``"grade 1"``, …).
    k : float, default 2
        Adjustment coefficient of ``form="k"``.
    relative : {"ratio", "difference"}, default "ratio"
        Which subsystem lags: ``"ratio"`` compares :math:`E = U_1/U_2` with
        :math:`1 \pm` ``tolerance``; ``"difference"`` compares :math:`U_1 - U_2` with
        :math:`\pm` ``tolerance``.
    tolerance : float, default 0.1
        Band regarded as synchronous development.
    names : (str, str), optional
        Names of the subsystems in the ``lagging`` labels (default: ``u1`` and ``u2``),
        e.g. ``("industry", "talent")`` → ``"industry lagging"``.

    Returns
    -------
    CouplingDynamics
        ``frame`` (per unit-year C, T, D, grade, relative, lagging),
        ``transitions(by=None, shares=False)`` and ``summary()``.

    Raises
    ------
    DataError
        Missing, non-numeric or out-of-[0, 1] scores (naming the unit-years), a missing
        region value.
    SpecError
        Bad form, weights, grades, tolerance or names.

    Notes
    -----
    C, T and D come from :func:`agglomera.measure.coupling_coordination` (formulas and
    references there); :math:`D = \sqrt{C\,T}`. A unit-year is in grade *g* when
    ``lower_g ≤ D < lower_{g+1}`` (D rounded to 12 decimals first). The default grade
    scale is the ten-level classification of Liao (1999) used throughout the Chinese
    coupling-coordination literature (e.g. Wang Shujia et al. 2021).

    *Relative development* (Liao 1999 classifies coordination types by the lagging
    subsystem): with ``relative="ratio"``, :math:`E = U_1/U_2`; :math:`E < 1 - \tau` →
    U1 lagging, :math:`E > 1 + \tau` → U2 lagging, else synchronous (:math:`\tau` =
    ``tolerance``; 0.9–1.1 is the common band). With ``"difference"``,
    :math:`U_1 - U_2 < -\tau` → U1 lagging, :math:`> \tau` → U2 lagging.

    *Transitions*: grade in year t against grade in year t + 1 of the same unit; pairs
    across a missing year are not formed. Row shares estimate the one-step transition
    probabilities of a Markov chain on the grades.

    References
    ----------
    .. [1] Liao Chongbin (廖重斌) (1999). 环境与经济协调发展的定量评判及其分类体系——以珠江
       三角洲城市群为例. 热带地理, 19(2), 171–177.
    .. [2] Wang Shujia et al. (2021). 国内耦合协调度模型的误区及修正. 自然资源学报, 36(3),
       793–810.
    """
    require_panel(panel, "coupling_dynamics")
    if form not in _FORMS:
        raise SpecError(f"form must be 'standard', 'k' or 'corrected'; got {form!r}.")
    if u1 == u2:
        raise SpecError(f"u1 and u2 are the same column ({u1!r}).")
    check_choice("relative", relative, ("ratio", "difference"), fn="coupling_dynamics")
    if not (isinstance(tolerance, (int, float)) and 0 <= tolerance < 1):
        raise SpecError(f"tolerance must be a number in [0, 1); got {tolerance!r}.")
    if names is None:
        names = (u1, u2)
    elif isinstance(names, str) or len(names) != 2 or names[0] == names[1]:
        raise SpecError(f"names must be two different subsystem names; got {names!r}.")
    names = (str(names[0]), str(names[1]))
    table = _grade_table(grades)

    frame = panel.to_frame()
    keys = [panel.unit, panel.time]
    require_finite(
        panel, (u1, u2), "coupling_dynamics", why="Coupling coordination needs scores in [0, 1]."
    )
    for col in (u1, u2):
        values = frame[col].to_numpy(dtype=float)
        bad = (values < 0) | (values > 1)
        if bad.any():
            shown = [
                (*key, plain)
                for key, plain in zip(
                    frame.loc[bad, keys].itertuples(index=False, name=None),
                    frame.loc[bad, col].tolist(),
                    strict=True,
                )
            ]
            raise DataError(
                f"coupling_dynamics: column {col!r} has {int(bad.sum())} out-of-[0, 1] "
                f"values at ({panel.unit}, {panel.time}, value) "
                f"{format_examples(shown)}. Coupling coordination needs scores in [0, 1]. Fix: "
                "use min–max normalised composite scores."
            )
    if region is not None:
        panel.column(region)
        missing = frame[region].isna().to_numpy()
        if missing.any():
            where = list(frame.loc[missing, keys].itertuples(index=False, name=None))
            raise DataError(
                f"coupling_dynamics: region column {region!r} is missing at "
                f"({panel.unit}, {panel.time}) "
                f"{format_examples(where)}."
                " Fix: fill the region of those rows."
            )

    res = coupling_coordination(
        frame[u1].to_numpy(dtype=float),
        frame[u2].to_numpy(dtype=float),
        form=form,  # type: ignore[arg-type]
        weights=[alpha, beta],
        k=k,
        names=list(names),
    )
    pos = classify_grades(res.D, table)
    u1v, u2v = res.U.iloc[:, 0].to_numpy(), res.U.iloc[:, 1].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = u1v / u2v
    if relative == "ratio":
        low, high = u1v < (1 - tolerance) * u2v, u1v > (1 + tolerance) * u2v
    else:
        low, high = u1v - u2v < -tolerance, u1v - u2v > tolerance
    lagging = np.where(
        low, f"{names[0]} lagging", np.where(high, f"{names[1]} lagging", "synchronous")
    ).astype(object)

    out = frame[keys + ([region] if region else [])].copy()
    out[u1] = u1v
    out[u2] = u2v
    out["C"] = res.C
    out["T"] = res.T
    out["D"] = res.D
    out["grade"] = table["level"].to_numpy()[pos]
    out["grade_en"] = table["label_en"].to_numpy()[pos]
    out["grade_zh"] = table["label_zh"].to_numpy()[pos]
    out["relative"] = ratio
    out["lagging"] = lagging
    notes = list(res.meta.get("notes", []))
    return CouplingDynamics(
        frame=out.reset_index(drop=True),
        grades=table,
        unit=panel.unit,
        time=panel.time,
        region=region,
        names=names,
        form=form,
        meta={
            "alpha": float(alpha),
            "beta": float(beta),
            "k": k if form == "k" else None,
            "relative": relative,
            "tolerance": float(tolerance),
            "notes": notes,
        },
    )


def _grade_table(grades: pd.DataFrame | Sequence[float] | None) -> pd.DataFrame:
    """Validate the grade table (or build one from interior cut points)."""
    if grades is None:
        table = coupling_grades()
    elif isinstance(grades, pd.DataFrame):
        if not {"level", "lower"} <= set(grades.columns):
            raise SpecError(
                "grades must have columns 'level' and 'lower' (like "
                "agglomera.measure.coupling_grades()); got "
                f"{format_examples(list(grades.columns))}."
            )
        table = grades.reset_index(drop=True).copy()
    else:
        try:
            cuts = [float(c) for c in grades]
        except (TypeError, ValueError):
            raise SpecError(
                f"grades must be a DataFrame or a list of cut points; got {grades!r}."
            ) from None
        if not cuts or not all(0 < c < 1 for c in cuts):
            raise SpecError(f"grade cut points must lie in (0, 1); got {cuts}.")
        lowers = [0.0, *cuts]
        table = pd.DataFrame(
            {
                "level": np.arange(1, len(lowers) + 1),
                "lower": lowers,
                "upper": [*cuts, 1.0],
            }
        )
    lowers_arr = pd.to_numeric(table["lower"], errors="coerce").to_numpy(dtype=float)
    if (
        not np.all(np.isfinite(lowers_arr))
        or lowers_arr[0] != 0
        or np.any(np.diff(lowers_arr) <= 0)
        or lowers_arr[-1] >= 1
    ):
        raise SpecError(
            f"grade lower bounds must start at 0 and increase strictly below 1; got "
            f"{lowers_arr.tolist()}."
        )
    if table["level"].duplicated().any():
        raise SpecError("grade levels must be unique.")
    table["lower"] = lowers_arr
    if "upper" not in table.columns:
        table["upper"] = [*lowers_arr[1:].tolist(), 1.0]
    for col in ("label_en", "label_zh"):
        if col not in table.columns:
            table[col] = [f"grade {lvl}" for lvl in table["level"]]
    return table[["level", "lower", "upper", "label_en", "label_zh"]]
