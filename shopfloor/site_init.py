"""`shopfloor init`: an empty site in a new data directory, ready for `shopfloor serve` and its /setup.

It writes DIR/site.toml (the site's id, name, time zone and language, and one placeholder printer writing tickets to
files, since a site configuration names at least one printer: the real ones are set at /setup), DIR/credentials.toml
(API, boards and MQTT accounts; no staff PINs) and the SQLite database with the site and its first manager. The
manager's PIN is random and one-time: printed once here, kept only as a hash, replaced by their own at their first
sign-in. A folder that already holds a site is refused, so nothing of a running site is overwritten.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import tomli_w

from shopfloor import credentials as creds_mod
from shopfloor import settings as settings_mod
from shopfloor.clock import Clock
from shopfloor.contract.staff import StaffRole
from shopfloor.db import Database, sqlite_url
from shopfloor.services import site_setup
from shopfloor.services.audit import Actor, ActorKind
from shopfloor.services.context import ServiceContext
from shopfloor.services.staff_pins import PinService, new_one_time_pin

SITE_FILE = "site.toml"
DB_FILE = "shopfloor.sqlite3"
# what makes a folder a site's: any of these, and `init` leaves it alone
SITE_FILES = (SITE_FILE, creds_mod.FILE_NAME, DB_FILE, f"{DB_FILE}-wal")
PLACEHOLDER_PRINTER = "reception"
MANAGER_CODE = "M"
DEFAULT_MANAGER = {"zh-CN": "经理", "en": "Manager"}
# printed on the screens that offer the printer, so in the site's language
PLACEHOLDER_LABEL = {"zh-CN": "前台（占位：请在 /setup 设置）", "en": "Reception (placeholder: set at /setup)"}
ACTOR = Actor("shopfloor init", ActorKind.SYSTEM)
SETTINGS_HEADER = ("# shopfloor site configuration, written by `shopfloor init`. /setup changes it while the server "
                   "runs;\n# `shopfloor check-config FILE` validates a copy edited by hand. Keys left out keep their "
                   "defaults\n# (shopfloor/settings.py; config/demo.toml shows them).\n")


class InitRefused(Exception):
    """What `init` will not do, said to the person who typed the command."""


def site_config(args: argparse.Namespace) -> dict[str, object]:
    return {
        "site": {"id": args.site_id, "name": args.site_name.strip(), "timezone": args.timezone,
                 "language": args.language},
        # a site configuration names at least one printer: a placeholder writing tickets into
        # DIR/tickets/reception until /setup → Printers names the real one
        "printers": [{"name": PLACEHOLDER_PRINTER,
                      "label": PLACEHOLDER_LABEL.get(args.language, PLACEHOLDER_LABEL["en"]), "transport": "file"}],
    }


def manager_name(args: argparse.Namespace) -> str:
    name = (args.manager or DEFAULT_MANAGER.get(args.language, "Manager")).strip()
    if not name or len(name) > 60 or not name.isprintable():
        raise InitRefused(f"--manager {args.manager!r}: a name of 1 to 60 printable characters")
    return name


def check_empty(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise InitRefused(f"{data_dir} is a file, not a folder")
    found = [name for name in SITE_FILES if (data_dir / name).exists()]
    if found:
        raise InitRefused(f"{data_dir} already holds a site ({', '.join(found)}): nothing was changed. Run "
                          f"`shopfloor serve --data-dir {data_dir}` for it, or choose a new folder")


def _write_private(path: Path, text: str, mode: int = 0o644) -> None:
    """Written whole or not at all (a temporary file renamed into place)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def make_site(data_dir: Path, args: argparse.Namespace) -> tuple[settings_mod.Settings, str, str]:
    """The files and the database; returns the settings, the manager's name and their one-time PIN."""
    config = site_config(args)
    text = SETTINGS_HEADER + tomli_w.dumps(config)
    try:
        settings = settings_mod.parse(text, f"--site-id/--site-name/--timezone/--language ({SITE_FILE})")
    except settings_mod.ConfigError as exc:
        raise InitRefused(str(exc)) from None
    if not settings.site.name:
        raise InitRefused("--site-name must not be empty")
    name = manager_name(args)
    check_empty(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        _write_private(data_dir / SITE_FILE, text)
        written.append(data_dir / SITE_FILE)
        creds = creds_mod.generate([], [PLACEHOLDER_PRINTER])
        creds_mod.write(data_dir / creds_mod.FILE_NAME, creds)
        written.append(data_dir / creds_mod.FILE_NAME)
        written += [data_dir / f"{DB_FILE}{suffix}" for suffix in ("", "-wal", "-shm")]
        pin = _first_manager(data_dir, settings, name)
    except BaseException:
        # a half-made site would be refused by the next `init`: take back what this one wrote
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return settings, name, pin


def _first_manager(data_dir: Path, settings: settings_mod.Settings, name: str) -> str:
    db = Database(sqlite_url(data_dir / DB_FILE))
    try:
        db.migrate()
        ctx = ServiceContext(db, settings, Clock())
        with db.write() as s:
            site_setup.add_site(s, ctx)
            # a throwaway PIN nobody sees, replaced at once by the audited one-time PIN below
            person = site_setup.add_staff(s, ctx, MANAGER_CODE, name, [StaffRole.MANAGER], new_one_time_pin())
            s.flush()
            staff_id = person.id
        return PinService(ctx).reset(staff_id, ACTOR)
    finally:
        db.dispose()


def main(args: argparse.Namespace) -> int:
    from shopfloor.main import lan_address

    data_dir = Path(args.data_dir).resolve()
    try:
        settings, name, pin = make_site(data_dir, args)
    except InitRefused as exc:
        print(f"shopfloor init: {exc}", file=sys.stderr)
        return 2
    base = f"http://{lan_address()}:8080"
    site = settings.site
    print(f"""shopfloor init · {site.name} ({site.id}), {site.timezone}, {site.language}
  Site configuration   {data_dir / SITE_FILE}
                       printers: one placeholder, "{PLACEHOLDER_PRINTER}", writing tickets to
                       {settings.printer(PLACEHOLDER_PRINTER).directory(data_dir)}; set the real ones at /setup
  Credentials          {data_dir / creds_mod.FILE_NAME} (mode 600: API, wall screens, MQTT; no PINs)
  Database             {data_dir / DB_FILE}

  First manager        {name}
  One-time PIN         {pin}
                       shown only now and kept nowhere in plain text: note it. At the first sign-in {name}
                       chooses their own PIN; a lost PIN is reset by another manager at /setup.

Next:
  1. An MQTT broker for the site:  shopfloor broker --data-dir {data_dir} [--port P]
     (or Mosquitto: shopfloor mosquitto-config --data-dir {data_dir} --out DIR [--port P])
     either one writes its address into credentials.toml [broker], which serve and printer-agent follow
  2. The server:                   shopfloor serve --data-dir {data_dir}
  3. A printer agent, or nothing is ever printed (a test print waits forever):
                                   shopfloor printer-agent {PLACEHOLDER_PRINTER} --data-dir {data_dir}
     the placeholder printer writes each ticket as a file into the folder above, printing nothing on paper
  4. Open {base}/setup, sign in as {name} with the PIN above, and set up staff,
     technicians, bays, opening hours, the catalogues and the printers (each real printer: its own agent).
     The tablets open {base}/kiosk.
""", flush=True)
    return 0
