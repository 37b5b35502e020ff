"""Complaints on SQLite and PostgreSQL: the deadlines from [follow_up] acknowledge_hours/investigate_hours (an
important one's own important_*_hours), an important one owned by the first manager and escalated on the bus
(retained state without personal data and an event, in the outbox of the same transaction), the steps open →
acknowledged → investigated → resolved (only with an owner; the second call scheduled) → closed by that call, overdue
when a deadline passed; the customer flagged complaining while one of theirs is open; a workmanship complaint on an
order drops it from first-time fix and is listed beside the rework register; and the API's shapes, codes and
permissions (a follow-up call's outcome too)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract import topics
from shopfloor.contract.access import Role, may_publish, may_receive, may_subscribe
from shopfloor.contract.entity_states import ComplaintEvent, ComplaintState
from shopfloor.contract.payloads import parse
from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.aftersales_models import Complaint, FollowUpCall
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import Advisor, AuditEntry, Customer, OutboxMessage, RepairOrder
from shopfloor.i18n import t
from shopfloor.services.aftercare.complaints import ComplaintService
from shopfloor.services.aftercare.follow_ups import FollowUpService
from shopfloor.services.comebacks import ComebackService
from shopfloor.services.snapshot import SnapshotService
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.delivery import delivered
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.workshop import new_order

pytestmark = ON_BOTH_DATABASES

CS = ApiToken("cs-desk", "cs-token", frozenset({StaffRole.CUSTOMER_SERVICE}))
MANAGER = ApiToken("manager-desk", "manager-token", frozenset({StaffRole.MANAGER}))
TECHNICIAN = ApiToken("bay-3", "tech-token", frozenset({StaffRole.TECHNICIAN}))


def _outbox(svc: Services, topic: str) -> list[OutboxMessage]:
    with svc.db.read() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id)))


def _first_manager(svc: Services) -> Advisor:
    with svc.db.read() as s:
        staff = list(s.scalars(select(Advisor).where(Advisor.active.is_(True)).order_by(Advisor.id)))
    return next(a for a in staff if StaffRole.MANAGER in a.role_set)


def test_deadlines_come_from_the_settings_and_the_steps_run_in_order(services: Services) -> None:
    svc = services
    number = delivered(svc)
    complaints = ComplaintService(svc.ctx)
    rules = svc.ctx.settings.follow_up
    c = complaints.register(actor="孙丽", problem_class="attitude", severity="normal", text="前台态度冷淡",
                            repair_order=number)
    now = svc.ctx.now()
    assert (c.status, c.severity, c.owner_id, c.source) == ("open", "normal", None, "desk")
    assert c.acknowledge_by == now + timedelta(hours=rules.acknowledge_hours)
    assert c.investigate_by == now + timedelta(hours=rules.investigate_hours)
    assert c.repair_order == number and c.customer and c.plate and not c.overdue
    assert c.next_deadline == c.acknowledge_by
    with pytest.raises(Refused):
        complaints.investigate(c.id, "查看监控", actor="赵经理")  # not acknowledged yet
    svc.clock.advance(hours=rules.acknowledge_hours + 1)
    assert complaints.get(c.id).overdue
    manager = _first_manager(svc)
    c = complaints.assign(c.id, manager.id, actor="赵经理")
    assert (c.owner_id, c.owner) == (manager.id, manager.name)
    c = complaints.acknowledge(c.id, actor="赵经理")
    assert c.status == "acknowledged" and c.acknowledged_at == svc.ctx.now()
    assert c.next_deadline == c.investigate_by and not c.overdue
    with pytest.raises(Invalid):
        complaints.investigate(c.id, "  ", actor="赵经理")
    c = complaints.investigate(c.id, "前台当时忙于接待，语气生硬", actor="赵经理")
    assert (c.status, c.next_deadline, c.overdue) == ("investigated", None, False)
    assert c.findings == "前台当时忙于接待，语气生硬"
    c = complaints.resolve(c.id, "店长致歉并赠送一次洗车", actor="赵经理")
    assert c.status == "resolved" and c.second_call_id is not None
    with svc.db.read() as s:
        call = s.get(FollowUpCall, c.second_call_id)
        assert call is not None
        assert (call.kind, call.complaint_id, call.status) == ("complaint", c.id, "due")
        assert call.due_on == svc.ctx.today() + timedelta(days=rules.second_call_days)
    svc.clock.advance(days=rules.second_call_days)
    assert call.id in [v.id for v in FollowUpService(svc.ctx).due(svc.ctx.today())]
    FollowUpService(svc.ctx).record(call.id, "satisfied", score=8, actor="孙丽")
    c = complaints.get(c.id)
    assert c.status == "closed" and c.closed_at is not None
    assert [x.id for x in complaints.open_list()].count(c.id) == 0
    with svc.db.read() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "complaint",
                                                                 AuditEntry.entity_id == str(c.id))
                                 .order_by(AuditEntry.id)))
    assert actions == ["complaint_registered", "complaint_assigned", "complaint_acknowledged",
                       "complaint_investigated", "complaint_resolved", "complaint_closed"]
    # the closed complaint left the bus
    assert _outbox(svc, topics.state(svc.ctx.site, topics.COMPLAINTS, c.id))[-1].payload == b""


def test_an_important_complaint_is_owned_by_a_manager_and_escalated_on_the_bus(services: Services) -> None:
    svc = services
    number = delivered(svc)
    complaints = ComplaintService(svc.ctx)
    c = complaints.register(actor="孙丽", problem_class="workmanship", severity="important",
                            important_because="safety", text="刚保养完刹车失灵，差点出事", repair_order=number)
    assert c.owner_id == _first_manager(svc).id and c.important_because == "safety"
    [state_row] = _outbox(svc, topics.state(svc.ctx.site, topics.COMPLAINTS, c.id))
    assert state_row.retain
    state = parse(ComplaintState, state_row.payload)
    assert state is not None
    assert (state.id, state.status, state.severity, state.important_because, state.problem_class,
            state.ro_number) == (c.id, "open", "important", "safety", "workmanship", number)
    raw = state_row.payload.decode()
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        customer, plate = ro.vehicle.customer, ro.vehicle.plate
    # no personal data: not the name, the phone, the plate in full or the complaint's words
    for secret in (customer.full_name, customer.phone, plate, "刹车失灵"):
        assert secret not in raw
    [event_row] = _outbox(svc, topics.event(svc.ctx.site, topics.COMPLAINTS, c.id))
    assert not event_row.retain
    event = ComplaintEvent.model_validate_json(event_row.payload)
    assert (event.kind, event.id, event.important_because) == ("important_opened", c.id, "safety")
    # republished after a reconnect while open
    assert state_row.topic in [topic for topic, _payload, _retain in SnapshotService(svc.ctx).messages()]
    # a normal complaint: state, no event
    normal = complaints.register(actor="孙丽", problem_class="price", severity="normal", text="工时费偏高")
    assert _outbox(svc, topics.event(svc.ctx.site, topics.COMPLAINTS, normal.id)) == []
    assert len(_outbox(svc, topics.state(svc.ctx.site, topics.COMPLAINTS, normal.id))) == 1
    assert normal.repair_order is None and normal.plate is None


def test_bad_input_is_refused_and_nothing_saved(services: Services) -> None:
    svc = services
    complaints = ComplaintService(svc.ctx)
    with svc.db.read() as s:
        before = len(s.scalars(select(Complaint.id)).all())
    for kwargs in ({"problem_class": "smell", "severity": "normal", "text": "x"},
                   {"problem_class": "price", "severity": "urgent", "text": "x"},
                   {"problem_class": "price", "severity": "normal", "text": "x", "important_because": "media"},
                   {"problem_class": "price", "severity": "important", "text": "x", "important_because": "tv"},
                   {"problem_class": "price", "severity": "normal", "text": "   "},
                   {"problem_class": "price", "severity": "normal", "text": "贵" * 2001}):
        with pytest.raises(Invalid):
            complaints.register(actor="孙丽", **kwargs)
    with svc.db.read() as s:
        assert len(s.scalars(select(Complaint.id)).all()) == before
    # important without a reason yet: allowed
    assert complaints.register(actor="孙丽", problem_class="other", severity="important",
                               text="客户说要找媒体").important_because is None


def test_a_workmanship_complaint_is_a_comeback(services: Services) -> None:
    svc = services
    first, second = delivered(svc), delivered(svc)
    day = svc.ctx.today()
    before = ComebackService(svc.ctx).first_time_fix(day, day)
    complaints = ComplaintService(svc.ctx)
    complaints.register(actor="孙丽", problem_class="workmanship", severity="normal", text="异响没修好",
                        repair_order=first)
    complaints.register(actor="孙丽", problem_class="price", severity="normal", text="太贵", repair_order=second)
    after = ComebackService(svc.ctx).first_time_fix(day, day)
    assert after["delivered"] == before["delivered"]
    assert after["first_time"] == before["first_time"] - 1 and after["comebacks"] == before["comebacks"] + 1
    listed = complaints.workmanship(day, day)
    assert [c.repair_order for c in listed] == [first]


def test_a_problem_on_a_call_registers_an_important_complaint_when_told(services: Services) -> None:
    svc = services
    number = delivered(svc)
    with svc.db.read() as s:
        call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{number}"))
        assert call is not None
    view = FollowUpService(svc.ctx).record(call.id, "problem", problem_class="workmanship", severity="important",
                                           important_because="lawyer", note="要起诉", actor="孙丽")
    assert view.raised_complaint_id is not None
    c = ComplaintService(svc.ctx).get(view.raised_complaint_id)
    assert (c.severity, c.important_because, c.source, c.raised_by_call_id) == ("important", "lawyer", "call", call.id)
    assert _outbox(svc, topics.event(svc.ctx.site, topics.COMPLAINTS, c.id))


# -- the API -----------------------------------------------------------------------------------------------

@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", CS, MANAGER, TECHNICIAN)


def _as(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


def _offset(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    return moment


def test_the_complaints_api(app: FastAPI, services: Services) -> None:
    svc = services
    number = delivered(svc)
    cs, manager, tech = _as(app, CS), _as(app, MANAGER), _as(app, TECHNICIAN)
    body = {"repair_order": number, "class": "workmanship", "severity": "important", "text": "刹车异响",
            "important_because": "safety"}
    assert tech.post("/api/v1/complaints", json=body).status_code == 403
    assert tech.get("/api/v1/complaints").status_code == 403
    r = cs.post("/api/v1/complaints", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "open" and made["class"] == "workmanship" and made["repair_order"] == number
    rules = svc.ctx.settings.follow_up
    opened = _offset(made["opened_at"])
    # an important one has its own, shorter deadlines
    assert _offset(made["acknowledge_by"]) - opened == timedelta(hours=rules.important_acknowledge_hours)
    assert _offset(made["investigate_by"]) - opened == timedelta(hours=rules.important_investigate_hours)
    assert made["source"] == "api" and made["overdue"] is False
    # the contract's minimal body
    r = cs.post("/api/v1/complaints", json={"class": "price", "severity": "normal", "text": "工时费贵"})
    assert r.status_code == 201 and r.json()["repair_order"] is None
    for bad in ({"class": "smell", "severity": "normal", "text": "x"},
                {"class": "price", "severity": "normal", "text": ""},
                {"class": "price", "severity": "normal", "text": "x", "important_because": "media"},
                {"class": "price", "severity": "normal", "text": "x", "mood": "angry"}):
        assert cs.post("/api/v1/complaints", json=bad).status_code == 422, bad
    assert cs.post("/api/v1/complaints", json={**body, "repair_order": "RO-NOPE"}).status_code == 404
    listed = cs.get("/api/v1/complaints", params={"status": "open"}).json()
    severities = [c["severity"] for c in listed]
    assert made["id"] in [c["id"] for c in listed] and all(c["status"] == "open" for c in listed)
    assert severities == sorted(severities, key=lambda x: x != "important")  # important first
    assert cs.get(f"/api/v1/complaints/{made['id']}").json()["id"] == made["id"]
    assert cs.get("/api/v1/complaints/999999").status_code == 404
    cid = made["id"]
    # handling needs COMPLAINT_HANDLE
    assert tech.post(f"/api/v1/complaints/{cid}/acknowledge").status_code == 403
    assert manager.post(f"/api/v1/complaints/{cid}/investigate", json={"findings": "x"}).status_code == 409
    manager_id = _first_manager(svc).id
    # nobody owning it cannot be resolved: the owner answers for it
    unowned = cs.post("/api/v1/complaints", json={"class": "price", "severity": "normal", "text": "工时费贵"}).json()
    assert unowned["owner_id"] is None
    for step, payload in (("acknowledge", None), ("investigate", {"findings": "工时按标准收取"})):
        assert manager.post(f"/api/v1/complaints/{unowned['id']}/{step}", json=payload).status_code == 200
    refused = manager.post(f"/api/v1/complaints/{unowned['id']}/resolve", json={"resolution": "解释并致歉"})
    assert refused.status_code == 409
    assert refused.json()["detail"] in {t(lang, "complaints.error.no_owner") for lang in ("zh-CN", "en")}
    assert cs.get(f"/api/v1/complaints/{unowned['id']}").json()["status"] == "investigated"
    assert manager.post(f"/api/v1/complaints/{cid}/owner", json={"owner": manager_id}).json()["owner_id"] == manager_id
    assert manager.post(f"/api/v1/complaints/{cid}/owner", json={"owner": 999999}).status_code == 422
    assert manager.post(f"/api/v1/complaints/{cid}/acknowledge").json()["status"] == "acknowledged"
    assert manager.post(f"/api/v1/complaints/{cid}/investigate",
                        json={"findings": "刹车片装反"}).json()["status"] == "investigated"
    done = manager.post(f"/api/v1/complaints/{cid}/resolve", json={"resolution": "免费重装并致歉"}).json()
    assert done["status"] == "resolved" and done["second_call"] is not None
    # each step audited with the token's name as the actor, readable through /audit (the owner given was the
    # owner already, the first manager: no change, no row)
    trail = manager.get("/api/v1/audit", params={"entity": f"complaint:{cid}"}).json()
    assert [(r["action"], r["actor"], r["actor_kind"]) for r in trail] == [
        ("complaint_registered", "cs-desk", "api"), ("complaint_acknowledged", "manager-desk", "api"),
        ("complaint_investigated", "manager-desk", "api"),
        ("complaint_resolved", "manager-desk", "api")]


def test_the_follow_up_api(app: FastAPI, services: Services) -> None:
    svc = services
    number = delivered(svc)
    cs, tech = _as(app, CS), _as(app, TECHNICIAN)
    with svc.db.read() as s:
        call = s.scalar(select(FollowUpCall).where(FollowUpCall.dedup_key == f"3dc:{number}"))
        assert call is not None
    day = call.due_on.isoformat()
    assert tech.get("/api/v1/follow-ups", params={"day": day}).status_code == 403
    assert cs.get("/api/v1/follow-ups", params={"day": "2026-13-01"}).status_code == 422
    listed = cs.get("/api/v1/follow-ups", params={"day": day}).json()
    [row] = [r for r in listed if r["repair_order"] == number]
    assert row["status"] == "due" and row["kind"] == "3dc" and row["script"] and row["work"]
    assert row["amount_paid"].count(".") == 1 and row["phone"]
    assert cs.get("/api/v1/follow-ups", params={"day": day, "lang": "en"}).json()[0]["script"].startswith("Hello")
    url = f"/api/v1/follow-ups/{call.id}"
    assert tech.post(url, json={"outcome": "satisfied", "score": 9}).status_code == 403
    assert cs.post(url, json={"outcome": "satisfied"}).status_code == 422
    assert cs.post(url, json={"outcome": "satisfied", "score": 11}).status_code == 422
    assert cs.post(url, json={"outcome": "problem", "note": "异响"}).status_code == 422
    assert cs.post(url, json={"outcome": "lost"}).status_code == 422
    r = cs.post(url, json={"outcome": "problem", "class": "workmanship", "note": "刹车异响"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "done" and r.json()["class"] == "workmanship" and r.json()["raised_complaint_id"]
    assert cs.post(url, json={"outcome": "satisfied", "score": 9}).status_code == 409
    start = (datetime.combine(svc.ctx.today() + timedelta(days=2), datetime.min.time(), tzinfo=svc.ctx.tz)
             + timedelta(hours=10)).isoformat()
    assert tech.post(f"{url}/appointment", json={"start": start}).status_code == 403
    r = _as(app, MANAGER).post(f"{url}/appointment", json={"start": start, "override": {"reason": "test slot"}})
    assert r.status_code == 201, r.text
    assert r.json()["follow_up"]["appointment_id"] == r.json()["appointment_id"]
    assert cs.post(f"{url}/appointment", json={"start": start}).status_code == 409
    assert cs.post("/api/v1/follow-ups/999999", json={"outcome": "unreachable"}).status_code == 404
    assert json.loads(cs.get(url).text)["id"] == call.id


def test_the_board_role_reads_complaints_and_the_lounge_does_not() -> None:
    site = "demo"
    state, event = topics.state(site, topics.COMPLAINTS, 7), topics.event(site, topics.COMPLAINTS, 7)
    assert may_receive(Role.BOARD, site, state) and may_receive(Role.BOARD, site, event)
    assert may_subscribe(Role.BOARD, site, topics.state_filter(site, topics.COMPLAINTS))
    assert not may_receive(Role.LOUNGE, site, state) and not may_receive(Role.LOUNGE, site, event)
    assert not may_subscribe(Role.LOUNGE, site, topics.state_filter(site, topics.COMPLAINTS))
    assert not may_publish(Role.BOARD, site, state)


def _close(svc: Services, complaint_id: int) -> None:
    """Owned, acknowledged, investigated, resolved and its second call made: closed."""
    complaints = ComplaintService(svc.ctx)
    complaints.assign(complaint_id, _first_manager(svc).id, actor="赵经理")
    complaints.acknowledge(complaint_id, actor="赵经理")
    complaints.investigate(complaint_id, "已核实", actor="赵经理")
    second = complaints.resolve(complaint_id, "已致歉", actor="赵经理").second_call_id
    assert second is not None
    FollowUpService(svc.ctx).record(second, "satisfied", score=9, actor="孙丽")
    assert complaints.get(complaint_id).status == "closed"


def _customer_of(svc: Services, number: str) -> Customer:
    with svc.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        return ro.vehicle.customer


def _order_flag(svc: Services, number: str) -> bool:
    """The complaint flag of the order's last state on the bus (what the boards show)."""
    rows = _outbox(svc, topics.state(svc.ctx.site, topics.REPAIR_ORDERS, number))
    return bool(json.loads(rows[-1].payload)["flags"]["complaint"])


def test_the_customer_is_flagged_complaining_while_a_complaint_of_theirs_is_open(services: Services) -> None:
    svc = services
    number = new_order(svc, "M10")  # the car is in the workshop: its order's flag is on the boards
    customer = _customer_of(svc, number)
    with svc.db.write() as s:  # the demo flags a customer or two by hand
        row = s.get(Customer, customer.id)
        assert row is not None
        row.complaining = False
    complaints = ComplaintService(svc.ctx)
    first = complaints.register(actor="孙丽", problem_class="attitude", severity="normal", text="前台态度冷淡",
                                repair_order=number)
    assert _customer_of(svc, number).complaining
    assert _order_flag(svc, number)  # the order went out again in the complaint's transaction
    second = complaints.register(actor="张伟", problem_class="process", severity="normal", text="等了很久",
                                 repair_order=number)
    flagged = [(e.actor, e.entity_id) for e in _actions(svc, "customer_complaining_set")]
    assert flagged == [("孙丽", str(customer.id))]  # flagged once, by who registered the first
    _close(svc, first.id)
    assert _customer_of(svc, number).complaining  # the second one is still open
    assert _actions(svc, "customer_complaining_cleared") == []
    _close(svc, second.id)
    assert not _customer_of(svc, number).complaining
    [cleared] = _actions(svc, "customer_complaining_cleared")
    assert (cleared.actor, cleared.entity, cleared.entity_id) == ("孙丽", "customer", str(customer.id))
    assert not _order_flag(svc, number)
    # a complaint about no car has no customer to flag
    before = len(_actions(svc, "customer_complaining_set"))
    complaints.register(actor="孙丽", problem_class="facilities", severity="normal", text="没有热水")
    assert len(_actions(svc, "customer_complaining_set")) == before


def _actions(svc: Services, action: str) -> list[AuditEntry]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_an_important_complaint_has_its_own_deadlines(services: Services) -> None:
    svc = services
    rules = svc.ctx.settings.follow_up
    assert (rules.important_acknowledge_hours, rules.important_investigate_hours) == (2.0, 24.0)
    c = ComplaintService(svc.ctx).register(actor="孙丽", problem_class="workmanship", severity="important",
                                           important_because="safety", text="刹车发软")
    now = svc.ctx.now()
    assert (c.acknowledge_by, c.investigate_by) == (now + timedelta(hours=2), now + timedelta(hours=24))
    with svc.db.read() as s:
        stored = s.get(Complaint, c.id)
        assert stored is not None and stored.acknowledge_by == now + timedelta(hours=2)
