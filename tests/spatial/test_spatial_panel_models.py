"""Fixed-effects spatial panel ML against R splm / SDPDmod numbers and pysal spreg.

Reference numbers: tests/reference/spatial_panel/reference.csv (see PROVENANCE.md there).
The printed references have 6 decimals, so they are compared with an absolute tolerance of
6e-7 (half a unit in the last printed digit plus 1e-7); spreg is run in the test and
compared to 1e-6 relative (its optimiser stops at ~1e-8 in ρ).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.errors import DataError, SpecError
from agglomera.spatial import _spatial_ml as ml
from agglomera.spatial.panel_models import _prepare, panel_model

REF = Path(__file__).resolve().parents[1] / "reference" / "spatial_panel"
TABLE = pd.read_csv(REF / "reference.csv")
PRINTED = 6e-7  # references printed with 6 decimals


def ref(case: str, quantity: str) -> float:
    row = TABLE[(TABLE["case"] == case) & (TABLE["quantity"] == quantity)]
    assert len(row) == 1, (case, quantity)
    return float(row["value"].iloc[0])


def cigar() -> tuple[Panel, np.ndarray]:
    d = pd.read_csv(REF / "Cigar.csv")
    d["logc"] = np.log(d["sales"])
    d["logp"] = np.log(d["price"] / d["cpi"])
    d["logy"] = np.log(d["ndi"] / d["cpi"])
    a = pd.read_csv(REF / "usa46.csv").to_numpy(dtype=float)
    return Panel(
        d[["state", "year", "logc", "logp", "logy"]], unit="state", time="year"
    ), a / a.sum(axis=1, keepdims=True)


PANEL, W = cigar()
X = ["logp", "logy"]


def fit(**kw: object):  # type: ignore[no-untyped-def]
    return panel_model(PANEL, y="logc", x=X, w=W, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- SAR / SEM
def test_sar_unit_fe_matches_splm() -> None:
    r = fit(model="sar", effects="unit")
    assert r.rho == pytest.approx(ref("sar_unit", "rho"), abs=PRINTED)
    assert r.rho_se == pytest.approx(ref("sar_unit", "rho_se"), abs=PRINTED)
    for v in X:
        assert r.params[v] == pytest.approx(ref("sar_unit", v), abs=PRINTED)
        assert r.se[v] == pytest.approx(ref("sar_unit", f"{v}_se"), abs=PRINTED)
    assert r.n_obs == 46 * 30 and r.n_units == 46 and r.n_periods == 30
    assert np.isnan(r.lam)


def _spreg_inputs() -> tuple[np.ndarray, np.ndarray, object]:
    import libpysal

    frame = PANEL.to_frame().sort_values(["year", "state"])
    return (
        frame[["logc"]].to_numpy(),
        frame[X].to_numpy(),
        libpysal.weights.full2W(W),
    )


@pytest.mark.filterwarnings("ignore")
def test_sar_and_sem_unit_fe_match_spreg() -> None:
    spreg = pytest.importorskip("spreg")
    yv, xv, wo = _spreg_inputs()
    lag = spreg.Panel_FE_Lag(yv, xv, wo)
    r = fit(model="sar", effects="unit")
    np.testing.assert_allclose(
        np.r_[r.params.to_numpy(), r.rho], lag.betas.ravel(), rtol=1e-6, atol=0
    )
    np.testing.assert_allclose(
        np.r_[r.se.to_numpy(), r.rho_se], np.sqrt(np.diag(lag.vm))[:3], rtol=1e-6
    )
    err = spreg.Panel_FE_Error(yv, xv, wo)
    e = fit(model="sem", effects="unit")
    np.testing.assert_allclose(np.r_[e.params.to_numpy(), e.lam], err.betas.ravel(), rtol=1e-6)
    np.testing.assert_allclose(
        np.r_[e.se.to_numpy(), e.lam_se], np.sqrt(np.diag(err.vm))[:3], rtol=1e-6
    )


def test_sem_unit_fe_matches_reference() -> None:
    r = fit(model="sem", effects="unit")
    assert r.lam == pytest.approx(ref("sem_unit", "lambda"), abs=PRINTED)
    for v in X:
        assert r.params[v] == pytest.approx(ref("sem_unit", v), abs=PRINTED)
    assert np.isnan(r.rho)


# ----------------------------------------------------------------------------- SDM two-way
def _profile(rho: float) -> tuple[np.ndarray, float, ml.Design]:
    """β(ρ) and the SSR at a fixed ρ from the package's own demeaned design."""
    d = _prepare(PANEL, "logc", X, W, "sdm", "twoway", False)[0]
    b0 = np.linalg.lstsq(d.z, d.y, rcond=None)[0]
    b1 = np.linalg.lstsq(d.z, d.wy, rcond=None)[0]
    beta = b0 - rho * b1
    e = d.y - rho * d.wy - d.z @ beta
    return beta, float(e @ e), d


def test_sdm_twoway_coefficients_at_sdpdmod_rho() -> None:
    # SDPDmod's rho comes from optimize() on a log-determinant tabulated on a 0.001 grid
    # and looked up at the nearest grid point (a step function): it stops at 0.222591,
    # not at the maximum of the exact likelihood. Given rho, beta is closed form: it must
    # agree to the printed digits.
    # The reference rho is itself rounded to 6 decimals (±5e-7); that rounding moves
    # β(ρ) = b0 − ρ b1 by up to |b1|·5e-7, added to the tolerance.
    rho_ref = ref("sdm_twoway", "rho")
    beta, _, _ = _profile(rho_ref)
    slope = np.abs(_profile(rho_ref + 1.0)[0] - beta)  # |b1|
    names = [*X, "W.logp", "W.logy"]
    for v, b, s in zip(names, beta, slope, strict=True):
        assert b == pytest.approx(ref("sdm_twoway", v), abs=PRINTED + 5e-7 * s)


def test_sdm_twoway_exact_maximum_beats_reference_rho() -> None:
    r = fit(model="sdm", effects="twoway")
    eig = r._fit.eig  # type: ignore[union-attr]
    _, ssr_ref, d = _profile(ref("sdm_twoway", "rho"))
    ll_ref = ml.loglik(ssr_ref, ref("sdm_twoway", "rho"), d, eig)
    assert r.loglik > ll_ref  # the exact maximiser has the higher likelihood
    # grid/optimizer artefact plus SDPDmod's W(Qy) instead of Q(Wy) for the time effects
    assert abs(r.rho - ref("sdm_twoway", "rho")) < 0.01
    # first-order condition of the concentrated likelihood at our rho
    h = 1e-6
    _beta_p, ssr_p, _ = _profile(r.rho + h)
    _beta_m, ssr_m, _ = _profile(r.rho - h)
    m = d.n * d.t
    lp = -m / 2 * np.log(ssr_p) + d.t * eig.logdet(r.rho + h)
    lm = -m / 2 * np.log(ssr_m) + d.t * eig.logdet(r.rho - h)
    assert abs(lp - lm) / (2 * h) < 1e-3


def _sdpdmod_direct_point() -> tuple[np.ndarray, ml.Design]:
    """SDPDmod's LYtrans=FALSE estimate, with its sigma2 convention.

    SDPDmod forms the spatial lag of the *demeaned* y, W(Qy); with time effects and a
    row-standardised, non-symmetric W this differs from Q(Wy) (the exact likelihood,
    used by agglomera) by a per-period constant, which changes the SSR (not β(ρ)).
    """
    rho = ref("sdm_twoway", "rho")
    d = _prepare(PANEL, "logc", X, W, "sdm", "twoway", False)[0]
    qy = d.y.reshape(d.t, d.n)
    wqy = ml.lag(W, qy).ravel()
    beta = np.array([ref("sdm_twoway", v) for v in [*X, "W.logp", "W.logy"]])
    # beta at full precision from the closed form at the reference rho
    beta = _profile(rho)[0]
    e = d.y - rho * wqy - d.z @ beta
    return np.r_[beta, rho, float(e @ e) / (d.n * d.t)], d


def test_lee_yu_twoway_bias_correction_matches_sdpdmod() -> None:
    theta, d = _sdpdmod_direct_point()
    k = 4
    info = ml.information_lag(d, W, theta[k], theta[:k], theta[k + 1])
    corrected = ml.bias_correct_twoway(theta, info, d.n, d.t)
    names = [*X, "W.logp", "W.logy"]
    for v, b in zip(names, corrected[:k], strict=True):
        assert b == pytest.approx(ref("sdm_twoway_ly", v), abs=PRINTED)
    assert corrected[k] == pytest.approx(ref("sdm_twoway_ly", "rho"), abs=PRINTED)
    assert corrected[k + 1] == pytest.approx(ref("sdm_twoway_ly", "sigma2"), rel=1e-6)


def test_lee_yu_twoway_standard_errors_match_sdpdmod() -> None:
    # information matrix of Elhorst (2014) evaluated at the reference estimates
    d = _prepare(PANEL, "logc", X, W, "sdm", "twoway", False)[0]
    names = [*X, "W.logp", "W.logy"]
    beta = np.array([ref("sdm_twoway_ly", v) for v in names])
    info = ml.information_lag(
        d, W, ref("sdm_twoway_ly", "rho"), beta, ref("sdm_twoway_ly", "sigma2")
    )
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    for v, s in zip(names, se[:4], strict=True):
        assert s == pytest.approx(ref("sdm_twoway_ly", f"{v}_se"), abs=PRINTED)
    assert se[4] == pytest.approx(ref("sdm_twoway_ly", "rho_se"), abs=PRINTED)


def test_lee_yu_twoway_full_fit_close_to_sdpdmod() -> None:
    r = fit(model="sdm", effects="twoway", lee_yu=True)
    direct = fit(model="sdm", effects="twoway")
    # the corrected estimate moves rho up by the same amount as in SDPDmod (0.0396)
    assert r.rho - direct.rho == pytest.approx(
        ref("sdm_twoway_ly", "rho") - ref("sdm_twoway", "rho"), abs=2e-3
    )
    # differences from SDPDmod come only from the starting (uncorrected) rho, see above
    assert abs(r.rho - ref("sdm_twoway_ly", "rho")) < 0.01
    assert r.se["logp"] == pytest.approx(ref("sdm_twoway_ly", "logp_se"), rel=0.01)
    assert r.lee_yu and r.notes


def test_lee_yu_unit_equals_explicit_orthonormal_transformation() -> None:
    # unit effects: F_T' removes them with T − 1 periods; ρ, β as the direct approach,
    # σ² = SSR/(N(T − 1)) and the information matrix with T − 1 periods
    a = fit(model="sar", effects="unit")
    b = fit(model="sar", effects="unit", lee_yu=True)
    assert b.rho == pytest.approx(a.rho, abs=1e-7)
    np.testing.assert_allclose(b.params, a.params, atol=1e-7)
    assert b.sigma2 == pytest.approx(a.sigma2 * 30 / 29, rel=1e-7)
    frame = PANEL.to_frame().sort_values(["year", "state"])
    t, n = 30, 46
    x = frame[X].to_numpy().reshape(t, n, 2)
    vals, vecs = np.linalg.eigh(np.eye(t) - np.full((t, t), 1 / t))
    f = vecs[:, vals > 0.5]  # T × (T − 1)
    xs = np.einsum("tnk,tm->mnk", x, f).reshape(-1, 2)
    s2, beta = b.sigma2, b.params.to_numpy()
    g = W @ np.linalg.inv(np.eye(n) - b.rho * W)
    gzb = ((xs @ beta).reshape(t - 1, n) @ g.T).ravel()
    info = np.zeros((4, 4))
    info[:2, :2] = xs.T @ xs / s2
    info[:2, 2] = info[2, :2] = xs.T @ gzb / s2
    info[2, 2] = (t - 1) * np.trace(g @ g + g.T @ g) + gzb @ gzb / s2
    info[2, 3] = info[3, 2] = (t - 1) * np.trace(g) / s2
    info[3, 3] = n * (t - 1) / (2 * s2**2)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    np.testing.assert_allclose(np.r_[b.se.to_numpy(), b.rho_se], se[:3], rtol=1e-6)


def test_lee_yu_time_equals_explicit_orthonormal_transformation() -> None:
    # Lee & Yu (2010): transform each cross-section by F' (F = orthonormal eigenvectors of
    # I − J_N for eigenvalue 1), use W* = F'WF, and run plain ML on the N − 1 transformed
    # units. agglomera's shortcut (demeaning, Jacobian ln|I − ρW| − ln(1 − ρ), N − 1)
    # must give the same ρ, β and σ².
    from scipy.optimize import minimize_scalar

    frame = PANEL.to_frame().sort_values(["year", "state"])
    t, n = 30, 46
    y = frame["logc"].to_numpy().reshape(t, n)
    x = frame[X].to_numpy().reshape(t, n, 2)
    vals, vecs = np.linalg.eigh(np.eye(n) - np.full((n, n), 1 / n))
    f = vecs[:, vals > 0.5]
    ws = f.T @ W @ f
    ys = (y @ f).ravel()
    wys = (y @ W.T @ f).ravel()
    xs = np.einsum("tnk,nm->tmk", x, f).reshape(-1, 2)
    b0 = np.linalg.lstsq(xs, ys, rcond=None)[0]
    b1 = np.linalg.lstsq(xs, wys, rcond=None)[0]
    e0, e1 = ys - xs @ b0, wys - xs @ b1
    ev = np.linalg.eigvals(ws)

    def nll(r: float) -> float:
        ssr = np.sum((e0 - r * e1) ** 2)
        return (n - 1) * t / 2 * np.log(ssr) - t * np.sum(np.log(np.abs(1 - r * ev)))

    rho = minimize_scalar(nll, bounds=(-0.9, 0.99), method="bounded", options={"xatol": 1e-12}).x
    res = fit(model="sar", effects="time", lee_yu=True)
    assert res.rho == pytest.approx(rho, abs=1e-7)
    np.testing.assert_allclose(res.params.to_numpy(), b0 - rho * b1, rtol=1e-6)
    ssr = np.sum((e0 - rho * e1) ** 2)
    assert res.sigma2 == pytest.approx(ssr / ((n - 1) * t), rel=1e-6)
    # information matrix written directly in the transformed space
    s2, beta = res.sigma2, res.params.to_numpy()
    g = ws @ np.linalg.inv(np.eye(n - 1) - res.rho * ws)
    gzb = ((xs @ beta).reshape(t, n - 1) @ g.T).ravel()
    info = np.zeros((4, 4))
    info[:2, :2] = xs.T @ xs / s2
    info[:2, 2] = info[2, :2] = xs.T @ gzb / s2
    info[2, 2] = t * np.trace(g @ g + g.T @ g) + gzb @ gzb / s2
    info[2, 3] = info[3, 2] = t * np.trace(g) / s2
    info[3, 3] = (n - 1) * t / (2 * s2**2)
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    np.testing.assert_allclose(np.r_[res.se.to_numpy(), res.rho_se], se[:3], rtol=1e-6)
    a = pd.read_csv(REF / "usa46.csv").to_numpy(dtype=float)
    with pytest.raises(SpecError, match="row-standardised"):
        panel_model(PANEL, y="logc", x=X, w=a, model="sar", effects="time", lee_yu=True)


# ----------------------------------------------------------------------------- results
def test_result_tables_and_summary() -> None:
    r = fit(model="sdm", effects="twoway")
    f = r.to_frame()
    assert list(f["term"]) == ["logp", "logy", "W.logp", "W.logy", "rho"]
    assert f.loc[f["term"] == "rho", "estimate"].item() == r.rho
    assert "SDM" in r.summary() and "unit and time" in r.summary()
    with pytest.raises(AttributeError):
        r.rho = 0.0  # type: ignore[misc]


def test_libpysal_w_is_aligned_by_id() -> None:
    import libpysal

    ids = PANEL.units.tolist()
    perm = np.random.default_rng(0).permutation(len(ids))
    wp = W[np.ix_(perm, perm)]
    wobj = libpysal.weights.full2W(wp, ids=[ids[i] for i in perm])
    a = panel_model(PANEL, y="logc", x=X, w=wobj, model="sar")
    b = fit(model="sar")
    assert a.rho == pytest.approx(b.rho, abs=1e-10)


# ----------------------------------------------------------------------------- bad input
def test_bad_input_messages() -> None:
    with pytest.raises(SpecError, match="model must be"):
        fit(model="sac")
    with pytest.raises(SpecError, match="effects must be"):
        fit(effects="individual")
    with pytest.raises(DataError, match="46 units"):
        panel_model(PANEL, y="logc", x=X, w=W[:45, :45])
    with pytest.raises(DataError, match="not in the panel"):
        panel_model(PANEL, y="logc", x=["logp", "price"], w=W)
    frame = PANEL.to_frame()
    unbalanced = Panel(frame.iloc[1:], unit="state", time="year")
    with pytest.raises(DataError, match="balanced"):
        panel_model(unbalanced, y="logc", x=X, w=W)
    frame.loc[3, "logp"] = np.nan
    with pytest.raises(DataError, match="logp"):
        panel_model(Panel(frame, unit="state", time="year"), y="logc", x=X, w=W)
    island = W.copy()
    island[0, :] = 0
    with pytest.raises(DataError, match="islands"):
        panel_model(PANEL, y="logc", x=X, w=island)


# ----------------------------------------------------------------------------- recovery
def ring_knn(n: int, k: int = 4) -> np.ndarray:
    """Row-standardised k-nearest-neighbour weights on a ring (k/2 each side)."""
    w = np.zeros((n, n))
    for i in range(n):
        for s in range(1, k // 2 + 1):
            w[i, (i + s) % n] = w[i, (i - s) % n] = 1.0
    return w / w.sum(axis=1, keepdims=True)


def simulate_sdm(
    n: int, t: int, rho: float, beta: np.ndarray, theta: np.ndarray, seed: int, w: np.ndarray
) -> Panel:
    rng = np.random.default_rng(seed)
    k = beta.size
    x = rng.normal(size=(t, n, k))
    mu = rng.normal(size=n)
    alpha = rng.normal(size=t)
    sinv = np.linalg.inv(np.eye(n) - rho * w)
    y = np.empty((t, n))
    for s in range(t):
        xb = x[s] @ beta + (w @ x[s]) @ theta + mu + alpha[s] + rng.normal(scale=0.5, size=n)
        y[s] = sinv @ xb
    rows = {
        "unit": np.tile(np.arange(n), t),
        "time": np.repeat(np.arange(t), n),
        "y": y.ravel(),
    }
    for j in range(k):
        rows[f"x{j + 1}"] = x[:, :, j].ravel()
    return Panel(pd.DataFrame(rows), unit="unit", time="time")


def test_sdm_twoway_recovers_known_parameters() -> None:
    from agglomera.spatial.effects import lag_effects

    n, t = 150, 20
    w = ring_knn(n, 6)
    beta, theta, rho = np.array([1.0, -0.5]), np.array([0.5, 0.3]), 0.4
    p = simulate_sdm(n, t, rho, beta, theta, seed=11, w=w)
    r = panel_model(p, y="y", x=["x1", "x2"], w=w, model="sdm", effects="twoway")
    truth = np.r_[beta, theta]
    z = (r.params.to_numpy() - truth) / r.se.to_numpy()
    assert np.all(np.abs(z) < 4)
    assert abs(r.rho - rho) / r.rho_se < 4
    assert r.sigma2 == pytest.approx(0.25, rel=0.1)
    eff = r.effects(draws=500, seed=3)
    d, i, tot = lag_effects(w, rho, beta, theta)
    assert np.all(np.abs(eff["direct"] - d) < 4 * eff["direct_se"])
    assert np.all(np.abs(eff["indirect"] - i) < 4 * eff["indirect_se"])
    assert np.all(np.abs(eff["total"] - tot) < 4 * eff["total_se"])


def test_sem_and_sdem_recover_known_parameters() -> None:
    n, t = 150, 15
    w = ring_knn(n, 4)
    rng = np.random.default_rng(5)
    lam, beta, theta = 0.5, np.array([1.0, -1.0]), np.array([0.4, 0.0])
    x = rng.normal(size=(t, n, 2))
    uinv = np.linalg.inv(np.eye(n) - lam * w)
    mu = rng.normal(size=n)  # unit fixed effects
    y = np.stack(
        [x[s] @ beta + (w @ x[s]) @ theta + mu + uinv @ rng.normal(size=n) for s in range(t)]
    )
    frame = pd.DataFrame(
        {
            "unit": np.tile(np.arange(n), t),
            "time": np.repeat(np.arange(t), n),
            "y": y.ravel(),
            "x1": x[:, :, 0].ravel(),
            "x2": x[:, :, 1].ravel(),
        }
    )
    p = Panel(frame, unit="unit", time="time")
    r = panel_model(p, y="y", x=["x1", "x2"], w=w, model="sdem", effects="unit")
    assert abs(r.lam - lam) / r.lam_se < 4
    z = (r.params.to_numpy() - np.r_[beta, theta]) / r.se.to_numpy()
    assert np.all(np.abs(z) < 4)
    e = r.effects()
    assert e.loc["x1", "indirect"] == r.params["W.x1"]
    s = panel_model(p, y="y", x=["x1", "x2"], w=w, model="sem", effects="unit")
    assert abs(s.params["x1"] - 1.0) / s.se["x1"] < 4


@pytest.mark.slow
def test_sdm_lee_yu_interval_coverage() -> None:
    # 95% Wald intervals for rho and theta from the analytical information matrix, after
    # the Lee-Yu correction, cover the truth at the nominal rate in a short two-way panel
    # (N = 60, T = 10). Monte Carlo SE of the rate with 400 draws ≈ 0.011, so the band
    # is 0.95 ± 2.5 SE. (Without the correction rho's coverage is ≈ 0.86 here.)
    n, t = 60, 10
    w = ring_knn(n, 4)
    beta, theta, rho = np.array([1.0, 0.5]), np.array([0.3, -0.2]), 0.3
    hits = np.zeros(2)
    reps = 400
    for s in range(reps):
        p = simulate_sdm(n, t, rho, beta, theta, seed=100 + s, w=w)
        r = panel_model(p, y="y", x=["x1", "x2"], w=w, model="sdm", effects="twoway", lee_yu=True)
        hits += [
            abs(r.rho - rho) <= 1.96 * r.rho_se,
            abs(r.params["W.x1"] - theta[0]) <= 1.96 * r.se["W.x1"],
        ]
    assert np.all((hits / reps >= 0.92) & (hits / reps <= 0.98))


@pytest.mark.filterwarnings("ignore")
def test_sdm_unit_fe_on_produc_matches_spreg_with_wx_regressors() -> None:
    # Munnell's Produc data with splm's usaww: the unit-FE SDM is spreg's Panel_FE_Lag
    # with [X, WX] as regressors (spreg has no SDM of its own)
    spreg = pytest.importorskip("spreg")
    libpysal = pytest.importorskip("libpysal")
    d = pd.read_csv(REF / "Produc.csv")
    for v in ("gsp", "pcap", "pc", "emp"):
        d[f"log_{v}"] = np.log(d[v])
    xs = ["log_pcap", "log_pc", "log_emp", "unemp"]
    w = pd.read_csv(REF / "usaww.csv").to_numpy(dtype=float)
    d["unit"] = pd.Categorical(d["state"], categories=list(dict.fromkeys(d["state"]))).codes
    p = Panel(d[["unit", "year", "log_gsp", *xs]], unit="unit", time="year")
    r = panel_model(p, y="log_gsp", x=xs, w=w, model="sdm", effects="unit")
    f = p.to_frame().sort_values(["year", "unit"])
    t, n = 17, 48
    x = f[xs].to_numpy().reshape(t, n, 4)
    xx = np.column_stack([x.reshape(-1, 4), np.einsum("ij,tjk->tik", w, x).reshape(-1, 4)])
    m = spreg.Panel_FE_Lag(f[["log_gsp"]].to_numpy(), xx, libpysal.weights.full2W(w))
    np.testing.assert_allclose(np.r_[r.params.to_numpy(), r.rho], m.betas.ravel(), rtol=1e-6)
    np.testing.assert_allclose(
        np.r_[r.se.to_numpy(), r.rho_se], np.sqrt(np.diag(m.vm))[:9], rtol=1e-6
    )
