"""Alembic migrations on SQLite and on PostgreSQL: from empty, from the previous revision with data present,
down again, and the migrated schema agrees with the models (what `alembic check` verifies)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from shopfloor.db import Database
from shopfloor.domain.models import Base, PrintJob
from shopfloor.testing.db_fixtures import downgrade

CREATED = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
TICKET = b"\x1b@\x1b!\x30RO20261123-001\n\x00\xff"  # raw ESC/POS bytes, NUL and 0xFF included


def head(db: Database) -> str:
    rev = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    assert rev is not None
    return rev


def current(db: Database) -> str | None:
    with db.write_engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def tables(db: Database) -> set[str]:
    with db.write_engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def columns(db: Database, table: str) -> set[str]:
    with db.write_engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def schema_differences(db: Database) -> list:
    with db.write_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, Base.metadata))


def insert_at_0001(db: Database) -> None:
    """A site, and a ticket that waited for a person, written with the tables as revision 0001 made them."""
    with db.write_engine.begin() as conn:
        meta = sa.MetaData()
        sites = sa.Table("sites", meta, autoload_with=conn)
        jobs = sa.Table("print_jobs", meta, autoload_with=conn)
        assert "decided_by" not in jobs.c
        conn.execute(sites.insert().values(id="demo", name="星辰丰田4S店"))
        conn.execute(jobs.insert().values(
            id=7, site_id="demo", printer="reception", kind="ticket", repair_order_id=None, reprint=False,
            data=TICKET, status="uncertain", detail="connection dropped", requested_by="张伟",
            created_at=CREATED, finished_at=None, version=1763865000000000, meta={"copies": 1, "note": "收银台"}))


def test_upgrade_from_empty_to_head(blank_database: Database) -> None:
    assert tables(blank_database) == set()
    blank_database.migrate()
    assert current(blank_database) == head(blank_database)
    assert tables(blank_database) == set(Base.metadata.tables)
    assert schema_differences(blank_database) == []


def test_upgrade_from_previous_revision_keeps_data(blank_database: Database) -> None:
    blank_database.migrate("0001")
    assert current(blank_database) == "0001"
    # The comparison sees what 0002 adds (so an empty list at head means something).
    missing = {(d[0], d[3].name) for d in schema_differences(blank_database)
               if isinstance(d, tuple) and len(d) > 3 and d[2] == "print_jobs"}
    assert missing == {("add_column", "decided_by"), ("add_column", "decided_at")}
    insert_at_0001(blank_database)
    blank_database.migrate()
    assert current(blank_database) == head(blank_database)
    with blank_database.read() as s:
        job = s.get(PrintJob, 7)
        assert job is not None
        assert (job.data, job.status, job.detail, job.requested_by) == (TICKET, "uncertain", "connection dropped",
                                                                         "张伟")
        assert job.created_at == CREATED and job.meta == {"copies": 1, "note": "收银台"}
        assert job.decided_by is None and job.decided_at is None
    # The new columns take what the code now writes.
    with blank_database.write() as s:
        job = s.get(PrintJob, 7)
        assert job is not None
        job.decided_by, job.decided_at, job.status = "王芳", CREATED, "printed"
    with blank_database.read() as s:
        job = s.get(PrintJob, 7)
        assert job is not None and (job.decided_by, job.decided_at) == ("王芳", CREATED)


def test_downgrade_to_previous_revision_and_to_base(blank_database: Database) -> None:
    blank_database.migrate("0001")
    insert_at_0001(blank_database)
    blank_database.migrate()
    downgrade(blank_database, "0001")
    assert current(blank_database) == "0001"
    assert {"decided_by", "decided_at"}.isdisjoint(columns(blank_database, "print_jobs"))
    with blank_database.write_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT data, status FROM print_jobs WHERE id = 7")).one() == (TICKET,
                                                                                                   "uncertain")
    downgrade(blank_database, "base")
    assert current(blank_database) is None
    assert tables(blank_database) == set()
    # And up again from nothing: the downgrades left nothing behind that is in the way.
    blank_database.migrate()
    assert current(blank_database) == head(blank_database)
    assert schema_differences(blank_database) == []


def test_every_revision_steps_up_and_down(blank_database: Database) -> None:
    revisions = [r.revision for r in ScriptDirectory.from_config(blank_database.alembic_config()).walk_revisions()]
    revisions.reverse()  # base first
    for rev in revisions:
        blank_database.migrate(rev)
        assert current(blank_database) == rev
    for rev, previous in zip(reversed(revisions), [*reversed(revisions[:-1]), "base"], strict=True):
        assert current(blank_database) == rev
        downgrade(blank_database, previous)
    assert current(blank_database) is None and tables(blank_database) == set()


def test_0003_keeps_appointments_booked_before_capacity_booking(blank_database: Database) -> None:
    """An appointment written with 0002's columns gets the booking defaults: no lines (one line of its hours),
    maintenance, no parts, no flags."""
    blank_database.migrate("0002")
    with blank_database.write_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sites (id, name) VALUES ('demo', '星辰')"))
        conn.execute(sa.text("INSERT INTO advisors (id, site_id, name, code, pin_hash, failed_pins, active, version)"
                             " VALUES (1, 'demo', '张伟', 'A', 'x', 0, true, 1)"))
        conn.execute(sa.text("INSERT INTO customers (id, site_id, surname, given_name, salutation, phone)"
                             " VALUES (1, 'demo', '王', '建国', '先生', '13800000000')"))
        conn.execute(sa.text("INSERT INTO vehicles (id, site_id, customer_id, vin, plate, model)"
                             " VALUES (1, 'demo', 1, 'LFMA0000000000001', '京A12345', '卡罗拉')"))
        conn.execute(sa.text("INSERT INTO appointments (id, site_id, vehicle_id, advisor_id, start, hours, work,"
                             " status, version) VALUES (1, 'demo', 1, 1, :start, 1.2, '10000公里保养', 'booked', 1)"),
                     {"start": CREATED})
    blank_database.migrate()
    from shopfloor.domain.models import Advisor, Appointment

    with blank_database.read() as s:
        appt = s.get(Appointment, 1)
        assert appt is not None
        assert (appt.job_lines, appt.skill, appt.parts_status, appt.road_test, appt.notes) == (
            [], "maintenance", "none", False, "")
        assert appt.work == "10000公里保养" and float(appt.hours) == 1.2 and appt.start == CREATED
        advisor = s.get(Advisor, 1)
        assert advisor is not None and advisor.roles == "advisor"
