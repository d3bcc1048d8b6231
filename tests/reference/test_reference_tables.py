"""Tests of the shipped China reference tables and the treatment-year coding rules.

Numbers come from ../shared/reference/README.md (verified pilot batches) and the census
city file; see src/agglomera/reference/data/README.md for provenance.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from agglomera import reference
from agglomera.errors import DataError, SpecError

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "agglomera" / "reference" / "data"


def _names(text: str) -> list[str]:
    return text.split()


NDRC_2010 = _names(
    "大连 青岛 厦门 沈阳 西安 广州 成都 南京 杭州 济南 合肥 郑州 长沙 苏州 无锡 烟台"
)
MOST_2010 = _names(
    "海淀区 滨海新区 唐山 包头 哈尔滨 杨浦区 南京 宁波 嘉兴 合肥 厦门 济南 洛阳 武汉 长沙 "
    "广州 沙坪坝区 成都 西安 兰州"
)
ADDED_BY_2016 = _names(
    "石家庄 秦皇岛 太原 呼和浩特 长春 常州 连云港 镇江 南通 泰州 扬州 盐城 湖州 福州 南昌 景德镇 "
    "萍乡 济宁 南阳 襄阳 宜昌 南宁 海口 贵阳 遵义 昆明 宝鸡 银川 西宁 乌鲁木齐 昌吉 石河子"
)
BATCH_2018 = _names(
    "吉林 徐州 绍兴 金华 马鞍山 芜湖 泉州 龙岩 潍坊 东营 株洲 衡阳 佛山 东莞 玉溪 拉萨 汉中"
)
BATCH_2022 = _names(
    "保定 邯郸 宿迁 淮安 温州 台州 淄博 威海 日照 临沂 德州 汕头 长治 滁州 蚌埠 铜陵"
)
MAJOR_UNVERIFIED = {
    "130100": "石家庄",
    "140100": "太原",
    "150100": "呼和浩特",
    "220100": "长春",
    "350100": "福州",
    "360100": "南昌",
    "450100": "南宁",
    "460100": "海口",
    "520100": "贵阳",
    "530100": "昆明",
    "630100": "西宁",
    "640100": "银川",
    "650100": "乌鲁木齐",
}


@pytest.fixture(scope="module")
def cities() -> pd.DataFrame:
    return reference.cities().set_index("adcode", drop=False)


@pytest.fixture(scope="module")
def pilots() -> pd.DataFrame:
    return reference.pilots()


# --------------------------------------------------------------------------- cities


def test_cities_columns_and_keys(cities: pd.DataFrame) -> None:
    api = [
        "adcode", "name_cn", "name_en", "province_cn", "province_en", "region4", "region3",
        "lat", "lon", "valid_from", "valid_to", "successor_adcode", "pop2010", "pop2020",
        "level", "aliases",
    ]  # fmt: skip
    assert set(api) <= set(cities.columns)
    assert len(cities) == 390  # 369 census units + 21 retired codes
    assert cities["adcode"].is_unique
    assert cities["adcode"].str.fullmatch(r"\d{6}").all()
    for col in ("valid_from", "valid_to", "pop2010", "pop2020"):
        assert str(cities[col].dtype) == "Int64"
    # no two columns differ only by case (Spark)
    assert len({c.lower() for c in cities.columns}) == len(cities.columns)


def test_cities_levels(cities: pd.DataFrame) -> None:
    census = cities[cities["valid_to"].isna()]
    assert len(census) == 369
    assert census["level"].value_counts().to_dict() == {
        "prefecture": 333,
        "county_level": 30,
        "municipality": 4,
        "sar": 2,
    }
    assert set(cities.index[cities["level"] == "municipality"]) == {
        "110100",
        "120100",
        "310100",
        "500100",
    }
    assert cities.loc["659001", "level"] == "county_level"  # 石河子 (XPCC)
    assert cities.loc["419001", "level"] == "county_level"  # 济源
    assert cities.loc["810000", "level"] == "sar"


def test_cities_names(cities: pd.DataFrame) -> None:
    expected = {
        "330100": ("杭州市", "Hangzhou"),
        "222400": ("延边朝鲜族自治州", "Yanbian Korean Autonomous Prefecture"),
        "150100": ("呼和浩特市", "Hohhot"),
        "650100": ("乌鲁木齐市", "Urumqi"),
        "540100": ("拉萨市", "Lhasa"),
        "230100": ("哈尔滨市", "Harbin"),
        "610100": ("西安市", "Xi'an"),
        "211300": ("朝阳市", "Chaoyang"),
        "140400": ("长治市", "Changzhi"),
        "411100": ("漯河市", "Luohe"),
        "331000": ("台州市", "Taizhou"),
        "321200": ("泰州市", "Taizhou"),
        "810000": ("香港特别行政区", "Hong Kong"),
        "820000": ("澳门特别行政区", "Macao"),
    }
    for code, (cn, en) in expected.items():
        assert (cities.loc[code, "name_cn"], cities.loc[code, "name_en"]) == (cn, en)
    assert cities.loc["331000", "province_en"] == "Zhejiang"
    assert cities.loc["321200", "province_en"] == "Jiangsu"
    assert not cities["name_en"].str.contains(" City").any()
    assert cities["name_en"].notna().all()


def test_cities_aliases(cities: pd.DataFrame) -> None:
    assert "襄樊" in cities.loc["420600", "aliases"].split("|")
    assert "思茅" in cities.loc["530800", "aliases"].split("|")
    assert "淮阴" in cities.loc["320800", "aliases"].split("|")
    assert cities.loc["222400", "aliases"].split("|") == ["延边", "延边州"]
    assert cities.loc["232700", "aliases"] == "大兴安岭"


def test_regions(cities: pd.DataFrame) -> None:
    def regions(code: str) -> tuple[str, str]:
        return cities.loc[code, "region4"], cities.loc[code, "region3"]

    assert regions("210100") == ("northeast", "east")  # 辽宁 沈阳
    assert regions("220100") == ("northeast", "central")  # 吉林 长春
    assert regions("230100") == ("northeast", "central")  # 黑龙江
    assert regions("450100") == ("west", "west")  # 广西 (post-2000 variant)
    assert regions("150100") == ("west", "west")  # 内蒙古
    assert regions("140100") == ("central", "central")  # 山西
    assert regions("330100") == ("east", "east")
    assert cities.loc[["810000", "820000"], ["region4", "region3"]].isna().all().all()
    prov = cities.drop_duplicates("province_cn").dropna(subset=["region3"])
    assert prov["region3"].value_counts().to_dict() == {"west": 12, "east": 11, "central": 8}
    assert prov["region4"].value_counts().to_dict() == {
        "east": 10,
        "west": 12,
        "central": 6,
        "northeast": 3,
    }


def test_retired_codes(cities: pd.DataFrame) -> None:
    expected = {
        # code: (valid_to, successor)
        "341400": (2010, "340100"),  # 巢湖, abolished Aug 2011 and split
        "371200": (2018, "370100"),  # 莱芜 -> 济南, Jan 2019
        "522400": (2010, "520500"),  # 毕节地区
        "522200": (2010, "520600"),  # 铜仁地区
        "632100": (2012, "630200"),  # 海东地区
        "542300": (2013, "540200"),  # 日喀则
        "542100": (2013, "540300"),  # 昌都
        "542600": (2014, "540400"),  # 林芝
        "542200": (2015, "540500"),  # 山南
        "542400": (2016, "540600"),  # 那曲
        "652100": (2014, "650400"),  # 吐鲁番
        "652200": (2015, "650500"),  # 哈密
        "469003": (2014, "460400"),  # 儋州 county-level
    }
    for code, (valid_to, succ) in expected.items():
        row = cities.loc[code]
        assert (int(row["valid_to"]), row["successor_adcode"]) == (valid_to, succ), code
        # the successor is a live unit that starts the year after
        nxt = cities.loc[succ]
        assert pd.isna(nxt["valid_to"])
        if code not in ("341400", "371200"):
            assert int(nxt["valid_from"]) == valid_to + 1, code
    assert "合肥" in cities.loc["341400", "note"] and "芜湖" in cities.loc["341400", "note"]
    assert int(cities.loc["460300", "valid_from"]) == 2012  # 三沙
    assert int(cities.loc["460400", "valid_from"]) == 2015  # 儋州 prefecture
    assert pd.isna(cities.loc["330100", "valid_from"])
    # every successor chain ends in a live code
    retired = cities[cities["valid_to"].notna()]
    assert len(retired) == 21
    assert retired["successor_adcode"].isin(cities.index).all()


def test_population_and_coordinates(cities: pd.DataFrame) -> None:
    assert int(cities.loc["110100", "pop2020"]) == 21893095
    assert int(cities.loc["110100", "pop2010"]) == 19612368
    assert pd.isna(cities.loc["460300", "pop2010"])  # 三沙 did not exist in 2010
    assert cities["lat"].between(3, 54).all() and cities["lon"].between(73, 136).all()
    assert cities.loc["440300", ["lat", "lon"]].tolist() == [22.54554, 114.0683]
    assert cities.loc["440300", "coord_source"] == "geonames"
    assert cities["coord_source"].value_counts().to_dict() == {
        "census_polygon_centroid": 271,
        "geonames": 96,
        "successor:census_polygon_centroid": 19,
        "census_polygon_representative_point": 4,
    }


def test_accessors_return_copies() -> None:
    first = reference.cities()
    first.loc[:, "name_en"] = "x"
    assert reference.cities()["name_en"].iloc[0] == "Beijing"
    reg = reference.pilots()
    reg.loc[:, "approval_year"] = pd.NA
    assert reference.pilots()["approval_year"].notna().sum() == 62
    majors = reference.major_cities()
    majors.clear()
    assert len(reference.major_cities()) == 36


# --------------------------------------------------------------------------- pilots


def _short(names: pd.Series) -> set[str]:
    return set(names)


def test_pilot_counts(pilots: pd.DataFrame) -> None:
    assert len(pilots) == 94
    year = pilots["approval_year"]
    assert str(year.dtype) == "Int64"
    assert year.value_counts(dropna=False).to_dict() == {
        2010: 28,
        pd.NA: 32,
        2018: 17,
        2022: 16,
        2008: 1,
    }
    by_2010 = pilots[year.le(2010).fillna(False)]
    assert len(by_2010) == 29
    assert pilots.loc[year.eq(2008).fillna(False), "unit_adcode"].tolist() == ["440300"]
    ndrc = pilots[pilots["agency"].isin(["NDRC", "NDRC+MOST"]) & year.eq(2010).fillna(False)]
    most = pilots[pilots["agency"].isin(["MOST", "NDRC+MOST"]) & year.eq(2010).fillna(False)]
    assert _short(ndrc["unit_cn"]) == set(NDRC_2010) and len(ndrc) == 16
    assert _short(most["unit_cn"]) == set(MOST_2010) and len(most) == 20
    assert len(set(NDRC_2010) | set(MOST_2010)) + 1 == 29  # + Shenzhen
    unverified = pilots[year.isna()]
    assert _short(unverified["unit_cn"]) == set(ADDED_BY_2016) and len(unverified) == 32
    assert (unverified["agency"] == "MOST-2016-list").all()
    assert not unverified["year_verified"].any()
    assert unverified["status"].str.contains("year NOT verified").all()
    assert len(by_2010) + len(unverified) == 61  # end-2016 list
    b2018 = pilots[year.eq(2018).fillna(False)]
    assert _short(b2018["unit_cn"]) == set(BATCH_2018) and (b2018["agency"] == "MOST/NDRC").all()
    assert 61 + len(b2018) == 78
    b2022 = pilots[year.eq(2022).fillna(False)]
    assert _short(b2022["unit_cn"]) == set(BATCH_2022) and len(b2022) == 16
    assert b2022["status"].str.contains("9 of 25 still unknown").all()
    assert 78 + 25 == 103 and 103 - len(pilots) == 9  # nine 2022 pilots not in the registry
    assert pilots["unit_adcode"].is_unique


def test_district_and_county_pilots(pilots: pd.DataFrame) -> None:
    districts = pilots[pilots["unit_level"] == "district"].set_index("unit_adcode")
    assert districts["city_adcode"].to_dict() == {
        "110108": "110100",
        "120116": "120100",
        "310110": "310100",
        "500106": "500100",
    }
    assert set(districts["unit_cn"]) == {"海淀区", "滨海新区", "杨浦区", "沙坪坝区"}
    county = pilots[pilots["unit_level"] == "county_level"].set_index("unit_adcode")
    assert county["city_adcode"].to_dict() == {"652301": "652300", "659001": "659001"}
    assert "no prefecture" in county.loc["659001", "join_note"]
    assert (pilots["unit_level"] == "prefecture").sum() == 88


def test_every_pilot_joins_a_city(pilots: pd.DataFrame, cities: pd.DataFrame) -> None:
    joined = pilots.merge(cities.reset_index(drop=True), left_on="city_adcode", right_on="adcode")
    assert len(joined) == len(pilots) == 94
    # a pilot city's own name matches (district pilots join their municipality)
    pref = joined[joined["unit_level"] == "prefecture"]
    assert all(
        full.startswith(short) for full, short in zip(pref["name_cn"], pref["unit_cn"], strict=True)
    )


def test_unknown_policy() -> None:
    with pytest.raises(SpecError, match=r"policy='patent_city'.*'innovative_city'"):
        reference.pilots("patent_city")
    with pytest.raises(SpecError, match="innovative_city"):
        reference.treatment_years("patent_city")


# --------------------------------------------------------------------------- treatment years


def test_treatment_years_default() -> None:
    years = reference.treatment_years()
    assert years.index.name == "adcode" and str(years.dtype) == "int64"
    assert years.index.is_monotonic_increasing
    assert years.value_counts().to_dict() == {2010: 28, 2018: 17, 2022: 16, 2008: 1}
    assert years["440300"] == 2008  # Shenzhen
    assert years["110100"] == 2010  # Beijing via 海淀 (districts="municipality")
    assert years["500100"] == 2010
    assert years["320100"] == 2010  # 南京: NDRC and MOST both 2010
    assert years["540100"] == 2018
    dropped = years.attrs["dropped"]
    assert len(dropped) == 32 and "652300" in dropped and "659001" in dropped
    assert "130100" in dropped and not set(dropped) & set(years.index)
    assert "unverified" in years.attrs["dropped_reasons"]["130100"]
    rule = years.attrs["rule"]
    assert "dropped from the sample" in rule and "whole from the district's year" in rule
    assert "9 are unknown" in years.attrs["uncoded"]


def test_treatment_years_district_drop() -> None:
    years = reference.treatment_years(districts="drop")
    for code in ("110100", "120100", "310100", "500100"):
        assert code not in years.index
        assert code in years.attrs["dropped"]
    assert "海淀区 110108" in years.attrs["dropped_reasons"]["110100"]
    assert len(years) == 58 and len(years.attrs["dropped"]) == 36


def test_treatment_years_bounds_and_county_level() -> None:
    early = reference.treatment_years(unverified="earliest")
    late = reference.treatment_years(unverified="latest")
    assert len(early) == len(late) == 94 and early.attrs["dropped"] == []
    assert early["652300"] == 2011 and late["652300"] == 2013  # 昌吉 -> parent prefecture
    assert early["659001"] == 2011  # 石河子 coded as itself
    assert late["130100"] == 2013
    assert (early != late).sum() == 32
    assert "earliest year of the 2011-2013 window" in early.attrs["rule"]
    dropped = reference.treatment_years(county_level="drop", unverified="earliest")
    assert dropped.attrs["dropped"] == ["652300", "659001"]
    assert "652300" not in dropped.index and len(dropped) == 92


def test_treatment_years_mapping() -> None:
    reg = reference.pilots()
    pending = reg[reg["approval_year"].isna()]
    mapping = {u: 2012 for u in pending["unit_adcode"]}
    years = reference.treatment_years(unverified=mapping)
    assert years["652300"] == 2012 and years["130100"] == 2012 and len(years) == 94
    # city adcode of a county-level unit is accepted too
    alt = dict(mapping)
    alt["652300"] = alt.pop("652301")
    alt["652300"] = 2011
    assert reference.treatment_years(unverified=alt)["652300"] == 2011
    partial = dict(mapping)
    del partial["659001"], partial["130100"]
    with pytest.raises(DataError, match=r"misses 2 unit\(s\).*'130100 石家庄', '659001 石河子'"):
        reference.treatment_years(unverified=partial)
    with pytest.raises(DataError, match=r"not pilot units with an unverified year: '330100'"):
        reference.treatment_years(unverified={**mapping, "330100": 2012})
    with pytest.raises(DataError, match=r"outside 2011-2013: \('130100', 2015\)"):
        reference.treatment_years(unverified={**mapping, "130100": 2015})


def test_treatment_years_error_and_bad_arguments() -> None:
    with pytest.raises(DataError, match=r"32 pilot units have no verified approval year") as err:
        reference.treatment_years(unverified="error")
    assert "'130100 石家庄'" in str(err.value) and "'659001 石河子'" in str(err.value)
    with pytest.raises(SpecError, match=r"districts='city'.*'municipality', 'drop'"):
        reference.treatment_years(districts="city")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"county_level='keep'.*'parent', 'drop'"):
        reference.treatment_years(county_level="keep")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"unverified='mean'.*'earliest', 'latest'"):
        reference.treatment_years(unverified="mean")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- major cities


def test_major_cities(cities: pd.DataFrame) -> None:
    majors = reference.major_cities()
    assert len(majors) == len(set(majors)) == 36
    assert set(majors) <= set(cities.index)
    assert {"110100", "120100", "310100", "500100"} <= set(majors)
    assert {"210200", "370200", "330200", "350200", "440300"} <= set(majors)
    levels = cities.loc[majors, "level"].value_counts().to_dict()
    assert levels == {"prefecture": 32, "municipality": 4}
    # one city per province-level unit plus the five plan cities (31 + 5)
    assert cities.loc[majors, "province_cn"].nunique() == 31
    reg = reference.pilots()
    unverified = set(reg.loc[reg["approval_year"].isna(), "city_adcode"]) & set(majors)
    assert unverified == set(MAJOR_UNVERIFIED)
    years = reference.treatment_years()
    coded = [m for m in majors if m in years.index]
    assert len(coded) == 23  # every major city is a pilot: no never-treated control
    assert sorted(years[coded].value_counts().to_dict().items()) == [
        (2008, 1),
        (2010, 21),
        (2018, 1),
    ]


# --------------------------------------------------------------------------- boundaries


def test_boundaries(cities: pd.DataFrame) -> None:
    shapes = reference.boundaries()
    assert list(shapes.columns) == ["adcode", "geometry"]
    assert len(shapes) == 369 and shapes["adcode"].is_unique
    live = set(cities.index[cities["valid_to"].isna()])
    assert set(shapes["adcode"]) == live
    assert shapes["geometry"].str.match(r"^(MULTI)?POLYGON \(").all()
    assert (DATA / "boundaries.csv.gz").stat().st_size < 1_500_000
    with gzip.open(DATA / "boundaries.csv.gz", "rb") as fh:
        assert fh.readline() == b"adcode,geometry\n"


# --------------------------------------------------------------------------- rebuild


def _shared_dir() -> Path | None:
    for cand in (REPO.parent / "shared" / "reference", Path("/work/shared/reference")):
        if (cand / "census_city_2010-2020_v1.csv").exists():
            return cand
    return None


def test_build_is_reproducible() -> None:
    shared = _shared_dir()
    if shared is None:
        pytest.skip("source files (<repo>/../shared/reference) are not available")
    pytest.importorskip("shapely", reason="the build needs shapely (build-time tool)")
    spec = importlib.util.spec_from_file_location(
        "build_reference", REPO / "scripts" / "build_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.serialise(module.build(shared))
    assert sorted(files) == ["boundaries.csv.gz", "cities.csv", "pilots.csv"]
    for name, data in files.items():
        assert data == (DATA / name).read_bytes(), f"{name} differs from a fresh build"
