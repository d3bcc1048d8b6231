"""Gravity centre and standard deviational ellipse: closed forms, R reference, recovery."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.errors import DataError, SpecError
from agglomera.spatial.centre import (
    _project,
    _unproject,
    bearing_deg,
    compass_label,
    ellipse_xy,
    gravity_centre,
    great_circle_km,
    std_ellipse,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "spatial_centre"


@pytest.fixture(scope="module")
def cities():
    coords = pd.read_csv(REF / "coords.csv", dtype={"adcode": str}).set_index("adcode")
    weights = pd.read_csv(REF / "weights.csv", dtype={"adcode": str})
    return Panel(weights, unit="adcode", time="year"), coords


# ---------------------------------------------------------------------- hand example
def test_hand_ellipse_closed_form():
    h = pd.read_csv(REF / "hand_ellipse.csv")
    e = ellipse_xy(h["x"], h["y"], h["w"])
    # DERIVATION.md: covariance [[10, 2], [2, 4]] / 4, eigenvalues (7 ± sqrt 13) / 4
    assert e["x"] == 0.0 and e["y"] == 0.0
    assert e["sigma_y"] == pytest.approx(math.sqrt((7 + math.sqrt(13)) / 4), rel=1e-12)
    assert e["sigma_x"] == pytest.approx(math.sqrt((7 - math.sqrt(13)) / 4), rel=1e-12)
    assert e["theta"] == pytest.approx(math.degrees(math.atan((3 + math.sqrt(13)) / 2)), rel=1e-12)
    assert e["area"] == pytest.approx(1.5 * math.pi, rel=1e-12)
    r = pd.read_csv(REF / "hand_ellipse_reference.csv").iloc[0]
    for key in ("theta", "sigma_x", "sigma_y"):
        assert e[key] == pytest.approx(r[key], rel=1e-9)


def test_weights_equal_duplicated_points_and_corrections():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=12), rng.normal(size=12)
    w = rng.integers(1, 4, size=12).astype(float)
    a = ellipse_xy(x, y, w)
    b = ellipse_xy(np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int)))
    for key in ("x", "y", "theta", "sigma_x", "sigma_y"):
        assert a[key] == pytest.approx(b[key], rel=1e-10)
    c = ellipse_xy(x, y, w, correction="sqrt2")
    assert c["sigma_y"] == pytest.approx(math.sqrt(2) * a["sigma_y"], rel=1e-12)
    d = ellipse_xy(x, y, w, dof="n-2")
    assert d["sigma_x"] == pytest.approx(a["sigma_x"] * math.sqrt(12 / 10), rel=1e-12)


def test_theta_convention_axis_aligned_and_quadrants():
    t = np.linspace(-1, 1, 21)
    # a cross with zero covariance: long east-west arm -> 90°, long north-south arm -> 0°
    cx = np.array([-3.0, 3.0, 0.0, 0.0])
    cy = np.array([0.0, 0.0, -1.0, 1.0])
    assert ellipse_xy(cx, cy)["theta"] == 90.0
    assert ellipse_xy(cy, cx)["theta"] == 0.0
    # a line towards bearing 120° (ESE/WNW)
    b = math.radians(120)
    assert ellipse_xy(t * math.sin(b), t * math.cos(b))["theta"] == pytest.approx(120, abs=1e-9)


# ---------------------------------------------------------------------- recovery
@pytest.mark.parametrize("theta", [0.0, 30.0, 90.0, 135.0])
def test_rotated_gaussian_recovery(theta):
    # n = 100 000 draws: the sampling SD of the axes is ~0.2 % and of theta ~0.1°, so
    # 1 % and 0.5° are ≥ 4 sampling SDs
    rng = np.random.default_rng(42)
    n, a, b = 100_000, 300.0, 100.0
    u, v = rng.normal(0, a, n), rng.normal(0, b, n)
    th = math.radians(theta)
    x = u * math.sin(th) + v * math.cos(th)
    y = u * math.cos(th) - v * math.sin(th)
    e = ellipse_xy(x, y)
    assert e["semi_major"] == pytest.approx(a, rel=0.01)
    assert e["semi_minor"] == pytest.approx(b, rel=0.01)
    diff = (e["theta"] - theta + 90) % 180 - 90
    assert abs(diff) < 0.5


def test_std_ellipse_on_the_sphere_recovers_known_gaussian():
    # points laid out around (115E, 33N) in an azimuthal equidistant plane, mapped to
    # lon/lat; std_ellipse must recover the axes and the bearing of the major axis.
    rng = np.random.default_rng(7)
    n, a, b, theta = 20_000, 400.0, 150.0, 40.0
    u, v = rng.normal(0, a, n), rng.normal(0, b, n)
    th = math.radians(theta)
    x, y = u * math.sin(th) + v * math.cos(th), u * math.cos(th) - v * math.sin(th)
    pts = [_unproject(px, py, 115.0, 33.0, "aeqd") for px, py in zip(x, y, strict=True)]
    coords = pd.DataFrame(pts, columns=["lon", "lat"], index=[f"p{i}" for i in range(n)])
    panel = Panel(
        pd.DataFrame({"unit": coords.index, "year": 2020, "w": 1.0}), unit="unit", time="year"
    )
    e = std_ellipse(panel, "w", coords=coords).ellipses.iloc[0]
    # sampling SDs at n = 2e4: axes ~0.5 %, theta ~0.25°; the projection centre is the
    # sample's spherical mean (a few km from 115E 33N)
    assert e["semi_major"] == pytest.approx(a, rel=0.02)
    assert e["semi_minor"] == pytest.approx(b, rel=0.02)
    assert abs(e["theta"] - theta) < 1.0
    assert e["lon"] == pytest.approx(115.0, abs=0.1)
    assert e["lat"] == pytest.approx(33.0, abs=0.1)


# ---------------------------------------------------------------------- gravity centre
def test_gravity_centre_closed_form():
    coords = pd.DataFrame({"lon": [0.0, 90.0, 0.0], "lat": [0.0, 0.0, 90.0]}, index=["a", "b", "c"])
    frame = pd.DataFrame({"u": ["a", "b", "c"], "t": 2000, "w": 1.0})
    res = gravity_centre(Panel(frame, unit="u", time="t"), "w", coords=coords)
    row = res.path.iloc[0]
    assert row["lon"] == pytest.approx(45.0, abs=1e-12)
    assert row["lat"] == pytest.approx(math.degrees(math.atan(1 / math.sqrt(2))), abs=1e-12)
    planar = gravity_centre(Panel(frame, unit="u", time="t"), "w", coords=coords, method="planar")
    assert planar.path.iloc[0]["lon"] == pytest.approx(30.0)
    assert planar.path.iloc[0]["lat"] == pytest.approx(30.0)


def test_gravity_centre_direct_computation(cities):
    panel, coords = cities
    res = gravity_centre(panel, "emp", coords=coords)
    frame = panel.to_frame()
    for year, sub in frame.groupby("year"):
        lon = np.radians(coords.loc[sub["adcode"], "lon"].to_numpy())
        lat = np.radians(coords.loc[sub["adcode"], "lat"].to_numpy())
        w = sub["emp"].to_numpy()
        v = (
            w[:, None]
            * np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        ).sum(0) / w.sum()
        row = res.path.set_index("time").loc[year]
        assert row["lon"] == pytest.approx(math.degrees(math.atan2(v[1], v[0])), abs=1e-10)
        assert row["lat"] == pytest.approx(
            math.degrees(math.atan2(v[2], math.hypot(v[0], v[1]))), abs=1e-10
        )


def test_against_r_reference(cities):
    panel, coords = cities
    ref = pd.read_csv(REF / "reference.csv").set_index("year")
    sph = gravity_centre(panel, "emp", coords=coords).path.set_index("time")
    pla = gravity_centre(panel, "emp", coords=coords, method="planar").path.set_index("time")
    ell = std_ellipse(panel, "emp", coords=coords).ellipses.set_index("time")
    for year, r in ref.iterrows():
        assert sph.loc[year, "lon"] == pytest.approx(r["sphere_lon"], rel=1e-9)
        assert sph.loc[year, "lat"] == pytest.approx(r["sphere_lat"], rel=1e-9)
        assert pla.loc[year, "lon"] == pytest.approx(r["planar_lon"], rel=1e-9)
        assert pla.loc[year, "lat"] == pytest.approx(r["planar_lat"], rel=1e-9)
        if not math.isnan(r["step_km"]):
            assert sph.loc[year, "distance_km"] == pytest.approx(r["step_km"], rel=1e-8)
            assert sph.loc[year, "bearing_deg"] == pytest.approx(r["bearing"], rel=1e-8)
        assert ell.loc[year, "theta"] == pytest.approx(r["ell_theta"], rel=1e-8)
        assert ell.loc[year, "sigma_x"] == pytest.approx(r["ell_sigma_x"], rel=1e-8)
        assert ell.loc[year, "sigma_y"] == pytest.approx(r["ell_sigma_y"], rel=1e-8)
    # the ellipse centre is the weighted mean in the local plane (R: ell_xbar, ell_ybar km)
    for year, r in ref.iterrows():
        x, y = _project(
            np.array([ell.loc[year, "lon"]]),
            np.array([ell.loc[year, "lat"]]),
            ell.loc[year, "proj_lon"],
            ell.loc[year, "proj_lat"],
            "aeqd",
        )
        assert x[0] == pytest.approx(r["ell_xbar"], abs=1e-6)
        assert y[0] == pytest.approx(r["ell_ybar"], abs=1e-6)


def test_path_bookkeeping(cities):
    panel, coords = cities
    res = gravity_centre(panel, "emp", coords=coords)
    p = res.path
    assert math.isnan(p["distance_km"].iloc[0])
    assert p["cumulative_km"].iloc[-1] == pytest.approx(p["distance_km"].iloc[1:].sum())
    assert res.total_km == pytest.approx(p["distance_km"].iloc[1:].sum())
    assert list(p["direction"].iloc[1:]) == [compass_label(b) for b in p["bearing_deg"].iloc[1:]]
    assert "Gravity centre" in res.summary()


def test_geometry_helpers():
    assert great_circle_km(0, 0, 0, 1) == pytest.approx(6371.0088 * math.pi / 180, rel=1e-12)
    assert bearing_deg(0, 0, 0, 1) == pytest.approx(0.0)
    assert bearing_deg(0, 0, 1, 0) == pytest.approx(90.0)
    assert bearing_deg(0, 1, 0, 0) == pytest.approx(180.0)
    assert [compass_label(b) for b in (0, 22.4, 22.6, 90, 180, 270, 337.6)] == [
        "N",
        "N",
        "NE",
        "E",
        "S",
        "W",
        "N",
    ]
    for proj in ("aeqd", "equirectangular"):
        x, y = _project(np.array([118.3]), np.array([31.2]), 116.0, 33.0, proj)
        assert _unproject(x[0], y[0], 116.0, 33.0, proj) == pytest.approx((118.3, 31.2))


# ---------------------------------------------------------------------- errors
def test_errors(cities):
    panel, coords = cities
    frame = panel.to_frame()
    bad = frame.assign(emp=np.where(frame.index == 3, -1.0, frame["emp"]))
    with pytest.raises(DataError, match="non-negative"):
        gravity_centre(Panel(bad, unit="adcode", time="year"), "emp", coords=coords)
    with pytest.raises(DataError, match="no coordinates for 1 units"):
        gravity_centre(panel, "emp", coords=coords.drop(index="110100"))
    with pytest.raises(SpecError, match="method"):
        gravity_centre(panel, "emp", coords=coords, method="flat")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="correction"):
        std_ellipse(panel, "emp", coords=coords, correction="arcgis")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="year"):
        std_ellipse(panel, "emp", coords=coords, year=1999)


def test_default_coordinates_from_reference(cities):
    panel, coords = cities
    a = gravity_centre(panel, "emp").path
    b = gravity_centre(panel, "emp", coords=coords).path
    assert np.allclose(a["lon"], b["lon"], atol=1e-9)


def test_figure(cities):
    from agglomera.spatial.figures_centre import centre_path_figure

    panel, coords = cities
    res = gravity_centre(panel, "emp", coords=coords)
    ell = std_ellipse(panel, "emp", coords=coords)
    fig = centre_path_figure(res, ell, years=[2015, 2019])
    ax0 = fig.axes[0]
    assert np.allclose(ax0.lines[0].get_xdata(), res.path["lon"])
    outline = ell.outline(2015)
    assert np.allclose(fig.axes[1].lines[0].get_xdata(), outline["lon"])
