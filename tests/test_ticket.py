import logging
from dataclasses import replace
from datetime import datetime

import pytest
from pyzbar import pyzbar

from shopfloor.printer import escpos_text
from shopfloor.printer.escpos_text import display_width, paper_width
from shopfloor.printer.inspect import decode_raster_images, parse, text_lines
from shopfloor.printer.ticket import PrinterProfile, TicketData, format_hours, render_ticket

PROFILES = {
    "80mm-gb18030": PrinterProfile("front-desk", "gb18030", 48),
    "80mm-gbk": PrinterProfile("front-desk", "gbk", 48),
    "58mm-gb18030": PrinterProfile("handheld", "gb18030", 32),
    "58mm-gbk": PrinterProfile("handheld", "gbk", 32),
}

COMPLAINT = (
    "早上冷车启动时发动机有“咔咔”异响，大概持续十秒左右；高速120km/h以上方向盘抖动。"
    "另外空调制冷效果差，请一并检查（上次保养在4S店做的）！"
)


def ticket(**changes) -> TicketData:
    data = TicketData(
        site_name="北京望京一汽大众4S店售后服务中心",
        ro_number="RO2411220012",
        plate="京A·12345",
        customer="王先生",
        advisor="李娜",
        promised_at=datetime(2024, 11, 22, 16, 30),
        checked_in_at=datetime(2024, 11, 22, 8, 5),
        job_lines=[
            ("更换机油机滤", 0.8),
            ("四轮定位 4-wheel alignment with steering angle sensor reset", 1.5),
            ("前刹车片更换（含刹车盘打磨）", 1.25),
        ],
        complaint=COMPLAINT,
        qr_text="RO2411220012",
    )
    return replace(data, **changes)


def decode_qr(job: bytes) -> list[str]:
    images = decode_raster_images(job)
    return [r.data.decode() for image in images for r in pyzbar.decode(image.convert("L"))]


@pytest.fixture(params=list(PROFILES))
def profile(request) -> PrinterProfile:
    return PROFILES[request.param]


def test_qr_code_scans_back_to_the_ro_number(profile):
    job = render_ticket(ticket(), profile)
    assert decode_qr(job) == ["RO2411220012"]


def test_qr_code_holding_a_url_fits_58mm_paper():
    url = "https://service.example.cn/ro/RO2411220012?site=wangjing-fawvw"
    profile = PROFILES["58mm-gbk"]
    job = render_ticket(ticket(qr_text=url), profile)
    [image] = decode_raster_images(job)
    assert image.width <= profile.dots_per_line
    assert decode_qr(job) == [url]


def test_fields_appear_as_text(profile):
    lines = text_lines(render_ticket(ticket(), profile), profile.encoding)
    text = "\n".join(lines)
    for expected in ("RO2411220012", "京A·12345", "王先生", "李娜", "更换机油机滤", "四轮定位", "前刹车片更换",
                     "11-22 16:30", "11-22 08:05", "北京望京"):
        assert expected in text, expected
    for hours in ("0.8", "1.5", "1.25", "3.55"):
        assert any(line.rstrip().endswith(hours) for line in lines), hours


def test_hours_are_right_aligned_to_the_paper_edge(profile):
    parsed = parse(render_ticket(ticket(), profile), profile.encoding)
    oil = next(line for line in parsed.lines if line.text.startswith("更换机油机滤"))
    assert oil.text.endswith(" 0.8")
    assert oil.cells == profile.columns


def test_complaint_wraps_within_the_paper_and_keeps_every_character(profile):
    lines = text_lines(render_ticket(ticket(), profile), profile.encoding)
    start = lines.index("客户描述") + 1
    complaint_lines = lines[start:start + len(COMPLAINT)]
    joined = ""
    for line in complaint_lines:
        if set(line) == {"-"}:
            break
        joined += line
    assert joined == COMPLAINT
    assert len(complaint_lines) > 2


def test_complaint_paragraphs_stay_paragraphs_and_control_characters_are_neutralised():
    profile = PROFILES["80mm-gbk"]
    job = render_ticket(ticket(complaint="异响\r\n方向盘抖动\x1b@", customer="王先生\n"), profile)
    lines = text_lines(job, "gbk")
    assert lines[lines.index("客户描述") + 1:][:2] == ["异响", "方向盘抖动?@"]
    text_part = job.split(b"\x1dv0")[0]  # (raster bytes may hold any value)
    assert text_part.count(b"\x1b@") == 1  # only the init at the start: the complaint cannot reset the printer


def test_every_line_fits_the_paper(profile):
    """Measured as printed: double-size runs count twice, double-byte codes as full width."""
    parsed = parse(render_ticket(ticket(reprint=True, reprinted_at=datetime(2024, 11, 22, 17, 5)), profile),
                   profile.encoding)
    measure = paper_width(profile.encoding)
    for line in parsed.lines:
        assert line.cells <= profile.columns, line
        assert measure(line.text) <= line.cells  # magnification only ever widens
        if line.height == 1:
            assert display_width(line.text) <= profile.columns, line
    assert any(line.height == 2 for line in parsed.lines)  # the large-type lines are really there


def test_ro_number_and_plate_are_large_type(profile):
    parsed = parse(render_ticket(ticket(), profile), profile.encoding)
    large = [line for line in parsed.lines if line.height == 2]
    assert any("RO2411220012" in line.text for line in large)
    assert any("京A·12345" in line.text for line in large)


def test_reprint_banner_only_on_reprints(profile):
    first = text_lines(render_ticket(ticket(), profile), profile.encoding)
    again = text_lines(render_ticket(ticket(reprint=True, reprinted_at=datetime(2024, 11, 22, 17, 5)), profile),
                       profile.encoding)
    assert not any("REPRINT" in line or "重印" in line for line in first)
    assert "REPRINT" in again[0] and "重印" in again[0]
    assert any("重印时间" in line and "11-22 17:05" in line for line in again)


def test_job_is_complete_escpos(profile):
    job = render_ticket(ticket(), profile)
    parsed = parse(job, profile.encoding)
    assert job.startswith(b"\x1b@\x1c&")  # init, then Chinese mode before any double-byte text
    assert parsed.chinese_mode
    assert job.endswith(b"\x1dVB\x18")
    assert parsed.cut


def test_given_name_never_printed():
    # the display form is all TicketData carries; the complaint mentions nobody, so the surname+title is
    # the only trace of the customer on paper
    lines = text_lines(render_ticket(ticket(customer="王先生"), PROFILES["80mm-gbk"]), "gbk")
    [only] = [line for line in lines if "王" in line]
    assert only.startswith("客户") and only.endswith(" 王先生")


def test_english_labels_on_an_ascii_printer():
    profile = PrinterProfile("latin", "ascii", 48)
    data = ticket(language="en", site_name="Wangjing Service", plate="A12345", customer="Mr. Wang",
                  advisor="Li Na", complaint="Squeak from the front brakes when cold.",
                  job_lines=[("Oil change", 0.8)])
    job = render_ticket(data, profile)
    assert b"\x1c&" not in job  # no Chinese mode on a Latin printer
    lines = text_lines(job, "ascii")
    assert "JOB TICKET" in lines
    assert any(line.startswith("Customer") and line.endswith("Mr. Wang") for line in lines)
    assert decode_qr(job) == ["RO2411220012"]


def test_ascii_printer_refuses_chinese_labels():
    with pytest.raises(ValueError, match="ASCII"):
        render_ticket(ticket(), PrinterProfile("latin", "ascii", 48))


def test_character_outside_gbk_prints_as_question_mark_and_keeps_layout(caplog, monkeypatch):
    monkeypatch.setattr(escpos_text, "_warned", set())  # forget what earlier tests already warned about
    profile = PROFILES["58mm-gbk"]
    with caplog.at_level(logging.WARNING, logger="shopfloor.printer.escpos_text"):
        parsed = parse(render_ticket(ticket(complaint="配件价格€120，客户同意。" * 3), profile), "gbk")
    assert any("?120" in line.text for line in parsed.lines)
    assert all(line.cells <= profile.columns for line in parsed.lines)
    assert any("€" in record.getMessage() for record in caplog.records)


def test_overlong_values_wrap_instead_of_failing(profile):
    advisor = "欧阳娜娜（售后服务部 客户关系主管 兼 保险理赔专员）"
    parsed = parse(render_ticket(ticket(advisor=advisor), profile), profile.encoding)
    assert all(line.cells <= profile.columns for line in parsed.lines)
    assert advisor in "".join(line.text for line in parsed.lines)


def test_format_hours():
    assert [format_hours(h) for h in (0.8, 2, 1.25, 0)] == ["0.8", "2.0", "1.25", "0.0"]


def test_bad_ticket_data_is_refused():
    with pytest.raises(ValueError, match="hours"):
        ticket(job_lines=[("x", -1.0)])
    with pytest.raises(ValueError, match="language"):
        ticket(language="fr")
    with pytest.raises(ValueError, match="columns"):
        PrinterProfile("tiny", "gbk", 10)
