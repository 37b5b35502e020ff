"""/setup's access tabs in the simulated browser: the manager makes an API client (its token shown once, working
with the roles chosen) and revokes it after confirming; adds a wall screen (its pairing links as text and QR codes);
and sees every address of this host's interfaces with the port the server serves on."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from shopfloor.contract.staff import StaffRole
from shopfloor.kiosk.setup.addresses_tab import interface_addresses
from shopfloor.main import Shopfloor
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member, until


def _value(user: User, marker: str) -> str:
    element = next(iter(user.find(marker=marker).elements))
    assert isinstance(element, ui.textarea)
    return str(element.value)


async def _told(user: User, text: str) -> bool:
    return bool(user.notify.contains(text))


async def test_the_manager_makes_and_revokes_an_api_client(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=tokens&lang=en")
    user.find(marker="token-make").click()  # no name, no roles: refused, nothing made
    await until(lambda: _told(user, "Give it a name."))
    assert system.tokens.clients() == []

    user.find(marker="token-name").type("call centre")
    roles = next(iter(user.find(marker="token-roles").elements))
    assert isinstance(roles, ui.select)
    roles.set_value(["cs"])
    user.find(marker="token-make").click()
    await until(lambda: sees(user, marker="token-new-value"))
    token = _value(user, "token-new-value")
    caller = system.tokens.caller(token)
    assert caller is not None and caller.name == "call centre"
    assert caller.roles == frozenset({StaffRole.CUSTOMER_SERVICE})
    [client] = system.tokens.clients()
    await user.should_see(marker=f"token-row-{client.id}")
    await user.should_see(f"{token[:6]}…")

    user.find(marker=f"token-revoke-{client.id}").click()
    await until(lambda: sees(user, marker="token-confirm"))
    assert system.tokens.caller(token) is not None, "nothing revoked before the confirmation"
    user.find(marker="token-confirm-revoke").click()
    await until(lambda: _told(user, "“call centre” revoked."))
    assert system.tokens.caller(token) is None


async def test_a_new_screen_shows_its_pairing_links(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=screens&lang=en")
    user.find(marker="screen-name").type("workshop wall")
    user.find(marker="screen-make").click()
    await until(lambda: sees(user, marker="screen-link-appointments"))
    link = _value(user, "screen-link-appointments")
    base, token = link.split("/board/appointments?token=")
    assert base == system.ctx.server_url.rstrip("/")
    screen = system.tokens.screen(token)
    assert screen is not None and screen.name == "workshop wall"
    assert _value(user, "screen-link-progress") == f"{base}/board/progress?token={token}"
    await user.should_see(marker="screen-qr-appointments")
    await user.should_see(marker="screen-qr-progress")
    await user.should_see(marker=f"screen-revoke-{screen.id}")


async def test_the_addresses_are_this_hosts_interfaces(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "赵经理"))
    await user.open("/setup?tab=addresses&lang=en")
    port = system.options.http_port
    expected = [f"http://{address}:{port}/" for _name, address in interface_addresses()]
    if not expected:
        await user.should_see(marker="addresses-none")
        return
    for i, url in enumerate(expected):
        await user.should_see(url, marker=f"address-url-{i}")
    assert not any(url.startswith("http://127.") for url in expected)
    await user.should_see(marker="addresses-https-hint")  # served over HTTP: the camera needs HTTPS, it says
