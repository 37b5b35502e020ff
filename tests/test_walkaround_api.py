"""The walkaround's and the order photos' API (issue 11's contract) on SQLite and PostgreSQL: a walkaround posted and
read back, 422 naming the field, a red item proposed as a job line (201, then 409), photos uploaded (201 {id, url}),
415 for a renamed text file, 413 for a 30 MB upload (from the route, and from the server's body limit before the
route reads a byte), the token's name on every audit row."""

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken
from shopfloor.domain.models import AuditEntry, QrTag, RepairOrder
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.settings import WebSettings
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.photos import jpeg
from shopfloor.testing.plugin import ON_BOTH_DATABASES, DemoServer, Services
from shopfloor.web import security
from shopfloor.web.request_limits import MULTIPART_OVERHEAD

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
ADVISOR = ApiToken("reception-tablet", "tablet-token", frozenset({StaffRole.ADVISOR}))
TECHNICIAN = ApiToken("bay-3", "bay-token", frozenset({StaffRole.TECHNICIAN}))
MB = 1024 * 1024


@pytest.fixture
def app(services: Services) -> FastAPI:
    return api_app(services.ctx, "integrator", ADVISOR, TECHNICIAN)


@pytest.fixture
def tablet(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Authorization": f"Bearer {ADVISOR.token}"}) as client:
        yield client


def new_order(tablet: TestClient, services: Services, *operations: str) -> str:
    with services.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    r = tablet.post(f"{API}/checkins", json={"tag": tag, "operations": list(operations)})
    assert r.status_code == 201, r.text
    return str(r.json()["repair_order"]["number"])


def upload(client: TestClient, number: str, data: bytes, name: str = "photo.jpg",
           content_type: str = "image/jpeg") -> Any:
    return client.post(f"{API}/repair-orders/{number}/photos", files={"file": (name, data, content_type)})


def body(**extra: Any) -> dict[str, Any]:
    return {"mileage_km": None, "fuel_eighths": 5, "protection_kit": True, "valuables_taken": True,
            "items": {"warning_lamps": {"status": "red", "note": "发动机故障灯亮"}, "brake_pad_front": {"value": 1.8},
                      "tyre_tread_rr": {"value": 4.2}},
            "marks": [{"position": "front", "kind": "scratch", "x": 0.5, "y": 0.05, "note": "前保险杠"},
                      {"position": "right_side", "kind": "dent", "x": 0.97, "y": 0.4}], **extra}


def test_a_walkaround_is_posted_and_read_back(tablet: TestClient, services: Services) -> None:
    number = new_order(tablet, services, "M10")
    assert tablet.get(f"{API}/repair-orders/{number}/walkaround").status_code == 404
    photo = upload(tablet, number, jpeg(800, 600))
    assert photo.status_code == 201, photo.text
    assert {"id", "url"} <= set(photo.json()) and photo.json()["url"].startswith("/photos/")
    sent = body()
    sent["marks"][1]["photo"] = photo.json()["id"]
    r = tablet.post(f"{API}/repair-orders/{number}/walkaround", json=sent)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["repair_order"], got["fuel_eighths"], got["protection_kit"], got["valuables_taken"]) == (
        number, 5, True, True)
    assert got["items"]["warning_lamps"] == {"status": "red", "value": None, "note": "发动机故障灯亮",
                                             "job_line": None}
    assert (got["items"]["brake_pad_front"]["status"], got["items"]["tyre_tread_rr"]["status"]) == ("red", "green")
    assert [(m["position"], m["kind"], m["x"], m["y"], m["note"], m["photo"]) for m in got["marks"]] == [
        ("front", "scratch", 0.5, 0.05, "前保险杠", None), ("right_side", "dent", 0.97, 0.4, "", photo.json()["id"])]
    assert got["marks"][1]["photo_url"] == photo.json()["url"]
    assert got["recorded_by"] == ADVISOR.name and "brake_pad_rear" in got["measured"]
    assert tablet.get(f"{API}/repair-orders/{number}/walkaround").json() == got
    kept = tablet.get(f"{API}/repair-orders/{number}/photos/{photo.json()['id']}")
    assert kept.status_code == 200 and kept.headers["content-type"] == "image/jpeg"
    assert kept.content[:3] == b"\xff\xd8\xff"
    assert [p["id"] for p in tablet.get(f"{API}/repair-orders/{number}/photos").json()] == [photo.json()["id"]]
    with services.db.read() as s:
        trail = [(a.action, a.actor) for a in s.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == number, AuditEntry.action.in_(["photo_added", "walkaround_recorded"]))
            .order_by(AuditEntry.id))]
    assert trail == [("photo_added", ADVISOR.name), ("walkaround_recorded", ADVISOR.name)]
    assert tablet.get(f"{API}/repair-orders/RO-NONE/walkaround").status_code == 404


@pytest.mark.parametrize(("change", "where"), [
    (lambda b: b["marks"][0].update(position="roof"), ["body", "marks", 0, "position"]),
    (lambda b: b["marks"][1].update(kind="burn"), ["body", "marks", 1, "kind"]),
    (lambda b: b["marks"][0].update(x=1.01), ["body", "marks", 0, "x"]),
    (lambda b: b["marks"][1].update(y=-0.5), ["body", "marks", 1, "y"]),
    (lambda b: b["items"].update(sunroof={"status": "red"}), ["body", "items", "sunroof", "[key]"]),
    (lambda b: b["items"]["warning_lamps"].update(status="blue"), ["body", "items", "warning_lamps", "status"]),
    (lambda b: b.update(fuel_eighths=9), ["body", "fuel_eighths"]),
], ids=["position", "kind", "x", "y", "item", "status", "fuel"])
def test_bad_input_is_422_naming_the_field(tablet: TestClient, services: Services, change: Any,
                                           where: list[Any]) -> None:
    number = new_order(tablet, services, "OIL")
    sent = body()
    change(sent)
    r = tablet.post(f"{API}/repair-orders/{number}/walkaround", json=sent)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [where]
    assert tablet.get(f"{API}/repair-orders/{number}/walkaround").status_code == 404  # nothing stored


def test_what_the_rules_refuse_is_422_with_the_field_in_the_sentence(tablet: TestClient,
                                                                     services: Services) -> None:
    number, other = new_order(tablet, services, "OIL"), new_order(tablet, services, "OIL")
    theirs = upload(tablet, other, jpeg()).json()["id"]
    sent = body()
    sent["marks"][0]["photo"] = theirs
    r = tablet.post(f"{API}/repair-orders/{number}/walkaround", json=sent)
    assert r.status_code == 422 and "marks[0].photo" in r.json()["detail"]
    r = tablet.post(f"{API}/repair-orders/{number}/walkaround", json=body(items={"audio": {"value": 2}}))
    assert r.status_code == 422 and r.json()["detail"].startswith("items.audio.value:")


def test_a_red_item_is_proposed_once(tablet: TestClient, services: Services) -> None:
    number = new_order(tablet, services, "M10")
    assert tablet.post(f"{API}/repair-orders/{number}/walkaround", json=body()).status_code == 200
    r = tablet.post(f"{API}/repair-orders/{number}/walkaround/proposals", json={"item": "brake_pad_front"})
    assert r.status_code == 201, r.text
    line = r.json()
    rate = services.ctx.settings.workshop.labour_rate
    assert (line["item"], line["operation"], line["hours"], line["skill"], line["amount"]) == (
        "brake_pad_front", "BRK", 1.5, "repair", 1.5 * rate)
    order = tablet.get(f"{API}/repair-orders/{number}").json()
    assert line["job_line"] in [x["id"] for x in order["job_lines"]]
    again = tablet.post(f"{API}/repair-orders/{number}/walkaround/proposals", json={"item": "brake_pad_front"})
    assert again.status_code == 409 and "already" in again.json()["detail"]
    green = tablet.post(f"{API}/repair-orders/{number}/walkaround/proposals", json={"item": "tyre_tread_rr"})
    assert green.status_code == 409
    assert tablet.post(f"{API}/repair-orders/{number}/walkaround/proposals",
                       json={"item": "sunroof"}).status_code == 422
    walk = tablet.get(f"{API}/repair-orders/{number}/walkaround").json()
    assert walk["items"]["brake_pad_front"]["job_line"] == line["job_line"]


def test_photos_refused_by_content_and_size(app: FastAPI, tablet: TestClient, services: Services) -> None:
    number = new_order(tablet, services, "OIL")
    text = upload(tablet, number, b"just some notes, renamed\n" * 100, "photo.jpg", "image/jpeg")
    assert text.status_code == 415 and text.json()["detail"] == "Not a JPEG or PNG image"
    big = upload(tablet, number, jpeg() + b"\x00" * (30 * MB))
    assert big.status_code == 413 and "10 MB" in big.json()["detail"]
    assert tablet.post(f"{API}/repair-orders/{number}/photos", data={"other": "x"}).status_code == 422
    assert tablet.get(f"{API}/repair-orders/{number}/photos").json() == []
    bay = TestClient(app, headers={"Authorization": f"Bearer {TECHNICIAN.token}"})
    assert upload(bay, number, jpeg()).status_code == 403


def test_the_servers_body_limit_lets_a_photo_through_and_stops_30_mb_at_once(app: FastAPI, services: Services) -> None:
    """Through the server's guards: the photo route takes [reception] photo_max_mb and its multipart wrapping (more
    than the 2 MB of other bodies); 30 MB is refused before the route reads it."""
    web = WebSettings()
    limit = services.ctx.settings.reception.photo_max_mb
    guarded = TestClient(security.wrap(app, web, limit), headers={"Authorization": f"Bearer {ADVISOR.token}"})
    number = new_order(guarded, services, "OIL")
    five_mb = upload(guarded, number, jpeg() + b"\x00" * (5 * MB))  # trailing bytes after the image: still a JPEG
    assert five_mb.status_code == 201, five_mb.text
    assert web.max_body_kb * 1024 < 5 * MB
    just_over = upload(guarded, number, jpeg() + b"\x00" * (limit * MB))  # passes the guard, the route says 413
    assert just_over.status_code == 413 and f"{limit} MB" in just_over.json()["detail"]
    assert limit * MB + MULTIPART_OVERHEAD < 30 * MB
    r = upload(guarded, number, b"\xff\xd8\xff" + b"\x00" * (30 * MB))
    assert r.status_code == 413 and "request body too large" in r.json()["detail"]
    other = guarded.post(f"{API}/repair-orders/{number}/walkaround", json=body(explained="x" * (3 * MB)))
    assert other.status_code == 413  # the other routes keep [web] max_body_kb


def _post_30_mb(server: DemoServer, path: str) -> tuple[int, bytes, int, float]:
    """A 30 MB multipart photo upload streamed in 64 kB pieces from another thread while this one waits: (status,
    body, bytes the server took before answering, seconds until the answer)."""
    host, port = server.base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    boundary = "photo-boundary"
    start = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n"
             "Content-Type: image/jpeg\r\n\r\n").encode() + b"\xff\xd8\xff"
    end = f"\r\n--{boundary}--\r\n".encode()
    total = len(start) + 30 * MB + len(end)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.credentials['api']['token']}"
                 f"\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {total}\r\n\r\n"
                 .encode() + start)
    piece, sent = bytes(64 * 1024), [len(start)]

    def send_all() -> None:
        with contextlib.suppress(OSError):
            while sent[0] < total - len(end):
                sock.sendall(piece)
                sent[0] += len(piece)
            sock.sendall(end)

    began = time.monotonic()
    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    answer = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    elapsed, taken = time.monotonic() - began, sent[0]
    sock.close()
    sender.join(10)
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload, taken, elapsed


def test_the_running_server_takes_a_photo_and_refuses_30_mb_at_once(demo_server: DemoServer) -> None:
    number = next(o["number"] for o in demo_server.api(f"{API}/repair-orders")
                  if o["status"] in ("checked_in", "dispatched", "in_progress"))
    auth = {"Authorization": f"Bearer {demo_server.credentials['api']['token']}"}
    photo = jpeg(1200, 900) + b"\x00" * (3 * MB)  # over [web] max_body_kb, under [reception] photo_max_mb
    r = httpx.post(f"{demo_server.base}{API}/repair-orders/{number}/photos", headers=auth, timeout=30,
                   files={"file": ("p.jpg", photo, "image/jpeg")})
    assert r.status_code == 201, r.text
    status, body, taken, elapsed = _post_30_mb(demo_server, f"{API}/repair-orders/{number}/photos")
    assert status == 413 and "too large" in json.loads(body)["detail"]
    assert elapsed < 10 and taken < 25 * MB, "the server answered long before the body's end"
    assert demo_server.api(f"{API}/repair-orders/{number}/photos")[-1]["id"] == r.json()["id"]
