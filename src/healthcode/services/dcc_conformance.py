"""Runs EU dgc-testdata cases stage by stage through the HCERT verifier and records each flag."""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

import cbor2

from healthcode.credentials import hcert
from healthcode.credentials.hcert.claims import CLAIM_HCERT, hcert_payload
from healthcode.credentials.hcert.schema import group_kind, payload_kind
from healthcode.credentials.hcert.transport import PREFIX

# The flags the data set's README defines; each names the stage it tests.
FLAGS = (
    "EXPECTEDPICTUREDECODE",
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDVERIFY",
    "EXPECTEDDECODE",
    "EXPECTEDVALIDJSON",
    "EXPECTEDSCHEMAVALIDATION",
    "EXPECTEDVALIDOBJECT",
    "EXPECTEDENCODE",
    "EXPECTEDEXPIRATIONCHECK",
    "EXPECTEDKEYUSAGE",
)


class FlagOutcome(TypedDict):
    expected: bool
    computed: bool
    detail: str


class CaseResult(TypedDict):
    file: str
    flags: dict[str, FlagOutcome]
    unrecognised: list[str]  # EXPECTEDRESULTS keys that name no known flag (e.g. typos)


class CaseDataError(Exception):
    """The case file lacks, or garbles, an input a stage needs."""


def load_schemas(schema_root: Path) -> hcert.SchemaLoader:
    """Read `<root>/<version>/*.combined-schema.json` (the ehn-dcc-schema release layout)."""
    schemas: dict[str, Mapping[str, Any]] = {}
    for path in sorted(schema_root.glob("*/*combined-schema.json")):
        schemas[path.parent.name] = json.loads(path.read_text(encoding="utf-8"))
    return hcert.schema_loader_from_mapping(schemas)


def parse_clock(text: str) -> datetime:
    """VALIDATIONCLOCK is ISO 8601; the data set's own runner reads a missing offset as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _normalised(value: Any) -> Any:
    """JSON-compatible value with RFC 3339 instants in one spelling, for content comparison."""
    if isinstance(value, dict):
        return {key: _normalised(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    if isinstance(value, str) and "T" in value:
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is not None:
            return instant.astimezone(UTC).isoformat()
    return value


def _canonical_cbor(value: Any) -> bytes:
    """One encoding per content (RFC 8949 §4.2.1 core deterministic), as the README advises."""
    return cbor2.dumps(_normalised(value), canonical=True)


class Case:
    """One case file; stage inputs come from its own fields, else from the upstream chain."""

    def __init__(self, data: Mapping[str, Any], schemas: hcert.SchemaLoader) -> None:
        self.data = data
        self.schemas = schemas
        self.context: Mapping[str, Any] = data.get("TESTCTX") or {}

    def field(self, name: str) -> Any:
        if name not in self.data:
            raise CaseDataError(f"case has no {name}")
        return self.data[name]

    def hex_field(self, name: str) -> bytes:
        try:
            return bytes.fromhex(self.field(name))
        except (TypeError, ValueError) as exc:
            raise CaseDataError(f"{name} is not hex") from exc

    @cached_property
    def base45_text(self) -> str:
        if "BASE45" in self.data:
            return str(self.data["BASE45"])
        return hcert.strip_prefix(self.field("PREFIX"))

    @cached_property
    def compressed(self) -> bytes:
        if "COMPRESSED" in self.data:
            return self.hex_field("COMPRESSED")
        return hcert.decode_base45(self.base45_text)

    @cached_property
    def cose_bytes(self) -> bytes:
        if "COSE" in self.data:
            return self.hex_field("COSE")
        return hcert.decompress(self.compressed)

    @cached_property
    def cose_payload(self) -> dict[str, Any]:
        return hcert.parse_claims(hcert.parse_cose(self.cose_bytes).payload).payload

    @cached_property
    def cbor_payload(self) -> dict[str, Any]:
        """The CBOR field's DCC; some cases store the whole CWT claims map there instead."""
        decoded = cbor2.loads(self.hex_field("CBOR"))
        if isinstance(decoded, dict) and CLAIM_HCERT in decoded:
            return hcert_payload(decoded)
        converted = hcert.to_json(decoded)
        if not isinstance(converted, dict):
            raise hcert.CborError("CBOR is not a map", "CBOR 不是映射")
        return converted

    @cached_property
    def trust_list(self) -> hcert.DccTrustList:
        try:
            der = base64.b64decode(self.context["CERTIFICATE"], validate=True)
        except (KeyError, TypeError, binascii.Error) as exc:
            raise CaseDataError("TESTCTX.CERTIFICATE missing or not base64") from exc
        return hcert.DccTrustList.from_certificates([der])

    @property
    def clock(self) -> datetime:
        try:
            return parse_clock(self.context["VALIDATIONCLOCK"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CaseDataError("TESTCTX.VALIDATIONCLOCK missing or not ISO 8601") from exc


def _same(left: Any, right: Any, what: str) -> str:
    if _normalised(left) != _normalised(right):
        raise CaseDataError(f"{what} differ")
    return f"{what} match"


def check_picture(case: Case) -> str:
    """EXPECTEDPICTUREDECODE: the 2DCODE PNG scans to exactly the PREFIX text."""
    import zxingcpp  # imaging stack only loads when a picture is actually checked
    from PIL import Image

    png = base64.b64decode(case.field("2DCODE"))
    try:
        with Image.open(io.BytesIO(png)) as image:
            image.load()
            codes = zxingcpp.read_barcodes(image)
    except Exception as exc:  # Pillow and zxing signal unreadable images many ways
        raise CaseDataError(f"image unreadable: {type(exc).__name__}") from exc
    texts = [code.text for code in codes]
    if len(texts) != 1:
        raise CaseDataError(f"{len(texts)} barcodes found")
    return _same(texts[0], case.field("PREFIX"), "scanned text and PREFIX")


def check_unprefix(case: Case) -> str:
    """EXPECTEDUNPREFIX: PREFIX carries HC1: and the rest equals BASE45."""
    text = hcert.strip_prefix(case.field("PREFIX"))
    return _same(text, case.data.get("BASE45", text), "unprefixed text and BASE45")


def check_base45(case: Case) -> str:
    """EXPECTEDB45DECODE: BASE45 decodes to the COMPRESSED bytes."""
    data = hcert.decode_base45(case.base45_text)
    return _same(data.hex(), case.data.get("COMPRESSED", data.hex()).lower(), "decoded bytes")


def check_compression(case: Case) -> str:
    """EXPECTEDCOMPRESSION: COMPRESSED inflates (ZLIB) to the COSE bytes."""
    data = hcert.decompress(case.compressed)
    return _same(data.hex(), case.data.get("COSE", data.hex()).lower(), "inflated bytes")


def check_verify(case: Case) -> str:
    """EXPECTEDVERIFY: COSE's signature verifies with TESTCTX.CERTIFICATE, found by kid."""
    signer = hcert.find_signer(hcert.parse_cose(case.cose_bytes), case.trust_list)
    return f"signature verifies with kid {signer.kid.hex()}"


def check_decode(case: Case) -> str:
    """EXPECTEDDECODE: CBOR decodes to a DCC matching JSON, and COSE carries the same DCC."""
    dcc = case.cbor_payload if "CBOR" in case.data else case.cose_payload
    if "JSON" in case.data:
        _same(dcc, case.data["JSON"], "CBOR and JSON contents")
    if "CBOR" in case.data and "COSE" in case.data:
        _same(case.cose_payload, dcc, "COSE and CBOR contents")
    return "decoded contents match"


def check_valid_json(case: Case) -> str:
    """EXPECTEDVALIDJSON: the whole chain from PREFIX decodes to the JSON contents."""
    text = hcert.strip_prefix(case.field("PREFIX"))
    message = hcert.parse_cose(hcert.decompress(hcert.decode_base45(text)))
    dcc = hcert.parse_claims(message.payload).payload
    return _same(dcc, case.field("JSON"), "decoded chain and JSON")


def check_schema(case: Case) -> str:
    """EXPECTEDSCHEMAVALIDATION: the decoded DCC validates against the schema of its `ver`."""
    dcc = case.cbor_payload if "CBOR" in case.data else case.cose_payload
    kind = hcert.validate_payload(dcc, case.schemas)
    return f"valid {dcc['ver']} {kind.name.lower()} payload"


def check_valid_object(case: Case) -> str:
    """EXPECTEDVALIDOBJECT: JSON validates against the schema TESTCTX.SCHEMA names."""
    version = str(case.context.get("SCHEMA", ""))
    try:
        schema = case.schemas(version)
    except KeyError as exc:
        raise CaseDataError(f"no schema {version}") from exc
    hcert.validate_against(case.field("JSON"), schema)
    payload_kind(case.field("JSON"))
    return f"JSON valid against schema {version}"


def check_encode(case: Case) -> str:
    """EXPECTEDENCODE: encoding JSON reproduces CBOR, and the deterministic encodings reproduce
    the later stages (Base45 of COMPRESSED is BASE45, `HC1:` + BASE45 is PREFIX).

    ZLIB output and signatures are not deterministic, so COMPRESSED and COSE can only be
    checked by decoding, which EXPECTEDCOMPRESSION and EXPECTEDVERIFY already do.
    """
    encoded = _canonical_cbor(case.field("JSON"))
    if "CBOR" in case.data and encoded != _canonical_cbor(case.cbor_payload):
        raise CaseDataError("JSON encodes to different CBOR")
    if "COSE" in case.data and encoded != _canonical_cbor(case.cose_payload):
        raise CaseDataError("JSON encodes to a different signed payload")
    if "COMPRESSED" in case.data and "BASE45" in case.data:
        _same(hcert.encode_base45(case.compressed), case.data["BASE45"], "Base45 encodings")
    if "BASE45" in case.data and "PREFIX" in case.data:
        _same(PREFIX + case.data["BASE45"], case.data["PREFIX"], "prefixed texts")
    return "encodings reproduce"


def check_expiration(case: Case) -> str:
    """EXPECTEDEXPIRATIONCHECK: VALIDATIONCLOCK within iat..exp, and that within the DSC validity."""
    claims = hcert.parse_claims(hcert.parse_cose(case.cose_bytes).payload)
    for signer in case.trust_list.signers:
        signer.check_covers(claims.issued_at, claims.expires_at)
    hcert.check_time(claims, case.clock)
    return f"valid at {case.clock.isoformat()}"


def check_key_usage(case: Case) -> str:
    """EXPECTEDKEYUSAGE: COSE verifies and the DSC's extended key usage allows its kind."""
    message = hcert.parse_cose(case.cose_bytes)
    signer = hcert.find_signer(message, case.trust_list)
    # The kind is what the group names; how many entries it holds is the schema's concern.
    kind = group_kind(hcert.parse_claims(message.payload).payload)
    signer.check_key_usage(kind)
    return f"signer may sign {kind.name.lower()}"


CHECKS: dict[str, Callable[[Case], str]] = {
    "EXPECTEDPICTUREDECODE": check_picture,
    "EXPECTEDUNPREFIX": check_unprefix,
    "EXPECTEDB45DECODE": check_base45,
    "EXPECTEDCOMPRESSION": check_compression,
    "EXPECTEDVERIFY": check_verify,
    "EXPECTEDDECODE": check_decode,
    "EXPECTEDVALIDJSON": check_valid_json,
    "EXPECTEDSCHEMAVALIDATION": check_schema,
    "EXPECTEDVALIDOBJECT": check_valid_object,
    "EXPECTEDENCODE": check_encode,
    "EXPECTEDEXPIRATIONCHECK": check_expiration,
    "EXPECTEDKEYUSAGE": check_key_usage,
}


def _evaluate(check: Callable[[Case], str], case: Case) -> tuple[bool, str]:
    try:
        return True, check(case)
    except hcert.HcertError as exc:
        return False, f"{exc.code}: {exc.message_en}"
    except CaseDataError as exc:
        return False, str(exc)
    except Exception as exc:  # garbled case data (bad hex, odd CBOR) fails only this flag
        return False, f"{type(exc).__name__}: {exc}"


def run_case(data: Mapping[str, Any], schemas: hcert.SchemaLoader, file: str) -> CaseResult:
    """Compute every flag the case's EXPECTEDRESULTS sets."""
    case = Case(data, schemas)
    expected: Mapping[str, Any] = data.get("EXPECTEDRESULTS") or {}
    flags: dict[str, FlagOutcome] = {}
    unrecognised: list[str] = []
    for name, value in expected.items():
        check = CHECKS.get(name)
        if check is None:
            unrecognised.append(name)
            continue
        computed, detail = _evaluate(check, case)
        flags[name] = FlagOutcome(expected=bool(value), computed=computed, detail=detail)
    return CaseResult(file=file, flags=flags, unrecognised=unrecognised)


def run_conformance(
    folders: Iterable[Path | str], *, schema_root: Path | str | None = None
) -> list[CaseResult]:
    """Run every `*.json` case under each folder; `file` is relative to that folder.

    Schemas default to the ehn-dcc-schema releases in `<folder>/../dcc-schema`.
    """
    results: list[CaseResult] = []
    for folder in map(Path, folders):
        root = Path(schema_root) if schema_root is not None else folder.parent / "dcc-schema"
        schemas = load_schemas(root)
        for path in sorted(folder.rglob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            results.append(run_case(data, schemas, path.relative_to(folder).as_posix()))
    return results


def conformance_summary(results: Iterable[CaseResult]) -> tuple[int, int]:
    """(passed, failed) over every flag checked: passed when computed equals expected."""
    outcomes = [flag for result in results for flag in result["flags"].values()]
    passed = sum(1 for flag in outcomes if flag["computed"] == flag["expected"])
    return passed, len(outcomes) - passed
