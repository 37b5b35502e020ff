"""Writing the broker's files with modes Mosquitto can live with.

Debian's Mosquitto starts as root and drops to the `mosquitto` user *before* it reads the password file, the
ACL file and the TLS key. So those files must be readable by that user and by no one else, and every directory
above them must be traversable by it. Mosquitto ≥ 2.0.16 also warns ("future versions will refuse to load
this file") when such a file is not owned by the user and group it runs as: as root we give them to
mosquitto:mosquitto, mode 0640 (never world-readable).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

BROKER_USER = "mosquitto"

SECRET_MODE = 0o640  # password file, ACL, server key: the broker's account only
PRIVATE_MODE = 0o600  # the CA key: never the broker's (it only ever needs the certificate)
PUBLIC_MODE = 0o644  # certificates and mosquitto.conf: nothing secret in them
DIR_MODE = 0o750


@dataclass(frozen=True)
class BrokerAccount:
    uid: int
    gid: int
    groups: frozenset[int]


def broker_account(user: str = BROKER_USER) -> BrokerAccount | None:
    """The account Mosquitto drops to when started as root; None where it does not exist."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    groups = {g.gr_gid for g in grp.getgrall() if user in g.gr_mem} | {entry.pw_gid}
    return BrokerAccount(entry.pw_uid, entry.pw_gid, frozenset(groups))


def _hand_to_broker(fd: int, account: BrokerAccount | None) -> int:
    """Give an open file to the broker's account as far as we may; returns the mode to use."""
    if account is None:
        return PRIVATE_MODE
    if os.geteuid() == 0:
        os.fchown(fd, account.uid, account.gid)
        return SECRET_MODE
    try:  # a non-root user in the mosquitto group can still share the file with it
        os.fchown(fd, -1, account.gid)
    except PermissionError:
        return PRIVATE_MODE
    return SECRET_MODE


def write_file(path: Path, data: bytes, *, secret: bool = False, broker_reads: bool = True) -> None:
    """Write atomically (temp file + rename) with the final mode from the start, so no reader ever sees a
    half-written file or a secret with loose permissions.

    secret and broker_reads: owned by the broker's account, 0640. secret only: 0600, ours. Otherwise 0644."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        mode = PUBLIC_MODE
        if secret:
            mode = _hand_to_broker(fd, broker_account()) if broker_reads else PRIVATE_MODE
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.replace(tmp, path)


def make_dir(path: Path) -> None:
    """Create `path` (and parents); a directory created here is 0750 and group mosquitto when we may."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)  # parents get the usual umask-based mode: traversable
    path.mkdir(mode=DIR_MODE)
    os.chmod(path, DIR_MODE)  # mkdir's mode is masked by the umask
    account = broker_account()
    if account is not None:
        with contextlib.suppress(PermissionError):
            os.chown(path, -1, account.gid)


def broker_access_problems(paths: list[Path], account: BrokerAccount | None = None) -> list[str]:
    """Why the broker's account could not read these files (empty when it can, or when Mosquitto will not
    drop privileges because we are not root). Checks every directory above each file for search permission."""
    account = account or broker_account()
    if account is None or os.geteuid() != 0:
        return []
    problems: list[str] = []
    checked: set[Path] = set()
    for path in paths:
        path = path.absolute()
        for directory in reversed(path.parents):
            if directory in checked:
                continue
            checked.add(directory)
            if not _allows(directory.stat(), account, stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH):
                problems.append(f"{directory}: the {BROKER_USER} user cannot enter this directory "
                                f"(Mosquitto reads its files as {BROKER_USER}); e.g. chmod o+x or chgrp {BROKER_USER}")
        if not _allows(path.stat(), account, stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH):
            problems.append(f"{path}: not readable by the {BROKER_USER} user")
    return problems


def _allows(st: os.stat_result, account: BrokerAccount, user_bit: int, group_bit: int, other_bit: int) -> bool:
    if st.st_uid == account.uid:
        return bool(st.st_mode & user_bit)
    if st.st_gid in account.groups:
        return bool(st.st_mode & group_bit)
    return bool(st.st_mode & other_bit)
