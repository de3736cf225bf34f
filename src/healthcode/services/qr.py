"""Reading QR codes from images (zxing-cpp), for certificates and passes people upload."""

from __future__ import annotations

import io

from healthcode.errors import InputRejected

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000


def read_qr_texts(image_bytes: bytes) -> list[str]:
    """Every QR/barcode text found in an image; refuses oversized or unreadable images."""
    import zxingcpp  # the imaging stack loads only when an image is actually read
    from PIL import Image

    if len(image_bytes) > MAX_IMAGE_BYTES:
        raise InputRejected("request.too_large", "image over 5 MiB")
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise InputRejected("request.too_large", "image over 25 megapixels")
            image.load()
            return [code.text for code in zxingcpp.read_barcodes(image)]
    except InputRejected:
        raise
    except Exception:  # Pillow and zxing signal unreadable images in many ways
        raise InputRejected("request.malformed", "unreadable image") from None
