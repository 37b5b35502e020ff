"""Every printer fault the simulator can play: a job ends printed exactly once, or uncertain and acknowledged as
such (a person decides) — never lost, never silently printed twice.

The transports run for real against `PrinterSimulator` (raw TCP on 127.0.0.1) or `PtyPrinter` (a pseudo
terminal standing in for a serial port or USB printer device); timeouts are a few tenths of a second.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.contract.payloads import ACK_PRINTED, ACK_UNCERTAIN
from shopfloor.credentials import Credentials
from shopfloor.printer import status as rt
from shopfloor.printer.agent import ALREADY_PRINTED, ALREADY_UNCERTAIN, PrinterAgent, PrintJobHandler
from shopfloor.printer.journal import PRINTED, UNCERTAIN, PrintJournal
from shopfloor.printer.runner import run_agent
from shopfloor.printer.simulator import EscposResponder, PrinterSimulator, PtyPrinter
from shopfloor.printer.status import PrinterState, PrinterStatus
from shopfloor.printer.stream import LinkClosed
from shopfloor.printer.transports import (
    DeviceTransport,
    FileTransport,
    NetworkTransport,
    PrinterUnreachable,
    SerialTransport,
    TransferBroken,
    transport_for,
)
from shopfloor.settings import PrinterSettings
from shopfloor.testing.broker_fixtures import TEST_SITE, free_port
from shopfloor.testing.plugin import Collector
from shopfloor.testing.polling import eventually
from shopfloor.testing.printer_fixtures import (
    RecordingLink,
    printer_simulator,  # noqa: F401  (until the plugin registers it)
)
from shopfloor.testing.scripted_printer import ScriptedChannel, ScriptedTransport

PRINTER = "front-desk"
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
TIMEOUT = 0.3
QUERY = len(rt.FULL_QUERY)  # bytes of the status query that opens every job's connection


def ticket(job_id: int) -> bytes:
    """A job of about 1.5 KB: text in GB18030, a cut; unique per job so the simulator's record tells them apart."""
    lines = [f"RO2611230{job_id:03d}".encode(), "王先生 京A·***45".encode("gb18030")]
    lines += [f"{i:02d} oil + filter, brake check, tyre rotation .......... 0.5 h".encode() for i in range(24)]
    return b"\x1b@\x1c&" + b"\n".join(lines) + b"\n\x1dVB\x18"


def job(job_id: int, printer: str = PRINTER) -> payloads.PrintJob:
    return payloads.print_job(job_id=job_id, printer=printer, version=1_800_000_000_000_000 + job_id,
                              ro_number=f"RO2611230{job_id:03d}", kind="ticket", reprint=False,
                              created_at="2026-11-23T10:30:00+08:00", data=ticket(job_id))


def network(sim: PrinterSimulator, **options) -> NetworkTransport:
    return NetworkTransport("127.0.0.1", sim.port, timeout=TIMEOUT, **options)


@pytest.fixture
def sim(printer_simulator: PrinterSimulator) -> PrinterSimulator:  # noqa: F811
    return printer_simulator


@pytest.fixture
def journal(tmp_path: Path) -> PrintJournal:
    return PrintJournal(tmp_path / "agents" / f"{PRINTER}.journal")


@pytest.fixture
def handler(sim: PrinterSimulator, journal: PrintJournal) -> PrintJobHandler:
    return PrintJobHandler(PRINTER, network(sim), journal, clock=lambda: NOW)


# --- the status bytes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "state", "near_end"), [
    ((0x12, 0x12, 0x12), PrinterState.READY, False),
    ((0x12, 0x12, 0x1E), PrinterState.READY, True),
    ((0x1A, 0x32, 0x7E), PrinterState.PAPER_OUT, True),   # the sequence Epson documents for paper out
    ((0x1A, 0x12, 0x72), PrinterState.PAPER_OUT, False),  # roll sensor alone
    ((0x1A, 0x16, 0x12), PrinterState.COVER_OPEN, False),
    ((0x1A, 0x52, 0x12), PrinterState.ERROR, False),
    ((0x1A, 0x12, 0x12), PrinterState.OFFLINE, False),
])
def test_decode_dle_eot_answers(answers, state, near_end):
    assert all(rt.is_status_byte(a) for a in answers)
    found = rt.decode(*answers)
    assert (found.state, found.paper_near_end) == (state, near_end)
    assert found.ready == (state == PrinterState.READY)


def test_xon_xoff_and_asb_bytes_are_not_status_answers():
    assert not any(rt.is_status_byte(b) for b in (0x11, 0x13, 0x10, 0x00, 0x0F))


def test_accidental_queries_inside_a_job_are_counted():
    assert rt.count_queries(b"ab\x10\x04\x01cd\x10\x04\x09\x10\x04\x04\x10\x04") == 2


def test_responder_answers_a_query_cut_across_reads():
    responder = EscposResponder(lambda: {1: 0x12, 2: 0x32, 3: 0x12, 4: 0x7E})
    assert responder.feed(b"AB\x10") == (b"AB", b"", [])
    assert responder.feed(b"\x04") == (b"", b"", [])
    assert responder.feed(b"\x04CD\x10\x04\x02\x10") == (b"CD", b"\x7e\x32", [4, 2])
    assert responder.feed(b"E") == (b"\x10E", b"", [])


# --- each fault, through the handler and the real network transport -----------------------------------------


def test_normal_prints_once_and_a_redelivery_does_not_reach_the_printer(sim, handler):
    ack = handler.handle(job(1))
    assert (ack.result, ack.detail) == (ACK_PRINTED, "")
    assert sim.wait_for_jobs(1)
    assert sim.jobs() == [ticket(1)]
    assert sim.connections()[0].queries == [1, 2, 4, 1]  # status before the job, one query after it
    connections = len(sim.connections())
    again = handler.handle(job(1))
    assert (again.result, again.detail) == (ACK_PRINTED, ALREADY_PRINTED)
    assert len(sim.connections()) == connections


def test_refused_then_recovered_prints_once(sim, handler, journal):
    sim.refuse()
    with pytest.raises(PrinterUnreachable, match="connection refused") as caught:
        handler.handle(job(2))
    assert caught.value.status.state == PrinterState.OFFLINE
    assert network(sim).query_status().state == PrinterState.OFFLINE
    assert 2 not in journal and sim.connections() == []
    sim.normal()
    assert handler.handle(job(2)).result == ACK_PRINTED
    assert sim.wait_for_jobs(1) and sim.jobs() == [ticket(2)]


def test_hung_printer_gets_no_job_bytes_and_the_job_waits(sim, handler, journal):
    sim.hang()
    started = time.monotonic()
    with pytest.raises(PrinterUnreachable, match="no answer to a status query") as caught:
        handler.handle(job(3))
    assert time.monotonic() - started < TIMEOUT + 1
    assert caught.value.status.state == PrinterState.OFFLINE
    assert sim.received() == [] and 3 not in journal
    sim.normal()
    assert handler.handle(job(3)).result == ACK_PRINTED
    assert sim.wait_for_jobs(1) and sim.jobs() == [ticket(3)]


def test_printer_hanging_after_taking_the_bytes_makes_the_job_uncertain(sim, handler, journal):
    # Every byte reaches the printer (sendall succeeds, the kernel even acknowledges them) but it never
    # answers the query after the job: only that silence tells us nothing is known about the paper.
    sim.hang(after=QUERY + len(ticket(4)))
    ack = handler.handle(job(4))
    assert ack.result == ACK_UNCERTAIN
    assert "no status answer" in ack.detail
    assert journal.outcome(4) == UNCERTAIN
    assert sim.jobs() == [] and sim.received() == [ticket(4)]
    sim.normal()
    connections = len(sim.connections())
    again = handler.handle(job(4))
    assert (again.result, again.detail) == (ACK_UNCERTAIN, ALREADY_UNCERTAIN)
    assert len(sim.connections()) == connections  # never sent again by itself


def test_printer_hanging_mid_job_makes_the_job_uncertain(sim, handler, journal):
    sim.hang(after=QUERY + 100)
    ack = handler.handle(job(5))
    assert ack.result == ACK_UNCERTAIN
    assert journal.outcome(5) == UNCERTAIN
    assert sim.received() == [ticket(5)[:100]]


def test_connection_dropped_mid_job_makes_the_job_uncertain(sim, handler, journal):
    sim.drop_mid_job(after=QUERY + 100)
    ack = handler.handle(job(6))
    assert ack.result == ACK_UNCERTAIN
    assert journal.outcome(6) == UNCERTAIN
    assert sim.received() == [ticket(6)[:100]] and sim.jobs() == []
    sim.normal()
    assert handler.handle(job(6)).detail == ALREADY_UNCERTAIN
    assert sim.received() == [ticket(6)[:100]]


def test_dropped_right_after_the_status_answer(sim, handler, journal):
    sim.drop_mid_job(after=QUERY)  # the printer answered the status query and rebooted
    try:
        ack = handler.handle(job(7))
    except PrinterUnreachable:
        assert 7 not in journal  # the reset came before the job: nothing sent, the job waits
    else:
        # the job went into the kernel before the reset arrived: from here its fate is unknowable
        assert ack.result == ACK_UNCERTAIN and journal.outcome(7) == UNCERTAIN
    assert sim.received() == []


@pytest.mark.parametrize(("fault", "state"), [("paper_out", PrinterState.PAPER_OUT),
                                              ("cover_open", PrinterState.COVER_OPEN)])
def test_paper_out_or_cover_open_sends_nothing_then_prints_once(sim, handler, journal, fault, state):
    getattr(sim, fault)()
    with pytest.raises(PrinterUnreachable) as caught:
        handler.handle(job(8))
    assert caught.value.status.state == state
    assert network(sim).query_status().state == state
    assert sim.received() == [] and 8 not in journal
    sim.normal()
    assert handler.handle(job(8)).result == ACK_PRINTED
    assert sim.wait_for_jobs(1) and sim.jobs() == [ticket(8)]


def test_a_job_carrying_query_bytes_by_accident_still_prints_once(sim, handler):
    data = ticket(9)[:50] + b"\x10\x04\x01" + ticket(9)[50:]
    payload = job(9).model_copy(update={"data": base64.b64encode(data).decode("ascii")})
    assert handler.handle(payload).result == ACK_PRINTED
    assert sim.wait_for_jobs(1)
    assert sim.jobs() == [ticket(9)]  # the printer executed the embedded query instead of printing it
    assert sim.connections()[0].queries == [1, 2, 4, 1, 1]


def test_printer_without_status_queries_counts_tcp_acknowledgement(sim):
    transport = network(sim, status_queries=False)
    assert transport.query_status().state == PrinterState.UNKNOWN
    transport.send(10, ticket(10))
    assert sim.wait_for_jobs(1) and sim.jobs() == [ticket(10)]
    assert sim.connections()[0].queries == []
    sim.refuse()
    with pytest.raises(PrinterUnreachable):
        transport.send(11, ticket(11))


# --- the protocol's edges, on a scripted channel ------------------------------------------------------------


READY3 = b"\x12\x12\x12"


@pytest.mark.parametrize(("channel", "error", "message"), [
    (ScriptedChannel([[READY3]], fail_write_at=1, sent=0), PrinterUnreachable, "nothing sent"),
    (ScriptedChannel([[READY3]], fail_write_at=1, sent=2), TransferBroken, "up to 2 of 3 bytes"),
    (ScriptedChannel([[READY3], [b"\x1a"]]), TransferBroken, "went offline"),
    (ScriptedChannel([[READY3], [LinkClosed("reset")]]), TransferBroken, "link closed"),
    (ScriptedChannel([[READY3], []]), TransferBroken, "no status answer"),
    (ScriptedChannel([[b"\x12", LinkClosed("reset")]]), PrinterUnreachable, "before the printer answered"),
    (ScriptedChannel([[b"\x11\x13\x12\x12"]]), PrinterUnreachable, "no answer"),  # XON/XOFF are no answers
    (ScriptedChannel([[READY3], [b"\x12", LinkClosed("reset")]]), None, ""),  # answered, then closed: fine
])
def test_stream_protocol_edges(channel, error, message):
    if error is None:
        ScriptedTransport(channel).send(1, b"job")
        return
    with pytest.raises(error, match=message):
        ScriptedTransport(channel).send(1, b"job")


def test_stale_bytes_are_drained_before_asking():
    # a late answer to an earlier question says "offline": it must not be taken for the answer to come
    channel = ScriptedChannel([[READY3], [b"\x12"]], stale=b"\x1a\x1a")
    ScriptedTransport(channel).send(1, b"job")
    assert channel.writes == [rt.FULL_QUERY, b"job" + rt.QUERY_PRINTER]


# --- serial and USB device, on a pseudo terminal -------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda path: DeviceTransport(path, timeout=TIMEOUT),
    lambda path: SerialTransport(path, 115200, timeout=TIMEOUT),
], ids=["usb-device", "serial"])
def test_device_and_serial_transports(make):
    with PtyPrinter() as printer:
        transport = make(printer.path)
        assert transport.query_status().state == PrinterState.READY
        transport.send(1, ticket(1))
        assert printer.received() == ticket(1)
        printer.mode = printer.mode.PAPER_OUT
        with pytest.raises(PrinterUnreachable) as caught:
            transport.send(2, ticket(2))
        assert caught.value.status.state == PrinterState.PAPER_OUT
        printer.mode = printer.mode.HANG
        with pytest.raises(PrinterUnreachable, match="no answer"):
            transport.send(3, ticket(3))
        assert printer.received() == ticket(1)


@pytest.mark.parametrize("transport", [DeviceTransport("/nonexistent/usb/lp0", timeout=TIMEOUT),
                                       SerialTransport("/nonexistent/ttyUSB0", timeout=TIMEOUT)],
                         ids=["usb-device", "serial"])
def test_missing_device_is_unreachable(transport):
    with pytest.raises(PrinterUnreachable, match="does not exist"):
        transport.send(1, b"x")
    assert transport.query_status().state == PrinterState.OFFLINE


def test_transport_for_each_configuration(tmp_path):
    def make(**kw) -> object:
        return transport_for(PrinterSettings(name="p", **kw), tmp_path)

    assert isinstance(make(), FileTransport)
    net = make(transport="network", host="10.0.0.9", timeout_seconds=3)
    assert isinstance(net, NetworkTransport) and (net.host, net.port, net.timeout) == ("10.0.0.9", 9100, 3)
    usb = make(transport="usb", device="/dev/usb/lp0")
    assert isinstance(usb, DeviceTransport) and str(usb.path) == "/dev/usb/lp0"
    ser = make(transport="serial", device="/dev/ttyUSB0", baudrate=9600)
    assert isinstance(ser, SerialTransport) and (ser.device, ser.baudrate) == ("/dev/ttyUSB0", 9600)


# --- the agent: waiting jobs, status, uncertain jobs (MQTT link replaced by a recorder) -----------------------


@pytest.fixture
def agent(sim, journal):
    agent = PrinterAgent(TEST_SITE, PRINTER, network(sim), journal, None, None,  # type: ignore[arg-type]
                         link_factory=RecordingLink, retry_first=0.02, retry_longest=0.1)
    agent.start()
    yield agent
    agent.stop()


def deliver(agent: PrinterAgent, job_id: int) -> None:
    agent.on_message(topics.print_job(TEST_SITE, PRINTER, job_id), payloads.encode(job(job_id)), True)


def agent_acks(agent: PrinterAgent) -> list[tuple[int, str, str]]:
    return [(p["job_id"], p["result"], p["detail"]) for t, p, _ in list(agent.link.published) if t.endswith("/acks")]


def agent_statuses(agent: PrinterAgent) -> list[str]:
    return [p["status"] for t, p, _ in list(agent.link.published) if t.endswith("/status")]


@pytest.mark.parametrize(("fault", "status"), [
    (lambda sim: sim.refuse(), payloads.PRINTER_OFFLINE),
    (lambda sim: sim.hang(), payloads.PRINTER_OFFLINE),
    (lambda sim: sim.paper_out(), payloads.PRINTER_PAPER_OUT),
    (lambda sim: sim.cover_open(), payloads.PRINTER_ERROR),
], ids=["refuse", "hang", "paper_out", "cover_open"])
def test_agent_waits_out_a_printer_that_cannot_take_jobs(sim, agent, fault, status):
    fault(sim)
    deliver(agent, 22)
    deliver(agent, 21)
    assert eventually(lambda: status in agent_statuses(agent))
    assert agent_acks(agent) == [] and agent.pending() == [21, 22]  # nothing acknowledged: still retained
    assert sim.received() == []
    sim.normal()
    assert agent.wait_idle(5)
    assert agent_acks(agent) == [(21, ACK_PRINTED, ""), (22, ACK_PRINTED, "")]
    assert sim.wait_for_jobs(2) and sim.jobs() == [ticket(21), ticket(22)]
    assert agent_statuses(agent) == [payloads.PRINTER_ONLINE, status, payloads.PRINTER_ONLINE]


def test_agent_acks_a_dropped_job_uncertain_once_and_never_resends_it(sim, agent):
    sim.drop_mid_job(after=QUERY + 100)
    deliver(agent, 31)
    assert agent.wait_idle(5)
    [(job_id, result, detail)] = agent_acks(agent)
    assert (job_id, result) == (31, ACK_UNCERTAIN) and "transfer broke" in detail
    assert agent_statuses(agent)[-1] == payloads.PRINTER_ERROR
    sim.normal()
    deliver(agent, 31)  # redelivered (the server did not clear it yet)
    deliver(agent, 32)
    assert agent.wait_idle(5)
    assert agent_acks(agent)[1:] == [(31, ACK_UNCERTAIN, ALREADY_UNCERTAIN), (32, ACK_PRINTED, "")]
    assert sim.wait_for_jobs(1) and sim.jobs() == [ticket(32)]
    assert sim.received() == [ticket(31)[:100], ticket(32)]
    assert agent_statuses(agent)[-1] == payloads.PRINTER_ONLINE


# --- end to end over the embedded broker ------------------------------------------------------------------------


class Server:
    """The server's side of the bus, reduced to what this test needs: publish retained jobs, see acks and status."""

    def __init__(self, broker, credentials: Credentials) -> None:
        self.collector = Collector(broker.address, credentials.account(Role.SERVER),
                                   [topics.print_acks_filter(TEST_SITE), topics.printer_status_filter(TEST_SITE)],
                                   client_id="test-server")
        assert self.collector.connected.wait(10)

    def publish_job(self, job_id: int) -> None:
        info = self.collector.client.publish(topics.print_job(TEST_SITE, PRINTER, job_id),
                                             payloads.encode(job(job_id)), qos=1, retain=True)
        info.wait_for_publish(5)

    def acks(self) -> list[tuple[int, str, str]]:
        return [(p["job_id"], p["result"], p["detail"]) for p in self._payloads("/acks")]

    def statuses(self) -> list[str]:
        return [p["status"] for p in self._payloads("/status")]

    def _payloads(self, suffix: str) -> list[dict]:
        return [json.loads(m) for t, m, _ in list(self.collector.messages) if t.endswith(suffix) and m]

    def wait(self, predicate, timeout: float = 10.0) -> bool:
        return self.collector.wait_for(lambda _: predicate(), timeout)


def test_end_to_end_catch_up_restart_redelivery_and_paper_out(sim, journal, embedded_broker, credentials):
    server = Server(embedded_broker, credentials)
    account = credentials.printer_account(PRINTER)

    def start_agent() -> PrinterAgent:
        agent = PrinterAgent(TEST_SITE, PRINTER, network(sim), journal, embedded_broker.address, account,
                             retry_first=0.02, retry_longest=0.1)
        assert agent.start(wait=10)
        return agent

    try:
        # the agent was offline when job 1 was asked for: it catches up when it comes
        server.publish_job(1)
        first = start_agent()
        assert server.wait(lambda: (1, ACK_PRINTED, "") in server.acks())
        # job 2 breaks mid-transfer: uncertain, for a person to decide
        sim.drop_mid_job(after=QUERY + 100)
        server.publish_job(2)
        assert server.wait(lambda: any(a[:2] == (2, ACK_UNCERTAIN) for a in server.acks()))
        assert server.wait(lambda: server.statuses()[-1] == payloads.PRINTER_ERROR)
        sim.normal()
        # the agent dies without a goodbye; the server never cleared jobs 1 and 2, so both come back
        first.link.kill()
        assert server.wait(lambda: server.statuses()[-1] == payloads.PRINTER_OFFLINE)
        first.stop(timeout=1)  # its worker thread; the connection is already gone
        second = start_agent()
        try:
            assert server.wait(lambda: len(server.acks()) == 4)
            assert sorted(server.acks()[2:]) == [(1, ACK_PRINTED, ALREADY_PRINTED),
                                                 (2, ACK_UNCERTAIN, ALREADY_UNCERTAIN)]
            # paper runs out: job 3 waits, unacknowledged, and the status says why
            sim.paper_out()
            server.publish_job(3)
            assert server.wait(lambda: server.statuses()[-1] == payloads.PRINTER_PAPER_OUT)
            assert len(server.acks()) == 4 and second.pending() == [3]
            sim.normal()
            assert server.wait(lambda: (3, ACK_PRINTED, "") in server.acks())
            assert server.wait(lambda: server.statuses()[-1] == payloads.PRINTER_ONLINE)
        finally:
            second.stop()
        assert sim.wait_for_jobs(2)
        assert sim.jobs() == [ticket(1), ticket(3)]  # 1 and 3 once each; 2 only the broken part
        assert sim.received() == [ticket(1), ticket(2)[:100], ticket(3)]
        assert (journal.outcome(1), journal.outcome(2), journal.outcome(3)) == (PRINTED, UNCERTAIN, PRINTED)
    finally:
        server.collector.close()


def test_run_agent_prints_and_says_what_it_cannot_reach(sim, tmp_path, embedded_broker, credentials, caplog):
    settings = PrinterSettings(name=PRINTER, transport="network", host="127.0.0.1", port=sim.port,
                               timeout_seconds=TIMEOUT)
    server = Server(embedded_broker, credentials)
    stop = threading.Event()
    sim.refuse()
    caplog.set_level("INFO", logger="shopfloor")
    runner = threading.Thread(target=run_agent, kwargs=dict(
        settings=settings, site=TEST_SITE, printer_name=PRINTER, data_dir=tmp_path,
        address=embedded_broker.address, account=credentials.printer_account(PRINTER), stop=stop,
        probe_interval=0.05))
    runner.start()
    try:
        assert server.wait(lambda: payloads.PRINTER_OFFLINE in server.statuses())
        assert "connection refused" in caplog.text
        sim.normal()
        server.publish_job(41)
        assert server.wait(lambda: (41, ACK_PRINTED, "") in server.acks())
        assert sim.wait_for_jobs(1) and sim.jobs() == [ticket(41)]
        assert PrintJournal(tmp_path / "agents" / f"{PRINTER}.journal").outcome(41) == PRINTED
        stop.set()
        runner.join(10)
        assert not runner.is_alive()
        assert server.wait(lambda: server.statuses()[-1] == payloads.PRINTER_OFFLINE)
    finally:
        stop.set()
        server.collector.close()


def test_run_agent_says_when_the_broker_is_not_there(sim, tmp_path, credentials, caplog):
    from shopfloor.mqtt import BrokerAddress

    stop = threading.Event()
    stop.set()  # return as soon as it has started
    settings = PrinterSettings(name=PRINTER, transport="network", host="127.0.0.1", port=sim.port)
    nowhere = BrokerAddress("127.0.0.1", free_port())
    assert run_agent(settings, TEST_SITE, PRINTER, tmp_path, nowhere, credentials.printer_account(PRINTER),
                     stop=stop, probe_interval=None, connect_wait=0.3) == 0
    assert f"not connected to MQTT broker {nowhere}" in caplog.text


def test_run_agent_names_an_unknown_printer(tmp_path, credentials):
    settings = PrinterSettings(name="workshop")
    with pytest.raises(ValueError, match="workshop"):
        run_agent(settings, TEST_SITE, PRINTER, tmp_path, None, credentials.printer_account(PRINTER))  # type: ignore[arg-type]


def test_status_is_unknown_when_queries_are_off():
    assert DeviceTransport("/dev/null", status_queries=False).query_status() == PrinterStatus(
        PrinterState.UNKNOWN, "status queries disabled for this printer")
