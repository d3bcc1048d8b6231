"""Behaviour of the pre-test API: input errors, result objects, the report table."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.errors import DataError, EstimationError, SpecError
from agglomera.pretest import (
    PretestResult,
    cips,
    cross_section_dependence,
    hausman,
    im_pesaran_shin,
    levin_lin_chu,
    pesaran_cd,
    pretests,
)
from agglomera.pretest.unit_root import _cips_critical_values, _cips_pvalue

REF = Path(__file__).resolve().parents[1] / "reference" / "pretest"


@pytest.fixture(scope="module")
def grunfeld() -> Panel:
    return Panel(pd.read_csv(REF / "Grunfeld.csv"), unit="firm", time="year")


def _unbalanced(panel: Panel) -> Panel:
    frame = panel.to_frame()
    keep = ~((frame["firm"] == 3) & (frame["year"] == 1935))
    return Panel(frame[keep], unit="firm", time="year")


# ---------------------------------------------------------------------- input errors
@pytest.mark.parametrize(
    "call",
    [
        lambda p: levin_lin_chu(p, "inv"),
        lambda p: cips(p, "inv"),
        lambda p: hausman(p, "inv", ["value"]),
    ],
)
def test_balance_required_names_the_units(grunfeld: Panel, call: object) -> None:
    with pytest.raises(DataError, match=r"balanced.*3 \(missing 1935\)"):
        call(_unbalanced(grunfeld))  # type: ignore[operator]


def test_ips_accepts_unbalanced_but_not_gaps(grunfeld: Panel) -> None:
    res = im_pesaran_shin(_unbalanced(grunfeld), "inv", lags=1)
    assert res.n_units == 10
    frame = grunfeld.to_frame()
    gap = Panel(frame[~((frame["firm"] == 4) & (frame["year"] == 1940))], unit="firm", time="year")
    with pytest.raises(DataError, match=r"gaps in 'year'.*4"):
        im_pesaran_shin(gap, "inv", lags=1)


def test_missing_values_name_the_keys(grunfeld: Panel) -> None:
    frame = grunfeld.to_frame()
    frame.loc[(frame["firm"] == 2) & (frame["year"] == 1950), "inv"] = np.nan
    panel = Panel(frame, unit="firm", time="year")
    for call in (
        lambda: levin_lin_chu(panel, "inv"),
        lambda: im_pesaran_shin(panel, "inv"),
        lambda: cips(panel, "inv"),
        lambda: pesaran_cd(panel, "inv"),
        lambda: hausman(panel, "inv", ["value"]),
    ):
        with pytest.raises(DataError, match=r"'inv' has 1 missing.*\(2, 1950\)"):
            call()


def test_bad_options(grunfeld: Panel) -> None:
    with pytest.raises(SpecError):
        levin_lin_chu(grunfeld, "inv", exo="drift")  # type: ignore[arg-type]
    with pytest.raises(SpecError):
        im_pesaran_shin(grunfeld, "inv", exo="none")  # type: ignore[arg-type]
    with pytest.raises(SpecError):
        levin_lin_chu(grunfeld, "inv", lags="hqic")
    with pytest.raises(SpecError):
        cips(grunfeld, "inv", lags=-1)
    with pytest.raises(SpecError):
        pesaran_cd(grunfeld, "inv", ["value"], model="pooling", test="bcsclm")
    with pytest.raises(DataError, match="not found"):
        levin_lin_chu(grunfeld, "invest")
    with pytest.raises(DataError, match="Panel"):
        levin_lin_chu(grunfeld.to_frame(), "inv")  # type: ignore[arg-type]


def test_too_many_lags_is_an_estimation_error(grunfeld: Panel) -> None:
    with pytest.raises(EstimationError, match="fewer lags"):
        levin_lin_chu(grunfeld, "inv", lags=9)
    with pytest.raises(EstimationError, match="fewer lags"):
        cips(grunfeld, "inv", lags=6)


# ---------------------------------------------------------------------- results
def test_result_is_frozen_and_tidy(grunfeld: Panel) -> None:
    res = levin_lin_chu(grunfeld, "inv", exo="trend", lags=1)
    assert isinstance(res, PretestResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.statistic = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.meta["sbar"] = 1.0  # type: ignore[index]
    frame = res.to_frame()
    assert frame.shape == (1, 14)
    assert frame.loc[0, "decision"] == "reject H0"  # z = -3.4066, p = 0.00033 (plm)
    assert frame.loc[0, "lags"] == "1"
    assert frame.loc[0, "deterministic"] == "trend"
    text = res.summary()
    assert "Levin-Lin-Chu" in text and "z = -3.4066" in text
    # LLC's table starts at T = 25; Grunfeld has T = 20 (plm: "the time series is short")
    assert "below the table" in res.meta["note"]


def test_default_lag_selection_is_recorded(grunfeld: Panel) -> None:
    res = im_pesaran_shin(grunfeld, "value")
    # Schwert: floor(12 (20/100)^0.25) = 8, capped at (20 - 1 - 1) // 3 = 6 for the
    # regressions and at 4 by IPS's Table 3 (lag 5 is tabulated only from T = 20 on)
    assert res.meta["max_lags"] == 4
    assert res.meta["lag_rule"] == "AIC, max 4"
    assert len(res.lags) == 10 and max(res.lags) <= 4
    assert levin_lin_chu(grunfeld, "value").meta["max_lags"] == 6


def test_cips_bounded_pvalue_and_decision(grunfeld: Panel) -> None:
    res = cips(grunfeld, "inv", lags=1, type="trend")
    assert res.pvalue == 0.10 and res.pvalue_bound == ">"
    assert res.decision() == "do not reject H0"
    assert res.to_frame().loc[0, "pvalue_bound"] == ">"
    assert res.table().loc[0, "p-value"] == ">0.1000"
    assert "<table" in res._repr_html_()


def test_cips_interpolation_is_monotone_and_matches_table_points() -> None:
    # exact table point: N = 10, T = 10, intercept -> -2.97, -2.52, -2.31 (plm's table)
    assert _cips_critical_values(10, 10, "drift", False).tolist() == [-2.97, -2.52, -2.31]
    cv = _cips_critical_values(48, 15, "drift", False)
    assert np.all(np.diff(cv) > 0)
    assert _cips_pvalue(float(cv[1]), cv) == (0.05, "")
    ps = [_cips_pvalue(s, cv)[0] for s in np.linspace(cv[0] + 1e-6, cv[2] - 1e-6, 25)]
    assert np.all(np.diff(ps) >= 0)
    assert _cips_pvalue(cv[0] - 1, cv) == (0.01, "<")


def test_cips_small_n_has_no_pvalue(grunfeld: Panel) -> None:
    small = grunfeld.subset(units=[1, 2, 3, 4, 5, 6])
    res = cips(small, "inv")
    assert np.isnan(res.pvalue)
    assert res.decision() == "n/a"
    assert "below Pesaran" in res.meta["note"]


def test_cd_on_residual_matrix_equals_panel_call(grunfeld: Panel) -> None:
    wide = grunfeld.to_wide("inv").T  # periods x units
    a = cross_section_dependence(wide, test="cd")
    b = pesaran_cd(grunfeld, "inv")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)
    assert a.statistic == pytest.approx(22.9215881565412, rel=1e-9)  # plm pcdtest(pseries)


def test_hausman_meta(grunfeld: Panel) -> None:
    res = hausman(grunfeld, "inv", ["value", "capital"])
    assert res.df == 2
    assert set(res.meta["b_fe"]) == {"value", "capital"}
    assert res.decision() == "do not reject H0"  # chisq = 2.3304, p = 0.3119 (plm)


# ---------------------------------------------------------------------- report table
def test_pretests_table(grunfeld: Panel) -> None:
    table = pretests(
        grunfeld,
        ["inv", "value"],
        lags=1,
        model=("inv", ["value", "capital"]),
    )
    assert list(table["test"]) == [
        "Levin-Lin-Chu",
        "Im-Pesaran-Shin",
        "Pesaran CIPS",
        "Pesaran CD",
        "Levin-Lin-Chu",
        "Im-Pesaran-Shin",
        "Pesaran CIPS",
        "Pesaran CD",
        "Pesaran CD",
        "Hausman",
    ]
    llc = table[(table["variable"] == "inv") & (table["test"] == "Levin-Lin-Chu")].iloc[0]
    assert llc["statistic"] == pytest.approx(2.01540205410649, rel=1e-9)  # plm, exo=intercept
    assert llc["decision"] == "do not reject H0"
    cd = table[table["variable"] == "inv ~ value + capital"].iloc[0]
    assert cd["statistic"] == pytest.approx(5.34005300275973, rel=1e-9)  # plm default model
    assert set(table["decision"]) <= {"reject H0", "do not reject H0", "n/a"}


def test_pretests_records_tests_that_cannot_run(grunfeld: Panel) -> None:
    table = pretests(grunfeld, ["inv"], tests=["cips"], cips_lags=7)
    assert np.isnan(table.loc[0, "statistic"])
    assert "fewer lags" in table.loc[0, "note"]
    with pytest.raises(SpecError):
        pretests(grunfeld, ["inv"], tests=["kpss"])
