"""Invariant 1: no API, CLI or SQL path sets a colour; only the derivation records statuses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fastapi.testclient import TestClient
from typer.main import get_command

from healthcode.bootstrap import Services
from healthcode.cli import app as cli_app
from healthcode.web.app import create_app

SRC = Path(__file__).resolve().parent.parent / "src" / "healthcode"
STATUS_TABLES = {"person_status", "status_changes"}
STATUS_WRITERS = {"save_current", "append_changes"}


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def test_only_the_status_repository_writes_status_tables() -> None:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            # t.person_status.insert() / .update() / .delete()
            writes_status_table = (
                isinstance(node, ast.Attribute)
                and node.attr in {"insert", "update", "delete"}
                and isinstance(node.value, ast.Attribute)
                and node.value.attr in STATUS_TABLES
            )
            if writes_status_table and path.relative_to(SRC).as_posix() != "store/status.py":
                offenders.append(f"{path}: {ast.unparse(node)}")
            raw_sql = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if raw_sql and re.search(
                r"(insert\s+into|update|delete\s+from)\s+(person_status|status_changes)",
                node.value,
                re.I,
            ):
                offenders.append(f"{path}: raw SQL on a status table")
    assert offenders == []


def test_only_the_derivation_calls_the_status_writers() -> None:
    callers = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in STATUS_WRITERS
            ):
                callers.add(path.relative_to(SRC).as_posix())
    assert callers == {"services/derivation.py"}


def test_no_api_route_takes_a_colour(services: Services) -> None:
    spec = TestClient(create_app(services, run_scheduler=False)).get("/openapi.json").json()
    schemas = spec.get("components", {}).get("schemas", {})

    def fields(schema: dict, seen: set[str]) -> set[str]:  # type: ignore[type-arg]
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return set()
            return fields(schemas[name], seen | {name})
        found = set(schema.get("properties", {}))
        for key in ("properties",):
            for sub in schema.get(key, {}).values():
                found |= fields(sub, seen)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                found |= fields(schema[key], seen)
        for key in ("anyOf", "allOf", "oneOf"):
            for sub in schema.get(key, []):
                found |= fields(sub, seen)
        return found

    bodies = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                bodies += 1
                taken = fields(content.get("schema", {}), set())
                assert not {"colour", "color", "rule_id", "status_colour"} & taken, (
                    f"{method} {path}"
                )
            for parameter in operation.get("parameters", []):
                assert parameter["name"] not in {"colour", "color", "rule_id"}, f"{method} {path}"
    assert bodies >= 5  # the order, designation, rulebook, revocation and batch bodies are checked
    assert "set_colour" not in str(spec).lower() and "set_color" not in str(spec).lower()


def test_no_command_takes_a_colour() -> None:
    def walk(command, prefix=""):  # type: ignore[no-untyped-def]
        yield prefix, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{prefix} {name}".strip())

    for name, command in walk(get_command(cli_app)):
        for param in command.params:
            assert not {"colour", "color"} & {param.name, *param.opts}, name
        assert "colour" not in name.split() and "color" not in name.split()
