"""Source anomalies: evidence about people outside the population a source serves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import and_, exists, func, select

from healthcode.domain import areas
from healthcode.domain.evidence import EvidenceKind
from healthcode.domain.oversight import Finding, evidence_ref
from healthcode.domain.oversight.reach import NOT_JUDGED, ReachPolicy, anomalous_sources
from healthcode.oversight.api import DetectorContext
from healthcode.store import tables as t


class SourceReach:
    name = "source_reach"
    title_zh = "证据来源超出其服务人群"
    title_en = "Sources reaching outside their population"

    def __init__(self, policy: ReachPolicy = ReachPolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        e, p, s = t.evidence, t.persons, t.sources
        judged = and_(
            # The judged kinds by name, not "all but...": an index on kind then reads only them.
            e.c.kind.in_(sorted(k.value for k in EvidenceKind if k.value not in NOT_JUDGED)),
            e.c.occurred_at >= context.since,
            e.c.occurred_at < context.now,
        )
        source_area = dict(context.conn.execute(select(s.c.id, s.c.area_code)).all())
        totals: dict[str, int] = defaultdict(int)
        outside_homes: dict[str, list[str]] = defaultdict(list)
        # Per source and home area of the records' people: the answer is small.
        for row in context.conn.execute(
            select(e.c.source_id, p.c.home_area, func.count().label("n"))
            .select_from(e.join(p, p.c.person_key == e.c.person_key))
            .where(judged)
            .group_by(e.c.source_id, p.c.home_area)
        ):
            totals[row.source_id] += row.n
            area = source_area.get(row.source_id)
            if (
                area is not None
                and areas.is_area_code(area)
                and not areas.contains(area, row.home_area)
            ):
                outside_homes[row.source_id].append(row.home_area)
        v = e.alias("v")
        outside: dict[str, list[str]] = {}
        for source_id, homes in sorted(outside_homes.items()):
            prefix = areas.prefix(source_area[source_id])
            visited_there = exists().where(
                v.c.person_key == e.c.person_key,
                v.c.kind == "venue_visit",
                v.c.area_code.startswith(prefix),
                v.c.occurred_at >= context.since,
                v.c.occurred_at < context.now,
            )
            refs = [
                evidence_ref(row.source_id, row.record_id)
                for row in context.conn.execute(
                    select(e.c.source_id, e.c.record_id)
                    .select_from(e.join(p, p.c.person_key == e.c.person_key))
                    .where(
                        judged,
                        e.c.source_id == source_id,
                        p.c.home_area.in_(sorted(homes)),
                        ~visited_there,
                    )
                )
            ]
            if refs:
                outside[source_id] = refs
        for found in anomalous_sources(totals, outside, self.policy):
            yield Finding(
                detector=self.name,
                subject=f"source:{found.source_id}",
                summary_zh=f"来源 {found.source_id} 提交了 {len(found.outside)} 条关于既不居住在其辖区、"
                f"也未曾到访其辖区的人的证据（占其全部 {found.records} 条的 {found.share:.1%}）。",
                summary_en=f"Source {found.source_id} submitted {len(found.outside)} records about "
                f"people who neither live in nor visited its area ({found.share:.1%} of its "
                f"{found.records}).",
                score=found.share,
                window_from=context.since,
                window_to=context.now,
                records=found.outside,
            )
