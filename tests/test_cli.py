"""Tests for the command line (exit codes, messages, outputs)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

import agglomera
from agglomera import reference
from agglomera.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys) -> None:
    code, out, _ = _run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"agglomera {agglomera.__version__}"


def test_reference_pilots_csv_matches_api(capsys) -> None:
    code, out, _ = _run(["reference", "pilots", "--format", "csv"], capsys)
    assert code == 0
    printed = pd.read_csv(io.StringIO(out), dtype=str)
    expected = reference.pilots("innovative_city")
    assert len(printed) == len(expected)
    assert printed["unit_adcode"].tolist() == expected["unit_adcode"].astype(str).tolist()


def test_reference_cities_json_matches_api(capsys) -> None:
    code, out, _ = _run(["reference", "cities", "--format", "json"], capsys)
    assert code == 0
    records = json.loads(out)
    expected = reference.cities()
    assert len(records) == len(expected)
    first = records[0]
    assert first["adcode"] == expected["adcode"].iloc[0]
    assert first["name_cn"] == expected["name_cn"].iloc[0]


def test_user_error_exits_2_with_one_line(capsys) -> None:
    code, out, err = _run(["reference", "pilots", "--policy", "low_carbon_city"], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "low_carbon_city" in lines[0]
    assert "innovative_city" in lines[0]
    assert "Traceback" not in err


def test_debug_shows_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agglomera.cli", "--debug", "reference", "pilots", "--policy", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "SpecError" in proc.stderr


def test_bad_option_is_usage_error(capsys) -> None:
    code, _, err = _run(["reference", "cities", "--format", "xml"], capsys)
    assert code == 2
    assert "xml" in err
