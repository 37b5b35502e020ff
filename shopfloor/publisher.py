"""The one outbox publisher: sends pending rows in order, marks them sent only after the broker's PUBACK,
and after every (re)connect republishes the current state of everything. Also takes the printer agents'
acknowledgements, which arrive on the same server connection, and hands them to a thread of their own: an ack
may wait for the database's write lock, and whatever a printer account sends must never hold up what the
boards are waiting for."""

from __future__ import annotations

import logging
import queue
import threading

from shopfloor.capacity_refresher import CapacityRefresher
from shopfloor.contract import topics
from shopfloor.contract.access import Role
from shopfloor.credentials import MqttAccount
from shopfloor.db import Database
from shopfloor.events import ThreadEvent
from shopfloor.mqtt import BrokerAddress, MqttLink
from shopfloor.outbox_sent import SentMarker
from shopfloor.services import outbox
from shopfloor.services.capacity import count_marked
from shopfloor.services.context import ServiceContext
from shopfloor.services.snapshot import SnapshotService

log = logging.getLogger(__name__)

BATCH = 200
ACK_TIMEOUT = 10.0
# acks waiting for the ack thread; a flood beyond this is dropped (the job stays retained, and its agent acks it
# again from its journal when the job is delivered again)
ACK_QUEUE = 1000
# Without a commit to send, the publisher looks at the outbox this often anyway (rows another process wrote);
# after a failed round (no PUBACK, a resync cut short, an error) it tries again after RETRY_SECONDS.
IDLE_POLL_SECONDS = 30.0
RETRY_SECONDS = 1.0


class OutboxPublisher:
    def __init__(self, ctx: ServiceContext, address: BrokerAddress, account: MqttAccount,
                 client_id: str | None = None) -> None:
        self.ctx = ctx
        self.db: Database = ctx.db
        self.snapshot = SnapshotService(ctx)
        self.print_ack_received = ThreadEvent[str, bytes]()
        """a printer agent acknowledged a job: the printer's name (from the topic, which only that printer's
        account may write) and the raw ack; fired in the publisher's ack thread, one ack at a time"""
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._resync = threading.Event()
        # None after the last ack: the ack thread ends there
        self._acks: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=ACK_QUEUE)
        self._thread: threading.Thread | None = None
        self._ack_thread: threading.Thread | None = None
        self.sent_count = 0
        self.resync_count = 0
        self.sent = SentMarker(self.db, ctx.now)
        self.capacity = CapacityRefresher(ctx)  # the capacity states of the days marked changed
        self._acked_upto = 0  # the last row the broker acknowledged
        self.acks_handled = 0
        self.acks_dropped = 0
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
        """paho's network thread, which must stay free to take the broker's PUBACKs: queue, nothing more."""
        parts = topic.split("/")
        if len(parts) != 6 or topic != topics.print_ack(self.ctx.site, parts[4]):
            log.warning("ignoring message on unexpected topic %.200s", topic)
            return
        try:
            self._acks.put_nowait((parts[4], payload))
        except queue.Full:
            self.acks_dropped += 1
            if self.acks_dropped % 100 == 1:
                log.warning("print acks arrive faster than they can be handled: %d dropped so far (latest from %s)",
                            self.acks_dropped, parts[4])

    def start(self, wait: float | None = None) -> bool:
        self._thread = threading.Thread(target=self._run, name="outbox-publisher", daemon=True)
        self._thread.start()
        self._ack_thread = threading.Thread(target=self._handle_acks, name="outbox-acks", daemon=True)
        self._ack_thread.start()
        self.sent.start()
        self.capacity.start()
        return self.link.start(wait)

    def stop(self) -> None:
        self.capacity.stop()  # its last states go out with the last flush
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=15)
        self.sent.stop()  # after the last flush
        self.link.stop()
        self._end_acks()
        if self._ack_thread:
            self._ack_thread.join(timeout=15)  # after what had arrived is handled
        self.db.outbox_committed.unsubscribe(self.wake)

    def kill(self) -> None:
        """Stop as a crash would: no flush, no goodbye (fault tests)."""
        self._stopping.set()
        self._wake.set()
        self.link.kill()
        if self._thread:
            self._thread.join(timeout=15)
        self.sent.kill()
        self.capacity.kill()
        self._end_acks()

    def _end_acks(self) -> None:
        try:
            self._acks.put(None, timeout=15)  # behind what had arrived
        except queue.Full:
            log.warning("print ack thread did not drain its queue; it ends with the process")

    def _handle_acks(self) -> None:
        """The ack thread: each ack to the listeners in turn (a failing listener is logged by ThreadEvent)."""
        while (ack := self._acks.get()) is not None:  # no timeout: an idle server is not woken for nothing
            printer, payload = ack
            self.print_ack_received.emit(printer, payload)
            self.acks_handled += 1

    def _run(self) -> None:
        retry = False
        while not self._stopping.is_set():
            self._wake.wait(timeout=RETRY_SECONDS if retry else IDLE_POLL_SECONDS)
            self._wake.clear()
            retry = False
            try:
                if not self.link.connected.is_set():
                    continue  # the connect wakes us
                if self._resync.is_set():
                    self._resync.clear()
                    if not (self._flush() and self._republish()):
                        self._resync.set()
                        retry = True
                        continue
                retry = not self._flush()
            except Exception:
                log.exception("outbox publisher iteration failed; retrying")
                retry = True
        if self.link.connected.is_set():
            self._flush()

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
        """Send pending rows oldest first; True when none is left. Only plain reads here, which writers never
        block: what the broker acknowledged is marked sent by self.sent in a thread of its own, and until it has
        been, the next read starts after the last acknowledged row (rows are numbered in commit order, as
        writes take turns)."""
        while True:
            after = self._acked_upto if self.sent.outstanding else None
            with self.db.read() as s:
                rows = outbox.pending(s, BATCH, after=after)
            if not rows:
                return True
            if not self._publish_all([(row.topic, row.payload, row.retain) for row in rows]):
                log.warning("broker did not acknowledge %d outbox messages; will resend", len(rows))
                return False
            self._acked_upto = rows[-1].id
            self.sent.add([row.id for row in rows])
            self.sent_count += len(rows)
            if len(rows) < BATCH:
                # that was all: a commit since then has set _wake, so _run comes back without a read for nothing
                return True

    def _republish(self) -> bool:
        messages = self.snapshot.messages()
        ok = self._publish_all(messages)
        if ok:
            self.resync_count += 1
            log.info("republished current state: %d retained messages", len(messages))
        return ok

    def pending(self) -> int:
        """Rows not yet marked sent, and days whose capacity state is still to be written."""
        with self.db.read() as s:
            return outbox.count_pending(s) + count_marked(self.ctx)
