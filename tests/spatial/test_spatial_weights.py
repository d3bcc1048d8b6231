"""Spatial weights against direct computations and R spdep 1.2-7.

Reference files in tests/reference/spatial_weights/ (see PROVENANCE.md there): the
neighbour lists and weights of R ``knearneigh``/``knn2nb``, ``dnearneigh`` + s2
great-circle inverse distances, ``poly2nb`` on the Zhejiang census polygons and on
Columbus, and GAL/GWT files written by spdep. Closed forms are asserted to 1e-10
relative (the reference agrees to ~1e-14).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import reference
from agglomera.errors import DataError, SpecError
from agglomera.spatial import weights as W

REF = Path(__file__).resolve().parents[1] / "reference" / "spatial_weights"
CITIES = pd.read_csv(REF / "cities_case.csv", dtype={"adcode": str})
COORDS = CITIES[["adcode", "lon", "lat"]]
ZJ = ["330100", "330200", "330300", "330400", "330500", "330600"]
ZJ += ["330700", "330800", "330900", "331000", "331100"]
ZHOUSHAN, NINGBO = "330900", "330200"

# Land borders between Zhejiang's prefecture-level cities, compiled independently of the
# polygons from the county composition of each city (e.g. 杭州's 淳安 touches 衢州's 开化;
# 嘉兴's 海宁 touches 杭州's 临平): a hand-made list, not a map extract. 舟山 has none.
LAND = {
    ("330100", "330400"), ("330100", "330500"), ("330100", "330600"),
    ("330100", "330700"), ("330100", "330800"), ("330200", "330600"),
    ("330200", "331000"), ("330300", "331000"), ("330300", "331100"),
    ("330400", "330500"), ("330600", "330700"), ("330600", "331000"),
    ("330700", "330800"), ("330700", "331000"), ("330700", "331100"),
    ("330800", "331100"), ("331000", "331100"),
}  # fmt: skip
#: Pairs whose census boundaries meet in Hangzhou Bay (sea boundaries): 嘉兴–宁波 share a
#: boundary segment, 嘉兴–绍兴 a single point (queen only).
BAY_QUEEN = {("330200", "330400"), ("330400", "330600")}
BAY_ROOK = {("330200", "330400")}


def _pairs(w: object) -> set[tuple[str, str]]:
    return {(str(a), str(b)) for a, nbs in w.neighbors.items() for b in nbs}  # type: ignore[attr-defined]


def _ref_pairs(frame: pd.DataFrame, case: str) -> set[tuple[str, str]]:
    rows = frame[frame["case"] == case]
    return set(zip(rows["from"].astype(str), rows["to"].astype(str), strict=True))


def _haversine_vectors(lonlat: np.ndarray, radius: float) -> np.ndarray:
    """Great-circle distance from unit vectors (an independent formula: atan2 of cross/dot)."""
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    v = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    dot = v @ v.T
    cross = np.linalg.norm(np.cross(v[:, None, :], v[None, :, :]), axis=2)
    return radius * np.arctan2(cross, dot)


# ----------------------------------------------------------------------------- distance
def test_great_circle_matches_vector_formula_and_a_known_distance() -> None:
    lonlat = COORDS[["lon", "lat"]].to_numpy()[:40]
    ours = W.great_circle(lonlat)
    theirs = _haversine_vectors(lonlat, W.EARTH_RADIUS_KM)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-9)
    # one degree of latitude on the sphere of radius 6371.0088 km
    one = W.great_circle(np.array([[120.0, 30.0], [120.0, 31.0]]))[0, 1]
    assert one == pytest.approx(np.pi * 6371.0088 / 180, rel=1e-12)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_distance_weights_direct(power: float) -> None:
    w = W.distance(COORDS, power=power, row_standardise=False)
    full, ids = w.full()
    assert ids == list(COORDS["adcode"])
    d = _haversine_vectors(COORDS[["lon", "lat"]].to_numpy(), 6371.0088)
    expected = np.where(np.eye(len(d), dtype=bool), 0.0, 1.0 / np.where(d > 0, d, 1) ** power)
    np.testing.assert_allclose(full, expected, rtol=1e-10)
    assert w.meta["row_standardised"] is False and w.meta["radius_km"] == 6371.0088
    ws = W.distance(COORDS, power=power)
    np.testing.assert_allclose(ws.full()[0], expected / expected.sum(1, keepdims=True), rtol=1e-10)


def test_distance_cutoff_against_spdep() -> None:
    ref = pd.read_csv(REF / "cities_weights_ref.csv", dtype={"from": str, "to": str})
    nb = pd.read_csv(REF / "cities_nb_ref.csv", dtype=str)
    for case, power, std in (("idw800_W", 1.0, True), ("idw800_p2_B", 2.0, False)):
        w = W.distance(COORDS, power=power, cutoff=800, row_standardise=std)
        assert _pairs(w) == _ref_pairs(nb, "dnear800")
        full, ids = w.full()
        pos = {u: i for i, u in enumerate(ids)}
        rows = ref[ref["case"] == case]
        ours = np.array(
            [full[pos[a], pos[b]] for a, b in zip(rows["from"], rows["to"], strict=True)]
        )
        np.testing.assert_allclose(ours, rows["weight"].to_numpy(dtype=float), rtol=1e-10)
        assert int((full != 0).sum()) == len(rows)


def test_distance_islands_rules() -> None:
    coords = pd.DataFrame(
        {"unit": ["a", "b", "c"], "lon": [120.0, 120.1, 125.0], "lat": [30.0, 30.0, 30.0]}
    )
    with pytest.raises(DataError, match=r"'c'.*cutoff of at least 4[0-9]{2}\.[0-9] km"):
        W.distance(coords, cutoff=50)
    kept = W.distance(coords, cutoff=50, islands="keep")
    assert kept.meta["islands"] == ["c"] and kept.neighbors["c"] == []
    linked = W.distance(coords, cutoff=50, islands="knn", row_standardise=False)
    assert linked.neighbors["c"] == ["b"] and "c" in linked.neighbors["b"]


def test_coords_from_adcodes_and_errors() -> None:
    table = reference.cities().set_index("adcode")
    w = W.distance(ZJ[:3], row_standardise=False)
    lonlat = table.loc[ZJ[:3], ["lon", "lat"]].to_numpy(dtype=float)
    d = _haversine_vectors(lonlat, 6371.0088)
    assert w.full()[0][0, 1] == pytest.approx(1 / d[0, 1], rel=1e-10)
    with pytest.raises(DataError, match="'999999'"):
        W.knn(["330100", "999999", "330200"], 1)
    with pytest.raises(DataError, match="'lat'"):
        W.knn(pd.DataFrame({"adcode": ["a", "b"], "lon": [1.0, 2.0]}), 1)
    dup = pd.DataFrame({"adcode": ["a", "b"], "lon": [1.0, 1.0], "lat": [2.0, 2.0]})
    with pytest.raises(DataError, match=r"same coordinates.*\('a', 'b'\)"):
        W.distance(dup)
    with pytest.raises(SpecError, match="k must be"):
        W.knn(COORDS, 0)


# ----------------------------------------------------------------------------- knn
def test_knn_against_spdep() -> None:
    nb = pd.read_csv(REF / "cities_nb_ref.csv", dtype=str)
    w = W.knn(COORDS, 4)
    assert _pairs(w) == _ref_pairs(nb, "knn4")
    full = w.full()[0]
    np.testing.assert_allclose(full[full != 0], 0.25)
    raw = W.knn(COORDS, 4, row_standardise=False).full()[0]
    assert set(np.unique(raw)) == {0.0, 1.0}
    assert (raw.sum(axis=1) == 4).all()


# ----------------------------------------------------------------------------- economic
def test_economic_direct_and_ties() -> None:
    values = pd.Series({"a": 1.0, "b": 2.0, "c": 4.5, "d": 10.0})
    raw = W.economic(values, row_standardise=False).full()[0]
    y = values.to_numpy()
    diff = np.abs(y[:, None] - y[None, :])
    expected = np.where(diff > 0, 1 / np.where(diff > 0, diff, 1), 0.0)
    np.testing.assert_allclose(raw, expected, rtol=1e-12)
    std = W.economic(values).full()[0]
    np.testing.assert_allclose(std, expected / expected.sum(1, keepdims=True), rtol=1e-12)
    tied = {"a": 1.0, "b": 1.0, "c": 3.0}
    with pytest.raises(DataError, match=r"\('a', 'b'\).*zero="):
        W.economic(tied)
    floored = W.economic(tied, zero=0.5, row_standardise=False)
    assert floored.full()[0][0, 1] == pytest.approx(2.0)
    assert floored.full()[0][0, 2] == pytest.approx(0.5)
    assert floored.meta["floored_pairs"] == 1
    with pytest.raises(DataError, match="'b'"):
        W.economic({"a": 1.0, "b": np.nan})


def test_nested_product_and_convex_direct() -> None:
    coords = COORDS.iloc[:12]
    gdp = pd.Series(np.linspace(2.0, 9.0, 12) ** 1.3, index=coords["adcode"])
    d = _haversine_vectors(coords[["lon", "lat"]].to_numpy(), 6371.0088)
    wd = np.where(d > 0, 1 / np.where(d > 0, d, 1), 0.0)
    y = gdp.to_numpy()
    product = wd * (y / y.mean())[None, :]
    raw = W.nested(coords, gdp, row_standardise=False).full()[0]
    np.testing.assert_allclose(raw, product, rtol=1e-10)
    std = W.nested(coords, gdp).full()[0]
    np.testing.assert_allclose(std, product / product.sum(1, keepdims=True), rtol=1e-10)
    diff = np.abs(y[:, None] - y[None, :])
    we = np.where(diff > 0, 1 / np.where(diff > 0, diff, 1), 0.0)
    convex = 0.3 * wd / wd.sum(1, keepdims=True) + 0.7 * we / we.sum(1, keepdims=True)
    w = W.nested(coords, gdp, phi=0.3)
    np.testing.assert_allclose(w.full()[0], convex, rtol=1e-10)
    assert w.meta["form"] == "convex"
    with pytest.raises(SpecError, match="row_standardise=False"):
        W.nested(coords, gdp, phi=0.3, row_standardise=False)
    with pytest.raises(DataError, match="no value for"):
        W.nested(coords, gdp.iloc[:-1])


# ----------------------------------------------------------------------------- contiguity
@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_zhejiang_contiguity_against_poly2nb(kind: str) -> None:
    polygons = pd.read_csv(REF / "zhejiang_boundaries.csv", dtype={"adcode": str})
    nb = pd.read_csv(REF / "zhejiang_nb_ref.csv", dtype=str)
    from_file = W.contiguity(polygons, kind=kind, islands="keep")  # type: ignore[arg-type]
    assert _pairs(from_file) == _ref_pairs(nb, kind)
    shipped = W.contiguity(kind=kind, islands="keep", units=ZJ)  # type: ignore[arg-type]
    assert _pairs(shipped) == _pairs(from_file)
    sym = {tuple(sorted(p)) for p in _pairs(shipped)}
    bay = BAY_QUEEN if kind == "queen" else BAY_ROOK
    assert sym == LAND | bay


def test_zhoushan_island_rules() -> None:
    w = W.contiguity(units=ZJ)
    assert w.meta["islands"] == [ZHOUSHAN] and w.meta["islands_rule"] == "knn"
    assert w.neighbors[ZHOUSHAN] == [NINGBO] and ZHOUSHAN in w.neighbors[NINGBO]
    assert "330900–330200" in w.meta["note"]
    np.testing.assert_allclose(w.full()[0].sum(axis=1), 1.0)
    two = W.contiguity(units=ZJ, k=2, row_standardise=False)
    assert len(two.neighbors[ZHOUSHAN]) == 2
    with pytest.raises(DataError, match="'330900'"):
        W.contiguity(units=ZJ, islands="error")
    kept = W.contiguity(units=ZJ, islands="keep")
    assert kept.neighbors[ZHOUSHAN] == [] and "kept without neighbours" in kept.meta["note"]
    assert kept.full()[0][ZJ.index(ZHOUSHAN)].sum() == 0
    with pytest.raises(DataError, match="'341400'"):
        W.contiguity(units=[*ZJ, "341400"])


def test_columbus_queen_and_gal_from_spdep() -> None:
    col = pd.read_csv(REF / "columbus.csv")
    w = W.contiguity(col[["POLYID", "geometry"]], islands="error")
    nb = pd.read_csv(REF / "columbus_nb_ref.csv", dtype=str)
    assert _pairs(w) == _ref_pairs(nb, "columbus_queen")
    some = W.contiguity(col[["POLYID", "geometry"]], units=[1, 2, 3, 4, 5], islands="keep")
    keep = {str(i) for i in range(1, 6)}
    assert _pairs(some) == {(a, b) for a, b in _pairs(w) if a in keep and b in keep}
    gal = W.read(REF / "columbus_queen.gal")
    assert _pairs(gal) == _pairs(w)
    np.testing.assert_allclose(W.align(gal, w.id_order), W.align(w, w.id_order), rtol=1e-14)


def test_read_gwt_from_spdep_and_csv(tmp_path: Path) -> None:
    gwt = W.read(REF / "cities_idw800.gwt", row_standardise=False)
    ours = W.distance(COORDS, cutoff=800, row_standardise=False)
    positions = [str(i + 1) for i in range(len(COORDS))]  # spdep writes 1-based indices
    np.testing.assert_allclose(
        W.align(gwt, positions), W.align(ours, list(COORDS["adcode"])), rtol=1e-10
    )
    mat = np.array([[0, 1, 2], [1, 0, 0], [3, 1, 0]], dtype=float)
    pd.DataFrame(mat, columns=["x", "y", "z"]).to_csv(tmp_path / "w.csv", index=False)
    got = W.read(tmp_path / "w.csv")
    np.testing.assert_allclose(W.align(got, ["x", "y", "z"]), mat / mat.sum(1, keepdims=True))
    pd.DataFrame(mat, columns=["x", "y", "z"], index=["x", "y", "z"]).to_csv(tmp_path / "v.csv")
    np.testing.assert_allclose(
        W.align(W.read(tmp_path / "v.csv"), ["x", "y", "z"]), W.align(got, ["x", "y", "z"])
    )
    with pytest.raises(SpecError, match="unknown weights file"):
        W.read(REF / "make_data.py")


# ----------------------------------------------------------------------------- matrices
def test_from_matrix_and_align() -> None:
    mat = np.array([[0, 2, 0], [1, 0, 1], [0, 4, 0]], dtype=float)
    w = W.from_matrix(mat, ["c", "a", "b"], row_standardise=False)
    np.testing.assert_array_equal(W.align(w, ["c", "a", "b"]), mat)
    reordered = W.align(w, ["a", "b", "c"])
    np.testing.assert_array_equal(reordered, mat[np.ix_([1, 2, 0], [1, 2, 0])])
    std = W.from_matrix(mat, [1, 2, 3])
    np.testing.assert_allclose(W.align(std, ["1", "2", "3"]).sum(axis=1), 1.0)
    np.testing.assert_allclose(W.align(std, [1, 2, 3]), W.align(std, ["1", "2", "3"]))
    with pytest.raises(DataError, match=r"missing from w: 'd'.*not in the panel: 'c'"):
        W.align(w, ["a", "b", "d"])
    with pytest.raises(DataError, match=r"diagonal.*'a'"):
        W.from_matrix(np.eye(2), ["a", "b"])
    with pytest.raises(DataError, match="negative"):
        W.from_matrix(np.array([[0, -1.0], [1.0, 0]]), ["a", "b"])
    with pytest.raises(DataError, match="shape"):
        W.align(mat, ["a", "b"])
    islands = W.from_matrix(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]), ["a", "b", "c"])
    assert islands.meta["islands"] == ["c"]
