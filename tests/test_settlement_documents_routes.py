"""The settlement list's staff browser routes (issue 12): /documents/settlement-list/<number>.pdf opens with a staff
session that may read the settlement, /documents/settlement-export with one that may export; strangers get 401,
others 403. The data page shows the JT/T 1132 export to those who may export only."""

from __future__ import annotations

import io

import httpx
from nicegui import app
from nicegui.testing import User
from pypdf import PdfReader

from shopfloor.main import Shopfloor
from shopfloor.testing.simulated_browser import sees, sign_in, staff_member
from shopfloor.testing.workshop import new_order


async def test_the_list_and_the_export_open_with_a_staff_session(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    number = new_order(system, "OIL")  # type: ignore[arg-type]  # the server has the db and checkin it uses
    pdf_url = f"/documents/settlement-list/{number}.pdf"
    today = system.ctx.now().astimezone(system.ctx.tz).date().isoformat()
    export_url = f"/documents/settlement-export?from={today}&to={today}&format=csv"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as stranger:
        assert (await stranger.get(pdf_url)).status_code == 401
        assert (await stranger.get(export_url)).status_code == 401
    await sign_in(user, staff_member(system, "张伟"))  # an advisor: reads the settlement, does not export
    assert user.http_client is not None

    answer = await user.http_client.get(pdf_url)

    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert "机动车维修结算清单" in text and number in text
    assert (await user.http_client.get("/documents/settlement-list/RO-NOPE.pdf")).status_code == 404
    assert (await user.http_client.get(export_url)).status_code == 403


async def test_the_manager_exports_from_the_data_page(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "赵经理"))
    assert user.http_client is not None
    await user.open("/data")
    assert await sees(user, marker="jtt1132-export")
    today = system.ctx.now().astimezone(system.ctx.tz).date()

    csv = await user.http_client.get(f"/documents/settlement-export?from={today}&to={today}&format=csv")
    wrong = await user.http_client.get(f"/documents/settlement-export?from={today}&to=2020-01-01&format=csv")

    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert csv.content.decode("utf-8-sig").startswith("costlistcode,companyname")
    assert wrong.status_code == 422 and "2020-01-01" in wrong.json()["detail"]


async def test_customer_service_sees_no_export(staff_app: tuple[User, Shopfloor]) -> None:
    user, system = staff_app
    await sign_in(user, staff_member(system, "孙丽"))
    await user.open("/data")
    await user.should_see(marker="import-upload")
    assert not await sees(user, marker="jtt1132-export")
