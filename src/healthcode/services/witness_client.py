"""Asks a tlog-witness to cosign a checkpoint, following its 409 hint to the size it knows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx2

from healthcode.services.witness_protocol import (
    SIZE_CONTENT_TYPE,
    format_add_checkpoint,
    parse_cosignatures,
    parse_size_body,
)
from healthcode.tlog import (
    CosignatureVerifier,
    NoteSignature,
    TlogError,
    parse_checkpoint,
    parse_note,
)

__all__ = ["WitnessRequestError", "append_cosignatures", "request_cosignature"]

ProveFn = Callable[[int, int], Sequence[bytes]]


class WitnessRequestError(Exception):
    """The witness did not cosign. ``status`` is its HTTP status (None on a network error).

    ``latest_size`` is the size a 409 named. ``conflict`` says when that 409 proves the log
    misbehaved: ``split_view``, it names the very size that was sent as the old size, the
    checkpoint's own (the witness cosigned another root at that size); ``rollback``, it names
    a size larger than the checkpoint's (the witness cosigned more of this log than the log
    now has). None otherwise: a witness merely behind is not in conflict.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        latest_size: int | None = None,
        conflict: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.latest_size = latest_size
        self.conflict = conflict


def _post(
    client: httpx2.Client, url: str, old: int, proof: Sequence[bytes], note: str
) -> httpx2.Response:
    try:
        return client.post(
            url,
            content=format_add_checkpoint(old, proof, note),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
    except httpx2.HTTPError as exc:
        raise WitnessRequestError(f"POST {url} failed: {exc}") from None


def _latest_size(response: httpx2.Response) -> int | None:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code != 409 or media != SIZE_CONTENT_TYPE:
        return None
    try:
        return parse_size_body(response.text)
    except ValueError:
        return None


def _refused(url: str, response: httpx2.Response, sent: int, size: int) -> WitnessRequestError:
    """The refusal of a request from old size ``sent`` for a checkpoint of ``size``."""
    latest = _latest_size(response)
    conflict = None
    if latest is not None and latest > size:
        conflict = "rollback"
    elif latest is not None and latest == sent == size:
        conflict = "split_view"
    return WitnessRequestError(
        f"witness {url} answered HTTP {response.status_code}: {response.text[:200].strip()}",
        status=response.status_code,
        latest_size=latest,
        conflict=conflict,
    )


def request_cosignature(
    witness_url: str,
    old_size: int,
    proof: Sequence[bytes],
    signed_checkpoint: str,
    client: httpx2.Client,
    *,
    prove: ProveFn | None = None,
    verifier: CosignatureVerifier | None = None,
) -> list[str]:
    """POST ``signed_checkpoint`` to ``<witness_url>/add-checkpoint``; return the cosignature lines.

    ``proof`` is the consistency proof from ``old_size``. If the witness answers 409 with
    the size it last cosigned, the request is retried once from that size, with the proof
    ``prove(that size, checkpoint size)``. With ``verifier``, only lines by that witness
    key that verify over the checkpoint are returned (tlog-witness: clients ignore
    cosignatures from unknown keys), and there must be one. Lines have no newline.
    """
    try:
        note = parse_note(signed_checkpoint)
        size = parse_checkpoint(note.text).size
    except TlogError as exc:
        raise ValueError(f"not a signed checkpoint: {exc.message}") from None
    url = witness_url.rstrip("/") + "/add-checkpoint"
    sent = old_size
    response = _post(client, url, sent, proof, signed_checkpoint)
    latest = _latest_size(response)
    if latest is not None and latest != old_size and latest <= size and prove is not None:
        sent = latest
        retry_proof = list(prove(latest, size)) if 0 < latest < size else []
        response = _post(client, url, sent, retry_proof, signed_checkpoint)
    if response.status_code != 200:
        raise _refused(url, response, sent, size)
    try:
        lines = parse_cosignatures(response.text)
    except ValueError as exc:
        raise WitnessRequestError(f"witness {url}: {exc}", status=200) from None
    if verifier is None:
        return lines
    message = note.text.encode("utf-8")
    trusted = []
    for line in lines:
        sig = NoteSignature.parse_line(line)
        if (sig.name, sig.key_id) == (verifier.name, verifier.key_id):
            if not verifier.verify(message, sig.signature):
                raise WitnessRequestError(f"witness {url}: its cosignature does not verify")
            trusted.append(line)
    if not trusted:
        raise WitnessRequestError(f"witness {url}: no cosignature by {verifier.to_vkey()}")
    return trusted


def append_cosignatures(signed_checkpoint: str, lines: Sequence[str]) -> str:
    """The checkpoint with extra signature lines appended (e.g. to serve it cosigned)."""
    note = parse_note(signed_checkpoint)
    known = {sig.line() for sig in note.signatures}
    extra = []
    for line in lines:
        sig = NoteSignature.parse_line(line)
        if sig.line() not in known:
            known.add(sig.line())
            extra.append(sig)
    return note.with_signatures(extra).encode()
