"""Shipped China reference tables: cities, regions, boundaries and the pilot registry.

The tables are built by ``scripts/build_reference.py`` from public sources and shipped
in ``agglomera/reference/data`` (provenance and licences in ``data/README.md``):

- :func:`cities` -- every unit of the 2010/2020 census city file (prefecture-level units,
  the four municipalities, province-administered county-level units, XPCC cities, Hong
  Kong and Macao) plus the retired codes that 2002-2019 panels meet (巢湖, 莱芜, 地区 that
  became cities with a new code, ...), with regions, coordinates and census population;
- :func:`pilots` -- the national innovative-city pilot registry (draft of 94 units);
- :func:`treatment_years` -- first-treatment years by city under explicit coding rules;
- :func:`boundaries` -- simplified census polygons as WKT;
- :func:`major_cities` -- the NBS list of 36 large and medium cities.

Every accessor returns a fresh copy: callers may modify the result freely.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

__all__ = [
    "MAJOR_CITIES",
    "POLICIES",
    "UNVERIFIED_WINDOW",
    "boundaries",
    "cities",
    "major_cities",
    "pilots",
    "treatment_years",
]

#: Policies with a shipped registry.
POLICIES: tuple[str, ...] = ("innovative_city",)

#: The years between which the 32 additions of the end-2016 list were approved.
UNVERIFIED_WINDOW: tuple[int, int] = (2011, 2013)

#: NBS 36 large and medium cities (city-level adcodes): 4 municipalities, 27 provincial
#: capitals, 5 cities specifically designated in the state plan.
MAJOR_CITIES: tuple[str, ...] = (
    # municipalities
    "110100", "120100", "310100", "500100",
    # provincial capitals
    "130100", "140100", "150100", "210100", "220100", "230100", "320100", "330100",
    "340100", "350100", "360100", "370100", "410100", "420100", "430100", "440100",
    "450100", "460100", "510100", "520100", "530100", "540100", "610100", "620100",
    "630100", "640100", "650100",
    # cities specifically designated in the state plan (计划单列市)
    "210200", "370200", "330200", "350200", "440300",
)  # fmt: skip

_UNCODED_2022 = (
    "The 2022 batch (国科发区〔2022〕5号) has 25 cities; 16 are named in the registry and "
    "coded 2022, the other 9 are unknown and cannot be coded: in a panel that reaches 2022 "
    "they are wrongly counted as not treated. End the panel in 2021 or treat 2022 with care."
)

_CITY_DTYPES: dict[str, Any] = {
    "adcode": "str",
    "successor_adcode": "str",
    "geonames_id": "Int64",
    "valid_from": "Int64",
    "valid_to": "Int64",
    "pop2010": "Int64",
    "pop2020": "Int64",
    "lat": "float64",
    "lon": "float64",
}
_PILOT_DTYPES: dict[str, Any] = {
    "unit_adcode": "str",
    "city_adcode": "str",
    "approval_year": "Int64",
    "geonames_id": "Int64",
    "lat": "float64",
    "lon": "float64",
}


def _data_file(name: str) -> Any:
    return resources.files("agglomera.reference").joinpath("data", name)


@cache
def _cities() -> pd.DataFrame:
    with _data_file("cities.csv").open("rb") as fh:
        frame = pd.read_csv(fh, dtype=_CITY_DTYPES, encoding="utf-8")
    return frame


@cache
def _pilots() -> pd.DataFrame:
    with _data_file("pilots.csv").open("rb") as fh:
        frame = pd.read_csv(fh, dtype=_PILOT_DTYPES, encoding="utf-8")
    frame["year_verified"] = frame["year_verified"].astype(bool)
    return frame


@cache
def _boundaries() -> pd.DataFrame:
    with _data_file("boundaries.csv.gz").open("rb") as fh:
        frame = pd.read_csv(fh, dtype={"adcode": "str"}, compression="gzip", encoding="utf-8")
    return frame


def cities() -> pd.DataFrame:
    """Return the reference table of Chinese cities, keyed by 6-digit adcode.

    One row per unit of the 2010/2020 census city file (369 units: prefecture-level
    cities, 地区, 盟 and 自治州, the four municipalities at city level such as ``110100``,
    province-administered county-level units, XPCC cities, Hong Kong and Macao) plus
    retired codes needed for 2002-2019 panels (e.g. 巢湖 ``341400``, 莱芜 ``371200``,
    毕节地区 ``522400``).

    Returns
    -------
    pandas.DataFrame
        Columns ``adcode`` (6-character str), ``name_cn`` (full official name, e.g.
        延边朝鲜族自治州), ``name_en`` (hand-curated; homonyms such as 台州/泰州 "Taizhou"
        are disambiguated by province), ``province_cn``, ``province_en``, ``province_iso``,
        ``region4`` (NBS 2011: east/central/west/northeast), ``region3`` (post-2000
        three-way: east = NBS east + 辽宁, central = 山西 吉林 黑龙江 安徽 江西 河南 湖北
        湖南, west = NBS west; NA for Hong Kong and Macao, as is ``region4``), ``level``
        (municipality/prefecture/county_level/sar), ``lat``, ``lon``, ``coord_source``,
        ``geonames_id``, ``valid_from`` and ``valid_to`` (nullable Int64: first and last
        year in which the code is valid at year-end; NA = open), ``successor_adcode``,
        ``note``, ``pop2010`` and ``pop2020`` (census population on 2020 boundaries,
        nullable Int64), ``aliases`` (short and historical Chinese names separated by
        ``|``, e.g. 襄阳 has 襄樊) and ``aliases_en``.

    Notes
    -----
    ``valid_from`` NA means the code was already valid in the 2002 GB/T 2260 revision
    (the earliest year the package covers); creation years after that follow the yearly
    GB/T 2260 revisions up to 2013 and State Council approvals afterwards. Coordinates
    are GeoNames points (CC BY 4.0) where the pilot registry gives one, otherwise the
    centroid of the census polygon (``coord_source`` says which).

    Examples
    --------
    >>> from agglomera import reference
    >>> table = reference.cities().set_index("adcode")
    >>> table.loc["210200", ["name_en", "region4", "region3"]].tolist()
    ['Dalian', 'northeast', 'east']
    """
    return _cities().copy()


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise SpecError(
            f"policy={policy!r} has no shipped registry; allowed: {format_examples(POLICIES)}."
        )


def pilots(policy: str = "innovative_city") -> pd.DataFrame:
    """Return the registry of pilot units of a place-based policy.

    Parameters
    ----------
    policy : str, default "innovative_city"
        Only the national innovative-city pilot (创新型城市试点) is shipped.

    Returns
    -------
    pandas.DataFrame
        One row per pilot unit (94 in the draft registry) with ``unit_cn``,
        ``unit_adcode``, ``city_adcode`` (the city of :func:`cities` the unit belongs to:
        districts -> their municipality ``110100``/``120100``/``310100``/``500100``;
        昌吉 ``652301`` -> 昌吉州 ``652300``; 石河子 ``659001`` belongs to no prefecture
        and keeps its own code), ``unit_level`` (prefecture/district/county_level),
        ``approval_year`` (nullable Int64; NA for the 32 additions of the end-2016 list
        whose year, 2011-2013, is not verified), ``batch``, ``agency`` (NDRC, MOST,
        NDRC+MOST = on both 2010 lists, MOST/NDRC = the joint 2018 batch,
        MOST-2016-list = known only from the end-2016 MOST list), ``status``, ``source``,
        ``name_en``, ``province_cn``, ``lat``, ``lon``, ``geonames_id``,
        ``year_verified`` and ``join_note``.

    Raises
    ------
    SpecError
        If ``policy`` is not one of :data:`POLICIES`.

    Notes
    -----
    Verified batches: Shenzhen 2008 (NDRC); 16 cities (NDRC) and 20 units (MOST) in
    2010, 29 units in their union; 61 units by the end of 2016 (国科发创〔2016〕370号);
    17 cities in 2018; 16 of the 25 cities of 2022 (国科发区〔2022〕5号).
    """
    _check_policy(policy)
    return _pilots().copy()


def boundaries() -> pd.DataFrame:
    """Return simplified boundaries of the census units as WKT.

    Returns
    -------
    pandas.DataFrame
        Columns ``adcode`` and ``geometry`` (WKT POLYGON/MULTIPOLYGON, longitude/latitude
        in degrees). One row per unit of the census file (369); retired codes have no
        polygon.

    Notes
    -----
    Polygons from the census city file by Lei Dong (MIT licence), simplified with
    shapely (tolerance 0.01 degrees, topology preserved) and rounded to 4 decimals. Good
    for maps and contiguity weights at city scale, not for precise areas. A user GeoJSON
    overrides them where the API accepts one.
    """
    return _boundaries().copy()


def major_cities() -> list[str]:
    """Return the adcodes of the NBS 36 large and medium cities.

    Returns
    -------
    list of str
        4 municipalities at city level (``110100``, ``120100``, ``310100``, ``500100``),
        27 provincial capitals and the 5 cities specifically designated in the state plan
        (大连 ``210200``, 青岛 ``370200``, 宁波 ``330200``, 厦门 ``350200``, 深圳
        ``440300``).

    Notes
    -----
    This is the "major cities" sample of the innovative-city literature (国家统计局 36
    个大中城市). 13 of them joined the innovative-city pilot with an unverified year
    (2011-2013): 石家庄, 太原, 呼和浩特, 长春, 福州, 南昌, 南宁, 海口, 贵阳, 昆明, 西宁,
    银川 and 乌鲁木齐 -- under the default ``unverified="drop"`` of
    :func:`treatment_years` they leave the sample.
    """
    return list(MAJOR_CITIES)


DistrictRule = Literal["municipality", "drop"]
CountyRule = Literal["parent", "drop"]
UnverifiedRule = Literal["drop", "error", "earliest", "latest"]


def treatment_years(
    policy: str = "innovative_city",
    *,
    districts: DistrictRule = "municipality",
    county_level: CountyRule = "parent",
    unverified: UnverifiedRule | Mapping[str, int] = "drop",
) -> pd.Series:
    """Return the first year in which each pilot city was treated.

    Parameters
    ----------
    policy : str, default "innovative_city"
        The policy registry (see :func:`pilots`).
    districts : {"municipality", "drop"}, default "municipality"
        District pilots (海淀 110108, 滨海新区 120116, 杨浦 310110, 沙坪坝 500106).
        "municipality" treats the whole municipality from the district's year -- the
        common coding in the city-level literature, because yearbook data exist only for
        the municipality; "drop" removes the four municipalities from the sample (they
        are partly treated, so they are valid neither as treated nor as controls).
    county_level : {"parent", "drop"}, default "parent"
        County-level pilots (昌吉 652301, 石河子 659001). "parent" codes the parent
        prefecture (昌吉 -> 昌吉州 652300; 石河子 has no parent prefecture and keeps its
        own code 659001); "drop" removes the parent (or the unit) from the sample.
    unverified : {"drop", "error", "earliest", "latest"} or mapping, default "drop"
        The 32 additions of the end-2016 list were approved in 2011, 2012 or 2013, but the
        year of each is not verified. "drop" (default: nothing is imputed) removes their
        cities from the sample; "error" raises; "earliest"/"latest" assign 2011/2013, the
        bounds of the window, for a bounds analysis; a mapping ``{adcode: year}`` gives a
        year (2011-2013) for every unverified unit (unit or city adcode).

    Returns
    -------
    pandas.Series
        Index ``adcode`` (str), values the first-treatment year (int64), sorted by
        adcode. The minimum over a city's pilot units is used (南京 was on both 2010
        lists: 2010). ``attrs["rule"]`` states every rule applied; ``attrs["dropped"]``
        lists the adcodes that must be removed from the sample (never use them as
        never-treated controls) and ``attrs["dropped_reasons"]`` says why;
        ``attrs["uncoded"]`` notes the nine unnamed 2022 pilots.

    Raises
    ------
    SpecError
        If an argument value is not allowed.
    DataError
        If ``unverified="error"`` (listing the unverified cities), or a mapping misses
        unverified units, names units that are not unverified, or gives a year outside
        2011-2013.

    Examples
    --------
    >>> from agglomera.reference import treatment_years
    >>> years = treatment_years()
    >>> int(years["440300"])
    2008
    >>> "110100" in years.attrs["dropped"]
    False
    """
    _check_policy(policy)
    if districts not in ("municipality", "drop"):
        raise SpecError(f"districts={districts!r} is not allowed; allowed: 'municipality', 'drop'.")
    if county_level not in ("parent", "drop"):
        raise SpecError(f"county_level={county_level!r} is not allowed; allowed: 'parent', 'drop'.")
    if not isinstance(unverified, Mapping) and unverified not in (
        "drop",
        "error",
        "earliest",
        "latest",
    ):
        raise SpecError(
            f"unverified={unverified!r} is not allowed; allowed: 'drop', 'error', "
            "'earliest', 'latest' or a mapping {adcode: year}."
        )

    reg = _pilots()
    pending = reg[reg["approval_year"].isna()]
    low, high = UNVERIFIED_WINDOW
    rules: list[str] = []
    dropped: dict[str, str] = {}

    # --- years of the unverified units -------------------------------------------------
    unit_year: dict[str, int | None] = {}
    for unit, year in zip(reg["unit_adcode"], reg["approval_year"], strict=True):
        unit_year[unit] = None if pd.isna(year) else int(year)
    pending_desc = [
        f"{u} {n}" for u, n in zip(pending["unit_adcode"], pending["unit_cn"], strict=True)
    ]
    if isinstance(unverified, Mapping):
        given = _unverified_mapping(unverified, pending, low, high)
        unit_year.update(given)
        rules.append(
            f"unverified: the {len(pending)} units of the end-2016 list without a verified "
            "year coded with the user-given years"
        )
    elif unverified == "error":
        raise DataError(
            f"{len(pending)} pilot units have no verified approval year (2011-2013): "
            f"{format_examples(pending_desc, limit=len(pending_desc))}. Fix: choose "
            "unverified='drop', 'earliest', 'latest' or pass a mapping {adcode: year}."
        )
    elif unverified in ("earliest", "latest"):
        year = low if unverified == "earliest" else high
        for unit in pending["unit_adcode"]:
            unit_year[unit] = year
        rules.append(
            f"unverified: the {len(pending)} units of the end-2016 list without a verified "
            f"year coded {year} (the {unverified} year of the {low}-{high} window; bounds "
            "analysis)"
        )
    else:
        rules.append(
            f"unverified: cities of the {len(pending)} units of the end-2016 list without a "
            f"verified year ({low}-{high}) are dropped from the sample, not used as controls"
        )

    # --- map units to cities -----------------------------------------------------------
    city_years: dict[str, list[int | None]] = {}
    for row in reg.itertuples(index=False):
        unit, city, level = str(row.unit_adcode), str(row.city_adcode), str(row.unit_level)
        if level == "district" and districts == "drop":
            dropped.setdefault(city, f"district pilot {row.unit_cn} {unit} (districts='drop')")
            continue
        if level == "county_level" and county_level == "drop":
            dropped.setdefault(
                city, f"county-level pilot {row.unit_cn} {unit} (county_level='drop')"
            )
            continue
        city_years.setdefault(city, []).append(unit_year[unit])

    if districts == "municipality":
        rules.append(
            "districts: a municipality whose district was a pilot (海淀 110108, 滨海新区 "
            "120116, 杨浦 310110, 沙坪坝 500106) is treated as a whole from the district's year"
        )
    else:
        rules.append(
            "districts: municipalities with a district pilot (110100, 120100, 310100, "
            "500100) are dropped from the sample"
        )
    if county_level == "parent":
        rules.append(
            "county_level: county-level pilots are coded at their parent prefecture (昌吉 "
            "652301 -> 652300); 石河子 659001 has no prefecture and is coded as itself"
        )
    else:
        rules.append(
            "county_level: the prefecture containing a county-level pilot (652300) and "
            "石河子 659001 are dropped from the sample"
        )
    rules.append("first treatment = the earliest year over a city's pilot units")

    # --- first treatment per city ------------------------------------------------------
    out: dict[str, int] = {}
    for city, years in city_years.items():
        known = [y for y in years if y is not None]
        if len(known) == len(years) or (known and min(known) <= low):
            out[city] = min(known)
        elif city not in dropped:
            dropped[city] = "pilot with an unverified approval year (unverified='drop')"
    for city in dropped:
        out.pop(city, None)

    series = pd.Series(out, dtype="int64", name="treatment_year").sort_index()
    series.index = pd.Index(series.index.astype(str), name="adcode")
    order = sorted(dropped)
    series.attrs["policy"] = policy
    series.attrs["rule"] = "; ".join(rules) + "."
    series.attrs["dropped"] = order
    series.attrs["dropped_reasons"] = {c: dropped[c] for c in order}
    series.attrs["uncoded"] = _UNCODED_2022
    return series


def _unverified_mapping(
    mapping: Mapping[str, int], pending: pd.DataFrame, low: int, high: int
) -> dict[str, int]:
    """Validate a user mapping of years for the unverified units; return unit -> year."""
    unit_of: dict[str, str] = {}
    names: dict[str, str] = {}
    for unit, city, name in zip(
        pending["unit_adcode"], pending["city_adcode"], pending["unit_cn"], strict=True
    ):
        unit_of[str(unit)] = str(unit)
        unit_of.setdefault(str(city), str(unit))
        names[str(unit)] = str(name)
    given: dict[str, int] = {}
    unknown: list[str] = []
    bad_year: list[tuple[str, Any]] = []
    for key, year in mapping.items():
        key_s = str(key)
        if key_s not in unit_of:
            unknown.append(key_s)
            continue
        if (
            isinstance(year, bool)
            or not isinstance(year, numbers.Integral)
            or not low <= int(year) <= high
        ):
            bad_year.append((key_s, year))
            continue
        given[unit_of[key_s]] = int(year)
    if unknown:
        raise DataError(
            f"unverified mapping has {len(unknown)} key(s) that are not pilot units with an "
            f"unverified year: {format_examples(unknown)}. Fix: use the unit or city adcodes of "
            "pilots(...) rows with an empty approval_year."
        )
    if bad_year:
        raise DataError(
            f"unverified mapping gives years outside {low}-{high}: {format_examples(bad_year)}. "
            f"The end-2016 additions were approved between {low} and {high}."
        )
    missing = [u for u in unit_of.values() if u not in given]
    missing = sorted(set(missing))
    if missing:
        desc = [f"{u} {names[u]}" for u in missing]
        raise DataError(
            f"unverified mapping misses {len(missing)} unit(s) with an unverified year: "
            f"{format_examples(desc, limit=len(desc))}. Fix: give a year ({low}-{high}) for "
            "each, or use unverified='drop', 'earliest' or 'latest'."
        )
    return given
