"""Printer models from python-escpos's capability profiles: the site's `model` sets the default columns, the print
line's dots and how a ticket ends (cut or torn off); unknown models are refused with the known ones named."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
import tomli_w
from pydantic import ValidationError

from shopfloor import settings as settings_mod
from shopfloor.printer.inspect import parse
from shopfloor.printer.profiles import known_models, model_profile, ticket_profile
from shopfloor.printer.ticket import PrinterProfile, TicketData, qr_raster, render_ticket
from shopfloor.settings import PrinterSettings

SHOPFLOOR = Path(sys.executable).with_name("shopfloor")


def ticket() -> TicketData:
    return TicketData(site_name="测试店", ro_number="RO-1", plate="京A12345", customer="王先生", advisor="李娜",
                      promised_at=None, checked_in_at=datetime(2026, 12, 6, 9, 30),
                      job_lines=[("更换机油", 0.5)], complaint="异响", qr_text="RO-1")


def test_a_known_model_gives_its_columns_dots_and_cutter() -> None:
    t88 = model_profile("TM-T88V")
    assert (t88.columns, t88.dots, t88.dpi, t88.cut) == (42, 512, 180, "partial")
    assert "CP437" in t88.code_pages
    assert model_profile("ZJ-5870").cut == "none"  # a 58 mm printer with a tear bar
    assert model_profile("TM-U220B").cut == "partial"  # partial cut only
    assert model_profile("tm-t20ii").model == "TM-T20II"  # names are matched without case


def test_an_unknown_model_is_refused_with_the_close_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as refused:
        model_profile("TM-T88")
    message = str(refused.value)
    assert "did you mean TM-T88V" in message
    assert "known models:" in message and all(m in message for m in known_models())


def test_the_site_config_takes_columns_from_the_model_unless_given() -> None:
    assert PrinterSettings(name="desk").columns == 48  # no model: as before
    from_model = PrinterSettings(name="desk", model="tm-t88v")
    assert (from_model.model, from_model.columns) == ("TM-T88V", 42)
    assert PrinterSettings(name="desk", model="ZJ-5870").columns == 32
    assert PrinterSettings(name="desk", model="TM-T20II", columns=42).columns == 42


@pytest.mark.parametrize(("given", "words"), [
    ({"model": "TM-T88"}, "did you mean TM-T88V"),
    ({"model": "TM-T88V", "columns": 48}, "at most 42 columns"),  # 48 × 12 dots > the 512-dot line
    ({"model": "AF-240"}, "give `columns`"),  # a customer display: 20 columns
])
def test_a_model_that_cannot_print_a_ticket_is_refused(given: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match="printer 'desk'") as refused:
        PrinterSettings.model_validate({"name": "desk", **given})
    assert words in str(refused.value)


def test_a_ticket_ends_with_the_models_cut_or_blank_lines_to_tear_off() -> None:
    partial = render_ticket(ticket(), ticket_profile(PrinterSettings(name="a", model="TM-T88V")))
    assert partial.endswith(b"\x1dVB\x18") and parse(partial, "gb18030").cut
    no_cutter = render_ticket(ticket(), ticket_profile(PrinterSettings(name="b", model="ZJ-5870")))
    assert parse(no_cutter, "gb18030").cut is False
    assert no_cutter.endswith(b"\n" * 6)  # the last line's LF and five to bring it past the tear bar
    full = render_ticket(ticket(), PrinterProfile("c", cut="full"))
    assert full.endswith(b"\x1dVA\x18") and parse(full, "gb18030").cut
    # no model named: the partial cut every ticket had
    assert render_ticket(ticket(), ticket_profile(PrinterSettings(name="d"))).endswith(b"\x1dVB\x18")


def test_the_qr_code_fits_the_models_print_line() -> None:
    t88 = ticket_profile(PrinterSettings(name="a", model="TM-T88V", encoding="gbk"))
    assert (t88.dots_per_line, t88.encoding, t88.columns) == (512, "gbk", 42)
    raster = qr_raster("https://shopfloor.lan:8080/ro/RO-2026-000123", t88)
    width_bytes = raster[4] | raster[5] << 8  # GS v 0 m xL xH yL yH
    assert width_bytes * 8 <= 512


def test_loading_the_profiles_leaves_logging_and_the_temp_folder_alone(tmp_path: Path) -> None:
    # escpos.capabilities calls logging.basicConfig() and pickles into a new temp folder when imported
    code = ("import logging; from shopfloor.printer.profiles import known_models; assert known_models(); "
            "assert logging.getLogger().handlers == [], logging.getLogger().handlers; "
            "logging.basicConfig(format='ours %(message)s'); logging.getLogger().warning('x')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stderr == "ours x\n"
    assert list(tmp_path.iterdir()) == []


def test_check_config_names_the_unknown_model(tmp_path: Path) -> None:
    site = tomllib.loads(settings_mod.demo_config_path().read_text(encoding="utf-8"))
    site["printers"][0]["model"] = "TM-T88"
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps(site), encoding="utf-8")
    done = subprocess.run([str(SHOPFLOOR), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "did you mean TM-T88V" in done.stderr
    site["printers"][0].update(model="TM-T88V", columns=48)
    path.write_text(tomli_w.dumps(site), encoding="utf-8")
    done = subprocess.run([str(SHOPFLOOR), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "at most 42 columns" in done.stderr
    site["printers"][0].update(model="TM-T20II", columns=48)  # an 80 mm printer with a 576-dot line
    path.write_text(tomli_w.dumps(site), encoding="utf-8")
    done = subprocess.run([str(SHOPFLOOR), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
