"""Global and local spatial autocorrelation against R spdep 1.2-7, esda and direct formulas.

Reference numbers: /work/shared validation README (Columbus CRIME, queen contiguity,
row-standardised: I = 0.500189, E[I] = -0.020833, z = 5.6303, C = 0.540528) and
tests/reference/spatial_weights/global_ref.csv (spdep ``moran.test``/``geary.test`` under
normality and randomisation on Columbus and on 293 Chinese cities; see PROVENANCE.md).
Closed forms are asserted to 1e-6 relative. The LISA permutation p-values are
agglomera's own (agglomera.spatial._permutation), validated in test_spatial_permutation.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PatchCollection, PathCollection

from agglomera import Panel
from agglomera.errors import DataError
from agglomera.spatial import weights as W
from agglomera.spatial.autocorrelation import bivariate_moran, geary_by_year, lisa, moran_by_year
from agglomera.spatial.figures import CLUSTER_COLOURS, lisa_map, moran_scatter

REF = Path(__file__).resolve().parents[1] / "reference" / "spatial_weights"
GLOBAL = pd.read_csv(REF / "global_ref.csv", dtype=str)
RTOL = 1e-6


@pytest.fixture(scope="module")
def columbus() -> tuple[Panel, object]:
    col = pd.read_csv(REF / "columbus.csv")
    w = W.contiguity(col[["POLYID", "geometry"]], islands="error")
    frame = col[["POLYID", "CRIME", "HOVAL", "INC"]].assign(year=1980)
    return Panel(frame, unit="POLYID", time="year"), w


@pytest.fixture(scope="module")
def cities() -> tuple[Panel, dict[str, object]]:
    case = pd.read_csv(REF / "cities_case.csv", dtype={"adcode": str})
    coords = case[["adcode", "lon", "lat"]]
    panel = Panel(case[["adcode", "talent_lq"]].assign(year=2019), unit="adcode", time="year")
    return panel, {
        "cities_knn4": W.knn(coords, 4),
        "cities_idw800": W.distance(coords, cutoff=800),
    }


def _ref(case: str, var: str, statistic: str, assumption: str) -> pd.Series:
    rows = GLOBAL[
        (GLOBAL["case"] == case)
        & (GLOBAL["var"] == var)
        & (GLOBAL["statistic"] == statistic)
        & (GLOBAL["assumption"] == assumption)
    ]
    assert len(rows) == 1
    return rows.iloc[0].str.strip()


def test_columbus_published_numbers(columbus: tuple[Panel, object]) -> None:
    panel, w = columbus
    m = moran_by_year(panel, "CRIME", w, permutations=0).iloc[0]
    assert m["I"] == pytest.approx(0.500189, abs=5e-7)
    assert m["EI"] == pytest.approx(-0.020833, abs=5e-7)
    assert m["z"] == pytest.approx(5.6303, abs=5e-5)
    g = geary_by_year(panel, "CRIME", w, permutations=0).iloc[0]
    assert g["C"] == pytest.approx(0.540528, abs=5e-7)


@pytest.mark.parametrize("assumption", ["normality", "randomisation"])
@pytest.mark.parametrize("var", ["CRIME", "HOVAL"])
def test_columbus_against_spdep(columbus: tuple[Panel, object], var: str, assumption: str) -> None:
    panel, w = columbus
    _check_against_spdep(panel, w, "columbus_queen", var, assumption)


@pytest.mark.parametrize("assumption", ["normality", "randomisation"])
@pytest.mark.parametrize("case", ["cities_knn4", "cities_idw800"])
def test_cities_against_spdep(
    cities: tuple[Panel, dict[str, object]], case: str, assumption: str
) -> None:
    panel, ws = cities
    _check_against_spdep(panel, ws[case], case, "talent_lq", assumption)


def _check_against_spdep(panel: Panel, w: object, case: str, var: str, assumption: str) -> None:
    m = moran_by_year(panel, var, w, permutations=0, assumption=assumption).iloc[0]  # type: ignore[call-arg]
    r = _ref(case, var, "moran", assumption)
    assert m["I"] == pytest.approx(float(r["value"]), rel=RTOL)
    assert m["EI"] == pytest.approx(float(r["expectation"]), rel=RTOL)
    assert m["sd"] ** 2 == pytest.approx(float(r["variance"]), rel=RTOL)
    assert m["z"] == pytest.approx(float(r["z"]), rel=RTOL)
    assert m["p_norm"] == pytest.approx(float(r["p"]), rel=RTOL)
    assert np.isnan(m["p_sim"])
    g = geary_by_year(panel, var, w, permutations=0, assumption=assumption).iloc[0]  # type: ignore[call-arg]
    r = _ref(case, var, "geary", assumption)
    assert g["C"] == pytest.approx(float(r["value"]), rel=RTOL)
    assert g["sd"] ** 2 == pytest.approx(float(r["variance"]), rel=RTOL)
    assert g["z"] == pytest.approx(float(r["z"]), rel=RTOL)
    assert g["p_norm"] == pytest.approx(float(r["p"]), rel=RTOL)


def _moran_direct(y: np.ndarray, w: np.ndarray) -> float:
    z = y - y.mean()
    return float(len(y) / w.sum() * (z @ w @ z) / (z @ z))


def _simulated_panel(rho: float, seed: int, years: int = 3, n: int = 60) -> tuple[Panel, object]:
    """SAR process y = (I - rho W)^-1 e on n random points with 5-nearest-neighbour W."""
    rng = np.random.default_rng(seed)
    coords = pd.DataFrame(
        {
            "unit": [f"u{i:03d}" for i in range(n)],
            "lon": rng.uniform(100, 120, n),
            "lat": rng.uniform(25, 40, n),
        }
    )
    w = W.knn(coords, 5)
    dense = W.align(w, coords["unit"])
    inv = np.linalg.inv(np.eye(n) - rho * dense)
    rows = [
        pd.DataFrame({"unit": coords["unit"], "year": 2000 + t, "y": inv @ rng.normal(size=n)})
        for t in range(years)
    ]
    return Panel(pd.concat(rows, ignore_index=True), unit="unit", time="year"), w


def test_by_year_matches_direct_formula_and_seed() -> None:
    panel, w = _simulated_panel(0.6, seed=3)
    out = moran_by_year(panel, "y", w, permutations=99, seed=11)
    assert list(out["year"]) == [2000, 2001, 2002]
    dense = W.align(w, sorted(panel.units))
    for row in out.itertuples():
        frame = panel.to_frame()
        y = frame.loc[frame["year"] == row.year].sort_values("unit")["y"].to_numpy()
        assert pytest.approx(_moran_direct(y, dense), rel=1e-10) == row.I
        assert pytest.approx(-1 / 59, rel=1e-12) == row.EI
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    again = moran_by_year(panel, "y", w, permutations=99, seed=11)
    pd.testing.assert_frame_equal(out, again)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    geary = geary_by_year(panel, "y", w, permutations=99, seed=11)
    pd.testing.assert_frame_equal(geary, geary_by_year(panel, "y", w, permutations=99, seed=11))


def test_recovery_positive_autocorrelation_and_size() -> None:
    """rho = 0.7 is detected; under rho = 0 the 5 % test rejects about 5 % of the time."""
    panel, w = _simulated_panel(0.7, seed=5, years=10, n=200)
    strong = moran_by_year(panel, "y", w, permutations=0)
    # with n = 200 and rho = 0.7 the test has power close to 1 and I is near 0.4
    assert (strong["p_norm"] < 0.01).all()
    assert 0.25 < strong["I"].mean() < 0.6
    rejections = []
    for seed in range(8):
        null, w0 = _simulated_panel(0.0, seed=100 + seed, years=25)
        rejections.extend(moran_by_year(null, "y", w0, permutations=0)["p_norm"] < 0.05)
    rate = float(np.mean(rejections))
    # 200 tests: a binomial(200, 0.05) falls in [2, 20] with probability > 0.999
    assert 0.01 <= rate <= 0.10


def test_errors_name_years_and_units(columbus: tuple[Panel, object]) -> None:
    panel, w = columbus
    frame = panel.to_frame()
    frame.loc[frame["POLYID"] == 7, "CRIME"] = np.nan
    with pytest.raises(DataError, match=r"1980.*\b7\b"):
        moran_by_year(Panel(frame, unit="POLYID", time="year"), "CRIME", w)
    short = Panel(panel.to_frame().query("POLYID != 3"), unit="POLYID", time="year")
    with pytest.raises(DataError, match=r"year 1980.*in w but not in the panel: '3'"):
        moran_by_year(short, "CRIME", w)
    with pytest.raises(DataError, match="'crime'"):
        moran_by_year(panel, "crime", w)


# ----------------------------------------------------------------------------- LISA
def test_lisa_closed_form_and_quadrants(columbus: tuple[Panel, object]) -> None:
    panel, w = columbus
    out = lisa(panel, "CRIME", w, year=1980, permutations=0)
    ids = [str(i) for i in sorted(panel.units)]
    dense = W.align(w, ids)
    y = panel.to_frame().sort_values("POLYID")["CRIME"].to_numpy()
    z = (y - y.mean()) / y.std()
    lag = dense @ z
    np.testing.assert_allclose(out["Ii"], (len(y) - 1) * z * lag / (z @ z), rtol=1e-10)
    np.testing.assert_allclose(out["lag"], dense @ y, rtol=1e-12)
    expected = np.select(
        [(z > 0) & (lag > 0), (z <= 0) & (lag > 0), (z <= 0) & (lag <= 0)], ["HH", "LH", "LL"], "HL"
    )
    assert list(out["quadrant"]) == list(expected)
    # sum of local statistics over (n - 1) = global I (row-standardised weights)
    assert out["Ii"].sum() / (len(y) - 1) == pytest.approx(_moran_direct(y, dense), rel=1e-10)
    assert out["cluster"].isna().all() and out["p_sim"].isna().all()


def test_lisa_against_esda_and_seed(columbus: tuple[Panel, object]) -> None:
    """I_i, z_i and quadrants equal esda's; p_sim is agglomera's own conditional permutation.

    Its distribution is compared with esda's ``Moran_Local`` draws in
    test_spatial_permutation.py (within Monte Carlo error).
    """
    import esda

    panel, w = columbus
    out = lisa(panel, "CRIME", w, year=1980, permutations=499, seed=7)
    y = panel.to_frame().sort_values("POLYID")["CRIME"].to_numpy()
    wy = W.from_matrix(W.align(w, out["POLYID"]), out["POLYID"])
    ref = esda.Moran_Local(y, wy, permutations=0)
    np.testing.assert_allclose(out["Ii"], ref.Is, rtol=1e-12)
    np.testing.assert_allclose(out["z_i"], ref.z, rtol=1e-12)
    assert list(out["quadrant"]) == [{1: "HH", 2: "LH", 3: "LL", 4: "HL"}[q] for q in ref.q]
    assert ((out["p_sim"] >= 1 / 500) & (out["p_sim"] <= 0.5)).all()
    again = lisa(panel, "CRIME", w, year=1980, permutations=499, seed=7)
    pd.testing.assert_frame_equal(out, again)
    sig = out["p_sim"] < 0.05
    assert list(out["significant"]) == list(sig)
    assert list(out.loc[sig, "cluster"]) == list(out.loc[sig, "quadrant"])
    assert (out.loc[~sig, "cluster"] == "not significant").all()
    # Columbus crime: the high-crime core is an HH cluster, the suburbs LL
    assert {"HH", "LL"} <= set(out["cluster"])


def test_bivariate_moran_direct_and_seed(columbus: tuple[Panel, object]) -> None:
    panel, w = columbus
    out = bivariate_moran(panel, "INC", "CRIME", w, year=1980, permutations=199, seed=3)
    frame = panel.to_frame().sort_values("POLYID")
    x, y = frame["INC"].to_numpy(), frame["CRIME"].to_numpy()
    zx, zy = (x - x.mean()) / x.std(ddof=1), (y - y.mean()) / y.std(ddof=1)
    dense = W.align(w, [str(i) for i in frame["POLYID"]])
    assert out["I"].iloc[0] == pytest.approx(zx @ dense @ zy / (len(x) - 1), rel=1e-10)
    assert out["p_sim"].iloc[0] == pytest.approx(1 / 200)  # strong negative association
    again = bivariate_moran(panel, "INC", "CRIME", w, year=1980, permutations=199, seed=3)
    pd.testing.assert_frame_equal(out, again)


# ----------------------------------------------------------------------------- figures
def test_moran_scatter_content(columbus: tuple[Panel, object]) -> None:
    panel, w = columbus
    fig = moran_scatter(panel, "CRIME", w, 1980)
    ax = fig.axes[0]
    points = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == "units"]
    assert len(points) == 1
    xy = points[0].get_offsets()
    y = panel.to_frame().sort_values("POLYID")["CRIME"].to_numpy()
    z = (y - y.mean()) / y.std()
    dense = W.align(w, [str(i) for i in sorted(panel.units)])
    np.testing.assert_allclose(xy[:, 0], z, rtol=1e-12)
    np.testing.assert_allclose(xy[:, 1], dense @ z, rtol=1e-12)
    (fit,) = [line for line in ax.lines if line.get_gid() == "fit"]
    fx, fy = fit.get_data()
    slope = (fy[1] - fy[0]) / (fx[1] - fx[0])
    assert slope == pytest.approx(0.500188557182861, rel=1e-9)  # row-standardised: slope = I
    assert "I = 0.500" in ax.get_title()


def test_lisa_map_content(columbus: tuple[Panel, object]) -> None:
    panel, w = columbus
    col = pd.read_csv(REF / "columbus.csv")
    out = lisa(panel, "CRIME", w, year=1980, permutations=0)
    # the map only reads 'cluster': label every unit by its quadrant, two as not significant
    out["cluster"] = out["quadrant"].astype(object)
    out.loc[[0, 5], "cluster"] = "not significant"
    fig = lisa_map(out, boundaries=col[["POLYID", "geometry"]])
    (units,) = [c for c in fig.axes[0].collections if c.get_gid() == "units"]
    assert isinstance(units, PatchCollection)
    assert len(units.get_paths()) == len(out) == 49
    import matplotlib.colors as mcolors

    expected = np.array([mcolors.to_rgba(CLUSTER_COLOURS[c]) for c in out["cluster"]])
    np.testing.assert_allclose(units.get_facecolors(), expected)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    n_hh = int((out["cluster"] == "HH").sum())
    assert f"HH ({n_hh})" in labels
