"""DCC payload stage: JSON Schema validation against the schema version the payload declares."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from .errors import SchemaError
from .model import CertificateKind

SchemaLoader = Callable[[str], Mapping[str, Any]]
"""Returns the parsed (combined, self-contained) DCC JSON schema for a `ver` string."""

_SEMVER = re.compile(r"^(\d{1,4})\.(\d{1,4})\.(\d{1,4})$")


def _version_key(version: str) -> tuple[int, int, int] | None:
    match = _SEMVER.match(version)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def schema_loader_from_mapping(schemas: Mapping[str, Mapping[str, Any]]) -> SchemaLoader:
    """A loader over already-parsed schemas keyed by version.

    A version without its own schema uses the newest patch release of the same
    major.minor: DCC schema patch releases only fix bugs (semantic versioning).
    """

    def load(version: str) -> Mapping[str, Any]:
        if version in schemas:
            return schemas[version]
        wanted = _version_key(version)
        candidates = [
            (key, name)
            for name in schemas
            if (key := _version_key(name)) is not None
            and wanted is not None
            and key[:2] == wanted[:2]
        ]
        if not candidates:
            raise KeyError(version)
        return schemas[max(candidates)[1]]

    return load


def declared_version(payload: Mapping[str, Any]) -> str:
    """The payload's `ver`, which selects the schema."""
    version = payload.get("ver")
    if not isinstance(version, str) or _version_key(version) is None:
        raise SchemaError("ver is missing or not a x.y.z version", "ver 缺失或不是 x.y.z 版本号")
    return version


def group_kind(payload: Mapping[str, Any]) -> CertificateKind:
    """The kind named by the payload's single event group (v, t or r)."""
    present = [kind for kind in CertificateKind if kind.value in payload]
    if len(present) != 1:
        raise SchemaError(
            "a DCC must carry exactly one of v, t, r",
            "DCC 必须且只能包含 v、t、r 之一",
        )
    return present[0]


def payload_kind(payload: Mapping[str, Any]) -> CertificateKind:
    """The single kind a DCC carries; HCERT allows exactly one event entry."""
    kind = group_kind(payload)
    entries = payload[kind.value]
    # Schema 1.3.0 writes this as maxItems 1; earlier schemas only said it in prose.
    if not isinstance(entries, list) or len(entries) != 1:
        raise SchemaError(
            "a DCC must carry exactly one event entry", "DCC 必须且只能包含一条事件记录"
        )
    return kind


def validate_against(payload: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """Validate the payload against one schema (its $schema picks the draft)."""
    try:
        validator_cls = jsonschema.validators.validator_for(
            schema, default=jsonschema.Draft202012Validator
        )
        error = best_match(validator_cls(schema).iter_errors(payload))
    except Exception as exc:  # a broken schema or unresolvable $ref
        raise SchemaError(f"schema unusable: {exc}", "JSON 模式无法使用") from exc
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        raise SchemaError(
            f"schema violation at {where}: {message}",
            f"不符合 JSON 模式，位置 {where}：{message}",
        )


def validate_payload(payload: Mapping[str, Any], schema_loader: SchemaLoader) -> CertificateKind:
    """Validate against the schema of the declared version and the one-entry rule."""
    version = declared_version(payload)
    try:
        schema = schema_loader(version)
    except Exception as exc:  # whatever the caller's loader raises for an unknown version
        raise SchemaError(
            f"no schema for version {version}", f"没有版本 {version} 的 JSON 模式"
        ) from exc
    validate_against(payload, schema)
    return payload_kind(payload)
