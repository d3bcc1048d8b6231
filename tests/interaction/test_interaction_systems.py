"""Simultaneous equations (2SLS/3SLS) against R systemfit, spreg and simulated truth.

Reference numbers: tests/reference/interaction_systems/ (reference.csv from
make_reference.R with systemfit 1.1-28; see PROVENANCE.md). 2SLS and 3SLS are closed
forms, so every number is asserted to 1e-6 relative (they agree to ~1e-11).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.errors import DataError, EstimationError, SpecError
from agglomera.interaction.simultaneous import simultaneous

REF = Path(__file__).resolve().parents[1] / "reference" / "interaction_systems"
RTOL = 1e-6
EQS = {"demand": "consump ~ price + income", "supply": "consump ~ price + farmPrice + trend"}
INST = "~ income + farmPrice + trend"
CONVENTION = {"geomean": "dof", "noDfCor": "nodof"}


@pytest.fixture(scope="module")
def kmenta() -> pd.DataFrame:
    return pd.read_csv(REF / "Kmenta.csv")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REF / "reference.csv", keep_default_na=False)


def test_kmenta_published_numbers(kmenta: pd.DataFrame) -> None:
    """Every Kmenta number of the validation README (systemfit, printed to 6 decimals)."""
    geo = simultaneous(EQS, data=kmenta, method="3sls", resid_cov="dof", instruments=INST)
    coef = {
        ("demand", "const"): (94.633304, 7.920838),
        ("demand", "price"): (-0.243557, 0.096484),
        ("demand", "income"): (0.313992, 0.046944),
        ("supply", "const"): (52.197204, 11.893372),
        ("supply", "price"): (0.228589, 0.099673),
        ("supply", "farmPrice"): (0.228158, 0.043994),
        ("supply", "trend"): (0.361138, 0.072889),
    }
    for key, (b, se) in coef.items():
        # the README prints 6 decimals: compare at half a unit of the last digit
        assert geo.params[key] == pytest.approx(b, abs=5e-7)
        assert geo.se[key] == pytest.approx(se, abs=5e-7)
    nodof = simultaneous(EQS, data=kmenta, method="3sls", resid_cov="nodof", instruments=INST)
    supply_nodof = [52.117641, 0.228932, 0.228978, 0.357907]
    assert nodof.params["supply"].to_numpy() == pytest.approx(supply_nodof, abs=5e-7)
    tsls = simultaneous(EQS, data=kmenta, method="2sls", instruments=INST)
    supply_2sls = [49.532442, 0.240076, 0.255606, 0.252924]
    assert tsls.params["supply"].to_numpy() == pytest.approx(supply_2sls, abs=5e-7)


@pytest.mark.parametrize("method", ["3sls", "2sls"])
@pytest.mark.parametrize("rcov", ["geomean", "noDfCor"])
def test_kmenta_against_systemfit(
    kmenta: pd.DataFrame, reference: pd.DataFrame, method: str, rcov: str
) -> None:
    res = simultaneous(
        EQS,
        data=kmenta,
        method=method,  # type: ignore[arg-type]
        resid_cov=CONVENTION[rcov],  # type: ignore[arg-type]
        instruments=["income", "farmPrice", "trend"],
    )
    ref = reference[(reference["method"] == method) & (reference["resid_cov"] == rcov)]
    coef = ref[ref["quantity"] == "coef"]
    keys = list(zip(coef["equation"], coef["variable"], strict=True))
    assert len(keys) == len(res.params)
    np.testing.assert_allclose(res.params.loc[keys], coef["estimate"].astype(float), rtol=RTOL)
    np.testing.assert_allclose(res.se.loc[keys], coef["se"].astype(float), rtol=RTOL)
    np.testing.assert_allclose(res.pvalues.loc[keys], coef["pvalue"].astype(float), rtol=RTOL)
    rc = ref[ref["quantity"] == "resid_cov"]
    ours = [res.resid_cov.loc[g, h] for g, h in zip(rc["equation"], rc["variable"], strict=True)]
    np.testing.assert_allclose(ours, rc["estimate"].astype(float), rtol=RTOL)


def test_nodof_equals_linearmodels_iv3sls(kmenta: pd.DataFrame) -> None:
    """linearmodels' IV3SLS default is the no-correction convention (peer oracle)."""
    from linearmodels.system import IV3SLS

    lm = IV3SLS.from_formula(
        {
            "demand": "consump ~ 1 + income + [price ~ farmPrice + trend]",
            "supply": "consump ~ 1 + farmPrice + trend + [price ~ income]",
        },
        data=kmenta,
    ).fit(cov_type="unadjusted")
    res = simultaneous(EQS, data=kmenta, resid_cov="nodof", instruments=INST)
    rename = {"Intercept": "const"}
    for name, value in lm.params.items():
        eq, var = str(name).split("_", 1)
        key = (eq, rename.get(var, var))
        assert res.params[key] == pytest.approx(value, rel=RTOL)
        assert res.se[key] == pytest.approx(lm.std_errors[name], rel=RTOL)


def test_result_layout(kmenta: pd.DataFrame) -> None:
    res = simultaneous(EQS, data=kmenta, instruments=INST)
    assert res.endog == {"demand": ["price"], "supply": ["price"]}
    assert res.instruments == ["const", "income", "farmPrice", "trend"]
    tidy = res.to_frame()
    assert list(tidy.columns) == ["equation", "variable", "estimate", "se", "t", "pvalue"]
    assert tidy["estimate"].tolist() == res.params.tolist()
    assert "Equation supply" in res.summary()
    # residuals reproduce the data: y - X b
    b = res.params["demand"]
    fitted = b["const"] + b["price"] * kmenta["price"] + b["income"] * kmenta["income"]
    np.testing.assert_allclose(res.resid["demand"], kmenta["consump"] - fitted, rtol=1e-10)


# ---------------------------------------------------------------------- spatial
@pytest.fixture(scope="module")
def columbus() -> tuple[pd.DataFrame, object]:
    libpysal = pytest.importorskip("libpysal")
    from libpysal.examples import get_path

    db = libpysal.io.open(get_path("columbus.dbf"))
    cols = ["POLYID", "CRIME", "INC", "HOVAL", "DISCBD"]
    frame = pd.DataFrame({c: db.by_col(c) for c in cols}).set_index("POLYID")
    w = libpysal.weights.Queen.from_shapefile(get_path("columbus.shp"), idVariable="POLYID")
    w.transform = "r"
    return frame, w


@pytest.mark.filterwarnings("ignore")
def test_spatial_lag_equals_spreg_gm_lag(columbus: tuple[pd.DataFrame, object]) -> None:
    """Single equation: spatial 2SLS with instruments X, WX, W²X (spreg.GM_Lag, w_lags=2)."""
    spreg = pytest.importorskip("spreg")
    frame, w = columbus
    res = simultaneous(
        {"crime": "CRIME ~ INC + HOVAL"},
        data=frame,
        method="2sls",
        resid_cov="nodof",
        instruments=["INC", "HOVAL"],
        w=w,
        spatial="lag",
    )
    y = frame[["CRIME"]].to_numpy()
    gm = spreg.GM_Lag(y, frame[["INC", "HOVAL"]].to_numpy(), w=w, w_lags=2)
    # spreg order: const, INC, HOVAL, W_CRIME
    np.testing.assert_allclose(res.params.to_numpy(), gm.betas.ravel(), rtol=RTOL)
    np.testing.assert_allclose(res.se.to_numpy(), np.sqrt(np.diag(gm.vm)), rtol=RTOL)
    # the same with an endogenous regressor (HOVAL, instrumented by DISCBD): spreg gets
    # [HOVAL, W·HOVAL] as endogenous and lags X and q up to W² as we do
    res2 = simultaneous(
        {"crime": "CRIME ~ INC + HOVAL"},
        data=frame,
        method="2sls",
        resid_cov="nodof",
        instruments=["INC", "DISCBD"],
        w=w,
        spatial="lag",
    )
    assert res2.endog["crime"] == ["HOVAL", "W_CRIME", "W_HOVAL"]
    wmat = w.full()[0]  # type: ignore[attr-defined]
    hoval = frame["HOVAL"].to_numpy()
    gm2 = spreg.GM_Lag(
        y,
        frame[["INC"]].to_numpy(),
        yend=np.column_stack([hoval, wmat @ hoval]),
        q=frame[["DISCBD"]].to_numpy(),
        w=w,
        w_lags=2,
    )
    # spreg order: const, INC, HOVAL, W·HOVAL, W_CRIME
    ours = res2.params["crime"][["const", "INC", "HOVAL", "W_HOVAL", "W_CRIME"]]
    ours_se = res2.se["crime"][["const", "INC", "HOVAL", "W_HOVAL", "W_CRIME"]]
    np.testing.assert_allclose(ours.to_numpy(), gm2.betas.ravel(), rtol=RTOL)
    np.testing.assert_allclose(ours_se.to_numpy(), np.sqrt(np.diag(gm2.vm)), rtol=RTOL)
    # an array in the row order of the data gives the same numbers as the W object
    res3 = simultaneous(
        {"crime": "CRIME ~ INC + HOVAL"},
        data=frame,
        method="2sls",
        resid_cov="nodof",
        instruments=["INC", "HOVAL"],
        w=wmat,
        spatial="lag",
    )
    np.testing.assert_allclose(res3.params.to_numpy(), res.params.to_numpy(), rtol=1e-12)
    # a shuffled data frame is realigned to the W ids
    shuffled = frame.sample(frac=1.0, random_state=3)
    res4 = simultaneous(
        {"crime": "CRIME ~ INC + HOVAL"},
        data=shuffled,
        method="2sls",
        resid_cov="nodof",
        instruments=["INC", "HOVAL"],
        w=w,
        spatial="lag",
    )
    np.testing.assert_allclose(res4.params.to_numpy(), res.params.to_numpy(), rtol=1e-10)


def _knn_weights(coords: np.ndarray, k: int) -> np.ndarray:
    dist = np.linalg.norm(coords[:, None, :] - coords[None, :, :], axis=2)
    np.fill_diagonal(dist, np.inf)
    w = np.zeros_like(dist)
    nearest = np.argsort(dist, axis=1)[:, :k]
    np.put_along_axis(w, nearest, 1.0, axis=1)
    return w / w.sum(axis=1, keepdims=True)


def _simulate_spatial_system(seed: int) -> tuple[Panel, np.ndarray, dict[tuple[str, str], float]]:
    """Two spatially interrelated equations on a panel stacked by period (known truth)."""
    rng = np.random.default_rng(seed)
    n, periods = 150, 8
    w = _knn_weights(rng.uniform(size=(n, 2)), k=5)
    eye = np.eye(n)
    truth = {
        ("industry", "const"): 1.0,
        ("industry", "talent"): 0.4,
        ("industry", "x1"): 1.0,
        ("industry", "W_industry"): 0.3,
        ("industry", "W_talent"): 0.2,
        ("talent", "const"): -0.5,
        ("talent", "industry"): 0.3,
        ("talent", "x2"): -1.0,
        ("talent", "W_talent"): 0.25,
        ("talent", "W_industry"): -0.2,
    }
    t = truth
    big = np.block(
        [
            [
                eye - t[("industry", "W_industry")] * w,
                -(t[("industry", "talent")] * eye + t[("industry", "W_talent")] * w),
            ],
            [
                -(t[("talent", "industry")] * eye + t[("talent", "W_industry")] * w),
                eye - t[("talent", "W_talent")] * w,
            ],
        ]
    )
    rows = []
    cov = np.array([[1.0, 0.5], [0.5, 1.0]]) * 0.25
    for year in range(periods):
        x1, x2 = rng.normal(size=n), rng.normal(size=n)
        u = rng.multivariate_normal([0, 0], cov, size=n)
        rhs = np.r_[
            t[("industry", "const")] + t[("industry", "x1")] * x1 + u[:, 0],
            t[("talent", "const")] + t[("talent", "x2")] * x2 + u[:, 1],
        ]
        sol = np.linalg.solve(big, rhs)
        rows.append(
            pd.DataFrame(
                {
                    "city": np.arange(n),
                    "year": 2000 + year,
                    "industry": sol[:n],
                    "talent": sol[n:],
                    "x1": x1,
                    "x2": x2,
                }
            )
        )
    panel = Panel(pd.concat(rows), unit="city", time="year")
    return panel, w, truth


def test_spatial_3sls_recovers_known_parameters() -> None:
    panel, w, truth = _simulate_spatial_system(seed=11)
    res = simultaneous(
        {"industry": "industry ~ talent + x1", "talent": "talent ~ industry + x2"},
        data=panel,
        instruments=["x1", "x2"],
        w=w,
        spatial="lag",
    )
    assert res.endog["industry"] == ["talent", "W_industry", "W_talent"]
    assert res.n_obs == 150 * 8
    est = res.params.loc[list(truth)]
    se = res.se.loc[list(truth)]
    z = (est - pd.Series(truth)) / se
    assert np.all(np.abs(z) < 4), z
    # the system is estimated precisely enough for the check to have power
    assert float(se.max()) < 0.1
    # 3SLS uses the cross-equation correlation (0.5): smaller SEs than 2SLS overall
    tsls = simultaneous(
        {"industry": "industry ~ talent + x1", "talent": "talent ~ industry + x2"},
        data=panel,
        method="2sls",
        instruments=["x1", "x2"],
        w=w,
        spatial="lag",
    )
    assert float(res.se.sum()) < float(tsls.se.sum())


# ---------------------------------------------------------------------- errors
def test_errors(kmenta: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match="instruments` is required"):
        simultaneous(EQS, data=kmenta)
    with pytest.raises(DataError, match="did you mean 'price'"):
        simultaneous({"d": "consump ~ prise"}, data=kmenta, instruments=INST)
    with pytest.raises(SpecError, match="not a column name"):
        simultaneous({"d": "consump ~ log(price)"}, data=kmenta, instruments=INST)
    with pytest.raises(SpecError, match="resid_cov"):
        simultaneous(EQS, data=kmenta, instruments=INST, resid_cov="geomean")  # type: ignore[arg-type]
    with pytest.raises(EstimationError, match="under-identified"):
        simultaneous(
            {"d": "consump ~ price + income + farmPrice"},
            data=kmenta,
            instruments="~ income + farmPrice",
        )
    gappy = kmenta.copy()
    gappy.loc[3, "income"] = np.nan
    with pytest.raises(DataError, match="'income' has 1 missing"):
        simultaneous(EQS, data=gappy, instruments=INST)
    with pytest.raises(SpecError, match="needs `w`"):
        simultaneous(EQS, data=kmenta, instruments=INST, spatial="lag")
    with pytest.raises(DataError, match="shape"):
        simultaneous(EQS, data=kmenta, instruments=INST, spatial="lag", w=np.eye(3))
