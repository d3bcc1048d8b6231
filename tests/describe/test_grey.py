"""Grey relational analysis: hand-computed example, R reference, properties, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.describe.grey import grey_relational
from agglomera.errors import DataError, SpecError

REF = Path(__file__).resolve().parents[1] / "reference" / "grey_relational"


@pytest.fixture(scope="module")
def hand():
    return pd.read_csv(REF / "hand_example.csv").set_index("year")


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REF / "reference.csv", keep_default_na=False)


def test_hand_example_steps(hand):
    # every table of DERIVATION.md
    res = grey_relational(hand, "x0", ["x1", "x2", "x3"])
    co = res.coefficients.pivot(index="point", columns="candidate", values="candidate_value")
    assert np.allclose(co["x1"], [1, 1.2, 1.6, 1.8], rtol=1e-12)
    assert np.allclose(co["x2"], [1, 1.1, 1.2, 1.5], rtol=1e-12)
    assert np.allclose(co["x3"], [1, 1.25, 1.25, 1.5], rtol=1e-12)
    delta = res.coefficients.pivot(index="point", columns="candidate", values="delta")
    assert np.allclose(delta["x1"], [0, 0, 0.1, 0.2], atol=1e-12)
    assert np.allclose(delta["x2"], [0, 0.1, 0.3, 0.1], atol=1e-12)
    assert np.allclose(delta["x3"], [0, 0.05, 0.25, 0.1], atol=1e-12)
    assert res.extremes["delta_min"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert res.extremes["delta_max"].iloc[0] == pytest.approx(0.3, rel=1e-12)
    xi = res.coefficients.pivot(index="point", columns="candidate", values="xi")
    assert np.allclose(xi["x1"], [1, 1, 0.6, 3 / 7], rtol=1e-12)
    assert np.allclose(xi["x2"], [1, 0.6, 1 / 3, 0.6], rtol=1e-12)
    assert np.allclose(xi["x3"], [1, 0.75, 0.375, 0.6], rtol=1e-12)
    g = res.grades.set_index("candidate")
    assert g.loc["x1", "grade"] == pytest.approx(3.0285714285714285 / 4, rel=1e-12)
    assert g.loc["x2", "grade"] == pytest.approx(2.5333333333333333 / 4, rel=1e-12)
    assert g.loc["x3", "grade"] == pytest.approx(0.68125, rel=1e-12)
    assert list(res.grades["candidate"]) == ["x1", "x3", "x2"]
    assert list(res.grades["rank"]) == [1, 2, 3]


def test_hand_example_against_r(hand, reference):
    ref = reference[reference["dataset"] == "hand"]
    for (how, ext, rho), block in ref.groupby(["normalise", "extremes", "rho"]):
        res = grey_relational(
            hand, "x0", ["x1", "x2", "x3"], rho=rho, normalise=how, extremes=ext
        ).grades.set_index("candidate")
        for _, r in block.iterrows():
            assert res.loc[r["candidate"], "grade"] == pytest.approx(r["grade"], rel=1e-6), (
                how,
                ext,
                rho,
            )


def test_panel_by_unit_against_r(reference):
    frame = pd.read_csv(REF / "panel_example.csv")
    panel = Panel(frame, unit="city", time="year")
    ref = reference[reference["dataset"] == "panel"]
    cands = ["rd", "patents", "students", "fdi"]
    for how, block in ref.groupby("normalise"):
        res = grey_relational(panel, "talent", cands, normalise=how, by="city").grades
        got = res.set_index(["city", "candidate"])["grade"]
        for _, r in block.iterrows():
            assert got.loc[(r["group"], r["candidate"])] == pytest.approx(r["grade"], rel=1e-6)
        assert set(res["rank"]) == {1, 2, 3, 4}


def test_identical_candidate_has_grade_one(hand):
    data = hand.assign(copy=hand["x0"] * 2.0)  # same initial image as x0
    res = grey_relational(data, "x0", ["x1", "copy"]).grades.set_index("candidate")
    assert res.loc["copy", "grade"] == pytest.approx(1.0)
    assert res.loc["copy", "rank"] == 1
    only = grey_relational(data, "x0", ["copy"])
    assert only.grades["grade"].iloc[0] == 1.0
    assert only.meta["notes"]


def test_errors(hand):
    with pytest.raises(SpecError, match="rho"):
        grey_relational(hand, "x0", ["x1"], rho=0)
    with pytest.raises(SpecError, match="normalise"):
        grey_relational(hand, "x0", ["x1"], normalise="zscore")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="also listed"):
        grey_relational(hand, "x0", ["x0", "x1"])
    with pytest.raises(DataError, match="not found"):
        grey_relational(hand, "x0", ["nope"])
    bad = hand.astype(float).copy()
    bad.loc[2018, "x2"] = np.nan
    with pytest.raises(DataError, match="2018"):
        grey_relational(bad, "x0", ["x2"])
    zero = hand.astype(float).copy()
    zero.loc[2016, "x1"] = 0.0
    with pytest.raises(DataError, match="first value"):
        grey_relational(zero, "x0", ["x1"])
    panel = Panel(pd.read_csv(REF / "panel_example.csv"), unit="city", time="year")
    with pytest.raises(SpecError, match=r"by=panel\.unit"):
        grey_relational(panel, "talent", ["rd"])
