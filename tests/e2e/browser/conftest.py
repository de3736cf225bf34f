"""A real browser (Debian's chromium, driven by Playwright) against a real server over a demo
city. Without chromium the tests skip, except in CI (CI=true), where they must run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.served import ServedCity, served_city

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# As a probe of this machine's browser found: no sandbox (root), no GPU, and no background
# traffic to outside hosts (the machine has no network but the package registries).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium fonts-wqy-microhei)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedCity]:
    with served_city(tmp_path_factory.mktemp("browser") / "data", people=3000) as served:
        yield served


def shoot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ (the README shows some); first check
    the page fits its viewport's width (on a phone nothing may scroll sideways)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name}: the page is {width} px wide"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
