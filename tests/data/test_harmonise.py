"""Tests of agglomera.data.harmonise_cities (names, aliases, ambiguity, messages)."""

from __future__ import annotations

import pandas as pd
import pytest

from agglomera import reference
from agglomera.data import harmonise_cities
from agglomera.errors import DataError, SpecError


def codes(names: object, **kw: object) -> list[str]:
    return harmonise_cities(names, **kw).tolist()


def test_chinese_forms() -> None:
    names = [
        "杭州",
        "杭州市",
        "延边",
        "延边州",
        "延边朝鲜族自治州",
        "大兴安岭",
        "大兴安岭地区",
        "锡林郭勒",
    ]
    assert codes(names) == ["330100"] * 2 + ["222400"] * 3 + ["232700"] * 2 + ["152500"]
    assert codes(["北京", "北京市", " 重庆市 ", "香港", "恩施州", "伊犁"]) == [
        "110100",
        "110100",
        "500100",
        "810000",
        "422800",
        "654000",
    ]


def test_historical_and_retired_names() -> None:
    assert codes(["襄樊", "襄樊市", "思茅", "淮阴", "襄阳"]) == [
        "420600",
        "420600",
        "530800",
        "320800",
        "420600",
    ]
    # retired units resolve to their own code; a code change of the same territory
    # resolves the short name to the current code, the full old name to the old code
    assert codes(["巢湖", "巢湖市", "莱芜", "毕节", "毕节地区", "毕节市", "儋州"]) == [
        "341400",
        "341400",
        "371200",
        "520500",
        "522400",
        "520500",
        "460400",
    ]


def test_english_forms() -> None:
    names = ["Hangzhou", "hangzhou", "HANGZHOU", "Xi'an", "xian", "Xi-an", "Xi an", "Hohhot",
             "Urumqi", "Ürümqi", "Lhasa", "Harbin", "Hong Kong", "Macau", "Yanbian",
             "Hangzhou City", "Shigatse", "Kashgar"]  # fmt: skip
    assert codes(names) == (
        ["330100"] * 3
        + ["610100"] * 4
        + ["150100", "650100", "650100", "540100", "230100", "810000", "820000", "222400"]
        + ["330100", "540200", "653100"]
    )


def test_numeric_adcodes() -> None:
    import numpy as np

    assert codes(np.array([330100, 440300])) == ["330100", "440300"]
    assert codes([330100.0]) == ["330100"]


def test_adcodes() -> None:
    assert codes(["330100", 330100, "110000", 500000, "341400"]) == [
        "330100",
        "330100",
        "110100",
        "500100",
        "341400",
    ]


def test_result_shape() -> None:
    out = harmonise_cities(pd.Series(["杭州", "Hangzhou", "杭州"], index=[10, 11, 12]))
    assert out.name == "adcode"
    assert out.index.tolist() == ["杭州", "Hangzhou", "杭州"]
    assert out.tolist() == ["330100"] * 3
    assert harmonise_cities("深圳").tolist() == ["440300"]
    assert harmonise_cities([]).empty


def test_ambiguous_english_needs_province() -> None:
    with pytest.raises(DataError) as err:
        harmonise_cities(["Taizhou", "Suzhou", "Fuzhou", "Hangzhou"])
    msg = str(err.value)
    assert "3 ambiguous name(s)" in msg
    assert "'Taizhou' -> 泰州市 321200 (江苏省) / 台州市 331000 (浙江省)" in msg
    assert "'Suzhou' -> 苏州市 320500 (江苏省) / 宿州市 341300 (安徽省)" in msg
    assert "'Fuzhou' -> 福州市 350100 (福建省) / 抚州市 361000 (江西省)" in msg
    assert "pass province=" in msg
    assert "Hangzhou" not in msg.split("Fix:")[0]


def test_province_disambiguates() -> None:
    names = ["Taizhou", "Taizhou", "Suzhou", "Suzhou", "Fuzhou", "Fuzhou", "Yichun", "Yulin"]
    provs = ["浙江", "Jiangsu", "江苏省", "CN-AH", "Fujian", "JX", "黑龙江", "广西壮族自治区"]
    assert codes(names, province=provs) == [
        "331000",
        "321200",
        "320500",
        "341300",
        "350100",
        "361000",
        "230700",
        "450900",
    ]
    assert codes(["Taizhou", "泰州"], province="Jiangsu") == ["321200", "321200"]
    assert codes(["Taizhou", "杭州"], province=pd.Series(["Zhejiang", None])) == [
        "331000",
        "330100",
    ]
    assert codes(["Shigatse"], province="Xizang") == ["540200"]


def test_unknown_names_one_error_with_suggestions() -> None:
    with pytest.raises(DataError) as err:
        harmonise_cities(["杭洲", "Hanzhou", "杭州", "Qwerty"])
    msg = str(err.value)
    assert "3 unknown city name(s)" in msg
    assert "'杭洲' (did you mean" in msg and "杭州 = 杭州市 330100 (浙江省)" in msg
    assert "'Hanzhou' (did you mean Hangzhou = 杭州市 330100 (浙江省)" in msg
    assert "'Qwerty' (no close match)" in msg
    assert "Fix:" in msg


def test_province_errors() -> None:
    with pytest.raises(
        DataError, match=r"not in the given province: '杭州' in 江苏省: found 杭州市 330100"
    ):
        harmonise_cities(["杭州"], province="江苏")
    with pytest.raises(DataError, match=r"province has 1 unknown value\(s\): 'Atlantis'"):
        harmonise_cities(["杭州"], province="Atlantis")
    with pytest.raises(SpecError, match="province has 1 values but names has 2"):
        harmonise_cities(["杭州", "宁波"], province=["浙江"])


def test_missing_names() -> None:
    with pytest.raises(DataError, match=r"1 missing name\(s\) at position\(s\) 1"):
        harmonise_cities(["杭州", None, "宁波"])
    with pytest.raises(SpecError, match="not a DataFrame"):
        harmonise_cities(pd.DataFrame({"city": ["杭州"]}))


def test_round_trip_over_the_table() -> None:
    table = reference.cities()
    succ = dict(zip(table["adcode"], table["successor_adcode"], strict=True))
    got = harmonise_cities(table["name_cn"], province=table["province_cn"]).tolist()
    for code, name, out in zip(table["adcode"], table["name_cn"], got, strict=True):
        # 儋州市 and 济源市 are the full names of a retired code and of its successor
        assert out == code or (out == succ[code] and name in ("儋州市", "济源市")), (name, out)
    en = harmonise_cities(table["name_en"], province=table["province_en"]).tolist()
    live = table["valid_to"].isna().to_numpy()
    assert [o for o, keep in zip(en, live, strict=True) if keep] == table.loc[
        live, "adcode"
    ].tolist()
