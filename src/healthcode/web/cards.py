"""The printable identity card: a PNG with the signed identity QR code (for people without a
phone). It shows what a venue may learn anyway, the masked name, and the card's validity."""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from healthcode.credentials.passes import qr_png

# Fonts with Chinese glyphs, if the host has one; otherwise Latin text only.
_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_WIDTH = 640


@cache
def _font(size: int) -> tuple[Any, bool]:
    """A font of `size` and whether it has Chinese glyphs."""
    from PIL import ImageFont

    for path in _CJK_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size), True
    return ImageFont.load_default(size=size), False


def card_png(text: str, *, masked_name: str, valid_until: datetime, timezone: str) -> bytes:
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(qr_png(text, scale=5, border=2, error="m"))) as raw:
        qr = raw.convert("RGB")
    height = qr.height + 200
    card = Image.new("RGB", (_WIDTH, height), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle((4, 4, _WIDTH - 5, height - 5), outline="black", width=3)
    title, cjk = _font(28)
    small, _ = _font(20)
    draw.text((24, 20), "健康码身份卡 · identity card" if cjk else "healthcode identity card",
              fill="black", font=title)  # fmt: skip
    card.paste(qr, ((_WIDTH - qr.width) // 2, 70))
    until = valid_until.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")
    lines = [masked_name if cjk or masked_name.isascii() else "", f"valid until {until}"]
    y = 80 + qr.height
    for line in lines:
        if line:
            draw.text((24, y), line, fill="black", font=small)
            y += 34
    draw.text((24, y), "Show at a venue: it is exchanged online for your current colour.",
              fill="black", font=small)  # fmt: skip
    out = io.BytesIO()
    card.save(out, format="PNG")
    return out.getvalue()
