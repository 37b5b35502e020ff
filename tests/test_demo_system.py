"""The demo as a whole, over HTTP and MQTT: a check-in through the API prints its ticket through the printer
agent, once, with a QR code that decodes to the repair order's number."""

import time

import pytest

from shopfloor.printer.inspect import decode_raster_images, text_lines
from shopfloor.testing.plugin import DemoServer


def _waiting_tag(server: DemoServer) -> dict:
    today = server.api("/api/v1/appointments")
    return next(a for a in today if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])


def _wait_for_files(folder, count: int, timeout: float = 15.0) -> list:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.bin")) if folder.exists() else []
        if len(files) >= count:
            return files
        time.sleep(0.1)
    return sorted(folder.glob("*.bin")) if folder.exists() else []


def test_check_in_prints_the_ticket_once(demo_server: DemoServer) -> None:
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    appt = _waiting_tag(demo_server)
    folder = demo_server.data_dir / "tickets" / "reception"
    before = len(list(folder.glob("*.bin"))) if folder.exists() else 0
    status, body = demo_server.call("POST", "/api/v1/checkins",
                                    {"tag": appt["tag"], "operations": ["M10", "ACX"], "printer": "reception",
                                     "complaint": "空调不凉，出风有异味。"})
    assert status == 201, body
    number = body["repair_order"]["number"]
    files = _wait_for_files(folder, before + 1)
    assert len(files) == before + 1
    data = files[-1].read_bytes()
    lines = text_lines(data, "gb18030")
    text = "\n".join(lines)
    assert number in text and appt["customer"] in text and "10000公里保养" in text
    assert "空调不凉，出风有异味。" in text.replace("\n", "")
    codes = [pyzbar.decode(img.convert("L"))[0].data.decode() for img in decode_raster_images(data)]
    assert f"{demo_server.base}/ro/{number}" in codes  # the live order on this server
    # The agent acknowledged: the job is settled as printed, and nothing prints a second time.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        jobs = demo_server.api(f"/api/v1/repair-orders/{number}")["print_jobs"]
        if jobs and jobs[0]["status"] == "printed":
            break
        time.sleep(0.1)
    assert jobs[0]["status"] == "printed"
    # A repeated scan gives the same order and prints nothing new.
    status, again = demo_server.call("POST", "/api/v1/checkins", {"tag": appt["tag"], "printer": "reception"})
    assert status == 200 and again["repair_order"]["number"] == number
    time.sleep(1)
    assert len(list(folder.glob("*.bin"))) == before + 1


def test_reprint_on_the_gbk_printer_is_marked(demo_server: DemoServer) -> None:
    appt = _waiting_tag(demo_server)
    status, body = demo_server.call("POST", "/api/v1/checkins", {"tag": appt["tag"], "operations": ["BRK"]})
    assert status == 201
    number = body["repair_order"]["number"]
    folder = demo_server.data_dir / "tickets" / "workshop"
    before = len(list(folder.glob("*.bin"))) if folder.exists() else 0
    status, job = demo_server.call("POST", f"/api/v1/repair-orders/{number}/tickets", {"printer": "workshop"})
    assert status == 201 and job["reprint"] is False  # the order's first ticket
    status, job = demo_server.call("POST", f"/api/v1/repair-orders/{number}/tickets", {"printer": "workshop"})
    assert status == 201 and job["reprint"] is True
    files = _wait_for_files(folder, before + 2)
    first, again = ("\n".join(text_lines(f.read_bytes(), "gbk")) for f in files[-2:])
    assert "REPRINT" not in first and number in first
    assert "REPRINT" in again and number in again and "更换前刹车片" in again


def test_refused_and_unknown_moves_over_http(demo_server: DemoServer) -> None:
    appt = _waiting_tag(demo_server)
    _, body = demo_server.call("POST", "/api/v1/checkins", {"tag": appt["tag"]})
    number = body["repair_order"]["number"]
    status, refused = demo_server.call("POST", f"/api/v1/repair-orders/{number}/transitions", {"to": "delivered"})
    assert status == 409 and refused["reason"] == "unpaid" and number in refused["detail"]
    assert demo_server.call("POST", "/api/v1/repair-orders/RO20000101-001/transitions", {"to": "ready"})[0] == 404
    assert demo_server.call("POST", f"/api/v1/repair-orders/{number}/transitions", {"too": "ready"})[0] == 422
    assert demo_server.api(f"/api/v1/repair-orders/{number}")["status"] == "checked_in"
