"""The print agent: takes retained print jobs for one printer off the bus, prints each at most once, and
acknowledges every job with what really happened.

Delivery is at-least-once (retained jobs come back after every reconnect until the server clears them);
the journal turns that into at-most-once on paper. A job is state, not a command: while the printer cannot
take it (off, unreachable, paper out) it simply stays pending, retained on the broker and waiting here, and
the agent retries with a growing pause until the printer is ready, then prints it once. A job whose transfer
broke is "uncertain": acknowledged as such, never sent again by the agent, left to a person to decide.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.contract.payloads import PayloadError, PrintAck, PrinterCondition, PrintJob
from shopfloor.credentials import MqttAccount
from shopfloor.mqtt import BrokerAddress, MqttLink
from shopfloor.printer.journal import NOT_SENT, PRINTED, SENDING, UNCERTAIN, PrintJournal
from shopfloor.printer.status import PrinterState, PrinterStatus
from shopfloor.printer.transports import PrinterTransport, PrinterUnreachable, TransferBroken

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

ALREADY_PRINTED: Final = "already printed"
ALREADY_UNCERTAIN: Final = "transfer broke on an earlier attempt; not retried automatically"
CUT_SHORT: Final = "the agent stopped while sending this job (crash or power cut): it may be on paper"
RETRY_FIRST: Final = 2.0     # seconds before the first retry of a printer that could not take a job
RETRY_LONGEST: Final = 30.0  # the pause doubles up to this


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


def job_bytes(job: PrintJob, printer_name: str) -> bytes:
    """The ESC/POS bytes of a job (checked against the contract when it was read off the bus) meant for this
    printer; PayloadError says what is wrong with it."""
    if job.printer != printer_name:
        raise PayloadError(f"print job {job.job_id} is for printer {job.printer!r}, not {printer_name!r}")
    data = job.content()
    if not data:
        raise PayloadError(f"print job {job.job_id} has no data")
    return data


class PrintJobHandler:
    """Prints one job payload and returns its ack payload. Not thread-safe: one caller at a time."""

    def __init__(self, printer_name: str, transport: PrinterTransport, journal: PrintJournal,
                 clock: Clock = utc_now) -> None:
        self.printer_name = check_name(printer_name)
        self.transport = transport
        self.journal = journal
        self.clock = clock

    def handle(self, job: PrintJob) -> PrintAck:
        """The ack for a job that was printed, or whose transfer broke (uncertain), now or on an earlier try.

        Raises PayloadError for a payload that breaks the contract, and PrinterUnreachable when not a byte was
        sent (printer off, unreachable or not ready): the job is untouched and may be tried again later.
        """
        job_id, data = job.job_id, job_bytes(job, self.printer_name)

        previous = self.journal.outcome(job_id)
        if previous == PRINTED:
            return self._ack(job_id, payloads.ACK_PRINTED, ALREADY_PRINTED)
        if previous == UNCERTAIN:
            return self._ack(job_id, payloads.ACK_UNCERTAIN, ALREADY_UNCERTAIN)
        if previous == SENDING:
            return self._uncertain(job_id, CUT_SHORT)

        # if this record cannot be written, printing would risk a silent second copy after a crash
        try:
            self.journal.record(job_id, SENDING)
        except OSError as exc:
            self._remember(job_id, NOT_SENT, "")  # at least this process must not take it for cut short
            message = f"print journal {self.journal.path} not writable ({exc.strerror or exc}): not printing"
            raise PrinterUnreachable(message, PrinterStatus(PrinterState.ERROR, message)) from exc
        try:
            self.transport.send(job_id, data)
        except PrinterUnreachable:
            self._remember(job_id, NOT_SENT, "")
            raise
        except TransferBroken as exc:
            return self._uncertain(job_id, f"transfer broke: {exc}")
        except Exception as exc:
            # a transport bug: whether bytes went out is unknown, so this must not be retried blindly either
            log.exception("job %d: transport %r failed unexpectedly", job_id, self.transport)
            return self._uncertain(job_id, f"transport error: {exc!r}")

        detail = self._remember(job_id, PRINTED, "")
        return self._ack(job_id, payloads.ACK_PRINTED, detail)

    def _uncertain(self, job_id: int, detail: str) -> PrintAck:
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

    def _ack(self, job_id: int, result: str, detail: str) -> PrintAck:
        return payloads.print_ack(job_id=job_id, result=result, detail=detail, at=self.clock().isoformat())


def bus_status(found: PrinterStatus) -> tuple[PrinterCondition, str] | None:
    """The contract's printer status (online, offline, paper_out, error) and detail for what a transport found;
    None when the transport cannot tell."""
    if found.state == PrinterState.READY:
        return payloads.PRINTER_ONLINE, "paper near end" if found.paper_near_end else ""
    if found.state == PrinterState.PAPER_OUT:
        return payloads.PRINTER_PAPER_OUT, found.detail
    if found.state == PrinterState.OFFLINE:
        return payloads.PRINTER_OFFLINE, found.detail
    if found.state in (PrinterState.COVER_OPEN, PrinterState.ERROR, PrinterState.NOT_ESCPOS):
        return payloads.PRINTER_ERROR, found.detail
    return None


@dataclass(frozen=True)
class _Outcome:
    waiting: PrinterUnreachable | None = None  # the printer could not take the job: it waits
    reached_printer: bool = False              # bytes went to the printer (printed or uncertain)


_VERSIONS = VersionClock()  # one per process: every payload this process publishes gets a larger version


class PrinterAgent:
    """One printer on the bus: subscribes to its retained jobs, prints them in job order on a worker thread
    (never in paho's network thread, which must keep answering pings while a printer is slow), publishes an ack
    per job and the printer's retained status.

    Jobs wait in `pending` (one entry per job id, so a redelivery does not queue a job twice) until they are
    acknowledged or the server clears them. When the printer cannot take a job, nothing is acknowledged: the
    status says why (offline, paper_out, error) and the job is retried after 2, 4, 8 … up to 30 s. Jobs already
    in the journal are acknowledged at once, without the printer. With `probe_interval`, an idle agent asks
    the printer for its status that often, so a printer out of paper shows before anyone prints.

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
        retry_first: float = RETRY_FIRST,
        retry_longest: float = RETRY_LONGEST,
        probe_interval: float | None = None,
    ) -> None:
        self.site = site
        self.printer_name = check_name(printer_name)
        self.handler = PrintJobHandler(printer_name, transport, journal, clock)
        self.jobs_filter = topics.print_jobs_filter(site, printer_name)
        self.ack_topic = topics.print_ack(site, printer_name)
        self.status_topic = topics.printer_status(site, printer_name)
        self.retry_first = retry_first
        self.retry_longest = max(retry_longest, retry_first)
        self.probe_interval = probe_interval
        self._pending: dict[int, bytes] = {}  # job id -> latest payload; guarded by _cond
        self._busy = False
        self._stopping = False
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._status: tuple[PrinterCondition, str] | None = None
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

    @property
    def status(self) -> tuple[PrinterCondition, str] | None:
        """(status, detail) as last published."""
        with self._status_lock:
            return self._status

    def start(self, wait: float | None = None) -> bool:
        """Start the worker and connect; True when connected (within `wait` seconds, if given)."""
        if self._worker is None:
            with self._cond:
                self._stopping = False
            self._worker = threading.Thread(target=self._work, name=f"print-{self.printer_name}", daemon=True)
            self._worker.start()
        return self.link.start(wait)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the job being printed (waiting ones stay retained on the broker), say offline, disconnect."""
        worker, self._worker = self._worker, None
        if worker is not None:
            with self._cond:
                self._stopping = True
                self._pending.clear()
                self._cond.notify_all()
            worker.join(timeout)
            if worker.is_alive():
                log.warning("printer %s: job still in progress after %.0f s; disconnecting anyway",
                            self.printer_name, timeout)
        if self.link.connected.is_set():
            info = self._publish_status(payloads.PRINTER_OFFLINE, payloads.AGENT_STOPPED)
            with contextlib.suppress(RuntimeError, ValueError):  # not sent in time or connection gone: moot
                info.wait_for_publish(timeout=2)
        self.link.stop()

    def working(self) -> bool:
        """Its worker thread still runs (the systemd watchdog's question; a broker out of reach is not a fault of
        the agent's: it keeps retrying and its journal keeps the jobs)."""
        worker = self._worker
        return worker is not None and worker.is_alive()

    def pending(self) -> list[int]:
        """Ids of the jobs not yet acknowledged, including one being printed right now."""
        with self._cond:
            return sorted(self._pending)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once every job received so far is acknowledged or cleared. A job waiting for a printer that
        cannot take it is not, so this times out while the printer is off."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    # --- paho's network thread: hand over, nothing more --------------------------------------------------

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = topics.parse_print_job(topic)
        if parsed is None or parsed.site != self.site or parsed.printer != self.printer_name:
            log.warning("printer %s: ignoring message on unexpected topic %s", self.printer_name, topic)
            return
        with self._cond:
            if payload:
                self._pending[parsed.job_id] = payload
            elif self._pending.pop(parsed.job_id, None) is not None:
                # the server settled it (acknowledged earlier, or a person decided): it must not print now
                log.info("printer %s: job %d cleared by the server while waiting; dropped",
                         self.printer_name, parsed.job_id)
            self._cond.notify_all()

    def _on_connected(self) -> None:
        # (re)connected: say it again, a broker restarted without persistence has forgotten retained status
        with self._status_lock:
            status, detail = self._status or (payloads.PRINTER_ONLINE, "")
            self._status = (status, detail)
        self._publish_status(status, detail)

    # --- worker thread --------------------------------------------------------------------------------------

    def _work(self) -> None:
        pause = self.retry_first
        retry_at = 0.0  # a printer that could not take a job is left alone until then
        probe_at = time.monotonic()  # an idle agent with probing asks at once: says early what it cannot reach
        while True:
            job = self._next(retry_at, probe_at)
            if job is None:
                return
            job_id, raw = job
            if job_id is None:
                if self._probe() == payloads.PRINTER_ONLINE:
                    pause, retry_at = self.retry_first, 0.0  # ready again: a job arriving now goes straight out
                probe_at = time.monotonic() + (self.probe_interval or 0)
                self._done(None, done=False)
                continue
            outcome = _Outcome()
            try:
                outcome = self._process(job_id, raw)
            except Exception:
                log.exception("printer %s: unexpected error handling job %d", self.printer_name, job_id)
            waiting = outcome.waiting
            self._done(job_id, done=waiting is None)
            if outcome.reached_printer:
                pause, retry_at = self.retry_first, 0.0  # the printer is back: no more pause for the next job
                probe_at = time.monotonic() + (self.probe_interval or 0)  # that was as good as a probe
            if waiting is None:
                continue
            retry_at = time.monotonic() + pause
            found = bus_status(waiting.status) or (payloads.PRINTER_OFFLINE, str(waiting))
            changed = self._set_status(*found)
            log.log(logging.WARNING if changed else logging.DEBUG,
                    "printer %s cannot take job %d (%s); %d job(s) waiting, next try in %.3g s",
                    self.printer_name, job_id, waiting, len(self.pending()), pause)
            pause = min(pause * 2, self.retry_longest)

    def _next(self, retry_at: float, probe_at: float) -> tuple[int | None, bytes] | None:
        """The next job to handle, (None, b"") for a status probe, None to stop. Marks the worker busy."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                # a job the journal knows needs no printer: acknowledge it even while the printer is away
                known = [j for j in self._pending if self.handler.journal.outcome(j) is not None]
                candidates = known or (list(self._pending) if now >= retry_at else [])
                if candidates:
                    job_id = min(candidates)  # job ids grow with creation: print in the order they were asked for
                    self._busy = True
                    return job_id, self._pending[job_id]
                probing = self.probe_interval is not None and not self._pending
                if probing and now >= probe_at:
                    self._busy = True
                    return None, b""
                wake = retry_at if self._pending else (probe_at if probing else None)
                self._cond.wait(None if wake is None else max(wake - now, 0.001))
            return None

    def _done(self, job_id: int | None, *, done: bool) -> None:
        with self._cond:
            self._busy = False
            if done and job_id is not None:
                self._pending.pop(job_id, None)
            self._cond.notify_all()

    def _process(self, topic_job_id: int, raw: bytes) -> _Outcome:
        """Handle one job; the outcome says why the printer could not take it (then the job keeps waiting)."""
        try:
            job = payloads.parse(PrintJob, raw)
            if job is None:
                return _Outcome()
            if job.job_id != topic_job_id:
                raise PayloadError(f"payload job_id {job.job_id!r} does not match the topic")
            ack = self.handler.handle(job)
        except PayloadError as exc:
            log.error("printer %s: job %d rejected, not printed: %s (payload starts %r)",
                      self.printer_name, topic_job_id, exc, raw[:120])
            # tell the server, or the job would wait silently forever; nothing was sent to the printer
            self._publish_ack(payloads.print_ack(job_id=topic_job_id, result=payloads.ACK_FAILED,
                                                 detail=f"rejected by agent: {exc}",
                                                 at=self.handler.clock().isoformat()))
            return _Outcome()
        except PrinterUnreachable as exc:
            return _Outcome(waiting=exc)
        self._publish_ack(ack)
        if ack.detail in (ALREADY_PRINTED, ALREADY_UNCERTAIN) or ack.detail.startswith(CUT_SHORT):
            return _Outcome()  # from the journal: the printer was not asked
        if ack.result == payloads.ACK_UNCERTAIN:
            self._set_status(payloads.PRINTER_ERROR, ack.detail)
        elif ack.result == payloads.ACK_PRINTED and self._set_status(payloads.PRINTER_ONLINE, ""):
            log.info("printer %s is online", self.printer_name)
        return _Outcome(reached_printer=True)

    def _probe(self) -> PrinterCondition | None:
        """Ask an idle printer how it is and publish a change; returns the status found (None: cannot tell)."""
        try:
            found = bus_status(self.handler.transport.query_status())
        except Exception:
            log.exception("printer %s: status query failed unexpectedly", self.printer_name)
            return None
        if found is None:
            return None
        if self._set_status(*found):
            level = logging.INFO if found[0] == payloads.PRINTER_ONLINE else logging.WARNING
            log.log(level, "printer %s: %s%s", self.printer_name, found[0], f" ({found[1]})" if found[1] else "")
        return found[0]

    def _publish_ack(self, ack: PrintAck) -> None:
        # queued by paho while disconnected; if lost anyway, the job stays retained and the journal re-acks it
        self.link.publish(self.ack_topic, payloads.encode(ack), retain=False, qos=1)
        log.info("printer %s: job %d %s %s", self.printer_name, ack.job_id, ack.result.value, ack.detail)

    # --- status ---------------------------------------------------------------------------------------------

    def _set_status(self, status: PrinterCondition, detail: str) -> bool:
        """Publish only changes (True when it changed): a printer that stays off would otherwise repeat
        "offline" on every retry."""
        with self._status_lock:
            if self._status == (status, detail):
                return False
            self._status = (status, detail)
        self._publish_status(status, detail)
        return True

    def _status_bytes(self, state: str) -> bytes:
        detail = payloads.AGENT_CONNECTION_LOST if state == payloads.PRINTER_OFFLINE else ""
        return payloads.encode(payloads.printer_status(printer=self.printer_name, status=state, detail=detail,
                                                       version=_VERSIONS.next()))

    def _publish_status(self, status: PrinterCondition, detail: str) -> Any:
        body = payloads.printer_status(printer=self.printer_name, status=status, detail=detail,
                                       version=_VERSIONS.next())
        return self.link.publish(self.status_topic, payloads.encode(body), retain=True, qos=1)
