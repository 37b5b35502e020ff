"""Setting up bench/latency.py's runs: a data directory with a 200-card day, a private Mosquitto (never the
system one on 1883, never anonymous) and the real server as a subprocess."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from shopfloor import credentials as creds_module
from shopfloor import settings as settings_module
from shopfloor.clock import Clock
from shopfloor.contract.access import Access, rules
from shopfloor.credentials import Credentials
from shopfloor.db import Database, sqlite_url
from shopfloor.demo import data as demo_data
from shopfloor.demo import seed
from shopfloor.demo.people import random_plate
from shopfloor.domain.identifiers import new_tag_token, with_check_digit
from shopfloor.domain.models import Advisor, Appointment, Bay, Customer, LabourOperation, QrTag, Vehicle
from shopfloor.domain.versions import next_version
from shopfloor.services import site_setup
from shopfloor.services.appointments import AppointmentService
from shopfloor.services.context import ServiceContext

BENCH = Path(__file__).resolve().parent
MOSQUITTO = "/usr/sbin/mosquitto"
HOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """`count` different TCP ports that were free a moment ago (all bound at once, so never the same twice)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout:.0f} s")


# -- the day ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    cards: int         # today's appointments: the cards on the appointment board
    arrivable: int     # of which can still be checked in (booked / confirmed / late, no open order)


def prepare_data_dir(data_dir: Path, broker_port: int, cards: int) -> tuple[Credentials, Day]:
    """The demo site as `shopfloor demo` seeds it, plus appointments up to `cards` for today, one new customer
    and vehicle (with its QR tag) each, spread over the advisors' rows from opening to closing.

    Written straight into SQLite before the server starts (setup only; the server republishes everything to the
    broker when it connects). Appointments already past their time plus the grace period are stored late, as
    the server's late marker would make them, and none is put within half an hour after now: so no appointment
    turns late by itself while the benchmark runs and disturbs the boards."""
    settings = settings_module.load(settings_module.demo_config_path())
    data_dir.mkdir(parents=True, exist_ok=True)
    credentials = creds_module.load_or_create(data_dir, seed.staff_names(), HOST, broker_port,
                                              [p.name for p in settings.printers])
    database = Database(sqlite_url(data_dir / "shopfloor.sqlite3"))
    ctx = ServiceContext(database, settings, Clock())
    try:
        database.migrate()
        seed.seed(ctx, credentials.advisors)
        with database.write() as s:
            site_setup.sync_advisor_pins(s, settings.site.id, credentials.advisors)
        AppointmentService(ctx).mark_late()  # the demo's own appointments, as the server would at start
        _add_appointments(ctx, cards)
        return credentials, _count(ctx)
    finally:
        database.dispose()


def _add_appointments(ctx: ServiceContext, cards: int) -> None:
    site = ctx.settings.site
    rng = random.Random(20261122)
    now = ctx.now()
    day = now.astimezone(ctx.tz).date()
    opening = datetime.combine(day, site.opening, tzinfo=ctx.tz)
    closing = datetime.combine(day, site.closing, tzinfo=ctx.tz)
    grace = timedelta(minutes=site.late_grace_minutes)
    start_day, end_day = ctx.day_bounds(day)
    with ctx.db.write() as s:
        have = s.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.site_id == ctx.site, Appointment.start >= start_day, Appointment.start < end_day)) or 0
        missing = cards - have
        if missing <= 0:
            return
        advisors = list(s.scalars(select(Advisor).where(Advisor.site_id == ctx.site).order_by(Advisor.code)))
        bays = list(s.scalars(select(Bay).where(Bay.site_id == ctx.site).order_by(Bay.id)))
        ops = list(s.scalars(select(LabourOperation).where(LabourOperation.site_id == ctx.site)))
        slots = [opening + timedelta(minutes=5 * i) for i in range(int((closing - opening) / timedelta(minutes=5)))]
        slots = [t for t in slots if not (now - grace - timedelta(minutes=1) <= t <= now + timedelta(minutes=30))]
        for i in range(missing):
            start = slots[(i * len(slots)) // missing] if missing <= len(slots) else slots[i % len(slots)]
            op = rng.choice(ops)
            given, salutation = rng.choice(demo_data.GIVEN)  # the salutation goes with the given name
            customer = Customer(site_id=ctx.site, surname=rng.choice(demo_data.SURNAMES), given_name=given,
                                salutation=salutation, phone=f"139{rng.randrange(10**8):08d}")
            model, wmi = demo_data.MODELS[i % len(demo_data.MODELS)]
            vin = with_check_digit(f"{wmi}BNCH0{rng.choice('LMNPR')}{rng.choice('ABCS')}{500000 + i:06d}")
            vehicle = Vehicle(site_id=ctx.site, customer=customer, vin=vin, plate=random_plate(rng, nev=False),
                              model=model, mileage_km=rng.randrange(3000, 120000))
            s.add_all([customer, vehicle, QrTag(token=new_tag_token(), vehicle=vehicle, issued_at=now)])
            s.flush()
            s.add(Appointment(site_id=ctx.site, vehicle_id=vehicle.id, advisor_id=advisors[i % len(advisors)].id,
                              bay_id=bays[i % len(bays)].id, start=start, hours=Decimal(op.hours),
                              work=op.name(site.language), status="late" if start + grace <= now else "confirmed",
                              version=next_version()))


def _count(ctx: ServiceContext) -> Day:
    from shopfloor.domain.models import RepairOrder

    start_day, end_day = ctx.day_bounds(ctx.today())
    with ctx.db.read() as s:
        today = list(s.scalars(select(Appointment).where(
            Appointment.site_id == ctx.site, Appointment.start >= start_day, Appointment.start < end_day)))
        with_order = set(s.scalars(select(RepairOrder.vehicle_id).where(RepairOrder.closed_at.is_(None))))
        arrivable = [a for a in today if a.status in ("booked", "confirmed", "late") and a.vehicle_id not in with_order]
        return Day(cards=len(today), arrivable=len(arrivable))


# -- Mosquitto ----------------------------------------------------------------------------------------------


def mosquitto_password_hash(password: str, iterations: int = 101) -> str:
    """Mosquitto 2's `$7$` format (what mosquitto_passwd writes): PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte key."""
    salt = os.urandom(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def mosquitto_acl(site: str, credentials: Credentials) -> str:
    words = {Access.READ: "read", Access.WRITE: "write", Access.READWRITE: "readwrite"}
    lines = ["# generated by bench/e2e_setup.py from shopfloor.contract.access.RULES"]
    for login in credentials.logins():
        lines += ["", f"user {login.account.username}"]
        lines += [f"topic {words[access]} {filter_}" for access, filter_ in rules(login.role, site, login.printer)]
    return "\n".join(lines) + "\n"


class Mosquitto:
    """A private Mosquitto on 127.0.0.1:`port` with the data dir's accounts and the contract's ACL.

    Configured by the product's `shopfloor.broker.mosquitto.write_config` when it is there (its TLS listener
    bound to 127.0.0.1 on another free port, unused here), else by the minimal generation above. Debian's
    Mosquitto started as root drops to the user `mosquitto` before reading its files, so they go to that user
    and the directories above must be traversable by it."""

    def __init__(self, directory: Path, port: int, tls_port: int, site: str, credentials: Credentials) -> None:
        self.directory = directory
        self.port = port
        self.tls_port = tls_port
        self.site = site
        self.credentials = credentials
        self.proc: subprocess.Popen[bytes] | None = None
        self.generated_by = ""

    def write_config(self) -> Path:
        try:
            from shopfloor.broker.mosquitto import write_config
        except ImportError:
            return self._write_own_config()
        config = write_config(self.credentials, self.site, self.directory, port=self.port, tls_port=self.tls_port,
                              tls_bind=HOST, hostnames=["localhost"], addresses=[HOST])
        if config.warnings:
            raise RuntimeError("Mosquitto could not read its files: " + "; ".join(config.warnings))
        self.generated_by = "shopfloor.broker.mosquitto.write_config"
        return config.conf

    def _write_own_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "mosquitto.conf"
        passwd, acl = self.directory / "passwd", self.directory / "acl"
        passwd.write_text("".join(f"{a.username}:{mosquitto_password_hash(a.password)}\n"
                                  for a in (login.account for login in self.credentials.logins())), encoding="utf-8")
        acl.write_text(mosquitto_acl(self.site, self.credentials), encoding="utf-8")
        conf.write_text("\n".join([
            "# generated by bench/e2e_setup.py: private broker for the latency benchmark",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {passwd}",
            f"acl_file {acl}",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "set_tcp_nodelay true",
            f"listener {self.port} {HOST}",
            "",
        ]), encoding="utf-8")
        for path in (passwd, acl, conf):
            path.chmod(0o600)
        self._hand_to_mosquitto_user(passwd, acl, conf)
        self.generated_by = "bench/e2e_setup.py"
        return conf

    def _hand_to_mosquitto_user(self, *files: Path) -> None:
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam("mosquitto")
        except KeyError:
            return
        for path in (self.directory, *files):
            os.chown(path, user.pw_uid, user.pw_gid)
        self.directory.chmod(0o700)

    def start(self) -> None:
        if not Path(MOSQUITTO).exists():
            raise RuntimeError(f"{MOSQUITTO} not found (apt-get install mosquitto)")
        conf = self.write_config()
        self.log = open(self.directory.parent / "mosquitto.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for_port(self.port, 10, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(AttributeError):
            self.log.close()


@dataclass(frozen=True)
class Probe:
    event: str
    at: float
    detail: str


# -- the server ---------------------------------------------------------------------------------------------


class Server:
    """`shopfloor demo` as a subprocess (through bench/e2e_serve.py, which adds the timing probes)."""

    def __init__(self, run_dir: Path, data_dir: Path, http_port: int, mqtt_port: int, external_broker: bool,
                 extra_env: dict[str, str] | None = None) -> None:
        self.extra_env = extra_env or {}
        self.run_dir = run_dir
        self.data_dir = data_dir
        self.http_port = http_port
        self.mqtt_port = mqtt_port
        self.external_broker = external_broker
        self.probes_file = run_dir / "probes.txt"
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://{HOST}:{http_port}"

    def start(self, timeout: float = 60) -> None:
        args = [sys.executable, str(BENCH / "e2e_serve.py"), "demo", "--data-dir", str(self.data_dir),
                "--host", HOST, "--http-port", str(self.http_port)]
        if self.external_broker:
            args += ["--no-embedded-broker", "--broker", f"mqtt://{HOST}:{self.mqtt_port}"]
        else:
            args += ["--mqtt-port", str(self.mqtt_port)]
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        env["SHOPFLOOR_BENCH_PROBES"] = str(self.probes_file)
        env["NICEGUI_STORAGE_PATH"] = str(self.run_dir / "nicegui-storage")
        env.update(self.extra_env)
        self.log = open(self.run_dir / "server.log", "wb")  # noqa: SIM115
        # own working directory: NiceGUI keeps its storage files there, never in the repository
        self.proc = subprocess.Popen(args, cwd=self.run_dir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.http_port, timeout, self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: see {self.run_dir / 'server.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/api/openapi.json", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError("server did not answer HTTP in time")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def probes(self) -> list[Probe]:
        """Every probe line so far: (event, unix time, detail)."""
        if not self.probes_file.exists():
            return []
        out = []
        for line in self.probes_file.read_text(encoding="utf-8").splitlines():
            event, at, *rest = line.split(" ", 2)
            out.append(Probe(event, float(at), rest[0] if rest else ""))
        return out

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(AttributeError):
            self.log.close()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
