"""A witness config, a witness state file or a HEALTHCODE_WITNESSES that cannot be used is a
clear refusal (its code and both messages, exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.tlog import Ed25519Signer

from .conftest import ORIGIN, seed


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split())  # as one line, whatever the terminal's width


def config(tmp_path: Path, logs: str) -> Path:
    path = tmp_path / "witness.yaml"
    path.write_text(
        f"name: witness.example/w1\nkey_file: {tmp_path / 'w.key'}\n"
        f"state_file: {tmp_path / 'state.json'}\n{logs}"
    )
    return path


def test_a_config_without_logs(tmp_path: Path) -> None:
    out = run("witness", "--config", str(config(tmp_path, "logs: []\n")))
    assert "witness.config_invalid" in out and "'logs' must be a non-empty list" in out


def test_a_corrupt_state_file(tmp_path: Path) -> None:
    vkey = Ed25519Signer(ORIGIN, seed("log key")).verifier().to_vkey()
    path = config(tmp_path, f"logs:\n  - origin: {ORIGIN}\n    vkey: {vkey}\n")
    (tmp_path / "state.json").write_text('{"version": 1, "logs": []')
    out = run("witness", "--config", str(path))
    assert "witness.state_invalid" in out and "state.json" in out


@pytest.mark.parametrize("command", [["log", "sequence"], ["tick"], ["log", "self-check"]])
def test_a_malformed_witness_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HEALTHCODE_WITNESSES", "http://127.0.0.1:8100 not-a-vkey")
    out = run(*command)
    assert "settings.witnesses_invalid" in out and "HEALTHCODE_WITNESSES" in out
