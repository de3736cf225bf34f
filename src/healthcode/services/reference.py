"""A process's copy of the small tables every batch of evidence reads: the sources, the areas,
the rulebook editions, the designations in force and the set-asides.

Each batch read them afresh, five statements (on PostgreSQL five round trips) for tables that
change a few times a day. The copy is used only while the store's reference stamp, read in the
batch's own transaction, is the one it was read under (`store.reference_stamp`: the store's
triggers renew it in any transaction that writes those tables, from any process), so a batch
sees exactly what it would have read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from healthcode.domain.batches import SourceRegistration
from healthcode.domain.designations import RiskDesignation
from healthcode.domain.status import SetAside
from healthcode.services.rulebooks import Edition, Rulebooks
from healthcode.store import evidence as evidence_repo
from healthcode.store import reference_stamp
from healthcode.store import registry as registry_repo
from healthcode.store import set_asides as set_aside_repo


@dataclass(frozen=True)
class Reference:
    """The small tables as one transaction sees them."""

    stamp: str | None  # None: the store has no stamp, and this copy is never kept
    sources: dict[str, SourceRegistration]
    areas: frozenset[str]
    editions: list[Edition]
    designations: list[RiskDesignation]  # every one in force (activated)
    set_asides: list[SetAside]


class ReferenceCache:
    def __init__(self, rulebooks: Rulebooks) -> None:
        self._rulebooks = rulebooks
        # One copy, replaced whole: threads that read it at once each see a whole copy, and
        # each checks its stamp against its own transaction's.
        self._copy: Reference | None = None

    def current(self, conn: Connection) -> Reference:
        """The tables as ``conn``'s transaction sees them: the copy if its stamp is the
        stamp now, else read (and kept). Valid until the transaction writes one of them."""
        stamp = reference_stamp.read(conn)
        copy = self._copy
        if stamp is not None and copy is not None and copy.stamp == stamp:
            return copy
        fresh = Reference(
            stamp=stamp,
            sources=registry_repo.sources(conn),
            areas=frozenset(registry_repo.area_codes(conn)),
            editions=self._rulebooks.editions(conn),
            designations=evidence_repo.all_designations(conn),
            set_asides=set_aside_repo.all_set_asides(conn),
        )
        if stamp is not None:
            self._copy = fresh
        return fresh
