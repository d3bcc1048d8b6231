"""The demo job: files written, numbers equal the API's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agglomera import datasets, measure, reference
from agglomera._demo import run_demo
from agglomera.cli import main


def test_demo_writes_tables_equal_to_api(tmp_path) -> None:
    outputs = run_demo(tmp_path, quiet=True)
    names = {p.name for p in outputs.files}
    assert {"summary.md", "innovative_city_panel.csv", "zhejiang_bay_coupling.csv"} <= names
    assert all(p.exists() and p.stat().st_size > 0 for p in outputs.files)

    # talent LQ recomputed by measure.location_quotient equals the generator's outcome
    panel = pd.read_csv(tmp_path / "innovative_city_panel.csv", dtype={"adcode": str})
    np.testing.assert_allclose(panel["lq"], panel["talent_lq"], rtol=1e-12)

    # the registry table is the shipped one
    pilots = pd.read_csv(tmp_path / "pilots.csv", dtype={"unit_adcode": str})
    assert pilots["unit_adcode"].tolist() == reference.pilots()["unit_adcode"].tolist()

    # cohorts follow the stated coding rule
    years = reference.treatment_years("innovative_city")
    shenzhen = panel.loc[panel["adcode"] == "440300", "treat_year"].unique().tolist()
    assert shenzhen == [int(years["440300"])] == [2008]
    assert outputs.coding_rule.startswith(years.attrs["rule"][:40])

    # coupling coordination equals a direct API call
    bay = datasets.zhejiang_bay(seed=0).to_frame()
    system = {
        "industry": ["ht_rd_exp", "ht_exports", "ht_industrialisation"],
        "talent": ["prof_tech_per10k", "rd_staff_per10k", "patents_per10k_emp"],
    }
    directions = dict.fromkeys(system["industry"] + system["talent"], "+")
    expected = measure.coupling_coordination(measure.composite_index(bay, system, directions))
    written = pd.read_csv(tmp_path / "zhejiang_bay_coupling.csv")
    np.testing.assert_allclose(written["D"], expected.D, rtol=1e-12)
    np.testing.assert_allclose(written["C"], expected.C, rtol=1e-12)


def test_demo_command(tmp_path, capsys) -> None:
    try:
        main(["demo", "--out", str(tmp_path / "out")])
    except SystemExit as exc:
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "Treatment coding rule" in out
    assert "simulated" in out
    assert (
        (tmp_path / "out" / "summary.md").read_text(encoding="utf-8").startswith("# agglomera demo")
    )
