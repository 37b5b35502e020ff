"""/parts in NiceGUI's simulated browser: the parts clerk (钱进) sees today's pick lists, opens an order by scanning
its job ticket, issues a part by scanning its number, puts a short part on back-order (the order goes on hold),
receives it on the back-orders tab (released), finds a part in the catalogue and adds one."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.simulated_browser import scan, sees, sign_in, staff_member, until

ZH = Translator("zh-CN")


def _order_with_parts(system: Shopfloor) -> str:
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    number = str(system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["BRK"]))
                 .repair_order["number"])
    line = int(system.repair_orders.get(number)["job_lines"][0]["id"])
    system.parts.counter.add(number, line, "04465-02220", 1, actor="张伟")  # 2 in stock
    system.parts.counter.add(number, line, "13505-0H020", 1, actor="张伟")  # none in stock
    return number


async def test_the_clerk_issues_by_scan_back_orders_a_short_part_and_receives_it(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _order_with_parts(system)
    await sign_in(user, staff_member(system, "钱进"))
    await user.open("/parts")
    await until(lambda: sees(user, marker="tab-picks"), timeout=20)
    await until(lambda: sees(user, content=number), timeout=20)  # on today's pick lists
    scan(user, f"https://shop.example/ro/{number}")  # the job ticket's QR opens its pick list
    await until(lambda: sees(user, content=ZH("parts.list.title", number=number)), timeout=20)
    scan(user, "04465-02220")

    async def issued() -> bool:
        return [x.status for x in system.parts.counter.pick_list(number).lines] == ["issued", "to_pick"]
    await until(issued, timeout=20)

    async def redrawn() -> bool:  # the issued part has no Short button any more
        return await sees(user, marker="short") and len(user.find(marker="short").elements) == 1
    await until(redrawn, timeout=20)
    user.find(marker="short").click()
    await until(lambda: sees(user, marker="short-dialog"), timeout=20)
    user.find(marker="short-confirm").click()

    async def held() -> bool:
        return system.repair_orders.get(number)["status"] == "on_hold"
    await until(held, timeout=20)

    user.find(marker="tab-back-orders").click()
    await until(lambda: sees(user, marker="back-orders"), timeout=20)
    mine = [b for b in system.parts.counter.back_orders() if b.repair_order == number]
    assert len(mine) == 1
    await until(lambda: sees(user, marker=f"arrived-{mine[0].id}"), timeout=20)  # drawn after the change's refresh
    user.find(marker=f"arrived-{mine[0].id}").click()

    async def released() -> bool:
        return system.repair_orders.get(number)["status"] == "checked_in"
    await until(released, timeout=20)

    user.find(marker="tab-catalogue").click()
    user.find(marker="catalogue-search").type("刹车片")

    async def found() -> bool:
        table = next(iter(user.find(marker="catalogue").elements))
        assert isinstance(table, ui.table)
        return {r["number"] for r in table.rows} == {"04465-02220", "04466-02210"}
    await until(found, timeout=20)

    user.find(marker="part-new").click()
    await until(lambda: sees(user, marker="part-dialog"), timeout=20)
    user.find(marker="part-number").type("NEW-0001")
    user.find(marker="part-name").type("新零件")
    user.find(marker="part-price").type("12.5")
    user.find(marker="part-save").click()

    async def added() -> bool:
        return [p.number for p in system.parts.catalogue.search("NEW-0001")] == ["NEW-0001"]
    await until(added, timeout=20)
    assert system.parts.catalogue.get("NEW-0001").updated_by == "钱进"
