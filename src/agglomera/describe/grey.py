r"""Grey relational analysis (Deng's grey incidence): which factors move with the system.

A reference ("system behaviour") sequence :math:`x_0(k)` — e.g. the high-tech talent
location quotient over the years — is compared with candidate factor sequences
:math:`x_i(k)`, :math:`k = 1, \dots, n`; the grey relational grade :math:`r_i` ranks the
factors by how closely their (normalised) paths follow the reference. It is a descriptive
similarity index for short series, not a test: it has no sampling distribution.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.checks import require_finite
from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, check_choice, format_examples

__all__ = ["NORMALISATIONS", "GreyResult", "grey_relational"]

#: Allowed values of ``normalise``.
NORMALISATIONS: tuple[str, ...] = ("initial", "mean", "minmax", "none")

Normalise = Literal["initial", "mean", "minmax", "none"]
Extremes = Literal["pooled", "per_candidate"]


@dataclass(frozen=True)
class GreyResult:
    r"""Grey relational grades (from :func:`grey_relational`).

    Attributes
    ----------
    grades : pandas.DataFrame
        One row per (group,) candidate: the ``by`` column when given, ``candidate``,
        ``grade`` (:math:`r_i`, in (0, 1]), ``rank`` (1 = closest to the reference, within
        group; ties share the lower rank). Sorted by group and rank.
    coefficients : pandas.DataFrame
        Long table: (group,) ``point`` (row label: the time for a Panel, else the index),
        ``candidate``, ``reference_value`` and ``candidate_value`` (normalised), ``delta``
        (:math:`\Delta_i(k)`) and ``xi`` (:math:`\xi_i(k)`).
    extremes : pandas.DataFrame
        :math:`\Delta_{min}`, :math:`\Delta_{max}` used (per group, and per candidate when
        ``extremes="per_candidate"``).
    meta : dict
        ``reference``, ``candidates``, ``rho``, ``normalise``, ``extremes``, ``by``,
        ``n_points`` and ``notes``.
    """

    grades: pd.DataFrame = field(repr=False)
    coefficients: pd.DataFrame = field(repr=False)
    extremes: pd.DataFrame = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return :attr:`grades` (a copy)."""
        return self.grades.copy()

    def summary(self) -> str:
        """Return the ranked grades as text with the conventions."""
        head = (
            f"Grey relational analysis — reference {self.meta['reference']!s}; "
            f"rho = {self.meta['rho']:g}, normalise = {self.meta['normalise']!r}, "
            f"extremes = {self.meta['extremes']!r}"
        )
        lines = [head, self.grades.to_string(index=False, float_format="%.6f")]
        lines.extend(f"  note: {n}" for n in self.meta.get("notes", []))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def grey_relational(
    data: pd.DataFrame | Panel,
    reference: str,
    candidates: Sequence[str],
    *,
    rho: float = 0.5,
    normalise: Normalise = "initial",
    by: str | None = None,
    extremes: Extremes = "pooled",
) -> GreyResult:
    r"""Deng's grey relational grades of candidate sequences against a reference sequence.

    Parameters
    ----------
    data : pandas.DataFrame or Panel
        Rows are the points :math:`k` of the sequences, **in order** (a Panel is ordered by
        unit and time; its time labels the points).
    reference : str
        Column of the reference sequence :math:`x_0`.
    candidates : sequence of str
        Columns of the comparison sequences :math:`x_i`.
    rho : float, default 0.5
        Distinguishing coefficient :math:`\rho \in (0, 1]`; 0.5 is Deng's customary value.
    normalise : {"initial", "mean", "minmax", "none"}, default "initial"
        Dimensionless transformation of each sequence (within group): ``"initial"``
        :math:`x(k)/x(1)` (initial-value image; Deng's and Liu's default for time
        series), ``"mean"`` :math:`x(k)/\bar x`, ``"minmax"``
        :math:`(x(k) - \min x)/(\max x - \min x)` (larger-the-better range scaling),
        ``"none"`` the raw values (already comparable units only).
    by : str, optional
        Column defining groups (e.g. the city or the region); the analysis, including
        the normalisation and :math:`\Delta_{min}, \Delta_{max}`, is done separately in each.
        Required for a Panel with several units and ``normalise="initial"``.
    extremes : {"pooled", "per_candidate"}, default "pooled"
        ``"pooled"``: Deng's two-level minimum and maximum over **all candidates and all
        points**, :math:`\Delta_{min} = \min_i\min_k\Delta_i(k)`,
        :math:`\Delta_{max} = \max_i\max_k\Delta_i(k)`, so the grades of different
        candidates are on one scale; ``"per_candidate"``: the extremes of each candidate's
        own :math:`\Delta_i(k)` (a variant found in applied work; grades are then not
        comparable across candidates in the same way).

    Returns
    -------
    GreyResult

    Raises
    ------
    SpecError
        For a bad ``rho``, ``normalise``, ``extremes`` or column list.
    DataError
        For missing/non-numeric values (named rows), a zero first value with
        ``"initial"``, a zero mean with ``"mean"``, a constant sequence with ``"minmax"``.

    Notes
    -----
    With :math:`\Delta_i(k) = |x_0(k) - x_i(k)|` on the normalised sequences,

    .. math:: \xi_i(k) = \frac{\Delta_{min} + \rho\,\Delta_{max}}
              {\Delta_i(k) + \rho\,\Delta_{max}},\qquad
              r_i = \frac1n\sum_{k=1}^n \xi_i(k).

    :math:`\xi_i(k) \in (0, 1]`, equal to 1 where the candidate attains
    :math:`\Delta_{min}`. When every :math:`\Delta_i(k)` is zero (identical sequences) all
    coefficients are set to 1 and a note is recorded.

    References
    ----------
    Deng, J. L. (1982). Control problems of grey systems. *Systems & Control Letters*
    1(5), 288–294.
    Liu, S., Yang, Y., Forrest, J. (2017). *Grey Data Analysis: Methods, Models and
    Applications*. Springer, ch. 3 (Deng's grey incidence analysis).
    """
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.floating)):
        raise SpecError(f"rho must be a number in (0, 1]; got {rho!r}.")
    rho = float(rho)
    if not 0.0 < rho <= 1.0:
        raise SpecError(f"rho must be in (0, 1]; got {rho!r}.")
    check_choice("normalise", normalise, NORMALISATIONS)
    check_choice("extremes", extremes, ("pooled", "per_candidate"))
    if isinstance(candidates, str):
        candidates = [candidates]
    cands = list(candidates)
    if not cands:
        raise SpecError("candidates must name at least one column.")
    if not isinstance(reference, str):
        raise SpecError(f"reference must be a column name; got {reference!r}.")
    dups = sorted({c for c in cands if cands.count(c) > 1})
    if dups:
        raise SpecError(f"candidates are repeated: {format_examples(dups)}.")
    if reference in cands:
        raise SpecError(f"the reference {reference!r} is also listed among the candidates.")

    if isinstance(data, Panel):
        frame = data.to_frame()
        labels = frame[data.time]
        if by is None and normalise == "initial" and len(data.units) > 1:
            raise SpecError(
                f"the panel has {len(data.units)} units and normalise='initial' divides by "
                "the first value of each sequence: give by=panel.unit (one analysis per "
                "unit), or pass the one sequence to analyse as a DataFrame."
            )
    elif isinstance(data, pd.DataFrame):
        frame = data
        labels = pd.Series(data.index, index=data.index)
    else:
        raise SpecError(f"data must be a pandas DataFrame or a Panel; got {type(data).__name__}.")
    columns = [reference, *cands]
    missing = [c for c in [*columns, *([by] if by else [])] if c not in frame.columns]
    if missing:
        raise DataError(
            f"column(s) {format_examples(missing)} not found; available: "
            f"{format_examples(list(frame.columns), limit=12)}."
        )
    if isinstance(data, Panel):  # names the offending (unit, time) keys
        require_finite(data, columns, "grey_relational")
    for c in columns:
        v = frame[c]
        if not pd.api.types.is_numeric_dtype(v) or pd.api.types.is_bool_dtype(v):
            raise DataError(f"column {c!r} must be numeric; it has dtype {v.dtype}.")
        bad = ~np.isfinite(v.to_numpy(dtype=float))
        if bad.any():
            raise DataError(
                f"column {c!r} has {int(bad.sum())} missing or infinite values at rows "
                f"{format_examples(list(labels[bad]))}. Nothing is dropped silently. Fix: "
                "fill or drop those rows explicitly."
            )

    groups: list[tuple[Any, np.ndarray]]
    if by is None:
        groups = [(None, np.arange(len(frame)))]
    else:
        if frame[by].isna().any():
            raise DataError(f"by column {by!r} has missing values.")
        groups = [(k, np.asarray(v)) for k, v in frame.groupby(by, sort=True).indices.items()]

    grade_rows: list[dict[str, Any]] = []
    coef_parts: list[pd.DataFrame] = []
    ext_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    values = frame[columns].to_numpy(dtype=float)
    label_arr = labels.to_numpy()
    for key, idx in groups:
        if idx.size < 2:
            raise DataError(
                f"group {key!r} has {idx.size} point(s); grey relational analysis needs at least 2."
            )
        x = _normalise(values[idx], normalise, columns, key)
        delta = np.abs(x[:, 1:] - x[:, :1])  # points x candidates
        if extremes == "pooled":
            dmin = np.full(len(cands), delta.min())
            dmax = np.full(len(cands), delta.max())
        else:
            dmin, dmax = delta.min(axis=0), delta.max(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            xi = (dmin + rho * dmax) / (delta + rho * dmax)
        flat = dmax == 0
        if flat.any():
            xi[:, flat] = 1.0
            notes.append(
                f"group {key!r}: candidates {format_examples([cands[j] for j in np.flatnonzero(flat)])} "  # noqa: E501
                "coincide with the reference at every point (all deltas 0); coefficients set to 1"
            )
        grade = xi.mean(axis=0)
        ranks = pd.Series(-grade).rank(method="min").astype(int).to_numpy()
        for j, c in enumerate(cands):
            row: dict[str, Any] = {} if by is None else {by: key}
            row.update(candidate=c, grade=float(grade[j]), rank=int(ranks[j]))
            grade_rows.append(row)
            ext: dict[str, Any] = {} if by is None else {by: key}
            if extremes == "per_candidate":
                ext["candidate"] = c
            ext.update(delta_min=float(dmin[j]), delta_max=float(dmax[j]))
            if extremes == "per_candidate" or j == 0:
                ext_rows.append(ext)
        part = pd.DataFrame(
            {
                "point": np.repeat(label_arr[idx], len(cands)),
                "candidate": np.tile(cands, idx.size),
                "reference_value": np.repeat(x[:, 0], len(cands)),
                "candidate_value": x[:, 1:].ravel(),
                "delta": delta.ravel(),
                "xi": xi.ravel(),
            }
        )
        if by is not None:
            part.insert(0, by, key)
        coef_parts.append(part)

    grades = pd.DataFrame(grade_rows)
    sort_cols = ([by] if by else []) + ["rank", "candidate"]
    grades = grades.sort_values(sort_cols, kind="mergesort").reset_index(drop=True)
    return GreyResult(
        grades=grades,
        coefficients=pd.concat(coef_parts, ignore_index=True),
        extremes=pd.DataFrame(ext_rows),
        meta={
            "reference": reference,
            "candidates": cands,
            "rho": rho,
            "normalise": normalise,
            "extremes": extremes,
            "by": by,
            "n_points": len(frame),
            "notes": notes,
        },
    )


def _normalise(x: np.ndarray, how: str, columns: list[str], key: Any) -> np.ndarray:
    where = "" if key is None else f" in group {key!r}"
    if how == "none":
        return x.copy()
    if how == "initial":
        first = x[0]
        zero = [c for c, v in zip(columns, first, strict=True) if v == 0]
        if zero:
            raise DataError(
                f"normalise='initial' divides by the first value, which is 0 for "
                f"{format_examples(zero)}{where}. Fix: normalise='mean' or 'minmax'."
            )
        return x / first
    if how == "mean":
        mean = x.mean(axis=0)
        zero = [c for c, v in zip(columns, mean, strict=True) if v == 0]
        if zero:
            raise DataError(
                f"normalise='mean' divides by the mean, which is 0 for {format_examples(zero)}"
                f"{where}. Fix: normalise='minmax'."
            )
        return x / mean
    lo, hi = x.min(axis=0), x.max(axis=0)
    const = [c for c, a, b in zip(columns, lo, hi, strict=True) if math.isclose(a, b)]
    if const:
        raise DataError(
            f"normalise='minmax' needs a non-constant sequence; {format_examples(const)} is "
            f"constant{where}. Fix: drop it or use normalise='mean'."
        )
    return (x - lo) / (hi - lo)
