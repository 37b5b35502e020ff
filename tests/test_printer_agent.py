import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shopfloor.contract import payloads, topics
from shopfloor.contract.access import Role
from shopfloor.contract.payloads import ACK_FAILED, ACK_PRINTED, ACK_UNCERTAIN, PayloadError
from shopfloor.credentials import MqttAccount
from shopfloor.mqtt import BrokerAddress
from shopfloor.printer.agent import CUT_SHORT, PrinterAgent, PrintJobHandler, VersionClock, bus_status
from shopfloor.printer.journal import NOT_SENT, PRINTED, SENDING, UNCERTAIN, PrintJournal
from shopfloor.printer.status import PrinterState, PrinterStatus
from shopfloor.printer.transports import FileTransport, PrinterUnreachable, TransferBroken
from shopfloor.testing.polling import eventually
from shopfloor.testing.printer_fixtures import RecordingLink

SITE = "wangjing"
PRINTER = "front-desk"
NOW = datetime(2024, 11, 22, 8, 5, 0, tzinfo=UTC)
TICKET = b"\x1b@\x1c&" + "王先生".encode("gbk") + b"\n\x1dVB\x18"


def job(job_id: int = 7, data: bytes = TICKET, printer: str = PRINTER) -> payloads.PrintJob:
    return payloads.print_job(job_id=job_id, printer=printer, version=1_732_000_000_000_000 + job_id,
                              ro_number="RO2411220012", kind="ticket", reprint=False,
                              created_at="2024-11-22T08:05:00+08:00", data=data)


class BrokenTransport:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[int] = []

    def send(self, job_id: int, data: bytes) -> None:
        self.calls.append(job_id)
        raise self.error

    def query_status(self) -> PrinterStatus:
        return PrinterStatus(PrinterState.UNKNOWN)


class SwitchableTransport:
    """A printer a test switches off and on: `down` is what send raises (None: it prints)."""

    def __init__(self, down: PrinterUnreachable | None = None) -> None:
        self.down = down
        self.printed: list[int] = []
        self.attempts = 0

    def send(self, job_id: int, data: bytes) -> None:
        self.attempts += 1
        if self.down is not None:
            raise self.down
        self.printed.append(job_id)

    def query_status(self) -> PrinterStatus:
        return self.down.status if self.down is not None else PrinterStatus(PrinterState.READY)


PAPER_OUT = PrinterUnreachable("paper out", PrinterStatus(PrinterState.PAPER_OUT, "paper out"))
REFUSED = PrinterUnreachable("printer 10.0.0.9:9100: connection refused")


def bin_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.bin"))


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def handler(tmp_path: Path, spool: Path) -> PrintJobHandler:
    return PrintJobHandler(PRINTER, FileTransport(spool, clock=lambda: NOW), PrintJournal(tmp_path / "journal.jsonl"),
                           clock=lambda: NOW)


# --- the handler --------------------------------------------------------------------------------------------


def test_prints_once_and_acks(handler, spool):
    ack = handler.handle(job(7))
    assert ack == payloads.print_ack(job_id=7, result=ACK_PRINTED, detail="", at=NOW.isoformat())
    [written] = bin_files(spool)
    assert written.name == "20241122-080500-job7.bin"
    assert written.read_bytes() == TICKET
    assert not list(spool.glob("*.tmp"))  # nothing left behind by the atomic write


def test_redelivered_job_is_acked_but_not_printed_again(handler, spool):
    handler.handle(job(7))
    again = handler.handle(job(7))
    assert again.result == ACK_PRINTED
    assert again.detail == "already printed"
    assert len(bin_files(spool)) == 1


def test_journal_reloaded_from_disk_still_knows_the_job(tmp_path, spool):
    journal_path = tmp_path / "journal.jsonl"
    first = PrintJobHandler(PRINTER, FileTransport(spool), PrintJournal(journal_path), clock=lambda: NOW)
    first.handle(job(7))
    # a restarted agent: fresh objects, same files
    restarted = PrintJobHandler(PRINTER, FileTransport(spool), PrintJournal(journal_path), clock=lambda: NOW)
    ack = restarted.handle(job(7))
    assert (ack.result, ack.detail) == (ACK_PRINTED, "already printed")
    assert len(bin_files(spool)) == 1
    assert restarted.handle(job(8)).result == ACK_PRINTED
    assert len(bin_files(spool)) == 2


def test_broken_transfer_is_uncertain_and_never_retried(tmp_path):
    journal = PrintJournal(tmp_path / "journal.jsonl")
    transport = BrokenTransport(TransferBroken("connection reset after 812 of 2048 bytes"))
    handler = PrintJobHandler(PRINTER, transport, journal, clock=lambda: NOW)
    ack = handler.handle(job(9))
    assert ack.result == ACK_UNCERTAIN
    assert "812 of 2048" in ack.detail
    redelivered = handler.handle(job(9))
    assert redelivered.result == ACK_UNCERTAIN
    assert transport.calls == [9]  # the redelivery did not reach the printer
    assert PrintJournal(tmp_path / "journal.jsonl").outcome(9) == UNCERTAIN


def test_unreachable_printer_raises_and_may_be_retried(tmp_path, spool):
    journal = PrintJournal(tmp_path / "journal.jsonl")
    transport = BrokenTransport(PrinterUnreachable("connection refused"))
    with pytest.raises(PrinterUnreachable, match="connection refused"):
        PrintJobHandler(PRINTER, transport, journal, clock=lambda: NOW).handle(job(10))
    assert 10 not in journal
    # nothing reached paper, so the same job prints once the printer is back
    retry = PrintJobHandler(PRINTER, FileTransport(spool), journal, clock=lambda: NOW).handle(job(10))
    assert retry.result == ACK_PRINTED
    assert len(bin_files(spool)) == 1


def test_a_job_cut_short_by_a_crash_is_uncertain_after_the_restart(tmp_path, spool):
    journal_path = tmp_path / "journal.jsonl"

    class DyingTransport:
        """The agent's process dies (power cut, kill -9) while the bytes go out."""

        def send(self, job_id: int, data: bytes) -> None:
            raise SystemExit("power cut")

        def query_status(self) -> PrinterStatus:
            return PrinterStatus(PrinterState.UNKNOWN)

    with pytest.raises(SystemExit):
        PrintJobHandler(PRINTER, DyingTransport(), PrintJournal(journal_path)).handle(job(12))
    restarted = PrintJobHandler(PRINTER, FileTransport(spool), PrintJournal(journal_path), clock=lambda: NOW)
    ack = restarted.handle(job(12))
    assert (ack.result, ack.detail) == (ACK_UNCERTAIN, CUT_SHORT)
    assert bin_files(spool) == []  # not printed a second time without a person asking
    assert restarted.handle(job(12)).detail == "transfer broke on an earlier attempt; not retried automatically"


def test_a_job_the_printer_did_not_take_is_unknown_after_a_restart(tmp_path, spool):
    journal_path = tmp_path / "journal.jsonl"
    with pytest.raises(PrinterUnreachable):
        PrintJobHandler(PRINTER, BrokenTransport(PrinterUnreachable("off")), PrintJournal(journal_path)).handle(job(13))
    assert PrintJournal(journal_path).outcome(13) is None
    assert PrintJobHandler(PRINTER, FileTransport(spool), PrintJournal(journal_path)).handle(job(13)).result == (
        ACK_PRINTED)


def test_file_transport_with_vanished_directory_is_unreachable(tmp_path, spool):
    transport = FileTransport(spool)
    spool.rmdir()
    with pytest.raises(PrinterUnreachable):
        transport.send(1, TICKET)


def test_unexpected_transport_error_counts_as_uncertain(tmp_path):
    journal = PrintJournal(tmp_path / "journal.jsonl")
    ack = PrintJobHandler(PRINTER, BrokenTransport(RuntimeError("driver bug")), journal).handle(job(11))
    assert ack.result == ACK_UNCERTAIN
    assert journal.outcome(11) == UNCERTAIN


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({**job().to_dict(), "data": "not base64!!"}, "base64"),
        ({k: v for k, v in job().to_dict().items() if k != "data"}, "data"),
        ({k: v for k, v in job().to_dict().items() if k != "job_id"}, "job_id"),
        ({**job().to_dict(), "job_id": "7"}, "job_id"),
        ({**job().to_dict(), "job_id": True}, "job_id"),
        ({**job().to_dict(), "schema": 99}, "schema"),
        ({**job().to_dict(), "kind": "poster"}, "kind"),
        ({**job().to_dict(), "created_at": "yesterday"}, "created_at"),
        ({**job().to_dict(), "urgent": True}, "urgent"),
        (job(printer="workshop").to_dict(), "workshop"),
        (job(data=b"").to_dict(), "no data"),
    ],
)
def test_garbled_payload_is_rejected_with_a_clear_error(handler, spool, payload, message):
    """Read off the bus as the agent does: checked against the contract, then against this printer."""
    with pytest.raises(PayloadError, match=message):
        handler.handle(payloads.parse(payloads.PrintJob, payloads.encode(payload)))
    assert bin_files(spool) == []


# --- the journal ----------------------------------------------------------------------------------------------


def test_journal_tolerates_a_truncated_last_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = PrintJournal(path)
    journal.record(1, PRINTED)
    journal.record(2, UNCERTAIN, "reset")
    with open(path, "ab") as f:
        f.write(b'{"job_id": 3, "outco')  # the crash came mid-write
    reloaded = PrintJournal(path)
    assert (reloaded.outcome(1), reloaded.outcome(2), reloaded.outcome(3)) == (PRINTED, UNCERTAIN, None)
    # the half line is gone, so the next record is readable after another restart
    reloaded.record(4, PRINTED)
    assert PrintJournal(path).outcome(4) == PRINTED
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_journal_whole_last_record_without_newline_is_kept(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text('{"job_id": 5, "outcome": "printed"}')
    journal = PrintJournal(path)
    assert journal.outcome(5) == PRINTED
    journal.record(6, PRINTED)
    assert {PrintJournal(path).outcome(i) for i in (5, 6)} == {PRINTED}


def test_journal_sending_is_settled_by_not_sent(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal = PrintJournal(path)
    journal.record(1, SENDING)
    journal.record(2, SENDING)
    journal.record(2, NOT_SENT)
    assert (journal.outcome(1), journal.outcome(2), 2 in journal) == (SENDING, None, False)
    reloaded = PrintJournal(path)
    assert (reloaded.outcome(1), reloaded.outcome(2), len(reloaded)) == (SENDING, None, 1)
    with pytest.raises(ValueError, match="expected one of"):
        journal.record(3, "maybe")


def test_journal_skips_a_damaged_middle_line(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text('{"job_id": 1, "outcome": "printed"}\n###\n{"job_id": 2, "outcome": "uncertain"}\n')
    journal = PrintJournal(path)
    assert (journal.outcome(1), journal.outcome(2), len(journal)) == (PRINTED, UNCERTAIN, 2)


# --- the agent, with the MQTT link replaced by a recorder ----------------------------------------------------


def make_agent(tmp_path: Path, transport, **options) -> PrinterAgent:
    return PrinterAgent(SITE, PRINTER, transport, PrintJournal(tmp_path / "journal.jsonl"),
                        BrokerAddress("127.0.0.1", 1883), MqttAccount("shopfloor-printer", "pw"),
                        link_factory=RecordingLink, **options)


@contextmanager
def running(agent: PrinterAgent) -> Iterator[PrinterAgent]:
    """The agent started, and stopped after the block."""
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
def agent(tmp_path, spool):
    with running(make_agent(tmp_path, FileTransport(spool))) as agent:
        yield agent


def deliver(agent: PrinterAgent, job_id: int, raw: bytes) -> None:
    agent.on_message(topics.print_job(SITE, PRINTER, job_id), raw, True)


def acks(agent: PrinterAgent) -> list[dict]:
    return [p for t, p, _ in list(agent.link.published) if t == topics.print_ack(SITE, PRINTER)]


def statuses(agent: PrinterAgent) -> list[str]:
    return [p["status"] for t, p, retain in list(agent.link.published)
            if t == topics.printer_status(SITE, PRINTER) and retain]


def test_agent_link_is_a_printer_role_subscribed_to_its_jobs(agent):
    kwargs = agent.link.kwargs
    assert kwargs["role"] == Role.PRINTER
    assert kwargs["subscriptions"] == [topics.print_jobs_filter(SITE, PRINTER)]


def test_agent_prints_in_job_order_once_and_acks_each_job(tmp_path, spool):
    agent = make_agent(tmp_path, FileTransport(spool))
    for job_id in (3, 1, 2, 1):  # e.g. retained jobs coming back after a reconnect, one of them twice
        deliver(agent, job_id, payloads.encode(job(job_id)))
    with running(agent):
        assert agent.wait_idle(5)
        assert [(a["job_id"], a["result"], a["detail"]) for a in acks(agent)] == [
            (1, ACK_PRINTED, ""), (2, ACK_PRINTED, ""), (3, ACK_PRINTED, ""),
        ]
        assert [p.name.split("-job")[1] for p in bin_files(spool)] == ["1.bin", "2.bin", "3.bin"]
        assert all(not retain for t, _, retain in agent.link.published if t.endswith("/acks"))
        deliver(agent, 1, payloads.encode(job(1)))  # redelivered once more after it printed
        assert agent.wait_idle(5)
        assert (acks(agent)[-1]["job_id"], acks(agent)[-1]["detail"]) == (1, "already printed")
        assert len(bin_files(spool)) == 3


def test_agent_skips_garbage_and_empty_payloads_and_keeps_going(agent, spool):
    deliver(agent, 4, b"\xff\xfe not json")
    deliver(agent, 5, b"")  # job removed by the server: nothing to do
    deliver(agent, 6, payloads.encode(job(6).model_copy(update={"job_id": 60})))
    deliver(agent, 7, payloads.encode(job(7)))
    assert agent.wait_idle(5)
    results = [(a["job_id"], a["result"]) for a in acks(agent)]
    assert results == [(4, ACK_FAILED), (6, ACK_FAILED), (7, ACK_PRINTED)]
    assert "not JSON" in acks(agent)[0]["detail"]
    assert len(bin_files(spool)) == 1


def test_agent_ignores_other_topics(agent):
    agent.on_message(topics.print_job(SITE, "workshop", 1), payloads.encode(job(1, printer="workshop")), True)
    agent.on_message(topics.state(SITE, topics.REPAIR_ORDERS, 1), b"{}", True)
    assert agent.wait_idle(5)
    assert acks(agent) == []


def test_agent_status_online_error_offline(tmp_path, spool):
    broken = BrokenTransport(TransferBroken("reset after 10 bytes"))
    agent = PrinterAgent(SITE, PRINTER, broken, PrintJournal(tmp_path / "j.jsonl"), BrokerAddress("h", 1),
                         MqttAccount("u", "p"), link_factory=RecordingLink)
    agent.start()
    deliver(agent, 1, payloads.encode(job(1)))
    deliver(agent, 2, payloads.encode(job(2)))
    assert agent.wait_idle(5)
    agent.stop()
    statuses = [(p["status"], p["version"]) for t, p, retain in agent.link.published
                if t == topics.printer_status(SITE, PRINTER) and retain]
    # "error" once, not once per failed job
    assert [s for s, _ in statuses] == [payloads.PRINTER_ONLINE, payloads.PRINTER_ERROR, payloads.PRINTER_OFFLINE]
    versions = [v for _, v in statuses]
    assert versions == sorted(versions) and len(set(versions)) == 3
    assert [(a["job_id"], a["result"]) for a in acks(agent)] == [(1, ACK_UNCERTAIN), (2, ACK_UNCERTAIN)]


# --- a printer that cannot take a job: the job waits, nothing is acknowledged ----------------------------------


def test_printer_off_keeps_the_job_waiting_then_prints_it_once(tmp_path):
    transport = SwitchableTransport(down=REFUSED)
    agent = make_agent(tmp_path, transport, retry_first=0.01, retry_longest=0.04)
    with running(agent):
        deliver(agent, 5, payloads.encode(job(5)))
        assert eventually(lambda: transport.attempts >= 3)  # retried, with pauses
        assert acks(agent) == []
        assert agent.pending() == [5]
        assert not agent.wait_idle(0.01)
        assert statuses(agent) == [payloads.PRINTER_ONLINE, payloads.PRINTER_OFFLINE]  # once, not per retry
        assert agent.status == (payloads.PRINTER_OFFLINE, str(REFUSED))
        transport.down = None
        assert agent.wait_idle(5)
        assert transport.printed == [5]
        assert [(a["job_id"], a["result"]) for a in acks(agent)] == [(5, ACK_PRINTED)]
        assert statuses(agent)[-1] == payloads.PRINTER_ONLINE


def test_paper_out_is_published_and_jobs_keep_their_order(tmp_path):
    transport = SwitchableTransport(down=PAPER_OUT)
    agent = make_agent(tmp_path, transport, retry_first=0.01, retry_longest=0.02)
    with running(agent):
        for job_id in (12, 11):
            deliver(agent, job_id, payloads.encode(job(job_id)))
        assert eventually(lambda: payloads.PRINTER_PAPER_OUT in statuses(agent))
        deliver(agent, 10, payloads.encode(job(10)))
        deliver(agent, 11, payloads.encode(job(11)))  # a redelivery while waiting: still one job
        assert agent.pending() == [10, 11, 12]
        transport.down = None
        assert agent.wait_idle(5)
        assert transport.printed == [10, 11, 12]
        assert [a["job_id"] for a in acks(agent)] == [10, 11, 12]
        assert statuses(agent) == [payloads.PRINTER_ONLINE, payloads.PRINTER_PAPER_OUT, payloads.PRINTER_ONLINE]


def test_a_job_cleared_by_the_server_while_waiting_is_dropped(tmp_path):
    transport = SwitchableTransport(down=REFUSED)
    agent = make_agent(tmp_path, transport, retry_first=0.01, retry_longest=0.02)
    with running(agent):
        deliver(agent, 7, payloads.encode(job(7)))
        assert eventually(lambda: transport.attempts >= 1)
        deliver(agent, 7, b"")  # settled elsewhere (e.g. an ack from an earlier run reached the server)
        assert agent.wait_idle(5)
        transport.down = None
        time.sleep(0.1)
        assert transport.printed == []
        assert acks(agent) == []


def test_journal_known_jobs_are_acked_while_the_printer_is_away(tmp_path):
    journal = PrintJournal(tmp_path / "journal.jsonl")
    journal.record(3, PRINTED)
    journal.record(4, UNCERTAIN, "reset")
    transport = SwitchableTransport(down=REFUSED)
    agent = make_agent(tmp_path, transport, retry_first=60.0)
    with running(agent):
        deliver(agent, 9, payloads.encode(job(9)))
        assert eventually(lambda: transport.attempts == 1)
        deliver(agent, 4, payloads.encode(job(4)))
        deliver(agent, 3, payloads.encode(job(3)))
        assert eventually(lambda: len(acks(agent)) == 2)
        assert [(a["job_id"], a["result"]) for a in acks(agent)] == [(3, ACK_PRINTED), (4, ACK_UNCERTAIN)]
        assert agent.pending() == [9] and transport.attempts == 1 and transport.printed == []


def test_stop_does_not_wait_for_a_printer_that_is_away(tmp_path):
    agent = make_agent(tmp_path, SwitchableTransport(down=REFUSED), retry_first=60.0)
    agent.start()
    deliver(agent, 1, payloads.encode(job(1)))
    assert eventually(lambda: agent.status == (payloads.PRINTER_OFFLINE, str(REFUSED)))
    started = time.monotonic()
    agent.stop()
    assert time.monotonic() - started < 1
    assert statuses(agent)[-1] == payloads.PRINTER_OFFLINE


def test_an_idle_agent_probes_and_publishes_paper_out(tmp_path):
    transport = SwitchableTransport(down=PAPER_OUT)
    agent = make_agent(tmp_path, transport, probe_interval=0.01)
    with running(agent):
        assert eventually(lambda: agent.status == (payloads.PRINTER_PAPER_OUT, "paper out"))
        transport.down = None
        assert eventually(lambda: agent.status == (payloads.PRINTER_ONLINE, ""))
        assert transport.attempts == 0  # probing sends no job


@pytest.mark.parametrize(("state", "expected"), [
    (PrinterState.READY, (payloads.PRINTER_ONLINE, "")),
    (PrinterState.PAPER_OUT, (payloads.PRINTER_PAPER_OUT, "d")),
    (PrinterState.COVER_OPEN, (payloads.PRINTER_ERROR, "d")),
    (PrinterState.ERROR, (payloads.PRINTER_ERROR, "d")),
    (PrinterState.OFFLINE, (payloads.PRINTER_OFFLINE, "d")),
    (PrinterState.UNKNOWN, None),
])
def test_bus_status_maps_every_printer_state(state, expected):
    assert bus_status(PrinterStatus(state, "d" if state != PrinterState.READY else "")) == expected
    assert bus_status(PrinterStatus(PrinterState.READY, "", paper_near_end=True)) == (payloads.PRINTER_ONLINE,
                                                                                      "paper near end")


def test_version_clock_grows_even_when_the_wall_clock_does_not():
    readings = iter([1000, 1000, 999, 2000])
    clock = VersionClock(lambda: next(readings))
    assert [clock.next() for _ in range(4)] == [1000, 1001, 1002, 2000]
