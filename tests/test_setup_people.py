"""/setup's people and bays (issue 13) on SQLite and PostgreSQL: staff (a one-time PIN for someone new, never the
last active manager off), technicians (a shift, a badge reissued), leave and holidays, bays out of use; each change
audited with its actor and live (the capacity marks and the technician's state on the bus in the same
transaction, booking's capacity read at once); CSV out and in, a bad line among good ones reported by line and
column while the good rows are kept; the API's routes, status codes and OpenAPI document."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract import topics
from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.errors import DomainError, NotFound, Refused
from shopfloor.domain.models import AuditEntry, CapacityChange, OutboxMessage
from shopfloor.services.audit import Actor, Entity
from shopfloor.services.auth import AuthService
from shopfloor.services.capacity import load_plan, refresh_marked
from shopfloor.services.setup.bays import BayAdmin
from shopfloor.services.setup.calendar import CalendarAdmin
from shopfloor.services.setup.staff import StaffAdmin
from shopfloor.services.setup.technicians import TechnicianAdmin
from shopfloor.services.site_setup import WeeklyShift
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

MANAGER = Actor("赵经理", staff_id=None)
API = "/api/v1/setup"
ADVISOR = ApiToken("reception-tablet", "advisor-token", frozenset({StaffRole.ADVISOR}))


def audit_rows(services: Services, entity: Entity, entity_id: object) -> list[AuditEntry]:
    with services.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.entity == entity.value,
                                                       AuditEntry.entity_id == str(entity_id))
                              .order_by(AuditEntry.id)))


def marked_days(services: Services) -> set[object]:
    with services.db.read() as s:
        return set(s.scalars(select(CapacityChange.day)))


def technician_states(services: Services, tech_id: int) -> int:
    with services.db.read() as s:
        return len(list(s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.topic.contains(f"/{topics.TECHNICIANS}/{tech_id}")))))


# -- staff ----------------------------------------------------------------------------------------------------
def test_a_new_person_gets_a_one_time_pin_that_signs_in_once(services: Services) -> None:
    admin = StaffAdmin(services.ctx)
    view, pin = admin.add("周敏", "e", ["advisor", "cashier"], MANAGER)
    assert view.code == "E" and view.roles == ("advisor", "cashier") and view.active and view.must_change_pin
    assert len(pin) == 6 and pin.isdigit()
    assert AuthService(services.ctx).login(view.id, pin).name == "周敏"
    actions = [r.action for r in audit_rows(services, Entity.STAFF, view.id)]
    assert actions[0] == "staff_added" and "pin_reset" in actions
    assert all(r.actor == "赵经理" for r in audit_rows(services, Entity.STAFF, view.id))
    with pytest.raises(Refused):
        admin.add("周敏", "G", ["advisor"], MANAGER)  # the name is taken
    with pytest.raises(DomainError) as taken:
        admin.add("吴丽", "A", ["advisor"], MANAGER)  # 张伟's code
    assert taken.value.key == "setup_people.error.staff.code_taken"
    with pytest.raises(DomainError):
        admin.add("吴丽", "G", [], MANAGER)


def test_never_the_last_active_manager_off(services: Services) -> None:
    admin = StaffAdmin(services.ctx)
    manager = next(v for v in admin.listing() if v.name == "赵经理")
    with pytest.raises(Refused) as refused:
        admin.set_active(manager.id, False, MANAGER)
    assert refused.value.key == "setup_people.error.staff.last_manager"
    with pytest.raises(Refused):
        admin.edit(manager.id, MANAGER, roles=["advisor"])  # losing the role is the same
    helper = next(v for v in admin.listing() if v.name == "孙丽")
    admin.edit(helper.id, MANAGER, roles=["cs", "manager"])
    assert admin.set_active(manager.id, False, MANAGER).active is False  # now someone else can open /setup
    assert admin.set_active(manager.id, True, MANAGER).active is True
    actions = [r.action for r in audit_rows(services, Entity.STAFF, manager.id)]
    assert actions[-2:] == ["staff_deactivated", "staff_reactivated"]
    pin = admin.reset_pin(manager.id, MANAGER)
    assert admin.get(manager.id).must_change_pin and AuthService(services.ctx).login(manager.id, pin)
    with pytest.raises(NotFound):
        admin.reset_pin(999_999, MANAGER)


def test_staff_csv_keeps_good_rows_and_names_the_bad_line(services: Services) -> None:
    admin = StaffAdmin(services.ctx)
    exported = admin.export_csv().decode("utf-8-sig")
    assert exported.splitlines()[0] == "name,code,roles,active" and "赵经理,M,manager,yes" in exported
    data = ("name,code,roles,active\n"
            "周敏,E,advisor,yes\n"
            "吴丽,G,advisor;wizard,yes\n"  # line 3: an unknown role
            "孙丽,S,\"cs,parts\",\n"  # changed
            "钱进,P,parts,maybe\n"  # line 5: not yes or no
            "郑强,F,foreman,yes\n").encode()  # unchanged
    report, pins = admin.import_csv(data, MANAGER)
    assert (report.rows, report.added, report.updated, report.unchanged) == (5, 1, 1, 1)
    assert [(e.line, e.column) for e in report.errors] == [(3, "roles"), (5, "active")]
    assert list(pins) == ["周敏"]
    new_id = next(v.id for v in admin.listing() if v.name == "周敏")
    assert AuthService(services.ctx).login(new_id, pins["周敏"]).name == "周敏"
    assert next(v for v in admin.listing() if v.name == "孙丽").roles == ("parts", "cs")
    assert "吴丽" not in {v.name for v in admin.listing()}


# -- technicians ----------------------------------------------------------------------------------------------
def test_a_technician_added_is_live_on_the_bus_and_in_capacity(services: Services) -> None:
    refresh_marked(services.ctx)
    day = services.ctx.today()
    before = services.booking.capacity(day)["total"]["available"]
    admin = TechnicianAdmin(services.ctx)
    shift = WeeklyShift(time(8, 0), time(17, 0), 60, tuple(range(7)))
    tech = admin.add("马超", "repair", MANAGER, shift)
    assert tech.shift == shift and tech.active
    assert day in marked_days(services)  # the refresher puts the day's new capacity out after the commit
    assert technician_states(services, tech.id) == 1  # the job progress board's row
    assert services.booking.capacity(day)["total"]["available"] > before
    admin.edit(tech.id, MANAGER, active=False)
    assert services.booking.capacity(day)["total"]["available"] == pytest.approx(before)
    old_badge = tech.badge
    assert admin.reissue_badge(tech.id, MANAGER).badge != old_badge
    assert [r.action for r in audit_rows(services, Entity.TECHNICIAN, tech.id)] == [
        "technician_added", "technician_changed", "badge_reissued"]
    with pytest.raises(DomainError) as bad:
        admin.set_shift(tech.id, WeeklyShift(time(17, 0), time(8, 0), 60, (0,)), MANAGER)
    assert bad.value.key == "setup_people.error.technicians.shift_order"
    with pytest.raises(DomainError):
        admin.add("马云", "wizardry", MANAGER)


def test_technicians_csv_round_trip_and_a_bad_line(services: Services) -> None:
    admin = TechnicianAdmin(services.ctx)
    exported = admin.export_csv().decode("utf-8-sig").splitlines()
    assert exported[0] == "name,skill,active,shift_start,shift_end,break_minutes,weekdays"
    assert "黄强,repair,yes,08:30,17:30,60,1-5" in exported
    assert admin.import_csv(admin.export_csv(), MANAGER).unchanged == len(exported) - 1
    data = ("name,skill,active,shift_start,shift_end,break_minutes,weekdays\n"
            "马超,repair,yes,08:00,17:00,60,\"1,2,3\"\n"
            "马云,maintenance,yes,08:00,17:00,60,1-9\n"  # line 3: no ninth weekday
            "黄强,repair,yes,09:00,18:00,45,1-6\n"
            "刘备,chef,yes,,,,\n").encode()  # line 5: unknown skill
    report = admin.import_csv(data, MANAGER)
    assert (report.added, report.updated) == (1, 1)
    assert [(e.line, e.column) for e in report.errors] == [(3, "weekdays"), (5, "skill")]
    by_name = {v.name: v for v in admin.listing()}
    assert by_name["马超"].shift == WeeklyShift(time(8, 0), time(17, 0), 60, (0, 1, 2))
    assert by_name["黄强"].shift == WeeklyShift(time(9, 0), time(18, 0), 45, (0, 1, 2, 3, 4, 5))
    assert "马云" not in by_name and "刘备" not in by_name


# -- calendar -------------------------------------------------------------------------------------------------
def test_leave_and_holidays_change_the_days_capacity(services: Services) -> None:
    cal = CalendarAdmin(services.ctx)
    tech = next(v for v in TechnicianAdmin(services.ctx).listing() if v.name == "赵磊")
    day = services.ctx.today() + timedelta(days=2)
    refresh_marked(services.ctx)
    before = services.booking.capacity(day)["total"]["available"]
    leave = cal.add_leave(tech.id, day, Decimal("4"), "培训", MANAGER)
    assert day in marked_days(services)
    assert services.booking.capacity(day)["total"]["available"] == pytest.approx(before - 4)
    assert leave in cal.leave(tech.id)
    cal.remove_leave(leave.id, MANAGER)
    assert services.booking.capacity(day)["total"]["available"] == pytest.approx(before)
    holiday = cal.add_holiday(day, "停电", MANAGER)
    assert services.booking.capacity(day)["total"]["available"] == 0
    with pytest.raises(Refused):
        cal.add_holiday(day, "again", MANAGER)
    cal.remove_holiday(holiday.id, MANAGER)
    assert [r.action for r in audit_rows(services, Entity.TECHNICIAN, tech.id)] == ["leave_added", "leave_removed"]
    assert [r.action for r in audit_rows(services, Entity.HOLIDAY, day.isoformat())] == [
        "holiday_added", "holiday_removed"]
    with pytest.raises(DomainError):
        cal.add_leave(tech.id, day + timedelta(days=5000), None, "", MANAGER)


def test_leave_and_holiday_csv_keep_good_rows(services: Services) -> None:
    cal = CalendarAdmin(services.ctx)
    today = services.ctx.today()
    d1, d2 = (today + timedelta(days=3)).isoformat(), (today + timedelta(days=4)).isoformat()
    leave = (f"technician,day,hours,reason\n赵磊,{d1},,病假\n无名氏,{d1},,\n周杰,{d2},2.5,体检\n"
             f"吴昊,{d2},25,\n").encode()
    report = cal.import_leave_csv(leave, MANAGER)
    assert report.added == 2 and [(e.line, e.column) for e in report.errors] == [(3, "technician"), (5, "hours")]
    assert cal.import_leave_csv(leave, MANAGER).unchanged == 2  # the same rows again: nothing doubled
    assert {(v.technician, v.hours) for v in cal.leave() if v.day.isoformat() in (d1, d2)} >= {
        ("赵磊", None), ("周杰", Decimal("2.5"))}
    holidays = f"day,name\n{d1},国庆节\n2026-13-40,坏日子\n{d2},\n".encode()
    report = cal.import_holidays_csv(holidays, MANAGER)
    assert report.added == 2 and [(e.line, e.column) for e in report.errors] == [(3, "day")]
    assert f"{d1},国庆节" in cal.export_holidays_csv().decode("utf-8-sig")


# -- bays -----------------------------------------------------------------------------------------------------
def test_a_bay_out_of_use_is_offered_no_more(services: Services) -> None:
    admin = BayAdmin(services.ctx)
    assert {"lift", "alignment"} <= set(admin.kinds())
    bay = admin.add("p1", "paint", MANAGER)
    assert (bay.code, bay.kind, bay.active) == ("P1", "paint", True)
    day = services.ctx.today() + timedelta(days=20)
    with services.db.read() as s:
        assert "P1" in {b.code for b in load_plan(s, services.ctx, day).bays}
    assert admin.edit(bay.id, MANAGER, active=False).active is False
    with services.db.read() as s:
        assert "P1" not in {b.code for b in load_plan(s, services.ctx, day).bays}
    assert admin.rename_kind("paint", "spray", MANAGER) == 1
    assert [r.action for r in audit_rows(services, Entity.BAY, bay.id)] == ["bay_added", "bay_out_of_use",
                                                                            "bay_changed"]
    with pytest.raises(Refused):
        admin.add("P1", "lift", MANAGER)
    with pytest.raises(DomainError) as bad:
        admin.add("P2", "Paint Booth!", MANAGER)
    assert bad.value.key == "setup_people.error.bays.kind"


def test_a_booked_bay_stays_in_use(services: Services) -> None:
    admin = BayAdmin(services.ctx)
    today_start, _ = services.ctx.day_bounds(services.ctx.today())
    from shopfloor.domain.models import Appointment

    with services.db.read() as s:
        held = s.scalar(select(Appointment.bay_id).where(Appointment.bay_id.is_not(None),
                                                         Appointment.start >= today_start,
                                                         Appointment.status.not_in(("cancelled", "no_show"))))
    assert held is not None, "the demo books bays from today on"
    with pytest.raises(Refused) as refused:
        admin.edit(held, MANAGER, active=False)
    assert refused.value.key == "setup_people.error.bays.booked"


def test_bays_csv_reports_the_bad_line(services: Services) -> None:
    admin = BayAdmin(services.ctx)
    report = admin.import_csv(b"code,kind,active\nP1,paint,yes\nP2,,yes\nP1,spray,no\nA1,alignment,\n", MANAGER)
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert [(e.line, e.column) for e in report.errors] == [(3, "kind")]
    out = admin.export_csv().decode("utf-8-sig")
    assert "P1,spray,no" in out and "A1,alignment,yes" in out and "P2" not in out


# -- order and wording -----------------------------------------------------------------------------------------
def test_lists_come_in_natural_order(services: Services) -> None:
    bays = BayAdmin(services.ctx)
    for code, kind in (("B10", "lift"), ("B3", "alignment"), ("b2", "paint"), ("B1", "lift")):
        bays.add(code, kind, MANAGER)
    codes = [v.code for v in bays.listing() if v.active and v.code.startswith("B")]
    assert codes == ["B1", "B2", "B3", "B10"]  # whatever their kind, 10 after 3
    bays.edit(next(v.id for v in bays.listing() if v.code == "B1"), MANAGER, active=False)
    assert bays.listing()[-1].code == "B1"  # out of use at the end
    bays.add("7", "lift", MANAGER)
    codes = [v.code for v in bays.listing() if v.active]
    assert codes.index("7") < codes.index("A1") < codes.index("B2")  # the demo's 1…6 and A1: numbers first
    staff = StaffAdmin(services.ctx)
    staff.add("甲", "Z10", ["advisor"], MANAGER)
    staff.add("乙", "Z9", ["advisor"], MANAGER)
    active = [v.code for v in staff.listing() if v.active]
    assert active.index("Z9") < active.index("Z10")
    techs = TechnicianAdmin(services.ctx)
    techs.add("Alan 2", "repair", MANAGER)
    techs.add("alan 10", "repair", MANAGER)
    names = [v.name for v in techs.listing() if v.active]
    assert names.index("Alan 2") < names.index("alan 10")


def test_a_missing_field_is_named_in_the_readers_language(services: Services) -> None:
    with pytest.raises(DomainError) as missing:
        StaffAdmin(services.ctx).add("  ", "Q", ["advisor"], MANAGER)
    assert missing.value.message("zh-CN") == "缺少姓名。"
    assert missing.value.message("en") == "The name is missing."
    with pytest.raises(DomainError) as late:
        TechnicianAdmin(services.ctx).add("", "repair", MANAGER)
    assert late.value.message("zh-CN") == "缺少姓名。"
    report = BayAdmin(services.ctx).import_csv(b"code,kind,active\n,lift,yes\n", MANAGER)
    assert [(e.line, e.column, e.params) for e in report.errors] == [(2, "code", {"column": "code"})]


# -- API ------------------------------------------------------------------------------------------------------
@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", ADVISOR)


def test_api_staff_routes(app: FastAPI, services: Services) -> None:
    api = TestClient(app, headers={"Authorization": "Bearer integrator"})
    status = api.post(f"{API}/staff", json={"name": "周敏", "code": "E", "roles": ["advisor"]})
    assert status.status_code == 201, status.text
    added = status.json()
    assert added["staff"]["must_change_pin"] and len(added["one_time_pin"]) == 6
    staff_id = added["staff"]["id"]
    assert audit_rows(services, Entity.STAFF, staff_id)[0].actor == "api"
    changed = api.patch(f"{API}/staff/{staff_id}", json={"roles": ["advisor", "parts"], "active": False})
    assert changed.status_code == 200 and changed.json()["roles"] == ["advisor", "parts"]
    assert not changed.json()["active"]
    manager = next(p for p in api.get(f"{API}/staff").json() if p["name"] == "赵经理")
    refused = api.patch(f"{API}/staff/{manager['id']}", json={"name": "赵总", "active": False})
    assert refused.status_code == 409 and "last active manager" in refused.json()["detail"]
    assert api.get(f"{API}/staff/{manager['id']}").json()["name"] == "赵经理"  # all or nothing
    assert api.get(f"{API}/staff/999999").status_code == 404
    assert api.post(f"{API}/staff", json={"name": "周敏", "code": "Q", "roles": ["advisor"]}).status_code == 409
    assert api.post(f"{API}/staff", json={"name": "x", "code": "A", "roles": ["advisor"]}).status_code == 422
    assert api.post(f"{API}/staff", json={"name": "x", "code": "Z", "roles": ["wizard"]}).status_code == 422
    csv = api.get(f"{API}/staff/export.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "周敏,E,\"advisor,parts\",no" in csv.content.decode("utf-8-sig")
    forbidden = TestClient(app, headers={"Authorization": "Bearer advisor-token"}).get(f"{API}/staff")
    assert forbidden.status_code == 403


def test_api_imports_keep_good_rows(app: FastAPI, services: Services) -> None:
    api = TestClient(app, headers={"Authorization": "Bearer integrator", "Content-Type": "text/csv"})
    answer = api.post(f"{API}/technicians/import", content=(
        "name,skill,active,shift_start,shift_end,break_minutes,weekdays\n马超,repair,yes,08:00,17:00,60,1-5\n"
        "马云,repair,yes,8:00,7:00,60,1-5\n").encode())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["added"], body["failed"]) == (1, 1)
    assert body["errors"][0]["line"] == 3 and body["errors"][0]["column"] == "shift_end"
    assert "ends after it starts" in body["errors"][0]["message"]
    staff = api.post(f"{API}/staff/import", content="name,code,roles\n周敏,E,advisor\n".encode())
    assert staff.status_code == 200 and staff.json()["one_time_pins"][0]["name"] == "周敏"
    assert api.post(f"{API}/bays/import", content=b"code,colour\nP1,red\n").status_code == 422
    assert api.post(f"{API}/holidays/import", content=b"").status_code == 422


def test_api_technicians_leave_holidays_bays(app: FastAPI, services: Services) -> None:
    api = TestClient(app, headers={"Authorization": "Bearer integrator"})
    made = api.post(f"{API}/technicians", json={"name": "马超", "skill": "repair", "shift": {
        "start": "08:00", "end": "17:00", "break_minutes": 60, "weekdays": "1-5"}})
    assert made.status_code == 201, made.text
    tech = made.json()
    assert tech["shift"]["weekdays"] == "1-5"
    patched = api.patch(f"{API}/technicians/{tech['id']}", json={"skill": "maintenance", "default_shift": True})
    assert patched.status_code == 200 and patched.json()["shift"] is None
    assert api.patch(f"{API}/technicians/{tech['id']}", json={"skill": "chef"}).status_code == 422
    assert api.post(f"{API}/technicians/{tech['id']}/badge").status_code == 200
    png = api.get(f"{API}/technicians/{tech['id']}/badge.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
    day = (services.ctx.today() + timedelta(days=2)).isoformat()
    leave = api.post(f"{API}/technicians/{tech['id']}/leave", json={"day": day, "hours": 3, "reason": "体检"})
    assert leave.status_code == 201 and leave.json()["hours"] == "3.00"
    assert [x["day"] for x in api.get(f"{API}/technicians/{tech['id']}/leave").json()] == [day]
    assert api.delete(f"{API}/leave/{leave.json()['id']}").json() == leave.json()
    assert api.post(f"{API}/technicians/999999/leave", json={"day": day}).status_code == 404
    holiday = api.post(f"{API}/holidays", json={"day": day, "name": "停电"})
    assert holiday.status_code == 201
    assert api.post(f"{API}/holidays", json={"day": day}).status_code == 409
    assert api.delete(f"{API}/holidays/{holiday.json()['id']}").json() == holiday.json()
    bay = api.post(f"{API}/bays", json={"code": "P1", "kind": "paint"})
    assert bay.status_code == 201
    out = api.patch(f"{API}/bays/{bay.json()['id']}", json={"active": False})
    assert out.status_code == 200 and out.json()["active"] is False
    assert "paint" in api.get(f"{API}/bays/kinds").json()
    assert api.patch(f"{API}/bays/999999", json={"active": False}).status_code == 404


def test_openapi_documents_the_people_routes(app: FastAPI) -> None:
    doc = TestClient(app).get("/api/openapi.json").json()
    paths = doc["paths"]
    for path, methods in {"/api/v1/setup/staff": {"get", "post"}, "/api/v1/setup/staff/{staff_id}": {"get", "patch"},
                          "/api/v1/setup/technicians": {"get", "post"},
                          "/api/v1/setup/technicians/{technician_id}/leave": {"get", "post"},
                          "/api/v1/setup/holidays": {"get", "post"}, "/api/v1/setup/bays": {"get", "post"},
                          "/api/v1/setup/bays/{bay_id}": {"patch"}, "/api/v1/setup/staff/export.csv": {"get"},
                          "/api/v1/setup/technicians/import": {"post"}}.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            assert paths[path][method].get("x-permission") == "setup", (path, method)
    imported = paths["/api/v1/setup/technicians/import"]["post"]
    assert "text/csv" in imported["requestBody"]["content"]
    assert {"404", "409", "422"} <= set(paths["/api/v1/setup/staff/{staff_id}"]["patch"]["responses"])
