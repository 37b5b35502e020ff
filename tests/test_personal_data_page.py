"""/setup → Personal data in NiceGUI's simulated browser: the manager sees the years the list is made for, finds a
customer by phone when they ask, and erases them only with a reason and the word typed; the inactive list lists a
customer gone for years and drops them once erased; the erased customer is found by what is left of the plate,
marked erased and without an erase button."""

from __future__ import annotations

from datetime import date

from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.models import Customer, Vehicle
from shopfloor.main import Shopfloor
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

MANAGER = "赵经理"


def gone_for_years(system: Shopfloor) -> tuple[int, str]:
    """A customer of the demo made to have last come in 2019 (no order, no appointment, no call since)."""
    with system.db.write() as s:
        c = Customer(site_id=system.ctx.site, surname="钱", given_name="多多", salutation="先生", phone="13722223333")
        s.add(c)
        s.flush()
        s.add(Vehicle(site_id=system.ctx.site, customer_id=c.id, vin="LVGTESTPAGE000001", plate="京Q9P8Y7",
                      last_service_on=date(2019, 4, 2)))
        return c.id, c.phone


async def test_the_manager_finds_and_erases_a_customer_only_with_the_word_typed(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    customer_id, phone = gone_for_years(system)
    await sign_in(user, staff_member(system, MANAGER))
    await user.open("/setup?tab=privacy")
    await user.should_see(marker="privacy-years")
    await until(lambda: sees(user, marker=f"privacy-inactive-{customer_id}"))
    await user.should_see(content="2019-04-02")

    user.find(marker="privacy-search").type(phone)
    user.find(marker="privacy-find").click()
    await until(lambda: sees(user, marker=f"privacy-found-{customer_id}"))
    user.find(marker=f"privacy-erase-{customer_id}").click()
    await until(lambda: sees(user, marker="privacy-erase-form"))
    yes = next(iter(user.find(marker="privacy-erase-yes").elements))
    assert not yes.enabled  # nothing typed yet
    user.find(marker="privacy-erase-reason").type("客户来电要求删除")
    user.find(marker="privacy-erase-confirm").type("删")
    assert not yes.enabled  # not the word
    user.find(marker="privacy-erase-confirm").clear().type("删除")
    await until(lambda: _enabled(yes))
    user.find(marker="privacy-erase-yes").click()

    async def erased() -> bool:
        with system.db.read() as s:
            c = s.scalar(select(Customer).where(Customer.id == customer_id))
            return c is not None and c.erased_at is not None

    await until(erased)
    with system.db.read() as s:
        c = s.scalar(select(Customer).where(Customer.id == customer_id))
        assert c is not None and (c.surname, c.phone) == ("已删除", "")
    await until(lambda: sees(user, marker="privacy-found-none"))  # the phone they were found by is gone
    await until(lambda: _gone(user, f"privacy-inactive-{customer_id}"))  # the list is read again after the search
    assert not await sees(user, marker=f"privacy-erase-{customer_id}")
    user.find(marker="privacy-search").clear().type("****Y7")
    user.find(marker="privacy-find").click()
    await until(lambda: sees(user, marker=f"privacy-found-{customer_id}"))
    await user.should_see(marker="privacy-erased")
    assert not await sees(user, marker=f"privacy-erase-{customer_id}")


async def _enabled(element: object) -> bool:
    return bool(getattr(element, "enabled", False))


async def _gone(user: User, marker: str) -> bool:
    return not await sees(user, marker=marker)
