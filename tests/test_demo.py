"""The demo: both seed studies run from the shipped study files; numbers equal the API's."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from agglomera import datasets, policy
from agglomera._demo import DEMO_STUDIES, study_file
from agglomera.cli import main


class _Demo:
    def __init__(self, out) -> None:
        self.folders = {name: out / name for name in DEMO_STUDIES}
        self.index = out / "index.html"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> _Demo:
    """The demo run once through the command line (as the README runs it)."""
    out = tmp_path_factory.mktemp("demo")
    with pytest.raises(SystemExit) as info:
        main(["--quiet", "demo", "--out", str(out)])
    assert info.value.code == 0
    return _Demo(out)


def test_demo_writes_both_reports(demo) -> None:
    assert set(demo.folders) == set(DEMO_STUDIES)
    for folder in demo.folders.values():
        assert (folder / "report.html").stat().st_size > 20_000
        assert (folder / "results.json").exists()
    index = demo.index.read_text(encoding="utf-8")
    assert 'href="innovative_city/report.html"' in index
    assert 'href="zhejiang_bay/report.html"' in index


def test_demo_policy_numbers_equal_api(demo) -> None:
    document = json.loads((demo.folders["innovative_city"] / "results.json").read_text())
    seed = document["seed"]
    data = datasets.innovative_city(scope="prefecture", seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design = policy.design(data.panel, policy="innovative_city")
        twfe = policy.estimate(design, "talent_lq", estimator="twfe")
        placebo = policy.placebo(design, "talent_lq", estimator="twfe", draws=1000, seed=seed)
    got = document["results"]["policy"]
    assert got["estimates"]["twfe"]["att"] == twfe.att
    assert got["estimates"]["twfe"]["se"] == twfe.se
    assert got["placebo"]["p_value"] == placebo.p_value
    assert got["placebo"]["draws"] == 1000


def test_demo_interaction_numbers_equal_api(demo) -> None:
    from agglomera import measure
    from agglomera.interaction import dumitrescu_hurlin

    document = json.loads((demo.folders["zhejiang_bay"] / "results.json").read_text())
    panel = datasets.zhejiang_bay(seed=document["seed"]).panel
    frame = panel.to_frame()
    columns = {}
    for name, indicators in {
        "industry_index": ["ht_rd_exp", "ht_exports", "ht_industrialisation"],
        "talent_index": ["prof_tech_per10k", "rd_staff_per10k", "patents_per10k_emp"],
    }.items():
        scores = measure.entropy_weights(panel, dict.fromkeys(indicators, 1)).scores
        values = scores.to_numpy()
        demeaned = values - pd.Series(values).groupby(frame["year"].to_numpy()).transform("mean")
        columns[name + "_dm"] = demeaned.to_numpy()
    expected = dumitrescu_hurlin(
        panel.with_columns(**columns), "talent_index_dm", "industry_index_dm", lags=1
    )
    granger = document["results"]["interaction"]["granger"]
    got = granger["industry_index_dm -> talent_index_dm"]
    assert got["wbar"] == expected.wbar and got["ztilde"] == expected.ztilde
    assert granger["talent_index_dm -> industry_index_dm"]["wbar"] == expected.reverse.wbar
    weights = document["results"]["measures"]["weights"]["industry_index"]
    assert weights["ht_rd_exp"] > 0 and abs(sum(weights.values()) - 1) < 1e-12


def test_shipped_study_files_exist() -> None:
    for name in DEMO_STUDIES:
        assert study_file(name).read_text(encoding="utf-8").startswith("#")
