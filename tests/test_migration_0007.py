"""Revision 0007 (the workshop) from 0006 with data, on SQLite and PostgreSQL: the orders already open keep their
status and their lines take the one it meant, the order's technician becomes each line's, the time promised at
check-in becomes the first promise, every technician gets a badge of their own; and back down to 0006."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from shopfloor.db import Database
from shopfloor.domain.workshop import BADGE_SEARCH_RE
from shopfloor.testing.db_fixtures import downgrade

OPENED = datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
PROMISED = OPENED + timedelta(hours=3)
# order id, number, status, hold reason, technician, job lines
ORDERS = [
    (1, "RO20261123-001", "checked_in", None, None, 1),
    (2, "RO20261123-002", "dispatched", None, 1, 1),
    (3, "RO20261123-003", "in_progress", None, 2, 2),
    (4, "RO20261123-004", "on_hold", "waiting_parts", 1, 1),
    (5, "RO20261123-005", "quality_check", None, 2, 1),
    (6, "RO20261122-001", "delivered", None, 1, 1),
    (7, "RO20261122-002", "cancelled", None, None, 1),
]


def insert_at_0006(db: Database) -> None:
    """Orders in every status with their lines, written with the tables as revision 0006 made them."""
    rows: list[tuple[str, dict[str, object]]] = [
        ("INSERT INTO sites (id, name) VALUES ('demo', '星辰')", {}),
        ("INSERT INTO advisors (id, site_id, name, code, roles, pin_hash, failed_pins, active, version)"
         " VALUES (1, 'demo', '张伟', 'A', 'advisor', 'x', 0, true, 1)", {}),
        ("INSERT INTO technicians (id, site_id, name, skill, active, version) VALUES"
         " (1, 'demo', '陈刚', 'repair', true, 1), (2, 'demo', '周杰', 'maintenance', true, 1)", {}),
        ("INSERT INTO customers (id, site_id, surname, given_name, salutation, phone, preferred_channel,"
         " complaining, address) VALUES (1, 'demo', '王', '建国', '先生', '13800000000', 'sms', false, '')", {}),
    ]
    line = 0
    for order, number, status, hold, tech, lines in ORDERS:
        rows.append(("INSERT INTO vehicles (id, site_id, customer_id, vin, plate, model) VALUES (:id, 'demo', 1,"
                     " :vin, :plate, '卡罗拉')", {"id": order, "vin": f"LFMA000000000000{order}",
                                                  "plate": f"京A1234{order}"}))
        rows.append(("INSERT INTO repair_orders (id, site_id, number, vehicle_id, advisor_id, technician_id, status,"
                     " hold_reason, complaint, promised_at, opened_at, version) VALUES (:id, 'demo', :number, :id,"
                     " 1, :tech, :status, :hold, '异响', :promised, :opened, 1)",
                     {"id": order, "number": number, "tech": tech, "status": status, "hold": hold,
                      "promised": PROMISED if order != 7 else None, "opened": OPENED}))
        for position in range(lines):
            line += 1
            rows.append(("INSERT INTO job_lines (id, repair_order_id, position, operation_code, description, hours,"
                         " skill) VALUES (:id, :order, :position, 'OIL', '更换机油机滤', 0.5, 'maintenance')",
                         {"id": line, "order": order, "position": position}))
    with db.write_engine.begin() as conn:
        for statement, values in rows:
            conn.execute(sa.text(statement), values)


def test_0007_from_0006_with_data_and_back(blank_database: Database) -> None:
    db = blank_database
    db.migrate("0006")
    insert_at_0006(db)
    db.migrate("0007")
    with db.write_engine.connect() as conn:
        badges = dict(conn.execute(sa.text("SELECT id, badge FROM technicians")).all())
        assert len(set(badges.values())) == 2 and all(BADGE_SEARCH_RE.fullmatch(b) for b in badges.values())
        lines = conn.execute(sa.text("SELECT r.number, j.status, j.pause_reason FROM job_lines j JOIN repair_orders r"
                                     " ON r.id = j.repair_order_id ORDER BY j.id")).all()
        assert [tuple(row) for row in lines] == [
            ("RO20261123-001", "waiting", None), ("RO20261123-002", "dispatched", None),
            ("RO20261123-003", "in_progress", None), ("RO20261123-003", "in_progress", None),
            ("RO20261123-004", "paused", "waiting_parts"), ("RO20261123-005", "done", None),
            ("RO20261122-001", "done", None), ("RO20261122-002", "cancelled", None)]
        given = conn.execute(sa.text("SELECT j.repair_order_id, a.technician_id FROM job_line_technicians a"
                                     " JOIN job_lines j ON j.id = a.job_line_id ORDER BY a.job_line_id")).all()
        assert [tuple(row) for row in given] == [(2, 1), (3, 2), (3, 2), (4, 1), (5, 2), (6, 1)]
        promises = conn.execute(sa.text("SELECT repair_order_id, kind, recorded_by, customer_told FROM promises"
                                        " ORDER BY repair_order_id")).all()
        assert [(o, k, by, bool(told)) for o, k, by, told in promises] == [
            (order, "checkin", "张伟", True) for order, *_ in ORDERS if order != 7]
        assert conn.execute(sa.text("SELECT DISTINCT risk, qc_round FROM repair_orders")).all() == [("on_time", 0)]
        # the new tables take rows
        conn.execute(sa.text("INSERT INTO clockings (site_id, technician_id, repair_order_id, started_at, assumed,"
                             " started_by) VALUES ('demo', 2, 3, :at, false, '周杰')"), {"at": OPENED})
        conn.commit()
    downgrade(db, "0006")
    with db.write_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM job_lines")).scalar_one() == 8
        assert conn.execute(sa.text("SELECT status FROM repair_orders WHERE id = 4")).scalar_one() == "on_hold"
        names = {c["name"] for c in sa.inspect(conn).get_columns("job_lines")}
        assert "status" not in names and "badge" not in {c["name"] for c in sa.inspect(conn).get_columns(
            "technicians")}
        assert "clockings" not in sa.inspect(conn).get_table_names()
    db.migrate("0007")  # and up again over what the downgrade left
