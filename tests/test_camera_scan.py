"""Camera QR scanning at the kiosk (issue 13): Chromium's fake camera plays a video of a QR code made with
`qrcode`; the page decodes it (BarcodeDetector where the browser has one, else the vendored jsQR) and the tag
reaches the kiosk's scan handler, as a keyboard-wedge scan does. Opened over plain HTTP from another address, the
button says the camera needs HTTPS and explains why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import qrcode
from PIL import Image

from shopfloor.domain.identifiers import display_plate
from shopfloor.main import lan_address
from shopfloor.testing.browser_fixtures import TABLET, chromium
from shopfloor.testing.chromium_pages import SHOTS, first_advisor, key_in, sign_in, wait_for
from shopfloor.testing.plugin import DemoServer, start_server

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 640, 480


def qr_video(text: str, path: Path, frames: int = 10) -> Path:
    """A Y4M video (what Chromium's fake camera plays) of a QR code holding `text`, black on white."""
    qr = qrcode.QRCode(border=4, box_size=10)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    side = min(HEIGHT - 40, code.width)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(code.resize((side, side), Image.Resampling.NEAREST), ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + luma + chroma + chroma)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo listening on every interface: reached at 127.0.0.1 (a secure context) and at the LAN address."""
    demo = start_server(tmp_path_factory.mktemp("camera-demo"), "demo", "--host", "0.0.0.0")
    yield demo
    demo.stop()


@contextmanager
def camera_browser(video: Path) -> Iterator[Any]:
    with chromium(TABLET, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                  f"--use-file-for-fake-video-capture={video}") as drv:
        yield drv


def _waiting_tag(server: DemoServer) -> tuple[str, str]:
    today = server.api("/api/v1/appointments")
    waiting = next(a for a in today if a["status"] in ("booked", "confirmed", "late"))
    return waiting["plate"], waiting["tag"]


def test_the_camera_reads_a_tag_into_the_kiosk(server: DemoServer, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    plate, tag = _waiting_tag(server)
    with camera_browser(qr_video(tag, tmp_path / "tag.y4m")) as drv:
        sign_in(drv, server, first_advisor(server))
        wait_for(drv, "[data-testid=scan-hint]")
        button = wait_for(drv, "[data-testid=camera-button]", state="clickable")
        assert button.get_attribute("data-secure") is None, "127.0.0.1 is a secure context: the camera is offered"
        drv.save_screenshot(str(Path(SHOTS) / "camera-kiosk-button.png"))
        button.click()
        wait_for(drv, "[data-testid=camera-video]", state="visible")
        drv.save_screenshot(str(Path(SHOTS) / "camera-kiosk-dialog.png"))
        # the kiosk's scan handler took it: the check-in form of the car with that tag
        shown = wait_for(drv, "[data-testid=scan-plate]", timeout=20)
        assert shown.text.strip() == display_plate(plate)
        decoder = drv.execute_script("return window.shopfloorCamera.usingDetector() ? 'BarcodeDetector' : 'jsQR'")
        print(f"decoded by {decoder}")
        # the dialog closes and the camera is let go; the dialog's removal runs on after the form shows,
        # so the video is watched until it is gone or hidden with its tracks ended
        WebDriverWait(drv, 10).until(lambda d: d.execute_script(
            "const v = document.querySelector('[data-testid=camera-video]');"
            "return !v || (v.offsetParent === null && (!v.srcObject || "
            "v.srcObject.getTracks().every(t => t.readyState === 'ended')));"))
        drv.save_screenshot(str(Path(SHOTS) / "camera-kiosk-scanned.png"))


def _badge(server: DemoServer, name: str) -> str:
    """The demo technician's badge token, read from the demo's own database."""
    from shopfloor.db import Database, sqlite_url
    from shopfloor.services.workshop.services import WorkshopServices
    from shopfloor.testing.plugin import make_services

    db = Database(sqlite_url(server.data_dir / "shopfloor.sqlite3"))
    try:
        services = make_services(db)
        tech = next(t for t in services.repair_orders.technicians() if t["name"] == name)
        return WorkshopServices.on(services.ctx).clocking.badges()[tech["id"]]
    finally:
        db.dispose()


def test_the_station_signs_a_technician_in_by_the_camera(server: DemoServer, tmp_path: Path) -> None:
    technician = "陈刚"
    with camera_browser(qr_video(_badge(server, technician), tmp_path / "badge.y4m")) as drv:
        sign_in(drv, server, "郑强", "/workshop/station")  # the foreman opens the bay's station
        wait_for(drv, "[data-testid=scan-badge]")
        wait_for(drv, "[data-testid=camera-button]", state="clickable").click()
        signed = wait_for(drv, "[data-testid=bay-technician]", timeout=20)
        assert technician in signed.text
        drv.save_screenshot(str(Path(SHOTS) / "camera-station-badge.png"))


def test_the_vendored_decoder_reads_a_qr_image(server: DemoServer, tmp_path: Path) -> None:
    """jsQR on its own (the path every browser without BarcodeDetector takes), on a PNG of a QR code."""
    import base64

    text = "SFT-ABCDEFGHIJKLMNOPQRSTUVWX"
    image = qrcode.make(text)
    buffer = io.BytesIO()
    image.save(buffer)
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    with chromium(TABLET) as drv:
        sign_in(drv, server, first_advisor(server))
        wait_for(drv, "[data-testid=camera-button]")
        decoded = drv.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "window.shopfloorCamera.decodeImage(arguments[0]).then(done);", url)
        assert decoded == text
        blank = drv.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const c = document.createElement('canvas'); c.width = c.height = 64;"
            "window.shopfloorCamera.decodeImage(c.toDataURL()).then(done);")
        assert blank is None


def test_over_plain_http_from_another_address_the_button_says_https_is_needed(server: DemoServer) -> None:
    address = lan_address()
    if address.startswith("127.") or not address[0].isdigit():
        pytest.skip("this host has no LAN address to reach the server from")
    lan = DemoServer(server.base.replace("127.0.0.1", address), server.data_dir, server.credentials,
                     server.process)
    with chromium(TABLET) as drv:
        drv.get(lan.base + "/kiosk")
        name = first_advisor(lan)
        key_in(drv, name, lan.credentials["advisors"][name])
        wait_for(drv, "[data-testid=signed-in]")
        assert drv.execute_script("return window.isSecureContext") is False
        button = wait_for(drv, "[data-testid=camera-button]", state="clickable")
        assert button.get_attribute("data-secure") == "false"
        assert "HTTPS" in button.text
        drv.save_screenshot(str(Path(SHOTS) / "camera-kiosk-needs-https.png"))
        button.click()
        explained = wait_for(drv, "[data-testid=camera-https]", state="visible")
        assert "ca.crt" in explained.text
        drv.save_screenshot(str(Path(SHOTS) / "camera-kiosk-https-explained.png"))
        assert drv.execute_script("return window.shopfloorCamera.available()") is False
