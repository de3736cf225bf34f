"""One write transaction at a time, on SQLite and PostgreSQL: a second writer waits until the
first has committed, and then sees what it wrote."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from healthcode.store import tables as t
from healthcode.store.database import Database

# Long enough for a writer that is not held back to be well inside its transaction; a second
# writer that did not wait fails the test, however slow the machine.
_GRACE = 0.3


def test_a_second_writer_waits_for_the_first(database: Database) -> None:
    first_in, second_in, release = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def first() -> None:
        with database.write() as conn:
            conn.execute(t.areas.insert(), {"code": "100000", "name_zh": "a", "name_en": "a"})
            first_in.set()
            release.wait(10)

    def second() -> None:
        first_in.wait(10)
        with database.write() as conn:
            second_in.set()
            seen["areas"] = int(conn.scalar(select(func.count()).select_from(t.areas)) or 0)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_in.wait(10)
    assert not second_in.wait(_GRACE), "the second writer began while the first was writing"
    release.set()
    for thread in threads:
        thread.join(10)
    assert second_in.is_set() and seen == {"areas": 1}
