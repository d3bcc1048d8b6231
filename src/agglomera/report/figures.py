"""Report figures: placebo distribution, coupling-coordination paths, LQ paths, and saving.

Every function returns a :class:`matplotlib.figure.Figure` built with the object API (no
``pyplot``: nothing is shown or left open; works on the headless Agg backend) and finished
by :func:`agglomera.report.fonts.apply_fonts`, so Chinese labels use the registered CJK
font. Texts the functions write themselves (axis labels, legend entries, grade names)
come in English or Chinese (``language="en"`` / ``"zh"``); unit labels and titles are the
caller's. The numbers drawn are the results' own, never recomputed here.

:func:`save_figure` writes one figure in several formats. SVG is written with
``svg.fonttype = "path"``: every glyph is stored as an outline, so the file looks the same
on any machine, also where the CJK font is not installed (``"none"`` would keep the text
editable but hand the font lookup to the viewer, which then substitutes or shows boxes for
Chinese). The price is larger files and text that is not selectable.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.report.fonts import apply_fonts, cjk_font
from agglomera.report.labels import check_language

__all__ = [
    "FIGURE_LABELS",
    "SAVE_FORMATS",
    "coupling_paths",
    "lq_paths",
    "placebo_figure",
    "save_figure",
]

#: Formats :func:`save_figure` writes.
SAVE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")

#: Texts the figures write themselves, by language.
FIGURE_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "placebo_hist": "placebo estimates (R = {n})",
        "placebo_kde": "kernel density",
        "actual": "actual estimate = {est:.4g} (p = {p:.3g})",
        "estimate": "estimate",
        "density": "density",
        "placebo_title": "Placebo test",
        "coupling_y": "coupling coordination degree D",
        "lq_y": "location quotient",
        "lq_reference": "LQ = 1 (national share)",
        "year": "year",
    },
    "zh": {
        "placebo_hist": "安慰剂估计值（R = {n}）",
        "placebo_kde": "核密度",
        "actual": "实际估计值 = {est:.4g}（p = {p:.3g}）",
        "estimate": "估计值",
        "density": "密度",
        "placebo_title": "安慰剂检验",
        "coupling_y": "耦合协调度 D",
        "lq_y": "区位熵",
        "lq_reference": "区位熵 = 1（全国平均）",
        "year": "年份",
    },
}


def _text(key: str, language: str, **kwargs: Any) -> str:
    return FIGURE_LABELS[check_language(language)][key].format(**kwargs)


def _time_label(time: str, language: str) -> str:
    return _text("year", language) if time == "year" else time


# ---------------------------------------------------------------------- placebo
def placebo_figure(
    placebo_result: Any,
    *,
    bins: int | str = "auto",
    kde: bool = True,
    language: str = "en",
    title: str | None = None,
    figsize: tuple[float, float] = (6.5, 4.0),
) -> Figure:
    """Histogram and kernel density of the placebo estimates with the actual estimate.

    Parameters
    ----------
    placebo_result : agglomera.policy.placebo.PlaceboResult
        Result of :func:`agglomera.policy.placebo` (attributes ``estimate``, ``draws``,
        ``p_value``, ``meta`` and the method ``density()``).
    bins : int or str, default "auto"
        Histogram bins (``numpy.histogram_bin_edges`` rule or count).
    kde : bool, default True
        Overlay the Gaussian kernel density of :meth:`PlaceboResult.density`.
    language : {"en", "zh"}, default "en"
        Language of the axis labels and legend.
    title : str, optional
        Title (default: "Placebo test" with the scheme).
    figsize : tuple, default (6.5, 4)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        A density-scaled histogram of the finite draws (NaN draws, counted in
        ``meta["n_failed"]``, are left out), the KDE line and a dashed vertical line
        (``gid="actual-estimate"``) at the actual estimate; its legend entry carries the
        two-sided randomization p-value (``p_value``, rule ``meta["p_value_rule"]``).

    Notes
    -----
    The randomization (placebo) test of Fisher (1935) as used for staggered pilots in the
    innovative-city literature: the actual estimate is compared with the estimates under
    random re-assignments of the pilot status (schemes: :func:`agglomera.policy.placebo`).
    """
    for attr in ("estimate", "draws", "p_value"):
        if not hasattr(placebo_result, attr):
            raise SpecError(
                f"placebo_result has no attribute {attr!r}; pass the result of "
                "agglomera.policy.placebo()."
            )
    draws = np.asarray(placebo_result.draws, dtype=float)
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        raise DataError("the placebo result has no finite draws; nothing to plot.")
    estimate = float(placebo_result.estimate)
    p_value = float(placebo_result.p_value)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.hist(
        finite,
        bins=bins,
        density=True,
        color="0.75",
        edgecolor="white",
        label=_text("placebo_hist", language, n=finite.size),
    )
    if kde and hasattr(placebo_result, "density"):
        dens = placebo_result.density()
        if len(dens) > 1 and dens["density"].notna().all():
            ax.plot(dens["x"], dens["density"], color="0.2", linewidth=1.2,
                    label=_text("placebo_kde", language))  # fmt: skip
    ax.axvline(
        estimate,
        color="C3",
        linestyle="--",
        linewidth=1.5,
        gid="actual-estimate",
        label=_text("actual", language, est=estimate, p=p_value),
    )
    lo, hi = ax.get_xlim()
    if not lo <= estimate <= hi:
        span = 0.05 * (max(hi, estimate) - min(lo, estimate))
        ax.set_xlim(min(lo, estimate - span), max(hi, estimate + span))
    ax.set_xlabel(_text("estimate", language))
    ax.set_ylabel(_text("density", language))
    scheme = getattr(placebo_result, "meta", {}).get("scheme")
    default = _text("placebo_title", language) + (f" ({scheme})" if scheme else "")
    ax.set_title(default if title is None else title)
    ax.legend(frameon=False, fontsize=8)
    return apply_fonts(fig)


# ---------------------------------------------------------------------- paths
def _check_columns(frame: pd.DataFrame, columns: Sequence[str | None]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise SpecError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
    absent = [c for c in columns if c is not None and c not in frame.columns]
    if absent:
        raise DataError(
            f"column(s) {format_examples(absent)} not in the frame (columns: "
            f"{format_examples(list(frame.columns))})."
        )


def _unit_names(
    frame: pd.DataFrame, unit: str, label: str | Mapping[Any, str] | None
) -> dict[Any, str]:
    units = list(pd.unique(frame[unit]))
    if label is None:
        return {u: str(u) for u in units}
    if isinstance(label, Mapping):
        return {u: str(label.get(u, u)) for u in units}
    if label in frame.columns:
        first = frame.groupby(unit, sort=False)[label].first()
        return {u: str(first.get(u, u)) for u in units}
    from agglomera import reference

    table = reference.cities().set_index("adcode")
    if label not in table.columns:
        raise SpecError(
            f"label={label!r} is neither a column of the frame nor of "
            "agglomera.reference.cities() (e.g. 'name_en', 'name_cn')."
        )
    col = table[label]
    return {u: str(col.get(str(u), u)) for u in units}


def _lines(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    value: str,
    names: Mapping[Any, str],
    highlight: Sequence[Any] | None,
    ax: Any,
) -> None:
    dup = frame.duplicated([unit, time])
    if dup.any():
        first = [tuple(r) for r in frame.loc[dup, [unit, time]].head(3).to_numpy()]
        raise DataError(
            f"the frame has {int(dup.sum())} duplicated ({unit}, {time}) rows (first: "
            f"{format_examples(first)}); pass one row per unit and time."
        )
    if not pd.api.types.is_numeric_dtype(frame[value]):
        raise DataError(f"column {value!r} must be numeric; got dtype {frame[value].dtype}.")
    units = list(pd.unique(frame[unit]))
    focus = units if highlight is None else list(highlight)
    unknown = [u for u in focus if u not in set(units)]
    if unknown:
        raise DataError(
            f"highlight names unit(s) not in column {unit!r}: {format_examples(unknown)}."
        )
    for u, part in frame.groupby(unit, sort=False):
        part = part.sort_values(time)
        if highlight is not None and u not in focus:
            ax.plot(part[time], part[value], color="0.8", linewidth=0.7, zorder=1,
                    gid=f"background-{u}")  # fmt: skip
    for i, u in enumerate(focus):
        part = frame[frame[unit] == u].sort_values(time)
        ax.plot(part[time], part[value], color=f"C{i % 10}", linewidth=1.5, marker="o",
                markersize=2.5, zorder=3, label=names.get(u, str(u)), gid=f"unit-{u}")  # fmt: skip


def coupling_paths(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    value: str = "D",
    label: str | Mapping[Any, str] | None = None,
    grades: str | pd.DataFrame | None = None,
    highlight: Sequence[Any] | None = None,
    language: str = "en",
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 4.5),
) -> Figure:
    r"""Coupling coordination degree :math:`D` over time, one line per unit.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long data with ``unit``, ``time`` and ``value`` (e.g. the columns of
        :meth:`agglomera.measure.CouplingResult.to_frame` joined to unit and year).
    unit, time : str
        Unit and time columns.
    value : str, default "D"
        The coordination degree column.
    label : None, column, reference column or mapping
        Line labels: a column of ``frame``, a column of :func:`agglomera.reference.cities`
        (``"name_en"``, ``"name_cn"``) or ``{unit: label}``; None uses the unit codes.
    grades : None, "levels", "classes" or DataFrame, default None
        Horizontal bands: ``"levels"`` the ten grades of Liao (1999)
        (:func:`agglomera.measure.coupling_grades`), ``"classes"`` its three classes
        (imbalance and decline < 0.4 ≤ transition < 0.6 ≤ coordinated development), or a
        DataFrame with ``lower``, ``upper`` and ``label``.
    highlight : sequence, optional
        Units drawn in colour and labelled; the others are thin grey lines.
    language : {"en", "zh"}, default "en"
        Language of the axis and band labels.
    title : str, optional
        Title.
    figsize : tuple, default (7, 4.5)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One line per unit (``gid="unit-<unit>"``), bands as shaded spans labelled at the
        right (``gid="grade-<k>"``), y axis on [0, 1] when ``D`` lies in it.

    Notes
    -----
    :math:`D = \sqrt{C\,T}` (Liao 1999; Wang Shujia et al. 2021, 自然资源学报 36(3), on
    the misuse of the formula); the grading thresholds are conventions, drawn only when
    asked for.
    """
    lang = check_language(language)
    _check_columns(frame, [unit, time, value])
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    names = _unit_names(frame, unit, label)
    _lines(frame, unit=unit, time=time, value=value, names=names, highlight=highlight, ax=ax)
    data = frame[value].to_numpy(dtype=float)
    inside = (
        bool(np.nanmin(data) >= 0 and np.nanmax(data) <= 1) if np.isfinite(data).any() else True
    )
    if inside:
        ax.set_ylim(0.0, 1.0)
    if grades is not None:
        _grade_bands(ax, _grade_table(grades, lang))
    ax.set_xlabel(_time_label(time, lang))
    ax.set_ylabel(_text("coupling_y", lang))
    if title:
        ax.set_title(title)
    n = len(names) if highlight is None else len(highlight)
    _side_legend(ax, n)
    return apply_fonts(fig)


def _grade_table(grades: str | pd.DataFrame, language: str) -> pd.DataFrame:
    if isinstance(grades, pd.DataFrame):
        localised = f"label_{language}"
        if "label" not in grades.columns and localised in grades.columns:
            grades = grades.rename(columns={localised: "label"})
        _check_columns(grades, ["lower", "upper", "label"])
        return grades[["lower", "upper", "label"]].reset_index(drop=True)
    from agglomera.measure.coupling import coupling_grades

    table = coupling_grades()
    if grades == "levels":
        return pd.DataFrame(
            {"lower": table["lower"], "upper": table["upper"], "label": table[f"label_{language}"]}
        )
    if grades == "classes":
        col = f"class_{language}"
        out = table.groupby(col, sort=False).agg(lower=("lower", "min"), upper=("upper", "max"))
        return out.reset_index().rename(columns={col: "label"})[["lower", "upper", "label"]]
    raise SpecError(
        f"grades must be None, 'levels', 'classes' or a DataFrame with lower/upper/label; "
        f"got {grades!r}."
    )


def _grade_bands(ax: Any, table: pd.DataFrame) -> None:
    from matplotlib.transforms import blended_transform_factory

    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for k, row in table.iterrows():
        lower, upper = float(row["lower"]), float(row["upper"])
        ax.axhspan(lower, upper, color="0.93" if int(str(k)) % 2 == 0 else "0.97", zorder=0,
                   linewidth=0, gid=f"grade-{k}")  # fmt: skip
        ax.text(0.995, 0.5 * (lower + upper), str(row["label"]), transform=trans, ha="right",
                va="center", fontsize=7, color="0.4", zorder=0.5, clip_on=True)  # fmt: skip


def _side_legend(ax: Any, n: int) -> None:
    """Legend to the right of the axes (one column up to 15 entries)."""
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              ncols=1 if n <= 15 else 2)  # fmt: skip


def lq_paths(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    value: str,
    label: str | Mapping[Any, str] | None = None,
    highlight: Sequence[Any] | None = None,
    language: str = "en",
    title: str | None = None,
    ylabel: str | None = None,
    figsize: tuple[float, float] = (7.0, 4.5),
) -> Figure:
    """Location-quotient time paths with a reference line at LQ = 1.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long data with ``unit``, ``time`` and the LQ column ``value``.
    unit, time, value : str
        Columns.
    label : None, column, reference column or mapping
        Line labels (see :func:`coupling_paths`).
    highlight : sequence, optional
        Units drawn in colour and labelled; the others are thin grey lines. Default: all
        units in colour.
    language : {"en", "zh"}, default "en"
        Language of the axis labels.
    title, ylabel : str, optional
        Title and y label (default: "location quotient (<value>)").
    figsize : tuple, default (7, 4.5)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One line per unit (``gid="unit-<unit>"`` in colour, ``"background-<unit>"`` in
        grey) and a dashed horizontal line at 1 (``gid="lq-reference"``).

    Notes
    -----
    :math:`LQ_{ij} = (e_{ij}/e_i)/(E_j/E)`: above 1 the city's share of industry
    :math:`j` exceeds the reference (national) share (Isard 1960; Florida 2002 for the
    talent LQ).
    """
    lang = check_language(language)
    _check_columns(frame, [unit, time, value])
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    names = _unit_names(frame, unit, label)
    _lines(frame, unit=unit, time=time, value=value, names=names, highlight=highlight, ax=ax)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=0.9, zorder=2, gid="lq-reference",
               label=_text("lq_reference", lang))  # fmt: skip
    ax.set_xlabel(_time_label(time, lang))
    ax.set_ylabel(ylabel or f"{_text('lq_y', lang)} ({value})")
    if title:
        ax.set_title(title)
    n = len(names) if highlight is None else len(highlight)
    _side_legend(ax, n + 1)
    return apply_fonts(fig)


# ---------------------------------------------------------------------- saving
def save_figure(
    fig: Figure,
    stem: str | Path,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 200,
) -> list[Path]:
    """Write ``fig`` as ``<stem>.<format>`` for each format; return the written paths.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    stem : str or Path
        Path without suffix (parent folders are created).
    formats : sequence of {"png", "svg", "pdf"}, default ("png", "svg")
        Formats to write.
    dpi : int, default 200
        Resolution of raster output (PNG).

    Returns
    -------
    list of pathlib.Path
        The files, in the order of ``formats``.

    Notes
    -----
    SVG text is stored as glyph outlines (``svg.fonttype="path"``, see the module
    docstring); the files carry no creation date, so the same figure gives the same bytes.
    When no CJK font is available, matplotlib's "Glyph ... missing from font" warnings are
    not repeated here: :func:`agglomera.report.fonts.font_status` records them per figure.
    """
    bad = [f for f in formats if f not in SAVE_FORMATS]
    if bad or not formats:
        raise SpecError(
            f"formats must be a non-empty subset of {SAVE_FORMATS}; got {list(formats)!r}."
        )
    base = Path(stem)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    metadata: dict[str, dict[str, Any]] = {
        "png": {"Software": None},
        "svg": {"Date": None},
        "pdf": {"CreationDate": None, "ModDate": None},
    }
    for fmt in formats:
        path = base.with_name(f"{base.name}.{fmt}")
        with (
            rc_context({"svg.fonttype": "path", "svg.hashsalt": "agglomera"}),
            warnings.catch_warnings(),
        ):
            if cjk_font() is None:
                warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
            fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata[fmt])
        written.append(path)
    return written
