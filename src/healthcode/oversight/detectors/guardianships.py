"""Guardians of many people, and guardianships ended soon after they began (``guardianships``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

from sqlalchemy import Connection, func, select, union, union_all

from healthcode.domain.oversight import Finding, guardianship_ref
from healthcode.domain.oversight.guardianships import (
    GuardianshipPolicy,
    Held,
    guardian_subject,
    short_guardianships,
    wide_guardians,
)
from healthcode.oversight.api import DetectorContext
from healthcode.store import tables as t

# The role a guardian's reads are recorded under (services/access.GUARDIAN: a layer above).
GUARDIAN = "guardian"


class GuardianReach:
    name = "guardianships"
    title_zh = "运营方登记的监护关系：一人监护多人，或登记后很快解除"
    title_en = "Guardianships the operator recorded: one guardian of many, or ended soon after"

    def __init__(self, policy: GuardianshipPolicy = GuardianshipPolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        wide = wide_guardians(
            self._held(context), since=context.since, now=context.now, policy=self.policy
        )
        short = short_guardianships(
            self._ended(context), since=context.since, now=context.now, policy=self.policy
        )
        first = _first_entries(
            context.conn, {g.guardian for g in wide} | {g.guardian for g in short}
        )
        for found in wide:
            entry = first[found.guardian]
            subject = guardian_subject(entry)
            most = self.policy.max_dependants
            yield Finding(
                detector=self.name,
                subject=subject,
                summary_zh=f"日志条目 {entry} 所记录的监护人在此期间是 {found.dependants} 人的"
                f"监护人，超过一户家庭的 {most} 人：可以读取其中每个人的健康码、通行凭证和身份卡。",
                summary_en=f"The guardian named in log entry {entry} was guardian of "
                f"{found.dependants} people in the period, more than a family's {most}: they "
                "could read each one's code, pass and identity card.",
                score=float(found.excess),
                window_from=context.since,
                window_to=context.now,
                records=tuple(sorted(guardianship_ref(i) for i in found.entries)),
            )
        for ended in short:
            entry = first[ended.guardian]
            subject = guardian_subject(entry)
            count, reads, hours = len(ended.ended), ended.reads, self.policy.min_hours_in_force
            minutes = int(ended.shortest.total_seconds() // 60)
            yield Finding(
                detector=self.name,
                subject=subject,
                summary_zh=f"日志条目 {entry} 所记录的监护人有 {count} 项监护关系在登记后 "
                f"{hours:g} 小时内即被运营方解除（最短的仅 {minutes} 分钟），其间监护人读取"
                f"被监护人的记录 {reads} 次。",
                summary_en=f"The guardian named in log entry {entry}: {count} guardianships "
                f"ended by the operator within {hours:g} hours of being recorded (the shortest "
                f"after {minutes} minutes), with {reads} reads of the dependant's record by the "
                "guardian meanwhile.",
                score=float(count),
                window_from=context.since,
                window_to=context.now,
                records=tuple(sorted(guardianship_ref(i) for i in ended.entries)),
            )

    def _held(self, context: DetectorContext) -> list[Held]:
        """The rows of guardians with more dependants in the window than the policy allows.
        The database counts first (every family's guardianship is a row: a city's millions),
        so only those guardians' rows are read; ``wide_guardians`` judges them."""
        g, e = t.guardianships, t.guardianship_ends
        pairs = union(
            select(g.c.guardian_key, g.c.person_key).where(g.c.since < context.now),
            select(e.c.guardian_key, e.c.person_key).where(
                e.c.since < context.now, e.c.until > context.since
            ),
        ).subquery()  # UNION: a pair recorded, ended and recorded again is one dependant
        wide = (
            select(pairs.c.guardian_key)
            .group_by(pairs.c.guardian_key)
            .having(func.count() > self.policy.max_dependants)
        )
        guardians = sorted(context.conn.scalars(wide))
        if not guardians:
            return []
        in_force = select(g.c.guardian_key, g.c.person_key, g.c.since, g.c.log_index).where(
            g.c.guardian_key.in_(guardians)
        )
        ended = select(
            e.c.guardian_key, e.c.person_key, e.c.since, e.c.start_log_index, e.c.until
        ).where(e.c.guardian_key.in_(guardians))
        return [
            *(Held(r[0], r[1], r[2], None, _index(r[3])) for r in context.conn.execute(in_force)),
            *(Held(r[0], r[1], r[2], r[4], _index(r[3])) for r in context.conn.execute(ended)),
        ]

    def _ended(self, context: DetectorContext) -> list[Held]:
        """Guardianships ended in the window too soon after they began, with the guardian's
        reads of the dependant while each was in force (``access_log`` by person and time,
        role ``guardian``): counted for those alone, not for every one ended."""
        e, a = t.guardianship_ends, t.access_log
        shortest = timedelta(hours=self.policy.min_hours_in_force)
        ended = []
        for row in context.conn.execute(
            select(e).where(
                e.c.until >= context.since, e.c.until < context.now,
                e.c.start_log_index.is_not(None),
            )
        ):  # fmt: skip
            if row.until - row.since >= shortest:
                continue  # long enough: no finding (`short_guardianships`), nothing to count
            reads = context.conn.scalar(
                select(func.count()).where(
                    a.c.person_key == row.person_key,
                    a.c.at >= row.since,
                    a.c.at < row.until,
                    a.c.accessor_id == row.guardian_key,
                    a.c.accessor_role == GUARDIAN,
                )
            )
            ended.append(Held(row.guardian_key, row.person_key, row.since, row.until,
                              _index(row.start_log_index), int(reads or 0)))  # fmt: skip
        return ended


def _index(value: int | None) -> int | None:
    return None if value is None else int(value)  # a BigInteger, as the driver gives it


def _first_entries(conn: Connection, guardians: Sequence[str] | set[str]) -> dict[str, int]:
    """Each guardian's first logged ``guardianship`` entry, of those in force or ended."""
    if not guardians:
        return {}
    g, e = t.guardianships, t.guardianship_ends
    keys = sorted(guardians)
    logged = union_all(
        select(g.c.guardian_key, g.c.log_index.label("entry")).where(
            g.c.guardian_key.in_(keys), g.c.log_index.is_not(None)
        ),
        select(e.c.guardian_key, e.c.start_log_index.label("entry")).where(
            e.c.guardian_key.in_(keys), e.c.start_log_index.is_not(None)
        ),
    ).subquery()
    query = select(logged.c.guardian_key, func.min(logged.c.entry)).group_by(logged.c.guardian_key)
    return {key: int(entry) for key, entry in conn.execute(query)}
