"""Human-facing strings from gettext catalogues (Babel .po files) in zh-CN and en.

The catalogues are read with Babel at start-up, so no compile step stands between an edit of a
.po file and the page. Chinese is the default language; ``?lang=en`` switches and a cookie
remembers the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "hc_lang"  # the pages' choice, which a card or a download follows too


@cache
def catalogue(lang: str) -> dict[str, str]:
    locale = LANGUAGES[lang]
    path = resources.files("healthcode.locale").joinpath(locale, "LC_MESSAGES", "messages.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def gettext_for(lang: str) -> Callable[[str], str]:
    messages = catalogue(lang)

    def gettext(message: str) -> str:
        return messages.get(message, message)

    return gettext


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    if accept and accept.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def local_time(value: datetime | None, timezone: str) -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def local_instant(value: str, timezone: str) -> datetime:
    """A time typed into a form, the inverse of ``local_time``: a ``datetime-local`` field has
    no zone, and staff read and type times in the pages' zone (``HEALTHCODE_TIMEZONE``), so a
    time without one is in that zone, never UTC. ``ValueError`` if it is no ISO 8601 time."""
    found = datetime.fromisoformat(value)
    return found if found.tzinfo is not None else found.replace(tzinfo=ZoneInfo(timezone))
