"""Linked-person propagation: close-contact evidence (and the orders citing it) reaching several
members of one household or contact group, none with an exposure of their own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import and_, exists, select

from healthcode.domain.oversight import Finding, evidence_ref, order_ref
from healthcode.domain.oversight.linked import LinkedPolicy, Unexposed, linked_groups
from healthcode.oversight.api import DetectorContext
from healthcode.oversight.sql import DAY_MICROS, micros, not_by_index
from healthcode.store import tables as t

HOUSEHOLD_EXPOSURE = timedelta(days=14)


class LinkedPersons:
    name = "linked_persons"
    title_zh = "沿家庭或接触群扩散的命令或证据"
    title_en = "Orders or evidence spreading through households or contact groups"

    def __init__(self, policy: LinkedPolicy = LinkedPolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        e, h = t.evidence, t.households
        v, member, positive = e.alias("v"), h.alias("member"), e.alias("positive")
        at = micros(e.c.occurred_at)
        visited = exists().where(
            v.c.person_key == e.c.person_key,
            v.c.kind == "venue_visit",
            v.c.area_code == e.c.area_code,
            v.c.occurred_at >= at - DAY_MICROS,
            v.c.occurred_at <= at + DAY_MICROS,
        )
        household_case = exists().where(
            member.c.household_id == h.c.household_id,
            member.c.person_key != e.c.person_key,
            positive.c.person_key == member.c.person_key,
            not_by_index(positive.c.kind) == "test_result",
            positive.c.result == "positive",
            positive.c.occurred_at >= at - HOUSEHOLD_EXPOSURE.days * DAY_MICROS,
            positive.c.occurred_at <= at + DAY_MICROS,
        )
        rows = context.conn.execute(
            select(e.c.source_id, e.c.record_id, e.c.person_key, e.c.case_ref, h.c.household_id)
            .select_from(e.outerjoin(h, h.c.person_key == e.c.person_key))
            .where(
                e.c.kind == "close_contact",
                e.c.occurred_at >= context.since,
                e.c.occurred_at < context.now,
                ~visited,
                ~and_(h.c.household_id.is_not(None), household_case),
            )
        ).all()
        citing: dict[tuple[str, str], list[str]] = defaultdict(list)
        if rows:
            oe = t.order_evidence
            wanted = {(row.source_id, row.record_id) for row in rows}
            for cite in context.conn.execute(
                select(oe.c.order_id, oe.c.source_id, oe.c.record_id).where(
                    oe.c.person_key.in_(sorted({row.person_key for row in rows}))
                )
            ):
                if (cite.source_id, cite.record_id) in wanted:
                    citing[(cite.source_id, cite.record_id)].append(order_ref(cite.order_id))
        items = [
            Unexposed(
                person=row.person_key,
                household=row.household_id,
                case_ref=row.case_ref,
                ref=evidence_ref(row.source_id, row.record_id),
                orders=tuple(citing[(row.source_id, row.record_id)]),
            )
            for row in rows
        ]
        for group in linked_groups(items, self.policy):
            what_zh = "同一户" if group.kind == "household" else "同一接触群"
            what_en = "one household" if group.kind == "household" else "one contact group"
            yield Finding(
                detector=self.name,
                subject=f"{group.kind}:{group.key}",
                summary_zh=f"{what_zh}的 {len(group.members)} 人收到密接证据或命令，"
                "但均无自身暴露记录（未到访该区域，家中也无阳性病例）。",
                summary_en=f"{len(group.members)} members of {what_en} got close-contact "
                "evidence or orders without an exposure of their own (no visit to the area, "
                "no positive case at home).",
                score=float(len(group.members)),
                window_from=context.since,
                window_to=context.now,
                records=tuple(sorted(group.records)),
            )
