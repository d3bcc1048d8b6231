"""Tests for the validated long panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agglomera import Panel
from agglomera.errors import DataError


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city": ["330200", "330100", "330100", "330100", "330200"],
            "year": [2011, 2010, 2011, 2013, 2010],
            "lq": [0.8, 1.0, 1.5, 2.0, np.nan],
            "region": ["east"] * 5,
        }
    )


def test_sorted_and_keys() -> None:
    p = Panel(_frame(), unit="city", time="year")
    df = p.to_frame()
    assert df["city"].tolist() == ["330100", "330100", "330100", "330200", "330200"]
    assert df["year"].tolist() == [2010, 2011, 2013, 2010, 2011]
    assert list(p.units) == ["330100", "330200"]
    assert p.times.tolist() == [2010, 2011, 2013]
    assert p.variables == ["lq", "region"]
    assert p.n_obs == 5
    assert not p.is_balanced


def test_missing_values_kept_and_reported() -> None:
    p = Panel(_frame(), unit="city", time="year")
    assert p.to_frame()["lq"].isna().sum() == 1
    miss = p.missing().set_index("variable")
    assert miss.loc["lq", "n_missing"] == 1
    assert miss.loc["lq", "first_keys"] == [("330200", 2010)]
    assert miss.loc["region", "n_missing"] == 0


def test_balance_reports_gaps() -> None:
    bal = Panel(_frame(), unit="city", time="year").balance()
    assert bal.loc["330100", "missing_periods"] == []
    assert bal.loc["330200", "missing_periods"] == [2013]
    assert bal.loc["330200", "n_periods"] == 2


def test_lag_follows_calendar_not_rows() -> None:
    p = Panel(_frame(), unit="city", time="year")
    lag = p.lag("lq")
    # 330100: 2010 -> nan, 2011 -> 1.0, 2013 -> nan (2012 absent, not the 2011 row)
    assert lag.name == "L1.lq"
    np.testing.assert_array_equal(lag.to_numpy(), [np.nan, 1.0, np.nan, np.nan, np.nan])
    lead = p.lead("lq")
    np.testing.assert_array_equal(lead.to_numpy(), [1.5, np.nan, np.nan, 0.8, np.nan])
    assert lead.name == "F1.lq"
    lag2 = p.lag("lq", 2)
    np.testing.assert_array_equal(lag2.to_numpy(), [np.nan, np.nan, 1.5, np.nan, np.nan])
    d = p.diff("lq")
    np.testing.assert_array_equal(d.to_numpy(), [np.nan, 0.5, np.nan, np.nan, np.nan])


def test_float_years_accepted_when_whole() -> None:
    df = _frame().assign(year=lambda d: d["year"].astype(float))
    p = Panel(df, unit="city", time="year")
    assert p.to_frame()["year"].dtype == np.int64


@pytest.mark.parametrize(
    ("mutate", "fragments"),
    [
        (lambda d: d.iloc[0:0], ["empty", "0 rows"]),
        (lambda d: d.drop(columns="year"), ["'year' not found", "Available columns"]),
        (lambda d: d.rename(columns={"year": "yaer"}), ["'year' not found", "Did you mean 'yaer'"]),
        (
            lambda d: d.assign(city=[None, "330100", "330100", "330100", "330200"]),
            ["'city' has 1 missing", "rows 0"],
        ),
        (lambda d: d.assign(year=[2011.5, 2010, 2011, 2013, 2010]), ["integer-like", "2011.5"]),
        (lambda d: d.assign(year=d["year"].astype(str)), ["integer-like", "astype(int)"]),
        (
            lambda d: d.assign(year=pd.to_datetime(d["year"].astype(str))),
            ["holds dates", ".dt.year"],
        ),
        (
            lambda d: d.assign(year=[2011, 2010, 2010, 2013, 2010]),
            ["must identify rows", "('330100', 2010)", "1 pairs"],
        ),
        (
            lambda d: d.assign(lq=["0.8", "1.0", "—", "2.0", "n/a"]),
            ["'lq' should be numeric", "'330100'/2011: '—'", "labels=['lq']", "na_values"],
        ),
        (lambda d: d.assign(LQ=1.0), ["differ only by case", "('lq', 'LQ')"]),
    ],
)
def test_bad_input_messages(mutate, fragments) -> None:
    with pytest.raises(DataError) as info:
        Panel(mutate(_frame()), unit="city", time="year")
    for fragment in fragments:
        assert fragment in str(info.value)


def test_declared_numeric_column_rejects_all_text() -> None:
    df = _frame().assign(lq=["a", "b", "c", "d", "e"])
    Panel(df, unit="city", time="year")  # all-text columns are labels by default
    with pytest.raises(DataError, match="'lq' should be numeric"):
        Panel(df, unit="city", time="year", numeric=["lq"])


def test_labels_exempt_from_mixed_check() -> None:
    df = _frame().assign(note=["1", "x", "2", "y", "3"])
    with pytest.raises(DataError, match="'note'"):
        Panel(df, unit="city", time="year")
    p = Panel(df, unit="city", time="year", labels=["note"])
    assert p.to_frame()["note"].tolist() == ["x", "2", "y", "3", "1"]


def test_same_column_for_unit_and_time() -> None:
    with pytest.raises(DataError, match="different columns"):
        Panel(_frame(), unit="year", time="year")


def test_subset_and_errors() -> None:
    p = Panel(_frame(), unit="city", time="year")
    s = p.subset(units=["330100"], times=[2010, 2011], variables=["lq"])
    assert s.to_frame().columns.tolist() == ["city", "year", "lq"]
    assert s.to_frame()["lq"].tolist() == [1.0, 1.5]
    assert s.provenance[-1].startswith("subset:")
    with pytest.raises(DataError, match="'330999'"):
        p.subset(units=["330999"])
    with pytest.raises(DataError, match="2030"):
        p.subset(times=[2030])
    with pytest.raises(DataError, match="boolean mask"):
        p.subset(where=[1, 0])
    masked = p.subset(where=p.to_frame()["year"].to_numpy() >= 2011)
    assert masked.n_obs == 3


def test_to_wide() -> None:
    wide = Panel(_frame(), unit="city", time="year").to_wide("lq")
    assert wide.loc["330100", 2013] == 2.0
    assert np.isnan(wide.loc["330200", 2013])
    with pytest.raises(DataError, match=r"'lqq' not found\. Did you mean 'lq'"):
        Panel(_frame(), unit="city", time="year").to_wide("lqq")


def test_with_columns_alignment() -> None:
    p = Panel(_frame(), unit="city", time="year")
    q = p.with_columns(lq2=p.column("lq") * 2)
    np.testing.assert_array_equal(q.column("lq2").to_numpy(), p.column("lq").to_numpy() * 2)
    with pytest.raises(DataError, match="has 2 values; the panel has 5 rows"):
        p.with_columns(bad=[1, 2])
    with pytest.raises(DataError, match="key column"):
        p.with_columns(year=np.zeros(5))


def test_accepts_polars_and_pyarrow() -> None:
    pl = pytest.importorskip("polars")
    import pyarrow as pa

    expected = Panel(_frame(), unit="city", time="year").to_frame()
    for native in (pl.from_pandas(_frame()), pa.Table.from_pandas(_frame())):
        got = Panel(native, unit="city", time="year").to_frame()
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_rejects_non_frames() -> None:
    with pytest.raises(DataError, match="must be a dataframe"):
        Panel([1, 2, 3], unit="a", time="b")


# ---------------------------------------------------------------- property tests
_keys = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(1990, 2030)),
    min_size=1,
    max_size=40,
    unique=True,
)


@settings(max_examples=60, deadline=None)
@given(keys=_keys, data=st.data())
def test_round_trip_long(keys, data) -> None:
    values = data.draw(
        st.lists(
            st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
            min_size=len(keys),
            max_size=len(keys),
        )
    )
    df = pd.DataFrame(
        {
            "u": [k[0] for k in keys],
            "t": [k[1] for k in keys],
            "x": pd.array(values, dtype="Float64").astype(float),
        }
    )
    p = Panel(df, unit="u", time="t")
    out = p.to_frame()
    expected = df.sort_values(["u", "t"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected)
    assert p.is_balanced == (len(keys) == df["u"].nunique() * df["t"].nunique())
    # wide round trip keeps every observed value in its cell
    back = Panel.from_wide(p.to_wide("x"), var="x", unit="u", time="t", dropna=False)
    merged = out.merge(back.to_frame(), on=["u", "t"], suffixes=("", "_back"))
    assert len(merged) == len(out)
    np.testing.assert_array_equal(merged["x"].to_numpy(), merged["x_back"].to_numpy())


@settings(max_examples=40, deadline=None)
@given(keys=_keys, k=st.integers(-3, 3))
def test_lag_matches_brute_force(keys, k) -> None:
    df = pd.DataFrame({"u": [a for a, _ in keys], "t": [b for _, b in keys]})
    df["x"] = np.arange(len(df), dtype=float)
    p = Panel(df, unit="u", time="t")
    out = p.to_frame()
    lookup = {(u, t): x for u, t, x in out.itertuples(index=False, name=None)}
    expected = [lookup.get((u, t - k), np.nan) for u, t in zip(out["u"], out["t"], strict=True)]
    np.testing.assert_array_equal(p.lag("x", k).to_numpy(), np.asarray(expected, dtype=float))


def test_join_reference_adds_city_columns() -> None:
    df = pd.DataFrame({"adcode": [330100, 330100, 441900], "year": [2010, 2011, 2010], "x": 1.0})
    p = Panel(df, unit="adcode", time="year").join_reference(("name_cn", "region3", "region4"))
    out = p.to_frame()
    assert out["name_cn"].tolist() == ["杭州市", "杭州市", "东莞市"]
    assert out["region3"].tolist() == ["east", "east", "east"]
    assert "join_reference" in p.provenance[-1]


def test_join_reference_errors() -> None:
    df = pd.DataFrame({"city": ["杭州", "330100"], "year": [2010, 2010]})
    with pytest.raises(DataError, match=r"not city adcodes: '杭州'.*harmonise_cities"):
        Panel(df, unit="city", time="year").join_reference()
    ok = Panel(df.iloc[1:], unit="city", time="year")
    with pytest.raises(DataError, match="'gdp' not in the cities table"):
        ok.join_reference(("gdp",))
    with pytest.raises(DataError, match="unknown table 'pilots'"):
        ok.join_reference(table="pilots")
