"""Tests of entropy weights, TOPSIS, obstacle degree and hierarchical composite indices.

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

from agglomera import Panel
from agglomera.errors import DataError, SpecError
from agglomera.measure import (
    CompositeResult,
    EntropyResult,
    TopsisResult,
    composite_index,
    entropy_weights,
    obstacle_degree,
    topsis,
)

REF = Path(__file__).resolve().parents[1] / "reference" / "measure_composite"
COLS = ["x1", "x2", "x3", "x4"]


@pytest.fixture(scope="module")
def matrix() -> pd.DataFrame:
    return pd.read_csv(REF / "decision_matrix.csv").set_index("alt")


@pytest.fixture(scope="module")
def directions() -> dict[str, str]:
    table = pd.read_csv(REF / "directions.csv")
    return dict(zip(table["indicator"], table["direction"], strict=True))


# ---------------------------------------------------------------- entropy: reference numbers
@pytest.mark.parametrize(
    ("variant", "kwargs"),
    [
        ("ln0", {"zeros": "ln0"}),
        ("shift_0.01", {"zeros": "shift", "shift": 0.01}),
        ("rescale_0.01_0.99", {"zeros": "rescale", "rescale": (0.01, 0.99)}),
    ],
)
def test_entropy_weights_match_validation_readme(matrix, directions, variant, kwargs):
    expected = pd.read_csv(REF / "entropy_reference.csv").set_index("variant").loc[variant]
    result = entropy_weights(matrix, directions, **kwargs)
    np.testing.assert_allclose(
        result.weights[COLS].to_numpy(), expected[COLS].to_numpy(), atol=5e-5
    )
    assert math.isclose(result.weights.sum(), 1.0, rel_tol=1e-12)


def test_entropy_scores_match_validation_readme(matrix, directions):
    expected = pd.read_csv(REF / "entropy_scores_reference.csv").set_index("alt")["score_ln0"]
    result = entropy_weights(matrix, directions)
    np.testing.assert_allclose(result.scores.to_numpy(), expected.to_numpy(), atol=5e-5)
    assert result.scores.index.equals(matrix.index)


def _hand_entropy_weights() -> tuple[list[float], list[float]]:
    """Closed-form derivation in PROVENANCE.md (p vectors of the min–max matrix)."""
    ps = [
        [0.2, 0.4, 0.1, 0.3],
        [0.5, 0.5],
        [0.2, 0.4, 0.4],
        [3 / 8, 1 / 8, 1 / 4, 1 / 4],
    ]
    e = [-sum(p * math.log(p) for p in col) / math.log(5) for col in ps]
    d = [1 - v for v in e]
    return e, [v / sum(d) for v in d]


def test_entropy_hand_derivation_tight(matrix, directions):
    e, w = _hand_entropy_weights()
    # the stored 12-digit values in PROVENANCE.md
    np.testing.assert_allclose(
        w, [0.157775433139, 0.438638722060, 0.265453907066, 0.138131937735], atol=1e-12
    )
    result = entropy_weights(matrix, directions)
    np.testing.assert_allclose(result.entropy.to_numpy(), e, rtol=1e-10)
    np.testing.assert_allclose(result.divergence.to_numpy(), 1 - np.array(e), rtol=1e-10)
    np.testing.assert_allclose(result.weights.to_numpy(), w, rtol=1e-10)
    xprime = np.array(
        [[0.5, 0, 0.5, 1], [1, 0, 0, 1 / 3], [0, 1, 1, 2 / 3], [0.25, 1, 0, 2 / 3], [0.75, 0, 1, 0]]
    )
    np.testing.assert_allclose(result.normalised.to_numpy(dtype=float), xprime, atol=1e-15)
    np.testing.assert_allclose(
        result.scores.to_numpy(),
        [0.349746607837, 0.203819412384, 0.796180587616, 0.570170538835, 0.383785481920],
        rtol=1e-10,
    )


def test_entropy_shift_and_rescale_transform_normalised(matrix, directions):
    base = entropy_weights(matrix, directions).normalised
    shifted = entropy_weights(matrix, directions, zeros="shift", shift=0.01)
    np.testing.assert_allclose(shifted.normalised.to_numpy(float), base.to_numpy(float) + 0.01)
    rescaled = entropy_weights(matrix, directions, zeros="rescale", rescale=(0.01, 0.99))
    np.testing.assert_allclose(
        rescaled.normalised.to_numpy(float), 0.01 + 0.98 * base.to_numpy(float)
    )
    assert shifted.meta["zeros"] == "shift" and shifted.meta["shift"] == 0.01
    assert rescaled.meta["rescale"] == (0.01, 0.99)


def test_directions_aliases(matrix):
    a = entropy_weights(matrix, {"x1": "-", "x2": "+", "x3": "+", "x4": "+"})
    b = entropy_weights(matrix, {"x1": -1, "x2": 1, "x3": "benefit", "x4": "Benefit"})
    c = entropy_weights(matrix, {"x1": "cost", "x2": 1.0, "x3": "+", "x4": "+"})
    pd.testing.assert_series_equal(a.weights, b.weights)
    pd.testing.assert_series_equal(a.weights, c.weights)
    assert a.directions == {"x1": -1, "x2": 1, "x3": 1, "x4": 1}


def test_indicator_set_is_keys_of_directions(matrix):
    r = entropy_weights(matrix.assign(extra="text"), {"x2": "+", "x1": "-"})
    assert r.weights.index.tolist() == ["x2", "x1"]
    assert r.normalised.columns.tolist() == ["x2", "x1"]


def test_to_frame_and_summary(matrix, directions):
    r = entropy_weights(matrix, directions)
    frame = r.to_frame()
    assert frame.columns.tolist() == ["indicator", "direction", "entropy", "divergence", "weight"]
    assert frame["direction"].tolist() == [-1, 1, 1, 1]
    assert "scope=pooled" in r.summary() and "0.4386" in r.summary()
    assert "<table" in r._repr_html_()
    with pytest.raises(AttributeError):
        r.weights = None  # type: ignore[misc]


# ---------------------------------------------------------------- entropy: scope
def _panel_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    years = [2018, 2019, 2020]
    rows = []
    for y in years:
        for u in range(6):
            rows.append(
                {
                    "city": f"c{u}",
                    "year": y,
                    "a": rng.uniform(1, 10) + y - 2018,
                    "b": rng.uniform(0, 5),
                    "c": rng.normal(),
                }
            )
    return pd.DataFrame(rows)


def test_per_year_equals_entropy_of_each_year():
    df = _panel_frame()
    dirs = {"a": "+", "b": "-", "c": "+"}
    r = entropy_weights(df, dirs, time="year", scope="per_year")
    assert isinstance(r.weights, pd.DataFrame)
    assert r.weights.index.tolist() == [2018, 2019, 2020]
    for year, sub in df.groupby("year"):
        one = entropy_weights(sub, dirs)
        np.testing.assert_allclose(
            r.weights.loc[year].to_numpy(), one.weights.to_numpy(), rtol=1e-12
        )
        np.testing.assert_allclose(
            r.scores.loc[sub.index].to_numpy(), one.scores.to_numpy(), rtol=1e-12
        )
    tidy = r.to_frame()
    assert tidy.columns.tolist() == [
        "year",
        "indicator",
        "direction",
        "entropy",
        "divergence",
        "weight",
    ]
    assert len(tidy) == 9
    np.testing.assert_allclose(tidy.groupby("year")["weight"].sum(), 1.0)
    rw = r.row_weights()
    np.testing.assert_allclose(rw.loc[df["year"] == 2019].iloc[0], r.weights.loc[2019])


def test_pooled_normalises_over_all_years():
    df = _panel_frame()
    dirs = {"a": "+", "b": "-", "c": "+"}
    r = entropy_weights(df, dirs, time="year")
    x = r.normalised
    assert x["a"].min() == 0 and x["a"].max() == 1
    expected_a = (df["a"] - df["a"].min()) / (df["a"].max() - df["a"].min())
    np.testing.assert_allclose(x["a"].to_numpy(float), expected_a.to_numpy(), rtol=1e-12)
    expected_b = (df["b"].max() - df["b"]) / (df["b"].max() - df["b"].min())
    np.testing.assert_allclose(x["b"].to_numpy(float), expected_b.to_numpy(), rtol=1e-12)
    # same as ignoring time altogether
    pd.testing.assert_series_equal(r.weights, entropy_weights(df, dirs).weights)


def test_panel_input_is_indexed_by_unit_and_time():
    df = _panel_frame()
    panel = Panel(df, unit="city", time="year")
    r = entropy_weights(panel, {"a": "+", "b": "-"}, scope="per_year")
    assert r.meta["time"] == "year"
    assert r.scores.index.names == ["city", "year"]
    assert r.scores.loc[("c0", 2019)] == pytest.approx(
        entropy_weights(df[df.year == 2019].set_index("city"), {"a": "+", "b": "-"}).scores["c0"]
    )


def test_polars_input_matches_pandas(matrix, directions):
    pl = pytest.importorskip("polars")
    a = entropy_weights(matrix.reset_index(drop=True), directions)
    b = entropy_weights(pl.from_pandas(matrix.reset_index(drop=True)), directions)
    pd.testing.assert_series_equal(a.weights, b.weights)
    np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy())


# ---------------------------------------------------------------- entropy: errors
def test_constant_indicator_is_an_error_naming_it(matrix, directions):
    bad = matrix.assign(x3=7.0)
    with pytest.raises(DataError, match=r"'x3' is constant"):
        entropy_weights(bad, directions)


def test_constant_within_a_year_names_the_year():
    df = _panel_frame()
    df.loc[df.year == 2019, "b"] = 1.0
    with pytest.raises(DataError, match=r"'b' is constant in year 2019"):
        entropy_weights(df, {"a": "+", "b": "+"}, time="year", scope="per_year")
    # pooled is fine: b varies over all years
    entropy_weights(df, {"a": "+", "b": "+"}, time="year")


def test_missing_values_are_an_error_naming_column_and_rows(matrix, directions):
    bad = matrix.astype(float)
    bad.loc[[2, 4], "x2"] = np.nan
    with pytest.raises(DataError, match=r"'x2' has 2 missing.*rows 2, 4"):
        entropy_weights(bad, directions)
    bad = matrix.astype(float)
    bad.loc[3, "x1"] = np.inf
    with pytest.raises(DataError, match=r"'x1'.*rows 3"):
        topsis(bad, directions)


def test_non_numeric_and_missing_columns(matrix, directions):
    with pytest.raises(DataError, match=r"'x4' is not numeric"):
        entropy_weights(matrix.assign(x4=["1", "2", "n/a", "4", "5"]), directions)
    with pytest.raises(DataError, match=r"column 'x5' not found"):
        entropy_weights(matrix, {**directions, "x5": "+"})


def test_negative_raw_values_are_fine_for_minmax(matrix, directions):
    moved = matrix.assign(x2=matrix["x2"] - 100)
    np.testing.assert_allclose(
        entropy_weights(moved, directions).weights, entropy_weights(matrix, directions).weights
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "yearly"}, "scope must be one of"),
        ({"zeros": "drop"}, "zeros must be one of"),
        ({"zeros": "shift", "shift": 0}, "shift must be a positive"),
        ({"zeros": "rescale", "rescale": (0.5, 0.1)}, "0 < a < b"),
        ({"scope": "per_year"}, "needs time="),
    ],
)
def test_bad_options(matrix, directions, kwargs, message):
    with pytest.raises(SpecError, match=message):
        entropy_weights(matrix, directions, **kwargs)


@pytest.mark.parametrize("bad", ["up", 2, True, None])
def test_bad_direction(matrix, bad):
    with pytest.raises(SpecError, match="direction of 'x1'"):
        entropy_weights(matrix, {"x1": bad, "x2": "+"})


# ---------------------------------------------------------------- entropy: properties
_finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def _matrices(draw):
    m = draw(st.integers(3, 8))
    k = draw(st.integers(1, 4))
    cols = [draw(st.lists(_finite, min_size=m, max_size=m)) for _ in range(k)]
    for c in cols:
        # keep the indicator non-constant with a clear spread
        if max(c) - min(c) < 1e-3:
            c[0] = c[0] + 1.0
    signs = draw(st.lists(st.sampled_from(["+", "-"]), min_size=k, max_size=k))
    frame = pd.DataFrame({f"v{j}": c for j, c in enumerate(cols)})
    return frame, {f"v{j}": s for j, s in enumerate(signs)}


@settings(max_examples=150, deadline=None)
@given(
    _matrices(),
    st.floats(min_value=1e-2, max_value=1e2),
    st.floats(min_value=-1e3, max_value=1e3),
    st.sampled_from(["ln0", "shift", "rescale"]),
)
def test_weights_sum_to_one_and_are_affine_invariant(data, scale, move, zeros):
    frame, dirs = data
    base = entropy_weights(frame, dirs, zeros=zeros)
    assert math.isclose(base.weights.sum(), 1.0, rel_tol=1e-9)
    assert (base.weights >= -1e-12).all()
    moved = frame.copy()
    moved["v0"] = moved["v0"] * scale + move
    after = entropy_weights(moved, dirs, zeros=zeros)
    np.testing.assert_allclose(after.weights.to_numpy(), base.weights.to_numpy(), atol=1e-7)
    if zeros != "shift":
        assert ((base.scores >= -1e-12) & (base.scores <= 1 + 1e-12)).all()


# ---------------------------------------------------------------- TOPSIS
def test_topsis_matches_r_topsis(matrix, directions):
    expected = pd.read_csv(REF / "topsis_r.csv")["score"].to_numpy()
    result = topsis(matrix, directions, weights=[1, 1, 1, 2])
    assert isinstance(result, TopsisResult)
    np.testing.assert_allclose(result.scores.to_numpy(), expected, atol=1e-7)
    # R topsis normalises the weights to sum to 1
    np.testing.assert_allclose(result.weights.to_numpy(), [0.2, 0.2, 0.2, 0.4])
    frame = result.to_frame()
    assert frame["rank"].tolist() == [1, 4, 2, 3, 5]


def test_topsis_hand_distances(matrix, directions):
    x = matrix.to_numpy(float)
    w = np.array([0.2, 0.2, 0.2, 0.4])
    v = x / np.sqrt((x**2).sum(axis=0)) * w
    ideal = np.array([v[:, 0].min(), v[:, 1].max(), v[:, 2].max(), v[:, 3].max()])
    anti = np.array([v[:, 0].max(), v[:, 1].min(), v[:, 2].min(), v[:, 3].min()])
    result = topsis(matrix, directions, weights={"x1": 1, "x2": 1, "x3": 1, "x4": 2})
    np.testing.assert_allclose(result.ideal.to_numpy(), ideal, rtol=1e-12)
    np.testing.assert_allclose(result.anti_ideal.to_numpy(), anti, rtol=1e-12)
    np.testing.assert_allclose(result.d_plus, np.sqrt(((v - ideal) ** 2).sum(1)), rtol=1e-12)
    np.testing.assert_allclose(result.d_minus, np.sqrt(((v - anti) ** 2).sum(1)), rtol=1e-12)


def test_topsis_minmax_and_entropy_weights(matrix, directions):
    ent = entropy_weights(matrix, directions)
    r = topsis(matrix, directions, weights=ent, normalisation="minmax")
    v = ent.normalised.to_numpy(float) * ent.weights.to_numpy()
    dp = np.sqrt(((v - ent.weights.to_numpy()) ** 2).sum(1))
    dm = np.sqrt((v**2).sum(1))
    np.testing.assert_allclose(r.scores.to_numpy(), dm / (dp + dm), rtol=1e-12)


def test_topsis_per_year_ideal_points():
    df = _panel_frame()
    dirs = {"a": "+", "b": "-"}
    pooled = topsis(df, dirs, normalisation="minmax", time="year")
    per = topsis(df, dirs, normalisation="minmax", time="year", scope="per_year")
    assert isinstance(per.ideal, pd.DataFrame) and per.ideal.shape == (3, 2)
    for _year, sub in df.groupby("year"):
        one = topsis(sub, dirs, normalisation="minmax")
        np.testing.assert_allclose(per.scores.loc[sub.index], one.scores, rtol=1e-12)
    assert not np.allclose(pooled.scores, per.scores)


def test_topsis_errors(matrix, directions):
    with pytest.raises(DataError, match="negative values"):
        topsis(matrix.assign(x2=matrix["x2"] - 20), directions)
    with pytest.raises(SpecError, match="4 indicators"):
        topsis(matrix, directions, weights=[1, 2])
    with pytest.raises(SpecError, match="non-negative"):
        topsis(matrix, directions, weights=[1, -1, 1, 1])
    with pytest.raises(SpecError, match="missing 'x4'"):
        topsis(matrix, directions, weights={"x1": 1, "x2": 1, "x3": 1})
    with pytest.raises(DataError, match="zero in every row"):
        topsis(matrix.assign(x3=0), directions)


# ---------------------------------------------------------------- obstacle degree
def test_obstacle_degree_formula(matrix, directions):
    ent = entropy_weights(matrix, directions)
    o = obstacle_degree(ent)
    x = ent.normalised.to_numpy(float)
    w = ent.weights.to_numpy()
    num = w * (1 - x)
    np.testing.assert_allclose(o.to_numpy(), num / num.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(o.sum(axis=1), 1.0)
    # row 3 (x' = 0, 1, 1, 2/3): only x1 and x4 are obstacles
    assert o.loc[3, "x2"] == 0 and o.loc[3, "x3"] == 0
    # shift / rescale are undone first, so the same obstacle degrees come out
    for kw in ({"zeros": "shift"}, {"zeros": "rescale"}):
        other = entropy_weights(matrix, directions, **kw)
        o2 = obstacle_degree(other)
        expected = other.weights.to_numpy() * (1 - x)
        np.testing.assert_allclose(o2.to_numpy(), expected / expected.sum(1, keepdims=True))


def test_obstacle_degree_from_frame_and_system():
    x = pd.DataFrame({"a": [0.0, 1.0, 1.0], "b": [0.5, 0.0, 1.0], "c": [1.0, 0.5, 1.0]})
    o = obstacle_degree(x, [0.5, 0.3, 0.2], system={"s1": ["a", "b"], "s2": ["c"]})
    # row 0: 0.5*1, 0.3*0.5, 0 -> 0.5/0.65, 0.15/0.65
    assert o.loc[0, "s1"] == pytest.approx(1.0)
    assert o.loc[1, "s1"] == pytest.approx(0.3 / 0.4)
    assert o.loc[1, "s2"] == pytest.approx(0.1 / 0.4)
    assert np.isnan(o.loc[2, "s1"])  # no deviation at all: 0/0
    with pytest.raises(DataError, match="outside"):
        obstacle_degree(x * 2, [0.5, 0.3, 0.2])
    with pytest.raises(SpecError, match="weights="):
        obstacle_degree(x)


# ---------------------------------------------------------------- composite index
def test_composite_index_hierarchy(matrix, directions):
    system = {"s1": ["x1", "x2"], "s2": ["x3", "x4"]}
    comp = composite_index(matrix, system, directions)
    assert isinstance(comp, CompositeResult)
    for name, cols in system.items():
        sub = entropy_weights(matrix, {c: directions[c] for c in cols})
        np.testing.assert_allclose(comp.scores[name], sub.scores, rtol=1e-12)
        assert isinstance(comp.subsystems[name], EntropyResult)
    np.testing.assert_allclose(comp.overall, comp.scores.mean(axis=1), rtol=1e-12)
    w = comp.weights()
    assert w["weight_overall"].sum() == pytest.approx(1.0)
    assert comp.to_frame().columns.tolist() == ["s1", "s2", "overall"]
    assert "2 subsystems" in comp.summary()
    # obstacle degree of the hierarchy uses overall indicator weights
    o = obstacle_degree(comp, system=system)
    np.testing.assert_allclose(o.sum(axis=1), 1.0)


def test_composite_index_overall_weights_and_topsis(matrix, directions):
    system = {"s1": ["x1", "x2"], "s2": ["x3", "x4"]}
    given_w = composite_index(matrix, system, directions, overall_weights={"s1": 3, "s2": 1})
    np.testing.assert_allclose(
        given_w.overall, 0.75 * given_w.scores["s1"] + 0.25 * given_w.scores["s2"]
    )
    ent = composite_index(matrix, system, directions, overall_weights="entropy")
    expected = entropy_weights(ent.scores, {"s1": "+", "s2": "+"}).weights
    np.testing.assert_allclose(ent.overall_weights, expected)
    top = composite_index(matrix, system, directions, method="topsis")
    sub = entropy_weights(matrix, {"x1": "-", "x2": "+"})
    np.testing.assert_allclose(
        top.scores["s1"],
        topsis(matrix, {"x1": "-", "x2": "+"}, weights=sub, normalisation="minmax").scores,
    )


def test_composite_index_with_duplicate_row_labels(matrix, directions):
    system = {"s1": ["x1", "x2"], "s2": ["x3", "x4"]}
    doubled = pd.concat([matrix, matrix])  # every row label appears twice
    comp = composite_index(doubled, system, directions)
    assert comp.scores.index.equals(doubled.index)
    np.testing.assert_allclose(comp.scores.iloc[:5].to_numpy(), comp.scores.iloc[5:].to_numpy())


def test_composite_index_spec_errors(matrix, directions):
    with pytest.raises(SpecError, match="no direction"):
        composite_index(matrix, {"s": ["x1", "x9"]}, directions)
    with pytest.raises(SpecError, match="belong to no subsystem"):
        composite_index(matrix, {"s": ["x1", "x2"]}, directions)
    with pytest.raises(SpecError, match="one subsystem only"):
        composite_index(matrix, {"s": ["x1", "x2"], "t": ["x2", "x3", "x4"]}, directions)
