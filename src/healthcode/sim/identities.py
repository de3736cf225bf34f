"""What the demo identity provider holds for matching EU DCCs: each resident's name in Latin
script, as a Chinese passport writes it (Hanyu Pinyin, given-name syllables joined), and a
date of birth derived from the identity id (no random draws, so the simulation is unchanged)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from healthcode.domain.dcc import HolderIdentity


def _table(characters: str, syllables: str) -> dict[str, str]:
    return dict(zip(characters, syllables.split(), strict=True))


PINYIN = _table(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤",
    "WANG LI ZHANG LIU CHEN YANG HUANG ZHAO WU ZHOU XU SUN MA ZHU HU GUO HE GAO LIN LUO ZHENG "
    "LIANG XIE SONG TANG XU HAN FENG DENG CAO PENG ZENG XIAO TIAN DONG YUAN PAN YU JIANG CAI YU "
    "DU YE CHENG SU WEI LYU DING REN SHEN YAO LU JIANG CUI ZHONG TAN LU WANG FAN JIN SHI LIAO "
    "JIA XIA WEI FU FANG BAI ZOU MENG XIONG QIN QIU JIANG YIN XUE YAN DUAN LEI HOU LONG SHI TAO "
    "LI HE GU MAO HAO GONG SHAO WAN QIAN YAN QIN WU DAI MO KONG XIANG TANG",
) | _table(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁欣怡佳琪"
    "雪婷晨阳思雨子涵梓萱一诺然",
    "WEI FANG NA XIU YING MIN JING LI QIANG LEI JUN YANG YONG YAN JIE JUAN TAO MING CHAO LAN "
    "XIA PING GANG GUI HUA YU PING HONG MEI XIN BO BIN YU HAO KAI JIAN JUN FAN SHUAI XU NING "
    "XIN YI JIA QI XUE TING CHEN YANG SI YU ZI HAN ZI XUAN YI NUO RAN",
)
_BORN_FROM = date(1940, 1, 1)
_BORN_SPAN_DAYS = 75 * 365


def demo_identity(identity_id: str, display_name: str) -> HolderIdentity:
    """A demo resident's passport name (surname, given name) and date of birth."""
    syllables = [PINYIN.get(char) for char in display_name]
    known = all(syllables) and len(syllables) > 1
    digest = hashlib.sha256(b"demo-birth:" + identity_id.encode()).digest()
    born = _BORN_FROM + timedelta(days=int.from_bytes(digest[:4], "big") % _BORN_SPAN_DAYS)
    return HolderIdentity(
        family_name=syllables[0] if known else None,
        given_name="".join(s for s in syllables[1:] if s) if known else None,
        birth_date=born,
    )
