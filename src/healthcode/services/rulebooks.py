"""Publishing rulebook editions and finding the edition in force at an instant."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import Connection, select

from healthcode.domain.canonical import canonical
from healthcode.domain.log_entries import rulebook_entry
from healthcode.domain.rulebook import Rulebook, RulebookError, load_rulebook
from healthcode.errors import InputRejected, NotFound
from healthcode.services import transparency
from healthcode.store import rulebooks as repo
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.store.rulebooks import StoredEdition


def default_edition_source() -> dict[str, Any]:
    text = resources.files("healthcode.data.rulebook").joinpath("edition-1.yaml").read_text()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def parse_source(source: object) -> Rulebook:
    """Validate a proposed edition; a refused one raises InputRejected with its code."""
    if not isinstance(source, dict):
        raise InputRejected("rulebook.invalid", "a rulebook is an object")
    try:
        return load_rulebook(source)
    except RulebookError as exc:
        code = "rulebook.names_people" if exc.names_people else "rulebook.invalid"
        raise InputRejected(code, str(exc)) from None


@dataclass(frozen=True)
class Edition:
    rulebook: Rulebook
    published_at: datetime
    effective_from: datetime


_PARSED_LIMIT = 256  # parsed editions kept (there are a handful)


class Rulebooks:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Every status computation reads the editions; each stored text is parsed and checked
        # once. Keyed by the text itself, so what is used is always what is stored.
        self._parsed: dict[str, Rulebook] = {}

    def publish(
        self,
        conn: Connection,
        source: object,
        *,
        now: datetime,
        effective_from: datetime | None = None,
    ) -> Edition:
        """Publish an edition inside the caller's write transaction."""
        rulebook = parse_source(source)
        effective = effective_from or now
        if effective < now:
            raise InputRejected("rulebook.backdated")
        existing = repo.editions(conn)
        if existing and rulebook.version <= existing[-1].version:
            raise InputRejected(
                "rulebook.version_not_increasing", f"latest is {existing[-1].version}"
            )
        encoded = canonical(rulebook.source)
        digest = hashlib.sha256(encoded).hexdigest()
        index = transparency.append_one(
            conn,
            "rulebook",
            rulebook_entry(
                version=rulebook.version, digest=digest, published_at=now, effective_from=effective
            ),
            now,
        )
        repo.insert(
            conn,
            StoredEdition(
                version=rulebook.version,
                published_at=now,
                effective_from=effective,
                source=rulebook.source,
                digest=digest,
            ),
            encoded,
            index,
        )
        if effective <= now and conn.scalar(select(t.evidence.c.person_key).limit(1)) is None:
            repo.mark_applied(conn, rulebook.version, now)  # nobody to recompute
        return Edition(rulebook, now, effective)

    def editions(self, conn: Connection) -> list[Edition]:
        return [
            Edition(self._rulebook(text), published_at, effective_from)
            for published_at, effective_from, text in repo.edition_sources(conn)
        ]

    def _rulebook(self, text: str) -> Rulebook:
        found = self._parsed.get(text)
        if found is None:
            found = load_rulebook(json.loads(text), lax=True)  # published: as accepted then
            if len(self._parsed) >= _PARSED_LIMIT:
                self._parsed.clear()
            self._parsed[text] = found
        return found

    def in_force(self, conn: Connection, at: datetime) -> Rulebook:
        return in_force(self.editions(conn), at)

    def edition(self, version: int) -> Edition:
        with self._db.read() as conn:
            stored = repo.edition(conn, version)
        if stored is None:
            raise NotFound("rulebook.not_found", str(version))
        return Edition(
            load_rulebook(stored.source, lax=True), stored.published_at, stored.effective_from
        )


def in_force(editions: list[Edition], at: datetime) -> Rulebook:
    """The latest edition in effect at ``at`` (editions are sorted by version)."""
    current = [edition for edition in editions if edition.effective_from <= at]
    if not current:
        raise NotFound("rulebook.not_found", "no edition in force")
    return current[-1].rulebook
