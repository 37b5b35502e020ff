"""Who may call what through the JSON API: named tokens with staff roles (credentials.toml), the permission each
route names (shopfloor/contract/staff.py), the token's name as the actor of every change, read back through
GET /api/v1/audit; and every 2xx answer in /api/openapi.json has a schema."""

import re
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shopfloor import credentials as creds_mod
from shopfloor.api import audit as audit_route
from shopfloor.api.access import GuardedRoute, allowed
from shopfloor.api.fields import PREFIX
from shopfloor.contract.staff import PERMISSIONS, Permission, StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.models import Appointment, Vehicle
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import Services

TOKEN = "integrator-token"
CALL_CENTRE = ApiToken("callcentre", "call-centre-token", frozenset({StaffRole.CUSTOMER_SERVICE}))
P = Permission
# What the contract gives each route; a new route fails test_every_route_names_its_permission until listed here.
EXPECTED: dict[tuple[str, str], Permission] = {
    ("GET", "/appointments"): P.APPOINTMENT_READ,
    ("POST", "/appointments"): P.APPOINTMENT_BOOK,
    ("GET", "/appointments/{appointment_id}"): P.APPOINTMENT_READ,
    ("POST", "/appointments/{appointment_id}/move"): P.APPOINTMENT_BOOK,
    ("POST", "/appointments/{appointment_id}/cancel"): P.APPOINTMENT_BOOK,
    ("POST", "/appointments/{appointment_id}/call"): P.CALLS,
    ("GET", "/appointments.ics"): P.DATA_EXCHANGE,
    ("GET", "/slots"): P.APPOINTMENT_READ,
    ("GET", "/capacity"): P.APPOINTMENT_READ,
    ("GET", "/capacity/week"): P.APPOINTMENT_READ,
    ("GET", "/customers"): P.CUSTOMER_READ,
    ("GET", "/vehicles/{vehicle_id}"): P.CUSTOMER_READ,
    ("POST", "/imports"): P.DATA_EXCHANGE,
    ("POST", "/checkins"): P.RECEPTION,
    ("GET", "/repair-orders"): P.REPAIR_ORDER_READ,
    ("GET", "/repair-orders/{number}"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/transitions"): P.REPAIR_ORDER_MOVE,
    ("POST", "/repair-orders/{number}/tickets"): P.TICKET_PRINT,
    ("GET", "/print-jobs"): P.TICKET_PRINT,
    ("POST", "/print-jobs/{job_id}/decision"): P.TICKET_PRINT,
    ("POST", "/print-jobs/{job_id}/redirect"): P.TICKET_PRINT,
    ("GET", "/technicians"): P.CATALOGUE_READ,
    ("GET", "/operations"): P.CATALOGUE_READ,
    ("GET", "/audit"): P.AUDIT_READ,
    ("POST", "/repair-orders/{number}/dispatch"): P.DISPATCH,
    ("GET", "/repair-orders/{number}/proposals"): P.DISPATCH,
    ("POST", "/clockings"): P.CLOCK,
    ("POST", "/clockings/{clocking_id}/stop"): P.CLOCK,
    ("POST", "/clockings/{clocking_id}/confirm"): P.DISPATCH,
    ("GET", "/clockings/{clocking_id}"): P.REPAIR_ORDER_READ,
    ("GET", "/technicians/{technician_id}/next-job"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/additional-work"): P.ADDITIONAL_WORK_REPORT,
    ("GET", "/repair-orders/{number}/additional-work"): P.REPAIR_ORDER_READ,
    ("GET", "/additional-work"): P.REPAIR_ORDER_READ,
    ("POST", "/additional-work/{finding_id}/decision"): P.ADDITIONAL_WORK_DECIDE,
    ("POST", "/repair-orders/{number}/qc"): P.QC,
    ("GET", "/rework"): P.QUALITY_READ,
    ("POST", "/repair-orders/{number}/promise"): P.PROMISE,
    ("GET", "/carry-over"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/carry-over"): P.REPAIR_ORDER_MOVE,
    ("GET", "/parts"): P.REPAIR_ORDER_READ,
    ("GET", "/parts/{part_number}"): P.REPAIR_ORDER_READ,
    ("PUT", "/parts/{part_number}"): P.PARTS_ISSUE,
    ("POST", "/parts/import"): P.PARTS_ISSUE,
    ("GET", "/pick-lists"): P.REPAIR_ORDER_READ,
    ("GET", "/repair-orders/{number}/parts"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/parts"): P.PARTS_ISSUE,
    ("POST", "/repair-orders/{number}/parts/scan"): P.PARTS_ISSUE,
    ("POST", "/parts-lines/{line_id}/issue"): P.PARTS_ISSUE,
    ("POST", "/parts-lines/{line_id}/back-order"): P.PARTS_ISSUE,
    ("POST", "/parts-lines/{line_id}/arrived"): P.PARTS_ISSUE,
    ("POST", "/parts-lines/{line_id}/return"): P.PARTS_ISSUE,
    ("GET", "/back-orders"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/walkaround"): P.RECEPTION,
    ("GET", "/repair-orders/{number}/walkaround"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/walkaround/proposals"): P.RECEPTION,
    ("POST", "/repair-orders/{number}/photos"): P.RECEPTION,
    ("GET", "/repair-orders/{number}/photos"): P.REPAIR_ORDER_READ,
    ("GET", "/repair-orders/{number}/photos/{photo_id}"): P.REPAIR_ORDER_READ,
    ("GET", "/repair-orders/{number}/estimate"): P.REPAIR_ORDER_READ,
    ("PATCH", "/repair-orders/{number}/estimate"): P.RECEPTION,
    ("DELETE", "/repair-orders/{number}/estimate/lines/{job_line}"): P.RECEPTION,
    ("POST", "/repair-orders/{number}/estimate/parts"): P.RECEPTION,
    ("POST", "/repair-orders/{number}/estimate/signature"): P.RECEPTION,
    ("GET", "/repair-orders/{number}/estimate/versions"): P.REPAIR_ORDER_READ,
    ("GET", "/repair-orders/{number}/estimate/versions/{version}/signature.png"): P.REPAIR_ORDER_READ,
    ("GET", "/repair-orders/{number}/handover"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/handover/signature"): P.RECEPTION,
    ("GET", "/repair-orders/{number}/documents/repair-order.pdf"): P.REPAIR_ORDER_READ,
    ("POST", "/repair-orders/{number}/estimate/print"): P.TICKET_PRINT,
    ("GET", "/repair-orders/{number}/settlement"): P.SETTLEMENT_READ,
    ("POST", "/repair-orders/{number}/payments"): P.PAYMENT,
    ("POST", "/repair-orders/{number}/refunds"): P.REFUND,
    ("GET", "/settlements/open"): P.SETTLEMENT_READ,
    ("GET", "/repair-orders/{number}/documents/settlement-list.pdf"): P.SETTLEMENT_READ,
    ("POST", "/repair-orders/{number}/settlement-list"): P.SETTLEMENT_READ,
    ("GET", "/settlements/export"): P.SETTLEMENT_EXPORT,
    ("GET", "/repair-orders/{number}/completion"): P.DELIVERY,
    ("POST", "/repair-orders/{number}/completion"): P.DELIVERY,
    ("POST", "/repair-orders/{number}/notify-ready"): P.DELIVERY,
    ("POST", "/repair-orders/{number}/delivery"): P.DELIVERY,
    ("POST", "/repair-orders/{number}/reopen"): P.DELIVERY_REOPEN,
    ("GET", "/repair-orders/{number}/next-service"): P.DELIVERY,
    ("POST", "/repair-orders/{number}/delivery-sheet"): P.DELIVERY,
    ("GET", "/repair-orders/{number}/messages"): P.MESSAGES_READ,
    ("POST", "/messages/{message_id}/resend"): P.MESSAGES_SEND,
    ("POST", "/messages/{message_id}/sent"): P.MESSAGES_SEND,
    ("POST", "/messages/{message_id}/cancel"): P.MESSAGES_SEND,
    ("GET", "/follow-ups"): P.FOLLOW_UP,
    ("GET", "/follow-ups/{follow_up_id}"): P.FOLLOW_UP,
    ("POST", "/follow-ups/{follow_up_id}"): P.FOLLOW_UP,
    ("POST", "/follow-ups/{follow_up_id}/appointment"): P.FOLLOW_UP,
    ("POST", "/complaints"): P.COMPLAINT_REGISTER,
    ("GET", "/complaints"): P.COMPLAINT_REGISTER,
    ("GET", "/complaints/{complaint_id}"): P.COMPLAINT_REGISTER,
    ("POST", "/complaints/{complaint_id}/owner"): P.COMPLAINT_HANDLE,
    ("POST", "/complaints/{complaint_id}/acknowledge"): P.COMPLAINT_HANDLE,
    ("POST", "/complaints/{complaint_id}/investigate"): P.COMPLAINT_HANDLE,
    ("POST", "/complaints/{complaint_id}/resolve"): P.COMPLAINT_HANDLE,
    ("GET", "/kpis"): P.FIGURES,
    ("GET", "/kpis.csv"): P.FIGURES,
    ("GET", "/personal-data/inactive"): P.PERSONAL_DATA,
    ("GET", "/customers/{customer_id}/personal-data"): P.PERSONAL_DATA,
    ("POST", "/customers/{customer_id}/erase"): P.PERSONAL_DATA,
    # /setup's people and bays (shopfloor/api/setup_people.py)
    ("GET", "/setup/staff"): P.SETUP,
    ("POST", "/setup/staff"): P.SETUP,
    ("GET", "/setup/staff/export.csv"): P.SETUP,
    ("POST", "/setup/staff/import"): P.SETUP,
    ("GET", "/setup/staff/{staff_id}"): P.SETUP,
    ("PATCH", "/setup/staff/{staff_id}"): P.SETUP,
    ("POST", "/setup/staff/{staff_id}/pin"): P.SETUP,
    ("POST", "/setup/staff/{staff_id}/pin-reset"): P.SETUP,
    ("GET", "/setup/technicians"): P.SETUP,
    ("POST", "/setup/technicians"): P.SETUP,
    ("GET", "/setup/technicians/export.csv"): P.SETUP,
    ("POST", "/setup/technicians/import"): P.SETUP,
    ("GET", "/setup/technicians/{technician_id}"): P.SETUP,
    ("PATCH", "/setup/technicians/{technician_id}"): P.SETUP,
    ("POST", "/setup/technicians/{technician_id}/badge"): P.SETUP,
    ("GET", "/setup/technicians/{technician_id}/badge.png"): P.SETUP,
    ("GET", "/setup/technicians/{technician_id}/leave"): P.SETUP,
    ("POST", "/setup/technicians/{technician_id}/leave"): P.SETUP,
    ("DELETE", "/setup/leave/{leave_id}"): P.SETUP,
    ("GET", "/setup/leave/export.csv"): P.SETUP,
    ("POST", "/setup/leave/import"): P.SETUP,
    ("GET", "/setup/holidays"): P.SETUP,
    ("POST", "/setup/holidays"): P.SETUP,
    ("DELETE", "/setup/holidays/{holiday_id}"): P.SETUP,
    ("GET", "/setup/holidays/export.csv"): P.SETUP,
    ("POST", "/setup/holidays/import"): P.SETUP,
    ("GET", "/setup/bays"): P.SETUP,
    ("GET", "/setup/bays/kinds"): P.SETUP,
    ("POST", "/setup/bays"): P.SETUP,
    ("GET", "/setup/bays/export.csv"): P.SETUP,
    ("POST", "/setup/bays/import"): P.SETUP,
    ("PATCH", "/setup/bays/{bay_id}"): P.SETUP,
    # /setup's API clients and wall screens (shopfloor/api/setup_tokens.py)
    ("GET", "/setup/api-clients"): P.SETUP,
    ("POST", "/setup/api-clients"): P.SETUP,
    ("POST", "/setup/api-clients/{client_id}/revoke"): P.SETUP,
    ("GET", "/setup/screens"): P.SETUP,
    ("POST", "/setup/screens"): P.SETUP,
    ("POST", "/setup/screens/{screen_id}/revoke"): P.SETUP,
    # /setup's catalogues and the site's configuration (shopfloor/api/setup_catalogue.py)
    ("GET", "/setup/hours"): P.SETUP,
    ("PUT", "/setup/hours"): P.SETUP,
    ("GET", "/setup/labour-rates"): P.SETUP,
    ("PUT", "/setup/labour-rates"): P.SETUP,
    ("GET", "/setup/operations"): P.SETUP,
    ("PUT", "/setup/operations/{code}"): P.SETUP,
    ("DELETE", "/setup/operations/{code}"): P.SETUP,
    ("GET", "/setup/operations.csv"): P.SETUP,
    ("POST", "/setup/operations.csv"): P.SETUP,
    ("GET", "/setup/parts"): P.SETUP,
    ("PUT", "/setup/parts/{number}"): P.SETUP,
    ("DELETE", "/setup/parts/{number}"): P.SETUP,
    ("GET", "/setup/parts.csv"): P.SETUP,
    ("POST", "/setup/parts.csv"): P.SETUP,
    ("GET", "/setup/printers"): P.SETUP,
    ("PUT", "/setup/printers/{name}"): P.SETUP,
    ("DELETE", "/setup/printers/{name}"): P.SETUP,
    ("POST", "/setup/printers/{name}/test-print"): P.SETUP,
    ("GET", "/setup/print-jobs/{job_id}"): P.SETUP,
    ("GET", "/setup/printers.csv"): P.SETUP,
    ("POST", "/setup/printers.csv"): P.SETUP,
    ("GET", "/setup/message-templates"): P.SETUP,
    ("PUT", "/setup/message-templates/{language}/{template}/{channel}"): P.SETUP,
    ("DELETE", "/setup/message-templates/{language}/{template}/{channel}"): P.SETUP,
    ("POST", "/setup/message-templates/{language}/{template}/{channel}/preview"): P.SETUP,
    ("GET", "/setup/message-templates.csv"): P.SETUP,
    ("POST", "/setup/message-templates.csv"): P.SETUP,
}


def only(role: StaffRole) -> ApiToken:
    return ApiToken(f"only-{role.value}", f"token-{role.value}", frozenset({role}))


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, TOKEN, CALL_CENTRE, *(only(r) for r in StaffRole))


def as_caller(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def guarded_routes(app: FastAPI) -> list[tuple[str, str, Permission]]:
    """(method, path, permission) of every API route, read from the routes themselves."""
    out = []
    for context in iter_route_contexts(app.routes):  # the routes as included, with the prefix
        route = context.original_route
        if isinstance(route, APIRoute) and (context.path or "").startswith(PREFIX):
            assert isinstance(route, GuardedRoute), f"{context.path}: not a GuardedRoute, so it names no permission"
            out += [(method, context.path, route.permission) for method in sorted(route.methods)]
    return out


def test_every_route_names_its_permission(app: FastAPI) -> None:
    table = {(method, path.removeprefix(PREFIX)): permission for method, path, permission in guarded_routes(app)}
    assert table == EXPECTED


def test_a_route_without_a_permission_cannot_be_defined() -> None:
    router = APIRouter(route_class=GuardedRoute)
    with pytest.raises(TypeError, match="Allowed"):
        @router.get("/open")
        def open_route() -> int:
            return 1
    with pytest.raises(TypeError, match="exactly one"):
        @router.get("/two", dependencies=[allowed(P.AUDIT_READ), allowed(P.FIGURES)])
        def two_permissions() -> int:
            return 1


@pytest.mark.parametrize("role", list(StaffRole), ids=[r.value for r in StaffRole])
def test_a_token_is_refused_exactly_where_its_role_lacks_the_permission(app: FastAPI, role: StaffRole) -> None:
    """Each route once per role, with a body no route accepts (a JSON list): a refused caller gets 403 before
    anything is read or changed, an allowed one gets past the guard (its answer is anything but 401/403)."""
    client = as_caller(app, only(role).token)
    wrong = []
    for method, path, permission in guarded_routes(app):
        response = client.request(method, re.sub(r"\{[^}]+}", "1", path), json=[] if method == "POST" else None)
        may = role in PERMISSIONS[permission]
        if may and response.status_code in (401, 403):
            wrong.append(f"{method} {path}: {role} holds {permission} but got {response.status_code}")
        elif not may:
            detail = response.json().get("detail", "") if response.status_code == 403 else ""
            if response.status_code != 403 or not all(r.value in detail for r in PERMISSIONS[permission]):
                wrong.append(f"{method} {path}: {role} lacks {permission} but got {response.status_code} {detail}")
    assert not wrong, "\n".join(wrong)


def test_no_token_is_401_before_any_permission(app: FastAPI) -> None:
    assert TestClient(app).get(f"{PREFIX}/audit", params={"entity": "appointment"}).status_code == 401
    assert as_caller(app, "nobody").get(f"{PREFIX}/audit", params={"entity": "appointment"}).status_code == 401


# -- the actor is the token's name -----------------------------------------------------------------------------

def _free_slot(client: TestClient, services: Services) -> dict[str, Any]:
    day = services.ctx.today() + timedelta(days=20)
    slots = client.get(f"{PREFIX}/slots", params={"day": day.isoformat(), "hours": 1, "limit": 1})
    assert slots.status_code == 200, slots.text
    return slots.json()[0]


def _plate(services: Services, n: int = 0) -> str:
    with services.db.read() as s:
        return list(s.scalars(select(Vehicle.plate).order_by(Vehicle.id)))[n]


def _appointments(services: Services) -> int:
    with services.db.read() as s:
        return s.scalar(select(func.count()).select_from(Appointment)) or 0


def test_a_booking_is_audited_with_the_token_name_not_the_body_actor(app: FastAPI, services: Services) -> None:
    call_centre = as_caller(app, CALL_CENTRE.token)
    slot = _free_slot(call_centre, services)
    booked = call_centre.post(f"{PREFIX}/appointments", json={
        "plate": _plate(services), "start": slot["start"], "hours": 1, "actor": "someone else"})
    assert booked.status_code == 201, booked.text
    appointment = booked.json()["id"]
    assert call_centre.post(f"{PREFIX}/appointments/{appointment}/cancel",
                            json={"reason": "customer called", "actor": "someone else"}).status_code == 200

    manager = as_caller(app, only(StaffRole.MANAGER).token)
    rows = manager.get(f"{PREFIX}/audit", params={"entity": f"appointment:{appointment}"})
    assert rows.status_code == 200, rows.text
    trail = rows.json()
    # oldest first; booking queues the confirmation and the reminder, cancelling withdraws them, all by the token
    assert [(r["action"], (r["detail"] or {}).get("template")) for r in trail] == [
        ("booked", None), ("message_queued", "appointment_confirmed"), ("message_queued", "appointment_reminder"),
        ("cancelled", None), ("message_withdrawn", "appointment_confirmed"),
        ("message_withdrawn", "appointment_reminder")]
    assert {(r["actor"], r["actor_kind"], r["actor_id"]) for r in trail} == {("callcentre", "api", None)}
    assert all(r["entity"] == "appointment" and r["entity_id"] == str(appointment) for r in trail)
    assert set(trail[0]) == {"id", "at", "actor", "actor_kind", "actor_id", "entity", "entity_id", "action",
                             "from", "to", "reason", "detail"}
    assert trail[3]["reason"] == "customer called"
    # the same question as two parameters, and within the day's bounds
    today = services.ctx.today().isoformat()
    assert manager.get(f"{PREFIX}/audit", params={"entity": "appointment", "id": str(appointment), "from": today,
                                                  "to": today}).json() == trail
    tomorrow = (services.ctx.today() + timedelta(days=1)).isoformat()
    assert manager.get(f"{PREFIX}/audit", params={"entity": f"appointment:{appointment}", "from": tomorrow}
                       ).json() == []
    # only the manager reads the trail
    assert call_centre.get(f"{PREFIX}/audit", params={"entity": "appointment"}).status_code == 403


def test_a_check_in_and_its_moves_are_audited_with_the_token_name(app: FastAPI, services: Services) -> None:
    advisor = as_caller(app, only(StaffRole.ADVISOR).token)
    appointments = advisor.get(f"{PREFIX}/appointments").json()
    waiting = next(a for a in appointments if a["status"] in ("booked", "confirmed"))
    checked_in = advisor.post(f"{PREFIX}/checkins", json={"tag": waiting["tag"], "operations": ["M10"]})
    assert checked_in.status_code == 201, checked_in.text
    number = checked_in.json()["repair_order"]["number"]
    foreman = as_caller(app, only(StaffRole.FOREMAN).token)
    moved = foreman.post(f"{PREFIX}/repair-orders/{number}/transitions", json={"to": "dispatched",
                                                                               "technician": "周杰"})
    assert moved.status_code == 200, moved.text

    trail = as_caller(app, TOKEN).get(f"{PREFIX}/audit", params={"entity": "repair_order", "id": number}).json()
    by_action = {r["action"]: r for r in trail}
    assert by_action["checked_in"]["actor"] == "only-advisor"
    assert by_action["transition"]["actor"] == "only-foreman"
    assert (by_action["transition"]["from"], by_action["transition"]["to"]) == ("checked_in", "dispatched")
    assert {r["actor_kind"] for r in trail} == {"api"}


@pytest.mark.parametrize("params", [
    {"entity": "vehicle"},
    {"entity": "customer:abc"},
    {"entity": "bay:0"},
    {"entity": "staff:abc"},
    {"entity": "appointment:abc"},
    {"entity": "appointment:"},
    {"entity": "appointment:5", "id": "6"},
    {"entity": "appointment", "from": "2026-11-24", "to": "2026-11-23"},
    {"entity": "appointment", "from": "24.11.2026"},
    {},
])
def test_unclear_audit_questions_are_422(app: FastAPI, params: dict[str, str]) -> None:
    response = as_caller(app, TOKEN).get(f"{PREFIX}/audit", params=params)
    assert response.status_code == 422 and response.json()["detail"]


def test_wrong_pins_are_read_from_the_audit_as_the_staff_members_rows(app: FastAPI, services: Services) -> None:
    from shopfloor.domain.errors import LoginRefused

    person = services.auth.advisors()[0]
    with pytest.raises(LoginRefused):
        services.auth.login(person.id, "0000", source="10.9.9.9")  # no demo PIN is 0000
    trail = as_caller(app, TOKEN).get(f"{PREFIX}/audit", params={"entity": f"staff:{person.id}"}).json()
    assert [(r["entity"], r["entity_id"], r["action"], r["detail"]) for r in trail] == [
        ("staff", str(person.id), "sign_in_failed", {"source": "10.9.9.9"})]


def test_an_audit_answer_too_long_is_refused_not_cut(app: FastAPI, services: Services,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    advisor = as_caller(app, only(StaffRole.ADVISOR).token)
    slot = _free_slot(advisor, services)
    booked = advisor.post(f"{PREFIX}/appointments", json={"plate": _plate(services), "start": slot["start"],
                                                          "hours": 1}).json()
    advisor.post(f"{PREFIX}/appointments/{booked['id']}/cancel", json={"reason": "test"})
    monkeypatch.setattr(audit_route, "MAX_ROWS", 1)
    response = as_caller(app, TOKEN).get(f"{PREFIX}/audit", params={"entity": f"appointment:{booked['id']}"})
    assert response.status_code == 422 and "1 rows" in response.json()["detail"]


def test_a_customers_export_and_a_holiday_are_read_from_the_audit(app: FastAPI, services: Services) -> None:
    from datetime import date

    from shopfloor.services.audit import Actor
    from shopfloor.services.setup.calendar import CalendarAdmin
    from shopfloor.services.setup.personal_data import PersonalDataService

    manager = Actor("赵经理", staff_id=5)
    with services.ctx.db.read() as s:
        customer_id = s.scalar(select(func.min(Vehicle.customer_id)))
    PersonalDataService(services.ctx).export([customer_id], actor=manager)
    CalendarAdmin(services.ctx).add_holiday(date(2027, 10, 1), "国庆节", manager)
    api = as_caller(app, TOKEN)
    trail = api.get(f"{PREFIX}/audit", params={"entity": f"customer:{customer_id}"}).json()
    assert [(r["entity"], r["entity_id"], r["action"], r["actor"]) for r in trail] == [
        ("customer", str(customer_id), "personal_data_exported", "赵经理")]
    trail = api.get(f"{PREFIX}/audit", params={"entity": "holiday", "id": "2027-10-01"}).json()
    assert [(r["entity"], r["action"], r["to"]) for r in trail] == [("holiday", "holiday_added", "国庆节")]


# -- overrides need their own permission ------------------------------------------------------------------------

def test_an_override_needs_booking_override_as_well(app: FastAPI, services: Services) -> None:
    call_centre = as_caller(app, CALL_CENTRE.token)  # may book, may not override
    slot = _free_slot(call_centre, services)
    ask = {"plate": _plate(services), "start": slot["start"], "hours": 1, "override": {"reason": "VIP"}}
    before = _appointments(services)
    refused = call_centre.post(f"{PREFIX}/appointments", json=ask)
    assert refused.status_code == 403
    assert "booking.override" in refused.json()["detail"] and "manager" in refused.json()["detail"]
    assert _appointments(services) == before
    booked = as_caller(app, only(StaffRole.ADVISOR).token).post(f"{PREFIX}/appointments", json=ask)
    assert booked.status_code == 201, booked.text
    move = {"start": slot["start"], "override": {"reason": "VIP"}}
    assert call_centre.post(f"{PREFIX}/appointments/{booked.json()['id']}/move", json=move).status_code == 403


# -- the OpenAPI document ---------------------------------------------------------------------------------------

def test_openapi_documents_every_answer_and_the_permission(app: FastAPI) -> None:
    schema = TestClient(app).get("/api/openapi.json").json()
    undocumented = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert {"401", "403"} <= set(operation["responses"]), where
            assert operation["x-permission"] in {p.value for p in Permission}, where
            assert operation["x-roles"], where
            for status, answer in operation["responses"].items():
                media = (answer.get("content") or {}).values()
                if status.startswith("2") and (not media or not all(m.get("schema") for m in media)):
                    undocumented.append(f"{where} {status}")
    assert not undocumented, f"2xx answers without a schema: {undocumented}"
    booking = schema["components"]["schemas"]["AppointmentBody"]["properties"]["actor"]
    assert "ignored" in booking["description"]
    assert schema["paths"][f"{PREFIX}/audit"]["get"]["x-roles"] == ["manager"]


# -- credentials.toml -----------------------------------------------------------------------------------------

def test_named_tokens_are_read_and_kept_when_the_file_is_rewritten(tmp_path: Path) -> None:
    first = creds_mod.load_or_create(tmp_path, ["张伟"], "127.0.0.1", 1884)
    assert [(t.name, t.roles) for t in first.api_tokens()] == [("api", frozenset(StaffRole))]
    path = tmp_path / "credentials.toml"
    path.write_text(path.read_text() + '\n[api_tokens.callcentre]\ntoken = "cc-secret-1"\nroles = ["cs"]\n'
                    '\n[api_tokens."DMS 导入"]\ntoken = "dms-secret-2"\nroles = ["manager", "cs"]\n')
    again = creds_mod.load_or_create(tmp_path, ["张伟", "李娜"], "127.0.0.1", 1884)  # a new PIN: rewritten
    assert "李娜" in creds_mod.loads(path.read_text()).advisors
    assert [(t.name, t.token, t.roles) for t in again.api_tokens()] == [
        ("api", first.api_token, frozenset(StaffRole)),
        ("callcentre", "cc-secret-1", frozenset({StaffRole.CUSTOMER_SERVICE})),
        ("DMS 导入", "dms-secret-2", frozenset({StaffRole.CUSTOMER_SERVICE, StaffRole.MANAGER}))]
    assert creds_mod.loads(path.read_text()).named_api_tokens == again.named_api_tokens
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "cc-secret-1" not in repr(again.named_api_tokens)


@pytest.mark.parametrize(("table", "problem"), [
    ('[api_tokens.api]\ntoken = "x-1"\nroles = ["cs"]', "name of the \\[api\\] token"),
    ('[api_tokens.a]\ntoken = "same"\nroles = ["cs"]\n[api_tokens.b]\ntoken = "same"\nroles = []', "already"),
    ('[api_tokens.a]\ntoken = "x-1"\nroles = ["boss"]', "unknown staff role 'boss'"),
    ('[api_tokens.a]\ntoken = "x-1"\nrole = ["cs"]', "unknown key 'role'"),
    ('[api_tokens.a]\ntoken = "x-1"\nroles = "cs"', "list of role names"),
    ('[api_tokens.a]\ntoken = ""\nroles = ["cs"]', "non-empty"),
    ('[api_tokens.a]\nroles = ["cs"]', "non-empty"),
])
def test_bad_named_tokens_are_refused(table: str, problem: str) -> None:
    text = creds_mod.dumps(creds_mod.generate([])) + "\n" + table + "\n"
    with pytest.raises(ValueError, match=f"cannot read credentials: .*{problem}"):
        creds_mod.loads(text)
