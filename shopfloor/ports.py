"""Checking a port before starting, so a clash gets one clear sentence instead of a traceback."""

from __future__ import annotations

import random
import socket


class PortInUse(RuntimeError):
    pass


def ensure_free(host: str, port: int, what: str, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option as the servers themselves, so a port in TIME_WAIT is not reported as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PortInUse(f"{what} port {port} on {host} is already in use ({exc.strerror}). "
                            f"Choose another with {flag} N.") from None


# Below Linux's ephemeral range (32768–60999): a port handed out there can be taken by any outgoing connection (a
# client's own end) between the moment it is chosen and the moment the server started later binds it.
_CHOSEN_PORTS = range(20000, 32000)
_handed_out: set[int] = set()  # two calls in a row (a plain and a TLS port) never get the same one


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server started a moment later (tests, the demo's second broker)."""
    for _ in range(200):
        port = random.choice(_CHOSEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            _handed_out.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
