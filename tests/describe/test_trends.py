from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, describe
from agglomera.errors import DataError


def _toy() -> Panel:
    df = pd.DataFrame(
        {
            "u": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "t": [2000, 2001, 2002] * 3,
            "x": [1.0, 2.0, 4.0, 3.0, 3.0, 3.0, 2.0, np.nan, 1.0],
        }
    )
    return Panel(df, unit="u", time="t")


def test_rankings_by_hand():
    out = describe.rankings(_toy(), "x")
    rank = out.set_index(["u", "t"])["rank"]
    assert rank[("b", 2000)] == 1 and rank[("c", 2000)] == 2 and rank[("a", 2000)] == 3
    assert rank[("a", 2002)] == 1 and rank[("c", 2002)] == 3
    assert np.isnan(rank[("c", 2001)])  # missing value: not ranked
    change = out.set_index(["u", "t"])["rank_change"]
    assert change[("a", 2001)] == 1  # 3 -> 2: moved up one place
    assert change[("a", 2002)] == 1  # 2 -> 1
    assert np.isnan(change[("c", 2002)])  # not ranked in 2001
    since = out.set_index(["u", "t"])["change_since_first"]
    assert since[("a", 2002)] == 2
    assert out.set_index(["u", "t"])["n"][("a", 2001)] == 2


def test_rankings_match_pandas_rank(cities):
    out = describe.rankings(cities, "talent_lq", top=5)
    frame = cities.to_frame()
    frame["r"] = frame.groupby("year")["talent_lq"].rank(ascending=False, method="min")
    ref = frame[frame["r"] <= 5].set_index(["adcode", "year"])["r"].sort_index()
    got = out.set_index(["adcode", "year"])["rank"].sort_index()
    pd.testing.assert_series_equal(got, ref, check_names=False)


def test_growth_cagr_and_mean_annual(cities):
    g = describe.growth(cities, "rd_exp").set_index("adcode")
    w = cities.to_wide("rd_exp")
    cagr = (w[2019] / w[2003]) ** (1 / 16) - 1
    np.testing.assert_allclose(g["growth"].to_numpy(), cagr.loc[g.index].to_numpy(), rtol=1e-12)
    m = describe.growth(cities, "rd_exp", kind="mean_annual").set_index("adcode")
    rates = (w / w.shift(axis=1) - 1).iloc[:, 1:].mean(axis=1)
    np.testing.assert_allclose(m["growth"].to_numpy(), rates.loc[m.index].to_numpy(), rtol=1e-12)
    assert (m["n_rates"] == 16).all()


def test_growth_uses_observed_endpoints():
    g = describe.growth(_toy(), "x").set_index("u")
    assert g.loc["c", "start"] == 2000 and g.loc["c", "end"] == 2002
    assert g.loc["c", "growth"] == pytest.approx((1.0 / 2.0) ** 0.5 - 1)
    m = describe.growth(_toy(), "x", kind="mean_annual").set_index("u")
    assert m.loc["c", "n_rates"] == 0 and np.isnan(m.loc["c", "growth"])


def test_growth_non_positive_names_rows():
    df = pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2], "x": [1.0, 2.0, 0.0, 3.0]})
    with pytest.raises(DataError, match=r"'b'/1: 0\.0"):
        describe.growth(Panel(df, unit="u", time="t"), "x")


def test_top_bottom(cities):
    out = describe.top_bottom(cities, "talent_lq", n=3, times=[2019])
    part = cities.to_frame().query("year == 2019").sort_values("talent_lq")
    assert out.query("group == 'top'")["adcode"].tolist() == part["adcode"].tolist()[::-1][:3]
    assert out.query("group == 'bottom'")["adcode"].tolist() == part["adcode"].tolist()[:3]
    with pytest.raises(DataError, match="smaller n"):
        describe.top_bottom(cities, "talent_lq", n=20)


def test_regional_means_match_groupby(cities):
    out = describe.regional_means(cities, "talent_lq").set_index(["year", "region3"])
    ref = cities.to_frame().groupby(["year", "region3"])["talent_lq"].agg(["mean", "count"])
    np.testing.assert_allclose(out["mean"].to_numpy(), ref["mean"].to_numpy(), rtol=1e-12)
    assert (out["n"].to_numpy() == ref["count"].to_numpy()).all()


def test_regional_means_joins_reference_and_weights(bay):
    out = describe.regional_means(bay, "rd_staff_per10k", by="region4", weights="pop")
    frame = bay.to_frame()
    y2010 = frame[frame.year == 2010]
    expected = np.average(y2010["rd_staff_per10k"], weights=y2010["pop"])
    assert out.iloc[0]["region4"] == "east"
    assert out.iloc[0]["mean"] == pytest.approx(expected, rel=1e-12)


def test_share_above(cities_holes):
    out = describe.share_above(cities_holes, "talent_lq", 1.0).set_index("year")
    frame = cities_holes.to_frame()
    for year, part in frame.groupby("year"):
        obs = part["talent_lq"].dropna()
        assert out.loc[year, "n"] == len(obs)
        assert out.loc[year, "share"] == pytest.approx((obs > 1).mean(), rel=1e-12)
        assert out.loc[year, "missing"] == part["talent_lq"].isna().sum()
    by = describe.share_above(cities_holes, "talent_lq", by="region3")
    assert set(by["region3"]) == {"east", "central", "west"}


def test_unknown_group_column(cities):
    with pytest.raises(DataError, match="grouping column 'regoin3'"):
        describe.regional_means(cities, "talent_lq", by="regoin3")
