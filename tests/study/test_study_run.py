"""Running a study: every number in results.json equals the API's; the outputs exist."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, policy
from agglomera.cli import main
from agglomera.study import parse_study, run_study, write_report

ROOT = Path(__file__).resolve().parents[2]
MPDTA = ROOT / "tests" / "reference" / "policy" / "mpdta.csv"


@pytest.fixture(scope="module")
def mpdta_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("mpdta")
    shutil.copy(ROOT / "examples" / "mpdta" / "study.toml", folder / "study.toml")
    shutil.copy(MPDTA, folder / "mpdta.csv")
    report = run_study(folder / "study.toml")
    out = folder / "out"
    write_report(report, out, study_file=folder / "study.toml")
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_results_json_equals_api(mpdta_run) -> None:
    _, document = mpdta_run
    frame = pd.read_csv(MPDTA)
    design = policy.design(Panel(frame, unit="countyreal", time="year"), cohort="first.treat")
    estimates = document["results"]["policy"]["estimates"]
    for name, options in {
        "cs": {"control_group": "never", "method": "reg"},
        "twfe": {},
        "bjs": {"control_group": "never"},
        "sa": {},
    }.items():
        expected = policy.estimate(design, "lemp", estimator=name, **options)
        got = estimates[name]
        assert got["att"] == expected.att
        assert got["se"] == expected.se
        assert got["pvalue"] == expected.pvalue
        assert (got["ci_low"], got["ci_high"]) == tuple(expected.ci)
        es = pd.DataFrame(got["event_study"])
        if len(expected.event_study):
            np.testing.assert_array_equal(es["estimate"], expected.event_study["estimate"])
            np.testing.assert_array_equal(es["rel_time"], expected.event_study["rel_time"])


def test_replication_reproduces_published_mpdta_numbers(mpdta_run) -> None:
    _, document = mpdta_run
    replication = document["results"]["replication"]
    assert replication["n_targets"] == 9
    assert replication["n_match"] == 9, replication["targets"]


def test_outputs_written(mpdta_run) -> None:
    out, document = mpdta_run
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "study.toml").read_text(encoding="utf-8").startswith("# run with agglomera ")
    for ext in ("tex", "md", "csv", "docx"):
        assert (out / "tables" / f"policy_main.{ext}").stat().st_size > 0
    png = (out / "figures" / "policy_event_study.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "figures" / "policy_event_study.svg").read_text().lstrip().startswith("<?xml")
    assert document["software"]["agglomera"]
    topics = {m["topic"] for m in document["methods"]}
    assert {"comparison group", "unbalanced panels", "treatment coding"} <= topics
    tex = (out / "tables" / "policy_main.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex


def test_docx_three_line_rules(mpdta_run) -> None:
    out, _ = mpdta_run
    with zipfile.ZipFile(out / "tables" / "policy_main.docx") as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    # 1.5 pt top/bottom rules = w:sz 12 (eighths of a point); 0.75 pt header rule = 6
    assert 'w:sz="12"' in xml and 'w:sz="6"' in xml
    assert "w:tbl" in xml and "(0.0" in xml  # a standard error in parentheses


def test_html_escapes_user_strings(tmp_path) -> None:
    frame = pd.read_csv(MPDTA).rename(columns={"first.treat": "first_treat"})
    frame.to_csv(tmp_path / "d.csv", index=False)
    study = {
        "study": {"title": "<script>alert(1)</script> & 城市", "description": "a < b"},
        "data": {"file": "d.csv", "unit": "countyreal", "time": "year"},
        "policy": {"outcome": "lemp", "cohort": "first_treat", "estimators": ["twfe"]},
    }
    report = run_study(parse_study(study), base=tmp_path)
    write_report(report, tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 城市" in html
    assert "a &lt; b" in html


def test_sql_source_over_duckdb(tmp_path) -> None:
    shutil.copy(MPDTA, tmp_path / "mpdta.csv")
    study = {
        "study": {"title": "sql"},
        "data": {
            "sql": 'SELECT countyreal, year, lemp, "first.treat" AS g '
            "FROM read_csv_auto('{dir}/mpdta.csv') WHERE year >= 2004",
            "unit": "countyreal",
            "time": "year",
        },
        "policy": {
            "outcome": "lemp",
            "cohort": "g",
            "estimators": ["twfe"],
            "always_treated": "drop",
        },
    }
    report = run_study(parse_study(study), base=tmp_path)
    data = report.section("data").results
    assert data["n_obs"] == 2000 and data["n_periods"] == 4
    # the 2004 cohort is treated in every remaining period: dropped and recorded
    assert report.section("policy").results["design"]["n_units"] == 500 - 20
    assert any("DuckDB SQL" in p for p in report.provenance)


def test_cli_run_and_user_errors(tmp_path, capsys) -> None:
    shutil.copy(ROOT / "examples" / "mpdta" / "study.toml", tmp_path / "study.toml")
    shutil.copy(MPDTA, tmp_path / "mpdta.csv")
    bad = tmp_path / "typo.toml"
    bad.write_text((tmp_path / "study.toml").read_text().replace("control_group", "control_grup"))
    with pytest.raises(SystemExit) as info:
        main(["run", str(bad), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown key 'policy.control_grup'" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as info:
        main(["--quiet", "run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "o")])
    assert info.value.code == 0
    assert (tmp_path / "o" / "report.html").exists()


def _main(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0


def test_cli_did_json_equals_api(capsys) -> None:
    _main(
        [
            "did",
            str(MPDTA),
            "--unit",
            "countyreal",
            "--time",
            "year",
            "--cohort",
            "first.treat",
            "--outcome",
            "lemp",
            "--estimator",
            "cs",
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    design = policy.design(
        Panel(pd.read_csv(MPDTA), unit="countyreal", time="year"), cohort="first.treat"
    )
    expected = policy.estimate(design, "lemp", estimator="cs")
    assert document["att"] == expected.att and document["se"] == expected.se


def test_cli_measure_lq(tmp_path, capsys) -> None:
    from agglomera import measure

    frame = pd.DataFrame(
        {
            "city": ["a", "b", "c"],
            "it": [10.0, 5.0, 1.0],
            "sci": [2.0, 2.0, 1.0],
            "total": [100.0, 80.0, 60.0],
        }
    )
    frame.to_csv(tmp_path / "e.csv", index=False)
    _main(
        [
            "measure",
            "lq",
            str(tmp_path / "e.csv"),
            "--region",
            "city",
            "--value",
            "it",
            "--value",
            "sci",
            "--total",
            "total",
        ]
    )
    got = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    expected = measure.location_quotient(
        frame, region="city", time=None, value=["it", "sci"], total="total"
    )
    np.testing.assert_allclose(got["lq"], expected["lq"], rtol=1e-12)
    np.testing.assert_allclose(
        got["lq"], [(12 / 100) / (21 / 240), (7 / 80) / (21 / 240), (2 / 60) / (21 / 240)]
    )


def test_chinese_report_translates_every_convention(tmp_path) -> None:
    import re
    import tomllib

    from agglomera._demo import study_file

    han = re.compile(r"[\u4e00-\u9fff]")
    for name in ("innovative_city", "zhejiang_bay"):
        content = tomllib.loads(study_file(name).read_text(encoding="utf-8"))
        content["study"]["language"] = "zh"
        if "policy" in content:
            content["policy"]["placebo"]["draws"] = 20
            content["policy"].pop("mechanisms", None)
        if "spatial" in content:
            content["spatial"]["permutations"] = 99
            if "model" in content["spatial"]:
                content["spatial"]["model"]["draws"] = 20
        if "interaction" in content:
            content["interaction"]["panel_var"]["draws"] = 20
        report = run_study(parse_study(content))
        untranslated = [m.topic for _, m in report.methods if not han.search(m.topic)]
        assert untranslated == []
        assert all(han.search(s.title) for s in report.sections)
