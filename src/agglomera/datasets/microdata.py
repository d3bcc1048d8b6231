"""Large simulated firm-year microdata on real cities (for aggregation and benchmarks).

Rows are firm-years: a firm is located in a real prefecture-level city (chosen with
probability proportional to the 2010 census population), belongs to one GB/T 4754-2017
industry section and reports heavy-tailed employment in each year it is observed. With a
``path`` the rows are written to Parquet chunk by chunk, so 100 M rows need about one
chunk of memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agglomera.datasets._common import check_int, check_seed, check_window, reference_module
from agglomera.errors import DataError

__all__ = [
    "INDUSTRY_SHARES",
    "MAX_IN_MEMORY_ROWS",
    "expected_industry_shares",
    "firm_microdata",
]

#: Baseline share of firms by GB/T 4754-2017 section in a city of average log population
#: (illustrative, of the order of the 2018 economic census's legal-entity shares; the
#: population-weighted national shares are :func:`expected_industry_shares`, about 6 % I
#: and 8 % M). ``I`` = information transmission,
#: software and IT services; ``M`` = scientific research and technical services.
INDUSTRY_SHARES: dict[str, float] = {
    "A": 0.020,
    "B": 0.005,
    "C": 0.160,
    "D": 0.010,
    "E": 0.050,
    "F": 0.325,
    "G": 0.035,
    "H": 0.030,
    "I": 0.045,
    "J": 0.010,
    "K": 0.040,
    "L": 0.140,
    "M": 0.060,
    "N": 0.010,
    "O": 0.020,
    "P": 0.010,
    "Q": 0.010,
    "R": 0.020,
}
#: How much each section's share rises with the city's standardised log population
#: (high-tech services concentrate in large cities, agriculture and mining do not).
_SIZE_TILT: dict[str, float] = {"A": -0.3, "B": -0.3, "C": -0.1, "I": 0.5, "M": 0.4, "J": 0.2}
#: Mean log firm size (employment) by section; other sections use 1.6.
_LOG_SIZE: dict[str, float] = {"B": 3.0, "C": 2.6, "D": 3.0, "E": 2.3, "J": 2.0, "I": 1.8}
_LOG_SIZE_SD = 1.2
_INCUMBENT_SHARE = 0.4
_EXIT_PROB = 0.15
_MAX_EMPLOYMENT = 2_000_000
#: Largest ``n_rows`` returned in memory; larger requests need ``path=``.
MAX_IN_MEMORY_ROWS = 20_000_000


def firm_microdata(
    n_rows: int,
    seed: int = 0,
    path: str | Path | None = None,
    *,
    start: int = 2010,
    end: int = 2019,
    chunk_rows: int = 5_000_000,
) -> pd.DataFrame | Path:
    r"""Generate simulated firm-year microdata on real prefecture-level cities.

    Parameters
    ----------
    n_rows : int
        Number of firm-year rows (exactly).
    seed : int, default 0
        Seed; the same ``(n_rows, seed, chunk_rows, start, end)`` give identical rows
        (a different ``chunk_rows`` gives different, equally valid, rows).
    path : str or Path, optional
        Where to write Parquet. A name ending in ``.parquet`` is one file (one row group
        per chunk); any other name is a directory (created; must be empty) of part files
        ``part-00000.parquet``, …. Without ``path`` a pandas DataFrame is returned.
    start, end : int, default 2010, 2019
        Years covered.
    chunk_rows : int, default 5_000_000
        Rows generated (and written) at a time; peak memory is about one chunk
        (≈ 100 bytes per row while generating).

    Returns
    -------
    pandas.DataFrame or pathlib.Path
        Columns ``firm_id`` (int64), ``city`` (adcode string; categorical in pandas,
        dictionary-encoded in Parquet), ``industry`` (GB/T 4754-2017 section letter;
        categorical / dictionary), ``year`` (int16), ``employment`` (int32, ≥ 1). Rows of
        one firm are consecutive and ordered by year. With ``path``, the path.

    Raises
    ------
    DataError
        If ``n_rows`` exceeds 20,000,000 without ``path`` (pass ``path=`` to write
        Parquet instead), or ``path`` is a non-empty directory.
    SpecError
        For non-positive ``n_rows``/``chunk_rows`` or a bad window.

    Notes
    -----
    **Simulated data on real geography.** For each firm f:

    - city :math:`c_f \sim \text{Categorical}(\pi_c)`, :math:`\pi_c \propto` 2010 census
      population of the municipalities and prefecture-level units of
      :func:`agglomera.reference.cities` valid in 2010 with a census count;
    - industry :math:`k_f \mid c \sim \text{Categorical}(p_{k|c})`,
      :math:`p_{k|c} \propto s_k \exp(\beta_k z_c)` with the baseline shares
      :data:`INDUSTRY_SHARES` (``I`` 4.5 %, ``M`` 6 %), :math:`z_c` the standardised log
      population and tilts :math:`\beta_I = 0.5, \beta_M = 0.4` (high-tech services
      concentrate in large cities);
    - first year = ``start`` with probability 0.4 (incumbents), otherwise uniform on
      ``start + 1 … end``; spell length :math:`\sim` Geometric(0.15), cut at ``end``;
    - size :math:`S_f = 1 + \lfloor \exp(\mu_k + 1.2 Z) \rfloor` (lognormal, heavy right
      tail; :math:`\mu_C = 2.6`, :math:`\mu_I = 1.8`, default 1.6);
      employment in year t: :math:`\max(1, \mathrm{round}(S_f e^{0.03 (t - t_0) + 0.1 W_t}))`.

    Chunk k uses the generator ``numpy.random.default_rng([seed, k])``; the last firm of a
    chunk may be cut so that the chunk has exactly its number of rows.
    """
    n_rows = check_int("n_rows", n_rows, minimum=1)
    seed = check_seed(seed)
    chunk_rows = check_int("chunk_rows", chunk_rows, minimum=1)
    start, end = check_window(start, end, min_years=1)
    if path is None and n_rows > MAX_IN_MEMORY_ROWS:
        raise DataError(
            f"firm_microdata: n_rows={n_rows:,} is more than {MAX_IN_MEMORY_ROWS:,} rows to "
            "hold in memory. Fix: pass path='firms.parquet' (or a directory) to write the "
            "rows to Parquet chunk by chunk and get the path back."
        )
    cities, city_p, cond = _city_industry_model()
    sections = list(INDUSTRY_SHARES)
    chunks = _chunks(n_rows, seed, chunk_rows, start, end, city_p, cond)
    if path is None:
        parts = list(chunks)
        data = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        return pd.DataFrame(
            {
                "firm_id": data["firm_id"],
                "city": pd.Categorical.from_codes(data["city"], categories=pd.Index(cities)),
                "industry": pd.Categorical.from_codes(
                    data["industry"], categories=pd.Index(sections)
                ),
                "year": data["year"],
                "employment": data["employment"],
            }
        )
    return _write_parquet(Path(path), chunks, cities, sections)


# ---------------------------------------------------------------------- model pieces
def _city_industry_model() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Cities, their probabilities and the city × section conditional probabilities."""
    table = reference_module().cities()
    level = table["level"] if "level" in table.columns else pd.Series("prefecture", table.index)
    vf = pd.to_numeric(table["valid_from"], errors="coerce").astype("Float64")
    vt = pd.to_numeric(table["valid_to"], errors="coerce").astype("Float64")
    pop = pd.to_numeric(table["pop2010"], errors="coerce").astype("Float64")
    ok = (
        level.isin(["municipality", "prefecture"])
        & vf.fillna(-np.inf).le(2010).to_numpy(bool)
        & vt.fillna(np.inf).ge(2010).to_numpy(bool)
        & pop.fillna(0).gt(0).to_numpy(bool)
    )
    sub = table.loc[ok.to_numpy(bool)].assign(adcode=lambda d: d["adcode"].astype(str))
    sub = sub.drop_duplicates("adcode").sort_values("adcode")
    weights = pd.to_numeric(sub["pop2010"]).to_numpy(dtype=float)
    city_p = weights / weights.sum()
    logp = np.log(weights)
    z = (logp - logp.mean()) / logp.std()
    base = np.array(list(INDUSTRY_SHARES.values()))
    tilt = np.array([_SIZE_TILT.get(k, 0.0) for k in INDUSTRY_SHARES])
    cond = base[None, :] * np.exp(np.outer(z, tilt))
    cond /= cond.sum(axis=1, keepdims=True)
    return sub["adcode"].tolist(), city_p, cond


def expected_industry_shares() -> dict[str, float]:
    """Return the expected share of firms by section implied by the city weights and tilts."""
    _, city_p, cond = _city_industry_model()
    marginal = city_p @ cond
    return {k: float(v) for k, v in zip(INDUSTRY_SHARES, marginal, strict=True)}


def _chunks(
    n_rows: int,
    seed: int,
    chunk_rows: int,
    start: int,
    end: int,
    city_p: np.ndarray,
    cond: np.ndarray,
) -> Iterator[dict[str, np.ndarray]]:
    n_chunks = math.ceil(n_rows / chunk_rows)
    firm_offset = 0
    for k in range(n_chunks):
        target = min(chunk_rows, n_rows - k * chunk_rows)
        rng = np.random.default_rng([seed, k])
        chunk = _one_chunk(rng, target, start, end, city_p, cond, firm_offset)
        firm_offset = int(chunk["firm_id"][-1]) + 1
        yield chunk


def _one_chunk(
    rng: np.random.Generator,
    target: int,
    start: int,
    end: int,
    city_p: np.ndarray,
    cond: np.ndarray,
    firm_offset: int,
) -> dict[str, np.ndarray]:
    span = end - start + 1
    first_parts: list[np.ndarray] = []
    length_parts: list[np.ndarray] = []
    total = 0
    while total < target:
        n_new = max(16, int((target - total) / 3.5) + 16)
        incumbent = rng.random(n_new) < _INCUMBENT_SHARE
        later = start + 1 + rng.integers(0, max(span - 1, 1), n_new)
        first = np.where(incumbent | (span == 1), start, later)
        spell = rng.geometric(_EXIT_PROB, n_new)
        length = np.minimum(spell, end - first + 1)
        first_parts.append(first)
        length_parts.append(length)
        total += int(length.sum())
    first = np.concatenate(first_parts)
    length = np.concatenate(length_parts)
    cum = np.cumsum(length)
    n_firms = int(np.searchsorted(cum, target) + 1)
    first, length = first[:n_firms], length[:n_firms].copy()
    length[-1] -= int(cum[n_firms - 1] - target)

    city = _draw_categorical(rng, city_p, n_firms)
    u = rng.random(n_firms)
    cdf = np.cumsum(cond, axis=1)
    industry = (u[:, None] > cdf[city]).sum(axis=1).clip(0, cond.shape[1] - 1)
    mu = np.array([_LOG_SIZE.get(k, 1.6) for k in INDUSTRY_SHARES])[industry]
    size = 1.0 + np.floor(np.exp(mu + _LOG_SIZE_SD * rng.standard_normal(n_firms)))

    firm = np.repeat(np.arange(n_firms), length)
    row_start = np.concatenate(([0], np.cumsum(length)[:-1]))
    age = np.arange(target) - np.repeat(row_start, length)
    year = first[firm] + age
    emp = size[firm] * np.exp(0.03 * age + 0.1 * rng.standard_normal(target))
    employment = np.clip(np.round(emp), 1, _MAX_EMPLOYMENT).astype(np.int32)
    return {
        "firm_id": (firm + firm_offset).astype(np.int64),
        "city": city[firm].astype(np.int32),
        "industry": industry[firm].astype(np.int8),
        "year": year.astype(np.int16),
        "employment": employment,
    }


def _draw_categorical(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return np.asarray(np.searchsorted(cdf, rng.random(size), side="right"))


def _write_parquet(
    path: Path,
    chunks: Iterator[dict[str, np.ndarray]],
    cities: list[str],
    sections: list[str],
) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("firm_id", pa.int64()),
            ("city", pa.dictionary(pa.int32(), pa.string())),
            ("industry", pa.dictionary(pa.int8(), pa.string())),
            ("year", pa.int16()),
            ("employment", pa.int32()),
        ]
    )
    city_dict = pa.array(cities, type=pa.string())
    section_dict = pa.array(sections, type=pa.string())

    def table(chunk: dict[str, np.ndarray]) -> Any:
        return pa.Table.from_arrays(
            [
                pa.array(chunk["firm_id"]),
                pa.DictionaryArray.from_arrays(pa.array(chunk["city"]), city_dict),
                pa.DictionaryArray.from_arrays(pa.array(chunk["industry"]), section_dict),
                pa.array(chunk["year"]),
                pa.array(chunk["employment"]),
            ],
            schema=schema,
        )

    if path.suffix == ".parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(path, schema) as writer:
            for chunk in chunks:
                writer.write_table(table(chunk), row_group_size=len(chunk["firm_id"]))
        return path
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DataError(
            f"firm_microdata: {str(path)!r} exists and is not an empty directory. Fix: pass a "
            "new directory, an empty one, or a file name ending in '.parquet'."
        )
    path.mkdir(parents=True, exist_ok=True)
    for k, chunk in enumerate(chunks):
        pq.write_table(
            table(chunk), path / f"part-{k:05d}.parquet", row_group_size=len(chunk["firm_id"])
        )
    return path
