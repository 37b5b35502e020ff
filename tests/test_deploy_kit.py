"""The Raspberry Pi kit (deploy/raspberry-pi/): every unit through `systemd-analyze verify`, every script through
shellcheck, the udev rules parsed, the wall screen's start script against a fake Chromium, the packaging (the
wheel holds every module, constraints.txt pins the venv), and install-server.sh run for real in a throwaway
Debian bookworm root (debootstrap, cached) up to the server answering /healthz — twice, the second run changing
nothing. Under CI=true a missing tool fails these tests instead of skipping them."""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopfloor.testing.plugin import require_service

REPO = Path(__file__).resolve().parents[1]
KIT = REPO / "deploy" / "raspberry-pi"
VENV = Path(sys.executable).parents[1]
SHELL_SCRIPTS = sorted(KIT.glob("*.sh"))
UNITS = sorted(KIT.glob("*.service"))


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    require_service(path is not None, f"{name} (apt-get install {package})")
    assert path is not None
    return path


# --- units ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_every_unit_passes_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze", "systemd")
    # verify insists that ExecStart's binary exists: the venv's path points at a stand-in here
    fake = tmp_path / "shopfloor"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    text = unit.read_text().replace("/opt/shopfloor/venv/bin/shopfloor", str(fake))
    (tmp_path / unit.name).write_text(text)
    name = unit.name.replace("@.service", "@reception.service")  # a template is verified as an instance
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / name)], capture_output=True, text=True,
                          env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"}, timeout=60)
    # unknown keys are only warnings (exit 0): any word from verify is a finding
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    assert "ProtectSystem=strict" in text and "NoNewPrivileges=true" in text and "Restart=on-failure" in text
    assert "Type=notify" in text and "User=shopfloor" in text


def test_the_mosquitto_drop_in_replaces_the_command(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze", "systemd")
    mosquitto = _tool("mosquitto", "mosquitto") if not Path("/usr/sbin/mosquitto").exists() else "/usr/sbin/mosquitto"
    # Debian's mosquitto.service, as far as the drop-in touches it
    (tmp_path / "mosquitto.service").write_text(
        f"[Unit]\nDescription=Mosquitto MQTT Broker\n[Service]\nType=notify\nNotifyAccess=main\n"
        f"ExecStart={mosquitto} -c /etc/mosquitto/mosquitto.conf\nExecReload=/bin/kill -HUP $MAINPID\n"
        f"Restart=on-failure\n[Install]\nWantedBy=multi-user.target\n")
    drop_in = tmp_path / "mosquitto.service.d"
    drop_in.mkdir()
    shutil.copy(KIT / "mosquitto.service.d" / "shopfloor.conf", drop_in / "shopfloor.conf")
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"}
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "mosquitto.service")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    # the check has teeth: without the empty ExecStart= the unit would have two commands, which verify refuses
    text = (drop_in / "shopfloor.conf").read_text()
    assert "/etc/shopfloor/mosquitto/mosquitto.conf" in text
    (drop_in / "shopfloor.conf").write_text(text.replace("ExecStart=\n", ""))
    done = subprocess.run([analyze, "verify", "--man=no", str(tmp_path / "mosquitto.service")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0 and "more than one ExecStart" in done.stderr


# The units' Type=notify and WatchdogSec= hold only if the commands speak the protocol: each one run here with a
# notify socket of the test's, as systemd would run it.
NOTIFYING = {"shopfloor-server.service": ["serve", "--http-port", "{http}", "--broker", "mqtt://127.0.0.1:{mqtt}"],
             "shopfloor-broker.service": ["broker", "--port", "{mqtt}", "--tls-port", "{tls}"],
             "shopfloor-printer-agent@.service": ["printer-agent", "reception", "--broker",
                                                  "mqtt://127.0.0.1:{mqtt}"]}


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("site")
    done = subprocess.run([str(VENV / "bin" / "shopfloor"), "init", "--data-dir", str(data), "--site-id", "t1",
                           "--site-name", "测试店", "--timezone", "Asia/Shanghai"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return data


def _notifications(sock: socket.socket, until: float, want: set[str]) -> set[str]:
    seen: set[str] = set()
    while time.monotonic() < until and not want <= seen:
        sock.settimeout(max(0.1, until - time.monotonic()))
        try:
            seen.update(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            break
    return seen


@pytest.mark.parametrize("unit", sorted(NOTIFYING), ids=lambda n: n.split(".")[0])
def test_each_units_command_sends_ready_and_the_watchdog_its_unit_expects(unit: str, site_dir: Path,
                                                                          tmp_path: Path) -> None:
    text = (KIT / unit).read_text()
    assert "Type=notify" in text
    watchdog = re.search(r"^WatchdogSec=", text, re.M) is not None
    ports = {"http": _free_port(), "mqtt": _free_port(), "tls": _free_port()}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    # as systemd starts it: none of pytest's or NiceGUI's test variables (NiceGUI's screen test port, say)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NICEGUI", "PYTEST"))}
    env.update(NOTIFY_SOCKET=str(tmp_path / "notify"), WATCHDOG_USEC="2000000")
    broker = None
    if unit != "shopfloor-broker.service":  # the others want a broker to talk to, as on a site
        broker = subprocess.Popen([str(VENV / "bin" / "shopfloor"), "broker", "--data-dir", str(site_dir), "--port",
                                   str(ports["mqtt"]), "--no-tls"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    args = [a.format(**ports) for a in NOTIFYING[unit]]
    command = subprocess.Popen([str(VENV / "bin" / "shopfloor"), *args, "--data-dir", str(site_dir)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        seen = _notifications(sock, time.monotonic() + 60, {"READY=1"})
        if "READY=1" not in seen:
            command.terminate()
            pytest.fail(f"{unit}: no READY=1 within 60 s; its output:\n{command.communicate(timeout=30)[1][-3000:]}")
        if watchdog:
            assert "WATCHDOG=1" in _notifications(sock, time.monotonic() + 5, {"WATCHDOG=1"}), \
                f"{unit} has WatchdogSec= but its command sends no WATCHDOG=1: systemd would restart it"
    finally:
        for process in (command, broker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        sock.close()


# --- scripts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_every_script_passes_shellcheck(script: Path) -> None:
    shellcheck = _tool("shellcheck", "shellcheck")
    done = subprocess.run([shellcheck, "-x", "--shell=bash", "--severity=style", script.name], cwd=KIT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = script.read_text()
    if not text.startswith("# shellcheck shell=bash"):  # common.sh is sourced, not run
        assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
        assert os.access(script, os.X_OK), f"{script.name} is not executable"


# --- udev -------------------------------------------------------------------------------------------------

_UDEV_KEYS = {"ACTION", "KERNEL", "SUBSYSTEM", "DRIVER", "ATTR", "ATTRS", "KERNELS", "SUBSYSTEMS", "DRIVERS",
              "ENV", "TAG", "SYMLINK", "GROUP", "MODE", "OWNER"}
_UDEV_PAIR = re.compile(r'\s*([A-Z]+)(?:\{([A-Za-z0-9_.-]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"\\]*)"\s*')


def udev_rule(line: str) -> list[tuple[str, str, str, str]]:
    """A udev rule line's key-operator-value pairs, as udev(7) spells them; ValueError when it does not."""
    pairs, pos = [], 0
    while pos < len(line):
        m = _UDEV_PAIR.match(line, pos)
        if not m or m.group(1) not in _UDEV_KEYS:
            raise ValueError(f"not a udev key=value at column {pos}: {line[pos:]!r}")
        pairs.append((m.group(1), m.group(2) or "", m.group(3), m.group(4)))
        pos = m.end()
        if pos < len(line):
            if line[pos] != ",":
                raise ValueError(f"expected ',' at column {pos}: {line[pos:]!r}")
            pos += 1
    matches = [p for p in pairs if p[2] in ("==", "!=")]
    if not matches or not any(p[2] not in ("==", "!=") for p in pairs):
        raise ValueError(f"a rule needs a match and an assignment: {line!r}")
    return pairs


def test_the_udev_rules_parse() -> None:
    lines = [line for line in (KIT / "99-shopfloor-printers.rules").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines
    for line in lines:
        pairs = udev_rule(line)
        assert ("SYMLINK", "", "+=", "shopfloor/printer-$attr{serial}") in pairs
    with pytest.raises(ValueError):
        udev_rule('SUBSYSTEM=="usbmisc", SYMLINK+="x" GROUP="lp"')  # a missing comma
    with pytest.raises(ValueError):
        udev_rule('SUBSYSTEM=="usbmisc", SYMLNK+="x"')


def _fake_udevadm(tmp_path: Path, properties: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    udevadm = bin_dir / "udevadm"
    udevadm.write_text(f"#!/bin/sh\n[ \"$1 $2\" = 'info --query=property' ] || exit 2\ncat <<'EOF'\n{properties}EOF\n")
    udevadm.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_the_udev_helper_prints_the_line_for_an_attached_printer(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    device.touch()
    helper = str(KIT / "printer-udev-rule.sh")
    env = _fake_udevadm(tmp_path, "DEVNAME=/dev/usb/lp0\nSUBSYSTEM=usbmisc\nID_VENDOR_ID=04b8\nID_MODEL_ID=0202\n"
                                  "ID_SERIAL_SHORT=X5DS012345\n")
    done = subprocess.run([helper, str(device)], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert ("SYMLINK", "", "+=", "shopfloor/printer-X5DS012345") in udev_rule(line)
    assert ("ATTRS", "idVendor", "==", "04b8") in udev_rule(line) and ("GROUP", "", "=", "lp") in udev_rule(line)

    env = _fake_udevadm(tmp_path, "SUBSYSTEM=tty\nID_VENDOR_ID=067b\nID_MODEL_ID=2303\n")
    done = subprocess.run([helper, str(device)], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 1 and "no serial number: give --name NAME" in done.stderr
    done = subprocess.run([helper, "--name", "reception", str(device)], capture_output=True, text=True, env=env,
                          timeout=30)
    pairs = udev_rule(done.stdout.strip())
    assert ("SYMLINK", "", "+=", "shopfloor/printer-reception") in pairs and ("GROUP", "", "=", "dialout") in pairs

    env = _fake_udevadm(tmp_path, "SUBSYSTEM=block\n")
    done = subprocess.run([helper, str(device)], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 1 and "not a USB device" in done.stderr


# --- the wall screen's start script -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_wall_screen_waits_for_healthz_and_opens_without_a_restore_bar(tmp_path: Path) -> None:
    _tool("curl", "curl")
    _tool("flock", "util-linux")
    up_at: list[float] = []

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            healthy = bool(up_at) and self.path == "/healthz"
            self.send_response(200 if healthy else 503)
            self.end_headers()
            self.wfile.write(b'{"database": true}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Chromium left its profile marked as crashed (a power cut)
    prefs = tmp_path / "profile" / "Default" / "Preferences"
    prefs.parent.mkdir(parents=True)
    prefs.write_text('{"profile":{"exit_type":"Crashed","exited_cleanly":false,"name":"x"}}')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chromium").write_text(f'#!/bin/sh\ndate +%s.%N > {tmp_path}/opened\n'
                                      f'printf "%s\\n" "$@" > {tmp_path}/args\nexit 0\n')
    (bin_dir / "chromium").chmod(0o755)
    url = f"http://127.0.0.1:{server.server_port}/board/progress?token=abc"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
           "SHOPFLOOR_URL": url, "SHOPFLOOR_PROFILE": str(tmp_path / "profile"), "SHOPFLOOR_ONCE": "1"}
    try:
        started = subprocess.Popen([str(KIT / "wall-screen.sh")], env=env, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        assert not (tmp_path / "opened").exists(), "Chromium opened before /healthz answered"
        up_at.append(time.time())
        _, err = started.communicate(timeout=30)
    finally:
        server.shutdown()
    assert started.returncode == 0, err
    assert "waiting for http://127.0.0.1:" in err
    assert float((tmp_path / "opened").read_text()) >= up_at[0]
    args = (tmp_path / "args").read_text().splitlines()
    assert args[-1] == url
    assert {"--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble", f"--user-data-dir={tmp_path}/profile"} \
        <= set(args)
    assert json.loads(prefs.read_text())["profile"] == {"exit_type": "Normal", "exited_cleanly": True, "name": "x"}


# --- packaging --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make dist` in a copy of the work tree (the tests write nothing into the repository)."""
    src = tmp_path_factory.mktemp("src")
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"],
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    # -o: the venv is the one these tests run in, not one to set up again
    done = subprocess.run(["make", "-C", str(src), f"VENV={VENV}", "-o", f"{VENV}/.installed", "dist"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = list((src / "dist").glob("shopfloor-*-py3-none-any.whl"))
    assert len(wheels) == 1 and list((src / "dist").glob("shopfloor-*.tar.gz"))
    return wheels[0]


def _source_modules() -> set[str]:
    """Every module of the tree as the wheel names it (shopfloor/…, with kiosk/ as shopfloor/kiosk/ etc.)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    mapped = pyproject["tool"]["setuptools"]["package-dir"]
    out = set()
    for package, folder in mapped.items():
        for path in (REPO / folder).rglob("*.py"):
            relative = path.relative_to(REPO / folder)
            if "__pycache__" in relative.parts or (package == "shopfloor" and relative.parts[0] in
                                                    [m.split(".")[1] for m in mapped if m != "shopfloor"]):
                continue
            out.add("/".join([*package.split("."), *relative.parts]))
    return out


def test_the_wheel_holds_every_module_and_the_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    # a package missing from [tool.setuptools] packages would install a server that fails at its first import
    missing = sorted(_source_modules() - names)
    assert missing == [], f"not in the wheel (add their packages to pyproject.toml): {missing}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "shopfloor/locales/zh-CN/setup.toml" in names


def test_constraints_pin_the_venv_the_tests_run_in() -> None:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    stale = {name: (version, importlib.metadata.version(name)) for name, version in pins.items()
             if _installed(name) and importlib.metadata.version(name) != version}
    assert stale == {}, f"constraints.txt is not the venv's (pinned, installed): {stale}; run `make constraints`"
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    unpinned = [d for d in declared if re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[ ;]", d)[0]).lower() not in pins]
    assert unpinned == [], f"runtime dependencies without a pin in constraints.txt: {unpinned}"


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# --- the install test: install-server.sh in a throwaway Debian root -----------------------------------------

CACHE = Path(os.environ.get("SHOPFLOOR_DEBOOTSTRAP_CACHE", Path.home() / ".cache" / "shopfloor-debootstrap"))
MIRROR = os.environ.get("SHOPFLOOR_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def _base_tarball() -> Path:
    """A debootstrap of bookworm (minbase), made once and kept as a tarball: a rerun unpacks it in seconds."""
    tarball = CACHE / "bookworm-minbase.tar.gz"
    if tarball.exists():
        return tarball
    debootstrap = _tool("debootstrap", "debootstrap")
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / "bootstrap.tmp"
    shutil.rmtree(work, ignore_errors=True)
    done = subprocess.run([debootstrap, "--variant=minbase", "bookworm", str(work), MIRROR], capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, f"debootstrap failed (network? {MIRROR}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    subprocess.run(["tar", "-C", str(work), "--numeric-owner", "-czf", f"{tarball}.part", "."], check=True,
                   timeout=600)
    os.replace(f"{tarball}.part", tarball)
    shutil.rmtree(work)
    return tarball


def _wheelhouse(wheel: Path) -> Path:
    """The wheel's dependencies at the pinned versions, downloaded once: the installer takes them with
    --find-links (as a site without the internet would)."""
    house = CACHE / "wheelhouse"
    house.mkdir(parents=True, exist_ok=True)
    # pip download copies our own wheel in too; a copy left from an earlier build (same version, other
    # dependencies) would stand for this one and hide a dependency the house lacks
    for ours in house.glob("shopfloor-*"):
        ours.unlink()
    pip = [str(VENV / "bin" / "pip"), "download", "--quiet", "-c", str(REPO / "constraints.txt"), str(wheel),
           "-d", str(house)]
    if subprocess.run([*pip, "--no-index", "--find-links", str(house)], capture_output=True, timeout=300).returncode:
        done = subprocess.run(pip, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    return house


def _mounts_under(root: Path) -> list[str]:
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4].startswith(str(root))]


@pytest.fixture
def debian_root(tmp_path: Path) -> Iterator[Path]:
    require_service(os.geteuid() == 0, "root (debootstrap and chroot)")
    _tool("unshare", "util-linux")
    tarball = _base_tarball()
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xzf", str(tarball)], check=True, timeout=600)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    yield root
    # the mounts lived in the test's own mount namespace; never delete through one that outlived it
    assert _mounts_under(root) == []
    shutil.rmtree(root)


INSIDE = r"""
set -u
kit=/mnt/src/deploy/raspberry-pi
args=(--wheel "/mnt/dist/$WHEEL" --constraints /mnt/src/constraints.txt --find-links /mnt/wheelhouse
      --site-id t1 --site-name 测试店 --timezone Asia/Shanghai)
# this host's settings, as a site would edit them: free ports (the machine running the test has its own 1883)
printf '%s\n' "SHOPFLOOR_SERVE_ARGS=\"--http-port $PORT --broker mqtt://127.0.0.1:$MQTT\"" \
  "SHOPFLOOR_BROKER_ARGS=\"--port $MQTT --tls-port $TLS\"" >/etc/default/shopfloor
manifest() {  # what an installer writes, and when: a rewrite with the same content shows too
  find /etc /opt/shopfloor /usr/local /var/lib/shopfloor/site.toml /var/lib/shopfloor/credentials.toml \
    -xdev -printf '%p %m %u:%g %s %T@\n' 2>/dev/null | grep -v '^/etc/ld.so.cache ' | sort
}
echo "== without systemd and without the flag"
"$kit/install-server.sh" "${args[@]}"; echo "== rc=$?"
export SHOPFLOOR_NO_SYSTEMCTL=1 SHOPFLOOR_START_DIRECT=1
echo "== first run"
"$kit/install-server.sh" "${args[@]}"; echo "== rc=$?"
manifest >/tmp/first
echo "== second run"
"$kit/install-server.sh" "${args[@]}"; echo "== rc=$?"
manifest >/tmp/second
echo "== changed by the second run"
diff /tmp/first /tmp/second && echo "(nothing)"
echo "== printer"
# the printer's host role on the same machine: its own credentials file from the server's command
runuser -u shopfloor -- /opt/shopfloor/venv/bin/shopfloor printer-credentials reception --data-dir /var/lib/shopfloor \
  --broker "mqtt://127.0.0.1:$MQTT" --out /var/lib/shopfloor/reception.toml >/dev/null
printer_args=(reception --credentials /var/lib/shopfloor/reception.toml --wheel "/mnt/dist/$WHEEL"
              --constraints /mnt/src/constraints.txt --find-links /mnt/wheelhouse)
"$kit/install-printer.sh" "${printer_args[@]}"; echo "printer rc=$?"
manifest >/tmp/third
"$kit/install-printer.sh" "${printer_args[@]}"; echo "printer rc=$?"
manifest >/tmp/fourth
diff /tmp/third /tmp/fourth && echo "(nothing changed by the second run)"
stat -c '%n %a %U' /etc/shopfloor/printer-reception.toml /etc/udev/rules.d/99-shopfloor-printers.rules \
  /etc/systemd/system/shopfloor-printer-agent@.service
echo "== healthz"
for _ in $(seq 60); do  # the server answers before its broker connection is up
  body=$(curl -fsS "http://127.0.0.1:$PORT/healthz")
  case $body in *'"broker":true'*) break ;; esac
  sleep 1
done
echo "$body"
echo "== units"
ls /etc/systemd/system
"""


def test_install_server_in_a_debian_root_serves_healthz_and_a_second_run_changes_nothing(
        debian_root: Path, wheel: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    house = _wheelhouse(wheel)
    archives = CACHE / "apt-archives"
    (archives / "partial").mkdir(parents=True, exist_ok=True)
    for folder in ("src", "dist", "wheelhouse"):
        (debian_root / "mnt" / folder).mkdir(parents=True, exist_ok=True)
    port, mqtt, tls = _free_port(), _free_port(), _free_port()
    # a private mount and PID namespace: the mounts and the server started inside end with it
    outside = (f"set -e; r={debian_root}\n"
               f"mount --bind {REPO} $r/mnt/src; mount -o remount,bind,ro $r/mnt/src\n"
               f"mount --bind {wheel.parent} $r/mnt/dist; mount --bind {house} $r/mnt/wheelhouse\n"
               f"mount --bind {archives} $r/var/cache/apt/archives\n"
               "mount -t proc proc $r/proc\n"
               # POSIX semaphores (the server's process pool) live in /dev/shm, a tmpfs on a real system
               "mkdir -p $r/dev/shm; mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm\n"
               "exec chroot $r /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
               f"HOME=/root LANG=C.UTF-8 WHEEL={wheel.name} PORT={port} MQTT={mqtt} TLS={tls} "
               '/bin/bash -c "$INSIDE"\n')
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "bash", "-c",
                           outside], capture_output=True, text=True, timeout=1500,
                          env={**os.environ, "INSIDE": INSIDE})
    seconds = time.monotonic() - started
    log = done.stdout + done.stderr
    print(f"install test: {seconds:.0f} s")
    if done.returncode or os.environ.get("SHOPFLOOR_INSTALL_LOG"):
        print(log)
    assert done.returncode == 0, log[-6000:]
    sections = dict(re.findall(r"^== ([^\n]+)\n(.*?)(?=^== |\Z)", done.stdout, re.S | re.M))
    # refused without the flag when systemd is not PID 1, and says why
    assert "systemd is not PID 1 here" in done.stderr and "SHOPFLOOR_NO_SYSTEMCTL=1" in done.stderr
    assert done.stdout.count("== rc=") == 3
    rcs = re.findall(r"== rc=(\d+)", done.stdout)
    assert rcs == ["1", "0", "0"], log[-6000:]
    assert "SHOPFLOOR_NO_SYSTEMCTL=1: the units are installed but not enabled or started" in done.stderr
    assert "making the site t1" in done.stderr and "site in /var/lib/shopfloor kept as it is" in done.stderr
    assert sections["changed by the second run"].strip() == "(nothing)", sections["changed by the second run"]
    health = json.loads(sections["healthz"])
    assert {"database", "broker", "outbox_pending"} <= set(health)
    assert (health["database"], health["broker"]) == (True, True)  # the broker the installer started
    assert {"shopfloor-server.service", "shopfloor-broker.service"} <= set(sections["units"].split())
    printer = sections["printer"]
    assert printer.count("printer rc=0") == 2 and "(nothing changed by the second run)" in printer, printer
    assert "/etc/shopfloor/printer-reception.toml 600 shopfloor" in printer
    assert "/etc/udev/rules.d/99-shopfloor-printers.rules 644 root" in printer
    assert "not enabling (no systemctl): shopfloor-printer-agent@reception.service" in done.stderr
