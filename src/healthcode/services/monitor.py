"""A log monitor: verifies any tlog-tiles deployment over HTTP, entry by entry, run after run."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx2

from healthcode.services.monitor_errors import MonitorError
from healthcode.services.monitor_fetch import LogReader, fetch_in_order
from healthcode.services.monitor_state import (
    MonitorState,
    check_writable,
    load_state,
    save_state,
)
from healthcode.services.monitor_tiles import TreeRebuilder
from healthcode.tlog import (
    Checkpoint,
    CosignatureVerifier,
    Ed25519Verifier,
    KeyFormatError,
    NoteError,
    NoteSignatureError,
    NoteUnverifiedError,
    ProofError,
    TileHashReader,
    TilePath,
    TlogError,
    consistency_proof,
    consistency_proof_plan,
    entry_bundles_for_size,
    open_note,
    parse_checkpoint,
    parse_note,
    root_plan,
    subtree_root,
    tiles_for_nodes,
    verify_consistency,
)

__all__ = [
    "MonitorError",
    "MonitorReport",
    "open_served_checkpoint",
    "prove_consistency",
    "verify_log",
]


@dataclass(frozen=True)
class MonitorReport:
    """What one successful run verified."""

    origin: str
    size: int
    root_hash: bytes
    previous_size: int | None  # the size verified by the previous run, None on a first run
    full: bool  # every entry bundle was read (a first run, or ``full=True``)
    entries_verified: int
    bundles_fetched: int
    tiles_fetched: int
    cosigners: tuple[str, ...]  # trusted witnesses whose cosignature verified
    checkpoint: str


def _log_verifier(
    reader: LogReader, verifier_key: str | Ed25519Verifier | None, state: MonitorState | None
) -> Ed25519Verifier:
    if isinstance(verifier_key, Ed25519Verifier):
        return verifier_key
    vkey = reader.key() if verifier_key is None else verifier_key
    try:
        verifier = Ed25519Verifier.from_vkey(vkey)
    except KeyFormatError as exc:
        raise MonitorError("monitor.key_invalid", f"log key {vkey!r}: {exc.message}") from None
    # A key fetched from the log itself is trusted on first use only; a different key
    # later must be accepted by whoever runs the monitor, by passing it explicitly.
    if verifier_key is None and state is not None and state.vkey != verifier.to_vkey():
        raise MonitorError(
            "monitor.key_changed",
            f"the log now serves key {verifier.to_vkey()!r}, but the checkpoint of size "
            f"{state.parsed.size} seen before was verified with {state.vkey!r}; to accept the "
            "new key, pass it explicitly (healthcode log verify --key VKEY)",
        )
    return verifier


def open_served_checkpoint(
    raw: bytes, log_key: Ed25519Verifier, witnesses: Sequence[CosignatureVerifier]
) -> tuple[str, Checkpoint, tuple[str, ...]]:
    """The served checkpoint's text, parsed body and verified cosigners; it must carry a
    signature by ``log_key`` (the national log's collector uses it too: services/regions.py)."""
    try:
        note = parse_note(raw)
        verified = open_note(note, [log_key, *witnesses])
    except (NoteSignatureError, NoteUnverifiedError) as exc:
        raise MonitorError("monitor.signature_invalid", f"checkpoint: {exc.message}") from None
    except NoteError as exc:
        raise MonitorError("monitor.checkpoint_invalid", f"checkpoint: {exc.message}") from None
    log_id = (log_key.name, log_key.key_id)
    if not any((sig.name, sig.key_id) == log_id for sig in verified.verified):
        raise MonitorError(
            "monitor.signature_invalid",
            f"the checkpoint carries no signature by the log key {log_key.to_vkey()!r}",
        )
    try:
        checkpoint = parse_checkpoint(verified.text)
    except TlogError as exc:
        raise MonitorError("monitor.checkpoint_invalid", f"checkpoint: {exc.message}") from None
    cosigners = dict.fromkeys(
        sig.name for sig in verified.verified if (sig.name, sig.key_id) != log_id
    )
    # parse_note accepted the bytes as UTF-8, and the exact served text is the evidence.
    return raw.decode("utf-8"), checkpoint, tuple(cosigners)


def _inconsistent(message: str, old_note: str, new_note: str) -> MonitorError:
    return MonitorError("monitor.inconsistent", message, evidence=(old_note, new_note))


def prove_consistency(
    reader: LogReader,
    old: Checkpoint,
    old_note: str,
    new: Checkpoint,
    new_note: str,
    workers: int,
) -> tuple[bool, dict[TilePath, bytes]]:
    """Prove ``new`` extends ``old`` (seen before, signed as ``old_note``) from the tiles
    served now.

    Returns whether the tiles verify (``False`` means a served tile is wrong, which the
    rebuild then locates) and the tiles read. Raises if the log provably forked.
    """
    seen = f"the checkpoint of size {old.size} seen before"
    if new.size < old.size:
        raise _inconsistent(
            f"the checkpoint of size {new.size} is not consistent with {seen}: the log shrank",
            old_note,
            new_note,
        )
    if new.size == old.size or old.size == 0:
        if new.root_hash != old.root_hash and old.size:
            raise _inconsistent(
                f"the checkpoint of size {new.size} (root {new.root_hash.hex()}) is not "
                f"consistent with {seen} (root {old.root_hash.hex()})",
                old_note,
                new_note,
            )
        return True, {}
    plan = consistency_proof_plan(old.size, new.size)
    nodes = [node for group in plan for node in group] + list(root_plan(old.size))
    tiles = dict(fetch_in_order(tiles_for_nodes(nodes, new.size), reader.tile, workers))
    hashes = TileHashReader(new.size, tiles)
    # The prefix root read from the tiles is only trusted once the proof binds it to the
    # new root; then a difference from the old root is a fork, not a bad tile.
    prefix_root = subtree_root(old.size, hashes.node)
    proof = consistency_proof(old.size, new.size, hashes.node)
    try:
        verify_consistency(old.size, new.size, proof, prefix_root, new.root_hash)
    except ProofError:
        return False, tiles
    if prefix_root != old.root_hash:
        raise _inconsistent(
            f"the checkpoint of size {new.size} is not consistent with {seen}: its first "
            f"{old.size} entries hash to {prefix_root.hex()}, not {old.root_hash.hex()}",
            old_note,
            new_note,
        )
    return True, tiles


def _diagnose(
    rebuilder: TreeRebuilder,
    root: bytes,
    checkpoint: Checkpoint,
    state: MonitorState | None,
    tiles_ok: bool,
    new_note: str,
) -> None:
    """Raise the most precise error the rebuild supports, or return if all verified."""
    mismatch = rebuilder.first_mismatch
    target = f"the checkpoint of size {checkpoint.size}"
    if mismatch is not None and mismatch.bundle is not None and root != checkpoint.root_hash:
        raise MonitorError(
            "monitor.entry_mismatch",
            f"{mismatch.describe()}; the entries do not hash to the root of {target}",
        )
    if rebuilder.changed_entry is not None and state is not None:
        index, before, now = rebuilder.changed_entry
        raise _inconsistent(
            f"entry {index} hashed to {before.hex()} under the checkpoint of size "
            f"{state.parsed.size} seen before, but hashes to {now.hex()} now",
            state.checkpoint,
            new_note,
        )
    if root != checkpoint.root_hash:
        raise MonitorError(
            "monitor.root_mismatch",
            f"the entries hash to root {root.hex()}, but {target} has root "
            f"{checkpoint.root_hash.hex()}",
        )
    if mismatch is not None:
        raise MonitorError(
            "monitor.tile_mismatch",
            f"{mismatch.tile} holds {mismatch.got.hex()} at position {mismatch.position}, but "
            f"the entries (which hash to the root of {target}) give {mismatch.expected.hex()}",
        )
    if not tiles_ok:
        raise MonitorError(
            "monitor.tile_mismatch",
            f"the tiles served for the consistency proof to {target} do not verify",
        )


def verify_log(
    base_url: str,
    state_path: str | Path,
    *,
    verifier_key: str | Ed25519Verifier | None = None,
    client: httpx2.Client | None = None,
    origin: str | None = None,
    witness_keys: Sequence[str] = (),
    min_cosignatures: int = 0,
    full: bool = False,
    workers: int = 8,
) -> MonitorReport:
    """Verify the log at ``base_url`` against the state in ``state_path``; update it on success.

    Checks the checkpoint's signature (by ``verifier_key``, else the key the log serves,
    pinned in the state file), its consistency with the checkpoint verified before, and
    re-hashes every entry new since then (every entry when ``full`` or on a first run),
    rebuilding every tile and the root and comparing them with what the log serves.
    ``witness_keys`` are cosignature/v1 vkeys; at least ``min_cosignatures`` of them must
    have cosigned. The state file is written only if everything verified.
    """
    own_client = client is None
    http = httpx2.Client(timeout=30.0) if client is None else client
    try:
        return _verify(
            LogReader(base_url, http),
            Path(state_path),
            verifier_key,
            origin,
            witness_keys,
            min_cosignatures,
            full,
            workers,
        )
    finally:
        if own_client:
            http.close()


def _verify(
    reader: LogReader,
    state_path: Path,
    verifier_key: str | Ed25519Verifier | None,
    origin: str | None,
    witness_keys: Sequence[str],
    min_cosignatures: int,
    full: bool,
    workers: int,
) -> MonitorReport:
    try:
        witnesses = [CosignatureVerifier.from_vkey(key) for key in dict.fromkeys(witness_keys)]
    except KeyFormatError as exc:
        raise MonitorError("monitor.key_invalid", f"witness key: {exc.message}") from None
    check_writable(state_path)  # now, not after verifying a whole log it could not record
    state = load_state(state_path)
    log_key = _log_verifier(reader, verifier_key, state)
    note, checkpoint, cosigners = open_served_checkpoint(reader.checkpoint(), log_key, witnesses)
    expected_origin = origin or (state.parsed.origin if state else None)
    if expected_origin is not None and checkpoint.origin != expected_origin:
        raise MonitorError(
            "monitor.origin_mismatch",
            f"the checkpoint is for {checkpoint.origin!r}, expected {expected_origin!r}",
        )
    if len(cosigners) < min_cosignatures:
        raise MonitorError(
            "monitor.cosignatures_missing",
            f"the checkpoint carries {len(cosigners)} trusted cosignatures "
            f"({', '.join(cosigners) or 'none'}), {min_cosignatures} required",
        )

    tiles_ok, tiles = True, dict[TilePath, bytes]()
    if state is not None:
        tiles_ok, tiles = prove_consistency(
            reader, state.parsed, state.checkpoint, checkpoint, note, workers
        )
    since = state.parsed.size if state is not None and not full else 0
    frontier = state.frontier if state is not None and not full else {}

    def fetch_tile(tile: TilePath) -> bytes:
        cached = tiles.pop(tile, None)
        return reader.tile(tile) if cached is None else cached

    def fetch_bundle(bundle: TilePath) -> tuple[list[bytes], bytes]:
        return reader.bundle(bundle), fetch_tile(TilePath(0, bundle.index, bundle.width))

    rebuilder = TreeRebuilder(checkpoint.size, since, frontier, fetch_tile)
    bundles = entry_bundles_for_size(checkpoint.size, since)
    # closing(): stop the fetch-ahead threads at once if the loop body raises.
    with closing(fetch_in_order(bundles, fetch_bundle, workers)) as stream:
        for bundle, (entries, tile) in stream:
            rebuilder.add_bundle(bundle, entries, tile)
    root = rebuilder.finish()
    _diagnose(rebuilder, root, checkpoint, state, tiles_ok, note)

    save_state(
        state_path,
        MonitorState(reader.base_url, log_key.to_vkey(), note, rebuilder.frontier, checkpoint),
    )
    return MonitorReport(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        previous_size=None if state is None else state.parsed.size,
        full=since == 0,
        entries_verified=rebuilder.entries_hashed,
        bundles_fetched=reader.bundles_fetched,
        tiles_fetched=reader.tiles_fetched,
        cosigners=cosigners,
        checkpoint=note,
    )
