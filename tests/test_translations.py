"""Every string a page shows exists in Simplified Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from healthcode.web.i18n import LANGUAGES, catalogue

VERBATIM = re.compile(r"(%\([a-z_]+\)[sd])+")
ROOT = Path(__file__).resolve().parent.parent
METHODS = [("src/healthcode/**.py", "python"), ("src/healthcode/web/templates/**.html", "jinja2")]


def used_messages() -> set[str]:
    found = extract_from_dir(str(ROOT), method_map=METHODS, keywords={"_": None, "Detail": None})
    return {str(message) for _file, _line, message, _comments, _context in found}


def test_every_page_string_is_translated_in_both_languages() -> None:
    used = used_messages()
    assert len(used) > 40
    for lang in LANGUAGES:
        missing = sorted(used - set(catalogue(lang)))
        assert missing == [], f"{lang}: {missing}"


def test_catalogues_hold_no_string_a_page_no_longer_shows() -> None:
    # A string left behind after its page changed is a translation nobody reviews again;
    # `make messages` drops them, and this keeps a hand edit from bringing one back.
    used = used_messages()
    for lang in LANGUAGES:
        unused = sorted(set(catalogue(lang)) - used)
        assert unused == [], f"{lang}: {unused}"


def test_chinese_strings_are_chinese() -> None:
    zh = catalogue("zh")
    # A detail that is only its parameters (a record's reference) reads the same in both.
    untranslated = [
        m for m, s in zh.items()
        if s == m and m not in {"English", "中文"} and m.isascii() and not VERBATIM.fullmatch(m)
    ]  # fmt: skip
    assert untranslated == []


def test_a_receipt_is_called_one_thing_in_chinese() -> None:
    # A person told to keep a 回执 must recognise it when the log's page offers one.
    zh = catalogue("zh")
    named = {m: s for m, s in zh.items() if "receipt" in m.lower()}
    assert len(named) >= 3
    assert [m for m, s in named.items() if "回执" not in s] == []
