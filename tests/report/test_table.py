"""The report table model: constructors, formatting conventions, stars and labels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from agglomera import datasets, describe
from agglomera.errors import SpecError
from agglomera.policy.results import DIDResult
from agglomera.report import (
    Column,
    ModelColumn,
    Row,
    RowGroup,
    Table,
    format_number,
    label,
    significance_stars,
    star_note,
    translate,
)

VARS = ["ht_rd_exp", "rd_staff_per10k", "patents_per10k_emp"]


@pytest.fixture(scope="module")
def two_models() -> list[ModelColumn]:
    m1 = ModelColumn(
        "TWFE",
        coef={"treated_post": 0.12345, "rd": -0.5, "pop": 2.0},
        se={"treated_post": 0.04, "rd": 0.25, "pop": 3.0},
        pvalue={"treated_post": 0.0099, "rd": 0.05, "pop": 0.51},
        stats={"n_obs": 5436, "r2": 0.71234},
    )
    m2 = ModelColumn(
        "CS",
        coef={"treated_post": 0.2, "rd": 0.3},
        se={"treated_post": 0.1, "rd": 0.2},
        pvalue={"treated_post": 0.01, "rd": 0.0999},
        stats={"n_obs": 1234567.0, "r2": 0.5},
    )
    return [m1, m2]


def _did(att: float = 0.0456, se: float = 0.0123, pvalue: float = 0.0002) -> DIDResult:
    return DIDResult(
        att=att,
        se=se,
        ci=(att - 1.96 * se, att + 1.96 * se),
        pvalue=pvalue,
        event_study=pd.DataFrame(),
        attgt=pd.DataFrame(),
        pretrend_pvalue=0.42,
        meta={
            "estimator": "cs",
            "estimator_label": "Callaway-Sant'Anna",
            "n_obs": 3060,
            "n_units": 170,
        },
    )


# ---------------------------------------------------------------------- formatting
def test_stars_strictly_below_levels_and_same_rule_as_describe() -> None:
    cases = {0.0099: "***", 0.01: "**", 0.0499: "**", 0.05: "*", 0.0999: "*", 0.1: "", 0.5: ""}
    for p, expected in cases.items():
        assert significance_stars(p) == expected
        assert describe.stars_for(p) == expected
    assert significance_stars(math.nan) == ""
    assert significance_stars(None) == ""
    assert significance_stars(0.03, (0.05, 0.01)) == "*"


def test_format_number_conventions() -> None:
    assert format_number(1234567) == "1,234,567"
    assert format_number(np.int64(5436)) == "5,436"
    assert format_number(0.12345) == "0.123"
    assert format_number(-0.0001) == "0.000"  # no negative zero
    assert format_number(-0.5) == "-0.500"
    assert format_number(math.nan, na_rep="–") == "–"
    assert format_number(None) == ""
    assert format_number("R&D") == "R&D"
    assert format_number(2.5, "{:.1f}") == "2.5"


def test_labels_and_star_notes() -> None:
    assert label("n_obs", "zh") == "观测值"
    assert label("unit_fe", "zh") == "城市固定效应"
    assert label("year_fe", "zh") == "年份固定效应"
    assert (label("yes", "zh"), label("no", "zh")) == ("是", "否")
    assert label("se_parentheses", "zh") == "括号内为标准误。"
    assert translate("Unit FE", "zh") == "城市固定效应"
    assert translate("Year FE", "zh") == "年份固定效应"
    assert translate("城市固定效应", "en") == "Unit FE"
    assert translate("Mean", "zh") == "均值"
    assert translate("ht_rd_exp", "zh") == "ht_rd_exp"
    assert star_note((0.1, 0.05, 0.01)) == "* p<0.1, ** p<0.05, *** p<0.01"
    assert star_note((0.01, 0.05, 0.1), "zh") == "***、**、* 分别表示在 1%、5%、10% 的水平上显著。"
    assert star_note((0.05, 0.01)) == "* p<0.05, ** p<0.01"
    with pytest.raises(SpecError, match="language"):
        label("n_obs", "fr")


# ---------------------------------------------------------------------- model checks
def test_table_validates_widths_label_and_alignment() -> None:
    with pytest.raises(SpecError, match="2 cells but the table has 3 columns"):
        Table("t", (Column("a"), Column("b"), Column("c")), (RowGroup((Row("x", ("1", "2")),)),))
    with pytest.raises(SpecError, match="label"):
        Table("t", (Column("a"),), (RowGroup((Row("x", ("1",)),)),), label="tab 1{x}")
    with pytest.raises(SpecError, match="align"):
        Column("a", align="x")  # type: ignore[arg-type]
    table = Table("t", ("a", "b"), (RowGroup([Row("x", [1.5, 2])]),))
    assert table.columns == (Column("a"), Column("b"))
    assert table.rows[0].texts == ("1.500", "2")


def test_header_groups_merge_adjacent_equal_groups() -> None:
    cols = (Column("(1)", "TWFE"), Column("(2)", "TWFE"), Column("(3)"), Column("(4)", "CS"))
    table = Table("t", cols, (RowGroup((Row("x", ("", "", "", "")),)),))
    assert table.header_groups() == [("TWFE", 0, 1), (None, 2, 2), ("CS", 3, 3)]
    assert list(table.to_frame().columns) == [
        "variable",
        "TWFE / (1)",
        "TWFE / (2)",
        "(3)",
        "CS / (4)",
    ]


# ---------------------------------------------------------------------- descriptive tables
def test_from_result_summary_first_row_matches_summary_numbers() -> None:
    bay = datasets.zhejiang_bay(seed=0).panel
    result = describe.summary(bay, VARS)
    table = Table.from_result(result, label="tab:summary")
    assert table.title == "Summary statistics"
    assert table.stub == "Variable"
    assert [c.header for c in table.columns] == [
        "N",
        "Missing",
        "Mean",
        "SD",
        "Min",
        "P25",
        "Median",
        "P75",
        "Max",
    ]
    stats = result.stats.iloc[0]
    expected = [
        "ht_rd_exp",
        f"{int(stats['n']):,}",
        str(int(stats["missing"])),
        *(f"{stats[c]:.3f}" for c in ["mean", "sd", "min", "p25", "p50", "p75", "max"]),
    ]
    first = table.rows[0]
    assert [first.label, *first.texts] == expected
    assert len(table.rows) == len(VARS)
    assert expected[1] == "104"


def test_from_result_summary_in_chinese_and_digits() -> None:
    bay = datasets.zhejiang_bay(seed=0).panel
    result = describe.summary(bay, VARS)
    table = Table.from_result(result, language="zh", digits=2)
    assert table.title == "描述性统计"
    assert table.stub == "变量"
    assert [c.header for c in table.columns][:4] == ["观测值", "缺失值", "均值", "标准差"]
    assert table.rows[1].texts[2] == f"{result.stats.loc[1, 'mean']:.2f}"


def test_from_result_correlations_keeps_stars_and_adds_note() -> None:
    bay = datasets.zhejiang_bay(seed=0).panel
    result = describe.correlations(bay, VARS)
    table = Table.from_result(result)
    expected = result.table()
    assert table.title == "Correlation matrix"
    assert [c.header for c in table.columns] == VARS
    for i, row in enumerate(table.rows):
        assert row.label == VARS[i]
        assert list(row.texts) == list(expected.iloc[i, 1:])
    assert table.notes == ("* p<0.1, ** p<0.05, *** p<0.01",)
    zh = Table.from_result(result, language="zh")
    assert zh.notes == ("***、**、* 分别表示在 1%、5%、10% 的水平上显著。",)


def test_from_frame_index_panels_formats_and_booleans() -> None:
    df = pd.DataFrame(
        {
            "region": ["East", "East", "West"],
            "city": ["Hangzhou", "Ningbo", "Chengdu"],
            "pop": [1194, 954, 2094],
            "lq": [1.23456, math.nan, 0.9],
            "pilot": [True, False, True],
        }
    )
    table = Table.from_frame(
        df, index="city", panels="region", formats={"lq": "{:.2f}"}, na_rep="–", language="zh"
    )
    assert [g.title for g in table.panels] == ["Panel A：East", "Panel B：West"]
    assert [c.header for c in table.columns] == ["pop", "lq", "pilot"]
    assert table.stub == "city"
    assert [r.label for r in table.rows] == ["Hangzhou", "Ningbo", "Chengdu"]
    assert table.rows[0].texts == ("1,194", "1.23", "是")
    assert table.rows[1].texts == ("954", "–", "否")
    indexed = Table.from_frame(df.set_index("city")[["pop"]], title="x")
    assert indexed.stub == "city"
    assert [r.label for r in indexed.rows] == ["Hangzhou", "Ningbo", "Chengdu"]
    en = Table.from_frame(df, index="city", panels="region")
    assert en.panels[0].title == "Panel A: East"
    assert en.to_frame().iloc[2].tolist() == ["Panel B: West", "Chengdu", "2,094", "0.900", "Yes"]
    with pytest.raises(SpecError, match="'nope'"):
        Table.from_frame(df, panels="nope")


# ---------------------------------------------------------------------- regression tables
def test_regression_stars_se_and_thousands(two_models: list[ModelColumn]) -> None:
    table = Table.regression(
        two_models, title="DID", fixed_effects={"Unit FE": [True, True], "Year FE": [False, True]}
    )
    frame = table.to_frame()
    assert list(frame.columns) == ["variable", "TWFE / (1)", "CS / (2)"]
    rows = [[r.label, *r.texts] for r in table.rows]
    assert rows == [
        ["Treated × Post", "0.123***", "0.200**"],
        ["", "(0.040)", "(0.100)"],
        ["rd", "-0.500*", "0.300*"],
        ["", "(0.250)", "(0.200)"],
        ["pop", "2.000", ""],
        ["", "(3.000)", ""],
        ["Unit FE", "Yes", "Yes"],
        ["Year FE", "No", "Yes"],
        ["Observations", "5,436", "1,234,567"],
        ["R²", "0.712", "0.500"],
    ]
    assert [r.kind for r in table.rows[:2]] == ["coef", "se"]
    assert len(table.panels) == 2
    assert table.notes == ("Standard errors in parentheses.", "* p<0.1, ** p<0.05, *** p<0.01")


def test_regression_in_chinese(two_models: list[ModelColumn]) -> None:
    table = Table.regression(
        two_models,
        language="zh",
        keep=["treated_post"],
        fixed_effects={"Unit FE": [True, True], "Year FE": [False, True]},
    )
    rows = [[r.label, *r.texts] for r in table.rows]
    assert rows[0][0] == "试点城市 × 政策后"
    assert ["城市固定效应", "是", "是"] in rows
    assert ["年份固定效应", "否", "是"] in rows
    assert ["观测值", "5,436", "1,234,567"] in rows
    assert table.notes == ("括号内为标准误。", "***、**、* 分别表示在 1%、5%、10% 的水平上显著。")
    assert table.language == "zh"


def test_regression_conventions_are_parameters(two_models: list[ModelColumn]) -> None:
    table = Table.regression(
        two_models,
        se_style="brackets",
        stars=(0.05, 0.01),
        keep=["rd", "treated_post"],
        coef_names={"rd": "R&D"},
        digits=2,
        stats=("n_obs",),
        notes=["Clustered by city."],
    )
    rows = [[r.label, *r.texts] for r in table.rows]
    assert rows[:4] == [
        ["R&D", "-0.50", "0.30"],
        ["", "[0.25]", "[0.20]"],
        ["Treated × Post", "0.12**", "0.20*"],
        ["", "[0.04]", "[0.10]"],
    ]
    assert table.notes == (
        "Standard errors in brackets.",
        "* p<0.05, ** p<0.01",
        "Clustered by city.",
    )
    beside = Table.regression(two_models, se_position="beside", keep=["treated_post"], stats=())
    assert [[r.label, *r.texts] for r in beside.rows] == [
        ["Treated × Post", "0.123*** (0.040)", "0.200** (0.100)"]
    ]
    assert len(beside.panels) == 1
    assert (
        Table.regression(two_models, se_style="beside", keep=["treated_post"]).rows[0].texts[0]
        == "0.123*** (0.040)"
    )
    tstat = Table.regression(two_models, inference="t", keep=["treated_post"], stats=())
    assert tstat.rows[1].texts == ("(3.086)", "(2.000)")
    assert tstat.notes[0] == "t statistics in parentheses."
    custom = Table.regression(
        two_models, se_note="Standard errors clustered by city in parentheses.", stars=()
    )
    assert custom.notes == ("Standard errors clustered by city in parentheses.",)
    unnumbered = Table.regression(two_models, numbered=False)
    assert [c.header for c in unnumbered.columns] == ["TWFE", "CS"]
    assert unnumbered.header_groups() == []


def test_regression_rejects_bad_specs(two_models: list[ModelColumn]) -> None:
    with pytest.raises(SpecError, match="se_style"):
        Table.regression(two_models, se_style="stars")
    with pytest.raises(SpecError, match=r"'Year FE'.*1 entries for 2 models"):
        Table.regression(two_models, fixed_effects={"Year FE": [True]})
    with pytest.raises(SpecError, match="'nope'"):
        Table.regression(two_models, keep=["nope"])


def test_model_column_from_did_and_regression_of_did_results() -> None:
    col = ModelColumn.from_did(_did())
    assert col.name == "Callaway-Sant'Anna"
    assert col.coef == {"treated_post": 0.0456}
    assert col.se == {"treated_post": 0.0123}
    assert col.stats == {"n_obs": 3060, "n_units": 170}
    table = Table.regression(
        [_did(), _did(0.5, 0.4, 0.2)],
        stats=("n_obs", "n_units"),
        coef_names={"treated_post": "Pilot × Post"},
    )
    rows = [[r.label, *r.texts] for r in table.rows]
    assert rows[0] == ["Pilot × Post", "0.046***", "0.500"]
    assert rows[1] == ["", "(0.012)", "(0.400)"]
    assert rows[2] == ["Observations", "3,060", "3,060"]
    assert rows[3] == ["Cities", "170", "170"]
    single = Table.from_result(_did(), language="zh")
    assert single.title == "回归结果"
    assert [[r.label, *r.texts] for r in single.rows] == [
        ["试点城市 × 政策后", "0.046***"],
        ["", "(0.012)"],
        ["观测值", "3,060"],  # no R² row: a DID result has none
    ]
    assert [c.group for c in single.columns] == ["Callaway-Sant'Anna"]


def test_model_column_from_mapping_and_fitted_model() -> None:
    col = ModelColumn.from_any(
        {
            "name": "OLS",
            "params": {"x": 1.0},
            "bse": {"x": 0.5},
            "pvalues": {"x": 0.04},
            "stats": {"n_obs": 10},
        }
    )
    assert (col.name, col.coef, col.se, col.pvalue) == ("OLS", {"x": 1.0}, {"x": 0.5}, {"x": 0.04})
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 1.0 + 0.5 * x + rng.normal(size=200)
    fit = sm.OLS(y, sm.add_constant(pd.DataFrame({"x": x}))).fit()
    ols = ModelColumn.from_any(fit, name="OLS")
    assert ols.coef["x"] == pytest.approx(float(fit.params["x"]))
    assert ols.se["x"] == pytest.approx(float(fit.bse["x"]))
    assert ols.stats == {"n_obs": 200, "r2": pytest.approx(float(fit.rsquared))}
    table = Table.regression([fit], keep=["x", "const"])
    assert table.rows[0].texts[0] == f"{fit.params['x']:.3f}***"
    assert table.rows[2].label == "Constant"
    with pytest.raises(SpecError, match="cannot read a regression column"):
        ModelColumn.from_any(object())


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_model_column_from_pyfixest_fit() -> None:
    pf = pytest.importorskip("pyfixest")
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"y": rng.normal(size=120), "x": rng.normal(size=120), "g": rng.integers(0, 6, 120)}
    )
    fit = pf.feols("y ~ x | g", data=df)
    col = ModelColumn.from_any(fit, name="FE")
    assert col.coef == {"x": pytest.approx(float(fit.coef()["x"]))}
    assert col.se == {"x": pytest.approx(float(fit.se()["x"]))}
    assert col.pvalue == {"x": pytest.approx(float(fit.pvalue()["x"]))}
    assert col.stats["n_obs"] == 120
