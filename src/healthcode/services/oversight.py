"""Oversight's cases (the brief's A8: abuse found from the system's own records, fast).

``run`` has the detectors (``healthcode.oversight``) read the store in one read transaction,
then stores in one write transaction every finding not seen before (by its fingerprint) and
opens one case per new finding, each with its ``oversight_finding`` log entry. ``move`` takes
a case, an escalated appeal's or a finding's, one step along its lifecycle
(``domain/oversight/cases.py``): a step row and its ``oversight_case_step`` entry commit
together. Only an active auditor moves a case. Nothing here touches a colour, an order or
evidence: oversight records what it found and what it did about it, and decides nothing
about a person.
"""

from __future__ import annotations

import math
import secrets as token_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from healthcode.domain.oversight import Finding
from healthcode.domain.oversight.cases import CaseStatus, case_status, check_step
from healthcode.domain.oversight.entries import (
    oversight_case_step_entry,
    oversight_finding_entry,
    subject_parts,
)
from healthcode.errors import Detail, NotFound, Unauthorized
from healthcode.oversight.api import Detector, detector_names
from healthcode.oversight.runner import DEFAULT_WINDOW, run_detectors
from healthcode.services import staff_tokens, transparency
from healthcode.services.escrow import PersonSecrets
from healthcode.services.log_reader import CheckpointRef, LogReader
from healthcode.services.orders import staff_secret_key
from healthcode.store import appeals as appeals_repo
from healthcode.store import oversight as oversight_repo
from healthcode.store import staff as staff_repo
from healthcode.store import tables as t
from healthcode.store.appeals import StoredAppeal, StoredCase
from healthcode.store.database import Database
from healthcode.store.oversight import StoredFinding, StoredStep

AUDITOR = "auditor"
# The registered detectors (pyproject.toml, entry points): the findings filter's closed list.
DETECTOR_NAMES = tuple(detector_names())
# A finding's detector name and subject fit the columns they are stored in (store/tables.py).
_WIDTHS = {
    name: getattr(t.oversight_findings.c[name].type, "length", None) or 0
    for name in ("detector", "subject")
}


@dataclass(frozen=True)
class DetectorSummary:
    name: str
    title_zh: str
    title_en: str
    findings: int  # what the detector reported this run
    new_cases: tuple[str, ...]  # the cases opened for findings not seen before


@dataclass(frozen=True)
class RunSummary:
    at: datetime
    window: timedelta
    detectors: list[DetectorSummary]

    @property
    def new_cases(self) -> list[str]:
        return [case for summary in self.detectors for case in summary.new_cases]


@dataclass(frozen=True)
class FindingView:
    finding: StoredFinding
    case: StoredCase | None


@dataclass(frozen=True)
class CaseView:
    case: StoredCase
    finding: StoredFinding | None  # a detector's case
    appeal: StoredAppeal | None  # an escalated appeal's case
    steps: list[StoredStep]
    checkpoint: CheckpointRef | None  # the log checkpoint it was read at

    @property
    def origin(self) -> str:
        return "finding" if self.case.finding_id is not None else "appeal"


def finding_id_for(fingerprint: str) -> str:
    """The same finding gets the same id in every deployment that stores it."""
    return "fnd-" + fingerprint[:16]


def finding_secret_key(finding_id: str) -> str:
    """Whose secret keys a finding's commitments (escrowed to oversight like a person's)."""
    return f"finding:{finding_id}"


def subject_secret_key(subject: str) -> str | None:
    """The escrowed secret a subject that names someone is tagged under: the official's own
    (so their tag here links, for oversight, to the tags of their acts) or the person's."""
    kind, ident = subject_parts(subject)
    if kind == "official":
        return staff_secret_key(ident)
    if kind == "person":
        return ident
    return None


def finding_entry_for(case: StoredCase, finding: StoredFinding, secrets: PersonSecrets) -> bytes:
    """The entry that opened ``case``, rebuilt from its rows (the service and the self-check)."""
    subject_key = subject_secret_key(finding.subject)
    return oversight_finding_entry(
        index=case.log_index, case_id=case.id, finding_id=finding.id, detector=finding.detector,
        subject=finding.subject,
        subject_secret=secrets.secret(subject_key) if subject_key else None,
        finding_secret=secrets.secret(finding_secret_key(finding.id)),
        fingerprint=finding.fingerprint, records=finding.records, score=finding.score,
        window_from=finding.window_from, window_to=finding.window_to, opened_at=case.opened_at,
    )  # fmt: skip


def step_entry_for(step: StoredStep, previous: str, secrets: PersonSecrets) -> bytes:
    return oversight_case_step_entry(
        index=step.log_index, auditor_secret=secrets.secret(staff_secret_key(step.by_id)),
        case_id=step.case_id, seq=step.seq, previous=previous, status=step.status,
        note=step.note, at=step.at,
    )  # fmt: skip


def _checked(finding: Finding, detector: Detector) -> Finding:
    """A detector's mistake is refused whole, naming the detector, before anything is stored."""
    if finding.detector != detector.name:
        raise ValueError(f"detector {detector.name!r} reported a finding of {finding.detector!r}")
    if len(finding.subject) > _WIDTHS["subject"] or len(finding.detector) > _WIDTHS["detector"]:
        raise ValueError(f"detector {detector.name!r}: subject or name too long")
    if not math.isfinite(finding.score):
        raise ValueError(f"detector {detector.name!r}: a score must be a finite number")
    return finding


class Oversight:
    def __init__(self, db: Database, secrets: PersonSecrets, log: LogReader) -> None:
        self._db = db
        self._secrets = secrets
        self._log = log

    # --- detectors -----------------------------------------------------------------------

    def run(
        self,
        now: datetime,
        *,
        window: timedelta = DEFAULT_WINDOW,
        detectors: Sequence[Detector] | None = None,
    ) -> RunSummary:
        """Run the detectors (every registered one, or those given) over ``[now - window,
        now]``; store new findings and open a case for each. Running again finds nothing new
        unless the records changed."""
        with self._db.read() as conn:
            if not self._db.is_sqlite:
                # One snapshot for every detector; SQLite's read transaction already is one.
                conn.execution_options(isolation_level="REPEATABLE READ")
            runs = run_detectors(conn, now=now, window=window, detectors=detectors)
        found = [[_checked(f, run.detector) for f in run.findings] for run in runs]
        summaries = []
        with self._db.write() as conn:
            for run, findings in zip(runs, found, strict=True):
                opened = [
                    case_id
                    for finding in findings
                    if (case_id := self._open(conn, finding, now)) is not None
                ]
                summaries.append(DetectorSummary(
                    run.detector.name, run.detector.title_zh, run.detector.title_en,
                    len(findings), tuple(opened),
                ))  # fmt: skip
        return RunSummary(now, window, summaries)

    def _open(self, conn: Connection, finding: Finding, now: datetime) -> str | None:
        """Store the finding and open its case, or None if it was stored before."""
        fingerprint = finding.fingerprint
        finding_id = finding_id_for(fingerprint)
        stored = oversight_repo.insert_finding(conn, {
            "id": finding_id, "detector": finding.detector, "subject": finding.subject,
            "fingerprint": fingerprint, "score": float(finding.score),
            "summary_zh": finding.summary_zh, "summary_en": finding.summary_en,
            "window_from": finding.window_from, "window_to": finding.window_to,
            "records": list(finding.records), "found_at": now,
        })  # fmt: skip
        if not stored:
            return None
        row = oversight_repo.finding(conn, finding_id)
        assert row is not None
        keys = [finding_secret_key(finding_id), subject_secret_key(finding.subject)]
        self._secrets.escrow_missing(conn, [key for key in keys if key], now)
        case_id = "case-" + token_secrets.token_hex(8)

        def entry(index: int) -> bytes:
            opened = StoredCase(case_id, None, None, CaseStatus.OPEN.value, now, index, finding_id)
            return finding_entry_for(opened, row, self._secrets)

        [index] = transparency.append(conn, [("oversight_finding", entry)], now)
        appeals_repo.insert_case(conn, {
            "id": case_id, "finding_id": finding_id, "status": CaseStatus.OPEN.value,
            "opened_at": now, "log_index": index,
        })  # fmt: skip
        return case_id

    # --- the lifecycle -------------------------------------------------------------------

    def move(
        self, by: str, case_id: str, status: str, note: str, *, now: datetime,
        operator_token: str | None = None,
    ) -> CaseView:  # fmt: skip
        """An auditor (badge ``by``) takes a case one step; closing needs the conclusion as
        the note. A refused step writes nothing. ``operator_token``: the id of the token the
        auditor acts with when the operator issued it (the step is logged as made with it)."""
        with self._db.write() as conn:
            member = staff_repo.find(conn, by)
            if member is None or not member.active or member.role != AUDITOR:
                raise Unauthorized("auth.forbidden", Detail("only an active auditor moves a case"))
            case = oversight_repo.case(conn, case_id)
            if case is None:
                raise NotFound("oversight.case_not_found")
            new = check_step(case.status, status, note)
            seq = oversight_repo.next_seq(conn, case.id)
            secret = self._secrets.secret(staff_secret_key(by))
            self._secrets.escrow_missing(conn, [staff_secret_key(by)], now)
            [index] = transparency.append(conn, [("oversight_case_step", lambda i: oversight_case_step_entry(
                index=i, auditor_secret=secret, case_id=case.id, seq=seq, previous=case.status,
                status=new.value, note=note, at=now,
            ))], now)  # fmt: skip
            staff_tokens.record_use(
                conn, operator_token, staff_id=by, act_index=index, act="oversight_case_step",
                now=now,
            )  # fmt: skip
            oversight_repo.insert_step(conn, {
                "case_id": case.id, "seq": seq, "status": new.value, "by_id": by, "at": now,
                "note": note, "log_index": index,
            })  # fmt: skip
            oversight_repo.update_case(
                conn, case.id, status=new.value, updated_at=now,
                conclusion=note if new is CaseStatus.CLOSED else None,
            )  # fmt: skip
            return self._view(conn, case.id)

    # --- reading -------------------------------------------------------------------------

    def cases(self, status: str | None = None) -> list[CaseView]:
        """Every case (or those in ``status``), the oldest first, each with what opened it."""
        wanted = None if status is None else case_status(status).value
        with self._db.read() as conn:
            found = oversight_repo.cases(conn, status=wanted)
            findings = oversight_repo.findings_by_ids(
                conn, [c.finding_id for c in found if c.finding_id]
            )
            steps = oversight_repo.steps_by_case(conn, [c.id for c in found])
            checkpoint = self._log.checkpoint_at(conn)
            return [
                CaseView(
                    case,
                    findings.get(case.finding_id) if case.finding_id else None,
                    appeals_repo.by_id(conn, case.appeal_id) if case.appeal_id else None,
                    steps.get(case.id, []),
                    checkpoint,
                )
                for case in found
            ]

    def case(self, case_id: str) -> CaseView:
        with self._db.read() as conn:
            return self._view(conn, case_id)

    def _view(self, conn: Connection, case_id: str) -> CaseView:
        case = oversight_repo.case(conn, case_id)
        if case is None:
            raise NotFound("oversight.case_not_found")
        return CaseView(
            case,
            oversight_repo.finding(conn, case.finding_id) if case.finding_id else None,
            appeals_repo.by_id(conn, case.appeal_id) if case.appeal_id else None,
            oversight_repo.steps(conn, case.id),
            self._log.checkpoint_at(conn),
        )

    def findings(self, detector: str | None = None, limit: int = 500) -> list[FindingView]:
        """The newest findings first, each with its case."""
        with self._db.read() as conn:
            found = oversight_repo.findings(conn, detector=detector, limit=limit)
            cases = oversight_repo.cases_of_findings(conn, [f.id for f in found])
        return [FindingView(finding, cases.get(finding.id)) for finding in found]
