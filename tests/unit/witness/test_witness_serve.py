"""serve_witness's config, key file and wiring, checked without starting a server."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from healthcode.services import witness_serve
from healthcode.services.witness_serve import (
    WitnessConfigError,
    build_witness,
    load_or_create_witness_key,
    load_witness_config,
    serve_witness,
)
from healthcode.tlog import CosignatureSigner, Ed25519Signer

from .conftest import ORIGIN, WITNESS_NAME, Clock, SigningLog, seed


def write_config(tmp_path: Path, log: SigningLog, **overrides: object) -> Path:
    config = {
        "name": WITNESS_NAME,
        "key_file": "keys/witness.key",
        "state_file": "state/witness.json",
        "logs": [{"origin": ORIGIN, "vkey": log.signer.verifier().to_vkey()}],
        **overrides,
    }
    lines = [f"name: {config['name']}"]
    lines += [f"key_file: {config['key_file']}", f"state_file: {config['state_file']}", "logs:"]
    for entry in config["logs"]:  # type: ignore[attr-defined]
        lines.append(f"  - origin: {entry['origin']}")
        lines.append(f"    vkey: {entry['vkey']}")
    path = tmp_path / "witness.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_config_resolves_paths_next_to_itself(tmp_path: Path, log: SigningLog) -> None:
    config = load_witness_config(write_config(tmp_path, log))
    assert config.name == WITNESS_NAME
    assert config.key_file == tmp_path / "keys/witness.key"
    assert config.state_file == tmp_path / "state/witness.json"
    assert [entry.origin for entry in config.logs] == [ORIGIN]


def test_json_config_with_several_log_keys(tmp_path: Path, log: SigningLog) -> None:
    rotated = Ed25519Signer(ORIGIN, seed("rotated log key")).verifier().to_vkey()
    path = tmp_path / "witness.json"
    path.write_text(
        json.dumps(
            {
                "name": WITNESS_NAME,
                "key_file": "w.key",
                "state_file": "w.json",
                "logs": [{"origin": ORIGIN, "vkeys": [log.signer.verifier().to_vkey(), rotated]}],
            }
        )
    )
    (entry,) = load_witness_config(path).logs
    assert len(entry.verifiers) == 2


def test_the_key_is_created_once_and_kept_private(tmp_path: Path, log: SigningLog) -> None:
    config = load_witness_config(write_config(tmp_path, log))
    first = build_witness(config, Clock())
    assert stat.S_IMODE(config.key_file.stat().st_mode) == 0o600
    assert config.key_file.read_text().startswith(f"PRIVATE+KEY+{WITNESS_NAME}+")
    second = build_witness(config, Clock())
    assert first.vkey == second.vkey
    first.handle(log.request(0, 7))
    assert json.loads(config.state_file.read_text())["logs"][ORIGIN]["size"] == 7
    third = build_witness(config, Clock())
    head = third.latest(ORIGIN)
    assert head is not None and head.size == 7


def test_a_key_file_for_another_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.key"
    path.write_text(CosignatureSigner("other.example/w", seed("k")).to_skey() + "\n")
    with pytest.raises(WitnessConfigError, match=r"not 'witness\.example/w1'"):
        load_or_create_witness_key(path, WITNESS_NAME)
    path.write_text("PRIVATE+KEY+garbage\n")
    with pytest.raises(WitnessConfigError):
        load_or_create_witness_key(path, WITNESS_NAME)


@pytest.mark.parametrize(
    "text",
    [
        "just a string\n",
        "name: w\nkey_file: k\nstate_file: s\n",
        "name: w\nkey_file: k\nstate_file: s\nlogs: []\n",
        "name: w\nkey_file: k\nstate_file: s\nlogs:\n  - origin: o\n",
        "name: w\nkey_file: k\nstate_file: s\nlogs:\n  - origin: o\n    vkey: not-a-key\n",
        "key_file: k\nstate_file: s\nlogs:\n  - origin: o\n    vkey: {vkey}\n",
        "name: w\nkey_file: k\nstate_file: s\nlogs:\n"
        "  - origin: o\n    vkey: {vkey}\n  - origin: o\n    vkey: {vkey}\n",
        "name: [unclosed\n",
    ],
)
def test_bad_configs_are_refused(tmp_path: Path, log: SigningLog, text: str) -> None:
    path = tmp_path / "witness.yaml"
    path.write_text(text.replace("{vkey}", log.signer.verifier().to_vkey()))
    with pytest.raises(WitnessConfigError):
        load_witness_config(path)


def test_serve_witness_runs_the_app_with_the_real_clock(
    tmp_path: Path, log: SigningLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, object] = {}

    def fake_run(app: FastAPI, host: str, port: int) -> None:
        served.update(app=app, host=host, port=port)

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.setattr(witness_serve, "system_clock", lambda: 1_234_567)
    serve_witness(write_config(tmp_path, log), "127.0.0.1", 8123)
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    app = served["app"]
    assert isinstance(app, FastAPI)
    with TestClient(app) as client:
        response = client.post("/add-checkpoint", content=log.request(0, 3))
        assert response.status_code == 200
        assert client.get("/").json()["logs"][0]["cosigned_at"] == 1_234_567
