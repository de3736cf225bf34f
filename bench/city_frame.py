"""The frame of ``bench.city``'s synthetic city: when it starts, its time units (microseconds,
as the evidence columns count), its cities, and how its records are named."""

from __future__ import annotations

from datetime import UTC, datetime

START = datetime(2026, 6, 1, tzinfo=UTC)
HOUR = 3_600_000_000
DAY = 24 * HOUR
CITIES = [f"41{c:02d}00" for c in range(1, 18)]  # Henan's cities


def record_id(row: int) -> str:
    """Record ids sort as their rows do (so the store's key index grows at its end)."""
    return f"e{row:010d}"
