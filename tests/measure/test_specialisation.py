"""Specialisation and concentration indices against R REAT / EconGeo and exact derivations.

Reference numbers and data: tests/reference/measure_indices/PROVENANCE.md.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agglomera.errors import DataError, SpecError
from agglomera.measure import (
    dagum_gini,
    diversity,
    herfindahl,
    hoover,
    hoover_gini,
    krugman,
    locational_gini,
    spatial_gini_raw,
    theil,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "measure_indices"
KW = {"region": "region", "industry": "industry", "value": "emp"}

ECONGEO = np.array(
    [
        [100, 0, 0, 0, 0],
        [0, 15, 5, 70, 10],
        [0, 20, 10, 20, 50],
        [0, 25, 30, 5, 40],
        [0, 40, 55, 5, 0],
    ],
    dtype=float,
)


def long_from_matrix(mat: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (f"R{r + 1}", f"I{i + 1}", mat[r, i])
            for r in range(mat.shape[0])
            for i in range(mat.shape[1])
        ],
        columns=["region", "industry", "emp"],
    )


@pytest.fixture
def econgeo() -> pd.DataFrame:
    return long_from_matrix(ECONGEO)


def close(actual: pd.Series | list[float], expected: list[float], **kw: float) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, **kw)


# --------------------------------------------------------------------- EconGeo 2.1 example


def test_econgeo_locational_gini_area_and_gini(econgeo: pd.DataFrame) -> None:
    # EconGeo locational_gini = Krugman's area (max 1/2); EconGeo gini = area / (1/2)
    area = locational_gini(econgeo, **KW, scale="area")
    assert list(area["industry"]) == ["I1", "I2", "I3", "I4", "I5"]
    close(area["locational_gini"], [0.40, 0.18, 0.27, 0.31, 0.28], rtol=1e-12)
    gini = locational_gini(econgeo, **KW)
    close(gini["locational_gini"], [0.80, 0.36, 0.54, 0.62, 0.56], rtol=1e-12)
    # EconGeo `gini` is the plain Gini of the counts: uniform reference gives the same here
    uniform = hoover_gini(econgeo, **KW, reference="uniform")
    close(uniform["hoover_gini"], [0.80, 0.36, 0.54, 0.62, 0.56], rtol=1e-12)


def test_econgeo_by_region(econgeo: pd.DataFrame) -> None:
    k = krugman(econgeo, **KW)
    assert list(k["region"]) == ["R1", "R2", "R3", "R4", "R5"]
    close(k["krugman"], [1.6, 1.0, 0.6, 0.7, 1.1], rtol=1e-12)
    h = hoover(econgeo, **KW, orientation="specialisation")
    close(h["hoover"], [0.80, 0.50, 0.30, 0.35, 0.55], rtol=1e-12)
    hh = herfindahl(econgeo, **KW)
    close(hh["herfindahl"], [1, 0.525, 0.340, 0.315, 0.465], rtol=1e-12)
    e = diversity(econgeo, **KW, base=2)
    close(e["entropy"], [0, 1.319, 1.761, 1.766, 1.219], atol=5e-4)  # printed to 3 d.p.
    assert e["entropy"].iloc[0] == 0.0


def test_econgeo_hoover_gini_and_index() -> None:
    d = pd.DataFrame(
        {"region": list("abcde"), "ind": [0, 10, 10, 30, 50], "pop": [10, 15, 20, 25, 30]}
    )
    g = hoover_gini(d, region="region", value="ind", reference="pop")
    assert list(g.columns) == ["hoover_gini"]
    assert g["hoover_gini"].iloc[0] == pytest.approx(0.31, rel=1e-12)
    d["industry"] = "x"
    h = hoover(d, region="region", industry="industry", value="ind", reference="pop", percent=True)
    assert h["hoover"].iloc[0] == pytest.approx(25.0, rel=1e-12)


# --------------------------------------------------------------------- REAT 3.0.3 examples


def test_reat_gini_conc() -> None:
    d = pd.DataFrame(
        {
            "region": list("abcde"),
            "industry": "i",
            "emp": [500, 500, 1000, 7000, 1000],
            "total": [20000, 15000, 20000, 40000, 5000],
        }
    )
    g = locational_gini(d, **KW, reference="total", method="lq")
    assert g["locational_gini"].iloc[0] == pytest.approx(0.4068966, rel=1e-6)


def test_reat_gini_spec_krugman_herf() -> None:
    d = pd.DataFrame(
        {"region": "r", "industry": list("abcde"), "emp": [700, 600, 500, 10000, 40000]}
    )
    nat = pd.DataFrame({"industry": list("abcde"), "emp": [30000, 15000, 10000, 60000, 50000]})
    g = locational_gini(d, **KW, orientation="specialisation", reference=nat, method="lq")
    assert g["locational_gini"].iloc[0] == pytest.approx(0.6222222, rel=1e-6)

    d = pd.DataFrame({"region": "r", "industry": list("abcde"), "emp": [20, 10, 70, 0, 0]})
    nat = pd.DataFrame({"industry": list("abcde"), "emp": [0, 0, 0, 60, 40]})
    assert krugman(d, **KW, reference=nat)["krugman"].iloc[0] == pytest.approx(2.0, rel=1e-12)

    d = pd.DataFrame({"region": "r", "industry": list("abcd"), "emp": [20, 50, 20, 10]})
    assert herfindahl(d, **KW)["herfindahl"].iloc[0] == pytest.approx(0.34, rel=1e-12)
    h = herfindahl(d, **KW, normalised=True)
    assert h["herfindahl"].iloc[0] == pytest.approx(0.12, rel=1e-12)


@pytest.fixture
def goettingen() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[int, float]]:
    raw = pd.read_csv(REF / "Goettingen.csv")
    total = raw[raw["WZ2008_Code"] == "A-R"]
    sectors = raw[raw["WZ2008_Code"] != "A-R"]

    def long(prefix: str) -> pd.DataFrame:
        out = sectors.melt(
            id_vars=["WZ2008_Code"],
            value_vars=[f"{prefix}{y}" for y in range(2008, 2018)],
            var_name="year",
            value_name="emp",
        )
        out["year"] = out["year"].str[-4:].astype(int)
        return out.rename(columns={"WZ2008_Code": "industry"})

    go = long("Goettingen").assign(region="Goettingen")
    brd = long("BRD")
    totals = pd.DataFrame(
        {
            "region": "Goettingen",
            "year": list(range(2008, 2018)),
            "emp": [int(total[f"Goettingen{y}"].iloc[0]) for y in range(2008, 2018)],
        }
    )
    brd_total = {y: float(total[f"BRD{y}"].iloc[0]) for y in range(2008, 2018)}
    return go, brd, totals, brd_total


def test_reat_goettingen_2017(goettingen) -> None:  # type: ignore[no-untyped-def]
    go, brd, totals, brd_total = goettingen
    kw = {**KW, "time": "year"}
    k = krugman(go, **kw, reference=brd)
    assert list(k["year"]) == list(range(2008, 2018))
    assert k.loc[k["year"] == 2017, "krugman"].iloc[0] == pytest.approx(0.4508469, rel=1e-6)
    g = locational_gini(go, **kw, orientation="specialisation", reference=brd, method="lq")
    assert g.loc[g["year"] == 2017, "locational_gini"].iloc[0] == pytest.approx(0.359852, rel=1e-6)
    # with the A–R total row as the denominators (REAT: 0.4477, printed to 4 d.p.)
    kt = krugman(go, **kw, reference=brd, totals=totals, reference_total=brd_total)
    assert kt.loc[kt["year"] == 2017, "krugman"].iloc[0] == pytest.approx(0.4477, abs=5e-5)


# --------------------------------------------------------------------- other definitions


def test_krugman_pairs_and_rest(econgeo: pd.DataFrame) -> None:
    pairs = krugman(econgeo, **KW, pairs=True)
    assert list(pairs.columns) == ["region_a", "region_b", "krugman"]
    assert len(pairs) == 10
    s = ECONGEO / ECONGEO.sum(axis=1, keepdims=True)
    row = pairs[(pairs["region_a"] == "R2") & (pairs["region_b"] == "R5")]
    assert row["krugman"].iloc[0] == pytest.approx(np.abs(s[1] - s[4]).sum())
    rest = krugman(econgeo, **KW, reference="rest")
    other = ECONGEO[1:].sum(axis=0) / ECONGEO[1:].sum()
    assert rest["krugman"].iloc[0] == pytest.approx(np.abs(s[0] - other).sum())


def test_hoover_localisation_and_spatial_gini_raw(econgeo: pd.DataFrame) -> None:
    s = ECONGEO / ECONGEO.sum(axis=0)
    x = ECONGEO.sum(axis=1) / ECONGEO.sum()
    h = hoover(econgeo, **KW)
    close(h["hoover"], 0.5 * np.abs(s - x[:, None]).sum(axis=0), rtol=1e-12)
    raw = spatial_gini_raw(econgeo, **KW)
    close(raw["spatial_gini_raw"], ((s - x[:, None]) ** 2).sum(axis=0), rtol=1e-12)


def test_small_sample_correction_gives_one_for_full_concentration(econgeo: pd.DataFrame) -> None:
    g = locational_gini(econgeo, **KW, method="lq", small_sample=True)
    assert g["locational_gini"].iloc[0] == pytest.approx(1.0)


def test_time_is_computed_per_period(econgeo: pd.DataFrame) -> None:
    both = pd.concat([econgeo.assign(year=2000), econgeo.assign(year=2001, emp=econgeo.emp * 3)])
    k = krugman(both, **KW, time="year")
    assert list(k.columns) == ["region", "year", "krugman"]
    close(k["krugman"], [1.6, 1.0, 0.6, 0.7, 1.1] * 2, rtol=1e-12)


def test_microdata_are_summed_first(econgeo: pd.DataFrame) -> None:
    split = pd.concat(
        [econgeo.assign(emp=econgeo.emp * 0.25), econgeo.assign(emp=econgeo.emp * 0.75)]
    )
    pd.testing.assert_frame_equal(herfindahl(split, **KW), herfindahl(econgeo, **KW))


def test_absent_pairs_count_as_zero(econgeo: pd.DataFrame) -> None:
    sparse = econgeo[econgeo["emp"] > 0]
    pd.testing.assert_frame_equal(krugman(sparse, **KW), krugman(econgeo, **KW))
    pd.testing.assert_frame_equal(herfindahl(sparse, **KW), herfindahl(econgeo, **KW))


# --------------------------------------------------------------------- Theil


def test_theil_against_pysal_inequality() -> None:
    ineq = pytest.importorskip(
        "inequality.theil", reason="oracle: pysal `inequality` not installed"
    )
    rng = np.random.default_rng(3)
    d = pd.DataFrame(
        {
            "city": [f"c{i}" for i in range(30)],
            "talent": rng.gamma(2.0, 50.0, 30),
            "region3": rng.choice(["east", "central", "west"], 30),
        }
    )
    t = theil(d, region="city", value="talent", group="region3")
    oracle = ineq.TheilD(d["talent"].to_numpy()[:, None], d["region3"].to_numpy())
    assert t["theil"].iloc[0] == pytest.approx(float(oracle.T[0]), rel=1e-10)
    assert t["between"].iloc[0] == pytest.approx(float(oracle.bg[0]), rel=1e-10)
    assert t["within"].iloc[0] == pytest.approx(float(oracle.wg[0]), rel=1e-10)


def test_theil_hand_values_and_identity(econgeo: pd.DataFrame) -> None:
    # all in one of n regions: T = ln n; equal: T = 0
    d = pd.DataFrame({"city": list("abcd"), "y": [0, 0, 0, 5.0]})
    assert theil(d, region="city", value="y")["theil"].iloc[0] == pytest.approx(math.log(4))
    d = pd.DataFrame({"city": list("abcd"), "y": [2.0] * 4})
    assert theil(d, region="city", value="y")["theil"].iloc[0] == pytest.approx(0.0)
    groups = {"R1": "east", "R2": "east", "R3": "west", "R4": "west", "R5": "central"}
    data = econgeo.assign(region3=econgeo["region"].map(groups))
    t = theil(
        data, region="region", industry="industry", value="emp", group="region3", reference="sample"
    )
    close(t["between"] + t["within"], t["theil"], rtol=1e-12)


# --------------------------------------------------------------------- Dagum


def test_dagum_gini_hand_derivation() -> None:
    d = pd.read_csv(REF / "dagum_example.csv")
    res = dagum_gini(d, region="city", value="y", group="region3")
    expected = {
        "gini": Fraction(80, 231),
        "within": Fraction(16, 231),
        "between_net": Fraction(20, 77),
        "transvariation": Fraction(4, 231),
    }
    for col, value in expected.items():
        assert res[col].iloc[0] == pytest.approx(float(value), rel=1e-12)
    close(
        res[["share_within", "share_between_net", "share_transvariation"]].iloc[0],
        [0.2, 0.75, 0.05],
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0, 1e4, allow_nan=False), min_size=3, max_size=15),
    st.randoms(use_true_random=False),
)
def test_dagum_identity_and_overall_gini(values: list[float], rnd) -> None:  # type: ignore[no-untyped-def]
    y = np.asarray(values)
    if y.sum() <= 0:
        return
    groups = [rnd.choice(["east", "central", "west"]) for _ in values]
    d = pd.DataFrame({"city": range(len(values)), "y": y, "g": groups})
    res = dagum_gini(d, region="city", value="y", group="g").iloc[0]
    assert res["within"] + res["between_net"] + res["transvariation"] == pytest.approx(
        res["gini"], rel=1e-12, abs=1e-15
    )
    # the mean-difference Gini, written with the sum so that tiny totals do not underflow
    md = np.abs(y[:, None] - y[None, :]).sum() / (2 * len(y) * y.sum())
    assert res["gini"] == pytest.approx(md, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------- properties

matrices = st.integers(2, 6).flatmap(
    lambda r: st.integers(2, 6).flatmap(
        lambda c: st.lists(
            st.lists(st.integers(1, 1000), min_size=c, max_size=c), min_size=r, max_size=r
        )
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrices, st.floats(0.01, 1000))
def test_scale_invariance_and_bounds(rows: list[list[int]], c: float) -> None:
    mat = np.asarray(rows, dtype=float)
    d = long_from_matrix(mat)
    dc = d.assign(emp=d["emp"] * c)
    n_reg, n_ind = mat.shape
    for fn, col, extra in [
        (krugman, "krugman", {}),
        (hoover, "hoover", {}),
        (locational_gini, "locational_gini", {}),
        (locational_gini, "locational_gini", {"method": "lq", "orientation": "specialisation"}),
        (herfindahl, "herfindahl", {}),
        (diversity, "entropy", {"base": math.e}),
        (spatial_gini_raw, "spatial_gini_raw", {}),
        (theil, "theil", {"reference": "sample"}),
    ]:
        a = fn(d, **KW, **extra)[col].to_numpy()
        b = fn(dc, **KW, **extra)[col].to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{fn.__name__} {extra}")
    k = krugman(d, **KW)["krugman"]
    assert ((k >= 0) & (k <= 2 + 1e-12)).all()
    kp = krugman(d, **KW, pairs=True)["krugman"]
    assert ((kp >= 0) & (kp <= 2 + 1e-12)).all()
    h = herfindahl(d, **KW)["herfindahl"]
    assert ((h >= 1 / n_ind - 1e-12) & (h <= 1 + 1e-12)).all()
    hl = herfindahl(d, **KW, orientation="localisation")["herfindahl"]
    assert ((hl >= 1 / n_reg - 1e-12) & (hl <= 1 + 1e-12)).all()
    for extra in [{}, {"method": "lq"}, {"orientation": "specialisation"}]:
        g = locational_gini(d, **KW, **extra)["locational_gini"]  # type: ignore[arg-type]
        assert ((g >= -1e-12) & (g <= 1 + 1e-12)).all()
    g = hoover_gini(d, **KW)["hoover_gini"]
    assert ((g >= -1e-12) & (g <= 1 + 1e-12)).all()


# --------------------------------------------------------------------- bad input


def test_negative_values_are_named(econgeo: pd.DataFrame) -> None:
    bad = econgeo.copy()
    bad.loc[3, "emp"] = -5
    with pytest.raises(DataError, match=r"'emp'.*negative.*R1"):
        krugman(bad, **KW)


def test_non_numeric_values(econgeo: pd.DataFrame) -> None:
    bad = econgeo.assign(emp=econgeo["emp"].astype(str))
    with pytest.raises(DataError, match=r"'emp' must be numeric"):
        herfindahl(bad, **KW)


def test_missing_values(econgeo: pd.DataFrame) -> None:
    bad = econgeo.copy()
    bad.loc[0, "emp"] = np.nan
    with pytest.raises(DataError, match=r"missing"):
        hoover(bad, **KW)


def test_zero_total_region_errors_with_fix(econgeo: pd.DataFrame) -> None:
    bad = econgeo.copy()
    bad.loc[bad["region"] == "R3", "emp"] = 0
    with pytest.raises(DataError, match=r"regions with zero total employment.*'R3'.*Fix"):
        krugman(bad, **KW)
    with pytest.raises(DataError, match=r"'R3'.*Fix"):
        herfindahl(bad, **KW)


def test_zero_total_industry_errors_for_localisation(econgeo: pd.DataFrame) -> None:
    bad = econgeo.copy()
    bad.loc[bad["industry"] == "I1", "emp"] = 0
    bad.loc[(bad["region"] == "R1") & (bad["industry"] != "I1"), "emp"] = 1  # R1 non-empty
    with pytest.raises(DataError, match=r"industries with zero total employment.*'I1'"):
        locational_gini(bad, **KW)


def test_missing_column_suggests(econgeo: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'Emp'.*did you mean 'emp'"):
        krugman(econgeo, region="region", industry="industry", value="Emp")


def test_reference_missing_industry(econgeo: pd.DataFrame) -> None:
    nat = pd.DataFrame({"industry": ["I1", "I2"], "emp": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"not in the reference table"):
        krugman(econgeo, **KW, reference=nat)


def test_group_must_be_constant_within_region(econgeo: pd.DataFrame) -> None:
    d = econgeo.assign(region3=np.where(econgeo["industry"] == "I1", "east", "west"))
    with pytest.raises(DataError, match=r"'region3' must take a single value"):
        theil(d, region="region", industry="industry", value="emp", group="region3")


def test_bad_options(econgeo: pd.DataFrame) -> None:
    with pytest.raises(SpecError):
        krugman(econgeo, **KW, reference="national")
    with pytest.raises(SpecError):
        locational_gini(econgeo, **KW, method="weighted")
    with pytest.raises(SpecError):
        herfindahl(econgeo, **KW, orientation="regions")
    with pytest.raises(SpecError):
        diversity(econgeo, **KW, base=1)
    with pytest.raises(DataError, match=r"not found"):
        hoover(econgeo, **KW, reference="population")


def test_dagum_duplicates_error() -> None:
    d = pd.DataFrame({"city": ["a", "a", "b"], "y": [1.0, 2.0, 3.0], "g": ["e", "e", "w"]})
    with pytest.raises(DataError, match=r"one row per city"):
        dagum_gini(d, region="city", value="y", group="g")


# --------------------------------------------------------------------- engines


def _engine_inputs(d: pd.DataFrame) -> dict[str, object]:
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    return {"polars": pl.from_pandas(d), "duckdb": duckdb.from_df(d)}


def _to_pandas(x: object) -> pd.DataFrame:
    import narwhals as nw

    frame = nw.from_native(x)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()


CALLS = [
    (krugman, {}),
    (krugman, {"pairs": True}),
    (hoover, {}),
    (locational_gini, {"method": "lq", "orientation": "specialisation"}),
    (herfindahl, {"normalised": True}),
    (diversity, {"base": 2}),
    (spatial_gini_raw, {}),
    (hoover_gini, {}),
    (theil, {"reference": "sample", "group": "region3"}),
]


def _panel() -> pd.DataFrame:
    d = long_from_matrix(ECONGEO)
    both = pd.concat([d.assign(year=2000), d.assign(year=2001, emp=d["emp"] + 1)])
    groups = {"R1": "east", "R2": "east", "R3": "west", "R4": "west", "R5": "central"}
    return both.assign(region3=both["region"].map(groups)).reset_index(drop=True)


@pytest.mark.parametrize(("fn", "extra"), CALLS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_engines_identical(fn, extra) -> None:  # type: ignore[no-untyped-def]
    d = _panel()
    expected = fn(d, **KW, time="year", **extra)
    assert isinstance(expected, pd.DataFrame)
    for name, native in _engine_inputs(d).items():
        out = fn(native, **KW, time="year", **extra)
        assert type(out).__module__.split(".")[0] == name
        got = _to_pandas(out)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=name)


def test_engines_dagum() -> None:
    d = pd.read_csv(REF / "dagum_example.csv")
    expected = dagum_gini(d, region="city", value="y", group="region3")
    for name, native in _engine_inputs(d).items():
        got = _to_pandas(dagum_gini(native, region="city", value="y", group="region3"))
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=name)


def test_path_input(tmp_path: Path) -> None:
    d = _panel()
    path = tmp_path / "emp.parquet"
    d.to_parquet(path)
    pd.testing.assert_frame_equal(
        krugman(str(path), **KW, time="year"), krugman(d, **KW, time="year"), check_dtype=False
    )


@pytest.mark.spark
def test_spark_identical() -> None:
    pytest.importorskip("pyspark", reason="pyspark not installed (optional extra `spark`)")
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").appName("agglomera-test").getOrCreate()
    d = _panel()
    sdf = spark.createDataFrame(d)
    for fn, extra in CALLS:
        got = _to_pandas(fn(sdf, **KW, time="year", **extra))
        expected = fn(d, **KW, time="year", **extra)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_like=False)


def test_docs_worked_example() -> None:
    """The numbers quoted in docs/measure-indices.md (derived there by hand)."""
    df = pd.DataFrame(
        {
            "city": ["A", "A", "B", "B", "C", "C"],
            "sector": ["ict", "mfg"] * 3,
            "emp": [60, 40, 10, 190, 30, 70],
            "region3": ["east"] * 4 + ["west"] * 2,
        }
    )
    kw = {"region": "city", "industry": "sector", "value": "emp"}
    close(krugman(df, **kw)["krugman"], [0.7, 0.4, 0.1], rtol=1e-12)
    close(hoover(df, **kw, orientation="specialisation")["hoover"], [0.35, 0.2, 0.05])
    assert locational_gini(df, **kw)["locational_gini"].iloc[0] == pytest.approx(0.475)
    lg = locational_gini(df, **kw, scale="area")
    assert lg["locational_gini"].iloc[0] == pytest.approx(0.2375)
    lq = locational_gini(df, **kw, method="lq")
    assert lq["locational_gini"].iloc[0] == pytest.approx(8.8 / (18 * 3.8 / 3))
    assert hoover(df, **kw)["hoover"].iloc[0] == pytest.approx(0.4)
    assert spatial_gini_raw(df, **kw)["spatial_gini_raw"].iloc[0] == pytest.approx(0.285)
    assert herfindahl(df, **kw)["herfindahl"].iloc[1] == pytest.approx(0.905)
    t = theil(df, **kw, group="region3", reference="sample").iloc[0]
    assert t["theil"] == pytest.approx(
        0.6 * math.log(2.4) + 0.1 * math.log(0.2) + 0.3 * math.log(1.2)
    )


def test_totals_and_reference_errors(econgeo: pd.DataFrame) -> None:
    totals = pd.DataFrame({"region": ["R1", "R2"], "emp": [200.0, 200.0]})
    with pytest.raises(DataError, match=r"totals has no row for 'R3'"):
        krugman(econgeo, **KW, totals=totals)
    with pytest.raises(SpecError, match=r"without industry="):
        hoover_gini(econgeo, region="region", value="emp")
    with pytest.raises(SpecError, match=r"pairs=True"):
        krugman(econgeo, **KW, pairs=True, reference="rest")
    with pytest.raises(SpecError, match=r"specialisation"):
        hoover(econgeo, **KW, reference="rest")


def test_theil_with_population_column_and_time() -> None:
    d = pd.DataFrame(
        {
            "city": list("abcd") * 2,
            "year": [2010] * 4 + [2011] * 4,
            "talent": [10.0, 20.0, 30.0, 40.0, 5.0, 5.0, 5.0, 85.0],
            "pop": [100.0, 100.0, 200.0, 100.0] * 2,
            "region3": ["east", "east", "west", "west"] * 2,
        }
    )
    t = theil(d, region="city", value="talent", time="year", group="region3", reference="pop")
    assert list(t.columns) == ["year", "theil", "between", "within"]
    for i, year in enumerate([2010, 2011]):
        part = d[d["year"] == year]
        s = part["talent"].to_numpy() / part["talent"].sum()
        x = part["pop"].to_numpy() / part["pop"].sum()
        assert t["theil"].iloc[i] == pytest.approx(float(np.sum(s * np.log(s / x))), rel=1e-12)
        sg = np.array([s[:2].sum(), s[2:].sum()])
        xg = np.array([x[:2].sum(), x[2:].sum()])
        assert t["between"].iloc[i] == pytest.approx(float(np.sum(sg * np.log(sg / xg))))
    with pytest.raises(DataError, match=r"'pop' must take a single value"):
        theil(d.assign(pop=range(8)), region="city", value="talent", reference="pop")
