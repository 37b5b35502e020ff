"""The printers on a two-way link: raw TCP (port 9100), the kernel's printer device (USB), a serial port.
Each only opens its channel; the job protocol around it is `stream.StreamTransport`."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import socket
import struct
import termios
import time
from pathlib import Path

import serial

from shopfloor.printer.errors import PrinterUnreachable
from shopfloor.printer.stream import Channel, LinkClosed, StreamTransport, WriteFailed

# --- network: raw TCP, port 9100 ----------------------------------------------------------------------------


class NetworkTransport(StreamTransport):
    def __init__(self, host: str, port: int = 9100, timeout: float = 10.0, *, status_queries: bool = True) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.status_queries = status_queries

    def __repr__(self) -> str:
        return f"NetworkTransport({self.host!r}, {self.port})"

    def _where(self) -> str:
        return f"printer {self.host}:{self.port}"

    def _likely_mismatch(self) -> str:
        return "wrong address or port (another service answers there), or not an ESC/POS receipt printer"

    def _open(self) -> Channel:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except ConnectionRefusedError as exc:
            raise PrinterUnreachable(f"{self._where()}: connection refused (printer off or port closed)") from exc
        except TimeoutError as exc:
            raise PrinterUnreachable(f"{self._where()}: no connection within {self.timeout:g} s "
                                     f"(printer off or not on the network)") from exc
        except socket.gaierror as exc:
            raise PrinterUnreachable(f"{self._where()}: unknown host ({exc.strerror})") from exc
        except OSError as exc:
            raise PrinterUnreachable(f"{self._where()}: cannot connect ({exc.strerror or exc})") from exc
        sock.setblocking(False)
        return _SocketChannel(sock)


class _SocketChannel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes, deadline: float) -> None:
        view, sent = memoryview(data), 0
        while sent < len(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self.sock], [], remaining)[1]:
                raise WriteFailed(sent, "timed out: the printer stopped taking data")
            try:
                sent += self.sock.send(view[sent:])
            except BlockingIOError:
                continue
            except OSError as exc:
                raise WriteFailed(sent, f"connection lost ({exc.strerror or exc})") from exc

    def read(self, deadline: float) -> bytes:
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([self.sock], [], [], remaining)[0]:
            return b""
        try:
            chunk = self.sock.recv(256)
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise LinkClosed(exc.strerror or str(exc)) from exc
        if not chunk:
            raise LinkClosed("closed by the printer")
        return chunk

    def wait_sent(self, deadline: float) -> bool:
        # SIOCOUTQ (Linux): bytes not yet acknowledged by the printer's TCP stack
        while True:
            try:
                unacked = struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
            except OSError:
                return True  # cannot tell on this platform: the kernel took it, that is all we know
            if unacked == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def close(self) -> None:
        # read what is already here first: closing with unread input makes the kernel reset the connection
        with contextlib.suppress(OSError):
            while self.sock.recv(256):
                pass
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


# --- device files: USB printer class (/dev/usb/lp0), parallel port (/dev/lp0) -----------------------------


class DeviceTransport(StreamTransport):
    """The kernel's printer device, written and read as a file. The usblp driver passes the printer's answers
    back through read(); a parallel port or a write-only printer needs `status_queries=False`."""

    def __init__(self, path: str | Path, timeout: float = 10.0, *, status_queries: bool = True) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.status_queries = status_queries

    def __repr__(self) -> str:
        return f"DeviceTransport({str(self.path)!r})"

    def _where(self) -> str:
        return f"printer device {self.path}"

    def _open(self) -> Channel:
        mode = os.O_RDWR if self.status_queries else os.O_WRONLY
        try:
            fd = os.open(self.path, mode | os.O_NONBLOCK | os.O_NOCTTY)
        except FileNotFoundError as exc:
            raise PrinterUnreachable(f"{self._where()} does not exist (printer off or unplugged)") from exc
        except PermissionError as exc:
            raise PrinterUnreachable(f"{self._where()}: permission denied (is this user in group 'lp'?)") from exc
        except OSError as exc:
            raise PrinterUnreachable(f"{self._where()}: cannot open ({exc.strerror or exc})") from exc
        return _FdChannel(fd)


class _FdChannel:
    # some drivers do not implement poll (select then always says ready and read/write say EAGAIN): nap a little
    _NAP = 0.005

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes, deadline: float) -> None:
        view, sent = memoryview(data), 0
        while sent < len(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [self.fd], [], remaining)[1]:
                raise WriteFailed(sent, "timed out: the printer stopped taking data")
            try:
                sent += os.write(self.fd, view[sent:])
            except BlockingIOError:
                time.sleep(self._NAP)
            except OSError as exc:
                raise WriteFailed(sent, f"device write failed ({exc.strerror or exc})") from exc

    def read(self, deadline: float) -> bytes:
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([self.fd], [], [], remaining)[0]:
            return b""
        try:
            chunk = os.read(self.fd, 256)
        except BlockingIOError:
            chunk = b""
        except OSError as exc:
            if exc.errno in (errno.EIO, errno.ENODEV, errno.ENXIO, errno.EBADF):
                raise LinkClosed(f"device gone ({exc.strerror})") from exc
            raise LinkClosed(exc.strerror or str(exc)) from exc
        if not chunk and remaining > 0:
            time.sleep(min(self._NAP, remaining))  # usblp: 0 bytes means "nothing yet", not end of file
        return chunk

    def wait_sent(self, deadline: float) -> bool:
        # usblp reports writable once its last transfer to the printer completed
        return bool(select.select([], [self.fd], [], max(0.0, deadline - time.monotonic()))[1])

    def close(self) -> None:
        os.close(self.fd)


# --- serial (RS-232, USB-serial adapters) -------------------------------------------------------------------


class SerialTransport(StreamTransport):
    def __init__(self, device: str, baudrate: int = 19200, timeout: float = 10.0, *,
                 status_queries: bool = True) -> None:
        self.device = device
        self.baudrate = baudrate
        self.timeout = timeout
        self.status_queries = status_queries

    def __repr__(self) -> str:
        return f"SerialTransport({self.device!r}, {self.baudrate})"

    def _where(self) -> str:
        return f"serial printer {self.device}"

    def _likely_mismatch(self) -> str:
        return f"baud rate {self.baudrate} not the printer's, or not an ESC/POS receipt printer"

    def _transfer_seconds(self, size: int) -> float:
        # ten bits a byte on the wire (start, eight data, stop)
        return max(size * 10 / self.baudrate, super()._transfer_seconds(size))

    def _open(self) -> Channel:
        try:
            port = serial.Serial(self.device, self.baudrate, timeout=0, write_timeout=self.timeout, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            missing = not Path(self.device).exists()
            reason = "does not exist (adapter unplugged?)" if missing else f"cannot open ({exc})"
            raise PrinterUnreachable(f"{self._where()} {reason}") from exc
        return _SerialChannel(port)


class _SerialChannel:
    _CHUNK = 256

    def __init__(self, port: serial.Serial) -> None:
        self.port = port
        self._errors: tuple[type[BaseException], ...] = (serial.SerialException, OSError)

    def write(self, data: bytes, deadline: float) -> None:
        sent = 0
        while sent < len(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WriteFailed(sent, "timed out: the printer stopped taking data")
            self.port.write_timeout = remaining
            chunk = data[sent:sent + self._CHUNK]
            try:
                written = self.port.write(chunk)
            except self._errors as exc:
                # pyserial does not say how much of a chunk went out before a timeout: count it as sent
                raise WriteFailed(sent + len(chunk), f"serial write failed ({exc})") from exc
            sent += written or len(chunk)

    def read(self, deadline: float) -> bytes:
        try:
            self.port.timeout = max(0.0, deadline - time.monotonic())
            return bytes(self.port.read(max(1, self.port.in_waiting)))
        except self._errors as exc:
            raise LinkClosed(f"serial port gone ({exc})") from exc

    def wait_sent(self, deadline: float) -> bool:
        while True:
            try:
                if not self.port.out_waiting:
                    return True
            except self._errors:
                return False
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self.port.close()
