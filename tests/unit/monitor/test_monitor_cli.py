"""`healthcode log verify` as an operator sees it: a clean refusal in both languages, the proof
of a fork printed and saved beside the state file, a state file it could not write refused
before any work, and a hint when the URL is the server's root rather than its log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from healthcode.cli import app, log_verify
from healthcode.errors import CATALOGUE
from healthcode.services.clock import FixedClock
from healthcode.services.monitor_errors import MONITOR_ERROR_CODES

from .fake_log import BASE_URL, FakeLog, make_entries
from .test_monitor_tamper import forked


@pytest.fixture(autouse=True)
def in_process(log: FakeLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_verify, "_client", log.client)
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")


def run(*args: str, exit_code: int = 0) -> str:
    result = CliRunner().invoke(app, ["log", "verify", *args])
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


def test_every_monitor_code_is_in_the_catalogue() -> None:
    assert set(CATALOGUE) >= MONITOR_ERROR_CODES


def test_a_fork_is_printed_and_its_proof_saved_beside_the_state_file(
    log: FakeLog, tmp_path: Path
) -> None:
    state = tmp_path / "monitor.json"
    log.grow(300)
    run(BASE_URL, "--state", str(state))
    seen = log.checkpoint
    forked(log, make_entries(300, tag="other"))
    out = run(BASE_URL, "--state", str(state), exit_code=1)
    assert "monitor.inconsistent" in out
    assert seen in out and log.checkpoint in out
    saved = [p for p in tmp_path.iterdir() if p.name.startswith("monitor.json.monitor.")]
    assert len(saved) == 1
    assert f"saved in {saved[0]}" in out.replace("\n", "")
    proof = json.loads(saved[0].read_text())
    assert proof["checkpoints"] == [seen, log.checkpoint]
    assert proof["code"] == "monitor.inconsistent" and proof["log"] == BASE_URL


def test_an_unwritable_state_file_is_refused_before_any_work(log: FakeLog, tmp_path: Path) -> None:
    log.grow(600)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = run(BASE_URL, "--state", str(blocker / "x.json"), exit_code=1)
    assert "monitor.state_unwritable" in out and "Traceback" not in out
    assert log.requests == []  # not even the checkpoint was fetched


def test_the_server_root_gets_a_hint(log: FakeLog, tmp_path: Path) -> None:
    log.grow(3)
    out = run("http://log.test", "--state", str(tmp_path / "s.json"), exit_code=1)
    assert "monitor.http" in out
    assert "did you mean http://log.test/log/ ?" in out


def test_a_changed_key_names_the_cli_option(log: FakeLog, tmp_path: Path) -> None:
    from healthcode.tlog import Ed25519Signer

    from .fake_log import seed

    state = tmp_path / "s.json"
    log.grow(3)
    run(BASE_URL, "--state", str(state))
    log.key_text = Ed25519Signer(log.origin, seed("another")).verifier().to_vkey()
    out = run(BASE_URL, "--state", str(state), exit_code=1)
    assert "monitor.key_changed" in out and "--key" in out and "verifier_key" not in out


def test_chinese_when_the_locale_asks(
    log: FakeLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    log.grow(3)
    out = run(BASE_URL, "--state", str(tmp_path / "s.json"))
    assert "已验证" in out
    bad = run(BASE_URL, "--state", str(tmp_path / "s.json"), "--min-cosignatures", "1", exit_code=1)
    assert CATALOGUE["monitor.cosignatures_missing"].zh in bad.replace("\n", "")


def test_a_proof_that_cannot_be_saved_is_said_in_the_operators_language(
    log: FakeLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(log_verify, "SystemClock", lambda: FixedClock(found))
    state = tmp_path / "monitor.json"
    log.grow(300)
    run(BASE_URL, "--state", str(state))
    seen = log.checkpoint
    forked(log, make_entries(300, tag="other"))
    # Where the proof would go, a folder: the file cannot be written.
    (tmp_path / f"monitor.json.monitor.inconsistent.{found:%Y%m%dT%H%M%S%fZ}.json").mkdir()
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    out = run(BASE_URL, "--state", str(state), exit_code=1)
    assert "无法保存" in out and "cannot save" not in out
    assert seen in out and log.checkpoint in out  # printed all the same: they are the proof
