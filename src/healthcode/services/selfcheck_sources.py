"""Each evidence source and each authority's jurisdiction as the log says it is: the key,
kinds, authority and area of a source's last registration, or of its last co-signed change (a
new source's proposal names all four), and the jurisdiction of an authority's last
registration or co-signed jurisdiction change (docs/api.md, "Source keys").

The self-check reads every entry once; this keeps the few that set a source or a jurisdiction
as they stream by, then compares the stored rows with them. Those rows are changed only in the
transaction that logs the change, so any other difference was made by other means (SQL): most
sources never have a co-signed change, and without this their key could be swapped unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from healthcode.domain import areas
from healthcode.domain.jurisdiction_changes import widened
from healthcode.store import registry as registry_repo

KINDS = frozenset({
    "registry", "source_key_proposal", "source_key_cosign", "jurisdiction_proposal",
    "jurisdiction_cosign",
})  # fmt: skip


@dataclass(frozen=True)
class _Logged:
    public_key: bytes | None  # None: not a key of its own (an EU DCC country's source)
    kinds: frozenset[str]
    authority_id: str
    area: str


class LoggedSources:
    def __init__(self) -> None:
        self._sources: dict[str, _Logged] = {}
        # A change's source and what it proposes; a new source's proposal is its registration.
        self._proposed: dict[str, tuple[str, _Logged, bool]] = {}
        self._jurisdictions: dict[str, frozenset[str]] = {}
        self._widenings: dict[str, tuple[str, frozenset[str]]] = {}

    def see(self, kind: str, body: bytes) -> None:
        """Take an entry into account, if it sets a source (the others cost a test)."""
        if kind not in KINDS:
            return
        try:
            data = json.loads(body)["data"]
            self._take(kind, data)
        except (ValueError, KeyError, TypeError):
            # An entry the self-check cannot read is reported by what it rebuilds; a
            # registration it cannot read leaves the source as the entries before it set it.
            return

    def _take(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "registry":
            record = data["record"]
            if data["what"] == "authority":
                self._jurisdictions[record["id"]] = frozenset(record["jurisdiction"])
            elif data["what"] == "source":
                self._sources[record["id"]] = _Logged(
                    _key(record["public_key"]), frozenset(record["kinds"]),
                    record["authority"], record["area"],
                )  # fmt: skip
        elif kind == "source_key_proposal":
            new = data["previous_key"] is None
            self._proposed[data["change"]] = (data["source"], _Logged(
                _key(data["public_key"]), frozenset(data["kinds"]), data["authority"],
                data["area"] if new else "",
            ), new)  # fmt: skip
        elif kind == "source_key_cosign":
            source_id, proposed, new = self._proposed[data["change"]]
            logged = self._sources.get(source_id)
            if new:
                self._sources[source_id] = proposed
            elif logged is not None:
                self._sources[source_id] = replace(
                    logged, public_key=proposed.public_key, kinds=proposed.kinds
                )
        elif kind == "jurisdiction_proposal":
            self._widenings[data["change"]] = (
                data["authority"], frozenset(data["jurisdiction"])
            )  # fmt: skip
        else:
            authority_id, jurisdiction = self._widenings[data["change"]]
            self._jurisdictions[authority_id] = jurisdiction

    def problems(self, conn: Connection) -> list[str]:
        """Each source no entry registers, or whose key or authority are not the logged ones,
        or whose kinds or area are more than logged (fewer would take power away, not add it);
        each authority whose jurisdiction no entry registers, or wider than logged."""
        found = []
        for source_id, source in sorted(registry_repo.sources(conn).items()):
            logged = self._sources.get(source_id)
            if logged is None:
                found.append(f"source {source_id}: no entry registers it")
            elif (
                (logged.public_key is not None and source.public_key != logged.public_key)
                or source.authority_id != logged.authority_id
                or not source.kinds <= logged.kinds
                or not areas.contains(logged.area, source.area)
            ):
                found.append(
                    f"source {source_id}: its key, kinds, authority or area are not those its"
                    " last registration or co-signed key change logged"
                )
        for authority_id, stored in sorted(registry_repo.jurisdictions(conn).items()):
            held = self._jurisdictions.get(authority_id)
            if held is None:
                found.append(f"authority {authority_id}: no entry registers it")
            elif widened(held, stored):
                found.append(
                    f"authority {authority_id}: its jurisdiction is wider than its last"
                    " registration or co-signed jurisdiction change logged"
                )
        return found


def _key(text: object) -> bytes | None:
    """A logged public key: base64 (a load, a key change) or unpadded base64url (a scan
    source's); None for none."""
    if not isinstance(text, str):
        return None
    normal = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
