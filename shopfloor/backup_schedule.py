"""The nightly backup: once a day, at [backup] at in the site's time, an online copy of the SQLite database into
DATA_DIR/backups/nightly-YYYY-MM-DD.sqlite3, keeping the newest [backup] keep of them.

Checked every minute rather than slept until the hour: a server started after that time (it was down, or
installed today) copies the day's database at once, a changed [backup] at applies from the next check, and the
site's clock (which tests move) decides, not a timer. A PostgreSQL site has no file to copy: pg_dump (README)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from shopfloor.backup import SUFFIX, BackupInfo, backup_sqlite, backups_dir, sqlite_file
from shopfloor.services.context import ServiceContext

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 60.0
# after a failed copy (a full disk, a read error) the next try waits this many checks, not one minute
RETRY_AFTER_CHECKS = 15
PREFIX = "nightly-"


class BackupSchedule:
    def __init__(self, ctx: ServiceContext, data_dir: Path, *, every: float = CHECK_EVERY_SECONDS) -> None:
        self.ctx = ctx
        self.folder = backups_dir(data_dir)
        self.every = every

    @property
    def db_file(self) -> Path | None:
        return sqlite_file(self.ctx.db.url)

    def path_for(self, day: date) -> Path:
        return self.folder / f"{PREFIX}{day.isoformat()}{SUFFIX}"

    def due(self) -> date | None:
        """The site's day whose nightly copy is owed now: today once [backup] at has passed and none is there yet."""
        now = self.ctx.now().astimezone(self.ctx.tz)
        if now.time() < self.ctx.settings.backup.at:
            return None
        return None if self.path_for(now.date()).exists() else now.date()

    def run_once(self) -> BackupInfo | None:
        """The copy owed now, if any, then the old ones pruned; None when nothing was owed."""
        db_file = self.db_file
        day = self.due()
        if db_file is None or day is None:
            return None
        info = backup_sqlite(db_file, self.path_for(day))
        removed = self.prune()
        log.info("nightly backup %s (%.1f MB)%s", info.path, info.size / 1_000_000,
                 f"; removed {len(removed)} older" if removed else "")
        return info

    def nightly(self) -> list[Path]:
        """The nightly copies, newest first (their names sort by day)."""
        if not self.folder.is_dir():
            return []
        return sorted((p for p in self.folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file()), reverse=True)

    def prune(self) -> list[Path]:
        """Removes all but the newest [backup] keep nightly copies (other backups are left alone); returns those
        removed."""
        old = self.nightly()[self.ctx.settings.backup.keep:]
        for path in old:
            path.unlink(missing_ok=True)
        return old

    async def run_forever(self, io_bound: Callable[[Callable[[], BackupInfo | None]], Awaitable[object]]) -> None:
        """The server's task; the copy itself runs in `io_bound` (a worker thread)."""
        if self.db_file is None:
            log.info("nightly backups: the database is not a SQLite file; back it up with pg_dump (README, Backups)")
            return
        while True:
            wait = self.every
            try:
                await io_bound(self.run_once)
            except Exception:
                log.exception("nightly backup into %s failed; trying again in %.0f s", self.folder,
                              self.every * RETRY_AFTER_CHECKS)
                wait = self.every * RETRY_AFTER_CHECKS
            await asyncio.sleep(wait)
