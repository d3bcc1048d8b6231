"""Tests of the coupling coordination degree model.

Reference numbers: tests/reference/measure_composite/ (see PROVENANCE.md there).
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
from agglomera.measure import (
    CouplingResult,
    composite_index,
    coupling_coordination,
    coupling_grades,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "measure_composite"


@pytest.fixture(scope="module")
def two() -> pd.DataFrame:
    return pd.read_csv(REF / "coupling_two.csv")


@pytest.fixture(scope="module")
def three() -> pd.DataFrame:
    return pd.read_csv(REF / "coupling_three_hand.csv")


# ---------------------------------------------------------------- validation README numbers
def test_standard_form_matches_readme(two):
    r = coupling_coordination(two["U1"].to_numpy(), two["U2"].to_numpy())
    assert isinstance(r, CouplingResult)
    np.testing.assert_allclose(r.C, two["C_standard"], atol=5e-5)
    np.testing.assert_allclose(r.D, two["D_standard"], atol=5e-5)
    np.testing.assert_allclose(r.T, [0.3, 0.5, 0.5, 0.5], rtol=1e-15)
    # exact: 2*sqrt(0.08)/0.6, 1, 0.8, 0.6
    np.testing.assert_allclose(r.C, [2 * math.sqrt(0.08) / 0.6, 1, 0.8, 0.6], rtol=1e-12)


def test_k_form_matches_readme(two):
    r = coupling_coordination(two["U1"], two["U2"], form="k", k=2)
    np.testing.assert_allclose(r.C, two["C_k2"], atol=5e-5)
    # exact: (8/9)^2, 1, 0.64^2, 0.36^2 -- Liao's form with exponent k (not 1/k)
    np.testing.assert_allclose(r.C, [64 / 81, 1, 0.4096, 0.1296], rtol=1e-12)
    # with exponent 1/k and k = n = 2 the standard form would come out instead
    std = coupling_coordination(two["U1"], two["U2"]).C
    assert not np.allclose(r.C, std)


def test_corrected_form_matches_readme(two):
    r = coupling_coordination(two["U1"], two["U2"], form="corrected")
    np.testing.assert_allclose(r.C, two["C_corrected"], atol=5e-5)
    np.testing.assert_allclose(r.D, two["D_corrected"], atol=5e-5)
    np.testing.assert_allclose(
        r.C, [math.sqrt(0.4), 1, math.sqrt(0.1), math.sqrt(0.2 / 9)], rtol=1e-12
    )


@pytest.mark.parametrize(
    ("form", "c_col", "d_col"),
    [
        ("standard", "C_standard", "D_standard"),
        ("k", "C_k2", "D_k2"),
        ("corrected", "C_corrected", "D_corrected"),
    ],
)
def test_three_subsystems_hand_computation(three, form, c_col, d_col):
    r = coupling_coordination(three["U1"], three["U2"], three["U3"], form=form)
    np.testing.assert_allclose(r.C, three[c_col], atol=1e-10)
    np.testing.assert_allclose(r.T, three["T"], atol=1e-10)
    np.testing.assert_allclose(r.D, three[d_col], atol=1e-10)
    assert r.relative is None and r.lagging is None
    assert r.names == ("U1", "U2", "U3")


def test_corrected_can_exceed_standard_for_three(three):
    row = three.iloc[3]
    assert row["C_corrected"] > row["C_standard"]


# ---------------------------------------------------------------- weights, grades, relative
def test_weighted_T():
    r = coupling_coordination([0.2, 0.6], [0.4, 0.6], weights=[0.3, 0.7])
    np.testing.assert_allclose(r.T, [0.3 * 0.2 + 0.7 * 0.4, 0.6])
    np.testing.assert_allclose(r.D, np.sqrt(r.C * r.T))
    m = coupling_coordination(
        pd.Series([0.2], name="ind"), pd.Series([0.4], name="tal"), weights={"tal": 0.7, "ind": 0.3}
    )
    assert m.T[0] == pytest.approx(0.34)


@pytest.mark.parametrize("bad", [[0.5, 0.6], [1.2, -0.2], [0.5], {"U1": 1.0}])
def test_weights_must_sum_to_one(bad):
    with pytest.raises(SpecError, match="weights"):
        coupling_coordination([0.2], [0.4], weights=bad)


def test_grade_table_is_data():
    table = coupling_grades()
    assert table["level"].tolist() == list(range(1, 11))
    np.testing.assert_allclose(table["lower"], np.arange(10) / 10)
    np.testing.assert_allclose(table["upper"], np.arange(1, 11) / 10)
    assert (
        table.loc[0, "label_zh"] == "极度失调" and table.loc[0, "label_en"] == "extreme imbalance"
    )
    assert table.loc[9, "label_zh"] == "优质协调"
    assert table.loc[9, "label_en"] == "quality coordination"
    assert table["label_zh"].tolist()[4:6] == ["濒临失调", "勉强协调"]


def test_grades_at_boundaries():
    # D = sqrt(C*T) with equal U gives C = 1, D = sqrt(U)
    u = np.array([0.0, 0.01, 0.09, 0.36, 0.6**2, 0.81, 1.0])
    r = coupling_coordination(u, u)
    assert r.grade.tolist() == [1, 2, 4, 7, 7, 10, 10]
    assert r.grade_zh.tolist()[3] == "初级协调"
    assert r.grade_en.tolist()[-1] == "quality coordination"


def test_readme_rows_grades(two):
    r = coupling_coordination(two["U1"], two["U2"], form="corrected")
    # D .4356 .7071 .3976 .2730
    assert r.grade.tolist() == [5, 8, 4, 3]
    assert r.grade_zh.tolist() == ["濒临失调", "中级协调", "轻度失调", "中度失调"]


def test_relative_development_and_lagging_label():
    ind = pd.Series([0.2, 0.5, 0.8, 0.45, 0.55, 0.0], name="industry")
    tal = pd.Series([0.4, 0.5, 0.2, 0.5, 0.5, 0.0], name="talent")
    r = coupling_coordination(ind, tal)
    np.testing.assert_allclose(r.relative[:5], [0.5, 1.0, 4.0, 0.9, 1.1])
    assert r.lagging.tolist() == [
        "lagging industry",
        "synchronous",
        "lagging talent",
        "synchronous",
        "synchronous",
        "synchronous",
    ]
    narrow = coupling_coordination(ind, tal, band=(0.95, 1.05))
    assert narrow.lagging.tolist()[3:5] == ["lagging industry", "lagging talent"]
    frame = r.to_frame()
    assert frame.columns.tolist() == [
        "industry",
        "talent",
        "C",
        "T",
        "D",
        "grade",
        "grade_en",
        "grade_zh",
        "relative",
        "lagging",
    ]
    assert frame.index.equals(ind.index)
    with pytest.raises(SpecError, match="band"):
        coupling_coordination(ind, tal, band=(1.1, 0.9))


def test_zero_inputs():
    r = coupling_coordination([0.0, 0.0, 0.3], [0.0, 0.4, 0.3])
    assert np.isnan(r.C[0]) and r.D[0] == 0 and r.grade[0] == 1
    assert r.C[1] == 0 and r.D[1] == 0
    assert "C is 0/0" in r.meta["notes"][0]
    for form in ("k", "corrected"):
        z = coupling_coordination([0.0, 0.0], [0.0, 0.4], form=form)
        assert np.isnan(z.C[0]) and z.C[1] == 0 and z.D[0] == 0


# ---------------------------------------------------------------- inputs
def test_inputs_outside_unit_interval_are_errors():
    with pytest.raises(DataError, match=r"subsystem 'talent'.*\(2, 1\.5\)"):
        coupling_coordination(
            pd.Series([0.1, 0.2, 0.3], name="industry"), pd.Series([0.1, 0.2, 1.5], name="talent")
        )
    with pytest.raises(DataError, match=r"subsystem 'U1'.*\(1, nan\)"):
        coupling_coordination([0.1, np.nan], [0.2, 0.3])
    with pytest.raises(DataError, match="subsystem 'U2'"):
        coupling_coordination([0.1, 0.2], [-0.01, 0.3])


def test_input_shapes_and_names():
    with pytest.raises(SpecError, match="at least two"):
        coupling_coordination([0.1, 0.2])
    with pytest.raises(DataError, match="differ in length"):
        coupling_coordination([0.1, 0.2], [0.3])
    with pytest.raises(DataError, match="different index"):
        coupling_coordination(pd.Series([0.1, 0.2]), pd.Series([0.1, 0.2], index=[5, 6]))
    with pytest.raises(SpecError, match="form must be"):
        coupling_coordination([0.1], [0.2], form="modified")
    with pytest.raises(SpecError, match="k must be"):
        coupling_coordination([0.1], [0.2], form="k", k=0.5)
    r = coupling_coordination([0.1], [0.2], names=["industry", "talent"])
    assert r.names == ("industry", "talent")
    frame = pd.DataFrame({"a": [0.1, 0.5], "b": [0.3, 0.5], "c": [0.2, 0.5]}, index=["x", "y"])
    r3 = coupling_coordination(frame)
    assert r3.names == ("a", "b", "c")
    assert r3.to_frame().index.tolist() == ["x", "y"]
    assert "standard form" in r3.summary()


def test_composite_result_feeds_coupling():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.uniform(1, 10, size=(12, 4)), columns=["i1", "i2", "t1", "t2"])
    comp = composite_index(
        df, {"industry": ["i1", "i2"], "talent": ["t1", "t2"]}, dict.fromkeys(df.columns, "+")
    )
    r = coupling_coordination(comp)
    direct = coupling_coordination(comp.scores["industry"], comp.scores["talent"])
    np.testing.assert_allclose(r.D, direct.D)
    assert r.names == ("industry", "talent")


# ---------------------------------------------------------------- properties
_unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
_pos = st.floats(min_value=1e-6, max_value=1.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 5).flatmap(lambda n: st.lists(_unit, min_size=n, max_size=n)),
    st.sampled_from(["standard", "k", "corrected"]),
)
def test_C_and_D_in_unit_interval(us, form):
    r = coupling_coordination(*[[u] for u in us], form=form)
    if sum(us) == 0:
        assert np.isnan(r.C[0]) and r.D[0] == 0
        return
    assert 0 <= r.C[0] <= 1
    assert 0 <= r.D[0] <= 1
    assert 1 <= r.grade[0] <= 10


@settings(max_examples=300, deadline=None)
@given(_unit, _unit)
def test_corrected_not_above_standard_for_two(a, b):
    """For n = 2, with a ≤ b: C_corr² / C_std² = (1 − (b − a)) (1 − (b − a)/(2b))² ≤ 1."""
    if a + b == 0:
        return
    std = coupling_coordination([a], [b]).C[0]
    cor = coupling_coordination([a], [b], form="corrected").C[0]
    assert cor <= std + 1e-12


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: st.lists(_pos, min_size=n, max_size=n)))
def test_standard_C_is_one_iff_all_equal(us):
    c = coupling_coordination(*[[u] for u in us]).C[0]
    all_equal = max(us) == min(us)
    if all_equal:
        assert c == pytest.approx(1.0, abs=1e-12)
    else:
        # AM–GM: strict inequality when not all equal
        assert c < 1.0 or max(us) / min(us) < 1 + 1e-6
    same = coupling_coordination(*[[us[0]] for _ in us]).C[0]
    assert same == pytest.approx(1.0, abs=1e-12)


def test_tiny_scores_do_not_underflow():
    # found by hypothesis: Π U_i and mean^n underflow for subnormal scores
    r = coupling_coordination([0.0, 1e-300, 5e-324], [5e-324, 1e-300, 5e-324], form="standard")
    assert r.C.tolist() == [0.0, 1.0, 1.0]
    k = coupling_coordination([1e-200, 1e-200], [1e-200, 2e-200], form="k")
    assert k.C[1] == pytest.approx((8 / 9) ** 2, rel=1e-12)  # U1U2/mean² = 2/2.25


def test_mixed_array_and_series_keep_the_series_index():
    r = coupling_coordination([0.2, 0.4], pd.Series([0.3, 0.4], index=["a", "b"], name="talent"))
    assert r.to_frame().index.tolist() == ["a", "b"]
    assert r.names == ("U1", "talent")
