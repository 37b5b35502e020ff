"""The settlement's API contract (issue 12) on SQLite and PostgreSQL: GET …/settlement in the contract's shape with
amounts as decimal strings, POST …/payments 201 (split, cash change) and 409 when more than is left, 422 for a bad
method or amount, POST …/refunds with a reason, /settlements/open, and 403 for a technician's token."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.models import AuditEntry
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.settlement import priced_order, ready_bill

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
CASHIER = ApiToken("cashier-desk", "cashier-token", frozenset({StaffRole.CASHIER}))
ADVISOR = ApiToken("reception-tablet", "advisor-token", frozenset({StaffRole.ADVISOR}))
TECHNICIAN = ApiToken("bay-3", "technician-token", frozenset({StaffRole.TECHNICIAN}))
CONTRACT = {"lines", "labour", "parts", "discount", "total", "to_pay", "paid", "currency"}
MORE = {"left", "settled", "settled_at", "payer_totals", "payments"}


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", CASHIER, ADVISOR, TECHNICIAN)


def caller(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


def test_the_settlement_in_the_contracts_shape_and_a_split_payment(app: FastAPI, services: Services) -> None:
    cashier = caller(app, CASHIER)
    number = priced_order(services.ctx, services.checkin, payers={1: "warranty"}, discount="20")
    got = cashier.get(f"{API}/repair-orders/{number}/settlement")
    assert got.status_code == 200, got.text
    body = got.json()
    assert set(body) >= CONTRACT | MORE and body["currency"] == "CNY"
    assert (body["to_pay"], body["paid"], body["left"], body["discount"]) == ("208.00", "0.00", "208.00", "20.00")
    assert all(isinstance(body[k], str) for k in ("labour", "parts", "total", "to_pay"))
    assert [(x["kind"], x["payer"], x["amount"]) for x in body["lines"]][:2] == [
        ("labour", "customer", "160.00"), ("part", "customer", "68.00")]
    assert body["lines"][2]["payer"] == "warranty" and body["payer_totals"]["customer"] == "228.00"
    assert (body["settled"], body["settled_at"], body["payments"]) == (False, None, [])
    assert caller(app, ADVISOR).get(f"{API}/repair-orders/{number}/settlement").status_code == 200

    card = cashier.post(f"{API}/repair-orders/{number}/payments",
                        json={"method": "card", "amount": 100, "reference": "POS 000123"})
    assert card.status_code == 201, card.text
    assert card.json()["payment"]["amount"] == "100.00" and card.json()["settlement"]["left"] == "108.00"
    over = cashier.post(f"{API}/repair-orders/{number}/payments", json={"method": "wechat", "amount": "108.01"})
    assert over.status_code == 409 and "¥108.00" in over.json()["detail"]
    wechat = cashier.post(f"{API}/repair-orders/{number}/payments", json={"method": "wechat", "amount": "108.00"})
    assert wechat.status_code == 201, wechat.text
    after = wechat.json()["settlement"]
    assert (after["paid"], after["left"], after["settled"]) == ("208.00", "0.00", True) and after["settled_at"]
    assert [(p["method"], p["amount"], p["actor"]) for p in after["payments"]] == [
        ("card", "100.00", "cashier-desk"), ("wechat", "108.00", "cashier-desk")]
    with services.db.read() as s:
        actors = set(s.scalars(select(AuditEntry.actor).where(AuditEntry.entity_id == number,
                                                               AuditEntry.action == "payment")))
    assert actors == {"cashier-desk"}


def test_cash_change_refunds_and_what_is_refused(app: FastAPI, services: Services) -> None:
    cashier = caller(app, CASHIER)
    number = ready_bill(services.ctx, services.checkin, "OIL")  # 228.00
    url = f"{API}/repair-orders/{number}"
    for bad in ({"method": "bitcoin", "amount": 10}, {"method": "cash", "amount": 0},
                {"method": "cash", "amount": "1.001"}, {"method": "cash", "amount": "abc"},
                {"method": "cash", "amount": -3}, {"method": "card", "amount": 10, "tendered": 20},
                {"method": "cash", "amount": 10, "tendered": 5}, {"method": "cash"},
                {"method": "cash", "amount": 10, "extra": 1}):
        refused = cashier.post(f"{url}/payments", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    cash = cashier.post(f"{url}/payments", json={"method": "cash", "amount": "228", "tendered": 300})
    assert cash.status_code == 201, cash.text
    assert (cash.json()["payment"]["tendered"], cash.json()["payment"]["change"]) == ("300.00", "72.00")
    paid = cash.json()["payment"]["id"]
    assert cashier.post(f"{url}/refunds", json={"payment": paid, "amount": 28, "reason": ""}).status_code == 422
    assert cashier.post(f"{url}/refunds", json={"payment": paid, "amount": 229, "reason": "多收"}).status_code == 409
    assert cashier.post(f"{url}/refunds", json={"payment": 999999, "amount": 1, "reason": "多收"}).status_code == 404
    back = cashier.post(f"{url}/refunds", json={"payment": paid, "amount": "28.00", "reason": "滤清器未更换"})
    assert back.status_code == 201, back.text
    assert (back.json()["payment"]["kind"], back.json()["payment"]["refund_of"]) == ("refund", paid)
    assert (back.json()["settlement"]["left"], back.json()["settlement"]["settled"]) == ("28.00", False)
    listed = cashier.get(f"{API}/settlements/open")
    assert listed.status_code == 200 and number in [x["number"] for x in listed.json()]
    assert cashier.post(f"{API}/repair-orders/RO20990101-001/payments",
                        json={"method": "cash", "amount": 1}).status_code == 404


def test_a_technician_may_not_read_or_take_payments_and_an_advisor_may_not_take_them(
        app: FastAPI, services: Services) -> None:
    number = priced_order(services.ctx, services.checkin, "OIL")
    tech, advisor = caller(app, TECHNICIAN), caller(app, ADVISOR)
    assert tech.get(f"{API}/repair-orders/{number}/settlement").status_code == 403
    assert tech.get(f"{API}/settlements/open").status_code == 403
    assert tech.post(f"{API}/repair-orders/{number}/payments", json={"method": "cash", "amount": 1}).status_code == 403
    assert advisor.post(f"{API}/repair-orders/{number}/payments",
                        json={"method": "cash", "amount": 1}).status_code == 403
    assert advisor.post(f"{API}/repair-orders/{number}/refunds",
                        json={"payment": 1, "amount": 1, "reason": "x"}).status_code == 403
