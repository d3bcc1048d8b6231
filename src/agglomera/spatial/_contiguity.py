"""Contiguity weights from polygons (see :mod:`agglomera.spatial.weights`)."""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, check_choice, format_examples
from agglomera.report.geometry import (
    Polygons,
    _geojson_polygons,
    _shipped,
    adcode_key,
    parse_wkt,
)
from agglomera.spatial._weights_core import (
    EARTH_RADIUS_KM,
    Islands,
    _check_ids,
    _handle_islands,
    _libpysal_weights,
    _to_w,
)


# ----------------------------------------------------------------------------- polygons
def _rings_of(geom: Any, where: str) -> Polygons:
    """Return the rings of WKT or a shapely (Multi)Polygon; ``[]`` for None, NaN or empty."""
    if isinstance(geom, str):
        return parse_wkt(geom)
    if geom is None or (isinstance(geom, float) and math.isnan(geom)):
        return []
    kind = getattr(geom, "geom_type", None)
    if kind not in ("Polygon", "MultiPolygon"):
        raise DataError(
            f"{where}: geometry {kind or type(geom).__name__!r} is not supported; pass WKT or "
            "shapely Polygon/MultiPolygon geometries."
        )
    out: Polygons = []
    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty:
            continue
        rings = []
        for ring in (part.exterior, *part.interiors):
            arr = np.ascontiguousarray(np.asarray(ring.coords, dtype=float)[:, :2])
            arr.setflags(write=False)
            rings.append(arr)
        out.append(rings)
    return out


def _polygons(boundaries: Any, who: str) -> tuple[list[str], list[Polygons]]:
    """Return ids and polygons from None (shipped), a frame, a GeoJSON mapping or a path."""
    if boundaries is None:
        shipped = _shipped()
        return list(shipped), list(shipped.values())
    if isinstance(boundaries, str | Path):
        path = Path(boundaries)
        if not path.is_file():
            raise DataError(f"{who}: boundaries file {str(path)!r} does not exist.")
        boundaries = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(boundaries, Mapping):
        feats = boundaries.get("features")
        if not isinstance(feats, list):
            raise DataError(f"{who}: a GeoJSON boundary mapping needs a 'features' list.")
        no_code = [i for i, f in enumerate(feats) if "adcode" not in (f.get("properties") or {})]
        if no_code:
            raise DataError(
                f"{who}: GeoJSON features without an 'adcode' property at positions "
                f"{format_examples(no_code)}. Fix: add the unit code as properties.adcode."
            )
        ids = [
            adcode_key(f["properties"]["adcode"], f"{who}: feature {i}")
            for i, f in enumerate(feats)
        ]
        polys = [
            _geojson_polygons(f.get("geometry") or {}, f"{who}: feature {i}")
            for i, f in enumerate(feats)
        ]
    elif isinstance(boundaries, pd.DataFrame):
        if "geometry" not in boundaries.columns:
            raise DataError(
                f"{who}: boundaries has no 'geometry' column; columns are "
                f"{format_examples(list(boundaries.columns), limit=10)}. Fix: pass WKT or "
                "shapely geometries in 'geometry' beside an 'adcode' column."
            )
        key = "adcode" if "adcode" in boundaries.columns else None
        if key is None:
            others = [c for c in boundaries.columns if c != "geometry"]
            if len(others) != 1:
                raise DataError(
                    f"{who}: boundaries needs an 'adcode' column (or exactly one id column "
                    "beside 'geometry')."
                )
            key = others[0]
        ids = [adcode_key(i, f"{who}: boundaries[{key!r}]") for i in boundaries[key]]
        polys = [
            _rings_of(g, f"{who}: boundaries row {i}") for i, g in enumerate(boundaries["geometry"])
        ]
    else:
        raise SpecError(
            f"{who}: boundaries must be None (shipped census polygons), a DataFrame "
            f"(adcode, geometry), a GeoJSON mapping or path; got {type(boundaries).__name__}."
        )
    _check_ids(ids, who)
    return ids, polys


def _shapes(polys: Sequence[Polygons], who: str) -> list[Any]:
    """Build shapely geometries of polygons (None where a unit has none)."""
    try:
        geometry = importlib.import_module("shapely.geometry")
    except ImportError as exc:  # pragma: no cover - shapely comes with libpysal
        raise SpecError(f"{who} needs shapely (installed with libpysal).") from exc
    out: list[Any] = []
    for unit in polys:
        parts = [geometry.Polygon(rings[0], rings[1:]) for rings in unit]
        out.append(
            None if not parts else parts[0] if len(parts) == 1 else geometry.MultiPolygon(parts)
        )
    return out


@cache
def _shipped_shapes(who: str) -> tuple[list[str], list[Any]]:
    """Ids and shapely geometries of the shipped boundaries, built once per process."""
    ids, polys = _polygons(None, who)
    return ids, _shapes(polys, who)


def _geometries(boundaries: Any, who: str) -> tuple[list[str], list[Any]]:
    """Return ids and shapely geometries (the shipped ones are cached)."""
    if boundaries is None:
        ids, geoms = _shipped_shapes(who)
        return list(ids), list(geoms)
    ids, polys = _polygons(boundaries, who)
    return ids, _shapes(polys, who)


def contiguity(
    boundaries: Any = None,
    kind: Literal["queen", "rook"] = "queen",
    islands: Islands = "knn",
    k: int = 1,
    units: Sequence[Any] | None = None,
    *,
    row_standardise: bool = True,
    radius: float = EARTH_RADIUS_KM,
) -> Any:
    """Contiguity weights from polygons (by default the shipped census boundaries).

    Parameters
    ----------
    boundaries : None, pandas.DataFrame, GeoJSON mapping or path
        ``None`` uses :func:`agglomera.reference.boundaries` (simplified 2020 census
        polygons). A frame needs ``adcode`` and ``geometry`` (WKT or shapely); GeoJSON
        features need ``properties.adcode``.
    kind : {"queen", "rook"}, default "queen"
        Queen: sharing at least one boundary point; rook: sharing an edge.
    islands : {"knn", "error", "keep"}, default "knn"
        Units without a contiguous neighbour (舟山 330900 among Zhejiang's cities):
        ``"knn"`` links each to its ``k`` nearest units by polygon-centroid great-circle
        distance, in both directions with weight 1; ``"error"`` raises naming them;
        ``"keep"`` leaves them without neighbours (spatial lag 0). ``meta["islands"]``
        lists them and ``meta["note"]`` says what was done.
    k : int, default 1
        Neighbours given to each island under ``islands="knn"``.
    units : sequence, optional
        Restrict to these unit ids (e.g. a panel's cities), in this order; contiguity is
        computed among them only.
    row_standardise : bool, default True
        Divide each row by its sum.
    radius : float, default :data:`EARTH_RADIUS_KM`
        Earth radius (km) for the island rule.

    Returns
    -------
    libpysal.weights.W
        Binary before standardisation.

    Notes
    -----
    Contiguity is found by shared polygon vertices (queen) or shared edges (rook) with
    libpysal (the rule of R ``spdep::poly2nb``); the shipped polygons were simplified
    with shared borders preserved. Administrative boundaries include sea areas, so
    cities facing each other across a bay may be neighbours (嘉兴 and 宁波 share a
    border in Hangzhou Bay).
    """
    who = "weights.contiguity"
    check_choice("kind", kind, ("queen", "rook"), fn=who)
    check_choice("islands", islands, ("knn", "error", "keep"), fn=who)
    ids, geoms = _geometries(boundaries, who)
    if units is not None:
        pos = {u: i for i, u in enumerate(ids)}
        # ids are compared as adcode keys: 110100, 110100.0 and "110100" match alike
        wanted = [adcode_key(u, f"{who}: units") for u in units]
        missing = [u for u in wanted if u not in pos]
        if missing:
            raise DataError(
                f"{who}: units without a boundary polygon: {format_examples(missing)}. Retired "
                "codes (e.g. 341400 巢湖) have none. Fix: harmonise the panel to current "
                "boundaries (agglomera.data.boundaries.harmonise_boundaries) or pass your own."
            )
        _check_ids(wanted, who)
        geoms = [geoms[pos[u]] for u in wanted]
        ids = wanted
    bad = [ids[i] for i, g in enumerate(geoms) if g is None or g.is_empty]
    if bad:
        raise DataError(f"{who}: empty geometries for units {format_examples(bad)}.")
    lw = _libpysal_weights()
    cls = lw.Queen if kind == "queen" else lw.Rook
    raw = cls.from_iterable(geoms, ids=ids, silence_warnings=True)
    dense = np.zeros((len(ids), len(ids)))
    pos = {u: i for i, u in enumerate(ids)}
    for uid, nbs in raw.neighbors.items():
        for nb in nbs:
            dense[pos[str(uid)], pos[str(nb)]] = 1.0
    centroids = np.array([[g.centroid.x, g.centroid.y] for g in geoms])
    dense, found, note = _handle_islands(
        dense,
        ids,
        centroids,
        islands,
        k,
        radius,
        who,
        "pass distance or k-nearest-neighbour weights",
    )
    meta = {
        "kind": "contiguity",
        "contiguity": kind,
        "islands": found,
        "islands_rule": islands,
        "k": k,
        "note": note,
        "boundaries": "agglomera.reference.boundaries()" if boundaries is None else "user",
    }
    return _to_w(dense, ids, row_standardise=row_standardise, meta=meta)
