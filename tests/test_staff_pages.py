"""Every staff page × every staff role, through the composition root (shopfloor/main.py) in NiceGUI's simulated
browser: each demo staff member signs in on the PIN keypad, lands on their first page, and loads every page —
what their role may open shows its content, the rest the refusal naming the roles that may."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from shopfloor.contract import staff
from shopfloor.contract.staff import Permission, StaffRole
from shopfloor.i18n import Translator
from shopfloor.kiosk.manager.board import PlanBoardView
from shopfloor.main import Shopfloor
from shopfloor.services.auth import AdvisorInfo
from shopfloor.services.booking import BookingRequest
from shopfloor.testing import chromium_pages as chromium
from shopfloor.testing.plugin import DemoServer
from shopfloor.testing.simulated_browser import scan, sees, sign_in, until

ZH = Translator("zh-CN")
PARTS_CLERK, CASHIER = "钱进", "林静"  # the demo's parts clerk and cashier (shopfloor/demo/seed.py)


def _who_may(permission: Permission) -> str:
    """The roles holding `permission` as a zh-CN page names them."""
    return "、".join(ZH(f"role.{r.value}") for r in StaffRole if r in staff.roles_for(permission))


# What each page shows a person who may open it (a page added to staff.PAGES needs its line here).
def _content(path: str, person: AdvisorInfo) -> dict[str, Any]:
    if path == "/calls":
        # the call tabs first for whoever may call; a parts clerk has the pre-pick alone
        return {"marker": "call-list" if staff.may(person.roles, Permission.CALLS) else "pick-list"}
    return {"/kiosk": {"marker": "manual-tag"}, "/booking": {"marker": "booking"},
            "/manager/board": {"kind": PlanBoardView}, "/manager/figures": {"content": ZH("figures.title")},
            "/data": {"marker": "import-upload"}, "/workshop/dispatch": {"marker": "dispatch-board"},
            "/workshop/station": {"marker": "station"}, "/workshop/qc": {"marker": "qc-desk"},
            "/parts": {"marker": "tab-picks"},
            "/delivery": {"marker": "delivery-desk"}, "/cashier": {"marker": "cashier-desk"},
            "/follow-up": {"marker": "follow-up-list"}, "/complaints": {"marker": "complaints-list"},
            "/setup": {"marker": "setup-tabs"}, "/status": {"marker": "status-server"}}[path]


@pytest.mark.parametrize("role", list(StaffRole))
async def test_each_role_opens_its_pages_and_is_refused_the_others(
        staff_app: tuple[User, Shopfloor], role: StaffRole) -> None:
    user, system = staff_app
    person = next(p for p in system.auth.advisors() if p.roles == {role})  # the demo has one person per role
    home = staff.landing_page(person.roles)

    await sign_in(user, person)
    # signed in at the reception kiosk: landed on their first page, or stayed there to be told there is none
    assert user.client is not None and user.client.request is not None
    assert user.client.request.url.path == (home or "/kiosk")

    for page in staff.PAGES:
        await user.open(page.path)
        if staff.may_open(person.roles, page.path):
            await user.should_see(**_content(page.path, person))
            await user.should_not_see(marker="not-allowed")
            await user.should_see(marker=f"nav-{page.path}")
        else:
            await user.should_see(marker="not-allowed")
            allowed = user.find(kind=ui.label, marker="allowed-roles").elements.pop().text
            for r in StaffRole:
                named = ZH(f"role.{r.value}") in allowed
                assert named == (r in staff.page_roles(page.path)), (page.path, r, allowed)
            await user.should_not_see(marker=f"nav-{page.path}")
            if home is None:
                await user.should_see(ZH("nav.no_page_yet"))
            else:
                await user.should_see(marker="go-home")


async def test_the_parts_clerk_has_the_pre_pick_tab_alone(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    clerk = next(p for p in system.auth.advisors() if p.roles == {StaffRole.PARTS})
    await sign_in(user, clerk)
    await user.open("/calls?tab=calls")  # asking for a tab of another role shows the clerk's own
    tabs = {e.props.get("data-tab") for e in user.find(ui.tab).elements}
    assert tabs == {"parts"}
    await user.should_see(marker="pick-list")
    await user.should_not_see(marker="call-list")


async def test_a_scan_by_someone_without_reception_does_nothing_but_say_so(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    clerk = next(p for p in system.auth.advisors() if p.roles == {StaffRole.PARTS})
    waiting = next(a for a in system.appointments.list_day(system.ctx.today())
                   if a["status"] in ("booked", "confirmed", "late"))
    await sign_in(user, clerk)
    await user.open("/kiosk")
    await user.should_see(marker="not-allowed")
    scan(user, waiting["tag"])
    await user.should_see(ZH("access.scan", roles=_who_may(Permission.RECEPTION)))
    after = next(a for a in system.appointments.list_day(system.ctx.today()) if a["id"] == waiting["id"])
    assert after["status"] == waiting["status"]



@pytest.mark.parametrize("role", [StaffRole.CUSTOMER_SERVICE, StaffRole.ADVISOR])
async def test_only_who_may_override_is_asked_for_a_reason(staff_app: tuple[User, Shopfloor],
                                                            role: StaffRole) -> None:
    user, system = staff_app
    person = next(p for p in system.auth.advisors() if p.roles == {role})
    advisor = next(p for p in system.auth.advisors() if p.code == "D")
    day = system.ctx.today() + timedelta(days=2)
    plate = system.appointments.list_day(system.ctx.today())[1]["plate"]
    # an arrival at 17:00 for advisor D already: a second one in that quarter hour breaks the stagger rule
    first = system.booking.book(BookingRequest(
        start=datetime.combine(day, time(17, 0), tzinfo=system.ctx.tz), lines=system.booking.lines(codes=["WSH"]),
        actor="test", plate=plate, advisor_id=advisor.id, override_reason="test setup"))
    await sign_in(user, person)
    await user.open(f"/booking?vehicle={first['vehicle_id']}&day={day}&advisor={advisor.id}&work=OIL")
    await user.should_see(marker="vehicle-plate")
    user.find(marker="manual-time").type("17:00")
    user.find(marker="manual-book").click()
    await until(lambda: sees(user, marker="override"))
    await user.should_see(marker="refused-stagger")
    if staff.may(person.roles, Permission.BOOKING_OVERRIDE):
        await user.should_see(marker="override-reason")
        await user.should_not_see(marker="override-not-allowed")
    else:
        await user.should_not_see(marker="override-reason")
        await user.should_not_see(marker="override-book")
        await user.should_see(content=ZH("access.override", roles=_who_may(Permission.BOOKING_OVERRIDE)))


# --- the same in Chromium, against the demo as `shopfloor demo` runs it -------------------------------------------

def _notified(drv: Any, text: str, timeout: float = 10.0) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, timeout, poll_frequency=0.1).until(
        lambda d: any(text in n.text for n in d.find_elements(By.CSS_SELECTOR, ".q-notification")))


@pytest.mark.browser
def test_parts_clerk_lands_on_the_pre_pick_and_a_scan_at_reception_does_nothing(
        demo_server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    waiting = next(a for a in demo_server.api("/api/v1/appointments") if a["status"] in ("booked", "confirmed", "late"))
    chromium.sign_in(driver, demo_server, PARTS_CLERK)
    chromium.wait_for(driver, "[data-testid=pick-list]")
    assert driver.current_url.split("?")[0] == demo_server.base + "/calls"
    tabs = [t.get_attribute("data-tab") for t in driver.find_elements("css selector", "[data-tab]")]
    assert tabs == ["parts"]

    driver.get(demo_server.base + "/kiosk")
    refusal = chromium.wait_for(driver, "[data-testid=not-allowed]")
    assert ZH("role.advisor") in refusal.text and ZH("role.manager") in refusal.text
    assert driver.find_elements("css selector", "[data-testid=go-home]")
    driver.save_screenshot("/tmp/shopfloor-refused-parts-clerk.png")
    ActionChains(driver).send_keys(waiting["tag"] + Keys.ENTER).perform()  # as a keyboard-wedge scanner types it
    _notified(driver, ZH("access.scan", roles=_who_may(Permission.RECEPTION)))
    after = {a["id"]: a for a in demo_server.api("/api/v1/appointments")}[waiting["id"]]
    assert after["status"] == waiting["status"] and not after["ro_number"]


@pytest.mark.browser
def test_cashier_lands_on_the_cashier_desk_and_is_refused_the_others(
        demo_server: DemoServer, driver: Any) -> None:
    chromium.sign_in(driver, demo_server, CASHIER)
    assert driver.current_url.split("?")[0] == demo_server.base + "/cashier"
    roles = frozenset({StaffRole.CASHIER})
    for page in staff.PAGES:
        if staff.may_open(roles, page.path):
            continue
        driver.get(demo_server.base + page.path)
        refusal = chromium.wait_for(driver, "[data-testid=not-allowed]")
        assert _who_may(next(iter(page.permissions))) in refusal.text or refusal.text, page.path
