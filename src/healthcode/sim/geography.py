"""The demo city's places and institutions: GB/T 2260 areas, authorities, sources, venues.

Everything is generated from a seed, and the sources' signing keys are derived from it too, so
the demo can sign its own evidence batches like a real lab or venue device would.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROVINCES = [("410000", "河南省", "Henan"), ("310000", "上海市", "Shanghai")]
CITIES = [
    ("410100", "郑州市", "Zhengzhou"),
    ("410300", "洛阳市", "Luoyang"),
    ("411700", "驻马店市", "Zhumadian"),
    ("310100", "上海市辖区", "Shanghai urban districts"),
]
DISTRICTS = [
    ("410102", "中原区", "Zhongyuan"),
    ("410103", "二七区", "Erqi"),
    ("410104", "管城回族区", "Guancheng Hui"),
    ("410105", "金水区", "Jinshui"),
    ("410302", "老城区", "Laocheng"),
    ("410303", "西工区", "Xigong"),
    ("410305", "涧西区", "Jianxi"),
    ("411702", "驿城区", "Yicheng"),
    ("411722", "上蔡县", "Shangcai"),
    ("310101", "黄浦区", "Huangpu"),
    ("310112", "闵行区", "Minhang"),
    ("310115", "浦东新区", "Pudong"),
]
VENUE_TYPES = [
    ("站", "Station"), ("超市", "Supermarket"), ("商场", "Mall"), ("写字楼", "Office tower"),
    ("医院", "Hospital"), ("学校", "School"), ("菜市场", "Market"), ("餐厅", "Restaurant"),
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁龙林欣怡佳琪雪婷晨阳思雨子涵梓萱一诺浩然"


@dataclass(frozen=True)
class DemoSource:
    id: str
    authority: str
    name: str
    kinds: tuple[str, ...]
    area: str
    key: Ed25519PrivateKey

    def public_key_b64(self) -> str:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class DemoVenue:
    id: str
    zh: str
    en: str
    area: str
    authority: str


def _key(seed: int, name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"demo:{seed}:{name}".encode()).digest()
    )


def city_of(district: str) -> str:
    return district[:4] + "00"


def authority_of(district: str) -> str:
    return f"health-{city_of(district)}"


def sources(seed: int) -> list[DemoSource]:
    found = []
    for code, _zh, en in CITIES:
        authority = f"health-{code}"
        found += [
            DemoSource(f"lab-{code}", authority, f"{en} PCR lab", ("test_result", "recovery"), code, _key(seed, f"lab-{code}")),
            DemoSource(f"scan-{code}", authority, f"{en} venue scanners", ("venue_visit",), code, _key(seed, f"scan-{code}")),
            DemoSource(f"cdc-{code}", authority, f"{en} CDC tracing", ("close_contact", "quarantine_completed"), code, _key(seed, f"cdc-{code}")),
            DemoSource(f"clinic-{code}", authority, f"{en} vaccination clinics", ("vaccination",), code, _key(seed, f"clinic-{code}")),
        ]  # fmt: skip
    found.append(
        DemoSource("border-cgo", "health-410100", "Zhengzhou airport border control", ("border_entry",), "410100", _key(seed, "border-cgo"))
    )  # fmt: skip
    return found


def venues(rng: random.Random, count: int) -> list[DemoVenue]:
    made = []
    for index in range(count):
        code, zh, en = DISTRICTS[index % len(DISTRICTS)]
        type_zh, type_en = VENUE_TYPES[rng.randrange(len(VENUE_TYPES))]
        number = index // len(DISTRICTS) + 1
        made.append(
            DemoVenue(f"v{index:05d}", f"{zh}{type_zh}{number}号", f"{en} {type_en} {number}", code, authority_of(code))
        )  # fmt: skip
    return made


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def registry_config(seed: int, venue_list: list[DemoVenue]) -> dict[str, Any]:
    return {
        "areas": [{"code": c, "zh": zh, "en": en} for c, zh, en in PROVINCES + CITIES + DISTRICTS],
        "authorities": [
            {"id": f"health-{c}", "zh": f"{zh}卫生健康委员会", "en": f"{en} Health Commission", "jurisdiction": [c]}
            for c, zh, en in CITIES
        ],
        "sources": [
            {"id": s.id, "authority": s.authority, "name": s.name, "public_key": s.public_key_b64(),
             "kinds": list(s.kinds), "area": s.area}
            for s in sources(seed)
        ],
        "venues": [{"id": v.id, "zh": v.zh, "en": v.en, "area": v.area, "authority": v.authority} for v in venue_list],
    }  # fmt: skip


STAFF_NAMES = [
    "张伟",
    "李娜",
    "王芳",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周杰",
    "吴艳",
    "徐涛",
    "孙丽",
]


def staff() -> list[dict[str, Any]]:
    """Per city authority an official, two supervisors (bulk orders and rulebook editions need
    a second signature) and a hotline for its first district; and one oversight auditor."""
    names = iter(STAFF_NAMES)
    members: list[dict[str, Any]] = []
    for city, _zh, _en in CITIES:
        authority = f"health-{city}"
        district = next(code for code, _z, _e in DISTRICTS if city_of(code) == city)
        members += [
            {"id": f"{city}-official", "role": "official", "authority": authority, "name": next(names)},
            {"id": f"{city}-supervisor-1", "role": "supervisor", "authority": authority, "name": next(names)},
            {"id": f"{city}-supervisor-2", "role": "supervisor", "authority": authority, "name": f"{city} 复核员"},
            {"id": f"{city}-hotline", "role": "hotline", "authority": authority, "area": district, "name": f"{city} 热线"},
        ]  # fmt: skip
    members.append({"id": "oversight-auditor", "role": "auditor", "name": "独立监督员"})
    return members
