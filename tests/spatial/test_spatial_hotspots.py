"""Getis–Ord local G / G* against R spdep 1.2-7 ``localG`` and pysal esda ``G_Local``.

R reference: tests/reference/spatial_weights/localg_ref.csv (made by make_reference.R;
see PROVENANCE.md): Columbus CRIME with queen contiguity (G with row-standardised
weights, G* with ``include.self`` and binary weights), 293 cities with 4 nearest
neighbours (G*) and inverse distance within 800 km (G, row-standardised). The z-scores
are closed forms, asserted to 1e-6 relative. The permutation p-values are agglomera's
own (agglomera.spatial._permutation), validated in test_spatial_permutation.py.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.errors import DataError, SpecError
from agglomera.spatial import weights as W
from agglomera.spatial.figures import HOTSPOT_COLOURS, hotspot_map
from agglomera.spatial.hotspots import getis_ord

REF = Path(__file__).resolve().parents[1] / "reference" / "spatial_weights"
LOCAL = pd.read_csv(REF / "localg_ref.csv", dtype={"id": str})
RTOL = 1e-6


@pytest.fixture(scope="module")
def columbus() -> tuple[Panel, object, pd.DataFrame]:
    col = pd.read_csv(REF / "columbus.csv")
    w = W.contiguity(col[["POLYID", "geometry"]], islands="error")
    panel = Panel(col[["POLYID", "CRIME"]].assign(year=1980), unit="POLYID", time="year")
    return panel, w, col


@pytest.fixture(scope="module")
def cities() -> tuple[Panel, pd.DataFrame]:
    case = pd.read_csv(REF / "cities_case.csv", dtype={"adcode": str})
    panel = Panel(case[["adcode", "talent_lq"]].assign(year=2019), unit="adcode", time="year")
    return panel, case[["adcode", "lon", "lat"]]


def _ref(case: str, star: bool) -> pd.Series:
    rows = LOCAL[(LOCAL["case"] == case) & (LOCAL["star"] == star)]
    return pd.Series(rows["z"].astype(float).to_numpy(), index=rows["id"])


@pytest.mark.parametrize("star", [True, False])
def test_columbus_z_against_spdep(columbus: tuple[Panel, object, pd.DataFrame], star: bool) -> None:
    panel, w, _ = columbus
    out = getis_ord(panel, "CRIME", w, star=star, permutations=0, inference="norm")
    ref = _ref("columbus_queen", star)
    ours = out.set_index("POLYID")["z"].loc[ref.index]
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=RTOL)


def test_cities_z_against_spdep(cities: tuple[Panel, pd.DataFrame]) -> None:
    panel, coords = cities
    knn = getis_ord(panel, "talent_lq", W.knn(coords, 4), permutations=0, inference="norm")
    ref = _ref("cities_knn4", True)
    np.testing.assert_allclose(
        knn.set_index("adcode")["z"].loc[ref.index].to_numpy(), ref.to_numpy(), rtol=RTOL
    )
    idw = W.distance(coords, cutoff=800)
    gi = getis_ord(panel, "talent_lq", idw, star=False, permutations=0, inference="norm")
    ref = _ref("cities_idw800", False)
    np.testing.assert_allclose(
        gi.set_index("adcode")["z"].loc[ref.index].to_numpy(), ref.to_numpy(), rtol=RTOL
    )


@pytest.mark.filterwarnings("ignore:Gi\\* requested:UserWarning")  # esda's self-weight rule
def test_against_esda_closed_form(columbus: tuple[Panel, object, pd.DataFrame]) -> None:
    """esda's analytical moments are right for binary weights; G matches in both cases."""
    import esda

    panel, w, col = columbus
    y = col.sort_values("POLYID")["CRIME"].to_numpy()
    ids = [str(i) for i in sorted(col["POLYID"])]
    binary = W.from_matrix(W.align(w, ids) > 0, ids, row_standardise=False)
    for star in (True, False):
        ref = esda.G_Local(y, binary, transform="B", star=star, permutations=0)
        ours = getis_ord(panel, "CRIME", binary, star=star, permutations=0, inference="norm")
        np.testing.assert_allclose(ours["z"], ref.Zs, rtol=1e-10)
        np.testing.assert_allclose(ours["G"], ref.Gs, rtol=1e-10)
        np.testing.assert_allclose(ours["p_norm"], 2 * ref.p_norm, rtol=1e-10)
        # row-standardised weights: same z (row scaling), G as esda's transform "R"
        std = getis_ord(panel, "CRIME", w, star=star, permutations=0, inference="norm")
        np.testing.assert_allclose(std["z"], ours["z"], rtol=1e-10)
        ref_r = esda.G_Local(
            y,
            W.from_matrix(W.align(w, ids) > 0, ids, row_standardise=False),
            transform="R",
            star=star,
            permutations=0,
        )
        np.testing.assert_allclose(std["G"], ref_r.Gs, rtol=1e-10)


def test_p_sim_seed_and_labels(columbus: tuple[Panel, object, pd.DataFrame]) -> None:
    """p_sim is agglomera's conditional permutation (compared with esda's ``G_Local`` draws
    within Monte Carlo error in test_spatial_permutation.py); it is invariant to row
    scaling, so binary and row-standardised weights give the same p_sim."""
    panel, w, col = columbus
    ids = [str(i) for i in sorted(col["POLYID"])]
    binary = W.from_matrix(W.align(w, ids) > 0, ids, row_standardise=False)
    out = getis_ord(panel, "CRIME", w, permutations=499, seed=4)
    np.testing.assert_array_equal(
        out["p_sim"], getis_ord(panel, "CRIME", binary, permutations=499, seed=4)["p_sim"]
    )
    assert ((out["p_sim"] >= 1 / 500) & (out["p_sim"] <= 0.5)).all()
    pd.testing.assert_frame_equal(out, getis_ord(panel, "CRIME", w, permutations=499, seed=4))
    sig = out["p_sim"] < 0.05
    assert (out.loc[sig & (out["z"] > 0), "hotspot"] == "hot").all()
    assert (out.loc[sig & (out["z"] < 0), "hotspot"] == "cold").all()
    assert (out.loc[~sig, "hotspot"] == "not significant").all()
    assert {"hot", "cold"} <= set(out["hotspot"])


def test_recovery_of_a_planted_hot_spot() -> None:
    """A block of high values on a 12 x 12 grid is flagged hot, the rest is not."""
    rng = np.random.default_rng(0)
    side = 12
    units = [f"c{r:02d}{c:02d}" for r in range(side) for c in range(side)]
    dense = np.zeros((side * side, side * side))
    for r in range(side):
        for c in range(side):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)):
                if 0 <= r + dr < side and 0 <= c + dc < side:
                    dense[r * side + c, (r + dr) * side + c + dc] = 1
    block = np.array([2 <= r < 6 and 2 <= c < 6 for r in range(side) for c in range(side)])
    rows = []
    for year in (2010, 2011):
        y = rng.uniform(0.8, 1.2, side * side) + 1.5 * block
        rows.append(pd.DataFrame({"unit": units, "year": year, "lq": y}))
    panel = Panel(pd.concat(rows, ignore_index=True), unit="unit", time="year")
    w = W.from_matrix(dense, units)
    alpha = 0.001
    out = getis_ord(panel, "lq", w, permutations=0, inference="norm", alpha=alpha)
    assert len(out) == 2 * side * side and set(out["year"]) == {2010, 2011}
    hot = out["hotspot"] == "hot"
    inner = np.tile(
        [3 <= r < 5 and 3 <= c < 5 for r in range(side) for c in range(side)], 2
    )  # the block's interior: every neighbour is in the block
    assert hot[inner].all()
    far = np.tile(
        [r >= 8 or c >= 8 for r in range(side) for c in range(side)], 2
    )  # two cells or more away from the block
    assert not hot[far].any()


def test_errors(columbus: tuple[Panel, object, pd.DataFrame]) -> None:
    panel, w, _ = columbus
    with pytest.raises(SpecError, match="inference='sim' needs permutations"):
        getis_ord(panel, "CRIME", w, permutations=0)
    frame = panel.to_frame()
    frame.loc[0, "CRIME"] = -1.0
    with pytest.raises(DataError, match="negative"):
        getis_ord(
            Panel(frame, unit="POLYID", time="year"), "CRIME", w, permutations=0, inference="norm"
        )
    with pytest.raises(DataError, match="year"):
        getis_ord(panel, "CRIME", w, year=1999, permutations=0, inference="norm")


def test_hotspot_map_content(columbus: tuple[Panel, object, pd.DataFrame]) -> None:
    panel, w, col = columbus
    out = getis_ord(panel, "CRIME", w, permutations=0, inference="norm", alpha=0.1)
    fig = hotspot_map(out, boundaries=col[["POLYID", "geometry"]])
    (units,) = [c for c in fig.axes[0].collections if c.get_gid() == "units"]
    assert len(units.get_paths()) == 49
    expected = np.array([mcolors.to_rgba(HOTSPOT_COLOURS[h]) for h in out["hotspot"]])
    np.testing.assert_allclose(units.get_facecolors(), expected)
    assert {"hot", "cold"} <= set(out["hotspot"])
    assert fig.axes[0].get_title() == "Gi* hot spots of CRIME, 1980"
    two = pd.concat([out, out.assign(year=1981)], ignore_index=True)
    with pytest.raises(SpecError, match="pass year="):
        hotspot_map(two, boundaries=col[["POLYID", "geometry"]])


def test_hotspot_map_on_shipped_boundaries_with_island() -> None:
    zj = ["330100", "330200", "330300", "330400", "330500", "330600"]
    zj += ["330700", "330800", "330900", "331000", "331100"]
    values = np.linspace(0.5, 2.0, len(zj))
    panel = Panel(
        pd.DataFrame({"adcode": zj, "year": 2019, "lq": values}), unit="adcode", time="year"
    )
    w = W.contiguity(units=zj)
    out = getis_ord(panel, "lq", w, permutations=0, inference="norm")
    fig = hotspot_map(out, context=True)
    ax = fig.axes[0]
    (units,) = [c for c in ax.collections if c.get_gid() == "units"]
    (context,) = [c for c in ax.collections if c.get_gid() == "context"]
    assert len(units.get_paths()) == 11
    assert len(context.get_paths()) == 369 - 11
    # 舟山 (an archipelago) is drawn as one compound path with several closed rings
    zhoushan = units.get_paths()[zj.index("330900")]
    assert int((zhoushan.codes == 79).sum()) > 1  # CLOSEPOLY per ring
