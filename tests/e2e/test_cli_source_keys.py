"""`healthcode admin load` refuses a registered source's new key, whole; `admin propose-key`
proposes it for a supervisor to co-sign, and `admin withdraw-key` withdraws it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from healthcode.cli import app
from healthcode.services.orders import Actor
from tests.counting import counts
from tests.town import ZHENGZHOU, Town

NEW_PUBLIC = base64.b64encode(
    Ed25519PrivateKey.from_private_bytes(b"\x44" * 32)
    .public_key()
    .public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()


@pytest.fixture
def cli(town: Town, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.admin.services", lambda: town.services)
    return CliRunner()


def test_load_refuses_a_new_key_then_propose_and_withdraw(
    cli: CliRunner, town: Town, tmp_path: Path
) -> None:
    town.register_staff()
    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump({
        "areas": [{"code": "410105", "zh": "金水区", "en": "Jinshui"}],
        "sources": [{"id": "lab-1", "authority": "zz-health", "name": "lab-1", "public_key": NEW_PUBLIC,
                     "kinds": ["test_result", "recovery"], "area": ZHENGZHOU}],
    }, allow_unicode=True))  # fmt: skip
    before = counts(town.services.db)
    loaded = cli.invoke(app, ["admin", "load", str(registry)])
    assert loaded.exit_code == 2
    assert (
        "registry.source_key_change" in loaded.output
        and "source lab-1: public_key" in loaded.output
    )
    assert counts(town.services.db) == before
    proposed = cli.invoke(
        app,
        ["admin", "propose-key", "lab-1", NEW_PUBLIC, "--kinds", "test_result,recovery"],
        env={"LANG": "zh_CN.UTF-8"},
    )
    assert proposed.exit_code == 0, proposed.output
    [change] = town.services.source_keys.of_authority("zz-health", now=town.clock.now())
    assert (
        f"已提出 {change.id}：lab-1 须在" in proposed.output
        and change.proposed_by is None
        and change.state(town.clock.now()) == "pending"
    )
    twice = cli.invoke(app, ["admin", "propose-key", "lab-1", NEW_PUBLIC])
    assert twice.exit_code == 2 and "source_key.pending_exists" in twice.output
    withdrawn = cli.invoke(app, ["admin", "withdraw-key", change.id], env={"LANG": "C"})
    assert withdrawn.exit_code == 0 and f"withdrew {change.id} (lab-1)" in withdrawn.output
    # Proposed again and co-signed: the file with the new key now loads (nothing changes).
    cli.invoke(app, ["admin", "propose-key", "lab-1", NEW_PUBLIC])
    pending = town.services.source_keys.of_authority(
        "zz-health", now=town.clock.now(), state="pending"
    )
    supervisor = Actor("zz-sup-1", "supervisor", "zz-health", frozenset({ZHENGZHOU}))
    town.services.source_keys.cosign(supervisor, pending[0].id, now=town.clock.now())
    assert cli.invoke(app, ["admin", "load", str(registry)]).exit_code == 0
    bad = cli.invoke(app, ["admin", "propose-key", "lab-1", "bm90IGEga2V5"])
    assert bad.exit_code == 2 and "source_key.invalid_key" in bad.output


def test_load_proposes_a_new_source_and_a_wider_jurisdiction_of_an_authority_with_a_supervisor(
    cli: CliRunner, town: Town, tmp_path: Path
) -> None:
    """docs/cli.md: the first load (the town's, before any staff) registered everything
    directly; with supervisors registered, the next one proposes."""
    town.register_staff()
    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump({
        "authorities": [{"id": "zz-health", "zh": "郑州市卫健委", "en": "Zhengzhou Health Commission",
                         "jurisdiction": [ZHENGZHOU, "310100"]}],
        "sources": [{"id": "lab-2", "authority": "zz-health", "name": "lab-2", "public_key": NEW_PUBLIC,
                     "kinds": ["test_result"], "area": ZHENGZHOU}],
    }, allow_unicode=True))  # fmt: skip
    loaded = cli.invoke(app, ["admin", "load", str(registry)], env={"LANG": "C"})
    assert loaded.exit_code == 0, loaded.output
    [source] = town.services.source_keys.of_authority("zz-health", now=town.clock.now())
    [widening] = town.services.jurisdiction_changes.of_authority("zz-health", now=town.clock.now())
    assert f"proposed {source.id}, new source lab-2" in loaded.output
    assert f"proposed {widening.id}, wider jurisdiction 310100 {ZHENGZHOU}" in loaded.output
    # Loaded again: nothing more proposed; the operator withdraws the jurisdiction change.
    again = cli.invoke(app, ["admin", "load", str(registry)], env={"LANG": "C"})
    assert again.exit_code == 0 and "proposed" not in again.output
    withdrawn = cli.invoke(app, ["admin", "withdraw-jurisdiction", widening.id], env={"LANG": "C"})
    assert withdrawn.exit_code == 0 and widening.id in withdrawn.output
    twice = cli.invoke(app, ["admin", "withdraw-jurisdiction", widening.id], env={"LANG": "C"})
    assert twice.exit_code == 2 and "jurisdiction_change.not_pending" in twice.output


def test_load_refusing_a_member_of_the_file_leaves_none_of_the_file_behind(
    cli: CliRunner, town: Town, tmp_path: Path
) -> None:
    """The file's areas, authorities, sources and venues and its staff are one transaction: a
    member refused (here, of an authority nobody registered) refuses the whole file."""
    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump({
        "areas": [{"code": "410106", "zh": "上街区", "en": "Shangjie"}],
        "authorities": [{"id": "sj-health", "zh": "上街区卫健委", "en": "Shangjie Health Commission",
                         "jurisdiction": ["410106"]}],
        "staff": [
            {"id": "sj-off-1", "role": "official", "name": "Official", "authority": "sj-health"},
            {"id": "xx-off-1", "role": "official", "name": "Official", "authority": "nowhere"},
        ],
    }, allow_unicode=True))  # fmt: skip
    before = counts(town.services.db)
    loaded = cli.invoke(app, ["admin", "load", str(registry)], env={"LANG": "C"})
    assert loaded.exit_code == 2 and "registry.invalid" in loaded.output
    assert "staff xx-off-1" in loaded.output
    assert counts(town.services.db) == before
