"""The order's messages on the advisor's tablet (Chromium, 1280×800): each state as a chip, a failure with the
provider's reason and "send again", a manual message's text and "sent" (which marks it sent, audited); a manual
reminder months ahead says from when it goes out and asks for nothing yet."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shopfloor import settings as settings_mod
from shopfloor.testing.chromium_pages import SHOTS, first_advisor, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer, start_server

pytestmark = pytest.mark.browser

MESSAGES = [  # template, channel, recipient, state, attempts, reason, due in days (None: due since minutes ago)
    ("checked_in", "sms", "13812345678", "sent", 1, None, None),
    ("promise_changed", "wechat", "oOPENID99887766", "failed", 6, "43004: require subscribe", None),
    ("additional_work", "sms", "13812345678", "uncertain", 1, "no answer after sending: timed out", None),
    ("ready", "manual", "", "manual", 0, None, None),
    ("thank_you", "sms", "13812345678", "queued", 0, None, 2),
    ("next_service", "manual", "", "manual", 0, None, 135),  # the next service's reminder, months ahead
]
LATER = 135
TEXTS = {"ready": "王先生您好，您的爱车{plate}已保养完毕，可以取车了。请致电 400-800-1234。",
         "next_service": "王先生您好，您的爱车{plate}快到保养时间了（2027-04-19或40,000公里），需要帮您预约吗？"}


@pytest.fixture
def server(tmp_path: Path) -> Any:
    server = start_server(tmp_path)
    yield server
    server.stop()


def add_messages(server: DemoServer) -> tuple[str, str]:
    """The messages above on the first open order (sqlite3: the server's own database); (number, plate)."""
    now = datetime.now(UTC)
    with sqlite3.connect(server.data_dir / "shopfloor.sqlite3") as db:
        ro_id, number, plate, customer_id, site = db.execute(
            "SELECT r.id, r.number, v.plate, v.customer_id, r.site_id FROM repair_orders r "
            "JOIN vehicles v ON v.id = r.vehicle_id WHERE r.status NOT IN ('delivered', 'cancelled') "
            "ORDER BY r.id LIMIT 1").fetchone()
        for i, (template, channel, recipient, state, attempts, reason, days) in enumerate(MESSAGES):
            at = (now - timedelta(minutes=50 - 10 * i)).strftime("%Y-%m-%d %H:%M:%S.%f")
            later = (now + timedelta(days=days or 0)).strftime("%Y-%m-%d %H:%M:%S.%f")
            db.execute(
                "INSERT INTO customer_messages (site_id, customer_id, repair_order_id, dedup_key, template, channel,"
                " language, recipient, subject, body, params, state, send_after, attempts, provider_id,"
                " provider_reason, created_at, created_by, sent_at, updated_at) VALUES"
                " (?, ?, ?, ?, ?, ?, 'zh-CN', ?, '', ?, '{}', ?, ?, ?, NULL, ?, ?, 'system', ?, ?)",
                (site, customer_id, ro_id, f"{template}:{number}", template, channel, recipient,
                 TEXTS.get(template, "…").format(plate=plate), state, later if days else at, attempts, reason, at,
                 at if state == "sent" else None, at))
    return number, plate


def test_an_orders_messages_on_the_advisors_panel(server: DemoServer, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    number, plate = add_messages(server)
    sign_in(driver, server, first_advisor(server), "/kiosk?lang=zh-CN")
    wait_for(driver, f'[data-plate="{plate}"]', state="clickable").click()
    wait_for(driver, "[data-testid=ro-panel]")
    wait_for(driver, "div.q-card .q-icon.text-purple", timeout=20)  # the messages are read after the panel
    chips = driver.find_elements(By.XPATH, "//*[contains(@class,'q-badge')]")
    texts = [c.text for c in chips]
    for expected in ("已发送", "发送失败", "不确定是否已发送", "需手动发送", "待发送"):
        assert expected in texts, texts
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "43004: require subscribe" in body and "138****5678" in body and "13812345678" not in body
    assert "已保养完毕，可以取车了" in body and "请亲自发送以下内容" in body
    # the reminder for later: from when, its text for reference, nothing to press
    tz = settings_mod.load(settings_mod.demo_config_path()).site.tz
    due = (datetime.now(UTC) + timedelta(days=LATER)).astimezone(tz).strftime("%Y-%m-%d")
    assert "到期后手动发送" in texts and f"{due} 起发送" in body and "现在不用发送" in body
    [later] = driver.find_elements(By.XPATH, "//div[contains(@class,'q-card')][.//*[text()='下次保养提醒']]")
    assert "快到保养时间了" in later.text and "已发送" not in later.text
    heading = driver.find_element(By.XPATH, "//*[normalize-space(text())='客户消息']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", heading)
    driver.save_screenshot(f"{SHOTS}/messages_panel.png")
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", later)
    driver.save_screenshot(f"{SHOTS}/messages_panel_later.png")

    done = driver.find_elements(By.XPATH, "//button[.//*[normalize-space(text())='已发送']]")
    assert len(done) == 2  # the manual one due now and the uncertain one; not the reminder for later
    done[-1].click()  # the manual text, sent by hand
    wait_for(driver, ".q-notification", timeout=10)
    status, messages = server.call("GET", f"/api/v1/repair-orders/{number}/messages")
    assert status == 200
    assert {m["template"]: m["state"] for m in messages}["ready"] == "sent"
