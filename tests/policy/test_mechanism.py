"""Mechanisms: the policy's effect on a mediator ("causal") and the Baron–Kenny steps.

Validation against the simulated innovative-city data (``truth["mechanisms"]``): R&D
expenditure is multiplied by exp(0.10) when treated, patents by exp(0.9 * 0.10 + 0.06).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from agglomera import policy
from agglomera.errors import DataError, SpecError
from agglomera.policy.mechanism import THREE_STEP_WARNING, mechanism


@pytest.fixture(scope="module")
def design(example) -> policy.TreatmentDesign:
    frame = example.panel.to_frame()
    po = pd.DataFrame(example.truth["potential_outcomes"])
    po = frame[["adcode", "year"]].merge(po, on=["adcode", "year"], how="left")
    grp = frame["grp_pc"].to_numpy() * frame["pop"].to_numpy() / 1e4
    panel = example.panel.with_columns(
        log_rd_exp_0=np.log(po["rd_exp_0"].to_numpy()),
        rd_intensity=frame["rd_exp"].to_numpy() / grp,
        log_patents=np.log(frame["patents"].to_numpy(dtype=float)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(panel, cohort="treat_year")


def test_causal_mode_is_estimate_on_the_mediator(design) -> None:
    res = mechanism(design, "rd_exp", transform="log", outcome="talent_lq")
    log_rd = np.log(design.panel.column("rd_exp").to_numpy())
    d2 = dataclasses.replace(design, panel=design.panel.with_columns(lrd=log_rd))
    direct = policy.estimate(d2, "lrd", estimator="cs")
    assert res.mediator.att == pytest.approx(direct.att, abs=1e-12)
    assert res.mediator.se == pytest.approx(direct.se, abs=1e-12)
    assert res.total is not None
    assert res.total.att == pytest.approx(policy.estimate(design, "talent_lq").att, abs=1e-12)
    assert res.warning == "" and res.mode == "causal"
    assert list(res.to_frame()["step"]) == ["total effect (c)", "effect on log_rd_exp (a)"]


def test_causal_mode_recovers_the_known_log_effect_exactly_net_of_untreated_paths(
    example, design
) -> None:
    # CS without covariates is linear in the outcome: the estimate on log rd_exp minus the
    # same estimator on the untreated potential outcome log rd_exp_0 is the estimator
    # applied to 0.10 * D, i.e. the known effect exactly.
    res = mechanism(design, "rd_exp", transform="log")
    placebo = policy.estimate(design, "log_rd_exp_0", estimator="cs")
    known = example.truth["mechanisms"]["rd_exp"]["log_effect"]
    assert res.mediator.att - placebo.att == pytest.approx(known, abs=1e-10)


def test_causal_mode_recovers_the_known_effect_on_log_rd(example, design) -> None:
    # the generator's untreated log R&D paths are parallel (city level + common growth path
    # + AR(1) noise), so the policy's effect on log R&D is identified by the same design
    res = mechanism(design, "rd_exp", transform="log")
    known = example.truth["mechanisms"]["rd_exp"]["log_effect"]
    assert abs(res.mediator.att - known) < 2.5 * res.mediator.se


def test_three_step_recovers_b_and_direct_effect(example, design) -> None:
    mech = example.truth["mechanisms"]["patents"]
    res = mechanism(
        design,
        "rd_exp",
        transform="log",
        outcome="log_patents",
        mode="three_step",
        bootstrap=19,
        seed=1,
    )
    steps = res.to_frame().set_index("step")
    b = steps.loc["step 3: mediator (b)"]
    c_prime = steps.loc["step 3: direct (c')"]
    assert abs(b["estimate"] - mech["elasticity_rd"]) < 2 * b["se"]
    assert abs(c_prime["estimate"] - mech["direct_log_effect"]) < 2 * c_prime["se"]
    assert res.indirect == pytest.approx(res.mediator.att * b["estimate"], rel=1e-12)
    assert res.warning == THREE_STEP_WARNING and "not causally identified" in res.warning
    assert "WARNING" in res.summary()
    ab = res.draws[:, 0] * res.draws[:, 1]
    assert res.indirect_se == pytest.approx(np.std(ab, ddof=1), rel=1e-12)
    again = mechanism(
        design,
        "rd_exp",
        transform="log",
        outcome="log_patents",
        mode="three_step",
        bootstrap=19,
        seed=1,
    )
    np.testing.assert_array_equal(res.draws, again.draws)


def test_bootstrap_step3_matches_pyfixest_on_the_full_sample(design) -> None:
    from agglomera.policy.mechanism import _step3, _step3_b

    _, b, _, _ = _step3(design, "log_patents", "rd_intensity", ())
    frame = design.panel.to_frame()
    ui = pd.factorize(frame["adcode"])[0]
    ti = pd.factorize(frame["year"])[0]
    b_np = _step3_b(
        frame["log_patents"].to_numpy(),
        design.treated().to_numpy(dtype=float),
        frame["rd_intensity"].to_numpy(),
        np.empty(0),
        ui,
        ti,
    )
    assert b_np == pytest.approx(b, rel=1e-9)


def test_errors(design) -> None:
    with pytest.raises(SpecError, match=r"mode='x'.*allowed"):
        mechanism(design, "rd_exp", mode="x")
    with pytest.raises(SpecError, match="outcome"):
        mechanism(design, "rd_exp", mode="three_step")
    with pytest.raises(SpecError, match="transform"):
        mechanism(design, "rd_exp", transform="sqrt")
    with pytest.raises(DataError, match="positive"):
        mechanism(design, "treated", transform="log")
