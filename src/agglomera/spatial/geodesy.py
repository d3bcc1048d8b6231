r"""Geodesy helpers: great-circle distance, bearing, compass labels, local projections.

Distances are great-circle distances on a sphere of radius :data:`EARTH_RADIUS_KM`
(6371.0088 km, the IUGG mean Earth radius); on the WGS84 ellipsoid distances differ by at
most about 0.5 %. Coordinates are longitude/latitude in degrees; the local planes have x
pointing east and y north, in km.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "COMPASS_8",
    "EARTH_RADIUS_KM",
    "bearing_deg",
    "compass_label",
    "coordinates",
    "great_circle_km",
    "project",
    "unproject",
]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
#: Eight-point compass labels, clockwise from north (each covers 45°, centred on its bearing).
COMPASS_8: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

Projection = Literal["aeqd", "equirectangular"]


# ---------------------------------------------------------------------- geometry helpers
def great_circle_km(
    lon1: Any, lat1: Any, lon2: Any, lat2: Any, *, radius: float = EARTH_RADIUS_KM
) -> Any:
    r"""Great-circle distance (haversine formula) in km.

    .. math:: d = 2R \arcsin\sqrt{\sin^2\tfrac{\Delta\varphi}{2} +
              \cos\varphi_1\cos\varphi_2\sin^2\tfrac{\Delta\lambda}{2}}

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : float or array-like
        Degrees; broadcast against each other.
    radius : float, default :data:`EARTH_RADIUS_KM`
        Sphere radius in km.

    Returns
    -------
    float or numpy.ndarray
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    d = 2 * radius * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r"""Return the initial great-circle bearing from point 1 to 2 (degrees clockwise from north).

    .. math:: \beta = \operatorname{atan2}\big(\sin\Delta\lambda\cos\varphi_2,\
              \cos\varphi_1\sin\varphi_2 - \sin\varphi_1\cos\varphi_2\cos\Delta\lambda\big)

    Returns a value in :math:`[0, 360)`; NaN when the two points coincide.
    """
    if lon1 == lon2 and lat1 == lat2:
        return math.nan
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlam = math.radians(lon2 - lon1)
    y = math.sin(dlam) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dlam)
    return math.degrees(math.atan2(y, x)) % 360.0


def compass_label(bearing: float) -> str:
    """Eight-point compass label of a bearing (N covers [337.5°, 22.5°), NE [22.5°, 67.5°), …).

    Returns ``""`` for NaN (no movement).
    """
    if not math.isfinite(bearing):
        return ""
    return COMPASS_8[int(((bearing % 360.0) + 22.5) // 45.0) % 8]


def _to_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _from_xyz(v: np.ndarray) -> tuple[float, float]:
    lon = math.degrees(math.atan2(v[1], v[0]))
    lat = math.degrees(math.atan2(v[2], math.hypot(v[0], v[1])))
    return lon, lat


def project(
    lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float, projection: Projection
) -> tuple[np.ndarray, np.ndarray]:
    r"""Project (lon, lat) to a local plane around (lon0, lat0); x east, y north, km.

    ``"aeqd"``: azimuthal equidistant (distance and azimuth from the centre exact);
    ``"equirectangular"``: :math:`x = R\Delta\lambda\cos\varphi_0`,
    :math:`y = R\Delta\varphi`.
    """
    if projection == "equirectangular":
        x = EARTH_RADIUS_KM * np.radians(lon - lon0) * math.cos(math.radians(lat0))
        y = EARTH_RADIUS_KM * np.radians(lat - lat0)
        return x, y
    # azimuthal equidistant: distance and azimuth from the centre are exact
    p0, p = math.radians(lat0), np.radians(lat)
    dlam = np.radians(lon - lon0)
    cos_c = np.clip(math.sin(p0) * np.sin(p) + math.cos(p0) * np.cos(p) * np.cos(dlam), -1.0, 1.0)
    c = np.arccos(cos_c)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(c > 1e-12, c / np.sin(c), 1.0)
    x = EARTH_RADIUS_KM * k * np.cos(p) * np.sin(dlam)
    y = EARTH_RADIUS_KM * k * (math.cos(p0) * np.sin(p) - math.sin(p0) * np.cos(p) * np.cos(dlam))
    return x, y


def unproject(
    x: float, y: float, lon0: float, lat0: float, projection: Projection
) -> tuple[float, float]:
    """Map a point of the local plane of :func:`project` back to (lon, lat) in degrees."""
    if projection == "equirectangular":
        lat = lat0 + math.degrees(y / EARTH_RADIUS_KM)
        lon = lon0 + math.degrees(x / (EARTH_RADIUS_KM * math.cos(math.radians(lat0))))
        return lon, lat
    rho = math.hypot(x, y)
    if rho < 1e-12:
        return lon0, lat0
    c = rho / EARTH_RADIUS_KM
    p0 = math.radians(lat0)
    lat = math.asin(math.cos(c) * math.sin(p0) + y * math.sin(c) * math.cos(p0) / rho)
    lon = math.radians(lon0) + math.atan2(
        x * math.sin(c), rho * math.cos(p0) * math.cos(c) - y * math.sin(p0) * math.sin(c)
    )
    return math.degrees(lon), math.degrees(lat)


# ---------------------------------------------------------------------- input handling
def _adcode(value: Any, where: str = "unit") -> str:
    """Return a unit code as an adcode key (:func:`agglomera.report.geometry.adcode_key`)."""
    from agglomera.report.geometry import adcode_key

    return adcode_key(value, where)


def _reference_lonlat(keys: list[str]) -> pd.DataFrame:
    """``lon``/``lat`` of :func:`agglomera.reference.cities` for adcode keys (NaN if unknown)."""
    from agglomera import reference

    table = reference.cities()
    table = table.assign(adcode=table["adcode"].astype(str)).drop_duplicates("adcode")
    return table.set_index("adcode")[["lon", "lat"]].reindex(keys)


def _load_coordinates(
    coords: Any, who: str | None = None, *, units: pd.Index | None = None
) -> tuple[pd.Index, np.ndarray, str]:
    """Read unit coordinates; return the units, an ``(n, 2)`` lon/lat array and the source.

    With ``units`` (the units of a panel): ``coords=None`` joins
    :func:`agglomera.reference.cities` on the units as adcodes; a frame is indexed by unit
    (or has the column ``units.name``). Without ``units`` (a weights constructor): a frame
    names its units by its index (only ``lon``/``lat`` as columns), its one other column or
    its ``adcode`` column; a sequence of adcodes is looked up in
    :func:`agglomera.reference.cities`. Errors name the offending units.
    """
    head = f"{who}: " if who else ""
    if isinstance(coords, pd.DataFrame):
        missing_cols = [c for c in ("lon", "lat") if c not in coords.columns]
        if missing_cols:
            raise DataError(
                f"{head}coords lacks column(s) {format_examples(missing_cols)}; it needs 'lon' "
                "and 'lat' in degrees (columns present: "
                f"{format_examples(list(coords.columns), limit=10)})."
            )
        if units is None:
            others = [c for c in coords.columns if c not in ("lon", "lat")]
            ids: pd.Index
            if not others:
                ids = pd.Index([_adcode(i, f"{head}coords index") for i in coords.index])
            elif len(others) == 1 or "adcode" in others:
                key = others[0] if len(others) == 1 else "adcode"
                ids = pd.Index([_adcode(i, f"{head}coords[{key!r}]") for i in coords[key]])
            else:
                raise DataError(
                    f"{head}coords has several id candidates {format_examples(others)}. Fix: "
                    "keep one unit column (or name it 'adcode') beside 'lon' and 'lat'."
                )
            values = coords[["lon", "lat"]].to_numpy()
            out = pd.DataFrame(values, index=ids, columns=["lon", "lat"])
        else:
            frame = coords
            if units.name is not None and units.name in coords.columns:
                frame = coords.set_index(units.name)
            if frame.index.has_duplicates:
                dup = list(frame.index[frame.index.duplicated()].unique())
                raise DataError(f"{head}coords has duplicated units: {format_examples(dup)}.")
            out = frame[["lon", "lat"]].reindex(units)
        source = "coords argument"
    elif (units is not None and coords is None) or (
        units is None and isinstance(coords, Sequence) and not isinstance(coords, str)
    ):
        listed = units if units is not None else list(coords or [])
        keys = [_adcode(u, f"{head}unit") for u in listed]
        out = _reference_lonlat(keys)
        out.index = units if units is not None else pd.Index(keys)
        source = "reference.cities() (joined on the unit as 6-digit adcodes)"
    elif units is None:
        raise SpecError(
            f"{head}coords must be a DataFrame (unit, lon, lat) or a list of adcodes; got "
            f"{type(coords).__name__}."
        )
    else:
        raise SpecError(
            "coords must be a pandas DataFrame indexed by unit (or with the unit as a "
            f"column) holding 'lon' and 'lat' in degrees; got {type(coords).__name__}."
        )
    ids = out.index
    lonlat = out[["lon", "lat"]].to_numpy(dtype=float)
    missing = ids[~np.isfinite(lonlat).all(axis=1)]
    if len(missing):
        raise DataError(
            f"{head}no coordinates for {len(missing)} units from {source}: "
            f"{format_examples(list(missing))}. Fix: pass coords= with 'lon'/'lat' for them "
            "(or harmonise the unit codes to adcodes)."
        )
    bad = ids[(np.abs(lonlat[:, 1]) > 90) | (np.abs(lonlat[:, 0]) > 180)]
    if len(bad):
        raise DataError(
            f"{head}coordinates out of range (|lat| <= 90, |lon| <= 180) for units "
            f"{format_examples(list(bad))}. Fix: check that lon and lat are not swapped."
        )
    return ids, lonlat, source


def coordinates(units: pd.Index, coords: pd.DataFrame | None) -> pd.DataFrame:
    """Return a frame indexed by unit with float ``lon``, ``lat``; errors name missing units.

    ``coords=None`` reads :func:`agglomera.reference.cities` and joins on the unit as
    6-digit adcode strings; otherwise ``coords`` is indexed by unit (or has the unit
    column) and holds ``lon``/``lat`` in degrees.
    """
    ids, lonlat, source = _load_coordinates(coords, units=units)
    out = pd.DataFrame(lonlat, index=ids, columns=["lon", "lat"])
    out.attrs["source"] = source
    return out
