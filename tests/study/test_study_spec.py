"""The study file: validation errors name the key, the value and what is allowed."""

from __future__ import annotations

import pytest

from agglomera.errors import SpecError
from agglomera.study import load_study, parse_study

BASE = {"study": {"title": "t"}, "data": {"example": "innovative_city"}}


def _with(**sections: object) -> dict[str, object]:
    return {**BASE, **sections}


def test_typo_in_key_names_key_and_allowed_keys() -> None:
    study = _with(policy={"outcome": "y", "policy": "innovative_city", "estimatrs": ["cs"]})
    with pytest.raises(SpecError) as info:
        parse_study(study, source="s.toml")
    message = str(info.value)
    assert "unknown key 'policy.estimatrs'" in message
    assert "['cs']" in message
    assert "estimators" in message  # the allowed keys are listed


def test_bad_value_names_value_and_allowed_values() -> None:
    study = _with(policy={"outcome": "y", "policy": "innovative_city", "estimators": ["cs", "css"]})
    with pytest.raises(SpecError, match=r"'policy.estimators\[1\]' = 'css' is not allowed"):
        parse_study(study)
    with pytest.raises(SpecError, match="'bjs'"):
        parse_study(study)


def test_nested_typo_and_several_errors_reported_together() -> None:
    study = {
        "study": {"title": "t", "language": "fr"},
        "data": {"example": "innovative_city"},
        "policy": {"outcome": "y", "cohort": "g", "placebo": {"draw": 3}},
    }
    with pytest.raises(SpecError) as info:
        parse_study(study, source="s.toml")
    message = str(info.value)
    assert "'study.language' = 'fr' is not allowed. Allowed values: 'en' or 'zh'" in message
    assert "unknown key 'policy.placebo.draw'" in message


def test_exactly_one_data_source_and_one_coding() -> None:
    with pytest.raises(SpecError, match="exactly one of example, file or sql"):
        parse_study({"study": {"title": "t"}, "data": {"example": "zhejiang_bay", "file": "x"}})
    with pytest.raises(SpecError, match="unit and time are required"):
        parse_study({"study": {"title": "t"}, "data": {"file": "x.csv"}})
    with pytest.raises(SpecError, match="exactly one of policy or cohort"):
        parse_study(_with(policy={"outcome": "y"}))


def test_defaults_are_documented_values() -> None:
    spec = parse_study(_with(policy={"outcome": "y", "cohort": "g"}))
    assert spec.policy is not None
    assert spec.policy.control_group == "notyet"
    assert spec.policy.balance == "drop"
    assert spec.outputs.tables == ["latex", "markdown", "csv", "docx"]
    assert spec.outputs.stars == [0.1, 0.05, 0.01]


def test_load_study_file_errors(tmp_path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_study(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\ntitle = 1\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_study(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text('[study]\ntitle = "t"\nseeed = 3\n[data]\nexample = "zhejiang_bay"\n')
    with pytest.raises(SpecError, match=r"typo.toml: unknown key 'study.seeed' = 3"):
        load_study(typo)


def test_shipped_examples_are_valid() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples"
    files = sorted(root.rglob("*.toml"))
    assert {f.name for f in files} >= {"innovative_city.toml", "zhejiang_bay.toml", "study.toml"}
    for file in files:
        load_study(file)
