"""Figures for the report: ranking bump chart, regional paths, density ridges, Markov heat map.

Every function returns a :class:`matplotlib.figure.Figure` built with the object-oriented
API (``Figure()``, not ``pyplot``): nothing is shown, no global figure is registered, and
the caller saves it (``fig.savefig(...)``) or lets a notebook display it. The numbers come
from the tested functions of :mod:`agglomera.describe` (``rankings``, ``regional_means``,
``kernel_density``, ``markov``); the figure functions only draw them.

Chinese labels
--------------
:func:`cjk_font` (from :mod:`agglomera.report.fonts`, which documents the search) finds a
CJK font (Debian/Ubuntu package ``fonts-noto-cjk``:
``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc``), registers it with
matplotlib and returns its family name. When one is found the figures use it (with DejaVu
Sans as fallback for Latin glyphs) and city labels default to the Chinese names. When none
is available the figures silently use matplotlib's default font and label cities with
their English names (from :func:`agglomera.reference.cities`) or unit codes, so every label
is still rendered legibly instead of as empty boxes. Pass ``label=`` to choose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from agglomera.data.panel import Panel
from agglomera.describe.dynamics import MarkovResult, kernel_density
from agglomera.describe.trends import rankings, regional_means
from agglomera.errors import DataError
from agglomera.report.fonts import apply_fonts, cjk_font
from agglomera.report.fonts import has_han as _has_han

__all__ = [
    "cjk_font",
    "density_ridges",
    "markov_heatmap",
    "ranking_bump",
    "regional_paths",
]


def _finish(fig: Figure) -> Figure:
    """Apply the CJK font (when available) to every text of the figure."""
    return apply_fonts(fig, family=cjk_font())


def _unit_labels(panel: Panel, label: str | Mapping[Any, str] | None) -> dict[Any, str]:
    """Map units to display labels (see the module docstring for ``"auto"``)."""
    units = list(panel.units)
    if isinstance(label, Mapping):
        return {u: str(label.get(u, u)) for u in units}
    frame = panel.to_frame()
    if label not in (None, "auto"):
        if label not in frame.columns:
            raise DataError(f"label column {label!r} is not in the panel.")
        first = frame.groupby(panel.unit)[label].first()
        out = {u: str(first.get(u, u)) for u in units}
        if cjk_font() is None and any(_has_han(v) for v in out.values()):
            return _english_labels(units)
        return out
    if cjk_font() is not None and "name_cn" in frame.columns:
        first = frame.groupby(panel.unit)["name_cn"].first()
        return {u: str(first.get(u, u)) for u in units}
    return _english_labels(units)


def _english_labels(units: list[Any]) -> dict[Any, str]:
    from agglomera import reference

    table = reference.cities().set_index("adcode")["name_en"]
    return {u: str(table.get(str(u), u)) if pd.notna(table.get(str(u))) else str(u) for u in units}


# ---------------------------------------------------------------------- figures
def ranking_bump(
    panel: Panel,
    var: str,
    *,
    top: int | None = None,
    ascending: bool = False,
    label: str | Mapping[Any, str] | None = "auto",
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 5.0),
) -> Figure:
    """Bump chart of the units' ranks by ``var`` over time (rank 1 at the top).

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Variable to rank by (see :func:`agglomera.describe.rankings`).
    top : int, optional
        Draw only units that are ever in the top ``top``.
    ascending : bool, default False
        Ranking direction (False: rank 1 = largest).
    label : "auto", column name or mapping, default "auto"
        Unit labels written at the right end of each line.
    title : str, optional
        Figure title (default: ``"Ranking by <var>"``).
    figsize : tuple, default (8, 5)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One line per drawn unit.
    """
    ranks = rankings(panel, var, ascending=ascending)
    names = _unit_labels(panel, label)
    keep = ranks[panel.unit].unique()
    if top is not None:
        keep = ranks.loc[ranks["rank"] <= top, panel.unit].unique()
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for unit in keep:
        part = ranks[ranks[panel.unit] == unit].sort_values(panel.time).dropna(subset=["rank"])
        if part.empty:
            continue
        ax.plot(part[panel.time], part["rank"], marker="o", markersize=3, linewidth=1.5)
        ax.annotate(
            names.get(unit, str(unit)),
            (part[panel.time].iloc[-1], part["rank"].iloc[-1]),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.invert_yaxis()
    ax.set_xlabel(panel.time)
    ax.set_ylabel("rank")
    ax.set_title(title or f"Ranking by {var}")
    return _finish(fig)


def regional_paths(
    panel: Panel,
    var: str,
    *,
    by: str = "region3",
    weights: str | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 4.5),
) -> Figure:
    """Mean of ``var`` by region over time, one line per region.

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable (see :func:`agglomera.describe.regional_means`).
    by : str, default "region3"
        Group column (joined from the reference when absent).
    weights : str, optional
        Weight column for weighted means.
    title : str, optional
        Figure title.
    figsize : tuple, default (7, 4.5)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    means = regional_means(panel, var, by=by, weights=weights)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for group, part in means.groupby(by, sort=True, dropna=False):
        name = group[0] if isinstance(group, tuple) else group
        ax.plot(part[panel.time], part["mean"], marker="o", markersize=3, label=str(name))
    ax.set_xlabel(panel.time)
    ax.set_ylabel(f"mean of {var}")
    ax.set_title(title or f"{var} by {by}")
    ax.legend(frameon=False)
    return _finish(fig)


def density_ridges(
    panel: Panel,
    var: str,
    *,
    bandwidth: Any = "scott",
    times: list[int] | None = None,
    overlap: float = 0.6,
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """Ridge plot of the kernel density of ``var`` by year (earliest at the bottom).

    Parameters
    ----------
    panel : Panel
        The data.
    var : str
        Numeric variable (see :func:`agglomera.describe.kernel_density`).
    bandwidth : {"scott", "silverman"} or float, default "scott"
        Bandwidth rule.
    times : list of int, optional
        Years to draw (default: all).
    overlap : float, default 0.6
        Vertical overlap of the ridges (0 = none).
    title : str, optional
        Figure title.
    figsize : tuple, default (7, 6)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One density line (and filled area) per year.
    """
    dens = kernel_density(panel, var, bandwidth=bandwidth)
    years = sorted(dens[panel.time].unique()) if times is None else list(times)
    peak = float(dens["density"].max())
    step = peak * (1.0 - overlap) if overlap < 1 else peak * 0.1
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for i, t in enumerate(years):
        part = dens[dens[panel.time] == t]
        base = i * step
        ax.fill_between(part["x"], base, base + part["density"], alpha=0.6, zorder=len(years) - i)
        ax.plot(part["x"], base + part["density"], color="black", linewidth=0.8,
                zorder=len(years) - i)  # fmt: skip
    ax.set_yticks([i * step for i in range(len(years))], [str(t) for t in years])
    ax.set_xlabel(var)
    ax.set_ylabel(panel.time)
    ax.set_title(title or f"Kernel density of {var} by year")
    return _finish(fig)


def markov_heatmap(
    result: MarkovResult | pd.DataFrame,
    *,
    annotate: bool = True,
    digits: int = 2,
    hide_zeros: bool = True,
    title: str | None = None,
    cmap: str = "Blues",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Heat map of a transition probability matrix.

    Parameters
    ----------
    result : MarkovResult or pandas.DataFrame
        A :func:`agglomera.describe.markov` result or a square probability table.
    annotate : bool, default True
        Write the probabilities in the cells.
    digits : int, default 2
        Decimals of the annotations.
    hide_zeros : bool, default True
        Leave cells with probability 0 (no transitions) unannotated.
    title : str, optional
        Figure title (default: "Transition probabilities").
    cmap : str, default "Blues"
        Colour map.
    figsize : tuple, optional
        Size in inches (default grows with the number of classes).

    Returns
    -------
    matplotlib.figure.Figure
    """
    probs = result.probabilities if isinstance(result, MarkovResult) else result
    values = probs.to_numpy(dtype=float)
    k = values.shape[0]
    if figsize is None:
        side = max(4.5, 0.6 * k + 2.5)
        figsize = (side + 1.0, side)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.nan_to_num(values, nan=0.0), cmap=cmap, vmin=0.0, vmax=1.0)
    size = 8 if k <= 6 else 6
    ax.set_xticks(range(k), [str(c) for c in probs.columns], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(c) for c in probs.index])
    ax.set_xlabel("class in t+1")
    ax.set_ylabel("class in t")
    if annotate:
        for i in range(k):
            for j in range(values.shape[1]):
                v = values[i, j]
                if np.isnan(v) or (hide_zeros and v == 0):
                    continue
                ax.text(j, i, f"{v:.{digits}f}", ha="center", va="center", fontsize=size,
                        color="white" if v > 0.6 else "black")  # fmt: skip
    fig.colorbar(image, ax=ax, label="probability")
    ax.set_title(title or "Transition probabilities")
    return _finish(fig)
