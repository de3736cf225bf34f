"""The commands as an operator runs them: a region exports its log to a directory, a plain
static file server serves it, `healthcode log verify` checks it there (and catches a tampered
tile), and the national deployment's `healthcode log collect` records the region's checkpoints
from the same static files, refusing a forked one; the national self-check then passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from healthcode.bootstrap import Services, build
from healthcode.cli import app
from healthcode.services.clock import FixedClock
from healthcode.settings import Settings
from healthcode.tlog import Checkpoint, sign_checkpoint
from tests.static_files import static_server
from tests.town import Town

HENAN, NATION = "henan.example/log", "nation.example/log"


def grow(town: Town, tests: int) -> int:
    person = town.person(f"p{tests}")
    for n in range(tests):
        town.clock.advance(minutes=1)
        town.test(person, town.clock.now(), "negative" if n % 2 else "positive")
    signed = town.services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    return signed.size


@pytest.fixture
def region(tmp_path: Path, clock: FixedClock) -> Town:
    """Henan's deployment: its own store (migrated as `healthcode admin init` would), key and
    origin."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'henan.db'}",
        data_dir=tmp_path / "henan",
        scheduler_interval_seconds=3600,
        log_origin=HENAN,
    )
    services: Services = build(settings, clock=clock)
    return Town.register(services, clock)


def test_export_verify_collect_and_refuse_a_fork(
    region: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    exported = tmp_path / "henan-tiles"
    state = tmp_path / "monitor.json"
    henan_db = region.services.settings.database_url

    def as_region(*args: str) -> str:
        monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path / "henan"))
        monkeypatch.setenv("HEALTHCODE_LOG_ORIGIN", HENAN)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        result = runner.invoke(app, ["log", *args])
        assert result.exit_code == 0, result.output
        return result.output

    def as_nation(*args: str, exit_code: int = 0) -> str:
        monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path / "nation"))
        monkeypatch.setenv("HEALTHCODE_LOG_ORIGIN", NATION)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        result = runner.invoke(app, ["log", *args])
        assert result.exit_code == exit_code, result.output
        return result.output

    first = grow(region, 3)
    assert f"size {first}" in as_region("export", str(exported), "--database-url", henan_db)
    key = (exported / "key").read_text().strip()
    assert key == region.services.log.vkey()
    with static_server(exported) as url:
        assert f"verified at size {first}" in as_region("verify", url, "--state", str(state))
        assert "1 of 1 regions recorded" in as_nation("collect", url, "--key", key)

        second = grow(region, 4)
        as_region("export", str(exported), "--database-url", henan_db)
        verified = as_region("verify", url, "--state", str(state))
        assert (
            f"verified at size {second}" in verified and f"consistent with size {first}" in verified
        )
        assert "1 of 1 regions recorded" in as_nation("collect", url, "--key", key)
        regions = tmp_path / "regions.yaml"
        regions.write_text(f"regions:\n  - url: {url}\n    key: {key}\n")
        assert "unchanged" in as_nation("collect", "--regions", str(regions))

        as_nation("sequence")
        assert "self-check passed" in as_nation("self-check")

        # Henan signs another tree of the size the nation recorded: refused, with the proof.
        fork = sign_checkpoint(
            Checkpoint(HENAN, second, bytes(32)), [region.services.sequencer.signer]
        )
        honest = (exported / "checkpoint").read_text()
        (exported / "checkpoint").write_text(fork)
        refused = as_nation("collect", "--regions", str(regions), exit_code=2)
        assert "region.inconsistent" in refused and "0 of 1 regions recorded" in refused
        (exported / "checkpoint").write_text(honest)

        # A tampered tile in the static copy fails the monitor.
        tile = exported / f"tile/0/000.p/{second}"
        data = bytearray(tile.read_bytes())
        data[10] ^= 1
        tile.write_bytes(bytes(data))
        monkeypatch.setenv("HEALTHCODE_DATA_DIR", str(tmp_path / "henan"))
        tampered = runner.invoke(app, ["log", "verify", url, "--state", str(state), "--full"])
        assert tampered.exit_code == 1, tampered.output
        assert "monitor.tile_mismatch" in tampered.output
