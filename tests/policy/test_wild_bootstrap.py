"""Wild cluster bootstrap for TWFE (pyfixest + wildboottest)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy
from agglomera.errors import SpecError
from agglomera.policy import twfe
from agglomera.policy.wild_bootstrap import wild_bootstrap

pytest.importorskip("wildboottest")


def _simulate(seed: int, n_units: int = 14, n_treated: int = 5, t_len: int = 8, effect=0.0):
    """Few-cluster staggered panel with unit-level AR(1)-like shocks (null: effect 0)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2001, 2001 + t_len)
    cohorts = np.zeros(n_units, dtype=np.int64)
    cohorts[:n_treated] = rng.choice([2004, 2006], size=n_treated)
    alpha = rng.normal(size=n_units)
    lam = rng.normal(size=t_len)
    common = rng.normal(size=(n_units, 1)) * 0.5
    eps = rng.normal(size=(n_units, t_len)) + common
    d = (cohorts[:, None] > 0) & (years[None, :] >= cohorts[:, None])
    y = alpha[:, None] + lam[None, :] + eps + effect * d
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), t_len),
            "year": np.tile(years, n_units),
            "g": np.repeat(cohorts, t_len),
            "y": y.ravel(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(Panel(frame, unit="unit", time="year"), cohort="g")


@pytest.fixture(scope="module")
def design():
    return _simulate(0, effect=0.8)


def test_conventional_part_equals_estimate_and_pyfixest_wildboottest(design) -> None:
    import pyfixest as pf

    res = wild_bootstrap(design, "y", draws=999, seed=1, ci=False)
    conv = policy.estimate(design, "y", estimator="twfe")
    assert (res.att, res.se, res.pvalue) == (conv.att, conv.se, conv.pvalue)
    data = twfe._prepare(design, "y", (), None)
    frame = data.frame
    frame["treat_d"] = design.treated().to_numpy(dtype=float)[data.rows]
    fit = pf.feols(
        "y ~ treat_d | unit_id + time_id",
        data=frame,
        vcov={"CRV1": "cl_id"},
        ssc=pf.ssc(**twfe.SSC_CONVENTION),
    )
    direct = fit.wildboottest(reps=999, cluster="cl_id", param="treat_d", seed=1)
    assert res.wild_pvalue == pytest.approx(float(direct["Pr(>|t|)"]), abs=1e-12)
    assert res.t_stat == pytest.approx(float(direct["t value"]), rel=1e-12)
    assert res.meta["n_clusters"] == 14
    assert res.to_frame()["inference"].iloc[0].startswith("conventional")


def test_seeded_and_stable_across_seeds(design) -> None:
    a = wild_bootstrap(design, "y", draws=1999, seed=1, ci=False)
    b = wild_bootstrap(design, "y", draws=1999, seed=1, ci=False)
    c = wild_bootstrap(design, "y", draws=1999, seed=2, ci=False)
    assert a.wild_pvalue == b.wild_pvalue
    p = a.wild_pvalue
    mc_se = math.sqrt(max(p * (1 - p), 1e-4) / 1999)
    assert abs(a.wild_pvalue - c.wild_pvalue) < 4 * math.sqrt(2) * mc_se


def test_bootstrap_t_interval_without_null(design) -> None:
    res = wild_bootstrap(design, "y", draws=199, seed=0, impose_null=False)
    lo, hi = res.wild_ci
    assert lo < res.att < hi
    assert res.meta["ci_method"].startswith("bootstrap-t")
    assert hi - res.att == pytest.approx(res.att - lo, rel=1e-9)  # symmetric
    assert "wild cluster bootstrap" in res.summary()


@pytest.mark.slow
def test_ci_by_test_inversion_brackets_the_estimate(design) -> None:
    res = wild_bootstrap(design, "y", draws=199, seed=0, weights="webb")
    lo, hi = res.wild_ci
    assert lo < res.att < hi
    assert res.meta["ci_method"].startswith("test inversion")


def test_errors(design) -> None:
    with pytest.raises(SpecError, match=r"weights='mammen'.*allowed"):
        wild_bootstrap(design, "y", weights="mammen")
    with pytest.raises(SpecError, match="draws"):
        wild_bootstrap(design, "y", draws=10)


@pytest.mark.slow
def test_few_cluster_null_rejects_at_about_nominal_rate() -> None:
    n_sim, rejections, conventional = 80, 0, 0
    for s in range(n_sim):
        d = _simulate(100 + s)
        res = wild_bootstrap(d, "y", draws=199, seed=s, ci=False)
        rejections += res.wild_pvalue <= 0.05
        conventional += res.pvalue <= 0.05
    rate = rejections / n_sim
    # binomial sd at 5 % with 80 datasets is 2.4 %
    assert 0.0 < rate <= 0.12, (rate, conventional / n_sim)


@pytest.mark.slow
def test_ci_bound_is_where_the_p_value_crosses_alpha(design) -> None:
    res = wild_bootstrap(design, "y", draws=199, seed=0, weights="webb")
    lo, hi = res.wild_ci
    # p(beta0) > alpha just inside the bounds and <= alpha just outside
    from agglomera.policy.wild_bootstrap import _wcb

    data = twfe._prepare(design, "y", (), None)
    frame = data.frame
    d = design.treated().to_numpy(dtype=float)[data.rows]
    frame["treat_d"] = d
    y0 = frame["y"].to_numpy().copy()
    width = hi - lo

    def p_at(b0: float) -> float:
        frame["y"] = y0 - b0 * d
        return _wcb(frame, [], "webb", 199, 0, True)[1]

    assert p_at(lo + 0.02 * width) > 0.05 >= p_at(lo - 0.02 * width)
    assert p_at(hi - 0.02 * width) > 0.05 >= p_at(hi + 0.02 * width)
