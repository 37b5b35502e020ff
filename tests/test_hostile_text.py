"""Stored XSS (issue 9, item 3): text that reaches a page from the bus or from the database is shown as text and
never runs. Hostile text goes everywhere a page can read it — into every free-text field of every retained state
on the bus (published as the server's account would, and a printer status as the printer's own account would),
and into the database through the services (customer names, vehicle model, open items, work, job lines, part
numbers, notes, override reasons, call notes, complaints) — and then each staff page, the wall boards and the
lounge are opened in headless Chromium: the marker the hostile text sets when it runs stays unset, no element
carries an injected `on…` handler or image, and the text is there to read, as typed."""

from __future__ import annotations

import json
import secrets
import threading
import time
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import pytest
from pydantic import BaseModel

from shopfloor import settings as settings_mod
from shopfloor.clock import OffsetClock
from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.contract.entity_states import STATE_MODELS
from shopfloor.credentials import MqttAccount
from shopfloor.credentials import loads as load_credentials
from shopfloor.db import Database, sqlite_url
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.domain.models import Appointment
from shopfloor.services.booking import BookingRequest, BookingService, WorkLine
from shopfloor.services.checkin import CheckinRequest, CheckinService
from shopfloor.services.context import ServiceContext
from shopfloor.services.customers import CustomerService
from shopfloor.testing.chromium_pages import sign_in, wait_for
from shopfloor.testing.plugin import DemoServer, start_server

pytestmark = pytest.mark.browser

MARK = "__xss"  # the global the hostile text sets when it runs: which field ran


def hostile(where: str) -> str:
    """Breaks out of a props string into an evaluated `:title` prop, and out of text into an element with a
    handler: either one that runs tells `where` it came from."""
    return f'" :title="{MARK}=\'{where}\'" <img src=x onerror="{MARK}=\'{where}\'">'


# The database keeps names short (surname 20, given name 40 characters, model 60): one trick each.
SURNAME = f'" :a="{MARK}=\'sn\'"'
GIVEN_NAME = f"<img src=x onerror={MARK}='gn'>"
MODEL = hostile("model")
DB_TEXTS = {"work": hostile("work"), "line": hostile("line"), "parts": hostile("parts"), "notes": hostile("notes"),
            "why": hostile("why"), "item": hostile("item"), "complaint": hostile("complaint"),
            "call": hostile("call")}
# the server's own free-text fields whose format the contract fixes, or that route a message (its site)
_KEPT = {"site", "number"}


# --- hostile copies of the bus's retained states -----------------------------------------------------------------

def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The payload model inside `X`, `X | None` or `list[X]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        return next((m for a in typing.get_args(annotation) if (m := _model_in(a)) is not None), None)
    return None


def _free_text(annotation: Any, metadata: list[Any]) -> bool:
    """A plain `str` (or `str | None`) field: no validator, no enumeration, no date format."""
    if metadata:
        return False
    return annotation is str or (typing.get_origin(annotation) in (typing.Union, types.UnionType)
                                 and set(typing.get_args(annotation)) == {str, type(None)})


def hostile_copy(model: type[BaseModel], data: dict[str, Any], where: str) -> dict[str, Any]:
    """`data` with every free text of `model` (nested ones too) replaced by hostile text naming its field."""
    out = dict(data)
    for name, field in model.model_fields.items():
        key = field.alias or name
        value = out.get(key)
        if key in _KEPT or value is None:
            continue
        inner = _model_in(field.annotation)
        if isinstance(value, str) and _free_text(field.annotation, field.metadata):
            out[key] = hostile(f"{where}.{key}")
        elif inner is not None and isinstance(value, dict):
            out[key] = hostile_copy(inner, value, f"{where}.{key}")
        elif inner is not None and isinstance(value, list):
            out[key] = [hostile_copy(inner, v, f"{where}.{key}") if isinstance(v, dict) else v for v in value]
    return out


class Bus:
    """A paho client on the demo's broker with one account: the latest payload of each topic it reads, and
    publishing retained."""

    def __init__(self, server: DemoServer, account: MqttAccount, filters: list[str]) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        creds = load_credentials((server.data_dir / "credentials.toml").read_text(encoding="utf-8"))
        self.latest: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.ready = threading.Event()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"xss-test-{secrets.token_hex(4)}", protocol=paho.MQTTv311)
        self.client.username_pw_set(account.username, account.password)

        def on_connect(client: paho.Client, _u: object, _f: object, rc: object, _p: object) -> None:
            for f in filters:
                client.subscribe(f, qos=1)
            self.ready.set()

        def on_message(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
            with self._lock:
                self.latest[msg.topic] = bytes(msg.payload)

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.connect(creds.broker_host, creds.broker_port, keepalive=10)
        self.client.loop_start()
        assert self.ready.wait(10), "no connection to the demo's broker"

    def settled(self, until: Callable[[dict[str, bytes]], bool], quiet: float = 1.0,
                timeout: float = 20.0) -> dict[str, bytes]:
        """The latest payloads once `until` holds and nothing has changed for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        before: dict[str, bytes] | None = None
        while time.monotonic() < deadline:
            with self._lock:
                now = dict(self.latest)
            if now == before and until(now):
                return now
            before = now
            time.sleep(quiet)
        raise AssertionError("the bus never settled with what the test waits for")

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- the demo, with hostile text in its database and on its bus ---------------------------------------------------

@dataclass
class HostileSite:
    server: DemoServer
    plate: str  # the checked-in car with hostile customer, order and appointment texts
    waiting_plate: str  # a car booked today, not yet here: the kiosk's check-in form
    waiting_tag: str
    appointment_id: int


def _site_clock(tz: Any) -> OffsetClock:
    """The clock of `shopfloor demo --time 10:30`: today at 10:30 in the site's zone (cli._demo_clock)."""
    now = datetime.now(tz)
    moment = datetime.combine(now.date(), clock_time(10, 30), tzinfo=tz)
    return OffsetClock(moment.astimezone(UTC) - now.astimezone(UTC))


def _fill_database(server: DemoServer) -> tuple[str, str, str, int]:
    """Two new customers with hostile names and texts: one booked today and checked in (an open repair order),
    one booked today and tomorrow (the kiosk's check-in form, tomorrow's calls and parts pre-pick)."""
    settings = settings_mod.load(server.data_dir / "site.toml")
    db = Database(sqlite_url(server.data_dir / "shopfloor.sqlite3"))
    ctx = ServiceContext(db, settings, _site_clock(settings.site.tz))
    customers, booking, checkin = CustomerService(ctx), BookingService(ctx), CheckinService(ctx)
    today = ctx.now().astimezone(ctx.tz).date()
    suffix = secrets.randbelow(9000) + 1000
    cars = []
    try:
        for n, plate in enumerate((f"京X{suffix}Z", f"京X{suffix}Y")):
            car = customers.create(
                plate=plate, vin=with_check_digit(f"LSVXS{suffix:04d}0{n}9{suffix:05d}"[:17]), model=MODEL,
                surname=SURNAME, given_name=GIVEN_NAME, salutation="先生", phone=f"1390000{suffix:04d}",
                mileage_km=12_000, sold_on=today - timedelta(days=80), actor="xss-test")
            customers.add_item(car["vehicle_id"], "recall", DB_TEXTS["item"], part_numbers=DB_TEXTS["parts"])
            cars.append(car)

        def book(car: dict[str, Any], day: date, hour: int, advisor: int | None = None) -> dict[str, Any]:
            start = datetime.combine(day, clock_time(hour, 0), tzinfo=ctx.tz)
            return booking.book(BookingRequest(
                start=start, lines=[WorkLine(DB_TEXTS["line"], 1.0)], actor="xss-test", advisor_id=advisor,
                vehicle_id=car["vehicle_id"], work=DB_TEXTS["work"], override_reason=DB_TEXTS["why"],
                parts_status="to_order", parts_eta=day, parts_numbers=DB_TEXTS["parts"], notes=DB_TEXTS["notes"],
                waiting_customer=True))

        here, waiting = cars
        # the waiting car first, so that the other's booking at the same time with the same advisor breaks the
        # stagger rule whatever the demo's day holds: only an override stores its reason (hostile, in the details)
        beside = book(waiting, today, 15)
        with db.read() as s:
            advisor = s.get_one(Appointment, beside["id"]).advisor_id
        appointment = book(here, today, 15, advisor)
        assert appointment["overrides"], "the booking broke no rule: no override reason to show"
        checkin.check_in(CheckinRequest(tag=here["tag"], actor="xss-test", complaint=DB_TEXTS["complaint"],
                                        mileage_km=12_500))
        tomorrow = book(waiting, today + timedelta(days=1), 9)
        booking.record_call(tomorrow["id"], "unreachable", actor="xss-test", note=DB_TEXTS["call"])
    finally:
        db.dispose()
    return here["plate"], waiting["plate"], waiting["tag"], appointment["id"]


def _spoil_the_bus(server: DemoServer, keep: set[str]) -> None:
    """Every retained state republished as the server's account with hostile text in each free-text field (and a
    newer version, so every page takes it), but those of the cars in `keep`: their hostile text comes from the
    database, and the test finds them by their plates. Then each printer's status as that printer's own account:
    one hostile and off the contract (no page may see it), one hostile within it."""
    creds = load_credentials((server.data_dir / "credentials.toml").read_text(encoding="utf-8"))
    site = "demo"
    bus = Bus(server, creds.account(Role.SERVER), [f"{topics.ROOT}/{site}/+/+/state"])
    try:
        def complete(states: dict[str, bytes]) -> bool:
            """A state of every kind, and the kept cars' appointments sent by the server's outbox publisher."""
            kinds = {parsed.kind for topic in states if (parsed := topics.parse_state(topic)) is not None}
            plates = {json.loads(raw).get("plate") for raw in states.values() if raw}
            return set(STATE_MODELS) <= kinds and keep <= plates

        for topic, raw in bus.settled(until=complete).items():
            parsed = topics.parse_state(topic)
            if parsed is None or not raw:
                continue
            model = STATE_MODELS[parsed.kind]
            state = json.loads(raw)
            if state.get("plate") in keep:
                continue
            spoiled = hostile_copy(model, state, parsed.kind) | {"version": state["version"] + 10**13}
            payloads.parse(model, payloads.encode(spoiled))  # still on the contract: no page drops it
            bus.publish(topic, payloads.encode(spoiled))
    finally:
        bus.close()
    for printer in creds.printers:
        agent = Bus(server, creds.printer_account(printer), [])
        try:
            topic = topics.printer_status(site, printer)
            off_contract = payloads.encode({"schema": 1, "printer": printer, "status": hostile("status"),
                                            "detail": "", "version": 1})
            agent.publish(topic, off_contract)
            agent.publish(topic, payloads.encode(payloads.printer_status(
                printer=hostile("printer"), status="paper_out", detail=hostile("detail"), version=2)))
        finally:
            agent.close()


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileSite]:
    server = start_server(tmp_path_factory.mktemp("demo-xss"), "demo", "--time", "10:30")
    try:
        plate, waiting_plate, waiting_tag, appointment_id = _fill_database(server)
        _spoil_the_bus(server, {plate, waiting_plate})
        yield HostileSite(server, plate, waiting_plate, waiting_tag, appointment_id)
    finally:
        server.stop()


# --- in Chromium -----------------------------------------------------------------------------------------------

_INJECTED = """
const handlers = [];
for (const el of document.querySelectorAll('*')) {
  for (const attr of el.attributes) {
    if (attr.name.startsWith('on')) handlers.push(el.tagName + ' ' + attr.name + '=' + attr.value);
  }
}
const ran = window[arguments[0]];
return {ran: ran === undefined ? null : String(ran), handlers: handlers,
        images: document.querySelectorAll('img[src="x"]').length, text: document.body.textContent};
"""


def _wait(drv: Any, css: str, timeout: float = 20.0) -> Any:
    return wait_for(drv, css, timeout)


def _wait_for_text(drv: Any, text: str, timeout: float = 20.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(drv, timeout, poll_frequency=0.2).until(
        lambda d: text in d.execute_script("return document.body.textContent"), f"{text!r} never shown")


def _nothing_ran(drv: Any, page: str, *texts: str) -> None:
    """The marker unset, no injected handler or image, and each of `texts` on the page as typed."""
    time.sleep(0.5)  # a late update from the bus would render now
    found = drv.execute_script(_INJECTED, MARK)
    assert found["ran"] is None, f"{page}: hostile text ran ({found['ran']})"
    assert not found["handlers"], f"{page}: injected handlers {found['handlers'][:5]}"
    assert not found["images"], f"{page}: injected <img>"
    for text in texts:
        assert text in found["text"], f"{page}: {text!r} not shown as text"


def _with_attribute(drv: Any, name: str, value: str) -> bool:
    return bool(drv.execute_script(
        "return Array.from(document.querySelectorAll('[' + arguments[0] + ']'))"
        ".some(e => e.getAttribute(arguments[0]) === arguments[1])", name, value))


MANAGER = "赵经理"


def test_staff_pages_show_hostile_text_as_text(hostile_site: HostileSite, driver: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    site, server = hostile_site, hostile_site.server
    order_plate = hostile("repair-orders.plate_display")
    sign_in(driver, server, MANAGER, timeout=20)

    # /kiosk: the open orders from the bus, then the checked-in car's order (from the database), then a scan
    driver.get(server.base + "/kiosk")
    _wait_for_text(driver, order_plate)
    _nothing_ran(driver, "/kiosk open orders", order_plate, hostile("repair-orders.customer"))
    assert _with_attribute(driver, "data-plate", hostile("repair-orders.plate")), \
        "the plate is not on its list item as an attribute"
    _wait(driver, f'[data-plate="{site.plate}"]').click()
    _wait_for_text(driver, DB_TEXTS["complaint"])
    _nothing_ran(driver, "/kiosk order", DB_TEXTS["complaint"], MODEL)
    driver.get(server.base + "/kiosk")
    _wait(driver, "[data-testid=scan-hint]")
    ActionChains(driver).send_keys(site.waiting_tag + Keys.ENTER).perform()  # as a keyboard-wedge scanner types it
    _wait(driver, "[data-testid=scan-plate]")
    _nothing_ran(driver, "/kiosk check-in form", MODEL)

    # /calls: tomorrow's calls, the parts pre-pick and the printers' status
    driver.get(server.base + "/calls")
    _wait(driver, f'[data-plate="{site.waiting_plate}"]')
    _nothing_ran(driver, "/calls confirmation calls", DB_TEXTS["work"], SURNAME)
    _wait(driver, "[data-tab=parts]").click()
    _wait(driver, f'[data-testid=pick-list] [data-plate="{site.waiting_plate}"]')
    _wait(driver, "[data-printer=parts][data-printer-status=paper_out]")
    # the part numbers are shown one by one (split at commas and spaces)
    _nothing_ran(driver, "/calls parts pre-pick", DB_TEXTS["work"], "<img", "onerror=\"__xss='parts'\">")

    # /booking: the customer search and the car's overview (open items, visits, appointments)
    driver.get(server.base + "/booking")
    _wait(driver, "input[data-testid=customer-search]").send_keys(site.plate[1:6])
    _wait(driver, f'[data-plate="{site.plate}"]').click()
    _wait(driver, "[data-testid=vehicle-plate]")
    _wait_for_text(driver, DB_TEXTS["item"])
    _nothing_ran(driver, "/booking", DB_TEXTS["item"], MODEL)

    # /manager/board: the day's cards (from the database), and one card's details (lines, overrides, history)
    # (a card has its work line only while its lane has room for four lines: a full day at 1280×800 has not, so
    # the work is looked for in the details, which always show it)
    driver.get(server.base + "/manager/board")
    _wait(driver, f'[data-id="{site.appointment_id}"]')
    _wait_for_text(driver, SURNAME)
    _nothing_ran(driver, "/manager/board", SURNAME)
    _wait(driver, f'[data-id="{site.appointment_id}"]').click()
    _wait_for_text(driver, DB_TEXTS["why"])
    _nothing_ran(driver, "/manager/board details", MODEL, DB_TEXTS["work"], DB_TEXTS["line"], DB_TEXTS["why"])

    # the wall boards and the lounge
    token = server.credentials["boards"]["token"]
    for path, text in ((f"/board/appointments?token={token}", hostile("appointments.customer")),
                       (f"/board/progress?token={token}", hostile("technicians.name")),
                       ("/lounge", hostile("lounge.customer_masked"))):
        driver.get(server.base + path)
        _wait_for_text(driver, text)
        _nothing_ran(driver, path.split("?")[0], text)


def test_hostile_copy_changes_only_free_text() -> None:
    """The test's own tool: the contract's formats (times, enumerations, numbers) and the routing stay."""
    state = {"schema": 1, "version": 7, "site": "demo", "number": "RO1", "status": "checked_in",
             "hold_reason": None, "plate": "京A12345", "plate_display": "京A·12345", "vehicle_model": "卡罗拉",
             "customer": "王先生", "advisor": {"id": 1, "name": "张伟", "code": "A"}, "technician": None,
             "appointment_id": None, "promised_at": "2026-11-23T16:00:00+08:00",
             "opened_at": "2026-11-23T09:00:00+08:00", "closed_at": None, "work": "保养",
             "job_lines": [{"code": "M10", "description": "机油", "hours": 1.0, "skill": "maintenance"}],
             "total_hours": 1.0, "complaint": "", "mileage_km": 1, "fuel_eighths": 4}
    model = STATE_MODELS[topics.REPAIR_ORDERS]
    spoiled = hostile_copy(model, state, "ro")
    assert payloads.parse(model, payloads.encode(spoiled)) is not None
    assert spoiled["plate"] == hostile("ro.plate") and spoiled["advisor"]["name"] == hostile("ro.advisor.name")
    assert spoiled["job_lines"][0]["description"] == hostile("ro.job_lines.description")
    unchanged = ("site", "number", "status", "promised_at", "opened_at", "total_hours", "hold_reason")
    assert {k: spoiled[k] for k in unchanged} == {k: state[k] for k in unchanged}
