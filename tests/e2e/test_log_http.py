"""The log end to end over HTTP: a write, the next sequencer tick, a receipt from the person's
API that verifies with an independent verifier, and consistency between every checkpoint seen."""

from __future__ import annotations

import base64
from datetime import timedelta
from itertools import chain

from fastapi.testclient import TestClient

from healthcode.services.tokens import PERSON_AUDIENCE
from healthcode.tlog import entry_bundles_for_size, tiles_for_size
from healthcode.web.app import create_app
from tests import independent_verifier as iv
from tests.town import Town

P1 = "33333333333333333333333333333333"


def test_write_sequence_receipt_and_consistency(town: Town) -> None:
    services = town.services
    client = TestClient(create_app(services, run_scheduler=False))
    vkey = client.get("/log/key").text
    observed: list[tuple[int, bytes]] = []

    def tick() -> None:
        services.sequencer.integrate(now=town.clock.now())
        note = client.get("/log/checkpoint").text
        origin, size, root = iv.open_note(note, vkey)
        assert origin == services.settings.log_origin
        observed.append((size, root))

    tick()
    token = services.tokens.mint(
        P1, role="person", audience=PERSON_AUDIENCE, now=town.clock.now(), ttl=timedelta(hours=1)
    )
    auth = {"Authorization": f"Bearer {token}"}
    body = town.batch(
        "lab-1", [town.record("test_result", P1, town.clock.now(), method="pcr", result="positive")]
    )
    assert client.post("/api/v1/evidence/batches", json=body).status_code == 200
    status = client.get("/api/v1/me/status", headers=auth)
    change = status.json()["history"][0]
    # Not yet sequenced: no receipt yet, and the answer names the checkpoint it was computed at.
    assert client.get(change["receipt_url"], headers=auth).status_code == 404
    assert status.headers["Healthcode-Checkpoint"].split(" ")[1] == str(observed[-1][0])
    tick()
    receipt = client.get(change["receipt_url"], headers=auth).text
    entry = services.log.entry(change["log_index"])
    assert iv.verify_receipt(receipt, entry, vkey) == change["log_index"]
    # More writes, more checkpoints; every pair observed is consistent.
    for _ in range(3):
        town.clock.advance(hours=1)
        more = town.batch(
            "lab-1",
            [town.record("test_result", P1, town.clock.now(), method="pcr", result="negative")],
        )
        client.post("/api/v1/evidence/batches", json=more)
        tick()
    for i, (old_size, old_root) in enumerate(observed):
        for new_size, new_root in observed[i:]:
            if old_size == 0:
                continue
            proof = [
                base64.b64decode(line)
                for line in client.get(f"/log/consistency/{old_size}/{new_size}").text.split()
            ]
            iv.verify_consistency(old_size, new_size, old_root, new_root, proof)


def test_tiles_and_bundles_as_tlog_tiles_lays_them_out(town: Town) -> None:
    services = town.services
    alice = town.person("alice")
    for n in range(300):
        town.test(alice, town.clock.now(), "negative" if n % 2 else "positive")
    signed = services.sequencer.integrate(now=town.clock.now())
    assert signed is not None and signed.size > 256
    client = TestClient(create_app(services, run_scheduler=False))
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert "immutable" in full.headers["cache-control"]
    width = signed.size - 256
    partial = client.get(f"/log/tile/0/001.p/{width}")
    # tlog-tiles: a partial tile never changes either; it is served only once signed.
    assert len(partial.content) == width * 32 and "immutable" in partial.headers["cache-control"]
    bundle = client.get("/log/tile/entries/000").content
    first = int.from_bytes(bundle[:2], "big")
    assert bundle[2 : 2 + first] == services.log.entry(0)
    assert iv.leaf(services.log.entry(0)) == full.content[:32]
    for path, status, code in [
        ("/log/tile/0/x1/000", 400, "log.bad_path"),
        ("/log/tile/0/001.p/0", 400, "log.bad_path"),
        ("/log/tile/0/001.p/255", 404, "log.not_found"),
        ("/log/tile/1/000", 404, "log.not_found"),
        ("/log/tile/entries/999", 404, "log.not_found"),
    ]:
        answer = client.get(path)
        assert (answer.status_code, answer.json()["code"]) == (status, code), path


def test_bundles_gzipped_when_asked_and_head_answered_like_get(town: Town) -> None:
    services = town.services
    alice = town.person("alice")
    for n in range(300):
        town.test(alice, town.clock.now(), "negative" if n % 2 else "positive")
    signed = services.sequencer.integrate(now=town.clock.now())
    assert signed is not None
    client = TestClient(create_app(services, run_scheduler=False))
    plain = client.get("/log/tile/entries/000", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    zipped = client.get("/log/tile/entries/000", headers={"Accept-Encoding": "br, gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content) // 2
    assert zipped.content == plain.content  # decoded by the client
    # RFC 9110 12.5.3: a coding named takes its own qvalue, "*" stands only for those not
    # named; a malformed qvalue leaves its item out. Identity refused: a small bundle too.
    width = signed.size - 256
    for path, accept, gzipped in [
        ("000", "gzip;q=0", False),
        ("000", "*;q=1, gzip;q=0", False),
        ("000", "gzip;q=0, *", False),
        ("000", "*", True),
        ("000", "br, *;q=0.5", True),
        ("000", "GZIP;Q=0.5", True),
        ("000", "gzip;q=1.5", False),
        ("000", "gzip;q=inf", False),
        ("000", "", False),
        ("000.p/1", "gzip", False),
        ("000.p/1", "gzip, identity;q=0", True),
        ("000.p/1", "gzip, *;q=0", True),
        ("000.p/1", "gzip, identity;q=0.5, *;q=0", False),
        ("000.p/1", "*;q=0", False),
    ]:
        answer = client.get(f"/log/tile/entries/{path}", headers={"Accept-Encoding": accept})
        assert ("content-encoding" in answer.headers) is gzipped, (path, accept)
        assert answer.content == client.get(f"/log/tile/entries/{path}").content
    # A bundle of a few entries is sent as it is; hash tiles are never compressed.
    small = client.get("/log/tile/entries/000.p/1", headers={"Accept-Encoding": "gzip"})
    assert len(small.content) < 1024 and "content-encoding" not in small.headers
    assert "immutable" in small.headers["cache-control"]
    tile = client.get("/log/tile/0/000", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tile.headers
    for path in ("/log/checkpoint", "/log/tile/0/000", f"/log/tile/0/001.p/{width}",
                 "/log/tile/entries/000"):  # fmt: skip
        get, head = client.get(path), client.head(path)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["cache-control"] == get.headers["cache-control"], path
        assert head.headers["content-length"] == get.headers["content-length"], path
    assert client.head("/log/tile/1/000").status_code == 404


def test_tiles_served_at_one_size_keep_their_bytes_as_the_log_grows(town: Town) -> None:
    """What is served ``immutable`` is cached for a year: every tile and bundle, partial ones
    too, has the same bytes once the log has grown past it; what is not signed yet is a 404
    no cache keeps (some CDNs cache a 404)."""
    services = town.services
    alice = town.person("alice")
    client = TestClient(create_app(services, run_scheduler=False))

    def grow(entries: int) -> int:
        for n in range(entries):
            town.test(alice, town.clock.now(), "negative" if n % 2 else "positive")
        signed = services.sequencer.integrate(now=town.clock.now())
        assert signed is not None
        return signed.size

    unsigned = client.get("/log/checkpoint")  # before the sequencer's first run
    assert (unsigned.status_code, unsigned.headers.get("cache-control")) == (404, "no-store")
    size = grow(300)
    paths = [f"/log/{t.path()}" for t in chain(tiles_for_size(size), entry_bundles_for_size(size))]
    assert any(".p/" in path for path in paths) and any(".p/" not in path for path in paths)
    before = {path: client.get(path, headers={"Accept-Encoding": "identity"}) for path in paths}
    assert {answer.status_code for answer in before.values()} == {200}
    width = size % 256
    for ahead in (f"/log/tile/0/001.p/{width + 1}", "/log/tile/0/002", "/log/tile/1/000.p/2",
                  f"/log/tile/entries/001.p/{width + 1}"):  # fmt: skip
        for answer in (client.get(ahead), client.head(ahead)):
            assert answer.status_code == 404, ahead
            assert answer.headers["cache-control"] == "no-store", ahead
    assert grow(300) > 512
    for path, answer in before.items():
        again = client.get(path, headers={"Accept-Encoding": "identity"})
        assert again.content == answer.content, path
