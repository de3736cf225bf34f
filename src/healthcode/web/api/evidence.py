"""Evidence sources submit signed batches here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import TypeAdapter

from healthcode.domain.evidence import RECORD_ID_PATTERN, SERVER_FIELDS, Evidence
from healthcode.web.api.schemas import ERRORS, IntakeReceiptOut
from healthcode.web.auth import SOURCE
from healthcode.web.bodies import larger_body

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence sources"])

MAX_BODY_BYTES = 8 * 1024 * 1024


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with pydantic's ``$defs`` references replaced by what they name: the schema is
    embedded in the operation, where those references would point nowhere."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def _batch_schema() -> dict[str, Any]:
    """The batch as /openapi.json documents it: what ``domain.batches.check_batch`` accepts,
    each record one of the evidence kinds without the fields the server sets. The body stays a
    plain object at run time: the signature covers its exact JSON, and the domain refuses a bad
    one with its own codes (``batch.malformed``, ``batch.signature_invalid``, ...)."""
    evidence = TypeAdapter(Evidence).json_schema()
    kinds = []
    for kind in _inline(evidence, evidence.get("$defs", {}))["oneOf"]:
        properties = {k: v for k, v in kind["properties"].items() if k not in SERVER_FIELDS}
        required = [k for k in kind.get("required", []) if k not in SERVER_FIELDS]
        kinds.append({"type": "object", "properties": properties,
                      "required": sorted({*required, "kind"}), "additionalProperties": False})  # fmt: skip
    return {
        "type": "object",
        "properties": {
            "source": {"type": "string", "pattern": RECORD_ID_PATTERN},
            "batch_id": {"type": "string", "pattern": RECORD_ID_PATTERN},
            "records": {"type": "array", "minItems": 1, "items": {"oneOf": kinds}},
            "signature": {"type": "string", "description": "base64 Ed25519 over RFC 8785"},
        },
        "required": ["batch_id", "records", "signature", "source"],
        "additionalProperties": False,
    }


@router.post(
    "/batches",
    response_model=IntakeReceiptOut,
    responses=ERRORS,
    dependencies=[Depends(SOURCE)],
    openapi_extra=larger_body(MAX_BODY_BYTES),
)
def submit_batch(
    request: Request,
    body: Annotated[
        dict[str, Any],
        Body(
            description="A signed evidence batch; see docs/api.md.",
            json_schema_extra=_batch_schema(),
        ),
    ],
) -> IntakeReceiptOut:
    services = request.app.state.services
    if isinstance(body.get("source"), str):
        request.state.source_id = body["source"][:64]
    receipt = services.intake.submit(body, now=services.clock.now())
    return IntakeReceiptOut(**receipt.__dict__)
