"""Joint pre-trend tests of estimate(pretrend_test=...): formulas and size under the null.

Closed forms checked: the F version of the Wald test against scipy's F distribution; the
sup-t p-value against :math:`1 - (2\\Phi(T) - 1)^k` (independent leads) and, with the
small-sample scaling and one lead, against the Student-t tail :math:`2 t_\\nu(-T)`. The
slow test simulates the innovative-city panel (parallel trends hold by construction:
the untreated potential outcome ``talent_lq_0``) and checks that the default test's
rejection rate at 5 % lies in the binomial band, while the chi-squared Wald test's does
not (docs/policy.md, "Pre-trend test").
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agglomera import Panel, datasets, policy
from agglomera.errors import SpecError
from agglomera.policy.estimation import (
    DEFAULT_PRETREND_TEST,
    pretrend_test_result,
    sup_t_test,
    wald_f_test,
    wald_test,
)


@pytest.fixture(scope="module")
def prefecture() -> policy.TreatmentDesign:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(
            datasets.innovative_city("prefecture", seed=0).panel, cohort="treat_year"
        )


def test_f_formula_against_scipy() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(6, 6))
    cov = a @ a.T / 6 + 0.1 * np.eye(6)
    theta = rng.normal(size=6)
    f_stat, df1, df2, p = wald_f_test(theta, cov, 30)
    w = float(theta @ np.linalg.solve(cov, theta))
    assert (df1, df2) == (6, 29)
    assert f_stat == pytest.approx(w / 6, rel=1e-12)
    assert p == pytest.approx(stats.f.sf(w / 6, 6, 29), rel=1e-12)
    # singular covariance: rank 5, tested in the identified directions
    b = a[:, :5]
    sing = b @ b.T
    f_s, r_s, _, p_s = wald_f_test(theta, sing, 30)
    w_s = wald_test(theta, sing)[0]
    assert r_s == 5 and f_s == pytest.approx(w_s / 5, rel=1e-12)
    assert p_s == pytest.approx(stats.f.sf(w_s / 5, 5, 29), rel=1e-12)
    assert math.isnan(wald_f_test([], np.zeros((0, 0)), 30)[3])


def test_sup_t_against_closed_forms() -> None:
    theta = np.array([0.5, -1.9, 1.2])
    se = np.ones(3)
    t_obs, p, b = sup_t_test(theta, se, cov=np.eye(3), n_draws=200_000, seed=1)
    exact = 1.0 - (2.0 * stats.norm.cdf(1.9) - 1.0) ** 3
    assert t_obs == pytest.approx(1.9)
    assert b == 200_000
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / b)  # Monte Carlo error
    # one lead, scaled draws: Z / sqrt(chi2_nu / nu) is Student t with nu df
    _, p_t, b = sup_t_test([2.3], [1.0], cov=np.eye(1), df=7, n_draws=200_000, seed=2)
    exact_t = 2.0 * stats.t.sf(2.3, 7)
    assert abs(p_t - exact_t) < 4 * math.sqrt(exact_t * (1 - exact_t) / b)
    # stored draws: the p-value counts them
    draws = np.array([[0.1, 0.0], [3.0, 0.0], [0.0, -2.5], [0.2, 0.3]])
    _, p_d, b_d = sup_t_test([2.0, 0.0], [1.0, 1.0], draws=draws)
    assert (p_d, b_d) == (pytest.approx(3 / 5), 4)
    with pytest.raises(SpecError, match="draws or cov"):
        sup_t_test([1.0], [1.0])


@pytest.mark.parametrize("estimator", ["cs", "event_study", "sa"])
def test_wald_option_reproduces_the_estimators_own_test(prefecture, estimator) -> None:
    res = policy.estimate(prefecture, "talent_lq", estimator=estimator, pretrend_test="wald")
    info = res.meta["pretrend_test"]
    assert info["test"] == "wald" and info["distribution"] == "chi2(k)"
    if estimator == "cs":
        own = res.meta["pretrend_wald"]["pvalue"]
    else:
        es = res.event_study
        pre = es["rel_time"].isin(res.meta["pretrend_rel_times"]).to_numpy()
        own = wald_test(
            es["estimate"].to_numpy()[pre], res.meta["event_study_vcov"][np.ix_(pre, pre)]
        )[2]
    assert res.pretrend_pvalue == pytest.approx(own, rel=1e-12)
    f_res = pretrend_test_result(res, "f")
    g = res.meta["n_clusters"]
    k = info["k"]
    assert f_res.meta["pretrend_test"]["df"] == (k, g - 1)
    assert f_res.pretrend_pvalue == pytest.approx(
        stats.f.sf(info["statistic"] / k, k, g - 1), rel=1e-10
    )


def test_default_is_bootstrap_sup_t_and_reproducible(prefecture) -> None:
    assert DEFAULT_PRETREND_TEST == "bootstrap"
    a = policy.estimate(prefecture, "talent_lq", estimator="cs")
    b = policy.estimate(prefecture, "talent_lq", estimator="cs")
    info = a.meta["pretrend_test"]
    assert info["test"] == "bootstrap" and info["seed"] == 0
    assert a.pretrend_pvalue == b.pretrend_pvalue
    es = a.event_study.set_index("rel_time")
    n_min = int(es.loc[info["leads"], "n"].min())
    assert info["df"] == min(n_min, a.meta["n_clusters"]) - 1
    c = policy.estimate(prefecture, "talent_lq", estimator="cs", seed=5)
    assert c.meta["pretrend_test"]["seed"] == 5
    with pytest.raises(SpecError, match="pretrend_test"):
        policy.estimate(prefecture, "talent_lq", estimator="cs", pretrend_test="chi2")


def test_every_test_detects_an_injected_pre_trend(prefecture) -> None:
    frame = prefecture.panel.to_frame()
    g = frame["treat_year"].to_numpy()
    t = frame["year"].to_numpy()
    bump = np.where((g > 0) & (t < g), 0.01 * (t - g), 0.0)
    panel = prefecture.panel.with_columns(y_trend=frame["talent_lq"].to_numpy() + bump)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = policy.design(panel, cohort="treat_year")
    for test in ("wald", "f", "bootstrap"):
        res = policy.estimate(d, "y_trend", estimator="event_study", pretrend_test=test)
        assert res.pretrend_pvalue < 1e-3


def _null_rejections(n_rep: int) -> dict[tuple[str, str], float]:
    """Share of seeds rejecting parallel trends at 5 % (outcome: untreated LQ)."""
    hits: dict[tuple[str, str], int] = {}
    for seed in range(n_rep):
        ex = datasets.innovative_city("prefecture", seed=seed)
        frame = ex.panel.to_frame()
        po = pd.DataFrame(ex.truth["potential_outcomes"])[["adcode", "year", "talent_lq_0"]]
        frame = frame.merge(po, on=["adcode", "year"], how="left", validate="one_to_one")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            d = policy.design(Panel(frame, unit="adcode", time="year"), cohort="treat_year")
        for est in ("cs", "event_study"):
            res = policy.estimate(d, "talent_lq_0", estimator=est, pretrend_test="wald")
            for test in ("wald", "bootstrap"):
                p = res.pretrend_pvalue if test == "wald" else None
                if p is None:
                    p = pretrend_test_result(res, test, seed=seed).pretrend_pvalue
                hits[(est, test)] = hits.get((est, test), 0) + int(p < 0.05)
    return {k: v / n_rep for k, v in hits.items()}


@pytest.mark.slow
def test_size_under_parallel_trends() -> None:
    n_rep = 100
    rates = _null_rejections(n_rep)
    band = 3.0 * math.sqrt(0.05 * 0.95 / n_rep)  # binomial, 3 standard errors
    for est in ("cs", "event_study"):
        assert abs(rates[(est, DEFAULT_PRETREND_TEST)] - 0.05) <= band, rates
        # the chi-squared Wald test over-rejects on this design (few treated units)
        assert rates[(est, "wald")] > 0.05 + band, rates


def test_bootstrap_uses_stored_draws(prefecture) -> None:
    res = policy.estimate(prefecture, "talent_lq", estimator="cs", pretrend_test="wald")
    es = res.event_study
    rng = np.random.default_rng(8)
    draws = rng.normal(scale=es["se"].fillna(0.0).to_numpy(), size=(500, len(es)))
    meta = {**res.meta, "bootstrap_event_study_draws": draws}
    stored = pretrend_test_result(replace(res, meta=meta), "bootstrap", seed=3)
    info = stored.meta["pretrend_test"]
    assert info["source"] == "estimator's bootstrap draws" and info["draws"] == 500
    pre = es["rel_time"].isin(info["leads"]).to_numpy()
    expected = sup_t_test(
        es["estimate"].to_numpy()[pre],
        es["se"].to_numpy()[pre],
        draws=draws[:, pre],
        df=info["df"],
        seed=3,
    )[1]
    assert stored.pretrend_pvalue == expected


def test_cs_bootstrap_draws_feed_the_sup_t_test() -> None:
    from pathlib import Path

    import pandas as pd

    from agglomera import Panel, policy

    frame = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "policy" / "mpdta.csv")
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    boot = policy.estimate(d, "lemp", estimator="cs", bootstrap=999, seed=3)
    draws = boot.meta["bootstrap_event_study_draws"]
    assert draws.shape == (999, len(boot.event_study))
    assert boot.meta["pretrend_test"]["source"] == "estimator's bootstrap draws"
    # the multiplier draws reproduce the bootstrap standard errors of the event study
    iqr = np.quantile(draws, 0.75, axis=0, method="inverted_cdf") - np.quantile(
        draws, 0.25, axis=0, method="inverted_cdf"
    )
    np.testing.assert_allclose(iqr / 1.3489795003921634, boot.event_study["se"], rtol=1e-12)
    analytic = policy.estimate(d, "lemp", estimator="cs", seed=3)
    assert analytic.meta["bootstrap_event_study_draws"] is None
    # two Monte Carlo approximations of the same sup-t p-value
    assert abs(boot.pretrend_pvalue - analytic.pretrend_pvalue) < 0.05
