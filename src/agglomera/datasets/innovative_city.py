"""Simulated city-year panel for the national innovative-city pilot (staggered DID example).

Real geography (6-digit adcodes, NBS regions, 2010/2020 census population) and real pilot
years from :func:`agglomera.reference.treatment_years`; every other number is drawn from
the process documented in :func:`innovative_city` and in ``docs/datasets.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.datasets._common import (
    ExampleData,
    ar1,
    check_seed,
    check_window,
    clipped_normal,
    logistic,
    population_10k,
    reference_module,
    year_of,
)
from agglomera.errors import EstimationError, SpecError

__all__ = ["innovative_city"]

#: Effect on the talent LQ at exposure 0 (first treated year), by three-way region.
EFFECT_BY_REGION: dict[str, float] = {"east": 0.08, "west": 0.05, "central": 0.03}
#: Growth of the effect per year since first treatment.
EFFECT_SLOPE = 0.01
#: Standard deviation of the city-specific part of the effect.
EFFECT_UNIT_SD = 0.01
#: AR(1) outcome noise: coefficient and innovation standard deviation.
NOISE_RHO = 0.5
NOISE_SD = 0.02
#: Multiplicative (log-point) effects on the mechanism variables.
RD_LOG_EFFECT = 0.10
PATENT_ELASTICITY_RD = 0.9
PATENT_DIRECT_LOG_EFFECT = 0.06

_GRP_PC_2003 = {"east": 16000.0, "central": 8500.0, "west": 7500.0}

_COUNTERFACTUAL_CONVENTION = (
    "The talent LQ uses the sample reference share S_t = sum_i H_it / sum_i E_it. Potential "
    "outcomes hold that reference share at its observed value: talent_lq_0 = talent_lq - tau_it "
    "for treated cells and = talent_lq for untreated cells, so never-treated cities are "
    "unaffected (no spillover through the reference total). Without this convention a "
    "pilot that raises treated cities' high-tech shares would mechanically lower every "
    "other city's LQ."
)


def innovative_city(
    scope: Literal["major", "prefecture"] = "major",
    seed: int = 0,
    *,
    unverified: str | Mapping[str, int] = "drop",
    districts: Literal["municipality", "drop"] = "municipality",
    county_level: Literal["parent", "drop"] = "parent",
    start: int = 2003,
    end: int = 2019,
    spillover: float = 0.0,
    spillover_band_km: tuple[float, float] = (0.0, 150.0),
) -> ExampleData:
    r"""Generate a simulated innovative-city panel on real adcodes and real pilot years.

    A balanced city-year panel for the staggered national innovative-city pilot (first
    pilot Shenzhen 2008; 2010 NDRC and MOST batches; 2018 batch). The outcome is the
    location quotient of high-tech talent (IT services plus science & technology
    employment), built exactly from the generated employment columns, with a known,
    heterogeneous and dynamic treatment effect.

    Parameters
    ----------
    scope : {"major", "prefecture"}, default "major"
        ``"major"``: the 36 NBS large and medium cities
        (:func:`agglomera.reference.major_cities`; municipalities at city level).
        ``"prefecture"``: every municipality and prefecture-level unit whose code is valid
        over the whole window (``valid_from <= start`` and ``valid_to >= end`` in
        :func:`agglomera.reference.cities`); codes created or retired inside the window
        (e.g. 巢湖 341400, 毕节 520500, 三沙 460300) are excluded and listed in
        ``truth["excluded_units"]``.
    seed : int, default 0
        Seed of the random generator; the same arguments give identical data.
    unverified, districts, county_level
        Coding rules for the pilots, passed to
        :func:`agglomera.reference.treatment_years`. With the default
        ``unverified="drop"`` the cities whose approval year (2011–2013) is not verified
        are **removed from the panel** (never turned into controls); ``"earliest"`` /
        ``"latest"`` code them 2011 / 2013 for a bounds analysis, a dict supplies years.
        ``districts="municipality"`` codes a municipality treated when one of its districts
        is a pilot (海淀, 滨海新区, 杨浦, 沙坪坝 → 2010).
    start, end : int, default 2003, 2019
        First and last year of the panel. Pilots approved after ``end`` (the 2022 batch)
        are never treated within the window (``treat_year = 0``) and listed in
        ``truth["pilots_after_end"]``.
    spillover : float, default 0.0
        Known spillover effect on the talent LQ of **never-treated** cities within
        ``spillover_band_km`` of a pilot (great-circle distance between the coordinates
        of :func:`agglomera.reference.cities`, bounds inclusive), added from the year the
        earliest-treated pilot in the band is treated. 0 (the default) leaves the data
        exactly as without the option. This is the exposure rule of
        :func:`agglomera.policy.spatial_did.spatial_did` with ``onset="earliest"``.
    spillover_band_km : tuple of float, default (0, 150)
        Distance band (km) of the spillover.

    Returns
    -------
    ExampleData
        ``panel`` (unit ``adcode``, time ``year``) with columns

        ========================  =========================================================
        ``name_en``, ``region3``, from :func:`agglomera.reference.cities`
        ``region4``
        ``treat_year``            first pilot year; 0 = not treated within the window
        ``treated``               1 from ``treat_year`` on, else 0
        ``talent_lq``             high-tech talent LQ (outcome; formula below)
        ``emp_total``             urban-unit employment, 10,000 persons
        ``emp_it``                of which IT services (信息传输、软件和信息技术服务业)
        ``emp_sci``               of which science & technology (科学研究和技术服务业)
        ``pop``                   population, 10,000 persons (census-based, see Notes)
        ``grp_pc``                GRP per capita, yuan (current prices)
        ``secondary_share``       secondary industry share of GRP (fraction)
        ``tertiary_share``        tertiary industry share of GRP (fraction)
        ``fdi_gdp``               utilised FDI / GRP (fraction)
        ``st_fiscal_share``       S&T share of local fiscal expenditure (fraction)
        ``students``              university students, 10,000 persons
        ``rd_exp``                R&D expenditure, 100 million yuan (mechanism)
        ``patents``               invention patents granted, count (mechanism)
        ========================  =========================================================

        ``truth`` keys: ``scope``, ``seed``, ``start``, ``end``, ``n_units``,
        ``coding_rule``, ``dropped_units``, ``dropped_reasons``, ``excluded_units``,
        ``excluded_reason``, ``pilots_after_end``,
        ``pilots_outside_sample``, ``always_treated``, ``cohorts`` ({year: n units}),
        ``n_never_treated``, ``effect_at_exposure0`` ({region: effect}),
        ``effect_slope``, ``effect_unit_sd``, ``noise`` (dict), ``lq_reference``,
        ``counterfactual_convention``, ``att_by_cohort_time`` (records ``cohort``,
        ``year``, ``att``, ``n_units``), ``att_simple``, ``att_dynamic`` (records
        ``rel_time``, ``att``, ``n_units``), ``att_dynamic_average``, ``att_by_region``,
        ``mechanisms`` ({"rd_exp": …, "patents": …}) and ``potential_outcomes`` (dict of
        lists ``adcode``, ``year``, ``talent_lq_0``, ``rd_exp_0``, ``patents_0``). With
        ``spillover != 0`` also ``spillover`` (the effect), ``spillover_band_km``,
        ``spillover_onset`` ({adcode: onset year} of the exposed cities),
        ``spillover_att`` (mean effect over exposed city-years) and ``n_exposed``; the
        potential outcome ``talent_lq_0`` then removes the spillover too.

    Raises
    ------
    SpecError
        For an unknown scope or a bad window or seed.
    DataError
        From :func:`agglomera.reference.treatment_years` with ``unverified="error"`` (there
        are pilots without a verified year).

    Notes
    -----
    **Simulated data on real geography and real policy dates.** Only the adcodes, region
    classifications, census population and pilot years are real.

    The talent location quotient is (seed study's outcome; sample reference)

    .. math:: LQ_{it} = \frac{(E^{IT}_{it} + E^{S}_{it}) / E_{it}}
                             {\sum_j (E^{IT}_{jt} + E^{S}_{jt}) / \sum_j E_{jt}}

    and it is generated as

    .. math::

        LQ_{it} = \alpha_i + \lambda_t + \varepsilon_{it} + D_{it}\,\tau_{it},\qquad
        \varepsilon_{it} = 0.5\,\varepsilon_{i,t-1} + \eta_{it},\ \eta \sim N(0, 0.02^2),

        \tau_{it} = \delta_{r(i)} + \nu_i + 0.01\,(t - g_i),\quad
        \delta = (0.08, 0.05, 0.03)\ \text{for east, west, central},\ \nu_i \sim N(0, 0.01^2),

    where :math:`D_{it} = 1[t \ge g_i]`, :math:`\alpha_i` is a positive city effect that is
    higher in larger cities and in pilot cities (selection on levels, not on trends), and
    :math:`\lambda_t` is the year effect that makes the employment-weighted mean LQ equal
    one (the identity every sample-reference LQ satisfies). The high-tech share is then
    :math:`s_{it} = LQ_{it} S_t` with the sample share
    :math:`S_t = 0.1 / (1 + e^{-(t - 2015)/12})` (≈ 2.7 % in 2003, 5.8 % in 2019), split
    into IT and S&T with a city-specific, slowly rising IT fraction; employment is
    :math:`E_{it} = pop_{it} \cdot \rho_{it}` (urban-unit employment rate, higher in major
    cities, AR(1) log noise). Recomputing the LQ from the employment columns returns
    :math:`LQ_{it}` to rounding error.

    Potential outcomes hold the reference share at its observed value, so the untreated
    outcome is :math:`LQ^0_{it} = LQ_{it} - D_{it}\tau_{it}`; parallel trends hold exactly
    in expectation (``LQ^0 = α_i + λ_t + ε_it`` with ε independent of treatment). The
    truth ATTs are **sample** ATTs: ``att_by_cohort_time`` is the mean of
    :math:`LQ - LQ^0` over the cities of cohort g in year t, ``att_simple`` weights the
    post-treatment cells by cohort size (R ``did``'s simple aggregation; it equals the
    mean of :math:`\tau_{it}` over treated city-years). Cohorts treated in or before
    ``start`` are always treated in the window: they are excluded from the ATTs and listed
    in ``truth["always_treated"]``. Because the effect grows with exposure and cohorts
    differ in timing, TWFE is biased for ``att_simple``.

    Mechanisms: :math:`\ln RD^0_{it} = \ln RD_{i,2003} + \bar g_t + \xi_{it}` (the city's
    first-year level from GRP and an R&D intensity that is higher in talent-rich and pilot
    cities, a common growth path :math:`\bar g_t` and AR(1) noise, so untreated paths are
    parallel in logs), :math:`RD = RD^0 \exp(0.10 D)`;
    patents :math:`= \mathrm{round}\{\exp(3.6 + 0.9 \ln RD^0 + 0.2 u_i + \zeta_{it} +
    D(0.9 \cdot 0.10 + 0.06))\}` (total log effect 0.15). Controls (GRP per capita,
    industry shares, FDI, S&T fiscal share, students) are not affected by the pilot.

    Examples
    --------
    >>> from agglomera import datasets
    >>> ex = datasets.innovative_city("prefecture", seed=1)  # doctest: +SKIP
    >>> ex.truth["att_simple"]  # doctest: +SKIP
    """
    seed = check_seed(seed)
    start, end = check_window(start, end, min_years=3)
    if scope not in ("major", "prefecture"):
        raise SpecError(f"scope must be 'major' or 'prefecture'; got {scope!r}.")
    ref = reference_module()
    table = ref.cities()
    table = table.assign(adcode=table["adcode"].astype(str))
    units, excluded = _select_units(ref, table, scope, start, end)

    ty_series = ref.treatment_years(
        "innovative_city", districts=districts, county_level=county_level, unverified=unverified
    )
    ty_all = {str(k): int(v) for k, v in ty_series.items()}
    rule = str(ty_series.attrs.get("rule", ""))
    dropped_all = {str(a) for a in ty_series.attrs.get("dropped", [])}
    dropped = sorted(set(units) & dropped_all)
    units = [u for u in units if u not in dropped_all]
    if len(units) < 3:
        raise SpecError(f"only {len(units)} cities left after the coding rules; cannot simulate.")

    years = np.arange(start, end + 1)
    n, t_len = len(units), len(years)
    g_raw = np.array([ty_all.get(u, 0) for u in units])
    g = np.where(g_raw > end, 0, g_raw)
    pilots_after_end = sorted(u for u, y in zip(units, g_raw, strict=True) if y > end)
    always = sorted(u for u, y in zip(units, g, strict=True) if 0 < y <= start)
    outside = sorted(set(ty_all) - set(units) - dropped_all)

    info = table.drop_duplicates("adcode").set_index("adcode").reindex(units)
    region3 = info["region3"].astype(str).to_numpy()
    unknown_regions = sorted(set(region3) - set(EFFECT_BY_REGION))
    if unknown_regions:
        raise SpecError(f"unexpected region3 values in reference.cities(): {unknown_regions}.")
    major = set(ref.major_cities())
    m = np.array([u in major for u in units], dtype=float)
    pilot = np.array([u in ty_all for u in units], dtype=float)
    east = (region3 == "east").astype(float)
    pop = population_10k(table, units, years)

    spill = None
    spill_info: dict[str, Any] = {}
    if spillover != 0.0:
        spill, spill_info = _spillover(table, units, years, g, spillover, spillover_band_km)
    draws = _simulate(
        np.random.default_rng(seed), pop, years, g, region3, m, pilot, east, spill=spill
    )
    d_mat = draws["D"]
    tau = draws["tau"]

    frame = pd.DataFrame(
        {
            "adcode": np.repeat(units, t_len),
            "year": np.tile(years, n).astype(np.int64),
            "name_en": np.repeat(info["name_en"].astype(str).to_numpy(), t_len),
            "region3": np.repeat(region3, t_len),
            "region4": np.repeat(info["region4"].astype(str).to_numpy(), t_len),
            "treat_year": np.repeat(g, t_len).astype(np.int64),
            "treated": d_mat.ravel().astype(np.int64),
            "emp_total": draws["emp_total"].ravel(),
            "emp_it": draws["emp_it"].ravel(),
            "emp_sci": draws["emp_sci"].ravel(),
            "pop": pop.ravel(),
            "grp_pc": draws["grp_pc"].ravel(),
            "secondary_share": draws["secondary_share"].ravel(),
            "tertiary_share": draws["tertiary_share"].ravel(),
            "fdi_gdp": draws["fdi_gdp"].ravel(),
            "st_fiscal_share": draws["st_fiscal_share"].ravel(),
            "students": draws["students"].ravel(),
            "rd_exp": draws["rd_exp"].ravel(),
            "patents": draws["patents"].ravel().astype(np.int64),
        }
    )
    lq = talent_lq_formula(frame)
    frame.insert(7, "talent_lq", lq)
    lq_mat = lq.reshape(n, t_len)
    if not np.allclose(lq_mat, draws["Y"], rtol=0, atol=1e-9):  # pragma: no cover - guard
        raise EstimationError("internal error: generated LQ does not match its formula.")
    if lq_mat.min() <= 0:  # pragma: no cover - guard
        raise EstimationError("internal error: non-positive LQ generated; report the seed.")
    lq0 = lq_mat - tau if spill is None else lq_mat - tau - spill

    eligible = (g > start) & (g <= end)
    cells = d_mat & eligible[:, None]
    truth = _truth(
        units=units,
        years=years,
        g=g,
        region3=region3,
        tau=tau,
        cells=cells,
        lq0=lq0,
        draws=draws,
    )
    coding_rule = (
        f"{rule} Pilots approved after {end} are coded never treated within the window "
        f"(treat_year = 0): {', '.join(pilots_after_end) or 'none'}."
    ).strip()
    uncoded = ty_series.attrs.get("uncoded")
    if uncoded and end >= 2022:
        coding_rule += f" {uncoded}"
    reasons = dict(ty_series.attrs.get("dropped_reasons", {}))
    n_never = int((g == 0).sum())
    head: dict[str, Any] = {
        "scope": scope,
        "seed": seed,
        "start": start,
        "end": end,
        "n_units": n,
        "coding_rule": coding_rule,
        "dropped_units": dropped,
        "dropped_reasons": {u: str(reasons.get(u, "dropped by the coding rule")) for u in dropped},
        "excluded_units": excluded,
        "excluded_reason": (
            "municipality/prefecture codes not valid over the whole window (created or "
            "retired inside it; valid_from > start or valid_to < end in reference.cities())"
            if excluded
            else ""
        ),
        "pilots_after_end": pilots_after_end,
        "pilots_outside_sample": outside,
        "always_treated": always,
        "cohorts": {int(c): int((g == c).sum()) for c in sorted(set(g[g > 0].tolist()))},
        "n_never_treated": n_never,
        "effect_at_exposure0": dict(EFFECT_BY_REGION),
        "effect_slope": EFFECT_SLOPE,
        "effect_unit_sd": EFFECT_UNIT_SD,
        "noise": {
            "ar_rho": NOISE_RHO,
            "innovation_sd": NOISE_SD,
            "stationary_sd": NOISE_SD / float(np.sqrt(1 - NOISE_RHO**2)),
        },
        "lq_reference": "sample",
        "counterfactual_convention": _COUNTERFACTUAL_CONVENTION,
    }
    head.update(truth)
    head.update(spill_info)

    description = _describe(scope, n, start, end, coding_rule, dropped, excluded, n_never)
    if spill_info:
        description += (
            f"\nSpillover: {spill_info['spillover_rule']} ({spill_info['n_exposed']} cities "
            "exposed); potential outcomes remove it as well."
        )
    name = f"innovative_city(scope={scope!r}, seed={seed}, start={start}, end={end})"
    numeric = [
        c for c in frame.columns if c not in ("adcode", "year", "name_en", "region3", "region4")
    ]
    panel = Panel(
        frame,
        unit="adcode",
        time="year",
        numeric=numeric,
        labels=("name_en", "region3", "region4"),
        provenance=(
            f"agglomera.datasets.{name}: simulated data on real adcodes and real "
            f"innovative-city pilot years; coding rule: {coding_rule}",
        ),
    )
    return ExampleData(panel=panel, truth=head, description=description, name=name)


def talent_lq_formula(frame: pd.DataFrame) -> np.ndarray:
    """High-tech talent LQ with the sample reference, recomputed from employment columns.

    ``LQ_it = ((emp_it + emp_sci) / emp_total) / (Σ_j (emp_it + emp_sci) / Σ_j emp_total)``,
    sums over the cities in ``frame`` in the same year.
    """
    ht = frame["emp_it"].to_numpy(float) + frame["emp_sci"].to_numpy(float)
    tot = frame["emp_total"].to_numpy(float)
    by_year = pd.DataFrame({"year": frame["year"].to_numpy(), "ht": ht, "tot": tot})
    sums = by_year.groupby("year")[["ht", "tot"]].transform("sum")
    ref_share = sums["ht"].to_numpy() / sums["tot"].to_numpy()
    return np.asarray((ht / tot) / ref_share)


# ---------------------------------------------------------------------- internals
def _select_units(
    ref: Any, table: pd.DataFrame, scope: str, start: int, end: int
) -> tuple[list[str], list[str]]:
    if scope == "major":
        units = sorted(str(u) for u in ref.major_cities())
        missing = sorted(set(units) - set(table["adcode"]))
        if missing:
            raise SpecError(f"major cities not in reference.cities(): {missing[:5]}.")
        return units, []
    if "level" in table.columns:
        candidates = table[table["level"].isin(["municipality", "prefecture"])]
    else:  # pragma: no cover - older reference tables
        candidates = table
    keep: list[str] = []
    excluded: list[str] = []
    for code, vf, vt in zip(
        candidates["adcode"], candidates["valid_from"], candidates["valid_to"], strict=True
    ):
        y_from, y_to = year_of(vf), year_of(vt)
        ok = (np.isnan(y_from) or y_from <= start) and (np.isnan(y_to) or y_to >= end)
        (keep if ok else excluded).append(str(code))
    return sorted(set(keep)), sorted(set(excluded) - set(keep))


def _simulate(
    rng: np.random.Generator,
    pop: np.ndarray,
    years: np.ndarray,
    g: np.ndarray,
    region3: np.ndarray,
    m: np.ndarray,
    pilot: np.ndarray,
    east: np.ndarray,
    spill: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    n, t_len = pop.shape
    col = lambda x: x[:, None]  # noqa: E731 - tiny local reshape helper
    yrs = years.astype(float)[None, :]
    t03 = yrs - 2003.0

    # city-level latent draws (order fixed: changing it changes every seed's data)
    u = clipped_normal(rng, n)  # talent propensity
    v = clipped_normal(rng, n)  # employment rate
    v2 = clipped_normal(rng, n)  # income level
    v3 = clipped_normal(rng, n)  # industrial structure
    v4 = clipped_normal(rng, n)  # openness
    v5 = clipped_normal(rng, n)  # fiscal S&T priority
    v6 = clipped_normal(rng, n)  # IT vs S&T mix
    nu = rng.normal(0.0, EFFECT_UNIT_SD, n)
    omega = ar1(rng, (n, t_len), 0.6, 0.02)
    eps = ar1(rng, (n, t_len), NOISE_RHO, NOISE_SD)
    n_grp = ar1(rng, (n, t_len), 0.7, 0.02)
    n_sec = ar1(rng, (n, t_len), 0.6, 0.03)
    n_fdi = ar1(rng, (n, t_len), 0.6, 0.10)
    n_fis = ar1(rng, (n, t_len), 0.6, 0.05)
    n_stu = ar1(rng, (n, t_len), 0.8, 0.03)
    n_rd = ar1(rng, (n, t_len), 0.7, 0.05)
    n_pat = ar1(rng, (n, t_len), 0.5, 0.10)

    # employment in urban units (10k persons)
    rate = np.exp(np.log(0.08) + 0.45 * col(m) + 0.2 * col(v) + 0.012 * (yrs - 2010) + omega)
    emp_total = pop * rate

    # treatment and effects
    d_mat = (col(g) > 0) & (yrs >= col(g))
    delta = np.array([EFFECT_BY_REGION[r] for r in region3])
    tau = np.where(d_mat, col(delta + nu) + EFFECT_SLOPE * (yrs - col(g)), 0.0)

    # talent LQ: alpha_i + lambda_t + eps_it + D tau, normalised so that sum_i E LQ = sum_i E
    logpop = np.log(pop.mean(axis=1))
    a_raw = np.exp(0.35 * u + 0.25 * pilot + 0.15 * (logpop - logpop.mean()))
    weight = emp_total.sum(axis=1) / emp_total.sum()
    alpha = a_raw / float(weight @ a_raw)
    y_tilde = col(alpha) + eps + tau
    if spill is not None:
        y_tilde = y_tilde + spill
    lam = 1.0 - (emp_total * y_tilde).sum(axis=0) / emp_total.sum(axis=0)
    y = y_tilde + lam[None, :]

    # high-tech employment from the LQ and the sample high-tech share S_t
    s_t = 0.1 * logistic((yrs - 2015.0) / 12.0)
    ht = y * s_t * emp_total
    it_frac = logistic(-0.3 + 0.3 * col(v6) + 0.04 * (yrs - 2010))
    emp_it = it_frac * ht
    emp_sci = ht - emp_it

    # controls (not affected by the pilot)
    growth = np.array([_cum_growth(int(yr)) for yr in years])[None, :]
    g0 = np.log(np.array([_GRP_PC_2003[r] for r in region3]))
    grp_pc = np.exp(col(g0 + 0.2 * pilot + 0.15 * m + 0.25 * v2) + growth + n_grp)
    primary = np.clip(
        0.16 * np.exp(-0.05 * t03) * col((1 - 0.75 * m) * np.exp(0.2 * v3)), 0.001, 0.6
    )
    secondary = (1 - primary) * logistic(col(0.25 + 0.35 * v3 - 0.4 * m) - 0.045 * t03 + n_sec)
    tertiary = 1 - primary - secondary
    fdi = np.exp(np.log(0.02) + col(0.5 * east + 0.3 * m + 0.4 * v4) - 0.04 * t03 + n_fdi)
    st_fiscal = 0.1 * logistic(-1.8 + col(0.3 * m + 0.2 * pilot + 0.3 * v5) + 0.06 * t03 + n_fis)
    students = pop * 0.15 * logistic(-2.6 + col(1.0 * m + 0.3 * u) + 0.05 * t03 + n_stu)

    # mechanisms
    # ln RD0 = city level in the first year + a common growth path + AR(1) noise, so that the
    # untreated R&D paths are parallel in logs (the city level follows GRP and an R&D
    # intensity that is higher in talent-rich and pilot cities)
    grp_total = grp_pc * pop / 1e4  # 100 million yuan
    intensity = 0.06 * logistic(-2.3 + col(0.4 * u + 0.3 * pilot) + 0.06 * t03)
    log_rd = np.log(grp_total * intensity)
    common_path = (log_rd - log_rd[:, :1]).mean(axis=0, keepdims=True)
    rd0 = np.exp(log_rd[:, :1] + common_path + n_rd)
    rd1 = rd0 * np.exp(RD_LOG_EFFECT)
    lp0 = 3.6 + PATENT_ELASTICITY_RD * np.log(rd0) + col(0.2 * u) + n_pat
    pat0 = np.round(np.exp(lp0))
    pat1 = np.round(np.exp(lp0 + PATENT_ELASTICITY_RD * RD_LOG_EFFECT + PATENT_DIRECT_LOG_EFFECT))
    return {
        "D": d_mat,
        "tau": tau,
        "Y": y,
        "emp_total": emp_total,
        "emp_it": emp_it,
        "emp_sci": emp_sci,
        "grp_pc": grp_pc,
        "secondary_share": secondary,
        "tertiary_share": tertiary,
        "fdi_gdp": fdi,
        "st_fiscal_share": st_fiscal,
        "students": students,
        "rd_exp": np.where(d_mat, rd1, rd0),
        "rd_exp_0": rd0,
        "patents": np.where(d_mat, pat1, pat0),
        "patents_0": pat0,
    }


def _spillover(
    table: pd.DataFrame,
    units: list[str],
    years: np.ndarray,
    g: np.ndarray,
    effect: float,
    band_km: tuple[float, float],
) -> tuple[np.ndarray, dict[str, Any]]:
    """Spillover matrix (units x years) on never-treated cities within the band of a pilot."""
    from agglomera.spatial.geodesy import great_circle_km

    if (
        not isinstance(band_km, (tuple, list))
        or len(band_km) != 2
        or not 0.0 <= float(band_km[0]) < float(band_km[1])
    ):
        raise SpecError(
            f"spillover_band_km must be (low, high) with 0 <= low < high; got {band_km!r}."
        )
    if not np.isfinite(effect):
        raise SpecError(f"spillover must be a finite number; got {effect!r}.")
    lo, hi = float(band_km[0]), float(band_km[1])
    info = table.drop_duplicates("adcode").set_index("adcode").reindex(units)
    lon = info["lon"].to_numpy(dtype=float)
    lat = info["lat"].to_numpy(dtype=float)
    treated = np.flatnonzero(g > 0)
    d = np.asarray(
        great_circle_km(lon[:, None], lat[:, None], lon[None, treated], lat[None, treated]),
        dtype=float,
    ).reshape(len(units), treated.size)
    onset = np.zeros(len(units), dtype=np.int64)
    for i in np.flatnonzero(g == 0):
        inband = (d[i] >= lo) & (d[i] <= hi)
        if inband.any() and d[i].min() >= lo:
            onset[i] = int(g[treated[inband]].min())
    exposed = onset > 0
    cells = exposed[:, None] & (years[None, :] >= onset[:, None])
    spill = np.where(cells, float(effect), 0.0)
    return spill, {
        "spillover": float(effect),
        "spillover_band_km": (lo, hi),
        "spillover_onset": {u: int(o) for u, o in zip(units, onset, strict=True) if o > 0},
        "spillover_att": float(spill[cells].mean()) if cells.any() else float("nan"),
        "n_exposed": int(exposed.sum()),
        "spillover_rule": (
            f"never-treated cities within [{lo:g}, {hi:g}] km of a pilot (and none closer than "
            f"{lo:g} km) get +{effect:g} on the talent LQ from the first treatment year of the "
            "earliest-treated pilot in the band"
        ),
    }


def _cum_growth(year: int) -> float:
    """Cumulative log growth of GRP per capita since 2003 (12 %/yr falling to 3 %/yr)."""
    if year <= 2003:
        return -0.12 * (2003 - year)
    return float(sum(max(0.03, 0.12 - 0.004 * (s - 2003)) for s in range(2004, year + 1)))


def _truth(
    *,
    units: list[str],
    years: np.ndarray,
    g: np.ndarray,
    region3: np.ndarray,
    tau: np.ndarray,
    cells: np.ndarray,
    lq0: np.ndarray,
    draws: dict[str, np.ndarray],
) -> dict[str, Any]:
    att_gt: list[dict[str, Any]] = []
    for cohort in sorted(set(g[cells.any(axis=1)].tolist())):
        rows = g == cohort
        for j, year in enumerate(years):
            if year < cohort:
                continue
            att_gt.append(
                {
                    "cohort": int(cohort),
                    "year": int(year),
                    "att": float(tau[rows, j].mean()),
                    "n_units": int(rows.sum()),
                }
            )
    n_cells = int(cells.sum())
    att_simple = float(tau[cells].mean()) if n_cells else float("nan")

    exposure = years[None, :] - g[:, None]
    dynamic: list[dict[str, Any]] = []
    for e in sorted(set(exposure[cells].tolist())):
        mask = cells & (exposure == e)
        dynamic.append(
            {"rel_time": int(e), "att": float(tau[mask].mean()), "n_units": int(mask.sum())}
        )
    by_region = {
        r: float(tau[cells & (region3 == r)[:, None]].mean())
        for r in ("east", "central", "west")
        if (cells & (region3 == r)[:, None]).any()
    }
    rd_obs, rd0 = draws["rd_exp"], draws["rd_exp_0"]
    pat_obs, pat0 = draws["patents"], draws["patents_0"]
    mechanisms = {
        "rd_exp": {
            "log_effect": RD_LOG_EFFECT,
            "att_simple": float((rd_obs - rd0)[cells].mean()) if n_cells else float("nan"),
            "att_simple_log": float(np.log(rd_obs / rd0)[cells].mean())
            if n_cells
            else float("nan"),
        },
        "patents": {
            "log_effect": PATENT_ELASTICITY_RD * RD_LOG_EFFECT + PATENT_DIRECT_LOG_EFFECT,
            "elasticity_rd": PATENT_ELASTICITY_RD,
            "direct_log_effect": PATENT_DIRECT_LOG_EFFECT,
            "att_simple": float((pat_obs - pat0)[cells].mean()) if n_cells else float("nan"),
        },
    }
    n, t_len = tau.shape
    return {
        "att_by_cohort_time": att_gt,
        "att_simple": att_simple,
        "att_dynamic": dynamic,
        "att_dynamic_average": float(np.mean([d["att"] for d in dynamic]))
        if dynamic
        else float("nan"),
        "att_by_region": by_region,
        "mechanisms": mechanisms,
        "potential_outcomes": {
            "adcode": [u for u in units for _ in range(t_len)],
            "year": [int(y) for _ in range(n) for y in years],
            "talent_lq_0": lq0.ravel().tolist(),
            "rd_exp_0": rd0.ravel().tolist(),
            "patents_0": [int(x) for x in pat0.ravel()],
        },
    }


def _describe(
    scope: str,
    n: int,
    start: int,
    end: int,
    coding_rule: str,
    dropped: list[str],
    excluded: list[str],
    n_never: int,
) -> str:
    sample = (
        "the 36 NBS large and medium cities (municipalities at city level)"
        if scope == "major"
        else "every municipality and prefecture-level unit whose adcode is valid over the "
        f"whole window ({len(excluded)} codes created or retired inside it are excluded)"
    )
    warn = (
        " No city in this sample is never treated within the window: use not-yet-treated "
        "controls or scope='prefecture'."
        if n_never == 0
        else ""
    )
    return (
        "SIMULATED data on real geography and real policy dates: adcodes, regions, census "
        "population (2010, 2020) and national innovative-city pilot years are real; all "
        "other values are generated.\n"
        f"Sample: {sample}; {n} cities x {end - start + 1} years ({start}-{end}). "
        f"Pilots removed by the coding rule: {', '.join(dropped) or 'none'}.{warn}\n"
        f"Treatment coding: {coding_rule}\n"
        "Outcome: talent_lq = ((emp_it + emp_sci) / emp_total) / (sum(emp_it + emp_sci) / "
        "sum(emp_total)) over the sample cities each year. DGP: LQ_it = alpha_i + lambda_t + "
        "eps_it + D_it tau_it with eps AR(1) (rho 0.5, innovation sd 0.02), lambda_t set so "
        "the employment-weighted mean LQ is 1, alpha_i higher in large and pilot cities "
        "(selection on levels, parallel trends); tau_it = delta_region + nu_i + 0.01 (t - g_i) "
        "with delta = 0.08 east, 0.05 west, 0.03 central and nu_i ~ N(0, 0.01^2). Employment: "
        "emp_total = pop x employment rate; high-tech employment = LQ x S_t x emp_total with "
        "S_t = 0.1 / (1 + exp(-(t - 2015)/12)), split into IT and S&T. Mechanisms: rd_exp "
        "x exp(0.10) and patents x exp(0.15) when treated. Controls are unaffected by the "
        "pilot. Potential outcomes hold the sample reference share fixed (see "
        "truth['counterfactual_convention']); truth ATTs are sample ATTs over treated cells."
    )
