"""Log entries write every instant in UTC, whatever zone it came in with: the self-check
rebuilds each entry from its stored row, which holds UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from healthcode.domain.appeal_entries import appeal_answered_entry
from healthcode.domain.log_entries import instant_text, order_end_entry

UTC_TIME = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
SHANGHAI = UTC_TIME.astimezone(ZoneInfo("Asia/Shanghai"))  # 10:00+08:00, the same instant


def test_an_instant_is_written_in_utc_whatever_its_zone() -> None:
    assert instant_text(SHANGHAI) == instant_text(UTC_TIME) == "2026-12-08T02:00:00Z"


def test_entries_with_the_same_instants_in_other_zones_are_the_same_bytes() -> None:
    def order_end(ended_at: datetime) -> bytes:
        return order_end_entry(
            index=7, official_secret=b"s" * 32, order_id="ord-1", authority_id="zz-health",
            ended_at=ended_at, reason="appeal_corrected", recorded_at=UTC_TIME,
        )  # fmt: skip

    def answered(ends_at: datetime) -> bytes:
        return appeal_answered_entry(
            index=8, person_secret=b"p" * 32, official_secret=b"s" * 32, appeal_id="apl-1",
            authority_id="zz-health", outcome="corrected", evidence=(), ends_at=ends_at,
            replacement_order=None, set_aside=False, answered_at=UTC_TIME,
        )  # fmt: skip

    assert order_end(SHANGHAI) == order_end(UTC_TIME)
    assert answered(SHANGHAI) == answered(UTC_TIME)
