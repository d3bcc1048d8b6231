r"""Spatial weights for city panels: distance, k-nearest neighbours, economic, nested, contiguity.

Every constructor returns a :class:`libpysal.weights.W` (libpysal is in the optional
extra ``spatial``) whose ids are the units' identifiers (6-character adcode strings for
Chinese cities) and whose attribute ``meta`` (a dict) records how it was built:
``kind``, the arguments, ``row_standardised`` and, where relevant, ``islands`` (units
that had no neighbour) and how they were handled. Row-standardisation is an argument of
every constructor (default ``True``: rows sum to one, the usual choice in spatial
econometrics; ``False`` keeps the raw weights).

Coordinates are longitude/latitude in degrees. Distances are great-circle distances on a
sphere of radius :data:`EARTH_RADIUS_KM` = 6371.0088 km (the IUGG mean Earth radius) by
the haversine formula

.. math:: d_{ij} = 2R \arcsin\sqrt{\sin^2\frac{\varphi_j-\varphi_i}{2}
          + \cos\varphi_i\cos\varphi_j\sin^2\frac{\lambda_j-\lambda_i}{2}}.

:func:`align` returns the dense matrix of a ``W`` ordered like a panel's units; the
spatial panel models call it.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.spatial import _weights_core as _core
from agglomera.spatial._contiguity import contiguity
from agglomera.spatial._weights_core import (
    Islands,
    _check_ids,
    _coords,
    _distances,
    _islands_of,
    _to_w,
    great_circle,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "align",
    "contiguity",
    "distance",
    "economic",
    "from_matrix",
    "great_circle",
    "knn",
    "nested",
    "read",
]

#: Mean Earth radius (IUGG), km, used for every great-circle distance.
EARTH_RADIUS_KM = _core.EARTH_RADIUS_KM


# ----------------------------------------------------------------------------- distance
def distance(
    coords: Any,
    *,
    power: float = 1.0,
    cutoff: float | None = None,
    row_standardise: bool = True,
    islands: Islands = "error",
    radius: float = EARTH_RADIUS_KM,
) -> Any:
    r"""Inverse great-circle distance weights.

    Parameters
    ----------
    coords : pandas.DataFrame or list of str
        A frame with columns ``lon``, ``lat`` (degrees) and one unit column (or
        ``adcode`` among several; without one the index is used), or a list of city
        adcodes whose coordinates are taken from :func:`agglomera.reference.cities`.
    power : float, default 1
        Distance-decay exponent :math:`\alpha` (2 = gravity-type weights).
    cutoff : float, optional
        Only pairs with :math:`d_{ij} \le` ``cutoff`` km are neighbours (default: all).
    row_standardise : bool, default True
        Divide each row by its sum.
    islands : {"error", "keep", "knn"}, default "error"
        What to do with units that have no neighbour within ``cutoff``: raise (naming
        them and the smallest cutoff that avoids islands), keep them with no neighbour
        (their spatial lag is 0), or link them to their nearest unit (see Notes).
    radius : float, default :data:`EARTH_RADIUS_KM`
        Earth radius in km.

    Returns
    -------
    libpysal.weights.W
        ``meta`` holds ``kind="distance"``, the arguments and ``islands``.

    Notes
    -----
    :math:`w_{ij} = d_{ij}^{-\alpha}` for :math:`i \ne j` and
    :math:`d_{ij} \le c`, else 0, with the haversine distance :math:`d_{ij}` (module
    docstring). With ``islands="knn"`` an island is linked (both ways) to its nearest
    unit with weight :math:`d^{-\alpha}`. The inverse-distance matrix is the standard
    geographic weight of Chinese regional studies (e.g. 林光平, 龙志和, 吴梅 2005).
    """
    who = "weights.distance"
    ids, lonlat = _coords(coords, who)
    if not np.isfinite(power) or power <= 0:
        raise SpecError(f"{who}: power must be a positive number; got {power!r}.")
    d = _distances(ids, lonlat, radius, who)
    off = ~np.eye(len(ids), dtype=bool)
    with np.errstate(divide="ignore"):
        dense = np.where(off, d ** (-float(power)), 0.0)
    if cutoff is not None:
        if not cutoff > 0:
            raise SpecError(f"{who}: cutoff must be a positive distance in km; got {cutoff!r}.")
        dense = np.where(d <= cutoff, dense, 0.0)
    found = _islands_of(dense, ids)
    note = ""
    if found:
        if islands == "error":
            nearest = np.where(off, d, np.inf).min(axis=1).max()
            raise DataError(
                f"{who}: units with no neighbour within cutoff={cutoff} km: "
                f"{format_examples(found, limit=10)}. Fix: a cutoff of at least "
                f"{nearest:.1f} km gives every unit a neighbour; or islands='keep'/'knn'."
            )
        if islands not in ("keep", "knn"):
            raise SpecError(f"{who}: islands must be 'knn', 'error' or 'keep'; got {islands!r}.")
        if islands == "knn":
            for uid in found:
                i = ids.index(uid)
                j = int(np.argmin(np.where(off[i], d[i], np.inf)))
                dense[i, j] = dense[j, i] = d[i, j] ** (-float(power))
            note = f"{len(found)} island(s) linked to their nearest unit: {', '.join(found)}"
        else:
            note = f"{len(found)} island(s) kept without neighbours: {', '.join(found)}"
    meta = {
        "kind": "distance",
        "power": float(power),
        "cutoff": cutoff,
        "radius_km": float(radius),
        "islands": found,
        "islands_rule": islands,
        "note": note,
    }
    return _to_w(dense, ids, row_standardise=row_standardise, meta=meta)


def knn(
    coords: Any,
    k: int,
    *,
    row_standardise: bool = True,
    radius: float = EARTH_RADIUS_KM,
) -> Any:
    r"""k-nearest-neighbour weights by great-circle distance.

    Parameters
    ----------
    coords : pandas.DataFrame or list of str
        As in :func:`distance`.
    k : int
        Number of neighbours (1 ≤ k < n).
    row_standardise : bool, default True
        Divide each row by its sum (then every neighbour weighs :math:`1/k`).
    radius : float, default :data:`EARTH_RADIUS_KM`
        Earth radius in km.

    Returns
    -------
    libpysal.weights.W
        Binary before standardisation, generally asymmetric (as R
        ``spdep::knn2nb(knearneigh(x, k, longlat = TRUE))``).

    Notes
    -----
    :math:`w_{ij} = 1` if *j* is among the *k* units closest to *i*; ties at the *k*-th
    distance are broken by the units' order in ``coords``.
    """
    who = "weights.knn"
    ids, lonlat = _coords(coords, who)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < len(ids):
        raise SpecError(f"{who}: k must be an integer between 1 and {len(ids) - 1}; got {k!r}.")
    d = _distances(ids, lonlat, radius, who)
    np.fill_diagonal(d, np.inf)
    dense = np.zeros_like(d)
    order = np.argsort(d, axis=1, kind="stable")[:, : int(k)]
    np.put_along_axis(dense, order, 1.0, axis=1)
    meta = {"kind": "knn", "k": int(k), "radius_km": float(radius), "islands": []}
    return _to_w(dense, ids, row_standardise=row_standardise, meta=meta)


# ----------------------------------------------------------------------------- economic
def _values(values: Any, who: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 2:
            raise DataError(
                f"{who}: a frame of values needs exactly two columns (unit, value); got "
                f"{format_examples(list(values.columns))}."
            )
        series = pd.Series(values.iloc[:, 1].to_numpy(), index=values.iloc[:, 0])
    elif isinstance(values, pd.Series):
        series = values
    elif isinstance(values, Mapping):
        series = pd.Series(dict(values))
    else:
        raise SpecError(
            f"{who}: values must be a Series indexed by unit, a mapping unit -> value or a "
            f"two-column frame; got {type(values).__name__}."
        )
    series = pd.Series(
        pd.to_numeric(series, errors="coerce").to_numpy(dtype=float),
        index=[str(i) for i in series.index],
    )
    _check_ids(list(series.index), who)
    bad = series.index[~np.isfinite(series.to_numpy())]
    if len(bad):
        raise DataError(
            f"{who}: missing or non-numeric values for units {format_examples(list(bad))}. "
            "Fix: supply a number (e.g. the sample mean of GDP per capita) for every unit."
        )
    return series


def economic(
    values_by_unit: Any,
    *,
    zero: Literal["error"] | float = "error",
    row_standardise: bool = True,
) -> Any:
    r"""Economic-distance weights :math:`w_{ij} = 1/|\bar Y_i - \bar Y_j|`.

    Parameters
    ----------
    values_by_unit : pandas.Series, mapping or two-column DataFrame
        One value per unit, usually the sample mean of per-capita GDP
        :math:`\bar Y_i`.
    zero : "error" or float, default "error"
        Pairs with :math:`\bar Y_i = \bar Y_j` have no finite weight. ``"error"`` raises,
        naming them; a positive number :math:`\epsilon` floors the difference,
        :math:`w_{ij} = 1/\max(|\bar Y_i - \bar Y_j|, \epsilon)` (every pair closer than
        :math:`\epsilon` gets the same, largest weight).
    row_standardise : bool, default True
        Divide each row by its sum.

    Returns
    -------
    libpysal.weights.W
        ``meta["floored_pairs"]`` counts the pairs affected by ``zero``.

    Notes
    -----
    Case, Rosen & Hines (1993) weight neighbours by the inverse of the difference in
    per-capita income; the matrix is dense and symmetric before standardisation.

    References
    ----------
    Case, A. C., Rosen, H. S. and Hines, J. R. (1993). Budget spillovers and fiscal
    policy interdependence. *Journal of Public Economics* 52, 285–307.
    """
    who = "weights.economic"
    series = _values(values_by_unit, who)
    ids = list(series.index)
    y = series.to_numpy()
    diff = np.abs(y[:, None] - y[None, :])
    off = ~np.eye(len(ids), dtype=bool)
    ties = (diff == 0) & off
    floored = 0
    if isinstance(zero, str):
        if zero != "error":
            raise SpecError(f"{who}: zero must be 'error' or a positive number; got {zero!r}.")
        if ties.any():
            pairs = [(ids[i], ids[j]) for i, j in np.argwhere(ties) if i < j]
            raise DataError(
                f"{who}: units with identical values have no finite weight: "
                f"{format_examples(pairs)}. Fix: zero=<small positive number> floors "
                "|Y_i - Y_j| at that number."
            )
    else:
        if not (np.isfinite(zero) and zero > 0):
            raise SpecError(f"{who}: zero must be 'error' or a positive number; got {zero!r}.")
        floored = int(((diff < zero) & off).sum() // 2)
        diff = np.maximum(diff, float(zero))
    with np.errstate(divide="ignore"):
        dense = np.where(off, 1.0 / diff, 0.0)
    meta: dict[str, Any] = {
        "kind": "economic",
        "zero": zero,
        "floored_pairs": floored,
        "islands": [],
    }
    return _to_w(dense, ids, row_standardise=row_standardise, meta=meta)


def nested(
    coords: Any,
    values: Any,
    *,
    phi: float | None = None,
    power: float = 1.0,
    cutoff: float | None = None,
    zero: Literal["error"] | float = "error",
    row_standardise: bool = True,
    radius: float = EARTH_RADIUS_KM,
) -> Any:
    r"""Economic-geography nested weights, in product or convex-combination form.

    Parameters
    ----------
    coords : pandas.DataFrame or list of str
        As in :func:`distance`.
    values : pandas.Series, mapping or two-column DataFrame
        One value per unit (e.g. mean per-capita GDP); same units as ``coords``.
    phi : float, optional
        ``None`` (default): product form :math:`W_d\,\mathrm{diag}(\bar Y/\bar{\bar Y})`.
        A number in [0, 1]: convex form :math:`\phi W_d + (1-\phi) W_e`.
    power, cutoff, radius
        Passed to the inverse-distance part :math:`W_d` (see :func:`distance`).
    zero : "error" or float, default "error"
        Tie rule of the economic part in convex form (see :func:`economic`).
    row_standardise : bool, default True
        Row-standardise the result. In convex form the two parts are always
        row-standardised before they are combined (raw inverse kilometres and inverse
        yuan cannot be added), so the result is row-stochastic whatever this flag says;
        ``False`` is then refused.

    Returns
    -------
    libpysal.weights.W
        ``meta["form"]`` is ``"product"`` or ``"convex"``.

    Notes
    -----
    Product form (林光平, 龙志和 & 吴梅 2005; widely used in Chinese regional studies):
    :math:`W = W_d\,\mathrm{diag}(\bar Y_1/\bar{\bar Y}, \dots, \bar Y_n/\bar{\bar Y})`,
    i.e. :math:`w_{ij} = d_{ij}^{-\alpha}\,\bar Y_j / \bar{\bar Y}` where
    :math:`\bar{\bar Y}` is the mean of :math:`\bar Y` over the units: a richer
    neighbour weighs more. Convex form: :math:`W = \phi W_d + (1-\phi) W_e` with the
    row-standardised inverse-distance :math:`W_d` and economic-distance
    :math:`W_e = [1/|\bar Y_i - \bar Y_j|]` of Case, Rosen & Hines (1993).

    References
    ----------
    林光平, 龙志和, 吴梅 (2005). 我国地区经济收敛的空间计量实证分析. *经济学(季刊)*
    4(S1), 67–82.
    Case, A. C., Rosen, H. S. and Hines, J. R. (1993). *Journal of Public Economics* 52,
    285–307.
    """
    who = "weights.nested"
    series = _values(values, who)
    wd = distance(coords, power=power, cutoff=cutoff, row_standardise=False, radius=radius)
    ids = [str(i) for i in wd.id_order]
    missing = [u for u in ids if u not in series.index]
    extra = [u for u in series.index if u not in ids]
    if missing or extra:
        raise DataError(
            f"{who}: values and coords cover different units; no value for "
            f"{format_examples(missing) or 'none'}; no coordinates for "
            f"{format_examples(extra) or 'none'}. Fix: pass the same units to both."
        )
    y = series.loc[ids].to_numpy()
    dense_d = np.asarray(wd.full()[0])
    if phi is None:
        if (y <= 0).any():
            raise DataError(
                f"{who}: the product form needs positive values; non-positive for "
                f"{format_examples([ids[i] for i in np.flatnonzero(y <= 0)])}."
            )
        dense = dense_d * (y / y.mean())[None, :]
        meta = {"kind": "nested", "form": "product", "power": float(power), "cutoff": cutoff}
        return _to_w(dense, ids, row_standardise=row_standardise, meta={**meta, "islands": []})
    if not (isinstance(phi, int | float) and 0.0 <= float(phi) <= 1.0):
        raise SpecError(f"{who}: phi must be None or a number in [0, 1]; got {phi!r}.")
    if not row_standardise:
        raise SpecError(
            f"{who}: the convex form combines row-standardised parts and is row-stochastic; "
            "row_standardise=False is not available. Fix: drop the argument or use phi=None."
        )
    we = economic(series.loc[ids], zero=zero, row_standardise=True)
    dense_e = np.asarray(we.full()[0])
    dense = float(phi) * dense_d / dense_d.sum(axis=1, keepdims=True) + (1 - float(phi)) * dense_e
    meta = {
        "kind": "nested",
        "form": "convex",
        "phi": float(phi),
        "power": float(power),
        "cutoff": cutoff,
        "zero": zero,
        "islands": [],
    }
    return _to_w(dense, ids, row_standardise=True, meta=meta)


# ----------------------------------------------------------------------------- matrices
def from_matrix(
    array: Any,
    ids: Sequence[Any],
    *,
    row_standardise: bool = True,
) -> Any:
    """Wrap a square weights matrix as a libpysal W.

    Parameters
    ----------
    array : array-like
        ``(n, n)`` non-negative weights with a zero diagonal; row *i* holds unit
        ``ids[i]``'s neighbours.
    ids : sequence
        Unit ids in the order of the rows (converted to str).
    row_standardise : bool, default True
        Divide each row by its sum (a row-standardised input is left unchanged).

    Returns
    -------
    libpysal.weights.W
        Units whose row is zero are recorded in ``meta["islands"]``.
    """
    who = "weights.from_matrix"
    dense = np.asarray(array, dtype=float)
    uid = [str(i) for i in ids]
    if dense.ndim != 2 or dense.shape[0] != dense.shape[1]:
        raise DataError(f"{who}: array must be square; got shape {dense.shape}.")
    if dense.shape[0] != len(uid):
        raise DataError(
            f"{who}: array is {dense.shape[0]}×{dense.shape[0]} but {len(uid)} ids given."
        )
    _check_ids(uid, who)
    if not np.isfinite(dense).all():
        rows = sorted({uid[i] for i, _ in np.argwhere(~np.isfinite(dense))})
        raise DataError(f"{who}: non-finite weights in the rows of {format_examples(rows)}.")
    if (dense < 0).any():
        rows = sorted({uid[i] for i, _ in np.argwhere(dense < 0)})
        raise DataError(f"{who}: negative weights in the rows of {format_examples(rows)}.")
    diag = np.flatnonzero(np.diag(dense) != 0)
    if len(diag):
        raise DataError(
            f"{who}: non-zero diagonal (a unit is its own neighbour) for "
            f"{format_examples([uid[i] for i in diag])}. Fix: set the diagonal to 0."
        )
    found = _islands_of(dense, uid)
    note = f"{len(found)} unit(s) without neighbours: {', '.join(found)}" if found else ""
    meta = {"kind": "matrix", "islands": found, "note": note}
    return _to_w(dense, uid, row_standardise=row_standardise, meta=meta)


def read(path: str | Path, *, row_standardise: bool = True) -> Any:
    """Read weights from a GAL, GWT or CSV matrix file.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.gal`` (binary contiguity, GeoDa/spdep ``write.nb.gal``), ``.gwt`` (weighted
        pairs, ``write.sn2gwt``) -- both read with :mod:`libpysal.io` -- or ``.csv``: a
        square matrix with the unit ids as header (and optionally as the first column,
        which must then repeat the header).
    row_standardise : bool, default True
        Divide each row by its sum.

    Returns
    -------
    libpysal.weights.W
        Ids as str; ``meta["source"]`` is the path.
    """
    who = "weights.read"
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{who}: file {str(p)!r} does not exist.")
    suffix = p.suffix.lower()
    if suffix in (".gal", ".gwt"):
        io = importlib.import_module("libpysal.io")
        with warnings.catch_warnings():
            # libpysal looks for a shapefile .dbf beside a GWT to order the ids; ids are
            # matched by name here, so their order does not matter.
            warnings.filterwarnings("ignore", message=".*DBF.*", category=RuntimeWarning)
            fh = io.open(str(p), "r")
            try:
                raw = fh.read()
            finally:
                fh.close()
        dense, ids = raw.full()
        ids = [str(i) for i in ids]
    elif suffix == ".csv":
        frame = pd.read_csv(p, dtype=str, keep_default_na=False)
        ids = [str(c) for c in frame.columns]
        first = frame.iloc[:, 0]
        if frame.shape[1] == frame.shape[0] + 1:
            if [str(v) for v in first] != ids[1:]:
                raise DataError(
                    f"{who}: the first column of {p.name} must repeat the header ids in order."
                )
            frame, ids = frame.iloc[:, 1:], ids[1:]
        if frame.shape[0] != frame.shape[1]:
            raise DataError(
                f"{who}: {p.name} is {frame.shape[0]}×{frame.shape[1]}; a square matrix with a "
                "header row of unit ids is expected."
            )
        try:
            dense = frame.to_numpy(dtype=float)
        except ValueError as exc:
            raise DataError(f"{who}: {p.name} holds non-numeric weights ({exc}).") from exc
    else:
        raise SpecError(f"{who}: unknown weights file type {suffix!r}; use .gal, .gwt or .csv.")
    w = from_matrix(dense, ids, row_standardise=row_standardise)
    w.meta = {**w.meta, "kind": f"file ({suffix[1:]})", "source": str(p)}
    return w


def align(w: Any, ids: Sequence[Any]) -> np.ndarray:
    """Return the dense weights matrix ordered like ``ids`` (e.g. a panel's units).

    Parameters
    ----------
    w : libpysal.weights.W or array-like
        Weights. A square array is taken to be already in the order of ``ids`` (only
        its shape is checked).
    ids : sequence
        Unit ids in the wanted order. Ids are compared as strings, so ``330100`` and
        ``"330100"`` match.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` matrix with the weights of ``w`` in its current transform (a
        row-standardised ``W`` gives a row-standardised matrix).

    Raises
    ------
    DataError
        If ``w`` lacks some of ``ids`` or has units that ``ids`` lacks (both listed), or
        ``ids`` has duplicates.
    """
    want = [str(i) for i in ids]
    _check_ids(want, "align")
    if not hasattr(w, "neighbors"):
        dense = np.asarray(w, dtype=float)
        if dense.shape != (len(want), len(want)):
            raise DataError(
                f"align: w is an array of shape {dense.shape}; {len(want)} ids were given. Fix: "
                "pass a square array ordered like the ids, or a libpysal W with the unit ids."
            )
        return dense.copy()
    full, have = w.full()
    have = [str(i) for i in have]
    missing = [u for u in want if u not in set(have)]
    extra = [u for u in have if u not in set(want)]
    if missing or extra:
        raise DataError(
            "align: w and the panel cover different units; missing from w: "
            f"{format_examples(missing) or 'none'}; in w but not in the panel: "
            f"{format_examples(extra) or 'none'}. Fix: build w on exactly the panel's units "
            "(e.g. contiguity(units=panel.units)) or subset the panel."
        )
    pos = {u: i for i, u in enumerate(have)}
    order = [pos[u] for u in want]
    return np.asarray(full)[np.ix_(order, order)]
