"""Robustness helpers: exclusions, fake timing, dropping the never treated."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from agglomera import policy
from agglomera.errors import DataError, SpecError
from agglomera.policy.robustness import drop_never_treated, exclude, fake_timing


def _quiet_design(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(panel, **kw)


def test_exclude_municipalities_equals_direct_subset(design) -> None:
    new = exclude(design, units="municipalities")
    munis = {"110100", "120100", "310100", "500100"}
    assert not munis & set(new.units)
    assert len(new.units) == len(design.units) - 4
    rec = new.meta["robustness"][-1]
    assert rec["check"] == "exclude" and set(rec["units"]) == munis
    assert any("municipalities" in d for d in new.meta["dropped"])
    keep = [u for u in design.units if u not in munis]
    direct = _quiet_design(design.panel.subset(units=keep), cohort="treat_year")
    a = policy.estimate(new, "talent_lq", estimator="cs")
    b = policy.estimate(direct, "talent_lq", estimator="cs")
    assert a.att == pytest.approx(b.att, abs=1e-12) and a.se == pytest.approx(b.se, abs=1e-12)
    assert any("municipalities" in d for d in a.meta["dropped"])
    assert design.meta.get("robustness") is None  # input untouched


def test_exclude_registry_frame_and_periods(design) -> None:
    registry = pd.DataFrame({"adcode": ["330100", "330200", "999999"], "year": [2012, 2013, 2014]})
    new = exclude(design, units=registry, periods=[2008, 2009])
    assert "330100" not in set(new.units) and "330200" not in set(new.units)
    assert 2008 not in set(new.times.tolist()) and 2009 not in set(new.times.tolist())
    rec = new.meta["robustness"][-1]
    assert rec["not_in_design"] == 1 and rec["periods"] == [2008, 2009]
    # later exclusion stacks on the earlier record
    newer = exclude(new, units=["110100"])
    assert [r["check"] for r in newer.meta["robustness"]] == ["exclude", "exclude"]


def test_exclude_late_periods_recodes_late_cohort(design) -> None:
    new = exclude(design, periods=range(2018, 2020))
    assert 2018 not in set(new.cohort_sizes().index)
    assert any("after the last period" in n for n in new.meta["notes"])


def test_fake_timing_pre_treatment_sample(design) -> None:
    k = 3
    new = fake_timing(design, years=k)
    g = design.cohorts
    assert (new.cohorts[g[g > 0].index] == g[g > 0] - k).all()
    frame = new.panel.to_frame()
    g_row = g.reindex(frame["adcode"]).to_numpy()
    assert not ((g_row > 0) & (frame["year"].to_numpy() >= g_row)).any()
    assert new.balance == "pairwise"
    rec = new.meta["robustness"][-1]
    assert rec["check"] == "fake_timing" and rec["years"] == k
    for est in ("twfe", "cs"):
        r = policy.estimate(new, "talent_lq", estimator=est)
        assert abs(r.att) < 2 * r.se, est  # placebo ~ 0 (parallel trends hold in the DGP)
    # same numbers as building the placebo sample by hand
    keep = (g_row == 0) | (frame["year"].to_numpy() < g_row)
    assert keep.all()
    panel = design.panel.subset(
        where=~(
            (g.reindex(design.panel.to_frame()["adcode"]).to_numpy() > 0)
            & (
                design.panel.to_frame()["year"].to_numpy()
                >= g.reindex(design.panel.to_frame()["adcode"]).to_numpy()
            )
        )
    )
    fake = np.where(panel.column("treat_year") > 0, panel.column("treat_year") - k, 0)
    direct = _quiet_design(
        panel.with_columns(fake=fake), cohort="fake", balance="pairwise", always_treated="drop"
    )
    a = policy.estimate(new, "talent_lq", estimator="twfe")
    b = policy.estimate(direct, "talent_lq", estimator="twfe")
    assert a.att == pytest.approx(b.att, abs=1e-12)


def test_fake_timing_window_sample(design) -> None:
    new = fake_timing(design, years=2, sample="window")
    assert int(new.times.max()) < int(design.cohorts[design.cohorts > 0].min())
    assert new.balance == design.balance


def test_drop_never_treated(design) -> None:
    new = drop_never_treated(design)
    assert (new.cohorts > 0).all()
    assert len(new.units) == len(design.treated_units())
    r = policy.estimate(new, "talent_lq", estimator="cs", control_group="notyet")
    assert np.isfinite(r.att)
    with pytest.raises(DataError, match="no never-treated"):
        drop_never_treated(new)


def test_errors(design) -> None:
    with pytest.raises(SpecError, match="both are None"):
        exclude(design)
    with pytest.raises(SpecError, match="units='capitals'"):
        exclude(design, units="capitals")
    with pytest.raises(DataError, match="2030"):
        exclude(design, periods=[2030])
    with pytest.raises(DataError, match="'adcode'"):
        exclude(design, units=pd.DataFrame({"city": ["a"]}))
    with pytest.raises(SpecError, match="years"):
        fake_timing(design, years=0)
    with pytest.raises(SpecError, match="sample='all'"):
        fake_timing(design, sample="all")
