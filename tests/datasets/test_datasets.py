"""Tests for the seeded example-data generators (agglomera.datasets)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agglomera import Panel, reference
from agglomera.datasets import (
    ExampleData,
    expected_industry_shares,
    firm_microdata,
    innovative_city,
    zhejiang_bay,
)
from agglomera.datasets.microdata import _city_industry_model
from agglomera.datasets.zhejiang_bay import growth_path
from agglomera.errors import DataError, SpecError


@pytest.fixture(scope="module")
def major() -> ExampleData:
    return innovative_city("major", seed=0)


@pytest.fixture(scope="module")
def pref() -> ExampleData:
    return innovative_city("prefecture", seed=0)


def _lq(df: pd.DataFrame) -> np.ndarray:
    """Talent LQ written out independently of the package."""
    ht = df["emp_it"] + df["emp_sci"]
    share = ht / df["emp_total"]
    ref_share = ht.groupby(df["year"]).transform("sum") / df["emp_total"].groupby(
        df["year"]
    ).transform("sum")
    return (share / ref_share).to_numpy()


def _with_potential(ex: ExampleData) -> pd.DataFrame:
    po = ex.truth_frame("potential_outcomes")
    df = ex.to_frame().merge(po, on=["adcode", "year"], validate="one_to_one")
    assert len(df) == ex.panel.n_obs
    return df


# ---------------------------------------------------------------------- determinism
def test_same_seed_identical_and_different_seed_differs() -> None:
    a = innovative_city("prefecture", seed=3).to_frame()
    b = innovative_city("prefecture", seed=3).to_frame()
    c = innovative_city("prefecture", seed=4).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["talent_lq"], c["talent_lq"])
    # keys and treatment are real, not random: identical across seeds
    assert a["adcode"].tolist() == c["adcode"].tolist()
    assert a["treat_year"].tolist() == c["treat_year"].tolist()
    za, zb, zc = (zhejiang_bay(seed=s).to_frame() for s in (1, 1, 2))
    pd.testing.assert_frame_equal(za, zb)
    assert not np.allclose(za["ht_rd_exp"], zc["ht_rd_exp"])


def test_bad_arguments() -> None:
    with pytest.raises(SpecError, match="scope"):
        innovative_city("county")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="seed"):
        innovative_city(seed=-1)
    with pytest.raises(SpecError, match="either end or n_years"):
        zhejiang_bay(end=2030, n_years=5)


# ---------------------------------------------------------------------- real geography & dates
def test_real_adcodes_and_pilot_years(major: ExampleData, pref: ExampleData) -> None:
    cities = reference.cities().set_index("adcode")
    for ex in (major, pref):
        df = ex.to_frame()
        assert set(df["adcode"]) <= set(cities.index)
        first = df.groupby("adcode").first()
        assert (first["region3"] == cities.loc[first.index, "region3"]).all()
        assert (first["name_en"] == cities.loc[first.index, "name_en"]).all()
    g = pref.to_frame().groupby("adcode")["treat_year"].first()
    assert g["440300"] == 2008  # Shenzhen, first pilot (NDRC 2008)
    assert g["330100"] == 2010  # Hangzhou, NDRC 2010
    assert g["110100"] == 2010  # Beijing via Haidian (districts="municipality")
    assert g["330600"] == 2018  # Shaoxing, 2018 batch
    assert g["430200"] == 2018  # Zhuzhou, 2018 batch
    assert g["330300"] == 0  # Wenzhou: 2022 pilot, after end -> never treated in window
    assert "330300" in pref.truth["pilots_after_end"]
    assert pref.truth["cohorts"] == {2008: 1, 2010: 28, 2018: 17}
    # unverified 2011-2013 pilots are dropped from the sample, not used as controls
    assert "130100" not in g.index and "130100" in pref.truth["dropped_units"]
    assert "unverified" in pref.truth["dropped_reasons"]["130100"]
    assert "unverified" in pref.truth["coding_rule"]
    assert pref.truth["coding_rule"] in pref.description
    # codes retired or created inside 2003-2019 are excluded and listed
    for code in ("341400", "371200", "520500", "460300"):
        assert code not in g.index and code in pref.truth["excluded_units"]
    # major scope: 36 cities minus the 13 with unverified years
    assert len(major.panel.units) == 36 - len(major.truth["dropped_units"]) == 23
    assert major.truth["n_never_treated"] == 0
    assert "not-yet-treated" in major.description


def test_unverified_rule_is_passed_through() -> None:
    ex = innovative_city("major", seed=0, unverified="earliest")
    g = ex.to_frame().groupby("adcode")["treat_year"].first()
    assert len(g) == 36 and g["130100"] == 2011 and ex.truth["dropped_units"] == []


def test_population_is_census_interpolated(pref: ExampleData) -> None:
    cities = reference.cities().set_index("adcode")
    df = pref.to_frame()
    for year, col in ((2010, "pop2010"), (2019, None)):
        sub = df[df["year"] == year].set_index("adcode")
        p10 = cities.loc[sub.index, "pop2010"].astype(float) / 1e4
        p20 = cities.loc[sub.index, "pop2020"].astype(float) / 1e4
        expected = p10 if col else p10 * (p20 / p10) ** 0.9
        np.testing.assert_allclose(sub["pop"], expected, rtol=1e-12)


# ---------------------------------------------------------------------- outcome construction
def test_talent_lq_is_the_lq_of_the_employment_columns(
    major: ExampleData, pref: ExampleData
) -> None:
    for ex in (major, pref):
        df = ex.to_frame()
        np.testing.assert_allclose(df["talent_lq"], _lq(df), rtol=0, atol=1e-12)
        w = df["emp_total"]
        # the sample-reference identity: employment-weighted mean LQ = 1 every year
        wmean = (df["talent_lq"] * w).groupby(df["year"]).sum() / w.groupby(df["year"]).sum()
        np.testing.assert_allclose(wmean, 1.0, atol=1e-12)
        assert (df["emp_it"] > 0).all() and (df["emp_sci"] > 0).all()
        assert ((df["emp_it"] + df["emp_sci"]) < df["emp_total"]).all()
        share = (df["secondary_share"] + df["tertiary_share"]).to_numpy()
        assert ((share > 0) & (share < 1)).all()


def test_truth_att_is_sample_att_of_potential_outcomes(pref: ExampleData) -> None:
    df = _with_potential(pref)
    effect = df["talent_lq"] - df["talent_lq_0"]
    untreated = df["treated"] == 0
    assert (effect[untreated] == 0).all()  # no anticipation, no spillover on controls
    cells = pref.truth_frame("att_by_cohort_time")
    by_cell = effect[~untreated].groupby([df["treat_year"], df["year"]]).agg(["mean", "size"])
    by_cell.index.names = ["cohort", "year"]
    merged = cells.set_index(["cohort", "year"]).join(by_cell)
    assert len(merged) == len(by_cell) == 24
    np.testing.assert_allclose(merged["att"], merged["mean"], rtol=0, atol=1e-12)
    assert (merged["n_units"] == merged["size"]).all()
    # simple aggregation: cells weighted by cohort size == mean over treated city-years
    simple = (merged["att"] * merged["n_units"]).sum() / merged["n_units"].sum()
    assert pref.truth["att_simple"] == pytest.approx(simple, abs=1e-12)
    assert pref.truth["att_simple"] == pytest.approx(effect[~untreated].mean(), abs=1e-12)
    # effect formula: delta_region + nu_i + 0.01 * exposure; nu_i ~ N(0, 0.01^2)
    exposure = df["year"] - df["treat_year"]
    delta = df["region3"].map(pref.truth["effect_at_exposure0"])
    nu = (effect - delta - 0.01 * exposure)[~untreated]
    assert nu.groupby(df["adcode"]).std().max() < 1e-12  # nu is a city constant
    assert abs(nu.groupby(df["adcode"]).first().mean()) < 0.01
    # mechanisms: rd_exp multiplied by exp(0.10) when treated; patents' ATT in truth
    ratio = (df["rd_exp"] / df["rd_exp_0"])[~untreated]
    np.testing.assert_allclose(ratio, np.exp(0.10), rtol=1e-12)
    mech = pref.truth["mechanisms"]
    assert mech["patents"]["att_simple"] == pytest.approx(
        (df["patents"] - df["patents_0"])[~untreated].mean(), abs=1e-9
    )
    assert mech["patents"]["att_simple"] > 0 and mech["rd_exp"]["att_simple"] > 0


def test_parallel_pre_trends(pref: ExampleData) -> None:
    """Pre-treatment trends of treated and never-treated cities do not differ.

    Regression of the first difference of the outcome on year dummies and an
    ever-treated indicator, using never-treated city-years and treated cities' years before
    treatment (where observed = counterfactual). Under the DGP the coefficient is zero in
    expectation; its unit-clustered SE measures the AR(1) noise (sd 0.023), so |b| < 4 SE.
    """
    df = pref.to_frame().sort_values(["adcode", "year"])
    df["dy"] = df.groupby("adcode")["talent_lq"].diff()
    ever = (df["treat_year"] > 0).astype(float)
    keep = df["dy"].notna() & ((df["treat_year"] == 0) | (df["year"] < df["treat_year"]))
    sub = df[keep]
    x = pd.get_dummies(sub["year"], dtype=float)
    x["ever"] = ever[keep]
    xm, y = x.to_numpy(), sub["dy"].to_numpy()
    beta, *_ = np.linalg.lstsq(xm, y, rcond=None)
    resid = y - xm @ beta
    bread = np.linalg.inv(xm.T @ xm)
    scores = pd.DataFrame(xm * resid[:, None]).groupby(sub["adcode"].to_numpy()).sum()
    se = np.sqrt((bread @ (scores.T @ scores).to_numpy() @ bread)[-1, -1])
    assert 0.0002 < se < 0.002
    assert abs(beta[-1]) < 4 * se
    # the counterfactual (all years) has the same property: ΔLQ0 = Δλ_t + Δε_it
    po = _with_potential(pref).sort_values(["adcode", "year"])
    d0 = po.groupby("adcode")["talent_lq_0"].diff()
    gap = d0[po["treat_year"] > 0].mean() - d0[po["treat_year"] == 0].mean()
    assert abs(gap) < 4 * se


def _did_by_region(df: pd.DataFrame, y: str) -> dict[str, float]:
    """Per treated city: (post mean − pre mean) minus the same for never-treated cities."""
    wide = df.pivot(index="adcode", columns="year", values=y)
    g = df.groupby("adcode")["treat_year"].first()
    region = df.groupby("adcode")["region3"].first()
    never = wide[g == 0]
    out: dict[str, list[float]] = {}
    for code in g[g > 0].index:
        post = wide.columns >= g[code]
        d_i = wide.loc[code, post].mean() - wide.loc[code, ~post].mean()
        d_c = never.loc[:, post].mean(axis=1).mean() - never.loc[:, ~post].mean(axis=1).mean()
        out.setdefault(region[code], []).append(d_i - d_c)
    return {r: float(np.mean(v)) for r, v in out.items()}


def test_heterogeneity_east_west_central(pref: ExampleData) -> None:
    eff = pref.truth["effect_at_exposure0"]
    assert eff["east"] > eff["west"] > eff["central"]
    att = pref.truth["att_by_region"]
    assert att["east"] > att["west"] > att["central"]
    df = _with_potential(pref)
    est = _did_by_region(df, "talent_lq")
    df["effect"] = df["talent_lq"] - df["talent_lq_0"]
    true = _did_by_region(df, "effect")  # same weights, noise-free
    assert est["east"] > est["west"] > est["central"]
    assert true["east"] > true["west"] > true["central"]
    # per-city DiD noise sd ≈ 0.02 (AR(1) sd 0.023 averaged over pre and post years);
    # the smallest region has 8 treated cities -> sd of the mean ≈ 0.007; allow 0.025.
    for r in ("east", "central", "west"):
        assert est[r] == pytest.approx(true[r], abs=0.025)


def test_cs_recovers_att_and_twfe_is_biased() -> None:
    """Hand-rolled Callaway–Sant'Anna (never-treated controls, base g − 1), simple weights.

    Across seeds 0–29 the CS error has sd 0.0038 and mean 0.0004; TWFE is below the truth
    by about 0.0065 on average because the effect grows with exposure.
    """
    ex = innovative_city("prefecture", seed=11)
    df = ex.to_frame()
    wide = df.pivot(index="adcode", columns="year", values="talent_lq")
    g = df.groupby("adcode")["treat_year"].first()
    never = (g == 0).to_numpy()
    num = den = 0.0
    for cohort in sorted(set(g[g > 0])):
        rows = (g == cohort).to_numpy()
        for t in wide.columns[wide.columns >= cohort]:
            dt = wide[t] - wide[cohort - 1]
            num += rows.sum() * (dt[rows].mean() - dt[never].mean())
            den += rows.sum()
    assert num / den == pytest.approx(ex.truth["att_simple"], abs=0.015)

    def demean(v: pd.Series) -> pd.Series:
        return (
            v
            - v.groupby(df["adcode"]).transform("mean")
            - v.groupby(df["year"]).transform("mean")
            + v.mean()
        )

    yd, dd = demean(df["talent_lq"]), demean(df["treated"].astype(float))
    twfe = float((yd * dd).sum() / (dd * dd).sum())
    assert twfe < ex.truth["att_simple"]


# ---------------------------------------------------------------------- zhejiang_bay
def test_zhejiang_bay_default_panel() -> None:
    ex = zhejiang_bay(seed=0)
    df = ex.to_frame()
    assert isinstance(ex.panel, Panel) and ex.panel.is_balanced
    assert sorted(df["adcode"].unique()) == [
        "330100", "330200", "330300", "330400", "330500", "330600", "330900", "331000",
    ]  # fmt: skip
    assert (df["year"].min(), df["year"].max(), len(df)) == (2010, 2022, 8 * 13)
    indicators = [
        *ex.truth["indicator_groups"]["industry"],
        *ex.truth["indicator_groups"]["talent"],
    ]
    assert len(indicators) == 6 and (df[indicators] > 0).all().all()
    assert (df["ht_industrialisation"] < 100).all()
    a = np.array(ex.truth["var_coef"])
    np.testing.assert_allclose(a, [[0.5, 0.3], [0.25, 0.55]])
    np.testing.assert_allclose(sorted(np.abs(np.linalg.eigvals(a))), [0.25, 0.8])
    mu = np.array([list(ex.truth["stationary_mean"]["330100"].values())])
    eff = np.array([list(ex.truth["unit_effects"]["330100"].values())])
    np.testing.assert_allclose(eff, mu @ (np.eye(2) - a).T)
    # Hangzhou's latent talent agglomeration exceeds Zhoushan's on average
    lat = df.groupby("adcode")["talent_latent"].mean()
    assert lat["330100"] > lat["330900"]
    assert zhejiang_bay(seed=0, n_years=5).panel.times.tolist() == list(range(2010, 2015))


def test_zhejiang_bay_var_recovered_on_long_panel() -> None:
    ex = zhejiang_bay(seed=5, end=2809)  # 800 years x 8 cities
    df = ex.to_frame().sort_values(["adcode", "year"])
    lag = df.groupby("adcode")[["industry_latent", "talent_latent"]].shift()
    ok = lag.notna().all(axis=1)
    x = lag[ok]
    y = df.loc[ok, ["industry_latent", "talent_latent"]]
    unit = df.loc[ok, "adcode"]
    xw = (x - x.groupby(unit).transform("mean")).to_numpy()
    yw = (y - y.groupby(unit).transform("mean")).to_numpy()
    coef = np.linalg.lstsq(xw, yw, rcond=None)[0].T  # row = equation
    # SE of each coefficient ≈ 0.01 (6,392 obs); Nickell bias ≈ −(1 + 0.8)/T ≈ −0.002
    np.testing.assert_allclose(coef, ex.truth["var_coef"], atol=0.05)
    # unit effects: a_i = mean(y) − A mean(x) within city
    a = np.array(ex.truth["var_coef"])
    ym, xm = y.groupby(unit).mean(), x.groupby(unit).mean()
    eff = ym.to_numpy() - xm.to_numpy() @ a.T
    true = np.array([[v["industry"], v["talent"]] for v in ex.truth["unit_effects"].values()])
    np.testing.assert_allclose(eff, true, atol=0.03)
    # indicator loadings recovered by OLS of the linked value on h(t), size and factor:
    # loadings on the long panel (h(t) is flat there), trends on a 1950-2070 panel where
    # h(t) varies (SE of the trend ≈ 0.0003, of the loading ≈ 0.01)
    short = zhejiang_bay(seed=6, start=1950, end=2070).to_frame()
    for name, spec in ex.truth["loadings"].items():
        for frame, what, tol in ((df, 3, 0.02), (short, 1, 0.003)):
            v = frame[name] / 100 if spec["link"] == "logit" else frame[name]
            link = np.log(v / (1 - v)) if spec["link"] == "logit" else np.log(v)
            factor = frame[f"{spec['factor']}_latent"]
            xx = np.column_stack(
                [
                    np.ones(len(frame)),
                    growth_path(frame["year"].to_numpy()),
                    np.log(frame["pop"] / 500),
                    factor,
                ]
            )
            b = np.linalg.lstsq(xx, link.to_numpy(), rcond=None)[0]
            target = spec["loading"] if what == 3 else spec["trend"]
            assert b[what] == pytest.approx(target, abs=tol), (name, what)


# ---------------------------------------------------------------------- firm_microdata
def test_firm_microdata_dtypes_shares_and_determinism() -> None:
    df = firm_microdata(400_000, seed=2, chunk_rows=150_000)
    assert isinstance(df, pd.DataFrame) and len(df) == 400_000
    assert str(df["firm_id"].dtype) == "int64"
    assert str(df["year"].dtype) == "int16" and str(df["employment"].dtype) == "int32"
    assert isinstance(df["city"].dtype, pd.CategoricalDtype)
    assert (df["year"].min(), df["year"].max()) == (2010, 2019)
    assert int(df["employment"].min()) >= 1
    assert df.duplicated(["firm_id", "year"]).sum() == 0
    cities = reference.cities().set_index("adcode")
    used = df["city"].cat.categories[np.unique(df["city"].cat.codes)]
    assert set(used) <= set(cities.index)
    assert all(len(c) == 6 for c in df["city"].cat.categories)
    # industry shares match the model's expected shares (firm clusters of ~4 rows)
    shares = df["industry"].value_counts(normalize=True)
    expected = expected_industry_shares()
    for k in ("I", "M", "C", "F"):
        assert shares[k] == pytest.approx(expected[k], abs=0.006)
    assert 0.05 < expected["I"] < 0.08 and 0.06 < expected["M"] < 0.10
    # city shares follow the 2010 census population: Chongqing is the largest
    codes, city_p, _ = _city_industry_model()
    p = pd.Series(city_p, index=codes)
    city_share = df["city"].value_counts(normalize=True).reindex(codes, fill_value=0)
    pop = cities.loc[codes, "pop2010"].astype(float)
    np.testing.assert_allclose(p, pop / pop.sum(), rtol=1e-12)
    assert city_share.idxmax() == p.idxmax() == "500100"
    assert city_share["500100"] == pytest.approx(p["500100"], rel=0.15)
    assert np.corrcoef(city_share, p)[0, 1] > 0.98
    # heavy tail: the top 1 % of firm-years hold > 10 % of employment; median small
    emp = np.sort(df["employment"].to_numpy())
    assert emp[-len(emp) // 100 :].sum() / emp.sum() > 0.10
    assert 3 <= np.median(emp) <= 15 and emp.mean() > 1.5 * np.median(emp)
    # determinism
    again = firm_microdata(400_000, seed=2, chunk_rows=150_000)
    assert isinstance(again, pd.DataFrame)
    assert list(again.columns) == list(df.columns)
    for col in ("firm_id", "year", "employment"):
        np.testing.assert_array_equal(again[col].to_numpy(), df[col].to_numpy())
    for col in ("city", "industry"):
        np.testing.assert_array_equal(again[col].cat.codes, df[col].cat.codes)
        assert again[col].cat.categories.equals(df[col].cat.categories)
    other = firm_microdata(400_000, seed=3, chunk_rows=150_000)
    assert not df["employment"].equals(other["employment"])


def test_firm_microdata_refuses_large_in_memory() -> None:
    with pytest.raises(DataError, match="path="):
        firm_microdata(20_000_001)


def test_firm_microdata_parquet_chunks_roundtrip(tmp_path: Path) -> None:
    n, chunk = 2_000_000, 500_000
    in_memory = firm_microdata(n, seed=9, chunk_rows=chunk)
    assert isinstance(in_memory, pd.DataFrame)

    tracemalloc.start()
    out = firm_microdata(n, seed=9, path=tmp_path / "firms.parquet", chunk_rows=chunk)
    peak_chunked = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out == tmp_path / "firms.parquet"
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == n and meta.num_row_groups == 4
    table = pq.read_table(out)
    assert table.schema.field("city").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("year").type == pa.int16()
    back = table.to_pandas()
    for col in ("firm_id", "year", "employment"):
        np.testing.assert_array_equal(back[col].to_numpy(), in_memory[col].to_numpy())
    np.testing.assert_array_equal(back["city"].cat.codes, in_memory["city"].cat.codes)
    assert back["city"].cat.categories.equals(in_memory["city"].cat.categories)

    # memory: generating in 4 chunks peaks well below generating the same rows at once
    tracemalloc.start()
    firm_microdata(n, seed=9, path=tmp_path / "one.parquet", chunk_rows=n)
    peak_single = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak_chunked < 0.5 * peak_single

    parts = firm_microdata(n, seed=9, path=tmp_path / "parts", chunk_rows=chunk)
    assert isinstance(parts, Path)
    assert sorted(p.name for p in parts.iterdir()) == [f"part-0000{k}.parquet" for k in range(4)]
    assert pq.read_table(parts).num_rows == n
    with pytest.raises(DataError, match="not an empty directory"):
        firm_microdata(10, path=parts)


@pytest.mark.slow
def test_firm_microdata_100m_rows_memory(tmp_path: Path) -> None:
    """100 M rows in 5 M-row chunks stay far below 24 GiB (measured 0.8 GB; assert < 2 GiB)."""
    script = textwrap.dedent(
        f"""
        import json, resource
        from agglomera.datasets import firm_microdata
        p = firm_microdata(100_000_000, seed=0, path={str(tmp_path / "big")!r})
        import pyarrow.parquet as pq
        n = sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(p.iterdir()))
        print(json.dumps({{"rows": n, "maxrss_kb": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss}}))
        """
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["rows"] == 100_000_000
    assert out["maxrss_kb"] < 2 * 1024**2


# ---------------------------------------------------------------------- ExampleData
def test_example_data_summary_and_frames(major: ExampleData) -> None:
    text = major.summary()
    assert "att_simple" in text and "23 units x 17 periods" in text
    assert "Simulated" in text and "SIMULATED" in major.description
    frame = major.to_frame()
    pd.testing.assert_frame_equal(frame, major.panel.to_frame())
    dyn = major.truth_frame("att_dynamic")
    assert list(dyn.columns) == ["rel_time", "att", "n_units"]
    cells = major.truth_frame("att_by_cohort_time")
    c2010 = cells[cells["cohort"] == 2010]["att"].to_numpy()
    np.testing.assert_allclose(np.diff(c2010), 0.01, atol=1e-12)  # +0.01 per year exposed
    with pytest.raises(SpecError, match="not tabular"):
        major.truth_frame("att_simple")
    json.dumps({k: v for k, v in major.truth.items() if k != "cohorts"})
