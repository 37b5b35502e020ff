"""Images for tests that upload photos: a camera's JPEG (with the EXIF a phone writes: orientation, GPS, model),
a PNG with transparency, things that only look like images, and a signature pad's PNG."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

EXIF_ORIENTATION = 0x0112
EXIF_MODEL = 0x0110
EXIF_GPS = 0x8825
GPS_LATITUDE_REF = 1


def jpeg(width: int = 64, height: int = 48, *, orientation: int | None = None, gps: bool = False,
         colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A JPEG as a phone sends it: left half `colour`, right half white, so a turn shows where that half went."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    image.paste(colour, (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[EXIF_MODEL] = "Shopfloor TestPhone"
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    if gps:
        exif.get_ifd(EXIF_GPS)[GPS_LATITUDE_REF] = "N"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes(), comment=b"taken at 39.9N 116.4E")
    return out.getvalue()


def png(width: int = 40, height: int = 30, *, alpha: bool = True) -> bytes:
    image = Image.new("RGBA" if alpha else "RGB", (width, height), (0, 0, 255, 0) if alpha else (0, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def signature_png(*, ink: bool = True) -> bytes:
    """What the signature pad sends: a transparent 300×100 PNG with a stroke drawn on it (none: a blank pad)."""
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(20, 70), (80, 20), (140, 75), (220, 25)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
