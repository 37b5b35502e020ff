"""The parts counter's services on SQLite and PostgreSQL: issue out of stock, a shortage put on back-order holding
the job line (the technician's clocking ended, waiting parts), its arrival releasing it and telling the bus, unused
parts returned to stock, additional work's parts on its new line, and the catalogue's CSV import with its per-row
errors."""

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from shopfloor.domain.errors import Invalid, NotFound, Refused
from shopfloor.domain.models import AuditEntry, OutboxMessage
from shopfloor.services.parts.services import PartsServices
from shopfloor.services.workshop.services import WorkshopServices
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order, technician

pytestmark = ON_BOTH_DATABASES

CLERK = "钱进"


@pytest.fixture
def parts(services: Services) -> PartsServices:
    return PartsServices.on(services.ctx)


@pytest.fixture
def work(services: Services) -> WorkshopServices:
    return WorkshopServices.on(services.ctx)






def first_line(svc: Services, number: str) -> int:
    return int(svc.repair_orders.get(number)["job_lines"][0]["id"])


def stock(parts: PartsServices, number: str) -> float:
    return parts.catalogue.get(number).stock


def actions(svc: Services, number: str) -> list[tuple[str, str]]:
    with svc.db.read() as s:
        return [(a.action, a.actor) for a in s.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == number, AuditEntry.action.like("parts_%")).order_by(AuditEntry.id))]


def bus_events(svc: Services, number: str) -> list[dict]:
    with svc.db.read() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.topic.like(f"%/events/%/{number}"))
                         .order_by(OutboxMessage.id))
        return [json.loads(r.payload) for r in rows]


def test_a_part_issued_by_scan_leaves_the_stock_and_the_line_shows_issued(services: Services,
                                                                          parts: PartsServices) -> None:
    number = new_order(services, "OIL")
    line = first_line(services, number)
    before = stock(parts, "04152-YZZA6")
    added = parts.counter.add(number, line, "04152-yzza6", 1, actor=CLERK)
    assert (added.status, added.name, added.unit_price) == ("to_pick", "机油滤清器", 68.0)
    assert [x.number for x in parts.counter.pick_lists()].count(number) == 1
    state = services.repair_orders.get(number)
    assert state["job_lines"][0]["parts_status"] == "to_pick"
    issued = parts.counter.scan(number, " ０４１５２-YZZA6 ", actor=CLERK)  # full-width, as a wedge may type it
    assert (issued.status, issued.issued) == ("issued", 1.0)
    assert stock(parts, "04152-YZZA6") == before - 1
    assert services.repair_orders.get(number)["job_lines"][0]["parts_status"] == "issued"
    assert number not in [x.number for x in parts.counter.pick_lists()]
    with pytest.raises(NotFound):  # nothing left to pick of it
        parts.counter.scan(number, "04152-YZZA6", actor=CLERK)
    assert actions(services, number) == [("parts_added", CLERK), ("parts_issued", CLERK)]


def test_a_shortage_holds_the_line_ends_the_clocking_and_its_arrival_releases_it(
        services: Services, parts: PartsServices, work: WorkshopServices) -> None:
    tech = technician(services, "吴昊")
    number = new_order(services, "M20", "WSH")
    lines = services.repair_orders.get(number)["job_lines"]
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    work.clocking.clock_on(tech.badge, number, actor="吴昊")
    pads = parts.counter.add(number, lines[0]["id"], "13505-0H020", 1, actor=CLERK)  # none in stock
    with pytest.raises(Refused) as short:
        parts.counter.issue(pads.id, actor=CLERK)
    assert short.value.key == "parts.error.short"
    with pytest.raises(Invalid):
        parts.counter.back_order(pads.id, services.ctx.today() - timedelta(days=1), actor=CLERK)
    eta = services.ctx.today() + timedelta(days=2)
    held = parts.counter.back_order(pads.id, eta, actor=CLERK)
    assert (held.status, held.eta) == ("back_order", eta)
    state = services.repair_orders.get(number)
    assert (state["status"], state["hold_reason"]) == ("on_hold", "waiting_parts")
    line = state["job_lines"][0]
    assert (line["status"], line["pause_reason"], line["parts_status"], line["parts_eta"]) == (
        "paused", "waiting_parts", "back_order", eta.isoformat())
    assert work.clocking.next_job(tech.id).current is None  # the clocking ended
    work.tick.publish_moved()  # the projection counts the part's day: the line cannot be done before it comes
    projected = services.repair_orders.get(number)["projected_ready_at"]
    assert projected is not None and datetime.fromisoformat(projected).astimezone(services.ctx.tz).date() >= eta
    with services.db.read() as s:
        from shopfloor.domain.workshop_models import Clocking
        ended = s.scalar(select(Clocking).where(Clocking.technician_id == tech.id).order_by(Clocking.id.desc()))
        assert ended is not None and (ended.outcome, ended.pause_reason) == ("paused", "waiting_parts")
    assert [b.id for b in parts.counter.back_orders()].count(pads.id) == 1
    with pytest.raises(Refused):  # on back-order: not issued until it arrives
        parts.counter.issue(pads.id, actor=CLERK)

    arrived = parts.counter.arrived(pads.id, actor=CLERK)
    assert (arrived.status, arrived.eta, arrived.stock) == ("to_pick", None, 1.0)
    state = services.repair_orders.get(number)
    assert state["status"] == "in_progress" and state["hold_reason"] is None
    assert state["job_lines"][0]["parts_status"] == "to_pick"
    assert state["job_lines"][0]["pause_reason"] is None
    kinds = [e["kind"] for e in bus_events(services, number)]
    assert "parts_back_order" in kinds and "parts_arrived" in kinds
    moves = [(e.get("from"), e.get("to")) for e in bus_events(services, number) if e["kind"] == "transition"]
    assert ("in_progress", "on_hold") in moves and ("on_hold", "in_progress") in moves
    parts.counter.issue(pads.id, actor=CLERK)
    assert stock(parts, "13505-0H020") == 0
    assert actions(services, number) == [("parts_added", CLERK), ("parts_back_order", CLERK),
                                         ("parts_arrived", CLERK), ("parts_issued", CLERK)]


def test_a_scan_clocks_on_what_does_not_wait_for_parts_and_nothing_when_all_of_it_waits(
        services: Services, parts: PartsServices, work: WorkshopServices) -> None:
    tech = technician(services, "吴昊")
    number = new_order(services, "M20", "WSH")
    *waiting_lines, last = (line["id"] for line in services.repair_orders.get(number)["job_lines"])
    assert waiting_lines
    work.dispatch.dispatch(number, tech.id, actor="郑强", override="test")
    eta = services.ctx.today() + timedelta(days=2)
    for line in waiting_lines:
        parts.counter.back_order(parts.counter.add(number, line, "13505-0H020", 1, actor=CLERK).id, eta, actor=CLERK)
    clocking, _ = work.clocking.clock_on(tech.badge, number, actor="吴昊")
    assert clocking.job_lines == [last]  # what can be worked is clocked on, the lines waiting for parts are not
    work.clocking.stop(clocking.id, "finished", actor="吴昊")
    with pytest.raises(Refused) as waiting:
        work.clocking.clock_on(tech.badge, number, actor="吴昊")
    assert (waiting.value.key, waiting.value.params["eta"]) == ("workshop.error.waiting_parts", f"{eta:%m-%d}")


def test_a_line_not_started_goes_back_to_waiting_when_its_part_arrives(services: Services,
                                                                        parts: PartsServices) -> None:
    number = new_order(services, "BRK")
    line = first_line(services, number)
    p = parts.counter.add(number, line, "04111-37195", 1, actor=CLERK)
    parts.counter.back_order(p.id, services.ctx.today(), actor=CLERK)
    assert services.repair_orders.get(number)["status"] == "on_hold"
    parts.counter.arrived(p.id, actor=CLERK)
    state = services.repair_orders.get(number)
    assert (state["status"], state["job_lines"][0]["status"]) == ("checked_in", "waiting")


def test_unused_parts_returned_go_back_to_stock(services: Services, parts: PartsServices) -> None:
    number = new_order(services, "M40")
    line = first_line(services, number)
    plugs = parts.counter.add(number, line, "90919-01253", 4, actor=CLERK)
    before = stock(parts, "90919-01253")
    parts.counter.issue(plugs.id, actor=CLERK, quantity=3)
    assert parts.counter.pick_list(number).lines[0].status == "to_pick"  # one still to issue
    parts.counter.issue(plugs.id, actor=CLERK)
    assert stock(parts, "90919-01253") == before - 4
    with pytest.raises(Invalid):
        parts.counter.give_back(plugs.id, 5, actor=CLERK)
    back = parts.counter.give_back(plugs.id, 1, actor=CLERK)
    assert (back.returned, back.status, back.stock) == (1.0, "issued", before - 3)
    back = parts.counter.give_back(plugs.id, 3, actor=CLERK)
    assert (back.returned, back.status, back.stock) == (4.0, "returned", before)
    assert services.repair_orders.get(number)["job_lines"][0]["parts_status"] == "none"


def test_approved_additional_work_brings_its_parts_onto_the_new_line(services: Services, parts: PartsServices,
                                                                     work: WorkshopServices) -> None:
    tech = technician(services, "吴昊")
    number = new_order(services, "OIL")
    found = work.additional_work.report(number, technician=tech.id, actor="吴昊", description="前刹车片磨损到限",
                                        hours=1.5, skill="repair", parts=[
                                            {"number": "04465-02220", "quantity": 1, "unit_price": 600},
                                            {"name": "刹车片消音胶", "quantity": 1}])
    decided = work.additional_work.decide(found.id, "approved", "phone", actor="张伟")
    picks = [p for p in parts.counter.pick_list(number).lines if p.job_line_id == decided.job_line_id]
    assert [(p.number, p.name, p.unit_price, p.stock is None) for p in picks] == [
        ("04465-02220", "前刹车片", 600.0, False), ("", "刹车片消音胶", 0.0, True)]
    parts.counter.issue(picks[1].id, actor=CLERK)  # not in the catalogue: issued without stock


def test_the_catalogue_imports_a_csv_and_reports_every_bad_row(services: Services, parts: PartsServices) -> None:
    bad = ("零件号,名称,单价,库存\n"
           "04152-YZZA6,机油滤清器,70,50\n"
           ",无编号,10,1\n"
           "ABC-1,价格错,abc,1\n"
           "04152-YZZA6,重复,70,1\n"
           "X9-100,负库存,5,-2\n"
           "\n"
           "Z1-200,,5,1\n").encode("gb18030")
    report = parts.imports.run(bad, actor=CLERK)
    assert not report.applied and report.rows == 6
    assert [(e.row, e.key) for e in report.errors] == [
        (3, "parts.import.number_missing"), (4, "parts.error.price_invalid"), (5, "parts.import.duplicate"),
        (6, "parts.error.stock_invalid"), (8, "parts.error.name_invalid")]
    assert "行" not in report.errors[0].message("en") and report.errors[2].message("zh-CN")
    assert stock(parts, "04152-YZZA6") == 40  # nothing changed
    good = "number,name,price,stock\r\n04152-YZZA6,机油滤清器,70,50\r\nNEW-0001,新零件,12.5,3\r\n"
    checked = parts.imports.run(good.encode("utf-8-sig"), actor=CLERK, apply=False)
    assert (checked.applied, checked.errors, checked.rows) == (False, [], 2)
    done = parts.imports.run(good.encode("utf-8-sig"), actor=CLERK)
    assert (done.applied, done.added, done.updated) == (True, 1, 1)
    assert (parts.catalogue.get("04152-yzza6").price, stock(parts, "04152-YZZA6")) == (70.0, 50.0)
    assert [p.number for p in parts.catalogue.search("新零")] == ["NEW-0001"]
    header = parts.imports.run(b"foo,bar\n1,2\n", actor=CLERK)
    assert [(e.row, e.key) for e in header.errors] == [(1, "parts.import.header")]
    with services.db.read() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "parts_imported")) == CLERK
