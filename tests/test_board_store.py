"""The boards' in-memory state (BoardStore), what it hands the browser (cards), and the MQTT feed into it."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shopfloor.board import cards
from shopfloor.board.feed import BoardFeed, default_filters
from shopfloor.board.store import BoardStore, ClientPresence
from shopfloor.contract import access, payloads, topics
from shopfloor.contract.access import Role
from shopfloor.testing.polling import eventually_async

SITE = "test"
TZ = ZoneInfo("Asia/Shanghai")
RO_TOPIC = topics.state(SITE, topics.REPAIR_ORDERS, 7)


def ro(version: int, status: str = "in_progress", **extra: Any) -> dict[str, Any]:
    """A repair-order state in the shape of services/views.py."""
    return {
        "schema": 1, "version": version, "site": SITE, "number": "RO20261123-007", "status": status,
        "hold_reason": None, "plate": "京A12345", "plate_display": "京A·12345", "vehicle_model": "卡罗拉",
        "customer": "王先生", "advisor": {"id": 1, "name": "张伟", "code": "A"},
        "technician": {"id": 3, "name": "赵磊"}, "appointment_id": None,
        "promised_at": "2026-11-23T16:30:00+08:00", "opened_at": "2026-11-23T09:10:00+08:00", "closed_at": None,
        "work": "20000公里保养", "job_lines": [], "total_hours": 1.8, "complaint": "保养", "mileage_km": 20130,
        "fuel_eighths": 4, **extra,
    }


def lounge_state(version: int, status: str = "in_progress") -> dict[str, Any]:
    """A lounge state in the shape of services/views.py: masked, nothing personal."""
    return {"schema": 1, "version": version, "site": SITE, "number": "RO20261123-007", "plate_masked": "京A·***45",
            "customer_masked": "王先生", "status": status, "promised_at": "2026-11-23T16:30:00+08:00",
            "needs_customer": False}


def raw(payload: dict[str, Any]) -> bytes:
    return payloads.encode(payload)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any] | None]] = []

    def __call__(self, kind: str, entity_id: str, state: dict[str, Any] | None) -> None:
        self.calls.append((kind, entity_id, state))


@pytest.fixture
def store() -> BoardStore:
    return BoardStore(SITE)


# -- versions -------------------------------------------------------------------------------------------

def test_newer_version_replaces_and_notifies(store: BoardStore) -> None:
    seen = Recorder()
    store.changed.subscribe(seen)
    store.apply(RO_TOPIC, raw(ro(100, "dispatched")))
    store.apply(RO_TOPIC, raw(ro(101, "in_progress")))
    state = store.get(topics.REPAIR_ORDERS, "7")
    assert state is not None and state["status"] == "in_progress"
    assert [(k, e, s["version"] if s else None) for k, e, s in seen.calls] == [
        (topics.REPAIR_ORDERS, "7", 100), (topics.REPAIR_ORDERS, "7", 101)]


@pytest.mark.parametrize("version", [99, 100])
def test_stale_or_equal_version_is_ignored(store: BoardStore, version: int, caplog: pytest.LogCaptureFixture) -> None:
    store.apply(RO_TOPIC, raw(ro(100, "ready")))
    seen = Recorder()
    store.changed.subscribe(seen)
    with caplog.at_level(logging.DEBUG, logger="shopfloor.board.store"):
        store.apply(RO_TOPIC, raw(ro(version, "dispatched")))
    state = store.get(topics.REPAIR_ORDERS, "7")
    assert state is not None and state["status"] == "ready"
    assert seen.calls == []
    assert any(r.levelno == logging.DEBUG and "not newer" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_empty_payload_deletes(store: BoardStore) -> None:
    store.apply(RO_TOPIC, raw(ro(100)))
    seen = Recorder()
    store.changed.subscribe(seen)
    store.apply(RO_TOPIC, b"")
    assert store.get(topics.REPAIR_ORDERS, "7") is None
    assert seen.calls == [(topics.REPAIR_ORDERS, "7", None)]
    store.apply(RO_TOPIC, b"")  # deleting what is not there: nothing to tell anyone
    assert len(seen.calls) == 1
    store.apply(RO_TOPIC, raw(ro(5)))  # after a delete any version is new (a demo reset starts over)
    assert store.get(topics.REPAIR_ORDERS, "7") is not None


@pytest.mark.parametrize(("garbage", "problem"), [
    (b"{not json", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (json.dumps({"status": "ready"}).encode(), "version"),
    (json.dumps({"status": "ready", "version": "12"}).encode(), "version"),
    (json.dumps({"status": "ready", "version": True}).encode(), "version"),
])
def test_garbled_payload_is_logged_once_and_old_state_kept(
        store: BoardStore, garbage: bytes, problem: str, caplog: pytest.LogCaptureFixture) -> None:
    store.apply(RO_TOPIC, raw(ro(100, "dispatched")))
    seen = Recorder()
    store.changed.subscribe(seen)
    with caplog.at_level(logging.DEBUG, logger="shopfloor.board.store"):
        store.apply(RO_TOPIC, garbage)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert RO_TOPIC in warnings[0].getMessage() and problem in warnings[0].getMessage()
    state = store.get(topics.REPAIR_ORDERS, "7")
    assert state is not None and state["status"] == "dispatched"
    assert seen.calls == []


@pytest.mark.parametrize("topic", [
    topics.event(SITE, topics.REPAIR_ORDERS, 7),
    topics.client_status(SITE, "board", "board-feed-test"),
    f"{topics.ROOT}/{SITE}/unknown-kind/7/state",
    "something/else/entirely",
    topics.state("other-site", topics.REPAIR_ORDERS, 7),
])
def test_topics_that_are_not_this_sites_state_are_ignored(store: BoardStore, topic: str) -> None:
    seen = Recorder()
    store.changed.subscribe(seen)
    store.apply(topic, raw(ro(100)))
    assert len(store) == 0
    assert seen.calls == []


def test_printer_status_is_kept_apart(store: BoardStore) -> None:
    status = payloads.printer_status(printer="workshop", status=payloads.PRINTER_PAPER_OUT, detail="", version=3)
    store.apply(topics.printer_status(SITE, "workshop"), raw(status))
    assert store.printer_status["workshop"]["status"] == "paper_out"
    assert len(store) == 0


def test_a_printer_agent_is_a_client_by_its_printers_status(store: BoardStore) -> None:
    # the agent has no clients/ topic: its printer's status (its last will says offline) is its availability
    topic, started = topics.printer_status(SITE, "workshop"), 1_800_000_000_000_000

    def say(status: str, detail: str, version: int, retained: bool = False) -> None:
        store.apply(topic, raw(payloads.printer_status(printer="workshop", status=status, detail=detail,
                                                       version=version)), retained)

    say(payloads.PRINTER_ONLINE, "", started)
    assert store.clients["printer/workshop"] == ClientPresence("printer", "workshop", True, started / 1e6)
    say(payloads.PRINTER_OFFLINE, "printer 10.0.0.9:9100: connection refused", started + 5)  # the printer, not it
    say(payloads.PRINTER_PAPER_OUT, "paper out", started + 9)
    assert store.clients["printer/workshop"] == ClientPresence("printer", "workshop", True, started / 1e6)
    say(payloads.PRINTER_OFFLINE, payloads.AGENT_STOPPED, started + 60_000_000)
    assert store.clients["printer/workshop"] == ClientPresence("printer", "workshop", False, started / 1e6 + 60)
    store.clients.clear()
    say(payloads.PRINTER_OFFLINE, payloads.AGENT_CONNECTION_LOST, started, retained=True)  # a will from before
    assert store.clients["printer/workshop"] == ClientPresence("printer", "workshop", False, None)
    store.apply(topic, b"", True)
    assert "printer/workshop" not in store.clients


@pytest.mark.parametrize("change", [
    {"status": 5},  # a number where text belongs
    {"detail": None},
    {"status": "on_fire"},  # not one of the documented statuses
    {"printer": ["workshop"]},
    {"version": "4"},
    {"colour": "red"},  # a key the contract does not have
])
def test_a_printer_status_off_contract_is_dropped_before_a_page_reads_it(
        store: BoardStore, change: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.printer_choice import PrinterChoice
    from shopfloor.settings import PrinterSettings

    topic = topics.printer_status(SITE, "workshop")
    known = payloads.printer_status(printer="workshop", status=payloads.PRINTER_PAPER_OUT, detail="", version=3)
    choice = PrinterChoice([PrinterSettings(name="workshop"), PrinterSettings(name="reception")], store)
    store.apply(topic, raw(known))
    store.apply(topic, raw({**known.to_dict(), **change}))
    store.apply(topics.printer_status(SITE, "reception"), raw({**known.to_dict(), "printer": "reception", **change}))
    assert store.printer_status == {"workshop": known.to_dict()}  # the last good word stands; none is none
    assert sum(r.levelno == logging.WARNING and "printer status" in r.getMessage() for r in caplog.records) == 2
    t = Translator("en")
    assert choice.options(t) == {"workshop": f"workshop · {t('printer_status.paper_out')}",
                                 "reception": f"reception · {t('printer_status.unknown')}"}


# -- listeners ------------------------------------------------------------------------------------------

def test_unsubscribed_listener_is_not_called(store: BoardStore) -> None:
    seen = Recorder()
    store.changed.subscribe(seen)
    store.apply(RO_TOPIC, raw(ro(100)))
    store.changed.unsubscribe(seen)
    store.changed.unsubscribe(seen)  # a page torn down twice must not raise
    store.apply(RO_TOPIC, raw(ro(101)))
    assert len(seen.calls) == 1
    assert store.listener_count == 0


def test_a_failing_listener_does_not_starve_the_others(store: BoardStore, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("screen gone")

    seen = Recorder()
    store.changed.subscribe(broken)
    store.changed.subscribe(seen)
    store.apply(RO_TOPIC, raw(ro(100)))
    assert len(seen.calls) == 1
    assert "screen gone" in caplog.text


def test_listener_may_unsubscribe_itself_while_notified(store: BoardStore) -> None:
    calls: list[str] = []

    def once(kind: str, entity_id: str, _state: object) -> None:
        calls.append(entity_id)
        store.changed.unsubscribe(once)

    store.changed.subscribe(once)
    second = Recorder()
    store.changed.subscribe(second)
    store.apply(RO_TOPIC, raw(ro(100)))
    store.apply(RO_TOPIC, raw(ro(101)))
    assert calls == ["7"]
    assert len(second.calls) == 2


# -- resync after a reconnect ----------------------------------------------------------------------------

def test_resync_drops_entities_the_broker_no_longer_has(store: BoardStore) -> None:
    gone = topics.state(SITE, topics.REPAIR_ORDERS, 8)
    store.apply(RO_TOPIC, raw(ro(100)))
    store.apply(gone, raw(ro(100)))
    seen = Recorder()
    store.changed.subscribe(seen)
    store.begin_resync()
    store.apply(RO_TOPIC, raw(ro(100)))  # re-announced (same version: no change, but still there)
    assert store.end_resync() == 1
    assert store.get(topics.REPAIR_ORDERS, "7") is not None
    assert store.get(topics.REPAIR_ORDERS, "8") is None
    assert seen.calls == [(topics.REPAIR_ORDERS, "8", None)]
    assert store.end_resync() == 0


# -- what the browser gets -------------------------------------------------------------------------------

def test_cards_are_shared_until_the_version_changes() -> None:
    cache = cards.CardCache(cards.repair_order_card, TZ)
    first = cache.card("7", ro(100))
    assert first is cache.card("7", ro(100))
    second = cache.card("7", ro(101, "ready"))
    assert second is not None and second["status"] == "ready"
    assert cache.card("7", None) is None


def test_repair_order_card_times_are_in_the_site_zone() -> None:
    card = cards.repair_order_card("7", ro(100, promised_at="2026-11-23T08:30:00+00:00"), TZ)
    assert (card["promised"], card["promised_date"]) == ("16:30", "2026-11-23")
    assert card["promised_ms"] == int(datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    assert (card["plate"], card["tech"], card["advisor_code"]) == ("京A12345", "3", "A")


def test_an_undrawable_payload_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cache = cards.CardCache(cards.appointment_card, TZ)
    assert cache.card("9", {"version": 1, "status": "booked"}) is None  # no start time
    assert "cannot show 9" in caplog.text


def test_appointment_card_is_placed_on_its_local_day() -> None:
    state = {"version": 1, "id": 9, "status": "late", "start": "2026-11-23T01:30:00+00:00",
             "end": "2026-11-23T03:18:00+00:00", "hours": 1.8, "work": "20000公里保养", "plate": "京A12345",
             "plate_display": "京A·12345", "vehicle_model": "卡罗拉", "customer": "王先生",
             "advisor": {"id": 2, "name": "李娜", "code": "B"}, "bay": "3", "arrived_at": None, "ro_number": None}
    card = cards.appointment_card("9", state, TZ)
    assert (card["date"], card["time"], card["start"]) == ("2026-11-23", "09:30", 570)
    assert card["advisor"] == {"id": "2", "name": "李娜", "code": "B"}


def test_lounge_card_carries_nothing_personal() -> None:
    state = {"schema": 1, "version": 5, "site": SITE, "number": "RO1", "plate_masked": "京A·***45",
             "customer_masked": "王先生", "status": "on_hold", "promised_at": "2026-11-23T16:30:00+08:00",
             # even if a payload ever carried more, the lounge card must not pass it on
             "plate": "京A12345", "customer_full": "王建国"}
    card = cards.lounge_card("1", state, TZ)
    assert set(card) == {"key", "status", "step", "plate_masked", "customer_masked", "needs_customer", "promised",
                         "promised_date", "promised_ms", "waiting"}
    assert card["needs_customer"] is False and card["waiting"] is False
    assert card["step"] == 1  # on hold is still "in the workshop" to the customer
    assert "京A12345" not in json.dumps(card, ensure_ascii=False)


# -- the feed --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.BOARD, Role.LOUNGE])
def test_default_filters_stay_within_the_roles_rights(role: Role) -> None:
    filters = default_filters(SITE, role)
    assert filters
    assert all(access.may_subscribe(role, SITE, f) for f in filters)


def test_lounge_feed_subscribes_to_the_lounge_only() -> None:
    assert default_filters(SITE, Role.LOUNGE) == [topics.state_filter(SITE, topics.LOUNGE)]


async def test_feed_hands_messages_from_pahos_thread_to_the_loop(store: BoardStore) -> None:
    from shopfloor.credentials import MqttAccount
    from shopfloor.mqtt import BrokerAddress

    loop = asyncio.get_running_loop()
    feed = BoardFeed(store, address=BrokerAddress("127.0.0.1", 1), account=MqttAccount("u", "p"), site=SITE,
                     role=Role.BOARD, loop=loop)
    assert feed.link.client_id == f"board-feed-{SITE}"
    applied_on: list[int] = []
    store.changed.subscribe(lambda *_: applied_on.append(threading.get_ident()))
    paho_thread = threading.Thread(target=feed._on_message, args=(RO_TOPIC, raw(ro(100)), True))
    paho_thread.start()
    paho_thread.join()
    assert store.get(topics.REPAIR_ORDERS, "7") is None  # not applied in paho's thread
    await asyncio.sleep(0)
    assert store.get(topics.REPAIR_ORDERS, "7") is not None
    assert applied_on == [threading.get_ident()]


async def test_feed_over_a_real_broker(embedded_broker: Any, credentials: Any) -> None:
    from shopfloor.mqtt import MqttLink

    board, lounge = BoardStore(embedded_broker.site), BoardStore(embedded_broker.site)
    site = embedded_broker.site
    loop = asyncio.get_running_loop()
    feeds = [BoardFeed(s, address=embedded_broker.address, account=credentials.account(role), site=site,
                       role=role, loop=loop) for s, role in ((board, Role.BOARD), (lounge, Role.LOUNGE))]
    server = MqttLink(address=embedded_broker.address, account=credentials.account(Role.SERVER), site=site,
                      role=Role.SERVER, client_id="test-server")
    try:
        assert server.start(wait=5)
        ro_topic = topics.state(site, topics.REPAIR_ORDERS, 7)
        lounge_topic = topics.state(site, topics.LOUNGE, 7)
        server.publish(ro_topic, raw(ro(100)), retain=True).wait_for_publish(5)
        server.publish(lounge_topic, raw(lounge_state(100, "ready")), retain=True).wait_for_publish(5)
        for feed in feeds:
            assert await asyncio.to_thread(feed.start, 5)

        # retained state arrives on subscribe; each role gets only what it may read
        assert await eventually_async(lambda: board.get(topics.REPAIR_ORDERS, "7") is not None, 5)
        assert await eventually_async(lambda: lounge.get(topics.LOUNGE, "7") is not None, 5)
        assert board.get(topics.LOUNGE, "7") is None and lounge.get(topics.REPAIR_ORDERS, "7") is None
        server.publish(ro_topic, b"", retain=True).wait_for_publish(5)
        assert await eventually_async(lambda: board.get(topics.REPAIR_ORDERS, "7") is None, 5)
    finally:
        for feed in feeds:
            await asyncio.to_thread(feed.stop)
        server.stop()


# -- the pages, in NiceGUI's simulated browser -------------------------------------------------------------

def appointment(entity_id: int, version: int, plate: str, status: str = "booked") -> dict[str, Any]:
    return {"schema": 1, "version": version, "site": SITE, "id": entity_id, "status": status,
            "start": "2026-11-23T10:00:00+08:00", "end": "2026-11-23T11:00:00+08:00", "hours": 1.0,
            "work": "更换机油机滤", "plate": plate, "plate_display": plate[:2] + "·" + plate[2:],
            "vehicle_model": "雷凌", "customer": "李女士", "advisor": {"id": 1, "name": "张伟", "code": "A"},
            "bay": "2", "arrived_at": None, "ro_number": None, "skill": "maintenance",
            "job_lines": [{"code": "OIL", "description": "更换机油机滤", "hours": 1.0, "skill": "maintenance",
                           "equipment": None}],
            "equipment": None, "source": "passive", "parts": {"status": "none", "eta": None, "numbers": ""},
            "flags": {"waiting_customer": False, "road_test": False, "repeat_repair": False,
                      "complaining_customer": False},
            "call_outcome": None, "no_show_at": None, "cancel_reason": None, "rebooked_as": None, "notes": "",
            "overridden": False}


async def test_wall_board_pairs_once_then_follows_the_store(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    from nicegui import Client, app
    from nicegui.storage import Storage
    from nicegui.testing.user_simulation import user_simulation

    from shopfloor.board.appointment_board import AppointmentBoardPage
    from shopfloor.board.components import AppointmentBoardView, LoungeView
    from shopfloor.board.lounge import LoungePage
    from shopfloor.board.pairing import STORAGE_KEY
    from shopfloor.clock import FixedClock
    from shopfloor.settings import PrinterSettings, Settings, SiteSettings

    monkeypatch.setattr(Storage, "path", tmp_path / "storage")
    settings = Settings(site=SiteSettings(id=SITE, name="测试店"), printers=[PrinterSettings(name="p")])
    store, lounge_store = BoardStore(SITE), BoardStore(SITE)
    store.apply(topics.state(SITE, topics.APPOINTMENTS, 1), raw(appointment(1, 10, "京A12345")))
    store.apply(topics.state(SITE, topics.APPOINTMENTS, 2), raw(appointment(2, 10, "京B54321") | {
        "start": "2026-11-24T10:00:00+08:00"}))  # tomorrow: not on today's board
    lounge_store.apply(topics.state(SITE, topics.LOUNGE, 1), raw(lounge_state(3)))
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))

    async with user_simulation() as user:
        try:
            AppointmentBoardPage(store, settings, "s3cret-token", clock=clock).register("/board/appointments")
            LoungePage(lounge_store, settings, clock=clock).register("/lounge")

            await user.open("/board/appointments?lang=en")
            await user.should_see("This screen is not paired")
            await user.should_not_see("李女士")
            with caplog.at_level(logging.WARNING):
                await user.open("/board/appointments?token=guessed-value")
            assert "wrong board token" in caplog.text and "guessed-value" not in caplog.text
            await user.should_see("此屏幕尚未配对")

            client = await user.open("/board/appointments?token=s3cret-token")  # pairs, then drops the token
            assert client.request.url.path == "/board/appointments" and "token" not in client.request.url.query
            assert "s3cret-token" not in json.dumps(app.storage.user, default=str)
            assert STORAGE_KEY in app.storage.user
            views = [e for e in client.elements.values() if isinstance(e, AppointmentBoardView)]
            assert len(views) == 1
            view = views[0]
            assert set(view.cards) == {"1"}
            assert store.listener_count == 1

            store.apply(topics.state(SITE, topics.APPOINTMENTS, 1), raw(appointment(1, 11, "京A12345", "arrived")))
            assert view.cards["1"]["status"] == "arrived"
            store.apply(topics.state(SITE, topics.APPOINTMENTS, 1), b"")
            assert view.cards == {}

            client = await user.open("/board/appointments")  # the cookie remembers the screen
            assert any(isinstance(e, AppointmentBoardView) for e in client.elements.values())
            client.delete()  # what NiceGUI does once a screen is gone for good
            assert store.listener_count == 1  # only the earlier page's listener is left

            lounge = await user.open("/lounge")
            lounge_view = next(e for e in lounge.elements.values() if isinstance(e, LoungeView))
            sent = json.dumps(lounge_view.cards, ensure_ascii=False)
            assert "京A·***45" in sent and "京A12345" not in sent
            assert "init" not in lounge_view.props  # delivered with the page, then not kept per screen
        finally:
            # NiceGUI's reset drops the modules of registered page functions from sys.modules (meant for
            # an app's main file); ours are library modules the other tests go on using
            Client.page_routes.clear()
