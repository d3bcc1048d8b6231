r"""Figures of spatial autocorrelation: Moran scatter plot, LISA cluster map, Gi* hot-spot map.

Maps draw the polygons of :func:`agglomera.reference.boundaries` (simplified census
boundaries, parsed once per process) or user boundaries with matplotlib patches -- one
compound path per unit (every part and hole of a multipolygon) in a single
:class:`~matplotlib.collections.PatchCollection` whose ``gid`` is ``"units"``, in the
row order of the frame that is mapped. They are framed as the maps of
:mod:`agglomera.report.maps`: plain longitude/latitude with the aspect
:math:`1/\cos\varphi_0`, :math:`\varphi_0` the middle latitude of the view, and the CJK
font of :func:`agglomera.report.fonts.apply_fonts`.
Every function returns a :class:`matplotlib.figure.Figure` and never shows or saves it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch

from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, format_examples
from agglomera.report.fonts import apply_fonts
from agglomera.report.geometry import adcode_key
from agglomera.report.maps import _bbox, _new_map, _padded, _set_view, _unit_path
from agglomera.spatial._contiguity import _polygons
from agglomera.spatial.autocorrelation import NOT_SIGNIFICANT, _cross_section, _years
from agglomera.spatial.weights import align

__all__ = ["CLUSTER_COLOURS", "HOTSPOT_COLOURS", "hotspot_map", "lisa_map", "moran_scatter"]

#: Fill colours of the LISA clusters (GeoDa's palette).
CLUSTER_COLOURS: dict[str, str] = {
    "HH": "#d7191c",
    "LL": "#2c7bb6",
    "LH": "#abd9e9",
    "HL": "#fdae61",
    NOT_SIGNIFICANT: "#eeeeee",
}
#: Fill colours of the hot-spot classes.
HOTSPOT_COLOURS: dict[str, str] = {"hot": "#d7191c", "cold": "#2c7bb6", NOT_SIGNIFICANT: "#eeeeee"}


def moran_scatter(
    panel: Panel,
    var: str,
    w: Any,
    year: Any,
    *,
    labels: bool = False,
    figsize: tuple[float, float] = (5.5, 5.0),
) -> Figure:
    r"""Moran scatter plot: standardised values against their spatial lag.

    Parameters
    ----------
    panel : Panel
        City-year panel.
    var : str
        Variable.
    w : libpysal.weights.W or numpy.ndarray
        Weights, used in their current transform (row-standardised for the slope to
        equal Moran's I).
    year : int
        Cross-section.
    labels : bool, default False
        Annotate every point with its unit id.
    figsize : tuple, default (5.5, 5.0)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the points :math:`(z_i, \sum_j w_{ij} z_j)` with
        :math:`z = (y - \bar y)/s` (ddof = 0) in the order of the sorted units, the
        least-squares line through the origin (slope = Moran's I for row-standardised
        weights, shown in the title), the axes through zero and the quadrant names.

    Notes
    -----
    Anselin (1996), The Moran scatterplot as an ESDA tool to assess local instability
    in spatial association. In *Spatial Analytical Perspectives on GIS*, 111–125.
    """
    (yr,) = _years(panel, year, "moran_scatter")
    ids, values = _cross_section(panel, [var], yr, "moran_scatter")
    y = values[:, 0]
    if np.ptp(y) == 0:
        raise DataError(f"moran_scatter: {var!r} is constant in {yr}.")
    dense = align(w, ids)
    z = (y - y.mean()) / y.std()
    lag = dense @ z
    n = len(z)
    s0 = dense.sum()
    moran_i = n / s0 * (z @ lag) / (z @ z)
    slope = (z @ lag) / (z @ z)
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    ax.scatter(z, lag, s=18, color="#3b6ea5", alpha=0.8, edgecolors="none", gid="units")
    lim = 1.08 * max(np.abs(z).max(), np.abs(lag).max())
    grid = np.array([-lim, lim])
    ax.plot(grid, slope * grid, color="#b2182b", lw=1.2, gid="fit")
    ax.axhline(0, color="0.5", lw=0.7)
    ax.axvline(0, color="0.5", lw=0.7)
    for name, (qx, qy) in {"HH": (1, 1), "LH": (-1, 1), "LL": (-1, -1), "HL": (1, -1)}.items():
        ax.text(0.93 * lim * qx, 0.93 * lim * qy, name, ha="center", va="center", color="0.4")
    if labels:
        for uid, xi, yi in zip(ids, z, lag, strict=True):
            ax.annotate(uid, (xi, yi), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(f"{var} (standardised)")
    ax.set_ylabel(f"spatial lag of {var}")
    ax.set_title(f"Moran scatter plot, {yr}: I = {moran_i:.3f}")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- maps
def _draw_units(
    frame: pd.DataFrame,
    classes: pd.Series,
    colours: dict[str, str],
    boundaries: Any,
    title: str,
    figsize: tuple[float, float],
    who: str,
    context: bool,
) -> Figure:
    unit = frame.columns[0]
    ids = [adcode_key(u, f"{who}: unit") for u in frame[unit]]
    bids, polys = _polygons(boundaries, who)
    pos = {u: i for i, u in enumerate(bids)}
    missing = [u for u in ids if u not in pos or not polys[pos[u]]]
    if missing:
        raise DataError(
            f"{who}: no boundary polygon for units {format_examples(missing)}. Fix: pass "
            "boundaries= with these units (retired adcodes have no shipped polygon)."
        )
    unknown = sorted(set(classes) - set(colours))
    if unknown:
        raise DataError(f"{who}: unknown classes {format_examples(unknown)}.")
    mapped = [polys[pos[u]] for u in ids]
    fig, ax = _new_map(figsize)
    coll = PatchCollection(
        [PathPatch(_unit_path(p)) for p in mapped],
        facecolors=[colours[c] for c in classes],
        edgecolors="0.35",
        linewidths=0.3,
        gid="units",
    )
    ax.add_collection(coll)
    if context:
        drawn = set(ids)
        others = [_unit_path(p) for u, p in zip(bids, polys, strict=True) if u not in drawn and p]
        if others:
            back = PatchCollection(
                [PathPatch(p) for p in others],
                facecolors="white",
                edgecolors="0.75",
                linewidths=0.2,
                gid="context",
                zorder=0,
            )
            ax.add_collection(back)
    _set_view(ax, _padded(_bbox([part for p in mapped for part in p]), 0.03))
    counts = classes.value_counts()
    handles = [
        Patch(facecolor=col, edgecolor="0.35", label=f"{name} ({int(counts.get(name, 0))})")
        for name, col in colours.items()
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    ax.set_title(title)
    return apply_fonts(fig)


def lisa_map(
    lisa_frame: pd.DataFrame,
    boundaries: Any = None,
    *,
    title: str | None = None,
    context: bool = False,
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """LISA cluster map: units coloured by significant quadrant (HH, LL, LH, HL).

    Parameters
    ----------
    lisa_frame : pandas.DataFrame
        The result of :func:`agglomera.spatial.autocorrelation.lisa` (unit ids in the
        first column, ``cluster``).
    boundaries : None, DataFrame, GeoJSON mapping or path
        Polygons (see :func:`agglomera.spatial.weights.contiguity`); default the shipped
        census boundaries.
    title : str, optional
        Default: "LISA clusters of <var>, <year>".
    context : bool, default False
        Also draw the other polygons of ``boundaries`` (white, light edges, collection
        ``gid="context"``) for orientation; the view stays on the mapped units.
    figsize : tuple, default (7.0, 6.0)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The patch collection (``gid="units"``) holds one path per unit in the row order
        of ``lisa_frame``, filled with :data:`CLUSTER_COLOURS`; the legend counts units
        per class.
    """
    if not isinstance(lisa_frame, pd.DataFrame) or "cluster" not in lisa_frame.columns:
        raise SpecError("lisa_map: pass the DataFrame returned by lisa() (needs 'cluster').")
    if lisa_frame["cluster"].isna().any():
        raise SpecError(
            "lisa_map: the frame has no clusters (lisa() was run with permutations=0). "
            "Fix: run lisa() with permutations >= 99."
        )
    attrs = lisa_frame.attrs
    default = f"LISA clusters of {attrs.get('var', '')}, {attrs.get('year', '')}".strip(", ")
    return _draw_units(
        lisa_frame,
        lisa_frame["cluster"],
        CLUSTER_COLOURS,
        boundaries,
        title or default,
        figsize,
        "lisa_map",
        context,
    )


def hotspot_map(
    hotspot_frame: pd.DataFrame,
    boundaries: Any = None,
    *,
    year: Any = None,
    title: str | None = None,
    context: bool = False,
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """Getis–Ord hot-spot map: hot, cold and not significant units of one year.

    Parameters
    ----------
    hotspot_frame : pandas.DataFrame
        The result of :func:`agglomera.spatial.hotspots.getis_ord` (unit ids in the
        first column, time in the second, ``hotspot``).
    boundaries : None, DataFrame, GeoJSON mapping or path
        Polygons; default the shipped census boundaries.
    year : int, optional
        Needed when the frame holds several years.
    title : str, optional
        Default: "Gi* hot spots of <var>, <year>".
    context : bool, default False
        As in :func:`lisa_map`.
    figsize : tuple, default (7.0, 6.0)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        As :func:`lisa_map`, coloured with :data:`HOTSPOT_COLOURS`.
    """
    if not isinstance(hotspot_frame, pd.DataFrame) or "hotspot" not in hotspot_frame.columns:
        raise SpecError("hotspot_map: pass the DataFrame returned by getis_ord().")
    time = hotspot_frame.columns[1]
    years = sorted(pd.unique(hotspot_frame[time]))
    if year is None:
        if len(years) > 1:
            raise SpecError(
                f"hotspot_map: the frame holds {len(years)} years ({years[0]}–{years[-1]}); "
                "pass year=."
            )
        year = years[0]
    frame = hotspot_frame[hotspot_frame[time] == year]
    if frame.empty:
        raise DataError(f"hotspot_map: year {year!r} is not in the frame; years: {years}.")
    attrs = hotspot_frame.attrs
    name = "Gi*" if attrs.get("star", True) else "Gi"
    default = f"{name} hot spots of {attrs.get('var', '')}, {year}"
    return _draw_units(
        frame.reset_index(drop=True),
        frame["hotspot"].reset_index(drop=True),
        HOTSPOT_COLOURS,
        boundaries,
        title or default,
        figsize,
        "hotspot_map",
        context,
    )
