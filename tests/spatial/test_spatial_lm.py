"""LM tests and SDM restriction tests.

Oracle: pysal spreg 1.9's panel LM functions (Anselin 2008 / Elhorst 2014 formulas), run
on the unit-demeaned Cigar data with spreg's OLS switched to the ML variance e'e/(NT)
(spreg's default divides by NT − K; agglomera follows Elhorst's LMsarsem_panel). spreg's
``panel_LMlag`` is not used as an oracle: it adds ``trw * trw * sig2`` where the formula
has ``T * trw * sig2`` (T = number of periods); LM-lag is checked instead through the
identity LM-lag − robust LM-lag = LM-error − robust LM-error (Anselin et al. 1996) and
against spreg's formula with T in place.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest

from agglomera.errors import SpecError
from agglomera.spatial import _spatial_ml as ml
from agglomera.spatial.lm_tests import lm_tests, sdm_restrictions
from agglomera.spatial.panel_models import panel_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_spatial_panel_models import PANEL, W, X


@pytest.mark.filterwarnings("ignore")
def test_lm_tests_match_spreg(monkeypatch: pytest.MonkeyPatch) -> None:
    libpysal = pytest.importorskip("libpysal")
    dp = pytest.importorskip("spreg.diagnostics_panel")
    monkeypatch.setattr(dp, "OLS", functools.partial(dp.OLS, sig2n_k=False))
    frame = PANEL.to_frame().sort_values(["year", "state"])
    t, n = 30, 46
    yd = ml.demean(frame["logc"].to_numpy().reshape(t, n), "unit").reshape(-1, 1)
    xd = ml.demean(frame[X].to_numpy().reshape(t, n, 2), "unit").reshape(-1, 2)
    wo = libpysal.weights.full2W(W)
    res = lm_tests(PANEL, y="logc", x=X, w=W, effects="unit")
    for name, fn in (
        ("robust LM-lag", dp.panel_rLMlag),
        ("LM-error", dp.panel_LMerror),
        ("robust LM-error", dp.panel_rLMerror),
    ):
        stat, pval = fn(yd, xd, wo)
        assert res[name] == pytest.approx(stat, rel=1e-9)
        assert res.pvalue(name) == pytest.approx(pval, rel=1e-6, abs=1e-300)
    assert res["LM-lag"] - res["robust LM-lag"] == pytest.approx(
        res["LM-error"] - res["robust LM-error"], rel=1e-9
    )


def test_lm_lag_formula_with_periods() -> None:
    # LM-lag written out directly (numerator and J as in spreg, with T·trw)
    res = lm_tests(PANEL, y="logc", x=X, w=W, effects="twoway")
    frame = PANEL.to_frame().sort_values(["year", "state"])
    t, n = 30, 46
    y = ml.demean(frame["logc"].to_numpy().reshape(t, n), "twoway").ravel()
    x = ml.demean(frame[X].to_numpy().reshape(t, n, 2), "twoway").reshape(-1, 2)
    wy = ml.demean(frame["logc"].to_numpy().reshape(t, n) @ W.T, "twoway").ravel()
    b = np.linalg.solve(x.T @ x, x.T @ y)
    e = y - x @ b
    s2 = e @ e / (n * t)
    wxb = ml.demean((x @ b).reshape(t, n) @ W.T, "twoway").ravel()
    m = wxb - x @ np.linalg.solve(x.T @ x, x.T @ wxb)
    trw = np.trace(W @ W) + np.trace(W.T @ W)
    j = (wxb @ m + t * trw * s2) / s2
    assert res["LM-lag"] == pytest.approx((e @ wy / s2) ** 2 / j, rel=1e-10)


def test_lm_detects_simulated_spatial_lag_and_not_noise() -> None:
    from test_spatial_panel_models import ring_knn, simulate_sdm

    w = ring_knn(100, 4)
    lagged = simulate_sdm(100, 10, 0.5, np.array([1.0]), np.array([0.0]), seed=2, w=w)
    res = lm_tests(lagged, y="y", x=["x1"], w=w, effects="twoway")
    assert res.pvalue("LM-lag") < 1e-6
    assert res.pvalue("robust LM-lag") < 1e-3
    null = simulate_sdm(100, 10, 0.0, np.array([1.0]), np.array([0.0]), seed=2, w=w)
    res0 = lm_tests(null, y="y", x=["x1"], w=w, effects="twoway")
    assert res0.pvalue("LM-lag") > 0.01 and res0.pvalue("LM-error") > 0.01


def test_sdm_restrictions_wald_and_lr() -> None:
    r = panel_model(PANEL, y="logc", x=X, w=W, model="sdm", effects="twoway")
    tests = sdm_restrictions(r)
    theta = r.params[["W.logp", "W.logy"]].to_numpy()
    vt = r.cov.loc[["W.logp", "W.logy"], ["W.logp", "W.logy"]].to_numpy()
    assert tests["Wald theta=0"] == pytest.approx(theta @ np.linalg.solve(vt, theta), rel=1e-10)
    sar = panel_model(PANEL, y="logc", x=X, w=W, model="sar", effects="twoway")
    sem = panel_model(PANEL, y="logc", x=X, w=W, model="sem", effects="twoway")
    assert tests["LR theta=0"] == pytest.approx(2 * (r.loglik - sar.loglik), rel=1e-10)
    assert tests["LR theta+rho*beta=0"] == pytest.approx(2 * (r.loglik - sem.loglik), rel=1e-10)
    assert tests.to_frame()["df"].eq(2).all()
    with pytest.raises(SpecError, match="sdm"):
        sdm_restrictions(sar)


def test_common_factor_holds_on_sem_data() -> None:
    # data from a SEM: the SDM fitted to them satisfies theta = -rho*beta
    import pandas as pd
    from test_spatial_panel_models import ring_knn

    from agglomera import Panel

    n, t = 120, 12
    w = ring_knn(n, 4)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(t, n))
    uinv = np.linalg.inv(np.eye(n) - 0.5 * w)
    y = np.stack([x[s] + uinv @ rng.normal(size=n) for s in range(t)])
    p = Panel(
        pd.DataFrame(
            {
                "unit": np.tile(np.arange(n), t),
                "time": np.repeat(np.arange(t), n),
                "y": y.ravel(),
                "x": x.ravel(),
            }
        ),
        unit="unit",
        time="time",
    )
    r = panel_model(p, y="y", x=["x"], w=w, model="sdm", effects="unit")
    tests = sdm_restrictions(r)
    assert tests.pvalue("Wald theta+rho*beta=0") > 0.01
    assert tests.pvalue("Wald theta=0") < 1e-6
