"""Photos of additional work (the technician shows the advisor, and the advisor the customer, what was found): image
files under data_dir/photos/, named by a random token, kept as the technician's device sent them.

The type is read from the file's first bytes, never from the name or the browser's word; nothing is re-encoded or
stripped. Staff read them through an authenticated route (kiosk/workshop/photos.py)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from shopfloor.domain.errors import Invalid

MAX_BYTES = 8 * 1024 * 1024  # a phone camera's JPEG is 2–5 MB
FOLDER = "photos"
# what each kind's file starts with, its extension and the Content-Type it is served with
_KINDS: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png", "image/png"),
    (b"WEBP", 8, "webp", "image/webp"),  # RIFF....WEBP
)
CONTENT_TYPES = {ext: mime for _magic, _at, ext, mime in _KINDS}
NAME_RE = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png|webp)$")


def kind_of(data: bytes) -> str | None:
    """The extension of an image we keep, from its first bytes; None for anything else."""
    for magic, at, ext, _mime in _KINDS:
        if data[at:at + len(magic)] == magic and (ext != "webp" or data[:4] == b"RIFF"):
            return ext
    return None


def check_name(name: str) -> str:
    """A stored photo's name as the services keep it (a file name, never a path)."""
    if not NAME_RE.fullmatch(name):
        raise Invalid("station.photo.invalid")
    return name


def url(name: str | None) -> str | None:
    """Where staff's browsers read it (PhotoRoute)."""
    return f"/photos/{name}" if name else None


class PhotoStore:
    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / FOLDER

    def save(self, data: bytes) -> str:
        """Keep the image; its new name. Invalid for an empty, too large or non-image file."""
        if not data or len(data) > MAX_BYTES:
            raise Invalid("station.photo.size", mb=MAX_BYTES // (1024 * 1024))
        ext = kind_of(data)
        if ext is None:
            raise Invalid("station.photo.type")
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_hex(16)}.{ext}"
        tmp = self.folder / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(self.folder / name)  # whole or not at all: a reader never sees half a photo
        return name

    def path(self, name: str) -> Path | None:
        """The stored file of `name`, or None (a name that is not one of ours never becomes a path)."""
        if not NAME_RE.fullmatch(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def discard(self, name: str) -> None:
        """A photo uploaded for a report that was not sent."""
        path = self.path(name)
        if path is not None:
            path.unlink(missing_ok=True)
