"""Whether this server can do its work: the database answers, the broker is connected, what waits to be sent
(outbox rows to the boards, messages to customers), each printer's last state and the last backup.

Read by GET /healthz (shopfloor/web/health.py: monitoring, the wall screens' start script), the manager's
/status page and the systemd watchdog. Only counts, states and times: no personal data.

The database is asked in a thread of its own with a short timeout: a database that hangs (a PostgreSQL host
gone from the network, a SQLite file locked by a stuck process) makes the answer "unreachable" in
`DB_TIMEOUT_SECONDS` instead of hanging the caller. One probe at a time: while one hangs, later checks wait for
that same probe instead of parking one more thread each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from shopfloor.backup import BackupInfo, last_backup
from shopfloor.domain.aftersales_models import CustomerMessage
from shopfloor.domain.models import OutboxMessage
from shopfloor.services.context import ServiceContext

log = logging.getLogger(__name__)

DB_TIMEOUT_SECONDS = 3.0
# customer messages not handed over yet (sender: queued → sending → sent | failed | uncertain | …)
MESSAGES_PENDING_STATES = ("queued", "sending")
UNKNOWN = "unknown"  # a configured printer whose agent never said anything since this server started


def version() -> str:
    try:
        return metadata.version("shopfloor")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return UNKNOWN


@dataclass(frozen=True)
class DatabaseFigures:
    """What the database said, or why it did not answer (`error`)."""

    reachable: bool
    outbox_pending: int | None = None
    outbox_oldest_at: datetime | None = None  # the oldest unsent outbox row's creation
    messages_pending: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    database: bool
    broker: bool
    outbox_pending: int | None
    outbox_oldest_at: datetime | None
    messages_pending: int | None
    printers: dict[str, str]
    last_backup: BackupInfo | None
    version: str
    checked_at: datetime
    database_error: str | None = None  # for the manager's /status page and the log, never in /healthz
    broker_address: str = ""  # where this server publishes (mqtt://host:port): a wrong broker shows here
    backups_expected: bool = True  # SQLite: the nightly copy lands in DATA_DIR/backups (PostgreSQL: pg_dump's job)

    @property
    def problems(self) -> list[str]:
        """Why the status is not "ok", as stable codes (no names of people, only of printers): a monitor can alert on
        them and a person can read them. A missing backup is named here without making the status "degraded"."""
        found = [] if self.database else ["database_unreachable"]
        if not self.broker:
            found.append("broker_disconnected")
        found += [f"printer_{state}:{name}" for name, state in self.printers.items() if state != "online"]
        if self.backups_expected and self.last_backup is None:
            found.append("no_backup")
        return found

    @property
    def status(self) -> str:
        """"unavailable" without the database (HTTP 503), "degraded" when something else is wrong, else "ok"."""
        if not self.database:
            return "unavailable"
        if not self.broker or any(state != "online" for state in self.printers.values()):
            return "degraded"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "problems": self.problems,
            "database": self.database,
            "broker": self.broker,
            "broker_address": self.broker_address,
            "outbox_pending": self.outbox_pending,
            "outbox_oldest_at": _iso(self.outbox_oldest_at),
            "messages_pending": self.messages_pending,
            "printers": dict(self.printers),
            "last_backup": _iso(self.last_backup.at) if self.last_backup else None,
            "last_backup_kind": self.last_backup.kind if self.last_backup else None,
            "version": self.version,
            "checked_at": _iso(self.checked_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class HealthService:
    def __init__(self, ctx: ServiceContext, *, broker_connected: Callable[[], bool],
                 printers: Callable[[], Mapping[str, str]], data_dir: Path | None,
                 db_timeout: float = DB_TIMEOUT_SECONDS, broker_address: str = "") -> None:
        """`broker_connected`: the server's own broker connection (the publisher's link); `printers`: each
        printer's last retained status (board store), read on the event loop; `broker_address`: where it publishes."""
        self.broker_address = broker_address
        self.ctx = ctx
        self.broker_connected = broker_connected
        self.printers = printers
        self.data_dir = data_dir
        self.db_timeout = db_timeout
        self.version = version()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-db")
        self._probe: concurrent.futures.Future[DatabaseFigures] | None = None

    # -- the database ---------------------------------------------------------------------------------------

    def database_figures(self) -> DatabaseFigures:
        """Ask the database in the calling thread (no timeout: see database_figures_soon)."""
        try:
            with self.ctx.db.read() as s:
                s.execute(text("SELECT 1"))
                pending, oldest = s.execute(select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.sent_at.is_(None))).one()
                messages = s.scalar(select(func.count()).select_from(CustomerMessage).where(
                    CustomerMessage.site_id == self.ctx.site, CustomerMessage.state.in_(MESSAGES_PENDING_STATES)))
        except Exception as exc:  # any driver's error means the same here: not answering
            return DatabaseFigures(reachable=False, error=_short(exc))
        return DatabaseFigures(reachable=True, outbox_pending=int(pending or 0), outbox_oldest_at=oldest,
                               messages_pending=int(messages or 0))

    async def database_figures_soon(self) -> DatabaseFigures:
        """database_figures in the health thread, given up after db_timeout seconds."""
        probe = self._probe
        if probe is None or probe.done():
            probe = self._probe = self._executor.submit(self.database_figures)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(probe)), self.db_timeout)
        except TimeoutError:
            return DatabaseFigures(reachable=False, error=f"no answer within {self.db_timeout:g} s")

    # -- the rest -------------------------------------------------------------------------------------------

    def last_backup(self) -> BackupInfo | None:
        if self.data_dir is None:
            return None
        try:
            return last_backup(self.data_dir)
        except OSError as exc:
            log.warning("cannot look at the backups in %s: %s", self.data_dir, exc)
            return None

    def printer_states(self) -> dict[str, str]:
        """Each configured printer's last status ("unknown" until its agent says something), and any other
        printer whose agent publishes."""
        states = {p.name: UNKNOWN for p in self.ctx.settings.printers}
        states.update(self.printers())
        return dict(sorted(states.items()))

    def report(self, figures: DatabaseFigures) -> HealthReport:
        return HealthReport(
            database=figures.reachable, database_error=figures.error, broker=self.broker_connected(),
            outbox_pending=figures.outbox_pending, outbox_oldest_at=figures.outbox_oldest_at,
            messages_pending=figures.messages_pending, printers=self.printer_states(),
            last_backup=self.last_backup(), version=self.version, checked_at=self.ctx.now(),
            broker_address=self.broker_address,
            backups_expected=self.data_dir is not None and self.ctx.db.url.startswith("sqlite"))

    def check(self) -> HealthReport:
        """Everything, the database asked in this thread (command line, tests)."""
        return self.report(self.database_figures())

    async def check_soon(self) -> HealthReport:
        """Everything, on the event loop; the database in the health thread with the timeout."""
        return self.report(await self.database_figures_soon())

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _short(exc: BaseException) -> str:
    """The first line of a driver's message (SQLAlchemy appends the SQL and a link)."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (first[0] if first else type(exc).__name__)[:300]
