"""Settings from the environment: a malformed value is a clear refusal naming the variable,
never a traceback, for the settings themselves and for every command that reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import SHARED
from typer.testing import CliRunner

from healthcode.cli.main import app
from healthcode.errors import InputRejected
from healthcode.settings import Settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "80a"),
        ("PORT", "70000"),
        ("PORT", "-1"),
        ("HEALTHCODE_BATCH_MAX_RECORDS", "abc"),
        ("HEALTHCODE_BATCH_MAX_RECORDS", "0"),
        ("HEALTHCODE_FUTURE_SKEW_SECONDS", "-1"),
        ("HEALTHCODE_SCHEDULER_SECONDS", "fast"),
        ("HEALTHCODE_SESSION_HOURS", "-1"),
        ("HEALTHCODE_SEQUENCER_SECONDS", "0"),
        ("HEALTHCODE_OVERSIGHT_INTERVAL_SECONDS", "nan"),
        ("HEALTHCODE_TIMEZONE", "Mars/Base"),
        ("HEALTHCODE_LOG_FORMAT", "JSON"),
        ("DATABASE_URL", "nonsense"),
        ("HEALTHCODE_DCC_SCHEMAS", "/nonexistent/dcc-schema"),
    ],
)
def test_a_malformed_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(InputRejected) as refused:
        Settings.from_env({name: value})
    assert refused.value.code == "settings.invalid"
    assert refused.value.detail.startswith(f"{name}=")


def test_a_database_url_is_refused_without_printing_its_password() -> None:
    with pytest.raises(InputRejected) as refused:
        Settings.from_env({"DATABASE_URL": "mysql://hc:s3cret@db/healthcode"})
    assert "s3cret" not in refused.value.detail


def test_the_documented_defaults_and_bounds_are_accepted() -> None:
    settings = Settings.from_env({"HEALTHCODE_FUTURE_SKEW_SECONDS": "0", "PORT": "65535"})
    assert Settings.from_env({"PORT": "0"}).port == 0  # any free port: make crash runs so
    assert (settings.future_skew_seconds, settings.port, settings.timezone) == (
        0,
        65535,
        "Asia/Shanghai",
    )
    assert Settings.from_env({}).sequencer_interval_seconds == 0.25
    schemas = SHARED / "testdata" / "dcc-schema"
    assert Settings.from_env({"HEALTHCODE_DCC_SCHEMAS": str(schemas)}).dcc_schemas == schemas


@pytest.mark.parametrize(
    "command", [["rules", "show"], ["admin", "backup", "x.db"], ["log", "export", "out"]]
)
def test_every_command_prints_the_refusal_instead_of_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HEALTHCODE_BATCH_MAX_RECORDS", "a thousand")
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, command)
    assert done.exit_code == 2, done.output
    assert "settings.invalid" in done.output and "HEALTHCODE_BATCH_MAX_RECORDS" in done.output
    assert not (tmp_path / "x.db").exists()
