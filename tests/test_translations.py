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


def test_chinese_names_an_order_and_a_co_signature_one_way() -> None:
    # A person reads 命令 on their page and in every refusal (errors.yaml); a refusal's
    # reason in 指令 or 会签 reads as some other act than the one just refused.
    zh = catalogue("zh")
    orders = {m: s for m, s in zh.items() if re.search(r"\border", m, re.IGNORECASE)}
    assert len(orders) > 20
    assert {m: s for m, s in orders.items() if "指令" in s or "命令" not in s} == {}
    signed = {m: s for m, s in zh.items() if re.search(r"\bco-sign", m, re.IGNORECASE)}
    assert len(signed) > 5
    assert {m: s for m, s in signed.items() if "会签" in s} == {}
    # ... and says 联签 (a notice said 已复核, "reviewed", for an order a supervisor co-signed).
    assert {m: s for m, s in signed.items() if "联签" not in s} == {}


def test_chinese_names_a_designation_and_a_supervisor_one_way() -> None:
    # The public log lists 风险区划定已提前结束 beside the co-signature's entry, which said
    # 风险区域认定; a supervisor is 主管 everywhere (the rules page said 督导员).
    zh = catalogue("zh")
    designations = {m: s for m, s in zh.items() if re.search(r"designat", m, re.IGNORECASE)}
    assert len(designations) > 10
    assert {m: s for m, s in designations.items() if "划定" not in s or "认定" in s} == {}
    supervisors = {m: s for m, s in zh.items() if re.search(r"supervisor", m, re.IGNORECASE)}
    assert len(supervisors) > 5
    assert {m: s for m, s in supervisors.items() if "主管" not in s} == {}


def test_a_detail_names_a_ground_as_the_appeal_form_does() -> None:
    zh = catalogue("zh")
    for code, label in (("order_expired", "The order has expired"), ("other", "Other")):
        quoting = {m: s for m, s in zh.items() if f"`{code}`" in m}
        assert quoting, code
        assert {m: s for m, s in quoting.items() if f"“{zh[label]}”" not in s} == {}
