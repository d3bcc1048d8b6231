r"""Coupling coordination degree of two or more subsystems.

The coupling coordination degree model measures how well subsystems (for example high-tech
industry agglomeration and talent agglomeration) develop together: the coupling degree
:math:`C` measures how balanced the subsystem scores :math:`U_i \in [0, 1]` are, the
comprehensive development index :math:`T` how high they are, and the coordination degree
:math:`D = \sqrt{C T}` combines both. :math:`D` is classified into the ten grades of Liao
(1999), shipped as data (:func:`coupling_grades`).

Three forms of :math:`C` are in use and papers disagree on them, so the form is a parameter:

* ``"standard"`` — :math:`C = n (\prod_i U_i)^{1/n} / \sum_i U_i`, the ratio of the geometric
  to the arithmetic mean (for two subsystems :math:`2\sqrt{U_1 U_2}/(U_1 + U_2)`);
* ``"k"`` — Liao's (1999) form with adjustment coefficient :math:`k`:
  :math:`C = \{\prod_i U_i / [(\sum_i U_i)/n]^n\}^{k}`;
* ``"corrected"`` — the form of Wang Shujia et al. (2021), which spreads :math:`C` over
  [0, 1] instead of bunching it near 1.

References
----------
.. [1] Liao Chongbin (廖重斌) (1999). 环境与经济协调发展的定量评判及其分类体系——以珠江三角洲
   城市群为例. 热带地理 (Tropical Geography), 19(2), 171–177.
.. [2] Wang Shujia (王淑佳), Kong Wei (孔伟), Ren Liang (任亮), Zhi Dongdong (治丹丹) &
   Dai Bingtao (戴彬涛) (2021). 国内耦合协调度模型的误区及修正. 自然资源学报 (Journal of
   Natural Resources), 36(3), 793–810.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["CouplingResult", "classify_grades", "coupling_coordination", "coupling_grades"]

Form = Literal["standard", "k", "corrected"]


@cache
def _grade_table() -> pd.DataFrame:
    path = resources.files("agglomera.measure").joinpath("data", "coupling_grades.csv")
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, comment="#")
    return table


def classify_grades(D: Any, table: pd.DataFrame | None = None) -> np.ndarray:
    """Return the row position in a grade table of each coordination degree ``D``.

    A degree falls in the grade whose ``lower`` bound is the largest one not above it
    (``lower ≤ D < next lower``); D is rounded to 12 decimals first so that a degree a
    rounding error below a bound lands in the grade of that bound. Degrees below the first
    bound get the first grade.

    Parameters
    ----------
    D : array_like
        Coupling coordination degrees.
    table : pandas.DataFrame, optional
        Grade table with an ascending ``lower`` column; default :func:`coupling_grades`.

    Returns
    -------
    numpy.ndarray
        Integer row positions (0-based) into ``table``.
    """
    grades = _grade_table() if table is None else table
    lowers = grades["lower"].to_numpy(dtype=float)
    pos = np.searchsorted(lowers, np.round(np.asarray(D, dtype=float), 12), side="right") - 1
    return np.clip(pos, 0, len(grades) - 1)


def coupling_grades() -> pd.DataFrame:
    """Return the ten coordination grades of Liao (1999) as a table.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (1–10), ``lower``, ``upper`` (``lower ≤ D < upper``; level 10
        includes 1), ``label_en``, ``label_zh``, ``class_en``, ``class_zh`` (the three
        classes imbalance and decline 失调衰退类 / transition 过渡类 / coordinated
        development 协调发展类).

    References
    ----------
    .. [1] Liao Chongbin (廖重斌) (1999). 环境与经济协调发展的定量评判及其分类体系——以珠江
       三角洲城市群为例. 热带地理, 19(2), 171–177.
    """
    return _grade_table().copy()


@dataclass(frozen=True)
class CouplingResult:
    r"""Coupling coordination degree (see :func:`coupling_coordination`).

    Attributes
    ----------
    C, T, D : numpy.ndarray
        Coupling degree, comprehensive development index and coordination degree.
    grade : numpy.ndarray
        Coordination grade of :math:`D`, 1–10 (:func:`coupling_grades`).
    grade_en, grade_zh : numpy.ndarray
        The grade's label in English and Chinese.
    relative : numpy.ndarray or None
        Relative development degree :math:`E = U_1 / U_2` (two subsystems only).
    lagging : numpy.ndarray or None
        ``"lagging <name>"`` for the subsystem that lags, or ``"synchronous"`` when
        ``band[0] ≤ E ≤ band[1]`` (two subsystems only).
    U : pandas.DataFrame
        The subsystem scores (one column per subsystem).
    names : tuple of str
        Subsystem names.
    weights : numpy.ndarray
        Subsystem weights in :math:`T`.
    form : str
        ``"standard"``, ``"k"`` or ``"corrected"``.
    meta : dict
        ``k``, ``band`` and ``notes`` (e.g. rows where :math:`C` is 0/0).
    """

    C: np.ndarray
    T: np.ndarray
    D: np.ndarray
    grade: np.ndarray
    grade_en: np.ndarray
    grade_zh: np.ndarray
    relative: np.ndarray | None
    lagging: np.ndarray | None
    U: pd.DataFrame
    names: tuple[str, ...]
    weights: np.ndarray
    form: str
    meta: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per observation.

        Columns: the subsystem scores, ``C``, ``T``, ``D``, ``grade``, ``grade_en``,
        ``grade_zh`` and, for two subsystems, ``relative`` and ``lagging``.
        """
        out = self.U.copy()
        out["C"] = self.C
        out["T"] = self.T
        out["D"] = self.D
        out["grade"] = self.grade
        out["grade_en"] = self.grade_en
        out["grade_zh"] = self.grade_zh
        if self.relative is not None and self.lagging is not None:
            out["relative"] = self.relative
            out["lagging"] = self.lagging
        return out

    def summary(self) -> str:
        """Return a plain-text summary (means and the distribution of grades)."""
        lines = [
            f"Coupling coordination ({self.form} form) of {', '.join(self.names)}: "
            f"{len(self.D)} rows",
            f"mean C = {np.nanmean(self.C):.4f}, mean T = {np.nanmean(self.T):.4f}, "
            f"mean D = {np.nanmean(self.D):.4f}",
        ]
        counts = pd.Series(self.grade).value_counts().sort_index()
        labels = dict(zip(self.grade, self.grade_en, strict=True))
        lines += [f"  grade {lvl} {labels[lvl]}: {n}" for lvl, n in counts.items()]
        lines += [f"note: {n}" for n in self.meta.get("notes", [])]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


def coupling_coordination(
    *subsystems: Any,
    form: Form = "standard",
    weights: Sequence[float] | Mapping[str, float] | None = None,
    k: float = 2,
    names: Sequence[str] | None = None,
    band: tuple[float, float] = (0.9, 1.1),
) -> CouplingResult:
    r"""Coupling degree C, development index T and coordination degree D of n ≥ 2 subsystems.

    Parameters
    ----------
    *subsystems : array-like, pandas.Series, DataFrame or CompositeResult
        The subsystem scores :math:`U_i \in [0, 1]`, one argument per subsystem (arrays or
        Series of equal length; Series must share the same index). A single DataFrame (or
        the :class:`~agglomera.measure.CompositeResult` of :func:`composite_index`) gives
        one subsystem per column.
    form : {"standard", "k", "corrected"}, default "standard"
        Formula of :math:`C` (see Notes).
    weights : sequence or mapping, optional
        Weights :math:`\alpha_i` of the subsystems in :math:`T` (default equal). They must
        be non-negative and sum to 1.
    k : float, default 2
        Adjustment coefficient of ``form="k"`` (k ≥ 1; Liao 1999 uses k ≥ 2).
    names : sequence of str, optional
        Subsystem names (default: the Series names or DataFrame columns, else U1, U2, ...).
    band : tuple of float, default (0.9, 1.1)
        Band of the relative development degree :math:`E = U_1/U_2` regarded as
        synchronous (two subsystems only).

    Returns
    -------
    CouplingResult
        Arrays ``C``, ``T``, ``D``, ``grade`` (with ``grade_en``/``grade_zh``), ``relative``
        and ``lagging`` (two subsystems), and :meth:`CouplingResult.to_frame`.

    Raises
    ------
    DataError
        If a subsystem has values outside [0, 1] or missing values (naming the subsystem
        and the first offending positions), or the subsystems differ in length or index.
    SpecError
        Fewer than two subsystems, an unknown form, ``k < 1``, bad weights or band.

    Notes
    -----
    With :math:`n` subsystems and scores :math:`U_i`:

    .. math::

        C_\text{standard} = \frac{n\,(\prod_i U_i)^{1/n}}{\sum_i U_i}
          = \left[\frac{\prod_i U_i}{(\sum_i U_i / n)^n}\right]^{1/n},

    .. math::

        C_k = \left[\frac{\prod_i U_i}{(\sum_i U_i / n)^n}\right]^{k},

    the form of Liao (1999) with adjustment coefficient :math:`k` (for :math:`n = 2`,
    :math:`C_k = \{U_1 U_2 / [(U_1 + U_2)/2]^2\}^k`; the exponent is :math:`k`, not
    :math:`1/k` — with :math:`1/k` and :math:`k = n` it would be the standard form),

    .. math::

        C_\text{corrected} = \sqrt{\left[1 - \frac{\sum_{i > j} |U_i - U_j|}
            {\sum_{m=1}^{n-1} m}\right] \cdot
            \left(\prod_{i} \frac{U_i}{\max_j U_j}\right)^{1/(n-1)}}

    (Wang Shujia et al. 2021, eq. for :math:`n` subsystems; :math:`\sum_{m=1}^{n-1} m =
    n(n-1)/2` is the number of pairs, so the first factor is one minus the mean pairwise
    absolute difference, and the second is the geometric mean of the :math:`n-1` ratios
    :math:`U_i / \max U` of the non-maximal subsystems). For :math:`n = 2` it is
    :math:`\sqrt{(1 - |U_1 - U_2|)\,U_\min/U_\max}`.

    :math:`T = \sum_i \alpha_i U_i` and :math:`D = \sqrt{C \cdot T}`.

    All three forms lie in [0, 1] and equal 1 exactly when all :math:`U_i` are equal (and
    positive). For two subsystems the corrected :math:`C` never exceeds the standard
    :math:`C`; for :math:`n \ge 3` it can (e.g. :math:`U = (10^{-4}, 0.2, 0.2)`).

    *All subsystems zero*: every form of :math:`C` is 0/0 there and is returned as NaN
    (listed in ``meta["notes"]``); :math:`D` is set to 0, its limit (:math:`C \in [0, 1]`
    and :math:`T = 0`), so that the row still gets grade 1. If only some subsystems are
    zero, :math:`C = 0`.

    *Grades*: ``lower ≤ D < upper`` in :func:`coupling_grades` (D rounded to 12 decimals
    first, so that e.g. a D of 0.6 computed as 0.59999999999999998 is graded 0.6–0.7).

    *Relative development degree* (two subsystems): :math:`E = U_1 / U_2`;
    :math:`E < \text{band}_0` → ``"lagging <U1 name>"``, :math:`E > \text{band}_1` →
    ``"lagging <U2 name>"``, otherwise ``"synchronous"`` (computed as
    :math:`U_1 < \text{band}_0 U_2` etc., so :math:`U_2 = 0` needs no division). The band
    0.9–1.1 is a common convention in the Chinese literature that classifies coordination
    types by which subsystem lags (following Liao 1999), not a universal standard, hence a
    parameter.

    References
    ----------
    .. [1] Liao Chongbin (廖重斌) (1999). 环境与经济协调发展的定量评判及其分类体系——以珠江
       三角洲城市群为例. 热带地理, 19(2), 171–177.
    .. [2] Wang Shujia et al. (2021). 国内耦合协调度模型的误区及修正. 自然资源学报, 36(3),
       793–810.

    Examples
    --------
    >>> from agglomera.measure import coupling_coordination
    >>> r = coupling_coordination([0.2, 0.5, 0.8, 0.1], [0.4, 0.5, 0.2, 0.9])
    >>> r.C.round(4).tolist()
    [0.9428, 1.0, 0.8, 0.6]
    >>> r.grade.tolist()
    [6, 8, 7, 6]
    >>> r.grade_zh.tolist()
    ['勉强协调', '中级协调', '初级协调', '勉强协调']
    """
    if form not in ("standard", "k", "corrected"):
        raise SpecError(f"form must be 'standard', 'k' or 'corrected'; got {form!r}.")
    if not (np.isfinite(k) and k >= 1):
        raise SpecError(f"k must be a number ≥ 1; got {k!r}.")
    lo, hi = _check_band(band)
    U = _collect(subsystems, names)
    n = U.shape[1]
    labels = tuple(str(c) for c in U.columns)
    alpha = _check_weights(weights, labels)

    u = U.to_numpy(dtype=float)
    total = u.sum(axis=1)
    all_zero = total == 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # ratios to the arithmetic mean (each ≤ n) avoid under/overflow of Π U_i and mean^n
        rel = n * (u / total[:, None])
        if form == "standard":
            C = np.exp(np.log(rel).mean(axis=1))
        elif form == "k":
            C = np.prod(rel, axis=1) ** k
        else:
            pairs = np.zeros(len(u))
            for i in range(n):
                for j in range(i):
                    pairs += np.abs(u[:, i] - u[:, j])
            spread = 1.0 - pairs / (n * (n - 1) / 2)
            umax = u.max(axis=1)
            closeness = np.prod(u / umax[:, None], axis=1) ** (1.0 / (n - 1))
            C = np.sqrt(spread * closeness)
    C = np.where(all_zero, np.nan, np.clip(C, 0.0, 1.0))
    T = u @ alpha
    D = np.where(all_zero, 0.0, np.sqrt(C * T))

    table = _grade_table()
    pos = classify_grades(D, table)
    grade = table["level"].to_numpy()[pos]
    grade_en = table["label_en"].to_numpy()[pos]
    grade_zh = table["label_zh"].to_numpy()[pos]

    notes: list[str] = []
    if all_zero.any():
        notes.append(
            f"{int(all_zero.sum())} row(s) with every subsystem 0 (positions "
            f"{format_examples(np.flatnonzero(all_zero).tolist())}): C is 0/0 (NaN), D set to 0."
        )
    relative = lagging = None
    if n == 2:
        a, b = u[:, 0], u[:, 1]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            relative = a / b
        lagging = np.where(
            a < lo * b,
            f"lagging {labels[0]}",
            np.where(a > hi * b, f"lagging {labels[1]}", "synchronous"),
        ).astype(object)
    return CouplingResult(
        C=C,
        T=T,
        D=D,
        grade=grade,
        grade_en=grade_en,
        grade_zh=grade_zh,
        relative=relative,
        lagging=lagging,
        U=U,
        names=labels,
        weights=alpha,
        form=form,
        meta={"k": k if form == "k" else None, "band": (lo, hi), "notes": notes},
    )


# ---------------------------------------------------------------------------- helpers
def _collect(subsystems: tuple[Any, ...], names: Sequence[str] | None) -> pd.DataFrame:
    from agglomera.measure.composite import CompositeResult

    index: pd.Index | None = None
    if len(subsystems) == 1:
        only = subsystems[0]
        if isinstance(only, CompositeResult):
            only = only.scores
        if isinstance(only, pd.DataFrame):
            frame = only.copy()
            frame.columns = [str(c) for c in frame.columns]
            cols = list(frame.columns)
            series = [frame[c] for c in cols]
            default = cols
            index = frame.index
        else:
            series, default = [], []
    else:
        series, default = [], []
    if not series:
        for i, s in enumerate(subsystems):
            if isinstance(s, pd.Series):
                if index is None:
                    index = s.index
                elif not s.index.equals(index):
                    raise DataError(
                        f"subsystem {i + 1} ({s.name!r}) has a different index from the first "
                        "Series; align them first (nothing is aligned silently)."
                    )
                series.append(s)
                default.append(str(s.name) if s.name is not None else f"U{i + 1}")
            else:
                arr = np.asarray(s)
                if arr.ndim != 1:
                    raise DataError(
                        f"subsystem {i + 1} must be one-dimensional; got shape {arr.shape}."
                    )
                series.append(pd.Series(arr))
                default.append(f"U{i + 1}")
    if len(series) < 2:
        raise SpecError(
            f"coupling_coordination needs at least two subsystems; got {len(series)}. "
            "Pass one array or Series per subsystem, or one DataFrame with a column each."
        )
    if names is not None:
        if isinstance(names, str) or len(names) != len(series):
            raise SpecError(f"names must list {len(series)} subsystem names; got {names!r}.")
        labels = [str(x) for x in names]
    else:
        labels = default
    if len(set(labels)) != len(labels):
        labels = [
            f"{lab}_{i + 1}" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels)
        ]
    lengths = {len(s) for s in series}
    if len(lengths) != 1:
        raise DataError(
            f"subsystems differ in length ({', '.join(str(len(s)) for s in series)}); "
            "pass one score per observation for every subsystem."
        )
    data: dict[str, np.ndarray] = {}
    for label, s in zip(labels, series, strict=True):
        try:
            values = pd.to_numeric(pd.Series(np.asarray(s)), errors="raise").to_numpy(float)
        except (TypeError, ValueError):
            raise DataError(f"subsystem {label!r} is not numeric.") from None
        bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0) & (values <= 1)))
        if bad.size:
            shown = format_examples(
                [(int(p), float(values[p])) for p in bad]  # (position, value)
            )
            raise DataError(
                f"subsystem {label!r} has {bad.size} value(s) outside [0, 1] or missing at "
                f"(position, value) {shown}. Coupling coordination needs scores in [0, 1]: "
                "use min–max normalised scores (e.g. composite_index with zeros='ln0' or "
                "'rescale')."
            )
        data[label] = values
    return pd.DataFrame(data, index=index)


def _check_weights(
    weights: Sequence[float] | Mapping[str, float] | None, labels: tuple[str, ...]
) -> np.ndarray:
    n = len(labels)
    if weights is None:
        return np.full(n, 1.0 / n)
    if isinstance(weights, Mapping):
        unknown = [w for w in weights if w not in labels]
        missing = [lab for lab in labels if lab not in weights]
        if unknown or missing:
            raise SpecError(
                f"weights must name each subsystem ({format_examples(list(labels))}); "
                f"missing {missing}, unknown {unknown}."
            )
        arr = np.array([float(weights[lab]) for lab in labels])
    else:
        arr = np.asarray(weights, dtype=float).ravel()
        if arr.size != n:
            raise SpecError(f"weights has {arr.size} values for {n} subsystems.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or not np.isclose(arr.sum(), 1.0, atol=1e-9):
        raise SpecError(
            f"weights must be non-negative and sum to 1; got {arr.tolist()} "
            f"(sum {arr.sum():.6g}). Fix: e.g. weights=[0.5, 0.5]."
        )
    return arr


def _check_band(band: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise SpecError(f"band must be a pair (low, high); got {band!r}.") from None
    if not (0 < lo <= 1 <= hi):
        raise SpecError(f"band must satisfy 0 < low ≤ 1 ≤ high; got {band!r}.")
    return lo, hi
