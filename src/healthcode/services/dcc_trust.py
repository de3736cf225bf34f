"""The DCC trust list: the document signer certificates EU DCCs are verified with.

Supervisors add and remove signers over the API, the operator loads them from a file or an
endpoint; every change is a ``registry`` log entry committed with it. The first signer of a
country also registers what DCC evidence is attributed to (``domain/dcc.py``): the area
standing for "abroad", the ``dcc`` authority and the country's source ``dcc-<country>``, each
logged like any registration. Removing a signer refuses its DCCs from then on; evidence it
verified before stays (history is never rewritten).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Connection

from healthcode.credentials import hcert
from healthcode.credentials.hcert.model import CertificateKind
from healthcode.domain import dcc
from healthcode.domain.areas import Area
from healthcode.domain.batches import SourceRegistration
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.log_entries import registry_entry
from healthcode.errors import InputRejected, NotFound
from healthcode.services import staff_tokens, transparency
from healthcode.store import dcc as repo
from healthcode.store import registry as registry_repo
from healthcode.store.database import Database
from healthcode.store.dcc import StoredSigner

OPERATOR = "operator"
REMOVE_REASONS = frozenset(
    {"withdrawn_by_issuer", "key_compromised", "superseded", "entered_in_error"}
)
KINDS = {
    CertificateKind.TEST: EvidenceKind.TEST_RESULT,
    CertificateKind.VACCINATION: EvidenceKind.VACCINATION,
    CertificateKind.RECOVERY: EvidenceKind.RECOVERY,
}
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_HEX_KID = re.compile(r"^[0-9a-fA-F]{16}$")
_FINGERPRINT = re.compile(r"^[0-9a-fA-F]{64}$")
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


@dataclass(frozen=True)
class SignerCertificate:
    """A certificate to trust: its bytes (DER or PEM) and the country it signs for."""

    certificate: bytes
    country: str | None = None
    kid: str | None = None  # as the document gives it (base64 or hex), checked if present


def _no_key(country: str) -> bytes:
    """The sources table wants an Ed25519 key; a DCC source has none, so it gets 32 bytes
    that are a hash, not a key anyone holds (and intake refuses batches naming it anyway)."""
    return hashlib.sha256(b"healthcode:dcc-source-has-no-ed25519-key:" + country.encode()).digest()


def _parse(item: SignerCertificate) -> hcert.DocumentSigner:
    """The signer, with its country: as given, else the certificate's; they must agree."""
    try:
        signer = hcert.DocumentSigner.from_certificate(item.certificate)
    except hcert.TrustListError as exc:
        raise InputRejected("dcc.trust_list", exc.message_en) from None
    own = signer.country
    country = item.country or own
    if country is None or not dcc.is_country(country):
        raise InputRejected(
            "dcc.trust_list", "no ISO 3166-1 alpha-2 country given or in the certificate"
        )
    if own is not None and own != country:
        raise InputRejected(
            "dcc.trust_list", f"the certificate's subject is of {own}, not {country}"
        )
    if item.kid is not None and _kid_bytes(item.kid) != signer.kid:
        raise InputRejected("dcc.trust_list", "the kid given is not the certificate's")
    return hcert.DocumentSigner.from_certificate(signer.der, country)


def _kid_bytes(text: str) -> bytes | None:
    if _HEX_KID.match(text):
        return bytes.fromhex(text)
    try:
        standard = text.rstrip("=").replace("-", "+").replace("_", "/")
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 8 else None


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _kinds(signer: hcert.DocumentSigner) -> list[str]:
    return sorted(str(KINDS[kind]) for kind in signer.allowed_kinds)


class DccTrust:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._cached: tuple[tuple[int, int, int], hcert.DccTrustList] | None = None

    # --- reading -------------------------------------------------------------------------

    def signers(self) -> list[StoredSigner]:
        """Every signer ever trusted, a removed one with its removal."""
        with self._db.read() as conn:
            return repo.signers(conn)

    def trust_list(self) -> hcert.DccTrustList:
        """The active signers, parsed once per change of the list."""
        with self._db.read() as conn:
            version = repo.version(conn)
            cached = self._cached
            if cached is not None and cached[0] == version:
                return cached[1]
            rows = repo.signers(conn, active_only=True)
        built = hcert.DccTrustList(
            tuple(
                hcert.DocumentSigner.from_certificate(row.certificate, row.country) for row in rows
            )
        )
        with self._lock:
            self._cached = (version, built)
        return built

    @staticmethod
    def still_trusted(conn: Connection, kid: bytes, country: str) -> StoredSigner | None:
        """Inside a write: the active signer a DCC was verified with, if it still is."""
        found = [
            s for s in repo.signers(conn, active_only=True, kid=kid.hex()) if s.country == country
        ]
        return found[0] if found else None

    # --- changing ------------------------------------------------------------------------

    def add(
        self, items: Iterable[SignerCertificate], *, by: str, authority: str | None,
        now: datetime, operator_token: str | None = None,
    ) -> tuple[list[StoredSigner], int]:  # fmt: skip
        """Trust the certificates (all or nothing); returns every one's row and how many were
        new. A certificate already trusted changes nothing and is not logged again.
        ``operator_token``: a supervisor's `Actor.operator_token` (services/staff_tokens.py)."""
        parsed = [_parse(item) for item in items]
        added = 0
        with self._db.write() as conn:
            for signer in parsed:
                fingerprint = _fingerprint(signer.der)
                existing = repo.signer(conn, fingerprint)
                if existing is not None and existing.active:
                    continue
                country = signer.country
                assert country is not None  # _parse always sets it
                source_id = self._ensure_source(conn, country, now)
                record = {
                    "fingerprint": fingerprint,
                    "kid": signer.kid.hex(),
                    "country": country,
                    "source": source_id,
                    "certificate": base64.b64encode(signer.der).decode(),
                    "not_before": signer.not_before.isoformat(),
                    "not_after": signer.not_after.isoformat(),
                    "kinds": _kinds(signer),
                    "by_authority": authority or OPERATOR,
                }
                index = transparency.append_one(
                    conn, "registry", registry_entry("dcc_signer", record, now), now
                )
                staff_tokens.record_use(
                    conn, operator_token, staff_id=by, act_index=index, act="registry", now=now
                )
                repo.save_signer(
                    conn, fingerprint=fingerprint, kid=signer.kid.hex(), country=country,
                    source_id=source_id, certificate=signer.der, not_before=signer.not_before,
                    not_after=signer.not_after, kinds=_kinds(signer), added_at=now, added_by=by,
                    log_index=index,
                )  # fmt: skip
                added += 1
            rows = [repo.signer(conn, _fingerprint(signer.der)) for signer in parsed]
        return [row for row in rows if row is not None], added

    def remove(
        self, kid: str, *, reason: str, by: str, authority: str | None, now: datetime,
        operator_token: str | None = None,
    ) -> list[StoredSigner]:  # fmt: skip
        """Stop trusting the signer(s) with this kid (hex or base64; a 64-hex fingerprint
        names one certificate if two ever share a kid). ``operator_token`` as for `add`."""
        if reason not in REMOVE_REASONS:
            raise InputRejected(
                "request.malformed", f"reason must be one of {sorted(REMOVE_REASONS)}"
            )
        with self._db.write() as conn:
            if _FINGERPRINT.match(kid):
                one = repo.signer(conn, kid.lower())
                found = [one] if one is not None and one.active else []
            else:
                raw = _kid_bytes(kid)
                found = [] if raw is None else repo.signers(conn, active_only=True, kid=raw.hex())
            if not found:
                raise NotFound("dcc.signer_not_found")
            for signer in found:
                record = {
                    "fingerprint": signer.fingerprint,
                    "kid": signer.kid,
                    "country": signer.country,
                    "reason": reason,
                    "by_authority": authority or OPERATOR,
                }
                index = transparency.append_one(
                    conn, "registry", registry_entry("dcc_signer_removal", record, now), now
                )
                staff_tokens.record_use(
                    conn, operator_token, staff_id=by, act_index=index, act="registry", now=now
                )
                repo.remove_signer(
                    conn, signer.fingerprint, at=now, by=by, reason=reason, log_index=index
                )
            return [row for s in found if (row := repo.signer(conn, s.fingerprint)) is not None]

    @staticmethod
    def _ensure_source(conn: Connection, country: str, now: datetime) -> str:
        """The country's source, with the area and authority it needs, registered (and
        logged) the first time one of its signers is trusted."""
        source_id = dcc.source_id_for(country)
        if registry_repo.source(conn, source_id) is not None:
            return source_id
        entries: list[tuple[str, dict[str, Any]]] = []
        if dcc.DCC_AREA not in registry_repo.area_codes(conn):
            zh, en = dcc.DCC_AREA_NAMES
            registry_repo.save_area(conn, Area(dcc.DCC_AREA, zh, en))
            entries.append(("area", {"code": dcc.DCC_AREA, "zh": zh, "en": en}))
        if dcc.DCC_AUTHORITY not in registry_repo.authority_names(conn):
            zh, en = dcc.DCC_AUTHORITY_NAMES
            registry_repo.save_authority(conn, dcc.DCC_AUTHORITY, zh, en, [dcc.DCC_AREA])
            entries.append(
                (
                    "authority",
                    {"id": dcc.DCC_AUTHORITY, "zh": zh, "en": en, "jurisdiction": [dcc.DCC_AREA]},
                )
            )
        kinds = sorted(str(kind) for kind in KINDS.values())
        name = f"EU DCC document signers of {country}"
        registry_repo.save_source(
            conn,
            SourceRegistration(
                id=source_id, authority_id=dcc.DCC_AUTHORITY, public_key=_no_key(country),
                kinds=frozenset(KINDS.values()), area=dcc.DCC_AREA,
            ),
            name,
            now,
        )  # fmt: skip
        entries.append(
            ("source", {"id": source_id, "authority": dcc.DCC_AUTHORITY, "name": name,
                        "public_key": None, "verified_by": "dcc_signers", "kinds": kinds,
                        "area": dcc.DCC_AREA})
        )  # fmt: skip
        transparency.append(
            conn,
            [("registry", registry_entry(what, record, now)) for what, record in entries],
            now,
        )
        return source_id


# --- reading a trust list from a file, a folder or an endpoint -------------------------------


def parse_document(data: bytes) -> list[SignerCertificate]:
    """A JSON trust list: a list (or ``{"certificates": [...]}``) of ``{"country",
    "certificate"}`` with the base64 DER (``rawData``, as the EU gateway's exports name it,
    is read too; a ``kid`` is checked against the certificate); or PEM text."""
    if _PEM.search(data):
        return [SignerCertificate(pem) for pem in _PEM.findall(data)]
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputRejected("dcc.trust_list", "neither JSON nor PEM") from None
    items = document.get("certificates") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise InputRejected("dcc.trust_list", "expected a list of certificates")
    found = []
    for number, item in enumerate(items):
        raw = item.get("certificate", item.get("rawData")) if isinstance(item, dict) else None
        country = item.get("country") if isinstance(item, dict) else None
        kid = item.get("kid") if isinstance(item, dict) else None
        if (
            not isinstance(raw, str)
            or not isinstance(country, str | None)
            or not isinstance(kid, str | None)
        ):
            raise InputRejected(
                "dcc.trust_list", f"item {number}: country and base64 certificate expected"
            )
        try:
            der = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise InputRejected(
                "dcc.trust_list", f"item {number}: certificate is not base64"
            ) from None
        found.append(SignerCertificate(der, country, kid))
    return found


def _fetch(client: httpx2.Client, url: str) -> list[SignerCertificate]:
    try:
        response = client.get(url)
    except httpx2.HTTPError as exc:
        raise InputRejected("dcc.trust_list", f"GET {url} failed: {exc}") from None
    if response.status_code != 200 or len(response.content) > MAX_DOCUMENT_BYTES:
        raise InputRejected("dcc.trust_list", f"GET {url}: HTTP {response.status_code}")
    return parse_document(response.content)


def read_location(location: str, *, client: httpx2.Client | None = None) -> list[SignerCertificate]:
    """The certificates at a URL (http/https), in a file, or in a folder of PEM/DER files."""
    if location.startswith(("https://", "http://")):
        if client is None:
            with httpx2.Client(timeout=30, follow_redirects=True) as own:
                return _fetch(own, location)
        return _fetch(client, location)
    path = Path(location)
    if path.is_dir():
        found: list[SignerCertificate] = []
        for file in sorted(
            p for p in path.iterdir() if p.suffix.lower() in {".pem", ".crt", ".cer", ".der"}
        ):
            data = file.read_bytes()
            found.extend(parse_document(data) if _PEM.search(data) else [SignerCertificate(data)])
        return found
    if not path.is_file():
        raise InputRejected("dcc.trust_list", f"no such file, folder or URL: {location}")
    return parse_document(path.read_bytes())
