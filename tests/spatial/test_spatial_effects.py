"""LeSage–Pace effects: closed form against the reference, eigen path against direct solves.

Closed-form effects are compared with tests/reference/spatial_panel/reference.csv (printed
with 6 decimals: absolute tolerance 6e-7). Simulated standard errors can only be compared
approximately with SDPDmod's (≈ 0.040 and ≈ 0.094 for logp): they are standard deviations
over a different set of 1,000 random draws (Monte Carlo error of an SD estimated from
1,000 draws ≈ 1/√2000 ≈ 2.2 %), drawn around slightly different estimates (see
test_spatial_panel_models.py on SDPDmod's ρ); the tolerance is 10 %.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from agglomera.errors import SpecError
from agglomera.spatial.effects import _EigenWeights, lag_effects
from agglomera.spatial.panel_models import panel_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_spatial_panel_models import PANEL, PRINTED, W, X, ref, ring_knn


def test_closed_form_effects_match_reference() -> None:
    beta = np.array([ref("sdm_twoway_ly", v) for v in X])
    theta = np.array([ref("sdm_twoway_ly", f"W.{v}") for v in X])
    d, i, t = lag_effects(W, ref("sdm_twoway_ly", "rho"), beta, theta)
    for j, v in enumerate(X):
        assert d[j] == pytest.approx(ref("sdm_twoway_ly_effects", f"{v}_direct"), abs=PRINTED)
        assert i[j] == pytest.approx(ref("sdm_twoway_ly_effects", f"{v}_indirect"), abs=PRINTED)
        assert t[j] == pytest.approx(ref("sdm_twoway_ly_effects", f"{v}_total"), abs=PRINTED)
    # row-standardised W: total = (β + θ)/(1 − ρ)
    np.testing.assert_allclose(t, (beta + theta) / (1 - ref("sdm_twoway_ly", "rho")), rtol=1e-12)


def test_direct_effect_includes_theta_feedback() -> None:
    # the SDM direct effect is β·tr(S⁻¹)/N + θ·tr(S⁻¹W)/N; the θ part is not zero
    rho = 0.4
    n = W.shape[0]
    sinv = np.linalg.inv(np.eye(n) - rho * W)
    d_theta, _, _ = lag_effects(W, rho, np.array([0.0]), np.array([1.0]))
    assert d_theta[0] == pytest.approx(np.trace(sinv @ W) / n, rel=1e-12)
    assert d_theta[0] > 0.01


def test_result_effects_point_and_simulated_se() -> None:
    r = panel_model(PANEL, y="logc", x=X, w=W, model="sdm", effects="twoway", lee_yu=True)
    e = r.effects(draws=1000, seed=1)
    d, i, t = lag_effects(
        W, r.rho, r.params[X].to_numpy(), r.params[["W.logp", "W.logy"]].to_numpy()
    )
    np.testing.assert_allclose(e["direct"], d, rtol=1e-12)
    np.testing.assert_allclose(e["indirect"], i, rtol=1e-12)
    np.testing.assert_allclose(e["total"], t, rtol=1e-12)
    assert e.loc["logp", "direct_se"] == pytest.approx(
        ref("sdm_twoway_ly_effects", "logp_direct_se_sim"), rel=0.10
    )
    assert e.loc["logp", "indirect_se"] == pytest.approx(
        ref("sdm_twoway_ly_effects", "logp_indirect_se_sim"), rel=0.10
    )
    # means of draws are close to, but not the same as, the point estimates
    assert e.loc["logp", "direct_mean"] != e.loc["logp", "direct"]
    assert (
        abs(e.loc["logp", "direct_mean"] - e.loc["logp", "direct"])
        < 0.2 * e.loc["logp", "direct_se"]
    )
    assert e.attrs["method"] == "eigenvalues of W"
    # same seed, same numbers; other seed, other SEs
    pd_eq = e.equals(r.effects(draws=1000, seed=1))
    assert pd_eq
    assert not e.equals(r.effects(draws=1000, seed=2))


def test_simulated_se_agree_with_delta_method() -> None:
    # delta method for the total effect (β+θ)/(1−ρ) with the same covariance: the draws'
    # SD must agree within Monte Carlo error (20,000 draws: ≈ 0.5 %).
    r = panel_model(PANEL, y="logc", x=X, w=W, model="sdm", effects="twoway")
    e = r.effects(draws=20000, seed=0)
    cov = r.cov.to_numpy()
    for j, v in enumerate(X):
        b, th, rho = r.params[v], r.params[f"W.{v}"], r.rho
        grad = np.zeros(5)
        grad[j] = grad[2 + j] = 1 / (1 - rho)
        grad[4] = (b + th) / (1 - rho) ** 2
        assert e.loc[v, "total_se"] == pytest.approx(np.sqrt(grad @ cov @ grad), rel=0.03)


@pytest.mark.parametrize("row_standardised", [True, False])
def test_eigen_path_handles_complex_eigenvalues(row_standardised: bool) -> None:
    # asymmetric k-nearest-neighbour weights have complex eigenvalues and ill-conditioned
    # eigenvectors; the traces use eigenvalues only, the sums the Schur form
    rng = np.random.default_rng(0)
    pts = rng.uniform(size=(80, 2))
    dist = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    w = np.zeros((80, 80))
    nearest = np.argsort(dist, axis=1)[:, :5]
    w[np.repeat(np.arange(80), 5), nearest.ravel()] = 1 / 5 if row_standardised else 1.0
    if not row_standardised:
        w[0, :] *= 0.5  # unequal row sums
        w = w / np.abs(np.linalg.eigvals(w)).max()
    vals = np.linalg.eigvals(w)
    eg = _EigenWeights(w, vals)
    assert np.abs(vals.imag).max() > 1e-3
    assert eg.row_standardised is row_standardised
    rhos = np.array([-0.5, 0.0, 0.3, 0.8])
    d_i, d_w, t_i, t_w = eg.scalars(rhos)
    for r, a, b, c, dd in zip(rhos, d_i, d_w, t_i, t_w, strict=True):
        sinv = np.linalg.inv(np.eye(80) - r * w)
        np.testing.assert_allclose(
            [a, b, c, dd],
            [np.trace(sinv) / 80, np.trace(sinv @ w) / 80, sinv.sum() / 80, (sinv @ w).sum() / 80],
            rtol=1e-9,
            atol=1e-11,  # tr(W) = 0 at rho = 0: compare with an absolute floor
        )


def test_effects_on_knn_weights_use_fast_path() -> None:
    from test_spatial_panel_models import simulate_sdm

    rng = np.random.default_rng(1)
    pts = rng.uniform(size=(120, 2))
    dist = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    w = np.zeros((120, 120))
    w[np.repeat(np.arange(120), 4), np.argsort(dist, axis=1)[:, :4].ravel()] = 0.25
    p = simulate_sdm(120, 8, 0.3, np.array([1.0]), np.array([0.5]), seed=4, w=w)
    r = panel_model(p, y="y", x=["x1"], w=w, model="sdm", effects="twoway")
    e = r.effects(draws=200, seed=0)
    assert e.attrs["method"] == "eigenvalues of W"
    d, i, t = lag_effects(w, r.rho, r.params[["x1"]].to_numpy(), r.params[["W.x1"]].to_numpy())
    np.testing.assert_allclose(e[["direct", "indirect", "total"]].to_numpy()[0], [d[0], i[0], t[0]])


def test_sar_and_error_model_effects() -> None:
    sar = panel_model(PANEL, y="logc", x=X, w=W, model="sar")
    e = sar.effects(draws=0)
    assert np.isnan(e["direct_se"]).all()
    np.testing.assert_allclose(e["total"], sar.params[X] / (1 - sar.rho), rtol=1e-12)
    sem = panel_model(PANEL, y="logc", x=X, w=W, model="sem")
    es = sem.effects()
    np.testing.assert_allclose(es["direct"], sem.params[X], rtol=0)
    assert (es["indirect"] == 0).all()
    np.testing.assert_allclose(es["direct_se"], sem.se[X], rtol=1e-12)
    sdem = panel_model(PANEL, y="logc", x=X, w=W, model="sdem", effects="twoway")
    ed = sdem.effects()
    cov = sdem.cov
    v = "logp"
    var = cov.loc[v, v] + cov.loc[f"W.{v}", f"W.{v}"] + 2 * cov.loc[v, f"W.{v}"]
    assert ed.loc[v, "total_se"] == pytest.approx(np.sqrt(var), rel=1e-12)
    with pytest.raises(SpecError, match="draws"):
        sar.effects(draws=1)


def test_ring_weights_effects_closed_form() -> None:
    # symmetric ring: every unit is alike, so mean diag = each diagonal element
    w = ring_knn(30, 2)
    d, _i, t = lag_effects(w, 0.5, np.array([1.0]), np.array([0.0]))
    sinv = np.linalg.inv(np.eye(30) - 0.5 * w)
    assert d[0] == pytest.approx(sinv[0, 0], rel=1e-12)
    assert t[0] == pytest.approx(2.0, rel=1e-12)
