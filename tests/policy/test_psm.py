"""PSM-DID: logit propensity, matching, balance table, DID on the matched sample."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from agglomera import policy
from agglomera.errors import DataError, SpecError
from agglomera.policy.psm import logit_irls, psm_did

COVARIATES = ["grp_pc", "secondary_share", "fdi_gdp", "st_fiscal_share", "students"]


@pytest.fixture(scope="module")
def nearest3(design):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return psm_did(design, "talent_lq", covariates=COVARIATES, k=3)


@pytest.mark.parametrize(
    "options", [{"k": 3}, {"method": "kernel", "caliper": 0.06}, {"by_year": True, "k": 3}]
)
def test_matching_improves_balance_for_every_covariate(design, options) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = psm_did(design, "talent_lq", covariates=COVARIATES, **options)
    bal = res.balance
    assert list(bal["covariate"]) == COVARIATES
    assert (bal["bias_after"].abs() < bal["bias_before"].abs()).all(), bal
    # the pilots are selected on income, S&T spending and size: imbalanced before
    assert (bal.set_index("covariate").loc[["grp_pc", "students"], "p_before"] < 0.01).all()


def test_balance_table_formulas(design, nearest3) -> None:
    cov = design.covariate_frame(COVARIATES)
    base = cov[cov["year"] == int(design.times[0])].set_index("adcode").reindex(design.units)
    scores = nearest3.scores
    t = scores["treated"].to_numpy() == 1
    w = scores["weight"].to_numpy()
    x = base["grp_pc"].to_numpy()
    denom = np.sqrt((x[t].var(ddof=1) + x[~t].var(ddof=1)) / 2)
    row = nearest3.balance.set_index("covariate").loc["grp_pc"]
    assert row["bias_before"] == pytest.approx(100 * (x[t].mean() - x[~t].mean()) / denom)
    mt = t & (w > 0)
    mc = ~t & (w > 0)
    after = 100 * (x[mt].mean() - np.average(x[mc], weights=w[mc])) / denom
    assert row["bias_after"] == pytest.approx(after)


def test_common_support_and_matching_rules(nearest3) -> None:
    s = nearest3.scores
    t = s["treated"] == 1
    pc = s.loc[~t, "pscore"]
    off = t & ((s["pscore"] < pc.min()) | (s["pscore"] > pc.max()))
    assert (s.loc[off, "on_support"] == False).all()  # noqa: E712
    assert not (s.loc[off, "matched"]).any()
    # each matched treated unit's controls lie within the caliper: check one
    i = s.index[t & s["matched"]][0]
    dist = (pc - s.loc[i, "pscore"]).abs().sort_values()
    assert dist.iloc[0] <= 0.05
    assert nearest3.meta["n_off_support"] == int(off.sum())
    # control weights of 1:3 matching sum to the number of matched treated units
    assert s.loc[~t, "weight"].sum() == pytest.approx(nearest3.meta["n_matched_treated"])


def test_did_is_estimate_on_the_matched_units(design, nearest3) -> None:
    keep = list(nearest3.scores.loc[nearest3.scores["weight"] > 0, "unit"])
    assert set(nearest3.design.units) == set(keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        direct = policy.design(design.panel.subset(units=keep), cohort="treat_year")
    est = policy.estimate(direct, "talent_lq", estimator="twfe")
    assert nearest3.did.att == pytest.approx(est.att, abs=1e-12)
    assert nearest3.did.se == pytest.approx(est.se, abs=1e-12)
    assert any("PSM" in d for d in nearest3.did.meta["dropped"])
    assert "DID on the matched sample" in nearest3.summary()


def test_logit_irls_matches_statsmodels(design) -> None:
    sm = pytest.importorskip("statsmodels.api")
    cov = design.covariate_frame(COVARIATES)
    base = cov[cov["year"] == 2003].set_index("adcode").reindex(design.units)
    x = np.column_stack([np.ones(len(base)), base[COVARIATES].to_numpy()])
    y = (design.cohorts > 0).to_numpy(dtype=float)
    beta, vcov = logit_irls(x, y)
    ref = sm.Logit(y, x).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(beta, ref.params, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(vcov)), ref.bse, rtol=1e-6)


def test_logit_table_on_original_scale(design, nearest3) -> None:
    sm = pytest.importorskip("statsmodels.api")
    cov = design.covariate_frame(COVARIATES)
    base = cov[cov["year"] == 2003].set_index("adcode").reindex(design.units)
    x = sm.add_constant(base[COVARIATES].to_numpy())
    y = (design.cohorts > 0).to_numpy(dtype=float)
    ref = sm.Logit(y, x).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(nearest3.logit["estimate"], ref.params, rtol=1e-6)
    np.testing.assert_allclose(nearest3.logit["se"], ref.bse, rtol=1e-6)
    np.testing.assert_allclose(nearest3.scores["pscore"], ref.predict(x), rtol=1e-8, atol=1e-12)


def test_errors(design) -> None:
    with pytest.raises(SpecError, match=r"method='radius'.*allowed"):
        psm_did(design, "talent_lq", covariates=COVARIATES, method="radius")
    with pytest.raises(SpecError, match="caliper"):
        psm_did(design, "talent_lq", covariates=COVARIATES, caliper=0)
    with pytest.raises(SpecError, match="base_year=2012"):
        psm_did(design, "talent_lq", covariates=COVARIATES, base_year=2012)
    with pytest.raises(DataError):
        psm_did(design, "talent_lq", covariates=["nope"])
    with pytest.raises(DataError, match="widen the caliper"):
        psm_did(design, "talent_lq", covariates=COVARIATES, caliper=1e-9)
