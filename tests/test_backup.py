"""Backups and restore: the command line's backup and restore of a seeded site (back up, change through the
services, restore, compare), a backup taken while a writer writes, restore refused while a server holds the data
directory and for files that are not this site's database, the nightly schedule on a moved clock, the copy made
before a migration."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from shopfloor import backup
from shopfloor.backup_schedule import BackupSchedule
from shopfloor.clock import FixedClock
from shopfloor.db import Database, sqlite_url
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.ports import free_port
from shopfloor.run_lock import LockHeld, RunLock
from shopfloor.services import audit
from shopfloor.services.audit import AuditService, Entity
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import CustomerService
from shopfloor.settings import BackupSettings, demo_config_path
from shopfloor.testing.plugin import make_services

TZ_OFFSET = timedelta(hours=8)  # Asia/Shanghai, the demo site's zone


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shopfloor.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def site(tmp_path: Path, seeded_sqlite_template: Path) -> Path:
    """A data directory as `shopfloor demo` leaves it: the seeded database and site.toml."""
    data_dir = tmp_path / "site"
    data_dir.mkdir()
    shutil.copyfile(seeded_sqlite_template, data_dir / backup.DB_FILE)
    shutil.copyfile(demo_config_path(), data_dir / "site.toml")
    return data_dir


@contextlib.contextmanager
def opened(data_dir: Path) -> Iterator[Database]:
    db = Database(sqlite_url(data_dir / backup.DB_FILE))
    try:
        yield db
    finally:
        db.dispose()


def counts(file: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                            "'sqlite_%'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def scalar(file: Path, sql: str, *params: object) -> object:
    with contextlib.closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


def digest(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def test_back_up_change_restore_compare(site: Path, tmp_path: Path) -> None:
    db_file = site / backup.DB_FILE
    customer_id = scalar(db_file, "SELECT min(id) FROM customers")
    assert isinstance(customer_id, int)
    old_phone = scalar(db_file, "SELECT phone FROM customers WHERE id = ?", customer_id)
    out = tmp_path / "copies" / "before.sqlite3"
    done = cli("backup", "--data-dir", str(site), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and "schema revision" in done.stdout
    before = counts(out)
    assert before == counts(db_file)
    assert before["customers"] > 0 and before["vehicles"] > 0
    with opened(site) as db:
        customers = CustomerService(make_services(db).ctx)
        customers.update_customer(customer_id, phone="13911112222")
        customers.create(plate="京A99X01", vin=with_check_digit("LVGBE40K08G000001"), surname="新",
                         given_name="客户", phone="13800009999", actor="张伟")
    changed = counts(db_file)
    assert changed["vehicles"] == before["vehicles"] + 1 and changed["customers"] == before["customers"] + 1
    assert scalar(db_file, "SELECT phone FROM customers WHERE id = ?", customer_id) == "13911112222"

    done = cli("restore", "--data-dir", str(site), str(out))
    assert done.returncode == 0, done.stderr
    after = counts(db_file)
    # everything as backed up, but for the restore's own audit row
    assert after["audit_log"] == before["audit_log"] + 1
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items()
                                                                    if k != "audit_log"}
    assert scalar(db_file, "SELECT phone FROM customers WHERE id = ?", customer_id) == old_phone
    assert not db_file.with_name(db_file.name + "-wal").exists()
    with opened(site) as db:
        rows = AuditService(make_services(db).ctx).read(Entity.DATABASE)
    assert [(r.action, r.actor_kind, r.detail["file"] if r.detail else None) for r in rows] == [
        ("restored", "system", "before.sqlite3")]
    # the database it replaced is kept, changes and all, and named in the audit row and the output
    kept = [b for b in backup.list_backups(site) if b.kind == "before-restore"]
    assert len(kept) == 1 and str(kept[0].path) in done.stdout
    assert rows[0].detail == {"file": "before.sqlite3", "kept": kept[0].path.name}
    assert scalar(kept[0].path, "SELECT phone FROM customers WHERE id = ?", customer_id) == "13911112222"
    assert counts(kept[0].path)["vehicles"] == before["vehicles"] + 1
    # the command's own log in the data directory (the terminal's scrollback is gone by the time it is asked for)
    assert f"restored {out}" in (site / "logs" / "restore.log").read_text(encoding="utf-8")


def test_a_backup_taken_while_a_writer_writes_is_whole(site: Path, tmp_path: Path) -> None:
    db_file = site / backup.DB_FILE
    stop = threading.Event()
    written: list[int] = []
    problems: list[BaseException] = []

    def writer() -> None:
        try:
            with opened(site) as db:
                ctx = make_services(db).ctx
                while not stop.is_set():
                    with db.write() as s:
                        audit.record(s, ctx, "张伟", Entity.CUSTOMER, len(written), "customer_updated")
                    written.append(1)
        except BaseException as exc:  # reported by the test below
            problems.append(exc)

    start = counts(db_file)["audit_log"]
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.01)
        copies = [backup.backup_sqlite(db_file, tmp_path / f"copy-{i}.sqlite3") for i in range(5)]
        done = cli("backup", "--data-dir", str(site), "--out", str(tmp_path / "cli.sqlite3"))
        copies.append(backup.backup_sqlite(db_file, tmp_path / "last.sqlite3"))
    finally:
        stop.set()
        thread.join(30)
    assert not problems
    assert done.returncode == 0, done.stderr
    seen = []
    for copy in copies:
        assert copy.revision is not None and copy.size == copy.path.stat().st_size
        assert scalar(copy.path, "PRAGMA integrity_check") == "ok"
        assert scalar(copy.path, "PRAGMA journal_mode") == "delete"  # one file, no -wal needed beside it
        seen.append(counts(copy.path)["audit_log"])
    # each copy is one moment of the writer's work: later copies hold more, none more than was written
    assert seen == sorted(seen) and start + 20 <= seen[0] and seen[-1] <= start + len(written)
    assert seen[-1] > seen[0]
    assert not list(tmp_path.glob(".*partial*"))


HOLDER = """
import sys
from pathlib import Path
from shopfloor.run_lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def lock_held_elsewhere(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the data directory's lock, as a running server does."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)


def test_restore_refused_while_the_server_holds_the_data_directory(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.sqlite3"
    backup.backup_sqlite(site / backup.DB_FILE, out)
    before = digest(site / backup.DB_FILE)
    with lock_held_elsewhere(site) as holder:
        assert RunLock(site).held_by_other()
        with pytest.raises(LockHeld, match=f"process {holder.pid}"):
            RunLock(site).acquire()
        done = cli("restore", "--data-dir", str(site), str(out))
        assert done.returncode == 2
        assert "must be stopped" in done.stderr and f"process {holder.pid}" in done.stderr
        assert digest(site / backup.DB_FILE) == before
        assert not (site / "backups").exists()
    assert not RunLock(site).held_by_other()  # the lock went with the process
    assert cli("restore", "--data-dir", str(site), str(out)).returncode == 0



@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as `sudo shopfloor restore` runs")
def test_a_restore_run_as_root_leaves_the_files_to_the_folders_owner(site: Path, tmp_path: Path) -> None:
    """The server runs as the data directory's owner (User=shopfloor): it must still open its database and lock and
    write the next nightly copy into backups/ after an administrator restored with sudo."""
    out = tmp_path / "copy.sqlite3"
    backup.backup_sqlite(site / backup.DB_FILE, out)
    (site / "logs").mkdir()
    (site / "logs" / "restore.log").write_text("", encoding="utf-8")
    nobody = 65534
    os.chown(site, nobody, nobody)
    kept = backup.restore(site, out)
    assert kept is not None
    for path in (site / backup.DB_FILE, site / "backups", kept, site / "shopfloor.lock", site / "logs" / "restore.log"):
        assert (path.stat().st_uid, path.stat().st_gid) == (nobody, nobody), path
    assert out.stat().st_uid == 0  # the administrator's own file is left alone

def test_a_second_server_on_the_data_directory_refuses_to_start(site: Path) -> None:
    """Shopfloor.run() takes the lock before it starts anything (here: the demo, whose site is already seeded)."""
    with lock_held_elsewhere(site):
        done = cli("demo", "--data-dir", str(site), "--http-port", str(free_port()), "--mqtt-port",
                   str(free_port()), "--no-printer-agents", timeout=180)
    assert done.returncode != 0
    assert "cannot start" in done.stderr and "is running on" in done.stderr


def test_files_that_are_not_this_sites_database_are_refused(site: Path, tmp_path: Path) -> None:
    db_file = site / backup.DB_FILE
    before = digest(db_file)
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database", encoding="utf-8")
    foreign = tmp_path / "foreign.sqlite3"
    with contextlib.closing(sqlite3.connect(foreign)) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
        conn.commit()
    corrupt = tmp_path / "corrupt.sqlite3"
    backup.backup_sqlite(db_file, corrupt)
    data = bytearray(corrupt.read_bytes())
    page = 4096
    data[page * 3: page * 6] = b"\xa5" * (page * 3)  # three pages overwritten, the header intact
    corrupt.write_bytes(bytes(data))
    newer = tmp_path / "newer.sqlite3"
    backup.backup_sqlite(db_file, newer)
    with contextlib.closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    other_site = tmp_path / "other-site.sqlite3"
    backup.backup_sqlite(db_file, other_site)
    with contextlib.closing(sqlite3.connect(other_site)) as conn, conn:
        conn.execute("UPDATE sites SET id = 'sh02'")
    cases = {text: "not a SQLite database", foreign: "not a shopfloor one", corrupt: "corrupt.sqlite3",
             newer: "newer shopfloor (schema revision 0099", other_site: "a backup of site sh02",
             tmp_path / "missing.sqlite3": "no such file", db_file: "the database itself"}
    for file, message in cases.items():
        done = cli("restore", "--data-dir", str(site), str(file))
        assert done.returncode == 2, (file, done.stderr)
        assert "restore refused" in done.stderr and message in done.stderr, (file, done.stderr)
        assert digest(db_file) == before
    assert not [p for p in site.iterdir() if p.name.startswith(".")]



def test_a_damaged_database_is_replaced_and_kept_as_it_was(site: Path, tmp_path: Path) -> None:
    """The usual reason to restore: the database itself fails its check. Its files are kept byte for byte."""
    db_file = site / backup.DB_FILE
    good = backup.backup_sqlite(db_file, tmp_path / "good.sqlite3")
    data = bytearray(db_file.read_bytes())
    data[4096 * 3: 4096 * 6] = b"\x5a" * (4096 * 3)
    db_file.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match=r"integrity check failed|not a readable|cannot copy"):
        backup.backup_sqlite(db_file, tmp_path / "fails.sqlite3")
    done = cli("restore", "--data-dir", str(site), str(good.path))
    assert done.returncode == 0, done.stderr
    assert scalar(db_file, "PRAGMA integrity_check") == "ok"
    assert counts(db_file)["customers"] == counts(good.path)["customers"]
    kept = [b for b in backup.list_backups(site) if b.kind == "before-restore"]
    assert len(kept) == 1 and kept[0].path.read_bytes() == bytes(data)
    assert kept[0].path.stat().st_mode & 0o777 == 0o600  # kept as it was, but for its owner only
    assert "fails its check" in done.stderr

@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_backups_are_readable_by_their_owner_only(site: Path, tmp_path: Path) -> None:
    """They hold the customers' personal data: 0600 files in a 0700 folder when it is made for them, whatever the
    umask (the command inherits this one); the restored database keeps the mode of the one it replaces."""
    db_file = site / backup.DB_FILE
    db_file.chmod(0o640)
    with umask(0o022):
        out = tmp_path / "made" / "manual.sqlite3"
        done = cli("backup", "--data-dir", str(site), "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert mode(out) == 0o600 and mode(out.parent) == 0o700
        existing = tmp_path / "existing.sqlite3"
        existing.write_bytes(b"")
        existing.chmod(0o644)
        assert mode(backup.backup_sqlite(db_file, existing).path) == 0o600  # a file replaced is private too
        with opened(site) as db:
            services = make_services(db, FixedClock(at_site(1, 3, 0)))
            info = BackupSchedule(services.ctx, site).run_once()
        assert info is not None and info.kind == "nightly"
        assert mode(info.path) == 0o600 and mode(backup.backups_dir(site)) == 0o700
        kept = backup.restore(site, out)
        assert kept is not None and mode(kept) == 0o600
        assert mode(db_file) == 0o640
    assert sorted(p.name for p in backup.backups_dir(site).iterdir()) == sorted([info.path.name, kept.name])


def test_backup_of_a_site_without_a_sqlite_file_names_pg_dump(tmp_path: Path) -> None:
    done = cli("backup", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x.sqlite3"))
    assert done.returncode == 2
    assert "no SQLite database" in done.stderr and "pg_dump -Fc -f shopfloor.dump postgresql://" in done.stderr
    assert backup.sqlite_file("postgresql+psycopg://shop@db.lan/shopfloor") is None
    assert backup.sqlite_file(sqlite_url(tmp_path / "a.sqlite3")) == tmp_path / "a.sqlite3"


def at_site(day: int, hh: int, mm: int) -> datetime:
    """A moment of the site's time in December 2026, as the UTC the clock keeps."""
    return datetime(2026, 12, day, hh, mm, tzinfo=UTC) - TZ_OFFSET


def test_the_nightly_schedule_keeps_the_newest_copies(site: Path) -> None:
    with opened(site) as db:
        services = make_services(db, FixedClock(at_site(1, 1, 0)))
        ctx = services.ctx
        ctx.settings = ctx.settings.model_copy(update={"backup": BackupSettings(at=time(2, 30), keep=3)})
        schedule = BackupSchedule(ctx, site)
        other = backup.backup_sqlite(site / backup.DB_FILE, site / "backups" / "pre-migration-0012-x.sqlite3")
        made = []
        for day in range(1, 7):
            services.clock.set(at_site(day, 1, 0))
            assert schedule.run_once() is None  # not yet
            services.clock.set(at_site(day, 2, 31))
            info = schedule.run_once()
            assert info is not None and info.path.name == f"nightly-2026-12-0{day}.sqlite3"
            assert info.kind == "nightly" and info.revision is not None
            made.append(info.path.name)
            services.clock.set(at_site(day, 23, 59))
            assert schedule.run_once() is None  # one a day
        nightly = [p.name for p in schedule.nightly()]
        assert nightly == made[::-1][:3]
        assert other.path.exists()  # only nightly copies are pruned
        listed = backup.list_backups(site)
        assert {b.path.name for b in listed} == {*nightly, other.path.name}
        assert backup.last_backup(site) == listed[0]
        # a copy whose time was missed (the server was down) is made when it next runs that day
        services.clock.set(at_site(8, 14, 0))
        assert schedule.due() == datetime(2026, 12, 8).date()


def test_the_nightly_task_runs_on_the_server_loop_and_skips_postgresql(site: Path) -> None:
    with opened(site) as db:
        services = make_services(db, FixedClock(at_site(3, 2, 0)))
        schedule = BackupSchedule(services.ctx, site, every=0.01)

        async def scenario() -> None:
            task = asyncio.create_task(schedule.run_forever(asyncio.to_thread))
            await asyncio.sleep(0.1)
            assert schedule.nightly() == []
            services.clock.set(at_site(3, 2, 45))  # the hour passes
            for _ in range(500):
                if schedule.nightly():
                    break
                await asyncio.sleep(0.01)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        asyncio.run(scenario())
        assert [p.name for p in schedule.nightly()] == ["nightly-2026-12-03.sqlite3"]
    postgres = Database("postgresql+psycopg://shop@127.0.0.1:1/none")  # never connected to
    try:
        ctx = ServiceContext(postgres, services.ctx.settings, FixedClock(at_site(3, 3, 0)))
        pg_schedule = BackupSchedule(ctx, site / "pg")
        assert pg_schedule.run_once() is None
        asyncio.run(asyncio.wait_for(pg_schedule.run_forever(asyncio.to_thread), 5))  # returns at once
        assert not (site / "pg").exists()
    finally:
        postgres.dispose()


def test_a_migration_is_preceded_by_a_backup(tmp_path: Path) -> None:
    fresh = Database(sqlite_url(tmp_path / "fresh" / "shopfloor.sqlite3"))
    (tmp_path / "fresh").mkdir()
    try:
        fresh.migrate("0012")
        fresh.migrate()  # an empty database: nothing worth keeping
    finally:
        fresh.dispose()
    assert not (tmp_path / "fresh" / "backups").exists()

    (tmp_path / "site").mkdir()
    db_file = tmp_path / "site" / "shopfloor.sqlite3"
    db = Database(sqlite_url(db_file))
    try:
        db.migrate("0012")
        with db.write_engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO sites (id, name) VALUES ('bj01', '北京店')")
        db.migrate()
        db.migrate()  # at head: no second copy
    finally:
        db.dispose()
    kept = backup.list_backups(tmp_path / "site")
    assert len(kept) == 1 and kept[0].kind == "pre-migration"
    assert kept[0].path.name.startswith("pre-migration-0012-")
    assert scalar(kept[0].path, "SELECT version_num FROM alembic_version") == "0012"
    assert scalar(kept[0].path, "SELECT name FROM sites WHERE id = 'bj01'") == "北京店"
    assert scalar(db_file, "SELECT version_num FROM alembic_version") == backup.known_revisions()[-1]



def test_no_migration_without_its_backup(tmp_path: Path) -> None:
    """When the copy cannot be written (here backups/ is a file; on a Pi: a full card), the database is not
    migrated and stays at its revision."""
    db_file = tmp_path / "shopfloor.sqlite3"
    db = Database(sqlite_url(db_file))
    try:
        db.migrate("0012")
        with db.write_engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO sites (id, name) VALUES ('bj01', '北京店')")
        (tmp_path / "backups").write_text("in the way", encoding="utf-8")
        with pytest.raises(backup.BackupError, match=r"not migrating .* from 0012: the copy before it failed"):
            db.migrate()
    finally:
        db.dispose()
    assert scalar(db_file, "SELECT version_num FROM alembic_version") == "0012"

def test_an_older_backup_is_restored_and_brought_to_this_schema(site: Path, tmp_path: Path) -> None:
    """A backup from before an upgrade goes back in place at this code's schema, its data kept."""
    old = tmp_path / "old" / backup.DB_FILE
    old.parent.mkdir()
    db = Database(sqlite_url(old))
    try:
        db.migrate("0012")
        with db.write_engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO sites (id, name) VALUES ('demo', '旧的店名')")
    finally:
        db.dispose()
    backup.backup_sqlite(old, tmp_path / "old.sqlite3")
    kept = backup.restore(site, tmp_path / "old.sqlite3")
    db_file = site / backup.DB_FILE
    assert kept is not None and kept.exists()
    assert scalar(db_file, "SELECT version_num FROM alembic_version") == backup.known_revisions()[-1]
    assert scalar(db_file, "SELECT name FROM sites") == "旧的店名"
    detail = scalar(db_file, "SELECT detail FROM audit_log WHERE entity = 'database'")
    assert isinstance(detail, str) and json.loads(detail)["file"] == "old.sqlite3"
    assert scalar(db_file, "SELECT from_value FROM audit_log WHERE entity = 'database'") == "0012"
    assert not RunLock(site).held_by_other()

