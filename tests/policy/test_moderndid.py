"""dCDH and HonestDiD through the moderndid adapter: parity with moderndid and with CS.

Oracles: moderndid 0.2.0 called directly (``did_multiplegt``; ``att_gt`` → ``aggte`` →
``honest_did``) on mpdta (tests/reference/policy/mpdta.csv), and the own CS core for the
theoretical identity DID_l = CS θ(e = l - 1) with not-yet-treated controls. No R HonestDiD
numbers are stored in the repository; moderndid's HonestDiD port is validated against R
HonestDiD by moderndid's own suite (tests/didhonest/test_r_validation.py, run live
against R). The whole module is skipped when moderndid (with cvxpy) is not installed.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip(
    "moderndid",
    reason="optional dependency moderndid not installed "
    '(pip install "moderndid[didhonest]==0.2.0")',
)
pytest.importorskip(
    "cvxpy", reason="moderndid's HonestDiD needs cvxpy (moderndid[didhonest] extra)"
)

import moderndid as md

from agglomera import Panel, policy
from agglomera.errors import DataError, SpecError
from agglomera.policy import _cs_aggregate as aggregation
from agglomera.policy import _cs_core as core
from agglomera.policy.dcdh import estimate_dcdh
from agglomera.policy.estimation import estimate
from agglomera.policy.honest import breakdown_value, honest_did

REF = Path(__file__).parents[1] / "reference" / "policy"

# moderndid 0.2.0 honest_did on R did's mpdta CS event study (never-treated, varying base,
# dr, no covariates), e = 0 — recorded here so that a change of engine is noticed.
RM_E0 = {0.5: (-0.041434, 0.006349), 1.0: (-0.050991, 0.011127)}
SD_E0 = {0.0: (-0.036708, 0.017203), 0.01: (-0.047947, 0.023344)}
ORIGINAL_E0 = (-0.0431110644111123, 0.0032474308325936875)


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    frame = pd.read_csv(REF / "mpdta.csv")
    return frame.assign(state=frame["countyreal"] // 1000)


@pytest.fixture(scope="module")
def mp_design(mpdta: pd.DataFrame) -> policy.TreatmentDesign:
    return policy.design(Panel(mpdta, unit="countyreal", time="year"), cohort="first.treat")


@pytest.fixture(scope="module")
def md_event_study(mpdta: pd.DataFrame):  # type: ignore[no-untyped-def]
    gt = md.att_gt(
        data=mpdta.drop(columns="state"),
        yname="lemp",
        tname="year",
        gname="first.treat",
        idname="countyreal",
        est_method="dr",
        boot=False,
    )
    with pytest.warns(UserWarning):  # moderndid warns about its simultaneous band
        return md.aggte(gt, type="dynamic")


@pytest.fixture(scope="module")
def cs_event_study(mp_design: policy.TreatmentDesign) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Own CS core: dynamic labels, estimates and IF covariance (R HonestDiD's IF'IF/n²)."""
    wide = mp_design.outcome_matrix("lemp")
    cohort = mp_design.cohorts.reindex(wide.index).to_numpy()
    res = core.att_gt(wide.to_numpy(), cohort, np.asarray(mp_design.times))
    dyn = aggregation.aggregate(res, cohort, "dynamic")
    return dyn.labels, dyn.estimates, core.covariance(dyn.inf)


def _tuple_input(cs_event_study: tuple[np.ndarray, np.ndarray, np.ndarray]):  # type: ignore[no-untyped-def]
    labels, est, vcov = cs_event_study
    keep = labels != -1
    return (est[keep], vcov[np.ix_(keep, keep)], int((labels < -1).sum()), int((labels >= 0).sum()))


# ---------------------------------------------------------------------- HonestDiD
def test_cs_event_study_equals_moderndid(
    md_event_study, cs_event_study: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:  # type: ignore[no-untyped-def]
    labels, est, vcov = cs_event_study
    np.testing.assert_array_equal(labels, md_event_study.event_times.astype(int))
    np.testing.assert_allclose(est, md_event_study.att_by_event, atol=1e-12)
    inf = md_event_study.influence_func
    np.testing.assert_allclose(vcov, inf.T @ inf / inf.shape[0] ** 2, rtol=1e-8, atol=1e-14)


@pytest.fixture(scope="module")
def rm_ours(cs_event_study):  # type: ignore[no-untyped-def]
    return honest_did(_tuple_input(cs_event_study), method="relative_magnitude", mbar=(0.5, 1.0))


@pytest.fixture(scope="module")
def rm_direct(md_event_study):  # type: ignore[no-untyped-def]
    return md.honest_did(
        md_event_study, event_time=0, sensitivity_type="relative_magnitude", m_bar_vec=[0.5, 1.0]
    )


def test_relative_magnitude_equals_moderndid(rm_ours, rm_direct) -> None:  # type: ignore[no-untyped-def]
    direct = rm_direct.robust_ci.to_pandas()
    np.testing.assert_allclose(rm_ours.robust["mbar"], direct["Mbar"], atol=0)
    np.testing.assert_allclose(rm_ours.robust["lb"], direct["lb"], atol=1e-8)
    np.testing.assert_allclose(rm_ours.robust["ub"], direct["ub"], atol=1e-8)
    assert (rm_ours.robust["ci_method"] == "C-LF").all()
    assert rm_ours.original_ci == pytest.approx(
        (rm_direct.original_ci.lb, rm_direct.original_ci.ub), abs=1e-10
    )
    assert rm_ours.original_ci == pytest.approx(ORIGINAL_E0, abs=1e-10)
    for mbar, (lo, hi) in RM_E0.items():
        row = rm_ours.robust.set_index("mbar").loc[mbar]
        assert (row["lb"], row["ub"]) == pytest.approx((lo, hi), abs=1e-6)


def test_smoothness_equals_moderndid(cs_event_study, md_event_study) -> None:  # type: ignore[no-untyped-def]
    ours = honest_did(_tuple_input(cs_event_study), method="smoothness", m=(0.0, 0.01))
    direct = md.honest_did(
        md_event_study, event_time=0, sensitivity_type="smoothness", m_vec=[0.0, 0.01]
    ).robust_ci.to_pandas()
    np.testing.assert_allclose(ours.robust["lb"], direct["lb"], atol=1e-8)
    np.testing.assert_allclose(ours.robust["ub"], direct["ub"], atol=1e-8)
    assert (ours.robust["ci_method"] == "FLCI").all()
    for m, (lo, hi) in SD_E0.items():
        row = ours.robust.set_index("m").loc[m]
        assert (row["lb"], row["ub"]) == pytest.approx((lo, hi), abs=1e-6)


def test_breakdown_value_logic(rm_ours, cs_event_study) -> None:  # type: ignore[no-untyped-def]
    # e = 0: the original CI already contains 0, so every robust CI does: the breakdown is
    # the first grid value
    assert rm_ours.robust["contains_zero"].all()
    assert rm_ours.breakdown == 0.5
    frame = rm_ours.to_frame()
    assert frame["method"].tolist() == ["original", "relative_magnitude", "relative_magnitude"]
    assert "breakdown value: Mbar = 0.5" in rm_ours.summary()
    # e = 2 (θ = -0.137, significant): smoothness grid, breakdown in the interior
    grid = (0.0, 0.005, 0.01, 0.02, 0.04, 0.08)
    res = honest_did(_tuple_input(cs_event_study), method="smoothness", m=grid, e=2)
    contains = (res.robust["lb"] <= 0) & (res.robust["ub"] >= 0)
    expected = (
        min(g for g, c in zip(grid, contains, strict=True) if c) if contains.any() else math.nan
    )
    assert res.breakdown == expected
    assert not res.original_ci[0] <= 0 <= res.original_ci[1]
    assert 0 < res.breakdown <= 0.08
    # robust intervals widen with M
    assert (np.diff(res.robust["ub"] - res.robust["lb"]) >= -1e-10).all()
    # the helper itself
    assert breakdown_value([0.5, 1, 2], [-3, -2, -1], [-1, 0.5, 1]) == 1.0
    assert math.isnan(breakdown_value([0.5, 1], [-3, -2], [-1, -0.5]))


def test_didresult_input_uses_stored_vcov(
    mp_design: policy.TreatmentDesign, cs_event_study, rm_ours
) -> None:  # type: ignore[no-untyped-def]
    res = estimate(mp_design, "lemp", aggregate="dynamic")
    labels, _, vcov = cs_event_study
    if "event_study_vcov" in res.meta:  # once cs.py stores it
        np.testing.assert_allclose(res.meta["event_study_vcov"], vcov, rtol=1e-10, atol=1e-15)
    else:
        with pytest.raises(DataError, match="event_study_vcov"):
            honest_did(res)
        res = replace(res, meta={**res.meta, "event_study_vcov": vcov})
    assert res.event_study["rel_time"].tolist() == labels.tolist()
    out = honest_did(res, mbar=(0.5, 1.0))
    np.testing.assert_allclose(out.robust["lb"], rm_ours.robust["lb"], atol=1e-10)
    np.testing.assert_allclose(out.robust["ub"], rm_ours.robust["ub"], atol=1e-10)
    assert out.meta["event_times"] == [-3, -2, 0, 1, 2, 3]


# ---------------------------------------------------------------------- dCDH
@pytest.fixture(scope="module")
def dcdh_direct(mpdta: pd.DataFrame):  # type: ignore[no-untyped-def]
    frame = mpdta.assign(
        d=((mpdta["first.treat"] > 0) & (mpdta["year"] >= mpdta["first.treat"])).astype(int)
    )
    return md.did_multiplegt(
        frame, yname="lemp", tname="year", idname="countyreal", dname="d", effects=4, placebo=2
    )


def test_dcdh_equals_moderndid(mp_design: policy.TreatmentDesign, dcdh_direct) -> None:  # type: ignore[no-untyped-def]
    res = estimate_dcdh(mp_design, "lemp")
    assert res.meta["conventions"]["effects"] == 4 and res.meta["conventions"]["placebo"] == 2
    es = res.event_study.set_index("rel_time")
    eff = dcdh_direct.effects
    np.testing.assert_allclose(es.loc[[0, 1, 2, 3], "estimate"], eff.estimates, atol=1e-10)
    np.testing.assert_allclose(es.loc[[0, 1, 2, 3], "se"], eff.std_errors, atol=1e-10)
    np.testing.assert_allclose(es.loc[[0, 1, 2, 3], "ci_low"], eff.ci_lower, atol=1e-10)
    assert es.loc[[0, 1, 2, 3], "n"].tolist() == eff.n_switchers.astype(int).tolist()
    pl = dcdh_direct.placebos
    np.testing.assert_allclose(es.loc[[-2, -3], "estimate"], pl.estimates, atol=1e-10)
    np.testing.assert_allclose(es.loc[[-2, -3], "se"], pl.std_errors, atol=1e-10)
    assert es.loc[-1, "estimate"] == 0 and math.isnan(es.loc[-1, "se"])
    # the stored covariance reproduces the standard errors
    sd = np.sqrt(np.diag(res.meta["event_study_vcov"]))
    np.testing.assert_allclose(sd, res.event_study["se"], atol=1e-12, equal_nan=True)
    # dynamic = mean of DID_l; simple = dCDH's average total effect
    assert res.att == pytest.approx(float(np.mean(eff.estimates)), abs=1e-12)
    simple = estimate_dcdh(mp_design, "lemp", aggregate="simple")
    assert simple.att == pytest.approx(dcdh_direct.ate.estimate, abs=1e-10)
    assert simple.se == pytest.approx(dcdh_direct.ate.std_error, abs=1e-10)
    assert res.attgt.empty and res.meta["estimator"] == "dcdh"


def test_dcdh_equals_cs_notyet(mp_design: policy.TreatmentDesign) -> None:
    """Binary staggered absorbing treatment: DID_l = CS θ(l - 1) with not-yet-treated controls."""
    d = estimate_dcdh(mp_design, "lemp", placebo=0).event_study.set_index("rel_time")
    cs = estimate(mp_design, "lemp", control_group="notyet", aggregate="dynamic")
    cs_es = cs.event_study.set_index("rel_time")
    np.testing.assert_allclose(
        d.loc[[0, 1, 2, 3], "estimate"], cs_es.loc[[0, 1, 2, 3], "estimate"], atol=1e-10
    )
    # but not the never-treated comparison (differs at e = 0 by ~1e-3)
    never = estimate(mp_design, "lemp", aggregate="dynamic").event_study.set_index("rel_time")
    assert abs(d.loc[0, "estimate"] - never.loc[0, "estimate"]) > 5e-4
    # average total effect = CS "simple" with not-yet-treated controls
    simple = estimate_dcdh(mp_design, "lemp", aggregate="simple", placebo=0)
    cs_simple = estimate(mp_design, "lemp", control_group="notyet", aggregate="simple")
    assert simple.att == pytest.approx(cs_simple.att, abs=1e-10)
    # first placebo = CS universal-base θ(-2) with not-yet-treated controls
    pl = estimate_dcdh(mp_design, "lemp", placebo=1).event_study.set_index("rel_time")
    cs_u = estimate(
        mp_design, "lemp", control_group="notyet", base_period="universal", aggregate="dynamic"
    ).event_study.set_index("rel_time")
    assert pl.loc[-2, "estimate"] == pytest.approx(cs_u.loc[-2, "estimate"], abs=1e-10)


def test_dcdh_cluster_and_honest(mpdta: pd.DataFrame, mp_design: policy.TreatmentDesign) -> None:
    frame = mpdta.assign(
        d=((mpdta["first.treat"] > 0) & (mpdta["year"] >= mpdta["first.treat"])).astype(int)
    )
    direct = md.did_multiplegt(
        frame,
        yname="lemp",
        tname="year",
        idname="countyreal",
        dname="d",
        effects=2,
        placebo=2,
        cluster="state",
    )
    res = estimate_dcdh(mp_design, "lemp", effects=2, placebo=2, cluster="state")
    es = res.event_study.set_index("rel_time")
    np.testing.assert_allclose(es.loc[[0, 1], "se"], direct.effects.std_errors, atol=1e-10)
    np.testing.assert_allclose(es.loc[[-2, -3], "se"], direct.placebos.std_errors, atol=1e-10)
    np.testing.assert_allclose(
        np.sqrt(np.diag(res.meta["event_study_vcov"])),
        res.event_study["se"],
        atol=1e-12,
        equal_nan=True,
    )
    assert res.meta["n_clusters"] == 29
    # HonestDiD runs on the dCDH event study (placebos = pre-periods) through the DIDResult
    hd = honest_did(res, method="smoothness", m=(0.0, 0.01))
    assert hd.num_pre == 2 and hd.num_post == 2
    assert hd.meta["source"] == "dcdh"


# ---------------------------------------------------------------------- bad input
def test_unbalanced_panel_is_a_data_error(mpdta: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    frame = mpdta.loc[rng.random(len(mpdta)) >= 0.05].reset_index(drop=True)
    d = policy.design(
        Panel(frame, unit="countyreal", time="year"),
        cohort="first.treat",
        balance="pairwise",
        always_treated="drop",
    )
    with pytest.raises(DataError, match=r"balanced panel.*balance='drop'"):
        estimate_dcdh(d, "lemp")
    # with balance="drop" it runs on the balanced subsample
    d2 = policy.design(
        Panel(frame, unit="countyreal", time="year"), cohort="first.treat", always_treated="drop"
    )
    assert estimate_dcdh(d2, "lemp", effects=1, placebo=0).meta["n_units"] == d2.meta["n_units"]


def test_no_pre_periods_is_a_data_error(mp_design: policy.TreatmentDesign) -> None:
    res = estimate_dcdh(mp_design, "lemp", effects=2, placebo=0)
    with pytest.raises(DataError, match="pre-treatment"):
        honest_did(res)
    with pytest.raises(DataError, match="pre-treatment"):
        honest_did((np.array([0.1, 0.2]), np.eye(2), 0, 2))
    with pytest.raises(DataError, match="at least 2 pre-treatment"):
        honest_did((np.array([0.1, 0.2, 0.3]), np.eye(3), 1, 2), method="smoothness")


def test_bad_specs(mp_design: policy.TreatmentDesign, cs_event_study) -> None:  # type: ignore[no-untyped-def]
    arg = _tuple_input(cs_event_study)
    with pytest.raises(SpecError, match="method"):
        honest_did(arg, method="relative")
    with pytest.raises(SpecError, match="ci_method"):
        honest_did(arg, ci_method="XYZ")
    with pytest.raises(SpecError, match="mbar"):
        honest_did(arg, mbar=(-1.0,))
    with pytest.raises(SpecError, match="e="):
        honest_did(arg, e=9)
    with pytest.raises(DataError, match="sigma"):
        honest_did((arg[0], np.eye(3), arg[2], arg[3]))
    with pytest.raises(SpecError, match="aggregate"):
        estimate_dcdh(mp_design, "lemp", aggregate="group")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="dname"):
        estimate_dcdh(mp_design, "lemp", dname="x")
    with pytest.raises(SpecError, match="effects"):
        estimate_dcdh(mp_design, "lemp", effects=0)
