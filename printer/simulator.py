"""A receipt printer on raw TCP for tests: records what it is sent and answers ESC/POS real-time status queries
the way a real one does, and fails on request.

Modes (switch at any time; a connection keeps the fault mode it was accepted in, while status answers follow
the current mode, like the paper sensor of a real printer):

    normal       reads everything, answers DLE EOT n as ready.
    refuse       not listening: connecting is refused.
    hang         accepts, reads `after` bytes (default 0), then never reads nor answers again.
    paper_out    answers DLE EOT 1/2/4 with 0x1A/0x32/0x7E (offline, stopped by paper end, no paper). Bytes sent
                 anyway are still taken in and recorded, as a real printer buffers them to print once paper
                 is loaded: a test asserting "nothing printed while paper was out" checks that jobs() is empty.
    cover_open   like paper_out, with the cover-open bit instead (0x1A/0x16/0x12).
    drop_mid_job reads `after` bytes, then closes the connection abruptly (reset).
    http         no printer at all: a web server at a wrong address or port. Answers the first bytes it gets
                 with "HTTP/1.1 400 Bad Request" and closes; they land in `raw` only (nothing is printed).

`after` counts every byte on the connection, status queries included. `jobs()` holds the job bytes (status
queries taken out) of every connection the client finished and closed; broken or hung ones are in
`connections()` with `complete=False`. Listens on 127.0.0.1 only; `stop()` ends every thread it started.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from shopfloor.printer import status as rt


class Mode(StrEnum):
    NORMAL = "normal"
    REFUSE = "refuse"
    HANG = "hang"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    DROP_MID_JOB = "drop_mid_job"
    HTTP = "http"


# what a web server says to bytes that are no HTTP request; read byte by byte as status answers, its "R", "r"
# and "v" say paper out
HTTP_ANSWER: Final = (b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
                      b"Content-Length: 0\r\nConnection: close\r\n\r\n")

# answers to DLE EOT 1, 2, 3, 4
_ANSWERS: Final[dict[Mode, dict[int, int]]] = {
    Mode.NORMAL: {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    Mode.PAPER_OUT: {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},
    Mode.COVER_OPEN: {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
}


class EscposResponder:
    """Splits a byte stream into job data and real-time status queries, answering each query as it arrives
    (a query may be cut across two reads). `answers()` gives the current sensor state."""

    def __init__(self, answers: Callable[[], dict[int, int]]) -> None:
        self._answers = answers
        self._carry = b""

    def feed(self, chunk: bytes) -> tuple[bytes, bytes, list[int]]:
        """(job data, bytes to answer with, queries seen) for the next chunk of the stream."""
        buf = self._carry + chunk
        self._carry = b""
        data, reply, queries = bytearray(), bytearray(), []
        i = 0
        while i < len(buf):
            if buf[i] == 0x10 and (i + 1 == len(buf) or (buf[i + 1] == 0x04 and i + 2 == len(buf))):
                self._carry = buf[i:]  # maybe the start of a query: wait for the rest
                break
            if buf[i:i + 2] == rt.DLE_EOT and buf[i + 2] in rt.REALTIME_QUERIES:
                n = buf[i + 2]
                queries.append(n)
                reply.append(self._answers()[n])
                i += 3
                continue
            data.append(buf[i])
            i += 1
        return bytes(data), bytes(reply), queries


@dataclass
class Connection:
    number: int
    mode: Mode
    after: int
    raw: bytearray = field(default_factory=bytearray)      # every byte received
    data: bytearray = field(default_factory=bytearray)     # the job bytes, status queries taken out
    queries: list[int] = field(default_factory=list)
    complete: bool = False                                  # the client sent everything and closed
    ended: str = ""                                         # how it ended: "closed", "dropped", "reset", "hung"


class PrinterSimulator:
    def __init__(self, host: str = "127.0.0.1") -> None:
        if host != "127.0.0.1":
            raise ValueError("the printer simulator listens on 127.0.0.1 only")
        self.host = host
        self.port = 0
        self._mode = Mode.NORMAL
        self._after = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._connections: list[Connection] = []

    def __enter__(self) -> PrinterSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PrinterSimulator({self.host}:{self.port}, {self._mode})"

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> PrinterSimulator:
        with self._lock:
            self._listen()
        self._spawn(self._accept_forever, "printer-sim-accept")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            self._close_listener()
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._changed.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    # --- modes ----------------------------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode, after: int = 0) -> None:
        with self._lock:
            self._mode, self._after = mode, after
            if mode == Mode.REFUSE:
                self._close_listener()
            elif self._listener is None and not self._stopping.is_set():
                self._listen()
            self._changed.notify_all()

    def normal(self) -> None:
        self.set_mode(Mode.NORMAL)

    def refuse(self) -> None:
        self.set_mode(Mode.REFUSE)

    def hang(self, after: int = 0) -> None:
        self.set_mode(Mode.HANG, after)

    def paper_out(self) -> None:
        self.set_mode(Mode.PAPER_OUT)

    def cover_open(self) -> None:
        self.set_mode(Mode.COVER_OPEN)

    def drop_mid_job(self, after: int) -> None:
        self.set_mode(Mode.DROP_MID_JOB, after)

    def http(self) -> None:
        self.set_mode(Mode.HTTP)

    # --- what happened ----------------------------------------------------------------------------------------

    def connections(self) -> list[Connection]:
        with self._lock:
            return [Connection(c.number, c.mode, c.after, bytearray(c.raw), bytearray(c.data), list(c.queries),
                               c.complete, c.ended) for c in self._connections]

    def jobs(self) -> list[bytes]:
        """The job bytes of every connection that ended normally and carried more than status queries."""
        with self._lock:
            return [bytes(c.data) for c in self._connections if c.complete and c.data]

    def received(self) -> list[bytes]:
        """Job bytes of every connection that carried any, finished or not (what may be on paper)."""
        with self._lock:
            return [bytes(c.data) for c in self._connections if c.data]

    def wait_for(self, predicate: Callable[[PrinterSimulator], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                self._changed.wait(min(remaining, 0.05))
        return True

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> bool:
        return self.wait_for(lambda sim: len(sim.jobs()) >= count, timeout)

    # --- inside -----------------------------------------------------------------------------------------------

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        self.port = sock.getsockname()[1]  # port 0 on the first start: the kernel picks a free one, then we keep it
        self._listener = sock

    def _close_listener(self) -> None:
        if self._listener is not None:
            # shutdown first: a select() in the accept thread keeps a closed socket listening until it returns
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_forever(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                self._stopping.wait(0.02)
                continue
            try:
                if not select.select([listener], [], [], 0.05)[0]:
                    continue
                sock, _ = listener.accept()
            except (OSError, ValueError):
                continue  # refuse() or stop() closed the listener under us
            with self._lock:
                if self._listener is not listener:  # accepted just as refuse() closed the door: refuse after all
                    sock.close()
                    continue
                record = Connection(len(self._connections) + 1, self._mode, self._after)
                self._connections.append(record)
                self._sockets.append(sock)
            self._spawn(functools.partial(self._serve, sock, record), f"printer-sim-conn-{record.number}")

    def _current_answers(self) -> dict[int, int]:
        return _ANSWERS.get(self._mode, _ANSWERS[Mode.NORMAL])

    def _serve(self, sock: socket.socket, record: Connection) -> None:
        responder = EscposResponder(self._current_answers)
        limited = record.mode in (Mode.HANG, Mode.DROP_MID_JOB)
        try:
            while not self._stopping.is_set():
                budget = record.after - len(record.raw) if limited else 4096
                if budget <= 0:
                    self._end_fault(sock, record)
                    return
                if not select.select([sock], [], [], 0.05)[0]:
                    continue
                try:
                    chunk = sock.recv(min(budget, 4096))
                except OSError:
                    self._finish(record, complete=False, ended="reset")
                    return
                if not chunk:
                    self._finish(record, complete=True, ended="closed")
                    return
                if record.mode == Mode.HTTP:
                    self._answer_http(sock, record, chunk)
                    return
                data, reply, queries = responder.feed(chunk)
                with self._changed:
                    record.raw += chunk
                    record.data += data
                    record.queries += queries
                    self._changed.notify_all()
                if reply:
                    with contextlib.suppress(OSError):
                        sock.sendall(reply)
            self._finish(record, complete=False, ended="simulator stopped")
        finally:
            if record.ended != "hung":
                sock.close()

    def _answer_http(self, sock: socket.socket, record: Connection, chunk: bytes) -> None:
        with self._changed:
            record.raw += chunk
        with contextlib.suppress(OSError):
            sock.sendall(HTTP_ANSWER)
            sock.shutdown(socket.SHUT_WR)
            # read on until the client closes (a close with unread bytes resets the connection, and the reset
            # may destroy the answer before the client has read it); what it sends still lands in `raw`
            deadline = time.monotonic() + 2.0
            while not self._stopping.is_set() and (remaining := deadline - time.monotonic()) > 0:
                if not select.select([sock], [], [], min(remaining, 0.05))[0]:
                    continue
                more = sock.recv(4096)
                if not more:
                    break
                with self._changed:
                    record.raw += more
        self._finish(record, complete=False, ended="answered as a web server")

    def _end_fault(self, sock: socket.socket, record: Connection) -> None:
        if record.mode == Mode.DROP_MID_JOB:
            # linger 0: close with a reset, as a printer that reboots mid-job does
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._finish(record, complete=False, ended="dropped")
            return
        self._finish(record, complete=False, ended="hung")
        # hung: keep the connection open, unread and unanswered, until the simulator stops
        self._stopping.wait()

    def _finish(self, record: Connection, *, complete: bool, ended: str) -> None:
        with self._changed:
            record.complete, record.ended = complete, ended
            self._changed.notify_all()


class PtyPrinter:
    """A printer at the end of a pseudo-terminal, standing in for a serial port or a USB printer device: `path`
    is what the transport opens. Modes: normal, paper_out, cover_open (as above) and hang (reads nothing more,
    answers nothing). `data` holds the job bytes received, status queries taken out."""

    def __init__(self) -> None:
        import tty

        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation: a byte pipe, as a printer port is
        self.path = os.ttyname(self._slave)
        self._mode = Mode.NORMAL
        self.data = bytearray()
        self.queries: list[int] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-printer", daemon=True)

    def __enter__(self) -> PtyPrinter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._thread.join(5)
        os.close(self._master)
        os.close(self._slave)

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        with self._lock:  # once set, no read or answer of the old mode is still under way
            self._mode = mode

    def received(self) -> bytes:
        with self._lock:
            return bytes(self.data)

    def _serve(self) -> None:
        responder = EscposResponder(lambda: _ANSWERS.get(self._mode, _ANSWERS[Mode.NORMAL]))
        while not self._stopping.is_set():
            if not select.select([self._master], [], [], 0.02)[0]:
                continue
            with self._lock:
                if self._mode == Mode.HANG:
                    hung = True
                else:
                    hung = False
                    try:
                        chunk = os.read(self._master, 4096)
                    except OSError:
                        continue  # EIO while no one has the port open
                    data, reply, queries = responder.feed(chunk)
                    self.data += data
                    self.queries += queries
                    if reply:
                        os.write(self._master, reply)
            if hung:
                self._stopping.wait(0.02)
