"""TWFE, TWFE event study and Sun–Abraham (through pyfixest) against oracles and R numbers.

Oracles: pyfixest called directly; linearmodels PanelOLS (test-only); the R ``did``
numbers of tests/reference/policy/PROVENANCE.md (CS with never-treated controls, which
Sun–Abraham equals for e >= 0 on balanced mpdta); stored TWFE numbers.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, datasets, policy
from agglomera.errors import DataError, SpecError
from agglomera.policy import twfe
from agglomera.policy.estimation import normal_ci, normal_pvalue, wald_test

MPDTA = Path(__file__).resolve().parents[1] / "reference" / "policy" / "mpdta.csv"

# stored reference numbers (PROVENANCE.md, section TWFE)
TWFE_COEF = -0.036548936674067
TWFE_SE = 0.013265155429339
RAW_SE = 0.013238619810294
FACTOR = (500 / 499) * (2499 / 2494)  # G/(G-1) * (N-1)/(N-K), K = 1 + T

CS_DYNAMIC_POST = {0: -0.0199, 1: -0.0510, 2: -0.1373, 3: -0.1008}
CS_SIMPLE = -0.0400
CS_ATTGT_PRE = {(2006, 2004): 0.0065, (2006, 2005): -0.0028, (2007, 2004): 0.0305,
                (2007, 2005): -0.0027, (2007, 2006): -0.0311}  # fmt: skip


@pytest.fixture(scope="module")
def mpdta_frame() -> pd.DataFrame:
    return pd.read_csv(MPDTA)


@pytest.fixture(scope="module")
def mpdta(mpdta_frame: pd.DataFrame) -> policy.TreatmentDesign:
    return policy.design(Panel(mpdta_frame, unit="countyreal", time="year"), cohort="first.treat")


@pytest.fixture(scope="module")
def example_design(example) -> policy.TreatmentDesign:
    with pytest.warns(UserWarning, match="single unit"):
        return policy.design(example.panel, policy="innovative_city")


# ---------------------------------------------------------------------- static TWFE
def test_twfe_matches_pyfixest_direct(mpdta, mpdta_frame: pd.DataFrame) -> None:
    import pyfixest as pf

    res = policy.estimate(mpdta, "lemp", estimator="twfe")
    df = mpdta_frame.rename(columns={"first.treat": "g"})
    df["post"] = ((df["g"] > 0) & (df["year"] >= df["g"])).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(
            "lemp ~ post | countyreal + year",
            data=df,
            vcov={"CRV1": "countyreal"},
            ssc=pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min"),
        )
    assert res.att == pytest.approx(float(fit.coef()["post"]), abs=1e-10)
    assert res.se == pytest.approx(float(fit.se()["post"]), rel=1e-10)
    assert res.att == pytest.approx(TWFE_COEF, abs=1e-10)
    assert res.se == pytest.approx(TWFE_SE, rel=1e-10)
    assert res.meta["small_sample_factor"] == pytest.approx(FACTOR, rel=1e-14)
    assert res.meta["ssc_rescaled"] is False
    assert res.event_study.empty and res.attgt.empty
    assert res.ci == pytest.approx(normal_ci(res.att, res.se, 0.05))
    assert "reghdfe" in res.meta["conventions"]["small_sample_correction"]
    assert res.meta["n_obs"] == 2500 and res.meta["n_clusters"] == 500


def test_twfe_matches_linearmodels_under_stated_convention(mpdta) -> None:
    from linearmodels.panel import PanelOLS

    df = pd.read_csv(MPDTA).set_index(["countyreal", "year"])
    df["post"] = (
        (df["first.treat"] > 0) & (df.index.get_level_values("year") >= df["first.treat"])
    ).astype(float)
    lm = PanelOLS(df["lemp"], df[["post"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=False, group_debias=False
    )
    res = policy.estimate(mpdta, "lemp", estimator="twfe")
    assert res.att == pytest.approx(float(lm.params["post"]), abs=1e-10)
    # linearmodels always scales by N/(N - absorbed effects): 2500/(2500 - 504)
    lm_factor = 2500 / (2500 - (500 + 4))
    ratio = (res.se / float(lm.std_errors["post"])) ** 2
    assert ratio == pytest.approx(FACTOR / lm_factor, rel=1e-10)
    assert float(lm.std_errors["post"]) / math.sqrt(lm_factor) == pytest.approx(RAW_SE, rel=1e-10)


def test_twfe_se_stable_with_did_oracles_imported(mpdta) -> None:
    """Importing diff-diff once changed pyfixest 0.60's clustered SE (DESIGN.md)."""
    diff_diff = pytest.importorskip("diff_diff")
    assert diff_diff is not None
    res = policy.estimate(mpdta, "lemp", estimator="twfe")
    assert res.se == pytest.approx(TWFE_SE, rel=1e-10)
    assert res.att == pytest.approx(TWFE_COEF, abs=1e-10)


def test_twfe_se_stable_with_linearmodels_imported(mpdta) -> None:
    import linearmodels  # noqa: F401 - imported on purpose (oracle in the same process)

    res = policy.estimate(mpdta, "lemp", estimator="twfe")
    assert res.se == pytest.approx(TWFE_SE, rel=1e-10)


def test_ssc_guard_rescales_if_pyfixest_applies_another_factor(mpdta, monkeypatch) -> None:
    """If pyfixest's factor drifts (e.g. FE no longer counted), the covariance is rescaled."""
    monkeypatch.setattr(twfe, "SSC_CONVENTION", {**twfe.SSC_CONVENTION, "k_fixef": "none"})
    res = policy.estimate(mpdta, "lemp", estimator="twfe")
    assert res.meta["ssc_rescaled"] is True
    assert res.se == pytest.approx(TWFE_SE, rel=1e-10)


def test_twfe_pairwise_unbalanced_matches_pyfixest(mpdta_frame: pd.DataFrame) -> None:
    import pyfixest as pf

    frame = mpdta_frame.drop(index=[1, 7, 12, 40, 41]).reset_index(drop=True)
    d = policy.design(
        Panel(frame, unit="countyreal", time="year"), cohort="first.treat", balance="pairwise"
    )
    res = policy.estimate(d, "lemp", estimator="twfe")
    df = frame.rename(columns={"first.treat": "g"})
    df["post"] = ((df["g"] > 0) & (df["year"] >= df["g"])).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(
            "lemp ~ post | countyreal + year",
            data=df,
            vcov={"CRV1": "countyreal"},
            ssc=pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min"),
        )
    assert res.meta["n_obs"] == 2495 and res.meta["balance"] == "pairwise"
    assert res.att == pytest.approx(float(fit.coef()["post"]), abs=1e-10)
    assert res.se == pytest.approx(float(fit.se()["post"]), rel=1e-10)


def test_formula_whitespace_is_normalised() -> None:
    assert twfe.normalise_formula(" y  ~ d\n|  unit_id +\ttime_id ") == "y ~ d | unit_id + time_id"


def test_small_sample_factor_conventions() -> None:
    # unit FE nested in unit clusters: K = k + T
    assert twfe.small_sample_factor(2500, 500, 1, [500, 5], [True, False]) == pytest.approx(FACTOR)
    # nothing nested: K = k + U + T - 1
    got = twfe.small_sample_factor(2500, 50, 1, [500, 5], [False, False])
    assert got == pytest.approx(50 / 49 * 2499 / (2500 - 505))


def test_twfe_biased_downward_on_example(example, example_design) -> None:
    res = policy.estimate(example_design, "talent_lq", estimator="twfe")
    truth = example.truth["att_simple"]
    # effects grow with exposure: TWFE falls short of the true ATT by more than one SE
    assert truth - res.att > res.se
    assert res.att > 0


def test_twfe_aggregate_and_bootstrap_rejected(mpdta) -> None:
    with pytest.raises(SpecError, match="aggregate='dynamic'"):
        policy.estimate(mpdta, "lemp", estimator="twfe", aggregate="dynamic")
    with pytest.raises(SpecError, match="bootstrap"):
        policy.estimate(mpdta, "lemp", estimator="twfe", bootstrap=99)


def test_twfe_with_controls_and_missing_outcome(mpdta_frame: pd.DataFrame) -> None:
    import pyfixest as pf

    frame = mpdta_frame.copy()
    frame.loc[[5, 17], "lemp"] = np.nan
    frame["lpop_t"] = frame["lpop"] * (frame["year"] - 2003) / 10  # time-varying control
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    res = policy.estimate(d, "lemp", estimator="twfe", controls=["lpop_t"], cluster="countyreal")
    assert any("2 rows with missing 'lemp'" in s for s in res.meta["dropped"])
    assert res.meta["n_obs"] == 2498 and res.meta["collinear_controls"] == []
    # a time-invariant control is absorbed by the unit effects: recorded, not hidden
    absorbed = policy.estimate(d, "lemp", estimator="twfe", controls=["lpop"])
    assert absorbed.meta["collinear_controls"] == ["lpop"]
    df = frame.dropna(subset=["lemp"]).rename(columns={"first.treat": "g"})
    df["post"] = ((df["g"] > 0) & (df["year"] >= df["g"])).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(
            "lemp ~ post + lpop_t | countyreal + year",
            data=df,
            vcov={"CRV1": "countyreal"},
            ssc=pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min"),
        )
    assert res.att == pytest.approx(float(fit.coef()["post"]), abs=1e-10)
    assert res.se == pytest.approx(float(fit.se()["post"]), rel=1e-8)


# ---------------------------------------------------------------------- event study
def test_event_study_mpdta(mpdta) -> None:
    res = policy.estimate(mpdta, "lemp", estimator="event_study", aggregate="dynamic")
    es = res.event_study
    assert es["rel_time"].tolist() == [-4, -3, -2, 0, 1, 2, 3]
    assert es.set_index("rel_time")["n"].to_dict() == {
        -4: 131,
        -3: 171,
        -2: 171,
        0: 191,
        1: 60,
        2: 20,
        3: 20,
    }
    post = es[es.rel_time >= 0]
    assert res.att == pytest.approx(post["estimate"].mean(), rel=1e-12)
    assert 0 < res.pretrend_pvalue < 1
    assert res.meta["conventions"]["reference_period"] == -1
    # binned endpoints: e <= -3 share one dummy, e >= 2 share one
    binned = policy.estimate(mpdta, "lemp", estimator="event_study", window=(-3, 2))
    assert binned.event_study["rel_time"].tolist() == [-3, -2, 0, 1, 2]
    assert binned.event_study.set_index("rel_time").loc[2, "n"] == 20
    with pytest.raises(SpecError, match="window"):
        policy.estimate(mpdta, "lemp", estimator="event_study", window=(-1, 2))


def test_pretrend_test_on_example(example, example_design) -> None:
    res = policy.estimate(example_design, "talent_lq", estimator="event_study")
    assert res.pretrend_pvalue > 0.05
    # inject a pre-trend: treated cities drift up by 0.01 per year towards treatment
    frame = example.panel.to_frame()
    g = frame["treat_year"].to_numpy()
    t = frame["year"].to_numpy()
    bump = np.where((g > 0) & (t < g), 0.01 * (t - g), 0.0)
    panel = example.panel.with_columns(y_trend=frame["talent_lq"].to_numpy() + bump)
    with pytest.warns(UserWarning):
        d = policy.design(panel, policy="innovative_city")
    bad = policy.estimate(d, "y_trend", estimator="event_study", pretrend_test="wald")
    assert bad.pretrend_pvalue < 1e-6
    # the default sup-t test rejects too (its p-value cannot go below 1 / 10,000)
    assert policy.estimate(d, "y_trend", estimator="event_study").pretrend_pvalue < 1e-3


def test_event_study_without_never_treated_drops_a_second_reference() -> None:
    with pytest.warns(UserWarning):
        major = policy.design(
            datasets.innovative_city("major", seed=0).panel, policy="innovative_city"
        )
    # without binning, e = 10 (only Shenzhen, in 2018) is collinear as well: warned, recorded
    with pytest.warns(UserWarning, match=r"\[10\] are collinear"):
        res = policy.estimate(major, "talent_lq", estimator="event_study")
    first = int(major.times.min() - major.cohorts.max())
    assert res.meta["conventions"]["extra_reference_period"] == first
    shown = set(res.event_study["rel_time"])
    assert first not in shown and -1 not in shown and 10 not in shown
    assert res.meta["collinear"] == [10]
    binned = policy.estimate(major, "talent_lq", estimator="event_study", window=(-5, 5))
    assert binned.meta["collinear"] == []
    assert np.isfinite(res.event_study["estimate"]).all()


# ---------------------------------------------------------------------- Sun–Abraham
def test_sun_abraham_equals_cs_post_effects(mpdta) -> None:
    res = policy.estimate(mpdta, "lemp", estimator="sa", aggregate="dynamic")
    es = res.event_study.set_index("rel_time")
    for e, value in CS_DYNAMIC_POST.items():
        assert es.loc[e, "estimate"] == pytest.approx(value, abs=1e-4)
    assert res.att == pytest.approx(np.mean(list(CS_DYNAMIC_POST.values())), abs=1e-4)
    simple = policy.estimate(mpdta, "lemp", estimator="sa", aggregate="simple")
    assert simple.att == pytest.approx(CS_SIMPLE, abs=1e-4)
    assert res.meta["conventions"]["control_cohort"] == "never treated"


def test_sun_abraham_pre_periods_are_long_differences(mpdta) -> None:
    """SA delta(g, e<=-2) = -(sum of CS varying-base short differences from g+e+1 to g-1)."""
    attgt = policy.estimate(mpdta, "lemp", estimator="sa").attgt.set_index(["cohort", "time"])
    for (g, t), value in attgt["estimate"].items():
        if t >= g - 1:
            continue
        expected = -sum(CS_ATTGT_PRE[(g, s)] for s in range(t + 1, g))
        assert value == pytest.approx(expected, abs=2e-4)


def test_sun_abraham_last_treated_control(example, example_design) -> None:
    with pytest.warns(UserWarning):
        major = policy.design(
            datasets.innovative_city("major", seed=0).panel, policy="innovative_city"
        )
    with pytest.raises(SpecError, match="control_group='last'"):
        policy.estimate(major, "talent_lq", estimator="sa")
    res = policy.estimate(major, "talent_lq", estimator="sa", control_group="last")
    last = int(major.cohorts.max())
    assert res.meta["conventions"]["control_cohort"] == f"last treated ({last})"
    assert set(res.attgt["cohort"]) == set(major.cohort_sizes().index) - {last}
    assert res.attgt["time"].max() < last
    # with never-treated controls on the prefecture example, SA is close to the truth
    assert np.isfinite(res.event_study["se"]).all()
    sa = policy.estimate(example_design, "talent_lq", estimator="sa", aggregate="simple")
    assert abs(sa.att - example.truth["att_simple"]) < 3 * sa.se


def test_sa_rejects_undefined_aggregations(mpdta) -> None:
    with pytest.raises(SpecError, match="'group'"):
        policy.estimate(mpdta, "lemp", estimator="sa", aggregate="group")


# ---------------------------------------------------------------------- dispatcher + helpers
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"estimator": "ols"}, r"estimator='ols'.*allowed"),
        ({"method": "ml"}, r"method='ml'"),
        ({"control_group": "all"}, r"control_group='all'"),
        ({"aggregate": "total"}, r"aggregate='total'"),
        ({"alpha": 1.5}, "alpha"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"base_period": "fixed"}, "base_period"),
    ],
)
def test_estimate_argument_errors(mpdta, kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        policy.estimate(mpdta, "lemp", **kwargs)


def test_estimate_unknown_option(mpdta) -> None:
    with pytest.raises(SpecError, match=r"does not take the option\(s\) 'window'"):
        policy.estimate(mpdta, "lemp", estimator="twfe", window=(-2, 2))
    with pytest.raises(SpecError, match="'bins'"):
        policy.estimate(mpdta, "lemp", estimator="sa", bins=3)


def test_estimate_data_errors(mpdta) -> None:
    with pytest.raises(DataError, match="lempp"):
        policy.estimate(mpdta, "lempp", estimator="twfe")
    with pytest.raises(DataError, match="lpopp"):
        policy.estimate(mpdta, "lemp", estimator="twfe", controls=["lpopp"])
    with pytest.raises(DataError, match="cluster"):
        policy.estimate(mpdta, "lemp", estimator="twfe", cluster="state")
    res = policy.estimate(mpdta, "lemp", estimator="twfe", method="ipw")
    assert res.meta["ignored"] == {"method": "ipw"}


def test_inference_helpers() -> None:
    lo, hi = normal_ci(1.0, 0.5, 0.05)
    assert (lo, hi) == pytest.approx((1 - 1.959963984540054 * 0.5, 1 + 1.959963984540054 * 0.5))
    assert normal_pvalue(1.959963984540054, 1.0) == pytest.approx(0.05, rel=1e-12)
    assert math.isnan(normal_pvalue(1.0, 0.0))
    stat, df, p = wald_test([1.0, 2.0], np.diag([1.0, 4.0]))
    assert (stat, df) == (pytest.approx(2.0), 2)
    assert p == pytest.approx(math.exp(-1.0), rel=1e-12)  # chi2(2) survival at 2
    # singular covariance: the pseudo-inverse tests the identified direction only
    stat, df, p = wald_test([1.0, 1.0], np.ones((2, 2)))
    assert df == 1 and stat == pytest.approx(1.0)
    assert math.isnan(wald_test([], np.zeros((0, 0)))[2])
