"""The log's self-check: recompute every entry from the rows it records, and the root.

Run at start-up and by ``healthcode log self-check``. Any disagreement between the stored
rows, the entries, the stored tree and the last signed checkpoint halts the log: the sequencer
signs nothing more until an operator has looked (invariant 5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from sqlalchemy import Connection, select

from healthcode.domain.log_entries import (
    designation_cosign_entry,
    designation_entry,
    evidence_batch_entry,
    rulebook_entry,
)
from healthcode.services.escrow import PersonSecrets
from healthcode.services.log_tree import StoredTreeCheck, check_tiles_ahead
from healthcode.services.orders import staff_secret_key
from healthcode.services.selfcheck_acts import expected_acts
from healthcode.services.selfcheck_appeals import expected_appeals
from healthcode.services.selfcheck_evidence import check_rows, evidence_rows_query
from healthcode.services.selfcheck_guardianships import expected_guardianships
from healthcode.services.selfcheck_oversight import expected_oversight
from healthcode.services.selfcheck_person_tokens import expected_person_tokens
from healthcode.services.selfcheck_regions import expected_regional
from healthcode.services.selfcheck_retention import check_batch, expected_purges, load_ledger
from healthcode.services.selfcheck_sources import LoggedSources
from healthcode.services.selfcheck_staff import expected_passwords, expected_staff, unrecorded
from healthcode.services.selfcheck_tokens import acts_named, expected_tokens
from healthcode.services.selfcheck_venue_tokens import expected_venue_tokens
from healthcode.services.status_steps import status_change_entry_for
from healthcode.store import evidence as evidence_repo
from healthcode.store import log as log_repo
from healthcode.store import log_bundles
from healthcode.store import status as status_repo
from healthcode.store import tables as t
from healthcode.store.database import Database
from healthcode.tlog import (
    CompactRange,
    Ed25519Verifier,
    TlogError,
    leaf_hash,
    leaf_hashes,
    merkle_root,
    open_checkpoint,
)

MAX_PROBLEMS = 50


@dataclass
class SelfCheckReport:
    entries: int = 0
    checkpoint_size: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


class SelfCheck:
    def __init__(
        self, db: Database, secrets: PersonSecrets, verifier: Ed25519Verifier, origin: str
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._verifier = verifier
        self._origin = origin

    def run(self, *, now: datetime, halt: bool = True) -> SelfCheckReport:
        report = SelfCheckReport()
        with self._db.snapshot() as conn:  # the rows and the entries of one instant
            expected = self._expected_entries(conn, report)
            self._check_entries(conn, expected, report)
        if halt and not report.ok:
            with self._db.write() as conn:
                log_repo.halt(conn, now, "; ".join(report.problems[:5]))
        return report

    def _expected_entries(
        self, conn: Connection, report: SelfCheckReport
    ) -> dict[int, tuple[str, bytes]]:
        """Every entry the stored rows say exists: index -> (kind, bytes)."""
        expected: dict[int, tuple[str, bytes]] = {}
        for person in conn.scalars(select(t.status_changes.c.person_key).distinct()):
            secret = self._secrets.secret(person)
            for change in status_repo.history(conn, person):
                expected[change.log_index] = (
                    "status_change",
                    status_change_entry_for(change, change.log_index, secret),
                )
        for designation, row in evidence_repo.designation_rows(conn):
            expected[int(row.log_index)] = ("designation", designation_entry(designation))
            if row.cosign_log_index is not None:
                body = designation_cosign_entry(
                    index=int(row.cosign_log_index),
                    supervisor_secret=self._secrets.secret(staff_secret_key(str(row.cosigned_by))),
                    designation_id=designation.id,
                    at=row.activated_at,
                )
                expected[int(row.cosign_log_index)] = ("designation_cosign", body)
        for row in conn.execute(select(t.rulebooks)):
            if hashlib.sha256(row.source.encode()).hexdigest() != row.digest:
                report.add(f"rulebook {row.version}: its text no longer matches its digest")
            body = rulebook_entry(
                version=row.version,
                digest=row.digest,
                published_at=row.published_at,
                effective_from=row.effective_from,
            )
            expected[int(row.log_index)] = ("rulebook", body)
        ledger = load_ledger(conn)  # purged records: docs/operations.md, "Retention"
        roots = self._batch_roots(conn, set(ledger.by_batch), report)
        for row in conn.execute(select(t.evidence_batches)):
            key = (row.source_id, row.batch_id)
            leaves = roots.get(key, (0, b"", []))
            if key in ledger.by_batch or row.purged_records:
                for problem in check_batch(row, leaves[2], ledger):
                    report.add(problem)
            elif leaves[0] != row.record_count or leaves[1] != bytes(row.merkle_root):
                report.add(
                    f"batch {row.source_id}/{row.batch_id}: stored records no longer match its Merkle root"
                )
            body = evidence_batch_entry(
                source_id=row.source_id,
                batch_id=row.batch_id,
                records=row.record_count,
                merkle_root=bytes(row.merkle_root),
                received_at=row.received_at,
            )
            expected[int(row.log_index)] = ("evidence_batch", body)
        # Each kind's entries as its rows say them, and what its rows alone show is wrong.
        for entries, problems in (
            expected_acts(conn, self._secrets),
            expected_appeals(conn, self._secrets),
            expected_oversight(conn, self._secrets),
            expected_purges(ledger),
            expected_regional(conn),
            expected_staff(conn),
            expected_passwords(conn, self._secrets),
            expected_guardianships(conn, self._secrets),
            expected_venue_tokens(conn),
        ):
            expected.update(entries)
            for problem in problems:
                report.add(problem)
        token_entries, token_problems, token_acts = expected_tokens(conn, self._secrets)
        expected.update(token_entries)
        for problem in token_problems + acts_named(token_acts, expected):
            report.add(problem)
        person_entries, person_problems, person_acts = expected_person_tokens(conn, self._secrets)
        expected.update(person_entries)
        for problem in person_problems + acts_named(person_acts, expected, "person"):
            report.add(problem)
        return expected

    @staticmethod
    def _batch_roots(
        conn: Connection, purged: set[tuple[str, str]], report: SelfCheckReport
    ) -> dict[tuple[str, str], tuple[int, bytes, list[int]]]:
        """Recompute each batch's Merkle root from its stored records, in their order; for
        batches with purged records, the positions of those still stored instead. Each row's
        columns are checked against its bytes on the way (`selfcheck_evidence`)."""
        groups: dict[tuple[str, str], list[bytes]] = {}
        positions: dict[tuple[str, str], list[int]] = {}
        rows = conn.execute(evidence_rows_query())
        for key, batch in groupby(rows, key=lambda row: (row.source_id, row.batch_id)):
            stored = list(batch)
            check_rows(stored, report.add)
            if key in purged:
                positions[key] = [int(row.position) for row in stored]
            else:
                groups[key] = leaf_hashes([bytes(row.canonical) for row in stored])
        roots: dict[tuple[str, str], tuple[int, bytes, list[int]]] = {
            key: (len(leaves), merkle_root(leaves), []) for key, leaves in groups.items()
        }
        roots.update({key: (len(found), b"", found) for key, found in positions.items()})
        return roots

    def _check_entries(
        self, conn: Connection, expected: dict[int, tuple[str, bytes]], report: SelfCheckReport
    ) -> None:
        latest = log_repo.latest_checkpoint(conn)
        if latest is not None:
            try:
                open_checkpoint(latest.note, [self._verifier], origin=self._origin)
            except TlogError as error:
                report.add(f"the latest checkpoint does not verify: {error.message}")
        size = latest.size if latest else 0
        report.checkpoint_size = size
        tree = CompactRange()
        # Every stored hash is checked against the entries as they stream by, tile by tile;
        # after a missing entry the leaves no longer line up, and that is reported already.
        stored_tree: StoredTreeCheck | None = StoredTreeCheck(conn, size, report.add)
        end = log_bundles.stored_end(conn)
        if end < size:
            report.add(f"the store holds {end} entries, fewer than checkpoint {size} signed")
        previous = -1
        malformed = lambda fault: report.add(str(fault))  # noqa: E731 (its entries: missing)
        sources = LoggedSources()
        for index, kind, body in log_bundles.iter_entries(conn, 0, end, malformed):
            sources.see(kind, body)
            if index != previous + 1:
                report.add(f"entries {previous + 1}..{index - 1} are missing")
                stored_tree = None
            previous = index
            report.entries += 1
            hashed = leaf_hash(body)
            if index < size:
                tree.append(hashed)
                if stored_tree is not None:
                    stored_tree.add(hashed)
            wanted = expected.pop(index, None)
            if wanted is None:
                if kind != "registry":  # registrations: checked against the sources (`sources`)
                    report.add(f"entry {index} ({kind}) has no stored record")
                else:  # and staff's since migration 0024 against their rows
                    for problem in unrecorded([(index, body)]):
                        report.add(problem)
            elif wanted != (kind, body):
                report.add(f"entry {index} ({kind}) does not match the record it logs")
        for problem in sources.problems(conn):
            report.add(problem)
        for index, (kind, _) in sorted(expected.items())[:MAX_PROBLEMS]:
            report.add(f"a {kind} record points at entry {index}, which is missing")
        if latest is not None and tree.size == size and tree.root() != latest.root:
            report.add(f"the entries do not recompute to the root of the checkpoint of size {size}")
        if stored_tree is not None and tree.size == size:
            stored_tree.finish()
        check_tiles_ahead(conn, size, report.add, MAX_PROBLEMS)
