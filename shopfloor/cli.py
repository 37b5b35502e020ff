"""`shopfloor …`: the command line."""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from shopfloor import credentials as creds_mod
from shopfloor import settings as settings_mod
from shopfloor.clock import Clock, OffsetClock
from shopfloor.credentials import Credentials
from shopfloor.mqtt import BrokerAddress

log = logging.getLogger("shopfloor")


def _setup_logging(args: argparse.Namespace) -> None:
    """The journal under systemd, else stderr and DATA_DIR/logs/<command>.log (shopfloor/logs.py; the noisy
    libraries' loggers at WARNING there). `init` writes nothing into the folder it is about to make a site of, a
    mistyped --data-dir is not created for a log (only the demo makes its folder), and check-config has none."""
    from shopfloor import logs

    data_dir = Path(args.data_dir).resolve() if getattr(args, "data_dir", None) else None
    if args.command == "init" or data_dir is None or not (data_dir.is_dir() or args.command == "demo"):
        logs.setup(args.verbose, None)
        return
    name = {"demo": "shopfloor", "serve": "shopfloor", "printer-agent": f"printer-agent-{getattr(args, 'name', '')}"
            }.get(args.command, args.command)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    logs.setup(args.verbose, data_dir, name=f"{safe}.log")


SITE_FILE = "site.toml"


def _site_settings(args: argparse.Namespace, data_dir: Path) -> tuple[settings_mod.Settings, Path]:
    """--config, else DIR/site.toml (the demo writes one), else the demo configuration."""
    if getattr(args, "config", None):
        path = Path(args.config)
    elif (data_dir / SITE_FILE).exists():
        path = data_dir / SITE_FILE
    else:
        path = settings_mod.demo_config_path()
    return settings_mod.load(path), path


def _writable_config(config_path: Path, data_dir: Path) -> Path:
    """The file /setup rewrites: the configuration in use, except the shipped demo.toml (the demo copied it into
    DIR/site.toml, which the next start reads; a server started on it alone gets its own there)."""
    try:
        shipped = settings_mod.demo_config_path().resolve()
    except settings_mod.ConfigError:
        shipped = None
    return data_dir / SITE_FILE if config_path.resolve() == shipped else config_path.resolve()


def _credentials(data_dir: Path) -> Credentials:
    try:
        return creds_mod.load(data_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"shopfloor: {exc}") from None


def _site_credentials(data_dir: Path, settings: settings_mod.Settings) -> Credentials:
    """The site's credentials with an MQTT account for every printer of the site configuration (a printer
    added since gets its own now), for the commands that tell the broker who may log in."""
    creds = _credentials(data_dir)
    for name in creds_mod.ensure_printer_accounts(data_dir, creds, [p.name for p in settings.printers]):
        log.debug("printer %s: new MQTT account %s in %s", name, creds.printer_account(name).username,
                 data_dir / creds_mod.FILE_NAME)
    return creds


def _given_broker(args: argparse.Namespace) -> BrokerAddress:
    """--broker mqtt://… or mqtts://… (TLS: the CA from --tls-ca, else DATA_DIR/tls/ca.crt)."""
    ca = Path(args.tls_ca) if getattr(args, "tls_ca", None) else Path(args.data_dir) / "tls" / "ca.crt"
    try:
        return BrokerAddress.parse(args.broker, tls_ca=ca if args.broker.startswith("mqtts://") else None)
    except ValueError as exc:
        raise SystemExit(f"shopfloor: {exc}") from None


def _broker_address(args: argparse.Namespace, creds: Credentials) -> BrokerAddress:
    if args.broker:
        return _given_broker(args)
    return BrokerAddress(creds.broker_host, creds.broker_port)


def _demo(args: argparse.Namespace) -> int:
    from shopfloor.demo import seed
    from shopfloor.main import Options, Shopfloor
    from shopfloor.ports import PortInUse, ensure_free
    from shopfloor.run_lock import LockHeld, RunLock
    from shopfloor.services import site_setup

    data_dir = Path(args.data_dir).resolve()
    settings, config_path = _site_settings(args, data_dir)
    if args.no_embedded_broker:
        if not args.broker:
            print("--no-embedded-broker needs --broker mqtt://HOST:PORT", file=sys.stderr)
            return 2
        broker = _given_broker(args)
    else:
        broker = BrokerAddress("127.0.0.1", args.mqtt_port)
    try:
        ensure_free(args.host, args.http_port, "HTTP", "--http-port")
        if not args.no_embedded_broker:
            ensure_free(broker.host, broker.port, "MQTT", "--mqtt-port")
    except PortInUse as exc:
        print(f"shopfloor: {exc}", file=sys.stderr)
        return 2
    # before the demo resets or writes its day: a second demo on this folder refuses without touching it
    lock = RunLock(data_dir)
    try:
        lock.acquire()
    except LockHeld as exc:
        print(f"shopfloor: cannot start: {exc}", file=sys.stderr)
        return 2
    if args.reset and data_dir.exists():
        for name in ("shopfloor.sqlite3", "shopfloor.sqlite3-wal", "shopfloor.sqlite3-shm"):
            (data_dir / name).unlink(missing_ok=True)
        shutil.rmtree(data_dir / "agents", ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / SITE_FILE).exists():
        # The roles started later (serve, broker, printer-agent) read the same site configuration.
        shutil.copyfile(config_path, data_dir / SITE_FILE)
    credentials = creds_mod.load_or_create(data_dir, seed.staff_names(), broker.host, broker.port,
                                           [p.name for p in settings.printers])
    system = Shopfloor(settings, credentials, Options(
        data_dir=data_dir, http_host=args.host, http_port=args.http_port, broker=broker,
        embedded_broker=not args.no_embedded_broker, printer_agents=not args.no_printer_agents,
        https=_https(args, settings), config_path=_writable_config(config_path, data_dir)),
        clock=_demo_clock(args, settings))
    system.lock_data_dir(lock)
    system.db.migrate()
    if not site_setup.has_site(system.ctx):
        summary = seed.seed(system.ctx, credentials.advisors)
        log.info("demo data: %s", summary)
    else:
        added = seed.ensure_today(system.ctx)
        if added:
            log.info("demo data: %d appointments for today", added)
    with system.db.write() as s:
        site_setup.sync_advisor_pins(s, settings.site.id, credentials.advisors)
    _write_tag_sheet(system, data_dir)
    _banner(system, data_dir, args)
    return _run(system)


def _https(args: argparse.Namespace, settings: settings_mod.Settings) -> bool:
    """--https, or `[web] https = true` in the site configuration."""
    return bool(args.https or settings.web.https)


def _run(system: object) -> int:
    from shopfloor.broker.certs import CertificateError
    from shopfloor.main import Shopfloor

    assert isinstance(system, Shopfloor)
    try:
        system.run()
    except CertificateError as exc:
        print(f"shopfloor: HTTPS: {exc}", file=sys.stderr)
        return 2
    return 0


def _demo_clock(args: argparse.Namespace, settings: settings_mod.Settings) -> Clock | None:
    """--at "YYYY-MM-DD HH:MM" (or --time HH:MM, today): run the demo as if it were that moment of the site's
    time now; the clock keeps ticking from there, and a fresh demo's data is laid around it."""
    tz = settings.site.tz
    now = datetime.now(tz)
    if args.at:
        try:
            wanted = datetime.strptime(" ".join(args.at.replace("T", " ").split()), "%Y-%m-%d %H:%M")
        except ValueError:
            raise SystemExit(f"shopfloor: --at {args.at!r}: expected \"YYYY-MM-DD HH:MM\", e.g. "
                             f"\"2026-11-24 10:30\"") from None
        moment = wanted.replace(tzinfo=tz)
    elif args.time:
        try:
            hh, mm = (int(x) for x in args.time.split(":"))
            moment = datetime.combine(now.date(), time(hh, mm), tzinfo=tz)
        except ValueError:
            raise SystemExit(f"shopfloor: --time {args.time!r}: expected HH:MM, e.g. 10:30") from None
    else:
        return None
    # in UTC: two times in one zone subtract as wall clocks, wrong across a daylight-saving change
    return OffsetClock(moment.astimezone(UTC) - now.astimezone(UTC))


def _write_tag_sheet(system: object, data_dir: Path) -> None:
    """Every demo car and its tag, appointments first (a tag is what a scanner would type)."""
    from shopfloor.main import Shopfloor

    assert isinstance(system, Shopfloor)
    rows = [["appointment", "advisor", "plate", "customer", "tag"]]
    booked = set()
    for r in system.appointments.list_day(system.ctx.today()):
        booked.add(r["plate"])
        rows.append([r["start"][11:16], r["advisor"]["name"], r["plate"], r["customer"], r["tag"]])
    rows += [["walk-in", "", plate, customer, tag] for plate, customer, tag in system.checkin.all_tags()
             if plate not in booked]
    write_csv(data_dir / "demo-tags.csv", rows)


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """The csv module quotes a value holding a comma, quote or line break; a hand-joined line split it."""
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


ROLE_NAMES = {"advisor": "service advisor", "manager": "service manager: plan board, figures, data",
              "cs": "customer service: calls, bookings, data", "parts": "parts counter",
              "foreman": "workshop foreman", "technician": "technician", "cashier": "cashier"}


def _banner(system: object, data_dir: Path, args: argparse.Namespace) -> None:
    from shopfloor.main import Shopfloor

    assert isinstance(system, Shopfloor)
    scheme = "https" if system.options.https else "http"
    base = f"{scheme}://{'127.0.0.1' if args.host in ('0.0.0.0', '') else args.host}:{args.http_port}"
    token = system.credentials.board_token
    printers = "\n".join(f"    {p.name:<10} {p.directory(data_dir)}  ({p.encoding})" for p in system.settings.printers)
    roles = {a.name: a.roles for a in system.auth.advisors()}
    pins = "\n".join(f"    {name}  PIN {pin}  ({', '.join(ROLE_NAMES[r] for r in sorted(roles.get(name, ())))})"
                     for name, pin in system.credentials.advisors.items())
    broker = system.options.broker
    https = (f"  HTTPS                   browsers trust the site's CA {data_dir / 'tls' / 'ca.crt'}\n"
             if system.options.https else "")
    print(f"""
shopfloor demo · {system.settings.site.name} ({system.settings.site.id})
  Kiosk (tablet)          {base}/kiosk
  Appointment board       {base}/board/appointments?token={token}
  Progress board          {base}/board/progress?token={token}
  Lounge screen           {base}/lounge
  Booking (desk/tablet)   {base}/booking
  Calls, parts, no-shows  {base}/calls
  Manager: plan board     {base}/manager/board   figures: {base}/manager/figures
  Data in/out (DMS, iCal) {base}/data
  Workshop: dispatch      {base}/workshop/dispatch   quality check: {base}/workshop/qc
  Bay station             {base}/workshop/station   badges: {base}/workshop/badges
  Parts counter           {base}/parts
  Delivery desk           {base}/delivery   cashier: {base}/cashier
  Follow-up calls         {base}/follow-up   complaints: {base}/complaints
  A job ticket's QR       {base}/ro/<number> (the live order)
  Customer's own page     {base}/c/<token>: the QR and link on the order's estimate
                          (kiosk → an order → 估价单 {base}/kiosk/estimate/<number>, and its printout)
  API (Bearer token)      {base}/api/v1/…   schema: {base}/api/openapi.json
  MQTT broker             mqtt://{broker.host}:{broker.port} ({'embedded' if system.broker else 'external'})
{https}  Site clock              {system.ctx.now().astimezone(system.ctx.tz):%Y-%m-%d %H:%M} ({system.ctx.tz})
  Staff (sign in with name + PIN)
{pins}
  Tickets land in
{printers}
  Credentials             {data_dir / 'credentials.toml'}
  Demo QR tags            {data_dir / 'demo-tags.csv'} (type one into the kiosk and press Enter, as a scanner does)
Ctrl-C stops everything.
""", flush=True)


def _serve(args: argparse.Namespace) -> int:
    """The server role alone: kiosk, boards, API and outbox publisher, against an external broker."""
    from shopfloor.main import Options, Shopfloor
    from shopfloor.ports import PortInUse, ensure_free
    from shopfloor.run_lock import LockHeld, RunLock

    data_dir = Path(args.data_dir).resolve()
    settings, config_path = _site_settings(args, data_dir)
    creds = _credentials(data_dir)
    broker = _broker_address(args, creds)
    # the lock before the first line of the log: a second server refused on this folder writes into the running
    # one's log why it did not start, and no "starting" line of a start that never happened
    lock = RunLock(data_dir)
    try:
        lock.acquire()
        ensure_free(args.host, args.http_port, "HTTP", "--http-port")
    except (LockHeld, PortInUse) as exc:
        lock.release()
        log.error("cannot start: %s", exc)
        return 2
    system = Shopfloor(settings, creds, Options(
        data_dir=data_dir, http_host=args.host, http_port=args.http_port, broker=broker, embedded_broker=False,
        printer_agents=False, database_url=args.database, https=_https(args, settings),
        config_path=_writable_config(config_path, data_dir)))
    system.lock_data_dir(lock)
    log.info("starting site %s from %s on %s; broker %s; database %s", settings.site.id, config_path,
             listen_url(args.host, args.http_port, system.options.https), broker, system.db.url.split("@")[-1])
    if args.broker and (broker.host, broker.port) != (creds.broker_host, creds.broker_port):
        # our brokers refuse anonymous logins, but another one (a system Mosquitto) may take ours and keep the
        # site's retained state: say where we are, so a wrong --broker shows in the log
        log.warning("broker %s is not the one `shopfloor broker`/`mosquitto-config` recorded in %s (mqtt://%s:%d)",
                    broker, data_dir / creds_mod.FILE_NAME, creds.broker_host, creds.broker_port)
    elif not args.broker and not creds.broker_set_by:
        log.warning("broker mqtt://%s:%d is the default of %s, never set by `shopfloor broker` or `shopfloor "
                    "mosquitto-config`: if another broker (e.g. the system's Mosquitto) listens there, the site's "
                    "state goes to it; start the site's broker first", creds.broker_host, creds.broker_port,
                    data_dir / creds_mod.FILE_NAME)
    return _run(system)


def listen_url(host: str, port: int, https: bool) -> str:
    """Where the server listens, as a URL: http://0.0.0.0:8080 (every interface), https://[::1]:8443."""
    shown = f"[{host}]" if ":" in host else (host or "0.0.0.0")
    return f"{'https' if https else 'http'}://{shown}:{port}"


def _record_broker(data_dir: Path, address: BrokerAddress, command: str) -> str:
    """Write the plain listener's address to credentials.toml [broker], so `serve` and `printer-agent` on this host
    connect to this broker without --broker (and not to another one, e.g. Debian's Mosquitto on 1883, that happens
    to listen on the old address). Returns the sentence saying so."""
    creds = _credentials(data_dir)
    path = data_dir / creds_mod.FILE_NAME
    if (creds.broker_host, creds.broker_port, creds.broker_set_by) == (address.host, address.port, command):
        return f"{path} [broker] is mqtt://{address.host}:{address.port}: serve and printer-agent use it"
    old = f"mqtt://{creds.broker_host}:{creds.broker_port}"
    creds.broker_host, creds.broker_port, creds.broker_set_by = address.host, address.port, command
    creds_mod.write(path, creds)
    return (f"{path} [broker] set to mqtt://{address.host}:{address.port} (was {old}): serve and printer-agent "
            "on this host use it")


def _broker(args: argparse.Namespace) -> int:
    """The embedded broker alone, for a site without Mosquitto: plain MQTT for this host, TLS for the LAN (as the
    Mosquitto configuration has it)."""
    import signal
    import threading

    from shopfloor import systemd_notify
    from shopfloor.broker.certs import CertificateError, site_certificate
    from shopfloor.broker.embedded import BrokerStartError, EmbeddedBroker, TlsListener

    data_dir = Path(args.data_dir).resolve()
    settings, _ = _site_settings(args, data_dir)
    creds = _site_credentials(data_dir, settings)
    tls = None
    if not args.no_tls:
        try:
            cert = site_certificate(data_dir, settings.site.id, args.tls_host or [], args.tls_ip or [])
        except (ValueError, CertificateError, OSError) as exc:
            print(f"shopfloor: TLS: {exc}", file=sys.stderr)
            return 2
        tls = TlsListener(args.tls_bind, args.tls_port, cert.cert, cert.key, cert.ca_cert)
    broker = EmbeddedBroker(args.host, args.port, settings.site.id, creds, tls=tls,
                            credentials_file=data_dir / creds_mod.FILE_NAME, port_flag="--port",
                            tls_port_flag="--tls-port")
    # Handlers before the start: whoever waits for its first words (the broker logs "listening" before the banner)
    # may stop it at once, and a stop asked for while it starts ends it cleanly once started.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        broker.start()
    except BrokerStartError as exc:
        print(f"shopfloor: {exc}", file=sys.stderr)
        return 2
    over_tls = (f"; TLS on {args.tls_bind}:{broker.tls_port} (clients: mqtts://HOST:{broker.tls_port} "
                f"--tls-ca {data_dir / 'tls' / 'ca.crt'})" if tls is not None else "")
    recorded = _record_broker(data_dir, broker.address, "broker")
    print(f"MQTT broker for site {settings.site.id} on {args.host}:{broker.port}{over_tls} (Ctrl-C stops it)\n"
          f"  {recorded}", flush=True)
    systemd_notify.notify(systemd_notify.READY, f"STATUS=listening on {args.host}:{broker.port}")  # Type=notify
    systemd_notify.keep_watchdog(stop, broker.answers, "the MQTT broker")
    stop.wait()
    systemd_notify.notify(systemd_notify.STOPPING)
    broker.stop()
    return 0


def _printer_agent(args: argparse.Namespace) -> int:
    """One printer's agent, on the host the printer is attached to: from its own credentials file (written by
    `printer-credentials`), or on the server's host from the site's credentials.toml and site.toml."""
    from shopfloor import printer_credentials as own_mod
    from shopfloor.printer.runner import run_agent

    data_dir = Path(args.data_dir).resolve()
    path = Path(args.credentials) if args.credentials else data_dir / creds_mod.FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"shopfloor: {path}: {exc.strerror or exc}; a printer's host needs the file "
                         f"`shopfloor printer-credentials {args.name} --out FILE` writes on the server") from None
    if own_mod.is_printer_file(text):
        try:
            own = own_mod.loads(text, str(path))
        except ValueError as exc:
            raise SystemExit(f"shopfloor: {exc}") from None
        if own.printer.name != args.name:
            raise SystemExit(f"shopfloor: {path} holds printer {own.printer.name!r}'s account, not {args.name!r}'s")
        printer = _site_settings(args, data_dir)[0] if args.config else own.printer
        address = own.address
        if args.broker:
            given = _given_broker(args)
            # mqtts:// without --tls-ca: the site's CA is the one in the file
            ca = None if args.tls_ca or not given.tls else own.ca_certificate
            address = BrokerAddress(given.host, given.port, tls_ca_pem=ca) if ca else given
        return run_agent(printer, own.site, args.name, data_dir, address, own.account)
    settings, _ = _site_settings(args, data_dir)
    try:
        settings.printer(args.name)
    except KeyError:
        names = ", ".join(p.name for p in settings.printers)
        print(f"shopfloor: no printer {args.name!r} in the site configuration (printers: {names})", file=sys.stderr)
        return 2
    try:
        creds = creds_mod.loads(text, str(path))
    except ValueError as exc:
        raise SystemExit(f"shopfloor: {exc}") from None
    try:
        account = creds.printer_account(args.name)
    except KeyError as exc:
        raise SystemExit(f"shopfloor: {path}: {exc.args[0]}; `shopfloor printer-credentials {args.name} "
                         f"--data-dir DIR --out FILE` makes it, and the file for the printer's host") from None
    return run_agent(settings, settings.site.id, args.name, data_dir, _broker_address(args, creds), account)


def _printer_credentials(args: argparse.Namespace) -> int:
    """A printer host's own credentials file: the printer's MQTT account, the broker's address and CA, the
    printer's settings; nothing else of the site's secrets."""
    from shopfloor import printer_credentials as own_mod

    data_dir = Path(args.data_dir).resolve()
    settings, _ = _site_settings(args, data_dir)
    try:
        printer = settings.printer(args.name)
    except KeyError:
        names = ", ".join(p.name for p in settings.printers)
        print(f"shopfloor: no printer {args.name!r} in the site configuration (printers: {names})", file=sys.stderr)
        return 2
    creds = _credentials(data_dir)
    new = creds_mod.ensure_printer_accounts(data_dir, creds, [p.name for p in settings.printers])
    address = _broker_address(args, creds)
    out = Path(args.out).resolve()
    try:
        own_mod.write(out, own_mod.for_printer(creds, settings.site.id, printer, address))
    except FileNotFoundError as exc:
        print(f"shopfloor: {exc.filename} does not exist: the site's CA is made by `shopfloor broker` or "
              "`shopfloor mosquitto-config`; run one first, or give --tls-ca FILE", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"shopfloor: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} (mode 600): printer {args.name}'s MQTT account {creds.printer_account(args.name).username} "
          f"and broker {address}\n  copy it to the printer's host and run:  shopfloor printer-agent {args.name} "
          f"--credentials FILE --data-dir DIR")
    for warning in own_mod.address_warnings(address):
        print(f"warning: {warning}", file=sys.stderr)
    if new:
        print(f"note: new MQTT account(s) for printer(s) {', '.join(new)}: a running `shopfloor broker` lets them in "
              "by itself; with Mosquitto run `shopfloor mosquitto-config` again, then `sudo systemctl reload "
              "mosquitto`", file=sys.stderr)
    return 0


def _mosquitto_config(args: argparse.Namespace) -> int:
    """Mosquitto's conf, password and ACL files (from the same rules the embedded broker enforces), with a
    TLS listener whose certificate comes from the site's own CA."""
    from shopfloor.broker.certs import CertificateError
    from shopfloor.broker.mosquitto import write_site_config

    data_dir = Path(args.data_dir).resolve()
    settings, _ = _site_settings(args, data_dir)
    # before the files: install-server.sh remakes them when credentials.toml is newer than passwd
    recorded = _record_broker(data_dir, BrokerAddress("127.0.0.1", args.port), "mosquitto-config")
    try:
        cfg = write_site_config(_site_credentials(data_dir, settings), settings.site.id, data_dir,
                                Path(args.out).resolve(),
                                port=args.port, tls_port=args.tls_port, tls_bind=args.tls_bind,
                                hostnames=args.tls_host or [], addresses=args.tls_ip or [])
    except (ValueError, CertificateError, OSError) as exc:
        print(f"shopfloor: {exc}", file=sys.stderr)
        return 2
    for warning in cfg.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {cfg.conf}\n  run:   /usr/sbin/mosquitto -c {cfg.conf}\n  {recorded}\n"
          f"  LAN clients trust {cfg.ca_cert} (e.g. --broker mqtts://HOST:{args.tls_port} --tls-ca {cfg.ca_cert})")
    return 0


def _init(args: argparse.Namespace) -> int:
    from shopfloor import site_init

    return site_init.main(args)


def _backup(args: argparse.Namespace) -> int:
    from shopfloor import backup

    return backup.main_backup(args)


def _restore(args: argparse.Namespace) -> int:
    from shopfloor import backup

    return backup.main_restore(args)


def _check_config(args: argparse.Namespace) -> int:
    try:
        s = settings_mod.load(Path(args.file))
    except settings_mod.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.file}: ok (site {s.site.id}, {len(s.printers)} printers)")
    return 0


class DefaultsShown(argparse.HelpFormatter):
    """Shows a default where there is one worth saying (not None or False, not already in the help)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text or action.option_strings == []:
            return text
        return f"{text} (default: %(default)s)".strip()


HTTPS_HELP = ("serve HTTPS with a certificate from the site's CA in DATA_DIR/tls (browsers trust its ca.crt; "
              "also [web] https = true)")


SITE_TOML = "site configuration TOML (default: DATA_DIR/site.toml)"


def _command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
             func: Callable[[argparse.Namespace], int], help: str, data_dir: str | None = None
             ) -> argparse.ArgumentParser:
    """A subcommand that works on a site's data directory (--data-dir)."""
    command = sub.add_parser(name, help=help, formatter_class=DefaultsShown)
    command.set_defaults(func=func)
    command.add_argument("--data-dir", default="data", help=data_dir)
    return command


def _tls_listener(command: argparse.ArgumentParser) -> None:
    """A broker's TLS listener and the extra names its certificate carries (the embedded broker, Mosquitto)."""
    command.add_argument("--tls-port", type=int, default=8883, help="TLS listener for the LAN")
    command.add_argument("--tls-bind", default="0.0.0.0", help="address of the TLS listener")
    command.add_argument("--tls-host", action="append", metavar="NAME", help="extra host name for the certificate")
    command.add_argument("--tls-ip", action="append", metavar="ADDR", help="extra IP address for the certificate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopfloor", description="Runs a dealership's service lane.",
                                     formatter_class=DefaultsShown)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = _command(sub, "demo", _demo, "start the whole system with a demo day on embedded defaults",
                    "where the database, credentials and tickets live")
    demo.add_argument("--config", help="site configuration TOML (default: config/demo.toml)")
    demo.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on")
    demo.add_argument("--http-port", type=int, default=8080, help="kiosk, boards and API")
    demo.add_argument("--mqtt-port", type=int, default=1884, help="embedded broker port (default 1884: "
                      "1883 is often a system Mosquitto's)")
    demo.add_argument("--no-embedded-broker", action="store_true", help="use --broker instead of the embedded one")
    demo.add_argument("--broker", help="mqtt://HOST:PORT or mqtts://HOST:PORT of an external broker")
    demo.add_argument("--no-printer-agents", action="store_true", help="do not run the printers' agents in this "
                      "process (run `shopfloor printer-agent NAME` yourself; two agents for one printer print twice)")
    demo.add_argument("--tls-ca", help="CA certificate for mqtts:// (default: DATA_DIR/tls/ca.crt)")
    demo.add_argument("--https", action="store_true", help=HTTPS_HELP)
    demo.add_argument("--reset", action="store_true", help="wipe the demo database and start a fresh day")
    when = demo.add_mutually_exclusive_group()
    when.add_argument("--time", metavar="HH:MM", help="run the demo as if it were this time of day now "
                      "(e.g. 10:30 for a morning demo in the evening)")
    when.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', help="run the demo as if it were this moment (the "
                      "site's time): its data is laid around that day (with --reset, or a new --data-dir)")
    serve = _command(sub, "serve", _serve, "run the server role (kiosk, boards, API, publisher) against a broker")
    serve.add_argument("--config", help=SITE_TOML)
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--http-port", type=int, default=8080)
    serve.add_argument("--broker", help="mqtt://HOST:PORT or mqtts://HOST:PORT (default: [broker] in "
                       "credentials.toml)")
    serve.add_argument("--tls-ca", help="CA certificate for mqtts:// (default: DATA_DIR/tls/ca.crt)")
    serve.add_argument("--https", action="store_true", help=HTTPS_HELP)
    serve.add_argument("--database", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
                       "(default: DATA_DIR/shopfloor.sqlite3)")
    broker = _command(sub, "broker", _broker, "run the embedded MQTT broker alone")
    broker.add_argument("--config", help=SITE_TOML)
    broker.add_argument("--host", default="127.0.0.1", help="address of the plain (unencrypted) listener: this "
                        "host only, unless a LAN without untrusted devices needs it")
    broker.add_argument("--port", type=int, default=1883)
    _tls_listener(broker)
    broker.add_argument("--no-tls", action="store_true", help="no TLS listener")
    agent = _command(sub, "printer-agent", _printer_agent, "run one printer's agent (prints its jobs, reports its "
                     "status)", "the print journal (and on the server's host credentials.toml and site.toml)")
    agent.add_argument("name", help="the printer's name in the site configuration")
    agent.add_argument("--credentials", metavar="FILE", help="the printer's own credentials file from "
                       "`printer-credentials` (default: DATA_DIR/credentials.toml)")
    agent.add_argument("--config", help="site configuration TOML (default: the printer's section in its "
                       "credentials file, else DATA_DIR/site.toml)")
    agent.add_argument("--broker", help="mqtt://HOST:PORT or mqtts://HOST:PORT (default: [broker] in "
                       "the credentials file)")
    agent.add_argument("--tls-ca", help="CA certificate for mqtts:// (default: DATA_DIR/tls/ca.crt)")
    own = _command(sub, "printer-credentials", _printer_credentials, "write a printer host's own credentials "
                   "file: that printer's MQTT account and nothing else",
                   "the site's credentials.toml and site.toml (and tls/)")
    own.add_argument("name", help="the printer's name in the site configuration")
    own.add_argument("--config", help=SITE_TOML)
    own.add_argument("--out", required=True, metavar="FILE", help="the file to write (mode 600)")
    own.add_argument("--broker", help="how the printer's host reaches the broker, e.g. mqtts://shopfloor.lan:8883 "
                     "(default: [broker] in credentials.toml)")
    own.add_argument("--tls-ca", help="CA certificate for mqtts://, copied into the file (default: "
                     "DATA_DIR/tls/ca.crt)")
    mosq = _command(sub, "mosquitto-config", _mosquitto_config, "write Mosquitto's conf, passwd, acl and TLS files "
                    "for this site", "where credentials.toml is (and tls/, the site's CA)")
    mosq.add_argument("--config", help=SITE_TOML)
    mosq.add_argument("--out", required=True, help="folder for mosquitto.conf, passwd, acl and the certificates")
    mosq.add_argument("--port", type=int, default=1883, help="plain listener on 127.0.0.1")
    _tls_listener(mosq)
    init = _command(sub, "init", _init, "make an empty site: its configuration, credentials and first manager",
                    "the new site's folder (must not hold a site yet)")
    init.add_argument("--site-id", required=True, help="short id of the site: letters, digits, - and _ (e.g. bj01)")
    init.add_argument("--site-name", required=True, help="the dealership's name as printed on tickets")
    init.add_argument("--timezone", default="Asia/Shanghai", help="IANA time zone of the site")
    init.add_argument("--language", default="zh-CN", choices=("zh-CN", "en"), help="the screens' language")
    init.add_argument("--manager", default="", help="the first manager's name (default: 经理 or Manager)")
    backup = _command(sub, "backup", _backup, "copy the site's SQLite database while the server may run",
                      "the site's folder")
    backup.add_argument("--out", required=True, metavar="FILE", help="the backup file to write")
    restore = _command(sub, "restore", _restore, "put a backup back in place (the server must be stopped)",
                       "the site's folder")
    restore.add_argument("file", help="a backup made by `shopfloor backup` or the nightly backup")
    check = sub.add_parser("check-config", help="validate a site configuration TOML")
    check.add_argument("file")
    check.set_defaults(func=_check_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args)
    try:
        return int(args.func(args))
    except settings_mod.ConfigError as exc:
        print(f"shopfloor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
