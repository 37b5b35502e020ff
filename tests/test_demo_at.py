"""`shopfloor demo --at "YYYY-MM-DD HH:MM"`: the demo runs as if it were that moment of the site's time, and its
data is laid around that day. The site here speaks English, so the same server shows that NiceGUI's own
widgets (Quasar's language pack) follow the site's language."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from shopfloor import settings as settings_mod
from shopfloor.testing.plugin import DemoServer, start_server

AT = "2026-03-10 10:30"  # a Tuesday
DAY = date(2026, 3, 10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    folder = tmp_path_factory.mktemp("demo-at")
    config = folder / "site-en.toml"
    text = settings_mod.demo_config_path().read_text(encoding="utf-8")
    config.write_text(re.sub(r'(?m)^language = "zh-CN"', 'language = "en"', text, count=1), encoding="utf-8")
    assert settings_mod.load(config).site.language == "en"
    srv = start_server(folder, "demo", "--at", AT, "--config", str(config))
    yield srv
    srv.stop()


def test_the_demo_is_laid_around_that_moment(server: DemoServer) -> None:
    today = server.api("/api/v1/appointments")
    assert today and {a["start"][:10] for a in today} == {DAY.isoformat()}
    # the cars due well before 10:30 are here or late already; the afternoon's are still to come
    assert any(a["status"] in ("arrived", "late") for a in today if a["start"][11:16] < "09:30")
    assert all(a["status"] in ("booked", "confirmed") for a in today if a["start"][11:16] > "11:00")
    assert server.api("/api/v1/capacity")["day"] == DAY.isoformat()
    ahead = server.api(f"/api/v1/capacity?day={(DAY + timedelta(days=1)).isoformat()}")
    assert ahead["appointments"] > 0  # the week ahead is booked from that day on


def test_the_servers_clock_says_that_moment(server: DemoServer) -> None:
    banner = (Path(server.data_dir) / "server.log").read_text(encoding="utf-8")
    shown = re.search(r"Site clock\s+(\d{4}-\d\d-\d\d \d\d:\d\d)", banner)
    assert shown is not None, banner[-2000:]
    assert timedelta(0) <= datetime.fromisoformat(shown.group(1)) - datetime.fromisoformat(AT) <= timedelta(
        minutes=2)
    plate = server.api("/api/v1/appointments")[0]["plate"]

    def book(hhmm: str) -> int:
        status, _ = server.call("POST", "/api/v1/appointments", {
            "plate": plate, "start": f"{DAY.isoformat()}T{hhmm}:00+08:00", "hours": 0.5, "skill": "maintenance",
            "work": "check", "override": {"reason": "test"}})
        return status

    assert book("10:00") == 422  # in the past for the server
    assert book("16:45") == 201


def test_quasar_speaks_the_sites_language(server: DemoServer) -> None:
    with urllib.request.urlopen(server.base + "/kiosk", timeout=10) as response:
        page = response.read().decode()
    assert "/static/lang/en-US.umd.prod.js" in page and "zh-CN.umd" not in page
