"""The codec's `PassError`s as healthcode refusals: one catalogue code per codec code.

The codec's codes (`pass.*`, `place.*`, `trust.*`) are the catalogue's codes; the catalogue
gives the bilingual message a person or a venue sees, the codec's own message becomes the
detail (key ids, instants, limits: never personal data). A revoked key also carries its
revocation reason from the closed list, in both languages.
"""

from __future__ import annotations

from healthcode.credentials.passes import KeyRevokedError, PassError, RevocationReason
from healthcode.errors import CATALOGUE, InputRejected


class PassRefused(InputRejected):
    """A refused pass, card, place code or trust list; a revoked key names its reason."""

    def __init__(self, code: str, detail: str, reason: RevocationReason | None = None) -> None:
        super().__init__(code, detail)
        self.reason = reason

    def as_body(self) -> dict[str, object]:
        body = super().as_body()
        if self.reason is not None:
            body["reason"] = {
                "code": self.reason.value,
                "zh": self.reason.message_zh,
                "en": self.reason.message_en,
            }
        return body


def refused(error: PassError) -> PassRefused:
    """The refusal for a codec error (an unknown code would be a codec bug: it is malformed)."""
    code = error.code if error.code in CATALOGUE else "request.malformed"
    reason = None
    if isinstance(error, KeyRevokedError):
        try:
            reason = RevocationReason(error.reason)
        except ValueError:
            reason = None
    return PassRefused(code, error.message_en, reason)
