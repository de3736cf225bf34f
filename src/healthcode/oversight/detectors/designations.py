"""Designations without supporting cases, or drawn around a single venue nobody ill visited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, exists, func, or_, select

from healthcode.domain import areas
from healthcode.domain.oversight import Finding, designation_ref
from healthcode.domain.oversight.designations import (
    DesignationPolicy,
    DesignationSupport,
    unsupported,
)
from healthcode.oversight.api import DetectorContext
from healthcode.oversight.sql import DAY_MICROS, micros, not_by_index, positive_test
from healthcode.store import tables as t

LEVELS_ZH = {"high": "高", "medium": "中", "low": "低"}
CASES_BEFORE = timedelta(days=7)  # positive tests this long before the designation support it
VISITS_BEFORE_TEST = 5  # days: a visit this long before a positive test places the case there


class UnsupportedDesignations:
    name = "unsupported_designations"
    title_zh = "缺乏病例支撑的风险区划定"
    title_en = "Designations without supporting cases"

    def __init__(self, policy: DesignationPolicy = DesignationPolicy()) -> None:
        self.policy = policy

    def run(self, context: DetectorContext) -> Iterator[Finding]:
        d = t.designations
        rows = context.conn.execute(
            select(d).where(d.c.recorded_at >= context.since, d.c.recorded_at < context.now)
        ).all()
        for row in rows:
            support = DesignationSupport(
                designation_id=row.id, authority_id=row.authority_id, venue_id=row.venue_id,
                claimed=row.case_count, supported=self._support(context, row),
            )  # fmt: skip
            if not unsupported(support, self.policy):
                continue
            where_zh = f"场所 {row.venue_id}" if row.venue_id else f"地区 {row.area_code}"
            level_zh = LEVELS_ZH.get(row.level, row.level)
            where_en = f"venue {row.venue_id}" if row.venue_id else f"area {row.area_code}"
            yield Finding(
                detector=self.name,
                subject=f"designation:{row.id}",
                summary_zh=f"{row.authority_id} 将{where_zh}划为{level_zh}风险区，称有 "
                f"{row.case_count} 例，但记录只显示 {support.supported} 名阳性者到过或住在那里。",
                summary_en=f"{row.authority_id} designated {where_en} {row.level} risk citing "
                f"{row.case_count} cases; the records show {support.supported} positive people "
                "who lived in or visited it.",
                score=float(row.case_count - support.supported),
                window_from=row.valid_from,
                window_to=row.recorded_at,
                records=(designation_ref(row.id),),
            )

    @staticmethod
    def _support(context: DetectorContext, row: Row[Any]) -> int:
        """Distinct positive people who, before their test, visited the venue (a venue's
        designation) or lived in or visited the area (an area's)."""
        e, p = t.evidence, t.persons
        v = e.alias("v")
        at = micros(e.c.occurred_at)
        prefix = areas.prefix(row.area_code)
        visit = exists().where(
            v.c.person_key == e.c.person_key,
            not_by_index(v.c.kind) == "venue_visit",
            (v.c.venue_id == row.venue_id) if row.venue_id else v.c.area_code.startswith(prefix),
            v.c.occurred_at >= at - VISITS_BEFORE_TEST * DAY_MICROS,
            # the day of the test too: a case's visits that day count against the venue as well
            v.c.occurred_at <= at + DAY_MICROS,
        )
        placed = visit if row.venue_id else or_(visit, p.c.home_area.startswith(prefix))
        query = (
            select(func.count(func.distinct(e.c.person_key)))
            .select_from(e.join(p, p.c.person_key == e.c.person_key))
            .where(
                positive_test(e),
                e.c.occurred_at >= row.valid_from - CASES_BEFORE,
                e.c.occurred_at <= row.recorded_at,
                placed,
            )
        )
        return int(context.conn.scalar(query) or 0)
