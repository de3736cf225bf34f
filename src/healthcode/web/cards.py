"""The printable identity card: a PNG with the signed identity QR code (for people without a
phone, often elderly). It shows what a venue may learn anyway, the masked name, and the card's
validity, in the language the card was asked for.

Its words are drawn with Debian's fonts-wqy-microhei (`make install` installs it). Without a
font with Chinese glyphs a card whose text needs one is refused (`card.font_missing`), never
printed without the name: a card a venue cannot match to its holder is worse than none.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from healthcode.credentials.passes import qr_png
from healthcode.errors import HostFault

# Fonts with Chinese glyphs, the one the Makefile installs first.
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
_WIDTH = 640
_MARGIN = 24


def cjk_font_path(candidates: tuple[str, ...] = CJK_FONTS) -> str | None:
    """The first installed font with Chinese glyphs, if any."""
    return next((path for path in candidates if Path(path).exists()), None)


@cache
def _font(path: str | None, size: int) -> Any:
    from PIL import ImageFont

    if path is None:
        return ImageFont.load_default(size=size)  # Latin only
    return ImageFont.truetype(path, size)


def card_lines(
    _: Callable[[str], str], *, masked_name: str, valid_until: datetime, timezone: str
) -> tuple[str, list[str], str]:
    """The card's title, its lines (the masked name first) and its footer, in one language."""
    until = valid_until.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")
    lines = [
        _("Name: %(name)s") % {"name": masked_name},
        _("Card valid until %(date)s") % {"date": until},
    ]
    footer = _("Show it at a venue: the venue exchanges it online for your current colour.")
    return _("Health code identity card"), lines, footer


def _wrapped(draw: Any, text: str, font: Any, width: int) -> list[str]:
    """``text`` in lines no wider than ``width``: broken between words, or between characters
    where there are no spaces (Chinese)."""
    lines: list[str] = []
    current = ""
    for piece in text.split(" ") if " " in text else list(text):
        joined = f"{current} {piece}" if current and " " in text else current + piece
        if current and draw.textlength(joined, font=font) > width:
            lines.append(current)
            current = piece
        else:
            current = joined
    return [*lines, current] if current else lines


def card_png(
    text: str,
    *,
    masked_name: str,
    valid_until: datetime,
    timezone: str,
    gettext: Callable[[str], str],
    fonts: tuple[str, ...] = CJK_FONTS,
) -> bytes:
    from PIL import Image, ImageDraw

    title, lines, footer = card_lines(
        gettext, masked_name=masked_name, valid_until=valid_until, timezone=timezone
    )
    path = cjk_font_path(fonts)
    if path is None and not all(part.isascii() for part in (title, *lines, footer)):
        raise HostFault("card.font_missing", "apt-get install fonts-wqy-microhei")
    big, small = _font(path, 28), _font(path, 22)
    with Image.open(io.BytesIO(qr_png(text, scale=5, border=2, error="m"))) as raw:
        qr = raw.convert("RGB")
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    footer_lines = _wrapped(measure, footer, small, _WIDTH - 2 * _MARGIN)
    height = 80 + qr.height + 36 * (len(lines) + len(footer_lines)) + 24
    card = Image.new("RGB", (_WIDTH, height), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle((4, 4, _WIDTH - 5, height - 5), outline="black", width=3)
    draw.text((_MARGIN, 20), title, fill="black", font=big)
    card.paste(qr, ((_WIDTH - qr.width) // 2, 70))
    y = 80 + qr.height
    for index, line in enumerate([*lines, *footer_lines]):
        # The name large: staff compare it with the holder, often at arm's length.
        draw.text((_MARGIN, y), line, fill="black", font=big if index == 0 else small)
        y += 36
    out = io.BytesIO()
    card.save(out, format="PNG")
    return out.getvalue()
