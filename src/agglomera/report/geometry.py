"""Unit polygons for the maps: a small WKT reader and a GeoJSON reader (no shapely).

The shipped simplified census boundaries (:func:`agglomera.reference.boundaries`) are WKT
``POLYGON``/``MULTIPOLYGON`` strings in longitude/latitude; :func:`parse_wkt` turns one into
rings and :func:`load_boundaries` parses the whole table once per process (cached). A user
GeoJSON file (Polygon/MultiPolygon features whose property ``adcode_property`` holds the
adcode) or a DataFrame shaped like the shipped table overrides them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["Polygons", "adcode_key", "load_boundaries", "parse_wkt"]

#: One unit's geometry: a list of polygons, each a list of rings (exterior first, then
#: holes), each ring an ``(n, 2)`` array of longitude/latitude.
Polygons = list[list[np.ndarray]]


# ---------------------------------------------------------------------- WKT
def _nest(body: str, wkt: str) -> Any:
    """Turn ``((a, b), (c))`` into nested lists whose leaves are the innermost texts."""
    stack: list[list[Any]] = [[]]
    start = 0
    for i, ch in enumerate(body):
        if ch == "(":
            stack.append([])
            start = i + 1
        elif ch == ")":
            if len(stack) < 2:
                raise DataError(f"unbalanced parentheses in WKT {wkt[:60]!r}.")
            inner = stack.pop()
            stack[-1].append(inner if inner else body[start:i])
    if len(stack) != 1 or len(stack[0]) != 1 or body.strip()[-1:] != ")":
        raise DataError(f"unbalanced parentheses in WKT {wkt[:60]!r}.")
    return stack[0][0]


def _ring(text: str, wkt: str) -> np.ndarray:
    points = [p.split() for p in text.split(",")]
    dims = {len(p) for p in points}
    if len(dims) != 1 or dims.pop() not in (2, 3, 4) or len(points) < 3:
        raise DataError(
            f"malformed ring in WKT {wkt[:60]!r}: each point needs 2 (to 4) numbers and a "
            "ring at least 3 points."
        )
    try:
        ring = np.array([[float(p[0]), float(p[1])] for p in points], dtype=float)
    except ValueError:
        raise DataError(f"non-numeric coordinate in WKT {wkt[:60]!r}.") from None
    ring.setflags(write=False)
    return ring


def parse_wkt(wkt: str) -> Polygons:
    """Parse a WKT ``POLYGON`` or ``MULTIPOLYGON`` into rings.

    Parameters
    ----------
    wkt : str
        Well-known text, e.g. ``"POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))"``
        (OGC Simple Features, ISO 19125-1). ``Z``/``M`` coordinates are read and dropped;
        ``EMPTY`` gives an empty list.

    Returns
    -------
    list of list of numpy.ndarray
        One entry per polygon; each is a list of rings (exterior first, then holes), each
        ring an ``(n, 2)`` read-only array of x/y as written (closing point kept).

    Raises
    ------
    DataError
        If the text is not a POLYGON/MULTIPOLYGON or is malformed.
    """
    text = wkt.strip()
    match = re.match(r"(?i)^(MULTIPOLYGON|POLYGON)\s*(ZM|Z|M)?\s*", text)
    if match is None:
        raise DataError(
            f"only WKT POLYGON and MULTIPOLYGON are supported; got {text[:40]!r}. Convert "
            "other geometry types before mapping."
        )
    kind = match.group(1).upper()
    body = text[match.end() :]
    if body.upper() == "EMPTY":
        return []
    nested = _nest(body, text)
    polygons = [nested] if kind == "POLYGON" else nested
    out: Polygons = []
    for polygon in polygons:
        if not isinstance(polygon, list) or not all(isinstance(r, str) for r in polygon):
            raise DataError(f"malformed {kind} nesting in WKT {text[:60]!r}.")
        out.append([_ring(r, text) for r in polygon])
    return out


# ---------------------------------------------------------------------- GeoJSON
def _geojson_polygons(geometry: Mapping[str, Any], where: str) -> Polygons:
    kind = geometry.get("type") if isinstance(geometry, Mapping) else None
    coords = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = list(coords or [])
    else:
        raise DataError(
            f"{where}: geometry type {kind!r} is not supported; only Polygon and "
            "MultiPolygon features can be mapped."
        )
    out: Polygons = []
    for polygon in polygons:
        rings = []
        for ring in polygon or []:
            arr = np.asarray(ring, dtype=float)
            if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] < 3:
                raise DataError(f"{where}: malformed ring (need >= 3 [lon, lat] positions).")
            arr = np.ascontiguousarray(arr[:, :2])
            arr.setflags(write=False)
            rings.append(arr)
        out.append(rings)
    return out


def adcode_key(value: Any, where: str) -> str:
    """Return an adcode as a string (integers as their digits); raise DataError otherwise."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    raise DataError(f"{where}: adcode {value!r} is neither a string nor an integer.")


def _read_geojson(path: Path, adcode_property: str) -> dict[str, Polygons]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read GeoJSON {str(path)!r}: {exc}") from None
    features = data.get("features") if isinstance(data, Mapping) else None
    if data.get("type") == "Feature":
        features = [data]
    if not isinstance(features, list):
        raise DataError(f"{str(path)!r} is not a GeoJSON FeatureCollection.")
    out: dict[str, Polygons] = {}
    missing = []
    for i, feature in enumerate(features):
        props = feature.get("properties") or {}
        if adcode_property not in props:
            missing.append(i)
            continue
        where = f"{path.name} feature {i}"
        key = adcode_key(props[adcode_property], where)
        # several features of one adcode (e.g. islands stored apart) form one unit
        out.setdefault(key, []).extend(_geojson_polygons(feature.get("geometry") or {}, where))
    if missing:
        raise DataError(
            f"{len(missing)} feature(s) of {str(path)!r} lack the property "
            f"{adcode_property!r} (first: {format_examples(missing)}); pass "
            "adcode_property= naming the property that holds the adcode."
        )
    return out


@cache
def _shipped() -> dict[str, Polygons]:
    from agglomera import reference

    table = reference.boundaries()
    return {
        adcode_key(code, "reference.boundaries()"): parse_wkt(str(geom))
        for code, geom in zip(table["adcode"], table["geometry"], strict=True)
        if isinstance(geom, str) and geom
    }


def load_boundaries(
    boundaries: str | Path | pd.DataFrame | None = None, *, adcode_property: str = "adcode"
) -> dict[str, Polygons]:
    """Return the unit polygons, keyed by adcode.

    Parameters
    ----------
    boundaries : None, path or DataFrame, default None
        None: the shipped census boundaries (parsed once per process). A path
        (``.geojson``/``.json``): a GeoJSON FeatureCollection of Polygon/MultiPolygon
        features; features sharing an adcode are joined into one unit. A DataFrame:
        columns ``adcode`` and ``geometry`` (WKT), like
        :func:`agglomera.reference.boundaries`.
    adcode_property : str, default "adcode"
        GeoJSON property holding the adcode (e.g. ``"adcode"`` in the DataV/Aliyun
        files, ``"ct_adcode"`` elsewhere). Integer values are read as their digits.

    Returns
    -------
    dict
        ``{adcode: polygons}`` (see :func:`parse_wkt`).
    """
    if boundaries is None:
        return dict(_shipped())
    if isinstance(boundaries, pd.DataFrame):
        for col in ("adcode", "geometry"):
            if col not in boundaries.columns:
                raise DataError(
                    f"boundaries has no column {col!r}; it needs 'adcode' and 'geometry' "
                    "(WKT), like agglomera.reference.boundaries()."
                )
        out: dict[str, Polygons] = {}
        for i, (code, geom) in enumerate(
            zip(boundaries["adcode"], boundaries["geometry"], strict=True)
        ):
            out.setdefault(adcode_key(code, f"boundaries row {i}"), []).extend(parse_wkt(str(geom)))
        return out
    if isinstance(boundaries, (str, Path)):
        path = Path(boundaries)
        if not path.is_file():
            raise DataError(f"boundaries file {str(path)!r} does not exist.")
        return _read_geojson(path, adcode_property)
    raise SpecError(
        "boundaries must be None (shipped), a GeoJSON path or a DataFrame with adcode and "
        f"geometry; got {type(boundaries).__name__}."
    )
