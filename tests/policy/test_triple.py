"""Triple differences: R reference, direct pyfixest regression, recovery, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.errors import DataError, SpecError
from agglomera.policy.design import design
from agglomera.policy.estimation import estimate
from agglomera.policy.triple import difference_panel, triple_differences
from agglomera.policy.twfe import SSC_CONVENTION

REF = Path(__file__).resolve().parents[1] / "reference" / "policy_triple"


def _design(df: pd.DataFrame):
    up = df.drop_duplicates(["city", "year"])[["city", "year", "cohort"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return design(Panel(up, unit="city", time="year"), cohort="cohort")


@pytest.fixture(scope="module")
def ref_data():
    df = pd.read_csv(REF / "ddd.csv")
    return df, _design(df)


def simulate(seed: int, n: int, t_len: int = 10) -> tuple[pd.DataFrame, float]:
    """City x {high, other} x year; DDD effect 0.5 + 0.1 (t - g) + cohort shift; truth ATT."""
    rng = np.random.default_rng(seed)
    cohorts = rng.choice([0, 4, 6, 8], size=n)
    trend = rng.normal(0, 0.1, n)
    rows, effects = [], []
    for i in range(n):
        for s in ("high", "other"):
            level = rng.normal()
            for t in range(1, t_len + 1):
                d = cohorts[i] > 0 and t >= cohorts[i]
                y = level + trend[i] * t + (0.2 * t if s == "high" else 0.0) + 0.3 * d
                y += rng.normal(0, 0.3)
                if d and s == "high":
                    eff = 0.5 + 0.1 * (t - cohorts[i]) - 0.05 * cohorts[i]
                    y += eff
                    effects.append(eff)
                rows.append((f"c{i:03d}", 2000 + t, s, y, 2000 + cohorts[i] if cohorts[i] else 0))
    df = pd.DataFrame(rows, columns=["city", "year", "sector", "y", "cohort"])
    return df, float(np.mean(effects))


def test_twfe_against_r(ref_data):
    df, d = ref_data
    ref = pd.read_csv(REF / "reference.csv").set_index("term")
    res = triple_differences(d, "y", third="sector", data=df, exposed="high")
    assert res.att == pytest.approx(ref.loc["ddd", "estimate"], rel=1e-6)
    assert res.se == pytest.approx(ref.loc["ddd", "se"], rel=1e-6)
    es = triple_differences(
        d, "y", third="sector", data=df, exposed="high", estimator="event_study"
    )
    table = es.event_study.set_index("rel_time")
    for term, r in ref.drop(index="ddd").iterrows():
        e = -int(term[4:]) if term.startswith("ev_m") else int(term[4:])
        assert table.loc[e, "estimate"] == pytest.approx(r["estimate"], rel=1e-6)
        assert table.loc[e, "se"] == pytest.approx(r["se"], rel=1e-6)


def test_twfe_against_direct_pyfixest(ref_data):
    import pyfixest as pf

    df, d = ref_data
    data = df.assign(dd=((df.cohort > 0) & (df.year >= df.cohort) & (df.sector == "high")) * 1.0)
    fit = pf.feols(
        "y ~ dd | city^sector + sector^year + city^year",
        data=data,
        vcov={"CRV1": "city"},
        ssc=pf.ssc(**SSC_CONVENTION),
    )
    res = triple_differences(d, "y", third="sector", data=df, exposed="high")
    assert res.att == pytest.approx(float(fit.coef()["dd"]), rel=1e-8)
    assert res.se == pytest.approx(float(fit.se()["dd"]), rel=1e-8)
    assert res.meta["n_obs"] == len(df)
    assert res.meta["ssc_rescaled"] is False


def test_twfe_ddd_equals_did_on_within_unit_difference(ref_data):
    df, d = ref_data
    res = triple_differences(d, "y", third="sector", data=df, exposed="high")
    panel = difference_panel(d, df, "y", third="sector", exposed="high")
    did = estimate(design(panel, cohort="cohort"), "ddd_diff", estimator="twfe")
    assert res.att == pytest.approx(did.att, rel=1e-9)


def test_cs_ddd_is_cs_on_the_difference(ref_data):
    df, d = ref_data
    res = triple_differences(d, "y", third="sector", data=df, exposed="high", estimator="cs")
    panel = difference_panel(d, df, "y", third="sector", exposed="high")
    direct = estimate(design(panel, cohort="cohort"), "ddd_diff", estimator="cs")
    assert res.att == pytest.approx(direct.att, rel=1e-12)
    assert res.se == pytest.approx(direct.se, rel=1e-12)
    assert res.meta["estimator"] == "ddd_cs"


def test_recovery_staggered_heterogeneous():
    # effects differ by cohort and grow with exposure: CS on the difference recovers the
    # simple ATT over treated high-tech cells; tolerance 3 SE
    df, truth = simulate(seed=5, n=300)
    d = _design(df)
    cs = triple_differences(d, "y", third="sector", data=df, exposed="high", estimator="cs")
    assert abs(cs.att - truth) < 3 * cs.se
    es = triple_differences(
        d, "y", third="sector", data=df, exposed="high", estimator="event_study"
    )
    pre = es.event_study[es.event_study["rel_time"] < -1]
    assert (pre["estimate"].abs() < 3 * pre["se"]).all()
    post0 = es.event_study.set_index("rel_time").loc[0]
    # at e = 0 the effect is 0.5 - 0.05 g averaged over cohorts (4, 6, 8): 0.2
    assert abs(post0["estimate"] - 0.2) < 3 * post0["se"]


def test_units_not_in_design_are_dropped_and_recorded(ref_data):
    df, d = ref_data
    extra = df[df["city"] == "c00"].assign(city="zz")
    res = triple_differences(d, "y", third="sector", data=pd.concat([df, extra]), exposed="high")
    base = triple_differences(d, "y", third="sector", data=df, exposed="high")
    assert res.att == pytest.approx(base.att, rel=1e-12)
    assert any("not in the design" in s for s in res.meta["dropped"])


def test_errors(ref_data):
    df, d = ref_data
    with pytest.raises(SpecError, match="not found in 'sector'"):
        triple_differences(d, "y", third="sector", data=df, exposed="hightech")
    with pytest.raises(SpecError, match="untargeted"):
        triple_differences(d, "y", third="sector", data=df, exposed=["high", "other"])
    with pytest.raises(DataError, match="repeated"):
        triple_differences(d, "y", third="sector", data=pd.concat([df, df.head(2)]), exposed="high")
    bad = df.copy()
    bad.loc[5, "y"] = np.nan
    with pytest.raises(DataError, match="missing"):
        triple_differences(d, "y", third="sector", data=bad, exposed="high")
    with pytest.raises(SpecError, match="estimator"):
        triple_differences(d, "y", third="sector", data=df, exposed="high", estimator="ols")
    with pytest.raises(DataError, match="lack a targeted"):
        difference_panel(
            d,
            df[~((df.city == "c01") & (df.sector == "other"))],
            "y",
            third="sector",
            exposed="high",
        )


def test_missing_cluster_value_is_refused(ref_data):
    df, d = ref_data
    bad = df.assign(prov=df["city"].str[:2])
    bad.loc[7, "prov"] = None
    with pytest.raises(DataError, match=r"cluster column 'prov' has 1 missing values"):
        triple_differences(d, "y", third="sector", data=bad, exposed="high", cluster="prov")
