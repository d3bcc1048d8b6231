"""Treatment design: cohort coding, drops, errors and the row-aligned helpers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy, reference
from agglomera.errors import DataError, SpecError

MPDTA = Path(__file__).resolve().parents[1] / "reference" / "policy" / "mpdta.csv"


@pytest.fixture(scope="module")
def mpdta() -> Panel:
    return Panel(pd.read_csv(MPDTA), unit="countyreal", time="year")


def _toy(cohorts: dict[str, float], years=range(2001, 2006)) -> pd.DataFrame:
    rows = []
    for u, g in cohorts.items():
        for t in years:
            rows.append(
                {"u": u, "t": t, "g": g, "y": float(t) + len(u), "d": int(g > 0 and t >= g)}
            )
    return pd.DataFrame(rows)


def test_mpdta_cohorts(mpdta: Panel) -> None:
    d = policy.design(mpdta, cohort="first.treat")
    assert d.cohort_sizes().to_dict() == {2004: 20, 2006: 40, 2007: 131}
    assert len(d.never_treated()) == 309
    assert d.meta["n_dropped_units"] == 0 and d.meta["dropped"] == []
    assert d.balance == "drop" and "allow_unbalanced_panel = FALSE" in d.rule
    frame = d.panel.to_frame()
    et = d.event_time()
    treated = d.treated()
    g = frame["first.treat"].to_numpy()
    t = frame["year"].to_numpy()
    np.testing.assert_array_equal(treated.to_numpy(), ((g > 0) & (t >= g)).astype(int))
    np.testing.assert_array_equal(np.isnan(et.to_numpy()), g == 0)
    np.testing.assert_array_equal(et.to_numpy()[g > 0], (t - g)[g > 0])
    wide = d.outcome_matrix("lemp")
    assert wide.shape == (500, 5)
    assert wide.loc[8001, 2004] == pytest.approx(8.33686963728496, rel=1e-12)
    assert "2004: 20" in d.summary()


def test_policy_coding_matches_registry(example) -> None:
    with pytest.warns(UserWarning, match="single unit"):
        d = policy.design(example.panel, policy="innovative_city")
    expected = example.panel.to_frame().groupby("adcode")["treat_year"].first()
    pd.testing.assert_series_equal(
        d.cohorts, expected.astype(np.int64).rename("cohort"), check_names=False
    )
    assert d.meta["singleton_cohorts"] == [2008]
    assert "unverified" in d.rule and "reference.treatment_years" in d.rule
    # the 2022 pilots are after the window: never treated, recorded
    assert len(d.meta["after_window"]) == len(example.truth["pilots_after_end"])
    with pytest.warns(UserWarning):
        from_indicator = policy.design(example.panel, treatment="treated")
    pd.testing.assert_series_equal(from_indicator.cohorts, d.cohorts)


def test_policy_drops_registry_exclusions() -> None:
    years = reference.treatment_years("innovative_city")
    dropped = years.attrs["dropped"][0]
    treated = ["440300", "320100"]
    never = sorted(
        set(reference.cities()["adcode"]) - set(years.index) - set(years.attrs["dropped"])
    )[:3]
    frame = _toy({u: 0 for u in [*treated, dropped, *never]}, years=range(2005, 2013))
    with pytest.warns(UserWarning, match="single unit"):
        d = policy.design(Panel(frame, unit="u", time="t"), policy="innovative_city")
    assert dropped not in d.units
    assert d.meta["n_dropped_units"] == 1
    assert any(dropped in s for s in d.meta["dropped"])
    assert int(d.cohorts["440300"]) == 2008 and int(d.cohorts["320100"]) == int(years["320100"])
    assert set(d.never_treated()) == set(never)
    assert d.meta["not_in_registry"] == 3


def test_policy_requires_adcodes() -> None:
    frame = _toy({"a": 0, "b": 0})
    with pytest.raises(DataError, match="adcode"):
        policy.design(Panel(frame, unit="u", time="t"), policy="innovative_city")


def test_cohort_not_constant_names_units() -> None:
    frame = _toy({"a": 2003, "b": 0, "c": 2004})
    frame.loc[(frame.u == "a") & (frame.t == 2005), "g"] = 2004
    with pytest.raises(DataError, match=r"constant within unit.*'a'.*treatment="):
        policy.design(Panel(frame, unit="u", time="t"), cohort="g")


def test_indicator_given_as_cohort_is_rejected() -> None:
    frame = _toy({"a": 2003, "b": 0})
    with pytest.raises(DataError, match="treatment='d'"):
        policy.design(Panel(frame, unit="u", time="t"), cohort="d")


def test_indicator_switching_off() -> None:
    frame = _toy({"a": 2003, "b": 0, "c": 2004})
    frame.loc[(frame.u == "a") & (frame.t == 2005), "d"] = 0
    with pytest.raises(DataError, match=r"switches off.*\('a', 2005\)"):
        policy.design(Panel(frame, unit="u", time="t"), treatment="d")
    ok = _toy({"a": 2003, "b": 0, "c": 2004})
    with pytest.warns(UserWarning, match="single unit"):
        d = policy.design(Panel(ok, unit="u", time="t"), treatment="d")
    assert d.cohorts.to_dict() == {"a": 2003, "b": 0, "c": 2004}


def test_always_treated_error_and_drop() -> None:
    frame = _toy({"a": 2001, "b": 0, "c": 2003, "c2": 2003, "z": 1995})
    panel = Panel(frame, unit="u", time="t")
    with pytest.raises(
        DataError, match=r"every period.*'a' \(cohort 2001\).*always_treated='drop'"
    ):
        policy.design(panel, cohort="g")
    d = policy.design(panel, cohort="g", always_treated="drop")
    assert set(d.units) == {"b", "c", "c2"}
    assert d.meta["always_treated"] == ["a", "z"]
    assert d.meta["n_dropped_units"] == 2
    assert "always_treated='drop'" in d.meta["dropped"][0]


def test_cohorts_after_window_are_never_treated() -> None:
    frame = _toy({"a": 2003, "a2": 2003, "b": 2009, "c": 0})
    d = policy.design(Panel(frame, unit="u", time="t"), cohort="g")
    assert int(d.cohorts["b"]) == 0
    assert d.meta["after_window"] == ["b"]
    assert "after the last period 2005" in d.summary()
    # with anticipation, a cohort just after the window may react inside it: dropped
    frame = _toy({"a": 2003, "a2": 2003, "b": 2006, "c": 0})
    d = policy.design(Panel(frame, unit="u", time="t"), cohort="g", anticipation=1)
    assert "b" not in d.units and d.meta["n_dropped_units"] == 1


def test_no_comparison_units() -> None:
    frame = _toy({"a": 2003, "b": 2003})
    with pytest.raises(DataError, match="no untreated comparison units"):
        policy.design(Panel(frame, unit="u", time="t"), cohort="g")
    # two cohorts, no never treated: not-yet-treated comparisons exist
    frame = _toy({"a": 2003, "a2": 2003, "b": 2005, "b2": 2005})
    d = policy.design(Panel(frame, unit="u", time="t"), cohort="g")
    assert len(d.never_treated()) == 0
    # ... unless anticipation removes them
    with pytest.raises(DataError, match="anticipation 2"):
        policy.design(Panel(frame, unit="u", time="t"), cohort="g", anticipation=2)
    with pytest.raises(DataError, match="no unit is treated"):
        policy.design(Panel(_toy({"a": 0, "b": 0}), unit="u", time="t"), cohort="g")


def test_singleton_cohort_warns() -> None:
    frame = _toy({"a": 2003, "b": 0, "c": 0})
    with pytest.warns(UserWarning, match="2003: 'a'"):
        policy.design(Panel(frame, unit="u", time="t"), cohort="g")


def test_balance_rules_on_unbalanced_panel(mpdta: Panel) -> None:
    frame = mpdta.to_frame()
    gone = frame[(frame.countyreal.isin([8001, 8019, 8023])) & (frame.year == 2005)].index
    panel = Panel(frame.drop(gone), unit="countyreal", time="year")
    d = policy.design(panel, cohort="first.treat")
    assert d.meta["n_dropped_units"] == 3
    assert "8001" in d.meta["dropped"][0] and "not observed in every period" in d.meta["dropped"][0]
    assert d.panel.is_balanced and len(d.units) == 497
    for rule in ("pairwise", "rcs"):
        kept = policy.design(panel, cohort="first.treat", balance=rule)
        assert kept.meta["n_dropped_units"] == 0 and len(kept.units) == 500
        assert rule in kept.rule
        wide = kept.outcome_matrix("lemp")
        assert np.isnan(wide.loc[8001, 2005]) and wide.notna().sum().sum() == 2497


def test_covariate_frame_refuses_missing_values(mpdta: Panel) -> None:
    d = policy.design(mpdta, cohort="first.treat")
    cov = d.covariate_frame(["lpop"])
    assert list(cov.columns) == ["countyreal", "year", "lpop"] and len(cov) == 2500
    frame = mpdta.to_frame()
    frame.loc[3, "lpop"] = np.nan
    d2 = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    with pytest.raises(DataError, match=r"'lpop' has 1 missing"):
        d2.covariate_frame(["lpop"])
    with pytest.raises(DataError, match="not found"):
        d.covariate_frame(["lpopp"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of"),
        ({"cohort": "first.treat", "policy": "innovative_city"}, "exactly one of"),
        ({"cohort": "first.treat", "balance": "keep"}, "balance='keep'"),
        ({"cohort": "first.treat", "anticipation": -1}, "anticipation"),
        ({"cohort": "first.treat", "always_treated": "keep"}, "always_treated"),
    ],
)
def test_bad_arguments(mpdta: Panel, kwargs: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        policy.design(mpdta, **kwargs)


def test_design_is_frozen(mpdta: Panel) -> None:
    d = policy.design(mpdta, cohort="first.treat")
    with pytest.raises(AttributeError), warnings.catch_warnings():
        d.balance = "rcs"  # type: ignore[misc]
