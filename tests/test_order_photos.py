"""Reception photos on SQLite and PostgreSQL: a phone's JPEG kept upright, resized and without its EXIF (GPS, model,
comment), a PNG with transparency on white, and what is refused by content with nothing kept: a renamed text file,
a GIF, a truncated upload, too many bytes, too many pixels, an unknown or closed order."""

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from shopfloor.domain.errors import NotFound, Refused
from shopfloor.domain.models import AuditEntry
from shopfloor.domain.reception_models import OrderPhoto
from shopfloor.domain.states import RoStatus
from shopfloor.services.reception.photos import NotAnImage, OrderPhotoService, PhotoTooLarge
from shopfloor.testing.photos import jpeg, png
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES

ADVISOR = "李娜"


@pytest.fixture
def photos(services: Services, tmp_path: Path) -> OrderPhotoService:
    return OrderPhotoService(services.ctx, tmp_path / "data")


def stored(photos: OrderPhotoService) -> list[Path]:
    folder = photos.data_dir / "photos"
    return sorted(folder.iterdir()) if folder.exists() else []


def rows(svc: Services) -> int:
    with svc.db.read() as s:
        return s.scalar(select(func.count()).select_from(OrderPhoto)) or 0


def test_a_phone_photo_is_kept_upright_smaller_and_without_its_exif(services: Services,
                                                                   photos: OrderPhotoService) -> None:
    number = new_order(services, "OIL")
    # 4000×3000 as the sensor saw it, EXIF orientation 6: the phone was held upright, the photo is 3000×4000
    sent = jpeg(4000, 3000, orientation=6, gps=True)
    assert Image.open(io.BytesIO(sent)).getexif()[0x0112] == 6
    info = photos.upload(number, sent, actor=ADVISOR)
    max_px = services.ctx.settings.reception.photo_max_px
    assert (info.width, info.height) == (max_px * 3 // 4, max_px)
    assert info.url.startswith("/photos/") and info.url.endswith(".jpg")
    name = info.url.removeprefix("/photos/")
    path = photos.path(name)
    assert path is not None and stored(photos) == [path]
    kept = Image.open(path)
    assert (kept.format, kept.mode, kept.size) == ("JPEG", "RGB", (info.width, info.height))
    assert not kept.getexif() and "exif" not in kept.info and "comment" not in kept.info
    assert b"TestPhone" not in path.read_bytes() and b"39.9N" not in path.read_bytes()
    # turned as the phone said: the red left half of the sensor's image is now the top
    assert kept.getpixel((info.width // 2, 10))[0] > 150 and kept.getpixel((info.width // 2, 10))[1] < 100
    assert kept.getpixel((info.width // 2, info.height - 10)) > (230, 230, 230)
    assert photos.photo(number, info.id) == info
    assert photos.file_of(number, info.id) == path
    assert photos.for_order(number) == [info]
    with services.db.read() as s:
        row = s.get(OrderPhoto, info.id)
        assert row is not None and (row.name, row.uploaded_by, row.size_bytes) == (name, ADVISOR,
                                                                                   path.stat().st_size)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.entity_id == number, AuditEntry.action == "photo_added"))
        assert entry is not None and entry.actor == ADVISOR
        assert json.loads(entry.detail or "{}")["received_bytes"] == len(sent)


def test_a_small_png_keeps_its_size_and_its_transparency_turns_white(services: Services,
                                                                     photos: OrderPhotoService) -> None:
    number = new_order(services, "OIL")
    info = photos.upload(number, png(40, 30), actor=ADVISOR)
    assert (info.width, info.height) == (40, 30)
    path = photos.path(info.url.removeprefix("/photos/"))
    assert path is not None
    kept = Image.open(path)
    assert kept.format == "JPEG" and kept.getpixel((20, 15)) > (245, 245, 245)
    assert photos.upload(number, png(alpha=False), actor=ADVISOR).id > info.id


def test_what_is_not_an_image_is_refused_by_its_content_and_nothing_is_kept(services: Services,
                                                                             photos: OrderPhotoService) -> None:
    number = new_order(services, "OIL")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    whole = jpeg(400, 300)
    for data in (b"Hello, this is not a photo.\n" * 40,  # a text file renamed photo.jpg
                 b"\xff\xd8\xff\xe0" + b"\x00" * 500,  # starts like a JPEG, is not one
                 gif.getvalue(),  # an image, not one we take
                 whole[: len(whole) // 2],  # the upload broke halfway
                 b""):
        with pytest.raises(NotAnImage) as refused:
            photos.upload(number, data, actor=ADVISOR)
        assert refused.value.message("en") == "Not a JPEG or PNG image"
    assert stored(photos) == [] and rows(services) == 0


def test_too_many_bytes_or_pixels_are_refused(services: Services, photos: OrderPhotoService) -> None:
    number = new_order(services, "OIL")
    limit = services.ctx.settings.reception.photo_max_mb * 1024 * 1024
    with pytest.raises(PhotoTooLarge, match=f"larger than {limit // 1024 // 1024} MB"):
        photos.upload(number, jpeg() + b"\x00" * limit, actor=ADVISOR)
    # a small file that decodes to an enormous image (a "decompression bomb")
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 1024 * 1024
    with pytest.raises(PhotoTooLarge, match="too many pixels"):
        photos.upload(number, bomb.getvalue(), actor=ADVISOR)
    assert stored(photos) == [] and rows(services) == 0
    # just under the limit (a photo with trailing bytes, as some cameras write) is fine
    assert photos.upload(number, jpeg() + b"\x00" * (limit - 10_000), actor=ADVISOR).width == 64


def test_an_unknown_or_closed_order_keeps_no_photo(services: Services, photos: OrderPhotoService) -> None:
    with pytest.raises(NotFound):
        photos.upload("RO20000101-999", jpeg(), actor=ADVISOR)
    number = new_order(services, "OIL")
    services.repair_orders.transition(number, RoStatus.CANCELLED.value, actor=ADVISOR, reason="客户取消")
    with pytest.raises(Refused):
        photos.upload(number, jpeg(), actor=ADVISOR)
    assert stored(photos) == [] and rows(services) == 0


def test_a_photo_is_found_only_under_its_own_order(services: Services, photos: OrderPhotoService) -> None:
    number, other = new_order(services, "OIL"), new_order(services, "OIL")
    info = photos.upload(number, jpeg(), actor=ADVISOR)
    assert photos.photo(other, info.id) is None and photos.file_of(other, info.id) is None
    assert photos.photo("RO-NONE", info.id) is None and photos.photo(number, 2**40) is None
    assert photos.path("../../etc/passwd") is None
