from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agglomera import Panel, describe
from agglomera.errors import DataError, SpecError

FE_FORMULA = {"none": "", "unit": " | adcode", "time": " | year", "twoway": " | adcode + year"}


def _reference_beta(frame: pd.DataFrame, var: str, controls: list[str], fe: str):
    """β and its CR1 SE from pyfixest, or from numpy OLS with dummies when it is absent."""
    df = frame.copy()
    df["lny"] = np.log(df[var])
    nxt = df.set_index(["adcode", "year"])["lny"]
    df["g"] = nxt.reindex(pd.MultiIndex.from_arrays([df["adcode"], df["year"] + 1])).to_numpy()
    df["g"] = df["g"] - df["lny"]
    df = df.dropna(subset=["g", *controls])
    try:
        import pyfixest as pf
    except ImportError:
        x = [df["lny"].to_numpy(), *[df[c].to_numpy() for c in controls], np.ones(len(df))]
        if fe in ("unit", "twoway"):
            x += list(pd.get_dummies(df["adcode"], drop_first=True, dtype=float).T.to_numpy())
        if fe in ("time", "twoway"):
            x += list(pd.get_dummies(df["year"], drop_first=True, dtype=float).T.to_numpy())
        beta, *_ = np.linalg.lstsq(np.column_stack(x), df["g"].to_numpy(), rcond=None)
        return float(beta[0]), None
    rhs = " + ".join(["lny", *controls])
    fit = pf.feols(f"g ~ {rhs}{FE_FORMULA[fe]}", data=df, vcov={"CRV1": "adcode"})
    return float(fit.coef()["lny"]), float(fit.se()["lny"])


@pytest.mark.parametrize("fe", ["none", "unit", "time", "twoway"])
def test_beta_matches_direct_regression(cities, fe):
    res = describe.convergence(cities, "talent_lq", kind="beta", fixed_effects=fe)
    beta, se = _reference_beta(cities.to_frame(), "talent_lq", [], fe)
    assert res.beta == pytest.approx(beta, abs=1e-10)
    if se is not None:
        assert res.estimates["se"].iloc[0] == pytest.approx(se, rel=1e-8)
    assert res.estimates["n_obs"].iloc[0] == cities.n_obs - len(cities.units)


def test_conditional_beta_and_groups_match_direct_regression(cities):
    controls = ["fdi_gdp", "tertiary_share"]
    res = describe.convergence(
        cities, "rd_exp", kind="beta", conditional=controls, by="region3", fixed_effects="twoway"
    )
    est = res.to_frame().set_index("group")
    assert list(est.index) == ["all", "central", "east", "west"]
    frame = cities.to_frame()
    for group in ["all", "central", "east", "west"]:
        part = frame if group == "all" else frame[frame.region3 == group]
        beta, se = _reference_beta(part, "rd_exp", controls, "twoway")
        assert est.loc[group, "beta"] == pytest.approx(beta, abs=1e-10)
        if se is not None:
            assert est.loc[group, "se"] == pytest.approx(se, rel=1e-8)
    assert set(res.params["term"]) == {"ln_rd_exp", *controls}
    assert res.meta["kind"] == "conditional"


def test_speed_and_half_life_formulas(cities):
    res = describe.convergence(cities, "talent_lq", kind="beta", horizon=2)
    b = res.beta
    assert b < 0
    assert res.speed == pytest.approx(-math.log(1 + b) / 2, rel=1e-12)
    assert res.half_life == pytest.approx(math.log(2) / res.speed, rel=1e-12)
    # divergence (β > 0): negative speed, no half-life
    div = describe.convergence(cities, "talent_lq", kind="beta", horizon=2, fixed_effects="time")
    assert div.beta > 0 and div.speed < 0 and math.isnan(div.half_life)


def test_beta_recovery_pooled():
    # ln y_{t+1} = (1 + β) ln y_t + a + e  <=>  y_{t+1} = y_t^{1+β} · e^{a + e}
    beta, n, t = -0.08, 2000, 6
    rng = np.random.default_rng(42)
    lny = np.empty((n, t))
    lny[:, 0] = rng.normal(2.0, 0.6, n)
    for s in range(1, t):
        lny[:, s] = (1 + beta) * lny[:, s - 1] + 0.2 + rng.normal(0, 0.05, n)
    df = pd.DataFrame({"adcode": np.repeat(np.arange(n), t), "year": np.tile(np.arange(t), n),
                       "y": np.exp(lny.ravel())})  # fmt: skip
    res = describe.convergence(Panel(df, unit="adcode", time="year"), "y", kind="beta",
                               fixed_effects="none")  # fmt: skip
    assert res.beta == pytest.approx(beta, abs=0.003)
    lo, hi = res.estimates[["ci_low", "ci_high"]].iloc[0]
    assert lo < beta < hi
    assert res.speed == pytest.approx(-math.log(1 + beta), abs=0.004)


def test_beta_recovery_twoway_long_panel():
    # unit effects and common shocks; long T keeps the Nickell bias (order 1/T) small
    beta, n, t = -0.3, 100, 200
    rng = np.random.default_rng(7)
    alpha = rng.normal(1.0, 0.3, n)
    delta = rng.normal(0.0, 0.05, t)
    lny = np.empty((n, t))
    lny[:, 0] = alpha / -beta
    for s in range(1, t):
        lny[:, s] = (1 + beta) * lny[:, s - 1] + alpha + delta[s] + rng.normal(0, 0.05, n)
    df = pd.DataFrame({"adcode": np.repeat(np.arange(n), t), "year": np.tile(np.arange(t), n),
                       "y": np.exp(lny.ravel())})  # fmt: skip
    res = describe.convergence(Panel(df, unit="adcode", time="year"), "y", kind="beta")
    assert res.beta == pytest.approx(beta, abs=0.01)


def test_sigma_matches_direct_computation(cities):
    res = describe.convergence(cities, "talent_lq", kind="sigma")
    frame = cities.to_frame()
    by_year = res.to_frame().set_index("year")
    for year, part in frame.groupby("year"):
        y = part["talent_lq"]
        assert by_year.loc[year, "cv"] == pytest.approx(y.std() / y.mean(), rel=1e-12)
        assert by_year.loc[year, "sd_log"] == pytest.approx(np.log(y).std(), rel=1e-12)
    trend = res.trend.set_index("measure")
    for measure in ("cv", "sd_log"):
        ref = stats.linregress(by_year.index.to_numpy(float), by_year[measure].to_numpy())
        assert trend.loc[measure, "slope"] == pytest.approx(ref.slope, rel=1e-10)
        assert trend.loc[measure, "se"] == pytest.approx(ref.stderr, rel=1e-10)
        assert trend.loc[measure, "pvalue"] == pytest.approx(ref.pvalue, rel=1e-8)


def test_sigma_by_region(cities):
    res = describe.convergence(cities, "talent_lq", kind="sigma", by="region3")
    assert set(res.trend["region3"]) == {"east", "central", "west"}
    assert len(res.by_year) == 3 * len(cities.times)


def test_non_positive_values_are_named():
    df = pd.DataFrame({"u": list("aabb"), "t": [1, 2, 1, 2], "y": [1.0, 2.0, -1.0, 3.0]})
    with pytest.raises(DataError, match=r"'b'/1: -1\.0"):
        describe.convergence(Panel(df, unit="u", time="t"), "y", kind="beta")


def test_too_few_years(cities):
    short = cities.subset(times=[2003, 2004])
    with pytest.raises(DataError, match="at least 3 periods"):
        describe.convergence(short, "talent_lq", kind="beta")
    ok = describe.convergence(short, "talent_lq", kind="beta", fixed_effects="none")
    assert ok.estimates["n_obs"].iloc[0] == len(cities.units)
    with pytest.raises(DataError, match="at least 3 periods"):
        describe.convergence(short, "talent_lq", kind="sigma")


def test_bad_options(cities):
    with pytest.raises(SpecError):
        describe.convergence(cities, "talent_lq", kind="gamma")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="β-convergence only"):
        describe.convergence(cities, "talent_lq", conditional=["fdi_gdp"])
    with pytest.raises(DataError, match="Did you mean"):
        describe.convergence(cities, "talent_lqq", kind="beta")
