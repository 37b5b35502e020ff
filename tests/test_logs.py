"""Logs: a rotating file in DATA_DIR/logs when not under systemd; under systemd (JOURNAL_STREAM naming stderr)
syslog-priority prefixes and no timestamps, and no file; commands without a data directory log to stderr alone."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopfloor import logs

CLOCK = re.compile(r"\d\d:\d\d:\d\d")


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger as it was, once the test's setup() handlers are gone."""
    root = logging.getLogger()
    level = root.level
    yield root
    for handler in [h for h in root.handlers if getattr(h, logs._MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def test_the_file_rotates_and_keeps_five(tmp_path: Path, root_logger: logging.Logger,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    logs.setup(False, None)  # pytest's own handlers on the root logger: left alone
    assert not [h for h in root_logger.handlers if getattr(h, logs._MARK, False)]
    logs.setup(False, tmp_path, force=True)
    rotating = [h for h in root_logger.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert [(h.maxBytes, h.backupCount) for h in rotating] == [(5 * 1024 * 1024, 4)]
    log = logging.getLogger("shopfloor.test")
    log.info("booked %s", "京A12345")
    log.debug("not at INFO")
    logging.getLogger("alembic.runtime").info("noisy library")
    text = logs.log_file(tmp_path).read_text(encoding="utf-8")
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d INFO    shopfloor.test: booked 京A12345$", text, re.M)
    assert "not at INFO" not in text and "noisy library" not in text

    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    logs.setup(True, tmp_path, name="small.log", force=True)  # again: the earlier handlers replaced, not doubled
    assert sum(isinstance(h, logging.handlers.RotatingFileHandler) for h in root_logger.handlers) == 1
    for n in range(300):
        log.debug("line %04d %s", n, "x" * 40)
    files = sorted(p.name for p in (tmp_path / "logs").glob("small.log*"))
    assert files == ["small.log", "small.log.1", "small.log.2", "small.log.3", "small.log.4"]
    assert all(p.stat().st_size <= 2_000 for p in (tmp_path / "logs").glob("small.log*"))
    assert "line 0299" in (tmp_path / "logs" / "small.log").read_text(encoding="utf-8")
    assert "line 0000" not in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("small*"))


CHILD = """
import logging, sys
from pathlib import Path
from shopfloor import logs
logs.setup(False, Path(sys.argv[1]))
log = logging.getLogger("shopfloor.main")
log.info("server started")
log.warning("broker not reachable")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("housekeeping failed")
"""


def run_child(data_dir: Path, stderr_file: Path, journal: str | None) -> str:
    """The child's stderr is a file; JOURNAL_STREAM names that file's device:inode as systemd names the journal's
    socket (or `journal` as given, or is unset)."""
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    with stderr_file.open("w") as err:
        st = os.fstat(err.fileno())
        if journal is not None:
            env["JOURNAL_STREAM"] = journal or f"{st.st_dev}:{st.st_ino}"
        subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], stderr=err, env=env, check=True, timeout=60)
    return stderr_file.read_text(encoding="utf-8")


def test_under_systemd_lines_carry_priorities_and_no_time(tmp_path: Path) -> None:
    out = run_child(tmp_path / "site", tmp_path / "stderr", journal="")
    lines = out.splitlines()
    assert lines[:2] == ["<6>shopfloor.main: server started", "<4>shopfloor.main: broker not reachable"]
    assert lines[2] == "<3>shopfloor.main: housekeeping failed"
    # the traceback: every line an error, so that `journalctl -p err` shows it whole
    assert len(lines) > 4 and all(line.startswith("<3>") for line in lines[2:])
    assert lines[-1] == "<3>ZeroDivisionError: division by zero"
    assert not CLOCK.search(out)  # the journal stamps each entry itself
    assert not (tmp_path / "site" / "logs").exists()


def test_elsewhere_stderr_has_the_time_and_the_file_the_same_lines(tmp_path: Path) -> None:
    # a JOURNAL_STREAM inherited from a parent whose stderr was the journal, while this one's is not
    out = run_child(tmp_path / "site", tmp_path / "stderr", journal="1:2")
    assert re.match(r"\d\d:\d\d:\d\d INFO    shopfloor.main: server started\n", out)
    assert "<6>" not in out
    text = logs.log_file(tmp_path / "site").read_text(encoding="utf-8")
    assert "WARNING shopfloor.main: broker not reachable" in text and "ZeroDivisionError" in text


def test_commands_never_make_a_folder_for_their_log(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    cmd = [sys.executable, "-m", "shopfloor.cli"]
    missing = tmp_path / "typo"
    done = subprocess.run([*cmd, "backup", "--data-dir", str(missing), "--out", str(tmp_path / "x.sqlite3")],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "no data directory" in done.stderr
    assert not missing.exists()
    config = Path(__file__).resolve().parent.parent / "config" / "demo.toml"
    done = subprocess.run([*cmd, "check-config", str(config)], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "logs").exists() and not (tmp_path / "data").exists()
