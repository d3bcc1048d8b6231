"""Panel VAR by GMM: reference numbers (R panelvar, R plm), recovery, input errors.

References and their provenance: tests/reference/interaction_pvar/PROVENANCE.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from agglomera import Panel
from agglomera.datasets.zhejiang_bay import zhejiang_bay
from agglomera.errors import DataError, EstimationError, SpecError
from agglomera.interaction._pvar_gmm import helmert
from agglomera.interaction.panel_var import panel_var, select_order

REF = Path(__file__).resolve().parents[1] / "reference" / "interaction_pvar"
VARS = ["expenditures", "revenues", "grants"]

# R panelvar::pvargmm, ex1_dahlberg_data (see PROVENANCE.md, section 1)
PANELVAR_COEF = [
    [0.284616, -0.047021, -1.674606],
    [0.258348, 0.058785, -2.236664],
    [0.016661, -0.040496, 0.320395],
]
PANELVAR_SE = [
    [0.066433, 0.063722, 0.281755],
    [0.079490, 0.072631, 0.284631],
    [0.017179, 0.015087, 0.052123],
]
# the published numbers have six decimals: half a unit in the last digit
PRINTED = 5e-7


def _dahlberg(gaps: bool = False) -> Panel:
    d = pd.read_csv(REF / "Dahlberg.csv")
    if gaps:
        drop = (
            ((d["id"] == 114) & (d["year"] == 1983))
            | ((d["id"] == 115) & (d["year"] >= 1986))
            | ((d["id"] == 120) & (d["year"] == 1979))
        )
        d = d[~drop]
    return Panel(d, unit="id", time="year")


@pytest.fixture(scope="module")
def dahlberg_fit():
    return panel_var(_dahlberg(), VARS)


def test_dahlberg_matches_panelvar(dahlberg_fit) -> None:
    res = dahlberg_fit
    assert res.n_obs == 1855
    assert res.n_groups == 265
    assert list(res.coef.index) == VARS
    assert list(res.coef.columns) == [f"L1.{v}" for v in VARS]
    np.testing.assert_allclose(res.coef.to_numpy(), PANELVAR_COEF, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(res.se.to_numpy(), PANELVAR_SE, rtol=0, atol=PRINTED)


def test_dahlberg_diagnostics(dahlberg_fit) -> None:
    res = dahlberg_fit
    # 7 periods x (1+...+7) lagged levels x 3 variables = 84 instruments, x 3 equations
    assert res.n_instruments == 252
    assert res.hansen_j.df == 252 - 9
    assert res.hansen_j.pvalue == pytest.approx(stats.chi2.sf(res.hansen_j.statistic, 243))
    comp = res.coef.to_numpy()
    np.testing.assert_allclose(
        np.sort(np.abs(np.linalg.eigvals(comp)))[::-1], res.moduli, rtol=1e-12
    )
    assert res.stable
    assert any("Moore-Penrose" in n for n in res.notes)
    tidy = res.to_frame()
    assert len(tidy) == 9
    assert "Hansen J" in res.summary()


def test_granger_wald_equals_squared_z(dahlberg_fit) -> None:
    res = dahlberg_fit
    g = res.granger()
    one = g[(g["equation"] == "revenues") & (g["excluded"] == "grants")].iloc[0]
    z = res.coef.loc["revenues", "L1.grants"] / res.se.loc["revenues", "L1.grants"]
    assert one["chi2"] == pytest.approx(z**2, rel=1e-10)
    assert one["df"] == 1
    assert set(g["excluded"]) == {*VARS, "ALL"}
    assert (g[g["excluded"] == "ALL"]["df"] == 2).all()


@pytest.mark.parametrize("dataset", ["dahlberg", "dahlberg_gaps"])
def test_one_step_fd_matches_plm_pgmm(dataset: str) -> None:
    ref = pd.read_csv(REF / "pgmm_onestep_fd.csv")
    ref = ref[ref["dataset"] == dataset]
    res = panel_var(_dahlberg(gaps=dataset.endswith("gaps")), VARS, transform="fd", steps=1)
    tidy = res.to_frame().merge(ref, on=["equation", "regressor"], suffixes=("", "_r"))
    assert len(tidy) == 9
    np.testing.assert_allclose(tidy["coef"], tidy["coef_r"], rtol=1e-6)
    np.testing.assert_allclose(tidy["se"], tidy["se_robust"], rtol=1e-6)
    assert res.n_obs == int(ref["n_obs"].iloc[0])
    assert res.dropped["missing transformed value or lag"] == 265 * 7 - res.n_obs


def test_helmert_uses_available_future_values() -> None:
    x = np.array([[1.0, 2.0, np.nan, 4.0, 8.0]])
    out = helmert(x)
    # period 0: future values 2, 4, 8 (k = 3) -> stored in slot 1
    assert out[0, 1] == pytest.approx(np.sqrt(3 / 4) * (1.0 - 14.0 / 3.0))
    assert out[0, 2] == pytest.approx(np.sqrt(2 / 3) * (2.0 - 6.0))
    assert np.isnan(out[0, 3])  # the value itself is missing
    assert out[0, 4] == pytest.approx(np.sqrt(1 / 2) * (4.0 - 8.0))
    assert np.isnan(out[0, 0])
    # balanced: FOD rows are orthonormal -> sum of squares of deviations preserved
    rng = np.random.default_rng(0)
    y = rng.normal(size=(1, 6))
    dev = helmert(y)[0, 1:]
    assert np.sum(dev**2) == pytest.approx(np.sum((y - y.mean()) ** 2))


def _pooled_bay(n_seeds: int = 10, end: int = 2060) -> tuple[Panel, np.ndarray]:
    """Several independent draws of the Bay Area latent VAR(1) as separate units."""
    frames = []
    for s in range(n_seeds):
        ex = zhejiang_bay(seed=s, end=end)
        f = ex.panel.to_frame()[["adcode", "year", "industry_latent", "talent_latent"]]
        f["adcode"] = f["adcode"] + f"-{s}"
        frames.append(f)
    return Panel(pd.concat(frames), unit="adcode", time="year"), np.array(ex.truth["var_coef"])


def _wald_to_truth(res, truth: np.ndarray) -> float:
    d = (res.coef.to_numpy() - truth).T.ravel()  # regressor-major, as vcov
    return float(d @ np.linalg.solve(res.vcov.to_numpy(), d))


def test_recovers_bay_area_var() -> None:
    panel, truth = _pooled_bay()
    res = panel_var(
        panel, ["industry_latent", "talent_latent"], collapse=True, instrument_lags=(2, 4)
    )
    assert res.n_groups == 80
    # joint Wald test of the true VAR matrix at the 0.1 % level (4 restrictions)
    assert _wald_to_truth(res, truth) < stats.chi2.ppf(0.999, 4)
    assert np.all(np.abs(res.coef.to_numpy() - truth) < 4 * res.se.to_numpy())
    assert res.hansen_j.pvalue > 0.001
    np.testing.assert_allclose(np.sort(res.moduli)[::-1], [0.8, 0.25], atol=0.1)


def test_recovers_long_single_bay_panel_fd() -> None:
    ex = zhejiang_bay(seed=0, end=2409)
    truth = np.array(ex.truth["var_coef"])
    res = panel_var(
        ex.panel,
        ["industry_latent", "talent_latent"],
        transform="fd",
        collapse=True,
        instrument_lags=(2, 2),
    )
    assert _wald_to_truth(res, truth) < stats.chi2.ppf(0.999, 4)
    # FD residual covariance is halved back to the innovation covariance
    np.testing.assert_allclose(res.sigma.to_numpy(), ex.truth["innovation_cov"], atol=2e-3)


def test_select_order_common_sample() -> None:
    panel, _ = _pooled_bay(n_seeds=5, end=2040)
    sel = select_order(
        panel,
        ["industry_latent", "talent_latent"],
        max_lags=3,
        collapse=True,
        instrument_lags=(2, 5),
    )
    assert list(sel.index) == [1, 2, 3]
    assert sel["n_obs"].nunique() == 1  # the same sample for every order
    # c moments fixed, b = 4p parameters: df falls by 4 per lag
    assert list(np.diff(sel["df"])) == [-4, -4]
    n = sel["n_obs"].iloc[0]
    np.testing.assert_allclose(sel["mbic"], sel["hansen_j"] - sel["df"] * np.log(n))
    np.testing.assert_allclose(sel["maic"], sel["hansen_j"] - 2 * sel["df"])
    np.testing.assert_allclose(sel["mqic"], sel["hansen_j"] - 2.1 * sel["df"] * np.log(np.log(n)))
    assert sel.attrs["selected"]["mbic"] == 1  # the true order


# ---------------------------------------------------------------------- errors
def test_errors_name_the_problem() -> None:
    panel = _dahlberg()
    with pytest.raises(DataError, match="nope"):
        panel_var(panel, ["expenditures", "nope"])
    with pytest.raises(DataError, match="agglomera Panel"):
        panel_var(panel.to_frame(), VARS)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="transform"):
        panel_var(panel, VARS, transform="demean")
    with pytest.raises(SpecError, match="steps"):
        panel_var(panel, VARS, steps=3)
    with pytest.raises(SpecError, match="instrument_lags"):
        panel_var(panel, VARS, instrument_lags=(1, 5))
    with pytest.raises(SpecError, match="twice"):
        panel_var(panel, ["grants", "grants"])
    with pytest.raises(SpecError, match="lags"):
        panel_var(panel, VARS, lags=0)


def test_error_non_numeric_and_infinite() -> None:
    d = pd.read_csv(REF / "Dahlberg.csv")
    d["label"] = "x"
    with pytest.raises(DataError, match="'label' must be numeric"):
        panel_var(Panel(d, unit="id", time="year"), ["expenditures", "label"])
    d = d.drop(columns="label")
    d.loc[3, "grants"] = np.inf
    with pytest.raises(DataError, match=r"infinite values at .*114"):
        panel_var(Panel(d, unit="id", time="year"), VARS)


def test_error_too_few_periods() -> None:
    d = pd.read_csv(REF / "Dahlberg.csv")
    short = Panel(d[d["year"] <= 1982], unit="id", time="year")  # 4 periods
    with pytest.raises(EstimationError, match="3 instruments per equation for 6 regressors"):
        panel_var(short, VARS, lags=2, collapse=True, instrument_lags=(2, 2))
    with pytest.raises(EstimationError, match=r"too few periods .4, 1979-1982. for lags=3"):
        panel_var(short, VARS, lags=3)
