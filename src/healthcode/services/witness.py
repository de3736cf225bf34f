"""A C2SP tlog-witness: cosigns a log's checkpoints only if consistent with the last it cosigned."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from healthcode.services.witness_protocol import WitnessError, parse_add_checkpoint
from healthcode.services.witness_state import CosignedHead, SplitView, WitnessState, WitnessStore
from healthcode.tlog import (
    EMPTY_ROOT,
    CosignatureSigner,
    Ed25519Verifier,
    NoteError,
    ProofError,
    TlogError,
    Verifier,
    open_note,
    parse_checkpoint,
    parse_note,
    verify_consistency,
)
from healthcode.tlog.encoding import encode_base64

__all__ = ["Witness", "WitnessError", "WitnessedLog"]

logger = logging.getLogger("healthcode.witness")


@dataclass(frozen=True)
class WitnessedLog:
    """A log the witness serves: its origin line and the keys that may sign its checkpoints."""

    origin: str
    verifiers: tuple[Verifier, ...]

    @classmethod
    def from_vkeys(cls, origin: str, vkeys: Iterable[str]) -> WitnessedLog:
        # The same key listed twice would make note verification reject every note.
        verifiers = tuple(Ed25519Verifier.from_vkey(vkey) for vkey in dict.fromkeys(vkeys))
        if not verifiers:
            raise ValueError(f"log {origin!r} needs at least one verifier key")
        return cls(origin, verifiers)


class Witness:
    """Witness logic, independent of HTTP: verify, check consistency, persist, cosign.

    ``clock`` returns the POSIX time for cosignatures and reports; it is injected so the
    logic never reads the real time itself. One lock serialises the check of the old
    size against the latest cosigned checkpoint with persisting the new one, which
    tlog-witness requires to be atomic (otherwise two racing requests could roll back).
    """

    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Iterable[WitnessedLog],
        store: WitnessStore,
        clock: Callable[[], int],
    ) -> None:
        self._signer = signer
        self._logs = {entry.origin: entry for entry in logs}
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._state = store.load()

    @property
    def name(self) -> str:
        return self._signer.name

    @property
    def vkey(self) -> str:
        """The witness's cosignature/v1 verifier key, for logs and monitors to trust."""
        return self._signer.verifier().to_vkey()

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(self._logs)

    def latest(self, origin: str) -> CosignedHead | None:
        return self._state.logs.get(origin)

    @property
    def split_views(self) -> tuple[SplitView, ...]:
        return self._state.split_views

    def handle(self, body: bytes) -> list[str]:
        """Process a raw add-checkpoint request body; return the cosignature lines."""
        request = parse_add_checkpoint(body)
        return self.add_checkpoint(request.old_size, request.proof, request.checkpoint)

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], checkpoint: str) -> list[str]:
        """Cosign ``checkpoint`` if it extends the latest one cosigned (of size ``old_size``).

        Returns the note signature lines (without newlines); raises ``WitnessError``
        with the tlog-witness status otherwise.
        """
        try:
            note = parse_note(checkpoint)
            body = parse_checkpoint(note.text)
        except TlogError as exc:
            raise WitnessError("witness.malformed", f"checkpoint: {exc.message}") from None
        known = self._logs.get(body.origin)
        if known is None:
            raise WitnessError("witness.unknown_log", f"unknown log origin {body.origin!r}")
        try:
            open_note(note, known.verifiers)
        except NoteError as exc:
            raise WitnessError("witness.bad_signature", exc.message) from None
        if old_size > body.size:
            raise WitnessError(
                "witness.malformed", f"old size {old_size} exceeds checkpoint size {body.size}"
            )
        with self._lock:
            state = self._state
            head = state.logs.get(body.origin)
            latest = 0 if head is None else head.size
            if old_size != latest:
                raise WitnessError(
                    "witness.conflict",
                    f"old size {old_size} is not the latest cosigned size {latest}",
                    latest_size=latest,
                )
            if head is not None and body.size == head.size and body.root_hash != head.root_hash:
                self._report_split_view(state, head, body.origin, body.root_hash, checkpoint)
                raise WitnessError(
                    "witness.split_view",
                    f"a checkpoint of size {body.size} with root "
                    f"{encode_base64(head.root_hash)} was cosigned before; refusing root "
                    f"{encode_base64(body.root_hash)}",
                    latest_size=latest,
                )
            self._check_consistency(body.origin, old_size, head, body.size, body.root_hash, proof)
            timestamp = self._clock()
            line = self._signer.cosign(note.text, timestamp).line().removesuffix("\n")
            logs = dict(state.logs)
            logs[body.origin] = CosignedHead(body.size, body.root_hash, checkpoint, timestamp)
            new_state = replace(state, logs=logs)
            # Persist before answering: a cosignature must never outlive a crash that
            # forgets it, or the witness could later cosign a conflicting checkpoint.
            self._store.save(new_state)
            self._state = new_state
        return [line]

    def _check_consistency(
        self,
        origin: str,
        old_size: int,
        head: CosignedHead | None,
        size: int,
        root_hash: bytes,
        proof: Sequence[bytes],
    ) -> None:
        if old_size == 0 or head is None:
            # tlog-witness: the proof MUST be empty from size 0; the first checkpoint is
            # taken on trust, except that an empty tree has only one possible root.
            if proof:
                raise WitnessError("witness.inconsistent", "the proof from size 0 must be empty")
            if size == 0 and root_hash != EMPTY_ROOT:
                raise WitnessError("witness.inconsistent", "an empty tree has the empty root")
            return
        try:
            verify_consistency(old_size, size, proof, head.root_hash, root_hash)
        except ProofError as exc:
            # The request is signed by the log, so keep it on record: it may be the only
            # trace of a fork (tlog-witness allows logging such requests).
            logger.warning(
                "refused inconsistent checkpoint from %s: %s -> %s: %s",
                origin,
                old_size,
                size,
                exc.message,
            )
            raise WitnessError(
                "witness.inconsistent",
                f"consistency proof from {old_size} to {size} does not verify: {exc.message}",
            ) from None

    def _report_split_view(
        self,
        state: WitnessState,
        head: CosignedHead,
        origin: str,
        presented_root: bytes,
        checkpoint: str,
    ) -> None:
        logger.error(
            "SPLIT VIEW by %s at size %d: cosigned root %s, now presented root %s",
            origin,
            head.size,
            encode_base64(head.root_hash),
            encode_base64(presented_root),
        )
        for view in state.split_views:
            if (view.origin, view.size, view.presented_root) == (origin, head.size, presented_root):
                return
        view = SplitView(
            origin=origin,
            size=head.size,
            cosigned_root=head.root_hash,
            presented_root=presented_root,
            cosigned_checkpoint=head.checkpoint,
            presented_checkpoint=checkpoint,
            detected_at=self._clock(),
        )
        new_state = replace(state, split_views=(*state.split_views, view))
        self._store.save(new_state)
        self._state = new_state

    def status(self) -> dict[str, object]:
        """A public summary: who the witness is, what it cosigned last, what it caught."""
        state = self._state
        logs = []
        for origin in sorted(self._logs):
            head = state.logs.get(origin)
            logs.append(
                {
                    "origin": origin,
                    "size": 0 if head is None else head.size,
                    "root_hash": None if head is None else encode_base64(head.root_hash),
                    "cosigned_at": None if head is None else head.cosigned_at,
                }
            )
        views = state.to_json()["split_views"]
        return {"name": self.name, "vkey": self.vkey, "logs": logs, "split_views": views}
