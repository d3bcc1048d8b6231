"""Conditional randomisation of the local statistics (agglomera.spatial._permutation).

Validated without esda's draws: the sampler is uniform over ordered samples without
replacement (chi-square), the simulated lags have the exact mean and variance of the
conditional null (derived in the module docstring; for Moran's I_i they are Sokal, Oden
& Thomson's 1998 eqs. A7-A8 as computed by esda ``Moran_Local.EIc/VIc``), and the pseudo
p-values converge to the exact p-values obtained by enumerating every permutation of a
small example. The tests marked slow compare with esda's ``Moran_Local``/``G_Local`` p-values
(esda's numba kernel compiles for 15-40 s): equal within Monte Carlo error.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agglomera import Panel
from agglomera.spatial import weights as W
from agglomera.spatial._permutation import (
    conditional_lags,
    conditional_pvalues,
    folded_pvalues,
    sample_positions,
)
from agglomera.spatial.autocorrelation import lisa
from agglomera.spatial.hotspots import getis_ord

REF = Path(__file__).resolve().parents[1] / "reference" / "spatial_weights"


@pytest.fixture(scope="module")
def columbus() -> tuple[Panel, object, np.ndarray, np.ndarray]:
    col = pd.read_csv(REF / "columbus.csv")
    w = W.contiguity(col[["POLYID", "geometry"]], islands="error")
    panel = Panel(col[["POLYID", "CRIME"]].assign(year=1980), unit="POLYID", time="year")
    y = col.sort_values("POLYID")["CRIME"].to_numpy()
    dense = W.align(w, [str(i) for i in sorted(col["POLYID"])])
    return panel, w, y, dense


# ----------------------------------------------------------------------------- sampler
@pytest.mark.parametrize(
    ("pool", "k"),
    [(6, 2), (6, 3), (7, 4), (6, 5), (5, 5)],  # k*k <= 4*pool: redraw repeats; else shuffle
)
def test_sampler_is_uniform_over_ordered_samples(pool: int, k: int) -> None:
    rows = 60_000
    draws = sample_positions(np.random.default_rng(1), rows, k, pool)
    assert draws.shape == (rows, k) and draws.min() >= 0 and draws.max() < pool
    assert (np.sort(draws, axis=1)[:, 1:] != np.sort(draws, axis=1)[:, :-1]).all()
    cells = {t: c for c, t in enumerate(itertools.permutations(range(pool), k))}
    counts = np.bincount([cells[tuple(r)] for r in draws.tolist()], minlength=len(cells))
    # a fixed seed makes this deterministic; under uniformity p < 1e-4 has probability 1e-4
    assert stats.chisquare(counts).pvalue > 1e-4


def test_sampler_repeatable_and_degenerate_sizes() -> None:
    a = sample_positions(np.random.default_rng(5), 100, 3, 40)
    b = sample_positions(np.random.default_rng(5), 100, 3, 40)
    np.testing.assert_array_equal(a, b)
    assert sample_positions(np.random.default_rng(5), 10, 0, 40).shape == (10, 0)
    with pytest.raises(ValueError, match="k must be"):
        sample_positions(np.random.default_rng(5), 10, 5, 4)


# ----------------------------------------------------------------------------- moments
def _exact_moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of sum_j w_ij x_pi(j) under sampling without replacement.

    The k_i neighbour slots receive distinct units drawn from the N = n - 1 others, so
    each X_j has the pool mean mu and variance s2 (ddof 0) and two distinct slots have
    covariance -s2 / (N - 1). Hence E = W_i mu and Var = s2 (S1_i - (W_i^2 - S1_i) / (N - 1))
    = s2 (N S1_i - W_i^2) / (N - 1).
    """
    n = len(x)
    off = w.copy()
    np.fill_diagonal(off, 0)
    mean = np.empty(n)
    var = np.empty(n)
    for i in range(n):
        pool = np.delete(x, i)
        big_n = n - 1
        wi, s1 = off[i].sum(), (off[i] ** 2).sum()
        mean[i] = wi * pool.mean()
        var[i] = pool.var() * (big_n * s1 - wi**2) / (big_n - 1)
    return mean, var


def _check_moments(x: np.ndarray, w: np.ndarray, reps: int, seed: int) -> None:
    sims = conditional_lags(x, w, reps, np.random.default_rng(seed))
    mean, var = _exact_moments(x, w)
    se_mean = np.sqrt(var / reps)
    # standard error of a sample variance: sqrt((m4 - s^4) / R), m4 estimated from the draws
    centred = sims - sims.mean(axis=1, keepdims=True)
    se_var = np.sqrt(((centred**4).mean(axis=1) - sims.var(axis=1) ** 2) / reps)
    # a unit without neighbours has a lag of exactly 0: both sides are 0
    assert (np.abs(sims.mean(axis=1) - mean) <= 4.5 * se_mean).all()
    assert (np.abs(sims.var(axis=1) - var) <= 4.5 * se_var).all()


def test_lag_moments_columbus_queen(
    columbus: tuple[Panel, object, np.ndarray, np.ndarray],
) -> None:
    _, _, y, dense = columbus
    z = (y - y.mean()) / y.std()
    _check_moments(z, dense, 20_000, seed=11)


def test_lag_moments_unequal_weights_with_self_weight() -> None:
    rng = np.random.default_rng(2)
    n = 30
    w = rng.exponential(size=(n, n)) * (rng.random((n, n)) < 0.25)
    np.fill_diagonal(w, 0.7)  # a self-weight stays with the unit and is not permuted
    w[3] = 0.0  # one unit without neighbours
    x = rng.gamma(2.0, size=n)
    _check_moments(x, w, 20_000, seed=12)
    sims = conditional_lags(x, w, 50, np.random.default_rng(0))
    assert (sims[3] == 0).all()


def test_exact_moments_are_sokal_for_local_moran(
    columbus: tuple[Panel, object, np.ndarray, np.ndarray],
) -> None:
    """E and Var of I_i from the lag moments equal esda's Sokal et al. (1998) A7-A8."""
    import esda
    from libpysal.weights import W as PysalW

    _, _, y, dense = columbus
    n = len(y)
    z = (y - y.mean()) / y.std()
    mean, var = _exact_moments(z, dense)
    scale = (n - 1) * z / (z @ z)  # I_i = scale_i * lag_i
    ids = list(range(n))
    pw = PysalW(
        {i: list(np.flatnonzero(dense[i])) for i in ids},
        {i: list(dense[i][dense[i] != 0]) for i in ids},
        silence_warnings=True,
    )
    ref = esda.Moran_Local(y, pw, transformation="O", permutations=0)
    # esda's moments are for Sokal's I_i = z_i lag_i / m2 = n / (n - 1) times this I_i
    np.testing.assert_allclose(scale * mean, ref.EIc * (n - 1) / n, rtol=1e-10)
    np.testing.assert_allclose(scale**2 * var, ref.VIc * ((n - 1) / n) ** 2, rtol=1e-10)


# ----------------------------------------------------------------------------- p-values
def _esda_directed(observed: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """esda's rule as written in Moran_Local (moran.py) on statistics."""
    permutations = sims.shape[1]
    larger = (sims >= observed[:, None]).sum(axis=1)
    low_extreme = (permutations - larger) < larger
    larger[low_extreme] = permutations - larger[low_extreme]
    return (larger + 1.0) / (permutations + 1.0)


def test_folded_rule_is_esdas_rule_without_ties_and_conservative_with_ties() -> None:
    rng = np.random.default_rng(4)
    # continuous values (no ties): exactly esda's directed rule
    sims = rng.normal(size=(40, 99))
    observed = rng.normal(size=40)
    sign = rng.choice([-1.0, 1.0], size=40)
    ours = folded_pvalues(observed, sims, sign)
    # the statistic is sign * lag: apply esda's rule to the statistics themselves
    np.testing.assert_array_equal(ours, _esda_directed(sign * observed, sign[:, None] * sims))
    # many ties: ties count on both sides, so the value is at least esda's
    tied = rng.integers(-5, 6, size=(40, 99)).astype(float)
    tied_obs = rng.integers(-3, 4, size=40).astype(float)
    ours = folded_pvalues(tied_obs, tied, sign)
    esda = _esda_directed(sign * tied_obs, sign[:, None] * tied)
    assert (ours >= esda).all() and (ours > esda).any()
    ge = ((sign[:, None] * (tied - tied_obs[:, None])) >= 0).sum(axis=1)
    le = ((sign[:, None] * (tied - tied_obs[:, None])) <= 0).sum(axis=1)
    np.testing.assert_array_equal(ours, (np.minimum(ge, le) + 1) / 100)
    # observed 0 among (-1, 0, 1, 2): >= counts 3, <= counts 2 -> (2 + 1) / 5
    assert folded_pvalues(np.array([0.0]), np.array([[-1.0, 0.0, 1.0, 2.0]]), np.array([1.0]))[
        0
    ] == pytest.approx(3 / 5)
    # the most extreme neighbourhood, reproduced by 1 draw in 35: esda's one-sided tie count
    # gives 1 / (R + 1), counting ties on both sides gives about 1/35
    draws = np.where(np.arange(3500) % 35 == 0, 3.0, rng.uniform(0, 2.9, 3500))[None, :]
    p = folded_pvalues(np.array([3.0]), draws, np.array([-1.0]))[0]
    assert p == pytest.approx(101 / 3501)
    # degenerate distribution (island, z_i = 0): p = 1 instead of esda's 1 / (R + 1)
    flat = folded_pvalues(np.array([0.0, 2.0]), np.repeat([[0.0], [2.0]], 9, axis=1), np.ones(2))
    np.testing.assert_array_equal(flat, [1.0, 1.0])
    assert folded_pvalues(np.array([1.0]), sims[:1], np.array([0.0]))[0] == 1.0


def _exact_p(x: np.ndarray, w: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Limit of the p-value: min(P(T >= t), P(T <= t)) over all permutations."""
    n = len(x)
    out = np.empty(n)
    for i in range(n):
        cols = np.flatnonzero(w[i])
        others = np.delete(np.arange(n), i)
        observed = w[i, cols] @ x[cols]
        lags = np.array(
            [w[i, cols] @ x[list(t)] for t in itertools.permutations(others, len(cols))]
        )
        diff = direction[i] * (lags - observed)
        tie = np.isclose(lags, observed, rtol=0, atol=1e-12)
        upper = float(np.mean((diff > 0) | tie))
        lower = float(np.mean((diff < 0) | tie))
        out[i] = min(upper, lower)
    return out


@pytest.mark.parametrize("weighting", ["binary", "unequal"])
def test_pvalues_converge_to_exact_enumeration(weighting: str) -> None:
    """9 units with 1-3 neighbours: every permutation enumerated (ties included)."""
    rng = np.random.default_rng(8)
    n = 9
    w = np.zeros((n, n))
    for i in range(n):
        nb = rng.choice(np.delete(np.arange(n), i), size=1 + i % 3, replace=False)
        w[i, nb] = 1.0 if weighting == "binary" else rng.uniform(0.2, 1.0, size=len(nb))
    w = w / w.sum(axis=1, keepdims=True)
    x = np.round(rng.normal(size=n), 1)  # rounded values also create exact ties
    z = (x - x.mean()) / x.std()
    direction = np.sign(z)
    exact = _exact_p(z, w, direction)
    reps = 100_000
    ours = conditional_pvalues(z, w, direction, reps, np.random.default_rng(3))
    # binomial Monte Carlo error of M / R (the fold min(., 1 - .) is 1-Lipschitz)
    band = 4.5 * np.sqrt(np.maximum(exact * (1 - exact), 1 / reps) / reps) + 1 / (reps + 1)
    assert (np.abs(ours - exact) < band).all()


# ----------------------------------------------------------------------------- public API
def test_lisa_and_gi_share_the_conditional_distribution(
    columbus: tuple[Panel, object, np.ndarray, np.ndarray],
) -> None:
    """I_i, G_i and G_i* are monotone in the neighbours' lag: same draws, same p_sim.

    The directed rule counts a tie (a permutation reproducing the observed neighbour
    values) with 'at least as large'; for z_i < 0 that is the lower lag tail for I_i and
    the upper one for G_i, so there the p-values may differ by the number of ties.
    """
    panel, w, y, dense = columbus
    reps, seed = 999, 21
    local = lisa(panel, "CRIME", w, year=1980, permutations=reps, seed=seed)
    for star in (True, False):
        g = getis_ord(panel, "CRIME", w, permutations=reps, seed=seed, star=star)
        positive = local["z_i"].to_numpy() > 0
        np.testing.assert_array_equal(g["p_sim"][positive], local["p_sim"][positive])
        lags = conditional_lags(y, dense, reps, np.random.default_rng(seed))
        ties = np.isclose(lags, (dense @ y)[:, None], rtol=1e-10, atol=0).sum(axis=1)
        assert (np.abs(g["p_sim"] - local["p_sim"]) <= ties / (reps + 1) + 1e-15).all()


def test_seed_and_global_state(columbus: tuple[Panel, object, np.ndarray, np.ndarray]) -> None:
    panel, w, _, _ = columbus
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    a = lisa(panel, "CRIME", w, year=1980, permutations=199, seed=3)
    pd.testing.assert_frame_equal(a, lisa(panel, "CRIME", w, year=1980, permutations=199, seed=3))
    b = lisa(panel, "CRIME", w, year=1980, permutations=199, seed=4)
    assert not np.array_equal(a["p_sim"], b["p_sim"])
    np.testing.assert_array_equal(a["Ii"], b["Ii"])
    g = getis_ord(panel, "CRIME", w, permutations=199, seed=3)
    pd.testing.assert_frame_equal(g, getis_ord(panel, "CRIME", w, permutations=199, seed=3))
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_degenerate_units_are_never_significant() -> None:
    """An island and a unit at the mean (z_i = 0) have p_sim = 1."""
    units = [f"u{i}" for i in range(7)]
    dense = np.zeros((7, 7))
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5), (1, 4)]:
        dense[i, j] = dense[j, i] = 1.0
    w = W.from_matrix(dense, units, row_standardise=True)  # u6 is an island
    y = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 6.0, 0.5])
    y[3] = (y.sum() - y[3]) / 6  # exactly the mean of all seven values
    panel = Panel(pd.DataFrame({"u": units, "t": 1, "y": y}), unit="u", time="t")
    out = lisa(panel, "y", w, year=1, permutations=99, seed=0)
    assert out.loc[3, "z_i"] == 0
    assert out.loc[3, "p_sim"] == 1.0 and out.loc[6, "p_sim"] == 1.0
    assert not out.loc[[3, 6], "significant"].any()


def test_null_size_and_power() -> None:
    """Under independence P(p_sim <= a) is about 2a (the directed p picks the nearer tail).

    1 000 units on a 40 x 25 grid (rook), 10 independent normal samples: 10 000 p-values.
    """
    side_r, side_c = 40, 25
    units = [f"c{r:02d}{c:02d}" for r in range(side_r) for c in range(side_c)]
    n = len(units)
    dense = np.zeros((n, n))
    for r in range(side_r):
        for c in range(side_c):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                if 0 <= r + dr < side_r and 0 <= c + dc < side_c:
                    dense[r * side_c + c, (r + dr) * side_c + c + dc] = 1
    dense /= dense.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(30)
    p = np.concatenate(
        [
            conditional_pvalues(
                z := rng.normal(size=n), dense, np.sign(z), 199, np.random.default_rng(s)
            )
            for s in range(10)
        ]
    )
    # 10 000 tests at rate 0.10: sd 0.003 (local dependence inflates it somewhat)
    assert abs(np.mean(p <= 0.05) - 0.10) < 0.02
    # a planted 5 x 5 block shifted by 3 sd is found by its interior cells
    y = rng.normal(size=n)
    block = [r * side_c + c for r in range(10, 15) for c in range(10, 15)]
    y[block] += 3.0
    z = (y - y.mean()) / y.std()
    p = conditional_pvalues(z, dense, np.sign(z), 999, np.random.default_rng(1))
    interior = [r * side_c + c for r in range(11, 14) for c in range(11, 14)]
    assert (p[interior] < 0.01).all()


def test_speed_300_units() -> None:
    """300 units, 6 nearest neighbours, 999 permutations: well under a second."""
    import time

    rng = np.random.default_rng(0)
    xy = rng.random((300, 2))
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    w = np.zeros((300, 300))
    w[np.arange(300)[:, None], np.argsort(d, axis=1)[:, :6]] = 1 / 6
    y = rng.normal(size=300)
    start = time.perf_counter()
    conditional_pvalues(y, w, np.sign(y), 999, np.random.default_rng(0))
    # the machine is shared: 2 s leaves room for load; alone it takes about 0.1 s
    assert time.perf_counter() - start < 2.0


# ----------------------------------------------------------------------------- esda
def _esda_w(dense: np.ndarray, ids: list[str]) -> object:
    return W.from_matrix(dense, ids, row_standardise=False)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_pvalues_against_esda_columbus(
    columbus: tuple[Panel, object, np.ndarray, np.ndarray],
) -> None:
    """9 999 permutations each: |p - p_esda| within Monte Carlo error.

    Both p-values are Monte Carlo estimates with binomial error sqrt(p(1 - p)/R): the
    difference has standard deviation sqrt(2 p (1 - p) / R); the band is 4 of them plus
    the resolution 1 / (R + 1).
    """
    import esda

    panel, w, y, dense = columbus
    reps = 9999
    ids = [str(i) for i in sorted(panel.units)]
    ours = lisa(panel, "CRIME", w, year=1980, permutations=reps, seed=5)
    ref = esda.Moran_Local(y, _esda_w(dense, ids), transformation="O", permutations=reps, seed=5)
    np.testing.assert_array_equal(ours["Ii"], ref.Is)
    p_bar = (ours["p_sim"].to_numpy() + ref.p_sim) / 2
    band = 4 * np.sqrt(2 * p_bar * (1 - p_bar) / reps) + 1 / (reps + 1)
    assert (np.abs(ours["p_sim"] - ref.p_sim) < band).all()
    g = getis_ord(panel, "CRIME", w, permutations=reps, seed=5)
    binary = W.from_matrix(dense > 0, ids, row_standardise=False)
    ref_g = esda.G_Local(y, binary, transform="B", star=True, permutations=reps, seed=5, n_jobs=1)
    p_bar = (g["p_sim"].to_numpy() + ref_g.p_sim) / 2
    band = 4 * np.sqrt(2 * p_bar * (1 - p_bar) / reps) + 1 / (reps + 1)
    assert (np.abs(g["p_sim"] - ref_g.p_sim) < band).all()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_cluster_labels_against_esda_docs_example() -> None:
    """The documented 2019 LISA map: labels agree with esda's except near alpha.

    A unit may switch between significant and not only if one of the two p-values lies
    within Monte Carlo error of alpha (4 standard deviations of the difference).
    """
    import esda

    from agglomera import datasets

    panel = datasets.innovative_city("prefecture", seed=0).panel
    w = W.contiguity(units=list(panel.units))
    reps, alpha = 999, 0.05
    ours = lisa(panel, "talent_lq", w, year=2019, permutations=reps, seed=1)
    ids = list(ours[panel.unit].astype(str))
    dense = W.align(w, ids)
    y = ours["value"].to_numpy()
    ref = esda.Moran_Local(y, _esda_w(dense, ids), transformation="O", permutations=reps, seed=1)
    ref_cluster = np.where(ref.p_sim < alpha, ours["quadrant"], "not significant")
    differ = ours["cluster"].to_numpy() != ref_cluster
    near = np.abs(ref.p_sim - alpha) < 4 * np.sqrt(2 * alpha * (1 - alpha) / reps)
    assert (near[differ]).all()
