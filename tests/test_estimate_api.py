"""The estimate's API contract (issue 11) on SQLite and PostgreSQL: GET …/estimate in the contract's shape, PATCH
with the discount limit by the token's roles, the signature (201, 409 for a stale version, 422 for a picture that
is no signature), the versions with their verification, the handover record, and the order's customer_link."""

import base64
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select, update

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.models import AuditEntry, JobLine, RepairOrder
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
ADVISOR = ApiToken("reception-tablet", "advisor-token", frozenset({StaffRole.ADVISOR}))
MANAGER = ApiToken("manager-desk", "manager-token", frozenset({StaffRole.MANAGER}))
PARTS = ApiToken("parts-desk", "parts-token", frozenset({StaffRole.PARTS}))
CONTRACT_LINE = {"kind", "description", "quantity", "unit_price", "amount", "payer"}
CONTRACT = {"version", "lines", "labour_total", "parts_total", "discount", "total", "currency", "signed"}


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", ADVISOR, MANAGER, PARTS)


def caller(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


def pad(ink: bool = True) -> str:
    image = Image.new("RGBA", (320, 120), (255, 255, 255, 0))
    if ink:
        ImageDraw.Draw(image).line([(10, 90), (90, 15), (170, 100), (300, 20)], fill=(20, 20, 20, 255), width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_the_estimate_in_the_contracts_shape_signed_then_changed(app: FastAPI, services: Services) -> None:
    advisor, parts = caller(app, ADVISOR), caller(app, PARTS)
    number = new_order(services, "OIL", "BRK")
    got = advisor.get(f"{API}/repair-orders/{number}/estimate")
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) >= CONTRACT and all(set(x) >= CONTRACT_LINE for x in body["lines"])
    assert (body["version"], body["currency"], body["signed"]) == (1, "CNY", False)
    assert [(x["kind"], x["payer"]) for x in body["lines"]] == [("labour", "customer"), ("labour", "customer")]
    assert all(isinstance(body[k], float | int) for k in ("labour_total", "parts_total", "discount", "total"))
    assert body["total"] == body["labour_total"] + body["parts_total"] - body["discount"]
    brake = body["lines"][1]["job_line"]
    assert advisor.get(f"{API}/repair-orders/{number}/estimate").json()["version"] == 1  # reading makes no version

    patched = advisor.patch(f"{API}/repair-orders/{number}/estimate", json={
        "payers": {str(brake): "insurance"}, "keep_replaced_parts": False, "followup_channel": "phone"})
    assert patched.status_code == 200, patched.text
    assert [x["payer"] for x in patched.json()["lines"]] == ["customer", "insurance"]
    assert patched.json()["customer_total"] == 160.0 and patched.json()["version"] == 2
    over = advisor.patch(f"{API}/repair-orders/{number}/estimate", json={"discount": 50, "discount_reason": "老客户"})
    assert over.status_code == 409 and "manager" in over.json()["detail"]
    ok = caller(app, MANAGER).patch(f"{API}/repair-orders/{number}/estimate",
                                    json={"discount": 50, "discount_reason": "老客户"})
    assert ok.status_code == 200 and ok.json()["customer_total"] == 110.0
    assert advisor.patch(f"{API}/repair-orders/{number}/estimate", json={"followup_channel": "fax"}).status_code == 422
    assert advisor.patch(f"{API}/repair-orders/{number}/estimate", json={"discount": 1.234}).status_code == 422
    assert parts.patch(f"{API}/repair-orders/{number}/estimate", json={}).status_code == 403

    current = advisor.get(f"{API}/repair-orders/{number}/estimate").json()["version"]
    sig = {"version": current, "signer": "王建国", "signature_png": pad()}
    assert parts.post(f"{API}/repair-orders/{number}/estimate/signature", json=sig).status_code == 403
    signed = advisor.post(f"{API}/repair-orders/{number}/estimate/signature", json=sig)
    assert signed.status_code == 201, signed.text
    assert set(signed.json()) == {"signed_at", "digest"} and len(signed.json()["digest"]) == 64
    after = advisor.get(f"{API}/repair-orders/{number}/estimate").json()
    assert (after["signed"], after["digest"], after["signer"]) == (True, signed.json()["digest"], "王建国")
    png = advisor.get(f"{API}/repair-orders/{number}/estimate/versions/{current}/signature.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == base64.b64decode(sig["signature_png"])

    # the workshop changes a signed line: a new version, the old signature 409 on it
    with services.db.write() as s:
        s.execute(update(JobLine).where(JobLine.id == brake).values(hours=2))
    changed = advisor.get(f"{API}/repair-orders/{number}/estimate").json()
    assert (changed["version"], changed["signed"], changed["last_signed_version"]) == (current + 1, False, current)
    assert changed["changes"]
    stale = advisor.post(f"{API}/repair-orders/{number}/estimate/signature", json=sig)
    assert stale.status_code == 409 and "no longer the current" in stale.json()["detail"]
    ahead = advisor.post(f"{API}/repair-orders/{number}/estimate/signature", json={**sig, "version": 99})
    assert ahead.status_code == 409
    assert advisor.get(f"{API}/repair-orders/RO19990101-001/estimate").status_code == 404
    history = advisor.get(f"{API}/repair-orders/{number}/estimate/versions").json()
    assert [(v["version"], v["signer"], v["verified"]) for v in history][-2:] == [
        (current, "王建国", True), (current + 1, None, True)]
    assert history[-2]["witnessed_by"] == "reception-tablet"
    unsigned = advisor.get(f"{API}/repair-orders/{number}/estimate/versions/{current + 1}/signature.png")
    assert unsigned.status_code == 404
    with services.db.read() as s:
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.entity_id == number,
                                                              AuditEntry.action == "estimate_signed")))
    assert actors == {"reception-tablet"}


@pytest.mark.parametrize("png, why", [
    (base64.b64encode(b"just text, renamed .png").decode(), "not a PNG"),
    ("%%% not base64 %%%", "not a PNG"),
    (pad(ink=False), "blank"),
])
def test_a_picture_that_is_no_signature_is_422(app: FastAPI, services: Services, png: str, why: str) -> None:
    advisor = caller(app, ADVISOR)
    number = new_order(services, "OIL")
    version = advisor.get(f"{API}/repair-orders/{number}/estimate").json()["version"]
    r = advisor.post(f"{API}/repair-orders/{number}/estimate/signature",
                     json={"version": version, "signer": "王建国", "signature_png": png})
    assert r.status_code == 422 and why in r.json()["detail"]
    assert advisor.get(f"{API}/repair-orders/{number}/estimate").json()["signed"] is False


def test_a_declined_line_and_the_handover_record(app: FastAPI, services: Services) -> None:
    advisor = caller(app, ADVISOR)
    number = new_order(services, "OIL", "BRK")
    lines = advisor.get(f"{API}/repair-orders/{number}/estimate").json()["lines"]
    declined = advisor.delete(f"{API}/repair-orders/{number}/estimate/lines/{lines[1]['job_line']}")
    assert declined.status_code == 200 and [x["code"] for x in declined.json()["lines"]] == ["OIL"]
    assert advisor.delete(f"{API}/repair-orders/{number}/estimate/lines/{lines[0]['job_line']}").status_code == 409

    assert advisor.patch(f"{API}/repair-orders/{number}/estimate",
                         json={"customer_leaves_car": True}).status_code == 200
    record = advisor.get(f"{API}/repair-orders/{number}/handover")
    assert record.status_code == 200, record.text
    assert (record.json()["recorded"], record.json()["required"]) == (False, True)
    sig = {"version": record.json()["version"], "signer": "王建国", "signature_png": pad()}
    refused = advisor.post(f"{API}/repair-orders/{number}/handover/signature", json=sig)
    assert refused.status_code == 409 and "walkaround" in refused.json()["detail"]
    assert advisor.patch(f"{API}/repair-orders/{number}/estimate",
                         json={"customer_leaves_car": False}).status_code == 200
    assert advisor.get(f"{API}/repair-orders/{number}/handover").json()["required"] is False  # 0.5 h, waiting


def test_the_order_carries_its_customer_link(app: FastAPI, services: Services) -> None:
    number = new_order(services, "OIL")
    detail = caller(app, ADVISOR).get(f"{API}/repair-orders/{number}")
    assert detail.status_code == 200, detail.text
    with services.db.read() as s:
        token = s.scalar(select(RepairOrder.customer_token).where(RepairOrder.number == number))
    assert token and len(token) >= 22 and detail.json()["customer_link"] == f"http://localhost:8080/c/{token}"
    listed = caller(app, ADVISOR).get(f"{API}/repair-orders").json()
    assert all("customer_link" not in ro and token not in str(ro) for ro in listed)  # a secret, not for lists


def test_parts_drafts_consent_and_the_discount_rechecked_through_the_api(app: FastAPI, services: Services) -> None:
    advisor, parts = caller(app, ADVISOR), caller(app, PARTS)
    number = new_order(services, "OIL", "BRK")
    body = advisor.get(f"{API}/repair-orders/{number}/estimate").json()
    oil, brake = (x["job_line"] for x in body["lines"])
    assert (body["consent"], body["consented_by"]) == (None, [])
    added = advisor.post(f"{API}/repair-orders/{number}/estimate/parts",
                         json={"job_line": oil, "part": "04152-YZZA6", "quantity": 1})
    assert added.status_code == 201, added.text
    assert [(x["kind"], x["code"], x["amount"]) for x in added.json()["lines"]][1] == ("part", "04152-YZZA6", 68.0)
    unknown = advisor.post(f"{API}/repair-orders/{number}/estimate/parts",
                           json={"job_line": oil, "part": "NO-SUCH-PART", "quantity": 1})
    assert unknown.status_code == 422 and "NO-SUCH-PART" in unknown.json()["detail"]
    assert parts.post(f"{API}/repair-orders/{number}/estimate/parts",
                      json={"job_line": oil, "part": "04152-YZZA6", "quantity": 1}).status_code == 403

    # 60 of the customer's 708.00 is within 10 %; of 228.00 once the brake job is declined it is not
    assert advisor.patch(f"{API}/repair-orders/{number}/estimate",
                         json={"discount": 60, "discount_reason": "老客户"}).status_code == 200
    declined = advisor.delete(f"{API}/repair-orders/{number}/estimate/lines/{brake}")
    assert declined.status_code == 409 and "ask the service manager" in declined.json()["detail"]
    moved = advisor.patch(f"{API}/repair-orders/{number}/estimate", json={"payers": {str(brake): "insurance"}})
    assert moved.status_code == 409
    assert caller(app, MANAGER).delete(f"{API}/repair-orders/{number}/estimate/lines/{brake}").status_code == 200

    history = advisor.get(f"{API}/repair-orders/{number}/estimate/versions").json()
    assert [v["superseded"] for v in history] == [True] * (len(history) - 1) + [False]
    assert all(set(v) >= {"consent", "consented_by"} for v in history)
