"""The reception kiosk's advisor side in NiceGUI's simulated browser: the ticket's QR URL opens its order; a
pending additional-work finding is shown with its price (labour rate × hours + parts) and the customer's decision is
recorded with how it was given; check-in suggests a comeback for a car back within comeback_days for a like
concern and stores it; an operation taken out of use is still ticked for the car booked with it and offered to no
other; a dispatch to an absent technician is refused with the reason and needs a typed override."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.models import Appointment, Leave, QrTag, RepairOrder, Technician
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.workshop import ticket_url
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.audit import Entity
from shopfloor.services.checkin import ARRIVABLE, CheckinRequest, booked_lines
from shopfloor.services.comebacks import ComebackService
from shopfloor.testing.delivery import settle
from shopfloor.testing.simulated_browser import scan, sees, sign_in, staff_member, until
from shopfloor.testing.workshop import pass_checks

ZH = Translator("zh-CN")


def _free_tag(system: Shopfloor) -> str:
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    return tag


def _tech(system: Shopfloor, name: str) -> Technician:
    with system.db.read() as s:
        tech = s.scalar(select(Technician).where(Technician.name == name))
    assert tech is not None
    return tech


async def test_the_ticket_qr_opens_the_order_and_the_customers_decision_is_recorded(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    advisor = staff_member(system, "张伟")
    number = str(system.checkin.check_in(CheckinRequest(tag=_free_tag(system), actor="张伟", advisor_id=advisor.id,
                                                        operation_codes=["OIL"])).repair_order["number"])
    tech = _tech(system, "周杰")
    found = system.workshop.additional_work.report(
        number, technician=tech.id, actor=tech.name, description="前刹车片磨损到极限", hours=1.5,
        parts=[{"number": "04465-33450", "name": "前刹车片", "quantity": 1, "unit_price": 420}])
    rate = system.settings.workshop.labour_rate
    assert found.price == rate * 1.5 + 420

    await sign_in(user, advisor)
    await user.open("/kiosk")
    scan(user, ticket_url("http://shopfloor.local:8080", number))
    await until(lambda: sees(user, marker="findings"), timeout=20)  # the order panel loads: longer under load
    await user.should_see("“前刹车片磨损到极限”")
    await user.should_see(ZH("advisor.price", price=f"{found.price:,.0f}"))
    user.find(marker=f"approve-{found.id}").click()
    await user.should_see(marker="decision-method")
    user.find(ZH("advisor.method.phone")).click()
    user.find(marker="decision-confirm").click()

    async def decided() -> bool:
        info = next(f for f in system.workshop.additional_work.for_order(number) if f.id == found.id)
        return info.status == "approved"
    await until(decided)
    info = next(f for f in system.workshop.additional_work.for_order(number) if f.id == found.id)
    assert (info.decision_method, info.decided_by) == ("phone", "张伟")
    assert any(line["additional"] for line in system.repair_orders.get(number)["job_lines"])


def _booked_with_a_code(system: Shopfloor) -> tuple[str, str]:
    """The tag of a car booked today with a catalogue operation and not in the workshop, and that operation."""
    start, end = system.ctx.day_bounds(system.ctx.today())
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        for appt in s.scalars(select(Appointment).where(Appointment.start >= start, Appointment.start < end,
                                                        Appointment.status.in_(ARRIVABLE),
                                                        Appointment.vehicle_id.not_in(busy))):
            codes = [line.code for line in booked_lines(appt.job_lines) if line.code]
            tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id == appt.vehicle_id, QrTag.revoked_at.is_(None)))
            if codes and tag:
                return tag, codes[0]
    raise AssertionError("the demo books cars with catalogue operations today")


async def test_an_operation_out_of_use_is_ticked_only_for_the_car_booked_with_it(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tag, booked = _booked_with_a_code(system)
    ops = {o.code: o for o in system.catalogue_setup.operations.entries()}
    other = next(code for code in ops if code != booked)
    for code in (booked, other):
        o = ops[code]
        system.catalogue_setup.operations.save(code, o.name_zh, o.name_en, o.hours, o.skill, o.equipment,
                                               o.interval_km, active=False, actor="赵经理")
    await sign_in(user, staff_member(system, "张伟"))
    await user.open("/kiosk")
    scan(user, tag)
    await until(lambda: sees(user, marker="scan-appt"), timeout=20)
    assert next(iter(user.find(marker=f"op-{booked}").elements)).value is True
    assert not await sees(user, marker=f"op-{other}")


async def test_check_in_suggests_a_comeback_and_stores_it(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    advisor = staff_member(system, "张伟")
    tag = _free_tag(system)
    first = str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", complaint="刹车时有异响",
                                                       operation_codes=["BRK"])).repair_order["number"])
    tech = _tech(system, "陈刚")
    system.workshop.dispatch.dispatch(first, tech.id, actor="郑强", override="test")
    c, _ = system.workshop.clocking.clock_on(tech.badge, first, actor=tech.name)
    system.workshop.clocking.stop(c.id, "finished", actor=tech.name)
    pass_checks(system.ctx, first)
    settle(system.ctx, first)
    system.repair_orders.transition(first, "delivered", actor="张伟")
    clock = system.ctx.clock
    clock.set(clock.now() + timedelta(days=6))  # type: ignore[attr-defined]

    await sign_in(user, advisor)
    await user.open("/kiosk")
    scan(user, tag)
    await until(lambda: sees(user, marker="comeback-banner"), timeout=20)
    user.find(marker="complaint").type("刹车异响又出现了").trigger("blur")
    await user.should_see(ZH("comeback.mark", number=first))

    async def ticked() -> bool:
        return bool(user.find(marker="comeback-box").elements.pop().value)
    await until(ticked)
    user.find(marker="check-in").click()

    async def marked() -> bool:
        with system.db.read() as s:
            ro = s.scalar(select(RepairOrder).where(RepairOrder.vehicle_id == select(QrTag.vehicle_id).where(
                QrTag.token == tag).scalar_subquery(), RepairOrder.number != first))
            return ro is not None and ro.comeback_of_id is not None
    await until(marked)
    with system.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.comeback_of_id.is_not(None))
                      .order_by(RepairOrder.id.desc()))
        assert ro is not None and ro.comeback_marked_by == "张伟"
        number = ro.number
    assert ComebackService(system.ctx).comeback_of(number) == first
    await user.should_see(marker="comeback-marked")


async def test_a_dispatch_to_an_absent_technician_needs_a_typed_override(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    advisor = staff_member(system, "张伟")
    number = str(system.checkin.check_in(CheckinRequest(tag=_free_tag(system), actor="张伟", advisor_id=advisor.id,
                                                        operation_codes=["OIL"])).repair_order["number"])
    absent = _tech(system, "周杰")  # on leave all day today (a test's leave: the demo's are on other days)
    with system.db.write() as s:
        s.add(Leave(technician_id=absent.id, day=system.ctx.today(), hours=None, reason="病假"))
    absent_id, absent_name = absent.id, absent.name
    await sign_in(user, advisor)
    await user.open("/kiosk")
    scan(user, ticket_url("http://x", number))
    await until(lambda: sees(user, marker="move-dispatched"), timeout=20)
    user.find(marker="move-dispatched").click()
    await user.should_see(absent_name)
    choice = next(r for r in user.find(ui.radio).elements if absent_id in r.options)
    choice.value = absent_id  # (the option's label is the name with the skill and open jobs)
    user.find(marker="dialog-confirm").click()
    await user.should_see(marker="dispatch-refused")
    assert system.repair_orders.get(number)["status"] == "checked_in"
    user.find(marker="override-reason").type("客户指定该技师")
    user.find(marker="override-confirm").click()

    async def dispatched() -> bool:
        return system.repair_orders.get(number)["status"] == "dispatched"
    await until(dispatched)
    lines = system.repair_orders.get(number)["job_lines"]
    assert lines[0]["technician"]["id"] == absent_id


async def test_why_a_carried_over_car_stays_is_chosen_on_its_order(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    today = system.ctx.today()
    system.workshop.carry_over.close_day(today - timedelta(days=1))  # what the closing did last night
    carried = [c for c in system.workshop.carry_over.carried(today)
               if c.status not in ("ready", "delivered", "cancelled")]
    assert carried, "the demo carries cars over from yesterday"
    car = carried[0]
    advisor = staff_member(system, "张伟")
    await sign_in(user, advisor)
    await user.open("/kiosk")
    scan(user, car.number)
    await until(lambda: sees(user, content=ZH("carry.carried")), timeout=20)
    select = user.find(marker="carry-over-reason").elements.pop()
    assert isinstance(select, ui.select) and select.value == car.reason
    select.value = "sublet"

    async def saved() -> bool:
        return next(c for c in system.workshop.carry_over.carried(today) if c.number == car.number).reason == "sublet"
    await until(saved)
    rows = system.audit.read(Entity.REPAIR_ORDER, car.number)
    assert any(r.action == "carried_over" and r.actor == "张伟" and r.reason == "sublet" for r in rows)


async def test_a_promised_time_that_is_no_time_is_said_and_nothing_is_checked_in(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    tag = _free_tag(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open("/kiosk")
    scan(user, tag)
    await until(lambda: sees(user, marker="complaint"), timeout=20)
    user.find(marker="complaint").type("发动机异响")
    promised = user.find(marker="promised").elements.pop()
    assert isinstance(promised, ui.input)
    promised.value = "25:99"
    user.find(marker="check-in").click()
    await user.should_see(ZH("kiosk.promised_invalid"))
    with system.db.read() as s:
        opened = s.scalar(select(RepairOrder).join(QrTag, QrTag.vehicle_id == RepairOrder.vehicle_id).where(
            QrTag.token == tag, RepairOrder.status.in_([x.value for x in OPEN_STATUSES])))
    assert opened is None
