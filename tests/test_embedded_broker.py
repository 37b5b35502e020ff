"""The embedded broker's own fixes to amqtt that no bus test can hit on purpose, and its accounts following
credentials.toml while it runs."""

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from amqtt.contexts import Action
from paho.mqtt.enums import CallbackAPIVersion

from shopfloor import credentials as creds_mod
from shopfloor.broker.embedded import EmbeddedBroker, _SnapshotItems
from shopfloor.broker.plugins import ShopfloorAccessPlugin
from shopfloor.contract import topics
from shopfloor.contract.access import Role


def test_broadcast_survives_a_subscription_arriving_while_it_iterates() -> None:
    """amqtt awaits the topic check inside `for … in _subscriptions.items()`: a client subscribing meanwhile
    changed the dict's size and the message was lost for everyone ("dictionary changed size during iteration")."""
    subscriptions = _SnapshotItems({"shopfloor/v1/demo/appointments/+/state": [], "shopfloor/v1/demo/#": []})
    seen = []

    async def broadcast() -> None:
        for topic_filter, holders in subscriptions.items():
            await asyncio.sleep(0)  # the topic check: another client's SUBSCRIBE runs here
            seen.append((topic_filter, len(holders)))

    async def subscribe() -> None:
        subscriptions["shopfloor/v1/demo/capacity/+/state"] = []
        subscriptions.pop("shopfloor/v1/demo/#")

    async def both() -> None:
        await asyncio.gather(broadcast(), subscribe())

    asyncio.run(both())
    assert [f for f, _ in seen] == ["shopfloor/v1/demo/appointments/+/state", "shopfloor/v1/demo/#"]
    assert set(subscriptions) == {"shopfloor/v1/demo/appointments/+/state", "shopfloor/v1/demo/capacity/+/state"}


def _login(port: int, username: str, password: str) -> bool:
    """Whether the broker lets this account in (CONNACK success)."""
    answered = threading.Event()
    result: list[bool] = []
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311,
                         client_id=f"reload-test-{username}-{time.monotonic_ns()}")
    client.username_pw_set(username, password)

    def on_connect(_c: paho.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        result.append(not reason.is_failure)
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return result[0]


def test_a_printer_added_to_credentials_toml_logs_in_without_a_restart(tmp_path: Path) -> None:
    """/setup gives a new printer its account in credentials.toml; the running broker takes it from there at the
    printer's first login, with that printer's rights and no other's; a renewed password shuts the old one out."""
    creds = creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 0, ["reception"])
    with EmbeddedBroker("127.0.0.1", 0, "demo", creds, credentials_file=tmp_path / creds_mod.FILE_NAME) as broker:
        on_disk = creds_mod.load(tmp_path)
        assert creds_mod.ensure_printer_accounts(tmp_path, on_disk, ["reception", "workshop"]) == ["workshop"]
        account = on_disk.printer_account("workshop")
        assert not _login(broker.port, account.username, "not its password")
        assert _login(broker.port, account.username, account.password)
        old = creds.printer_account("reception")
        assert _login(broker.port, old.username, old.password)  # the others still get in
        assert broker._broker is not None
        plugin = next(p for p in broker._broker.plugins_manager.plugins if isinstance(p, ShopfloorAccessPlugin))
        granted = plugin._accounts[account.username]
        assert (granted.role, granted.printer) == (Role.PRINTER, "workshop")
        assert granted.may("demo", Action.SUBSCRIBE, topics.print_jobs_filter("demo", "workshop"))
        assert not granted.may("demo", Action.SUBSCRIBE, topics.print_jobs_filter("demo", "reception"))
        # a lost printer host: its table deleted, a new password made; the old one no longer gets in
        del on_disk.printers["reception"]
        creds_mod.ensure_printer_accounts(tmp_path, on_disk, ["reception"])
        assert not _login(broker.port, old.username, old.password)
        renewed = on_disk.printer_account("reception")
        assert _login(broker.port, renewed.username, renewed.password)
