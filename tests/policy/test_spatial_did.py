"""Spatial DID: R reference (exposure + TWFE), recovery on the innovative-city data, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, datasets
from agglomera.errors import DataError, SpecError
from agglomera.policy.design import design
from agglomera.policy.spatial_did import exposure_table, spatial_did
from agglomera.spatial.centre import great_circle_km

REF = Path(__file__).resolve().parents[1] / "reference" / "policy_spatial_did"
SPILL = 0.04


def _quiet_design(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return design(panel, **kw)


@pytest.fixture(scope="module")
def ref_design():
    frame = pd.read_csv(REF / "panel.csv", dtype={"adcode": str})
    coords = pd.read_csv(REF / "coords.csv", dtype={"adcode": str}).set_index("adcode")
    return _quiet_design(Panel(frame, unit="adcode", time="year"), cohort="cohort"), coords


@pytest.fixture(scope="module")
def spill_example():
    ex = datasets.innovative_city("prefecture", seed=0, spillover=SPILL)
    return ex, _quiet_design(ex.panel, policy="innovative_city")


def test_twfe_and_exposure_against_r(ref_design):
    d, coords = ref_design
    ref = pd.read_csv(REF / "reference.csv").set_index("quantity")
    res = spatial_did(d, "talent_lq", coords=coords)
    assert res.direct.att == pytest.approx(ref.loc["direct", "estimate"], rel=1e-6)
    assert res.direct.se == pytest.approx(ref.loc["direct", "se"], rel=1e-6)
    assert res.spillover.att == pytest.approx(ref.loc["spillover", "estimate"], rel=1e-6)
    assert res.spillover.se == pytest.approx(ref.loc["spillover", "se"], rel=1e-6)
    for key in ("n_treated", "n_exposed", "n_far"):
        assert res.counts[key] == int(ref.loc[key, "estimate"])
    assert list(res.to_frame()["effect"]) == ["direct", "spillover"]


def test_dataset_spillover_matches_exposure_rule(spill_example):
    ex, d = spill_example
    table = exposure_table(d).set_index("unit")
    exposed = table[table["status"] == "exposed"]
    assert ex.truth["n_exposed"] == len(exposed)
    assert ex.truth["spillover_onset"] == {u: int(o) for u, o in exposed["onset"].items()}
    # the potential outcome removes exactly the spillover on exposed cells after onset
    frame = ex.panel.to_frame()
    po = pd.DataFrame(ex.truth["potential_outcomes"])
    gap = frame["talent_lq"].to_numpy() - po["talent_lq_0"].to_numpy()
    onset = table["onset"].reindex(frame["adcode"]).to_numpy()
    status = table["status"].reindex(frame["adcode"]).to_numpy()
    cells = (status == "exposed") & (frame["year"].to_numpy() >= onset)
    assert np.allclose(gap[cells], SPILL, atol=1e-12)
    assert np.allclose(gap[status == "far"], 0.0, atol=1e-12)


def test_recovery_twfe_and_cs(spill_example):
    # tolerance 3 SE
    ex, d = spill_example
    twfe = spatial_did(d, "talent_lq")
    assert abs(twfe.spillover.att - SPILL) < 3 * twfe.spillover.se
    cs = spatial_did(d, "talent_lq", estimator="cs")
    assert abs(cs.spillover.att - SPILL) < 3 * cs.spillover.se
    assert abs(cs.direct.att - ex.truth["att_simple"]) < 3 * cs.direct.se
    assert cs.counts == twfe.counts


def test_event_study_form(spill_example):
    _, d = spill_example
    es = spatial_did(d, "talent_lq", estimator="event_study", window=(-5, 8))
    table = es.spillover.event_study
    pre = table[table["rel_time"] < -1]
    post = table[table["rel_time"] >= 0]
    assert (pre["estimate"].abs() < 3 * pre["se"]).all()
    assert (np.abs(post["estimate"] - SPILL) < 3 * post["se"]).all()


def test_no_spillover_in_default_data():
    ex = datasets.innovative_city("prefecture", seed=0)
    d = _quiet_design(ex.panel, policy="innovative_city")
    res = spatial_did(d, "talent_lq")
    assert abs(res.spillover.att) < 3 * res.spillover.se


def test_inner_band_and_nearest_onset(ref_design):
    d, coords = ref_design
    table = exposure_table(d, band_km=(50.0, 200.0), coords=coords, onset="nearest")
    g = d.cohorts
    treated = g.index[g > 0]
    for _, row in table[table["status"] != "treated"].head(40).iterrows():
        u = row["unit"]
        dist = great_circle_km(
            coords.loc[u, "lon"],
            coords.loc[u, "lat"],
            coords.loc[treated, "lon"].to_numpy(),
            coords.loc[treated, "lat"].to_numpy(),
        )
        if dist.min() < 50:
            assert row["status"] == "inner"
        elif ((dist >= 50) & (dist <= 200)).any():
            assert row["status"] == "exposed"
            inband = (dist >= 50) & (dist <= 200)
            nearest = dist[inband].min()
            assert row["onset"] == g[treated[inband][dist[inband] == nearest]].min()
        else:
            assert row["status"] == "far"
    res = spatial_did(d, "talent_lq", band_km=(50.0, 200.0), coords=coords)
    assert res.counts["n_inner"] == int((table["status"] == "inner").sum())
    assert any("inner" in s for s in res.meta["dropped"])


def test_contiguity_mapping_and_array_agree(ref_design):
    d, coords = ref_design
    units = list(d.units)
    lon, lat = coords.loc[units, "lon"].to_numpy(), coords.loc[units, "lat"].to_numpy()
    dist = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    adj = ((dist > 0) & (dist <= 120)).astype(int)
    mapping = {u: [units[j] for j in np.flatnonzero(adj[i])] for i, u in enumerate(units)}
    a = exposure_table(d, exposure="contiguity", neighbours=mapping)
    b = exposure_table(d, exposure="contiguity", neighbours=adj)
    c = exposure_table(d, band_km=(0.0, 120.0), coords=coords)
    pd.testing.assert_series_equal(a["status"], b["status"])
    pd.testing.assert_series_equal(a["status"], c["status"])
    pd.testing.assert_series_equal(a["onset"], c["onset"])


def test_errors(ref_design):
    d, coords = ref_design
    with pytest.raises(SpecError, match="band_km"):
        spatial_did(d, "talent_lq", band_km=(150.0, 0.0), coords=coords)
    with pytest.raises(DataError, match="no far"):
        spatial_did(d, "talent_lq", band_km=(0.0, 5000.0), coords=coords)
    with pytest.raises(DataError, match="no never-treated unit is exposed"):
        spatial_did(d, "talent_lq", band_km=(0.0, 1.0), coords=coords)
    with pytest.raises(SpecError, match="neighbours"):
        spatial_did(d, "talent_lq", exposure="contiguity")
    with pytest.raises(DataError, match="no coordinates"):
        spatial_did(d, "talent_lq", coords=coords.iloc[:-3])
    with pytest.raises(SpecError, match="estimator"):
        spatial_did(d, "talent_lq", coords=coords, estimator="ols")


def test_missing_cluster_value_is_refused(ref_design):
    d, coords = ref_design
    frame = d.panel.to_frame()
    region = frame[d.unit].str[:2].astype(object)
    region.iloc[3] = None
    panel = Panel(frame.assign(region=region), unit=d.unit, time=d.time)
    d2 = _quiet_design(panel, cohort="cohort")
    with pytest.raises(DataError, match=r"cluster column 'region' has 1 missing values"):
        spatial_did(d2, "talent_lq", coords=coords, cluster="region")
