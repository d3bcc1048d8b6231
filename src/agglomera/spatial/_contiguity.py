"""Contiguity weights from polygons (see :mod:`agglomera.spatial.weights`)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.spatial._weights_core import (
    EARTH_RADIUS_KM,
    Islands,
    _check_ids,
    _handle_islands,
    _libpysal_weights,
    _to_w,
)


# ----------------------------------------------------------------------------- contiguity
def _geometries(boundaries: Any, who: str) -> tuple[list[str], list[Any]]:
    """Return ids and shapely geometries from a frame, a GeoJSON mapping or a path."""
    try:
        shapely = importlib.import_module("shapely")
        geometry = importlib.import_module("shapely.geometry")
    except ImportError as exc:  # pragma: no cover - shapely comes with libpysal
        raise SpecError(f"{who} needs shapely (installed with libpysal).") from exc
    if boundaries is None:
        from agglomera import reference

        boundaries = reference.boundaries()
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
        ids = [str(f["properties"]["adcode"]) for f in feats]
        geoms = [geometry.shape(f["geometry"]) for f in feats]
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
        ids = [str(i) for i in boundaries[key]]
        geoms = [shapely.from_wkt(g) if isinstance(g, str) else g for g in boundaries["geometry"]]
    else:
        raise SpecError(
            f"{who}: boundaries must be None (shipped census polygons), a DataFrame "
            f"(adcode, geometry), a GeoJSON mapping or path; got {type(boundaries).__name__}."
        )
    _check_ids(ids, who)
    return ids, geoms


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
    if kind not in ("queen", "rook"):
        raise SpecError(f"{who}: kind must be 'queen' or 'rook'; got {kind!r}.")
    if islands not in ("knn", "error", "keep"):
        raise SpecError(f"{who}: islands must be 'knn', 'error' or 'keep'; got {islands!r}.")
    ids, geoms = _geometries(boundaries, who)
    if units is not None:
        from agglomera.data.panel import _as_adcode

        pos = {u: i for i, u in enumerate(ids)}
        # ids are compared as strings; an integer adcode such as 110100 also matches
        wanted = [str(u) if str(u) in pos else _as_adcode(u) for u in units]
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
