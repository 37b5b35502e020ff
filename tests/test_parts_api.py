"""The parts counter's API on SQLite and PostgreSQL: the catalogue read, kept and imported (bad rows in the answer),
a part put on an order, scanned out, short on back-order holding its line, arrived, returned; the clerk's token name
on every audit row."""

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.models import AuditEntry, QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
CLERK = ApiToken("parts-desk", "parts-token", frozenset({StaffRole.PARTS}))
ADVISOR = ApiToken("advisor-desk", "advisor-token", frozenset({StaffRole.ADVISOR}))


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", CLERK, ADVISOR)


def caller(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


def new_order(app: FastAPI, services: Services, *operations: str) -> dict:
    with services.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    r = caller(app, ADVISOR).post(f"{API}/checkins", json={"tag": tag, "operations": list(operations)})
    assert r.status_code == 201, r.text
    return r.json()["repair_order"]


def test_the_catalogue_is_read_kept_and_imported(app: FastAPI) -> None:
    clerk, advisor = caller(app, CLERK), caller(app, ADVISOR)
    found = advisor.get(f"{API}/parts", params={"q": "滤清器"})
    assert found.status_code == 200 and {p["number"] for p in found.json()} >= {"04152-YZZA6", "17801-21050"}
    assert advisor.get(f"{API}/parts/04152-yzza6").json()["stock"] == 40
    assert advisor.put(f"{API}/parts/NEW-1", json={"name": "x", "price": 1, "stock": 1}).status_code == 403
    put = clerk.put(f"{API}/parts/NEW-0001", json={"name": "新零件", "price": 12.5, "stock": 3})
    assert put.status_code == 200 and put.json()["updated_by"] == "parts-desk"
    manager = TestClient(app, headers={"Authorization": "Bearer integrator"})
    trail = manager.get(f"{API}/audit", params={"entity": "part:NEW-0001"})
    assert [(r["entity"], r["action"], r["actor"]) for r in trail.json()] == [("part", "part_added", "parts-desk")]
    bad = clerk.post(f"{API}/parts/import", json={"csv": "number,name,price,stock\nA-100,a,x,1\nB-200,,1,1\n"})
    assert bad.status_code == 200
    assert [(e["row"], e["key"]) for e in bad.json()["errors"]] == [(2, "parts.error.price_invalid"),
                                                                      (3, "parts.error.name_invalid")]
    assert bad.json()["applied"] is False
    good = clerk.post(f"{API}/parts/import", json={"csv": "number,name,price,stock\nA-100,a,1,1\n"})
    assert (good.json()["applied"], good.json()["added"]) == (True, 1)
    assert clerk.post(f"{API}/parts/import", json={}).status_code == 422


def test_a_part_through_the_counter(app: FastAPI, services: Services) -> None:
    clerk, advisor = caller(app, CLERK), caller(app, ADVISOR)
    ro = new_order(app, services, "BRK")
    number, line = ro["number"], ro["job_lines"][0]["id"]
    added = clerk.post(f"{API}/repair-orders/{number}/parts", json={"job_line": line, "part": "04465-02220",
                                                                    "quantity": 1})
    assert added.status_code == 201, added.text
    rotor = clerk.post(f"{API}/repair-orders/{number}/parts", json={"job_line": line, "part": "42431-02250",
                                                                    "quantity": 3}).json()
    assert number in [x["number"] for x in advisor.get(f"{API}/pick-lists").json()]
    scanned = clerk.post(f"{API}/repair-orders/{number}/parts/scan", json={"code": "04465-02220"})
    assert scanned.status_code == 200 and scanned.json()["status"] == "issued"
    short = clerk.post(f"{API}/parts-lines/{rotor['id']}/issue", json={})
    assert short.status_code == 409 and "back-order" in short.json()["detail"]
    eta = (services.ctx.today() + timedelta(days=1)).isoformat()
    held = clerk.post(f"{API}/parts-lines/{rotor['id']}/back-order", json={"eta": eta})
    assert held.status_code == 200 and held.json()["eta"] == eta
    state = advisor.get(f"{API}/repair-orders/{number}").json()
    assert (state["status"], state["hold_reason"]) == ("on_hold", "waiting_parts")
    assert (state["job_lines"][0]["parts_status"], state["job_lines"][0]["parts_eta"]) == ("back_order", eta)
    assert [x["id"] for x in advisor.get(f"{API}/back-orders").json()].count(rotor["id"]) == 1
    arrived = clerk.post(f"{API}/parts-lines/{rotor['id']}/arrived", json={})
    assert arrived.status_code == 200 and arrived.json()["status"] == "to_pick"
    assert advisor.get(f"{API}/repair-orders/{number}").json()["status"] == "checked_in"
    assert clerk.post(f"{API}/parts-lines/{rotor['id']}/issue", json={"quantity": 3}).status_code == 200
    back = clerk.post(f"{API}/parts-lines/{rotor['id']}/return", json={"quantity": 1})
    assert back.status_code == 200 and back.json()["returned"] == 1
    pick = advisor.get(f"{API}/repair-orders/{number}/parts").json()
    assert [(x["number"], x["status"]) for x in pick["lines"]] == [("04465-02220", "issued"),
                                                                   ("42431-02250", "issued")]
    assert clerk.post(f"{API}/parts-lines/{rotor['id']}/return", json={"quantity": 9}).status_code == 422
    assert advisor.post(f"{API}/parts-lines/{rotor['id']}/return", json={"quantity": 1}).status_code == 403
    with services.db.read() as s:
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.entity_id == number,
                                                              AuditEntry.action.like("parts_%"))))
    assert actors == {"parts-desk"}
