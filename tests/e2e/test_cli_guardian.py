"""`healthcode admin guardian GUARDIAN DEPENDANT [--end]`: recording and ending a guardianship
is logged and says so (recording it again writes nothing, and says that); bad input is refused,
exit 2, nothing written; the dependant's page and ``GET /api/v1/me/guardians`` name the
guardian and since when, in Chinese and English; once ended, the guardian's reads are refused
(403) and the page names no one. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.web.pages.rendering import local_time
from tests.counting import counts
from tests.e2e.test_appeals_pages import login
from tests.log_rows import stored
from tests.town import ERQI, Town

EN = {"LANG": "C"}


@pytest.fixture
def cli(town: Town, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.admin.services", lambda: town.services)
    return CliRunner()


def kinds(town: Town) -> list[str]:
    with town.services.db.read() as conn:
        return [kind for _, kind, _ in stored(conn)]


def guardians_section(page: str) -> str:
    start = page.index('id="guardians"')
    return page[start : page.index("</section>", start)]


def test_the_dependant_sees_who_their_guardian_is_until_it_ends(
    cli: CliRunner, town: Town, client: TestClient
) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    since = local_time(town.clock.now(), town.services.settings.timezone)
    recorded = cli.invoke(app, ["admin", "guardian", parent, child], env=EN)
    assert recorded.exit_code == 0, recorded.output
    assert "guardianship recorded (logged)" in recorded.stdout
    assert kinds(town).count("guardianship") == 1
    before = counts(town.services.db)
    again = cli.invoke(app, ["admin", "guardian", parent, child], env={"LANG": "zh_CN.UTF-8"})
    assert again.exit_code == 0 and "该监护关系已登记：未写入任何内容" in again.stdout
    assert counts(town.services.db) == before

    # The dependant's page names them, in both languages, by name and never by person key.
    login(client, town, child)
    zh = client.get("/me").text
    assert "你的监护人" in guardians_section(zh)
    assert f"段父，自 {since} 起" in guardians_section(zh) and parent not in zh
    en = client.get("/me?lang=en").text
    assert "Your guardians" in en and f"段父, since {since}" in guardians_section(en)
    bearer = {"Authorization": f"Bearer {town.token(child, 'person')}"}
    listed = client.get("/api/v1/me/guardians", headers=bearer)
    assert listed.status_code == 200 and parent not in listed.text
    [one] = listed.json()
    assert one["name"] == "段父" and one["log_index"] == kinds(town).index("guardianship")

    # The guardian reads; then the guardianship ends, logged, and the guardian reads no more.
    guardian = {"Authorization": f"Bearer {town.token(parent, 'person')}"}
    status = f"/api/v1/me/dependants/{child}/status"
    assert client.get(status, headers=guardian).status_code == 200
    ended = cli.invoke(app, ["admin", "guardian", parent, child, "--end"], env=EN)
    assert ended.exit_code == 0 and "guardianship ended (logged)" in ended.stdout
    assert kinds(town).count("guardianship_end") == 1
    for path in (
        status,
        f"/api/v1/me/dependants/{child}/pass",
        f"/api/v1/me/dependants/{child}/card",
    ):
        refused = client.get(path, headers=guardian)
        assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden")
    assert client.get("/api/v1/me/dependants", headers=guardian).json() == []
    assert client.get("/api/v1/me/guardians", headers=bearer).json() == []
    assert "没有人登记为你的监护人。" in guardians_section(client.get("/me?lang=zh").text)
    assert town.services.self_check.run(now=town.clock.now(), halt=False).ok


@pytest.mark.parametrize(
    ("who", "end", "code"),
    [
        ("unknown guardian", False, "guardianship.guardian_unknown"),
        ("unknown dependant", False, "guardianship.dependant_unknown"),
        ("self", False, "guardianship.self"),
        ("none recorded", True, "guardianship.not_found"),
    ],
)
def test_bad_input_is_refused_exit_2_with_nothing_written(
    cli: CliRunner, town: Town, who: str, end: bool, code: str
) -> None:
    parent, child = town.person("段父", home=ERQI), town.person("段小红", home=ERQI)
    nobody = "0" * 32
    guardian, dependant = {
        "unknown guardian": (nobody, child),
        "unknown dependant": (parent, nobody),
        "self": (child, child),
        "none recorded": (parent, child),
    }[who]
    before = counts(town.services.db)
    args = ["admin", "guardian", guardian, dependant, *(["--end"] if end else [])]
    refused = cli.invoke(app, args, env=EN)
    assert refused.exit_code == 2, refused.output
    assert code in refused.output
    assert counts(town.services.db) == before
