"""Pictures as ESC/POS raster bit images (GS v 0), the one image command nearly every printer understands."""

from __future__ import annotations

from typing import Final

from PIL import Image, ImageOps

# Cheap printers stall or print garbage when one command carries more than their receive buffer; bands
# of this many rows (576 dots wide = 18 KiB) stay well inside it and print as one seamless picture.
BAND_ROWS: Final = 256


def raster_image(image: Image.Image, *, max_width: int | None = None) -> bytes:
    """GS v 0 blocks for `image`, dark pixels printed. Width is padded to whole bytes with white."""
    mono = image.convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1")
    if max_width is not None and mono.width > max_width:
        raise ValueError(f"image {mono.width} dots wide does not fit the {max_width}-dot print line")
    width_bytes = (mono.width + 7) // 8
    if width_bytes * 8 != mono.width:
        padded = Image.new("1", (width_bytes * 8, mono.height), 1)
        padded.paste(mono, (0, 0))
        mono = padded
    # PIL's mode "1" sets a bit for white; ESC/POS for a black dot
    bits = ImageOps.invert(mono.convert("L")).convert("1").tobytes()
    out = bytearray()
    for top in range(0, mono.height, BAND_ROWS):
        rows = min(BAND_ROWS, mono.height - top)
        out += b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out += bits[top * width_bytes:(top + rows) * width_bytes]
    return bytes(out)
