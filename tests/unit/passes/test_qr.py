"""QR rendering: what segno draws, zxing-cpp reads back to the same text."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from healthcode.credentials import passes

from .conftest import ISSUER_A, VENUE, VENUE_KEY, VENUE_KID


@pytest.mark.parametrize(
    "text",
    [
        ISSUER_A.pass_text(),
        passes.place_code(VENUE, 178_030_080, VENUE_KEY, VENUE_KID),
        passes.static_place_code(VENUE, VENUE_KEY, VENUE_KID),
    ],
)
def test_png_decodes_back_to_the_same_text(text: str) -> None:
    png = passes.qr_png(text)
    assert png.startswith(b"\x89PNG")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [result.text for result in results] == [text]


def test_svg() -> None:
    svg = passes.qr_svg(ISSUER_A.pass_text())
    assert svg.startswith(b"<svg") and svg.rstrip().endswith(b"</svg>")


def test_sizes_stay_scannable() -> None:
    assert passes.qr_version(ISSUER_A.pass_text()) <= 11
    assert passes.qr_version(passes.place_code(VENUE, 178_030_080, VENUE_KEY, VENUE_KID)) <= 7
