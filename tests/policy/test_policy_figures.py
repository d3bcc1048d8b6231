"""Policy figures draw the result's own numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy
from agglomera.errors import DataError
from agglomera.policy.figures import event_study_figure, group_estimates_figure


@pytest.fixture(scope="module")
def results():
    frame = pd.read_csv("tests/reference/policy/mpdta.csv")
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    cs = policy.estimate(d, "lemp", estimator="cs", aggregate="dynamic")
    twfe = policy.estimate(d, "lemp", estimator="twfe")
    return cs, twfe


def test_event_study_points_are_the_estimates(results) -> None:
    cs, _ = results
    fig = event_study_figure({"CS": cs})
    ax = fig.axes[0]
    (points,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    np.testing.assert_allclose(points.get_xdata(), cs.event_study["rel_time"].to_numpy())
    np.testing.assert_allclose(points.get_ydata(), cs.event_study["estimate"].to_numpy())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["CS"]


def test_event_study_needs_an_event_study_table(results) -> None:
    _, twfe = results
    with pytest.raises(DataError, match="no event-study table"):
        event_study_figure(twfe)


def test_group_estimates_with_truth() -> None:
    fig = group_estimates_figure(
        [("east", 0.12, 0.10, 0.14), ("west", 0.08, 0.05, 0.11)], truth={"east": 0.122}
    )
    ax = fig.axes[0]
    truth = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert truth[0].get_xdata().tolist() == [0.122]
    positions = dict(
        zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks(), strict=True)
    )
    assert positions["east"] > positions["west"]  # first row drawn on top
    with pytest.raises(DataError, match="no estimates"):
        group_estimates_figure([])
