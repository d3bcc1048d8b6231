"""Coupling dynamics over a panel: C, T, D, grades, lagging subsystem and grade transitions.

Reference values: the validation README's two-subsystem example U1 = (.2, .5, .8, .1),
U2 = (.4, .5, .2, .9), T = 0.5 U1 + 0.5 U2 (printed to 4 decimals, asserted to half a unit
of the last digit), arranged as two units × two years; grades follow Liao's (1999) table
(D in steps of 0.1); the transition counts and shares are counted by hand below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.datasets import zhejiang_bay
from agglomera.errors import DataError, SpecError
from agglomera.interaction.coupling_dynamics import CouplingDynamics, coupling_dynamics
from agglomera.measure import coupling_coordination, entropy_weights

HALF = 0.5e-4  # half a unit of the README's fourth decimal


def _readme_panel() -> Panel:
    frame = pd.DataFrame(
        {
            "city": ["A", "A", "B", "B"],
            "year": [2020, 2021, 2020, 2021],
            "ind": [0.2, 0.5, 0.8, 0.1],
            "tal": [0.4, 0.5, 0.2, 0.9],
            "region": ["east", "east", "west", "west"],
        }
    )
    return Panel(frame, unit="city", time="year")


def test_readme_standard_form() -> None:
    res = coupling_dynamics(_readme_panel(), "ind", "tal", names=("industry", "talent"))
    f = res.frame
    np.testing.assert_allclose(f["C"], [0.9428, 1, 0.8, 0.6], atol=HALF)
    np.testing.assert_allclose(f["T"], [0.3, 0.5, 0.5, 0.5], rtol=1e-12)
    np.testing.assert_allclose(f["D"], [0.5318, 0.7071, 0.6325, 0.5477], atol=HALF)
    # exact by hand: C = 2√(U1 U2)/(U1 + U2), D = √(C T)
    assert f["C"].iloc[0] == pytest.approx(2 * np.sqrt(0.08) / 0.6, rel=1e-12)
    assert f["D"].iloc[2] == pytest.approx(np.sqrt(0.4), rel=1e-12)
    # Liao (1999): 0.5–0.6 勉强协调, 0.6–0.7 初级协调, 0.7–0.8 中级协调
    assert f["grade"].tolist() == [6, 8, 7, 6]
    assert f["grade_zh"].tolist() == ["勉强协调", "中级协调", "初级协调", "勉强协调"]
    assert f["grade_en"].iloc[1] == "intermediate coordination"
    np.testing.assert_allclose(f["relative"], [0.5, 1.0, 4.0, 0.1 / 0.9], rtol=1e-12)
    assert f["lagging"].tolist() == [
        "industry lagging",
        "synchronous",
        "talent lagging",
        "industry lagging",
    ]
    assert list(f.columns[:4]) == ["city", "year", "ind", "tal"]


def test_readme_kform_and_corrected() -> None:
    k = coupling_dynamics(_readme_panel(), "ind", "tal", form="k", k=2)
    np.testing.assert_allclose(k.frame["C"], [0.7901, 1, 0.4096, 0.1296], atol=HALF)
    corr = coupling_dynamics(_readme_panel(), "ind", "tal", form="corrected")
    np.testing.assert_allclose(corr.frame["C"], [0.6325, 1, 0.3162, 0.1491], atol=HALF)
    np.testing.assert_allclose(corr.frame["D"], [0.4356, 0.7071, 0.3976, 0.2730], atol=HALF)
    assert corr.frame["grade"].tolist() == [5, 8, 4, 3]
    # the numbers are those of measure.coupling_coordination, not a second implementation
    direct = coupling_coordination([0.2, 0.5, 0.8, 0.1], [0.4, 0.5, 0.2, 0.9], form="corrected")
    np.testing.assert_array_equal(corr.frame["D"].to_numpy(), direct.D)
    np.testing.assert_array_equal(corr.frame["grade"].to_numpy(), direct.grade)


def test_weights_alpha_beta() -> None:
    res = coupling_dynamics(_readme_panel(), "ind", "tal", alpha=0.6, beta=0.4)
    np.testing.assert_allclose(res.frame["T"], [0.28, 0.5, 0.56, 0.42], rtol=1e-12)
    np.testing.assert_allclose(res.frame["D"], np.sqrt(res.frame["C"] * res.frame["T"]))
    with pytest.raises(SpecError, match="sum to 1"):
        coupling_dynamics(_readme_panel(), "ind", "tal", alpha=0.6, beta=0.6)


def test_readme_transitions_overall_and_by_region() -> None:
    res = coupling_dynamics(_readme_panel(), "ind", "tal", region="region")
    counts = res.transitions()
    assert counts.shape == (10, 10)
    assert counts.to_numpy().sum() == 2
    assert counts.loc[6, 8] == 1 and counts.loc[7, 6] == 1
    by = res.transitions("region")
    assert by.loc[("east", 6), 8] == 1 and by.loc[("west", 7), 6] == 1
    assert by.to_numpy().sum() == 2


def _grade_panel() -> Panel:
    """U1 = U2 = D², so C = 1 and D is chosen directly (mid-grade values)."""
    d = {4: 0.35, 5: 0.45, 6: 0.55, 7: 0.65}
    paths = {
        "a": ([2020, 2021, 2022, 2023], [4, 5, 5, 6], "east"),
        "b": ([2020, 2021, 2022, 2023], [5, 5, 4, 4], "east"),
        "c": ([2020, 2021, 2022, 2023], [6, 7, 7, 7], "west"),
        "d": ([2020, 2022], [4, 6], "west"),  # no 2021: no pair across the gap
    }
    rows = [
        {"unit": u, "year": y, "u1": d[g] ** 2, "u2": d[g] ** 2, "region": r}
        for u, (years, grades, r) in paths.items()
        for y, g in zip(years, grades, strict=True)
    ]
    return Panel(pd.DataFrame(rows), unit="unit", time="year")


def test_hand_checked_transition_matrix() -> None:
    res = coupling_dynamics(_grade_panel(), "u1", "u2", region="region")
    assert res.frame.loc[res.frame["unit"] == "a", "grade"].tolist() == [4, 5, 5, 6]
    counts = res.transitions()
    expected = {(4, 4): 1, (4, 5): 1, (5, 4): 1, (5, 5): 2, (5, 6): 1, (6, 7): 1, (7, 7): 2}
    for (i, j), n in expected.items():
        assert counts.loc[i, j] == n
    assert counts.to_numpy().sum() == sum(expected.values()) == 9
    shares = res.transitions(shares=True)
    assert shares.loc[5].tolist()[3:6] == [0.25, 0.5, 0.25]
    assert shares.loc[4, 4] == shares.loc[4, 5] == 0.5
    assert shares.loc[7, 7] == 1.0
    assert shares.loc[1].isna().all()  # grade never occupied: no row share
    np.testing.assert_allclose(shares.dropna().sum(axis=1), 1.0)
    by = res.transitions(by="region")
    east, west = by.loc["east"], by.loc["west"]
    assert east.to_numpy().sum() == 6 and west.to_numpy().sum() == 3
    assert east.loc[5, 4] == 1 and east.loc[5, 5] == 2 and east.loc[4, 4] == 1
    assert west.loc[6, 7] == 1 and west.loc[7, 7] == 2
    pairs = res.pairs()
    assert "d" not in set(pairs["unit"])
    assert len(pairs) == 9
    text = res.summary()
    assert "9 year-to-year transitions: 5 stay, 3 up, 1 down" in text


def test_lagging_tolerance_and_difference_rule() -> None:
    frame = pd.DataFrame(
        {"u": ["p", "q", "r"], "t": [1, 1, 1], "x": [0.5, 0.5, 0.5], "z": [0.55, 0.56, 0.62]}
    )
    panel = Panel(frame, unit="u", time="t")
    ratio = coupling_dynamics(panel, "x", "z", tolerance=0.1)
    # E = 0.909 (inside 0.9–1.1), 0.893, 0.806
    assert ratio.frame["lagging"].tolist() == ["synchronous", "x lagging", "x lagging"]
    diff = coupling_dynamics(panel, "x", "z", relative="difference", tolerance=0.1)
    # U1 − U2 = −0.05, −0.06, −0.12
    assert diff.frame["lagging"].tolist() == ["synchronous", "synchronous", "x lagging"]
    wide = coupling_dynamics(panel, "x", "z", tolerance=0.2)
    assert wide.frame["lagging"].tolist() == ["synchronous"] * 3


def test_custom_grade_cut_points() -> None:
    res = coupling_dynamics(_readme_panel(), "ind", "tal", grades=[0.55, 0.65])
    # D = .5318, .7071, .6325, .5477
    assert res.frame["grade"].tolist() == [1, 3, 2, 1]
    assert res.grades["lower"].tolist() == [0.0, 0.55, 0.65]
    assert res.transitions().shape == (3, 3)
    table = pd.DataFrame(
        {
            "level": [1, 2],
            "lower": [0.0, 0.6],
            "label_en": ["low", "high"],
            "label_zh": ["低", "高"],
        }
    )
    two = coupling_dynamics(_readme_panel(), "ind", "tal", grades=table)
    assert two.frame["grade_en"].tolist() == ["low", "high", "high", "low"]
    for bad in ([0.5, 0.4], [1.2], pd.DataFrame({"level": [1], "lower": [0.1]})):
        with pytest.raises(SpecError, match="grade"):
            coupling_dynamics(_readme_panel(), "ind", "tal", grades=bad)


def test_errors_name_the_offending_rows() -> None:
    frame = _readme_panel().to_frame()
    frame.loc[3, "tal"] = 1.3
    with pytest.raises(DataError, match=r"'tal' has 1 .*\('B', 2021, 1.3\)"):
        coupling_dynamics(Panel(frame, unit="city", time="year"), "ind", "tal")
    frame = _readme_panel().to_frame()
    frame.loc[0, "ind"] = np.nan
    with pytest.raises(DataError, match=r"'ind' has 1 .*\('A', 2020"):
        coupling_dynamics(Panel(frame, unit="city", time="year"), "ind", "tal")
    frame = _readme_panel().to_frame()
    frame.loc[1, "region"] = None
    with pytest.raises(DataError, match=r"region column 'region' is missing at .*\('A', 2021\)"):
        coupling_dynamics(Panel(frame, unit="city", time="year"), "ind", "tal", region="region")
    with pytest.raises(SpecError, match="form must be 'standard', 'k' or 'corrected'"):
        coupling_dynamics(_readme_panel(), "ind", "tal", form="kform")
    with pytest.raises(SpecError, match="names"):
        coupling_dynamics(_readme_panel(), "ind", "tal", names=("a", "a"))
    with pytest.raises(SpecError, match="by="):
        coupling_dynamics(_readme_panel(), "ind", "tal").transitions(by="province")
    with pytest.raises(DataError, match="Panel"):
        coupling_dynamics(frame, "ind", "tal")  # type: ignore[arg-type]


def test_zhejiang_bay_entropy_indices() -> None:
    data = zhejiang_bay(seed=0)
    groups = data.truth["indicator_groups"]
    panel = data.panel
    scores = {}
    for name, cols in groups.items():
        res = entropy_weights(panel, dict.fromkeys(cols, "+"))
        scores[name] = res.scores.to_numpy()
    panel = panel.with_columns(industry=scores["industry"], talent=scores["talent"])
    dyn = coupling_dynamics(panel, "industry", "talent", names=("industry", "talent"))
    assert isinstance(dyn, CouplingDynamics)
    assert len(dyn.frame) == 8 * 13
    assert dyn.transitions().to_numpy().sum() == 8 * 12
    # both indices grow along the common path, so coordination rises over time
    by_year = dyn.frame.groupby("year")["D"].mean()
    assert by_year.iloc[-1] > by_year.iloc[0]
