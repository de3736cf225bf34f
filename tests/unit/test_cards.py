"""The printed identity card: in the language asked for, always with the masked name, and
refused rather than printed without it when the host has no Chinese font."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from healthcode.errors import HostFault
from healthcode.services.qr import read_qr_texts
from healthcode.web.cards import CJK_FONTS, card_lines, card_png, cjk_font_path
from healthcode.web.i18n import gettext_for

UNTIL = datetime(2026, 3, 1, 20, tzinfo=UTC)  # 2 March in Shanghai
TEXT = "HCI1:TEST-CARD"


def card(name: str, lang: str, fonts: tuple[str, ...] = CJK_FONTS) -> bytes:
    return card_png(TEXT, masked_name=name, valid_until=UNTIL, timezone="Asia/Shanghai",
                    gettext=gettext_for(lang), fonts=fonts)  # fmt: skip


def test_the_card_speaks_the_language_asked_for() -> None:
    zh = card_lines(gettext_for("zh"), masked_name="王*明", valid_until=UNTIL,
                    timezone="Asia/Shanghai")  # fmt: skip
    en = card_lines(gettext_for("en"), masked_name="王*明", valid_until=UNTIL,
                    timezone="Asia/Shanghai")  # fmt: skip
    assert zh[0] == "健康码身份卡" and en[0] == "Health code identity card"
    assert zh[1] == ["姓名：王*明", "有效期至 2026-03-02"]
    assert en[1] == ["Name: 王*明", "Card valid until 2026-03-02"]


def test_the_masked_name_is_drawn_in_both_languages() -> None:
    if cjk_font_path() is None:
        # `make install` installs it as root, as CI runs; there it must be, not skipped.
        if os.environ.get("CI") == "true":
            pytest.fail("no Chinese font: make install installs fonts-wqy-microhei as root")
        pytest.skip("no Chinese font: run 'apt-get install fonts-wqy-microhei' as root")
    for lang in ("zh", "en"):
        first, second = card("王*明", lang), card("李*华", lang)
        assert first != second, lang  # the name is on the card, not dropped
        assert read_qr_texts(first) == [TEXT]
    assert card("王*明", "zh") != card("王*明", "en")


def test_without_a_chinese_font_the_card_is_refused_not_printed_nameless() -> None:
    with pytest.raises(HostFault) as refused:
        card("王*明", "en", fonts=())
    assert refused.value.code == "card.font_missing" and refused.value.spec.http_status == 503
    with pytest.raises(HostFault):
        card("W*g", "zh", fonts=())
    # Latin words and a Latin name need no Chinese glyphs.
    assert read_qr_texts(card("W*g Xiaoming", "en", fonts=())) == [TEXT]
