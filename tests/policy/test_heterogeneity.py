"""Heterogeneity by region: split samples, interaction (Chow) test, permutation, bootstrap.

Validation: on the simulated innovative-city data the CS split-sample estimates recover
the true ordering east > west > central (``truth["att_by_region"]``); the interaction test
equals a direct pyfixest regression with the same small-sample convention (1e-10).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy
from agglomera.errors import DataError, SpecError
from agglomera.policy import twfe
from agglomera.policy.estimation import wald_test
from agglomera.policy.heterogeneity import heterogeneity


@pytest.fixture(scope="module")
def cs_boot(design):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return heterogeneity(design, "talent_lq", estimator="cs", test="bootstrap", draws=19)


def test_cs_split_sample_recovers_true_ordering(example, cs_boot) -> None:
    truth = example.truth["att_by_region"]
    assert truth["east"] > truth["west"] > truth["central"]
    att = cs_boot.groups.set_index("group")["att"]
    assert att["east"] > att["west"] > att["central"]
    # and each within 2.5 SE of the sample truth
    se = cs_boot.groups.set_index("group")["se"]
    for region in ("east", "west", "central"):
        assert abs(att[region] - truth[region]) < 2.5 * se[region]


def test_split_sample_equals_estimate_on_group_units(design, cs_boot) -> None:
    frame = design.panel.to_frame()
    east = sorted(frame.loc[frame["region3"] == "east", "adcode"].unique())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sub = policy.design(design.panel.subset(units=east), cohort="treat_year")
    direct = policy.estimate(sub, "talent_lq", estimator="cs")
    row = cs_boot.groups.set_index("group").loc["east"]
    assert row["att"] == pytest.approx(direct.att, abs=1e-12)
    assert row["se"] == pytest.approx(direct.se, abs=1e-12)
    assert row["n_units"] == len(east)
    rec = cs_boot.estimates["east"].meta["dropped"]
    assert any("sub-sample region3 = east" in d for d in rec)


def test_bootstrap_differences_and_joint_test(cs_boot) -> None:
    d = cs_boot.differences.set_index(["group_a", "group_b"])
    draws = cs_boot.draws
    assert draws.shape == (19, 3)
    names = list(cs_boot.groups["group"])
    a, b = names.index("east"), names.index("west")
    sim = draws[:, a] - draws[:, b]
    assert d.loc[("east", "west"), "se"] == pytest.approx(np.std(sim, ddof=1), rel=1e-12)
    assert d.loc[("east", "west"), "ci_low"] == pytest.approx(np.quantile(sim, 0.025))
    theta = cs_boot.groups["att"].to_numpy()
    contrasts = theta[1:] - theta[0]
    cov = np.cov(draws[:, 1:] - draws[:, [0]], rowvar=False)
    stat, df, p = wald_test(contrasts, cov)
    assert (cs_boot.statistic, cs_boot.df, cs_boot.pvalue) == pytest.approx((stat, df, p))
    assert "east" in cs_boot.summary() and not cs_boot.to_frame().empty


def test_interaction_test_equals_direct_pyfixest(design) -> None:
    import pyfixest as pf

    res = heterogeneity(design, "talent_lq", estimator="twfe", test="interaction")
    frame = design.panel.to_frame()
    data = pd.DataFrame(
        {
            "y": frame["talent_lq"].to_numpy(),
            "u": pd.factorize(frame["adcode"], sort=True)[0],
            "t": frame["year"].to_numpy(),
        }
    )
    d = design.treated().to_numpy(dtype=float)
    data["D"] = d
    data["De"] = d * (frame["region3"] == "east").to_numpy()
    data["Dw"] = d * (frame["region3"] == "west").to_numpy()
    fit = pf.feols(
        "y ~ D + De + Dw | u + t", data=data, vcov={"CRV1": "u"}, ssc=pf.ssc(**twfe.SSC_CONVENTION)
    )
    coef = fit.coef().to_numpy()
    vcov = np.asarray(fit._vcov)
    table = res.interaction.set_index("term")
    assert table.loc["treat", "estimate"] == pytest.approx(coef[0], abs=1e-10)
    assert table.loc["treat:east", "estimate"] == pytest.approx(coef[1], abs=1e-10)
    assert table.loc["treat:west", "se"] == pytest.approx(np.sqrt(vcov[2, 2]), abs=1e-10)
    stat, df, p = wald_test(coef[1:], vcov[1:, 1:])
    assert res.statistic == pytest.approx(stat, rel=1e-10)
    assert res.df == df == 2
    assert res.pvalue == pytest.approx(p, rel=1e-8, abs=1e-300)
    diff = res.differences.set_index(["group_a", "group_b"]).loc[("east", "west")]
    w = np.array([0.0, 1.0, -1.0])
    assert diff["difference"] == pytest.approx(w @ coef, abs=1e-10)
    assert diff["se"] == pytest.approx(np.sqrt(w @ vcov @ w), abs=1e-10)
    # the TWFE split samples are ordered as the truth too
    att = res.groups.set_index("group")["att"]
    assert att["east"] > att["west"] > att["central"]


def test_permutation_is_seeded_and_p_value_formula(design) -> None:
    kw = dict(estimator="cs", test="permutation", draws=5, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        r1 = heterogeneity(design, "talent_lq", **kw)
        r2 = heterogeneity(design, "talent_lq", **kw)
    np.testing.assert_array_equal(r1.draws, r2.draws)
    names = list(r1.groups["group"])
    a, b = names.index("central"), names.index("west")
    obs = r1.groups["att"].iloc[a] - r1.groups["att"].iloc[b]
    sim = r1.draws[:, a] - r1.draws[:, b]
    expected = (1 + np.sum(np.abs(sim) >= abs(obs) - 1e-12)) / 6
    got = r1.differences.set_index(["group_a", "group_b"]).loc[("central", "west"), "pvalue"]
    assert got == pytest.approx(expected)
    # permutations are within cohorts: each group keeps its number of treated units
    assert r1.meta["failed_draws"] == 0


def test_region_joined_from_reference_when_absent(design) -> None:
    frame = design.panel.to_frame().drop(columns=["region3", "region4", "name_en"])
    panel = Panel(frame, unit="adcode", time="year")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d2 = policy.design(panel, cohort="treat_year")
        r = heterogeneity(d2, "talent_lq", by="region4", test="interaction")
    assert r.meta["group_source"] == "reference"
    assert set(r.groups["group"]) == {"east", "central", "west", "northeast"}
    assert r.df == 3


def test_errors_name_the_argument(design) -> None:
    with pytest.raises(SpecError, match=r"test='chow'.*allowed"):
        heterogeneity(design, "talent_lq", test="chow")
    with pytest.raises(SpecError, match="estimator='twfe'"):
        heterogeneity(design, "talent_lq", estimator="cs", test="interaction")
    with pytest.raises(DataError):
        heterogeneity(design, "talent_lq", by="no_such_column")
    with pytest.raises(DataError, match="constant within unit"):
        heterogeneity(design, "talent_lq", by="treated")
    with pytest.raises(SpecError, match="draws"):
        heterogeneity(design, "talent_lq", test="permutation", draws=0)


def test_split_sample_error_names_the_group(design) -> None:
    # no never-treated unit left in a group: CS with never-treated controls fails there
    frame = design.panel.to_frame()
    label = np.where(frame["treat_year"].to_numpy() > 0, "pilots", "others")
    label[frame["adcode"].to_numpy() == "110100"] = "others"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d2 = policy.design(design.panel.with_columns(grp=label), cohort="treat_year")
        with pytest.raises((DataError, SpecError), match="group grp='pilots'"):
            heterogeneity(d2, "talent_lq", by="grp", estimator="cs", test="bootstrap", draws=1)
