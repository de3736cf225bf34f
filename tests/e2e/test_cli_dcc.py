"""`healthcode dcc verify` and `healthcode dcc conformance` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from healthcode.cli import app
from tests.conftest import SHARED

DCC = SHARED / "testdata" / "dcc"
SCHEMAS = SHARED / "testdata" / "dcc-schema"


def test_verify_prints_every_stage_of_a_valid_case() -> None:
    result = CliRunner().invoke(
        app, ["dcc", "verify", str(DCC / "DE/2DCode/raw/1.json"), "--schemas", str(SCHEMAS)]
    )
    assert result.exit_code == 0, result.output
    for stage in (
        "prefix",
        "base45",
        "zlib",
        "cose",
        "signature",
        "cwt",
        "schema",
        "key_usage",
        "expiry",
    ):
        assert stage in result.output


def test_verify_fails_on_a_tampered_text() -> None:
    case = json.loads((DCC / "DE/2DCode/raw/1.json").read_text())
    tampered = case["PREFIX"][:-8] + "AAAAAAAA"
    result = CliRunner().invoke(app, ["dcc", "verify", tampered, "--schemas", str(SCHEMAS)])
    assert result.exit_code == 1
    assert "failed" in result.output


def test_conformance_ends_with_the_counts_and_prints_json() -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["dcc", "conformance", str(DCC / "CH")])
    assert text.exit_code == 0
    last = text.output.strip().splitlines()[-1]
    assert last.endswith("failed") and "passed" in last
    listed = json.loads(
        runner.invoke(app, ["dcc", "conformance", str(DCC / "CH"), "--json"]).output
    )
    assert listed and {"file", "flags"} == set(listed[0])
    assert all(
        set(flag) == {"expected", "computed"} for case in listed for flag in case["flags"].values()
    )
