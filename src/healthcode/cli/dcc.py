"""``healthcode dcc``: verify EU Digital COVID Certificates and run the EU conformance data."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from healthcode.cli.context import console, refusals_reported, services
from healthcode.credentials import hcert
from healthcode.services import dcc_conformance
from healthcode.services.clock import SystemClock
from healthcode.services.dcc_trust import OPERATOR, read_location
from healthcode.services.qr import read_qr_texts

app = typer.Typer(help="EU Digital COVID Certificates (HCERT).", no_args_is_help=True)

SCHEMAS_HELP = "Folder of DCC JSON schema releases (<version>/*combined-schema.json); default $HEALTHCODE_DCC_SCHEMAS."


def _schemas(folder: Path | None) -> hcert.SchemaLoader:
    chosen = folder or (
        Path(os.environ["HEALTHCODE_DCC_SCHEMAS"])
        if "HEALTHCODE_DCC_SCHEMAS" in os.environ
        else None
    )
    if chosen is None:
        raise typer.BadParameter("give --schemas or set HEALTHCODE_DCC_SCHEMAS")
    return dcc_conformance.load_schemas(chosen)


def _read_input(given: str) -> tuple[str, list[bytes], datetime | None]:
    """The HC1 text, signer certificates and a clock found in the input (text, file, PNG, case)."""
    path = Path(given)
    if not path.is_file():
        return given.strip(), [], None
    raw = path.read_bytes()
    if raw.startswith(b"\x89PNG"):
        with refusals_reported():
            texts = read_qr_texts(raw)
        if len(texts) != 1:
            raise typer.BadParameter(f"{len(texts)} codes found in the image")
        return texts[0], [], None
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):  # a case in the EU test-data layout
        case = json.loads(text)
        context = case.get("TESTCTX") or {}
        certs = [base64.b64decode(context["CERTIFICATE"])] if context.get("CERTIFICATE") else []
        clock = (
            dcc_conformance.parse_clock(context["VALIDATIONCLOCK"])
            if context.get("VALIDATIONCLOCK")
            else None
        )
        return str(case.get("PREFIX", "")), certs, clock
    return text, [], None


@app.command("verify")
def verify(
    source: str = typer.Argument(
        ..., help="HC1 text, or a file: text, PNG QR image, or an EU test-data case."
    ),
    signer: list[Path] = typer.Option(
        [], "--signer", help="Document signer certificate (PEM or DER); repeatable."
    ),
    at: str = typer.Option(
        None, help="Validation instant, ISO 8601 (default: now, or the case's clock)."
    ),
    schemas: Path = typer.Option(None, help=SCHEMAS_HELP),
) -> None:
    """Print every stage's result: prefix, base45, zlib, COSE, signature, CWT, schema, key usage, expiry."""
    text, certs, case_clock = _read_input(source)
    certs += [path.read_bytes() for path in signer]
    trust = hcert.DccTrustList.from_certificates(certs)
    when = dcc_conformance.parse_clock(at) if at else case_clock or SystemClock().now()
    results = hcert.verify_report(text, trust, when, _schemas(schemas))
    table = Table("stage", "result", "detail", title=f"at {when.isoformat()}")
    for result in results:
        colour = {"passed": "green", "failed": "red"}.get(result.status.value, "yellow")
        table.add_row(result.name, f"[{colour}]{result.status.value}[/{colour}]", result.detail)
    console.print(table)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


@app.command("conformance")
def conformance(
    paths: list[Path] = typer.Argument(
        ..., exists=True, file_okay=False, help="Folders in the EU dgc-testdata layout."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per case."),
    schemas: Path = typer.Option(
        None, help="Schema releases folder (default: <folder>/../dcc-schema)."
    ),
) -> None:
    """Run every test-data case found under the folders and compare each expected flag."""
    results = dcc_conformance.run_conformance(paths, schema_root=schemas)
    if as_json:
        cases = [
            {
                "file": r["file"],
                "flags": {
                    f: {"expected": o["expected"], "computed": o["computed"]}
                    for f, o in r["flags"].items()
                },
            }
            for r in results
        ]
        print(json.dumps(cases, indent=1))
        return
    for result in results:
        console.print(f"[bold]{result['file']}[/bold]")
        for flag, outcome in result["flags"].items():
            same = outcome["expected"] == outcome["computed"]
            mark = "[green]ok[/green]  " if same else "[red]DIFF[/red]"
            console.print(
                f"  {mark} {flag}: expected {outcome['expected']}, computed {outcome['computed']}  {'' if same else outcome['detail']}"
            )
    passed, failed = dcc_conformance.conformance_summary(results)
    console.print(f"{len(results)} cases, {passed + failed} flags")
    print(f"{passed} passed, {failed} failed")


trust_list = typer.Typer(help="The DCC trust list of document signers.", no_args_is_help=True)
app.add_typer(trust_list, name="trust-list")


@trust_list.command("load")
def trust_list_load(
    location: str = typer.Argument(
        ...,
        help="A JSON file or http(s) URL (a list of {country, certificate: base64 DER}), "
        "or a folder of PEM/DER certificates (country from each certificate's subject).",
    ),
) -> None:
    """Trust every signer certificate found there (all or nothing); each new one is logged."""
    built = services()
    with refusals_reported():
        items = read_location(location)
        rows, added = built.dcc_trust.add(items, by=OPERATOR, authority=None, now=built.clock.now())
    console.print(f"{added} signers added, {len(rows) - added} already trusted")


@trust_list.command("show")
def trust_list_show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every signer trusted (or once trusted): country, kid, validity, allowed kinds."""
    signers = services().dcc_trust.signers()
    if as_json:
        print(json.dumps([
            {"country": s.country, "kid": s.kid, "certificate": base64.b64encode(s.certificate).decode(),
             "removed_at": s.removed_at.isoformat() if s.removed_at else None}
            for s in signers
        ], indent=1))  # fmt: skip
        return
    table = Table("country", "kid", "valid", "kinds", "status")
    for s in signers:
        table.add_row(s.country, s.kid, f"{s.not_before:%Y-%m-%d} .. {s.not_after:%Y-%m-%d}",
                      " ".join(s.kinds), f"removed ({s.remove_reason})" if s.removed_at else "trusted")  # fmt: skip
    console.print(table)
