from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import describe
from agglomera.errors import DataError

VARS = ["talent_lq", "rd_exp", "grp_pc", "patents"]


def test_summary_matches_pandas_describe(cities_holes):
    res = describe.summary(cities_holes, VARS, percentiles=(0.1, 0.25, 0.5, 0.75, 0.9))
    frame = cities_holes.to_frame()
    stats = res.to_frame().set_index("variable")
    for var in VARS:
        ref = frame[var].describe(percentiles=[0.1, 0.25, 0.5, 0.75, 0.9])
        row = stats.loc[var]
        assert row["n"] == ref["count"]
        assert row["missing"] == frame[var].isna().sum()
        for ours, theirs in [("mean", "mean"), ("sd", "std"), ("min", "min"), ("max", "max"),
                             ("p10", "10%"), ("p25", "25%"), ("p50", "50%"), ("p75", "75%"),
                             ("p90", "90%")]:  # fmt: skip
            assert row[ours] == pytest.approx(ref[theirs], rel=1e-12, abs=1e-12), (var, ours)
    # missing values are counted, not silently dropped
    assert stats.loc["talent_lq", "missing"] == 12
    assert stats.loc["talent_lq", "n"] == len(frame) - 12


def test_summary_by_group_matches_groupby(cities_holes):
    res = describe.summary(cities_holes, ["talent_lq"], by="treated")
    frame = cities_holes.to_frame()
    ref = frame.groupby("treated")["talent_lq"].agg(["count", "mean", "std", "median"])
    got = res.to_frame().set_index("treated")
    for g in ref.index:
        assert got.loc[g, "n"] == ref.loc[g, "count"]
        assert got.loc[g, "mean"] == pytest.approx(ref.loc[g, "mean"], rel=1e-12)
        assert got.loc[g, "sd"] == pytest.approx(ref.loc[g, "std"], rel=1e-12)
        assert got.loc[g, "p50"] == pytest.approx(ref.loc[g, "median"], rel=1e-12)


def test_summary_joins_reference_region(bay):
    res = describe.summary(bay, "ht_rd_exp", by="region3")
    assert res.to_frame()["region3"].tolist() == ["east"]  # the Bay Area is all east
    assert res.to_frame()["n"].tolist() == [bay.n_obs]


def test_summary_table_layout(cities):
    table = describe.summary(cities, VARS).table(digits=2)
    assert list(table.columns) == ["Variable", "N", "Missing", "Mean", "SD", "Min", "P25",
                                   "Median", "P75", "Max"]  # fmt: skip
    assert table["N"].tolist() == [cities.n_obs] * 4
    assert "ddof=1" in describe.summary(cities, VARS).summary()


def test_summary_unknown_variable_suggests(cities):
    with pytest.raises(DataError, match="talent_lq"):
        describe.summary(cities, ["talent_lqq"])


def test_summary_rejects_text_variable(cities):
    with pytest.raises(DataError, match="not numeric"):
        describe.summary(cities, ["name_en"])


def test_summary_all_missing_group():
    from agglomera import Panel

    df = pd.DataFrame(
        {"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2], "x": [1.0, 2.0, np.nan, np.nan],
         "g": ["p", "p", "q", "q"]}
    )  # fmt: skip
    res = describe.summary(Panel(df, unit="u", time="t"), "x", by="g").to_frame()
    q = res.set_index("g").loc["q"]
    assert q["n"] == 0 and q["missing"] == 2 and np.isnan(q["mean"])
