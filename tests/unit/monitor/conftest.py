"""Fixtures for the monitor tests: a fake tiled log and a state file path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .fake_log import FakeLog


@pytest.fixture
def log() -> FakeLog:
    return FakeLog()


@pytest.fixture
def http(log: FakeLog) -> Iterator[TestClient]:
    with log.client() as client:
        yield client


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "monitor-state.json"
