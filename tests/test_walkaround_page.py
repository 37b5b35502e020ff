"""/kiosk/walkaround/<number>, the six-position walkaround on the advisor's tablet (issue 11): in NiceGUI's simulated
browser through the composition root (readings and items saved as typed and kept across a reload, a mark placed on
the diagram and its photo attached when it arrives, a red measurement proposed as a job line, the explanation
before the estimate), the session-authenticated photo route; and in Chromium at 1280×800, a tap on the drawn car,
a photo through the file input, an upload that fails and is retried while the mark stays put."""

from __future__ import annotations

import io
import logging

import pytest
from nicegui.testing import User
from PIL import Image
from sqlalchemy import select

from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.domain.walkaround import Position
from shopfloor.i18n import Translator
from shopfloor.kiosk.reception.walkaround_model import ZONES, position_at
from shopfloor.main import Shopfloor
from shopfloor.services.checkin import CheckinRequest
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until

ZH = Translator("zh-CN")
EN = Translator("en")


def jpeg(size: tuple[int, int] = (640, 480), colour: str = "#c0392b") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def _new_order(system: Shopfloor, codes: tuple[str, ...] = ("M10",)) -> str:
    """A car checked in now for `codes` (M10 asks for the tyres' tread and the brake pads to be measured)."""
    with system.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    result = system.checkin.check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=list(codes)))
    return str(result.repair_order["number"])


def test_a_tap_belongs_to_the_step_when_its_zone_holds_it_else_to_the_nearest_zone() -> None:
    assert position_at(0.2, 0.3, Position.FRONT) == Position.FRONT  # the left front corner, seen from the front
    assert position_at(0.2, 0.3, Position.LEFT_FRONT) == Position.LEFT_FRONT
    assert position_at(0.2, 0.3, Position.REAR) == Position.LEFT_FRONT
    assert position_at(0.5, 0.55, None) == Position.INTERIOR
    assert position_at(0.5, 0.97, Position.INTERIOR) == Position.REAR
    assert position_at(0.95, 0.5, None) == Position.RIGHT_SIDE  # beside the car: the nearest zone
    for zone in ZONES.values():
        assert 0 <= zone[0] < zone[2] <= 1 and 0 <= zone[1] < zone[3] <= 1


async def test_walked_typed_saved_and_kept_across_a_reload(staff_app: tuple[User, Shopfloor],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    user, system = staff_app
    number = _new_order(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/walkaround/{number}")
    await user.should_see(marker="stepper")
    await user.should_see(ZH("walkaround.position_hint.interior"))
    user.find(marker="mileage").type("45210")
    user.find(marker="fuel").elements.pop().set_value(3)  # the gauge at 3/8
    user.find(marker="protection-kit").click()
    user.find(marker="item-warning_lamps").elements.pop().set_value("red")
    user.find(marker="note-warning_lamps").type("发动机故障灯亮")
    user.find(marker="rest-green-interior").click()

    async def saved() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and view.items.get("audio", {}).get("status") == "green" \
            and view.fuel_eighths == 3 and view.items.get("warning_lamps", {}).get("note") == "发动机故障灯亮"
    await until(saved, timeout=8)
    view = system.reception.walkaround.get(number)
    assert view is not None and view.mileage_km == 45210 and view.protection_kit and not view.valuables_taken
    assert view.items["warning_lamps"]["status"] == "red"
    assert system.repair_orders.get(number)["mileage_km"] == 45210

    await user.open(f"/kiosk/walkaround/{number}")  # a reload: what was typed is there
    await user.should_see(marker="stepper")
    assert user.find(marker="note-warning_lamps").elements.pop().value == "发动机故障灯亮"
    assert user.find(marker="item-warning_lamps").elements.pop().value == "red"
    # every interior item is checked: it opens at the next position
    assert user.find(marker="stepper").elements.pop().value == Position.LEFT_FRONT.value
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_mark_is_saved_first_and_its_photo_attached_when_it_arrives(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system)
    await sign_in(user, staff_member(system, "张伟"))
    await user.open(f"/kiosk/walkaround/{number}")
    await user.should_see(marker="car-diagram")
    user.find(marker="stepper").elements.pop().set_value(Position.LEFT_FRONT.value)
    user.find(marker="car-diagram").trigger("place", {"x": 0.2, "y": 0.3})
    await user.should_see(marker="mark-dialog")
    await user.should_see(ZH("walkaround.mark.title", n=1, position=ZH("walkaround.position.left_front")))
    # the key is the page's own: read from the diagram's provisional mark, where the tap was
    diagram = user.find(marker="car-diagram").elements.pop()
    key = diagram.props["selected"]
    assert key and any(m["key"] == key for m in diagram.props["marks"])
    user.find(marker="mark-save").click()  # no kind yet: nothing placed
    await user.should_see(marker="mark-dialog")
    user.find(marker="mark-kind").elements.pop().set_value("scratch")
    user.find(marker="mark-note").type("左前门下沿")
    user.find(marker="mark-save").click()

    async def marked() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and len(view.marks) == 1
    await until(marked)
    mark = system.reception.walkaround.get(number).marks[0]  # type: ignore[union-attr]
    assert (mark.position, mark.kind, mark.x, mark.y, mark.note, mark.photo_id) == (
        "left_front", "scratch", 0.2, 0.3, "左前门下沿", None)

    # the photo is on its way and then stored: car_diagram.js says so, the mark gets it
    user.find(marker="car-diagram").trigger("photo_state", {"key": key, "state": "retrying", "attempt": 2})
    await user.should_see(ZH("walkaround.mark.retrying"))
    photo = system.reception.photos.upload(number, jpeg(), actor="张伟")
    user.find(marker="car-diagram").trigger("photo", {"key": key, "id": photo.id, "url": photo.url})

    async def attached() -> bool:
        view = system.reception.walkaround.get(number)
        return view is not None and [m.photo_id for m in view.marks] == [photo.id]
    await until(attached, timeout=8)
    await user.should_not_see(ZH("walkaround.mark.retrying"))
    await user.should_see(marker="view-photo-1")

    # a tap on the mark changes it; delete removes it
    user.find(marker="car-diagram").trigger("select", {"key": key})
    await user.should_see(marker="mark-delete")
    user.find(marker="mark-delete").click()
    await until(lambda: _no_marks(system, number))


async def _left(user: User) -> bool:
    return not await sees(user, marker="stepper")


async def _no_marks(system: Shopfloor, number: str) -> bool:
    view = system.reception.walkaround.get(number)
    return view is not None and view.marks == []


async def test_a_red_measurement_is_proposed_as_a_line_and_the_explanation_leads_to_the_estimate(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = _new_order(system)
    lines_before = len(system.repair_orders.get(number)["job_lines"])
    await sign_in(user, staff_member(system, "李娜"))
    await user.open(f"/kiosk/walkaround/{number}?lang=en")
    await user.should_see(marker="stepper")
    user.find(marker="stepper").elements.pop().set_value(Position.LEFT_FRONT.value)
    await user.should_see(marker="measure-brake_pad_front")
    user.find(marker="measure-brake_pad_front").elements.pop().set_value(1.5)
    await user.should_see(marker="light-brake_pad_front", content=EN("walkaround.status.red"))
    user.find(marker="propose-brake_pad_front").click()

    async def proposed() -> bool:
        return len(system.repair_orders.get(number)["job_lines"]) == lines_before + 1
    await until(proposed, timeout=8)
    line = system.repair_orders.get(number)["job_lines"][-1]
    await user.should_see(marker="proposed-brake_pad_front")
    view = system.reception.walkaround.get(number)
    assert view is not None and view.items["brake_pad_front"]["value"] == 1.5
    assert view.items["brake_pad_front"]["job_line"] == line["id"]

    user.find(marker="stepper").elements.pop().set_value("explain")
    await user.should_see(f"{EN('walkaround.item.brake_pad_front')} 1.5 mm")
    user.find(marker="continue-estimate").click()  # not explained yet: stays
    await user.should_see(EN("walkaround.page.explain_first"))
    user.find(marker="explained").click()
    user.find(marker="continue-estimate").click()
    await until(lambda: _left(user), timeout=8)  # on the estimate's page
    view = system.reception.walkaround.get(number)
    assert view is not None and view.explained
