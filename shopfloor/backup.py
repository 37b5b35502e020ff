"""Backups of a site's SQLite database, and putting one back.

A backup is SQLite's online backup (`sqlite3.Connection.backup`): one consistent snapshot read while the server
keeps writing (WAL: readers and the writer do not block each other), written to a hidden temporary file, checked
with `PRAGMA integrity_check`, then renamed into place; so a file named *.sqlite3 in DATA_DIR/backups is always a
whole, checked database. Copying the file with `cp` instead could catch a page half-written or miss the -wal.
A copy holds the customers' personal data, so only its owner may read it (0600, a folder made for it 0700),
whatever the umask.

A PostgreSQL site is backed up with pg_dump (README, "Backups"); there is no SQLite file to copy."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import os
import shutil
import sqlite3
import stat
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shopfloor.run_lock import LockHeld, RunLock

if TYPE_CHECKING:
    from shopfloor.settings import Settings

log = logging.getLogger(__name__)

DB_FILE = "shopfloor.sqlite3"
BACKUP_DIR = "backups"
SUFFIX = ".sqlite3"
# file name prefixes in DATA_DIR/backups and what BackupInfo.kind calls them; any other name is "manual"
KINDS = {"nightly-": "nightly", "pre-migration-": "pre-migration", "before-restore-": "before-restore"}
PG_DUMP_HINT = ("a site whose server runs on PostgreSQL (serve --database postgresql…) is backed up with pg_dump:\n"
                "  pg_dump -Fc -f shopfloor.dump postgresql://USER@HOST/DBNAME\n"
                "and restored (server stopped) with:\n"
                "  pg_restore --clean --if-exists --no-owner -d postgresql://USER@HOST/DBNAME shopfloor.dump")
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class BackupError(RuntimeError):
    """The database could not be copied, or the copy failed its check; the message says which file and why."""


class RestoreRefused(RuntimeError):
    """restore() would not put the file in place; nothing was changed."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    at: datetime  # when the copy was made (UTC)
    size: int  # bytes
    kind: str  # nightly, pre-migration, before-restore or manual
    revision: str | None = None  # the copy's alembic revision, when it was read


def backups_dir(data_dir: Path) -> Path:
    return Path(data_dir) / BACKUP_DIR


def stamp(at: datetime | None = None) -> str:
    """A file-name timestamp in UTC that sorts as it reads: 20261206T021503Z."""
    return f"{(at or datetime.now(UTC)).astimezone(UTC):%Y%m%dT%H%M%SZ}"


def kind_of(name: str) -> str:
    return next((kind for prefix, kind in KINDS.items() if name.startswith(prefix)), "manual")


def _info(path: Path, revision: str | None = None) -> BackupInfo:
    st = path.stat()
    return BackupInfo(path, datetime.fromtimestamp(st.st_mtime, UTC), st.st_size, kind_of(path.name), revision)


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """A plain connection that never creates the file (a mistyped path is an error, not a new empty database)."""
    mode = "ro" if read_only else "rw"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _source(db_file: Path) -> sqlite3.Connection:
    """The database to copy, read-write as the server opens it (a WAL reader wants to write the -shm), or read-only
    for a user who may only read it (an administrator in the server's group)."""
    try:
        conn = _connect(db_file, read_only=False)
    except sqlite3.OperationalError:
        return _connect(db_file, read_only=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        return _connect(db_file, read_only=True)
    return conn


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _private_folder(folder: Path) -> None:
    """`folder` made when missing, for its owner alone (its parents, if made too, as the umask says)."""
    if not folder.is_dir():
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def _new_private_file(path: Path) -> None:
    """An empty file only its owner may read, made before SQLite opens it (SQLite would make it as the umask says,
    and gives its journal the database file's mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE))


def check_copy(conn: sqlite3.Connection, what: Path) -> str | None:
    """Raises BackupError unless the database passes its integrity check; returns its alembic revision (None when
    it has no alembic_version table: not a shopfloor database, or one never migrated)."""
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what}: not a readable SQLite database ({exc})") from None
    if result != ["ok"]:
        raise BackupError(f"{what}: integrity check failed: {'; '.join(result[:5])}")
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def backup_sqlite(db_file: Path, out: Path) -> BackupInfo:
    """An online copy of db_file at out (replacing a file there only once the copy is whole and checked)."""
    db_file, out = Path(db_file), Path(out)
    if not db_file.is_file():
        raise BackupError(f"{db_file}: no such database file")
    _private_folder(out.parent)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        _new_private_file(tmp)  # an empty file is an empty SQLite database
        try:
            with contextlib.closing(_source(db_file)) as src, contextlib.closing(sqlite3.connect(tmp)) as dst:
                # all pages in one step: one read snapshot, while the server's writer goes on in the WAL
                src.backup(dst)
                # a single self-contained file (no -wal beside it); the server turns WAL on again when it opens it
                dst.execute("PRAGMA journal_mode=DELETE")
                revision = check_copy(dst, db_file)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{db_file}: cannot copy: {exc}") from None
        with open(tmp, "rb+") as f:
            os.fchmod(f.fileno(), PRIVATE_FILE_MODE)  # exactly 0600, whatever the umask took away
            os.fsync(f.fileno())
        os.replace(tmp, out)
        _fsync_dir(out.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return _info(out, revision)


def list_backups(data_dir: Path) -> list[BackupInfo]:
    """The copies in DATA_DIR/backups, newest first (temporary files of a copy under way left out)."""
    folder = backups_dir(data_dir)
    if not folder.is_dir():
        return []
    found = [_info(p) for p in folder.glob(f"*{SUFFIX}") if p.is_file() and not p.name.startswith(".")]
    return sorted(found, key=lambda b: (b.at, b.path.name), reverse=True)


# the copies a site keeps on purpose; the automatic ones (before a restore, before a migration) copy whatever was
# there, and counting them would hide that the nightly backup has stopped
SCHEDULED_KINDS = ("nightly", "manual")


def last_backup(data_dir: Path) -> BackupInfo | None:
    """The newest nightly or `shopfloor backup` copy in DATA_DIR/backups."""
    found = [b for b in list_backups(data_dir) if b.kind in SCHEDULED_KINDS]
    return found[0] if found else None


def sqlite_file(url: str) -> Path | None:
    """The database file a SQLAlchemy URL names; None for PostgreSQL or an in-memory database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


# -- restore ------------------------------------------------------------------------------------------------------

def known_revisions() -> list[str]:
    """This code's migrations, oldest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from shopfloor.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]


def inspect_file(file: Path) -> str:
    """The alembic revision of a file offered for restore; RestoreRefused unless it is a whole shopfloor SQLite
    database whose schema this code knows (the same or older: the server migrates an older one when it starts)."""
    if not file.is_file():
        raise RestoreRefused(f"{file}: no such file")
    with open(file, "rb") as f:
        magic = f.read(16)
    if magic != b"SQLite format 3\x00":
        raise RestoreRefused(f"{file}: not a SQLite database (a PostgreSQL dump goes back with pg_restore)")
    try:
        with contextlib.closing(_connect(file, read_only=True)) as conn:
            revision = check_copy(conn, file)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except BackupError as exc:
        raise RestoreRefused(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise RestoreRefused(f"{file}: not a readable SQLite database ({exc})") from None
    if revision is None or not {"sites", "audit_log"} <= tables:
        raise RestoreRefused(f"{file}: a SQLite database, but not a shopfloor one (no shopfloor schema in it)")
    known = known_revisions()
    if revision not in known:
        raise RestoreRefused(f"{file}: made by a newer shopfloor (schema revision {revision}; this version knows up "
                             f"to {known[-1]}): install that version (or newer) first, then restore")
    return revision


def _keep_current(db_file: Path, data_dir: Path) -> Path | None:
    """The database about to be replaced, as DATA_DIR/backups/before-restore-<UTC>.sqlite3. A database too damaged
    for the online copy (which is often why one restores) is kept as its raw files instead, -wal beside."""
    if not db_file.exists():
        return None
    out = backups_dir(data_dir) / f"before-restore-{stamp()}{SUFFIX}"
    try:
        return backup_sqlite(db_file, out).path
    except BackupError as exc:
        log.warning("the current database fails its check (%s); keeping its files as they are", exc)
    _private_folder(out.parent)
    for suffix in ("", "-wal", "-shm"):
        part = db_file.with_name(db_file.name + suffix)
        if part.exists():
            kept = out.with_name(out.name + suffix)
            shutil.copy2(part, kept)
            os.chmod(kept, PRIVATE_FILE_MODE)
    return out


def _site_settings(data_dir: Path) -> Settings:
    from shopfloor import settings as settings_mod

    path = data_dir / "site.toml"
    return settings_mod.load(path if path.exists() else settings_mod.demo_config_path())


def _prepare(staged: Path, data_dir: Path, source: Path) -> None:
    """The staged copy must be this site's, and is brought to this code's schema (as the server would at start)."""
    from sqlalchemy import select

    from shopfloor.db import Database, sqlite_url
    from shopfloor.domain.models import Site

    site = _site_settings(data_dir).site.id
    db = Database(sqlite_url(staged))
    try:
        with db.read() as s:
            sites = list(s.scalars(select(Site.id)))
        if sites and site not in sites:
            raise RestoreRefused(f"{source}: a backup of site {', '.join(sites)}; {data_dir} is site {site}")
        db.migrate()
    finally:
        db.dispose()


def _record(staged: Path, data_dir: Path, source: Path, revision: str, kept: Path | None) -> None:
    """The restore in the restored database's own audit trail, then one self-contained file again (no -wal)."""
    from shopfloor.clock import Clock
    from shopfloor.db import Database, sqlite_url
    from shopfloor.services import audit
    from shopfloor.services.context import ServiceContext

    db = Database(sqlite_url(staged))
    try:
        ctx = ServiceContext(db, _site_settings(data_dir), Clock())
        actor = audit.Actor(f"shopfloor restore ({_user()})", audit.ActorKind.SYSTEM)
        with db.write() as s:
            audit.record(s, ctx, actor, audit.Entity.DATABASE, DB_FILE, "restored", from_value=revision,
                         detail={"file": source.name, "kept": kept.name if kept else None})
    finally:
        db.dispose()
    with contextlib.closing(_connect(staged, read_only=False)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def _owned_like_folder(data_dir: Path, made: list[Path]) -> None:
    """Run as root (`sudo shopfloor restore`), what it made would be root's, and the server, which runs as the data
    directory's owner (User=shopfloor), could not open its own database or lock, nor write the next nightly copy."""
    if os.geteuid() != 0:
        return
    owner = data_dir.stat()
    for path in made:
        if path.exists():
            os.chown(path, owner.st_uid, owner.st_gid)
    for path in (data_dir / "logs").glob("*"):
        os.chown(path, owner.st_uid, owner.st_gid)


def _remove(db_file: Path, suffixes: tuple[str, ...]) -> None:
    for suffix in suffixes:
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)


def restore(data_dir: Path, file: Path) -> Path | None:
    """Puts the backup `file` in place as DATA_DIR's database; returns where the replaced one was kept (None when
    there was none). RestoreRefused, with the database untouched, while a server runs on DATA_DIR or when the file
    is not a shopfloor database of this site that this code can run."""
    data_dir, file = Path(data_dir).resolve(), Path(file).resolve()
    db_file = data_dir / DB_FILE
    if file == db_file:
        raise RestoreRefused(f"{file} is the database itself, not a backup of it")
    revision = inspect_file(file)
    lock = RunLock(data_dir)
    try:
        lock.acquire()  # held to the end: a server started meanwhile refuses instead of opening a half-swapped file
    except LockHeld as exc:
        raise RestoreRefused(f"the server must be stopped first: {exc}") from None
    staged = data_dir / f".{DB_FILE}.restoring"
    parts = ("", "-wal", "-shm", "-journal")
    try:
        _remove(staged, parts)
        try:
            backup_sqlite(file, staged)
        except BackupError as exc:
            raise RestoreRefused(str(exc)) from None
        _prepare(staged, data_dir, file)
        kept = _keep_current(db_file, data_dir)
        _record(staged, data_dir, file, revision, kept)
        # the restored database readable by whoever could read the one it replaces (the staged copy is 0600)
        if db_file.exists():
            os.chmod(staged, stat.S_IMODE(db_file.stat().st_mode))
        # the old database's WAL and index go first: SQLite would replay that WAL into the restored file
        _remove(db_file, parts[1:])
        os.replace(staged, db_file)
        _fsync_dir(data_dir)
        _owned_like_folder(data_dir, [db_file, backups_dir(data_dir), data_dir / "logs", lock.path,
                                      *(kept.parent.glob(kept.name + "*") if kept else [])])
        log.info("restored %s (schema revision %s) into %s; the database it replaced is kept as %s", file, revision,
                 db_file, kept)
        return kept
    finally:
        _remove(staged, parts)
        lock.release()


# -- the commands ---------------------------------------------------------------------------------------------------

def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def main_backup(args: argparse.Namespace) -> int:
    """`shopfloor backup --data-dir DIR --out FILE`"""
    data_dir = Path(args.data_dir).resolve()
    db_file = data_dir / DB_FILE
    if not data_dir.is_dir():
        print(f"shopfloor: no data directory {data_dir}", file=sys.stderr)
        return 2
    if not db_file.is_file():
        print(f"shopfloor: no SQLite database at {db_file}.\n{PG_DUMP_HINT}", file=sys.stderr)
        return 2
    out = Path(args.out).resolve()
    if out == db_file:
        print(f"shopfloor: --out {out} is the database itself", file=sys.stderr)
        return 2
    try:
        info = backup_sqlite(db_file, out)
    except (BackupError, OSError) as exc:
        print(f"shopfloor: backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {info.path} ({_mb(info.size)}, schema revision {info.revision or 'none'})")
    return 0


def main_restore(args: argparse.Namespace) -> int:
    """`shopfloor restore --data-dir DIR FILE`"""
    from shopfloor.settings import ConfigError

    data_dir = Path(args.data_dir).resolve()
    try:
        kept = restore(data_dir, Path(args.file))
    except RestoreRefused as exc:
        print(f"shopfloor: restore refused: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, OSError) as exc:
        print(f"shopfloor: restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored {Path(args.file).resolve()} into {data_dir / DB_FILE}")
    if kept is not None:
        print(f"  the database it replaced is kept as {kept}")
    return 0
