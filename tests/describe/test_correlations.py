from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from agglomera import describe
from agglomera.errors import DataError

VARS = ["talent_lq", "rd_exp", "grp_pc", "fdi_gdp"]


def test_pearson_pairwise_matches_pandas_and_scipy(cities_holes):
    res = describe.correlations(cities_holes, VARS)
    frame = cities_holes.to_frame()
    ref = frame[VARS].corr()
    np.testing.assert_allclose(res.r.to_numpy(), ref.to_numpy(), rtol=1e-12, atol=1e-12)
    for i, a in enumerate(VARS):
        for b in VARS[i + 1 :]:
            sub = frame[[a, b]].dropna()
            r, p = stats.pearsonr(sub[a], sub[b])
            assert res.r.loc[a, b] == pytest.approx(r, abs=1e-12)
            assert res.pvalue.loc[a, b] == pytest.approx(p, rel=1e-9, abs=1e-15)
            assert res.n.loc[a, b] == len(sub)
            assert res.df.loc[a, b] == len(sub) - 2


def test_spearman_matches_scipy(cities_holes):
    res = describe.correlations(cities_holes, VARS, method="spearman")
    frame = cities_holes.to_frame()
    np.testing.assert_allclose(
        res.r.to_numpy(), frame[VARS].corr(method="spearman").to_numpy(), rtol=1e-12, atol=1e-12
    )
    for i, a in enumerate(VARS):
        for b in VARS[i + 1 :]:
            sub = frame[[a, b]].dropna()
            rho, p = stats.spearmanr(sub[a], sub[b])
            assert res.r.loc[a, b] == pytest.approx(rho, abs=1e-12)
            assert res.pvalue.loc[a, b] == pytest.approx(p, rel=1e-9, abs=1e-15)


def test_listwise_uses_common_rows(cities_holes):
    res = describe.correlations(cities_holes, VARS, missing="listwise")
    sub = cities_holes.to_frame()[VARS].dropna()
    np.testing.assert_allclose(res.r.to_numpy(), sub.corr().to_numpy(), rtol=1e-12, atol=1e-12)
    assert set(res.n.to_numpy().ravel()) == {len(sub)}


def test_within_matches_direct_demeaning_and_dof(cities_holes):
    res = describe.correlations(cities_holes, VARS, within=True)
    frame = cities_holes.to_frame()
    for i, a in enumerate(VARS):
        for b in VARS[i + 1 :]:
            sub = frame[["adcode", a, b]].dropna()
            dem = sub[[a, b]] - sub.groupby("adcode")[[a, b]].transform("mean")
            r = float(np.corrcoef(dem[a], dem[b])[0, 1])
            dof = len(sub) - sub["adcode"].nunique() - 1
            t = r * np.sqrt(dof / (1 - r**2))
            assert res.r.loc[a, b] == pytest.approx(r, abs=1e-12)
            assert res.df.loc[a, b] == dof
            assert res.pvalue.loc[a, b] == pytest.approx(2 * stats.t.sf(abs(t), dof), rel=1e-10)


def test_within_pvalue_equals_dummy_regression_t_test(cities):
    # FWL: the within correlation's t statistic equals the OLS t of y on x + unit dummies
    frame = cities.to_frame()
    res = describe.correlations(cities, ["talent_lq", "rd_exp"], within=True)
    units = frame["adcode"].to_numpy()
    dummies = (units[:, None] == np.unique(units)[None, :]).astype(float)
    x = np.column_stack([frame["rd_exp"], dummies])
    y = frame["talent_lq"].to_numpy()
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = len(y) - x.shape[1]
    cov = np.linalg.inv(x.T @ x) * (resid @ resid) / dof
    t = beta[0] / np.sqrt(cov[0, 0])
    assert res.df.iloc[0, 1] == dof
    assert res.pvalue.iloc[0, 1] == pytest.approx(2 * stats.t.sf(abs(t), dof), rel=1e-8)


def test_stars_and_table(cities):
    res = describe.correlations(cities, VARS)
    table = res.table(digits=3).set_index("variable")
    p = res.pvalue.loc["rd_exp", "talent_lq"]
    expected = f"{res.r.loc['rd_exp', 'talent_lq']:.3f}" + describe.stars_for(p)
    assert table.loc["rd_exp", "talent_lq"] == expected
    assert table.loc["talent_lq", "rd_exp"] == ""  # upper triangle empty
    assert describe.stars_for(0.005) == "***"
    assert describe.stars_for(0.03) == "**"
    assert describe.stars_for(0.07) == "*"
    assert describe.stars_for(0.2) == ""
    assert len(res.to_frame()) == 6


def test_vif_identity_and_statsmodels(cities):
    out = describe.vif(cities, VARS).set_index("variable")
    x = cities.to_frame()[VARS].to_numpy()
    inv_corr = np.linalg.inv(np.corrcoef(x, rowvar=False))
    np.testing.assert_allclose(out["vif"].to_numpy(), np.diag(inv_corr), rtol=1e-10)
    try:
        from statsmodels.stats.outliers_influence import variance_inflation_factor
    except ImportError:
        pytest.skip("statsmodels not installed; checked against the inverse-correlation identity")
    design = np.column_stack([np.ones(len(x)), x])
    sm = [variance_inflation_factor(design, j + 1) for j in range(len(VARS))]
    np.testing.assert_allclose(out["vif"].to_numpy(), sm, rtol=1e-10)


def test_vif_records_dropped_rows(cities_holes):
    out = describe.vif(cities_holes, VARS)
    n_complete = len(cities_holes.to_frame()[VARS].dropna())
    assert out.attrs["n_obs"] == n_complete
    assert out.attrs["n_dropped"] == cities_holes.n_obs - n_complete


def test_unknown_variable(cities):
    with pytest.raises(DataError, match="Did you mean"):
        describe.correlations(cities, ["talent_lq", "rd_expp"])
