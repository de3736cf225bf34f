"""The person page tells a resident, in zh and in en, of a token issued for them (valid until
when) and of a guardian recorded or no longer, by the guardian's name: no person key shows."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.e2e.test_person_page import login
from tests.e2e.test_person_page_details import section
from tests.services.test_order_refusals import entries_after, log_size
from tests.town import ERQI, Town


def test_tokens_and_guardians_are_told_on_the_page_by_name_in_both_languages(
    town: Town, client: TestClient
) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    services, now = town.services, town.clock.now()
    size = log_size(town)
    services.guardianships.record(parent, child, now=now)
    services.person_tokens.issue(child, ["bearer"], now=now, ttl=timedelta(hours=2))
    services.guardianships.end(parent, child, now=now)
    added, token, ended = (index for index, _, _ in entries_after(town, size))
    login(client, services, child)
    zh = section(client.get("/me?lang=zh").text, "通知")
    assert "段父 现已登记为你的监护人。" in zh and "段父 已不再登记为你的监护人。" in zh
    assert "已为你签发一个应用令牌，有效期至 " in zh
    en = section(client.get("/me?lang=en").text, "Notices")
    assert "段父 is now recorded as your guardian" in en
    assert "段父 is no longer recorded as your guardian" in en
    assert "An app token was issued for you, valid until" in en
    for index in (added, token, ended):
        assert f'<a href="/public/log/{index}">' in en
    for page in (zh, en):
        assert parent not in page and child not in page  # names and log indices, no keys
    assert section(client.get("/me?lang=en").text, "Notices").count("<li>") == 3
