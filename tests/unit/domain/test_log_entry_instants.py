"""Log entries write every instant in UTC, whatever zone it came in with: the self-check
rebuilds each entry from its stored row, which holds UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from healthcode.domain.appeal_entries import appeal_answered_entry
from healthcode.domain.log_entries import designation_end_entry, instant_text, order_end_entry
from healthcode.domain.source_keys import KeyChange, cosign_entry, proposal_entry, withdrawal_entry

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


def test_designation_ends_and_key_changes_write_their_instants_in_utc() -> None:
    """Merged beside the fix above, each wrote its instants as typed: a designation cut from
    the console (its end typed in the pages' zone) no longer matched its row."""

    def designation_end(at: datetime) -> bytes:
        return designation_end_entry(
            index=9, official_secret=b"s" * 32, designation_id="d-1", authority_id="zz-health",
            ended_at=at, reason="shortened", recorded_at=at,
        )  # fmt: skip

    def change(at: datetime) -> KeyChange:
        return KeyChange(
            id="key-1", source_id="lab-1", authority_id="zz-health", public_key=b"k" * 32,
            kinds=frozenset(), previous_key=b"o" * 32, previous_kinds=frozenset(),
            proposed_by="zz-off-1", proposed_at=at, expires_at=at, status="pending",
            decided_by=None, decided_at=None, log_index=1, decision_log_index=None,
        )  # fmt: skip

    assert designation_end(SHANGHAI) == designation_end(UTC_TIME)
    assert proposal_entry(change(SHANGHAI), index=1, proposer_secret=b"s" * 32) == (
        proposal_entry(change(UTC_TIME), index=1, proposer_secret=b"s" * 32)
    )
    for at in (SHANGHAI, UTC_TIME):
        assert b"2026-12-08T02:00:00Z" in cosign_entry(
            index=2, supervisor_secret=b"s" * 32, change_id="key-1", source_id="lab-1",
            authority_id="zz-health", at=at,
        )  # fmt: skip
        assert b"2026-12-08T02:00:00Z" in withdrawal_entry(
            index=3, withdrawn_by_secret=None, change_id="key-1", source_id="lab-1",
            authority_id="zz-health", at=at,
        )  # fmt: skip
