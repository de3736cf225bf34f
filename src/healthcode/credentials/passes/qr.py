"""QR rendering of credential and place code texts, in memory (segno; no file I/O).

The texts use only the QR alphanumeric characters (the prefixes and Base45, RFC 9285 §4),
so segno encodes them in alphanumeric mode: 5.5 bits per character.
"""

from __future__ import annotations

import io
from typing import Literal

import segno

ErrorLevel = Literal["l", "m", "q", "h"]


def _qr(text: str, error: ErrorLevel) -> segno.QRCode:
    return segno.make(text, error=error, micro=False, boost_error=False)


def qr_png(text: str, *, scale: int = 4, border: int = 4, error: ErrorLevel = "m") -> bytes:
    """PNG bytes of the QR code for `text`."""
    out = io.BytesIO()
    _qr(text, error).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(text: str, *, scale: int = 4, border: int = 4, error: ErrorLevel = "m") -> bytes:
    """SVG bytes (UTF-8 XML) of the QR code for `text`."""
    out = io.BytesIO()
    _qr(text, error).save(out, kind="svg", scale=scale, border=border, xmldecl=False)
    return out.getvalue()


def qr_version(text: str, error: ErrorLevel = "m") -> int:
    """The QR version (1..40) `text` needs, to keep codes small enough to scan."""
    version = _qr(text, error).version
    assert isinstance(version, int)
    return version
