"""The one outbox publisher: sends pending rows in order, marks them sent only after the broker's PUBACK,
and after every (re)connect republishes the current state of everything. Also takes the printer agents'
acknowledgements, which arrive on the same server connection."""

from __future__ import annotations

import logging
import queue
import threading

from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.credentials import MqttAccount
from shopfloor.db import Database
from shopfloor.events import ThreadEvent
from shopfloor.mqtt import BrokerAddress, MqttLink
from shopfloor.services import outbox
from shopfloor.services.context import ServiceContext
from shopfloor.services.snapshot import SnapshotService

log = logging.getLogger(__name__)

BATCH = 200
ACK_TIMEOUT = 10.0


class OutboxPublisher:
    def __init__(self, ctx: ServiceContext, address: BrokerAddress, account: MqttAccount,
                 client_id: str | None = None) -> None:
        self.ctx = ctx
        self.db: Database = ctx.db
        self.snapshot = SnapshotService(ctx)
        self.print_ack_received = ThreadEvent[str, bytes]()
        """a printer agent acknowledged a job: the printer's name and the raw ack; fired in the publisher's thread"""
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._resync = threading.Event()
        self._incoming: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.sent_count = 0
        self.resync_count = 0
        self.link = MqttLink(
            address=address, account=account, site=ctx.site, role=Role.SERVER,
            client_id=client_id or f"server-{ctx.site}",
            subscriptions=[topics.print_acks_filter(ctx.site)],
            on_message=self._received, on_connected=self._connected)
        self.db.outbox_committed.subscribe(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def _connected(self) -> None:
        self._resync.set()
        self._wake.set()

    def _received(self, topic: str, payload: bytes, _retained: bool) -> None:
        self._incoming.put((topic, payload))
        self._wake.set()

    def start(self, wait: float | None = None) -> bool:
        self._thread = threading.Thread(target=self._run, name="outbox-publisher", daemon=True)
        self._thread.start()
        return self.link.start(wait)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=15)
        self.link.stop()
        self.db.outbox_committed.unsubscribe(self.wake)

    def kill(self) -> None:
        """Stop as a crash would: no flush, no goodbye (fault tests)."""
        self._stopping.set()
        self._wake.set()
        self.link.kill()
        if self._thread:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            try:
                self._handle_incoming()
                if not self.link.connected.is_set():
                    continue
                if self._resync.is_set():
                    self._resync.clear()
                    if not (self._flush() and self._republish()):
                        self._resync.set()
                        continue
                self._flush()
            except Exception:
                log.exception("outbox publisher iteration failed; retrying")
                self._stopping.wait(1.0)
        if self.link.connected.is_set():
            self._flush()

    def _handle_incoming(self) -> None:
        while True:
            try:
                topic, payload = self._incoming.get_nowait()
            except queue.Empty:
                return
            parts = topic.split("/")
            if len(parts) == 6 and parts[3] == "printers" and parts[5] == "acks":
                self.print_ack_received.emit(parts[4], payload)

    def _publish_all(self, messages: list[tuple[str, bytes, bool]]) -> bool:
        infos = []
        for topic, payload, retain in messages:
            if self._stopping.is_set() and not self.link.connected.is_set():
                return False
            info = self.link.publish(topic, payload, retain=retain)
            if info.rc != 0:
                return False
            infos.append(info)
        for info in infos:
            try:
                info.wait_for_publish(timeout=ACK_TIMEOUT)
            except (RuntimeError, ValueError):
                return False
            if not info.is_published():
                return False
        return True

    def _flush(self) -> bool:
        """Send pending rows oldest first; True when none is left."""
        while True:
            with self.db.read() as s:
                rows = [(m.id, m.topic, m.payload, m.retain) for m in outbox.pending(s, BATCH)]
            if not rows:
                return True
            if not self._publish_all([(t, p, r) for _, t, p, r in rows]):
                log.warning("broker did not acknowledge %d outbox messages; will resend", len(rows))
                return False
            with self.db.write() as s:
                outbox.mark_sent(s, [row[0] for row in rows], self.ctx.now())
            self.sent_count += len(rows)

    def _republish(self) -> bool:
        messages = self.snapshot.messages()
        ok = self._publish_all(messages)
        if ok:
            self.resync_count += 1
            log.info("republished current state: %d retained messages", len(messages))
        return ok

    def pending(self) -> int:
        with self.db.read() as s:
            return outbox.count_pending(s)
