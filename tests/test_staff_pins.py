"""Staff PINs on SQLite and PostgreSQL: a reset gives a random one-time 6-digit PIN (only its hash stored, the
account's wait ended), a manager's chosen PIN is one-time too, the person's own change checks the current PIN with
sign-in's throttle and refuses weak PINs; every change is audited without the PIN; the API's reset and set routes
(permission, 404, 422, OpenAPI); and in the simulated browser, signing in with a one-time PIN shows the dialog no
page gets past until the person chose their own, which then signs them in; "change my PIN" from the header's
menu."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.demo import seed
from shopfloor.domain.errors import Invalid, LoginRefused, NotFound, Refused
from shopfloor.domain.models import Advisor, AuditEntry
from shopfloor.main import Shopfloor
from shopfloor.services import site_setup
from shopfloor.services.audit import Actor, ActorKind
from shopfloor.services.staff_pins import PinService, check_strength, new_one_time_pin
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import DEMO_PINS, ON_BOTH_DATABASES, Services
from shopfloor.testing.simulated_browser import sees, staff_member, until

pytestmark = ON_BOTH_DATABASES

MANAGER = ApiToken("setup-desk", "manager-token", frozenset({StaffRole.MANAGER}))
ADVISOR = ApiToken("advisor-desk", "advisor-token", frozenset({StaffRole.ADVISOR}))


def _person(svc: Services, name: str) -> Advisor:
    with svc.db.read() as s:
        return s.scalars(select(Advisor).where(Advisor.name == name)).one()


def _actor(person: Advisor) -> Actor:
    return Actor(person.name, ActorKind.STAFF, person.id)


def _audit(svc: Services, staff_id: int) -> list[AuditEntry]:
    with svc.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.entity == "staff",
                                                       AuditEntry.entity_id == str(staff_id))
                              .order_by(AuditEntry.id)))


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "١٢٣٤", "0000", "999999", "1234", "4321", "7890",
                                 "0987", "345678", "98765432"])
def test_weak_pins_are_refused(pin: str) -> None:
    with pytest.raises(Invalid):
        check_strength(pin)


@pytest.mark.parametrize("pin", ["1357", "2580", "1122", "90210", "12345670", "8642"])
def test_other_pins_pass(pin: str) -> None:
    check_strength(pin)


def test_one_time_pins_are_six_random_digits_never_weak() -> None:
    pins = {new_one_time_pin() for _ in range(300)}
    assert len(pins) > 290
    for pin in pins:
        assert len(pin) == 6 and pin.isdigit()
        check_strength(pin)


def test_a_reset_gives_a_one_time_pin_that_signs_in_and_must_be_changed(services: Services) -> None:
    svc = services
    pins = PinService(svc.ctx)
    manager, advisor = _person(svc, "赵经理"), _person(svc, "张伟")
    # a locked-out account is unlocked by the reset
    with svc.db.write() as s:
        row = s.get(Advisor, advisor.id)
        assert row is not None
        row.failed_pins, row.locked_until = 7, svc.ctx.now() + timedelta(hours=1)
    assert not pins.must_change(advisor.id)
    pin = pins.reset(advisor.id, _actor(manager))
    assert len(pin) == 6 and pin.isdigit()
    assert pins.must_change(advisor.id)
    stored = _person(svc, "张伟")
    assert pin not in stored.pin_hash and stored.pin_hash.startswith("$argon2id$")
    assert (stored.failed_pins, stored.locked_until) == (0, None)
    with pytest.raises(LoginRefused):
        svc.auth.login(advisor.id, DEMO_PINS["张伟"])  # the old PIN no longer works
    assert svc.auth.login(advisor.id, pin).id == advisor.id  # the one-time PIN signs in
    assert pins.must_change(advisor.id)  # … and keeps asking for the person's own
    rows = _audit(svc, advisor.id)
    reset = [r for r in rows if r.action == "pin_reset"]
    assert len(reset) == 1 and reset[0].actor == "赵经理" and reset[0].actor_kind == "staff"
    assert all(pin not in f"{r.from_value}{r.to_value}{r.reason}{r.detail}" for r in rows)

    # the person's own change: the one-time PIN checked, weak and unchanged PINs refused
    own = _actor(stored)
    with pytest.raises(Invalid, match="1234"):
        pins.change_own(advisor.id, pin, "1234", own)
    with pytest.raises(Invalid):
        pins.change_own(advisor.id, pin, pin, own)
    with pytest.raises(Refused):
        pins.change_own(advisor.id, pin, "2580", _actor(manager))  # not one's own
    pins.change_own(advisor.id, pin, "2580", own)
    assert not pins.must_change(advisor.id)
    assert svc.auth.login(advisor.id, "2580").id == advisor.id
    with pytest.raises(LoginRefused):
        svc.auth.login(advisor.id, pin)
    changed = [r for r in _audit(svc, advisor.id) if r.action == "pin_changed"]
    assert len(changed) == 1 and changed[0].actor == "张伟"


def test_a_wrong_current_pin_counts_as_a_wrong_pin_and_the_account_waits(services: Services) -> None:
    svc = services
    pins = PinService(svc.ctx)
    person = _person(svc, "李娜")
    free = svc.ctx.settings.kiosk.max_pin_attempts
    for left in range(free - 1, 0, -1):
        with pytest.raises(Refused) as refused:
            pins.change_own(person.id, "0007", "2580", _actor(person))
        assert refused.value.key == "pins.error.wrong_old" and refused.value.params == {"left": left}
    with pytest.raises(Refused) as refused:
        pins.change_own(person.id, "0007", "2580", _actor(person))
    assert refused.value.key == "error.locked_out"
    # waiting: even the right PIN does not change it now, nor sign in on an unknown device
    with pytest.raises(Refused, match="Too many"):
        pins.change_own(person.id, DEMO_PINS["李娜"], "2580", _actor(person))
    with pytest.raises(LoginRefused):
        svc.auth.login(person.id, DEMO_PINS["李娜"])
    actions = [r.action for r in _audit(svc, person.id)]
    assert actions.count("sign_in_failed") == free and "account_waits" in actions
    svc.clock.advance(minutes=svc.ctx.settings.kiosk.lockout_minutes + 1)
    pins.change_own(person.id, DEMO_PINS["李娜"], "2580", _actor(person))
    assert svc.auth.login(person.id, "2580").id == person.id


def test_a_chosen_pin_is_one_time_too_and_unknown_staff_is_not_found(services: Services) -> None:
    svc = services
    pins = PinService(svc.ctx)
    manager, person = _person(svc, "赵经理"), _person(svc, "王芳")
    with pytest.raises(Invalid):
        pins.set_pin(person.id, "1111", _actor(manager))
    pins.set_pin(person.id, "2468", _actor(manager))
    assert pins.must_change(person.id)
    assert svc.auth.login(person.id, "2468").id == person.id
    assert [r.action for r in _audit(svc, person.id)][-1] == "pin_set"
    with pytest.raises(NotFound):
        pins.reset(99999, _actor(manager))
    assert not pins.must_change(99999)


def test_the_demo_pins_are_never_one_time(services: Services) -> None:
    svc = services
    person = _person(svc, "孙丽")
    PinService(svc.ctx).reset(person.id, _actor(_person(svc, "赵经理")))
    with svc.db.write() as s:
        site_setup.sync_advisor_pins(s, svc.ctx.site, DEMO_PINS)
    assert not PinService(svc.ctx).must_change(person.id)
    assert svc.auth.login(person.id, DEMO_PINS["孙丽"]).id == person.id
    assert not any(PinService(svc.ctx).must_change(p.id) for p in svc.auth.advisors())
    assert set(seed.staff_names()) <= set(DEMO_PINS)


def test_the_api_resets_and_sets_pins(services: Services) -> None:
    svc = services
    app = api_app(svc.ctx, "integrator", MANAGER, ADVISOR)
    person = _person(svc, "刘洋")
    manager = TestClient(app, headers={"Authorization": f"Bearer {MANAGER.token}"})
    answer = manager.post(f"/api/v1/setup/staff/{person.id}/pin-reset")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"pin", "must_change"} and body["must_change"] is True
    assert len(body["pin"]) == 6 and svc.auth.login(person.id, body["pin"]).id == person.id
    rows = _audit(svc, person.id)
    assert rows[-1].action == "pin_reset" and rows[-1].actor == "setup-desk" and rows[-1].actor_kind == "api"
    assert manager.post("/api/v1/setup/staff/99999/pin-reset").status_code == 404
    assert manager.post("/api/v1/setup/staff/0/pin-reset").status_code == 422
    advisor = TestClient(app, headers={"Authorization": f"Bearer {ADVISOR.token}"})
    assert advisor.post(f"/api/v1/setup/staff/{person.id}/pin-reset").status_code == 403
    assert TestClient(app).post(f"/api/v1/setup/staff/{person.id}/pin-reset").status_code == 401

    weak = manager.post(f"/api/v1/setup/staff/{person.id}/pin", json={"pin": "4321"})
    assert weak.status_code == 422 and "4321" in weak.json()["detail"]
    chosen = manager.post(f"/api/v1/setup/staff/{person.id}/pin", json={"pin": "1357"})
    assert chosen.status_code == 200 and chosen.json() == {"must_change": True}
    assert svc.auth.login(person.id, "1357").id == person.id
    assert manager.post("/api/v1/setup/staff/99999/pin", json={"pin": "1357"}).status_code == 404

    schema = TestClient(app).get("/api/openapi.json").json()
    reset = schema["paths"]["/api/v1/setup/staff/{staff_id}/pin-reset"]["post"]
    assert reset["x-permission"] == "setup" and reset["x-roles"] == ["manager"]
    assert reset["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/PinResetOut")
    assert set(schema["components"]["schemas"]["PinResetOut"]["properties"]) == {"pin", "must_change"}
    assert "/api/v1/setup/staff/{staff_id}/pin" in schema["paths"]


async def _type_pin(user: User, pin: str) -> None:
    for key in [*pin, "OK"]:
        user.find(marker=f"pin-{key}").click()


async def _sees_any(user: User, *texts: str) -> bool:
    return any([await sees(user, content=text) for text in texts])


async def test_a_one_time_pin_leads_to_the_forced_change_before_any_page(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    person = staff_member(system, "赵经理")
    pin = PinService(system.ctx).reset(person.id, Actor(person.name, ActorKind.STAFF, person.id))
    await user.open("/kiosk")
    user.find(marker=f"advisor-{person.id}").click()
    await _type_pin(user, pin)
    await until(lambda: sees(user, marker="pin-change"))
    assert await sees(user, marker="signed-in")  # signed in with the one-time PIN …
    assert not await sees(user, marker="open-orders") and not await sees(user, marker="manual-tag")  # … no page yet
    await user.open("/manager/board")  # another page: the same dialog
    await until(lambda: sees(user, marker="pin-change"))
    user.find(marker="pin-current").type(pin)
    user.find(marker="pin-new").type("2580")
    user.find(marker="pin-repeat").type("2581")
    user.find(marker="pin-save").click()
    await until(lambda: _sees_any(user, "The two new PINs differ.", "两次输入的新 PIN 码不一致。"))
    user.find(marker="pin-repeat").clear().type("2580")
    user.find(marker="pin-save").click()
    await until(lambda: _changed(system, person.id))
    assert await _login_works(system, person.id, "2580")
    await user.open("/kiosk")
    await until(lambda: sees(user, marker="open-orders"))
    assert not await sees(user, marker="pin-change")


async def _changed(system: Shopfloor, staff_id: int) -> bool:
    return not PinService(system.ctx).must_change(staff_id)


async def test_change_my_pin_from_the_menu(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    person = staff_member(system, "张伟")
    await user.open("/kiosk")
    user.find(marker=f"advisor-{person.id}").click()
    await _type_pin(user, DEMO_PINS["张伟"])
    await until(lambda: sees(user, marker="open-orders"))
    assert not await sees(user, marker="pin-change")  # the demo's PINs are not one-time
    user.find(marker="me-menu").click()
    user.find(marker="change-pin").click()
    user.find(marker="pin-current").type(DEMO_PINS["张伟"])
    user.find(marker="pin-new").type("4321")
    user.find(marker="pin-repeat").type("4321")
    user.find(marker="pin-save").click()
    await until(lambda: sees(user, marker="pin-change-error"))
    await until(lambda: _sees_any(user, "A run such as 1234 or 4321 is guessed first: choose another.",
                                  "1234、4321 这样的连续数字最容易被猜中，请另选一个。"))
    assert await _login_works(system, person.id, DEMO_PINS["张伟"])  # refused: the old PIN stays
    user.find(marker="pin-new").clear().type("1357")
    user.find(marker="pin-repeat").clear().type("1357")
    user.find(marker="pin-save").click()
    await until(lambda: _login_works(system, person.id, "1357"))
    assert not await _login_works(system, person.id, DEMO_PINS["张伟"])


async def _login_works(system: Shopfloor, staff_id: int, pin: str) -> bool:
    try:
        return system.auth.login(staff_id, pin).id == staff_id
    except LoginRefused:
        return False
