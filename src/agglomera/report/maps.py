r"""City maps for the report: choropleth and bubble map on the census boundaries.

The polygons are the shipped simplified census boundaries
(:func:`agglomera.reference.boundaries`, WKT in longitude/latitude) parsed by the small WKT
reader :func:`parse_wkt` (no shapely needed), or a user GeoJSON file (``boundaries=path``,
Polygon/MultiPolygon features whose property ``adcode_property`` holds the adcode), or a
DataFrame shaped like the shipped table (``adcode``, ``geometry`` WKT).

Projection
----------
The maps are drawn in plain longitude/latitude (equirectangular) with the axes' aspect
set to :math:`1/\cos\varphi_0`, :math:`\varphi_0` the latitude at the middle of the drawn
extent: one degree of latitude is drawn :math:`1/\cos\varphi_0` times as long as one
degree of longitude, as on the ground at :math:`\varphi_0`. Shapes are true at
:math:`\varphi_0` and stretched east–west by :math:`\cos\varphi_0/\cos\varphi` away
from it (for China's extent, 18°–54°N with :math:`\varphi_0 = 36°`: +38 % at 54°N,
−15 % at 18°N; a province spanning 5° of latitude: a few percent). The scale bar is
exact at :math:`\varphi_0` along the east–west direction, using a spherical Earth of mean
radius 6371.0088 km (1° = 111.195 km). This is the usual quick-look map of statistical
reports; use a GIS for measurements.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, Colormap, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.report.fonts import apply_fonts
from agglomera.report.geometry import Polygons, adcode_key, load_boundaries, parse_wkt
from agglomera.report.labels import check_language
from agglomera.spatial.geodesy import EARTH_RADIUS_KM

__all__ = [
    "EARTH_RADIUS_KM",
    "Polygons",
    "bubble_map",
    "choropleth",
    "load_boundaries",
    "parse_wkt",
]

KM_PER_DEGREE = 2.0 * math.pi * EARTH_RADIUS_KM / 360.0

_BACKDROP = "0.88"
_EDGE = "white"


# ---------------------------------------------------------------------- drawing helpers
def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _unit_path(polygons: Polygons) -> MplPath:
    """One compound path per unit: exteriors counter-clockwise, holes clockwise."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for polygon in polygons:
        for k, ring in enumerate(polygon):
            ccw = _signed_area(ring) > 0
            pts = ring if ccw == (k == 0) else ring[::-1]
            c = np.full(len(pts) + 1, MplPath.LINETO, dtype=np.uint8)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(np.vstack([pts, pts[:1]]))
            codes.append(c)
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _bbox(polygons: Polygons) -> tuple[float, float, float, float]:
    pts = np.concatenate([ring for polygon in polygons for ring in polygon])
    return (
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    )


def _normalise_values(values: pd.Series | pd.DataFrame, value: str | None) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        frame = values
        if "adcode" in frame.columns:
            frame = frame.set_index("adcode")
        cols = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if value is None:
            if len(cols) != 1:
                raise DataError(
                    "values has several numeric columns; pass value= naming the one to map "
                    f"(numeric columns: {format_examples(cols)})."
                )
            value = str(cols[0])
        if value not in frame.columns:
            raise DataError(f"values has no column {value!r}.")
        series = frame[value]
    elif isinstance(values, pd.Series):
        series = values
    else:
        raise SpecError(
            "values must be a pandas Series indexed by adcode or a DataFrame with an adcode "
            f"column; got {type(values).__name__}."
        )
    keys = [adcode_key(k, "values index") for k in series.index]
    dup = pd.Index(keys)[pd.Index(keys).duplicated()].unique().tolist()
    if dup:
        raise DataError(
            f"values has duplicated adcodes {format_examples(dup)}; pass one value per unit "
            "(e.g. select one year first)."
        )
    if not pd.api.types.is_numeric_dtype(series):
        raise DataError(f"the mapped values must be numeric; got dtype {series.dtype}.")
    return pd.Series(series.to_numpy(dtype=float), index=pd.Index(keys, name="adcode"))


def _check_polygons(units: Sequence[str], polys: Mapping[str, Polygons]) -> None:
    missing = [u for u in units if u not in polys or not polys[u]]
    if missing:
        raise DataError(
            f"{len(missing)} adcode(s) have no polygon in the boundaries: "
            f"{format_examples(missing)}. Pass boundaries= with polygons for them (a GeoJSON "
            "file or a DataFrame), or drop them from the values."
        )


def _new_map(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    return fig, ax


def _frame_map(
    ax: Axes,
    extent: tuple[float, float, float, float],
    polys: Mapping[str, Polygons],
    drawn: set[str],
    pad: float,
    language: str,
) -> None:
    """Set limits, aspect, the grey backdrop of the other units and the scale bar."""
    x0, y0, x1, y1 = _padded(extent, pad)
    for code, polygons in polys.items():
        if code in drawn or not polygons:
            continue
        bx0, by0, bx1, by1 = _bbox(polygons)
        if bx1 < x0 or bx0 > x1 or by1 < y0 or by0 > y1:
            continue
        patch = PathPatch(
            _unit_path(polygons), facecolor=_BACKDROP, edgecolor=_EDGE, linewidth=0.3, zorder=1
        )
        patch.set_gid(f"backdrop-{code}")
        ax.add_artist(patch)  # limits are set explicitly: skip the costly autoscale
    phi0 = _set_view(ax, (x0, y0, x1, y1))
    _scale_bar(ax, x0, x1, y0, y1, phi0, language)


def _padded(
    extent: tuple[float, float, float, float], pad: float
) -> tuple[float, float, float, float]:
    """Widen ``(x0, y0, x1, y1)`` by ``pad`` times its width/height (at least 0.5°) per side."""
    x0, y0, x1, y1 = extent
    dx = max(x1 - x0, 0.5) * pad
    dy = max(y1 - y0, 0.5) * pad
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _set_view(ax: Axes, view: tuple[float, float, float, float]) -> float:
    """Set the limits to ``view`` and the aspect to 1/cos(phi0); return phi0 (middle latitude)."""
    x0, y0, x1, y1 = view
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    phi0 = 0.5 * (y0 + y1)
    ax.set_aspect(1.0 / math.cos(math.radians(phi0)))
    return phi0


def _scale_bar(
    ax: Axes, x0: float, x1: float, y0: float, y1: float, phi0: float, language: str
) -> None:
    km_per_deg = KM_PER_DEGREE * math.cos(math.radians(phi0))
    target = (x1 - x0) * km_per_deg / 5.0
    exp = 10 ** math.floor(math.log10(target))
    length = max(m * exp for m in (1, 2, 5) if m * exp <= target)
    deg = length / km_per_deg
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.add_line(
        Line2D([bx, bx + deg], [by, by], color="black", linewidth=2, zorder=5, gid="scale-bar")
    )
    ax.text(
        bx,
        by + 0.015 * (y1 - y0),
        _scale_note(length, phi0, language),
        fontsize=7,
        va="bottom",
        zorder=5,
        gid="scale-note",
    )


def _scale_note(length: float, phi0: float, language: str) -> str:
    if language == "zh":
        return f"{length:g} km（{'北' if phi0 >= 0 else '南'}纬 {abs(phi0):.0f}°）"
    return f"{length:g} km (at {abs(phi0):.0f}°{'N' if phi0 >= 0 else 'S'})"


def _cmap(cmap: str | Colormap) -> Colormap:
    return colormaps[cmap] if isinstance(cmap, str) else cmap


def _class_breaks(data: np.ndarray, classes: int | Sequence[float]) -> np.ndarray:
    if isinstance(classes, (int, np.integer)) and not isinstance(classes, bool):
        if classes < 2:
            raise SpecError(f"classes must be at least 2; got {classes}.")
        breaks = np.quantile(data, np.linspace(0.0, 1.0, int(classes) + 1))
        if np.any(np.diff(breaks) <= 0):
            raise DataError(
                f"{classes} quantile classes have tied break points {np.round(breaks, 6)}; "
                "use fewer classes or pass explicit breaks (classes=[b0, b1, ...])."
            )
        return np.asarray(breaks, dtype=float)
    if isinstance(classes, bool) or not isinstance(classes, (Sequence, np.ndarray)):
        raise SpecError(f"classes must be None, an int or a sequence of breaks; got {classes!r}.")
    breaks = np.asarray(list(classes), dtype=float)
    if breaks.size < 3 or np.any(np.diff(breaks) <= 0):
        raise SpecError("explicit classes must be >= 3 strictly increasing break points.")
    return breaks


# ---------------------------------------------------------------------- choropleth
def choropleth(
    values: pd.Series | pd.DataFrame,
    *,
    value: str | None = None,
    boundaries: str | Path | pd.DataFrame | None = None,
    adcode_property: str = "adcode",
    cmap: str | Colormap = "viridis",
    classes: int | Sequence[float] | None = None,
    title: str | None = None,
    legend_label: str | None = None,
    missing: str = "grey",
    missing_label: str | None = None,
    pad: float = 0.05,
    language: str = "en",
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    r"""Choropleth map of one value per city.

    Parameters
    ----------
    values : pandas.Series or pandas.DataFrame
        A Series indexed by adcode, or a DataFrame with an ``adcode`` column (or adcode
        index) and the value column. Every adcode must have a polygon.
    value : str, optional
        Value column of a DataFrame (default: its only numeric column).
    boundaries : None, path or DataFrame, default None
        Polygons (see :func:`load_boundaries`); None uses the shipped census boundaries.
    adcode_property : str, default "adcode"
        GeoJSON property naming the adcode (only for a GeoJSON ``boundaries``).
    cmap : str or Colormap, default "viridis"
        Colour map.
    classes : None, int or sequence of float, default None
        None: continuous colours from the minimum to the maximum with a colour bar. An
        int ``k``: ``k`` quantile classes (break points ``numpy.quantile`` at
        :math:`0, 1/k, \dots, 1` of the non-missing values, linear interpolation), each
        class one colour. A sequence: explicit break points (every value must lie within).
        Classes are closed on the left, :math:`[b_k, b_{k+1})`, the last one also on the
        right.
    title, legend_label : str, optional
        Title and colour-bar label.
    missing : colour, default "grey"
        Fill of units whose value is NaN (listed in the legend as ``missing_label``).
    missing_label : str, optional
        Legend text for missing values (default "no data" / "无数据").
    pad : float, default 0.05
        Margin around the mapped units, as a share of the extent.
    language : {"en", "zh"}, default "en"
        Language of the texts the map writes itself (scale note, "no data").
    figsize : tuple, default (7, 6)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One :class:`~matplotlib.patches.PathPatch` per mapped unit (``gid`` = adcode),
        light-grey patches (``gid`` = ``"backdrop-<adcode>"``) for the other units within
        the extent, a colour bar and a scale bar (see the module docstring for the
        projection).

    Raises
    ------
    DataError
        Adcodes without polygon (named), duplicated adcodes, non-numeric values, values
        outside explicit class breaks, tied quantile breaks.
    """
    lang = check_language(language)
    series = _normalise_values(values, value)
    if series.empty:
        raise DataError("values is empty; nothing to map.")
    polys = load_boundaries(boundaries, adcode_property=adcode_property)
    _check_polygons(list(series.index), polys)
    data = series.dropna().to_numpy()
    colormap = _cmap(cmap)
    norm: Normalize
    breaks: np.ndarray | None = None
    if classes is None:
        lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 1.0)
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    else:
        if data.size == 0:
            raise DataError("all values are missing; classes cannot be formed.")
        breaks = _class_breaks(data, classes)
        outside = series[(series < breaks[0]) | (series > breaks[-1])].index.tolist()
        if outside:
            raise DataError(
                f"values of {format_examples(outside)} lie outside the class breaks "
                f"[{breaks[0]:g}, {breaks[-1]:g}]; widen the breaks."
            )
        colormap = colormap.resampled(len(breaks) - 1)
        norm = BoundaryNorm(breaks, ncolors=len(breaks) - 1)
    fig, ax = _new_map(figsize)
    boxes = []
    for code, v in series.items():
        if math.isnan(v):
            face = to_rgba(missing)
        elif breaks is None:
            face = colormap(norm(v))
        else:  # classes are [b_k, b_k+1), the last one closed
            face = colormap(min(int(np.searchsorted(breaks, v, side="right")) - 1, breaks.size - 2))
        patch = PathPatch(
            _unit_path(polys[str(code)]), facecolor=face, edgecolor="white", linewidth=0.4
        )
        patch.set_zorder(2)
        patch.set_gid(str(code))
        ax.add_artist(patch)  # limits are set explicitly: skip the costly autoscale
        boxes.append(_bbox(polys[str(code)]))
    arr = np.array(boxes)
    extent = (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())
    _frame_map(ax, extent, polys, set(series.index), pad, lang)
    mappable = ScalarMappable(norm=norm, cmap=colormap)
    fig.colorbar(mappable, ax=ax, shrink=0.7, label=legend_label or "")
    if series.isna().any():
        missing_label = missing_label or ("无数据" if lang == "zh" else "no data")
        ax.legend(
            handles=[
                Patch(
                    facecolor=missing,
                    edgecolor="white",
                    label=missing_label,
                )
            ],
            loc="lower right",
            frameon=False,
            fontsize=8,
        )
    if title:
        ax.set_title(title)
    return apply_fonts(fig)


# ---------------------------------------------------------------------- bubble map
def _labels_for(
    codes: Sequence[str], labels: str | Mapping[str, str] | None, frame: pd.DataFrame
) -> dict[str, str]:
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return {c: str(labels[c]) for c in codes if c in labels}
    if labels in frame.columns:
        return {c: str(frame.loc[c, labels]) for c in codes}
    from agglomera import reference

    table = reference.cities().set_index("adcode")
    if labels not in table.columns:
        raise SpecError(
            f"labels={labels!r} is neither a column of values nor of reference.cities() "
            "(e.g. 'name_en', 'name_cn')."
        )
    return {c: str(table.loc[c, labels]) for c in codes if c in table.index}


def bubble_map(
    values: pd.DataFrame | pd.Series,
    *,
    sizes: str,
    colors: str | None = None,
    labels: str | Mapping[str, str] | None = None,
    boundaries: str | Path | pd.DataFrame | None = None,
    adcode_property: str = "adcode",
    cmap: str | Colormap = "viridis",
    max_size: float = 600.0,
    size_legend: Sequence[float] | None = None,
    title: str | None = None,
    legend_label: str | None = None,
    size_label: str | None = None,
    pad: float = 0.08,
    language: str = "en",
    figsize: tuple[float, float] = (7.0, 6.0),
) -> Figure:
    """Bubble map: one circle per city at its reference coordinates over the boundaries.

    Parameters
    ----------
    values : pandas.DataFrame or pandas.Series
        Indexed by adcode or with an ``adcode`` column (a Series is a one-column frame
        named after it).
    sizes : str
        Column giving the bubble **area** (non-negative): area in points² is
        ``max_size * value / max(value)``.
    colors : str, optional
        Numeric column mapped through ``cmap`` (with a colour bar); None draws one colour.
    labels : None, column, reference column or mapping
        City labels written beside the bubbles: a column of ``values``, a column of
        :func:`agglomera.reference.cities` (``"name_en"``, ``"name_cn"``) or a mapping.
    boundaries, adcode_property
        Backdrop polygons (see :func:`load_boundaries`).
    cmap : str or Colormap, default "viridis"
        Colour map for ``colors``.
    max_size : float, default 600
        Area (points²) of the largest bubble.
    size_legend : sequence of float, optional
        Values shown in the size legend (default: three rounded values spanning the data).
    title, legend_label, size_label : str, optional
        Title, colour-bar label, size-legend title (default: ``sizes``).
    pad : float, default 0.08
        Margin around the bubbles, as a share of the extent.
    language : {"en", "zh"}, default "en"
        Language of the texts the map writes itself (scale note, "no data").
    figsize : tuple, default (7, 6)
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One scatter collection of the bubbles (gid ``"bubbles"``, offsets = lon/lat in the
        order of ``values``), grey backdrop patches of the units within the extent, a size
        legend and a scale bar.

    Raises
    ------
    DataError
        Adcodes without reference coordinates (named), negative or missing sizes.
    """
    from agglomera import reference

    lang = check_language(language)
    frame = values.to_frame() if isinstance(values, pd.Series) else values.copy()
    if "adcode" in frame.columns:
        frame = frame.set_index("adcode")
    frame.index = pd.Index([adcode_key(k, "values index") for k in frame.index], name="adcode")
    if frame.index.duplicated().any():
        dup = frame.index[frame.index.duplicated()].unique().tolist()
        raise DataError(f"values has duplicated adcodes {format_examples(dup)}.")
    for col in (sizes, colors):
        if col is not None and col not in frame.columns:
            raise DataError(f"values has no column {col!r} (columns: {list(frame.columns)}).")
    size_values = frame[sizes].to_numpy(dtype=float)
    bad = frame.index[~np.isfinite(size_values) | (size_values < 0)].tolist()
    if bad:
        raise DataError(
            f"sizes column {sizes!r} must be finite and non-negative; offending adcodes "
            f"{format_examples(bad)}. Drop them or map them with choropleth()."
        )
    cities = reference.cities().set_index("adcode")
    codes = list(frame.index)
    no_xy = [
        c for c in codes if c not in cities.index or cities.loc[c, ["lon", "lat"]].isna().any()
    ]
    if no_xy:
        raise DataError(
            f"{len(no_xy)} adcode(s) have no coordinates in reference.cities(): "
            f"{format_examples(no_xy)}. Drop them from the values."
        )
    lon = cities.loc[codes, "lon"].to_numpy(dtype=float)
    lat = cities.loc[codes, "lat"].to_numpy(dtype=float)
    top = float(size_values.max()) if size_values.size else 0.0
    scale = max_size / top if top > 0 else 0.0
    polys = load_boundaries(boundaries, adcode_property=adcode_property)
    fig, ax = _new_map(figsize)
    kwargs: dict[str, Any] = {}
    if colors is not None:
        kwargs = {"c": frame[colors].to_numpy(dtype=float), "cmap": _cmap(cmap)}
    else:
        kwargs = {"color": "C3"}
    sc = ax.scatter(
        lon,
        lat,
        s=size_values * scale,
        alpha=0.75,
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
        **kwargs,
    )
    sc.set_gid("bubbles")
    if colors is not None:
        fig.colorbar(sc, ax=ax, shrink=0.7, label=legend_label or colors)
    for code, text in _labels_for(codes, labels, frame).items():
        i = codes.index(code)
        ax.annotate(text, (lon[i], lat[i]), xytext=(4, 4), textcoords="offset points",
                    fontsize=7, zorder=4)  # fmt: skip
    extent = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    _frame_map(ax, extent, polys, set(), pad, lang)
    marks = list(size_legend) if size_legend is not None else _nice_marks(top)
    handles = [
        ax.scatter(
            [], [], s=m * scale, color="none", edgecolors="black", linewidths=0.5, label=f"{m:g}"
        )
        for m in marks
        if m > 0
    ]
    if handles:
        ax.legend(handles=handles, title=size_label or sizes, loc="lower right", frameon=False,
                  fontsize=8, title_fontsize=8, labelspacing=1.2)  # fmt: skip
    if title:
        ax.set_title(title)
    return apply_fonts(fig)


def _nice_marks(top: float) -> list[float]:
    """Three round values (1, 2, 5 × 10^k) up to ``top`` for the size legend."""
    if top <= 0 or not math.isfinite(top):
        return []
    exp = 10 ** math.floor(math.log10(top))
    high = max(m * exp for m in (1, 2, 5, 10) if m * exp <= top)
    return [float(f"{high / 5:.2g}"), float(f"{high / 2:.2g}"), float(high)]
