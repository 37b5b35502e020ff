"""The after-sales flow in Chromium through the real demo server (issue 12, "Tests and benchmark"): from a car
ready in the workshop to the follow-up call three days later, each new step done in the browser as the person does
it; the API sets up what earlier issues' tests cover (check-in, the workshop up to ready) and reads back what a step
did.

The demo's site configuration points SMS at the local fake gateway (shopfloor.testing.fake_provider) with a
template code for "ready". 张伟 on /delivery ticks the completion check and tells the customer: the READY SMS reaches
the gateway once, to the customer's phone with that template code. 林静 on /cashier takes a split payment (bank card
with the terminal's reference, WeChat Pay for the rest). 张伟 walks the car with the customer, delivers it and the
sheet prints: the file printer's job decodes (GB18030) with the next service's date and the km that follows the
car's odometer (35,210 km → 40,000 km), not the bare interval. Three days later (the same data, `--at` three days
on) 孙丽 on /follow-up calls: a workmanship problem, registered important, and the red banner comes up live on
赵经理's /manager/figures in a second window. Screenshots: SHOPFLOOR_SHOTS (else the temp folder), flow-*.png."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shopfloor import settings as settings_mod
from shopfloor.credentials import MessageSecrets
from shopfloor.credentials import generate as generate_credentials
from shopfloor.credentials import write as write_credentials
from shopfloor.demo import seed
from shopfloor.i18n import Translator
from shopfloor.printer.inspect import parse
from shopfloor.services.settlement.delivery import CONDITIONAL, CONFIRMED, WALK
from shopfloor.testing import chromium_pages as chromium
from shopfloor.testing.browser_fixtures import TABLET
from shopfloor.testing.browser_fixtures import chromium as open_chromium
from shopfloor.testing.chromium_pages import click_xpath as _click
from shopfloor.testing.fake_provider import FakeProvider
from shopfloor.testing.plugin import DemoServer, start_server
from shopfloor.testing.polling import until_true as _until

ADVISOR, CASHIER, AGENT, MANAGER, TECHNICIAN = "张伟", "林静", "孙丽", "赵经理", "陈刚"
DAY = date(2026, 11, 23)  # a Monday: the car is delivered that day
AT = f"{DAY.isoformat()} 10:30"
CALL_AT = f"{(DAY + timedelta(days=3)).isoformat()} 10:00"  # the 3-day call
READY_CODE = "SMS_480010004"
ODOMETER, NEXT_KM = 35_210, 40_000  # a 5,000 km maintenance at 35,210 km: the 40,000 km service next
CARD_REFERENCE = "POS 6222 0210 8833"
WECHAT_REFERENCE = "4200001234202611230001"
PROBLEM = "回家后发现机油尺上的油位偏低，怀疑保养时机油没加够"
ZH = Translator("zh-CN")
DIALOG = "//div[contains(@class, 'q-dialog')]"
OPEN: dict[str, Any] = {}  # the windows open now, shot as they were when a step fails


# -- the site ------------------------------------------------------------------------------------------------------

def site_config(folder: Path, sms_url: str) -> Path:
    """The demo's configuration with SMS through the fake gateway, a template code for "ready" only (the other
    messages go to the advisor by hand), no quiet hours and quick retries."""
    text = settings_mod.demo_config_path().read_text(encoding="utf-8")
    text += f"""
[messages]
quiet_from = "00:00"
quiet_until = "00:00"
timeout_seconds = 3
retry_seconds = 1

[messages.sms]
url = "{sms_url}/"
sign_name = "北京朝阳4S店"

[messages.sms.template_codes]
ready = "{READY_CODE}"
"""
    path = folder / "site-sms.toml"
    path.write_text(text, encoding="utf-8")
    settings = settings_mod.load(path)
    assert settings.messages.sms is not None and settings.messages.sms.template_codes == {"ready": READY_CODE}
    return path


def site_credentials(data_dir: Path, printers: list[str]) -> None:
    """credentials.toml written before the demo's first start, with the gateway's [sms] keys (the demo adds what
    else it needs)."""
    creds = generate_credentials(seed.staff_names(), printers)
    creds.messages = MessageSecrets(sms_key_id="LTAI5tFlowTest", sms_key_secret="flow-test-secret")
    data_dir.mkdir(parents=True, exist_ok=True)
    write_credentials(data_dir / "credentials.toml", creds)


@pytest.fixture
def site(tmp_path: Path, fake_provider: FakeProvider) -> Iterator[tuple[Path, Path]]:
    """(data directory, site configuration) of a demo whose SMS goes to the fake gateway."""
    config = site_config(tmp_path, fake_provider.url)
    data_dir = tmp_path / "data"
    site_credentials(data_dir, [p.name for p in settings_mod.load(config).printers])
    yield data_dir, config


# -- helpers -------------------------------------------------------------------------------------------------------

def _shot(drv: Any, name: str) -> None:
    drv.save_screenshot(str(Path(chromium.SHOTS) / f"flow-{name}.png"))


def _window(stack: ExitStack, name: str, size: tuple[int, int] = TABLET) -> Any:
    drv = stack.enter_context(open_chromium(size))
    OPEN[name] = drv
    stack.callback(OPEN.pop, name, None)
    return drv


def _button(text: str, scope: str = "", *, starts: bool = False) -> str:
    """The xpath of a button whose own label is `text` (starts=True: begins with it), under `scope`."""
    test = f"starts-with(normalize-space(text()), '{text}')" if starts else f"normalize-space(text())='{text}'"
    return f"{scope}//button[.//*[{test}]]"


def _card(text: str) -> str:
    """The xpath of the card that shows `text` (an order's number) in one of its lines."""
    return f"//div[contains(@class, 'q-card')][.//*[contains(text(), '{text}')]]"


def _checkbox(label: str) -> str:
    return f"//div[@role='checkbox'][.//*[normalize-space(text())='{label}']]"


def _type(drv: Any, label: str, text: str, scope: str = "") -> None:
    """Type into the Quasar field labelled `label` (what was in it replaced)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = (f"{scope}//label[contains(@class, 'q-field')][.//div[contains(@class, 'q-field__label')]"
             f"[normalize-space()='{label}']]//*[self::input or self::textarea]")
    field = WebDriverWait(drv, 15).until(ec.element_to_be_clickable((By.XPATH, xpath)))
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)


def _sees(drv: Any, xpath: str, timeout: float = 20.0) -> Any:
    return _until(f"{xpath} on the page", lambda: drv.find_elements("xpath", xpath), timeout)[0]


def _until_or_empty(check: Any, timeout: float) -> Any:
    """What `check` gives within `timeout` seconds, polled every 0.2 s; its last (empty) answer after."""
    deadline = time.monotonic() + timeout
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _money(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


# -- the car up to ready (earlier issues' steps, through the API) -------------------------------------------------

def _ready_car(server: DemoServer) -> dict[str, Any]:
    """A car booked for today checked in at 35,210 km for its 5,000 km service, its customer told by SMS (the
    order's channel), worked and through the final inspection: ready. {number, plate, shown (the plate as
    printed), phone}."""
    waiting = [a for a in server.api("/api/v1/appointments")
               if a["status"] in ("booked", "confirmed", "late") and not a.get("ro_number") and a.get("tag")]
    cars = []
    for a in waiting:
        cars += [(c["preferred_channel"] != "sms", a, c) for c in server.api(
            f"/api/v1/customers?query={urllib.parse.quote(a['plate'])}") if c["plate"] == a["plate"] and c["phone"]]
    for _, a, customer in sorted(cars, key=lambda x: x[0]):  # a customer who chose SMS at booking first
        status, answer = server.call("POST", "/api/v1/checkins", {
            "tag": a["tag"], "mileage_km": ODOMETER, "mileage_confirmed": True, "operations": ["M05"]})
        assert status == 201, answer
        number = answer["repair_order"]["number"]
        # the order's channel for its messages, as the advisor settles it on the estimate
        status, answer = server.call("PATCH", f"/api/v1/repair-orders/{number}/estimate",
                                     {"followup_channel": "sms"})
        assert status == 200, answer
        for to, extra in (("dispatched", {"technician": TECHNICIAN}), ("in_progress", {}), ("quality_check", {}),
                          ("ready", {})):
            status, answer = server.call("POST", f"/api/v1/repair-orders/{number}/transitions", {"to": to, **extra})
            assert status == 200, (to, answer)
        return {"number": number, "plate": a["plate"], "shown": a["plate_display"], "phone": customer["phone"]}
    raise AssertionError("no appointment left to check in")


# -- the flow ------------------------------------------------------------------------------------------------------

@pytest.mark.browser
def test_ready_car_to_the_follow_up_call_and_the_managers_escalation(
        site: tuple[Path, Path], fake_provider: FakeProvider) -> None:
    data_dir, config = site
    started = time.monotonic()
    server = start_server(data_dir, "demo", "--at", AT, "--config", str(config))
    try:
        with ExitStack() as windows:
            try:
                car = _to_delivered(server, fake_provider, windows)
                server.stop()
                server = start_server(data_dir, "demo", "--at", CALL_AT, "--config", str(config))
                _three_days_later(server, car, windows)
            except BaseException:
                for name, drv in OPEN.items():  # what each window showed when the step failed
                    _shot(drv, f"failed-{name}")
                raise
    finally:
        server.stop()
    print(f"after-sales flow for {car['number']}: {time.monotonic() - started:.1f} s")


def _to_delivered(server: DemoServer, fake: FakeProvider, windows: ExitStack) -> dict[str, Any]:
    car = _ready_car(server)
    number = car["number"]

    def completion() -> Any:
        return server.api(f"/api/v1/repair-orders/{number}/completion")

    def settlement() -> Any:
        return server.api(f"/api/v1/repair-orders/{number}/settlement")

    # 1. the advisor's completion check, then "tell the customer": the READY SMS at the gateway, once
    advisor = _window(windows, "advisor")
    chromium.sign_in(advisor, server, ADVISOR, "/delivery")
    _click(advisor, _card(number), 20)
    _sees(advisor, f"//*[normalize-space(text())='{ZH('delivery.page.completion')}']")
    for key in CONFIRMED + CONDITIONAL:
        boxes = advisor.find_elements("xpath", _checkbox(ZH(f"delivery.item.{key}")))
        if boxes and boxes[0].get_attribute("aria-disabled") != "true" \
                and boxes[0].get_attribute("aria-checked") != "true":
            _click(advisor, _checkbox(ZH(f"delivery.item.{key}")))
    _shot(advisor, "1-completion-check")
    _click(advisor, _button(ZH("delivery.page.save_check")))
    _until("the completion check passed", lambda: completion()["passed"])
    assert {i["key"] for i in completion()["items"] if i["checked"]} >= {"lines_done", "final_inspection",
                                                                          *CONFIRMED}
    _click(advisor, _button(ZH("delivery.page.notify")))
    _until("the customer told", lambda: completion()["customer_notified_at"])

    def ready_sms() -> list[Any]:
        return [r for r in fake.accepted() if r.form.get("TemplateCode") == READY_CODE
                and r.form.get("PhoneNumbers") == car["phone"]]
    got = _until("the READY SMS at the gateway", ready_sms)
    messages = _until("the READY message sent", lambda: [
        m for m in server.api(f"/api/v1/repair-orders/{number}/messages")
        if m["template"] == "ready" and m["state"] == "sent"])
    assert [(m["channel"], m["template"]) for m in messages] == [("sms", "ready")]
    _sees(advisor, f"//*[starts-with(normalize-space(text()), '{ZH('delivery.page.notified', time='').strip()}')]")
    _until("told once: the button greyed", lambda: advisor.find_element(
        "xpath", _button(ZH("delivery.page.notify"))).get_attribute("disabled"))
    _shot(advisor, "1-customer-told")
    time.sleep(1.5)  # the sender's next rounds: still once
    assert len(ready_sms()) == len(got) == 1, [r.form for r in fake.messages()]
    assert got[0].form["SignName"] == "北京朝阳4S店"
    said = json.loads(got[0].form["TemplateParam"])  # the template's fields: about this car
    assert (said["plate"], said["work"]) == (car["shown"], "5000公里保养"), said

    # 2. the cashier: the bill, a split payment (bank card with the terminal's reference, WeChat Pay for the rest)
    bill = settlement()
    to_pay = Decimal(bill["to_pay"])
    assert to_pay > 0 and not bill["settled"], bill
    card = (to_pay / 2).quantize(Decimal("1"))
    cashier = _window(windows, "cashier")
    chromium.sign_in(cashier, server, CASHIER, "/cashier")
    _type(cashier, ZH("cashier.search"), car["shown"])  # read off the delivery desk, dot and all
    # each keystroke redraws the list: a tap on a card the next answer replaces is lost, as it would be for a
    # person, who taps again
    take = f"//*[normalize-space(text())='{ZH('cashier.take')}']"

    def tap_the_bill() -> list[Any]:
        _click(cashier, _card(number), 20)
        return _until_or_empty(lambda: cashier.find_elements("xpath", take), 3.0)

    _until("the bill open at the cashier", tap_the_bill, 30)
    _sees(cashier, f"//*[normalize-space(text())='{car['shown']}']")  # the plate as the other desks write it
    _click(cashier, _button(ZH("settlement.method.card")))
    _type(cashier, ZH("cashier.amount"), str(card))
    _type(cashier, ZH("cashier.reference_needed"), CARD_REFERENCE)
    _shot(cashier, "2-cashier-card")
    _click(cashier, _button(ZH("cashier.confirm_pay", amount=_money(card))))
    _until("the card payment", lambda: Decimal(settlement()["paid"]) == card)
    rest = to_pay - card
    _click(cashier, _button(ZH("settlement.method.wechat")))
    _type(cashier, ZH("cashier.reference_needed"), WECHAT_REFERENCE)
    _click(cashier, _button(ZH("cashier.confirm_pay", amount=_money(rest))))  # the rest, pre-filled
    bill = _until("the bill settled", lambda: (b := settlement())["settled"] and b)
    assert [(p["method"], Decimal(p["amount"]), p["reference"]) for p in bill["payments"]] == [
        ("card", card, CARD_REFERENCE), ("wechat", rest, WECHAT_REFERENCE)], bill["payments"]
    assert Decimal(bill["left"]) == 0
    _sees(cashier, f"//*[normalize-space(text())='{CARD_REFERENCE}']")
    _shot(cashier, "2-cashier-settled")

    # 3. the advisor walks the car with the customer and delivers it: the sheet prints with the next service
    advisor.get(f"{server.base}/delivery/{number}")
    _sees(advisor, f"//*[normalize-space(text())='{ZH('delivery.page.walk')}']")
    for key in WALK:
        _click(advisor, _checkbox(ZH(f"delivery.walk.{key}")))
    shown = completion()["next_service"]
    assert shown["km"] == NEXT_KM, shown
    told = ZH("delivery.page.next_service", date=shown["on"], km=f"{NEXT_KM:,}")  # what the advisor tells
    _sees(advisor, f"//*[normalize-space(text())='{told}']")
    _shot(advisor, "3-walk")
    tickets = data_dir_tickets(server)
    before = set(tickets.glob("*.bin"))
    # 交车 is also the menu's name of the page: the button with the key
    _click(advisor, f"//button[.//i[normalize-space(text())='key']]"
                    f"[.//*[normalize-space(text())='{ZH('delivery.page.deliver')}']]")
    order = _until("delivered", lambda: (o := server.api(f"/api/v1/repair-orders/{number}"))["status"] == "delivered"
                   and o)
    _sees(advisor, f"//*[starts-with(normalize-space(text()), '{ZH('delivery.page.status_delivered')}')]")
    stored = completion()["next_service"]
    assert (stored["on"], stored["km"], completion()["delivered_by"]) == (shown["on"], NEXT_KM, ADVISOR)
    sheet = _until("the delivery sheet printed", lambda: sorted(set(tickets.glob("*.bin")) - before))
    text = "\n".join(line.text for line in parse(sheet[-1].read_bytes(), "gb18030").lines)
    assert ZH("delivery.sheet.title") in text and car["shown"] in text and number in text, text
    assert stored["on"] in text, text
    assert ZH("delivery.sheet.or_km", km=f"{NEXT_KM:,}") in text, text  # 40,000, not the bare 5,000
    assert ZH("delivery.sheet.or_km", km="5,000") not in text
    _shot(advisor, "3-delivered")
    _click(advisor, _button(ZH("delivery.page.print_sheet")))  # a second copy from the delivered car
    again = _until("the sheet reprinted", lambda: sorted(set(tickets.glob("*.bin")) - before - set(sheet)))
    reprint = "\n".join(line.text for line in parse(again[-1].read_bytes(), "gb18030").lines)
    assert ZH("delivery.sheet.reprint") in reprint and ZH("delivery.sheet.or_km", km=f"{NEXT_KM:,}") in reprint
    car["delivered_on"] = order["closed_at"][:10]
    assert car["delivered_on"] == DAY.isoformat(), order["closed_at"]
    windows.close()
    return car


def data_dir_tickets(server: DemoServer) -> Path:
    """The reception printer's folder: the file printer's agent writes each job there as a .bin."""
    printer = settings_mod.load(server.data_dir / "site.toml").printers[0]
    return server.data_dir / (printer.path or f"tickets/{printer.name}")


def _three_days_later(server: DemoServer, car: dict[str, Any], windows: ExitStack) -> None:
    number = car["number"]
    due = (date.fromisoformat(car["delivered_on"]) + timedelta(days=3)).isoformat()
    [call] = [c for c in server.api(f"/api/v1/follow-ups?day={due}") if c["repair_order"] == number]
    assert (call["kind"], call["status"]) == ("3dc", "due"), call

    manager = _window(windows, "manager")
    chromium.sign_in(manager, server, MANAGER, "/manager/figures")
    agent = _window(windows, "agent")
    chromium.sign_in(agent, server, AGENT, "/follow-up")
    calling = f"{_card(number)}{_button(ZH('follow_up.page.call'))}"
    _click(agent, calling, 20)
    panel = f"{DIALOG}[.//*[normalize-space(text())='{ZH('follow_up.page.problem_title')}']]"
    _sees(agent, panel)
    _click(agent, f"{panel}//button[.//*[normalize-space(text())='{ZH('complaints.page.class.workmanship')}']]")
    _click(agent, f"{panel}//button[.//*[normalize-space(text())='{ZH('complaints.page.severity.important')}']]")
    _click(agent, f"{panel}//label[contains(@class, 'q-select')]")
    _click(agent, f"//div[contains(@class, 'q-menu')]//div[contains(@class, 'q-item')]"
                  f"[.//*[normalize-space(text())='{ZH('complaints.page.reason.safety')}']]")
    _type(agent, ZH("follow_up.page.problem_note"), PROBLEM, panel)
    _shot(agent, "4-follow-up-call")
    _click(agent, _button(ZH("follow_up.page.problem_register"), panel))
    made = _sees(agent, f"//*[starts-with(normalize-space(text()), "
                        f"'{ZH('follow_up.page.complaint_made', number='').split('#')[0]}#')]")
    found = re.search(r"#(\d+)", made.text)
    assert found is not None, made.text
    complaint_id = int(found.group(1))
    complaint = server.api(f"/api/v1/complaints/{complaint_id}")
    assert (complaint["repair_order"], complaint["class"], complaint["severity"], complaint["source"]) == (
        number, "workmanship", "important", "call"), complaint
    assert PROBLEM in complaint["text"] and complaint["important_because"] == "safety"
    done = server.api(f"/api/v1/follow-ups/{call['id']}")
    assert (done["status"], done["outcome"], done["class"], done["raised_complaint_id"], done["called_by"]) == (
        "done", "problem", "workmanship", complaint_id, AGENT), done
    _shot(agent, "4-complaint-registered")
    _click(agent, f"{DIALOG}//button[.//i[normalize-space(text())='close']]")  # the repair not booked now
    outcome = f"{ZH('follow_up.page.outcome.problem')} · {ZH('complaints.page.class.workmanship')}"
    _sees(agent, f"{_card(number)}//*[normalize-space(text())='{outcome}']")
    _shot(agent, "4-call-done")

    # the manager's page, open all along, shows the escalation without a reload
    banner = f"//*[starts-with(normalize-space(text()), '{ZH('complaints.page.escalation', number=complaint_id)} ·')]"
    _sees(manager, banner, 20)
    assert ZH("complaints.page.class.workmanship") in manager.find_element("xpath", banner).text
    _shot(manager, "5-manager-escalation")
