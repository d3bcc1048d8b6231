"""Randomization inference (placebo): schemes, fast paths vs estimate(), p-values, size.

The fast paths are checked against :func:`agglomera.policy.estimate` itself: the identity
draw (the actual cohorts) must reproduce ``estimate(...).att`` to 1e-10, and sampled
placebo draws must equal a direct re-estimation on a design rebuilt from a panel whose
cohort column holds the placebo cohorts.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy
from agglomera.errors import SpecError
from agglomera.policy import _placebo_fast as fast
from agglomera.policy.placebo import (
    PlaceboResult,
    _control_cube,
    _p_values,
    draw_cohorts,
    placebo,
)

COHORTS = (0, 0, 0, 2005, 2007, 2009, 2010)


def make_frame(n: int = 90, n_t: int = 12, *, seed: int = 1, effect: float = 0.5) -> pd.DataFrame:
    """Balanced panel with unit and year effects, one control and a constant effect."""
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array(COHORTS), size=n)
    years = np.arange(2001, 2001 + n_t)
    unit = np.repeat(np.arange(n), n_t)
    year = np.tile(years, n)
    gi = g[unit]
    x = rng.normal(size=unit.size)
    d = (gi > 0) & (year >= gi)
    y = (
        rng.normal(size=n)[unit]
        + rng.normal(size=n_t)[year - years[0]]
        + 0.3 * x
        + effect * d
        + rng.normal(size=unit.size)
    )
    return pd.DataFrame({"id": unit, "year": year, "g": gi, "y": y, "x": x})


def make_design(frame: pd.DataFrame, **kwargs: object) -> policy.TreatmentDesign:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return policy.design(Panel(frame, unit="id", time="year"), cohort="g", **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(scope="module")
def des(frame: pd.DataFrame) -> policy.TreatmentDesign:
    return make_design(frame)


def direct(
    frame: pd.DataFrame, design: policy.TreatmentDesign, cohorts: np.ndarray, **kwargs: object
) -> float:
    """Re-estimate on a design rebuilt from a panel carrying the placebo cohorts."""
    mapping = pd.Series(cohorts, index=design.cohorts.index)
    placebo_frame = frame.assign(g=mapping.reindex(frame["id"]).to_numpy())
    rebuilt = make_design(placebo_frame, anticipation=design.anticipation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(policy.estimate(rebuilt, "y", **kwargs).att)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- schemes and seeds
@pytest.mark.parametrize("scheme", ["units", "timing", "units+timing"])
def test_same_seed_same_draws(des: policy.TreatmentDesign, scheme: str) -> None:
    a = draw_cohorts(des.cohorts, draws=50, scheme=scheme, seed=7)  # type: ignore[arg-type]
    b = draw_cohorts(des.cohorts, draws=50, scheme=scheme, seed=7)  # type: ignore[arg-type]
    c = draw_cohorts(des.cohorts, draws=50, scheme=scheme, seed=8)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    r1 = placebo(des, "y", draws=30, scheme=scheme, seed=3)  # type: ignore[arg-type]
    r2 = placebo(des, "y", draws=30, scheme=scheme, seed=3)  # type: ignore[arg-type]
    np.testing.assert_array_equal(r1.draws, r2.draws)
    assert r1.p_value == r2.p_value
    assert r1.meta["seed"] == 3 and r1.meta["scheme"] == scheme


def test_scheme_definitions(des: policy.TreatmentDesign) -> None:
    g = des.cohorts.to_numpy()
    treated = g > 0
    units = draw_cohorts(g, draws=200, scheme="units", seed=1)
    timing = draw_cohorts(g, draws=200, scheme="timing", seed=1)
    mixed = draw_cohorts(g, draws=200, scheme="units+timing", seed=1)
    for row in units:  # a permutation of the whole cohort vector
        np.testing.assert_array_equal(np.sort(row), np.sort(g))
    assert (units[:, ~treated] > 0).any()  # never-treated units get treated
    for row in timing:  # same treated set, same cohort sizes
        np.testing.assert_array_equal(row > 0, treated)
        np.testing.assert_array_equal(np.sort(row), np.sort(g))
    assert not (timing == g).all(axis=1).all()
    for row in mixed:  # as many treated units, years from the observed cohorts
        assert (row > 0).sum() == treated.sum()
        assert set(row[row > 0].tolist()) <= set(g[treated].tolist())
    sizes = [np.bincount(np.searchsorted(np.unique(g), row)) for row in mixed]
    assert len({tuple(s) for s in sizes}) > 1  # cohort sizes vary


# ---------------------------------------------------------------------- identity draw
def test_identity_draw_twfe(des: policy.TreatmentDesign) -> None:
    wide = des.outcome_matrix("y")
    y = wide.to_numpy()
    g = des.cohorts.to_numpy()[None, :]
    beta = fast.twfe_draws(y, g, des.times)[0]
    assert beta == pytest.approx(policy.estimate(des, "y", estimator="twfe").att, abs=1e-10)
    x = _control_cube(des, ["x"], wide.index)
    beta_x = fast.twfe_draws(y, g, des.times, x=x)[0]
    ref = policy.estimate(des, "y", estimator="twfe", controls=["x"]).att
    assert beta_x == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("aggregate", ["simple", "dynamic", "group", "calendar"])
@pytest.mark.parametrize("control_group", ["never", "notyet"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_identity_draw_cs(
    frame: pd.DataFrame, aggregate: str, control_group: str, anticipation: int
) -> None:
    des = make_design(frame, anticipation=anticipation)
    y = des.outcome_matrix("y").to_numpy()
    got = fast.cs_draws(
        y,
        des.cohorts.to_numpy()[None, :],
        des.times,
        control_group=control_group,
        anticipation=anticipation,
        aggregate=aggregate,
    )[0]
    ref = policy.estimate(
        des,
        "y",
        estimator="cs",
        aggregate=aggregate,
        control_group=control_group,
    ).att
    assert got == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("control_group", ["never", "notyet"])
@pytest.mark.parametrize("aggregate", ["simple", "dynamic"])
def test_identity_draw_cs_regression_adjusted(
    frame: pd.DataFrame, control_group: str, aggregate: str
) -> None:
    fr = frame.assign(x_bar=frame.groupby("id")["x"].transform("mean"))
    des = make_design(fr, anticipation=1)
    wide = des.outcome_matrix("y")
    x = _control_cube(des, ["x", "x_bar"], wide.index)
    got = fast.cs_draws(
        wide.to_numpy(),
        des.cohorts.to_numpy()[None, :],
        des.times,
        control_group=control_group,
        anticipation=1,
        aggregate=aggregate,
        x=x,
    )[0]
    ref = policy.estimate(
        des,
        "y",
        estimator="cs",
        method="reg",
        controls=["x", "x_bar"],
        control_group=control_group,
        aggregate=aggregate,
    ).att
    assert got == pytest.approx(ref, abs=1e-10)


# ---------------------------------------------------------------------- draws = re-estimation
@pytest.mark.parametrize("scheme", ["units", "timing", "units+timing"])
def test_twfe_draws_equal_direct_reestimation(
    frame: pd.DataFrame, des: policy.TreatmentDesign, scheme: str
) -> None:
    res = placebo(des, "y", estimator="twfe", draws=40, scheme=scheme, seed=11)  # type: ignore[arg-type]
    assert res.meta["path"] == "fast-twfe"
    cohorts = draw_cohorts(des.cohorts, draws=40, scheme=scheme, seed=11)  # type: ignore[arg-type]
    for r in (0, 13, 39):
        assert res.draws[r] == pytest.approx(
            direct(frame, des, cohorts[r], estimator="twfe"), abs=1e-10
        )
    with_x = placebo(des, "y", estimator="twfe", controls=["x"], draws=5, scheme=scheme, seed=2)  # type: ignore[arg-type]
    cohorts = draw_cohorts(des.cohorts, draws=5, scheme=scheme, seed=2)  # type: ignore[arg-type]
    for r in (1, 4):
        ref = direct(frame, des, cohorts[r], estimator="twfe", controls=["x"])
        assert with_x.draws[r] == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize(
    ("scheme", "aggregate", "control_group"),
    [
        ("units", "simple", "never"),
        ("timing", "dynamic", "notyet"),
        ("units+timing", "group", "never"),
        ("units", "calendar", "notyet"),
    ],
)
def test_cs_draws_equal_direct_reestimation(
    frame: pd.DataFrame,
    des: policy.TreatmentDesign,
    scheme: str,
    aggregate: str,
    control_group: str,
) -> None:
    kwargs = {"estimator": "cs", "aggregate": aggregate, "control_group": control_group}
    res = placebo(des, "y", draws=25, scheme=scheme, seed=5, **kwargs)  # type: ignore[arg-type]
    assert res.meta["path"] == "fast-cs"
    cohorts = draw_cohorts(des.cohorts, draws=25, scheme=scheme, seed=5)  # type: ignore[arg-type]
    for r in (0, 7, 24):
        assert res.draws[r] == pytest.approx(direct(frame, des, cohorts[r], **kwargs), abs=1e-10)


@pytest.mark.parametrize("scheme", ["units", "units+timing"])
def test_cs_reg_draws_equal_direct_reestimation(
    frame: pd.DataFrame, des: policy.TreatmentDesign, scheme: str
) -> None:
    kwargs = {"estimator": "cs", "method": "reg", "controls": ["x"], "control_group": "notyet"}
    res = placebo(des, "y", draws=10, scheme=scheme, seed=6, **kwargs)  # type: ignore[arg-type]
    assert res.meta["path"] == "fast-cs"
    cohorts = draw_cohorts(des.cohorts, draws=10, scheme=scheme, seed=6)  # type: ignore[arg-type]
    for r in (0, 9):
        assert res.draws[r] == pytest.approx(direct(frame, des, cohorts[r], **kwargs), abs=1e-10)
    dr = placebo(des, "y", estimator="cs", controls=["x"], draws=2, seed=1)
    assert dr.meta["path"] == "loop"  # doubly robust: no fast path


def test_fast_and_loop_paths_agree(des: policy.TreatmentDesign) -> None:
    for estimator in ("twfe", "cs"):
        f = placebo(des, "y", estimator=estimator, draws=8, scheme="units", seed=4)
        loop = placebo(
            des, "y", estimator=estimator, draws=8, scheme="units", seed=4, fast_path=False
        )
        assert loop.meta["path"] == "loop"
        np.testing.assert_allclose(f.draws, loop.draws, rtol=0, atol=1e-10)
        assert f.estimate == loop.estimate


def test_loop_fallback_other_estimator_and_unbalanced(frame: pd.DataFrame) -> None:
    des = make_design(frame)
    seen: list[tuple[int, int]] = []
    res = placebo(
        des,
        "y",
        estimator="bjs",
        draws=4,
        scheme="timing",
        seed=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert res.meta["path"] == "loop"
    assert seen[-1] == (4, 4)
    cohorts = draw_cohorts(des.cohorts, draws=4, scheme="timing", seed=1)
    assert res.draws[2] == pytest.approx(direct(frame, des, cohorts[2], estimator="bjs"), abs=1e-10)
    # unbalanced: one row missing, kept by balance="pairwise" -> the loop path
    holey = frame.drop(index=[5]).reset_index(drop=True)
    unbalanced = make_design(holey, balance="pairwise")
    res = placebo(unbalanced, "y", estimator="twfe", draws=3, seed=2)
    assert res.meta["path"] == "loop"
    assert "incomplete" in res.meta["path_reason"]
    with pytest.raises(SpecError, match="no fast path"):
        placebo(unbalanced, "y", estimator="twfe", draws=3, fast_path=True)


def test_parallel_loop_equals_plain_loop(des: policy.TreatmentDesign) -> None:
    a = placebo(des, "y", draws=4, seed=9, fast_path=False)
    b = placebo(des, "y", draws=4, seed=9, fast_path=False, n_jobs=2)
    # same draws; pyfixest in another process may differ in the last bit
    np.testing.assert_allclose(a.draws, b.draws, rtol=1e-12, atol=0)


# ---------------------------------------------------------------------- p-value and outputs
def test_p_value_hand_example() -> None:
    draws = np.array([0.5, -1.2, 1.0, 2.0, np.nan, -0.3])
    share, plus1, count, n_ok = _p_values(1.0, draws)
    # |-1.2|, |1.0| (a tie counts) and |2.0| are >= |1.0|: c = 3 of R = 5 finite draws
    assert (count, n_ok) == (3, 5)
    assert share == pytest.approx(3 / 5)
    assert plus1 == pytest.approx(4 / 6)
    # a tie up to rounding noise still counts
    assert _p_values(1.0, np.array([1.0 - 1e-14, 0.2]))[2] == 1
    assert math.isnan(_p_values(1.0, np.array([np.nan]))[0])


def test_result_outputs(des: policy.TreatmentDesign) -> None:
    res = placebo(des, "y", draws=200, scheme="units", seed=0)
    assert isinstance(res, PlaceboResult)
    assert res.estimate == pytest.approx(policy.estimate(des, "y", estimator="twfe").att)
    frame = res.to_frame()
    assert frame["abs_ge_actual"].sum() == res.meta["count"]
    assert res.p_value == pytest.approx(res.meta["count"] / 200)
    plus1 = placebo(des, "y", draws=200, scheme="units", seed=0, p_value="plus1")
    assert plus1.p_value == pytest.approx((1 + res.meta["count"]) / 201)
    dens = res.density()
    area = float(np.trapezoid(dens["density"], dens["x"]))
    assert area == pytest.approx(1.0, abs=1e-3)
    assert dens.attrs["estimate"] == res.estimate
    assert dens["x"].min() < min(res.draws.min(), res.estimate)
    text = res.summary()
    assert "scheme 'units'" in text and "fast-twfe" in text


def test_bad_arguments(des: policy.TreatmentDesign) -> None:
    with pytest.raises(SpecError, match="scheme"):
        placebo(des, "y", scheme="cities")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="draws"):
        placebo(des, "y", draws=0)
    with pytest.raises(SpecError, match="p_value"):
        placebo(des, "y", p_value="exact")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="TreatmentDesign"):
        placebo("design", "y")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- size under the null
@pytest.mark.slow
def test_rejection_rate_under_the_null() -> None:
    """Under a sharp null (no effect) the 5 % RI test rejects in about 5 % of datasets.

    200 datasets × 199 ``"units"`` draws (exchangeable assignment, so the test is exact:
    with R = 199, P(p <= 0.05) = 10 / 200 for continuous statistics); TWFE and CS on the
    same datasets. The band is ±3 binomial standard errors (0.0154) around 0.05.
    """
    rejections = {"twfe": 0, "cs": 0}
    n_sets = 200
    for s in range(n_sets):
        des = make_design(make_frame(60, 8, seed=1000 + s, effect=0.0))
        for estimator in rejections:
            res = placebo(des, "y", estimator=estimator, draws=199, scheme="units", seed=s)
            rejections[estimator] += res.p_value <= 0.05
    for estimator, count in rejections.items():
        rate = count / n_sets
        assert abs(rate - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / n_sets), (estimator, rate)
