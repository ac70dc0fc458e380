"""Synthetic screening lists in the FollowTheMoney format (demo data and benchmarks).

Every name is made up from common parts (regions, trade words, industries, surnames, given
names, Latin transliterations) by a seeded generator; none names a real listed party. The
shipped demo list (``data/demo_sanctions.ftm.json``, 300 entities) is ``demo_entities(300)``
written by ``write_demo_list``; ``benchmarks/kyc.py`` builds 100,000 the same way.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

REGIONS = ["华东", "华南", "北方", "西部", "东方", "中部", "滨海", "长江", "珠江", "江南", "海川", "云岭", "天河", "金港", "瀚海"]
WORDS = ["恒信", "鼎盛", "嘉禾", "瑞丰", "汇通", "泰和", "宏远", "博达", "润泽", "铭川", "德隆", "华锐", "盛世", "中联", "信达",
         "融创", "启明", "永安", "天成", "弘毅", "锦程", "远航", "合众", "赛富", "九鼎"]
INDUSTRY = ["投资", "贸易", "实业", "科技", "资产管理", "能源", "矿业", "航运", "控股", "商贸", "咨询", "置业"]
SUFFIX = ["有限公司", "股份有限公司", "集团有限公司", "有限责任公司"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "建华", "志强",
         "海燕", "国平", "文博", "子涵", "晓东", "立新", "卫东"]
PINYIN = {"王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang", "黄": "Huang", "赵": "Zhao",
          "吴": "Wu", "周": "Zhou", "徐": "Xu", "孙": "Sun", "马": "Ma", "朱": "Zhu", "胡": "Hu", "郭": "Guo", "何": "He",
          "林": "Lin", "罗": "Luo", "高": "Gao", "伟": "Wei", "芳": "Fang", "娜": "Na", "敏": "Min", "静": "Jing",
          "强": "Qiang", "磊": "Lei", "军": "Jun", "洋": "Yang", "勇": "Yong", "艳": "Yan", "杰": "Jie", "涛": "Tao",
          "明": "Ming", "超": "Chao", "秀英": "Xiuying", "建华": "Jianhua", "志强": "Zhiqiang", "海燕": "Haiyan",
          "国平": "Guoping", "文博": "Wenbo", "子涵": "Zihan", "晓东": "Xiaodong", "立新": "Lixin", "卫东": "Weidong"}
LATIN_FIRST = ["Viktor", "Elena", "Omar", "Sergei", "Amir", "Dmitri", "Fatima", "Igor", "Nadia", "Rashid", "Yusuf",
               "Anton", "Leila", "Boris", "Karim", "Marta", "Hassan", "Olga", "Tariq", "Ivan"]
LATIN_LAST = ["Petrov", "Kuznetsov", "Haddad", "Volkov", "Rahimi", "Sokolov", "Nasser", "Morozov", "Karimov", "Lebedev",
              "Farouk", "Orlov", "Aziz", "Popescu", "Demir", "Novak", "Salem", "Ivanova", "Baranov", "Mansour"]
LATIN_ORG = ["Global", "Eastern", "Pacific", "Northern", "Golden", "Silk Road", "Crescent", "Atlas", "Orient", "Meridian",
             "Harbor", "Summit", "Polar", "Delta", "Caspian"]
LATIN_KIND = ["Trading", "Shipping", "Holdings", "Resources", "Capital", "Logistics", "Energy", "Metals", "Investments"]
LATIN_SUFFIX = ["Ltd", "LLC", "Limited", "FZE", "Co., Ltd.", "S.A.", "Inc."]
TOPICS = [["sanction"], ["sanction"], ["crime"], ["role.pep"], ["debarment"], ["crime.fin"], ["poi"]]
COUNTRIES = ["cn", "hk", "ru", "ir", "kp", "sy", "ae", "vg", "ky", "sg"]


def _entity(rng: random.Random, i: int) -> dict:
    kind = rng.random()
    topics = rng.choice(TOPICS)
    if kind < 0.35:                                   # Chinese company
        name = rng.choice(REGIONS) + rng.choice(WORDS) + rng.choice(INDUSTRY) + rng.choice(SUFFIX)
        props = {"name": [name], "country": [rng.choice(["cn", "hk"])]}
        if rng.random() < 0.3:
            props["alias"] = [name.replace("有限公司", "").replace("股份", "")]
        schema = "Company"
    elif kind < 0.65:                                 # Chinese person, with the pinyin as alias
        s, g = rng.choice(SURNAMES), rng.choice(GIVEN)
        props = {"name": [s + g], "alias": [f"{PINYIN[s]} {PINYIN[g]}", f"{PINYIN[g]} {PINYIN[s]}".upper()],
                 "country": [rng.choice(["cn", "hk"])]}
        schema = "Person"
    elif kind < 0.85:                                 # foreign person
        props = {"name": [f"{rng.choice(LATIN_FIRST)} {rng.choice(LATIN_LAST)}"],
                 "country": [rng.choice(COUNTRIES[2:])]}
        schema = "Person"
    else:                                             # foreign company or organisation
        props = {"name": [f"{rng.choice(LATIN_ORG)} {rng.choice(LATIN_KIND)} {rng.choice(LATIN_SUFFIX)}"],
                 "country": [rng.choice(COUNTRIES[2:])]}
        schema = rng.choice(["Company", "Company", "Organization"])
    props["topics"] = topics
    return {"id": f"otclab-demo-{i:06d}", "schema": schema, "caption": props["name"][0], "properties": props,
            "datasets": ["otclab_demo"]}


def demo_entities(n: int, seed: int = 15) -> list[dict]:
    """``n`` synthetic FollowTheMoney entities (Person / Company / Organization), reproducible."""
    rng = random.Random(seed)
    return [_entity(rng, i) for i in range(n)]


def write_list(path, entities) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entities), encoding="utf-8")
    return p


def write_demo_list(path=None) -> Path:
    from .screening import DEMO_LIST

    return write_list(path or DEMO_LIST, demo_entities(300))
