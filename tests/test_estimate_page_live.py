"""/kiosk/estimate/<number> follows what happens elsewhere while it is open (NiceGUI's simulated browser through the
composition root, no printer agent): a print job settled by its agent's acknowledgement is shown at once, printed or
not, without the page being read again — a printout left reading 'waiting' after it printed gets printed twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui.testing import User
from sqlalchemy import select

from shopfloor.contract import payloads
from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.i18n import Translator
from shopfloor.main import Shopfloor
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.simulated_browser import sign_in, staff_member, until

ZH = Translator("zh-CN")


def _new_order(system: Shopfloor) -> str:
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    result = system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=["OIL"]))
    return str(result.repair_order["number"])


def holds(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def checked() -> bool:
        return check()
    return checked


def _shown(user: User, job_id: int) -> str:
    try:
        return str(next(iter(user.find(marker=f"print-job-{job_id}").elements)).text)
    except AssertionError:  # not drawn (yet)
        return ""


async def _print_and_ack(user: User, system: Shopfloor, number: str, result: str) -> int:
    """The estimate slip printed from the page, then its agent's acknowledgement: the job's id."""
    before = {j.id for j in system.printing.jobs_for(number)}
    user.find(marker="print-estimate").click()
    await until(holds(lambda: any(j.id not in before for j in system.printing.jobs_for(number))), timeout=5)
    job = next(j for j in system.printing.jobs_for(number) if j.id not in before)
    await until(holds(lambda: ZH("print.pending") in _shown(user, job.id)), timeout=5)
    system.printing.handle_ack(job.printer, payloads.encode(payloads.print_ack(
        job_id=job.id, result=result, detail="paper out" if result == payloads.ACK_FAILED else "",
        at="2026-12-05T09:00:00+08:00")))
    # sooner than the page's own re-read of waiting jobs (every 5 s): the acknowledgement itself redraws it
    await until(holds(lambda: ZH(f"print.{result}") in _shown(user, job.id)), timeout=2)
    return job.id


async def test_a_printout_follows_its_agents_acknowledgement_without_a_reload(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/estimate/{number}?tab=output")
    await user.should_see(marker="print-estimate")
    printed = await _print_and_ack(user, system, number, payloads.ACK_PRINTED)
    failed = await _print_and_ack(user, system, number, payloads.ACK_FAILED)
    assert ZH("print.pending") not in _shown(user, printed) + _shown(user, failed)
    # a printout that did not come out is said, with which paper it was
    await user.should_see(ZH("estimate.output.print_problem", paper=ZH("estimate.output.kind.estimate"),
                             job=failed, status=ZH("print.failed")))
