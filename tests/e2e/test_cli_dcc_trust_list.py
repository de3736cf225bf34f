"""`healthcode dcc trust-list load|show`: the trust list from a JSON file, a folder of PEM
certificates or an endpoint (another deployment's public list loads as it is)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from healthcode.bootstrap import Services
from healthcode.cli import app
from healthcode.errors import InputRejected
from healthcode.services.dcc_trust import read_location
from tests.dcc_cases import Issuer, case


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("healthcode.cli.dcc.services", lambda: services)
    return CliRunner()


def _cert(name: str) -> str:
    return str(case(name)["TESTCTX"]["CERTIFICATE"])


def test_load_a_json_file_then_show_it(cli: CliRunner, tmp_path: Path) -> None:
    listed = [{"country": "AT", "certificate": _cert("AT/2DCode/raw/1.json")},
              {"country": "SE", "certificate": _cert("SE/2DCode/raw/1.json")}]  # fmt: skip
    file = tmp_path / "trust.json"
    file.write_text(json.dumps(listed))
    first = cli.invoke(app, ["dcc", "trust-list", "load", str(file)])
    assert first.exit_code == 0, first.output
    assert "2 signers added, 0 already trusted" in first.output
    again = cli.invoke(app, ["dcc", "trust-list", "load", str(file)])
    assert "0 signers added, 2 already trusted" in again.output
    shown = json.loads(cli.invoke(app, ["dcc", "trust-list", "show", "--json"]).output)
    assert sorted(s["country"] for s in shown) == ["AT", "SE"]
    assert "trusted" in cli.invoke(app, ["dcc", "trust-list", "show"]).output


def test_load_a_folder_of_pem_certificates(cli: CliRunner, tmp_path: Path) -> None:
    for name, der in (
        ("xa.pem", Issuer(country="XA").certificate),
        ("at.pem", base64.b64decode(_cert("AT/2DCode/raw/1.json"))),
    ):
        pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        (tmp_path / name).write_bytes(pem)
    (tmp_path / "README.txt").write_text("not a certificate")
    loaded = cli.invoke(app, ["dcc", "trust-list", "load", str(tmp_path)])
    assert loaded.exit_code == 0, loaded.output
    assert "2 signers added" in loaded.output


def test_a_bad_list_is_refused_whole(cli: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "trust.json"
    file.write_text(json.dumps([{"country": "AT", "certificate": _cert("AT/2DCode/raw/1.json")},
                                {"country": "AT", "certificate": "bm9wZQ=="}]))  # fmt: skip
    refused = cli.invoke(app, ["dcc", "trust-list", "load", str(file)])
    assert refused.exit_code == 2 and "dcc.trust_list" in refused.output
    assert json.loads(cli.invoke(app, ["dcc", "trust-list", "show", "--json"]).output) == []
    missing = cli.invoke(app, ["dcc", "trust-list", "load", str(tmp_path / "nothing.json")])
    assert missing.exit_code == 2


def test_load_from_an_endpoint(services: Services) -> None:
    """Another deployment's public list (GET /api/v1/dcc/signers) loads as it is."""
    published = [{"country": "AT", "kid": "wrong", "certificate": _cert("AT/2DCode/raw/1.json")}]

    def serve(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/v1/dcc/signers":
            return httpx2.Response(200, json=published)
        return httpx2.Response(404)

    def load(url: str) -> int:
        with httpx2.Client(transport=httpx2.MockTransport(serve)) as client:
            found = read_location(url, client=client)
        now = services.clock.now()
        return services.dcc_trust.add(found, by="operator", authority=None, now=now)[1]

    with pytest.raises(InputRejected) as caught:  # a kid that is not the certificate's
        load("https://other.example/api/v1/dcc/signers")
    assert caught.value.code == "dcc.trust_list"
    published[0]["kid"] = base64.b64encode(
        hashlib.sha256(base64.b64decode(published[0]["certificate"])).digest()[:8]
    ).decode()
    assert load("https://other.example/api/v1/dcc/signers") == 1
    with pytest.raises(InputRejected):
        load("https://other.example/missing")
