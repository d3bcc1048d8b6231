"""City-name harmonisation: Chinese, historical and English names to 6-digit adcodes.

Keys come from :func:`agglomera.reference.cities`: the official name (``name_cn``), its
short and historical forms (``aliases``: 杭州, 延边, 延边州, 襄樊, ...), the curated English
name and its variants (``name_en``, ``aliases_en``), and the adcode itself.
"""

from __future__ import annotations

import difflib
import numbers
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples

__all__ = ["harmonise_cities"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_ADCODE = re.compile(r"^\d{6}$")
_MUNICIPALITY_PROVINCE = {
    "110000": "110100",
    "120000": "120100",
    "310000": "310100",
    "500000": "500100",
}
_PROVINCE_EXTRA = {
    "xizang": "西藏自治区",
    "neimenggu": "内蒙古自治区",
    "neimongol": "内蒙古自治区",
    "macau": "澳门特别行政区",
    "hongkong": "香港特别行政区",
    "xianggang": "香港特别行政区",
    "aomen": "澳门特别行政区",
}


def _key_en(text: str) -> str:
    """Normalise an English name: lower case, no accents, spaces, hyphens or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s\-'’‘`.·]", "", plain.lower())


def _key_cn(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def _short_province(name: str) -> str:
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass
class _Index:
    cn: dict[str, set[str]] = field(default_factory=dict)
    en: dict[str, set[str]] = field(default_factory=dict)
    province_of: dict[str, str] = field(default_factory=dict)
    province_en: dict[str, str] = field(default_factory=dict)
    label: dict[str, str] = field(default_factory=dict)
    successor: dict[str, str] = field(default_factory=dict)
    provinces: dict[str, str] = field(default_factory=dict)  # key -> province_cn
    display_cn: dict[str, str] = field(default_factory=dict)  # key -> shown name
    display_en: dict[str, str] = field(default_factory=dict)


@cache
def _index() -> _Index:
    from agglomera.reference import cities

    table = cities()
    idx = _Index()

    def add(
        book: dict[str, set[str]], shown: dict[str, str], key: str, raw: str, code: str
    ) -> None:
        if key:
            book.setdefault(key, set()).add(code)
            shown.setdefault(key, raw)

    for row in table.itertuples(index=False):
        code = str(row.adcode)
        idx.province_of[code] = str(row.province_cn)
        idx.province_en[code] = str(row.province_en)
        idx.label[code] = f"{row.name_cn} {code} ({row.province_cn})"
        if isinstance(row.successor_adcode, str) and row.successor_adcode:
            idx.successor[code] = row.successor_adcode
        names_cn = [str(row.name_cn)]
        if isinstance(row.aliases, str) and row.aliases:
            names_cn += row.aliases.split("|")
        for name in names_cn:
            add(idx.cn, idx.display_cn, _key_cn(name), name, code)
        names_en = [str(row.name_en)]
        if isinstance(row.aliases_en, str) and row.aliases_en:
            names_en += row.aliases_en.split("|")
        for name in names_en:
            add(idx.en, idx.display_en, _key_en(name), name, code)
        prov = str(row.province_cn)
        for key in (
            _key_cn(prov),
            _key_cn(_short_province(prov)),
            _key_en(str(row.province_en)),
            _key_en(str(row.province_iso)),
            _key_en(str(row.province_iso).removeprefix("CN-")),
        ):
            idx.provinces.setdefault(key, prov)
    for key, prov in _PROVINCE_EXTRA.items():
        idx.provinces.setdefault(key, prov)
    idx.provinces["innermongolia"] = "内蒙古自治区"
    return idx


def _collapse(codes: set[str], idx: _Index) -> set[str]:
    """Collapse a retired code and its own successor to the successor (same unit)."""
    if len(codes) < 2:
        return codes
    for cand in sorted(codes):
        if all(_reaches(other, cand, idx) for other in codes if other != cand):
            return {cand}
    return codes


def _reaches(code: str, target: str, idx: _Index) -> bool:
    seen = 0
    while code in idx.successor and seen < 10:
        code = idx.successor[code]
        if code == target:
            return True
        seen += 1
    return False


def _lookup(raw: Any, idx: _Index) -> tuple[set[str], bool]:
    """Return (candidate adcodes, is_chinese) for one input value."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # adcodes read from a numeric column with missing values
    if isinstance(raw, numbers.Integral) and not isinstance(raw, bool):
        raw = f"{int(raw):06d}"
    text = str(raw).strip()
    if _ADCODE.match(text):
        code = _MUNICIPALITY_PROVINCE.get(text, text)
        return ({code} if code in idx.province_of else set()), False
    if _CJK.search(text):
        return set(idx.cn.get(_key_cn(text), set())), True
    key = _key_en(text)
    found = idx.en.get(key)
    if found is None and key.endswith("city"):
        found = idx.en.get(key[: -len("city")])
    return set(found or set()), False


def _suggest(raw: Any, idx: _Index, chinese: bool) -> list[str]:
    if chinese:
        key, book, shown, cutoff = _key_cn(str(raw)), idx.cn, idx.display_cn, 0.5
    else:
        key, book, shown, cutoff = _key_en(str(raw)), idx.en, idx.display_en, 0.75
    out: list[str] = []
    for match in difflib.get_close_matches(key, list(book), n=3, cutoff=cutoff):
        codes = sorted(_collapse(book[match], idx))
        out.append(f"{shown[match]} = {' / '.join(idx.label[c] for c in codes)}")
    return out


def _province_list(province: Any, n: int, idx: _Index) -> list[str | None]:
    """Resolve ``province`` (scalar or aligned sequence) to full Chinese province names."""
    if province is None:
        return [None] * n
    if isinstance(province, str):
        values: list[Any] = [province] * n
    elif isinstance(province, pd.Series | pd.Index) or (
        isinstance(province, Iterable) and not isinstance(province, bytes | dict)
    ):
        values = list(province)
        if len(values) != n:
            raise SpecError(
                f"province has {len(values)} values but names has {n}; pass one province "
                "name, or a sequence aligned with names (positionally)."
            )
    else:
        raise SpecError(
            f"province must be None, a province name or a sequence of names; got "
            f"{type(province).__name__}."
        )
    out: list[str | None] = []
    unknown: list[Any] = []
    for value in values:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out.append(None)
            continue
        text = str(value).strip()
        key = _key_cn(text) if _CJK.search(text) else _key_en(text)
        prov = idx.provinces.get(key)
        if prov is None:
            unknown.append(value)
        out.append(prov)
    if unknown:
        allowed = sorted({p for p in idx.provinces.values()})
        raise DataError(
            f"province has {len(set(unknown))} unknown value(s): "
            f"{format_examples(sorted(set(map(str, unknown))))}. Fix: use a Chinese province "
            f"name (e.g. {allowed[0]} or its short form), an English name (e.g. Zhejiang) or an "
            "ISO 3166-2 code (e.g. CN-ZJ)."
        )
    return out


def harmonise_cities(names: Any, *, province: Any = None) -> pd.Series:
    """Map city names (Chinese, historical, English) or adcodes to 6-digit adcodes.

    Parameters
    ----------
    names : str or sequence of str/int
        City names as found in yearbooks and papers. Accepted forms: the official
        Chinese name (杭州市, 延边朝鲜族自治州, 大兴安岭地区) or a short form without
        市/地区/盟/自治州 (杭州, 延边, 延边州, 大兴安岭); historical names (襄樊 -> 420600,
        思茅 -> 530800, 淮阴 -> 320800); English names, case-, space-, hyphen- and
        apostrophe-insensitive ("Hangzhou", "Xi'an", "xian", "Hohhot", "Urumqi",
        "Yanbian"); adcodes as str or int (``330100``; the province-level codes of the four
        municipalities, e.g. ``110000``, map to the city level ``110100``).
    province : str or sequence, optional
        Province (Chinese full or short name, English name or ISO 3166-2 code) used to
        disambiguate homonyms -- English "Taizhou" (台州 浙江 / 泰州 江苏), "Suzhou" (苏州 /
        宿州), "Fuzhou" (福州 / 抚州), "Yichun", "Yulin" -- and checked against every
        matched name. A scalar applies to all names; a sequence is aligned with
        ``names`` by position (missing values impose no constraint).

    Returns
    -------
    pandas.Series
        Adcode strings (name ``"adcode"``), indexed by the input names in input order.

    Raises
    ------
    DataError
        Once, listing every problem: unknown names (each with close suggestions from the
        Chinese and English names), ambiguous names with their candidates, names whose
        match lies in another province than the one given, and missing values.
    SpecError
        If ``province`` has the wrong length or type.

    Notes
    -----
    Retired units resolve to their own code: 巢湖 -> 341400 (abolished 2011), 莱芜 ->
    371200 (merged into 济南 2019), 毕节地区 -> 522400. A short name shared by a retired
    code and its own successor (a code change of the same territory, e.g. 毕节 for
    毕节地区 522400 and 毕节市 520500) resolves to the current code; use the full old
    name to get the old code. Nothing is guessed: a name matches only through the
    shipped names and aliases.

    Examples
    --------
    >>> harmonise_cities(["杭州", "Xi'an", "襄樊"]).tolist()
    ['330100', '610100', '420600']
    >>> harmonise_cities(["Taizhou", "Taizhou"], province=["浙江", "Jiangsu"]).tolist()
    ['331000', '321200']
    """
    if isinstance(names, str | int) and not isinstance(names, bool):
        items: list[Any] = [names]
    elif isinstance(names, pd.DataFrame):
        raise SpecError("names must be a sequence of names (e.g. a column), not a DataFrame.")
    elif isinstance(names, Iterable):
        items = list(names)
    else:
        raise SpecError(f"names must be a name or a sequence of names; got {type(names).__name__}.")
    idx = _index()
    provinces = _province_list(province, len(items), idx)

    result: list[str] = []
    missing: list[int] = []
    unknown: dict[str, list[str]] = {}
    ambiguous: dict[str, list[str]] = {}
    mismatched: dict[str, str] = {}
    for pos, (raw, prov) in enumerate(zip(items, provinces, strict=True)):
        if raw is None or (not isinstance(raw, str) and pd.isna(raw)) or str(raw).strip() == "":
            missing.append(pos)
            result.append("")
            continue
        codes, chinese = _lookup(raw, idx)
        if not codes:
            unknown.setdefault(str(raw), _suggest(raw, idx, chinese))
            result.append("")
            continue
        if prov is not None:
            in_prov = {c for c in codes if idx.province_of[c] == prov}
            if not in_prov:
                found = ", ".join(idx.label[c] for c in sorted(codes))
                mismatched.setdefault(f"{raw}|{prov}", f"{raw!r} in {prov}: found {found}")
                result.append("")
                continue
            codes = in_prov
        codes = _collapse(codes, idx)
        if len(codes) > 1:
            ambiguous.setdefault(str(raw), [idx.label[c] for c in sorted(codes)])
            result.append("")
            continue
        result.append(next(iter(codes)))

    problems: list[str] = []
    if unknown:
        parts = []
        for name, sugg in unknown.items():
            hint = f"did you mean {'; '.join(sugg)}?" if sugg else "no close match"
            parts.append(f"{name!r} ({hint})")
        problems.append(f"{len(unknown)} unknown city name(s): " + ", ".join(parts))
    if ambiguous:
        parts = [f"{n!r} -> {' / '.join(c)}" for n, c in ambiguous.items()]
        problems.append(
            f"{len(ambiguous)} ambiguous name(s): " + ", ".join(parts) + " -- pass province= "
            "(a name, or a sequence aligned with names) to choose"
        )
    if mismatched:
        problems.append(
            f"{len(mismatched)} name(s) not in the given province: "
            + ", ".join(mismatched.values())
        )
    if missing:
        problems.append(f"{len(missing)} missing name(s) at position(s) {format_examples(missing)}")
    if problems:
        raise DataError(
            "harmonise_cities could not map every name to an adcode. "
            + ". ".join(problems)
            + ". Fix: use the official Chinese name (e.g. 杭州市), a short or historical name, "
            "an English name (e.g. Hangzhou) or the 6-digit adcode; see "
            "agglomera.reference.cities() for the accepted names."
        )
    index = pd.Index(items, name="name")
    return pd.Series(result, index=index, name="adcode", dtype="str")
