"""Ellison–Glaeser, Maurel–Sédillot and co-agglomeration against R REAT and identities.

Reference numbers and data: tests/reference/measure_indices/PROVENANCE.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agglomera.errors import DataError, SpecError
from agglomera.measure import coagglomeration, ellison_glaeser, maurel_sedillot

REF = Path(__file__).resolve().parents[1] / "reference" / "measure_indices"
FK = {"industry": "industry", "region": "region", "value": "emp_firm"}

REAT_EMP = [200, 650, 12000, 100, 50, 16000, 13000, 1500, 1500, 25000]
REAT_REG = ["Wien"] * 5 + ["Linz"] * 4 + ["Graz"]
REAT_TOTALS = {"Wien": 500000, "Linz": 400000, "Graz": 100000}


@pytest.fixture
def reat() -> pd.DataFrame:
    return pd.DataFrame({"industry": "x", "region": REAT_REG, "emp": REAT_EMP})


@pytest.fixture
def fk() -> pd.DataFrame:
    return pd.read_csv(REF / "FK2014_EGC.csv")


def test_reat_ellison_a(reat: pd.DataFrame) -> None:
    res = ellison_glaeser(
        reat, industry="industry", region="region", value="emp", region_totals=REAT_TOTALS
    )
    assert list(res.columns) == ["industry", "gamma", "G", "H", "n_plants", "note"]
    row = res.iloc[0]
    assert row["gamma"] == pytest.approx(0.05990628, rel=1e-6)
    assert row["G"] == pytest.approx(0.1681633, rel=1e-6)
    assert row["H"] == pytest.approx(0.2446888, rel=1e-6)
    assert row["n_plants"] == 10
    assert row["note"] == ""


def test_region_totals_as_frame_and_series(reat: pd.DataFrame) -> None:
    frame = pd.DataFrame({"region": list(REAT_TOTALS), "total": list(REAT_TOTALS.values())})
    series = pd.Series(REAT_TOTALS)
    a = ellison_glaeser(
        reat, industry="industry", region="region", value="emp", region_totals=frame
    )
    b = ellison_glaeser(
        reat, industry="industry", region="region", value="emp", region_totals=series
    )
    assert a["gamma"].iloc[0] == pytest.approx(0.05990628, rel=1e-6)
    pd.testing.assert_frame_equal(a, b)


def test_reat_ellison_a2_fk2014(fk: pd.DataFrame) -> None:
    # x_j pooled from plant employment over all industries in the file (not emp_region)
    res = ellison_glaeser(fk, **FK)
    assert list(res["industry"]) == [
        "Clothing trade",
        "Forestry",
        "Textiles dyeing",
        "Textiles trade",
    ]
    np.testing.assert_allclose(
        res["gamma"], [-0.09379384, 0.16838003, -0.08012539, -0.13040134], rtol=1e-6
    )
    assert list(res["n_plants"]) == [11, 13, 9, 9]


def test_fk2014_with_emp_region_differs(fk: pd.DataFrame) -> None:
    totals = fk.drop_duplicates("region")[["region", "emp_region"]]
    res = ellison_glaeser(fk, **FK, region_totals=totals)
    assert not np.allclose(res["gamma"], [-0.09379384, 0.16838003, -0.08012539, -0.13040134])


def test_maurel_sedillot_hand_computed(reat: pd.DataFrame) -> None:
    emp = np.array(REAT_EMP, dtype=float)
    s = np.array([emp[:5].sum(), emp[5:9].sum(), emp[9]]) / emp.sum()
    x = np.array([500000, 400000, 100000]) / 1e6
    h = np.sum((emp / emp.sum()) ** 2)
    g_ms = (np.sum(s**2) - np.sum(x**2)) / (1 - np.sum(x**2))
    res = maurel_sedillot(
        reat, industry="industry", region="region", value="emp", region_totals=REAT_TOTALS
    ).iloc[0]
    assert res["G"] == pytest.approx(g_ms, rel=1e-12)
    assert res["H"] == pytest.approx(h, rel=1e-12)
    assert res["gamma"] == pytest.approx((g_ms - h) / (1 - h), rel=1e-12)
    # region shares of the industry: Wien 13000, Linz 32000, Graz 25000 of 70000
    assert s.tolist() == pytest.approx([13000 / 70000, 32000 / 70000, 25000 / 70000])


def test_single_plant_gives_nan_with_note(fk: pd.DataFrame) -> None:
    extra = pd.DataFrame(
        [{"region": 1, "industry": "Lonely", "firm": "L1", "emp_firm": 500, "emp_region": 0}]
    )
    data = pd.concat([fk, extra], ignore_index=True)
    for fn in (ellison_glaeser, maurel_sedillot):
        res = fn(data, **FK).set_index("industry")
        assert math.isnan(res.loc["Lonely", "gamma"])
        assert res.loc["Lonely", "H"] == 1.0
        assert "single plant" in res.loc["Lonely", "note"]
        assert res.drop(index="Lonely")["gamma"].notna().all()
    co = coagglomeration(data, **FK, industries=["Lonely", "Forestry"])
    assert math.isnan(co["gamma_c"].iloc[0])
    assert "Lonely" in co["note"].iloc[0]


def test_coagglomeration_identity(fk: pd.DataFrame) -> None:
    """EG (1997): G_U/(1-Σx²) - H_U = γ_U (1 - H_U) for the merged group U, so
    γ^c = [γ_U (1 - H_U) - Σ_j γ_j w_j² (1 - H_j)] / (1 - Σ_j w_j²)."""
    pair = ["Clothing trade", "Textiles trade"]
    co = coagglomeration(fk, **FK, industries=pair)
    assert list(co.columns) == ["industries", "gamma_c", "G", "H", "note"]
    assert co["industries"].iloc[0] == "Clothing trade + Textiles trade"
    single = ellison_glaeser(fk, **FK).set_index("industry")
    merged = fk.assign(industry=fk["industry"].where(~fk["industry"].isin(pair), "U"))
    gu = ellison_glaeser(merged, **FK).set_index("industry").loc["U"]
    emp = fk.groupby("industry")["emp_firm"].sum()[pair]
    w = (emp / emp.sum()).to_numpy()
    gam = single.loc[pair, "gamma"].to_numpy()
    hj = single.loc[pair, "H"].to_numpy()
    expected = (gu["gamma"] * (1 - gu["H"]) - np.sum(gam * w**2 * (1 - hj))) / (1 - np.sum(w**2))
    assert co["gamma_c"].iloc[0] == pytest.approx(expected, rel=1e-10)
    assert co["H"].iloc[0] == pytest.approx(gu["H"], rel=1e-12)
    assert co["G"].iloc[0] == pytest.approx(gu["G"], rel=1e-12)


def test_coagglomeration_all_pairs(fk: pd.DataFrame) -> None:
    co = coagglomeration(fk, **FK)
    assert list(co.columns) == ["industry_a", "industry_b", "gamma_c", "G", "H", "note"]
    assert len(co) == 6
    one = coagglomeration(fk, **FK, industries=["Forestry", "Textiles dyeing"])
    row = co[(co["industry_a"] == "Forestry") & (co["industry_b"] == "Textiles dyeing")]
    assert row["gamma_c"].iloc[0] == pytest.approx(one["gamma_c"].iloc[0], rel=1e-12)


def test_time_column(fk: pd.DataFrame) -> None:
    both = pd.concat([fk.assign(year=2010), fk.assign(year=2011, emp_firm=fk["emp_firm"] * 2)])
    res = ellison_glaeser(both, **FK, time="year")
    assert list(res.columns) == ["industry", "year", "gamma", "G", "H", "n_plants", "note"]
    np.testing.assert_allclose(
        res["gamma"], [-0.09379384, 0.16838003, -0.08012539, -0.13040134] * 2, rtol=1e-6
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=2, max_size=12), st.floats(0.1, 100))
def test_scale_invariance(emp: list[int], c: float) -> None:
    regions = [f"r{i % 3}" for i in range(len(emp))]
    other = pd.DataFrame({"industry": "y", "region": ["r0", "r1", "r2"], "emp": [300, 200, 100]})
    d = pd.concat(
        [pd.DataFrame({"industry": "x", "region": regions, "emp": emp}), other], ignore_index=True
    )
    dc = d.assign(emp=d["emp"] * c)
    for fn in (ellison_glaeser, maurel_sedillot):
        a = fn(d, industry="industry", region="region", value="emp")
        b = fn(dc, industry="industry", region="region", value="emp")
        np.testing.assert_allclose(a["gamma"], b["gamma"], rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------- bad input


def test_negative_and_non_numeric(fk: pd.DataFrame) -> None:
    bad = fk.copy()
    bad.loc[2, "emp_firm"] = -1
    with pytest.raises(DataError, match=r"'emp_firm'.*negative.*CT03"):
        ellison_glaeser(bad, **FK)
    with pytest.raises(DataError, match=r"'emp_firm' must be numeric"):
        maurel_sedillot(fk.assign(emp_firm=fk["emp_firm"].astype(str)), **FK)


def test_region_without_total(reat: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'Graz'.*region_totals"):
        ellison_glaeser(
            reat,
            industry="industry",
            region="region",
            value="emp",
            region_totals={"Wien": 1.0, "Linz": 2.0},
        )


def test_zero_industry_and_missing_column(fk: pd.DataFrame) -> None:
    bad = fk.assign(emp_firm=np.where(fk["industry"] == "Forestry", 0, fk["emp_firm"]))
    with pytest.raises(DataError, match=r"'Forestry' has zero total"):
        ellison_glaeser(bad, **FK)
    with pytest.raises(DataError, match=r"did you mean 'emp_firm'"):
        ellison_glaeser(fk, industry="industry", region="region", value="emp_frim")


def test_coagglomeration_bad_sets(fk: pd.DataFrame) -> None:
    with pytest.raises(SpecError):
        coagglomeration(fk, **FK, industries=["Forestry"])
    with pytest.raises(DataError, match=r"'Mining'"):
        coagglomeration(fk, **FK, industries=["Forestry", "Mining"])


# --------------------------------------------------------------------- engines


def _to_pandas(x: object) -> pd.DataFrame:
    import narwhals as nw

    frame = nw.from_native(x)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()


@pytest.mark.parametrize("fn", [ellison_glaeser, maurel_sedillot, coagglomeration])
def test_engines_identical(fn, fk: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    expected = fn(fk, **FK)
    for name, native in {"polars": pl.from_pandas(fk), "duckdb": duckdb.from_df(fk)}.items():
        out = fn(native, **FK)
        assert type(out).__module__.split(".")[0] == name
        pd.testing.assert_frame_equal(_to_pandas(out), expected, check_dtype=False, obj=name)


@pytest.mark.spark
def test_spark_identical(fk: pd.DataFrame) -> None:
    pytest.importorskip("pyspark", reason="pyspark not installed (optional extra `spark`)")
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").appName("agglomera-test").getOrCreate()
    sdf = spark.createDataFrame(fk)
    for fn in (ellison_glaeser, maurel_sedillot, coagglomeration):
        got = _to_pandas(fn(sdf, **FK))
        pd.testing.assert_frame_equal(got, fn(fk, **FK), check_dtype=False)


def test_region_totals_per_period(reat: pd.DataFrame) -> None:
    both = pd.concat([reat.assign(year=1), reat.assign(year=2)], ignore_index=True)
    totals = pd.DataFrame(
        {
            "region": list(REAT_TOTALS) * 2,
            "year": [1, 1, 1, 2, 2, 2],
            "emp": [*REAT_TOTALS.values(), 1.0, 1.0, 1.0],
        }
    )
    res = ellison_glaeser(
        both, industry="industry", region="region", value="emp", time="year", region_totals=totals
    )
    assert res["gamma"].iloc[0] == pytest.approx(0.05990628, rel=1e-6)
    s = np.array([13000, 32000, 25000]) / 70000
    assert res["G"].iloc[1] == pytest.approx(float(np.sum((s - 1 / 3) ** 2)), rel=1e-12)
