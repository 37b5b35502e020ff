"""A printer's address that reaches some other service (a web server answering "HTTP/1.1 400 …"): the agent must
say the device does not answer as an ESC/POS printer, naming the address — never read the text's letters as
status answers (many have their shape: "R", "r" and "v" used to say paper out) — and print nothing to it.

Runs the real network transport against `PrinterSimulator` in its http mode (raw TCP on 127.0.0.1).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopfloor.contract import payloads, topics
from shopfloor.contract.payloads import ACK_PRINTED, ACK_UNCERTAIN
from shopfloor.printer import status as rt
from shopfloor.printer.agent import PrinterAgent, PrintJobHandler, bus_status
from shopfloor.printer.journal import UNCERTAIN, PrintJournal
from shopfloor.printer.simulator import HTTP_ANSWER, PrinterSimulator
from shopfloor.printer.status import PrinterState
from shopfloor.printer.transports import NetworkTransport, PrinterUnreachable, SerialTransport
from shopfloor.testing.broker_fixtures import TEST_SITE
from shopfloor.testing.polling import eventually
from shopfloor.testing.printer_fixtures import (
    RecordingLink,
    printer_simulator,  # noqa: F401  (until the plugin registers it)
)
from shopfloor.testing.scripted_printer import scripted

PRINTER = "workshop"
NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
TIMEOUT = 0.3
TICKET = b"\x1b@RO2611230001\n" + "王先生 京A·***45\n".encode("gb18030") + b"\x1dVB\x18"


def job(job_id: int) -> payloads.PrintJob:
    return payloads.print_job(job_id=job_id, printer=PRINTER, version=1_800_000_000_000_000 + job_id,
                              ro_number="RO2611230001", kind="ticket", reprint=False,
                              created_at="2026-11-23T10:30:00+08:00", data=TICKET)


@pytest.fixture
def sim(printer_simulator: PrinterSimulator) -> PrinterSimulator:  # noqa: F811
    printer_simulator.http()
    return printer_simulator


@pytest.fixture
def transport(sim: PrinterSimulator) -> NetworkTransport:
    return NetworkTransport("127.0.0.1", sim.port, timeout=TIMEOUT)


@pytest.fixture
def journal(tmp_path: Path) -> PrintJournal:
    return PrintJournal(tmp_path / "agents" / f"{PRINTER}.journal")


def test_the_old_reading_took_a_web_servers_answer_for_paper_out():
    # what the transport did before: skip the bytes without the answers' shape, decode the first three left
    shaped = [b for b in HTTP_ANSWER if rt.is_status_byte(b)]
    assert rt.decode(*shaped[:3]).state == PrinterState.PAPER_OUT


def test_status_of_a_web_server_says_it_is_no_printer_and_where(sim, transport):
    found = transport.query_status()
    assert found.state == PrinterState.NOT_ESCPOS and not found.ready
    assert f"printer 127.0.0.1:{sim.port}: does not answer as an ESC/POS printer" in found.detail
    assert "HTTP/1.1 400 Bad Request" in found.detail and "wrong address or port" in found.detail
    assert "paper" not in found.detail
    assert bus_status(found) == (payloads.PRINTER_ERROR, found.detail)


def test_no_job_byte_goes_to_a_web_server_and_the_job_waits(sim, transport, journal):
    handler = PrintJobHandler(PRINTER, transport, journal, clock=lambda: NOW)
    with pytest.raises(PrinterUnreachable, match="does not answer as an ESC/POS printer") as caught:
        handler.handle(job(1))
    assert caught.value.status.state == PrinterState.NOT_ESCPOS
    assert 1 not in journal  # nothing sent: safe to try again once the address is right
    assert sim.wait_for(lambda s: bool(s.connections()) and s.connections()[-1].ended != "")
    assert [bytes(c.raw) for c in sim.connections()] == [rt.FULL_QUERY]
    assert sim.received() == []
    sim.normal()
    assert handler.handle(job(1)).result == ACK_PRINTED
    assert sim.wait_for_jobs(1) and sim.jobs() == [TICKET]


def test_agent_says_error_not_paper_out_and_prints_nothing(sim, transport, journal):
    agent = PrinterAgent(TEST_SITE, PRINTER, transport, journal, None, None,  # type: ignore[arg-type]
                         link_factory=RecordingLink, retry_first=0.02, retry_longest=0.1)
    agent.start()
    try:
        agent.on_message(topics.print_job(TEST_SITE, PRINTER, 7), payloads.encode(job(7)), True)

        def statuses() -> list[tuple[str, str]]:
            return [(p["status"], p["detail"]) for t, p, _ in list(agent.link.published) if t.endswith("/status")]

        assert eventually(lambda: any(s == payloads.PRINTER_ERROR for s, _ in statuses()))
        error = next(d for s, d in statuses() if s == payloads.PRINTER_ERROR)
        assert f"127.0.0.1:{sim.port}" in error and "does not answer as an ESC/POS printer" in error
        assert payloads.PRINTER_PAPER_OUT not in [s for s, _ in statuses()]
        time.sleep(0.2)  # a few retries
        assert agent.pending() == [7]
        assert not [p for t, p, _ in list(agent.link.published) if t.endswith("/acks")]
        assert sim.received() == [] and all(bytes(c.raw) in (b"", rt.FULL_QUERY) for c in sim.connections())
    finally:
        agent.stop()


# --- on a scripted channel: after the job, and what a real printer may send besides answers ------------------


READY3 = b"\x12\x12\x12"


def test_foreign_bytes_after_the_job_make_it_uncertain(journal):
    handler = PrintJobHandler(PRINTER, scripted([[READY3], [b"\x12HTTP/1.1 400"]]), journal, clock=lambda: NOW)
    ack = handler.handle(job(2))
    assert ack.result == ACK_UNCERTAIN and "does not answer as an ESC/POS printer" in ack.detail
    assert journal.outcome(2) == UNCERTAIN


@pytest.mark.parametrize("replies", [
    [[b"\x10\x00", b"\x00\x08" + READY3], [b"\x12"]],      # an ASB packet cut across reads, before the answers
    [[b"\x11\x12\x13\x12\x12"], [b"\x13\x11\x12"]],         # XON/XOFF between them
], ids=["asb", "xon-xoff"])
def test_asb_and_flow_control_are_no_foreign_bytes(replies):
    transport = scripted(replies)
    assert transport.query_status().state == PrinterState.READY
    scripted(replies).send(1, b"job")


def test_a_broken_asb_packet_is_foreign():
    with pytest.raises(PrinterUnreachable, match="does not answer") as caught:
        scripted([[b"\x10\x00\x52"]]).send(1, b"job")  # 0x52: bit 4 set, no ASB byte after the first
    assert caught.value.status.state == PrinterState.NOT_ESCPOS


def test_serial_hint_is_the_baud_rate():
    detail = SerialTransport("/dev/ttyUSB0", 9600)._not_escpos(b"\x80\xff")
    assert detail == ('serial printer /dev/ttyUSB0: does not answer as an ESC/POS printer (it sent "\\x80\\xff"): '
                      "baud rate 9600 not the printer's, or not an ESC/POS receipt printer")
