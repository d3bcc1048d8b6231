"""Simulated industry/talent indicator panel for the eight Zhejiang Bay Area cities.

Latent high-tech industry agglomeration ``I`` and talent agglomeration ``H`` follow a known
panel VAR(1) with city effects; six observed indicators load on them log-linearly (the
industrialisation share logit-linearly). Real adcodes and census population; all other
values simulated (see :func:`zhejiang_bay` and ``docs/datasets.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.datasets._common import (
    ExampleData,
    check_int,
    check_seed,
    check_window,
    logistic,
    population_10k,
    reference_module,
)
from agglomera.errors import SpecError

__all__ = ["BAY_AREA_CITIES", "growth_path", "zhejiang_bay"]

#: The eight cities of Zhejiang's Greater Bay Area (adcode → Chinese name).
BAY_AREA_CITIES: dict[str, str] = {
    "330100": "杭州",
    "330200": "宁波",
    "330300": "温州",
    "330400": "嘉兴",
    "330500": "湖州",
    "330600": "绍兴",
    "330900": "舟山",
    "331000": "台州",
}

#: VAR(1) coefficient matrix; rows = equations ["industry", "talent"], columns = the
#: lagged ["industry", "talent"].
VAR_COEF: list[list[float]] = [[0.5, 0.3], [0.25, 0.55]]
#: Innovation standard deviations and their correlation.
INNOVATION_SD: tuple[float, float] = (0.10, 0.10)
INNOVATION_CORR = 0.3
#: Stationary means of (industry, talent) by city: the city effects are
#: (a_i, b_i)' = (I − A) · mean_i.
STATIONARY_MEAN: dict[str, tuple[float, float]] = {
    "330100": (1.0, 1.1),
    "330200": (0.7, 0.5),
    "330300": (0.0, 0.1),
    "330400": (0.3, 0.0),
    "330500": (0.0, -0.2),
    "330600": (0.2, -0.1),
    "330900": (-0.6, -0.4),
    "331000": (-0.1, -0.3),
}
BURN_IN = 100

#: Observation equations: link(x_kit) = intercept + trend·h(t)
#: + size_elasticity·ln(pop_it / 500) + loading·F_it + noise, F = industry or talent, with
#: the common growth path h(t) = 15·tanh((t − 2010) / 15) (see :func:`growth_path`).
LOADINGS: dict[str, dict[str, Any]] = {
    "ht_rd_exp": {
        "factor": "industry",
        "link": "log",
        "intercept": float(np.log(12.0)),
        "trend": 0.12,
        "size_elasticity": 1.0,
        "loading": 1.2,
        "noise_sd": 0.05,
        "unit": "100 million yuan",
    },
    "ht_exports": {
        "factor": "industry",
        "link": "log",
        "intercept": float(np.log(15.0)),
        "trend": 0.07,
        "size_elasticity": 1.0,
        "loading": 1.0,
        "noise_sd": 0.08,
        "unit": "100 million USD",
    },
    "ht_industrialisation": {
        "factor": "industry",
        "link": "logit",
        "intercept": float(np.log(0.25 / 0.75)),
        "trend": 0.05,
        "size_elasticity": 0.0,
        "loading": 0.8,
        "noise_sd": 0.05,
        "unit": "% of industrial output (link applied to the fraction)",
    },
    "prof_tech_per10k": {
        "factor": "talent",
        "link": "log",
        "intercept": float(np.log(500.0)),
        "trend": 0.03,
        "size_elasticity": 0.0,
        "loading": 0.6,
        "noise_sd": 0.03,
        "unit": "persons per 10,000 population",
    },
    "rd_staff_per10k": {
        "factor": "talent",
        "link": "log",
        "intercept": float(np.log(25.0)),
        "trend": 0.08,
        "size_elasticity": 0.0,
        "loading": 1.0,
        "noise_sd": 0.05,
        "unit": "persons per 10,000 population",
    },
    "patents_per10k_emp": {
        "factor": "talent",
        "link": "log",
        "intercept": float(np.log(1.5)),
        "trend": 0.15,
        "size_elasticity": 0.0,
        "loading": 1.2,
        "noise_sd": 0.08,
        "unit": "invention patents per 10,000 employed",
    },
}


def growth_path(years: np.ndarray) -> np.ndarray:
    """Return the common growth path ``h(t) = 15 · tanh((t − 2010) / 15)`` of the indicators."""
    return np.asarray(15.0 * np.tanh((np.asarray(years, dtype=float) - 2010.0) / 15.0))


def zhejiang_bay(
    seed: int = 0,
    *,
    start: int = 2010,
    end: int = 2022,
    n_years: int | None = None,
) -> ExampleData:
    r"""Generate a simulated industry–talent panel for the eight Zhejiang Bay Area cities.

    Parameters
    ----------
    seed : int, default 0
        Seed of the random generator; the same arguments give identical data.
    start, end : int, default 2010, 2022
        First and last year. ``end`` may be far in the future to generate long panels
        (e.g. ``end=2409``) for checking estimators' recovery of the VAR.
    n_years : int, optional
        Alternative to ``end``: ``end = start + n_years − 1``. Give one or the other.

    Returns
    -------
    ExampleData
        ``panel`` (unit ``adcode``, time ``year``) with ``name_cn``, ``pop`` (10,000
        persons, census-based), the industry indicators ``ht_rd_exp`` (high-tech R&D
        expenditure, 100 million yuan), ``ht_exports`` (high-tech product exports,
        100 million USD), ``ht_industrialisation`` (high-tech output share of industrial
        output, %), the talent indicators ``prof_tech_per10k`` (professional & technical
        personnel per 10,000 people), ``rd_staff_per10k`` (R&D scientists & engineers per
        10,000), ``patents_per10k_emp`` (invention patents per 10,000 employed), and the
        latent factors ``industry_latent`` and ``talent_latent``.

        ``truth`` keys: ``seed``, ``start``, ``end``, ``var_order`` (``["industry",
        "talent"]``), ``var_coef`` (2×2 list, row = equation), ``eigenvalues``,
        ``innovation_sd``, ``innovation_corr``, ``innovation_cov``, ``unit_effects``
        ({adcode: {"industry": a_i, "talent": b_i}}), ``stationary_mean``, ``burn_in``,
        ``loadings`` ({indicator: {factor, link, intercept, trend, size_elasticity,
        loading, noise_sd, unit}}), ``growth_path``, ``indicator_groups`` and ``granger``.

    Notes
    -----
    **Simulated data on real geography** (adcodes, census population 2010/2020); the
    indicator values are generated, not observed.

    Latent process (panel VAR(1) with city effects):

    .. math::

        \begin{pmatrix} I_{it} \\ H_{it} \end{pmatrix} =
        \begin{pmatrix} a_i \\ b_i \end{pmatrix} +
        \begin{pmatrix} 0.5 & 0.3 \\ 0.25 & 0.55 \end{pmatrix}
        \begin{pmatrix} I_{i,t-1} \\ H_{i,t-1} \end{pmatrix} +
        \begin{pmatrix} e_{it} \\ u_{it} \end{pmatrix},\quad
        (e, u)' \sim N\!\left(0, \begin{pmatrix} 0.01 & 0.003 \\ 0.003 & 0.01
        \end{pmatrix}\right)

    with eigenvalues 0.8 and 0.25 (stable), city effects
    :math:`(a_i, b_i)' = (I - A)\mu_i` for the stationary means :math:`\mu_i` in
    ``truth["stationary_mean"]``, started at :math:`\mu_i` and run 100 burn-in periods
    before ``start``. Industry drives talent (0.25) and talent drives industry (0.3).

    Observed indicator k with factor :math:`F \in \{I, H\}`:

    .. math:: g(x_{kit}) = c_k + \gamma_k h(t) + \kappa_k \ln(pop_{it}/500)
              + \lambda_k F_{it} + \nu_{kit},\quad \nu_{kit} \sim N(0, \sigma_k^2),
              \qquad h(t) = 15 \tanh\left(\frac{t - 2010}{15}\right)

    with :math:`g = \ln` (``ht_industrialisation``: :math:`g` = logit of the fraction,
    reported in %), :math:`\lambda_k > 0` (every indicator is a positive, monotone
    indicator of its factor), a common growth path :math:`\gamma_k h(t)` (close to
    linear over 2010–2022, levelling off so that long panels stay finite) and a size
    elasticity :math:`\kappa_k = 1` for the two totals. Use year effects (or demean by
    year) before fitting a stationary VAR to composite indices built from the indicators.
    """
    seed = check_seed(seed)
    if n_years is not None:
        n_years = check_int("n_years", n_years, minimum=3)
        if end != 2022:
            raise SpecError("give either end or n_years, not both.")
        end = start + n_years - 1
    start, end = check_window(start, end, min_years=3)
    ref = reference_module()
    table = ref.cities()
    table = table.assign(adcode=table["adcode"].astype(str))
    units = list(BAY_AREA_CITIES)
    missing = sorted(set(units) - set(table["adcode"]))
    if missing:
        raise SpecError(f"Bay Area cities missing from reference.cities(): {missing}.")
    years = np.arange(start, end + 1)
    n, t_len = len(units), len(years)
    pop = population_10k(table, units, years)

    rng = np.random.default_rng(seed)
    coef = np.array(VAR_COEF)
    mu = np.array([STATIONARY_MEAN[u] for u in units])  # (n, 2)
    effects = mu @ (np.eye(2) - coef).T  # (n, 2): rows (a_i, b_i)
    sd = np.array(INNOVATION_SD)
    cov = np.outer(sd, sd) * np.array([[1.0, INNOVATION_CORR], [INNOVATION_CORR, 1.0]])
    chol = np.linalg.cholesky(cov)
    shocks = rng.standard_normal((BURN_IN + t_len, n, 2)) @ chol.T
    state = mu.copy()
    latent = np.empty((t_len, n, 2))
    for step in range(BURN_IN + t_len):
        state = effects + state @ coef.T + shocks[step]
        if step >= BURN_IN:
            latent[step - BURN_IN] = state
    industry = latent[:, :, 0].T  # (n, t)
    talent = latent[:, :, 1].T

    yrs = years.astype(float)[None, :]
    frame = pd.DataFrame(
        {
            "adcode": np.repeat(units, t_len),
            "year": np.tile(years, n).astype(np.int64),
            "name_cn": np.repeat([BAY_AREA_CITIES[u] for u in units], t_len),
            "pop": pop.ravel(),
        }
    )
    for name, spec in LOADINGS.items():
        factor = industry if spec["factor"] == "industry" else talent
        noise = rng.normal(0.0, spec["noise_sd"], size=(n, t_len))
        index = (
            spec["intercept"]
            + spec["trend"] * growth_path(yrs)
            + spec["size_elasticity"] * np.log(pop / 500.0)
            + spec["loading"] * factor
            + noise
        )
        values = 100.0 * logistic(index) if spec["link"] == "logit" else np.exp(index)
        frame[name] = values.ravel()
    frame["industry_latent"] = industry.ravel()
    frame["talent_latent"] = talent.ravel()

    eig = sorted(np.linalg.eigvals(coef).real.tolist(), reverse=True)
    truth: dict[str, Any] = {
        "seed": seed,
        "start": start,
        "end": end,
        "var_order": ["industry", "talent"],
        "var_coef": [list(map(float, row)) for row in VAR_COEF],
        "eigenvalues": [float(x) for x in eig],
        "innovation_sd": [float(x) for x in sd],
        "innovation_corr": INNOVATION_CORR,
        "innovation_cov": [[float(x) for x in row] for row in cov],
        "unit_effects": {
            u: {"industry": float(effects[i, 0]), "talent": float(effects[i, 1])}
            for i, u in enumerate(units)
        },
        "stationary_mean": {
            u: {"industry": float(mu[i, 0]), "talent": float(mu[i, 1])} for i, u in enumerate(units)
        },
        "burn_in": BURN_IN,
        "loadings": {k: dict(v) for k, v in LOADINGS.items()},
        "growth_path": "h(t) = 15 * tanh((t - 2010) / 15)",
        "indicator_groups": {
            "industry": [k for k, v in LOADINGS.items() if v["factor"] == "industry"],
            "talent": [k for k, v in LOADINGS.items() if v["factor"] == "talent"],
        },
        "granger": {"industry_to_talent": True, "talent_to_industry": True},
    }
    name = f"zhejiang_bay(seed={seed}, start={start}, end={end})"
    description = (
        "SIMULATED data on real geography: the eight Zhejiang Bay Area cities (real adcodes, "
        "census population 2010/2020 interpolated log-linearly); indicator values are "
        f"generated. {n} cities x {t_len} years ({start}-{end}).\n"
        "Latent industry agglomeration I and talent agglomeration H follow a panel VAR(1) "
        "with city effects: I_t = a_i + 0.5 I_{t-1} + 0.3 H_{t-1} + e_t, H_t = b_i + "
        "0.25 I_{t-1} + 0.55 H_{t-1} + u_t, (e, u) ~ N(0, sd 0.1 each, corr 0.3); "
        "eigenvalues 0.8 and 0.25; 100 burn-in periods.\n"
        "Indicators: ln x = c + trend h(t) + size_elasticity ln(pop/500) + loading F + "
        "noise with h(t) = 15 tanh((t - 2010)/15) (logit of the fraction for "
        "ht_industrialisation), loadings positive; "
        "industry indicators ht_rd_exp, ht_exports, ht_industrialisation load on I, talent "
        "indicators prof_tech_per10k, rd_staff_per10k, patents_per10k_emp on H. The latent "
        "columns industry_latent and talent_latent are included for checking recovery."
    )
    numeric = [c for c in frame.columns if c not in ("adcode", "year", "name_cn")]
    panel = Panel(
        frame,
        unit="adcode",
        time="year",
        numeric=numeric,
        labels=("name_cn",),
        provenance=(f"agglomera.datasets.{name}: simulated data on real adcodes",),
    )
    return ExampleData(panel=panel, truth=truth, description=description, name=name)
