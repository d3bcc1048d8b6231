"""Panel pre-tests against R plm 2.6-2 (numbers in tests/reference/pretest/reference.csv).

The reference file was produced by tests/reference/pretest/make_reference.R (see
PROVENANCE.md there); CI never runs R. Statistics are closed-form given the lags, so they
are asserted to 1e-6 relative (in practice they agree to ~1e-12); the lags chosen by AIC/BIC
must be identical unit by unit. CIPS p-values come from plm's interpolation in Pesaran's
(2007) tables, which is reproduced step by step, so they are asserted to 1e-9 as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel
from agglomera.pretest import cips, hausman, im_pesaran_shin, levin_lin_chu, pesaran_cd

REF = Path(__file__).resolve().parents[1] / "reference" / "pretest"
TABLE = pd.read_csv(REF / "reference.csv", keep_default_na=False, dtype=str)
RTOL = 1e-6


def _panels() -> dict[str, Panel]:
    grunfeld = pd.read_csv(REF / "Grunfeld.csv")
    produc = pd.read_csv(REF / "Produc.csv").drop(columns="region")
    for v in ("gsp", "pcap", "pc", "emp"):
        produc[f"log_{v}"] = np.log(produc[v])
    drop = ((grunfeld["firm"] == 1) & (grunfeld["year"] < 1938)) | (
        (grunfeld["firm"] == 2) & (grunfeld["year"] > 1952)
    )
    return {
        "grunfeld": Panel(grunfeld, unit="firm", time="year"),
        "grunfeld_unbalanced": Panel(grunfeld[~drop], unit="firm", time="year"),
        "produc": Panel(produc, unit="state", time="year"),
    }


PANELS = _panels()


def _rows(test: str) -> list[pytest.param]:
    rows = TABLE[TABLE["test"] == test]
    return [
        pytest.param(r, id=f"{r.dataset}-{r.variable}-{r.options}")
        for r in rows.itertuples(index=False)
    ]


def _opts(row: Any) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in row.options.split(";") if "=" in kv)


def _close(ours: float, theirs: str, rtol: float = RTOL) -> None:
    ref = float(theirs)
    assert ours == pytest.approx(ref, rel=rtol, abs=1e-300 if ref != 0 else 1e-15)


@pytest.mark.parametrize("row", _rows("levinlin") + _rows("ips"))
def test_llc_ips_match_plm(row: Any) -> None:
    o = _opts(row)
    lags: str | int = int(o["lags"]) if o["lags"].isdigit() else o["lags"].lower()
    if lags == "sic":
        lags = "bic"
    fn = levin_lin_chu if row.test == "levinlin" else im_pesaran_shin
    res = fn(PANELS[row.dataset], row.variable, exo=o["exo"], lags=lags, max_lags=int(o["pmax"]))
    assert ";".join(map(str, res.lags)) == row.lags
    _close(res.statistic, row.statistic)
    _close(res.pvalue, row.pvalue)
    key, value = row.extra.split("=")
    _close(res.meta[key], value)


@pytest.mark.parametrize("row", _rows("cips"))
def test_cips_matches_plm(row: Any) -> None:
    o = _opts(row)
    res = cips(
        PANELS[row.dataset],
        row.variable,
        lags=int(o["lags"]),
        type=o["type"],
        truncated=o["truncated"] == "TRUE",
    )
    _close(res.statistic, row.statistic)
    # plm reports the table bounds 0.01 / 0.10 as the p-value; we add pvalue_bound.
    _close(res.pvalue, row.pvalue, rtol=1e-9)
    if res.pvalue_bound == ">":
        assert res.pvalue == 0.10
    if res.pvalue_bound == "<":
        assert res.pvalue == 0.01


@pytest.mark.parametrize("row", _rows("pcd"))
def test_cross_section_dependence_matches_plm(row: Any) -> None:
    o = _opts(row)
    panel = PANELS[row.dataset]
    if "series" in row.options:
        res = pesaran_cd(panel, row.variable, test="cd")
    else:
        y, rhs = row.variable.split(" ~ ")
        model = "unit" if o["model"] == "NULL" else o["model"]
        res = pesaran_cd(panel, y, rhs.split(" + "), model=model, test=o["test"])
    _close(res.statistic, row.statistic)
    ref_p = float(row.pvalue)
    if ref_p == 0.0:  # underflow in R as well
        assert res.pvalue < 1e-300
    else:
        _close(res.pvalue, row.pvalue)


@pytest.mark.parametrize("row", _rows("hausman"))
def test_hausman_matches_plm(row: Any) -> None:
    y, rhs = row.variable.split(" ~ ")
    res = hausman(PANELS[row.dataset], y, rhs.split(" + "))
    _close(res.statistic, row.statistic)
    _close(res.pvalue, row.pvalue)
    assert res.df == int(row.lags)
    extra = dict(kv.split("=") for kv in row.extra.split(";"))
    _close(res.meta["theta"], extra["theta"])
    _close(res.meta["b_re"][rhs.split(" + ")[0]], extra["b_re1"])
    _close(res.meta["b_fe"][rhs.split(" + ")[0]], extra["b_fe1"])


def test_reference_covers_every_family() -> None:
    counts = TABLE["test"].value_counts()
    assert counts["levinlin"] == 63
    assert counts["ips"] == 46
    assert counts["cips"] == 56
    assert counts["pcd"] == 31
    assert counts["hausman"] == 2
