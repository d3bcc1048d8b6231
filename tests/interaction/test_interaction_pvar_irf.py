"""Panel VAR impulse responses, variance decompositions and bands.

Oracle: statsmodels ``VAR`` on a single long series (its ``coefs`` and ``sigma_u`` fed to
our functions must give ``irf().orth_irfs``, ``irf().irfs`` and ``fevd().decomp``), the
Pesaran–Shin identity GIRF_j = OIRF with j ordered first, the unit bootstrap re-estimated
by an explicit loop over resampled panels, and band coverage on simulated panel VARs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.api import VAR

from agglomera import Panel
from agglomera.interaction._pvar_irf import fevd_from_coef, irf_from_coef
from agglomera.interaction.panel_var import bootstrap_weights, panel_var

A1 = np.array([[0.5, 0.1, 0.0], [0.2, 0.4, 0.1], [0.0, 0.3, 0.3]])
A2 = np.array([[0.1, 0.0, 0.0], [0.0, 0.1, 0.05], [0.05, 0.0, 0.1]])
NAMES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def sm_var():
    rng = np.random.default_rng(1)
    chol = np.array([[1.0, 0.0, 0.0], [0.3, 0.5, 0.0], [-0.2, 0.4, 0.8]])
    y = np.zeros((600, 3))
    for t in range(2, 600):
        y[t] = A1 @ y[t - 1] + A2 @ y[t - 2] + chol @ rng.standard_normal(3)
    return y, VAR(y).fit(2)


def _coef(res) -> np.ndarray:
    return np.concatenate(list(res.coefs), axis=1)  # columns L1.*, L2.*


def test_irf_and_fevd_equal_statsmodels(sm_var) -> None:
    _, res = sm_var
    coef, sigma = _coef(res), res.sigma_u
    irf = res.irf(12)
    np.testing.assert_allclose(
        irf_from_coef(coef, sigma, lags=2, steps=12), irf.orth_irfs, rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(
        irf_from_coef(coef, None, lags=2, steps=12, kind="simple"), irf.irfs, rtol=0, atol=1e-10
    )
    dec = res.fevd(12).decomp  # [response, horizon, impulse]
    np.testing.assert_allclose(
        fevd_from_coef(coef, sigma, lags=2, horizons=12),
        dec.transpose(1, 0, 2),
        rtol=0,
        atol=1e-10,
    )


def _result_with(coef: np.ndarray, sigma: np.ndarray, names: list[str]):
    """A PanelVARResult carrying given VAR(2) matrices (one unit, no transformation)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": np.repeat([1, 2], 12),
            "t": np.tile(np.arange(12), 2),
            **{v: rng.normal(size=24) for v in names},
        }
    )
    base = panel_var(Panel(frame, unit="id", time="t"), names, lags=2, steps=1)
    cols = [f"L{lag}.{v}" for lag in (1, 2) for v in names]
    return dataclasses.replace(
        base,
        coef=pd.DataFrame(coef, index=names, columns=cols),
        sigma=pd.DataFrame(sigma, index=names, columns=names),
    )


def test_result_irf_frame_and_ordering_equal_statsmodels(sm_var) -> None:
    y, res = sm_var
    result = _result_with(_coef(res), res.sigma_u, NAMES)
    frame = result.irf(12, bands=None)
    assert frame.attrs["ordering"] == NAMES
    orth = res.irf(12).orth_irfs
    for (imp, resp), g in frame.groupby(["impulse", "response"]):
        i, j = NAMES.index(resp), NAMES.index(imp)
        np.testing.assert_allclose(g["irf"], orth[:, i, j], atol=1e-10)
    # ordering (c, a, b) = statsmodels on the reordered series
    order = ["c", "a", "b"]
    perm = [NAMES.index(v) for v in order]
    res_p = VAR(y[:, perm]).fit(2)
    orth_p = res_p.irf(12).orth_irfs
    frame_p = result.irf(12, ordering=order, bands=None)
    assert frame_p.attrs["ordering"] == order
    for (imp, resp), g in frame_p.groupby(["impulse", "response"]):
        i, j = order.index(resp), order.index(imp)
        np.testing.assert_allclose(g["irf"], orth_p[:, i, j], atol=1e-10)
    fevd = result.fevd(12)
    dec = res.fevd(12).decomp
    for (resp, imp), g in fevd.groupby(["response", "impulse"]):
        np.testing.assert_allclose(g["share"], dec[NAMES.index(resp), :, NAMES.index(imp)])
    sums = fevd.groupby(["response", "horizon"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)


def test_generalized_equals_orthogonal_with_impulse_first(sm_var) -> None:
    _, res = sm_var
    coef, sigma = _coef(res), res.sigma_u
    girf = irf_from_coef(coef, sigma, lags=2, steps=8, kind="generalized")
    for j in range(3):
        order = [j] + [k for k in range(3) if k != j]
        oirf = irf_from_coef(coef, sigma, lags=2, steps=8, ordering=order)
        np.testing.assert_allclose(girf[:, :, j], oirf[:, :, j], atol=1e-12)


def _sim_panel(n: int, t: int, seed: int, a: np.ndarray, chol: np.ndarray) -> Panel:
    rng = np.random.default_rng(seed)
    m = a.shape[0]
    mu = rng.normal(size=(n, m))
    y = np.zeros((n, t + 50, m))
    for s in range(1, t + 50):
        y[:, s] = mu + y[:, s - 1] @ a.T + rng.standard_normal((n, m)) @ chol.T
    y = y[:, 50:]
    frame = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), t),
            "t": np.tile(np.arange(t), n),
            **{f"y{k}": y[:, :, k].ravel() for k in range(m)},
        }
    )
    return Panel(frame, unit="id", time="t")


A_SIM = np.array([[0.5, 0.2], [0.1, 0.4]])
CHOL_SIM = np.array([[1.0, 0.0], [0.5, 0.8]])
KW = {"collapse": True, "instrument_lags": (2, 4)}


def _bay_latent() -> Panel:
    from agglomera.datasets.zhejiang_bay import zhejiang_bay

    frame = zhejiang_bay(seed=0, end=2040).panel.to_frame()
    frame = frame[["adcode", "year", "industry_latent", "talent_latent"]]
    frame.columns = ["id", "t", "y0", "y1"]
    return Panel(frame, unit="id", time="t")


@pytest.mark.parametrize("data", ["simulated", "bay"])
def test_bootstrap_draws_equal_loop_over_resampled_panels(data: str) -> None:
    # "bay": 8 cities and 8 moment conditions, so resampled samples with repeated cities
    # have a singular second-step weighting matrix (Moore-Penrose branch, as panelvar)
    panel = _sim_panel(30, 8, 3, A_SIM, CHOL_SIM) if data == "simulated" else _bay_latent()
    kw = KW if data == "simulated" else {"collapse": True, "instrument_lags": (2, 3)}
    units = list(panel.units)
    for steps in (1, 2):
        res = panel_var(panel, ["y0", "y1"], steps=steps, **kw)
        coef_b, sigma_b = res._draws("bootstrap", 3, seed=7)
        weights = bootstrap_weights(len(units), 3, 7)
        frame = panel.to_frame()
        for r in range(3):
            parts = []
            for pos, count in enumerate(weights[r]):
                for c in range(count):
                    part = frame[frame["id"] == units[pos]].copy()
                    part["id"] = f"{units[pos]}-{c}"
                    parts.append(part)
            loop = panel_var(
                Panel(pd.concat(parts), unit="id", time="t"), ["y0", "y1"], steps=steps, **kw
            )
            np.testing.assert_allclose(coef_b[r], loop.coef.to_numpy(), rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(sigma_b[r], loop.sigma.to_numpy(), rtol=1e-8)


def test_bands_are_seeded_and_monte_carlo_matches_delta_method() -> None:
    panel = _sim_panel(60, 10, 4, A_SIM, CHOL_SIM)
    res = panel_var(panel, ["y0", "y1"], **KW)
    a = res.irf(4, bands="bootstrap", draws=50, seed=1)
    b = res.irf(4, bands="bootstrap", draws=50, seed=1)
    c = res.irf(4, bands="bootstrap", draws=50, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["lower"], c["lower"])
    assert (a["lower"] <= a["irf"] + 1e-12).mean() > 0.9
    # step 1 orthogonal response A B is linear in A (Σ fixed): the Monte Carlo band is
    # the normal interval with the exact variance b_j' V_i b_j
    mc = res.irf(1, bands="montecarlo", draws=20000, seed=0, level=0.9)
    sig = res.sigma.to_numpy()
    bmat = np.linalg.cholesky(sig)
    v = res.vcov.to_numpy()
    for i, resp in enumerate(res.variables):
        idx = [k * 2 + i for k in range(2)]  # equation i's coefficients (regressor-major)
        vi = v[np.ix_(idx, idx)]
        for j, imp in enumerate(res.variables):
            sd = float(np.sqrt(bmat[:, j] @ vi @ bmat[:, j]))
            row = mc[(mc["impulse"] == imp) & (mc["response"] == resp) & (mc["step"] == 1)]
            centre = float(row["irf"].iloc[0])
            half = 1.6448536269514722 * sd
            assert float(row["lower"].iloc[0]) == pytest.approx(centre - half, abs=0.03 * half)
            assert float(row["upper"].iloc[0]) == pytest.approx(centre + half, abs=0.03 * half)


@pytest.mark.slow
def test_band_coverage_on_simulated_panel_var() -> None:
    true = np.stack([np.linalg.matrix_power(A_SIM, h) @ CHOL_SIM for h in range(4)])
    hits = {"bootstrap": [], "montecarlo": []}
    for rep in range(60):
        res = panel_var(_sim_panel(150, 10, 100 + rep, A_SIM, CHOL_SIM), ["y0", "y1"], **KW)
        for bands, draws in (("bootstrap", 199), ("montecarlo", 499)):
            f = res.irf(3, bands=bands, draws=draws, seed=rep, level=0.9)
            f = f[f["step"] >= 1]
            resp = [int(r[1]) for r in f["response"]]
            t = true[f["step"], resp, [int(i[1]) for i in f["impulse"]]]
            hits[bands].append(((f["lower"] <= t) & (t <= f["upper"])).to_numpy())
    for bands, h in hits.items():
        coverage = float(np.mean(h))
        # nominal 0.90; 60 replications x 12 correlated responses (binomial sd over
        # replications about 0.04; GMM small-sample bias lowers coverage somewhat)
        assert 0.78 <= coverage <= 0.99, (bands, coverage)


def test_irf_figure_draws_the_frame(tmp_path) -> None:
    from agglomera.interaction.figures import irf_figure

    res = panel_var(_sim_panel(40, 8, 5, A_SIM, CHOL_SIM), ["y0", "y1"], **KW)
    frame = res.irf(5, bands="montecarlo", draws=100)
    fig = irf_figure(frame, path=tmp_path / "irf.png")
    assert (tmp_path / "irf.png").exists()
    assert len(fig.axes) == 4
    ax = fig.axes[2]  # response y1, impulse y0
    g = frame[(frame["impulse"] == "y0") & (frame["response"] == "y1")]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), g["irf"])
    assert "ordering y0 → y1" in fig._suptitle.get_text()
