"""Where the log goes: to the journal when systemd runs the process, else to stderr and a rotating file.

Under systemd, stderr is connected to the journal and JOURNAL_STREAM names that stream ("device:inode"); each
line then starts with its syslog priority (<3> error … <7> debug), which journald reads as the entry's level
(`journalctl -p warning`), and carries no time: the journal stamps every entry itself. Elsewhere (a terminal, a
Pi without the unit) a file in DATA_DIR/logs keeps the last 25 MB, so that an SD card never fills up with logs."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import TextIO

LOG_DIR = "logs"
FILE_NAME = "shopfloor.log"
MAX_BYTES = 5 * 1024 * 1024
FILES = 5  # shopfloor.log and 4 older ones
NOISY = ("alembic", "amqtt", "transitions", "uvicorn.access", "watchfiles", "engineio", "socketio")
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# handlers this module added, marked so that a second setup() replaces them and leaves others' (pytest's) alone
_MARK = "_shopfloor_logs"


def under_journal(stream: TextIO | None = None) -> bool:
    """Whether stderr (or `stream`) is the journal stream systemd gave this process."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        st = os.fstat((sys.stderr if stream is None else stream).fileno())
    except (AttributeError, OSError, ValueError):  # no file behind it (pytest's capture, a closed stderr)
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def syslog_priority(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


class JournalFormatter(logging.Formatter):
    """`<6>shopfloor.main: message`; every line of a traceback carries the prefix too (the journal makes each line
    an entry of its own, and an unprefixed one would be filed as info)."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def log_file(data_dir: Path, name: str = FILE_NAME) -> Path:
    return Path(data_dir) / LOG_DIR / name


def setup(verbose: bool, data_dir: Path | None, *, name: str = FILE_NAME, force: bool = False) -> None:
    """The root logger's handlers for this process (again on a second call: the earlier ones are replaced). Each
    process on a data directory writes a file of its own (`name`): a rotating file shared by two processes would
    be rotated by both, losing lines. Logging someone else set up (a test runner calling the command line, a
    program embedding it) is left as it is, as logging.basicConfig leaves it, unless `force`."""
    root = logging.getLogger()
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not force and any(not getattr(h, _MARK, False) for h in root.handlers):
        return
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler(sys.stderr)
    if under_journal():
        console.setFormatter(JournalFormatter())
        handlers.append(console)
    else:
        console.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
        handlers.append(console)
        if data_dir is not None:
            path = log_file(data_dir, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            rotating = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=FILES - 1,
                                                            encoding="utf-8", delay=True)
            rotating.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
            handlers.append(rotating)
    for handler in handlers:
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
