"""Structured logs (``HEALTHCODE_LOG_FORMAT=json``): one JSON object a line, requests named by
their route template, and no person key, name, token, code or query string in any line."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from healthcode.settings import Settings
from healthcode.web import logs
from healthcode.web.app import create_app
from tests.town import ERQI, Town

TOUCHED = ("uvicorn", "uvicorn.error", "uvicorn.access", *logs.QUIETED)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """``logs.configure`` changes process-wide logging: put it back as it was."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    loggers = {name: logging.getLogger(name) for name in TOUCHED}
    kept = {n: (list(g.handlers), g.propagate, g.disabled, g.level) for n, g in loggers.items()}
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, logger in loggers.items():
        logger.handlers[:], logger.propagate, logger.disabled, level = kept[name]
        logger.setLevel(level)


@pytest.fixture
def lines(restored_logging: None) -> io.StringIO:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    return stream


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_log_lines_of_requests_about_a_person_hold_nothing_of_theirs(
    town: Town, lines: io.StringIO
) -> None:
    town.register_staff()
    name = "日志测试"
    person = town.person(name, home=ERQI)
    child = town.person("日志测试子", home=ERQI)
    town.services.identity.add_guardian(person, child, now=town.clock.now())
    token = town.token(person, "person")
    me = {"Authorization": f"Bearer {token}"}
    client = TestClient(create_app(town.services, run_scheduler=False))
    code = client.get("/api/v1/venue/place-code", headers={
        "Authorization": f"Bearer {town.token('station', 'venue')}"}).json()["text"]  # fmt: skip
    login = town.link(person)
    assert client.post("/login", data={"token": login}, follow_redirects=False).status_code == 303
    assert client.get("/me").status_code == 200
    assert client.get("/api/v1/me/status", headers=me).status_code == 200
    assert client.get(f"/api/v1/me/dependants/{child}/status", headers=me).status_code == 200
    assert client.post("/api/v1/scans", json={"code": code}, headers=me).status_code == 200
    assert client.post("/api/v1/scans", json={"code": code}, headers=me).status_code == 409
    assert client.get(f"/nowhere/{person}?token={token}").status_code == 404

    got = parsed(lines)
    access = [line for line in got if line["logger"] == logs.ACCESS]
    assert len(access) == 8
    for line in got:
        assert {"time", "level", "logger", "message"} <= set(line)
    for line in access:
        assert set(line) == {"time", "level", "logger", "message", "request_id", "method",
                             "route", "status", "duration_ms"}  # fmt: skip
    routes = [(line["method"], line["route"], line["status"]) for line in access]
    assert ("GET", "/api/v1/me/dependants/{person_key}/status", 200) in routes
    assert ("POST", "/api/v1/scans", 409) in routes
    assert ("POST", "/login", 303) in routes
    assert ("GET", logs.UNMATCHED, 404) in routes
    text = lines.getvalue()
    for secret in (person, child, name, token, login, code, "?token", "/nowhere"):
        assert secret not in text, secret


def test_a_message_is_redacted_and_an_exception_written_without_its_message() -> None:
    key, jwt = "0123456789abcdef0123456789abcdef", "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"
    record = logging.LogRecord(
        "healthcode.test", logging.WARNING, __file__, 1, "person %s token %s, root %s", (key, jwt, "ab" * 32), None
    )  # fmt: skip
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == f"person [redacted] token [redacted], root {'ab' * 32}"
    try:
        raise KeyError(key)
    except KeyError:
        failed = logging.LogRecord(
            "healthcode.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    written = logs.JsonFormatter().format(failed)
    assert key not in written
    assert json.loads(written)["stack"][0].endswith(
        "test_a_message_is_redacted_and_an_exception_written_without_its_message"
    )
    assert json.loads(written)["exc_type"] == "KeyError"


def test_the_setting_turns_json_on_at_start_up(town: Town, restored_logging: None) -> None:
    assert Settings.from_env({"HEALTHCODE_LOG_FORMAT": "json"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    town.services.settings = replace(town.services.settings, log_format="json")
    with TestClient(create_app(town.services, run_scheduler=False)) as client:
        assert client.get("/healthz").status_code == 200
    handlers = logging.getLogger().handlers
    assert any(isinstance(h.formatter, logs.JsonFormatter) for h in handlers)
    assert logging.getLogger("uvicorn.access").disabled
    with pytest.raises(ValueError, match="unknown log format"):
        logs.configure("yaml")


def test_text_leaves_logging_alone(restored_logging: None) -> None:
    before = list(logging.getLogger().handlers)
    logs.configure("text")
    assert logging.getLogger().handlers == before


def test_a_line_written_while_serving_names_the_request() -> None:
    class Route:
        path = "/api/v1/persons/{person_key}/status"

    context = logs.RequestContext("0a1b2c3d4e5f6a7b", "GET", {"route": Route()})
    token = logs.current_request.set(context)
    try:
        record = logging.LogRecord("healthcode.web", logging.INFO, __file__, 1, "hello", (), None)
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.current_request.reset(token)
    assert (line["request_id"], line["route"]) == ("0a1b2c3d4e5f6a7b", Route.path)
    assert "status" not in line  # not answered yet
