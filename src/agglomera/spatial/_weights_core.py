"""Shared pieces of the spatial weights constructors (see :mod:`agglomera.spatial.weights`)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.spatial.geodesy import EARTH_RADIUS_KM, _load_coordinates, great_circle_km

Islands = Literal["knn", "error", "keep"]


def _libpysal_weights() -> Any:
    try:
        return importlib.import_module("libpysal.weights")
    except ImportError as exc:  # pragma: no cover - libpysal is a declared extra
        raise SpecError("spatial weights need libpysal: pip install 'agglomera[spatial]'.") from exc


# ----------------------------------------------------------------------------- geometry
def great_circle(lonlat: np.ndarray, *, radius: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Return the matrix of haversine great-circle distances (km) between points.

    Parameters
    ----------
    lonlat : numpy.ndarray
        Shape ``(n, 2)``: longitude and latitude in degrees.
    radius : float, default :data:`EARTH_RADIUS_KM`
        Radius of the sphere in km.

    Returns
    -------
    numpy.ndarray
        Symmetric ``(n, n)`` matrix with zeros on the diagonal
        (:func:`agglomera.spatial.geodesy.great_circle_km` broadcast over all pairs).
    """
    pts = np.asarray(lonlat, dtype=float)
    lon, lat = pts[:, 0], pts[:, 1]
    out = np.array(
        great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :], radius=radius),
        dtype=float,
        ndmin=2,
    )
    np.fill_diagonal(out, 0.0)
    return out


def _coords(coords: Any, who: str) -> tuple[list[str], np.ndarray]:
    """Return ids and an ``(n, 2)`` lon/lat array from a frame or a list of adcodes."""
    ids, lonlat, _ = _load_coordinates(coords, who)
    _check_ids(list(ids), who)
    return [str(i) for i in ids], lonlat


def _check_ids(ids: Sequence[str], who: str) -> None:
    if len(ids) < 2:
        raise DataError(f"{who}: spatial weights need at least two units; got {len(ids)}.")
    seen = pd.Index(ids)
    if seen.has_duplicates:
        dups = sorted(set(seen[seen.duplicated()]))
        raise DataError(
            f"{who}: duplicated unit ids {format_examples(dups)}. Fix: one row per unit."
        )


def _distances(ids: list[str], lonlat: np.ndarray, radius: float, who: str) -> np.ndarray:
    d = great_circle(lonlat, radius=radius)
    off = ~np.eye(len(ids), dtype=bool)
    zero = np.argwhere((d == 0) & off)
    if len(zero):
        pairs = [(ids[i], ids[j]) for i, j in zero if i < j]
        raise DataError(
            f"{who}: units at the same coordinates (distance 0): {format_examples(pairs)}. "
            "Fix: correct the coordinates or merge the units."
        )
    return d


# ----------------------------------------------------------------------------- building W
def _to_w(
    dense: np.ndarray,
    ids: list[str],
    *,
    row_standardise: bool,
    meta: dict[str, Any],
) -> Any:
    """Build a libpysal W from a dense matrix (zero = not a neighbour)."""
    lw = _libpysal_weights()
    neighbors: dict[str, list[str]] = {}
    weights: dict[str, list[float]] = {}
    for i, uid in enumerate(ids):
        cols = np.flatnonzero(dense[i])
        neighbors[uid] = [ids[j] for j in cols]
        weights[uid] = [float(dense[i, j]) for j in cols]
    w = lw.W(neighbors, weights, id_order=list(ids), silence_warnings=True)
    if row_standardise:
        w.transform = "r"
    w.meta = {**meta, "row_standardised": bool(row_standardise)}
    return w


def _islands_of(dense: np.ndarray, ids: list[str]) -> list[str]:
    return [ids[i] for i in np.flatnonzero(~(dense != 0).any(axis=1))]


def _handle_islands(
    dense: np.ndarray,
    ids: list[str],
    lonlat: np.ndarray,
    islands: str,
    k: int,
    radius: float,
    who: str,
    fix: str,
) -> tuple[np.ndarray, list[str], str]:
    """Apply the islands rule; return the matrix, the island ids and a note."""
    if islands not in ("knn", "error", "keep"):
        raise SpecError(f"{who}: islands must be 'knn', 'error' or 'keep'; got {islands!r}.")
    found = _islands_of(dense, ids)
    if not found:
        return dense, [], ""
    if islands == "error":
        raise DataError(
            f"{who}: units without neighbours (islands): {format_examples(found, limit=10)}. "
            f"Fix: {fix}, islands='knn' to link them to their nearest units, or "
            "islands='keep' to leave them without neighbours."
        )
    if islands == "keep":
        note = (
            f"{len(found)} island(s) kept without neighbours: {', '.join(found)}; their "
            "spatial lag is 0"
        )
        return dense, found, note
    if not 1 <= k < len(ids):
        raise SpecError(f"{who}: k must be between 1 and {len(ids) - 1}; got {k}.")
    d = great_circle(lonlat, radius=radius)
    out = dense.copy()
    links = []
    for uid in found:
        i = ids.index(uid)
        order = [j for j in np.argsort(d[i], kind="stable") if j != i][:k]
        for j in order:
            out[i, j] = out[j, i] = 1.0 if out[j, i] == 0 else out[j, i]
            links.append(f"{uid}–{ids[j]}")
    note = (
        f"{len(found)} island(s) linked to their {k} nearest unit(s) by centroid distance "
        f"(weight 1, both directions): {', '.join(links)}"
    )
    return out, found, note
