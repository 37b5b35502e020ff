"""A network printer that drops the connection mid-job: the ticket's fate is unknown, so nothing prints again
by itself; it waits for a person, who asks for a reprint, which comes out once, marked REPRINT."""

import re
import time
from pathlib import Path

from shopfloor.printer.inspect import text_lines
from shopfloor.printer.simulator import PrinterSimulator
from shopfloor.settings import demo_config_path
from shopfloor.testing.plugin import start_server
from shopfloor.testing.polling import eventually


def _site_with_network_printer(data_dir: Path, port: int) -> None:
    text = demo_config_path().read_text(encoding="utf-8")
    # The workshop printer becomes a raw-9100 network printer: the simulator.
    text = re.sub(r'name = "workshop"\n(.*\n)*?columns = 48\n',
                  f'name = "workshop"\nlabel = "车间打印机"\ntransport = "network"\nhost = "127.0.0.1"\n'
                  f'port = {port}\ntimeout_seconds = 1.5\nencoding = "gbk"\ncolumns = 48\n', text)
    assert 'transport = "network"' in text
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "site.toml").write_text(text, encoding="utf-8")


def test_a_ticket_of_unknown_fate_waits_for_a_person(tmp_path: Path, printer_simulator: PrinterSimulator) -> None:
    _site_with_network_printer(tmp_path, printer_simulator.port)
    printer_simulator.drop_mid_job(after=300)
    server = start_server(tmp_path, "demo")
    try:
        appt = next(a for a in server.api("/api/v1/appointments")
                    if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
        status, body = server.call("POST", "/api/v1/checkins", {"tag": appt["tag"], "printer": "workshop",
                                                               "operations": ["M20"]})
        assert status == 201, body
        number = body["repair_order"]["number"]
        undecided = eventually(lambda: [j for j in server.api("/api/v1/print-jobs") if j["ro_number"] == number], 20)
        assert undecided and undecided[0]["status"] == "uncertain", server.api("/api/v1/print-jobs")
        time.sleep(2)  # nothing prints by itself in the meantime
        assert printer_simulator.jobs() == []

        printer_simulator.normal()
        status, decided = server.call("POST", f"/api/v1/print-jobs/{undecided[0]['id']}/decision",
                                      {"decision": "reprint", "actor": "王芳"})
        assert status == 200 and decided["reprint_job"]["reprint"] is True
        assert printer_simulator.wait_for_jobs(1, timeout=20)
        text = "\n".join(text_lines(printer_simulator.jobs()[0], "gbk"))
        assert "REPRINT" in text and number in text and "20000公里保养" in text
        assert eventually(lambda: server.api(f"/api/v1/repair-orders/{number}")["print_jobs"][-1]["status"]
                          == "printed", 20)
        assert [j["status"] for j in server.api(f"/api/v1/repair-orders/{number}")["print_jobs"]] == [
            "superseded", "printed"]
        assert server.api("/api/v1/print-jobs") == []
        assert server.call("POST", f"/api/v1/print-jobs/{undecided[0]['id']}/decision",
                           {"decision": "confirm"})[0] == 409
        time.sleep(1)
        assert len(printer_simulator.jobs()) == 1  # once
    finally:
        assert server.stop()


def test_a_ticket_waiting_on_an_offline_printer_goes_to_another(tmp_path: Path,
                                                                printer_simulator: PrinterSimulator) -> None:
    _site_with_network_printer(tmp_path, printer_simulator.port)
    printer_simulator.refuse()  # the workshop printer is off
    server = start_server(tmp_path, "demo")
    try:
        appt = next(a for a in server.api("/api/v1/appointments")
                    if a["status"] in ("booked", "confirmed", "late") and not a["ro_number"])
        status, body = server.call("POST", "/api/v1/checkins", {"tag": appt["tag"], "printer": "workshop"})
        assert status == 201
        number = body["repair_order"]["number"]
        waiting = body["print_job"]["id"]
        time.sleep(1.5)
        assert server.api(f"/api/v1/repair-orders/{number}")["print_jobs"][0]["status"] == "pending"
        assert server.call("POST", f"/api/v1/print-jobs/{waiting}/redirect", {"printer": "workshop"})[0] == 422
        status, moved = server.call("POST", f"/api/v1/print-jobs/{waiting}/redirect", {"printer": "reception"})
        assert status == 200 and moved["job"]["reprint"] is False
        folder = tmp_path / "tickets" / "reception"
        assert eventually(lambda: list(folder.glob("*.bin")), 20)
        assert "REPRINT" not in "\n".join(text_lines(next(folder.glob("*.bin")).read_bytes(), "gb18030"))
        printer_simulator.normal()  # the workshop printer comes back: the withdrawn job must not print there
        time.sleep(4)
        assert printer_simulator.jobs() == []
        assert [j["status"] for j in server.api(f"/api/v1/repair-orders/{number}")["print_jobs"]] == [
            "moved", "printed"]
    finally:
        assert server.stop()
