"""Photos taken at reception: checked by content, resized, re-encoded without EXIF, kept under data_dir/photos/.

What the tablet sends is never kept as it came: it is decoded (so a renamed text file, a truncated upload or a
format we do not take is refused), turned upright by its EXIF orientation, shrunk to [reception] photo_max_px on its
longer side and written again as a plain JPEG. The new file carries no EXIF, XMP, ICC or comment: where and when the
photo was taken, and with which phone, stays on the tablet."""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps
from sqlalchemy import select

from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.reception_models import OrderPhoto
from shopfloor.services.audit import Actor, Entity, record
from shopfloor.services.context import ServiceContext
from shopfloor.services.workshop import photos as store_mod
from shopfloor.services.workshop.order_status import load_order, require_open

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG")
JPEG_QUALITY = 85
# Decoded pixels we accept. A JPEG is decoded at a reduced scale (draft), so a 108-megapixel phone photo costs little;
# a PNG is decoded whole (4 bytes a pixel), so it gets less: a small file can hold a huge flat image (a "bomb").
MAX_JPEG_PIXELS = 150_000_000  # below twice Pillow's MAX_IMAGE_PIXELS, where it refuses to open one at all
MAX_PNG_PIXELS = 40_000_000


class PhotoTooLarge(Invalid):
    """More bytes than [reception] photo_max_mb, or more pixels than we decode (API 413)."""


class NotAnImage(Invalid):
    """Not a whole JPEG or PNG image, whatever its name says (API 415)."""


@dataclass(frozen=True)
class PhotoInfo:
    id: int
    url: str
    width: int
    height: int


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    width: int
    height: int


def max_bytes(photo_max_mb: int) -> int:
    return photo_max_mb * 1024 * 1024


def encode(data: bytes, max_px: int) -> _Encoded:
    """The photo as we keep it: upright, at most `max_px` on its longer side, RGB JPEG without metadata."""
    try:
        with warnings.catch_warnings():
            # our own limits below decide; Pillow's warning would refuse a 108-megapixel phone's JPEG
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            pixels = image.width * image.height
            limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_PNG_PIXELS
            if pixels > limit:
                raise PhotoTooLarge("walkaround.error.photo_pixels", pixels=round(pixels / 1e6),
                                    most=limit // 1_000_000)
            if image.format == "JPEG":
                # decode at 1/2, 1/4 or 1/8 scale when that is still enough. Asked in the photo's own proportions:
                # Pillow scales down only while both sides stay at least the size asked, so a square would keep a
                # 4000×3000 photo whole (3000 // 1600 = 1): twice the time, 118 MB instead of 40
                # (bench/reception_documents.py)
                longer = max(image.width, image.height)
                image.draft("RGB", (max(1, image.width * max_px // longer), max(1, image.height * max_px // longer)))
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
            clean = _rgb(upright)
    except Image.DecompressionBombError:  # more than twice Pillow's limit: not even opened
        most = MAX_JPEG_PIXELS // 1_000_000
        raise PhotoTooLarge("walkaround.error.photo_pixels", pixels=f"> {most}", most=most) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # Pillow's words for "not (all) an image"
        log.info("upload refused as not an image: %s", exc)
        raise NotAnImage("walkaround.error.not_an_image") from None
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return _Encoded(out.getvalue(), clean.width, clean.height)


def _rgb(image: Image.Image) -> Image.Image:
    """A fresh RGB image of the pixels alone (nothing of the source's info is carried over); transparency on white,
    as the photo would look on paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    converted = image.convert("RGB")
    clean = Image.new("RGB", converted.size)
    clean.paste(converted)
    return clean


class OrderPhotoService:
    def __init__(self, ctx: ServiceContext, data_dir: Path) -> None:
        self.ctx, self.data_dir = ctx, data_dir
        self.store = store_mod.PhotoStore(data_dir)

    @property
    def max_bytes(self) -> int:
        return max_bytes(self.ctx.settings.reception.photo_max_mb)

    def upload(self, number: str, data: bytes, *, actor: Actor | str) -> PhotoInfo:
        """Keep a photo of the open order `number`. PhotoTooLarge over [reception] photo_max_mb, NotAnImage for
        anything that does not decode as JPEG or PNG."""
        settings = self.ctx.settings.reception
        if len(data) > self.max_bytes:
            raise PhotoTooLarge("walkaround.error.photo_too_large", mb=settings.photo_max_mb)
        if not data:
            raise NotAnImage("walkaround.error.not_an_image")
        with self.ctx.db.read() as s:  # before the work of decoding: an unknown or closed order is refused at once
            require_open(load_order(s, number))
        encoded = encode(data, settings.photo_max_px)
        name = self.store.save(encoded.data)
        try:
            with self.ctx.db.write() as s:
                ro = load_order(s, number)
                require_open(ro)
                photo = OrderPhoto(repair_order_id=ro.id, name=name, width=encoded.width, height=encoded.height,
                                   size_bytes=len(encoded.data), uploaded_at=self.ctx.now(),
                                   uploaded_by=str(actor)[:80])
                s.add(photo)
                s.flush()
                record(s, self.ctx, actor, Entity.REPAIR_ORDER, ro.number, "photo_added", to_value=photo.id,
                       detail={"photo": photo.id, "name": name, "width": encoded.width, "height": encoded.height,
                               "bytes": len(encoded.data), "received_bytes": len(data)})
                info = PhotoInfo(photo.id, _url(name), encoded.width, encoded.height)
        except BaseException:
            self.store.discard(name)  # the row did not commit: no file without its row
            raise
        return info

    def path(self, name: str) -> Path | None:
        return self.store.path(name)

    def photo(self, number: str, photo_id: int) -> PhotoInfo | None:
        """Photo `photo_id` if it is one of order `number`'s (None for any other, and for an unknown order)."""
        row = self._row(number, photo_id)
        return PhotoInfo(row.id, _url(row.name), row.width, row.height) if row is not None else None

    def _row(self, number: str, photo_id: int) -> OrderPhoto | None:
        if not 0 < photo_id < 2**31:
            return None
        with self.ctx.db.read() as s:
            return s.scalar(select(OrderPhoto).join(RepairOrder, RepairOrder.id == OrderPhoto.repair_order_id).where(
                OrderPhoto.id == photo_id, RepairOrder.number == number, RepairOrder.site_id == self.ctx.site))

    def for_order(self, number: str) -> list[PhotoInfo]:
        """The order's photos, oldest first."""
        with self.ctx.db.read() as s:
            ro = load_order(s, number)
            return [PhotoInfo(p.id, _url(p.name), p.width, p.height) for p in s.scalars(
                select(OrderPhoto).where(OrderPhoto.repair_order_id == ro.id).order_by(OrderPhoto.id))]

    def file_of(self, number: str, photo_id: int) -> Path | None:
        """The stored file of order `number`'s photo `photo_id` (the API serves it to tokens)."""
        row = self._row(number, photo_id)
        return self.store.path(row.name) if row is not None else None

def _url(name: str) -> str:
    return store_mod.url(name) or ""
