"""The server killed between commit and publish: on restart its outbox sends what was pending; nothing is
lost, and consumers that see a message twice ignore the stale copy."""

import json
import time
from pathlib import Path

from sqlalchemy import select

from shopfloor import credentials as creds_mod
from shopfloor.broker.embedded import EmbeddedBroker
from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.db import Database, sqlite_url
from shopfloor.domain.models import RepairOrder
from shopfloor.ports import free_port
from shopfloor.services import outbox
from shopfloor.testing.plugin import Collector, start_server


def test_outbox_survives_a_server_killed_before_publishing(tmp_path: Path) -> None:
    port = free_port()
    # No broker yet: every change commits, and its messages wait in the outbox.
    server = start_server(tmp_path, "demo", "--no-embedded-broker", "--broker", f"mqtt://127.0.0.1:{port}")
    waiting = [a for a in server.api("/api/v1/appointments") if a["status"] in ("booked", "confirmed", "late")
               and not a["ro_number"]][:5]
    numbers = []
    for appt in waiting:
        status, body = server.call("POST", "/api/v1/checkins", {"tag": appt["tag"], "operations": ["OIL"]})
        assert status == 201
        numbers.append(body["repair_order"]["number"])
    for number in numbers[:3]:
        assert server.call("POST", f"/api/v1/repair-orders/{number}/transitions",
                           {"to": "dispatched", "technician": "吴昊"})[0] == 200
    server.kill()  # SIGKILL: no shutdown hooks, no flush

    db = Database(sqlite_url(tmp_path / "shopfloor.sqlite3"))
    with db.read() as s:
        pending_before = outbox.count_pending(s)
    assert pending_before > 0

    creds = creds_mod.load(tmp_path)
    with EmbeddedBroker("127.0.0.1", port, "demo", creds) as broker:
        watcher = Collector(broker.address, creds.account(Role.BOARD),
                            [topics.state_filter("demo", topics.REPAIR_ORDERS)], "watcher")
        restarted = start_server(tmp_path, "serve", "--broker", f"mqtt://127.0.0.1:{port}")
        try:
            with db.read() as s:
                expected = {ro.number: (ro.status, ro.version) for ro in
                            s.scalars(select(RepairOrder).where(RepairOrder.number.in_(numbers)))}

            def converged(_messages: object) -> bool:
                latest = watcher.latest()
                for number, (status, version) in expected.items():
                    raw = latest.get(topics.state("demo", topics.REPAIR_ORDERS, number))
                    if not raw or (json.loads(raw)["status"], json.loads(raw)["version"]) != (status, version):
                        return False
                return True

            assert watcher.wait_for(converged, timeout=20), watcher.latest().keys()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with db.read() as s:
                    if outbox.count_pending(s) == 0:
                        break
                time.sleep(0.1)
            with db.read() as s:
                assert outbox.count_pending(s) == 0
            assert [expected[n][0] for n in numbers] == ["dispatched"] * 3 + ["checked_in"] * 2
        finally:
            assert restarted.stop()
            watcher.close()
            db.dispose()
