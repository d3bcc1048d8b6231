"""Dumitrescu–Hurlin panel Granger test against R plm 2.6-2 and on simulated panels.

Reference numbers: the validation README's "Panel Granger causality" section (plm's printed
output, asserted to half a unit of the last printed digit) and
tests/reference/interaction_granger/reference.csv, written by make_reference.R there with
plm::pgrangertest (15 significant digits; closed-form statistics, asserted to 1e-6
relative). CI never runs R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from agglomera import Panel
from agglomera.datasets import zhejiang_bay
from agglomera.errors import DataError, EstimationError, SpecError
from agglomera.interaction import _granger_core as core
from agglomera.interaction.granger import DHResult, dumitrescu_hurlin

REF = Path(__file__).resolve().parents[1] / "reference" / "interaction_granger"
RTOL = 1e-6
GRUNFELD = pd.read_csv(REF / "Grunfeld.csv")
PANEL = Panel(GRUNFELD, unit="firm", time="year")
TABLE = pd.read_csv(REF / "reference.csv", keep_default_na=False, dtype={"unit": str})


def _printed(value: float, text: str) -> None:
    """Assert ``value`` rounds to the printed reference ``text`` (half a unit of its last digit)."""
    mantissa = text.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    assert value == pytest.approx(float(text), abs=0.5 * 10.0 ** (exponent - decimals))


# ----------------------------------------------------------------- validation README
def test_readme_order_1() -> None:
    res = dumitrescu_hurlin(PANEL, "inv", "value", lags=1)
    _printed(res.wbar, "3.022629")
    _printed(res.zbar, "4.522735")
    _printed(res.zbar_pvalue, "6.10e-06")
    _printed(res.ztilde, "3.2896")
    _printed(res.ztilde_pvalue, "0.001003")
    assert res.reverse is not None and res.reverse.reverse is None
    _printed(res.reverse.ztilde, "0.4044")
    _printed(res.reverse.ztilde_pvalue, "0.6859")
    assert (res.y, res.x, res.reverse.y, res.reverse.x) == ("inv", "value", "value", "inv")


def test_readme_order_2_and_unit_wald() -> None:
    res = dumitrescu_hurlin(PANEL, "inv", "value", lags=2)
    _printed(res.zbar, "2.96572")
    _printed(res.zbar_pvalue, "0.00302")
    _printed(res.ztilde, "1.683197")
    _printed(res.ztilde_pvalue, "0.09234")
    for firm, text in zip(
        range(1, 7), ["1.8255", "4.3695", "0.7983", "3.3070", "11.0632", "10.8343"], strict=True
    ):
        _printed(float(res.unit_wald.loc[firm]), text)


# ----------------------------------------------------------------- plm reference.csv
@pytest.mark.parametrize(
    ("formula", "order"),
    [(f, k) for f in ("inv ~ value", "value ~ inv") for k in (1, 2, 3)],
)
def test_matches_plm_pgrangertest(formula: str, order: int) -> None:
    yname, xname = (s.strip() for s in formula.split("~"))
    res = dumitrescu_hurlin(PANEL, yname, xname, lags=order)
    rows = TABLE[(TABLE["formula"] == formula) & (TABLE["order"] == order)]
    scalars = rows[rows["unit"] == ""].set_index("quantity")["value"].astype(float)
    for name in ("wbar", "zbar", "zbar_pvalue", "ztilde", "ztilde_pvalue"):
        assert getattr(res, name) == pytest.approx(scalars[name], rel=RTOL), name
    for quantity, ours in (("unit_wald", res.unit_wald), ("unit_pvalue", res.unit_pvalue)):
        ref = rows[rows["quantity"] == quantity].set_index("unit")["value"].astype(float)
        assert [str(u) for u in ours.index] == list(ref.index)
        np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=RTOL)
    # the reverse direction of the same call equals the test run the other way round
    other = dumitrescu_hurlin(PANEL, xname, yname, lags=order)
    assert res.reverse is not None
    assert res.reverse.ztilde == pytest.approx(other.ztilde, rel=1e-12)


def test_to_frame_and_summary() -> None:
    res = dumitrescu_hurlin(PANEL, "inv", "value", lags=1)
    frame = res.to_frame()
    assert frame["direction"].tolist() == ["value -> inv", "inv -> value"]
    assert frame.loc[0, "zbar"] == res.zbar
    assert res.reverse is not None
    assert frame.loc[1, "ztilde_pvalue"] == res.reverse.ztilde_pvalue
    assert frame["lags"].tolist() == [1, 1]
    assert np.isnan(frame["zbar_boot_pvalue"]).all()
    text = res.summary()
    assert "value does not Granger-cause inv" in text and "inv does not Granger-cause value" in text
    assert res.table()["Null hypothesis"].tolist()[0] == "value does not Granger-cause inv"
    with pytest.raises(AttributeError):
        res.wbar = 0.0  # type: ignore[misc]


# ----------------------------------------------------------------- lag selection
@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_lag_selection_matches_statsmodels_information_criteria(criterion: str) -> None:
    """Mean per-unit AIC/BIC on the common sample, computed with statsmodels OLS."""
    max_lags = 4
    res = dumitrescu_hurlin(PANEL, "inv", "value", lags=criterion, max_lags=max_lags)
    means = []
    for k in range(1, max_lags + 1):
        values = []
        for _, g in GRUNFELD.groupby("firm"):
            yv, xv = g["inv"].to_numpy(), g["value"].to_numpy()
            t_len = len(yv)
            rows = np.arange(max_lags, t_len)
            design = np.column_stack(
                [yv[rows - j] for j in range(1, k + 1)] + [xv[rows - j] for j in range(1, k + 1)]
            )
            fit = sm.OLS(yv[rows], sm.add_constant(design)).fit()
            values.append(fit.aic if criterion == "aic" else fit.bic)
        means.append(np.mean(values))
    # statsmodels' criteria add n(1 + ln 2π) to ours, the same constant for every K
    assert res.lag_selection is not None
    np.testing.assert_allclose(
        np.diff(res.lag_selection["mean_ic"].to_numpy()), np.diff(means), rtol=1e-9
    )
    assert res.lags == int(np.argmin(means)) + 1
    assert res.lag_selection["chosen"].sum() == 1
    fixed = dumitrescu_hurlin(PANEL, "inv", "value", lags=res.lags)
    assert res.ztilde == fixed.ztilde
    assert any("chosen by mean" in n for n in res.notes)


def test_default_max_lags_keeps_ztilde_defined() -> None:
    res = dumitrescu_hurlin(PANEL, "inv", "value", lags="aic")
    assert res.lag_selection is not None
    assert res.lag_selection["lags"].max() == 4  # largest K with 20 > 5 + 3K


# ----------------------------------------------------------------- edge cases and errors
def test_ztilde_nan_when_too_few_periods() -> None:
    short = PANEL.subset(times=list(range(1935, 1943)))  # T = 8 = 5 + 3·1
    res = dumitrescu_hurlin(short, "inv", "value", lags=1)
    assert np.isnan(res.ztilde) and np.isnan(res.ztilde_pvalue)
    assert np.isfinite(res.wbar) and np.isfinite(res.zbar)
    assert any("T > 5 + 3K = 8" in n and "T = 8" in n for n in res.notes)
    ok = dumitrescu_hurlin(PANEL.subset(times=list(range(1935, 1944))), "inv", "value")
    assert np.isfinite(ok.ztilde)


def test_too_few_periods_for_regressions() -> None:
    tiny = PANEL.subset(times=list(range(1935, 1942)))  # T = 7
    with pytest.raises(EstimationError, match="too few for lag order 2"):
        dumitrescu_hurlin(tiny, "inv", "value", lags=2)


def test_unbalanced_panel_is_an_error_naming_units() -> None:
    drop = (GRUNFELD["firm"] == 3) & (GRUNFELD["year"] == 1950)
    panel = Panel(GRUNFELD[~drop], unit="firm", time="year")
    with pytest.raises(DataError, match=r"balanced panel.*3 \(missing 1950\).*panel.balance\(\)"):
        dumitrescu_hurlin(panel, "inv", "value")


def test_missing_values_are_an_error_naming_keys() -> None:
    data = GRUNFELD.copy()
    data.loc[(data["firm"] == 2) & (data["year"] == 1940), "value"] = np.nan
    with pytest.raises(DataError, match=r"'value' has 1 missing.*\(2, 1940\)"):
        dumitrescu_hurlin(Panel(data, unit="firm", time="year"), "inv", "value")


def test_gap_in_periods_is_an_error() -> None:
    panel = Panel(GRUNFELD[GRUNFELD["year"] != 1945], unit="firm", time="year")
    with pytest.raises(DataError, match=r"not consecutive.*\(1944, 1946\)"):
        dumitrescu_hurlin(panel, "inv", "value")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lags": 0},
        {"lags": "hqic"},
        {"lags": True},
        {"bootstrap": -1},
        {"lags": 1, "max_lags": 3},
        {"lags": "aic", "max_lags": 0},
        {"bootstrap": 9, "block_length": 0},
    ],
)
def test_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(SpecError):
        dumitrescu_hurlin(PANEL, "inv", "value", **kwargs)  # type: ignore[arg-type]


def test_not_a_panel_and_same_column() -> None:
    with pytest.raises(DataError, match="expected an agglomera Panel"):
        dumitrescu_hurlin(GRUNFELD, "inv", "value")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="same column"):
        dumitrescu_hurlin(PANEL, "inv", "inv")


def test_constant_unit_is_reported() -> None:
    data = GRUNFELD.copy()
    data.loc[data["firm"] == 4, "value"] = 1.0
    with pytest.raises(EstimationError, match=r"units 4\b"):
        dumitrescu_hurlin(Panel(data, unit="firm", time="year"), "inv", "value")


# ----------------------------------------------------------------- simulation
def _simulate(
    rng: np.random.Generator,
    n: int,
    t: int,
    *,
    b: float = 0.0,
    rho: float = 0.3,
    factor: float = 0.0,
    burn: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """y_it = a_i + ρ y_i,t-1 + b x_i,t-1 + λ_i f_t + e_it; x_it = 0.5 x_i,t-1 + μ_i g_t + u_it."""
    total = t + burn
    f, g = rng.standard_normal(total), rng.standard_normal(total)
    lam, mu = factor * rng.uniform(0.5, 1.5, n), factor * rng.uniform(0.5, 1.5, n)
    e, u = rng.standard_normal((n, total)), rng.standard_normal((n, total))
    a = rng.standard_normal(n)
    y, x = np.zeros((n, total)), np.zeros((n, total))
    for s in range(1, total):
        x[:, s] = 0.5 * x[:, s - 1] + mu * g[s] + u[:, s]
        y[:, s] = a + rho * y[:, s - 1] + b * x[:, s - 1] + lam * f[s] + e[:, s]
    return y[:, burn:], x[:, burn:]


def _panel(y: np.ndarray, x: np.ndarray) -> Panel:
    n, t = y.shape
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "time": np.tile(np.arange(2000, 2000 + t), n),
            "y": y.ravel(),
            "x": x.ravel(),
        }
    )
    return Panel(frame, unit="unit", time="time")


def _binomial_band(reps: int, level: float = 0.05, conf: float = 0.999) -> tuple[float, float]:
    lo, hi = stats.binom.interval(conf, reps, level)
    return lo / reps, hi / reps


def test_size_and_power_on_simulated_panels() -> None:
    """x independent of y: Z-tilde rejects about 5 %; x causing y: it almost always rejects.

    The band is the 99.9 % binomial range of the rejection rate of an exactly 5 % test over
    the replications. With a lagged dependent variable Z-tilde's fixed-T moments are only
    approximate (in 3,000 replications with N = 50, T = 30 it rejected 7 %); Z-bar, meant for
    large T, rejects more often than Z-tilde at T = 25.
    """
    rng = np.random.default_rng(20121)
    reps, n, t = 300, 30, 25
    rej_tilde = rej_bar = 0
    for _ in range(reps):
        res = dumitrescu_hurlin(_panel(*_simulate(rng, n, t)), "y", "x")
        rej_tilde += res.ztilde_pvalue < 0.05
        rej_bar += res.zbar_pvalue < 0.05
    lo, hi = _binomial_band(reps)
    assert lo <= rej_tilde / reps <= hi
    assert rej_bar > rej_tilde
    power = [
        dumitrescu_hurlin(_panel(*_simulate(rng, n, t, b=0.3)), "y", "x").ztilde_pvalue < 0.05
        for _ in range(100)
    ]
    assert np.mean(power) >= 0.95


def test_reverse_direction_has_no_causality_in_simulation() -> None:
    rng = np.random.default_rng(5)
    res = dumitrescu_hurlin(_panel(*_simulate(rng, 40, 40, b=0.5)), "y", "x")
    assert res.ztilde_pvalue < 1e-6
    assert res.reverse is not None and res.reverse.ztilde_pvalue > 0.01


def test_bootstrap_is_deterministic_and_upper_tail() -> None:
    a = dumitrescu_hurlin(PANEL, "inv", "value", bootstrap=199, seed=11)
    b = dumitrescu_hurlin(PANEL, "inv", "value", bootstrap=199, seed=11)
    c = dumitrescu_hurlin(PANEL, "inv", "value", bootstrap=199, seed=12)
    assert a.boot_wbar is not None and b.boot_wbar is not None and c.boot_wbar is not None
    np.testing.assert_array_equal(a.boot_wbar, b.boot_wbar)
    assert a.zbar_boot_pvalue == b.zbar_boot_pvalue
    assert not np.array_equal(a.boot_wbar, c.boot_wbar)
    expected = (1 + np.sum(a.boot_wbar >= a.wbar)) / (1 + a.boot_wbar.size)
    assert a.zbar_boot_pvalue == expected == a.ztilde_boot_pvalue
    assert a.reverse is not None and a.reverse.boot_wbar is not None
    assert not np.array_equal(a.boot_wbar, a.reverse.boot_wbar)
    assert a.seed == 11 and a.bootstrap == 199
    # no seed: the drawn entropy is recorded and reproduces the run
    d = dumitrescu_hurlin(PANEL, "inv", "value", bootstrap=49)
    assert d.seed is not None
    e = dumitrescu_hurlin(PANEL, "inv", "value", bootstrap=49, seed=d.seed)
    assert d.zbar_boot_pvalue == e.zbar_boot_pvalue
    blocks = dumitrescu_hurlin(PANEL, "inv", "value", bootstrap=49, seed=3, block_length=4)
    assert blocks.block_length == 4 and 0 < blocks.zbar_boot_pvalue <= 1


def test_bootstrap_rebuilds_null_model_exactly() -> None:
    """With zero residuals the bootstrap series follows the fitted null recursion."""
    rng = np.random.default_rng(0)
    y, _ = _simulate(rng, 3, 15)
    beta, resid = core.null_fit(y, 2)
    # per-unit OLS by statsmodels as the oracle of the null fit
    for i in range(3):
        d = np.column_stack([y[i, 1:-1], y[i, :-2]])
        fit = sm.OLS(y[i, 2:], sm.add_constant(d)).fit()
        np.testing.assert_allclose(beta[i], fit.params, rtol=1e-9)
        np.testing.assert_allclose(resid[i], fit.resid, atol=1e-9)
    idx = core.block_indices(rng, 5, 13, 4)
    assert idx.shape == (5, 13)
    assert np.all(np.diff(idx[:, :4], axis=1) == 1)


@pytest.mark.slow
def test_bootstrap_keeps_size_under_cross_sectional_dependence() -> None:
    """Common factors in x and y: asymptotic Z-tilde over-rejects, the bootstrap does not."""
    rng = np.random.default_rng(77)
    reps = 150
    rej_asym = rej_boot = 0
    for _ in range(reps):
        y, x = _simulate(rng, 20, 30, factor=1.5)
        wbar = core.unit_wald(y, x, 1)[0].mean()
        boot = core.bootstrap_wbar(y, x, 1, 199, 1, rng)
        rej_boot += (1 + np.sum(boot >= wbar)) / 200 < 0.05
        ztilde = np.sqrt(20 / 2 * (30 - 8) / (30 - 5)) * ((30 - 6) / (30 - 4) * wbar - 1)
        rej_asym += 2 * stats.norm.sf(abs(ztilde)) < 0.05
    lo, hi = _binomial_band(reps)
    assert lo <= rej_boot / reps <= hi
    assert rej_asym > rej_boot


def test_vectorised_over_many_units() -> None:
    rng = np.random.default_rng(3)
    y, x = _simulate(rng, 2000, 30)
    res = dumitrescu_hurlin(_panel(y, x), "y", "x", lags=2)
    assert isinstance(res, DHResult) and res.n_units == 2000
    # unit 17 against a direct statsmodels regression
    rows = np.arange(2, 30)
    d = np.column_stack([y[17, rows - 1], y[17, rows - 2], x[17, rows - 1], x[17, rows - 2]])
    fit = sm.OLS(y[17, rows], sm.add_constant(d)).fit()
    wald = fit.wald_test(np.eye(5)[3:], scalar=True, use_f=False).statistic
    assert res.unit_wald.iloc[17] == pytest.approx(float(wald), rel=1e-9)


# ----------------------------------------------------------------- example data
def test_zhejiang_bay_two_way_causality_is_found() -> None:
    """The simulated Bay Area VAR has industry → talent (0.25) and talent → industry (0.3).

    Eight cities × 13 years (the default 2010–2022) are too few for power: over 50 seeds
    Z-tilde rejected at 5 % in 14 % (industry → talent) and 28 % (talent → industry) of the
    panels, 70 % / 90 % with 31 years; with 101 years (end=2110) it rejected both at 1 % in
    all 50, so that length is used.
    """
    data = zhejiang_bay(seed=0, end=2110)
    res = dumitrescu_hurlin(data.panel, "talent_latent", "industry_latent", lags="bic")
    assert res.lags == 1
    assert res.ztilde_pvalue < 0.01
    assert res.reverse is not None and res.reverse.ztilde_pvalue < 0.01
    assert data.truth["granger"] == {"industry_to_talent": True, "talent_to_industry": True}
