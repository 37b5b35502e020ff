"""A printer channel that answers from a script, one list of reads per write (as a printer answers what it was
asked), and the stream transport over it: for the transport's rules without a socket (tests)."""

from __future__ import annotations

import time

from shopfloor.printer.stream import StreamTransport, WriteFailed


class ScriptedChannel:
    """The printer's answers, released one list per write (as a printer answers what it was asked)."""

    def __init__(self, replies: list[list[bytes | Exception]], fail_write_at: int | None = None, sent: int = 0,
                 stale: bytes = b"") -> None:
        self.replies = replies
        self.reads: list[bytes | Exception] = [stale] if stale else []
        self.writes: list[bytes] = []
        self.fail_write_at, self.sent = fail_write_at, sent

    def write(self, data: bytes, deadline: float) -> None:
        if self.fail_write_at is not None and len(self.writes) == self.fail_write_at:
            raise WriteFailed(self.sent, "timed out")
        self.reads += self.replies[len(self.writes)] if len(self.writes) < len(self.replies) else []
        self.writes.append(data)

    def read(self, deadline: float) -> bytes:
        if not self.reads:
            time.sleep(max(0.0, min(0.01, deadline - time.monotonic())))
            return b""
        item = self.reads.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def wait_sent(self, deadline: float) -> bool:
        return True

    def close(self) -> None:
        pass


class ScriptedTransport(StreamTransport):
    def __init__(self, channel: ScriptedChannel) -> None:
        self.channel = channel
        self.timeout = 0.1
        self.status_queries = True

    def _open(self) -> ScriptedChannel:
        return self.channel

    def _where(self) -> str:
        return "scripted"


def scripted(replies: list[list[bytes | Exception]]) -> ScriptedTransport:
    """A transport over a channel answering `replies`."""
    return ScriptedTransport(ScriptedChannel(replies))
