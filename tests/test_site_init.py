"""`shopfloor init`: an empty site whose manager's one-time PIN is printed once and stored nowhere in plain text
(every file under the data directory searched, the SQLite database and its WAL included, also after the server
ran); a second init and bad arguments refused with exit 2 and nothing written; `shopfloor serve` starts on the new
site and the manager signs in with the printed PIN."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shopfloor import cli
from shopfloor import settings as settings_mod
from shopfloor.clock import Clock
from shopfloor.contract.staff import StaffRole
from shopfloor.db import Database, sqlite_url
from shopfloor.domain.models import Advisor, AuditEntry, Site
from shopfloor.ports import free_port
from shopfloor.services.auth import AuthService
from shopfloor.services.context import ServiceContext
from shopfloor.services.staff_pins import PinService
from shopfloor.testing.chromium_pages import SHOTS, key_in, wait_for
from shopfloor.testing.plugin import start_server


def _init(data_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = cli.main(["init", "--data-dir", str(data_dir), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def _printed_pin(out: str) -> str:
    pins = re.findall(r"One-time PIN\s+(\d+)", out)
    assert len(pins) == 1, out
    return pins[0]


def _files_holding(data_dir: Path, pin: str) -> list[Path]:
    """Every file under the folder whose bytes hold the PIN as text (ASCII/UTF-8 or UTF-16, as SQLite may store)."""
    needles = [pin.encode(), pin.encode("utf-16-le"), pin.encode("utf-16-be")]
    return [path for path in data_dir.rglob("*")
            if path.is_file() and any(needle in path.read_bytes() for needle in needles)]


def _snapshot(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}


def _site_db(data_dir: Path) -> tuple[Database, ServiceContext]:
    settings = settings_mod.load(data_dir / "site.toml")
    db = Database(sqlite_url(data_dir / "shopfloor.sqlite3"))
    return db, ServiceContext(db, settings, Clock())


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str, str]:
    data_dir = tmp_path / "bj01"
    code, out, err = _init(data_dir, capsys, "--site-id", "bj01", "--site-name", "北京朝阳 \"星辰\" 4S店",
                           "--timezone", "Asia/Shanghai")
    assert code == 0, err
    return data_dir, _printed_pin(out), out


def test_init_makes_an_empty_site_whose_pin_is_nowhere_in_plain_text(site: tuple[Path, str, str]) -> None:
    data_dir, pin, out = site
    assert len(pin) == 6
    assert f"serve --data-dir {data_dir}" in out and "/setup" in out and "reception" in out
    # without an agent nothing prints: the step is there, and what the placeholder does with a ticket
    assert f"shopfloor printer-agent reception --data-dir {data_dir}" in out
    assert "writes each ticket as a file" in out
    assert {p.name for p in data_dir.iterdir()} >= {"site.toml", "credentials.toml", "shopfloor.sqlite3"}
    assert not _files_holding(data_dir, pin)

    settings = settings_mod.load(data_dir / "site.toml")
    assert (settings.site.id, settings.site.name, settings.site.timezone, settings.site.language) == (
        "bj01", "北京朝阳 \"星辰\" 4S店", "Asia/Shanghai", "zh-CN")
    assert [(p.name, p.transport) for p in settings.printers] == [("reception", "file")]
    assert settings.printers[0].label == "前台（占位：请在 /setup 设置）"  # the site's language

    path = data_dir / "credentials.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# shopfloor credentials")
    data = tomllib.loads(text)
    assert set(data) == {"api", "boards", "broker", "mqtt"}  # no [advisors]: no staff PIN in the file
    assert set(data["mqtt"]) == {"server", "board", "lounge", "printer"}
    assert set(data["mqtt"]["printer"]) == {"reception"}

    db, ctx = _site_db(data_dir)
    try:
        with db.read() as s:
            assert [site.id for site in s.scalars(select(Site))] == ["bj01"]
            staff = list(s.scalars(select(Advisor)))
            audit = [(a.action, a.actor) for a in s.scalars(select(AuditEntry))]
        assert len(staff) == 1
        manager = staff[0]
        assert (manager.name, manager.code, manager.role_set, manager.pin_must_change) == (
            "经理", "M", frozenset({StaffRole.MANAGER}), True)
        assert manager.pin_hash.startswith("$argon2id$")
        assert audit == [("pin_reset", "shopfloor init")]
        assert AuthService(ctx).login(manager.id, pin).name == "经理"
        assert PinService(ctx).must_change(manager.id)
    finally:
        db.dispose()


def test_a_second_init_is_refused_and_changes_nothing(site: tuple[Path, str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data_dir, _, _ = site
    before = _snapshot(data_dir)
    code, out, err = _init(data_dir, capsys, "--site-id", "other", "--site-name", "Other", "--language", "en")
    assert code == 2 and "already holds a site" in err and "One-time PIN" not in out
    assert _snapshot(data_dir) == before
    # a folder with only the database (its configuration lost) is a site too
    (data_dir / "site.toml").unlink()
    (data_dir / "credentials.toml").unlink()
    code, _, err = _init(data_dir, capsys, "--site-id", "other", "--site-name", "Other")
    assert code == 2 and "shopfloor.sqlite3" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--site-id", "bj 01", "--site-name", "x"], "site.id"),
    (["--site-id", "x" * 33, "--site-name", "x"], "site.id"),
    (["--site-id", "bj01", "--site-name", "x", "--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["--site-id", "bj01", "--site-name", "   "], "--site-name"),
    (["--site-id", "bj01", "--site-name", "x", "--manager", "\x1b[2J"], "--manager"),
])
def test_bad_arguments_are_refused_and_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          args: list[str], message: str) -> None:
    data_dir = tmp_path / "site"
    code, out, err = _init(data_dir, capsys, *args)
    assert code == 2 and message in err and "One-time PIN" not in out
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_an_english_site_with_a_named_manager(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "site"
    code, out, err = _init(data_dir, capsys, "--site-id", "lon-1", "--site-name", "Docklands", "--timezone",
                           "Europe/London", "--language", "en", "--manager", "Ann Lee")
    assert code == 0, err
    assert "Ann Lee" in out and not _files_holding(data_dir, _printed_pin(out))
    settings = settings_mod.load(data_dir / "site.toml")
    assert settings.site.language == "en"
    assert settings.printers[0].label == "Reception (placeholder: set at /setup)"


def _broker_in_credentials(data_dir: Path) -> dict[str, object]:
    broker: dict[str, object] = tomllib.loads((data_dir / "credentials.toml").read_text(encoding="utf-8"))["broker"]
    return broker


def test_mosquitto_config_records_its_listener_for_serve(site: tuple[Path, str, str],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    data_dir, _, _ = site
    assert _broker_in_credentials(data_dir) == {"host": "127.0.0.1", "port": 1883}  # init's default, not recorded
    port = free_port()
    code = cli.main(["mosquitto-config", "--data-dir", str(data_dir), "--out", str(data_dir.parent / "mosq"),
                     "--port", str(port)])
    out = capsys.readouterr().out
    assert code == 0
    assert _broker_in_credentials(data_dir) == {"host": "127.0.0.1", "port": port, "set_by": "mosquitto-config"}
    assert f"[broker] set to mqtt://127.0.0.1:{port} (was mqtt://127.0.0.1:1883)" in out


def _start_broker(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "shopfloor.cli", "broker", "--data-dir", str(data_dir), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})


def test_the_broker_records_its_port_and_names_its_own_flag_when_the_port_is_taken(
        site: tuple[Path, str, str]) -> None:
    data_dir, _, _ = site
    port = free_port()
    first = _start_broker(data_dir, "--port", str(port), "--no-tls")
    try:
        assert first.stdout is not None
        banner = ""
        while "[broker]" not in banner and first.poll() is None:  # the log's "listening" line, then the banner
            banner += first.stdout.readline()
        assert "MQTT broker for site bj01 on" in banner, banner
        assert f"[broker] set to mqtt://127.0.0.1:{port}" in banner
        assert _broker_in_credentials(data_dir) == {"host": "127.0.0.1", "port": port, "set_by": "broker"}
        second = _start_broker(data_dir, "--port", str(port), "--no-tls")
        out, _ = second.communicate(timeout=30)
        assert second.returncode == 2
        assert "choose another with --port" in out and "--mqtt-port" not in out
    finally:
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=15) == 0


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_runs_on_the_new_site_and_the_manager_signs_in(site: tuple[Path, str, str]) -> None:
    data_dir, pin, _ = site
    # no broker on this port: the server starts anyway, and state changes wait in the outbox
    server = start_server(data_dir, "serve", "--broker", f"mqtt://127.0.0.1:{free_port()}")
    try:
        for page in ("/kiosk", "/setup", "/board/appointments", "/lounge"):
            assert _get(server.base + page)[0] == 200, page
        status, body = _get(server.base + "/healthz")
        if status != 404:  # /healthz is another part of issue 13: checked once it is there
            health = json.loads(body)
            assert status == 200 and {"database", "broker", "outbox_pending"} <= set(health)
        db, ctx = _site_db(data_dir)
        try:
            manager = AuthService(ctx).advisors()[0]
            assert AuthService(ctx).login(manager.id, pin).id == manager.id
        finally:
            db.dispose()
        assert not _files_holding(data_dir, pin)
        # a second server on this folder refuses, and says why in the log the running one writes (no start of its own)
        second = subprocess.run([sys.executable, "-m", "shopfloor.cli", "serve", "--data-dir", str(data_dir), "--host",
                                 "127.0.0.1", "--http-port", str(free_port()), "--broker", "mqtt://127.0.0.1:1"],
                                capture_output=True, text=True, timeout=120,
                                env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
        assert second.returncode == 2 and "cannot start" in second.stderr, second.stderr
    finally:
        assert server.stop(sig=signal.SIGTERM)  # as systemd stops it
    assert not _files_holding(data_dir, pin)  # nor after the server wrote its last
    lines = (data_dir / "logs" / "shopfloor.log").read_text(encoding="utf-8").splitlines()
    starting = [line for line in lines if "starting site bj01" in line]
    assert len(starting) == 1 and f" on {server.base}; " in starting[0]  # the address and port it listens on
    assert [line for line in lines if "ERROR   shopfloor: cannot start: " in line and "is running on" in line]
    assert any(line.endswith("INFO    shopfloor.main: stopping (SIGTERM)") for line in lines)


def _status_as(driver: Any, url: str) -> int:
    """The HTTP status `url` answers with this browser's cookies (its staff session)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookies}), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_the_first_manager_chooses_a_pin_in_chromium(site: tuple[Path, str, str], driver: Any) -> None:
    """At a tablet's 1280×800: /setup, the keypad, the printed PIN, the dialog nothing gets past, their own PIN."""
    from selenium.webdriver.common.by import By

    data_dir, pin, _ = site
    server = start_server(data_dir, "serve", "--broker", f"mqtt://127.0.0.1:{free_port()}")
    try:
        driver.get(server.base + "/setup")
        key_in(driver, "经理", pin)
        dialog = wait_for(driver, "[data-testid=pin-change]", state="visible")
        time.sleep(0.5)  # the dialog's opening transition
        driver.save_screenshot(str(Path(SHOTS) / "init-forced-pin-1280x800.png"))
        assert "请设置您自己的 PIN 码" in dialog.text
        # the plain routes a signed-in browser opens (PDFs, photos) are shut too until the PIN is their own
        pdf = server.base + "/documents/settlement-list/RO-NONE.pdf"
        assert _status_as(driver, pdf) == 403
        for field, value in (("pin-current", pin), ("pin-new", "2580"), ("pin-repeat", "2580")):
            # (Quasar puts the attribute on the native input)
            driver.find_element(By.CSS_SELECTOR, f"input[data-testid={field}]").send_keys(value)
        driver.find_element(By.CSS_SELECTOR, "[data-testid=pin-save]").click()
        wait_for(driver, "[data-testid=signed-in]")
        deadline = time.monotonic() + 15
        while driver.find_elements(By.CSS_SELECTOR, "[data-testid=pin-change]") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid=pin-change]")
        assert "/setup" in driver.current_url
        assert _status_as(driver, pdf) == 404  # let in: there is no such order
        time.sleep(0.5)
        driver.save_screenshot(str(Path(SHOTS) / "init-setup-after-pin-1280x800.png"))
        # "change my PIN" from the header's menu: the same form, which may be cancelled
        driver.find_element(By.CSS_SELECTOR, "[data-testid=me-menu]").click()
        wait_for(driver, "[data-testid=change-pin]", state="clickable").click()
        mine = wait_for(driver, "[data-testid=pin-change]", state="visible")
        time.sleep(0.5)
        driver.save_screenshot(str(Path(SHOTS) / "change-my-pin-1280x800.png"))
        assert "修改我的 PIN 码" in mine.text
        driver.find_element(By.CSS_SELECTOR, "[data-testid=pin-cancel]").click()
        db, ctx = _site_db(data_dir)
        try:
            manager = AuthService(ctx).advisors()[0]
            assert not PinService(ctx).must_change(manager.id)
            assert AuthService(ctx).login(manager.id, "2580").id == manager.id
        finally:
            db.dispose()
    finally:
        assert server.stop()
    assert not _files_holding(data_dir, pin)
