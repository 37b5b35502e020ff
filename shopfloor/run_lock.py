"""One server per data directory: an advisory lock on DATA_DIR/shopfloor.lock held for the server's life.

flock() rather than a PID file: the kernel drops the lock when the process ends however it ends (a power cut, a
kill -9, the watchdog), so a crashed server never leaves a stale lock that blocks the next start. `restore`
asks whether another process holds it, and holds it itself while it swaps the database file."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

FILE_NAME = "shopfloor.lock"


class LockHeld(RuntimeError):
    """Another process holds the data directory's lock (a server runs on it, or a restore)."""


class RunLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / FILE_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """By this object."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock without waiting; LockHeld (naming the holder's process id) when another process has it."""
        if self._fd is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:  # made by another user (root): flock needs no write access, only the pid note does
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockHeld(self._holder_text()) from None
        except BaseException:
            os.close(fd)
            raise
        # the holder's id, for the message another process shows; the lock itself is the flock, not this text
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):  # only the holder's id for messages; the lock goes with the flock
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def held_by_other(self) -> bool:
        """Whether another process (or another RunLock in this one) holds the lock now."""
        if self._fd is not None:
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops a lock taken just now
        return False

    def holder_pid(self) -> int | None:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def _holder_text(self) -> str:
        pid = self.holder_pid()
        who = f"process {pid}" if pid else "another process"
        return (f"{who} holds {self.path}: a shopfloor server (or a restore) is running on {self.data_dir}; "
                "stop it first (e.g. `sudo systemctl stop shopfloor-server`)")

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
