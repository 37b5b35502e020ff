"""A DMS import beside the day's work, on SQLite and PostgreSQL: written in short committed batches that let a
check-in through, with the same result as one transaction; a check-only run takes no write lock at all and
reports what the import will do; a run that stops mid-way says where, and the same file again finishes it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor.db import Database, sqlite_url
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.domain.models import Appointment, AuditEntry, Customer, QrTag, Vehicle
from shopfloor.services import dms_import
from shopfloor.services.checkin import CheckinRequest
from shopfloor.services.dms_import import DmsImportService, ImportReport
from shopfloor.testing.db_fixtures import PostgresServer, failing_write
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services, copy_sqlite, make_services

HEADER = "预约单号,客户姓名,手机,车牌号,车架号,车型,行驶里程,销售日期,保险到期日,预约时间,工时,维修项目,服务顾问"
JOIN_SECONDS = 120  # only a guard against a hang: each wait below ends when the other side is done


def vin(i: int) -> str:
    return with_check_digit(f"LFMAP22C0R0{i:06d}")


def export(count: int) -> bytes:
    """A DMS export that exercises every path: new customers and vehicles, a second car of a known customer (same
    phone), the same car again later in the file (higher mileage, a moved booking by the same DMS number),
    a booking without a number repeated, past and unknown-advisor rows."""
    rows = [HEADER]
    for i in range(count):
        car = i if i % 10 != 9 else i - 5  # every tenth row: a car from five rows before
        phone = f"1390000{car // 2:04d}"  # two cars per customer
        day = 24 + (i % 5)
        ref = f"YY{car:05d}" if i % 7 else ""
        hour = 9 + (i % 8) if i % 10 != 9 else 15
        advisor = "赵六" if i % 23 == 22 else ("张伟", "李娜", "B")[i % 3]
        start = f"2026-11-{day} {hour:02d}:00" if i % 17 else "2026-11-20 09:00"  # some in the past
        rows.append(f"{ref},客户{car // 2},{phone},京A{car:05d},{vin(car)},卡罗拉,{30000 + i * 10},2023-05-18,"
                    f"2027-05-17,{start},1.5,更换机油机滤,{advisor}")
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def run(services: Services, data: bytes, **kw: Any) -> ImportReport:
    importer = DmsImportService(services.ctx)
    return importer.import_csv(data, dms_import.suggest_mapping(dms_import.read_header(data)), actor="测试", **kw)


def contents(services: Services) -> dict[str, Any]:
    """What an import leaves, without what differs between any two runs (tag tokens, created times)."""
    with services.db.read() as s:
        vehicles = {v.vin: (v.plate, v.mileage_km, v.customer.phone, v.customer.surname, v.customer.given_name,
                            len([t for t in s.scalars(select(QrTag).where(QrTag.vehicle_id == v.id))]))
                    for v in s.scalars(select(Vehicle))}
        appointments = sorted((a.external_ref or "", a.vehicle.vin, a.start.isoformat(), a.status, a.advisor_id,
                               str(a.hours), a.work) for a in s.scalars(select(Appointment).where(
                                   Appointment.source == "import")))
        customers = sorted((c.phone, c.surname, c.given_name) for c in s.scalars(select(Customer)))
        audit = sorted((a.entity_id, a.action, a.from_value or "", a.to_value or "") for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("imported", "import_updated")))))
    return {"vehicles": vehicles, "appointments": appointments, "customers": customers, "audit": len(audit)}


def same_report(report: ImportReport) -> dict[str, Any]:
    return {k: v for k, v in report.to_dict().items() if k not in ("appointment_ids", "dry_run")}


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def two_sites(backend: str, tmp_path: Path, postgres_server: PostgresServer,
              seeded_sqlite_template: Path) -> Iterator[tuple[Services, Services]]:
    """Two copies of the seeded demo site, side by side."""
    made: list[Database] = []
    names: list[str] = []
    for side in ("a", "b"):
        if backend == "sqlite":
            (tmp_path / side).mkdir()
            made.append(Database(sqlite_url(copy_sqlite(seeded_sqlite_template, tmp_path / side))))
        else:
            names.append(postgres_server.seeded_copy())
            made.append(Database(postgres_server.url(names[-1])))
    try:
        yield make_services(made[0]), make_services(made[1])
    finally:
        for db in made:
            db.dispose()
        for name in names:
            postgres_server.drop(name)


def test_batches_give_what_one_transaction_gives_and_the_check_says_so(
        two_sites: tuple[Services, Services], monkeypatch: pytest.MonkeyPatch) -> None:
    batched, whole = two_sites
    data = export(150)
    checked = run(batched, data, dry_run=True)
    monkeypatch.setattr(dms_import, "BATCH_ROWS", 7)
    monkeypatch.setattr(dms_import, "BATCH_SECONDS", float("inf"))
    seen: list[tuple[int, int]] = []
    in_batches = run(batched, data, progress=lambda done, total: seen.append((done, total)))
    monkeypatch.setattr(dms_import, "BATCH_ROWS", 10**6)
    at_once = run(whole, data)
    assert len(seen) >= 150 // 7 and seen[-1] == (150, 150) and seen == sorted(seen)
    assert contents(batched) == contents(whole)
    assert same_report(in_batches) == same_report(at_once)
    assert in_batches.appointment_ids == at_once.appointment_ids
    # the rows took every path
    assert at_once.customers and at_once.vehicles and at_once.appointments and at_once.updated
    assert at_once.errors and at_once.warnings and at_once.stopped_at_line is None and at_once.rows_done == 150
    # the check said beforehand what the import did
    assert {**same_report(checked), "rows_done": 150} == {**same_report(at_once)}


def test_a_check_only_run_takes_no_write_lock(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    data = export(60)
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with services.db.write() as s:
            s.execute(select(1))
            holding.set()
            release.wait(JOIN_SECONDS)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    assert holding.wait(JOIN_SECONDS)

    def no_writes() -> Any:
        raise AssertionError("a check-only run asked for the write lock")

    try:
        with monkeypatch.context() as m:
            m.setattr(services.db, "write", no_writes)
            report = run(services, data, dry_run=True)  # while another transaction holds the lock
    finally:
        release.set()
        holder.join(JOIN_SECONDS)
    assert report.dry_run and report.rows_done == 60 and report.vehicles
    with services.db.read() as s:
        assert not s.scalars(select(Appointment).where(Appointment.source == "import")).first()


def test_a_check_in_goes_through_while_a_big_import_runs(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dms_import, "BATCH_ROWS", 10)
    data = export(400)
    first_batch, finished = threading.Event(), threading.Event()
    progress: list[int] = []
    outcome: dict[str, Any] = {}

    def on_progress(done: int, _total: int) -> None:
        progress.append(done)
        first_batch.set()

    def import_it() -> None:
        try:
            outcome["report"] = run(services, data, progress=on_progress)
        finally:
            finished.set()

    importer = threading.Thread(target=import_it)
    importer.start()
    try:
        assert first_batch.wait(JOIN_SECONDS)
        waiting = next(a for a in services.appointments.list_day(services.ctx.today())
                       if a["status"] in ("booked", "confirmed", "late") and a.get("tag"))
        checked_in = services.checkin.check_in(CheckinRequest(tag=waiting["tag"], actor="张伟"))
        import_was_running = not finished.is_set()
        done_then = progress[-1]
    finally:
        importer.join(JOIN_SECONDS)
    assert checked_in.repair_order["number"]
    assert import_was_running and done_then < 400  # it got in between two batches, not after the import
    report = outcome["report"]
    assert report.stopped_at_line is None and report.rows_done == 400 and progress[-1] == 400


def test_a_run_that_stops_mid_way_says_where_and_the_same_file_finishes_it(
        two_sites: tuple[Services, Services], monkeypatch: pytest.MonkeyPatch) -> None:
    broken, whole = two_sites
    data = export(60)
    monkeypatch.setattr(dms_import, "BATCH_ROWS", 10)
    monkeypatch.setattr(dms_import, "BATCH_SECONDS", float("inf"))  # batches of rows, however slow the machine
    with monkeypatch.context() as m:
        m.setattr(broken.db, "write", failing_write(broken.db, 3))  # the third batch fails
        stopped = run(broken, data, lang="en")
    assert stopped.rows_done == 20 and stopped.stopped_at_line == 22  # header on line 1: rows 21.. not in
    assert stopped.stopped_reason is not None and "OperationalError" in stopped.stopped_reason
    with broken.db.read() as s:
        on_file = set(s.scalars(select(Vehicle.vin)))
    assert vin(18) in on_file and vin(20) not in on_file
    again = run(broken, data)
    run(whole, data)
    assert again.stopped_at_line is None
    # the same vehicles, customers and bookings; the audit has the replayed moves of bookings the file moves twice
    assert {**contents(broken), "audit": None} == {**contents(whole), "audit": None}
