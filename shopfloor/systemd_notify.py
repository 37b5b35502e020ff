"""systemd's notify protocol (sd_notify(3)) without libsystemd: a unit with `Type=notify` waits for READY=1, and
one with `WatchdogSec=` restarts the process when WATCHDOG=1 stops coming.

Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op that returns False, so the same code runs from a
terminal, in tests and under the unit.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

READY = "READY=1"
STOPPING = "STOPPING=1"
WATCHDOG = "WATCHDOG=1"


def _address(value: str) -> str | bytes:
    """$NOTIFY_SOCKET as socket.connect takes it: a leading '@' names an abstract socket (a NUL byte)."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def notify(*states: str) -> bool:
    """Send `states` ("READY=1", "STATUS=…", …) as one datagram to the service manager; True if it was sent.
    Never raises: a manager that went away must not stop the server."""
    target = os.environ.get("NOTIFY_SOCKET", "")
    if not target or not states:
        return False
    if not target.startswith(("/", "@")):
        log.warning("NOTIFY_SOCKET %r is neither a path nor an abstract socket; not notifying", target)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(_address(target))
            sock.sendall("\n".join(states).encode())
    except OSError as exc:
        log.warning("could not notify systemd at %s: %s", target, exc)
        return False
    return True


def watchdog_seconds() -> float | None:
    """The watchdog interval systemd expects pings within (WatchdogSec=), or None when there is none for this
    process (unset, unparsable, zero, or WATCHDOG_PID naming another process)."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


def keep_watchdog(stop: threading.Event, healthy: Callable[[], bool], what: str) -> threading.Thread | None:
    """For a process whose main thread only waits (the broker, a printer agent): ping WATCHDOG=1 every half
    interval from a thread of its own while `healthy()` says the work goes on, until `stop` is set. None when the
    unit has no watchdog for this process."""
    interval = watchdog_seconds()
    if interval is None:
        return None

    def ping() -> None:
        while not stop.wait(interval / 2):
            if healthy():
                notify(WATCHDOG)
            else:  # systemd restarts it once the interval passes without a ping
                log.warning("%s is not working: no watchdog ping", what)

    thread = threading.Thread(target=ping, name="systemd-watchdog", daemon=True)
    thread.start()
    return thread
