"""Recorded transforms: values and the exact provenance records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.data import transforms as tf
from agglomera.errors import DataError, SpecError


def _panel() -> Panel:
    df = pd.DataFrame(
        {
            "adcode": ["330100"] * 4 + ["320100"] * 4,
            "year": [2010, 2011, 2012, 2013] * 2,
            "grp": [100.0, 110.0, 121.0, 133.1, 50.0, 55.0, 60.5, 66.55],
            "pop": [800.0, 810.0, 820.0, 830.0, 600.0, 605.0, 610.0, 615.0],
            "patents": [10.0, np.nan, np.nan, 40.0, np.nan, 5.0, np.nan, 9.0],
        }
    )
    return Panel(df, unit="adcode", time="year", provenance=["source"])


def test_log() -> None:
    out = tf.log(_panel(), "grp")
    np.testing.assert_allclose(
        out.to_wide("ln_grp").loc["330100"].to_numpy()[:2], np.log([100.0, 110.0])
    )
    assert out.provenance == ("source", "log: ln_grp = ln(grp); 8 values")
    out = tf.log(_panel(), "patents", name="lp", offset=1)
    assert out.provenance[-1] == "log: lp = ln(patents + 1); 4 values; 4 missing"
    df = _panel().to_frame()
    df.loc[2, "grp"] = 0.0
    with pytest.raises(DataError, match=r"zero or negative in 1 rows: \('320100', 2012\)"):
        tf.log(Panel(df, unit="adcode", time="year"), "grp")
    with pytest.raises(DataError, match="already exists"):
        tf.log(tf.log(_panel(), "grp"), "grp")


def test_per_capita_and_per_10k() -> None:
    out = tf.per_capita(_panel(), "grp", "pop", scale=10000)
    assert out.to_wide("grp_pc").loc["330100", 2010] == pytest.approx(10000 * 100 / 800)
    assert out.provenance[-1] == "per_capita: grp_pc = 10000 × grp / pop"
    out = tf.per_10k(_panel(), "patents", "pop", population_unit="10k")
    assert out.to_wide("patents_per10k").loc["330100", 2010] == pytest.approx(10 / 800)
    assert out.provenance[-1] == (
        "per_10k: patents_per10k = patents / pop (population in 10,000 persons); 4 missing"
    )
    out = tf.per_10k(_panel(), "grp", "pop", population_unit="persons", name="g10k")
    assert out.to_wide("g10k").loc["330100", 2010] == pytest.approx(10000 * 100 / 800)
    with pytest.raises(SpecError, match="population_unit"):
        tf.per_10k(_panel(), "grp", "pop", population_unit="people")  # type: ignore[arg-type]


def _price_index() -> pd.DataFrame:
    rows = []
    for prov, growth in (("浙江", 1.02), ("Jiangsu", 1.03)):
        for i, y in enumerate(range(2009, 2014)):
            rows.append({"province": prov, "year": y, "index": 100 * growth**i})
    return pd.DataFrame(rows)


def test_deflate_by_province_and_nation() -> None:
    out = tf.deflate(_panel(), "grp", _price_index(), base_year=2010)
    real = out.to_wide("grp_real")
    assert real.loc["330100", 2010] == pytest.approx(100.0)
    assert real.loc["330100", 2012] == pytest.approx(121.0 / 1.02**2)
    assert real.loc["320100", 2013] == pytest.approx(66.55 / 1.03**3)
    assert out.provenance[-1] == (
        "deflate: grp_real = grp / (P[t] / P[2010]) with the user price index by province "
        "(city → province from the reference table), level index; constant 2010 prices"
    )
    nation = pd.DataFrame({"year": [2010, 2011, 2012, 2013], "cpi": [100, 110, 121, 133.1]})
    out = tf.deflate(_panel(), "grp", nation, base_year=2010, by="nation", index_column="cpi")
    np.testing.assert_allclose(out.to_wide("grp_real").loc["330100"].to_numpy(), 100.0)
    # chained previous-year index (上年 = 100)
    chained = pd.DataFrame({"year": [2010, 2011, 2012, 2013], "index": [100.0, 110, 110, 110]})
    out = tf.deflate(
        _panel(), "grp", chained, base_year=2010, by="nation", index_type="previous_year"
    )
    np.testing.assert_allclose(out.to_wide("grp_real").loc["330100"].to_numpy(), 100.0)
    assert "chained previous-year = 100 index, cumulated" in out.provenance[-1]


def test_deflate_missing_province_years_named() -> None:
    idx = _price_index()
    idx = idx[~((idx["province"] == "Jiangsu") & (idx["year"] >= 2012))]
    with pytest.raises(
        DataError, match=r"lacks 2 province-years.*\('江苏省', 2012\), \('江苏省', 2013\)"
    ):
        tf.deflate(_panel(), "grp", idx, base_year=2010)
    with pytest.raises(DataError, match=r"unknown province labels.*'Atlantis'"):
        tf.deflate(
            _panel(),
            "grp",
            pd.concat(
                [
                    _price_index(),
                    pd.DataFrame([{"province": "Atlantis", "year": 2010, "index": 1.0}]),
                ]
            ),
            base_year=2010,
        )


def test_winsorise_by_year_and_pooled() -> None:
    rng = np.random.default_rng(0)
    n_units, years = 50, [2010, 2011]
    df = pd.DataFrame(
        {
            "adcode": np.repeat([f"u{i:02d}" for i in range(n_units)], 2),
            "year": years * n_units,
            "x": rng.normal(size=2 * n_units),
        }
    )
    p = Panel(df, unit="adcode", time="year")
    out = tf.winsorise(p, "x", (0.1, 0.9))
    w = out.column("x_w").to_numpy()
    for y in years:
        m = df.sort_values(["adcode", "year"])["year"].to_numpy() == y
        x = p.column("x").to_numpy()[m]
        lo, hi = np.quantile(x, [0.1, 0.9])
        np.testing.assert_allclose(w[m], np.clip(x, lo, hi))
    assert out.provenance[-1] == (
        "winsorise(x, 10%/90%, by year) → x_w: 20 values clipped (10 low, 10 high); "
        "quantiles: numpy 'linear'"
    )
    pooled = tf.winsorise(p, "x", by="pooled", name="x")
    assert pooled.provenance[-1] == (
        "winsorise(x, 1%/99%, pooled): 2 values clipped (1 low, 1 high); quantiles: numpy 'linear'"
    )
    with pytest.raises(SpecError, match="limits"):
        tf.winsorise(p, "x", (0.9, 0.1))


def test_interpolate_interior_only_with_flags() -> None:
    out = tf.interpolate(_panel(), "patents")
    wide = out.to_wide("patents")
    assert wide.loc["330100"].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert wide.loc["320100"].tolist()[1:] == [5.0, 7.0, 9.0]
    assert np.isnan(wide.loc["320100", 2010])  # leading gap never filled by default
    flags = out.to_wide("patents_interpolated")
    assert flags.loc["330100"].tolist() == [False, True, True, False]
    assert flags.loc["320100"].tolist() == [False, False, True, False]
    assert out.provenance[-1] == (
        "interpolate(patents, linear in year, interior gaps only): 3 cells filled in 2 units "
        "(3 interior); flagged in patents_interpolated"
    )
    edge = tf.interpolate(_panel(), "patents", limit_interior=False, name="pat_f")
    assert edge.to_wide("pat_f").loc["320100", 2010] == 5.0
    assert "4 cells filled in 2 units (3 interior, 1 edge cells)" in edge.provenance[-1]
    short = tf.interpolate(_panel(), "patents", max_gap=1)
    assert short.to_wide("patents").loc["330100"].isna().sum() == 2
    assert "2 cells in gaps longer than 1 years left missing" in short.provenance[-1]
    geo = tf.interpolate(_panel(), "patents", method="geometric")
    assert geo.to_wide("patents").loc["330100", 2011] == pytest.approx(10 * 4 ** (1 / 3))


def test_lag_lead_diff_recorded() -> None:
    df = _panel().to_frame()
    df = df[~((df["adcode"] == "330100") & (df["year"] == 2012))]
    p = Panel(df, unit="adcode", time="year")
    out = tf.lag(p, "grp")
    assert out.to_wide("L1_grp").loc["330100"].tolist()[1] == 100.0
    assert np.isnan(out.to_wide("L1_grp").loc["330100", 2013])  # 2012 absent: calendar lag
    assert out.provenance[-1] == (
        "lag: L1_grp = grp in year t−1 of the same unit (calendar years, not rows); 3 missing "
        "where the other year is not observed"
    )
    out = tf.lead(p, "grp", 2)
    assert out.to_wide("F2_grp").loc["320100", 2010] == 60.5
    out = tf.diff(p, "grp")
    assert out.to_wide("D1_grp").loc["320100", 2011] == pytest.approx(5.0)
    assert out.provenance[-1].startswith("diff: D1_grp = grp[t] − grp[t−1] within unit")
    with pytest.raises(SpecError):
        tf.lag(p, "grp", 0)
