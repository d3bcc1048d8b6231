"""BJS imputation estimator: dense OLS, diff-diff / pyfixest oracles, recovery, bad input.

Oracles (test-only, skipped with a reason when absent): diff-diff ``ImputationDiD``
(point estimates, Theorem 3 SEs with and without leave-out, pre-trend F test) and pyfixest
``did2s`` (point estimate of the two-stage estimator, which equals the imputation
estimator). Provenance: tests/reference/policy/PROVENANCE.md, section "BJS imputation".
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import datasets
from agglomera.data.panel import Panel
from agglomera.errors import EstimationError, SpecError
from agglomera.policy import design
from agglomera.policy.imputation import estimate_bjs

pytestmark = pytest.mark.filterwarnings("ignore:cohorts with a single unit")

REF = Path(__file__).resolve().parents[1] / "reference" / "policy"


# ---------------------------------------------------------------------- data
def _mpdta() -> pd.DataFrame:
    df = pd.read_csv(REF / "mpdta.csv").rename(columns={"first.treat": "first_treat"})
    return df.sort_values(["countyreal", "year"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def mpdta_design():
    df = _mpdta()
    return df, design(Panel(df, unit="countyreal", time="year"), cohort="first_treat")


@pytest.fixture(scope="module")
def city():
    ex = datasets.innovative_city(scope="prefecture", seed=0)
    return ex, design(ex.panel, cohort="treat_year")


def _toy(seed: int = 1, n: int = 40, periods: int = 7, prov: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 0, 3, 4, 6], size=n)
    rows = []
    for i in range(n):
        a_i = rng.normal()
        for t in range(1, periods + 1):
            d = g[i] > 0 and t >= g[i]
            x = rng.normal() + 0.1 * t
            y = a_i + 0.3 * t + 0.5 * x + rng.normal() + (0.5 + 0.2 * (t - g[i])) * d
            rows.append((i, t, g[i], x, y, i % prov))
    return pd.DataFrame(rows, columns=["id", "t", "g", "x", "y", "prov"])


def _dense_bjs(df, *, controls=(), cluster="id", leave_out=True, by="cohort_time"):
    """Direct OLS implementation with dense dummies (BJS eqs. and Theorem 3)."""
    tr = ((df.g > 0) & (df.t >= df.g)).to_numpy()
    units = np.sort(df.id.unique())
    times = np.sort(df.t.unique())
    cols = [(df.id == u).to_numpy(float) for u in units]
    cols += [(df.t == s).to_numpy(float) for s in times[1:]]
    cols += [df[c].to_numpy(float) for c in controls]
    A = np.column_stack(cols)
    y = df.y.to_numpy(float)
    A0, A1, y0, y1 = A[~tr], A[tr], y[~tr], y[tr]
    coef = np.linalg.lstsq(A0, y0, rcond=None)[0]
    tau = y1 - A1 @ coef
    resid0 = y0 - A0 @ coef
    e = (df.t - df.g).to_numpy()[tr]
    g1 = df.g.to_numpy()[tr]
    t1 = df.t.to_numpy()[tr]
    weights = {"simple": np.full(tau.size, 1 / tau.size)}
    for h in sorted(set(e)):
        weights[f"h{h}"] = (e == h) / (e == h).sum()
    hs = sorted(set(e))
    weights["dynamic"] = np.mean([weights[f"h{h}"] for h in hs], axis=0)
    cl = df[cluster].to_numpy()
    c1, c0 = cl[tr], cl[~tr]
    key = {"cohort_time": list(zip(g1, t1, strict=True)), "horizon": list(e)}[by]
    pinv = np.linalg.pinv(A0.T @ A0)
    out = {}
    for name, w in weights.items():
        v0 = -A0 @ pinv @ (A1.T @ w)
        eps1 = np.empty(tau.size)
        for grp in set(key):
            idx = np.array([k == grp for k in key])
            cs = np.unique(c1[idx])
            a = {c: w[idx & (c1 == c)].sum() for c in cs}
            b = {c: (w * tau)[idx & (c1 == c)].sum() for c in cs}
            for c in cs:
                others = [d for d in cs if d != c and a[d] != 0]
                if leave_out and others:
                    tt = sum(a[d] * b[d] for d in others) / sum(a[d] ** 2 for d in others)
                else:
                    tt = sum(a[d] * b[d] for d in cs) / sum(a[d] ** 2 for d in cs)
                eps1[idx & (c1 == c)] = tau[idx & (c1 == c)] - tt
        psi = (
            pd.Series(w * eps1)
            .groupby(c1)
            .sum()
            .add(pd.Series(v0 * resid0).groupby(c0).sum(), fill_value=0.0)
        )
        out[name] = (float(w @ tau), float(np.sqrt((psi**2).sum())))
    return out


# ---------------------------------------------------------------------- dense OLS
@pytest.mark.parametrize("solver", ["direct", "ap"])
@pytest.mark.parametrize("leave_out", [True, False])
def test_equals_dense_ols_and_theorem3(solver, leave_out):
    df = _toy()
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    ref = _dense_bjs(df, controls=("x",), leave_out=leave_out)
    tol = 1e-10 if solver == "direct" else 1e-8
    r = estimate_bjs(d, "y", controls=["x"], leave_out=leave_out, solver=solver, tol=1e-14)
    assert r.att == pytest.approx(ref["simple"][0], abs=tol, rel=0)
    assert r.se == pytest.approx(ref["simple"][1], abs=tol, rel=0)
    es = r.event_study.set_index("rel_time")
    for h in range(0, 5):
        assert es.loc[h, "estimate"] == pytest.approx(ref[f"h{h}"][0], abs=tol, rel=0)
        assert es.loc[h, "se"] == pytest.approx(ref[f"h{h}"][1], abs=tol, rel=0)
    rd = estimate_bjs(d, "y", controls=["x"], leave_out=leave_out, aggregate="dynamic")
    assert rd.att == pytest.approx(ref["dynamic"][0], abs=1e-10, rel=0)
    assert rd.se == pytest.approx(ref["dynamic"][1], abs=1e-10, rel=0)
    if solver == "ap":
        assert r.meta["solver"]["converged"] and r.meta["solver"]["iterations"]


def test_coarser_cluster_and_horizon_partition_equal_dense():
    df = _toy(seed=3)
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    ref = _dense_bjs(df, cluster="prov", by="horizon")
    r = estimate_bjs(d, "y", cluster="prov", avg_effects_by="horizon")
    assert r.att == pytest.approx(ref["simple"][0], abs=1e-10, rel=0)
    assert r.se == pytest.approx(ref["simple"][1], abs=1e-10, rel=0)
    assert r.meta["n_clusters"] == 6


def test_group_and_calendar_weights():
    df = _toy(seed=4)
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    r = estimate_bjs(d, "y", aggregate="group")
    at = r.attgt
    sizes = d.cohort_sizes()
    cohort_eff = {
        g: float(
            np.average(sub.estimate, weights=[((df.g == g) & (df.t == t)).sum() for t in sub.time])
        )
        for g, sub in at.groupby("cohort")
    }
    expect = sum(sizes[g] * cohort_eff[g] for g in cohort_eff) / sizes.sum()
    assert r.att == pytest.approx(expect, abs=1e-12)
    rc = estimate_bjs(d, "y", aggregate="calendar")
    post = df[(df.g > 0) & (df.t >= df.g)]
    simple = estimate_bjs(d, "y")
    assert simple.att == pytest.approx(
        float(
            np.average(
                at.estimate,
                weights=[
                    ((post.g == g) & (post.t == t)).sum()
                    for g, t in zip(at.cohort, at.time, strict=True)
                ],
            )
        ),
        abs=1e-12,
    )
    assert math.isfinite(rc.att) and math.isfinite(rc.se)


# ---------------------------------------------------------------------- diff-diff oracle
@pytest.mark.parametrize("leave_out", [False, True])
def test_mpdta_matches_diff_diff(mpdta_design, leave_out):
    dd = pytest.importorskip("diff_diff", reason="diff-diff (test-only oracle) not installed")
    df, d = mpdta_design
    r = estimate_bjs(d, "lemp", leave_out=leave_out, aggregate="dynamic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = dd.ImputationDiD(leave_one_out=leave_out)
        res = est.fit(df, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat")
        es = res.aggregate("event_study")
        pre = res.pretrend_test()
    rs = estimate_bjs(d, "lemp", leave_out=leave_out)
    # point estimates: diff-diff demeans iteratively (tol 1e-10 on its side)
    assert rs.att == pytest.approx(res.overall_att, abs=1e-10, rel=0)
    assert rs.se == pytest.approx(res.overall_se, rel=1e-8)
    ours = r.event_study.set_index("rel_time")
    checked = 0
    for h, eff, se in zip(es.event_time, es.att, es.se, strict=True):
        if h >= 0:
            assert ours.loc[h, "estimate"] == pytest.approx(eff, abs=1e-10, rel=0)
            assert ours.loc[h, "se"] == pytest.approx(se, rel=1e-8)
            checked += 1
    assert checked == 4
    # pre-trend test: same span of leads -> same Wald F and p-value
    assert r.meta["pretrend"]["fstat"] == pytest.approx(pre["f_stat"], rel=1e-8)
    assert r.pretrend_pvalue == pytest.approx(pre["p_value"], rel=1e-8)


def test_mpdta_reference_numbers(mpdta_design):
    """Stored numbers (diff-diff 3.13.0 ImputationDiD; see PROVENANCE.md)."""
    _, d = mpdta_design
    r = estimate_bjs(d, "lemp", leave_out=False)
    assert r.att == pytest.approx(-0.04770991827846044, abs=1e-10)
    assert r.se == pytest.approx(0.013222488650016557, rel=1e-8)
    r = estimate_bjs(d, "lemp", leave_out=True)
    assert r.se == pytest.approx(0.013469090063466775, rel=1e-8)
    assert r.pretrend_pvalue == pytest.approx(0.13926699327179573, rel=1e-6)


def test_innovative_city_matches_diff_diff_with_covariates(city):
    dd = pytest.importorskip("diff_diff", reason="diff-diff (test-only oracle) not installed")
    ex, d = city
    f = ex.panel.to_frame().assign(u=lambda x: x.adcode.astype(int))
    for controls in ([], ["grp_pc", "fdi_gdp"]):
        r = estimate_bjs(d, "talent_lq", controls=controls, leave_out=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = dd.ImputationDiD().fit(
                f,
                outcome="talent_lq",
                unit="u",
                time="year",
                first_treat="treat_year",
                covariates=controls or None,
            )
        assert r.att == pytest.approx(res.overall_att, abs=1e-10, rel=0)
        assert r.se == pytest.approx(res.overall_se, rel=1e-8)


def test_innovative_city_matches_did2s(city):
    pf = pytest.importorskip("pyfixest", reason="pyfixest (test-only oracle) not installed")
    ex, d = city
    f = ex.panel.to_frame().assign(u=lambda x: x.adcode.astype(int), D=lambda x: x.treated)
    for controls in ([], ["grp_pc", "fdi_gdp"]):
        r = estimate_bjs(d, "talent_lq", controls=controls)
        x = " + ".join(controls) if controls else "0"
        fit = pf.did2s(
            f,
            yname="talent_lq",
            first_stage=f"~ {x} | u + year",
            second_stage="~ D",
            treatment="D",
            cluster="u",
        )
        assert r.att == pytest.approx(float(fit.coef()["D"]), abs=1e-10, rel=0)


def test_mpdta_matches_pyfixest_two_stage(mpdta_design):
    pf = pytest.importorskip("pyfixest", reason="pyfixest (test-only oracle) not installed")
    df, d = mpdta_design
    df = df.copy()
    df["D"] = ((df.first_treat > 0) & (df.year >= df.first_treat)).astype(int)
    r = estimate_bjs(d, "lemp", aggregate="dynamic")
    es = r.event_study.set_index("rel_time")
    # (a) the two stages with pyfixest's OLS and dense dummies (exact): first stage on the
    # untreated rows, imputed effects averaged by event time
    first = pf.feols("lemp ~ C(countyreal) + C(year)", data=df[df.D == 0], vcov="iid")
    tau = df.lemp.to_numpy() - np.asarray(first.predict(newdata=df))
    post = df.assign(tau=tau)[df.D == 1]
    by_e = post.groupby(post.year - post.first_treat).tau.mean()
    for h, val in by_e.items():
        assert es.loc[h, "estimate"] == pytest.approx(val, abs=1e-10, rel=0)
    assert estimate_bjs(d, "lemp").att == pytest.approx(post.tau.mean(), abs=1e-10, rel=0)
    # (b) did2s itself. It removes fixed-effect singletons in its first stage (cohort 2004
    # has one untreated year per county) and recovers the fixed effects iteratively
    # (Feols.fixef), so it runs on the cohorts with >= 2 untreated years and agrees to 1e-6.
    sub = df[df.first_treat != 2004]
    dsub = design(Panel(sub, unit="countyreal", time="year"), cohort="first_treat")
    fit = pf.did2s(
        sub,
        yname="lemp",
        first_stage="~ 0 | countyreal + year",
        second_stage="~ D",
        treatment="D",
        cluster="countyreal",
    )
    assert estimate_bjs(dsub, "lemp").att == pytest.approx(float(fit.coef()["D"]), abs=1e-5)


# ---------------------------------------------------------------------- recovery
def test_recovers_simple_att_single_seed(city):
    ex, d = city
    r = estimate_bjs(d, "talent_lq")
    assert abs(r.att - ex.truth["att_simple"]) < 3 * r.se
    dyn = {row["rel_time"]: row["att"] for row in ex.truth["att_dynamic"]}
    es = r.event_study.set_index("rel_time")
    assert abs(es.loc[0, "estimate"] - dyn[0]) < 4 * es.loc[0, "se"]


@pytest.mark.slow
def test_coverage_over_50_seeds():
    hits = 0
    for s in range(50):
        ex = datasets.innovative_city(scope="prefecture", seed=s)
        d = design(ex.panel, cohort="treat_year")
        r = estimate_bjs(d, "talent_lq", pretrend_periods=0, attgt=False)
        hits += r.ci[0] <= ex.truth["att_simple"] <= r.ci[1]
    assert hits / 50 >= 0.90


# ---------------------------------------------------------------------- bad input
def test_missing_outcomes_counted_and_unit_without_untreated_obs_dropped():
    df = _toy(seed=5)
    unit = int(df.loc[df.g == 3, "id"].iloc[0])
    df.loc[(df.id == unit) & (df.t < 3), "y"] = np.nan  # its only untreated periods
    df.loc[(df.id == 0) & (df.t == 7), "y"] = np.nan
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    r = estimate_bjs(d, "y")
    miss = r.meta["missing_outcome"]
    assert miss["untreated"] + miss["treated"] == 3
    assert any("missing 'y'" in s for s in r.meta["dropped"])
    ni = r.meta["not_identified"]
    assert ni and all("unit has no untreated" in x["reason"] for x in ni)
    assert sum(x["n_obs"] for x in ni) == 5
    assert {unit} == {u for x in ni for u in x["units"]}
    # the estimate equals the one without that unit (and without the missing cell)
    d2 = design(Panel(df[df.id != unit], unit="id", time="t"), cohort="g")
    assert r.att == pytest.approx(estimate_bjs(d2, "y").att, abs=1e-12)
    with pytest.raises(EstimationError, match="cannot be imputed"):
        estimate_bjs(d, "y", unidentified="error")


def test_period_without_untreated_obs_is_recorded():
    df = _toy(seed=6)
    df = df[df.g > 0]  # no never-treated: every unit treated by period 6
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    r = estimate_bjs(d, "y")
    ni = pd.DataFrame(r.meta["not_identified"])
    assert set(ni.time) == {6, 7}
    assert ni.reason.str.contains("no untreated observation in this period").all()
    assert (r.event_study.rel_time <= 3).all()  # horizons 4+ need periods 6-7 only
    # without never-treated units the farthest lead is absorbed by the fixed effects
    assert r.meta["pretrend"]["absorbed"] == [-4]
    assert math.isfinite(r.pretrend_pvalue)
    with pytest.raises(EstimationError):
        estimate_bjs(d, "y", unidentified="error")


def test_collinear_covariate_raises():
    df = _toy(seed=7)
    df["const_x"] = df.id * 1.0  # constant within unit
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    with pytest.raises(EstimationError, match="collinear"):
        estimate_bjs(d, "y", controls=["const_x"])


def test_bad_arguments():
    df = _toy()
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    with pytest.raises(SpecError):
        estimate_bjs(d, "y", aggregate="weird")
    with pytest.raises(SpecError):
        estimate_bjs(d, "y", horizons=[-1])
    with pytest.raises(SpecError):
        estimate_bjs(d, "y", avg_effects_by="unit")
    df["bad_cluster"] = np.arange(len(df))
    d = design(Panel(df, unit="id", time="t"), cohort="g")
    with pytest.raises(SpecError, match="varies within units"):
        estimate_bjs(d, "y", cluster="bad_cluster")


# ---------------------------------------------------------------------- result shape & dispatch
def test_event_study_leads_and_dispatcher(mpdta_design):
    from agglomera.policy.estimation import estimate

    _, d = mpdta_design
    r = estimate(d, "lemp", estimator="bjs", aggregate="dynamic")
    es = r.event_study
    assert list(es.rel_time) == [-3, -2, -1, 0, 1, 2, 3]
    assert r.meta["pretrend"]["rel_time"] == [-1, -2, -3]
    assert "pre-trend regression" in r.meta["event_study_note"]
    post = es[es.rel_time >= 0]
    assert r.att == pytest.approx(post.estimate.mean(), abs=1e-12)
    assert len(r.attgt) == 7 and r.attgt.se.gt(0).all()
    r2 = estimate_bjs(d, "lemp", horizons=[0, 1], pretrend_periods=1, aggregate="dynamic")
    assert list(r2.event_study.rel_time) == [-1, 0, 1]
    assert r2.att == pytest.approx(post.estimate.iloc[:2].mean(), abs=1e-12)


def test_anticipation_moves_untreated_set():
    df = _toy(seed=8)
    d = design(Panel(df, unit="id", time="t"), cohort="g", anticipation=1)
    r = estimate_bjs(d, "y")
    assert -1 in set(r.event_study.rel_time)  # anticipation-window effect, imputed
    assert r.meta["conventions"]["anticipation"] == 1
    post = df[(df.g > 0) & (df.t >= df.g)]
    assert r.meta["n_target_obs"] == len(post)
