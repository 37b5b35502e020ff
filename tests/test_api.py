"""The JSON API on the demo services (mounted on a bare FastAPI app; the same router the server mounts)."""

import pytest
from fastapi.testclient import TestClient

from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import Services

TOKEN = "test-token"


@pytest.fixture
def client(db_services: Services) -> TestClient:
    """The API on the demo site, on SQLite and on PostgreSQL."""
    return TestClient(api_app(db_services.ctx, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def _waiting(client: TestClient) -> dict:
    appts = client.get("/api/v1/appointments", params={"day": "2026-11-23"}).json()
    return next(a for a in appts if a["status"] in ("booked", "confirmed"))


def test_token_is_required(client: TestClient) -> None:
    assert client.get("/api/v1/appointments", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/v1/appointments", headers={"Authorization": ""}).status_code == 401


def test_appointments_of_a_day(client: TestClient) -> None:
    appts = client.get("/api/v1/appointments", params={"day": "2026-11-23"}).json()
    assert len(appts) >= 20
    first = appts[0]
    assert {"id", "plate", "tag", "start", "status"} <= set(first)
    assert first["start"].endswith("+08:00")
    assert client.get("/api/v1/appointments", params={"day": "2027-11-24"}).json() == []
    bad = client.get("/api/v1/appointments", params={"day": "23.11.2026"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["detail"]


def test_checkin_then_moves(client: TestClient) -> None:
    appt = _waiting(client)
    first = client.post("/api/v1/checkins", json={"tag": appt["tag"], "operations": ["M10"]})
    assert first.status_code == 201
    number = first.json()["repair_order"]["number"]
    again = client.post("/api/v1/checkins", json={"tag": appt["tag"]})
    assert again.status_code == 200 and again.json()["repair_order"]["number"] == number
    refused = client.post(f"/api/v1/repair-orders/{number}/transitions", json={"to": "ready"})
    assert refused.status_code == 409 and "checked_in" in refused.json()["detail"]
    ok = client.post(f"/api/v1/repair-orders/{number}/transitions", json={"to": "dispatched", "technician": "周杰"})
    assert ok.status_code == 200 and ok.json()["repair_order"]["technician"]["name"] == "周杰"
    detail = client.get(f"/api/v1/repair-orders/{number}").json()
    assert [h["to"] for h in detail["history"]] == ["checked_in", "dispatched"]
    ticket = client.post(f"/api/v1/repair-orders/{number}/tickets", json={"printer": "workshop"})
    assert ticket.status_code == 201 and ticket.json()["reprint"] is False  # the first ticket of this order


@pytest.mark.parametrize(("body", "status"), [
    ({"tag": "SFT-" + "A" * 24}, 404),
    ({"tag": "not a tag"}, 422),
    ({}, 422),
    ({"tag": 5, "extra": 1}, 422),
])
def test_bad_checkins(client: TestClient, body: dict, status: int) -> None:
    response = client.post("/api/v1/checkins", json=body)
    assert response.status_code == status
    assert response.json()["detail"]


@pytest.mark.parametrize("typed", ["\x1b[2J", "a\x08b", "\u202e王先生", "a\rb", "\x7f", "\x85"])
def test_control_characters_in_text_are_refused(client: TestClient, typed: str) -> None:
    # a terminal escape, a backspace, a direction override, a lone carriage return: stored as sent, they reached
    # printed tickets, the boards and CSV exports
    appt = _waiting(client)
    response = client.post("/api/v1/checkins", json={"tag": appt["tag"], "complaint": f"异响{typed}"})
    assert response.status_code == 422, response.text
    assert "control characters" in response.json()["detail"][0]["msg"]
    assert client.get("/api/v1/customers", params={"query": typed}).status_code == 422
    assert client.post(f"/api/v1/appointments/{appt['id']}/cancel", json={"reason": typed}).status_code == 422


def test_line_breaks_and_tabs_in_free_text_are_kept(client: TestClient) -> None:
    appt = _waiting(client)
    complaint = "刹车异响\r\n冷车时\t明显"
    response = client.post("/api/v1/checkins", json={"tag": appt["tag"], "complaint": complaint})
    assert response.status_code == 201, response.text
    assert response.json()["repair_order"]["complaint"] == "刹车异响\n冷车时\t明显"  # a Windows line break as \n


def test_unknown_and_malformed_transitions(client: TestClient) -> None:
    assert client.post("/api/v1/repair-orders/RO19990101-001/transitions", json={"to": "dispatched"}
                       ).status_code == 404
    assert client.post("/api/v1/repair-orders/X/transitions", content=b"{not json").status_code == 422


def test_every_refusal_is_documented_per_route(client: TestClient) -> None:
    # a route's own 422s (a day that has passed: a sentence) answered under FastAPI's HTTPValidationError, whose
    # detail is a list; a body FastAPI cannot read answered an undocumented 400 (tests/test_api_fuzz.py checks the
    # answers themselves)
    schema = client.get("/api/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            answers = op["responses"]
            assert {"401", "403"} <= set(answers), (method, path)
            if op.get("parameters") or op.get("requestBody"):
                refusal = answers["422"]["content"]["application/json"]["schema"]
                assert refusal == {"$ref": "#/components/schemas/Unprocessable"}, (method, path)
            body = op.get("requestBody")
            if body:
                assert "413" in answers, (method, path)
                if "application/json" in body["content"]:  # a CSV body is read as bytes: FastAPI never 400s it
                    assert "400" in answers, (method, path)
    detail = schema["components"]["schemas"]["Unprocessable"]["properties"]["detail"]
    assert [alt.get("type") for alt in detail["anyOf"]] == ["string", "array"]


def test_openapi_lists_versioned_paths(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/checkins" in schema["paths"]
    assert "/api/v1/repair-orders/{number}/transitions" in schema["paths"]
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
