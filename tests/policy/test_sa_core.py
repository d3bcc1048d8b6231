"""Sun–Abraham cell-mean core (policy._sa_core) against the saturated pyfixest regression.

The cell-mean path must reproduce the regression path (``engine="pyfixest"``): estimates
to 1e-10 and standard errors to 1e-8 relative. Cells whose variance is exactly zero
(a one-unit treated cohort against a one-unit control cohort) are compared in absolute
terms: there pyfixest's iterative demeaning leaves SEs of order 1e-9 where the exact
value is 0. A hand computation of the 2×2 cell-mean DIDs with pandas and a recovery test
on simulated data with known cohort effects complete the checks; the R numbers of
tests/reference/policy (mpdta) are checked through the default path in test_twfe.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, datasets, policy
from agglomera.errors import SpecError
from agglomera.policy import _sa_core, twfe

EST_TOL = 1e-10
SE_RTOL = 1e-8


@pytest.fixture(scope="module")
def prefecture() -> policy.TreatmentDesign:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(
            datasets.innovative_city("prefecture", seed=0).panel, cohort="treat_year"
        )


@pytest.fixture(scope="module")
def major() -> policy.TreatmentDesign:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(datasets.innovative_city("major", seed=0).panel, cohort="treat_year")


def _both(design: policy.TreatmentDesign, outcome: str, **kwargs):
    fast = twfe.estimate_sa(design, outcome, engine="cell_means", **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        slow = twfe.estimate_sa(design, outcome, engine="pyfixest", **kwargs)
    return fast, slow


def _close_se(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = float(np.max(np.abs(b)))
    exact_zero = a == 0.0
    # exactly zero variance in the cell-mean path: pyfixest's iterative demeaning leaves
    # variances of rounding size (about 1e-14 of the largest variance) there
    assert np.all(b[exact_zero] ** 2 < 1e-10 * scale**2)
    np.testing.assert_allclose(a[~exact_zero], b[~exact_zero], rtol=SE_RTOL, atol=0)


def _assert_same(fast, slow) -> None:
    assert fast.meta["path"] == "cell_means"
    assert slow.meta["path"] == "pyfixest"
    ef, es = fast.event_study, slow.event_study
    assert ef["rel_time"].tolist() == es["rel_time"].tolist()
    assert ef["n"].tolist() == es["n"].tolist()
    np.testing.assert_allclose(ef["estimate"], es["estimate"], rtol=0, atol=EST_TOL)
    _close_se(ef["se"], es["se"])
    pd.testing.assert_frame_equal(
        fast.meta["cells"].drop(columns="estimate"), slow.meta["cells"].drop(columns="estimate")
    )
    np.testing.assert_allclose(
        fast.meta["cells"]["estimate"], slow.meta["cells"]["estimate"], rtol=0, atol=EST_TOL
    )
    assert fast.attgt[["cohort", "time"]].equals(slow.attgt[["cohort", "time"]])
    np.testing.assert_allclose(fast.attgt["estimate"], slow.attgt["estimate"], atol=EST_TOL)
    _close_se(fast.attgt["se"], slow.attgt["se"])
    assert fast.att == pytest.approx(slow.att, abs=EST_TOL)
    _close_se([fast.se], [slow.se])
    assert fast.pretrend_pvalue == pytest.approx(slow.pretrend_pvalue, rel=1e-6, abs=1e-12)
    for key in ("n_units", "n_obs", "n_clusters"):
        assert fast.meta[key] == slow.meta[key]
    assert fast.meta["small_sample_factor"] == pytest.approx(
        slow.meta["small_sample_factor"], rel=1e-14
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"aggregate": "simple"},
        {"control_group": "last"},
        {"cluster": "region4"},
        {"window": (-16, 11)},
    ],
    ids=["never", "never-simple", "last", "cluster-region", "window-no-merge"],
)
def test_cell_means_equal_regression_prefecture(prefecture, kwargs) -> None:
    fast, slow = _both(prefecture, "talent_lq", **kwargs)
    _assert_same(fast, slow)


def test_cell_means_equal_regression_with_anticipation() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = policy.design(
            datasets.innovative_city("prefecture", seed=3).panel,
            cohort="treat_year",
            anticipation=1,
        )
    fast, slow = _both(d, "talent_lq")
    _assert_same(fast, slow)
    assert -2 not in set(fast.event_study["rel_time"])  # reference period r = -2


def test_cell_means_equal_regression_last_treated_with_singletons(major) -> None:
    # cohorts 2008 (1 unit), 2010 (21), 2018 (1 unit, the control): zero-variance cells
    fast, slow = _both(major, "talent_lq", control_group="last")
    _assert_same(fast, slow)
    assert (fast.attgt.loc[fast.attgt["cohort"] == 2008, "se"] == 0.0).all()


def test_mpdta_cell_means_equal_regression() -> None:
    from pathlib import Path

    frame = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "policy" / "mpdta.csv")
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    fast, slow = _both(d, "lemp")
    _assert_same(fast, slow)
    fast, slow = _both(d, "lemp", control_group="last", aggregate="simple")
    _assert_same(fast, slow)


def test_cell_mean_formula_by_hand(prefecture) -> None:
    """delta(g, e) = (ybar_g,g+e - ybar_g,g-1) - (ybar_0,g+e - ybar_0,g-1), with pandas."""
    res = twfe.estimate_sa(prefecture, "talent_lq", engine="cell_means")
    frame = prefecture.panel.to_frame()
    frame["g"] = prefecture.cohorts.reindex(frame["adcode"]).to_numpy()
    means = frame.groupby(["g", "year"])["talent_lq"].mean()
    cells = res.meta["cells"]
    for g, e, est in cells[["cohort", "rel_time", "estimate"]].itertuples(index=False):
        expected = (means[(g, g + e)] - means[(g, g - 1)]) - (means[(0, g + e)] - means[(0, g - 1)])
        assert est == pytest.approx(expected, abs=1e-12)


def _simulated_panel(n: int, seed: int) -> tuple[pd.DataFrame, dict[tuple[int, int], float]]:
    rng = np.random.default_rng(seed)
    cohorts = np.array([0, 4, 6, 8])
    g = cohorts[rng.integers(0, 4, size=n)]
    t = np.tile(np.arange(1, 11), n)
    unit = np.repeat(np.arange(n), 10)
    gi = g[unit]
    truth = {}
    effect = np.zeros(t.size)
    for c, scale in ((4, 1.5), (6, 1.0), (8, 0.5)):
        for e in range(0, 11 - c):
            truth[(c, e)] = scale * (1 + 0.25 * e)
            effect[(gi == c) & (t - c == e)] = truth[(c, e)]
    y = rng.normal(size=n)[unit] + 0.2 * t + effect + rng.normal(size=t.size)
    return pd.DataFrame({"id": unit, "t": t, "g": gi, "y": y}), truth


def test_recovers_known_cohort_effects() -> None:
    frame, truth = _simulated_panel(4000, seed=11)
    d = policy.design(Panel(frame, unit="id", time="t"), cohort="g")
    res = policy.estimate(d, "y", estimator="sa", aggregate="dynamic")
    assert res.meta["path"] == "cell_means"
    cells = res.meta["cells"].set_index(["cohort", "rel_time"])
    attgt_se = res.attgt.set_index(["cohort", "time"])["se"]
    z = [
        (cells.loc[(g, e), "estimate"] - value) / attgt_se[(g, g + e)]
        for (g, e), value in truth.items()
    ]
    assert np.max(np.abs(z)) < 4.0  # 15 cells, each N(0, 1) under correct SEs
    pre = cells.index.get_level_values("rel_time") < -1
    assert np.abs(cells.loc[pre, "estimate"]).max() < 0.2


def test_auto_falls_back_where_the_identity_fails(prefecture) -> None:
    # a window that bins several event times of a cohort: saturated no more
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = twfe.estimate_sa(prefecture, "talent_lq", window=(-5, 5))
    assert res.meta["path"] == "pyfixest"
    assert "bins several event times" in res.meta["path_reason"]
    with pytest.raises(SpecError, match="engine='cell_means' is not available"):
        twfe.estimate_sa(prefecture, "talent_lq", window=(-5, 5), engine="cell_means")
    cov = twfe.estimate_sa(prefecture, "talent_lq", controls=["grp_pc"])
    assert cov.meta["path"] == "pyfixest" and "covariates" in cov.meta["path_reason"]
    with pytest.raises(SpecError, match="engine="):
        twfe.estimate_sa(prefecture, "talent_lq", engine="fast")


def test_auto_falls_back_on_unbalanced_panels() -> None:
    frame, _ = _simulated_panel(300, seed=2)
    frame.loc[5, "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = policy.design(Panel(frame, unit="id", time="t"), cohort="g", balance="pairwise")
        res = policy.estimate(d, "y", estimator="sa")
    assert res.meta["path"] == "pyfixest"
    assert "unbalanced" in res.meta["path_reason"]


def test_core_memory_is_linear_in_units() -> None:
    """The unit-clustered covariance never forms an N x k score matrix (Gram per cohort)."""
    rng = np.random.default_rng(0)
    n, t = 20_000, 10
    cohort = rng.choice([0, 4, 6, 8], size=n)
    y = rng.normal(size=(n, t))
    fit = _sa_core.cell_means_fit(y, cohort, np.arange(1, t + 1), [4, 6, 8], 0, -1)
    # per-unit scores formed explicitly give the same covariance
    scores = np.zeros((n, fit.delta.size))
    for c in (0, 4, 6, 8):
        m = cohort == c
        block = y[m]
        r = block - block.mean(1, keepdims=True) - block.mean(0) + block.mean()
        for j, (g, e) in enumerate(zip(fit.cohort, fit.rel_time, strict=True)):
            if c in (g, 0):
                sign = 1.0 if c == g else -1.0
                scores[m, j] = sign * (r[:, g + e - 1] - r[:, g - 2]) / m.sum()
    np.testing.assert_allclose(fit.vcov_raw, scores.T @ scores, rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("control", ["never", "last"])
def test_cells_match_r_lm_sandwich(control) -> None:
    """tests/reference/policy_sa: R lm() + sandwich::vcovCL with fixest's factor."""
    from pathlib import Path

    ref_dir = Path(__file__).resolve().parents[1] / "reference"
    frame = pd.read_csv(ref_dir / "policy" / "mpdta.csv")
    ref = pd.read_csv(ref_dir / "policy_sa" / "sa_cells_reference.csv")
    ref = ref[ref["control"] == control].set_index(["cohort", "rel_time"])
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    res = policy.estimate(d, "lemp", estimator="sa", control_group=control)
    assert res.meta["path"] == "cell_means"
    cells = res.meta["cells"].set_index(["cohort", "rel_time"])
    se = res.attgt.set_index(["cohort", "time"])["se"]
    assert set(cells.index) == set(ref.index)
    for (g, e), row in ref.iterrows():
        assert cells.loc[(g, e), "estimate"] == pytest.approx(row["estimate"], abs=1e-10)
        assert se[(g, g + e)] == pytest.approx(row["se"], rel=1e-8)
