"""Location quotients, average LQ, Hachman index and densities.

Reference numbers (tests/reference/measure_lq/PROVENANCE.md):
- REAT 3.0.3 manual, ``locq(1714, 79006, 879213, 15593224)`` = 0.3847623;
- EconGeo 2.1 example matrix: ``location_quotient`` rows and ``location_quotient_avg``;
  ``hachman`` is its inverse (EconGeo source);
- Goettingen.csv (REAT), 2017 LQs with the A–R total row as denominators (4 d.p.).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agglomera.errors import DataError, SpecError
from agglomera.measure.location_quotients import (
    average_lq,
    density_per_10k,
    hachman,
    location_quotient,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "measure_lq"

ECONGEO = np.array(
    [
        [100, 0, 0, 0, 0],
        [0, 15, 5, 70, 10],
        [0, 20, 10, 20, 50],
        [0, 25, 30, 5, 40],
        [0, 40, 55, 5, 0],
    ]
)
ECONGEO_LQ = np.array(
    [
        [5, 0, 0, 0, 0],
        [0, 0.75, 0.25, 3.5, 0.5],
        [0, 1, 0.5, 1, 2.5],
        [0, 1.25, 1.5, 0.25, 2],
        [0, 2, 2.75, 0.25, 0],
    ]
)
ECONGEO_AVG = [5, 2.625, 1.7, 1.575, 2.325]
GOETTINGEN_2017 = [
    0.0841, 0.4009, 0.5369, 0.3437, 0.7460, 0.6712, 0.9814, 0.9165,
    0.8265, 1.5303, 0.9584, 1.0351, 2.7779, 1.6746, 0.3532,
]  # fmt: skip


def long_matrix(mat: np.ndarray, *, time: object = None) -> pd.DataFrame:
    rows = [
        (f"R{r + 1}", f"I{i + 1}", int(mat[r, i]))
        for r in range(mat.shape[0])
        for i in range(mat.shape[1])
    ]
    out = pd.DataFrame(rows, columns=["region", "industry", "emp"])
    if time is not None:
        out["year"] = time
    return out


def lq_matrix(out: pd.DataFrame) -> np.ndarray:
    return out.pivot(index="region", columns="industry", values="lq").to_numpy()


# ----------------------------------------------------------------------------- references


def test_reat_locq_manual_example() -> None:
    # REAT: locq(e_ij = 1714, e_j = 79006, e_i = 879213, e = 15593224) = 0.3847623
    data = pd.DataFrame({"region": ["j"], "emp": [1714], "total": [79006]})
    national = pd.DataFrame({"emp": [879213], "total": [15593224]})
    out = location_quotient(
        data, region="region", time=None, value="emp", total="total", reference=national
    )
    assert out["lq"].iloc[0] == pytest.approx(0.3847623, rel=1e-6)
    # the same reference given as a share
    share = pd.DataFrame({"share": [879213 / 15593224]})
    out2 = location_quotient(
        data, region="region", time=None, value="emp", total="total", reference=share
    )
    assert out2["lq"].iloc[0] == pytest.approx(out["lq"].iloc[0], rel=1e-15)


def test_econgeo_matrix_lq_avg_and_hachman() -> None:
    data = long_matrix(ECONGEO)
    kw = {"region": "region", "time": None, "value": "emp", "industry": "industry"}
    out = location_quotient(data, **kw)
    np.testing.assert_allclose(lq_matrix(out), ECONGEO_LQ, rtol=1e-12, atol=1e-15)
    avg = average_lq(data, **kw)
    assert list(avg.columns) == ["region", "average_lq"]
    np.testing.assert_allclose(avg["average_lq"], ECONGEO_AVG, rtol=1e-12)
    hi = hachman(data, **kw)
    np.testing.assert_allclose(hi["hachman"], 1 / np.array(ECONGEO_AVG), rtol=1e-12)


def goettingen_long() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Göttingen (region) and Germany (reference) in long form, 2008–2017."""
    raw = pd.read_csv(REF / "Goettingen.csv")
    assert raw["WZ2008_Code"].iloc[0] == "A-R"  # the first row is the A–R total
    totals, sectors = raw.iloc[0], raw.iloc[1:]
    rows, ref = [], []
    for year in range(2008, 2018):
        for _, s in sectors.iterrows():
            rows.append(("Goettingen", s["WZ2008_Code"], year, s[f"Goettingen{year}"],
                         totals[f"Goettingen{year}"]))  # fmt: skip
            ref.append((s["WZ2008_Code"], year, s[f"BRD{year}"], totals[f"BRD{year}"]))
    data = pd.DataFrame(rows, columns=["region", "sector", "year", "emp", "emp_total"])
    national = pd.DataFrame(ref, columns=["sector", "year", "emp", "emp_total"])
    return data, national


def test_goettingen_2017_with_total_row() -> None:
    data, national = goettingen_long()
    out = location_quotient(
        data, region="region", time="year", value="emp", industry="sector",
        total="emp_total", reference=national, keep_shares=True,
    )  # fmt: skip
    assert len(out) == 15 * 10
    y17 = out[out["year"] == 2017].set_index("sector").loc[data["sector"].unique()[:15]]
    # reference numbers are rounded to 4 d.p.
    np.testing.assert_allclose(y17["lq"], GOETTINGEN_2017, atol=5e-5 + 1e-12)
    assert out.attrs["agglomera"]["reference"] == "frame"
    assert out.attrs["agglomera"]["region_total"] == "column 'emp_total'"
    # shares: E_rit / E_rt with the total row, and E_it / E_t
    assert y17.loc["C", "region_share"] == pytest.approx(7874 / 69403, rel=1e-12)
    assert y17.loc["C", "reference_share"] == pytest.approx(6797172 / 32164973, rel=1e-12)


def test_goettingen_total_as_frame_and_reference_shares() -> None:
    data, national = goettingen_long()
    region_totals = data[["region", "year", "emp_total"]].drop_duplicates()
    shares = national.assign(share=national["emp"] / national["emp_total"])[
        ["sector", "year", "share"]
    ]
    out = location_quotient(
        data.drop(columns="emp_total"), region="region", time="year", value="emp",
        industry="sector", total=region_totals, reference=shares,
    )  # fmt: skip
    y17 = out[out["year"] == 2017]["lq"].to_numpy()
    np.testing.assert_allclose(y17, sorted_like(data, GOETTINGEN_2017), atol=5e-5 + 1e-12)


def sorted_like(data: pd.DataFrame, values: list[float]) -> np.ndarray:
    """The file-order values re-ordered like the (sorted) result."""
    codes = list(data["sector"].unique())
    order = np.argsort(codes, kind="stable")
    return np.asarray(values)[order]


def test_goettingen_average_lq_matches_hand_formula() -> None:
    data, national = goettingen_long()
    avg = average_lq(
        data, region="region", time="year", value="emp", industry="sector",
        total="emp_total", reference=national,
    )  # fmt: skip
    raw = pd.read_csv(REF / "Goettingen.csv")
    g = raw["Goettingen2017"].to_numpy(float)
    b = raw["BRD2017"].to_numpy(float)
    s = g[1:] / g[0]
    expected = float(np.sum(s * s / (b[1:] / b[0])))
    got = avg.loc[avg["year"] == 2017, "average_lq"].iloc[0]
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(1.2619371179, rel=1e-9)


# ----------------------------------------------------------------------------- forms


def test_microdata_rows_are_summed_first() -> None:
    cells = long_matrix(ECONGEO)
    # split each cell into three "firms" (one with zero employment)
    firms = pd.concat(
        [
            cells.assign(emp=cells["emp"] // 3),
            cells.assign(emp=cells["emp"] - 2 * (cells["emp"] // 3)),
            cells.assign(emp=cells["emp"] // 3),
            cells.assign(emp=0),
        ],
        ignore_index=True,
    )
    kw = {"region": "region", "time": None, "value": "emp", "industry": "industry"}
    out = location_quotient(firms, **kw)
    np.testing.assert_allclose(lq_matrix(out), ECONGEO_LQ, rtol=1e-12, atol=1e-15)
    assert out.attrs["agglomera"]["cells"] == 25
    np.testing.assert_array_equal(out["emp"], location_quotient(cells, **kw)["emp"])


def test_wide_talent_lq_equals_long_form_with_industry_groups() -> None:
    rng = np.random.default_rng(1)
    cities = [f"33{i:02d}00" for i in range(1, 12)]
    sectors = ["C", "F", "I", "M", "Q"]
    rows = [
        (c, s, y, int(rng.integers(1, 1000))) for c in cities for s in sectors for y in (2018, 2019)
    ]
    long = pd.DataFrame(rows, columns=["city", "industry", "year", "emp"])
    wide = long.pivot_table(index=["city", "year"], columns="industry", values="emp")
    wide = wide.rename(columns=lambda c: f"emp_{c}").reset_index()
    wide["emp_total"] = wide[[f"emp_{s}" for s in sectors]].sum(axis=1)
    w = location_quotient(
        wide, region="city", time="year", value=["emp_I", "emp_M"], total="emp_total"
    )
    g = location_quotient(
        long, region="city", time="year", value="emp", industry="industry",
        industry_groups={"talent": ["I", "M"]},
    )  # fmt: skip
    g = g[g["industry"] == "talent"].reset_index(drop=True)
    np.testing.assert_allclose(g["lq"], w["lq"], rtol=1e-13)
    np.testing.assert_allclose(g["emp"], w["emp_I"] + w["emp_M"], rtol=0)
    # hand formula for one row
    row = wide.iloc[0]
    yr = wide[wide["year"] == row["year"]]
    expected = ((row["emp_I"] + row["emp_M"]) / row["emp_total"]) / (
        (yr["emp_I"] + yr["emp_M"]).sum() / yr["emp_total"].sum()
    )
    assert w["lq"].iloc[0] == pytest.approx(expected, rel=1e-13)
    assert list(w.columns) == ["city", "year", "emp_I", "emp_M", "emp_total", "lq"]


def test_single_region_with_sample_reference_gives_one() -> None:
    data, _ = goettingen_long()
    sample = location_quotient(
        data, region="region", time="year", value="emp", industry="sector", total="emp_total"
    )
    # one region, sample reference: reference share = region share → LQ = 1 everywhere
    np.testing.assert_allclose(sample["lq"], 1.0, rtol=1e-13)
    assert sample.attrs["agglomera"]["reference"] == "sample"


def test_long_reference_without_total_column_sums_reference_industries() -> None:
    data = long_matrix(ECONGEO)
    national = pd.DataFrame(
        {"industry": [f"I{i}" for i in range(1, 6)], "emp": [200, 100, 100, 100, 100]}
    )
    out = location_quotient(
        data, region="region", time=None, value="emp", industry="industry", reference=national
    )
    r2 = out[out["region"] == "R2"].set_index("industry")["lq"]
    assert r2["I4"] == pytest.approx((70 / 100) / (100 / 600), rel=1e-13)


def test_density_per_10k() -> None:
    df = pd.DataFrame(
        {"city": ["a", "b"], "rd": [120, 30], "tech": [80, 0], "pop": [1_000_000, 200_000]}
    )
    out = density_per_10k(df, "rd", "pop")
    np.testing.assert_allclose(out["rd_per_10k"], [1.2, 1.5])
    out = density_per_10k(df, ["rd", "tech"], "pop", name="talent")
    np.testing.assert_allclose(out["talent"], [2.0, 1.5])
    # population in 10,000 persons (万人), as in Chinese yearbooks
    wan = df.assign(pop=df["pop"] / 10_000)
    out = density_per_10k(wan, "rd", "pop", population_unit=10_000)
    np.testing.assert_allclose(out["rd_per_10k"], [1.2, 1.5])
    with pytest.raises(DataError, match=r"'pop' is 0.*'city': 'b'"):
        density_per_10k(df.assign(pop=[1, 0]), "rd", "pop")


# ----------------------------------------------------------------------------- properties


matrices = arrays(
    np.int64,
    st.tuples(st.integers(2, 6), st.integers(2, 5)),
    elements=st.integers(0, 10_000),
).filter(lambda m: (m.sum(axis=1) > 0).all() and (m.sum(axis=0) > 0).all())


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_weighted_mean_of_lq_over_regions_is_one(mat: np.ndarray) -> None:
    out = location_quotient(
        long_matrix(mat), region="region", time=None, value="emp", industry="industry"
    )
    region_total = out.groupby("region")["emp"].transform("sum")
    weight = region_total / out["emp"].sum()  # E_r / E over regions (each cell row)
    # Σ_r (E_r / E) · LQ_ri = Σ_r E_ri / E_i = 1 for every industry
    mean = (weight * out["lq"]).groupby(out["industry"]).sum()
    np.testing.assert_allclose(mean, 1.0, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(matrices, st.integers(1, 1000))
def test_scale_invariance(mat: np.ndarray, factor: int) -> None:
    kw = {"region": "region", "time": None, "value": "emp", "industry": "industry"}
    a = location_quotient(long_matrix(mat), **kw)
    b = location_quotient(long_matrix(mat * factor), **kw)
    np.testing.assert_allclose(a["lq"], b["lq"], rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(matrices)
def test_hachman_in_unit_interval(mat: np.ndarray) -> None:
    hi = hachman(long_matrix(mat), region="region", time=None, value="emp", industry="industry")
    assert ((hi["hachman"] > 0) & (hi["hachman"] <= 1 + 1e-12)).all()


# ----------------------------------------------------------------------------- bad input


KW = {"region": "region", "time": "year", "value": "emp", "industry": "industry"}


def panel() -> pd.DataFrame:
    return long_matrix(ECONGEO, time=2020)


def test_negative_employment_names_column_and_rows() -> None:
    df = panel()
    df.loc[7, "emp"] = -5
    with pytest.raises(DataError) as err:
        location_quotient(df, **KW)
    msg = str(err.value)
    assert "column 'emp' has 1 negative value(s)" in msg
    assert "'region': 'R2', 'industry': 'I3', 'emp': -5" in msg
    assert "Fix:" in msg


def test_non_numeric_employment() -> None:
    df = panel().astype({"emp": str})
    with pytest.raises(DataError, match=r"column 'emp' must be numeric.*dtype String"):
        location_quotient(df, **KW)


def test_missing_employment_is_an_error() -> None:
    df = panel().astype({"emp": float})
    df.loc[3, "emp"] = np.nan
    with pytest.raises(DataError, match=r"column 'emp' has 1 missing value"):
        location_quotient(df, **KW)


def test_missing_key_is_an_error() -> None:
    df = panel()
    df.loc[3, "region"] = None
    with pytest.raises(DataError, match=r"column 'region' has 1 missing value"):
        location_quotient(df, **KW)


def test_region_with_zero_total_is_an_error() -> None:
    df = panel()
    df.loc[df["region"] == "R3", "emp"] = 0
    with pytest.raises(
        DataError, match=r"1 region × time key\(s\) have zero total.*\('R3', 2020\)"
    ):
        location_quotient(df, **KW)
    wide = pd.DataFrame({"city": ["a", "b"], "it": [0, 3], "total": [0, 10]})
    with pytest.raises(DataError, match=r"zero total employment.*: 'a'\."):
        location_quotient(wide, region="city", time=None, value="it", total="total")


def test_sector_above_total_is_an_error() -> None:
    wide = pd.DataFrame({"city": ["a", "b"], "it": [11, 3], "total": [10, 10]})
    with pytest.raises(DataError, match=r"exceeds the region total in 1 cell\(s\): 'a'\."):
        location_quotient(wide, region="city", time=None, value="it", total="total")


def test_industry_absent_everywhere_is_an_error() -> None:
    df = panel()
    df.loc[df["industry"] == "I2", "emp"] = 0
    with pytest.raises(DataError, match=r"reference share is 0 for 1 key.*\('I2', 2020\)"):
        location_quotient(df, **KW)


def test_missing_columns_suggest_close_matches() -> None:
    with pytest.raises(DataError) as err:
        location_quotient(panel(), region="Region", time="yaer", value="emp", industry="industry")
    msg = str(err.value)
    assert "'Region' (did you mean 'region'?)" in msg
    assert "'yaer' (did you mean 'year'?)" in msg


def test_reference_frame_missing_a_year() -> None:
    df = pd.concat([panel(), long_matrix(ECONGEO, time=2021)], ignore_index=True)
    national = pd.DataFrame(
        {
            "industry": [f"I{i}" for i in range(1, 6)],
            "year": 2020,
            "emp": [100] * 5,
            "total": [1000] * 5,
        }
    )
    with pytest.raises(DataError, match=r"reference frame lacks 5 key\(s\).*\('I1', 2021\)"):
        location_quotient(df, **KW, reference=national)
    shares = pd.DataFrame({"year": [2020], "share": [0.1]})
    with pytest.raises(DataError, match=r"lacks 1 key\(s\) of \['year'\].*2021"):
        location_quotient(
            df.assign(total=1000), region="region", time="year", value="emp",
            total="total", reference=shares,
        )  # fmt: skip


def test_reference_frame_duplicates_and_bad_string() -> None:
    national = pd.DataFrame({"industry": ["I1", "I1"], "year": 2020, "share": [0.1, 0.2]})
    with pytest.raises(DataError, match=r"several rows for 1 key"):
        location_quotient(panel(), **KW, reference=national)
    with pytest.raises(SpecError, match=r"reference must be 'sample' or a frame"):
        location_quotient(panel(), **KW, reference="national")


def test_reference_frame_with_other_key_types() -> None:
    shares = pd.DataFrame({"industry": [f"I{i}" for i in range(1, 6)], "year": "2020",
                           "share": [0.2] * 5})  # fmt: skip
    with pytest.raises(DataError, match=r"keys of the reference frame do not match"):
        location_quotient(panel(), **KW, reference=shares)


def test_inconsistent_total_column_in_long_form() -> None:
    df = panel().assign(total=1000)
    df.loc[0, "total"] = 999
    with pytest.raises(DataError, match=r"'total' is not constant.*\('R1', 2020\)"):
        location_quotient(df, **KW, total="total")


def test_argument_errors() -> None:
    with pytest.raises(SpecError, match="needs total="):
        location_quotient(panel(), region="region", time="year", value="emp")
    with pytest.raises(SpecError, match="value must be one employment column"):
        location_quotient(panel(), **{**KW, "value": ["emp", "emp2"]})
    with pytest.raises(DataError, match="industry_groups names industries not in the data"):
        location_quotient(panel(), **KW, industry_groups={"talent": ["I9"]})


def test_public_name_is_the_function() -> None:
    # agglomera.measure exposes the function, not the submodule of the same name
    import agglomera.measure as measure

    assert callable(measure.location_quotient)
    assert measure.location_quotient is location_quotient
