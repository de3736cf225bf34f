"""Keys and tags derived from the places secret (services/place_keys.py)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from healthcode.services.place_keys import DerivedKeys


@pytest.mark.parametrize("size", [32, 63, 64, 65, 200])
def test_tags_are_hmac_sha256_of_the_master(size: int) -> None:
    """The tag's own HMAC (pads hashed once) is byte for byte `hmac`'s, for keys shorter than,
    as long as and longer than SHA-256's block (RFC 2104 §2 hashes a longer key first)."""
    master = bytes(range(256))[:size]
    keys = DerivedKeys(master)
    for message in ("", "scan|0123|v1|w42", "场所" * 40):
        expected = hmac.new(master, f"healthcode-tag:{message}".encode(), hashlib.sha256)
        assert keys.tag(message) == expected.hexdigest()[:32]
