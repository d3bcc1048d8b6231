from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agglomera import Panel, describe, reference
from agglomera.errors import DataError

giddy_markov = pytest.importorskip("giddy.markov", reason="giddy is the Markov oracle")
mapclassify = pytest.importorskip("mapclassify")
libpysal = pytest.importorskip("libpysal")
from giddy import ergodic  # noqa: E402


# ---------------------------------------------------------------- kernel density
@pytest.mark.parametrize("rule", ["scott", "silverman"])
def test_kernel_density_matches_gaussian_kde(cities, rule):
    out = describe.kernel_density(cities, "talent_lq", bandwidth=rule)
    frame = cities.to_frame()
    for year in (2003, 2011, 2019):
        part = out[out.year == year]
        y = frame.loc[frame.year == year, "talent_lq"].to_numpy()
        kde = stats.gaussian_kde(y, bw_method=rule)
        np.testing.assert_allclose(part["density"], kde(part["x"].to_numpy()), rtol=1e-12,
                                   atol=1e-14)  # fmt: skip
        assert part["bandwidth"].iloc[0] == pytest.approx(kde.factor * y.std(ddof=1), rel=1e-12)


def test_kernel_density_fixed_bandwidth_and_grid(cities):
    grid = np.linspace(0.2, 2.5, 50)
    out = describe.kernel_density(cities, "talent_lq", bandwidth=0.1, grid=grid)
    y = cities.to_frame().query("year == 2010")["talent_lq"].to_numpy()
    kde = stats.gaussian_kde(y, bw_method=0.1 / y.std(ddof=1))
    np.testing.assert_allclose(out.query("year == 2010")["density"], kde(grid), rtol=1e-12)
    assert len(out) == 50 * len(cities.times)
    # integrates to ~1 on a wide grid
    wide = describe.kernel_density(cities, "talent_lq", n_grid=2000)
    part = wide[wide.year == 2003]
    assert np.trapezoid(part["density"], part["x"]) == pytest.approx(1.0, abs=1e-3)


def test_kernel_density_rejects_degenerate_years():
    df = pd.DataFrame({"u": list("abab"), "t": [1, 1, 2, 2], "x": [1.0, 1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="periods 1"):
        describe.kernel_density(Panel(df, unit="u", time="t"), "x")


# ---------------------------------------------------------------- Markov
def _giddy_pooled(wide: np.ndarray, k: int):
    yb = mapclassify.Quantiles(wide.ravel(), k=k).yb.reshape(wide.shape)
    return giddy_markov.Markov(yb, classes=np.arange(k), summary=False)


def test_markov_pooled_quantiles_identical_to_giddy(cities):
    res = describe.markov(cities, "talent_lq", classes=5)
    wide = cities.to_wide("talent_lq").to_numpy()
    ref = _giddy_pooled(wide, 5)
    np.testing.assert_array_equal(res.counts.to_numpy(), ref.transitions)
    np.testing.assert_allclose(res.probabilities.to_numpy(), ref.p, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.steady_state.to_numpy(), ref.steady_state, atol=1e-12)
    np.testing.assert_allclose(res.mfpt.to_numpy(), ergodic.mfpt(ref.p), rtol=1e-9)
    bins = mapclassify.Quantiles(wide.ravel(), k=5).bins
    np.testing.assert_allclose(res.meta["upper_bounds"], bins, rtol=0, atol=0)


def test_markov_per_year_quantiles_identical_to_giddy(cities):
    res = describe.markov(cities, "talent_lq", classes=4, pooled_quantiles=False)
    wide = cities.to_wide("talent_lq").to_numpy()
    yb = np.array([mapclassify.Quantiles(col, k=4).yb for col in wide.T]).T
    ref = giddy_markov.Markov(yb, summary=False)
    np.testing.assert_array_equal(res.counts.to_numpy(), ref.transitions)
    np.testing.assert_allclose(res.probabilities.to_numpy(), ref.p, atol=1e-15)
    _same_steady_states(res, ref.steady_state)


def _same_steady_states(res, giddy_steady):
    giddy_steady = np.atleast_2d(np.asarray(giddy_steady, dtype=float))
    ours = res.recurrent_states.to_numpy()
    order = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731
    np.testing.assert_allclose(order(ours), order(giddy_steady), atol=1e-12)
    if giddy_steady.shape[0] == 1:
        np.testing.assert_allclose(res.steady_state.to_numpy(), giddy_steady[0], atol=1e-12)
    else:
        assert np.isnan(res.steady_state.to_numpy()).all()


def test_markov_relative_values(bay):
    res = describe.markov(bay, "rd_staff_per10k", classes=3, relative=True)
    wide = bay.to_wide("rd_staff_per10k").to_numpy()
    ref = _giddy_pooled(wide / wide.mean(axis=0, keepdims=True), 3)
    np.testing.assert_array_equal(res.counts.to_numpy(), ref.transitions)


def test_markov_coupling_grades_match_coupling_coordination():
    rng = np.random.default_rng(3)
    n, t = 30, 8
    u1 = np.clip(
        rng.uniform(0.05, 0.9, (n, 1)) + np.cumsum(rng.normal(0.02, 0.05, (n, t)), 1), 0.01, 1
    )
    u2 = np.clip(u1 + rng.normal(0, 0.1, (n, t)), 0.01, 1)
    from agglomera.measure import coupling_coordination

    cc = coupling_coordination(u1.ravel(), u2.ravel())
    df = pd.DataFrame({"u": np.repeat(np.arange(n), t), "t": np.tile(np.arange(2000, 2000 + t), n),
                       "D": cc.D})  # fmt: skip
    res = describe.markov(Panel(df, unit="u", time="t"), "D", breaks="coupling")
    assert res.classes["class"].tolist() == list(cc.grade_en)
    ids = (np.asarray(cc.grade) - 1).reshape(n, t)
    ref = giddy_markov.Markov(ids, classes=np.arange(10), summary=False)
    np.testing.assert_array_equal(res.counts.to_numpy(), ref.transitions)
    assert len(res.labels) == 10


def test_markov_fixed_edges_closed_left_and_right():
    df = pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2], "x": [0.5, 1.0, 1.0, 2.0]})
    p = Panel(df, unit="u", time="t")
    left = describe.markov(p, "x", breaks=[0, 1, 2])
    assert left.classes["class"].tolist() == ["[0, 1)", "[1, 2]", "[1, 2]", "[1, 2]"]
    right = describe.markov(p, "x", breaks=[0, 1, 2], closed="right")
    assert right.classes["class"].tolist() == ["[0, 1]", "[0, 1]", "[0, 1]", "(1, 2]"]
    with pytest.raises(DataError, match="outside the breaks"):
        describe.markov(p, "x", breaks=[0, 1, 1.5])


def test_markov_unbalanced_counts_only_consecutive_pairs():
    df = pd.DataFrame(
        {"u": ["a"] * 4 + ["b"] * 3, "t": [1, 2, 3, 4, 1, 3, 4],
         "x": [0.1, 0.9, np.nan, 0.9, 0.1, 0.1, 0.9]}
    )  # fmt: skip
    res = describe.markov(Panel(df, unit="u", time="t"), "x", breaks=[0, 0.5, 1])
    # a: 1->2 (low->high), 2->3 missing, 3->4 missing; b: 1->3 gap, 3->4 (low->high)
    assert res.counts.to_numpy().tolist() == [[0, 2], [0, 0]]
    assert res.meta["n_skipped"] == 2
    assert res.meta["n_transitions"] == 2
    # high is entered only in the last period: made absorbing, steady state all there
    np.testing.assert_allclose(res.steady_state.to_numpy(), [0.0, 1.0])
    assert np.isnan(res.probabilities.iloc[1]).all()


def test_steady_state_and_mfpt_against_giddy():
    p = np.array([[0.5, 0.25, 0.25], [0.5, 0.0, 0.5], [0.25, 0.25, 0.5]])
    np.testing.assert_allclose(describe.steady_state(p), ergodic.steady_state(p), atol=1e-14)
    np.testing.assert_allclose(describe.mean_first_passage(p), ergodic.mfpt(p), rtol=1e-12)
    reducible = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert np.isnan(describe.steady_state(reducible)).all()
    assert describe.mean_first_passage(reducible) is None


def test_markov_tables(cities):
    res = describe.markov(cities, "talent_lq", classes=4)
    tidy = res.to_frame()
    assert len(tidy) == 16 and tidy["count"].sum() == res.meta["n_transitions"]
    table = res.table()
    assert table["n"].tolist() == res.counts.sum(axis=1).tolist()
    assert res.initial.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------- spatial chains
def _knn(panel: Panel, k: int = 4, order=None):
    table = reference.cities().set_index("adcode").loc[list(panel.units)]
    ids = list(panel.units) if order is None else order
    coords = table.loc[ids, ["lon", "lat"]].to_numpy()
    return libpysal.weights.KNN(coords, k=k, ids=ids)


def test_spatial_markov_identical_to_giddy(cities):
    w = _knn(cities)
    res = describe.spatial_markov(cities, "talent_lq", w, classes=4)
    wide = cities.to_wide("talent_lq").to_numpy()
    w_ref = _knn(cities)
    w_ref.transform = "r"
    ref = giddy_markov.Spatial_Markov(wide, w_ref, k=4, m=4, fixed=True)
    for i, lag in enumerate(res.lag_labels):
        np.testing.assert_array_equal(res.counts[lag].to_numpy(), ref.T[i])
        rows = ref.T[i].sum(axis=1) > 0
        np.testing.assert_allclose(res.probabilities[lag].to_numpy()[rows], ref.P[i][rows])
    tests = res.tests.set_index("test")
    assert tests.loc["LR", "statistic"] == pytest.approx(ref.LR, rel=1e-12)
    assert tests.loc["Q", "statistic"] == pytest.approx(ref.Q, rel=1e-12)
    assert w.transform == "O"  # the caller's W is not modified


def test_spatial_markov_aligns_weights_by_id(cities):
    shuffled = list(cities.units)[::-1]
    a = describe.spatial_markov(cities, "talent_lq", _knn(cities), classes=3)
    b = describe.spatial_markov(cities, "talent_lq", _knn(cities, order=shuffled), classes=3)
    full, _ = _knn(cities).full()
    c = describe.spatial_markov(cities, "talent_lq", full, classes=3)
    for lag in a.lag_labels:
        pd.testing.assert_frame_equal(a.counts[lag], b.counts[lag])
        pd.testing.assert_frame_equal(a.counts[lag], c.counts[lag])
    with pytest.raises(DataError, match="square array"):
        describe.spatial_markov(cities, "talent_lq", full[:-1, :-1])


def test_spatial_markov_permutations_are_seeded(bay):
    w = _knn(bay, k=2)
    a = describe.spatial_markov(bay, "rd_staff_per10k", w, classes=3, permutations=49, seed=1)
    b = describe.spatial_markov(bay, "rd_staff_per10k", w, classes=3, permutations=49, seed=1)
    assert a.tests["perm_pvalue"].iloc[2] == b.tests["perm_pvalue"].iloc[2]


def test_lisa_markov_identical_to_giddy(cities):
    res = describe.lisa_markov(cities, "talent_lq", _knn(cities))
    w_ref = _knn(cities)
    w_ref.transform = "r"
    ref = giddy_markov.LISA_Markov(cities.to_wide("talent_lq").to_numpy(), w_ref)
    np.testing.assert_array_equal(res.counts.to_numpy(), ref.transitions)
    _same_steady_states(res, ref.steady_state)
    assert res.independence["statistic"] == pytest.approx(ref.chi_2[0], rel=1e-12)
    assert set(res.quadrants["quadrant"]) <= {"HH", "LH", "LL", "HL"}


def test_spatial_chains_need_complete_panel(cities_holes):
    with pytest.raises(DataError, match="balanced panel without missing"):
        describe.spatial_markov(cities_holes, "talent_lq", _knn(cities_holes))


def test_spatial_markov_cutoffs_and_per_year_match_giddy(cities):
    wide = cities.to_wide("talent_lq").to_numpy()
    w_ref = _knn(cities)
    w_ref.transform = "r"
    res = describe.spatial_markov(
        cities, "talent_lq", _knn(cities), breaks=[0.8, 1.0, 1.2], lag_breaks=[0.9, 1.1]
    )
    ref = giddy_markov.Spatial_Markov(wide, w_ref, cutoffs=[0.8, 1.0, 1.2], lag_cutoffs=[0.9, 1.1])
    assert len(res.labels) == 4 and len(res.lag_labels) == 3
    for i, lag in enumerate(res.lag_labels):
        np.testing.assert_array_equal(res.counts[lag].to_numpy(), ref.T[i])
    per_year = describe.spatial_markov(cities, "talent_lq", _knn(cities), pooled_quantiles=False)
    ref2 = giddy_markov.Spatial_Markov(wide, w_ref, k=4, m=4, fixed=False)
    for i, lag in enumerate(per_year.lag_labels):
        np.testing.assert_array_equal(per_year.counts[lag].to_numpy(), ref2.T[i])
