"""Own CS core against the Python peers (test-only oracles) on balanced mpdta.

Oracles: ``csdid`` (a port of R did + DRDID) and ``diff-diff`` (``CallawaySantAnna``).
Each test is skipped with a reason when its oracle is not installed. Tolerance 1e-10
throughout (measured agreement: ≤ 3e-14, also with the iterative propensity logit).
Intended differences (documented in docs/policy-cs.md):

* overall ``group`` SE: csdid uses each cohort's own indicator in the weight influence
  function, which is our ``group_wif="cohort"``; our default ``"did"`` reproduces R's
  ``compute.aggte`` code, which indexes it by the cell's cohort (``group[k]``).
* diff-diff with covariates trims propensity scores to [0.01, 0.99] by default
  (``pscore_trim``), R/DRDID only drops comparison units with p >= 0.995: we compare
  diff-diff without covariates only.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy
from agglomera.policy.estimation import estimate

REF = Path(__file__).parents[1] / "reference" / "policy"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(REF / "mpdta.csv")


@pytest.fixture(scope="module")
def mp_design(mpdta: pd.DataFrame) -> policy.TreatmentDesign:
    return policy.design(Panel(mpdta, unit="countyreal", time="year"), cohort="first.treat")


def _csdid(
    data: pd.DataFrame,
    *,
    control_group: str,
    method: str,
    base_period: str,
    xformla: str | None,
    aggregations: tuple[str, ...] = ("simple", "dynamic", "group", "calendar"),
) -> dict[str, Any]:
    att_gt_mod = pytest.importorskip(
        "csdid.att_gt", reason="csdid (test-only oracle) not installed"
    )
    out: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj = att_gt_mod.ATTgt(
            yname="lemp",
            tname="year",
            idname="countyreal",
            gname="first.treat",
            data=data,
            control_group=control_group,
            xformla=xformla,
        )
        fit = obj.fit(est_method=method, base_period=base_period, bstrap=False)
        res = fit.results
        out["attgt"] = pd.DataFrame(
            {"cohort": res["group"], "time": res["year"], "att": res["att"], "se": res["se"]}
        )
        for kind in aggregations:
            fit.aggte(typec=kind, bstrap=False)
            atte = fit.atte
            out[kind] = {
                "att": float(atte["overall_att"]),
                "se": float(np.asarray(atte["overall_se"]).ravel()[0]),
                "egt": np.asarray(atte["egt"], dtype=float),
                "att_egt": np.asarray(atte["att_egt"], dtype=float).ravel(),
                "se_egt": np.asarray(atte["se_egt"], dtype=float).ravel(),
            }
    return out


CASES = [
    ("never", "nevertreated", "varying"),
    ("notyet", "notyettreated", "varying"),
    ("never", "nevertreated", "universal"),
    ("notyet", "notyettreated", "universal"),
]


@pytest.mark.parametrize(("cg", "cg_r", "base"), CASES)
def test_unconditional_vs_csdid(
    mpdta: pd.DataFrame, mp_design: policy.TreatmentDesign, cg: str, cg_r: str, base: str
) -> None:
    ref = _csdid(mpdta, control_group=cg_r, method="reg", base_period=base, xformla=None)
    ours: dict[str, Any] = {}
    for kind in ("simple", "dynamic", "group", "calendar"):
        ours[kind] = estimate(
            mp_design,
            "lemp",
            control_group=cg,
            base_period=base,
            aggregate=kind,
            group_wif="cohort",
        )
    attgt = ours["simple"].attgt
    merged = attgt.merge(ref["attgt"], on=["cohort", "time"])
    assert len(merged) == len(attgt) == len(ref["attgt"])
    np.testing.assert_allclose(merged["estimate"], merged["att"], atol=1e-10)
    ok = merged["se_x"].notna()
    np.testing.assert_allclose(merged.loc[ok, "se_x"], merged.loc[ok, "se_y"], atol=1e-10)
    for kind in ("simple", "dynamic", "group", "calendar"):
        assert ours[kind].att == pytest.approx(ref[kind]["att"], abs=1e-10)
        assert ours[kind].se == pytest.approx(ref[kind]["se"], abs=1e-10)
    es = ours["dynamic"].event_study
    np.testing.assert_allclose(es["rel_time"], ref["dynamic"]["egt"])
    np.testing.assert_allclose(es["estimate"], ref["dynamic"]["att_egt"], atol=1e-10)
    fin = es["se"].notna().to_numpy()
    np.testing.assert_allclose(es["se"].to_numpy()[fin], ref["dynamic"]["se_egt"][fin], atol=1e-10)
    grp = ours["group"].meta["aggregations"]["group"]
    np.testing.assert_allclose(grp["estimate"], ref["group"]["att_egt"], atol=1e-10)
    np.testing.assert_allclose(grp["se"], ref["group"]["se_egt"], atol=1e-10)
    cal = ours["calendar"].meta["aggregations"]["calendar"]
    np.testing.assert_allclose(cal["estimate"], ref["calendar"]["att_egt"], atol=1e-10)
    np.testing.assert_allclose(cal["se"], ref["calendar"]["se_egt"], atol=1e-10)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("cg", ["never", "notyet"])
def test_lpop_vs_csdid(
    mpdta: pd.DataFrame, mp_design: policy.TreatmentDesign, method: str, cg: str
) -> None:
    ref = _csdid(
        mpdta,
        control_group="nevertreated" if cg == "never" else "notyettreated",
        method=method,
        base_period="varying",
        xformla="lemp~lpop",
        aggregations=("simple", "dynamic"),
    )
    ours = estimate(mp_design, "lemp", controls=["lpop"], method=method, control_group=cg)
    merged = ours.attgt.merge(ref["attgt"], on=["cohort", "time"])
    assert len(merged) == 12
    np.testing.assert_allclose(merged["estimate"], merged["att"], atol=1e-10)
    np.testing.assert_allclose(merged["se_x"], merged["se_y"], atol=1e-10)
    assert ours.att == pytest.approx(ref["simple"]["att"], abs=1e-10)
    assert ours.se == pytest.approx(ref["simple"]["se"], abs=1e-10)
    dyn = estimate(
        mp_design,
        "lemp",
        controls=["lpop"],
        method=method,
        control_group=cg,
        aggregate="dynamic",
    )
    assert dyn.att == pytest.approx(ref["dynamic"]["att"], abs=1e-10)
    assert dyn.se == pytest.approx(ref["dynamic"]["se"], abs=1e-10)


@pytest.mark.parametrize(
    ("cg", "cg_dd"), [("never", "never_treated"), ("notyet", "not_yet_treated")]
)
def test_unconditional_vs_diff_diff(
    mpdta: pd.DataFrame, mp_design: policy.TreatmentDesign, cg: str, cg_dd: str
) -> None:
    dd = pytest.importorskip("diff_diff", reason="diff-diff (test-only oracle) not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = dd.CallawaySantAnna(control_group=cg_dd, estimation_method="dr").fit(
            mpdta,
            outcome="lemp",
            unit="countyreal",
            time="year",
            first_treat="first.treat",
            aggregate="all",
        )
    ours = estimate(mp_design, "lemp", control_group=cg, aggregate="dynamic")
    simple = estimate(mp_design, "lemp", control_group=cg)
    tab = ours.attgt.set_index(["cohort", "time"])
    for (g, t), cell in res.group_time_effects.items():
        assert tab.loc[(int(g), int(t)), "estimate"] == pytest.approx(cell["effect"], abs=1e-10)
        assert tab.loc[(int(g), int(t)), "se"] == pytest.approx(cell["se"], abs=1e-10)
    assert simple.att == pytest.approx(res.overall_att, abs=1e-10)
    assert simple.se == pytest.approx(res.overall_se, abs=1e-10)
    es = ours.event_study.set_index("rel_time")
    for e, cell in res.event_study_effects.items():
        if not np.isfinite(cell["se"]):
            continue
        assert es.loc[int(e), "estimate"] == pytest.approx(cell["effect"], abs=1e-10)
        assert es.loc[int(e), "se"] == pytest.approx(cell["se"], abs=1e-10)


def test_group_wif_did_differs_from_csdid_as_documented(
    mpdta: pd.DataFrame, mp_design: policy.TreatmentDesign
) -> None:
    ref = _csdid(
        mpdta,
        control_group="nevertreated",
        method="reg",
        base_period="varying",
        xformla=None,
        aggregations=("group",),
    )
    r_code = estimate(mp_design, "lemp", aggregate="group")
    assert r_code.att == pytest.approx(ref["group"]["att"], abs=1e-12)
    assert r_code.se != pytest.approx(ref["group"]["se"], abs=1e-10)
    assert r_code.se == pytest.approx(ref["group"]["se"], abs=5e-4)


def test_unbalanced_drop_equals_csdid_default_route(mpdta: pd.DataFrame) -> None:
    """mpdta with 10 % of rows dropped (seeded): balance='drop' = R did's default route
    (allow_unbalanced_panel = FALSE balances the panel first); 207 of 500 units dropped."""
    rng = np.random.default_rng(20260101)
    frame = mpdta.loc[rng.random(len(mpdta)) >= 0.10].reset_index(drop=True)
    ref = _csdid(
        frame,
        control_group="nevertreated",
        method="reg",
        base_period="varying",
        xformla=None,
        aggregations=("simple",),
    )
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    ours = estimate(d, "lemp")
    assert d.meta["n_dropped_units"] == 207
    assert ours.att == pytest.approx(ref["simple"]["att"], abs=1e-12)
    assert ours.se == pytest.approx(ref["simple"]["se"], abs=1e-12)
    merged = ours.attgt.merge(ref["attgt"], on=["cohort", "time"])
    np.testing.assert_allclose(merged["estimate"], merged["att"], atol=1e-12)


@pytest.mark.parametrize("base", ["varying", "universal"])
def test_time_varying_covariate_uses_earlier_period_like_csdid(
    mpdta: pd.DataFrame, base: str
) -> None:
    """lpop is time-invariant in mpdta; perturb it per year so that the period matters:
    R did/csdid use the earlier period of each 2x2 (panel2cs2), as we do."""
    rng = np.random.default_rng(1)
    frame = mpdta.assign(lpop=mpdta["lpop"] + rng.normal(scale=0.3, size=len(mpdta)))
    ref = _csdid(
        frame,
        control_group="nevertreated",
        method="dr",
        base_period=base,
        xformla="lemp~lpop",
        aggregations=("simple",),
    )
    d = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    ours = estimate(d, "lemp", controls=["lpop"], method="dr", base_period=base)
    merged = ours.attgt.merge(ref["attgt"], on=["cohort", "time"])
    assert len(merged) == len(ref["attgt"])
    np.testing.assert_allclose(merged["estimate"], merged["att"], atol=1e-10)
    assert ours.att == pytest.approx(ref["simple"]["att"], abs=1e-10)
