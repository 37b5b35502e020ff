"""mypy over the one import package `shopfloor`, as installed.

kiosk/, board/, broker/ and printer/ are installed as shopfloor.kiosk … (pyproject's package-dir); mypy cannot
follow that mapping, so checked as folders, every `from shopfloor.kiosk…` import was an unchecked Any. This
lays the installed shape out as symlinks in .mypy-overlay/ and checks `-p shopfloor` there.

    python scripts/typecheck.py [extra mypy arguments]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = ROOT / ".mypy-overlay"
ROLE_FOLDERS = ("kiosk", "board", "broker", "printer")


def lay_out() -> Path:
    package = OVERLAY / "shopfloor"
    if OVERLAY.exists():
        shutil.rmtree(OVERLAY)
    package.mkdir(parents=True)
    for entry in (ROOT / "shopfloor").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for folder in ROLE_FOLDERS:
        (package / folder).symlink_to(ROOT / folder)
    return OVERLAY


def main() -> int:
    overlay = lay_out()
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "shopfloor",
               *sys.argv[1:]]
    return subprocess.call(command, cwd=overlay, env={**os.environ, "MYPYPATH": str(overlay)})


if __name__ == "__main__":
    sys.exit(main())
