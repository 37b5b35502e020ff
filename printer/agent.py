"""The print agent: takes retained print jobs for one printer off the bus, prints each at most once, and
acknowledges every job with what really happened.

Delivery is at-least-once (retained jobs come back after every reconnect until the server clears them);
the journal turns that into at-most-once on paper.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.contract.payloads import PayloadError
from shopfloor.credentials import MqttAccount
from shopfloor.mqtt import BrokerAddress, MqttLink
from shopfloor.printer.journal import PRINTED, UNCERTAIN, PrintJournal
from shopfloor.printer.transports import PrinterTransport, PrinterUnreachable, TransferBroken

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

ALREADY_PRINTED: Final = "already printed"
ALREADY_UNCERTAIN: Final = "transfer broke on an earlier attempt; not retried automatically"


def utc_now() -> datetime:
    return datetime.now(UTC)


class VersionClock:
    """Payload versions: wall-clock microseconds, so they keep growing across restarts, and bumped by one
    when the clock stands still or steps back, so they also grow within this process."""

    def __init__(self, now_us: Callable[[], int] = lambda: time.time_ns() // 1000) -> None:
        self._now_us = now_us
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._now_us(), self._last + 1)
            return self._last


def check_name(printer_name: str) -> str:
    if not printer_name or any(c in printer_name for c in "/+#") or printer_name.strip() != printer_name:
        raise ValueError(f"printer name {printer_name!r}: must be non-empty, without '/', '+', '#' or outer spaces")
    return printer_name


def parse_job(payload: dict[str, Any], printer_name: str) -> tuple[int, bytes]:
    """(job id, ESC/POS bytes) from a print-job payload; PayloadError says what is wrong with it."""
    if payload.get("schema") != payloads.SCHEMA:
        raise PayloadError(f"print job schema {payload.get('schema')!r}: this agent reads schema {payloads.SCHEMA}")
    job_id = payload.get("job_id")
    if not isinstance(job_id, int) or isinstance(job_id, bool):
        raise PayloadError(f"print job without integer 'job_id' (got {job_id!r})")
    if payload.get("printer") != printer_name:
        raise PayloadError(f"print job {job_id} is for printer {payload.get('printer')!r}, not {printer_name!r}")
    data = payloads.print_job_bytes(payload)
    if not data:
        raise PayloadError(f"print job {job_id} has no data")
    return job_id, data


class PrintJobHandler:
    """Prints one job payload and returns its ack payload. Not thread-safe: one caller at a time."""

    def __init__(self, printer_name: str, transport: PrinterTransport, journal: PrintJournal,
                 clock: Clock = utc_now) -> None:
        self.printer_name = check_name(printer_name)
        self.transport = transport
        self.journal = journal
        self.clock = clock

    def handle(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Raises PayloadError for a payload that breaks the contract; every real job gets an ack."""
        job_id, data = parse_job(payload, self.printer_name)

        previous = self.journal.outcome(job_id)
        if previous == PRINTED:
            return self._ack(job_id, payloads.ACK_PRINTED, ALREADY_PRINTED)
        if previous == UNCERTAIN:
            return self._ack(job_id, payloads.ACK_UNCERTAIN, ALREADY_UNCERTAIN)

        try:
            self.transport.send(job_id, data)
        except PrinterUnreachable as exc:
            log.warning("job %d not printed on %s: %s", job_id, self.printer_name, exc)
            return self._ack(job_id, payloads.ACK_FAILED, str(exc))
        except TransferBroken as exc:
            return self._uncertain(job_id, f"transfer broke: {exc}")
        except Exception as exc:
            # a transport bug: whether bytes went out is unknown, so this must not be retried blindly either
            log.exception("job %d: transport %r failed unexpectedly", job_id, self.transport)
            return self._uncertain(job_id, f"transport error: {exc!r}")

        detail = self._remember(job_id, PRINTED, "")
        return self._ack(job_id, payloads.ACK_PRINTED, detail)

    def _uncertain(self, job_id: int, detail: str) -> dict[str, Any]:
        log.error("job %d on %s may or may not be on paper: %s", job_id, self.printer_name, detail)
        note = self._remember(job_id, UNCERTAIN, detail)
        return self._ack(job_id, payloads.ACK_UNCERTAIN, f"{detail}; {note}" if note else detail)

    def _remember(self, job_id: int, outcome: str, detail: str) -> str:
        """Journal the outcome; a failed disk write is reported in the ack detail but does not hide what
        happened at the printer (the journal still holds it in memory for this process)."""
        try:
            self.journal.record(job_id, outcome, detail)
        except OSError as exc:
            log.exception("job %d: cannot write print journal %s", job_id, self.journal.path)
            return f"print journal not written ({exc.strerror or exc}): a restart may print it again"
        return ""

    def _ack(self, job_id: int, result: str, detail: str) -> dict[str, Any]:
        return payloads.print_ack(job_id=job_id, result=result, detail=detail, at=self.clock().isoformat())


_VERSIONS = VersionClock()  # one per process: every payload this process publishes gets a larger version


class PrinterAgent:
    """One printer on the bus: subscribes to its retained jobs, prints them in arrival order on a worker
    thread (never in paho's network thread, which must keep answering pings while a printer is slow),
    publishes an ack per job and the printer's retained status.

    The retained printer status says "online" while the agent runs and "offline" after stop(); the
    connection's last will puts "offline" there too when the agent dies without a goodbye.
    """

    def __init__(
        self,
        site: str,
        printer_name: str,
        transport: PrinterTransport,
        journal: PrintJournal,
        address: BrokerAddress,
        account: MqttAccount,
        *,
        clock: Clock = utc_now,
        client_id: str | None = None,
        link_factory: Callable[..., MqttLink] = MqttLink,
    ) -> None:
        self.site = site
        self.printer_name = check_name(printer_name)
        self.handler = PrintJobHandler(printer_name, transport, journal, clock)
        self.jobs_filter = topics.print_jobs_filter(site, printer_name)
        self.ack_topic = topics.print_ack(site, printer_name)
        self.status_topic = topics.printer_status(site, printer_name)
        self._queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue()  # None asks the worker to stop
        self._worker: threading.Thread | None = None
        self._status: tuple[str, str] | None = None
        self._status_lock = threading.Lock()
        self.link = link_factory(
            address=address,
            account=account,
            site=site,
            role=Role.PRINTER,
            client_id=client_id or f"printer-{printer_name}",
            subscriptions=[self.jobs_filter],
            on_message=self.on_message,
            on_connected=self._on_connected,
            status_topic=self.status_topic,
            status_payload=self._status_bytes,
        )

    def start(self, wait: float | None = None) -> bool:
        """Start the worker and connect; True when connected (within `wait` seconds, if given)."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name=f"print-{self.printer_name}", daemon=True)
            self._worker.start()
        return self.link.start(wait)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the job being printed (queued ones stay retained on the broker), say offline, disconnect."""
        worker, self._worker = self._worker, None
        if worker is not None:
            self._drop_queued()
            self._queue.put(None)
            worker.join(timeout)
            if worker.is_alive():
                log.warning("printer %s: job still in progress after %.0f s; disconnecting anyway",
                            self.printer_name, timeout)
        if self.link.connected.is_set():
            info = self._publish_status(payloads.PRINTER_OFFLINE, "agent stopped")
            with contextlib.suppress(RuntimeError, ValueError):  # not sent in time or connection gone: moot
                info.wait_for_publish(timeout=2)
        self.link.stop()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once every message received so far has been handled (for tests and orderly shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    # --- paho's network thread: hand over, nothing more --------------------------------------------------

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = topics.parse_print_job(topic)
        if parsed is None or parsed.site != self.site or parsed.printer != self.printer_name:
            log.warning("printer %s: ignoring message on unexpected topic %s", self.printer_name, topic)
            return
        if not payload:
            return  # the server cleared a finished job
        self._queue.put((parsed.job_id, payload))

    def _on_connected(self) -> None:
        # (re)connected: say it again, a broker restarted without persistence has forgotten retained status
        with self._status_lock:
            status, detail = self._status or (payloads.PRINTER_ONLINE, "")
            self._status = (status, detail)
        self._publish_status(status, detail)

    # --- worker thread --------------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._process(*item)
            except Exception:
                log.exception("printer %s: unexpected error handling a job", self.printer_name)
            finally:
                self._queue.task_done()

    def _process(self, topic_job_id: int, raw: bytes) -> None:
        try:
            payload = payloads.decode_state(raw)
            if payload is None:
                return
            if payload.get("job_id") != topic_job_id:
                raise PayloadError(f"payload job_id {payload.get('job_id')!r} does not match the topic")
            ack = self.handler.handle(payload)
        except PayloadError as exc:
            log.error("printer %s: job %d rejected, not printed: %s (payload starts %r)",
                      self.printer_name, topic_job_id, exc, raw[:120])
            # tell the server, or the job would wait silently forever; nothing was sent to the printer
            self._publish_ack(payloads.print_ack(job_id=topic_job_id, result=payloads.ACK_FAILED,
                                                 detail=f"rejected by agent: {exc}",
                                                 at=self.handler.clock().isoformat()))
            return
        self._publish_ack(ack)
        if ack["result"] in (payloads.ACK_FAILED, payloads.ACK_UNCERTAIN) and ack["detail"] != ALREADY_UNCERTAIN:
            self._set_status(payloads.PRINTER_ERROR, ack["detail"])
        elif ack["result"] == payloads.ACK_PRINTED and ack["detail"] != ALREADY_PRINTED:
            self._set_status(payloads.PRINTER_ONLINE, "")

    def _publish_ack(self, ack: dict[str, Any]) -> None:
        # queued by paho while disconnected; if lost anyway, the job stays retained and the journal re-acks it
        self.link.publish(self.ack_topic, payloads.encode(ack), retain=False, qos=1)
        log.info("printer %s: job %d %s %s", self.printer_name, ack["job_id"], ack["result"], ack["detail"])

    def _drop_queued(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
            self._queue.task_done()

    # --- status ---------------------------------------------------------------------------------------------

    def _set_status(self, status: str, detail: str) -> None:
        """Publish only changes: an unreachable printer would otherwise repeat "error" for every job."""
        with self._status_lock:
            if self._status == (status, detail):
                return
            self._status = (status, detail)
        self._publish_status(status, detail)

    def _status_bytes(self, state: str) -> bytes:
        detail = "agent connection lost" if state == payloads.PRINTER_OFFLINE else ""
        return payloads.encode(payloads.printer_status(printer=self.printer_name, status=state, detail=detail,
                                                       version=_VERSIONS.next()))

    def _publish_status(self, status: str, detail: str) -> Any:
        body = payloads.printer_status(printer=self.printer_name, status=status, detail=detail,
                                       version=_VERSIONS.next())
        return self.link.publish(self.status_topic, payloads.encode(body), retain=True, qos=1)
