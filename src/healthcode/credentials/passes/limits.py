"""Size and policy limits that bound the work done on untrusted input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Limits:
    """Every bound the decoders enforce; the defaults fit a pass with ample room.

    A typical pass is ~250 characters; a version-40 QR code holds 4296 alphanumerics.
    """

    # Transport: checked before Base45 decoding, before inflating, before CBOR.
    max_text_chars: int = 1_024
    max_decoded_bytes: int = 700  # Base45 output; 1024 characters decode to 682 bytes
    max_decompressed_bytes: int = 1_024
    # CBOR pre-scan (RFC 8949 §3): COSE_Sign1 is 3 levels deep, the claims 3 as well.
    max_cbor_depth: int = 6
    max_cbor_items: int = 48
    # Claims.
    max_issuer_chars: int = 64
    max_name_chars: int = 64
    max_key_id_bytes: int = 32
    # Time policy: a pass is short-lived; an identity card lasts years.
    max_pass_lifetime: timedelta = timedelta(hours=24)
    max_card_lifetime: timedelta = timedelta(days=366 * 10)
    clock_skew: timedelta = timedelta(minutes=5)
    # Place codes: venue id, window, key id, signature.
    max_place_text_chars: int = 400
    max_venue_id_chars: int = 64
    # Trust list documents (JSON).
    max_trust_list_bytes: int = 4 * 1024 * 1024
    max_trust_list_keys: int = 10_000


DEFAULT_LIMITS = Limits()
