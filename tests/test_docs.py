"""The docs describe what exists: every error code, command, setting and route is documented."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from healthcode.bootstrap import Services
from healthcode.cli import app as cli_app
from healthcode.web.app import create_app
from healthcode.web.errors import documented_codes
from healthcode.web.routes import all_routes

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_error_code_is_in_errors_md() -> None:
    text = (DOCS / "errors.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_.]+)` \|", text, re.M))
    assert listed == documented_codes()


def test_every_command_is_in_cli_md() -> None:
    text = (DOCS / "cli.md").read_text()

    def walk(command, prefix):  # type: ignore[no-untyped-def]
        subcommands = getattr(command, "commands", {})
        if not subcommands:
            yield prefix
        for name, sub in subcommands.items():
            yield from walk(sub, f"{prefix} {name}")

    for name in walk(get_command(cli_app), "healthcode"):
        assert f"`{name}" in text, name


def test_every_setting_is_in_operations_md() -> None:
    source = (Path(__file__).resolve().parent.parent / "src/healthcode/settings.py").read_text()
    text = (DOCS / "operations.md").read_text()
    for variable in re.findall(r'env\.get\("([A-Z_]+)"', source):
        assert f"`{variable}`" in text, variable


def test_every_route_is_in_api_md(services: Services) -> None:
    text = (DOCS / "api.md").read_text()
    app = create_app(services, run_scheduler=False)
    routes = all_routes(app)
    assert len(routes) > 20
    for route in routes:
        if route.path.startswith(("/api/", "/healthz", "/log/")):
            for method in sorted(route.methods - {"HEAD"}):
                assert f"`{method} {route.path}`" in text, f"{method} {route.path}"


def written_entry_kinds() -> set[str]:
    """Every entry kind the code can write: the first argument of each ``encode_entry`` call."""
    src = Path(__file__).resolve().parent.parent / "src" / "healthcode"
    found: set[str] = set()
    for path in src.rglob("*.py"):
        found |= set(re.findall(r'encode_entry\(\s*"([a-z_]+)"', path.read_text()))
    return found


def test_every_log_entry_kind_is_in_the_entries_table_and_named_for_people() -> None:
    from healthcode.web.pages.public import entry_kind_names

    kinds = written_entry_kinds()
    assert len(kinds) >= 19
    text = (DOCS / "transparency-log.md").read_text()
    table = text[text.index("## Entries") : text.index("**No personal data.**")]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert documented == kinds
    assert set(entry_kind_names(lambda message: message)) == kinds


def test_no_table_row_is_cut_off_from_its_table() -> None:
    """A line between a table's rows ends the table: the rows after it render as plain text.
    So a row whose line above is not a row must be a header, followed by the delimiter row."""
    delimiter = re.compile(r"^\|( *:?-+:? *\|)+ *$")
    for path in sorted(DOCS.rglob("*.md")):
        lines = path.read_text().splitlines()
        fenced = False
        for number, line in enumerate(lines):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            if fenced or not line.startswith("|"):
                continue
            if number > 0 and lines[number - 1].startswith("|"):
                continue
            following = lines[number + 1] if number + 1 < len(lines) else ""
            assert delimiter.match(following), f"{path.name}:{number + 1}: {line[:60]}"
