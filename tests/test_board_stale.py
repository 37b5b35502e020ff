"""The boards' "data may be stale" mark: the store's rule (the feed's link, the server's own link), then in
Chromium on a whole server: Mosquitto stops → the mark appears on the progress board and the lounge; it starts
again → the mark goes by itself, no reload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopfloor import credentials as creds_mod
from shopfloor import settings as settings_mod
from shopfloor.board.store import BoardStore
from shopfloor.contract import payloads, topics
from shopfloor.demo import seed
from shopfloor.testing.broker_fixtures import MosquittoBroker, start_broker
from shopfloor.testing.chromium_pages import SHOTS, wait_for
from shopfloor.testing.plugin import DemoServer, start_server

SERVER_TOPIC = topics.client_status("demo", "server", "server-demo")


def _availability(state: str, at: float = 1_700_000_000.0) -> bytes:
    return payloads.encode(payloads.availability(state, at=at))


def test_the_store_is_stale_without_its_feed_or_while_the_server_is_offline() -> None:
    store = BoardStore()
    told: list[bool] = []
    store.stale_changed.subscribe(told.append)
    assert store.stale  # nothing heard yet
    store.set_feed_connected(True)
    assert not store.stale
    store.apply(SERVER_TOPIC, _availability("online"), True)
    assert not store.stale
    store.apply(SERVER_TOPIC, _availability("offline"), False)  # the server's will: its link died
    assert store.stale
    assert store.clients["server/server-demo"].online is False
    assert store.clients["server/server-demo"].since is not None  # heard it go: since then
    store.apply(SERVER_TOPIC, _availability("online", at=1_700_000_100.0), False)
    assert not store.stale and store.clients["server/server-demo"].since == 1_700_000_100.0
    store.set_feed_connected(False)
    store.set_feed_connected(False)  # told once per change
    assert told == [False, True, False, True]


def test_a_board_store_without_the_servers_availability_after_its_resync_is_stale() -> None:
    store = BoardStore()
    store.expects_server = True  # as the board role's feed sets it
    store.set_feed_connected(True)
    store.begin_resync()
    assert not store.stale  # the retained states are still arriving
    store.end_resync()
    assert store.stale  # the broker had nothing from the server: it lost its retained states, no server since
    store.apply(SERVER_TOPIC, _availability("online"), False)
    assert not store.stale
    store.apply(SERVER_TOPIC, b"", False)  # the retained availability cleared
    assert store.stale

    lounge = BoardStore()  # the lounge role cannot read clients/#: its link alone counts
    lounge.set_feed_connected(True)
    lounge.begin_resync()
    lounge.end_resync()
    assert not lounge.stale


def test_a_retained_offline_heard_at_subscribe_time_has_no_since() -> None:
    store = BoardStore()
    store.apply(topics.client_status("demo", "board", "board-feed-demo"), _availability("offline"), True)
    presence = store.clients["board/board-feed-demo"]
    assert presence.online is False and presence.since is None  # the will's time is its connect, not its end
    store.apply(topics.client_status("demo", "board", "board-feed-demo"), b"garbage", False)
    assert store.clients["board/board-feed-demo"] == presence  # garbage ignored


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[DemoServer, MosquittoBroker]]:
    """The demo served against Mosquitto (not its embedded broker), so that the test can stop the broker."""
    settings = settings_mod.load(settings_mod.demo_config_path())
    creds = creds_mod.load_or_create(tmp_path, seed.staff_names(), "127.0.0.1", 1883,
                                     [p.name for p in settings.printers])
    broker = start_broker("mosquitto", creds, "demo")
    assert isinstance(broker, MosquittoBroker)
    try:
        server = start_server(tmp_path, "demo", "--no-embedded-broker", "--broker",
                              f"mqtt://127.0.0.1:{broker.port}")
        try:
            yield server, broker
        finally:
            assert server.stop()
    finally:
        broker.close()


def _mark_shown(drv: Any) -> bool:
    marks = drv.find_elements("css selector", ".sfb-stale")
    return bool(marks) and marks[0].is_displayed()


def _until(what: str, check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


def test_the_mark_follows_the_broker_on_the_progress_board_and_the_lounge(
        site: tuple[DemoServer, MosquittoBroker], wall_driver: Any) -> None:
    server, broker = site
    wall_driver.get(f"{server.base}/board/progress?token={server.credentials['boards']['token']}")
    wait_for(wall_driver, ".sfb-stale")  # built with the page, hidden while the feed is up
    _until("the board fresh", lambda: not _mark_shown(wall_driver))
    assert wall_driver.find_elements("css selector", ".sfb-card, .sfb")

    broker.stop()
    _until("the mark on the progress board", lambda: _mark_shown(wall_driver), timeout=15)
    assert wall_driver.find_element("css selector", ".sfb-stale").text == "数据可能不是最新"
    wall_driver.save_screenshot(str(Path(SHOTS) / "board-stale-progress.png"))

    lounge = wall_driver.current_window_handle
    wall_driver.switch_to.new_window("tab")
    wall_driver.get(f"{server.base}/lounge")
    _until("the mark on the lounge, opened while the broker is down", lambda: _mark_shown(wall_driver))
    wall_driver.save_screenshot(str(Path(SHOTS) / "board-stale-lounge.png"))
    wall_driver.switch_to.window(lounge)

    broker.restart()  # the same port: the feeds reconnect by themselves
    _until("the mark gone from the progress board", lambda: not _mark_shown(wall_driver), timeout=30)
    wall_driver.switch_to.window(wall_driver.window_handles[-1])
    _until("the mark gone from the lounge", lambda: not _mark_shown(wall_driver), timeout=30)
