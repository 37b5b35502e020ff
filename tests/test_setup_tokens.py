"""API clients and wall screens made in /setup (issue 13): a token per integration with the roles it may act as,
shown once, kept only as a SHA-256, revocable at once; a display token per wall screen that pairs the boards and
stops pairing them when revoked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from nicegui.testing import User
from sqlalchemy import select

from shopfloor.api.fields import PREFIX
from shopfloor.board import pairing
from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import AuditEntry
from shopfloor.domain.site_models import ApiClient, DisplayScreen
from shopfloor.main import Shopfloor
from shopfloor.services.audit import Actor
from shopfloor.services.setup.tokens import TokenAdmin, digest
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services
from shopfloor.testing.simulated_browser import sees, until

pytestmark = ON_BOTH_DATABASES
MANAGER = Actor("赵经理")
INTEGRATOR = "integrator-token"


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, INTEGRATOR)


def _as(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def _everything_stored(services: Services) -> str:
    """Every column of both tables and the audit, as text: where a token in clear would show."""
    with services.db.read() as s:
        rows: list[ApiClient | DisplayScreen | AuditEntry] = [
            *s.scalars(select(ApiClient)), *s.scalars(select(DisplayScreen)), *s.scalars(select(AuditEntry))]
        return "\n".join(str({c.key: getattr(r, c.key) for c in r.__table__.columns}) for r in rows)


def _sqlite_bytes(services: Services) -> bytes:
    url = services.db.url
    if not url.startswith("sqlite"):
        return b""
    base = Path(url.split("///", 1)[1])
    return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))


def test_a_client_calls_with_its_roles_until_revoked(services: Services, app: FastAPI) -> None:
    made = _as(app, INTEGRATOR).post(f"{PREFIX}/setup/api-clients",
                                     json={"name": "call centre", "roles": ["cs"]})
    assert made.status_code == 201, made.text
    body = made.json()
    token = body["token"]
    assert len(token) >= 40 and body["token_hint"] == token[:6] and body["roles"] == ["cs"]
    client = _as(app, token)

    # what customer service may do: read appointments; what it may not: the repair orders' moves, the setup
    assert client.get(f"{PREFIX}/appointments").status_code == 200
    refused = client.get(f"{PREFIX}/setup/api-clients")
    assert refused.status_code == 403 and "call centre" in refused.json()["detail"]
    assert client.get(f"{PREFIX}/print-jobs").status_code == 403

    # the client's name is the actor of what it changes; the token is never listed again
    listed = _as(app, INTEGRATOR).get(f"{PREFIX}/setup/api-clients").json()
    assert [c["name"] for c in listed] == ["call centre"] and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None

    revoked = _as(app, INTEGRATOR).post(f"{PREFIX}/setup/api-clients/{body['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.get(f"{PREFIX}/appointments").status_code == 401
    assert _as(app, "not-a-token").get(f"{PREFIX}/appointments").status_code == 401

    with services.db.read() as s:
        actions = [(e.entity, e.action, e.actor) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "api_client").order_by(AuditEntry.id))]
    assert actions == [("api_client", "api_client_created", "api"), ("api_client", "api_client_revoked", "api")]


def test_tokens_are_kept_only_as_digests(services: Services) -> None:
    admin = TokenAdmin(services.ctx)
    _, api_token = admin.create_client("DMS", [StaffRole.ADVISOR], MANAGER)
    _, screen_token = admin.create_screen("workshop wall", MANAGER)
    stored = _everything_stored(services)
    assert api_token not in stored and screen_token not in stored
    assert digest(api_token) in stored and digest(screen_token) in stored
    raw = _sqlite_bytes(services)
    assert api_token.encode() not in raw and screen_token.encode() not in raw
    assert admin.caller(api_token) is not None and admin.caller(digest(api_token)) is None


def test_names_are_unique_and_roles_checked(services: Services, app: FastAPI) -> None:
    admin = TokenAdmin(services.ctx, reserved_names=["api"])
    admin.create_client("DMS", "advisor,parts", MANAGER)
    with pytest.raises(Refused):
        admin.create_client(" DMS ", ["cs"], MANAGER)
    with pytest.raises(Refused):
        admin.create_client("api", ["cs"], MANAGER)
    with pytest.raises(Invalid):
        admin.create_client("other", ["wizard"], MANAGER)
    with pytest.raises(Invalid):
        admin.create_client("other", [], MANAGER)
    with pytest.raises(Invalid):
        admin.create_client("   ", ["cs"], MANAGER)
    api = _as(app, INTEGRATOR)
    assert api.post(f"{PREFIX}/setup/api-clients", json={"name": "DMS", "roles": ["cs"]}).status_code == 409
    assert api.post(f"{PREFIX}/setup/api-clients", json={"name": "x", "roles": ["wizard"]}).status_code == 422
    admin.create_screen("wall", MANAGER)
    assert api.post(f"{PREFIX}/setup/screens", json={"name": "wall"}).status_code == 409
    assert api.post(f"{PREFIX}/setup/screens/999999/revoke").status_code == 404
    assert api.post(f"{PREFIX}/setup/api-clients/999999/revoke").status_code == 404


def test_use_is_written_at_most_once_a_minute(services: Services) -> None:
    admin = TokenAdmin(services.ctx)
    _, token = admin.create_client("DMS", ["advisor"], MANAGER)
    first = services.clock.now()
    assert admin.caller(token) is not None
    services.clock.advance(seconds=30)
    assert admin.caller(token) is not None
    assert [c.last_used_at for c in admin.clients()] == [first]
    services.clock.advance(seconds=31)
    assert admin.caller(token) is not None
    assert [c.last_used_at for c in admin.clients()] == [services.clock.now()]

    screen, _ = admin.create_screen("wall", MANAGER)
    admin.seen(screen.id, "192.168.1.50")
    admin.seen(screen.id, "192.168.1.51")  # within the minute: not written
    assert [(s.last_seen_at, s.last_address) for s in admin.screens()] == [(services.clock.now(), "192.168.1.50")]


def test_screens_are_made_listed_and_revoked(services: Services, app: FastAPI) -> None:
    api = _as(app, INTEGRATOR)
    made = api.post(f"{PREFIX}/setup/screens", json={"name": "reception left"})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert made.json()["pairing_paths"] == [f"/board/appointments?token={token}", f"/board/progress?token={token}"]
    admin = TokenAdmin(services.ctx)
    found = admin.screen(token)
    assert found is not None and found.name == "reception left"
    listed = api.get(f"{PREFIX}/setup/screens").json()
    assert [(s["name"], s["active"]) for s in listed] == [("reception left", True)] and "token" not in listed[0]
    assert api.post(f"{PREFIX}/setup/screens/{found.id}/revoke").json()["active"] is False
    assert admin.screen(token) is None and admin.screen_by_digest(digest(token)) is None


@pytest.fixture
def fast_watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(pairing, "WATCH_SECONDS", 0.2)
    yield


# the boards in the simulated browser run on SQLite only (staff_app); the service beneath them runs on both above
@pytest.mark.usefixtures("fast_watch")
async def test_a_screen_pairs_with_its_own_token_and_is_shut_out_when_revoked(
        staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    _, token = system.tokens.create_screen("workshop wall", MANAGER)
    _, other = system.tokens.create_screen("lounge", MANAGER)

    await user.open("/board/appointments?token=wrong")
    await user.should_see("The token is not correct.")

    await user.open(f"/board/appointments?token={token}")
    await user.should_not_see("This screen is not paired")
    screen = system.tokens.screen(token)
    assert screen is not None and screen.last_seen_at is not None and screen.last_address

    # an open board notices its screen revoked (here within 0.2 s instead of 30) and shows the pairing hint
    system.tokens.revoke_screen(screen.id, MANAGER)

    async def shut_out() -> bool:
        return await sees(user, content="This screen is not paired")

    await until(shut_out, timeout=5)
    await user.open("/board/progress")
    await user.should_see("This screen is not paired")
    await user.open(f"/board/progress?token={token}")
    await user.should_see("The token is not correct.")
    # another screen's token still pairs
    await user.open(f"/board/progress?token={other}")
    await user.should_not_see("This screen is not paired")
