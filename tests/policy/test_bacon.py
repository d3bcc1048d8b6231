"""Goodman-Bacon decomposition: the weighted 2x2 DIDs add up to the TWFE coefficient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, datasets, policy
from agglomera.errors import DataError

MPDTA = Path(__file__).resolve().parents[1] / "reference" / "policy" / "mpdta.csv"
TWFE_COEF = -0.036548936674067  # PROVENANCE.md (pyfixest / linearmodels / numpy agree)


@pytest.fixture(scope="module")
def mpdta_panel() -> Panel:
    return Panel(pd.read_csv(MPDTA), unit="countyreal", time="year")


def test_bacon_mpdta_sums_to_twfe(mpdta_panel: Panel) -> None:
    d = policy.design(mpdta_panel, cohort="first.treat")
    res = policy.bacon_decomposition(d, "lemp")
    c = res.comparisons
    assert res.twfe == pytest.approx(TWFE_COEF, abs=1e-12)
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(res.twfe, abs=1e-10)
    assert c["weight"].sum() == pytest.approx(1.0, abs=1e-14)
    assert (c["weight"] > 0).all()
    # 3 cohorts + never treated: 3 treated-vs-never and 3 pairs x 2 timing comparisons
    assert c["type"].value_counts().to_dict() == {
        "treated vs never treated": 3,
        "earlier vs later treated": 3,
        "later vs earlier treated": 3,
    }
    # the 2004-vs-never 2x2 is CS's simple average over 2004's post periods with base 2003
    row = c[(c.type == "treated vs never treated") & (c.treated == 2004)].iloc[0]
    y = d.outcome_matrix("lemp")
    g = d.cohorts
    post, pre = [2004, 2005, 2006, 2007], [2003]
    manual = (
        y.loc[g == 2004, post].to_numpy().mean() - y.loc[g == 2004, pre].to_numpy().mean()
    ) - (y.loc[g == 0, post].to_numpy().mean() - y.loc[g == 0, pre].to_numpy().mean())
    assert row["estimate"] == pytest.approx(manual, abs=1e-12)
    twfe = policy.estimate(d, "lemp", estimator="twfe")
    assert res.twfe == pytest.approx(twfe.att, abs=1e-10)
    assert "TWFE" in res.summary()
    by_type = res.by_type().set_index("type")
    assert by_type["weight"].sum() == pytest.approx(1.0)


def test_bacon_example_sums_to_twfe() -> None:
    ex = datasets.innovative_city("prefecture", seed=0)
    with pytest.warns(UserWarning, match="single unit"):
        d = policy.design(ex.panel, policy="innovative_city")
    res = policy.bacon_decomposition(d, "talent_lq")
    c = res.comparisons
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(res.twfe, abs=1e-10)
    twfe = policy.estimate(d, "talent_lq", estimator="twfe")
    assert res.twfe == pytest.approx(twfe.att, abs=1e-10)
    # effects grow with exposure: the forbidden comparisons are far below the clean ones
    by_type = res.by_type().set_index("type")["estimate"]
    assert by_type["later vs earlier treated"] < by_type["treated vs never treated"] - 0.05


def test_bacon_without_never_treated(mpdta_panel: Panel) -> None:
    frame = mpdta_panel.to_frame()
    frame = frame[frame["first.treat"] > 0]
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    res = policy.bacon_decomposition(d, "lemp")
    c = res.comparisons
    assert "treated vs never treated" not in set(c["type"])
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(res.twfe, abs=1e-10)
    assert res.twfe == pytest.approx(policy.estimate(d, "lemp", estimator="twfe").att, abs=1e-10)


def test_bacon_needs_balanced_complete_data(mpdta_panel: Panel) -> None:
    frame = mpdta_panel.to_frame()
    unbalanced = Panel(frame.drop(index=[3]), unit="countyreal", time="year")
    d = policy.design(unbalanced, cohort="first.treat", balance="pairwise")
    with pytest.raises(DataError, match="balanced"):
        policy.bacon_decomposition(d, "lemp")
    frame = frame.copy()
    frame.loc[3, "lemp"] = np.nan
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    with pytest.raises(DataError, match="missing for 1 units"):
        policy.bacon_decomposition(d, "lemp")
