"""Architecture rules a linter cannot see: the pure core never reads the clock; no grab-bags."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "healthcode"
PURE = ("domain", "tlog", "credentials")
CLOCK = re.compile(
    r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.monotonic|perf_counter)\s*\("
)


def test_pure_packages_never_read_the_clock() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for package in PURE
        for path in (SRC / package).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CLOCK.search(line)
    ]
    assert offenders == []


def test_each_pure_package_says_it_is_pure() -> None:
    for package in PURE:
        readme = (SRC / package / "README.md").read_text().lower()
        assert "no i/o" in readme and "no clock" in readme, package


def test_no_grab_bag_modules() -> None:
    names = {path.name for path in SRC.rglob("*.py")}
    assert not names & {"utils.py", "helpers.py", "misc.py", "common.py"}
