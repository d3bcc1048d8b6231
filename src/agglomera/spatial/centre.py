r"""Gravity-centre migration and the standard deviational ellipse of a weighted point pattern.

Each unit (city) is a point :math:`(\lambda_i, \varphi_i)` (longitude, latitude in degrees)
carrying a weight :math:`w_{it}` (e.g. high-tech employment or R&D spending in year
:math:`t`). :func:`gravity_centre` traces the weighted mean centre year by year (the
"gravity-centre migration" of the regional-science literature) and :func:`std_ellipse`
summarises the dispersion and orientation of the pattern with the standard deviational
ellipse (Lefever 1926; Yuill 1971).

Coordinates default to :func:`agglomera.reference.cities` (``lon``, ``lat``), joined on
the unit as 6-digit adcode strings; ``coords=`` supplies any other table.

Distances are great-circle distances on a sphere of radius :data:`EARTH_RADIUS_KM`
(6371.0088 km, the IUGG mean Earth radius); on the WGS84 ellipsoid distances differ by at
most about 0.5 %.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from agglomera.data.checks import require_panel
from agglomera.data.panel import Panel
from agglomera.errors import DataError, SpecError, check_choice, format_examples
from agglomera.spatial.geodesy import (
    COMPASS_8,
    EARTH_RADIUS_KM,
    Projection,
    _from_xyz,
    _to_xyz,
    bearing_deg,
    compass_label,
    great_circle_km,
)
from agglomera.spatial.geodesy import coordinates as _coordinates
from agglomera.spatial.geodesy import project as _project
from agglomera.spatial.geodesy import unproject as _unproject

__all__ = [
    "COMPASS_8",
    "EARTH_RADIUS_KM",
    "CentreResult",
    "EllipseResult",
    "bearing_deg",
    "compass_label",
    "ellipse_xy",
    "gravity_centre",
    "great_circle_km",
    "std_ellipse",
]

CentreMethod = Literal["sphere", "planar"]
Correction = Literal["none", "sqrt2"]
Dof = Literal["n", "n-2"]


def _weights(panel: Panel, weight: str, year: int | None, fn: str) -> pd.DataFrame:
    require_panel(panel, fn)
    if not isinstance(weight, str):
        raise SpecError(f"weight must be a column name; got {weight!r}.")
    frame = panel.to_frame()
    if weight not in frame.columns:
        panel.column(weight)  # DataError with close matches
    values = frame[weight]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise DataError(f"weight {weight!r} must be numeric; it has dtype {values.dtype}.")
    out = frame[[panel.unit, panel.time, weight]].rename(
        columns={panel.unit: "unit", panel.time: "time", weight: "w"}
    )
    if year is not None:
        if int(year) not in set(panel.times.tolist()):
            raise DataError(
                f"year={year!r} is not in the panel ({panel.times.min()}–{panel.times.max()})."
            )
        out = out[out["time"] == int(year)]
    w = out["w"].to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = out.loc[bad, ["unit", "time"]].head(5)
        raise DataError(
            f"weight {weight!r} must be finite and non-negative; {int(bad.sum())} rows are "
            f"not, e.g. (unit, time) {format_examples(list(rows.itertuples(index=False, name=None)))}. "  # noqa: E501
            "Nothing is dropped silently. Fix: drop or fill those rows explicitly "
            "(Panel.subset(where=...))."
        )
    sums = out.groupby("time")["w"].sum()
    zero = sums.index[sums.to_numpy() <= 0]
    if len(zero):
        raise DataError(
            f"weight {weight!r} sums to zero in period(s) {format_examples(list(zero))}; the "
            "weighted centre is undefined there. Fix: drop those periods."
        )
    out = out.assign(w=w.astype(float))
    return out.reset_index(drop=True)


def _periods(
    panel: Panel, weight: str, year: int | None, coords: Any, fn: str
) -> tuple[list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]], Any]:
    """Per period (sorted) its units' longitude, latitude and weight; the coords' source."""
    data = _weights(panel, weight, year, fn)
    units = pd.Index(sorted(data["unit"].unique()), name=panel.unit)
    xy = _coordinates(units, coords)
    lon = xy["lon"].reindex(data["unit"]).to_numpy()
    lat = xy["lat"].reindex(data["unit"]).to_numpy()
    periods = []
    for t_key, idx_raw in data.groupby("time", sort=True).indices.items():
        idx = np.asarray(idx_raw)
        periods.append((cast(Any, t_key), lon[idx], lat[idx], data["w"].to_numpy()[idx]))
    return periods, xy.attrs.get("source", "")


# ---------------------------------------------------------------------- gravity centre
@dataclass(frozen=True)
class CentreResult:
    """Year-by-year weighted mean centre and its migration path (from :func:`gravity_centre`).

    Attributes
    ----------
    path : pandas.DataFrame
        One row per period: ``time``, ``lon``, ``lat`` (centre, degrees), ``total_weight``,
        ``n_units``, ``distance_km`` (great-circle step from the previous period; NaN in
        the first), ``bearing_deg`` (initial bearing of the step, clockwise from north),
        ``direction`` (8-point compass label), ``cumulative_km`` (path length so far).
    total_km : float
        Path length over the whole window.
    net_km : float
        Great-circle distance between the first and the last centre.
    net_bearing_deg : float
        Bearing from the first to the last centre.
    meta : dict
        ``weight``, ``method``, ``coords_source``, ``earth_radius_km``.
    """

    path: pd.DataFrame = field(repr=False)
    total_km: float
    net_km: float
    net_bearing_deg: float
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return :attr:`path` (a copy)."""
        return self.path.copy()

    def summary(self) -> str:
        """Return a plain-text description of the path."""
        p = self.path
        first, last = p.iloc[0], p.iloc[-1]
        return "\n".join(
            [
                f"Gravity centre of {self.meta.get('weight')!s} ({self.meta.get('method')} "
                f"mean), {int(first['time'])}–{int(last['time'])}",
                f"  from ({first['lon']:.4f}E, {first['lat']:.4f}N) to ({last['lon']:.4f}E, "
                f"{last['lat']:.4f}N): net {self.net_km:.2f} km towards "
                f"{compass_label(self.net_bearing_deg) or '-'} "
                f"({self.net_bearing_deg:.1f}°); path length {self.total_km:.2f} km",
            ]
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def gravity_centre(
    panel: Panel,
    weight: str,
    *,
    coords: pd.DataFrame | None = None,
    method: CentreMethod = "sphere",
) -> CentreResult:
    r"""Weighted mean centre ("gravity centre") by period and its migration path.

    Parameters
    ----------
    panel : Panel
        Unit-period panel; units are matched to coordinates.
    weight : str
        Non-negative numeric column (missing or negative values are an error).
    coords : pandas.DataFrame, optional
        ``lon``/``lat`` (degrees) indexed by unit, or with the unit column. Default:
        :func:`agglomera.reference.cities` joined on the unit as adcodes.
    method : {"sphere", "planar"}, default "sphere"
        ``"sphere"``: the weighted mean of the unit vectors
        :math:`\mathbf u_i = (\cos\varphi_i\cos\lambda_i, \cos\varphi_i\sin\lambda_i,
        \sin\varphi_i)`, :math:`\bar{\mathbf u}_t = \sum_i w_{it}\mathbf u_i / \sum_i w_{it}`,
        projected back to the sphere (:math:`\bar\lambda = \operatorname{atan2}(\bar u_2,
        \bar u_1)`, :math:`\bar\varphi = \operatorname{atan2}(\bar u_3,
        \sqrt{\bar u_1^2 + \bar u_2^2})`): the point that minimises the weighted sum of
        squared chord distances; it does not depend on where the coordinate origin is.
        ``"planar"``: the weighted mean of longitudes and latitudes,
        :math:`\bar\lambda = \sum w\lambda/\sum w`, :math:`\bar\varphi = \sum w\varphi /
        \sum w`, the formula of most of the Chinese gravity-centre literature. For a
        country-sized pattern the two differ by a few km.

    Returns
    -------
    CentreResult

    Raises
    ------
    DataError
        For a missing/non-numeric/negative weight, a period whose weights sum to zero, or
        units without coordinates (named).

    Notes
    -----
    Step distance: great-circle (haversine) distance between consecutive centres;
    direction: the initial great-circle bearing :math:`\beta` (clockwise from north) and
    its 8-point compass label (N = :math:`[337.5°, 22.5°)`, NE = :math:`[22.5°, 67.5°)`, …).

    References
    ----------
    Lefever, D. W. (1926). Measuring geographic concentration by means of the standard
    deviational ellipse. *American Journal of Sociology* 32(1), 88–94.
    """
    check_choice("method", method, ("sphere", "planar"))
    periods, coords_source = _periods(panel, weight, None, coords, "gravity_centre")
    rows: list[dict[str, Any]] = []
    for t, lon, lat, w in periods:
        c_lon, c_lat = _centre(lon, lat, w, method)
        rows.append(
            {
                "time": int(t),
                "lon": c_lon,
                "lat": c_lat,
                "total_weight": float(w.sum()),
                "n_units": int(w.size),
            }
        )
    path = pd.DataFrame(rows)
    dist = [math.nan]
    bear = [math.nan]
    for k in range(1, len(path)):
        a, b = path.iloc[k - 1], path.iloc[k]
        dist.append(float(great_circle_km(a["lon"], a["lat"], b["lon"], b["lat"])))
        bear.append(bearing_deg(a["lon"], a["lat"], b["lon"], b["lat"]))
    path["distance_km"] = dist
    path["bearing_deg"] = bear
    path["direction"] = [compass_label(b) for b in bear]
    path["cumulative_km"] = np.nan_to_num(np.asarray(dist, dtype=float)).cumsum()
    first, last = path.iloc[0], path.iloc[-1]
    return CentreResult(
        path=path,
        total_km=float(path["cumulative_km"].iloc[-1]),
        net_km=float(great_circle_km(first["lon"], first["lat"], last["lon"], last["lat"])),
        net_bearing_deg=bearing_deg(first["lon"], first["lat"], last["lon"], last["lat"]),
        meta={
            "weight": weight,
            "method": method,
            "coords_source": coords_source,
            "earth_radius_km": EARTH_RADIUS_KM,
        },
    )


def _centre(lon: np.ndarray, lat: np.ndarray, w: np.ndarray, method: str) -> tuple[float, float]:
    if method == "planar":
        return float(w @ lon / w.sum()), float(w @ lat / w.sum())
    v = w @ _to_xyz(lon, lat) / w.sum()
    if np.linalg.norm(v) < 1e-12:
        raise DataError(
            "the weighted mean of the unit vectors is at the Earth's centre (antipodal "
            "points); the spherical centre is undefined. Use method='planar'."
        )
    return _from_xyz(v)


# ---------------------------------------------------------------------- ellipse
def ellipse_xy(
    x: Any,
    y: Any,
    w: Any = None,
    *,
    correction: Correction = "none",
    dof: Dof = "n",
) -> dict[str, float]:
    r"""Compute the standard deviational ellipse of weighted points in a plane (x east, y north).

    Parameters
    ----------
    x, y : array-like
        Planar coordinates (e.g. km).
    w : array-like, optional
        Non-negative weights (default 1).
    correction : {"none", "sqrt2"}, default "none"
        ``"sqrt2"`` multiplies both standard distances by :math:`\sqrt 2` (ArcGIS
        Directional Distribution since 10.0); ``"none"`` is the classic definition.
    dof : {"n", "n-2"}, default "n"
        Divisor of the variances: :math:`\sum w` (``"n"``) or, for ``"n-2"``, the
        variances are multiplied by :math:`n/(n-2)` with :math:`n` the number of points.

    Returns
    -------
    dict
        ``x``, ``y`` (weighted mean centre), ``sigma_x`` (standard distance perpendicular
        to the rotation axis), ``sigma_y`` (along it: the semi-major axis), ``theta``
        (degrees clockwise from north of the major axis, in :math:`[0, 180)`),
        ``semi_major``, ``semi_minor``, ``area`` (:math:`\pi\sigma_x\sigma_y`),
        ``shape_index`` (:math:`\sigma_{minor}/\sigma_{major}` in (0, 1]; 1 = circle).

    Notes
    -----
    With deviations :math:`\tilde x_i = x_i - \bar x`, :math:`\tilde y_i = y_i - \bar y`
    and :math:`A = \sum w\tilde x^2 - \sum w\tilde y^2`, :math:`C = 2\sum w\tilde x\tilde y`,

    .. math:: \tan\theta = \frac{A + \sqrt{A^2 + C^2}}{C},\qquad
              \sigma_x = \sqrt{\frac{\sum w (\tilde x\cos\theta - \tilde y\sin\theta)^2}
              {\sum w}},\quad
              \sigma_y = \sqrt{\frac{\sum w (\tilde x\sin\theta + \tilde y\cos\theta)^2}
              {\sum w}}

    (Yuill 1971), so :math:`\sigma_y^2, \sigma_x^2` are the eigenvalues of the weighted
    covariance matrix and :math:`\theta` is the bearing of the leading eigenvector.
    Computed here by the eigen-decomposition, which also covers :math:`C = 0`
    (:math:`\theta = 90°` when the spread is east–west, 0° otherwise).
    """
    check_choice("correction", correction, ("none", "sqrt2"))
    check_choice("dof", dof, ("n", "n-2"))
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    wa = np.ones_like(xa) if w is None else np.asarray(w, dtype=float)
    if not (xa.shape == ya.shape == wa.shape) or xa.ndim != 1:
        raise SpecError("x, y and w must be 1-D arrays of the same length.")
    n = xa.size
    if dof == "n-2" and n <= 2:
        raise DataError(f"dof='n-2' needs at least 3 points; got {n}.")
    if n < 2:
        raise DataError(f"the ellipse needs at least 2 points; got {n}.")
    wsum = wa.sum()
    xb, yb = float(wa @ xa / wsum), float(wa @ ya / wsum)
    dx, dy = xa - xb, ya - yb
    sxx, syy, sxy = (wa @ (dx * dx)) / wsum, (wa @ (dy * dy)) / wsum, (wa @ (dx * dy)) / wsum
    if dof == "n-2":
        sxx, syy, sxy = (v * n / (n - 2) for v in (sxx, syy, sxy))
    cov = np.array([[sxx, sxy], [sxy, syy]])
    vals, vecs = np.linalg.eigh(cov)
    lam_major, lam_minor = float(max(vals[1], 0.0)), float(max(vals[0], 0.0))
    ex, ey = vecs[:, 1]
    scale = 1e-12 * max(lam_major, 1e-300)
    if abs(sxy) <= scale:  # axis-aligned: avoid eigenvector sign noise
        theta = 90.0 if sxx > syy else 0.0
    else:
        theta = math.degrees(math.atan2(ex, ey)) % 180.0
    factor = math.sqrt(2.0) if correction == "sqrt2" else 1.0
    major = factor * math.sqrt(lam_major)
    minor = factor * math.sqrt(lam_minor)
    return {
        "x": xb,
        "y": yb,
        "sigma_x": minor,
        "sigma_y": major,
        "theta": theta,
        "semi_major": major,
        "semi_minor": minor,
        "area": math.pi * major * minor,
        "shape_index": minor / major if major > 0 else math.nan,
    }


@dataclass(frozen=True)
class EllipseResult:
    """Standard deviational ellipses by period (from :func:`std_ellipse`).

    Attributes
    ----------
    ellipses : pandas.DataFrame
        One row per period: ``time``, ``lon``, ``lat`` (ellipse centre = weighted mean
        centre in the local plane, mapped back to degrees), ``sigma_x``, ``sigma_y`` (km;
        ``sigma_y`` along the rotation axis = semi-major), ``theta`` (degrees clockwise from
        north of the major axis, :math:`[0, 180)`), ``semi_major``, ``semi_minor``,
        ``area_km2``, ``shape_index`` (minor/major), ``n_units``, ``total_weight``,
        ``proj_lon``, ``proj_lat`` (the projection centre).
    meta : dict
        ``weight``, ``projection``, ``correction``, ``dof``, ``coords_source``.
    """

    ellipses: pd.DataFrame = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return :attr:`ellipses` (a copy)."""
        return self.ellipses.copy()

    def outline(self, time: int, n: int = 181) -> pd.DataFrame:
        """Return ``n`` points (``lon``, ``lat``) on the ellipse of period ``time``.

        Points are laid out in the local plane and mapped back with the same projection.
        """
        rows = self.ellipses[self.ellipses["time"] == int(time)]
        if rows.empty:
            raise DataError(
                f"no ellipse for time={time!r}; available: "
                f"{format_examples(self.ellipses['time'].tolist())}."
            )
        r = rows.iloc[0]
        proj: Projection = self.meta["projection"]
        cx, cy = _project(
            np.array([r["lon"]]), np.array([r["lat"]]), r["proj_lon"], r["proj_lat"], proj
        )
        th = math.radians(r["theta"])
        s = np.linspace(0, 2 * math.pi, n)
        # major axis direction (sin th, cos th) in (east, north); minor perpendicular
        u = r["semi_major"] * np.cos(s)
        v = r["semi_minor"] * np.sin(s)
        px = cx[0] + u * math.sin(th) + v * math.cos(th)
        py = cy[0] + u * math.cos(th) - v * math.sin(th)
        pts = [
            _unproject(a, b, r["proj_lon"], r["proj_lat"], proj)
            for a, b in zip(px, py, strict=True)
        ]
        return pd.DataFrame(pts, columns=["lon", "lat"])

    def summary(self) -> str:
        """Return a plain-text table of the ellipses."""
        cols = ["time", "lon", "lat", "semi_major", "semi_minor", "theta", "area_km2"]
        head = (
            f"Standard deviational ellipse of {self.meta.get('weight')!s} "
            f"(projection {self.meta.get('projection')}, correction "
            f"{self.meta.get('correction')}, dof {self.meta.get('dof')}; theta clockwise "
            "from north)"
        )
        return head + "\n" + self.ellipses[cols].to_string(index=False, float_format="%.4f")

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def std_ellipse(
    panel: Panel,
    weight: str,
    *,
    year: int | None = None,
    coords: pd.DataFrame | None = None,
    projection: Projection = "aeqd",
    correction: Correction = "none",
    dof: Dof = "n",
) -> EllipseResult:
    r"""Compute the standard deviational ellipse of the weighted unit locations, by period.

    Parameters
    ----------
    panel : Panel
        Unit-period panel.
    weight : str
        Non-negative numeric column.
    year : int, optional
        One period only (default: every period).
    coords : pandas.DataFrame, optional
        ``lon``/``lat`` by unit (default :func:`agglomera.reference.cities`).
    projection : {"aeqd", "equirectangular"}, default "aeqd"
        Local plane in which the ellipse is computed, centred on the period's spherical
        weighted mean centre (:func:`gravity_centre`, ``method="sphere"``): ``"aeqd"``
        azimuthal equidistant (distances and bearings from the centre are exact);
        ``"equirectangular"`` :math:`x = R\Delta\lambda\cos\varphi_0`,
        :math:`y = R\Delta\varphi`.
    correction : {"none", "sqrt2"}, default "none"
        ``"none"``: the classic standard distances (Lefever 1926; Yuill 1971), as in most
        of the applied literature; ``"sqrt2"``: multiplied by :math:`\sqrt 2`, as ArcGIS
        Directional Distribution does since version 10.0 (so that its one-standard-
        deviation ellipse covers about 63 % of bivariate-normal points rather than 39 %).
    dof : {"n", "n-2"}, default "n"
        Variance divisor: :math:`\sum w` or the :math:`n/(n-2)` degrees-of-freedom
        correction (a small-sample variant found in some software; check which one a
        comparison uses).

    Returns
    -------
    EllipseResult

    Notes
    -----
    The formulas are those of :func:`ellipse_xy`. Convention for the angle: :math:`\theta`
    is the orientation of the major axis measured **clockwise from north** ("from noon",
    the ArcGIS Rotation field), in :math:`[0°, 180°)`; ``sigma_y`` is the standard
    distance along that axis and ``sigma_x`` perpendicular to it. The ellipse centre is
    the weighted mean in the local plane (it differs from the spherical centre by well
    under a km for a country-sized pattern).

    References
    ----------
    Lefever, D. W. (1926). *American Journal of Sociology* 32(1), 88–94.
    Yuill, R. S. (1971). The standard deviational ellipse: an updated tool for spatial
    description. *Geografiska Annaler B* 53(1), 28–39.
    """
    check_choice("projection", projection, ("aeqd", "equirectangular"))
    check_choice("correction", correction, ("none", "sqrt2"))
    check_choice("dof", dof, ("n", "n-2"))
    periods, coords_source = _periods(panel, weight, year, coords, "std_ellipse")
    rows: list[dict[str, Any]] = []
    for t, lon, lat, w in periods:
        lon0, lat0 = _centre(lon, lat, w, "sphere")
        px, py = _project(lon, lat, lon0, lat0, projection)
        e = ellipse_xy(px, py, w, correction=correction, dof=dof)
        c_lon, c_lat = _unproject(e["x"], e["y"], lon0, lat0, projection)
        rows.append(
            {
                "time": int(t),
                "lon": c_lon,
                "lat": c_lat,
                "sigma_x": e["sigma_x"],
                "sigma_y": e["sigma_y"],
                "theta": e["theta"],
                "semi_major": e["semi_major"],
                "semi_minor": e["semi_minor"],
                "area_km2": e["area"],
                "shape_index": e["shape_index"],
                "n_units": int(w.size),
                "total_weight": float(w.sum()),
                "proj_lon": lon0,
                "proj_lat": lat0,
            }
        )
    return EllipseResult(
        ellipses=pd.DataFrame(rows),
        meta={
            "weight": weight,
            "projection": projection,
            "correction": correction,
            "dof": dof,
            "coords_source": coords_source,
        },
    )
