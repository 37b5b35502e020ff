"""Database fixtures that run a test on SQLite and on PostgreSQL (load as a plugin, or import them by name).

- `backend`: "sqlite" or "postgresql" (parametrized; the PostgreSQL case carries the `postgres` mark, so
  `-m "not postgres"` leaves it out).
- `blank_database`: an empty `Database` (no tables) on that backend, for migration tests.
- `database`: an empty `Database` migrated to head, for this test alone.
- `db_services`: the seeded demo site on `database`, like the plugin's `services` fixture.

PostgreSQL: `blank_database` is a fresh, uniquely named database, dropped afterwards `WITH (FORCE)`. `database`
is one uniquely named database per session, migrated once and emptied before each test (rows deleted, sequences
restarted: ~30 ms), because CREATE DATABASE costs 0.1–0.4 s here (it syncs every file it copies) and seeding the
demo site ~0.15 s on top. The server is `postgresql+psycopg://postgres@127.0.0.1:5432/postgres` (its maintenance
database) unless SHOPFLOOR_TEST_POSTGRES names another; missing, the PostgreSQL cases skip, and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from shopfloor.db import Database, sqlite_url
from shopfloor.demo import seed
from shopfloor.domain.models import Base
from shopfloor.testing.plugin import DEMO_PINS, Services, copy_sqlite, make_services, require_service

# The fixtures (a test module may `from shopfloor.testing.db_fixtures import *` until the plugin loads them).
__all__ = ["backend", "blank_database", "database", "db_services", "postgres_server"]

POSTGRES_ADMIN_URL = os.environ.get("SHOPFLOOR_TEST_POSTGRES",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
POSTGRES_WHAT = "PostgreSQL on 127.0.0.1:5432"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class PostgresServer:
    """Creates and drops throw-away databases through the maintenance database."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.prefix = f"shopfloor_test_{os.getpid()}_"
        self._admin: Engine | None = None
        self._available: bool | None = None
        self._shared: str | None = None
        self._seeded: str | None = None

    @property
    def admin(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", pool_size=1,
                                        connect_args={"connect_timeout": 3})
        return self._admin

    def available(self) -> bool:
        if self._available is None:
            try:
                with self.admin.connect() as conn:
                    conn.execute(text("SELECT 1"))
                self._available = True
            except Exception:  # any failure to reach the server means: not available here
                self._available = False
        return self._available

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str = "template0") -> str:
        """A new empty (or copied) database; returns its name."""
        name = f"{self.prefix}{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def fresh_migrated(self) -> str:
        """The session's migrated database, emptied for this test (made on first use, and made again should a
        test have migrated it elsewhere)."""
        if self._shared is not None and not self._reset(self._shared):
            self.drop(self._shared)
            self._shared = None
        if self._shared is None:
            name = self.create()
            db = Database(self.url(name))
            try:
                db.migrate()
            finally:
                db.dispose()
            self._shared = name
        return self._shared

    def _reset(self, name: str) -> bool:
        """Delete every row and restart every sequence: the state of a freshly migrated database (DELETE on
        these small tables takes ~30 ms; TRUNCATE ~100 ms, as it makes and syncs new files for every table).
        False if the database is no longer at head."""
        with self.admin.connect() as conn:
            # A connection a previous test leaked could hold locks: end it.
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        engine = create_engine(self.url(name), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                if conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() != [_head()]:
                    return False
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
                for seq in conn.execute(text("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                                             "FROM pg_sequences")).scalars():
                    conn.execute(text(f"ALTER SEQUENCE {seq} RESTART"))
            return True
        finally:
            engine.dispose()

    def seeded_copy(self) -> str:
        """A database of its own holding the seeded demo site: copied from a template seeded once per session
        (CREATE DATABASE … TEMPLATE takes ~0.1 s; seeding the demo's two weeks takes 1–2 s)."""
        if self._seeded is None:
            name = self.create()
            db = Database(self.url(name))
            try:
                db.migrate()
                seed.seed(make_services(db).ctx, DEMO_PINS)
            finally:
                db.dispose()
            self._seeded = name
        return self.create(template=self._seeded)

    def close(self) -> None:
        if self._seeded is not None:
            self.drop(self._seeded)
            self._seeded = None
        if self._shared is not None:
            self.drop(self._shared)
            self._shared = None
        if self._admin is not None:
            self._admin.dispose()


@functools.cache
def _head() -> str:
    head = ScriptDirectory.from_config(Database("sqlite://").alembic_config()).get_current_head()
    assert head is not None
    return head


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_ADMIN_URL)
    yield server
    server.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, postgres_server: PostgresServer) -> str:
    name = str(request.param)
    if name == "postgresql":
        require_service(postgres_server.available(), POSTGRES_WHAT)
    return name


@contextlib.contextmanager
def _using(url: str, drop: Callable[[], None] | None = None) -> Iterator[Database]:
    """A Database on `url`, disposed of afterwards and then, with `drop`, its PostgreSQL database dropped."""
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()
        if drop is not None:
            drop()


def _open(backend: str, tmp_path: Path, server: PostgresServer, *, migrated: bool) -> Iterator[Database]:
    if backend == "sqlite":
        with _using(sqlite_url(tmp_path / "shopfloor.sqlite3")) as db:
            if migrated:
                db.migrate()
            yield db
    elif migrated:
        with _using(server.url(server.fresh_migrated())) as db:
            yield db
    else:
        name = server.create()
        with _using(server.url(name), lambda: server.drop(name)) as db:
            yield db


@pytest.fixture
def blank_database(backend: str, tmp_path: Path, postgres_server: PostgresServer) -> Iterator[Database]:
    """An empty database of its own (no tables, no alembic_version) on each backend."""
    yield from _open(backend, tmp_path, postgres_server, migrated=False)


@pytest.fixture
def database(backend: str, tmp_path: Path, postgres_server: PostgresServer) -> Iterator[Database]:
    """An empty database migrated to head, for this test alone, on each backend."""
    yield from _open(backend, tmp_path, postgres_server, migrated=True)


@contextlib.contextmanager
def seeded_site(backend: str, tmp_path: Path, request: pytest.FixtureRequest, seeded_sqlite_template: Path
                ) -> Iterator[Services]:
    """The seeded demo site (fixed clock at DEMO_NOW) on a database of its own on `backend` (PostgreSQL: skipped
    where there is none, failed under CI=true)."""
    if backend == "sqlite":
        with _using(sqlite_url(copy_sqlite(seeded_sqlite_template, tmp_path))) as db:
            yield make_services(db)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    require_service(server.available(), POSTGRES_WHAT)
    name = server.seeded_copy()
    with _using(server.url(name), lambda: server.drop(name)) as db:
        yield make_services(db)


@pytest.fixture
def db_services(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                seeded_sqlite_template: Path) -> Iterator[Services]:
    """The seeded demo site (fixed clock at DEMO_NOW), a database of its own: SQLite and PostgreSQL."""
    with seeded_site(backend, tmp_path, request, seeded_sqlite_template) as site:
        yield site


def downgrade(db: Database, revision: str) -> None:
    """Alembic down to `revision` (Database.migrate goes up)."""
    with db.write_engine.begin() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def failing_write(db: Database, nth: int) -> Callable[[], Any]:
    """A stand-in for `db.write` (patch it in) whose `nth` transaction fails as a lost disk would."""
    writes = 0
    write = db.write

    def write_or_fail() -> Any:
        nonlocal writes
        writes += 1
        if writes == nth:
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        return write()

    return write_or_fail
