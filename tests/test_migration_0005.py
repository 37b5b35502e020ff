"""Revision 0005 (a year of history) from 0004 with data, on SQLite and PostgreSQL: the indexes of the reads that
grew with the history and the per-day figures tables come, the rows stay; and back down to 0004."""

from datetime import UTC, date, datetime

import sqlalchemy as sa

from shopfloor.db import Database
from shopfloor.domain.models import Appointment, FiguresDay, FiguresEpoch, PrintJob, RepairOrder
from shopfloor.testing.db_fixtures import downgrade

OPENED = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
NEW_INDEXES = {
    "repair_orders": {"ix_repair_orders_appointment", "ix_repair_orders_site_opened", "ix_repair_orders_site_closed",
                      "ix_repair_orders_vehicle_visits"},
    "customers": {"ix_customers_site_phone"},
    "appointments": {"ix_appointments_site_external_ref"},
    "print_jobs": {"ix_print_jobs_site_status"},
}


def indexes(db: Database, table: str) -> set[str]:
    with db.write_engine.connect() as conn:
        return {i["name"] for i in sa.inspect(conn).get_indexes(table) if i["name"]}


def tables(db: Database) -> set[str]:
    with db.write_engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def insert_at_0004(db: Database) -> None:
    """A booked car that came in and got its ticket, written with the tables as revision 0004 made them."""
    with db.write_engine.begin() as conn:
        for statement, values in [
            ("INSERT INTO sites (id, name) VALUES ('demo', '星辰')", {}),
            ("INSERT INTO advisors (id, site_id, name, code, roles, pin_hash, failed_pins, active, version)"
             " VALUES (1, 'demo', '张伟', 'A', 'advisor', 'x', 0, true, 1)", {}),
            ("INSERT INTO customers (id, site_id, surname, given_name, salutation, phone, preferred_channel,"
             " complaining, address) VALUES (1, 'demo', '王', '建国', '先生', '13800000000', 'sms', false, '')", {}),
            ("INSERT INTO vehicles (id, site_id, customer_id, vin, plate, model)"
             " VALUES (1, 'demo', 1, 'LFMA0000000000001', '京A12345', '卡罗拉')", {}),
            ("INSERT INTO appointments (id, site_id, vehicle_id, advisor_id, start, hours, work, status, version,"
             " job_lines, skill, source, parts_status, parts_numbers, waiting_customer, road_test, repeat_repair,"
             " complaining_customer, notes, created_by, external_ref) VALUES (1, 'demo', 1, 1, :at, 1.2,"
             " '10000公里保养', 'arrived', 1, '[]', 'maintenance', 'import', 'none', '', false, false, false, false,"
             " '', 'dms', 'YY001')", {"at": OPENED}),
            ("INSERT INTO repair_orders (id, site_id, number, vehicle_id, appointment_id, advisor_id, status,"
             " complaint, opened_at, version) VALUES (1, 'demo', 'RO20261123-001', 1, 1, 1, 'checked_in', '按时保养',"
             " :at, 1)", {"at": OPENED}),
            ("INSERT INTO print_jobs (id, site_id, printer, kind, repair_order_id, reprint, data, status, detail,"
             " requested_by, created_at, finished_at, version, meta) VALUES (1, 'demo', 'reception', 'ticket', 1,"
             " false, :data, 'printed', '', '张伟', :at, :at, 1, '{}')", {"at": OPENED, "data": b"\x1b@RO\x00"}),
        ]:
            conn.execute(sa.text(statement), values)


def test_0005_from_0004_with_data_and_back(blank_database: Database) -> None:
    db = blank_database
    db.migrate("0004")
    assert {"figures_days", "figures_epochs"}.isdisjoint(tables(db))
    insert_at_0004(db)
    db.migrate("0005")
    for table, names in NEW_INDEXES.items():
        assert names <= indexes(db, table), table
    # read with the columns of 0005 alone: the models may have more by now (later revisions)
    ros, appts, jobs = RepairOrder.__table__, Appointment.__table__, PrintJob.__table__
    with db.write_engine.connect() as conn:
        assert conn.execute(sa.select(ros.c.number, ros.c.opened_at).where(ros.c.appointment_id == 1)).one() == (
            "RO20261123-001", OPENED)
        assert conn.execute(sa.select(appts.c.status).where(appts.c.site_id == "demo",
                                                            appts.c.external_ref == "YY001")).scalar_one() == "arrived"
        assert conn.execute(sa.select(jobs.c.data, jobs.c.finished_at)).one() == (b"\x1b@RO\x00", OPENED)
    # the new tables take what the figures write: doubles and JSON come back as they went in
    days, epochs = FiguresDay.__table__, FiguresEpoch.__table__
    row = {"site_id": "demo", "day": date(2026, 11, 22), "basis": "b", "repair_orders": 1, "by_appointment": 1,
           "appointments": 1, "arrived": 1, "no_show": 0, "cancelled": 0, "pending": 0,
           "hours_maintenance": 0.1 + 0.2, "hours_repair": 0.0, "sold": 1.2, "available": 64.0,
           "levels": {"1": [1, 1, "09:00"]}, "profile": {"09:00": 1}, "carried": {"on_hold:waiting_parts": 1},
           "computed_at": OPENED}
    with db.write_engine.begin() as conn:
        conn.execute(days.insert().values(**row))
        conn.execute(epochs.insert().values(site_id="demo", epoch=3))
    with db.write_engine.connect() as conn:
        back = conn.execute(sa.select(*[days.c[name] for name in row])).one()._asdict()
        assert back == row

    downgrade(db, "0004")
    assert {"figures_days", "figures_epochs"}.isdisjoint(tables(db))
    for table, names in NEW_INDEXES.items():
        assert names.isdisjoint(indexes(db, table)), table
    with db.write_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT number, appointment_id FROM repair_orders")).one() == ("RO20261123-001", 1)
        assert conn.execute(sa.text("SELECT external_ref FROM appointments")).scalar_one() == "YY001"
    db.migrate()  # and up again to head
