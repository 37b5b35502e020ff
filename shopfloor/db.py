"""Engines and transactions. SQLite by default (WAL; writes take the lock up front with BEGIN IMMEDIATE
so two writers never deadlock half-way), PostgreSQL for larger sites (writes take one transaction-scoped
advisory lock up front: the same one-writer-at-a-time the services are written for)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from shopfloor.events import ThreadEvent
from shopfloor.write_turns import WriteTurns

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Set in session.info by whoever adds an outbox row; after commit the publisher is woken.
OUTBOX_PENDING = "outbox_pending"
# PostgreSQL advisory lock key held by every write transaction (arbitrary, fixed: "shopflor" in ASCII).
WRITE_LOCK_KEY = 0x73686F70666C6F72
# How long a write waits for the writers ahead of it, as SQLite's busy_timeout below.
WRITE_WAIT_SECONDS = 30.0


class WriteWaitTimeout(TimeoutError):
    """A write waited WRITE_WAIT_SECONDS for the writers ahead of it in this process."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _make_engine(url: str, *, immediate: bool) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below issue BEGIN, instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when commit returns, also across a power cut, not only a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.write_engine = _make_engine(url, immediate=True)
        self.read_engine = _make_engine(url, immediate=False) if url.startswith("sqlite") else self.write_engine
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._lock_writes = self.write_engine.dialect.name == "postgresql"
        # This process's writers take turns here, in arrival order, each woken the moment the one ahead commits.
        # Left to SQLite, a writer that finds the lock taken sleeps and retries (1, 2, 5 … 100 ms): under a
        # steady stream of writes a waiting one can miss every free moment until its 30 s are up (HTTP 500s at
        # 25 events/s). Other processes still meet BEGIN IMMEDIATE / the advisory lock.
        self.write_turns = WriteTurns()
        self.outbox_committed = ThreadEvent[[]]()
        """a write that added outbox rows has committed (no payload); fired in the committing thread"""

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed if the block ends normally, rolled back if it raises. Write
        transactions run one at a time, so a service may read, decide and write without racing another
        (RO numbers, one open order per vehicle, the state machine). SQLite: BEGIN IMMEDIATE. PostgreSQL: its
        READ COMMITTED would let two writers read the same state and both act on it, so each write takes a
        transaction-scoped advisory lock first; reads never wait for it. Writers of this process wait their
        turn before either (not reentrant: a write inside a write would wait for itself)."""
        if not self.write_turns.acquire(WRITE_WAIT_SECONDS):
            raise WriteWaitTimeout(f"waited {WRITE_WAIT_SECONDS:.0f} s for the database's other writers")
        try:
            with self._write() as session:
                with session.begin():
                    if self._lock_writes:
                        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
                    yield session
                outbox_pending = session.info.pop(OUTBOX_PENDING, False)
        finally:
            self.write_turns.release()
        if outbox_pending:
            self.outbox_committed.emit()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def migrate(self, revision: str = "head") -> None:
        self._backup_before_migration(revision)
        with self.write_engine.begin() as conn:
            cfg = self.alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def _backup_before_migration(self, revision: str) -> None:
        """A SQLite file holding data is copied to DATA_DIR/backups/pre-migration-<from>-<UTC>.sqlite3 before a
        migration changes it: an upgrade that goes wrong half-way, or a new version that has to be taken back, then
        has yesterday's database to return to. A fresh database has nothing to keep; PostgreSQL is pg_dump's."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from shopfloor import backup

        path = backup.sqlite_file(self.url)
        if path is None or not path.is_file():
            return
        with self.read_engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current is None:
                return
            script = ScriptDirectory.from_config(self.alembic_config())
            target = script.get_revision(revision)
            if target is None or target.revision == current or not _holds_data(conn):
                return
        out = backup.backups_dir(path.parent) / f"pre-migration-{current}-{backup.stamp()}{backup.SUFFIX}"
        try:
            info = backup.backup_sqlite(path, out)
        except (backup.BackupError, OSError) as exc:
            # a migration without its way back is not started: the database stays as it is, at its old revision
            raise backup.BackupError(f"not migrating {path} from {current}: the copy before it failed ({exc}); "
                                     f"make room in {out.parent} or fix the database, then start again") from exc
        log.info("database at revision %s kept as %s before migrating it to %s", current, info.path,
                 target.revision)

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _holds_data(conn: Connection) -> bool:
    """Whether any table but alembic's own has a row."""
    names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
    return any(conn.execute(text(f'SELECT 1 FROM "{n}" LIMIT 1')).first() is not None for n in names)
