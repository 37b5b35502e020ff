"""Revision 0008: the indexes of repair orders by opening time cover the orders not cancelled only, so that SQLite
reads open orders (few, but it cannot know) through the status index, while the figures and call lists, which say
`status != 'cancelled'`, get theirs."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from shopfloor.db import Database
from shopfloor.domain.models import RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.testing.db_fixtures import downgrade

PARTIAL = ("ix_repair_orders_site_opened", "ix_repair_orders_vehicle_visits")
MIDNIGHT = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


def index_sql(db: Database) -> dict[str, str]:
    with db.write_engine.connect() as conn:
        if db.write_engine.dialect.name == "sqlite":
            rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                        "tbl_name = 'repair_orders' AND sql IS NOT NULL"))
        else:
            rows = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'repair_orders'"))
        return {name: sql for name, sql in rows}


def plan(db: Database, query: sa.Select[tuple[int]]) -> str:
    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with db.write_engine.connect() as conn:
        return " | ".join(row[3] for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_the_opening_time_indexes_are_partial_from_0008_and_plain_before(blank_database: Database) -> None:
    db = blank_database
    db.migrate("0007")
    assert not any("cancelled" in index_sql(db)[name] for name in PARTIAL)
    db.migrate("0008")
    assert all("WHERE" in index_sql(db)[name].upper() and "cancelled" in index_sql(db)[name] for name in PARTIAL)
    downgrade(db, "0007")
    assert set(PARTIAL) <= set(index_sql(db)) and not any("cancelled" in index_sql(db)[n] for n in PARTIAL)


def test_sqlite_reads_open_orders_by_status_and_a_day_of_orders_by_time(sqlite_db: Database) -> None:
    open_orders = select(RepairOrder.id).where(
        RepairOrder.site_id == "demo", RepairOrder.status.in_([s.value for s in OPEN_STATUSES]),
        RepairOrder.status.not_in(["quality_check", "ready"]), RepairOrder.opened_at < MIDNIGHT)
    assert "ix_repair_orders_site_status" in plan(sqlite_db, open_orders)
    a_day = select(RepairOrder.id).where(RepairOrder.site_id == "demo", RepairOrder.status != "cancelled",
                                         RepairOrder.opened_at >= MIDNIGHT.replace(day=21),
                                         RepairOrder.opened_at < MIDNIGHT)
    assert "ix_repair_orders_site_opened" in plan(sqlite_db, a_day)
