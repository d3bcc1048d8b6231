"""Maps: the WKT reader (hand-written cases and shapely as oracle), choropleth, bubble map."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_rgba

from agglomera import reference
from agglomera.errors import DataError, SpecError
from agglomera.report import maps

SQUARE_WITH_HOLE = "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))"
MULTI = (
    "MULTIPOLYGON (((10 10, 12 10, 12 12, 10 12, 10 10), (10.5 10.5, 11 10.5, 11 11, "
    "10.5 10.5)), ((20 0, 21 0, 21 1, 20 0)))"
)


# ---------------------------------------------------------------------- WKT reader
def test_parse_polygon_with_hole():
    polygons = maps.parse_wkt(SQUARE_WITH_HOLE)
    assert len(polygons) == 1
    exterior, hole = polygons[0]
    np.testing.assert_array_equal(exterior, [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]])
    np.testing.assert_array_equal(hole, [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]])


def test_parse_multipolygon_with_hole_and_spacing():
    polygons = maps.parse_wkt(MULTI)
    assert [len(p) for p in polygons] == [2, 1]
    np.testing.assert_array_equal(
        polygons[0][1], [[10.5, 10.5], [11, 10.5], [11, 11], [10.5, 10.5]]
    )
    np.testing.assert_array_equal(polygons[1][0], [[20, 0], [21, 0], [21, 1], [20, 0]])
    tight = maps.parse_wkt("multipolygon(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))")
    assert len(tight) == 2
    np.testing.assert_array_equal(tight[1][0][1], [6, 5])


def test_parse_z_coordinates_exponents_and_empty():
    polygons = maps.parse_wkt("POLYGON Z ((0 0 7, 1e1 0 7, 1E1 -2.5e0 7, 0 0 7))")
    np.testing.assert_array_equal(polygons[0][0], [[0, 0], [10, 0], [10, -2.5], [0, 0]])
    assert maps.parse_wkt("MULTIPOLYGON EMPTY") == []


@pytest.mark.parametrize(
    "text",
    [
        "POINT (1 2)",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)))",
        "POLYGON ((0 0, 1 x, 1 1, 0 0))",
        "POLYGON ((0 0, 1 0))",
        "MULTIPOLYGON ((0 0, 1 0, 1 1, 0 0))",
    ],
)
def test_parse_rejects_malformed_wkt(text):
    with pytest.raises(DataError):
        maps.parse_wkt(text)


def test_parser_matches_shapely_on_all_shipped_boundaries():
    shapely = pytest.importorskip("shapely")
    table = reference.boundaries()
    parsed = maps.load_boundaries()
    assert len(parsed) == len(table) == 369
    worst, rings = 0.0, 0
    for code, wkt in zip(table["adcode"], table["geometry"], strict=True):
        geom = shapely.from_wkt(wkt)
        parts = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
        ours = parsed[code]
        assert len(ours) == len(parts), code
        for mine, theirs in zip(ours, parts, strict=True):
            expected = [np.asarray(theirs.exterior.coords)]
            expected += [np.asarray(r.coords) for r in theirs.interiors]
            assert len(mine) == len(expected), code
            for a, b in zip(mine, expected, strict=True):
                assert a.shape == b.shape
                worst = max(worst, float(np.abs(a - b).max()))
                rings += 1
    assert worst == 0.0
    assert rings == 935


def test_shipped_boundaries_are_cached_and_read_only():
    a = maps.load_boundaries()
    b = maps.load_boundaries()
    assert a["110100"][0][0] is b["110100"][0][0]
    with pytest.raises(ValueError):
        a["110100"][0][0][0, 0] = 0.0


# ---------------------------------------------------------------------- choropleth
@pytest.fixture(scope="module")
def lq2019() -> pd.Series:
    from agglomera import datasets

    frame = datasets.innovative_city(seed=0).panel.to_frame()
    return frame[frame["year"] == 2019].set_index("adcode")["talent_lq"]


def _unit_patches(ax):
    return {p.get_gid(): p for p in ax.patches if not p.get_gid().startswith("backdrop-")}


def test_choropleth_draws_one_patch_per_unit_and_a_backdrop(lq2019):
    fig = maps.choropleth(lq2019, title="talent LQ 2019", legend_label="LQ")
    ax = fig.axes[0]
    units = _unit_patches(ax)
    assert set(units) == set(lq2019.index)
    backdrop = [p.get_gid() for p in ax.patches if p.get_gid().startswith("backdrop-")]
    assert backdrop and not set(g.removeprefix("backdrop-") for g in backdrop) & set(lq2019.index)
    assert ax.get_title() == "talent LQ 2019"
    assert fig.axes[1].get_ylabel() == "LQ"  # colour bar


def test_choropleth_colours_and_limits(lq2019):
    fig = maps.choropleth(lq2019, cmap="viridis")
    ax = fig.axes[0]
    units = _unit_patches(ax)
    cmap = colormaps["viridis"]
    lo, hi = lq2019.min(), lq2019.max()
    for code in (lq2019.idxmin(), lq2019.idxmax(), "310100"):
        expected = cmap((lq2019[code] - lo) / (hi - lo))
        np.testing.assert_allclose(units[code].get_facecolor(), expected)
    # the limits contain every mapped polygon; the aspect is 1/cos(middle latitude)
    polys = maps.load_boundaries()
    pts = np.concatenate([r for c in lq2019.index for p in polys[c] for r in p])
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < pts[:, 0].min() and x1 > pts[:, 0].max()
    assert y0 < pts[:, 1].min() and y1 > pts[:, 1].max()
    assert ax.get_aspect() == pytest.approx(1 / math.cos(math.radians((y0 + y1) / 2)))


def test_choropleth_quantile_and_explicit_classes():
    codes = ["110100", "120100", "130100", "140100", "150100"]
    values = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=codes)
    fig = maps.choropleth(values, classes=2, cmap="viridis")
    units = _unit_patches(fig.axes[0])
    two = colormaps["viridis"].resampled(2)
    # breaks = quantiles 0, .5, 1 = [1, 3, 5]; classes [1, 3) and [3, 5]
    for code, k in zip(codes, [0, 0, 1, 1, 1], strict=True):
        np.testing.assert_allclose(units[code].get_facecolor(), two(k))
    fig = maps.choropleth(values, classes=[0, 2.5, 4.5, 6], cmap="viridis")
    units = _unit_patches(fig.axes[0])
    three = colormaps["viridis"].resampled(3)
    for code, k in zip(codes, [0, 0, 1, 1, 2], strict=True):
        np.testing.assert_allclose(units[code].get_facecolor(), three(k))
    with pytest.raises(DataError, match="outside the class breaks"):
        maps.choropleth(values, classes=[2, 3, 4])
    with pytest.raises(DataError, match="tied"):
        maps.choropleth(pd.Series([1.0, 1, 1, 1, 2], index=codes), classes=4)
    with pytest.raises(SpecError):
        maps.choropleth(values, classes=1)


def test_choropleth_missing_values_and_frame_input():
    frame = pd.DataFrame({"adcode": ["110100", "120100", "130100"], "lq": [1.0, np.nan, 2.0]})
    fig = maps.choropleth(frame, missing="grey", missing_label="no data")
    ax = fig.axes[0]
    units = _unit_patches(ax)
    np.testing.assert_allclose(units["120100"].get_facecolor(), to_rgba("grey"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no data"]
    ax = maps.choropleth(frame, language="zh").axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["无数据"]
    (note,) = [t for t in ax.texts if t.get_gid() == "scale-note"]
    assert "北纬" in note.get_text()
    with pytest.raises(SpecError, match="language"):
        maps.choropleth(frame, language="de")


def test_choropleth_names_units_without_polygon():
    values = pd.Series([1.0, 2.0, 3.0], index=["110100", "999901", "999902"])
    with pytest.raises(DataError, match=r"999901.*999902.*boundaries="):
        maps.choropleth(values)
    with pytest.raises(DataError, match="duplicated"):
        maps.choropleth(pd.Series([1.0, 2.0], index=["110100", "110100"]))


def test_scale_bar_length_is_true_at_the_middle_latitude(lq2019):
    ax = maps.choropleth(lq2019).axes[0]
    (bar,) = [line for line in ax.lines if line.get_gid() == "scale-bar"]
    (note,) = [t for t in ax.texts if t.get_gid() == "scale-note"]
    km = float(note.get_text().split(" km")[0])
    phi0 = sum(ax.get_ylim()) / 2
    degrees = np.ptp(bar.get_xdata())
    # 1 degree of longitude = 2 pi R / 360 cos(phi0), R = 6371.0088 km
    assert degrees * 2 * math.pi * 6371.0088 / 360 * math.cos(math.radians(phi0)) == pytest.approx(
        km, rel=1e-12
    )
    assert f"{phi0:.0f}°N" in note.get_text()


# ---------------------------------------------------------------------- user boundaries
def _write_geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_geojson_boundaries_override(tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"code": 110100},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[116, 39], [117, 39], [117, 40], [116, 40], [116, 39]],
                    [[116.2, 39.2], [116.2, 39.4], [116.4, 39.4], [116.2, 39.2]],
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {"code": "120100"},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[117, 38], [118, 38], [118, 39], [117, 38]]],
                    [[[118.5, 38], [119, 38], [119, 38.5], [118.5, 38]]],
                ],
            },
        },
    ]
    path = _write_geojson(tmp_path / "two.geojson", features)
    polys = maps.load_boundaries(path, adcode_property="code")
    assert sorted(polys) == ["110100", "120100"]
    assert [len(p) for p in polys["110100"]] == [2]
    assert len(polys["120100"]) == 2
    values = pd.Series([1.0, 2.0], index=["110100", "120100"])
    ax = maps.choropleth(values, boundaries=path, adcode_property="code").axes[0]
    assert len(ax.patches) == 2  # only the user's units, no shipped backdrop
    beijing = _unit_patches(ax)["110100"].get_path()
    # exterior + hole: 5 + 4 points, each ring closed once more by the path
    assert len(beijing.vertices) == 6 + 5
    np.testing.assert_array_equal(ax.get_xlim()[0] < 116, True)
    with pytest.raises(DataError, match=r"999999.*boundaries="):
        maps.choropleth(pd.Series([1.0], index=["999999"]), boundaries=path, adcode_property="code")
    with pytest.raises(DataError, match="adcode_property="):
        maps.load_boundaries(path)  # property "adcode" absent


def test_geojson_rejects_other_geometries(tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"adcode": "110100"},
            "geometry": {"type": "Point", "coordinates": [116, 39]},
        }
    ]
    path = _write_geojson(tmp_path / "point.geojson", features)
    with pytest.raises(DataError, match="Point"):
        maps.load_boundaries(path)


def test_dataframe_boundaries():
    table = pd.DataFrame({"adcode": ["1"], "geometry": [SQUARE_WITH_HOLE]})
    polys = maps.load_boundaries(table)
    np.testing.assert_array_equal(polys["1"][0][1][2], [2, 2])


# ---------------------------------------------------------------------- bubble map
def test_bubble_map_positions_sizes_and_legend():
    cities = reference.cities().set_index("adcode")
    frame = pd.DataFrame(
        {"adcode": ["110100", "310100", "440300"], "emp": [100.0, 50.0, 25.0], "lq": [1, 2, 3]}
    )
    fig = maps.bubble_map(frame, sizes="emp", colors="lq", labels="name_en", max_size=400)
    ax = fig.axes[0]
    (bubbles,) = [c for c in ax.collections if c.get_gid() == "bubbles"]
    np.testing.assert_allclose(
        bubbles.get_offsets(), cities.loc[frame["adcode"], ["lon", "lat"]].to_numpy()
    )
    np.testing.assert_allclose(bubbles.get_sizes(), [400.0, 200.0, 100.0])
    np.testing.assert_allclose(bubbles.get_array(), [1, 2, 3])
    assert {t.get_text() for t in ax.texts} >= {"Beijing", "Shanghai", "Shenzhen"}
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "emp"
    assert [t.get_text() for t in legend.get_texts()] == ["20", "50", "100"]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    lon, lat = bubbles.get_offsets().T
    assert x0 < lon.min() and lon.max() < x1 and y0 < lat.min() and lat.max() < y1
    assert any(p.get_gid().startswith("backdrop-") for p in ax.patches)


def test_bubble_map_errors():
    frame = pd.DataFrame({"adcode": ["110100", "999999"], "emp": [1.0, 2.0]})
    with pytest.raises(DataError, match="999999"):
        maps.bubble_map(frame, sizes="emp")
    with pytest.raises(DataError, match="non-negative"):
        maps.bubble_map(pd.DataFrame({"adcode": ["110100"], "emp": [-1.0]}), sizes="emp")
    with pytest.raises(DataError, match="no column"):
        maps.bubble_map(frame, sizes="pop")
