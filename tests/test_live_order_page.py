"""/ro/<number>, what the job ticket's QR opens in a staff browser (NiceGUI's simulated browser): any staff member
sees the live order — lines with technicians and status, the risk, quality checks — and it is drawn again when the
board store brings the order's new state; a browser not signed in gets the keypad and comes back to the
order; a number that is not one says so."""

from __future__ import annotations

from nicegui.testing import User

from shopfloor.contract import topics
from shopfloor.contract.staff import PAGES
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.testing.plugin import DEMO_PINS
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

ZH = Translator("zh-CN")


async def test_any_staff_member_sees_the_live_order_and_it_follows_the_store(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    order = next(o for o in system.repair_orders.open_orders() if o["job_lines"])
    number = order["number"]
    await sign_in(user, staff_member(system, "陈刚"))  # a technician: REPAIR_ORDER_READ only
    await user.open(f"/ro/{number}")
    await user.should_see(marker="ro-live-number")
    await user.should_see(number)
    await user.should_see(marker="ro-live-lines")
    await user.should_see(ZH(f"ro_live.line.{order['job_lines'][0]['status']}"))
    await user.should_see(marker="ro-live-risk")
    assert "/ro" not in [p.path for p in PAGES]  # a deep link, not in the navigation

    # a check recorded elsewhere reaches the page through the board store
    system.workshop.additional_work.report(number, technician="陈刚", actor="陈刚", description="雨刮片老化",
                                           hours=0.2)
    system.board_store.changed.emit(topics.REPAIR_ORDERS, number, system.repair_orders.get(number))
    await user.should_see("雨刮片老化")


async def test_a_bad_number_says_so(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "郑强"))
    await user.open("/ro/not-a-number")
    await user.should_see(marker="ro-live-error")


async def test_a_browser_not_signed_in_signs_in_on_the_order_and_comes_back_to_it(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = system.repair_orders.open_orders()[0]["number"]
    person = staff_member(system, "陈刚")
    await user.open(f"/ro/{number}")
    await until(lambda: sees(user, marker="ro-public-note"))  # what a customer who scans the ticket sees
    assert not await sees(user, marker=f"advisor-{person.id}")  # no staff names before someone asks for the keypad
    user.find(marker="ro-staff-sign-in").click()
    await until(lambda: sees(user, marker=f"advisor-{person.id}"))  # the keypad, on /ro?number=…
    user.find(marker=f"advisor-{person.id}").click()
    for key in [*DEMO_PINS[person.name], "OK"]:
        user.find(marker=f"pin-{key}").click()
    await until(lambda: sees(user, marker="ro-live-number"))
    await user.should_see(number)
