"""The job ticket handed to the customer at check-in: one complete ESC/POS job, laid out by paper width."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from shopfloor.printer.escpos_text import (
    ALIGN_CENTER,
    ALIGN_LEFT,
    CHINESE_ON,
    CJK_ENCODINGS,
    ENCODINGS,
    INIT,
    LF,
    Encoding,
    align,
    bold,
    char_size,
    encode_text,
    full_cut,
    paper_width,
    partial_cut,
    printable,
    two_columns,
    wrap,
)
from shopfloor.printer.raster import raster_image

LABELS: Final[dict[str, dict[str, str]]] = {
    "zh-CN": {
        "title": "维修工单 / JOB TICKET",
        "reprint": "重印 REPRINT",
        "reprinted_at": "重印时间",
        "ro": "工单号",
        "plate": "车牌",
        "customer": "客户",
        "advisor": "服务顾问",
        "checked_in": "接车时间",
        "promised": "预计交车",
        "jobs": "维修项目",
        "hours": "工时",
        "total": "合计",
        "complaint": "客户描述",
    },
    "en": {
        "title": "JOB TICKET",
        "reprint": "REPRINT",
        "reprinted_at": "Reprinted",
        "ro": "RO",
        "plate": "Plate",
        "customer": "Customer",
        "advisor": "Advisor",
        "checked_in": "Checked in",
        "promised": "Promised",
        "jobs": "Jobs",
        "hours": "Hours",
        "total": "Total",
        "complaint": "Customer's concern",
    },
}

TIME_FORMAT: Final = "%m-%d %H:%M"
# Font A is 12 dots wide: 48 columns fill the 576-dot line of 80 mm paper, 32 the 384 dots of 58 mm
DOTS_PER_COLUMN: Final = 12
QR_BORDER_MODULES: Final = 4
CUT_FEED: Final = 24
# a printer without a cutter: blank lines enough to bring the last printed line past the tear bar
TEAR_OFF_LINES: Final = 5


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    encoding: Encoding = "gb18030"
    columns: int = 48
    qr_module_size: int = 6
    # from the model's python-escpos profile (shopfloor.printer.profiles) where the site's config names one
    cut: Literal["partial", "full", "none"] = "partial"
    dots: int | None = None  # the print line in dots; None: font A's 12 dots per column

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"printer {self.name}: encoding {self.encoding!r} is not one of {', '.join(ENCODINGS)}")
        if not 24 <= self.columns <= 64:
            raise ValueError(f"printer {self.name}: {self.columns} columns (48 for 80 mm paper, 32 for 58 mm)")
        if not 1 <= self.qr_module_size <= 16:
            raise ValueError(f"printer {self.name}: QR module size {self.qr_module_size} is not 1..16 dots")

    @property
    def dots_per_line(self) -> int:
        return self.dots or self.columns * DOTS_PER_COLUMN

    def end_of_job(self) -> bytes:
        if self.cut == "partial":
            return partial_cut(CUT_FEED)
        if self.cut == "full":
            return full_cut(CUT_FEED)
        return LF * TEAR_OFF_LINES


@dataclass
class TicketData:
    site_name: str
    ro_number: str
    plate: str
    customer: str  # display form only, e.g. "王先生": the given name never reaches paper
    advisor: str
    promised_at: datetime | None  # None: no promise given yet (the advisor tells the customer later)
    checked_in_at: datetime
    job_lines: list[tuple[str, float]]  # (job name, flat-rate hours)
    complaint: str  # the customer's own words
    qr_text: str
    reprint: bool = False
    language: str = "zh-CN"
    reprinted_at: datetime | None = None  # defaults to the time of rendering

    def __post_init__(self) -> None:
        if self.language not in LABELS:
            raise ValueError(f"ticket language {self.language!r}: expected one of {', '.join(LABELS)}")
        for name, hours in self.job_lines:
            if not math.isfinite(hours) or hours < 0:
                raise ValueError(f"job line {name!r}: hours {hours!r} must be a non-negative number")
        if not self.qr_text:
            raise ValueError("ticket needs qr_text (the RO number or a URL holding it)")


def format_hours(hours: float) -> str:
    """1.5 -> "1.5", 2 -> "2.0", 0.25 -> "0.25": flat-rate hours as service advisors write them."""
    text = f"{hours:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class _Job:
    """Accumulates one ESC/POS job; every line resets size, weight and alignment so none leaks onward."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self.encoding = profile.encoding
        self.columns = profile.columns
        self.measure = paper_width(profile.encoding)
        self.buf = bytearray(INIT)
        if profile.encoding in CJK_ENCODINGS:
            self.buf += CHINESE_ON

    def clean(self, s: str, *, paragraphs: bool = False) -> str:
        """Text as it will print, so measuring it matches the paper (unencodable -> "?"). Line breaks are
        kept for wrapped text (a complaint typed in paragraphs) and flattened to spaces elsewhere."""
        lines = [printable(line.replace("\t", " "), self.encoding) for line in s.splitlines() or [""]]
        return ("\n" if paragraphs else " ").join(lines)

    def line(self, text: str = "", *, size: int = 1, strong: bool = False, alignment: int = ALIGN_LEFT) -> None:
        self.buf += align(alignment) + char_size(size, size) + bold(strong)
        self.buf += encode_text(text, self.encoding) + LF
        if size != 1 or strong:
            self.buf += char_size(1, 1) + bold(False)

    def wrapped(self, text: str, *, size: int = 1, strong: bool = False, alignment: int = ALIGN_LEFT) -> None:
        for part in wrap(self.clean(text, paragraphs=True), self.columns // size, self.measure):
            self.line(part, size=size, strong=strong, alignment=alignment)

    def pair(self, left: str, right: str, *, strong: bool = False) -> None:
        left, right = self.clean(left), self.clean(right)
        if self.measure(right) > self.columns // 2:
            # an unusually long value: label on its own line rather than squeezing both
            self.line(left, strong=strong)
            self.wrapped(right, strong=strong)
            return
        for part in two_columns(left, right, self.columns, self.measure):
            self.line(part, strong=strong)

    def rule(self, ch: str = "-") -> None:
        self.line(ch * self.columns)

    def big_field(self, label: str, value: str) -> None:
        """Label in normal type, value double size on the same line when it fits, else below it."""
        label, value = self.clean(label), self.clean(value)
        if self.measure(label) + 1 + 2 * self.measure(value) <= self.columns:
            self.buf += align(ALIGN_LEFT) + encode_text(label + " ", self.encoding)
            self.buf += char_size(2, 2) + bold(True) + encode_text(value, self.encoding) + LF
            self.buf += char_size(1, 1) + bold(False)
            return
        self.line(label)
        self.wrapped(value, size=2, strong=True)

    def image(self, raster: bytes) -> None:
        self.buf += align(ALIGN_CENTER) + raster + align(ALIGN_LEFT)

    def finish(self) -> bytes:
        self.buf += LF + self.profile.end_of_job()
        return bytes(self.buf)


def qr_raster(text: str, profile: PrinterProfile) -> bytes:
    """QR code as raster bytes, modules shrunk if the code would not fit the paper."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QR_BORDER_MODULES, box_size=1)
    qr.add_data(text)
    qr.make(fit=True)
    modules = qr.modules_count + 2 * QR_BORDER_MODULES
    box = min(profile.qr_module_size, profile.dots_per_line // modules)
    if box < 2:
        raise ValueError(f"QR text of {len(text)} chars is too long for {profile.columns}-column paper")
    qr.box_size = box
    image = qr.make_image().get_image()
    return raster_image(image, max_width=profile.dots_per_line)


def render_ticket(data: TicketData, profile: PrinterProfile) -> bytes:
    if profile.encoding not in CJK_ENCODINGS and data.language != "en":
        raise ValueError(f"printer {profile.name} prints ASCII only: its tickets need language 'en'")
    labels = LABELS[data.language]
    job = _Job(profile)

    if data.reprint:
        job.wrapped(labels["reprint"], size=2, strong=True, alignment=ALIGN_CENTER)
        when = data.reprinted_at or datetime.now()
        job.line(f"{labels['reprinted_at']} {when.strftime(TIME_FORMAT)}", alignment=ALIGN_CENTER)
        job.rule("=")

    job.wrapped(data.site_name, size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(labels["title"], strong=True, alignment=ALIGN_CENTER)
    job.rule()

    job.big_field(labels["ro"], data.ro_number)
    job.big_field(labels["plate"], data.plate)
    job.rule()

    job.pair(labels["customer"], data.customer)
    job.pair(labels["advisor"], data.advisor)
    job.pair(labels["checked_in"], data.checked_in_at.strftime(TIME_FORMAT))
    job.pair(labels["promised"], data.promised_at.strftime(TIME_FORMAT) if data.promised_at else "—", strong=True)
    job.rule()

    job.pair(labels["jobs"], labels["hours"], strong=True)
    for name, hours in data.job_lines:
        job.pair(name, format_hours(hours))
    job.rule()
    job.pair(labels["total"], format_hours(sum(hours for _, hours in data.job_lines)), strong=True)

    if data.complaint.strip():
        job.rule()
        job.line(labels["complaint"], strong=True)
        job.wrapped(data.complaint.strip())

    job.rule()
    job.image(qr_raster(data.qr_text, profile))
    job.wrapped(data.ro_number, alignment=ALIGN_CENTER)
    return job.finish()
