"""Photos taken at reception: checked by content, resized, re-encoded without EXIF, kept under data_dir/photos/."""

from __future__ import annotations

from pathlib import Path

from shopfloor.services.context import ServiceContext


class OrderPhotoService:
    def __init__(self, ctx: ServiceContext, data_dir: Path) -> None:
        self.ctx, self.data_dir = ctx, data_dir
